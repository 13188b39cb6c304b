"""The fake over HTTPS, HTTP/1.1 and HTTP/2 (ALPN): the same API, capture, scripting and faults as over plain HTTP."""

from __future__ import annotations

import asyncio
import socket
import ssl
import time

import httpx2
import openai
import pytest

from pytest_openai_fake import Certificate, FakeOpenAI, cut_stream, delayed, drop, error

CHAT = "chat.completions.create"
ASK = [{"role": "user", "content": "Hello"}]


def chat(client, **kwargs):
    return client.chat.completions.create(model="gpt-4o", messages=ASK, **kwargs)


# -- the certificate and who trusts it ---------------------------------------------------------


def test_base_url_is_https_and_the_ca_bundle_is_a_pem_file(fake):
    assert fake.tls and fake.base_url.startswith("https://127.0.0.1:") and fake.base_url.endswith("/v1")
    assert fake.websocket_base_url == "wss" + fake.base_url.removeprefix("https")
    assert fake.client().websocket_base_url == fake.websocket_base_url
    with open(fake.ca_bundle) as f:
        assert f.read().startswith("-----BEGIN CERTIFICATE-----")


def test_the_index_reports_the_ca_bundle(fake, trust):
    body = httpx2.get(fake.url + "/", verify=trust).json()
    assert body["ca_bundle"] == fake.ca_bundle
    assert body["base_url"] == fake.base_url


