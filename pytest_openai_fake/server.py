"""Serve a WSGI app over loopback HTTP/1.1 with keep-alive, in a daemon thread.

Why not ``werkzeug.serving.make_server``: its handler always answers ``Connection: close``,
so every SDK call pays a new TCP connection plus a new server thread (3-3.7x the SDK's
in-memory cost here), and ``serve_forever()`` polls every 0.5 s, so stopping it waits for the poll.

Design (chosen by measurement, see ``benchmarks/serving_layers.py``):

* werkzeug's server and request handler are reused, not replaced: ``_Handler`` subclasses
  ``WSGIRequestHandler`` (never mutating it) with ``protocol_version = "HTTP/1.1"`` and
  ``TCP_NODELAY``, keeps the stdlib's request-line/header parsing and werkzeug's
  ``make_environ``, and overrides only ``run_wsgi``, which writes keep-alive responses:

  - the request body is always read in full *before* the app runs (``Content-Length`` or
    chunked), so the next request on the connection starts at a clean boundary and the app
    never blocks on the socket while it holds its lock;
  - a reply of known length (``Content-Length`` from the app, or a list/tuple body whose
    length is added) goes out in ONE ``sendall``: status line, headers and body together;
  - a reply of unknown length (a generator, e.g. an SSE stream) goes out with
    ``Transfer-Encoding: chunked``, one write per non-empty chunk as the app yields it
    (close-delimited for HTTP/1.0 clients); headers travel with the first chunk (PEP 3333);
  - ``errors.DropConnection`` from the app or its body resets the connection (SO_LINGER 0,
    no further bytes, no terminating chunk); any other exception after bytes went out closes
    the connection; one before that becomes a 500 with OpenAI's JSON error envelope.

* One thread per connection (not per request), at most ``max_connections`` of them. Connections
  and their threads are tracked so that ``stop()`` can shut every socket down and join its thread.
* The accept loop waits on the listener and a socketpair "waker", so ``stop()`` takes well
  under a millisecond instead of ``serve_forever``'s 0.5 s poll.
* The listening socket is bound here, before werkzeug sees it (passed as ``fd``), because
  werkzeug reacts to a taken port with ``sys.exit(1)``; we raise ``PortInUseError`` instead.

Limits (``Limits``; every one is a ``ServerThread`` keyword argument):

* Request bodies: at most ``max_request_body`` bytes (512 MiB, the Files API's per-file limit).
  A ``Content-Length`` over it is answered 413 before any body byte is read (and before a
  ``100 Continue``); a chunked body is cut off as soon as it passes it. A body is held in
  memory once (no copies), so no request holds more than the limit.
* Framing (RFC 9112 6): ``Content-Length`` together with ``Transfer-Encoding`` is a 400;
  ``chunked`` must be the final coding, applied once (else 400); any other transfer coding is
  a 501, never passed through still encoded. Every such error closes the connection.
* Request heads (RFC 9112 2-5): up to 8 empty lines before the request line are ignored; a
  head cut off by EOF is dropped unanswered (the client is gone) and never reaches the app.
  Header names must be tokens, values may not hold NUL or a bare CR, and there is no white
  space before the colon and no obsolete line folding; an HTTP/1.1 request needs exactly one
  valid ``Host`` (HTTP/1.0 may omit it, but not repeat it). Each is a 400 and closes the
  connection; a header line over 64 KiB or over 100 header lines is a 431, a longer request line a 414.
* Connections: at most ``max_connections`` (256) are served at once. Beyond that the server
  stops accepting: new connections wait in the listen backlog (1024) until a slot frees, and
  the longest-idle keep-alive connection, if any, is closed to make room. (Waiting, not a
  503: the plugin's clients run with ``max_retries=0``, and the real API would serve them.
  An HTTP client's pool notices a connection the server closed and reconnects; only a request
  sent in the same instant as that close can fail, as with any keep-alive timeout.)
* Deadlines: an idle keep-alive connection is closed after ``idle_timeout`` (120 s) between
  requests (a new connection must start its first request within ``head_timeout``); a
  request head must be complete ``head_timeout`` (30 s) after its first byte; a body gets
  ``body_timeout`` (30 s) plus its size at ``min_transfer_rate`` (1 MiB/s); each reply write
  gets ``send_timeout`` (30 s) plus its size at the same rate. A head or body that misses its
  deadline is answered 408 (type ``timeout``); a reply write that misses it resets the
  connection (the reader is stuck, nothing more can be said to it).
* Closing after an error with request bytes unread (413, 408, 400, 501, ...): the reply is
  sent, the write side is shut down and the server reads and discards the client's bytes for
  up to ``linger_timeout`` (2 s) or until it closes. Closing with unread data would make the
  kernel send RST, which can destroy the reply before a client that is still uploading
  reads it.

Measured with ``benchmarks/serving_layers.py`` (2-core VM shared with other work, Python 3.11,
openai 3.54, httpx2 2.16, werkzeug 3.1.9): µs per ``client.chat.completions.create``, median of
5 x 2000 calls, layers interleaved. Background load moves a run by about 20 %: over six runs
this module measured 1.75x-2.46x, traded places with the stdlib variant, beat cheroot in four,
and the dev server was always last (2.9x-3.7x).

    in-memory httpx2.MockTransport (the floor)    1791 µs   1.00x
    canned bytes, no parsing (socket floor)       2778 µs   1.55x   (SDK HTTP stack + TCP alone)
    this module (werkzeug handler, keep-alive)    3467 µs   1.94x
    stdlib http.server, hand-built environ        3180 µs   1.78x   (within noise; ~60 µs less CPU)
    cheroot 11                                    3847 µs   2.15x   (worker pool: extra hand-off)
    werkzeug make_server (Connection: close)      5359 µs   2.99x

Most of the gap to the floor is the SDK's own socket path (httpcore2 + h11) and thread
wake-ups, which any loopback server pays. ``start()`` takes about 1 ms (1.5 ms the first time),
``stop()`` about 0.1 ms, or 0.25 ms with an idle keep-alive client to close.
"""

from __future__ import annotations

import base64
import dataclasses
import errno
import http.client
import io
import json
import logging
import math
import re
import select
import selectors
import socket
import ssl
import struct
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from email.utils import formatdate
from itertools import chain
from typing import TYPE_CHECKING, Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler

from . import tls as _tls
from .errors import DropConnection, server_error

try:  # the ``realtime`` extra: WebSocket framing
    from wsproto import events as _ws_events
    from wsproto.connection import Connection as _WSConnection
    from wsproto.connection import ConnectionType as _WSConnectionType
    from wsproto.utilities import LocalProtocolError as _WSLocalProtocolError
    from wsproto.utilities import generate_accept_token
except ImportError:  # pragma: no cover - exercised by the plain install
    _ws_events = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from _typeshed import OptExcInfo, ReadableBuffer, WriteableBuffer
    from _typeshed.wsgi import WSGIApplication, WSGIEnvironment
    from typing_extensions import Self

