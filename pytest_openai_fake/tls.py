"""TLS for the fake: the certificate it presents, the contexts both ends use, the first bytes of a connection.

``Certificate.throwaway()`` makes a CA and a certificate for ``127.0.0.1``, ``localhost`` and
``::1`` with ``trustme`` (the optional extra ``pytest-openai-fake[tls]``), written as PEM files
to a temporary directory that is removed when the object is collected or the process exits.
``Certificate.from_files(cert, key)`` uses the user's own. ``ca_bundle`` is the PEM file a
client must trust: the throwaway CA, or the user's certificate file (its chain).

``sniff()`` reads the first byte of a new connection without consuming it, so that a plain HTTP
request on the TLS port gets a 400 that says so instead of a failed handshake, and a TLS
ClientHello on the plain port is closed at once instead of waiting for a request line that
never comes.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import ssl
import tempfile
import weakref
from typing import Any

__all__ = ["Certificate", "TLSError", "http2_available"]

#: The first byte of a TLS record carrying a handshake message (a ClientHello).
TLS_HANDSHAKE = 0x16
#: ALPN protocol ids (RFC 7301).
ALPN_H2 = "h2"
ALPN_HTTP11 = "http/1.1"
#: Names the throwaway certificate is valid for.
LOOPBACK_IDENTITIES = ("127.0.0.1", "localhost", "::1")

PLAIN_HTTP_ON_TLS_PORT = (
    "This port speaks HTTPS: the request was sent as plain HTTP. Use https:// in the base URL "
    "(and trust the fake's CA bundle), or start the fake without TLS."
)


class TLSError(RuntimeError):
    """TLS was asked for but cannot be set up (a missing extra, unreadable certificate files)."""


def http2_available() -> bool:
    """Whether the ``h2`` library (extra ``pytest-openai-fake[http2]``) is importable."""
    try:
        import h2.connection  # noqa: F401
    except ImportError:
        return False
    return True


@dataclasses.dataclass(frozen=True, eq=False)
class Certificate:
    """The certificate the fake's server presents, and the CA bundle clients must trust."""

    #: PEM file: the server certificate, then its chain.
    cert_file: str
    #: PEM file: the certificate's private key (may be ``cert_file`` itself).
    key_file: str
    #: PEM file a client trusts to verify the server: the throwaway CA, or ``cert_file``.
    ca_bundle: str
    #: Whether the files were made here (and are removed with this object).
    throwaway: bool = False

    @classmethod
    def throwaway_ca(cls) -> Certificate:
        """A new CA and a certificate for 127.0.0.1 / localhost / ::1, as files in a private temp dir."""
        try:
            import trustme
        except ImportError:
            raise TLSError(
                "pytest-openai-fake: TLS needs the trustme package to make a throwaway certificate: "
                "pip install 'pytest-openai-fake[tls]' (or give your own with --tls-cert/--tls-key)"
            ) from None
        ca = trustme.CA(organization_name="pytest-openai-fake", organization_unit_name="throwaway test CA")
        leaf = ca.issue_cert(*LOOPBACK_IDENTITIES)
        directory = tempfile.mkdtemp(prefix="pytest-openai-fake-tls-")
        ca_bundle = os.path.join(directory, "ca.pem")
        cert_file = os.path.join(directory, "server.pem")
        key_file = os.path.join(directory, "server.key")
        ca.cert_pem.write_to_path(ca_bundle)
        leaf.cert_chain_pems[0].write_to_path(cert_file)
        for pem in leaf.cert_chain_pems[1:]:
            pem.write_to_path(cert_file, append=True)
        leaf.private_key_pem.write_to_path(key_file)
        os.chmod(key_file, 0o600)
        certificate = cls(cert_file=cert_file, key_file=key_file, ca_bundle=ca_bundle, throwaway=True)
        weakref.finalize(certificate, shutil.rmtree, directory, True)
        return certificate

    @classmethod
    def from_files(cls, cert_file: str | os.PathLike[str], key_file: str | os.PathLike[str] | None = None) -> Certificate:
        """The user's own certificate (PEM, chain after it) and key (default: in ``cert_file``)."""
        cert = os.path.abspath(os.fspath(cert_file))
        key = os.path.abspath(os.fspath(key_file)) if key_file is not None else cert
        certificate = cls(cert_file=cert, key_file=key, ca_bundle=cert)
        certificate.server_context(http2=False)  # unreadable or mismatched files: fail now, not per connection
        return certificate

    def server_context(self, *, http2: bool) -> ssl.SSLContext:
        """The server's context: TLS 1.2+, ALPN ``h2`` (when ``http2``) then ``http/1.1``."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            context.load_cert_chain(self.cert_file, self.key_file)
        except (OSError, ssl.SSLError) as exc:
            raise TLSError(f"pytest-openai-fake: cannot load the TLS certificate {self.cert_file} / key {self.key_file}: {exc}") from None
        # RFC 9113 9.2: HTTP/2 over TLS needs TLS 1.2+ without renegotiation or compression.
        context.options |= ssl.OP_NO_COMPRESSION | getattr(ssl, "OP_NO_RENEGOTIATION", 0)
        context.set_alpn_protocols([ALPN_H2, ALPN_HTTP11] if http2 else [ALPN_HTTP11])
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client context trusting the system's CAs and ``ca_bundle`` (for the fake's own clients)."""
        context = ssl.create_default_context()
        context.load_verify_locations(cafile=self.ca_bundle)
        # A user's certificate file may hold an intermediate: let it anchor the chain.
        context.verify_flags |= getattr(ssl, "VERIFY_X509_PARTIAL_CHAIN", 0)
        return context

    def trust_bundle(self) -> str:
        """A PEM file with ``ca_bundle`` plus the system's CAs, for ``SSL_CERT_FILE`` and friends
        (which replace, not extend, a client's trust). Written once, next to ``ca_bundle`` when it
        was made here, else in a temporary directory removed with this object."""
        cached = _trust_bundles.get(id(self))
        if cached is not None and os.path.exists(cached):
            return cached
        if self.throwaway:
            path = os.path.join(os.path.dirname(self.ca_bundle), "trust.pem")
        else:
            directory = tempfile.mkdtemp(prefix="pytest-openai-fake-trust-")
            weakref.finalize(self, shutil.rmtree, directory, True)
            path = os.path.join(directory, "trust.pem")
        parts = [_read(self.ca_bundle)]
        system = _system_ca_file()
        if system:
            parts.append(_read(system))
        with open(path, "w", encoding="ascii", errors="replace") as out:
            out.write("\n".join(part.strip() + "\n" for part in parts if part.strip()))
        _trust_bundles[id(self)] = path
        weakref.finalize(self, _trust_bundles.pop, id(self), None)
        return path


