"""ServerThread: keep-alive, framing, request bodies, faults and lifecycle, over real loopback HTTP.

These use ServerThread directly with small WSGI apps (no plugin fixtures) and talk to it with
the real ``openai`` SDK, ``httpx2`` or raw sockets. Every wait is bounded.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
import time
import tracemalloc
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import httpx2
import openai
import pytest

from pytest_openai_fake import server as server_module
from pytest_openai_fake.errors import DropConnection
from pytest_openai_fake.server import PortInUseError, ServerThread

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
TIMEOUT = 5.0

COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "gpt-4o",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "hi", "refusal": None},
            "finish_reason": "stop",
            "logprobs": None,
        }
    ],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}
COMPLETION_BYTES = json.dumps(COMPLETION).encode()
MESSAGES: Any = [{"role": "user", "content": "hi"}]


@pytest.fixture
def serve() -> Iterator[Callable[..., ServerThread]]:
    """Start a ServerThread for an app (keyword arguments: its limits); all are stopped at teardown."""
    servers: list[ServerThread] = []

    def start(app: WSGIApp, **limits: Any) -> ServerThread:
        server = ServerThread(app, **limits)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def http() -> Iterator[httpx2.Client]:
    with httpx2.Client(timeout=TIMEOUT) as client:
        yield client


def sdk_client(server: ServerThread) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0, timeout=TIMEOUT)


class PeerRecorder:
    """A JSON app that records the client's port for every request (the server's view)."""

    def __init__(self, body: bytes = COMPLETION_BYTES) -> None:
        self.body = body
        self.peer_ports: list[int] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        self.peer_ports.append(int(environ["REMOTE_PORT"]))
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(self.body)))])
        return [self.body]


def body_digest_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Reads the whole body and answers its length, sha256 and the client port."""
    data = environ["wsgi.input"].read()
    payload = json.dumps(
        {
            "length": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "peer": int(environ["REMOTE_PORT"]),
            "content_length": environ.get("CONTENT_LENGTH"),
            "transfer_encoding": environ.get("HTTP_TRANSFER_ENCODING"),
        }
    ).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [payload]  # a list without Content-Length: the server adds it