__all__ = ["WEBSOCKET_ENVIRON_KEY", "Limits", "PortInUseError", "ServerThread", "WebSocket", "WebSocketClosed", "WebSocketUpgrade"]

logger = logging.getLogger("pytest_openai_fake.server")

SERVER_NAME = "pytest-openai-fake"
# Defaults of Limits (see the module docstring).
MAX_REQUEST_BODY = 512 * 1024 * 1024
MAX_CONNECTIONS = 256
IDLE_TIMEOUT = 120.0
HEAD_TIMEOUT = 30.0
BODY_TIMEOUT = 30.0
SEND_TIMEOUT = 30.0
MIN_TRANSFER_RATE = 1024 * 1024
LINGER_TIMEOUT = 2.0
# Connections waiting to be accepted while max_connections are served (capped by the OS).
LISTEN_BACKLOG = 1024
# Upper bounds for the waits in start() and stop().
START_TIMEOUT = 5.0
STOP_TIMEOUT = 1.0
# The accept loop is woken by stop(); this is only a safety net for a lost wake-up.
ACCEPT_POLL = 5.0
MAX_CHUNK_LINE = 4096
MAX_CHUNKS = 1_000_000
MAX_TRAILERS = 100
MAX_HEADERS = 100
MAX_HEADER_LINE = 65536
# Empty lines ignored before a request line (RFC 9112 2.2: a server SHOULD ignore at least one).
MAX_EMPTY_LINES = 8

_NO_BODY_STATUSES = frozenset({204, 304})
_HOP_BY_HOP = frozenset({"connection", "transfer-encoding", "keep-alive"})
_HEXDIGITS = frozenset(b"0123456789abcdefABCDEF")
# A field line (RFC 9112 5): a token name (RFC 9110 5.6.2), a colon, a value without NUL or a bare
# CR (RFC 9110 5.5: reject, or replace them with SP; we reject), then CRLF or a bare LF (RFC 9112 2.2).
# Linear: the value is one greedy run of allowed bytes, with no overlapping group after it.
_TCHARS = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]"  # RFC 9110 5.6.2 tchar
_FIELD_LINE = _TCHARS + rb"+:[^\x00\r\n]*\r?\n"
_FIELD_LINES = re.compile(rb"(?:%b)*\Z" % _FIELD_LINE)  # a whole head, checked in one call
_FIELD_LINE_RE = re.compile(_FIELD_LINE + rb"\Z")
_TOKEN = re.compile(_TCHARS + rb"+\Z")
# Host = uri-host [ ":" port ] (RFC 9112 3.2, RFC 3986 3.2.2); empty is allowed (no authority).
_HOST = re.compile(r"(?:\[[0-9A-Za-z:.]+\]|[-A-Za-z0-9._~!$&'()*+,;=%]*)(?::[0-9]*)?\Z")
_EMPTY_LINES = (b"\r\n", b"\n")
_LINGER_RESET = struct.pack("ii", 1, 0)
_DISCONNECTS = (ConnectionError, TimeoutError, ssl.SSLError)

# Phases of a connection, for its read deadline (see _Reader).
_IDLE = "idle"  # between requests: nothing of the next request has arrived
_HEAD = "head"  # the request line and headers are arriving
_BODY = "body"  # the request body is arriving
_REPLY = "reply"  # the app runs and the reply is written; nothing is read


@dataclasses.dataclass(frozen=True)
class Limits:
    """How much a client may send and how long it may take; ``ServerThread`` keyword arguments.

    Sizes are bytes, times seconds, rates bytes per second. See the module docstring for what
    happens when each is reached.
    """

    #: Largest request body; a larger one is answered 413.
    max_request_body: int = MAX_REQUEST_BODY
    #: Connections served at once; more wait in the listen backlog.
    max_connections: int = MAX_CONNECTIONS
    #: An idle keep-alive connection is closed after this long between requests.
    idle_timeout: float = IDLE_TIMEOUT
    #: A request head must be complete this long after its first byte (else 408).
    head_timeout: float = HEAD_TIMEOUT
    #: A request body gets this long plus its size at ``min_transfer_rate`` (else 408).
    body_timeout: float = BODY_TIMEOUT
    #: Each reply write gets this long plus its size at ``min_transfer_rate`` (else reset).
    send_timeout: float = SEND_TIMEOUT
    #: The slowest transfer rate a body or reply is given time for, after its fixed timeout.
    min_transfer_rate: float = MIN_TRANSFER_RATE
    #: How long unread request bytes are read and discarded after an error reply, before closing.
    linger_timeout: float = LINGER_TIMEOUT

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            wanted = int if field.name in ("max_request_body", "max_connections") else (int, float)
            if isinstance(value, bool) or not isinstance(value, wanted):
                raise TypeError(f"pytest-openai-fake: {field.name} must be a number, got {value!r}")
            if not 0 < value < math.inf:
                raise ValueError(f"pytest-openai-fake: {field.name} must be positive and finite, got {value!r}")

    def transfer_time(self, size: int) -> float:
        return size / self.min_transfer_rate


class PortInUseError(OSError):
    """The requested port is taken; raised by ``ServerThread.start()``."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(
            f"pytest-openai-fake: port {port} on {host} is already in use; choose another "
            "with --openai-fake-port or use 0 for an ephemeral port"
        )
        self.errno = errno.EADDRINUSE
        self.host = host
        self.port = port

    def __reduce__(self) -> tuple[type[PortInUseError], tuple[str, int]]:
        return (type(self), (self.host, self.port))


class _BadRequest(Exception):
    """A request the server refuses before the app sees it; the connection is closed after the reply."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _ClientGone(ConnectionError):
    """The client closed the connection in the middle of its request."""


class _ReadTimeout(TimeoutError):
    """A read missed the deadline of the connection's phase."""

    def __init__(self, phase: str) -> None:
        super().__init__(f"request {phase} timed out")
        self.phase = phase


class _SendTimeout(TimeoutError):
    """A reply write missed its deadline: the client stopped reading."""


