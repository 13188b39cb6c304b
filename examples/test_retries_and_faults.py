"""Faults: rate limits, retries, timeouts and broken streams, without a network."""

import openai
import pytest

from pytest_openai_fake import cut_stream, delayed, error
from pytest_openai_fake.sdk import stream_cut_errors


def summarise(client: openai.OpenAI, text: str) -> str:
    """Code under test: relies on the SDK's retries."""
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": f"Summarise: {text}"}])
    return reply.choices[0].message.content


def test_retries_then_succeeds(openai_server):
    client = openai_server.client(max_retries=2)  # the fixture's client does not retry
    openai_server.fail_next(2, 429, retry_after=0.001)  # then normal replies
    assert summarise(client, "a long text")
    assert [r.headers["x-stainless-retry-count"] for r in openai_server.requests] == ["0", "1", "2"]


def test_gives_up_on_a_persistent_outage(openai_server):
    client = openai_server.client(max_retries=2)
    openai_server.on("chat.completions.create").fail(503, retry_after=0.001)
    with pytest.raises(openai.InternalServerError):
        summarise(client, "a long text")
    assert len(openai_server.requests) == 3


def test_times_out(openai_server):
    client = openai_server.client(timeout=0.1)
    openai_server.on("chat.completions.create").once(delayed(seconds=10))  # ended when the test ends
    with pytest.raises(openai.APITimeoutError):
        summarise(client, "a long text")


@pytest.mark.openai_fake(faults={"chat.completions.create": [error(500), cut_stream(after=2)]})
def test_faults_from_the_marker(openai_client):
    with pytest.raises(openai.InternalServerError):
        summarise(openai_client, "x")
    with pytest.raises(stream_cut_errors()):  # the stream breaks after two chunks
        list(openai_client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}], stream=True))