def raw_request(port: int, data: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    sock.sendall(data)
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    chunks = []
    for _ in range(10_000):
        chunk = sock.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def read_one_response(sock: socket.socket) -> tuple[bytes, dict[str, str], bytes]:
    """Read one Content-Length-framed response: (status line, lower-cased headers, body).

    Reads byte-exactly (no read-ahead), so pipelined responses stay on the socket.
    """
    head = b""
    for _ in range(65536):
        if head.endswith(b"\r\n\r\n"):
            break
        byte = sock.recv(1)
        assert byte, f"connection closed mid-response: {head!r}"
        head += byte
    status, *lines = head[:-4].decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    length = int(headers["content-length"])
    body = b""
    for _ in range(10_000):
        if len(body) >= length:
            break
        chunk = sock.recv(length - len(body))
        assert chunk, "connection closed mid-body"
        body += chunk
    return status.encode(), headers, body


# -- keep-alive and framing ---------------------------------------------------------------------


def test_sdk_calls_reuse_one_connection(serve: Callable[[WSGIApp], ServerThread]) -> None:
    app = PeerRecorder()
    server = serve(app)
    client = sdk_client(server)

    for _ in range(5):
        completion = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        assert completion.choices[0].message.content == "hi"

    assert len(app.peer_ports) == 5
    assert len(set(app.peer_ports)) == 1, "every call should ride the same keep-alive connection"


def test_response_headers_allow_keep_alive(serve: Callable[[WSGIApp], ServerThread], http: httpx2.Client) -> None:
    server = serve(PeerRecorder())

    response = http.get(server.url + "/v1/anything")

    assert response.status_code == 200
    assert response.headers["content-length"] == str(len(COMPLETION_BYTES))
    assert "transfer-encoding" not in response.headers
    assert response.headers.get("connection", "").lower() != "close"
    assert response.content == COMPLETION_BYTES


def test_list_body_without_content_length_gets_one(
    serve: Callable[[WSGIApp], ServerThread], http: httpx2.Client
) -> None:
    server = serve(body_digest_app)

    response = http.get(server.url + "/")

    assert response.headers["content-length"] == str(len(response.content))
    assert "transfer-encoding" not in response.headers


def test_app_date_and_server_headers_are_not_duplicated(serve: Callable[[WSGIApp], ServerThread]) -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response(
            "200 OK",
            [("Date", "Thu, 01 Jan 1970 00:00:00 GMT"), ("Server", "fake"), ("Content-Length", "0")],
        )
        return []

    server = serve(app)
    with raw_request(server.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") as sock:
        head = b""
        for _ in range(1000):
            if head.endswith(b"\r\n\r\n"):
                break
            head += sock.recv(1)

    assert head.lower().count(b"\r\ndate:") == 1
    assert b"\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\n" in head
    assert head.lower().count(b"\r\nserver:") == 1
    assert b"\r\nServer: fake\r\n" in head


def test_non_streamed_reply_is_one_write(
    serve: Callable[[WSGIApp], ServerThread], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Status line, headers and body go out in a single socket write."""
    writes: list[bytes] = []
    original_setup = server_module._Handler.setup

    def counting_setup(self: Any) -> None:
        original_setup(self)
        raw_write: Callable[[bytes], int] = self.wfile.write

        def write(data: bytes) -> int:
            writes.append(bytes(data))
            return raw_write(data)

        self.wfile.write = write

    monkeypatch.setattr(server_module._Handler, "setup", counting_setup)
    server = serve(PeerRecorder())

    with raw_request(server.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") as sock:
        _, _, body = read_one_response(sock)

    assert body == COMPLETION_BYTES
    assert len(writes) == 1
    assert writes[0].startswith(b"HTTP/1.1 200 OK\r\n") and writes[0].endswith(COMPLETION_BYTES)


def test_nodelay_on_accepted_sockets(serve: Callable[[WSGIApp], ServerThread]) -> None:
    seen: list[int] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        sock = environ["werkzeug.socket"]
        seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        start_response("204 No Content", [])
        return []

    server = serve(app)
    with raw_request(server.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") as sock:
        assert sock.recv(65536).startswith(b"HTTP/1.1 204")

    assert seen and seen[0] != 0


def test_head_and_204_keep_the_connection(serve: Callable[[WSGIApp], ServerThread]) -> None:
    app = PeerRecorder()
    server = serve(app)

    with raw_request(server.port, b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n") as sock:
        data = b""
        for _ in range(100):
            data += sock.recv(65536)
            if data.endswith(b"\r\n\r\n"):
                break
        assert data.startswith(b"HTTP/1.1 200 OK")
        assert f"Content-Length: {len(COMPLETION_BYTES)}".encode() in data
        assert not data.partition(b"\r\n\r\n")[2], "HEAD replies carry no body"
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        _, _, body = read_one_response(sock)

    assert body == COMPLETION_BYTES
    assert len(set(app.peer_ports)) == 1


def test_client_connection_close_is_honoured(serve: Callable[[WSGIApp], ServerThread]) -> None:
    server = serve(PeerRecorder())

    with raw_request(server.port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") as sock:
        data = read_until_closed(sock)

    assert data.startswith(b"HTTP/1.1 200 OK")
    assert b"\r\nConnection: close\r\n" in data
    assert data.endswith(COMPLETION_BYTES)


def test_http10_client_gets_a_closed_connection(serve: Callable[[WSGIApp], ServerThread]) -> None:
    server = serve(PeerRecorder())

    with raw_request(server.port, b"GET / HTTP/1.0\r\n\r\n") as sock:
        data = read_until_closed(sock)

    assert b"\r\nContent-Length: " in data
    assert data.endswith(COMPLETION_BYTES)


def test_http10_stream_is_close_delimited(serve: Callable[[WSGIApp], ServerThread]) -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/event-stream")])
        yield b"data: 1\n\n"
        yield b"data: 2\n\n"

    server = serve(app)
    with raw_request(server.port, b"GET / HTTP/1.0\r\n\r\n") as sock:
        data = read_until_closed(sock)

    head, _, body = data.partition(b"\r\n\r\n")
    assert b"chunked" not in head.lower()
    assert body == b"data: 1\n\ndata: 2\n\n"


# -- streaming ----------------------------------------------------------------------------------


def test_first_chunk_arrives_before_the_generator_finishes(
    serve: Callable[[WSGIApp], ServerThread], http: httpx2.Client
) -> None:
    release = threading.Event()
    released_in_time: list[bool] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/event-stream")])
        yield b"data: first\n\n"
        released_in_time.append(release.wait(TIMEOUT))
        yield b"data: second\n\n"

    server = serve(app)
    with http.stream("GET", server.url + "/stream") as response:
        assert response.headers["transfer-encoding"] == "chunked"
        assert "content-length" not in response.headers
        chunks = response.iter_raw()
        assert next(chunks) == b"data: first\n\n"
        release.set()
        rest = b"".join(chunks)

    assert rest == b"data: second\n\n"
    assert released_in_time == [True], "the first chunk was held back until the generator finished"


def test_sdk_stream_over_chunked_sse(serve: Callable[[WSGIApp], ServerThread]) -> None:
    def event(content: str, finish: str | None) -> bytes:
        chunk = {
            "id": "chatcmpl-1",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "gpt-4o",
            "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": finish, "logprobs": None}],
        }
        return b"data: " + json.dumps(chunk).encode() + b"\n\n"

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Type", "text/event-stream")])
        yield event("Hel", None)
        yield b""  # empty items must not end the chunked body
        yield event("lo", "stop")
        yield b"data: [DONE]\n\n"

    server = serve(app)
    client = sdk_client(server)

    for _ in range(2):  # and the connection is reusable afterwards
        stream = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
        assert "".join(c.choices[0].delta.content or "" for c in stream) == "Hello"


def test_start_response_inside_the_generator(serve: Callable[[WSGIApp], ServerThread], http: httpx2.Client) -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        start_response("201 Created", [("Content-Type", "text/plain")])
        yield b"made"

    server = serve(app)
    response = http.post(server.url + "/")

    assert response.status_code == 201
    assert response.text == "made"


# -- request bodies -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 8191, 8192, 65537, 1_000_003])
def test_request_bodies_are_read_fully(
    serve: Callable[[WSGIApp], ServerThread], http: httpx2.Client, size: int
) -> None:
    server = serve(body_digest_app)
    payload = bytes(i % 251 for i in range(size))

    first = http.post(server.url + "/upload", content=payload).json()
    second = http.post(server.url + "/upload", content=b"next").json()

    assert first["length"] == size
    assert first["sha256"] == hashlib.sha256(payload).hexdigest()
    assert second["length"] == 4
    assert second["peer"] == first["peer"], "the next request should reuse the connection"


def test_unread_request_body_does_not_leak_into_the_next_request(
    serve: Callable[[WSGIApp], ServerThread], http: httpx2.Client
) -> None:
    app = PeerRecorder()  # never reads wsgi.input
    server = serve(app)

    for size in (10, 100_000, 0):
        response = http.post(server.url + "/ignore", content=b"x" * size)
        assert response.content == COMPLETION_BYTES

    assert len(set(app.peer_ports)) == 1


def test_chunked_request_body(serve: Callable[[WSGIApp], ServerThread], http: httpx2.Client) -> None:
    server = serve(body_digest_app)
    parts = [b"a" * 10, b"b" * 70_000, b"", b"c"]

    first = http.post(server.url + "/upload", content=iter(parts)).json()
    second = http.post(server.url + "/upload", content=b"next").json()

    assert first["length"] == 70_011
    assert first["sha256"] == hashlib.sha256(b"".join(parts)).hexdigest()
    assert first["transfer_encoding"] == "chunked"
    assert first["content_length"] == "70011"
    assert second["length"] == 4
    assert second["peer"] == first["peer"]


def test_chunked_request_with_extensions_and_trailers(serve: Callable[[WSGIApp], ServerThread]) -> None:
    server = serve(body_digest_app)
    request = (
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n"
    )

    with raw_request(server.port, request + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") as sock:
        _, _, first = read_one_response(sock)
        _, _, second = read_one_response(sock)

    assert json.loads(first)["sha256"] == hashlib.sha256(b"hello world").hexdigest()
    assert json.loads(second)["length"] == 0


def test_malformed_chunked_body_gets_400_and_close(serve: Callable[[WSGIApp], ServerThread]) -> None:
    server = serve(body_digest_app)
    request = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"

    with raw_request(server.port, request) as sock:
        data = read_until_closed(sock)

    assert data.startswith(b"HTTP/1.1 400")
    assert json.loads(data.partition(b"\r\n\r\n")[2])["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    ("request_head", "status"),
    [
        (b"GARBAGE\r\n\r\n", b"400"),
        (b"GET / HTTP/x.y\r\nHost: x\r\n\r\n", b"400"),
        (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", b"505"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n", b"400"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n folded\r\n\r\n", b"400"),
        (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Many: 1\r\n" * 101 + b"\r\n", b"431"),
    ],
)
def test_malformed_request_heads_get_a_json_error_and_close(
    serve: Callable[[WSGIApp], ServerThread], request_head: bytes, status: bytes
) -> None:
    server = serve(body_digest_app)

    with raw_request(server.port, request_head) as sock:
        data = read_until_closed(sock)

    assert data.startswith(b"HTTP/1.") and data.split(b" ", 2)[1] == status
    assert json.loads(data.partition(b"\r\n\r\n")[2])["error"]["message"]


def test_request_headers_reach_the_app(serve: Callable[[WSGIApp], ServerThread]) -> None:
    seen: dict[str, str] = {}

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        seen.update({k: v for k, v in environ.items() if k.startswith(("HTTP_", "CONTENT_"))})
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]

    server = serve(app)
    request = b"POST /x HTTP/1.1\r\nHost: h\r\nAuthorization:  Bearer sk-1 \r\nX-Dup: a\r\nX-Dup: b\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
    with raw_request(server.port, request) as sock:
        status, _, body = read_one_response(sock)

    assert status.startswith(b"HTTP/1.1 200") and body == b"ok"
    assert seen["HTTP_AUTHORIZATION"] == "Bearer sk-1"
    assert seen["HTTP_X_DUP"] == "a,b"
    assert seen["CONTENT_TYPE"] == "application/json"
    assert seen["CONTENT_LENGTH"] == "2"


# -- faults and errors --------------------------------------------------------------------------


def test_drop_connection_before_reply_is_a_connection_error(serve: Callable[[WSGIApp], ServerThread]) -> None:
    dropping = [True]

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if dropping[0]:
            raise DropConnection()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [COMPLETION_BYTES]

    server = serve(app)
    client = sdk_client(server)

    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    dropping[0] = False
    assert client.chat.completions.create(model="gpt-4o", messages=MESSAGES).id == "chatcmpl-1"


def test_drop_connection_mid_stream(serve: Callable[[WSGIApp], ServerThread], http: httpx2.Client) -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/event-stream")])
        yield b"data: 1\n\n"
        raise DropConnection()

    server = serve(app)
    received = b""
    with (
        pytest.raises((httpx2.RemoteProtocolError, httpx2.ReadError)),
        http.stream("GET", server.url + "/") as response,
    ):
        for chunk in response.iter_raw():
            received += chunk

    assert received == b"data: 1\n\n"


def test_drop_connection_sends_no_bytes(serve: Callable[[WSGIApp], ServerThread]) -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "2")])

        def body() -> Iterator[bytes]:
            raise DropConnection()
            yield b"{}"  # pragma: no cover

        return body()

    server = serve(app)
    with raw_request(server.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") as sock:
        try:
            data = read_until_closed(sock)
        except ConnectionResetError:
            data = b""

    assert data == b""


def test_app_exception_before_reply_is_a_json_500(
    serve: Callable[[WSGIApp], ServerThread], caplog: pytest.LogCaptureFixture
) -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["PATH_INFO"].endswith("/boom"):
            raise RuntimeError("kaboom")
        start_response("200 OK", [("Content-Type", "application/json")])
        return [COMPLETION_BYTES]

    server = serve(app)
    with httpx2.Client(timeout=TIMEOUT) as http:
        response = http.get(server.url + "/v1/boom")
        after = http.get(server.url + "/v1/ok")

    assert response.status_code == 500
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "server_error"
    assert error["param"] is None and error["code"] is None
    assert "kaboom" in error["message"]
    assert after.status_code == 200
    assert "kaboom" in caplog.text


def test_app_exception_mid_stream_closes_the_connection(
    serve: Callable[[WSGIApp], ServerThread], http: httpx2.Client
) -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/event-stream")])
        yield b"data: 1\n\n"
        raise ValueError("mid-stream bug")

    server = serve(app)
    with (
        pytest.raises((httpx2.RemoteProtocolError, httpx2.ReadError)),
        http.stream("GET", server.url + "/") as response,
    ):
        response.read()


def test_client_disconnect_mid_stream_is_silent(
    serve: Callable[[WSGIApp], ServerThread], capfd: pytest.CaptureFixture[str]
) -> None:
    client_gone = threading.Event()
    body_closed = threading.Event()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/event-stream")])
        try:
            yield b"data: 1\n\n"
            client_gone.wait(TIMEOUT)
            for _ in range(50):
                yield b"data: more\n\n"
                time.sleep(0.002)
        finally:
            body_closed.set()

    server = serve(app)
    with raw_request(server.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") as sock:
        assert b"data: 1" in sock.recv(65536)
    client_gone.set()

    assert body_closed.wait(TIMEOUT), "the server should close the body once the client is gone"
    time.sleep(0.05)  # let the handler thread finish unwinding
    out, err = capfd.readouterr()
    assert err == ""
    assert out == ""


def test_no_request_log_lines(
    serve: Callable[[WSGIApp], ServerThread], http: httpx2.Client, capfd: pytest.CaptureFixture[str]
) -> None:
    server = serve(PeerRecorder())
    for _ in range(3):
        http.get(server.url + "/quiet")
    server.stop()

    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


# -- lifecycle ----------------------------------------------------------------------------------


def test_port_in_use() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = ServerThread(PeerRecorder(), port=port)

        with pytest.raises(PortInUseError) as excinfo:
            server.start()

    assert isinstance(excinfo.value, OSError)
    assert str(excinfo.value) == (
        f"pytest-openai-fake: port {port} on 127.0.0.1 is already in use; choose another with "
        "--openai-fake-port or use 0 for an ephemeral port"
    )
    assert not server.running


def test_port_in_use_by_another_server_thread(serve: Callable[[WSGIApp], ServerThread]) -> None:
    first = serve(PeerRecorder())

    with pytest.raises(PortInUseError):
        ServerThread(PeerRecorder(), port=first.port).start()


def test_fixed_port_and_url(serve: Callable[[WSGIApp], ServerThread]) -> None:
    probe = serve(PeerRecorder())
    port = probe.port
    probe.stop()

    server = ServerThread(PeerRecorder(), port=port)
    server.start()
    try:
        assert server.port == port
        assert server.url == f"http://127.0.0.1:{port}"
        assert server.host == "127.0.0.1"
    finally:
        server.stop()


def test_stop_is_fast_with_an_idle_keep_alive_connection(http: httpx2.Client) -> None:
    server = ServerThread(PeerRecorder())
    server.start()
    assert http.get(server.url + "/").status_code == 200  # leaves an idle pooled connection
    idle = raw_request(server.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    read_one_response(idle)

    started = time.perf_counter()
    server.stop()
    elapsed = time.perf_counter() - started

    assert elapsed < 0.2, f"stop() took {elapsed * 1000:.1f} ms"
    assert not server.running
    with idle:
        assert idle.recv(65536) == b"", "stop() should close idle keep-alive connections"
    with pytest.raises(httpx2.ConnectError):
        http.get(server.url + "/")


def test_start_stop_repeatable_and_idempotent(http: httpx2.Client) -> None:
    server = ServerThread(PeerRecorder())
    server.stop()  # before start: no-op
    assert not server.running

    for _ in range(3):
        started = time.perf_counter()
        server.start()
        server.start()  # already running: no-op
        assert time.perf_counter() - started < 1.0
        assert server.running
        assert http.get(server.url + "/").content == COMPLETION_BYTES
        server.stop()
        server.stop()
        assert not server.running


def test_context_manager() -> None:
    with ServerThread(PeerRecorder()) as server:
        assert server.running
        with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT):
            pass
    assert not server.running


def test_concurrent_requests_from_threads(serve: Callable[[WSGIApp], ServerThread]) -> None:
    server = serve(body_digest_app)
    errors: list[BaseException] = []
    results: list[int] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        try:
            with httpx2.Client(timeout=TIMEOUT) as client:
                for n in range(20):
                    payload = f"{index}-{n}".encode() * (n + 1)
                    reply = client.post(server.url + "/", content=payload).json()
                    assert reply["sha256"] == hashlib.sha256(payload).hexdigest()
                    with lock:
                        results.append(index)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)
    assert len(results) == 8 * 20


def test_concurrent_sdk_calls_share_a_client(serve: Callable[[WSGIApp], ServerThread]) -> None:
    app = PeerRecorder()
    server = serve(app)
    client = sdk_client(server)
    ids: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(10):
                ids.append(client.chat.completions.create(model="gpt-4o", messages=MESSAGES).id)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert not errors, errors
    assert ids == ["chatcmpl-1"] * 40
    assert len(set(app.peer_ports)) <= 4, "the pool should keep at most one connection per thread"


# -- limits: request bodies -----------------------------------------------------------------------
#
# These use small limits and deadlines through ServerThread's keyword arguments, so each runs in
# well under a second. Raw sockets where the input is malformed or the client misbehaves.

Serve = Callable[..., ServerThread]


class CountingApp(PeerRecorder):
    """PeerRecorder that reads the body and counts its calls (a refused request never reaches it)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        self.calls += 1
        environ["wsgi.input"].read()
        return super().__call__(environ, start_response)


def read_response_and_close(sock: socket.socket) -> tuple[bytes, dict[str, str], dict[str, Any]]:
    """One JSON reply followed by the server closing: (status line, headers, parsed body)."""
    status, headers, body = read_one_response(sock)
    assert sock.recv(65536) == b"", "the server should close the connection after this reply"
    return status, headers, json.loads(body)


def assert_envelope(body: dict[str, Any], type_: str = "invalid_request_error") -> str:
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == type_
    return str(error["message"])


def threads_since(before: set[threading.Thread]) -> list[threading.Thread]:
    """Live threads that were not in ``before`` (a ``set(threading.enumerate())`` snapshot)."""
    return [thread for thread in threading.enumerate() if thread not in before]


def connection_threads(before: set[threading.Thread]) -> list[threading.Thread]:
    return [thread for thread in threads_since(before) if thread.name.startswith("openai-fake-conn:")]


def wait_for_baseline(before: set[threading.Thread], timeout: float = 2.0) -> list[threading.Thread]:
    """Wait (bounded) until every thread started since ``before`` has ended; return those still alive."""
    deadline = time.monotonic() + timeout
    while (extra := threads_since(before)) and time.monotonic() < deadline:
        time.sleep(0.01)
    return extra


def test_limits_are_constructor_arguments() -> None:
    server = ServerThread(PeerRecorder(), max_request_body=10, max_connections=3, head_timeout=0.5)

    assert server.limits.max_request_body == 10
    assert server.limits.max_connections == 3
    assert server.limits.head_timeout == 0.5
    defaults = ServerThread(PeerRecorder()).limits
    assert (defaults.max_request_body, defaults.max_connections) == (512 * 1024 * 1024, 256)
    assert (defaults.idle_timeout, defaults.head_timeout, defaults.body_timeout, defaults.send_timeout) == (
        120.0,
        30.0,
        30.0,
        30.0,
    )
    assert defaults.min_transfer_rate == 1024 * 1024
    assert defaults.linger_timeout == 2.0
    with pytest.raises(ValueError, match="max_connections"):
        ServerThread(PeerRecorder(), max_connections=0)
    with pytest.raises(ValueError, match="head_timeout"):
        ServerThread(PeerRecorder(), head_timeout=float("inf"))
    with pytest.raises(TypeError, match="max_request_body"):
        ServerThread(PeerRecorder(), max_request_body=1.5)


def test_oversized_content_length_is_refused_before_the_body_is_read(serve: Serve) -> None:
    app = CountingApp()
    server = serve(app, max_request_body=1024)
    head = b"POST /v1/files HTTP/1.1\r\nHost: x\r\nContent-Length: 1025\r\n\r\n"

    with raw_request(server.port, head) as sock:  # no body byte is ever sent
        status, headers, body = read_response_and_close(sock)

    assert status.startswith(b"HTTP/1.1 413")
    assert headers["connection"] == "close"
    message = assert_envelope(body)
    assert message == "Request body too large: 1025 bytes is over the limit of 1024 bytes."
    assert app.calls == 0


def test_body_at_the_limit_is_served(serve: Serve, http: httpx2.Client) -> None:
    server = serve(body_digest_app, max_request_body=1024)

    assert http.post(server.url + "/", content=b"x" * 1024).json()["length"] == 1024
    assert http.post(server.url + "/", content=iter([b"x" * 1000, b"y" * 24])).json()["length"] == 1024


def test_a_client_still_uploading_receives_the_413(serve: Serve) -> None:
    """The server drains the upload instead of closing on it (which would send RST): no broken pipe."""
    server = serve(CountingApp(), max_request_body=1024)
    size = 16 * 1024 * 1024

    with raw_request(server.port, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % size) as sock:
        sock.sendall(b"x" * size)  # BrokenPipeError/ConnectionResetError if the server reset us
        status, _, body = read_response_and_close(sock)

    assert status.startswith(b"HTTP/1.1 413")
    assert_envelope(body)


def test_sdk_upload_over_the_limit_gets_the_413_envelope(serve: Serve) -> None:
    server = serve(CountingApp(), max_request_body=64 * 1024)
    client = sdk_client(server)

    with pytest.raises(openai.APIStatusError) as excinfo:
        client.files.create(file=("big.jsonl", b"x" * (4 * 1024 * 1024)), purpose="batch")

    assert excinfo.value.status_code == 413
    body = excinfo.value.body
    assert isinstance(body, dict)
    assert body["type"] == "invalid_request_error"
    assert (body["param"], body["code"]) == (None, None)
    assert re.fullmatch(r"Request body too large: \d+ bytes is over the limit of 65536 bytes\.", body["message"])


async def test_async_sdk_upload_over_the_limit_gets_the_413(serve: Serve) -> None:
    server = serve(CountingApp(), max_request_body=64 * 1024)
    client = openai.AsyncOpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0, timeout=TIMEOUT)

    async with client:
        with pytest.raises(openai.APIStatusError) as excinfo:
            await client.files.create(file=("big.jsonl", b"x" * (4 * 1024 * 1024)), purpose="batch")

    assert excinfo.value.status_code == 413
    assert "over the limit of 65536 bytes" in excinfo.value.message


def test_chunked_body_is_cut_off_at_the_limit(serve: Serve) -> None:
    """The chunk that would pass the limit is refused when announced, before its data is read."""
    app = CountingApp()
    server = serve(app, max_request_body=1000)
    head = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"

    with raw_request(server.port, head + b"258\r\n" + b"a" * 600 + b"\r\n" + b"258\r\n") as sock:
        status, _, body = read_response_and_close(sock)

    assert status.startswith(b"HTTP/1.1 413")
    assert assert_envelope(body) == "Request body too large: over the limit of 1000 bytes."
    assert app.calls == 0


def test_a_chunked_body_is_held_once(serve: Serve) -> None:
    """Memory: the body is collected in one buffer, not in parts joined into a second copy."""
    size = 8 * 1024 * 1024
    server = serve(CountingApp(), max_request_body=size)
    chunk = b"z" * (256 * 1024)
    request = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    request += (b"%x\r\n%b\r\n" % (len(chunk), chunk)) * (size // len(chunk)) + b"0\r\n\r\n"

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]
        with raw_request(server.port, request) as sock:
            status, _, _ = read_one_response(sock)
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()

    assert status.startswith(b"HTTP/1.1 200")
    assert peak < 1.5 * size, f"serving a {size}-byte body peaked at {peak} bytes"


def test_server_keeps_no_reference_to_the_request_body(serve: Serve) -> None:
    refs: list[weakref.ref[Any]] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        refs.append(weakref.ref(environ["wsgi.input"]))
        environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]

    server = serve(app)
    with raw_request(server.port, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello") as sock:
        read_one_response(sock)
        deadline = time.monotonic() + 1.0  # the handler thread unwinds right after the reply
        while refs[0]() is not None and time.monotonic() < deadline:
            time.sleep(0.005)
        assert refs[0]() is None, "the connection (still open) holds the previous request's body"


# -- RFC 9112 framing ---------------------------------------------------------------------------


def test_expect_100_continue_over_the_limit_gets_413_without_100(serve: Serve) -> None:
    server = serve(CountingApp(), max_request_body=1024)
    head = b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2048\r\n\r\n"

    with raw_request(server.port, head) as sock:
        data = read_until_closed(sock)

    assert data.startswith(b"HTTP/1.1 413"), data[:40]
    assert b"100 Continue" not in data


def test_expect_100_continue_within_the_limit(serve: Serve) -> None:
    server = serve(body_digest_app, max_request_body=1024)
    head = b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"

    with raw_request(server.port, head) as sock:
        interim = b""
        for _ in range(100):
            if interim.endswith(b"\r\n\r\n"):
                break
            interim += sock.recv(1)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"hello")
        status, _, body = read_one_response(sock)

    assert status.startswith(b"HTTP/1.1 200")
    assert json.loads(body)["length"] == 5


def test_content_length_and_transfer_encoding_together_are_refused_and_closed(serve: Serve) -> None:
    app = CountingApp()
    server = serve(app)
    request = (
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n0\r\n\r\n"
        b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
    )

    with raw_request(server.port, request) as sock:
        status, headers, body = read_response_and_close(sock)

    assert status.startswith(b"HTTP/1.1 400")
    assert headers["connection"] == "close"
    assert "both Content-Length and Transfer-Encoding" in assert_envelope(body)
    assert app.calls == 0


@pytest.mark.parametrize(
    ("transfer_encoding", "status"),
    [
        (b"gzip, chunked", b"501"),
        (b"deflate,chunked", b"501"),
        (b"gzip", b"400"),
        (b"chunked, gzip", b"400"),
        (b"chunked, chunked", b"400"),
        (b"identity", b"400"),
    ],
)
def test_transfer_codings_other_than_chunked_are_refused(serve: Serve, transfer_encoding: bytes, status: bytes) -> None:
    app = CountingApp()
    server = serve(app)
    request = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: %b\r\n\r\n5\r\nhello\r\n0\r\n\r\n" % transfer_encoding

    with raw_request(server.port, request) as sock:
        status_line, _, body = read_response_and_close(sock)

    assert status_line.split(b" ")[1] == status
    assert transfer_encoding.decode() in assert_envelope(body)
    assert app.calls == 0


def test_transfer_encoding_in_http10_is_refused(serve: Serve) -> None:
    server = serve(CountingApp())
    request = b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"

    with raw_request(server.port, request) as sock:
        status, _, body = read_response_and_close(sock)

    assert status.split(b" ")[1] == b"400"
    assert "HTTP/1.0" in assert_envelope(body)


# -- request heads (RFC 9112 2-5) ----------------------------------------------------------------


@pytest.mark.parametrize(
    "partial_head",
    [
        b"POS",
        b"POST / HTTP/1.1",
        b"POST / HTTP/1.1\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-",
        b"POST / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer x\r\n",
        b"\r\nGET / HTTP/1.1\r\nHost: x\r",
    ],
)
def test_a_request_head_cut_off_by_eof_is_dropped_unanswered(serve: Serve, partial_head: bytes) -> None:
    app = CountingApp()
    server = serve(app)

    with raw_request(server.port, partial_head) as sock:
        sock.shutdown(socket.SHUT_WR)  # EOF: the client is gone before its head ended
        data = read_until_closed(sock)

    assert data == b"", "nobody is there to read an answer"
    assert app.calls == 0, "a half request must not reach the app"


@pytest.mark.parametrize(
    ("head", "message"),
    [
        (b"GET / HTTP/1.1\r\n", "Missing Host header"),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n", "More than one Host header"),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nhost: b\r\n", "More than one Host header"),
        (b"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n", "More than one Host header"),
        (b"GET / HTTP/1.1\r\nHost: a b\r\n", "Invalid Host header"),
        (b"GET / HTTP/1.1\r\nHost: a/b\r\n", "Invalid Host header"),
        (b"GET / HTTP/1.1\r\nHost: a:80x\r\n", "Invalid Host header"),
        (b"GET / HTTP/1.1\r\nHost: caf\xc3\xa9\r\n", "Invalid Host header"),
    ],
)
def test_a_missing_repeated_or_invalid_host_is_a_400(serve: Serve, head: bytes, message: str) -> None:
    assert_head_refused(serve, head + b"\r\n", message)


