"""Faults through the real SDK: error statuses and headers, retries, drops, cut streams, latency."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx2
import openai
import pytest

from pytest_openai_fake import FakeOpenAI, cut_stream, delayed, drop, error, stream_error
from pytest_openai_fake.sdk import stream_cut_errors, stream_timeout_errors

CHAT = "chat.completions.create"
ASK = [{"role": "user", "content": "Hello"}]


def chat(client, **kwargs):
    return client.chat.completions.create(model="gpt-4o", messages=ASK, **kwargs)


def raw_post(fake: FakeOpenAI) -> httpx2.Response:
    return httpx2.post(
        fake.base_url + "/chat/completions",
        json={"model": "gpt-4o", "messages": ASK},
        headers={"Authorization": "Bearer sk-test"},
    )


# -- error statuses ----------------------------------------------------------------------------


def test_rate_limit_has_the_real_envelope_and_headers(openai_server, client):
    openai_server.on(CHAT).fail(429, retry_after=20)
    with pytest.raises(openai.RateLimitError) as excinfo:
        chat(client)
    exc = excinfo.value
    assert exc.status_code == 429
    assert exc.code == "rate_limit_exceeded" and exc.type == "requests"
    assert exc.body["message"].startswith("Rate limit reached for gpt-4o in organization ")
    assert "Please try again in 20s." in exc.body["message"]
    headers = exc.response.headers
    assert headers["retry-after"] == "20" and headers["retry-after-ms"] == "20000"
    assert headers["x-ratelimit-limit-requests"] == "500"
    assert headers["x-ratelimit-remaining-requests"] == "0"
    assert headers["x-ratelimit-reset-requests"] == "20s"
    assert headers["x-ratelimit-reset-tokens"] == "0s"
    assert headers["x-request-id"].startswith("req_")


@pytest.mark.parametrize(
    "seconds, text",
    [(0.12, "120ms"), (1, "1s"), (1.5, "1.5s"), (360, "6m0s"), (3723, "1h2m3s")],
)
def test_rate_limit_reset_uses_the_api_duration_format(openai_server, seconds, text):
    openai_server.on(CHAT).fail(429, retry_after=seconds)
    assert raw_post(openai_server).headers["x-ratelimit-reset-requests"] == text


def test_insufficient_quota(openai_server, client):
    openai_server.on(CHAT).fail(429, code="insufficient_quota")
    with pytest.raises(openai.RateLimitError) as excinfo:
        chat(client)
    assert excinfo.value.code == "insufficient_quota" and excinfo.value.type == "insufficient_quota"
    assert excinfo.value.body["message"].startswith("You exceeded your current quota")
    assert "x-ratelimit-remaining-requests" not in excinfo.value.response.headers


@pytest.mark.parametrize(
    "status, exc_type, error_type",
    [
        (500, openai.InternalServerError, "server_error"),
        (502, openai.InternalServerError, "server_error"),
        (503, openai.InternalServerError, "server_error"),
        (408, openai.APIStatusError, "timeout"),
        (409, openai.ConflictError, "invalid_request_error"),
        (400, openai.BadRequestError, "invalid_request_error"),
        (401, openai.AuthenticationError, "invalid_request_error"),
        (403, openai.PermissionDeniedError, "invalid_request_error"),
        (404, openai.NotFoundError, "invalid_request_error"),
    ],
)
def test_any_status_gets_the_envelope(openai_server, client, status, exc_type, error_type):
    openai_server.on(CHAT).fail(status)
    with pytest.raises(exc_type) as excinfo:
        chat(client)
    assert excinfo.value.status_code == status
    body = excinfo.value.body
    assert set(body) == {"message", "type", "param", "code"} and body["type"] == error_type


def test_custom_error_fields(openai_server, client):
    openai_server.on(CHAT).fail(400, message="Bad thing.", code="bad_thing", param="messages[0]", headers={"x-extra": "1"})
    with pytest.raises(openai.BadRequestError) as excinfo:
        chat(client)
    assert excinfo.value.body == {"message": "Bad thing.", "type": "invalid_request_error", "param": "messages[0]", "code": "bad_thing"}
    assert excinfo.value.response.headers["x-extra"] == "1"


def test_errors_come_before_request_validation(openai_server, client):
    """A rate limiter answers before the body is looked at, as the real API's does."""
    openai_server.fail_next(1, 429)
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="no-such-model", messages=ASK)


