"""HTTP/2 connections are bounded like HTTP/1.1 ones: stop(), idle connections, bodies that never come."""

from __future__ import annotations

import socket
import ssl
import time

import h2.config
import h2.connection
import h2.events
import httpx2
import openai
import pytest

from pytest_openai_fake import FakeOpenAI, Limits

ASK = [{"role": "user", "content": "Hi"}]


def h2_client(fake: FakeOpenAI) -> httpx2.Client:
    return httpx2.Client(http2=True, verify=ssl.create_default_context(cafile=fake.ca_bundle), timeout=5)


def test_stop_closes_open_http2_connections_at_once():
    fake = FakeOpenAI(tls=True).start()
    http = h2_client(fake)
    client = fake.client(http_client=http)
    assert client.models.with_raw_response.list().http_response.http_version == "HTTP/2"
    started = time.monotonic()
    fake.stop()
    assert time.monotonic() - started < 1
    with pytest.raises(openai.APIConnectionError):
        client.models.list()
    http.close()


def raw_h2(fake: FakeOpenAI) -> tuple[ssl.SSLSocket, h2.connection.H2Connection]:
    context = ssl.create_default_context(cafile=fake.ca_bundle)
    context.set_alpn_protocols(["h2"])
    sock = context.wrap_socket(socket.create_connection(("127.0.0.1", fake.port), timeout=5), server_hostname="127.0.0.1")
    assert sock.selected_alpn_protocol() == "h2"
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    return sock, conn


def read_response(sock: ssl.SSLSocket, conn: h2.connection.H2Connection, stream_id: int, timeout: float) -> tuple[dict, bytes]:
    headers: dict = {}
    body = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = sock.recv(65536)
        if not data:
            break
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.ResponseReceived) and event.stream_id == stream_id:
                headers = dict(event.headers)
            elif isinstance(event, h2.events.DataReceived) and event.stream_id == stream_id:
                body += event.data
                conn.acknowledge_received_data(event.flow_controlled_length, stream_id)
            elif isinstance(event, (h2.events.StreamEnded, h2.events.StreamReset)) and event.stream_id == stream_id:
                sock.sendall(conn.data_to_send())
                return headers, body
        sock.sendall(conn.data_to_send())
    raise AssertionError(f"no complete response on stream {stream_id} within {timeout}s")


def test_an_http2_body_that_never_arrives_is_a_408():
    with FakeOpenAI(tls=True, limits=Limits(body_timeout=0.3)) as fake:
        sock, conn = raw_h2(fake)
        with sock:
            request = [(":method", "POST"), (":path", "/v1/chat/completions"), (":scheme", "https"), (":authority", "127.0.0.1"),
                       ("content-type", "application/json"), ("content-length", "100"), ("authorization", "Bearer sk-x")]
            conn.send_headers(1, request)  # and no body
            sock.sendall(conn.data_to_send())
            started = time.monotonic()
            headers, body = read_response(sock, conn, 1, timeout=3)
            assert headers[":status"] == "408"
            assert b"did not arrive within 0.3 s" in body and b'"type": "timeout"' in body
            assert time.monotonic() - started < 1.5
            # the connection serves the next stream
            conn.send_headers(3, [(":method", "GET"), (":path", "/health"), (":scheme", "https"), (":authority", "127.0.0.1")], end_stream=True)
            sock.sendall(conn.data_to_send())
            assert read_response(sock, conn, 3, timeout=3)[0][":status"] == "200"


def test_a_content_length_over_the_limit_is_refused_before_the_body():
    with FakeOpenAI(tls=True, limits=Limits(max_request_body=1000)) as fake:
        sock, conn = raw_h2(fake)
        with sock:
            conn.send_headers(1, [(":method", "POST"), (":path", "/v1/chat/completions"), (":scheme", "https"),
                                  (":authority", "127.0.0.1"), ("content-length", "5000000")])
            sock.sendall(conn.data_to_send())
            headers, body = read_response(sock, conn, 1, timeout=3)
            assert headers[":status"] == "413" and b"5000000 bytes is over the limit of 1000 bytes" in body


def test_an_idle_http2_connection_gets_goaway_and_is_closed():
    with FakeOpenAI(tls=True, limits=Limits(idle_timeout=0.3)) as fake:
        sock, conn = raw_h2(fake)
        with sock:
            conn.send_headers(1, [(":method", "GET"), (":path", "/health"), (":scheme", "https"), (":authority", "127.0.0.1")], end_stream=True)
            sock.sendall(conn.data_to_send())
            assert read_response(sock, conn, 1, timeout=3)[0][":status"] == "200"
            started = time.monotonic()
            events = []
            while True:  # GOAWAY, then the end of the connection
                data = sock.recv(65536)
                if not data:
                    break
                events += conn.receive_data(data)
            assert 0.2 < time.monotonic() - started < 1.5
            goaway = [e for e in events if isinstance(e, h2.events.ConnectionTerminated)]
            assert goaway and goaway[0].error_code == 0 and goaway[0].last_stream_id == 1


def test_a_post_while_the_waker_is_drained_leaves_the_loop_wakeable():
    """Regression: a worker's wake-up byte sent while the connection thread drained the waker was
    drained with it while ``woken`` stayed set, so no later post woke the loop and replies waited
    for the 120 s idle timeout (10 concurrent calls on one connection hung about 1 run in 10)."""
    import select
    import types

    from pytest_openai_fake import http2

    server = types.SimpleNamespace(limits=Limits())
    conn = http2._Connection(None, ("127.0.0.1", 0), server)  # type: ignore[arg-type]
    streams = [http2._Stream(n, [], time.monotonic() + 30) for n in (1, 3, 5)]
    real = conn.waker_r

    class PostsWhileDrained:
        """The waker, with a second worker posting as the connection thread starts draining it."""

        posted = False

        def recv(self, size: int) -> bytes:
            if not self.posted:
                self.posted = True
                conn._post(streams[1], ("data", b"x", False), 1)
            return real.recv(size)

    try:
        conn._post(streams[0], ("data", b"x", False), 1)  # wakes the loop
        conn.waker_r = PostsWhileDrained()  # type: ignore[assignment]
        conn._drain_waker()  # the loop's turn: the waker is drained...
        conn.ready.clear()  # ...and _take_replies takes both posts
        conn._post(streams[2], ("data", b"x", False), 1)  # a later post must wake the loop again
        assert select.select([real], [], [], 0)[0], "the later post sent no wake-up byte"
    finally:
        for sock in (real, conn.waker_w):
            sock.close()