def assert_head_refused(serve: Serve, head: bytes, message: str) -> None:
    """``head`` is answered 400 with ``message`` in the envelope, and the app never sees it."""
    app = CountingApp()
    server = serve(app)

    with raw_request(server.port, head) as sock:
        status, _, body = read_response_and_close(sock)

    assert status.split(b" ")[1] == b"400"
    assert message in assert_envelope(body)
    assert app.calls == 0


@pytest.mark.parametrize(
    "head",
    [
        b"GET / HTTP/1.0\r\n",  # HTTP/1.0 may omit Host
        b"GET / HTTP/1.1\r\nHost:\r\n",  # empty: a target URI without authority
        b"GET / HTTP/1.1\r\nHOST: 127.0.0.1:8080\r\n",
        b"GET / HTTP/1.1\r\nHost: [::1]:8080\r\n",
        b"GET / HTTP/1.1\r\nHost: api.openai.com\r\n",
    ],
)
def test_valid_host_headers_are_served(serve: Serve, head: bytes) -> None:
    app = CountingApp()
    server = serve(app)

    with raw_request(server.port, head + b"Connection: close\r\n\r\n") as sock:
        data = read_until_closed(sock)

    assert data.startswith(b"HTTP/1.1 200")
    assert app.calls == 1


@pytest.mark.parametrize(
    ("field_line", "message"),
    [
        (b"X-A\x00b: 1", "Invalid header name"),
        ("X-T\u00e9st: v".encode(), "Invalid header name"),
        (b"X-A/b: 1", "Invalid header name"),
        (b"X-A : 1", "Bad header line"),
        (b"X-A: a\x00b", "Invalid character in the value of header 'X-A'"),
        (b"X-A: a\rb", "Invalid character in the value of header 'X-A'"),
        (b"X-A: a\r", "Invalid character in the value of header 'X-A'"),
    ],
)
def test_invalid_header_names_and_values_are_a_400(serve: Serve, field_line: bytes, message: str) -> None:
    assert_head_refused(serve, b"GET / HTTP/1.1\r\nHost: x\r\n" + field_line + b"\r\n\r\n", message)


