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

* One thread per connection (not per request). Connections and their threads are tracked so
  that ``stop()`` can shut every idle keep-alive socket down and join its thread.
* The accept loop waits on the listener and a socketpair "waker", so ``stop()`` takes well
  under a millisecond instead of ``serve_forever``'s 0.5 s poll.
* The listening socket is bound here, before werkzeug sees it (passed as ``fd``), because
  werkzeug reacts to a taken port with ``sys.exit(1)``; we raise ``PortInUseError`` instead.

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

import errno
import http.client
import io
import json
import logging
import selectors
import socket
import struct
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from email.utils import formatdate
from itertools import chain
from typing import IO, TYPE_CHECKING, Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler

from .errors import DropConnection, server_error

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import WSGIApplication, WSGIEnvironment
    from typing_extensions import Self

__all__ = ["PortInUseError", "ServerThread"]

logger = logging.getLogger("pytest_openai_fake.server")

SERVER_NAME = "pytest-openai-fake"
# An idle keep-alive connection is closed after this long (the SDK's pool then reconnects).
IDLE_TIMEOUT = 120.0
# Upper bounds for the waits in start() and stop().
START_TIMEOUT = 5.0
STOP_TIMEOUT = 1.0
# The accept loop is woken by stop(); this is only a safety net for a lost wake-up.
ACCEPT_POLL = 5.0
# Request bodies are read into memory; beyond this the server answers 413.
MAX_REQUEST_BODY = 512 * 1024 * 1024
MAX_CHUNK_LINE = 4096
MAX_CHUNKS = 1_000_000
MAX_TRAILERS = 100
MAX_HEADERS = 100
MAX_HEADER_LINE = 65536

_NO_BODY_STATUSES = frozenset({204, 304})
_HOP_BY_HOP = frozenset({"connection", "transfer-encoding", "keep-alive"})
_HEXDIGITS = frozenset(b"0123456789abcdefABCDEF")
_LINGER_RESET = struct.pack("ii", 1, 0)
_DISCONNECTS = (ConnectionError, TimeoutError)


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
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _ClientGone(ConnectionError):
    """The client closed the connection in the middle of its request."""


class ServerThread:
    """Serve ``app`` on ``http://host:port`` from a daemon thread.

    ``port=0`` binds an ephemeral port; ``port`` holds the bound port once started. ``stop()``
    closes the listener and every open connection; both methods are safe to call twice.
    """

    def __init__(self, app: WSGIApplication, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._requested_port = port
        self._lifecycle = threading.Lock()
        self._server: _WSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._waker: tuple[socket.socket, socket.socket] | None = None
        self._stopping = threading.Event()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

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
                server = _WSGIServer(listener, self.app)
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
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE or getattr(exc, "winerror", None) == 10048:
            raise PortInUseError(host, port) from exc
        raise
    return sock


class _WSGIServer(BaseWSGIServer):
    """werkzeug's server around a listener we bound, with tracked per-connection threads."""

    multithread = True

    def __init__(self, listener: socket.socket, app: WSGIApplication) -> None:
        host, port = listener.getsockname()[:2]
        super().__init__(host, port, app, handler=_Handler, fd=listener.fileno())
        self.socket.setblocking(False)
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._connections_lock = threading.Lock()

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

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name=f"openai-fake-conn:{client_address[1]}",
            daemon=True,
        )
        with self._connections_lock:
            self._connections[request] = thread
        try:
            thread.start()
        except RuntimeError:  # pragma: no cover - can't start new thread
            self.shutdown_request(request)

    def _serve_connection(self, request: socket.socket, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:  # noqa: BLE001 - as socketserver does: report, keep serving
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def forget(self, request: socket.socket) -> None:
        """Untrack a connection before closing it, so stop() never touches a closed socket."""
        with self._connections_lock:
            self._connections.pop(request, None)

    def shutdown_request(self, request: Any) -> None:
        self.forget(request)
        super().shutdown_request(request)

    def close_connections(self, deadline: float) -> None:
        with self._connections_lock:
            connections = list(self._connections.items())
            for sock, _ in connections:
                try:
                    sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in recv()
                except OSError:
                    pass
        current = threading.current_thread()
        for _, thread in connections:
            if thread is not current:
                thread.join(max(0.0, deadline - time.monotonic()))

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], _DISCONNECTS):
            return
        logger.exception("pytest-openai-fake: error while serving %s", client_address)


