"""The network guard: while it is on, nothing leaves the machine through Python's sockets.

``NetworkGuard`` replaces ``socket.socket.connect`` / ``connect_ex`` and ``socket.getaddrinfo``
while it is installed (the way pytest-recording's ``--block-network`` does):

- a connect to an address that is not on this machine (anything but 127.0.0.0/8, ``::1``,
  ``0.0.0.0``/``::``, ``localhost``, or a non-IP socket such as a unix socket) raises
  ``NetworkBlockedError`` before the connect happens;
- resolving a known provider host (``api.openai.com``, ``*.openai.azure.com``,
  ``api.together.xyz``, ``api.together.ai``, ``api.mistral.ai``) raises it too, so the message
  names the host the client was about to call and no DNS query goes out for it.

Every blocked attempt is also recorded on ``guard.attempts``: an app that catches the
``ConnectionError`` (an SDK retry loop, a ``try/except`` fallback) cannot hide it, because the
pytest plugin fails the test from that record. ``uninstall()`` puts the originals back.

What it does not see: traffic from C extensions that open their own sockets, ``sendto`` on an
unconnected UDP socket, and a proxy on loopback (``HTTPS_PROXY=http://127.0.0.1:...``) that
forwards elsewhere. No pytest import here: ``with NetworkGuard():`` works without pytest.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Callable

__all__ = ["PROVIDER_HOSTS", "BlockedAttempt", "NetworkBlockedError", "NetworkGuard", "is_provider_host"]

#: Hosts of the real APIs the fake stands in for. ``*.`` matches any subdomain.
PROVIDER_HOSTS = ("api.openai.com", "*.openai.azure.com", "api.together.xyz", "api.together.ai", "api.mistral.ai")

HOW_TO_FIX = (
    "Point the client at the fake: use the openai_client fixture (or azure_openai_client, "
    "together_client, mistral_client), pass base_url=openai_server.base_url, or request the "
    "openai_env fixture (ini: openai_fake_env = true) so a client built with no base_url reads "
    "OPENAI_BASE_URL / AZURE_OPENAI_ENDPOINT / TOGETHER_BASE_URL pointing at the fake."
)


def is_provider_host(host: str) -> bool:
    host = host.rstrip(".").lower()
    for pattern in PROVIDER_HOSTS:
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
                return True
        elif host == pattern:
            return True
    return False


def _is_local(host: Any) -> bool:
    """Whether connecting to ``host`` stays on this machine. Unknown names are not local."""
    if not isinstance(host, str):
        return False
    name = host.rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name.split("%", 1)[0])  # fe80::1%eth0
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return address.is_loopback or address.is_unspecified


class NetworkBlockedError(ConnectionError):
    """A connection (or a provider host lookup) the network guard stopped before it left the machine."""


@dataclass(frozen=True)
class BlockedAttempt:
    """One stopped attempt: ``what`` is ``"connect"`` or ``"resolve"``."""

    what: str
    host: str
    port: Any
    resolved_from: str | None = None  # the name a connected IP address was resolved from

    def target(self) -> str:
        name = f"{self.resolved_from} ({self.host})" if self.resolved_from else self.host
        return name if self.port in (None, "", 0) else f"{name}:{self.port}"

    def describe(self) -> str:
        if self.what == "resolve":
            return f"a lookup of {self.target()}, a real provider API host"
        return f"a connection to {self.target()}, which is not on this machine"


class NetworkGuard:
    """Blocks every non-loopback connect and provider host lookup while installed.

    Use as a context manager or ``install()`` / ``uninstall()``. Guards nest (a pytester run
    inside a guarded test): uninstall them in the reverse order.
    """

    def __init__(self) -> None:
        self.attempts: list[BlockedAttempt] = []
        self._lock = threading.Lock()
        self._names: dict[str, str] = {}  # resolved IP -> the name it came from, for messages
        self._originals: dict[str, Any] = {}

    # -- lifecycle -----------------------------------------------------------------------------

    def install(self) -> NetworkGuard:
        if self._originals:
            raise RuntimeError("this NetworkGuard is already installed")
        self._originals = {
            "connect": socket.socket.connect,
            "connect_ex": socket.socket.connect_ex,
            "getaddrinfo": socket.getaddrinfo,
        }
        socket.socket.connect = self._wrap_connect(self._originals["connect"])  # type: ignore[method-assign]
        socket.socket.connect_ex = self._wrap_connect(self._originals["connect_ex"])  # type: ignore[method-assign]
        socket.getaddrinfo = self._wrap_getaddrinfo(self._originals["getaddrinfo"])
        return self

    def uninstall(self) -> None:
        if not self._originals:
            return
        socket.socket.connect = self._originals["connect"]  # type: ignore[method-assign]
        socket.socket.connect_ex = self._originals["connect_ex"]  # type: ignore[method-assign]
        socket.getaddrinfo = self._originals["getaddrinfo"]
        self._originals = {}

    @property
    def installed(self) -> bool:
        return bool(self._originals)

    def __enter__(self) -> NetworkGuard:
        return self.install()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.uninstall()

    def take_attempts(self) -> list[BlockedAttempt]:
        """The attempts recorded since the last call (and forget them)."""
        with self._lock:
            taken, self.attempts = self.attempts, []
        return taken

    # -- the replacements ----------------------------------------------------------------------

    def _block(self, attempt: BlockedAttempt) -> NetworkBlockedError:
        with self._lock:
            self.attempts.append(attempt)
        return NetworkBlockedError(f"pytest-openai-fake's network guard blocked {attempt.describe()}. {HOW_TO_FIX}")

    def _wrap_connect(self, original: Callable[..., Any]) -> Callable[..., Any]:
        guard = self

        def connect(sock: socket.socket, address: Any, *args: Any) -> Any:
            if sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple) and address:
                host = address[0]
                if not _is_local(host):
                    port = address[1] if len(address) > 1 else None
                    raise guard._block(BlockedAttempt("connect", str(host), port, guard._names.get(str(host))))
            return original(sock, address, *args)

        connect.__wrapped__ = original  # type: ignore[attr-defined]
        return connect

    def _wrap_getaddrinfo(self, original: Callable[..., Any]) -> Callable[..., Any]:
        guard = self

        def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            name = host.decode("idna") if isinstance(host, bytes) else host
            if isinstance(name, str) and is_provider_host(name):
                raise guard._block(BlockedAttempt("resolve", name, port))
            infos = original(host, port, *args, **kwargs)
            if isinstance(name, str) and not _is_local(name):
                for info in infos:
                    address = info[4][0] if info[4] else None
                    if isinstance(address, str) and address != name and len(guard._names) < 1024:
                        guard._names[address] = name
            return infos

        getaddrinfo.__wrapped__ = original  # type: ignore[attr-defined]
        return getaddrinfo