def test_header_values_keep_obs_text_and_lose_surrounding_white_space(serve: Serve) -> None:
    seen: dict[str, str] = {}

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        seen.update({k: v for k, v in environ.items() if k.startswith("HTTP_")})
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]

    server = serve(app)
    request = "GET / HTTP/1.1\r\nHost: x\r\nX-Text: \t caf\u00e9 \xa0\t \r\nX-Empty:\r\n\r\n".encode()
    with raw_request(server.port, request) as sock:
        status, _, _ = read_one_response(sock)

    assert status.startswith(b"HTTP/1.1 200")
    # Only SP and HTAB are optional white space (RFC 9110 5.6.3); obs-text arrives as latin-1 (PEP 3333).
    assert seen["HTTP_X_TEXT"] == "caf\u00e9 \xa0".encode().decode("latin-1")
    assert seen["HTTP_X_EMPTY"] == ""


@pytest.mark.parametrize("empty_lines", [b"\r\n", b"\n", b"\r\n" * 8])
def test_empty_lines_before_the_request_line_are_ignored(serve: Serve, empty_lines: bytes) -> None:
    app = CountingApp()
    server = serve(app)

    with raw_request(server.port, empty_lines + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") as sock:
        status, headers, _ = read_one_response(sock)
        # A client that ends a body with an extra CRLF (RFC 9112 2.2) keeps its connection.
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
        second, _, _ = read_one_response(sock)
        third, _, _ = read_one_response(sock)

    assert [status[:12], second[:12], third[:12]] == [b"HTTP/1.1 200"] * 3
    assert "connection" not in headers
    assert app.calls == 3


def test_too_many_empty_lines_before_the_request_line_are_a_400(serve: Serve) -> None:
    app = CountingApp()
    server = serve(app)

    with raw_request(server.port, b"\r\n" * 9 + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") as sock:
        data = read_until_closed(sock)

    assert data.startswith(b"HTTP/1.1 400")
    assert_envelope(json.loads(data.partition(b"\r\n\r\n")[2]))
    assert app.calls == 0


# -- deadlines ------------------------------------------------------------------------------------


def trickle(sock: socket.socket, data: bytes, interval: float, limit: float) -> bytes:
    """Send ``data`` one byte per ``interval`` until the server answers (or ``limit`` s pass)."""
    sock.settimeout(interval)
    deadline = time.monotonic() + limit
    for byte in data:
        if time.monotonic() > deadline:
            break
        try:
            sock.sendall(bytes([byte]))
            reply = sock.recv(65536)
        except TimeoutError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            return b""
        sock.settimeout(TIMEOUT)
        return reply + read_until_closed(sock)
    return b""


def test_trickled_request_head_gets_408_and_its_thread_ends(serve: Serve) -> None:
    server = serve(CountingApp(), head_timeout=0.3)
    baseline = set(threading.enumerate())
    head = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: 1\r\n" * 100 + b"\r\n"

    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
        started = time.monotonic()
        data = trickle(sock, head, interval=0.05, limit=1.5)
        elapsed = time.monotonic() - started

    assert data.startswith(b"HTTP/1.1 408"), data[:40]
    assert assert_envelope(json.loads(data.partition(b"\r\n\r\n")[2]), "timeout").startswith("Request timed out")
    assert 0.25 < elapsed < 1.0
    assert wait_for_baseline(baseline) == []


def test_trickled_body_gets_408_and_its_thread_ends(serve: Serve) -> None:
    app = CountingApp()
    server = serve(app, body_timeout=0.3, min_transfer_rate=1e9)
    baseline = set(threading.enumerate())

    with raw_request(server.port, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n") as sock:
        data = trickle(sock, b"x" * 1000, interval=0.05, limit=1.5)

    assert data.startswith(b"HTTP/1.1 408"), data[:40]
    assert assert_envelope(json.loads(data.partition(b"\r\n\r\n")[2]), "timeout")
    assert app.calls == 0
    assert wait_for_baseline(baseline) == []


def test_trickled_chunked_body_gets_408(serve: Serve) -> None:
    """Many tiny chunks earn almost no extra time: the deadline grows with the announced size only."""
    server = serve(CountingApp(), body_timeout=0.3)
    head = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"

    with raw_request(server.port, head) as sock:
        data = trickle(sock, b"1\r\nx\r\n" * 100, interval=0.02, limit=1.5)

    assert data.startswith(b"HTTP/1.1 408"), data[:40]


def test_body_deadline_grows_with_the_declared_size(serve: Serve) -> None:
    """A body slower than body_timeout but faster than min_transfer_rate is served."""
    server = serve(body_digest_app, body_timeout=0.1, min_transfer_rate=2000)

    with raw_request(server.port, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n") as sock:
        for _ in range(4):  # 0.3 s > body_timeout, well inside 0.1 s + 1000 B / 2000 B/s
            sock.sendall(b"x" * 250)
            time.sleep(0.075)
        status, _, body = read_one_response(sock)

    assert status.startswith(b"HTTP/1.1 200")
    assert json.loads(body)["length"] == 1000


def test_idle_keep_alive_connection_is_closed_silently(serve: Serve) -> None:
    server = serve(PeerRecorder(), idle_timeout=0.3)

    with raw_request(server.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") as sock:
        read_one_response(sock)
        started = time.monotonic()
        assert sock.recv(65536) == b"", "no 408 on a connection with no request in progress"
        elapsed = time.monotonic() - started

    assert 0.2 < elapsed < 1.0


def test_a_new_connection_must_start_its_request_within_head_timeout(serve: Serve) -> None:
    server = serve(PeerRecorder(), head_timeout=0.2)

    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
        started = time.monotonic()
        assert sock.recv(65536) == b""
        assert time.monotonic() - started < 1.0


def test_slow_reader_of_a_stream_is_cut_after_send_timeout(serve: Serve) -> None:
    body_closed = threading.Event()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/event-stream")])
        try:
            for _ in range(10_000):  # 640 MB: far more than the socket buffers hold
                yield b"data: " + b"x" * 65536 + b"\n\n"
        finally:
            body_closed.set()

    server = serve(app, send_timeout=0.3, min_transfer_rate=1e9)
    baseline = set(threading.enumerate())
    with raw_request(server.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        assert sock.recv(100).startswith(b"HTTP/1.1 200")
        # ... and reads no more.
        assert body_closed.wait(2.0), "the server should give up on a client that stopped reading"

    assert wait_for_baseline(baseline) == []


def test_a_lingering_close_does_not_delay_stop() -> None:
    baseline = set(threading.enumerate())
    server = ServerThread(CountingApp(), max_request_body=10, linger_timeout=5.0)
    server.start()
    sock = raw_request(server.port, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
    with sock:
        status, _, _ = read_one_response(sock)  # the server now lingers, waiting for our body or EOF
        assert status.startswith(b"HTTP/1.1 413")
        started = time.perf_counter()
        server.stop()
        assert time.perf_counter() - started < 0.5
        assert threads_since(baseline) == [], "stop() joins the lingering connection's thread"


# -- the connection cap ---------------------------------------------------------------------------


def test_connections_beyond_the_cap_wait_for_a_slot(serve: Serve) -> None:
    app = PeerRecorder()
    server = serve(app, max_connections=2)
    baseline = set(threading.enumerate())
    busy = [raw_request(server.port, b"GET / HTTP/1.1\r\nHost: x\r\n") for _ in range(2)]  # heads unfinished
    waiting = raw_request(server.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    try:
        waiting.settimeout(0.3)
        with pytest.raises(TimeoutError):
            waiting.recv(1)  # accepted by the kernel, not served yet
        assert len(connection_threads(baseline)) == 2
        assert len(threads_since(baseline)) == 2

        busy[0].sendall(b"Connection: close\r\n\r\n")
        busy[0].settimeout(TIMEOUT)
        assert read_until_closed(busy[0]).startswith(b"HTTP/1.1 200")
        waiting.settimeout(TIMEOUT)
        _, _, body = read_one_response(waiting)  # served once a slot freed
        assert body == COMPLETION_BYTES
    finally:
        for sock in [*busy, waiting]:
            sock.close()
    assert wait_for_baseline(baseline) == []


def test_an_idle_keep_alive_connection_makes_room(serve: Serve) -> None:
    server = serve(PeerRecorder(), max_connections=2)
    idle = []
    for _ in range(2):
        sock = raw_request(server.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        read_one_response(sock)
        idle.append(sock)
    try:
        with raw_request(server.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") as third:
            started = time.monotonic()
            _, _, body = read_one_response(third)
            # Served at once, not after an idle connection's 120 s timeout (the bound is loose:
            # a loaded CI machine can take seconds, never minutes).
            assert time.monotonic() - started < 20.0
        assert body == COMPLETION_BYTES
        assert idle[0].recv(65536) == b"", "the longest-idle connection is the one closed"
    finally:
        for sock in idle:
            sock.close()


def test_sdk_clients_beyond_the_cap_are_served(serve: Serve) -> None:
    """Idle pooled connections closed to make room are reconnected by the SDK, even with max_retries=0."""
    app = PeerRecorder()
    server = serve(app, max_connections=1)
    clients = [sdk_client(server) for _ in range(3)]

    for _ in range(3):
        for client in clients:
            assert client.chat.completions.create(model="gpt-4o", messages=MESSAGES).id == "chatcmpl-1"

    assert len(app.peer_ports) == 9


def test_concurrent_sdk_calls_over_the_cap(serve: Serve) -> None:
    release = threading.Event()
    app = PeerRecorder()

    def slow_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        release.wait(TIMEOUT)
        return app(environ, start_response)

    server = serve(slow_app, max_connections=3)
    baseline = set(threading.enumerate())
    ids: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with sdk_client(server) as client:  # closing it closes its keep-alive connection
                ids.append(client.chat.completions.create(model="gpt-4o", messages=MESSAGES).id)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    workers = [threading.Thread(target=worker, daemon=True) for _ in range(10)]
    for thread in workers:
        thread.start()
    deadline = time.monotonic() + TIMEOUT
    while len(connection_threads(baseline)) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    assert len(connection_threads(baseline)) == 3, "no more than max_connections are served at once"
    release.set()
    for thread in workers:
        thread.join(TIMEOUT)

    assert not errors, errors
    assert ids == ["chatcmpl-1"] * 10
    assert not any(thread.is_alive() for thread in workers)
    assert wait_for_baseline(baseline) == []