# -- retries -----------------------------------------------------------------------------------


def test_sdk_retries_then_succeeds(openai_server):
    client = openai_server.client(max_retries=2)
    openai_server.fail_next(2, 429, retry_after=0.001)
    reply = chat(client)
    assert reply.choices[0].message.content
    assert [r.status for r in openai_server.requests] == [429, 429, 200]
    assert [r.headers["x-stainless-retry-count"] for r in openai_server.requests] == ["0", "1", "2"]


async def test_async_sdk_retries_5xx_then_succeeds(openai_server):
    client = openai_server.async_client(keep_alive=False, max_retries=2)
    openai_server.on(CHAT).once(error(500, retry_after=0.001), error(503, retry_after=0.001))
    reply = await client.chat.completions.create(model="gpt-4o", messages=ASK)
    assert reply.choices[0].finish_reason == "stop"
    assert [r.headers["x-stainless-retry-count"] for r in openai_server.requests] == ["0", "1", "2"]


def test_sdk_gives_up_after_its_retries(openai_server):
    client = openai_server.client(max_retries=2)
    openai_server.on(CHAT).fail(500, retry_after=0.001)
    with pytest.raises(openai.InternalServerError):
        chat(client)
    assert len(openai_server.requests) == 3


def test_should_retry_false_stops_the_sdk(openai_server):
    client = openai_server.client(max_retries=2)
    openai_server.on(CHAT).fail(500, should_retry=False)
    with pytest.raises(openai.InternalServerError):
        chat(client)
    assert len(openai_server.requests) == 1


def test_should_retry_true_retries_a_400(openai_server):
    client = openai_server.client(max_retries=1)
    openai_server.on(CHAT).once(error(400, should_retry=True, retry_after=0.001))
    assert chat(client).choices
    assert [r.status for r in openai_server.requests] == [400, 200]


def test_fail_next_on_any_endpoint(openai_server, client):
    openai_server.fail_next(1, 503)
    with pytest.raises(openai.InternalServerError):
        client.models.list()
    assert client.models.retrieve("gpt-4o").id == "gpt-4o"


# -- transport faults --------------------------------------------------------------------------


def test_drop_is_a_connection_error_and_is_captured(openai_server, client):
    openai_server.on(CHAT).once(drop())
    with pytest.raises(openai.APIConnectionError):
        chat(client)
    assert openai_server.requests.last.status == 0
    assert chat(client).choices  # the next call is answered normally


def test_drop_then_retry_succeeds(openai_server):
    client = openai_server.client(max_retries=1)
    openai_server.on(CHAT).once(drop())
    assert chat(client).choices
    assert len(openai_server.requests) == 2


def test_cut_stream_after_n_chunks(openai_server, client):
    openai_server.on(CHAT).once(cut_stream(after=3))
    received = []
    with pytest.raises(stream_cut_errors()):
        for chunk in chat(client, stream=True):
            received.append(chunk)
    assert len(received) == 3


def test_cut_stream_on_a_plain_request_drops_the_connection(openai_server, client):
    openai_server.on(CHAT).once(cut_stream(after=3))
    with pytest.raises(openai.APIConnectionError):
        chat(client)


def test_stream_error_event(openai_server, client):
    openai_server.on(CHAT).once(stream_error(after=2, message="Upstream overloaded.", code="overloaded"))
    received = []
    with pytest.raises(openai.APIError) as excinfo:
        for chunk in chat(client, stream=True):
            received.append(chunk)
    assert len(received) == 2
    assert excinfo.value.message == "Upstream overloaded."
    assert excinfo.value.body == {"message": "Upstream overloaded.", "type": "server_error", "param": None, "code": "overloaded"}


async def test_stream_error_event_async(openai_server, async_client):
    openai_server.on(CHAT).once(stream_error(after=1))
    stream = await async_client.chat.completions.create(model="gpt-4o", messages=ASK, stream=True)
    with pytest.raises(openai.APIError, match="The server had an error"):
        async for _ in stream:
            pass