def test_a_client_that_does_not_trust_the_ca_is_refused(fake):
    with pytest.raises(httpx2.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx2.get(fake.url + "/health", verify=ssl.create_default_context())


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost"])
def test_the_certificate_is_valid_for_loopback_names(fake, trust, name):
    assert httpx2.get(f"https://{name}:{fake.port}/health", verify=trust).status_code == 200


def test_the_fakes_own_clients_trust_it(fake):
    assert chat(fake.client(_strict_response_validation=True)).choices[0].message.content


async def test_the_fakes_own_async_clients_trust_it(fake):
    client = fake.async_client()
    try:
        assert (await chat(client)).choices[0].message.content
    finally:
        await client.close()


def test_a_users_own_certificate(tmp_path):
    trustme = pytest.importorskip("trustme")
    leaf = trustme.CA().issue_cert("127.0.0.1", "localhost")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    leaf.private_key_pem.write_to_path(str(key))
    with FakeOpenAI(tls=Certificate.from_files(cert, key)) as fake:
        assert fake.ca_bundle == str(cert)
        assert chat(fake.client()).choices  # the fake's clients trust the given certificate
        with pytest.raises(httpx2.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx2.get(fake.url + "/health")


def test_a_certificate_that_does_not_load_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    from pytest_openai_fake import TLSError

    with pytest.raises(TLSError, match="cannot load the TLS certificate"):
        Certificate.from_files(bad)


# -- the wrong protocol on a port: a clear answer at once, never a hang ---------------------------


def test_plain_http_on_the_tls_port_is_a_400_at_once(fake):
    started = time.monotonic()
    reply = httpx2.get(fake.url.replace("https://", "http://") + "/v1/models", timeout=5)
    assert time.monotonic() - started < 1
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == "plain_http_on_tls_port"
    assert "speaks HTTPS" in reply.json()["error"]["message"]


def test_plain_http_on_the_tls_port_through_the_sdk(fake):
    client = openai.OpenAI(base_url=fake.base_url.replace("https://", "http://"), api_key="sk-x", max_retries=0)
    with pytest.raises(openai.BadRequestError, match="speaks HTTPS"):
        chat(client)


def test_tls_on_the_plain_port_is_closed_at_once():
    with FakeOpenAI() as plain:
        started = time.monotonic()
        with pytest.raises(httpx2.ConnectError):
            httpx2.get(plain.url.replace("http://", "https://") + "/health", timeout=5)
        assert time.monotonic() - started < 1
        assert httpx2.get(plain.url + "/health").status_code == 200  # and plain HTTP is unchanged


def test_a_failed_handshake_does_not_stop_the_server(fake, trust):
    with socket.create_connection(("127.0.0.1", fake.port), timeout=5) as sock:
        sock.sendall(b"\x16\x03\x01\x00\x05garbage")
        sock.settimeout(5)
        try:
            sock.recv(100)  # an alert or a close
        except ConnectionResetError:
            pass
    assert httpx2.get(fake.url + "/health", verify=trust).status_code == 200


# -- everything over TLS, over HTTP/1.1 and HTTP/2 ----------------------------------------------


def test_chat_and_capture(fake, client):
    reply = chat(client, user="someone")
    assert reply.object == "chat.completion"
    last = fake.requests.last
    assert last.endpoint == CHAT and last.status == 200 and last.json["user"] == "someone"


async def test_chat_async(fake, async_client):
    reply = await chat(async_client)
    assert reply.choices[0].message.content
    assert fake.requests.last.endpoint == CHAT


def test_streaming(fake, client):
    fake.on(CHAT).respond("one two three four")
    chunks = list(chat(client, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "one two three four"
    assert fake.requests.last.stream


def test_stream_events_arrive_as_they_are_made(fake, client):
    """Each SSE event is sent when the app yields it (one DATA frame on HTTP/2), not collected first."""
    fake.on(CHAT).respond(delayed("a b c d e f", per_chunk=0.1))
    started = time.monotonic()
    arrivals = [time.monotonic() - started for _ in chat(client, stream=True)]
    assert arrivals[-1] >= 0.5
    assert arrivals[0] < arrivals[-1] - 0.3


async def test_streaming_async(fake, async_client):
    fake.on(CHAT).respond("a b c")
    stream = await chat(async_client, stream=True)
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == "a b c"


def test_scripted_replies_and_errors(fake, client):
    fake.on(CHAT).once("first", error(429, retry_after=7))
    assert chat(client).choices[0].message.content == "first"
    with pytest.raises(openai.RateLimitError) as excinfo:
        chat(client)
    assert excinfo.value.response.headers["retry-after"] == "7"
    assert excinfo.value.body["type"] == "requests"


def test_bad_input_gets_the_error_envelope(client):
    with pytest.raises(openai.BadRequestError) as excinfo:
        client.chat.completions.create(model="gpt-4o", messages=[])
    assert excinfo.value.body["param"] == "messages"


def test_drop_is_a_connection_error_and_the_next_call_works(fake, client):
    fake.on(CHAT).once(drop())
    with pytest.raises(openai.APIConnectionError):
        chat(client)
    assert fake.requests.last.status == 0
    assert chat(client).choices


def test_cut_stream(fake, client):
    fake.on(CHAT).once(cut_stream(after=2))
    received = []
    with pytest.raises(openai.APIConnectionError):
        for chunk in chat(client, stream=True):
            received.append(chunk)
    assert len(received) == 2
    assert chat(client).choices


def test_delays(fake, client):
    fake.on(CHAT).once(delayed(seconds=0.3))
    started = time.monotonic()
    chat(client)
    assert 0.3 <= time.monotonic() - started < 2


def test_retries_after_a_fault(fake, client):
    fake.fail_next(1, 500)
    retrying = client.with_options(max_retries=1)
    assert chat(retrying).choices
    assert [r.status for r in fake.requests] == [500, 200]


def test_large_upload_and_download(fake, client):
    """Megabytes both ways: flow control (HTTP/2 windows) and TLS records, not one frame."""
    big = "lorem ipsum " * 300_000  # 3.6 MB up
    fake.on(CHAT).respond("z" * 5_000_000)  # 5 MB down
    reply = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": big}])
    assert fake.requests.last.json["messages"][0]["content"] == big
    assert reply.choices[0].message.content == "z" * 5_000_000


def test_azure_over_tls(transport, trust):
    with FakeOpenAI(provider="azure", tls=True) as azure:
        http = httpx2.Client(http2=transport == "h2", verify=ssl.create_default_context(cafile=azure.ca_bundle))
        client = azure.client(http_client=http, _strict_response_validation=True)
        assert client.chat.completions.with_raw_response.create(model="gpt-4o", messages=ASK).http_response.http_version == {"h1": "HTTP/1.1", "h2": "HTTP/2"}[transport]
        assert azure.requests.last.path.startswith("/openai/deployments/gpt-4o/")
        http.close()


# -- HTTP/2 only: multiplexing, resets ----------------------------------------------------------


def h2_client(fake, trust, **kwargs):
    http = httpx2.AsyncClient(http2=True, verify=trust, limits=httpx2.Limits(max_connections=1))
    return fake.async_client(http_client=http, **kwargs), http


async def test_h2_multiplexes_concurrent_requests_on_one_connection(fake, trust):
    """Ten calls that each take 0.4 s, on one connection: together about 0.4 s, not 4 s."""
    fake.on(CHAT).respond(delayed(seconds=0.4))
    client, http = h2_client(fake, trust)
    try:
        started = time.monotonic()
        replies = await asyncio.gather(*[client.chat.completions.with_raw_response.create(model="gpt-4o", messages=ASK) for _ in range(10)])
        took = time.monotonic() - started
    finally:
        await http.aclose()
    assert {r.http_response.http_version for r in replies} == {"HTTP/2"}
    assert len(fake.requests) == 10
    assert took < 2.0, f"10 concurrent delayed calls took {took:.2f}s on one HTTP/2 connection"


async def test_h2_a_dropped_stream_does_not_disturb_the_others(fake, trust):
    """On one connection: a slow SSE stream and plain calls go on while another stream is reset."""
    fake.on(CHAT, message="drop me").once(drop())
    fake.on(CHAT, stream=True).respond(delayed("w1 w2 w3 w4 w5 w6", per_chunk=0.05))
    client, http = h2_client(fake, trust)

    async def streamed():
        stream = await client.chat.completions.create(model="gpt-4o", messages=ASK, stream=True)
        return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

    async def dropped():
        await asyncio.sleep(0.05)
        with pytest.raises(openai.APIConnectionError):
            await client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "drop me"}])
        return "dropped"

    try:
        text, outcome, plain = await asyncio.gather(streamed(), dropped(), chat(client))
        after = await chat(client)  # the connection is still good
    finally:
        await http.aclose()
    assert text == "w1 w2 w3 w4 w5 w6" and outcome == "dropped" and plain.choices and after.choices
    assert sorted(r.status for r in fake.requests) == [0, 200, 200, 200]


async def test_h2_a_stream_the_client_abandons_does_not_disturb_the_others(fake, trust):
    fake.on(CHAT, stream=True).respond(delayed(" ".join(f"w{i}" for i in range(200)), per_chunk=0.01))
    client, http = h2_client(fake, trust)
    try:
        stream = await client.chat.completions.create(model="gpt-4o", messages=ASK, stream=True)
        async for _ in stream:
            break
        await stream.close()  # RST_STREAM CANCEL from the client
        assert (await chat(client)).choices
    finally:
        await http.aclose()


def test_h2_request_body_over_the_limit_is_a_413():
    from pytest_openai_fake import Limits

    with FakeOpenAI(tls=True, limits=Limits(max_request_body=2000)) as small:
        http = httpx2.Client(http2=True, verify=ssl.create_default_context(cafile=small.ca_bundle))
        client = small.client(http_client=http)
        with pytest.raises(openai.APIStatusError) as excinfo:
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x" * 5000}])
        assert excinfo.value.status_code == 413
        assert "over the limit of 2000 bytes" in excinfo.value.body["message"]
        assert excinfo.value.response.http_version == "HTTP/2"
        assert chat(client).choices  # the connection is still good
        http.close()


def test_http2_false_offers_http11_only():
    with FakeOpenAI(tls=True, http2=False) as fake:
        http = httpx2.Client(http2=True, verify=ssl.create_default_context(cafile=fake.ca_bundle))
        reply = fake.client(http_client=http).models.with_raw_response.list()
        assert reply.http_response.http_version == "HTTP/1.1"
        http.close()


def test_http2_needs_tls():
    from pytest_openai_fake import TLSError

    with pytest.raises(TLSError, match="needs tls=True"):
        FakeOpenAI(http2=True)
