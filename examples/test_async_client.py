"""Async code under test: ``async def`` tests with pytest-asyncio and ``async_openai_client``.

``async_openai_client`` is an ``openai.AsyncOpenAI`` pointed at the fake (``max_retries=0``). It
keeps no idle connections, so it needs no closing. Needs ``pip install pytest-asyncio``; the
tests carry ``@pytest.mark.asyncio``, so they run in pytest-asyncio's strict mode too.
"""

import asyncio

import pytest

pytest.importorskip("pytest_asyncio", reason="async def tests need pytest-asyncio: pip install pytest-asyncio")

import openai

pytestmark = pytest.mark.asyncio

MODEL = "gpt-4o-mini"


async def answer(client: openai.AsyncOpenAI, question: str) -> str:
    """The code under test: any coroutine that takes an AsyncOpenAI client."""
    reply = await client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": question}])
    return reply.choices[0].message.content


async def test_answer(async_openai_client, openai_server):
    openai_server.on("chat.completions.create", message="capital of France").respond("Paris.")

    assert await answer(async_openai_client, "What is the capital of France?") == "Paris."
    assert openai_server.requests.last.json["messages"][0]["content"] == "What is the capital of France?"


async def test_concurrent_calls(async_openai_client, openai_server):
    questions = [f"question {i}" for i in range(5)]

    replies = await asyncio.gather(*(answer(async_openai_client, q) for q in questions))

    assert all(replies)
    assert sorted(r.json["messages"][0]["content"] for r in openai_server.requests) == questions


async def test_streaming(async_openai_client):
    stream = await async_openai_client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Tell me a story"}], stream=True
    )
    text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices])

    assert text == await answer(async_openai_client, "Tell me a story")  # deterministic


async def test_errors_are_the_sdks(async_openai_client, openai_server):
    openai_server.fail_next(1, 429)

    with pytest.raises(openai.RateLimitError):
        await answer(async_openai_client, "hi")
    assert await answer(async_openai_client, "hi")  # the next call succeeds
