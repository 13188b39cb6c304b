"""HTTP/2 over TLS (ALPN ``h2``): many streams on one connection, each served by the same WSGI app.

``server.py`` hands a TLS connection that negotiated ``h2`` to ``serve()``; the protocol itself
(frames, HPACK, flow control, stream states) is the ``h2`` library's (the optional extra
``pytest-openai-fake[http2]``), driven here sans-I/O.

Threads: the connection's thread owns the socket and the ``h2`` state machine: it alone reads,
writes and calls ``h2`` (OpenSSL does not allow two threads on one TLS connection). Each request
runs the app in a thread of its own (the app may wait: scripted delays, slow streams, a long
upload of another stream), and hands its reply to the connection thread through the stream's
outbox, waking it through a socketpair. A stream's worker waits while more than ``HIGH_WATER``
bytes of its reply are not yet sent (the client's flow-control window decides), at most
``send_timeout`` plus the size at ``min_transfer_rate``; then the stream is reset.

What maps to what, compared with HTTP/1.1 (``server.py``):

* ``errors.DropConnection`` (``drop()``, ``cut_stream``) resets the *stream* (RST_STREAM
  INTERNAL_ERROR); other streams on the connection carry on. An exception in the app before the
  reply started is a 500 with OpenAI's error envelope; after it started, a stream reset.
* A client's RST_STREAM ends that stream's worker at its next write (the app's body is closed).
* Limits: a request body over ``max_request_body`` is a 413 (on its ``content-length``, before
  any byte is read, or as soon as the data passes it) and the stream is reset; a body that does
  not arrive within ``body_timeout`` plus its size at ``min_transfer_rate`` is a 408; a connection
  with no open stream is closed (GOAWAY) after ``idle_timeout``; one whose reply bytes the client
  does not read for ``send_timeout`` is closed. At most ``MAX_CONCURRENT_STREAMS`` streams at once
  (announced in SETTINGS; ``h2`` enforces it).
* Responses: ``:status`` and the app's headers, lowercased, without the connection-specific
  ones (``connection``, ``transfer-encoding``, ``keep-alive``); a reply of known size goes out
  as one HEADERS and as few DATA frames as flow control allows; a generator (SSE) as one DATA
  frame per item the app yields, as it yields it.
"""

from __future__ import annotations

import io
import json
import logging
import selectors
import socket
import ssl
import sys
import threading
import time
from collections import deque
from itertools import chain
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings

from .errors import DropConnection, server_error

if TYPE_CHECKING:
    from .server import _WSGIServer

__all__ = ["serve"]

logger = logging.getLogger("pytest_openai_fake.http2")

MAX_CONCURRENT_STREAMS = 100
#: Stream and connection receive windows: large uploads need few WINDOW_UPDATE round trips.
STREAM_WINDOW = 1024 * 1024
CONNECTION_WINDOW = 16 * 1024 * 1024
#: Reply bytes a stream may have queued before its worker waits for the client to read.
HIGH_WATER = 1024 * 1024
#: Largest TLS write at once (a retried SSL_write must not shrink: only appended to).
WRITE_SIZE = 256 * 1024
READ_SIZE = 256 * 1024
JOIN_TIMEOUT = 1.0
_HOP_BY_HOP = frozenset({"connection", "transfer-encoding", "keep-alive", "proxy-connection", "upgrade"})
_NO_BODY_STATUSES = frozenset({204, 304})


class _StreamGone(Exception):
    """The stream was reset (by the client or a deadline) or the connection closed."""