class ServerThread:
    """Serve ``app`` on ``http://host:port`` from a daemon thread.

    ``port=0`` binds an ephemeral port; ``port`` holds the bound port once started. ``stop()``
    closes the listener and every open connection; both methods are safe to call twice.
    The keyword arguments are the fields of ``Limits`` (sizes, connection cap, deadlines);
    ``limits`` holds them. ``tls``: serve HTTPS with this server context (``tls.Certificate``
    makes one); a connection that negotiates ALPN ``h2`` is served by ``http2.serve``.
    """

    def __init__(
        self,
        app: WSGIApplication,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        max_request_body: int = MAX_REQUEST_BODY,
        max_connections: int = MAX_CONNECTIONS,
        idle_timeout: float = IDLE_TIMEOUT,
        head_timeout: float = HEAD_TIMEOUT,
        body_timeout: float = BODY_TIMEOUT,
        send_timeout: float = SEND_TIMEOUT,
        min_transfer_rate: float = MIN_TRANSFER_RATE,
        linger_timeout: float = LINGER_TIMEOUT,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.app = app
        self.tls = tls
        self.host = host
        self.port = port
        self.limits = Limits(
            max_request_body=max_request_body,
            max_connections=max_connections,
            idle_timeout=idle_timeout,
            head_timeout=head_timeout,
            body_timeout=body_timeout,
            send_timeout=send_timeout,
            min_transfer_rate=min_transfer_rate,
            linger_timeout=linger_timeout,
        )
        self._requested_port = port
        self._lifecycle = threading.Lock()
        self._server: _WSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._waker: tuple[socket.socket, socket.socket] | None = None
        self._stopping = threading.Event()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls is not None else 'http'}://{host}:{self.port}"

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive() and not self._stopping.is_set()

    def start(self) -> None:
        """Bind, start the accept thread and return once it is accepting. No-op if running."""
        with self._lifecycle:
            if self._server is not None:
                return
            listener = _bind(self.host, self._requested_port)
            try:
                server = _WSGIServer(listener, self.app, self.limits, self.tls)
            finally:
                listener.close()  # werkzeug serves a duplicate of the descriptor
            waker = socket.socketpair()
            self._stopping = threading.Event()
            ready = threading.Event()
            thread = threading.Thread(
                target=self._accept_loop,
                args=(server, waker[0], self._stopping, ready),
                name=f"openai-fake-server:{server.port}",
                daemon=True,
            )
            self._server, self._thread, self._waker = server, thread, waker
            self.port = server.port
            thread.start()
        if not ready.wait(START_TIMEOUT):  # pragma: no cover - only on a wedged machine
            self.stop()
            raise RuntimeError("pytest-openai-fake: the server thread did not start")

    def stop(self) -> None:
        """Stop accepting, close all connections and join the threads (bounded). Idempotent."""
        with self._lifecycle:
            server, thread, waker = self._server, self._thread, self._waker
            self._server = self._thread = self._waker = None
        if server is None or thread is None or waker is None:
            return
        deadline = time.monotonic() + STOP_TIMEOUT
        self._stopping.set()
        server.wake_accept_loop()
        try:
            waker[1].send(b"\0")
        except OSError:  # pragma: no cover
            pass
        if thread is not threading.current_thread():
            thread.join(STOP_TIMEOUT)
        server.server_close()
        server.close_connections(deadline)
        for sock in waker:
            sock.close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<ServerThread {self.url} {state}>"

    @staticmethod
    def _accept_loop(
        server: _WSGIServer, waker: socket.socket, stopping: threading.Event, ready: threading.Event
    ) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(server.socket, selectors.EVENT_READ, False)
            selector.register(waker, selectors.EVENT_READ, True)
            ready.set()
            while not stopping.is_set():
                for key, _ in selector.select(ACCEPT_POLL):
                    if key.data:  # woken by stop()
                        return
                    # A client is waiting: accept it once a connection slot is free.
                    if server.wait_for_slot(stopping):
                        server.accept_one()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if sys.platform != "win32":
            # Lets a fixed port be rebound while old connections sit in TIME_WAIT; a port with
            # a live listener still fails. (On Windows, SO_REUSEADDR would allow port theft.)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(LISTEN_BACKLOG)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE or getattr(exc, "winerror", None) == 10048:
            raise PortInUseError(host, port) from exc
        raise
    return sock


class _Connection:
    """A served connection: its thread and, once the handler is set up, its reader."""

    __slots__ = ("reader", "thread")

    def __init__(self, thread: threading.Thread) -> None:
        self.thread = thread
        self.reader: _Reader | None = None


class _WSGIServer(BaseWSGIServer):
    """werkzeug's server around a listener we bound, with tracked, capped per-connection threads."""

    multithread = True

    def __init__(self, listener: socket.socket, app: WSGIApplication, limits: Limits, tls: ssl.SSLContext | None = None) -> None:
        host, port = listener.getsockname()[:2]
        super().__init__(host, port, app, handler=_Handler, fd=listener.fileno())
        # Set after werkzeug's __init__, which would wrap the listener (handshakes in the accept
        # loop); connections are wrapped in their own threads (_open). werkzeug reads it for
        # wsgi.url_scheme and to log TLS errors quietly.
        self.ssl_context = tls
        self.socket.setblocking(False)
        self.limits = limits
        # Insertion order is connection age; the Condition is notified when a connection ends.
        self._connections: dict[socket.socket, _Connection] = {}
        self._slots = threading.Condition(threading.Lock())

    def accept_one(self) -> None:
        try:
            request, client_address = self.socket.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:  # e.g. out of file descriptors; keep serving
            logger.warning("pytest-openai-fake: accept() failed: %s", exc)
            return
        request.setblocking(True)
        self.process_request(request, client_address)

    def wait_for_slot(self, stopping: threading.Event) -> bool:
        """True when another connection may be accepted; else wait (bounded) and return False.

        At the cap, the longest-idle keep-alive connection (if any) is closed to make room.
        """
        with self._slots:
            if len(self._connections) < self.limits.max_connections:
                return True
            self._reclaim_idle()
            self._slots.wait(ACCEPT_POLL)
            return not stopping.is_set() and len(self._connections) < self.limits.max_connections

    def wake_accept_loop(self) -> None:
        with self._slots:
            self._slots.notify_all()

    def connection_idle(self) -> None:
        """A connection went idle: if the accept loop waits for a slot, it may reclaim this one."""
        if len(self._connections) >= self.limits.max_connections:
            with self._slots:
                self._slots.notify_all()

    def _reclaim_idle(self) -> None:
        """Close the connection idle the longest, if one is idle (caller holds ``_slots``)."""
        candidates = [
            (conn.reader.idle_since, sock, conn.reader)
            for sock, conn in self._connections.items()
            if conn.reader is not None and conn.reader.keep_alive_idle
        ]
        for _, sock, reader in sorted(candidates, key=lambda item: item[0]):
            if _readable(sock):  # the next request (or a close) is arriving: not idle after all
                continue
            reader.reclaimed = True
            try:
                sock.shutdown(socket.SHUT_RDWR)  # its thread wakes up, reads EOF and ends
            except OSError:
                continue
            return

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name=f"openai-fake-conn:{client_address[1]}",
            daemon=True,
        )
        with self._slots:
            self._connections[request] = _Connection(thread)
        try:
            thread.start()
        except RuntimeError:  # pragma: no cover - can't start new thread
            self.shutdown_request(request)

    def _serve_connection(self, request: socket.socket, client_address: Any) -> None:
        try:
            request = self._open(request)
            if _tls.negotiated(request) == _tls.ALPN_H2:
                from .http2 import serve

                serve(request, client_address, self)
            elif request.fileno() != -1:
                self.finish_request(request, client_address)
        except Exception:  # noqa: BLE001 - as socketserver does: report, keep serving
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def _open(self, sock: socket.socket) -> socket.socket:
        """A new connection, by its first byte: TLS ClientHello or not. Plain HTTP on the TLS
        port is answered 400, a ClientHello on the plain port is closed at once (no hang until
        a deadline); a TLS connection is handshaken here, in its own thread. Returns the socket
        to serve (closed, ``fileno() == -1``, when there is nothing to serve)."""
        limits = self.limits
        first = _tls.sniff(sock, min(limits.idle_timeout, limits.head_timeout))
        if first is None or (first == _tls.TLS_HANDSHAKE and self.ssl_context is None):
            sock.close()  # nothing came (closed, or not in time), or a ClientHello on the plain port
            return sock
        if self.ssl_context is None:
            return sock
        if first != _tls.TLS_HANDSHAKE:
            _tls.refuse_plain_http(sock, limits.send_timeout, limits.linger_timeout)
            sock.close()
            return sock
        secure = _tls.handshake(sock, self.ssl_context, limits.head_timeout)
        if secure is None:
            return sock  # detached by the wrap: fileno() == -1
        with self._slots:  # track the TLS socket, so stop() shuts it down
            conn = self._connections.pop(sock, None)
            if conn is not None:
                self._connections[secure] = conn
        if conn is None:  # stop() ran meanwhile
            secure.close()
        return secure

    def track(self, request: socket.socket, reader: _Reader) -> None:
        with self._slots:
            conn = self._connections.get(request)
            if conn is not None:
                conn.reader = reader

    def forget(self, request: socket.socket) -> None:
        """Untrack a connection before closing it, so stop() never touches a closed socket."""
        with self._slots:
            if self._connections.pop(request, None) is not None:
                self._slots.notify_all()

    def shutdown_request(self, request: Any) -> None:
        self.forget(request)
        super().shutdown_request(request)

    def close_connections(self, deadline: float) -> None:
        with self._slots:
            connections = list(self._connections.items())
            for sock, _ in connections:
                try:
                    sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in recv()
                except OSError:
                    pass
        current = threading.current_thread()
        for _, conn in connections:
            if conn.thread is not current:
                conn.thread.join(max(0.0, deadline - time.monotonic()))

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], _DISCONNECTS):
            return
        logger.exception("pytest-openai-fake: error while serving %s", client_address)