_trust_bundles: dict[int, str] = {}


def _read(path: str) -> str:
    with open(path, encoding="ascii", errors="replace") as f:
        return f.read()


def _system_ca_file() -> str | None:
    """certifi's bundle when installed (httpx and requests use it), else the system's."""
    try:
        import certifi

        return str(certifi.where())
    except ImportError:
        pass
    paths = ssl.get_default_verify_paths()
    candidates = (paths.cafile, paths.openssl_cafile, "/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem")
    return next((path for path in candidates if path and os.path.isfile(path)), None)


def sniff(sock: socket.socket, timeout: float) -> int | None:
    """The first byte the client sent, left unread; None when it closed or sent nothing in ``timeout``."""
    sock.settimeout(timeout)
    try:
        first = sock.recv(1, socket.MSG_PEEK)
    except (OSError, ValueError):  # timed out, reset, or shut down by stop()
        return None
    return first[0] if first else None


def refuse_plain_http(sock: socket.socket, timeout: float, linger: float) -> None:
    """Answer a plain HTTP request on the TLS port: a 400 with the error envelope, then close
    (after reading what the client sends for up to ``linger`` seconds)."""
    import json
    import time

    body = json.dumps(
        {"error": {"message": PLAIN_HTTP_ON_TLS_PORT, "type": "invalid_request_error", "param": None, "code": "plain_http_on_tls_port"}}
    ).encode()
    head = (
        "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode("latin-1")
    try:
        sock.settimeout(timeout)
        sock.sendall(head + body)
        sock.shutdown(socket.SHUT_WR)
        # Read what the client sent (its request) before closing, or the kernel's RST may
        # destroy the reply before the client reads it.
        sink = bytearray(65536)
        deadline = time.monotonic() + linger
        while (remaining := deadline - time.monotonic()) > 0:
            sock.settimeout(remaining)
            if not sock.recv_into(sink):
                break
    except OSError:
        pass


def handshake(sock: socket.socket, context: ssl.SSLContext, timeout: float) -> ssl.SSLSocket | None:
    """The server side of the TLS handshake within ``timeout``; None if it failed (the client is told by an alert)."""
    try:
        tls = context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
    except (OSError, ValueError):
        return None
    try:
        tls.settimeout(timeout)
        tls.do_handshake()
    except (OSError, ValueError):  # ssl.SSLError is an OSError; a timeout too
        try:
            tls.close()
        except OSError:
            pass
        return None
    return tls


def negotiated(sock: Any) -> str | None:
    """The ALPN protocol of a TLS socket (``"h2"``, ``"http/1.1"``), None for plain sockets."""
    select = getattr(sock, "selected_alpn_protocol", None)
    return select() if select is not None else None