def test_stream_error_on_a_plain_request_is_the_error_status(openai_server, client):
    openai_server.on(CHAT).once(stream_error(after=1, status=503))
    with pytest.raises(openai.InternalServerError) as excinfo:
        chat(client)
    assert excinfo.value.status_code == 503


# -- latency -----------------------------------------------------------------------------------


def test_delay_before_the_reply(openai_server, client):
    openai_server.on(CHAT).delay(0.2)
    started = time.perf_counter()
    chat(client)
    assert time.perf_counter() - started >= 0.2


def test_delay_longer_than_the_client_timeout(openai_server):
    client = openai_server.client(timeout=0.2)
    openai_server.on(CHAT).once(delayed(seconds=5))
    started = time.perf_counter()
    with pytest.raises(openai.APITimeoutError):
        chat(client)
    assert time.perf_counter() - started < 2


def test_timeout_then_retry_succeeds(openai_server):
    client = openai_server.client(timeout=0.2, max_retries=1)
    openai_server.on(CHAT).once(delayed(seconds=5))
    assert chat(client).choices
    assert [r.headers["x-stainless-retry-count"] for r in openai_server.requests] == ["0", "1"]


def test_time_to_first_chunk_and_per_chunk_delay(openai_server, client):
    openai_server.on(CHAT).once(delayed("a b c d", first_chunk=0.3, per_chunk=0.05))
    started = time.perf_counter()
    with client.chat.completions.with_streaming_response.create(model="gpt-4o", messages=ASK, stream=True) as response:
        headers_at = time.perf_counter() - started  # headers come before the first chunk
        lines = [line for line in response.iter_lines() if line.startswith("data: {")]
    total = time.perf_counter() - started
    assert headers_at < 0.25
    assert total >= 0.3 + 0.05 * (len(lines) - 1)
    assert len(lines) >= 5


def test_stream_read_timeout_waiting_for_first_chunk(openai_server):
    client = openai_server.client(timeout=0.2)
    openai_server.on(CHAT).once(delayed(first_chunk=5))
    with pytest.raises(stream_timeout_errors()):
        list(chat(client, stream=True))


def test_a_delay_does_not_block_other_requests(openai_server, client):
    openai_server.on(CHAT, message="slow").delay(1.0)
    slow_done = threading.Event()

    def slow_call():
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "slow"}])
        slow_done.set()

    thread = threading.Thread(target=slow_call)
    thread.start()
    time.sleep(0.05)
    started = time.perf_counter()
    chat(client)
    assert time.perf_counter() - started < 0.5
    assert not slow_done.is_set()
    thread.join(5)
    assert slow_done.is_set()


async def test_async_delays_run_concurrently(openai_server, async_client):
    openai_server.on(CHAT).delay(0.3)
    started = time.perf_counter()
    await asyncio.gather(*[async_client.chat.completions.create(model="gpt-4o", messages=ASK) for _ in range(3)])
    assert time.perf_counter() - started < 0.8


def test_reset_ends_a_pending_delay(openai_server):
    client = openai_server.client()
    openai_server.on(CHAT).delay(30)
    errors: list[BaseException] = []

    def call():
        try:
            chat(client)
        except BaseException as exc:  # noqa: BLE001 - recorded for the assertion
            errors.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    time.sleep(0.1)
    started = time.perf_counter()
    openai_server.reset()
    thread.join(5)
    assert time.perf_counter() - started < 1
    assert errors and isinstance(errors[0], openai.APIConnectionError)


def test_stop_does_not_wait_for_a_delay():
    fake = FakeOpenAI().start()
    client = fake.client()
    fake.on(CHAT).delay(30)
    thread = threading.Thread(target=lambda: pytest.raises(openai.APIConnectionError, chat, client))
    thread.start()
    time.sleep(0.1)
    started = time.perf_counter()
    fake.stop()
    assert time.perf_counter() - started < 1
    thread.join(5)
    assert not thread.is_alive()


def test_faults_on_multipart_uploads(openai_server, client):
    """Upload endpoints get scripted faults too, without their body being read as JSON."""
    openai_server.fail_next(1, 429, endpoint="images.edit")
    with pytest.raises(openai.RateLimitError):
        client.images.edit(image=("in.png", b"not even a png", "image/png"), prompt="x", model="gpt-image-1")