def _readable(sock: socket.socket) -> bool:
    """Whether bytes (or EOF) are waiting on ``sock``, without blocking."""
    try:
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        return bool(select.select([sock], [], [], 0)[0])  # pragma: no cover - Windows
    except (OSError, ValueError):
        return True  # closed meanwhile: leave it to its thread


class _Reader(io.RawIOBase):
    """The connection's raw input. Every ``recv`` waits only until the current phase's deadline.

    The handler's buffered ``rfile`` reads through this, so a client that trickles bytes can
    hold a thread at most until the deadline, not one socket timeout per byte.
    """

    def __init__(self, sock: socket.socket, limits: Limits) -> None:
        super().__init__()
        self._sock = sock
        self._limits = limits
        self.phase = _IDLE
        self.deadline = 0.0
        self.idle_since = 0.0
        self.keep_alive_idle = False  # idle after a served request: may be closed to make room
        self.reclaimed = False  # closed by the server to make room for another connection
        self.probing = False  # while set, reads return "no data" without touching the socket

    def readable(self) -> bool:
        return True

    def await_request(self, *, buffered: bool, first: bool) -> None:
        """Between requests: the idle deadline, or the head deadline if bytes are already buffered."""
        now = time.monotonic()
        if buffered:
            self.keep_alive_idle = False
            self.phase, self.deadline = _HEAD, now + self._limits.head_timeout
            return
        wait = min(self._limits.idle_timeout, self._limits.head_timeout) if first else self._limits.idle_timeout
        self.idle_since, self.deadline = now, now + wait
        self.phase = _IDLE
        # A new connection's request may still be on its way: only a kept-alive one is idle.
        self.keep_alive_idle = not first

    def start_body(self, size: int) -> None:
        self.phase = _BODY
        self.deadline = time.monotonic() + self._limits.body_timeout + self._limits.transfer_time(size)

    def extend_body(self, size: int) -> None:
        """More body is announced (a chunk size): give it time at the minimum rate."""
        self.deadline += self._limits.transfer_time(size)

    def start_reply(self) -> None:
        self.phase = _REPLY

    def readinto(self, buffer: WriteableBuffer) -> int | None:
        if self.probing:
            return None
        remaining = self.deadline - time.monotonic()
        if remaining <= 0 or self.reclaimed:
            raise _ReadTimeout(self.phase)
        self._sock.settimeout(remaining)
        try:
            received = self._sock.recv_into(buffer)
        except TimeoutError:
            raise _ReadTimeout(self.phase) from None
        if received and self.phase == _IDLE:
            self.keep_alive_idle = False
            self.phase, self.deadline = _HEAD, time.monotonic() + self._limits.head_timeout
        return received


class _Writer(io.BufferedIOBase):
    """The connection's output: each write gets ``send_timeout`` plus its size at the minimum rate."""

    def __init__(self, sock: socket.socket, limits: Limits) -> None:
        super().__init__()
        self._sock = sock
        self._limits = limits

    def writable(self) -> bool:
        return True

    def write(self, data: ReadableBuffer) -> int:
        with memoryview(data) as view:
            size = view.nbytes
            self._sock.settimeout(self._limits.send_timeout + self._limits.transfer_time(size))
            try:
                self._sock.sendall(view)
            except TimeoutError:
                raise _SendTimeout("the client did not read the reply in time") from None
        return size

    def fileno(self) -> int:
        return self._sock.fileno()