class _Handler(WSGIRequestHandler):
    """werkzeug's request handler, answering with HTTP/1.1 keep-alive responses."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = IDLE_TIMEOUT
    server: _WSGIServer

    # Per-response state, reset by run_wsgi().
    _status: str | None
    _headers: list[tuple[str, str]]
    _sent: bool
    _streaming: bool
    _chunked: bool
    _pending_head: bytes

    @property
    def server_version(self) -> str:  # type: ignore[override]
        return SERVER_NAME

    # -- logging: silent; disconnects are normal, per-request lines are noise ------------------

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log(self, type: str, message: str, *args: Any) -> None:
        logger.debug("%s: " + message, type, *args)

    # -- one request --------------------------------------------------------------------------

    def run_wsgi(self) -> None:
        self._status = None
        self._headers = []
        self._sent = self._streaming = self._chunked = False
        self._pending_head = b""
        try:
            body = self._read_body()
        except _BadRequest as exc:
            self.close_connection = True
            self._send_error_json(exc.status, exc.message)
            return
        except _DISCONNECTS:
            self.close_connection = True
            return

        environ = self.make_environ()
        environ["wsgi.input"] = io.BytesIO(body)
        environ["wsgi.input_terminated"] = True
        environ["CONTENT_LENGTH"] = str(len(body))

        app_iter: Iterable[bytes] | None = None
        try:
            app_iter = self.server.app(environ, self._start_response)
            self._respond(app_iter, environ)
        except DropConnection:
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
            close = getattr(app_iter, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:
                    logger.exception("pytest-openai-fake: closing the response body failed")

    def _read_body(self) -> bytes:
        """Read the whole request body, so the next request starts at a message boundary."""
        transfer_encoding = self.headers.get("Transfer-Encoding")
        if transfer_encoding is not None:
            codings = [c.strip().lower() for c in transfer_encoding.split(",")]
            if codings[-1] != "chunked":
                raise _BadRequest(400, f"Unsupported Transfer-Encoding: {transfer_encoding}")
            return _read_chunked(self.rfile)
        lengths = self.headers.get_all("Content-Length") or []
        if not lengths:
            return b""
        if len(set(lengths)) != 1 or not (lengths[0].isascii() and lengths[0].isdigit()):
            raise _BadRequest(400, "Invalid Content-Length header")
        length = int(lengths[0])
        if length > MAX_REQUEST_BODY:
            raise _BadRequest(413, "Request body too large")
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            raise _ClientGone("request body cut short")
        return body

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
        """Cut the connection: RST, no further bytes (used for DropConnection)."""
        self.close_connection = True
        sock = self.connection
        self.server.forget(sock)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        except OSError:
            pass
        # rfile holds a reference to the socket; close both so the descriptor really closes.
        self.rfile.close()
        sock.close()

    def parse_request(self) -> bool:
        """``BaseHTTPRequestHandler.parse_request`` with a faster header parser.

        The stdlib runs request headers through the ``email`` package's feed parser, which
        costs ~100 µs a request; the server shares the GIL with the test calling it, so that
        time is added to every call. Headers here are read line by line into the same
        ``http.client.HTTPMessage`` type (werkzeug's ``make_environ`` reads ``items()``).
        """
        self.command = None
        self.request_version = version = self.default_request_version
        self.close_connection = True
        requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        self.requestline = requestline
        words = requestline.split()
        if not words:
            return False
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
        headers = http.client.HTTPMessage()
        for _ in range(MAX_HEADERS + 1):
            line = self.rfile.readline(MAX_HEADER_LINE + 1)
            if len(line) > MAX_HEADER_LINE:
                self.send_error(431, "Line too long")
                return False
            if line in (b"\r\n", b"\n", b""):
                break
            text = line.decode("iso-8859-1")
            name, colon, value = text.partition(":")
            # RFC 9112 5.2: a server may reject obsolete line folding (a line starting with
            # white space) with a 400, as it does a line without a name.
            if not colon or not name or name != name.strip():
                self.send_error(400, f"Bad header line ({text.strip()!r})")
                return False
            headers[name] = value.strip()
        else:
            self.send_error(431, "Too many headers")
            return False
        self.headers = headers
        connection = headers.get("Connection", "").lower()
        if connection == "close":
            self.close_connection = True
        elif connection == "keep-alive":
            self.close_connection = False
        if headers.get("Expect", "").lower() == "100-continue" and self.request_version >= "HTTP/1.1":
            return self.handle_expect_100()
        return True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol errors found by http.server (bad request line, ...): JSON, then close."""
        self.close_connection = True
        if not hasattr(self, "request_version") or not self.request_version:
            self.request_version = "HTTP/1.0"
        self._send_error_json(code, message or _reason(code))


def _read_chunked(rfile: IO[bytes] | io.BufferedIOBase) -> bytes:
    """Read a ``Transfer-Encoding: chunked`` request body (extensions and trailers ignored)."""
    parts: list[bytes] = []
    total = 0
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
                    return b"".join(parts)
            raise _BadRequest(400, "Too many trailer fields")
        total += size
        if total > MAX_REQUEST_BODY:
            raise _BadRequest(413, "Request body too large")
        data = rfile.read(size)
        if len(data) < size:
            raise _ClientGone("chunked body cut short")
        parts.append(data)
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