class _Stream:
    """One request/response exchange. Fields below ``# shared`` are guarded by the connection's lock."""

    __slots__ = (
        "body",
        "deadline",
        "ended",
        "finished",
        "gone",
        "headers",
        "id",
        "outbox",
        "queued",
        "replied",
        "reset_code",
        "size",
        "worker",
    )

    def __init__(self, stream_id: int, headers: list[tuple[bytes, bytes]], deadline: float) -> None:
        self.id = stream_id
        self.headers = headers
        self.body: list[bytes] = []
        self.size = 0
        self.deadline = deadline  # the request must be complete by then (connection thread only)
        self.ended = False  # the request is complete
        self.worker: threading.Thread | None = None
        # shared
        self.outbox: deque[tuple[Any, ...]] = deque()  # ("headers", list, end) / ("data", bytes, end) / ("reset", code)
        self.queued = 0  # reply bytes posted but not yet handed to h2
        self.replied = False  # the headers went out (connection thread)
        self.finished = False  # END_STREAM or RST_STREAM sent: nothing more goes out
        self.gone = False  # reset or the connection closed: the worker stops
        self.reset_code: int | None = None


class _Connection:
    def __init__(self, sock: ssl.SSLSocket, client_address: Any, server: _WSGIServer) -> None:
        self.sock = sock
        self.client_address = client_address
        self.server = server
        self.limits = server.limits
        self.h2 = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding=None))
        self.streams: dict[int, _Stream] = {}
        self.lock = threading.Condition(threading.Lock())
        self.ready: deque[_Stream] = deque()  # streams with something in their outbox (shared)
        self.waker_r, self.waker_w = socket.socketpair()
        self.waker_r.setblocking(False)
        self.woken = False  # shared: a wake-up byte is in flight
        self.out = bytearray()
        self.closed = False
        self.closing = False  # GOAWAY sent or received: close when the open streams are done
        self.workers: list[threading.Thread] = []
        self.last_read = self.last_write = time.monotonic()

    # -- the connection thread ----------------------------------------------------------------

    def run(self) -> None:
        h2c = self.h2
        h2c.local_settings = h2.settings.Settings(
            client=False,
            initial_values={
                h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: MAX_CONCURRENT_STREAMS,
                h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: STREAM_WINDOW,
                h2.settings.SettingCodes.ENABLE_PUSH: 0,
            },
        )
        h2c.initiate_connection()
        h2c.increment_flow_control_window(CONNECTION_WINDOW - 65535)
        self.out += h2c.data_to_send()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, True)
        self.sock.setblocking(False)
        selector = selectors.DefaultSelector()
        try:
            selector.register(self.sock, selectors.EVENT_READ, "sock")
            selector.register(self.waker_r, selectors.EVENT_READ, "waker")
            writing = False
            while not self.closed:
                self._write()
                if writing != bool(self.out):
                    writing = bool(self.out)
                    selector.modify(self.sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if writing else 0), "sock")
                if self.closing and not self.streams and not self.out:
                    break
                # Decrypted bytes may wait inside the TLS object, where select() cannot see them.
                timeout = 0.0 if self.sock.pending() else self._timeout()
                events = selector.select(timeout)
                if self.sock.pending():
                    self._read()
                for key, mask in events:
                    if key.data == "waker":
                        self._drain_waker()
                    elif mask & selectors.EVENT_READ:
                        self._read()
                self._take_replies()
                self._check_deadlines()
                self.out += h2c.data_to_send()
        finally:
            selector.close()
            self._close()

    def _timeout(self) -> float:
        now = time.monotonic()
        if self.out:
            return max(0.0, self.last_write + self.limits.send_timeout - now)
        deadlines = [s.deadline for s in self.streams.values() if not s.ended]
        if not self.streams:
            deadlines.append(self.last_read + self.limits.idle_timeout)
        return max(0.0, min(deadlines) - now) if deadlines else self.limits.idle_timeout

    def _read(self) -> None:
        for _ in range(64):  # bounded: replies get their turn
            try:
                data = self.sock.recv(READ_SIZE)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError, InterruptedError):
                return
            except OSError:  # reset, TLS error, or shut down by stop()
                self.closed = True
                return
            if not data:
                self.closed = True
                return
            self.last_read = time.monotonic()
            self._receive(data)
            if self.closed:
                return

    def _write(self) -> None:
        while self.out:
            try:
                sent = self.sock.send(bytes(self.out[:WRITE_SIZE]))
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError, InterruptedError):
                return
            except OSError:
                self.closed = True
                self.out.clear()
                return
            del self.out[:sent]
            self.last_write = time.monotonic()

    def _drain_waker(self) -> None:
        """Empty the waker, then let workers wake the loop again. In that order: a byte a worker
        sends while the waker is drained would be lost with ``woken`` still set, and every later
        post would wait (until the idle timeout) for a wake that never comes. A post that sees
        ``woken`` set before it is cleared here is taken by ``_take_replies`` right after."""
        try:
            while self.waker_r.recv(4096):
                pass
        except (BlockingIOError, InterruptedError, OSError):
            pass
        with self.lock:
            self.woken = False

    def _receive(self, data: bytes) -> None:
        try:
            events = self.h2.receive_data(data)
        except h2.exceptions.ProtocolError as exc:  # h2 has queued a GOAWAY
            logger.debug("pytest-openai-fake: HTTP/2 protocol error from %s: %s", self.client_address, exc)
            self.closing = True
            self._abandon_all()
            return
        for event in events:
            if isinstance(event, h2.events.RequestReceived):
                self._request(event)
            elif isinstance(event, h2.events.DataReceived):
                self._data(event)
            elif isinstance(event, h2.events.StreamEnded):
                self._ended(event.stream_id)
            elif isinstance(event, h2.events.StreamReset):
                self._abandon(event.stream_id)
            elif isinstance(event, h2.events.ConnectionTerminated):
                self.closing = True  # the client's GOAWAY: it opens no more streams
        self.out += self.h2.data_to_send()

    def _request(self, event: h2.events.RequestReceived) -> None:
        limits = self.limits
        headers = list(event.headers or ())
        stream = _Stream(event.stream_id, headers, time.monotonic() + limits.body_timeout)
        self.streams[stream.id] = stream
        length = _header(headers, b"content-length")
        if length is not None and length.isdigit():
            if int(length) > limits.max_request_body:
                self._refuse(stream, 413, f"Request body too large: {int(length)} bytes is over the limit of {limits.max_request_body} bytes.")
                return
            stream.deadline += limits.transfer_time(int(length))

    def _data(self, event: h2.events.DataReceived) -> None:
        try:
            self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        except h2.exceptions.StreamClosedError:
            pass
        stream = self.streams.get(event.stream_id)
        if stream is None or stream.ended or stream.finished:
            return  # refused already: its bytes are discarded
        data = event.data or b""
        stream.size += len(data)
        limit = self.limits.max_request_body
        if stream.size > limit:
            stream.body.clear()
            self._refuse(stream, 413, f"Request body too large: over the limit of {limit} bytes.")
            return
        stream.body.append(data)
        stream.deadline += self.limits.transfer_time(len(data))

    def _ended(self, stream_id: int) -> None:
        stream = self.streams.get(stream_id)
        if stream is None or stream.finished:
            return
        stream.ended = True
        worker = threading.Thread(target=self._serve, args=(stream,), name=f"openai-fake-h2:{stream_id}", daemon=True)
        stream.worker = worker
        self.workers = [w for w in self.workers if w.is_alive()]
        self.workers.append(worker)
        worker.start()

    def _refuse(self, stream: _Stream, status: int, message: str, type_: str = "invalid_request_error") -> None:
        """Answer a stream from the connection thread (413, 408) and stop reading its body."""
        body = _error_body(message, type_)
        try:
            self.h2.send_headers(stream.id, _response_headers(status, [("content-type", "application/json")], len(body)))
            self._send_data(stream, body, end=True)
            if not stream.ended:  # RFC 9113 8.1: a complete reply, then RST_STREAM NO_ERROR stops the upload
                self.h2.reset_stream(stream.id, h2.errors.ErrorCodes.NO_ERROR)
        except h2.exceptions.ProtocolError:
            pass
        stream.ended = stream.finished = True
        self._forget(stream)

    def _send_data(self, stream: _Stream, data: bytes, *, end: bool) -> bytes:
        """Hand ``data`` to h2 as far as flow control allows; returns what is left."""
        view = memoryview(data)
        while view:
            window = min(self.h2.local_flow_control_window(stream.id), self.h2.max_outbound_frame_size)
            if window <= 0:
                return bytes(view)
            chunk, view = view[:window], view[window:]
            self.h2.send_data(stream.id, bytes(chunk), end_stream=end and not view)
        if end and not data:
            self.h2.end_stream(stream.id)
        return b""

    def _take_replies(self) -> None:
        """Move what workers posted into h2, as far as each stream's window allows."""
        with self.lock:
            ready = list(dict.fromkeys(self.ready))
            self.ready.clear()
        # Streams blocked by flow control are retried on every pass (a WINDOW_UPDATE arrived, maybe).
        blocked = [s for s in self.streams.values() if s.outbox and s not in ready]
        progressed = False
        for stream in (*ready, *blocked):
            progressed |= self._pump(stream)
        if progressed:
            with self.lock:
                self.lock.notify_all()

    def _pump(self, stream: _Stream) -> bool:
        moved = False
        while True:
            with self.lock:
                if not stream.outbox or stream.finished:
                    stream.outbox.clear()
                    break
                item = stream.outbox[0]
            try:
                if item[0] == "reset":
                    self.h2.reset_stream(stream.id, item[1])
                    stream.finished = True
                elif item[0] == "headers":
                    self.h2.send_headers(stream.id, item[1], end_stream=item[2])
                    stream.replied = True
                    stream.finished = item[2]
                else:
                    left = self._send_data(stream, item[1], end=item[2])
                    sent = len(item[1]) - len(left)
                    with self.lock:
                        stream.queued -= sent
                        if left:
                            stream.outbox[0] = ("data", left, item[2])
                    moved = moved or sent > 0
                    if left:
                        return moved
                    stream.finished = item[2]
            except h2.exceptions.ProtocolError:  # reset by the client meanwhile, or closed
                stream.finished = True
            with self.lock:
                if stream.outbox and stream.outbox[0] is item:
                    stream.outbox.popleft()
            moved = True
        if stream.finished:
            self._forget(stream)
        return moved

    def _forget(self, stream: _Stream) -> None:
        if stream.finished and (stream.ended or stream.reset_code is not None):
            self.streams.pop(stream.id, None)

    def _abandon(self, stream_id: int) -> None:
        """The client reset the stream: its worker stops at its next write."""
        stream = self.streams.pop(stream_id, None)
        if stream is None:
            return
        with self.lock:
            stream.gone = stream.finished = True
            stream.outbox.clear()
            self.lock.notify_all()

    def _abandon_all(self) -> None:
        with self.lock:
            for stream in self.streams.values():
                stream.gone = True
                stream.outbox.clear()
            self.lock.notify_all()
        self.streams.clear()

    def _check_deadlines(self) -> None:
        now = time.monotonic()
        if self.out and now - self.last_write > self.limits.send_timeout:
            logger.debug("pytest-openai-fake: HTTP/2 client %s stopped reading; closing", self.client_address)
            self.closed = True
            return
        for stream in list(self.streams.values()):
            if not stream.ended and now > stream.deadline:
                limits = self.limits
                self._refuse(
                    stream,
                    408,
                    f"Request timed out: the request body did not arrive within {limits.body_timeout:g} s "
                    f"plus its size at {limits.min_transfer_rate:g} bytes/s.",
                    "timeout",
                )
        if not self.streams and not self.closing and now - self.last_read > self.limits.idle_timeout:
            self.h2.close_connection()
            self.closing = True

    def _close(self) -> None:
        self.closed = True
        self._abandon_all()
        for sock in (self.waker_r, self.waker_w):
            sock.close()
        deadline = time.monotonic() + JOIN_TIMEOUT
        for worker in self.workers:
            worker.join(max(0.0, deadline - time.monotonic()))

    # -- a stream's worker thread -------------------------------------------------------------

    def _post(self, stream: _Stream, item: tuple[Any, ...], size: int = 0) -> None:
        """Queue a reply item for the connection thread; wait while too much is queued."""
        with self.lock:
            if stream.gone or self.closed:
                raise _StreamGone
            stream.outbox.append(item)
            stream.queued += size
            self.ready.append(stream)
            wake = not self.woken
            self.woken = True
            if stream.queued > HIGH_WATER:
                deadline = time.monotonic() + self.limits.send_timeout + self.limits.transfer_time(stream.queued)
            else:
                deadline = None
        if wake:
            try:
                self.waker_w.send(b"\0")
            except OSError:
                raise _StreamGone from None
        if deadline is None:
            return
        with self.lock:
            while stream.queued > HIGH_WATER and not stream.gone and not self.closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    stream.gone = True
                    logger.debug("pytest-openai-fake: HTTP/2 stream %d: the client did not read the reply in time", stream.id)
                    break
                self.lock.wait(remaining)
            if stream.gone or self.closed:
                raise _StreamGone

    def _serve(self, stream: _Stream) -> None:
        environ = self._environ(stream)
        reply: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if exc_info and reply.get("sent"):
                raise exc_info[1].with_traceback(exc_info[2])
            reply["status"], reply["headers"] = status, headers
            return lambda data: write(data)

        def write(data: bytes) -> None:  # PEP 3333's write(): starts a streamed reply
            if not reply.get("sent"):
                send_head(None, end=False)
            if data:
                self._post(stream, ("data", bytes(data), False), len(data))

        def send_head(length: int | None, *, end: bool) -> None:
            code = int(reply["status"][:3])
            reply["sent"] = True
            self._post(stream, ("headers", _response_headers(code, reply["headers"], length), end))

        app_iter: Any = None
        try:
            app_iter = self.server.app(environ, start_response)
            it = iter(app_iter)
            first: list[bytes] = []
            if "status" not in reply:
                item = next(it, None)
                first = [] if item is None else [item]
                if "status" not in reply:
                    raise RuntimeError("the WSGI app did not call start_response()")
            code = int(reply["status"][:3])
            if reply.get("sent"):  # the app used write(): carry on streaming
                for data in chain(first, it):
                    write(data)
                self._post(stream, ("data", b"", True))
            elif environ["REQUEST_METHOD"] == "HEAD" or code < 200 or code in _NO_BODY_STATUSES:
                send_head(None, end=True)
            elif isinstance(app_iter, (list, tuple)) or _content_length(reply["headers"]) is not None:
                body = b"".join(chain(first, it))
                send_head(len(body), end=not body)
                if body:
                    self._post(stream, ("data", body, True), len(body))
            else:
                send_head(None, end=False)
                for data in chain(first, it):  # as the app yields it: never collected first
                    if data:
                        self._post(stream, ("data", bytes(data), False), len(data))
                self._post(stream, ("data", b"", True))
        except _StreamGone:
            pass
        except DropConnection:
            self._reset(stream)
        except Exception as exc:
            if reply.get("sent"):
                logger.exception("pytest-openai-fake: the app failed mid-response (HTTP/2 stream %d); resetting it", stream.id)
                self._reset(stream)
            else:
                logger.exception("pytest-openai-fake: the app raised before responding (HTTP/2 stream %d)", stream.id)
                body = _error_body(server_error(f"unhandled {type(exc).__name__}: {exc}").message, "server_error")
                try:
                    self._post(stream, ("headers", _response_headers(500, [("content-type", "application/json")], len(body)), False))
                    self._post(stream, ("data", body, True), len(body))
                except _StreamGone:
                    pass
        finally:
            from .server import close_body  # server imports this module

            close_body(app_iter)

    def _reset(self, stream: _Stream) -> None:
        """``drop()``, ``cut_stream``: RST_STREAM INTERNAL_ERROR on this stream only, after what
        the app already yielded (a cut stream's first chunks reach the client)."""
        try:
            with self.lock:
                stream.reset_code = h2.errors.ErrorCodes.INTERNAL_ERROR
            self._post(stream, ("reset", h2.errors.ErrorCodes.INTERNAL_ERROR))
        except _StreamGone:
            pass

    def _environ(self, stream: _Stream) -> dict[str, Any]:
        pseudo: dict[bytes, bytes] = {}
        environ: dict[str, Any] = {}
        for raw_name, raw_value in stream.headers:
            if raw_name.startswith(b":"):
                pseudo[raw_name] = raw_value
                continue
            name = raw_name.decode("latin-1")
            if "_" in name:
                continue  # as werkzeug: "_" and "-" both become "_"; never let one pose as the other
            value = raw_value.decode("latin-1")
            key = name.upper().replace("-", "_")
            if key == "CONTENT_LENGTH":
                continue  # the body's real size, below
            if key != "CONTENT_TYPE":
                key = "HTTP_" + key
            if key in environ:  # RFC 9113 8.2.3: cookies are split into several fields
                value = f"{environ[key]}{'; ' if key == 'HTTP_COOKIE' else ','}{value}"
            environ[key] = value
        raw_path = pseudo.get(b":path", b"/").decode("latin-1")
        path, _, query = raw_path.partition("?")
        body = b"".join(stream.body)
        stream.body.clear()
        if b":authority" in pseudo:
            environ["HTTP_HOST"] = pseudo[b":authority"].decode("latin-1")
        address = self.server.server_address
        environ.update(
            {
                "wsgi.version": (1, 0),
                "wsgi.url_scheme": "https",
                "wsgi.input": io.BytesIO(body),
                "wsgi.input_terminated": True,
                "wsgi.errors": sys.stderr,
                "wsgi.multithread": True,
                "wsgi.multiprocess": False,
                "wsgi.run_once": False,
                "SERVER_SOFTWARE": "pytest-openai-fake",
                "REQUEST_METHOD": pseudo.get(b":method", b"GET").decode("latin-1"),
                "SCRIPT_NAME": "",
                "PATH_INFO": unquote(path).encode().decode("latin-1"),
                "QUERY_STRING": query,
                "REQUEST_URI": raw_path,
                "RAW_URI": raw_path,
                "REMOTE_ADDR": self.client_address[0],
                "REMOTE_PORT": self.client_address[1],
                "SERVER_NAME": address[0],
                "SERVER_PORT": str(address[1]),
                "SERVER_PROTOCOL": "HTTP/2",
                "CONTENT_LENGTH": str(len(body)),
            }
        )
        return environ


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:
        if key == name:
            return value
    return None


def _content_length(headers: list[tuple[str, str]]) -> int | None:
    for name, value in headers:
        if name.lower() == "content-length":
            return int(value)
    return None


def _response_headers(status: int, headers: list[tuple[str, str]], length: int | None) -> list[tuple[str, str]]:
    from .server import SERVER_NAME, _http_date

    out = [(":status", str(status))]
    names = set()
    for name, value in headers:
        lowered = name.lower()
        names.add(lowered)
        if lowered in _HOP_BY_HOP or (lowered == "content-length" and length is not None):
            continue
        out.append((lowered, value))
    if "server" not in names:
        out.append(("server", SERVER_NAME))
    if "date" not in names:
        out.append(("date", _http_date()))
    if length is not None:
        out.append(("content-length", str(length)))
    return out


def _error_body(message: str, type_: str) -> bytes:
    return json.dumps({"error": {"message": message, "type": type_, "param": None, "code": None}}).encode()


def serve(sock: ssl.SSLSocket, client_address: Any, server: _WSGIServer) -> None:
    """Serve an HTTP/2 connection until the client or ``stop()`` closes it, or a deadline passes."""
    _Connection(sock, client_address, server).run()