class _Handler(WSGIRequestHandler):
    """werkzeug's request handler, answering with HTTP/1.1 keep-alive responses."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _WSGIServer

    # Per-connection state, set by setup().
    rfile: io.BufferedReader
    _reader: _Reader
    _requests_seen: int
    # Per-request state, reset by handle_one_request().
    _status: str | None
    _headers: list[tuple[str, str]]
    _sent: bool
    _streaming: bool
    _chunked: bool
    _pending_head: bytes
    _expect_continue: bool
    _unread: bool  # the connection is closed with request bytes left unread: linger first
    _closed: bool

    @property
    def server_version(self) -> str:  # type: ignore[override]
        return SERVER_NAME

    # -- logging: silent; disconnects are normal, per-request lines are noise ------------------

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log(self, type: str, message: str, *args: Any) -> None:
        logger.debug("%s: " + message, type, *args)

    # -- the connection -----------------------------------------------------------------------

    def setup(self) -> None:
        sock: socket.socket = self.request
        self.connection = sock
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, True)
        limits = self.server.limits
        self._reader = _Reader(sock, limits)
        self.rfile = io.BufferedReader(self._reader)
        self.wfile = _Writer(sock, limits)
        self._requests_seen = 0
        self._unread = self._closed = False
        self.server.track(sock, self._reader)

    def finish(self) -> None:
        try:
            if self._unread and not self._closed:
                self._linger()
        finally:
            super().finish()

    def _linger(self) -> None:
        """Shut the write side and discard what the client still sends, for a bounded time.

        Closing a socket with unread bytes makes the kernel answer RST, and a client that is
        still uploading may then lose the reply before reading it.
        """
        sock = self.connection
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            return
        deadline = time.monotonic() + self.server.limits.linger_timeout
        sink = bytearray(65536)
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                sock.settimeout(remaining)
                if not sock.recv_into(sink):
                    return
            except OSError:  # timed out, reset, or shut down by stop()
                return

    # -- one request --------------------------------------------------------------------------

    def handle_one_request(self) -> None:
        """Read a request line and head within their deadlines, then serve it (``run_wsgi``)."""
        self._status = None
        self._headers = []
        self._sent = self._streaming = self._chunked = self._expect_continue = False
        self._pending_head = b""
        self.request_version = self.default_request_version
        reader = self._reader
        reader.await_request(buffered=self._bytes_buffered(), first=not self._requests_seen)
        self._requests_seen += 1
        if reader.keep_alive_idle:
            self.server.connection_idle()  # after the phase is set, so the accept loop cannot miss it
        try:
            line = self.rfile.readline(65537)
            for _ in range(MAX_EMPTY_LINES):  # RFC 9112 2.2: ignore empty lines before the request line
                if line not in _EMPTY_LINES:
                    break
                line = self.rfile.readline(65537)
            self.raw_requestline = line
            if len(line) > 65536:
                self.requestline = self.command = ""
                self.send_error(414)
                return
            if not line.endswith(b"\n"):  # EOF before the line ended: the client went away
                self.close_connection = True
                return
            if not self.parse_request():
                return
            self.run_wsgi()
        except _ReadTimeout as exc:
            self.close_connection = True
            if exc.phase == _HEAD:
                self._unread = True
                self._send_error_json(
                    408,
                    f"Request timed out: the request head did not arrive within {self.server.limits.head_timeout:g} s.",
                    type_="timeout",
                )

    def _bytes_buffered(self) -> bool:
        """Whether ``rfile`` already holds bytes of the next (pipelined) request; never blocks."""
        self._reader.probing = True
        try:
            return bool(self.rfile.peek(1))
        finally:
            self._reader.probing = False

    def run_wsgi(self) -> None:
        upgrade: WebSocketUpgrade | None = None
        if self.command == "GET" and _is_upgrade(self.headers):
            if _ws_events is None:
                self.close_connection = True
                self._send_error_json(
                    501,
                    "WebSocket support needs the realtime extra: pip install 'pytest-openai-fake[realtime]'.",
                    type_="server_error",
                )
                return
            refusal = _websocket_refusal(self.headers)
            if refusal is not None:
                self.close_connection = True
                self._send_error_json(*refusal)
                return
            upgrade = WebSocketUpgrade(self)
        try:
            body, length = self._read_body()
        except _BadRequest as exc:
            self.close_connection = self._unread = True
            self._send_error_json(exc.status, exc.message)
            return
        except _ReadTimeout:
            self.close_connection = self._unread = True
            limits = self.server.limits
            message = (
                f"Request timed out: the request body did not arrive within {limits.body_timeout:g} s "
                f"plus its size at {limits.min_transfer_rate:g} bytes/s."
            )
            self._send_error_json(408, message, type_="timeout")
            return
        except _DISCONNECTS:
            self.close_connection = True
            return
        self._reader.start_reply()

        environ = self.make_environ()
        environ["wsgi.input"] = body
        environ["wsgi.input_terminated"] = True
        environ["CONTENT_LENGTH"] = str(length)
        if upgrade is not None:
            environ[WEBSOCKET_ENVIRON_KEY] = upgrade
        del body

        app_iter: Iterable[bytes] | None = None
        try:
            app_iter = self.server.app(environ, self._start_response)
            if upgrade is not None and upgrade.websocket is not None:
                upgrade.websocket.close(1000)  # the app served the socket: nothing more is sent
                self.close_connection = True
            else:
                self._respond(app_iter, environ)
        except DropConnection:
            self._reset()
        except _SendTimeout:
            logger.debug("pytest-openai-fake: the client stopped reading the reply; resetting")
            self._reset()
        except _DISCONNECTS:
            self.close_connection = True
        except Exception as exc:
            if self._sent:
                logger.exception("pytest-openai-fake: the app failed mid-response; closing")
                self._reset()
            else:
                logger.exception("pytest-openai-fake: the app raised before responding")
                detail = f"unhandled {type(exc).__name__}: {exc}"
                self._send_error_json(500, server_error(detail).message, type_="server_error")
        finally:
            close_body(app_iter)

    def _read_body(self) -> tuple[io.BytesIO, int]:
        """Read the whole request body (RFC 9112 6.3), so the next request starts at a message boundary.

        Framing errors and a body over the limit raise ``_BadRequest`` before any body byte is
        read and before ``100 Continue`` is sent.
        """
        limit = self.server.limits.max_request_body
        transfer_encodings = self.headers.get_all("Transfer-Encoding")
        lengths = self.headers.get_all("Content-Length")
        if transfer_encodings:
            value = ", ".join(transfer_encodings)
            if lengths:
                raise _BadRequest(400, "Invalid request: both Content-Length and Transfer-Encoding are set.")
            if not self._http11:
                raise _BadRequest(400, "Invalid request: Transfer-Encoding is not allowed in an HTTP/1.0 request.")
            codings = [coding.strip().lower() for coding in value.split(",")]
            if codings[-1] != "chunked" or codings.count("chunked") > 1:
                raise _BadRequest(400, f"Invalid Transfer-Encoding: {value} (chunked must be the final coding, once).")
            if len(codings) > 1:
                raise _BadRequest(501, f"Unsupported Transfer-Encoding: {value} (only chunked is supported).")
            self._continue()
            self._reader.start_body(0)
            return _read_chunked(self.rfile, self._reader, limit)
        if not lengths:
            return io.BytesIO(), 0
        if len(set(lengths)) != 1 or not (lengths[0].isascii() and lengths[0].isdigit()):
            raise _BadRequest(400, "Invalid Content-Length header")
        length = int(lengths[0])
        if length > limit:
            raise _BadRequest(413, f"Request body too large: {length} bytes is over the limit of {limit} bytes.")
        if not length:
            return io.BytesIO(), 0
        self._continue()
        self._reader.start_body(length)
        # One read into one buffer of the declared size (untouched pages cost nothing until the
        # bytes arrive); BytesIO shares it, so the app's read() returns it without a copy.
        data = self.rfile.read(length)
        if len(data) < length:
            raise _ClientGone("request body cut short")
        return io.BytesIO(data), length

    def _continue(self) -> None:
        """Send ``100 Continue`` if the client waits for it (RFC 9110 10.1.1), once the body is wanted."""
        if self._expect_continue:
            self._expect_continue = False
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _start_response(self, status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None) -> Any:
        if exc_info:
            try:
                if self._sent:
                    raise exc_info[1].with_traceback(exc_info[2])  # type: ignore[union-attr]
            finally:
                exc_info = None
        elif self._status is not None:
            raise AssertionError("start_response() called twice without exc_info")
        self._status = status
        self._headers = headers
        return self._legacy_write

    def _legacy_write(self, data: bytes) -> None:
        """PEP 3333's ``write()`` callable: starts a streamed response."""
        if not self._streaming:
            self._begin_stream(self._framing()[1])
        self._send_part(data)

    def _respond(self, app_iter: Iterable[bytes], environ: WSGIEnvironment) -> None:
        it: Iterator[bytes] = iter(app_iter)
        if self._streaming:  # the app used write(); carry on streaming
            for data in it:
                self._send_part(data)
            self._end_stream()
            return
        first: tuple[bytes, ...] = ()
        if self._status is None:  # start_response may be called from inside the iterable
            head_item = next(it, None)
            first = () if head_item is None else (head_item,)
            if self._status is None:
                raise RuntimeError("the WSGI app did not call start_response()")
        code, length = self._framing()
        if environ["REQUEST_METHOD"] == "HEAD" or code < 200 or code in _NO_BODY_STATUSES:
            self._send_all(self._head(None), b"")
            return
        if length is None and isinstance(app_iter, (list, tuple)):
            body = b"".join(app_iter)
            self._send_all(self._head(len(body)), body)
            return
        if length is not None:
            body = b"".join(chain(first, it))
            if len(body) != length:
                logger.error("pytest-openai-fake: Content-Length %d but body is %d bytes", length, len(body))
                self.close_connection = True
                body = body[:length]
            self._send_all(self._head(None), body)
            return
        self._begin_stream(length)
        for data in chain(first, it):
            self._send_part(data)
        self._end_stream()

    def _framing(self) -> tuple[int, int | None]:
        """The status code and the app's Content-Length; honours the app's ``Connection: close``."""
        assert self._status is not None, "write() before start_response()"
        code = int(self._status[:3])
        length: int | None = None
        for name, value in self._headers:
            lowered = name.lower()
            if lowered == "content-length":
                length = int(value)
            elif lowered == "connection" and value.strip().lower() == "close":
                self.close_connection = True
        return code, length

    def _head(self, content_length: int | None, *, chunked: bool = False) -> bytes:
        """Status line and headers. We own framing: the app's hop-by-hop headers are dropped."""
        assert self._status is not None
        names = {name.lower() for name, _ in self._headers}
        lines = [f"HTTP/1.1 {self._status}\r\n"]
        if "server" not in names:  # the app's own Server and Date win (e.g. from a fake clock)
            lines.append(f"Server: {SERVER_NAME}\r\n")
        if "date" not in names:
            lines.append(f"Date: {_http_date()}\r\n")
        lines.extend(f"{name}: {value}\r\n" for name, value in self._headers if name.lower() not in _HOP_BY_HOP)
        if content_length is not None:
            lines.append(f"Content-Length: {content_length}\r\n")
        if chunked:
            lines.append("Transfer-Encoding: chunked\r\n")
        if self.close_connection:
            lines.append("Connection: close\r\n")
        elif not self._http11:
            lines.append("Connection: keep-alive\r\n")  # an HTTP/1.0 client that asked for it
        lines.append("\r\n")
        return "".join(lines).encode("latin-1")

    def _send_all(self, head: bytes, body: bytes) -> None:
        self._sent = True
        self.wfile.write(head + body)

    @property
    def _http11(self) -> bool:
        return self.request_version >= "HTTP/1.1"

    def _begin_stream(self, length: int | None) -> None:
        self._streaming = True
        self._chunked = length is None and self._http11
        if length is None and not self._chunked:
            self.close_connection = True  # HTTP/1.0: the body ends when the connection does
        self._pending_head = self._head(None, chunked=self._chunked)

    def _send_part(self, data: bytes) -> None:
        if not data:
            # An empty chunk would end a chunked body; an empty item sends the headers early.
            if self._pending_head:
                self._sent = True
                self.wfile.write(self._pending_head)
                self._pending_head = b""
            return
        if self._chunked:
            data = b"%x\r\n%b\r\n" % (len(data), data)
        if self._pending_head:
            data = self._pending_head + data
            self._pending_head = b""
        self._sent = True
        self.wfile.write(data)

    def _end_stream(self) -> None:
        data = self._pending_head + (b"0\r\n\r\n" if self._chunked else b"")
        self._pending_head = b""
        if data:
            self._sent = True
            self.wfile.write(data)

    def _send_error_json(self, status: int, message: str, *, type_: str = "invalid_request_error") -> None:
        body = json.dumps({"error": {"message": message, "type": type_, "param": None, "code": None}}).encode()
        self._status = f"{status} {_reason(status)}"
        self._headers = [("Content-Type", "application/json")]
        try:
            self._send_all(self._head(len(body)), body)
        except _DISCONNECTS:
            self.close_connection = True

    def _reset(self) -> None:
        """Cut the connection: RST, no further bytes (DropConnection, a reply nobody reads)."""
        self.close_connection = self._closed = True
        sock = self.connection
        self.server.forget(sock)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        except OSError:
            pass
        sock.close()

    def parse_request(self) -> bool:
        """``BaseHTTPRequestHandler.parse_request`` with a faster header parser.

        The stdlib runs request headers through the ``email`` package's feed parser, which
        costs ~100 µs a request; the server shares the GIL with the test calling it, so that
        time is added to every call. Headers here are read line by line, checked in one
        regular-expression call for the whole head, and stored in the same
        ``http.client.HTTPMessage`` type (werkzeug's ``make_environ`` reads ``items()``).
        """
        self.command = None
        self.request_version = version = self.default_request_version
        self.close_connection = True
        requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        self.requestline = requestline
        words = requestline.split()
        if len(words) != 3:
            self.send_error(400, f"Bad request syntax ({requestline!r})")
            return False
        command, path, version = words
        major, dot, minor = version[5:].partition(".")
        if not version.startswith("HTTP/") or not dot or not (major.isdigit() and minor.isdigit()) or len(version) > 16:
            self.send_error(400, f"Bad request version ({version!r})")
            return False
        if int(major) >= 2:
            self.send_error(505, f"Invalid HTTP version ({version[5:]})")
            return False
        self.close_connection = (int(major), int(minor)) < (1, 1)
        self.request_version = version
        self.command = command
        self.path = "/" + path.lstrip("/") if path.startswith("//") else path
        lines: list[bytes] = []
        for _ in range(MAX_HEADERS + 1):
            line = self.rfile.readline(MAX_HEADER_LINE + 1)
            if len(line) > MAX_HEADER_LINE:
                self.send_error(431, "Line too long")
                return False
            if line in _EMPTY_LINES:
                break
            if not line:  # EOF inside the head: the client went away, nobody reads an answer
                self.close_connection = True
                return False
            lines.append(line)
        else:
            self.send_error(431, "Too many headers")
            return False
        if not _FIELD_LINES.match(b"".join(lines)):
            self.send_error(400, _bad_field_line(lines))
            return False
        headers = http.client.HTTPMessage()
        hosts: list[str] = []
        for line in lines:
            name, _, value = str(line, "iso-8859-1").partition(":")
            value = value.strip(" \t\r\n")  # OWS is SP and HTAB (RFC 9110 5.6.3); CR/LF only end the line
            if len(name) == 4 and name.lower() == "host":
                hosts.append(value)
            headers[name] = value
        # RFC 9112 3.2: 400 for an HTTP/1.1 request without Host, for more than one Host, and
        # for an invalid one (an HTTP/1.0 request may omit it).
        if len(hosts) > 1 or (not hosts and self._http11):
            self.send_error(400, "More than one Host header" if hosts else "Missing Host header (required in HTTP/1.1)")
            return False
        if hosts and not _HOST.match(hosts[0]):
            self.send_error(400, f"Invalid Host header ({hosts[0]!r})")
            return False
        self.headers = headers
        connection = headers.get("Connection", "").lower()
        if connection == "close":
            self.close_connection = True
        elif connection == "keep-alive":
            self.close_connection = False
        # 100 Continue is sent only once the body is wanted (see _read_body): a request refused
        # for its head (413, 400, 501) is answered straight away, without it.
        self._expect_continue = headers.get("Expect", "").lower() == "100-continue" and self._http11
        return True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol errors found by http.server (bad request line, ...): JSON, then close."""
        self.close_connection = self._unread = True
        if not hasattr(self, "request_version") or not self.request_version:
            self.request_version = "HTTP/1.0"
        self._send_error_json(code, message or _reason(code))


def _bad_field_line(lines: list[bytes]) -> str:
    """Why a head is refused (400): the message for its first line ``_FIELD_LINE`` rejects."""
    line = next(line for line in lines if not _FIELD_LINE_RE.match(line))
    text = line.decode("iso-8859-1").removesuffix("\n").removesuffix("\r")
    name, colon, _ = text.partition(":")
    # RFC 9112 5.1/5.2: no white space before the colon; obsolete line folding (a line starting
    # with white space) may be rejected with a 400, as is a line without a name.
    if not colon or not name or name != name.strip(" \t"):
        return f"Bad header line ({text.strip()!r})"
    if not _TOKEN.match(name.encode("iso-8859-1")):
        return f"Invalid header name ({name!r})"
    return f"Invalid character in the value of header {name!r} (NUL or CR)"


def _read_chunked(rfile: io.BufferedReader, reader: _Reader, limit: int) -> tuple[io.BytesIO, int]:
    """Read a ``Transfer-Encoding: chunked`` request body (extensions and trailers ignored).

    The body is cut off (413) as soon as the announced chunk sizes pass ``limit``, before that
    chunk is read; every announced chunk extends the body deadline at the minimum rate.
    """
    body = io.BytesIO()
    for _ in range(MAX_CHUNKS):
        line = rfile.readline(MAX_CHUNK_LINE + 1)
        if not line:
            raise _ClientGone("chunked body cut short")
        if len(line) > MAX_CHUNK_LINE:
            raise _BadRequest(400, "Chunk size line too long")
        size_field = line.split(b";", 1)[0].strip()
        if not size_field or not _HEXDIGITS.issuperset(size_field):
            raise _BadRequest(400, "Invalid chunk size")
        size = int(size_field, 16)
        if size == 0:
            for _ in range(MAX_TRAILERS):
                trailer = rfile.readline(MAX_CHUNK_LINE + 1)
                if not trailer:
                    raise _ClientGone("chunked body cut short")
                if trailer in (b"\r\n", b"\n"):
                    data = body.getvalue()  # trims the buffer in place and shares it: no copy
                    del body
                    return io.BytesIO(data), len(data)
            raise _BadRequest(400, "Too many trailer fields")
        if body.tell() + size > limit:
            raise _BadRequest(413, f"Request body too large: over the limit of {limit} bytes.")
        reader.extend_body(size)
        data = rfile.read(size)
        if len(data) < size:
            raise _ClientGone("chunked body cut short")
        body.write(data)
        del data
        if rfile.readline(3) not in (b"\r\n", b"\n"):
            raise _BadRequest(400, "Missing chunk terminator")
    raise _BadRequest(400, "Too many chunks")


_date_cache: tuple[int, str] = (0, "")


def _http_date() -> str:
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True))
    return _date_cache[1]


def _reason(status: int) -> str:
    return WSGIRequestHandler.responses.get(status, ("Error",))[0]


# -- WebSocket (RFC 6455) ---------------------------------------------------------------------

#: The WSGI environ key of an upgradable request: a ``WebSocketUpgrade`` the app may ``accept()``.
WEBSOCKET_ENVIRON_KEY = "pytest_openai_fake.websocket"
#: Largest message a client may send (fragments included); larger ones close the socket with 1009.
#: The Realtime API takes up to 15 MiB of audio in one ``input_audio_buffer.append``.
MAX_WEBSOCKET_MESSAGE = 16 * 1024 * 1024
_WS_GUID_VERSION = "13"


class WebSocketClosed(ConnectionError):
    """The WebSocket is closed (by the client, the server, or the network); ``code`` says how."""

    def __init__(self, code: int, reason: str = "") -> None:
        super().__init__(f"WebSocket closed ({code}{': ' + reason if reason else ''})")
        self.code = code
        self.reason = reason


def _websocket_refusal(headers: http.client.HTTPMessage) -> tuple[int, str] | None:
    """Why an upgrade request is not a valid WebSocket opening handshake (RFC 6455 4.2.1), or None."""
    key = headers.get("Sec-WebSocket-Key", "").strip()
    version = headers.get("Sec-WebSocket-Version", "").strip()
    if version != _WS_GUID_VERSION:
        return 426, f"Unsupported WebSocket version ({version!r}); this server speaks version 13."
    try:
        valid_key = len(base64.b64decode(key, validate=True)) == 16
    except ValueError:
        valid_key = False
    if not valid_key:
        return 400, "Invalid WebSocket handshake: Sec-WebSocket-Key must be 16 bytes in base64."
    return None


def _is_upgrade(headers: http.client.HTTPMessage) -> bool:
    upgrade = {token.strip().lower() for value in headers.get_all("Upgrade") or () for token in value.split(",")}
    connection = {token.strip().lower() for value in headers.get_all("Connection") or () for token in value.split(",")}
    return "websocket" in upgrade and "upgrade" in connection


class WebSocketUpgrade:
    """An upgradable request, handed to the app in the environ (``WEBSOCKET_ENVIRON_KEY``).

    The app either answers with an ordinary HTTP response (a refusal: 401, 404, ...) or calls
    ``accept()``, which sends ``101 Switching Protocols`` and returns the ``WebSocket``; the app
    then serves the socket in this thread and returns an empty body, which is not sent.
    """

    def __init__(self, handler: _Handler) -> None:
        self._handler = handler
        self.websocket: WebSocket | None = None

    @property
    def subprotocols(self) -> list[str]:
        values = self._handler.headers.get_all("Sec-WebSocket-Protocol") or ()
        return [token.strip() for value in values for token in value.split(",") if token.strip()]

    def accept(self, subprotocol: str | None = None, headers: Iterable[tuple[str, str]] = ()) -> WebSocket:
        if self.websocket is not None:
            raise RuntimeError("the WebSocket was already accepted")
        handler = self._handler
        key = handler.headers["Sec-WebSocket-Key"].strip().encode("ascii")
        lines = [
            "HTTP/1.1 101 Switching Protocols\r\n",
            "Upgrade: websocket\r\n",
            "Connection: Upgrade\r\n",
            f"Sec-WebSocket-Accept: {generate_accept_token(key).decode('ascii')}\r\n",
            f"Server: {SERVER_NAME}\r\n",
        ]
        if subprotocol is not None:
            lines.append(f"Sec-WebSocket-Protocol: {subprotocol}\r\n")
        lines.extend(f"{name}: {value}\r\n" for name, value in headers)
        lines.append("\r\n")
        handler._sent = True
        handler.close_connection = True  # after the socket, the connection is done
        handler.wfile.write("".join(lines).encode("latin-1"))
        # Bytes the client sent right after its handshake are already in rfile's buffer.
        handler._reader.probing = True
        try:
            buffered = handler.rfile.peek(MAX_HEADER_LINE)
        finally:
            handler._reader.probing = False
        trailing = handler.rfile.read(len(buffered)) if buffered else b""
        self.websocket = WebSocket(handler.connection, trailing)
        return self.websocket


class WebSocket:
    """The server side of one WebSocket, framed by ``wsproto`` (sans-IO) over the connection's socket.

    ``receive(timeout)`` returns the next whole message (``str`` or ``bytes``), ``None`` when
    ``timeout`` passes first, and raises ``WebSocketClosed`` once the socket is closed; it answers
    pings, reassembles fragmented messages and closes with 1009 when one passes
    ``max_message`` bytes, with 1002 on a protocol error (garbage frames), 1007 on bad UTF-8.
    ``send_text``/``close``/``abort`` may be called from any thread (one lock guards writes).
    """

    def __init__(self, sock: socket.socket, trailing: bytes = b"", *, max_message: int | None = None) -> None:
        self._sock = sock
        self._conn = _WSConnection(_WSConnectionType.SERVER)
        # Guards the wsproto state and writes: receive() runs on the connection's thread, close()
        # may come from another (a test's reset); re-entered when a received frame is answered.
        self._write = threading.RLock()
        self._max_message = MAX_WEBSOCKET_MESSAGE if max_message is None else max_message
        self._parts: list[str | bytes] = []
        self._size = 0
        self._pending: list[str | bytes] = []
        self._buffer = trailing
        self.close_code: int | None = None
        self.close_reason = ""

    @property
    def closed(self) -> bool:
        return self.close_code is not None

    def _send_bytes(self, data: bytes) -> None:
        self._sock.settimeout(SEND_TIMEOUT)
        self._sock.sendall(data)

    def send_text(self, text: str) -> None:
        with self._write:
            if self.close_code is not None:
                raise WebSocketClosed(self.close_code, self.close_reason)
            try:
                self._send_bytes(self._conn.send(_ws_events.TextMessage(data=text)))
            except (OSError, _WSLocalProtocolError) as exc:
                self._gone(1006, str(exc))

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Send a close frame (if still open) and shut the connection down; idempotent."""
        with self._write:
            if self.close_code is None:
                self.close_code, self.close_reason = code, reason
                try:
                    self._send_bytes(self._conn.send(_ws_events.CloseConnection(code=code, reason=reason)))
                except (OSError, _WSLocalProtocolError):
                    pass
            try:
                self._sock.shutdown(socket.SHUT_RDWR)  # wakes the serving thread's receive()
            except OSError:
                pass

    def abort(self) -> None:
        """Cut the connection without a close frame (RST): a server that vanishes mid-response."""
        with self._write:
            if self.close_code is None:
                self.close_code, self.close_reason = 1006, "aborted"
            try:
                self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _gone(self, code: int, reason: str) -> None:
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
        raise WebSocketClosed(self.close_code, self.close_reason)

    def receive(self, timeout: float | None) -> str | bytes | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self._pending:
                return self._pending.pop(0)
            if self.close_code is not None:
                raise WebSocketClosed(self.close_code, self.close_reason)
            if self._buffer:
                data, self._buffer = self._buffer, b""
            else:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                try:
                    self._sock.settimeout(remaining)
                    data = self._sock.recv(65536)
                except TimeoutError:
                    return None
                except OSError as exc:
                    self._gone(1006, str(exc))
            self._feed(data or None)

    def _feed(self, data: bytes | None) -> None:
        with self._write:
            if self.close_code is not None and data is not None:
                return  # closed meanwhile (by another thread): the bytes are not read any more
            self._conn.receive_data(data)
            self._handle_events(data)

    def _handle_events(self, data: bytes | None) -> None:
        for event in self._conn.events():
            if isinstance(event, _ws_events.Ping):
                with self._write:
                    if self.close_code is None:
                        try:
                            self._send_bytes(self._conn.send(event.response()))
                        except OSError as exc:
                            self._gone(1006, str(exc))
            elif isinstance(event, _ws_events.CloseConnection):
                with self._write:
                    if self.close_code is None:
                        self.close_code, self.close_reason = event.code, event.reason or ""
                        if data is not None:  # answer the close (or tell a garbling client why)
                            try:
                                self._send_bytes(self._conn.send(event.response()))
                            except (OSError, _WSLocalProtocolError):
                                pass
                    try:
                        self._sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                return
            elif isinstance(event, _ws_events.Message):
                self._size += len(event.data)
                if self._size > self._max_message:
                    self.close(1009, f"message too big: over {self._max_message} bytes")
                    return
                self._parts.append(event.data)
                if event.message_finished:
                    parts, self._parts, self._size = self._parts, [], 0
                    if isinstance(parts[0], str):
                        self._pending.append("".join(parts))  # type: ignore[arg-type]
                    else:
                        self._pending.append(b"".join(parts))  # type: ignore[arg-type]


def close_body(app_iter: object) -> None:
    """Call a WSGI response iterable's ``close()`` (PEP 3333), logging what it raises."""
    close = getattr(app_iter, "close", None)
    if close is not None:
        try:
            close()
        except Exception:
            logger.exception("pytest-openai-fake: closing the response body failed")
