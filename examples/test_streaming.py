"""Streaming: the deltas add up to the same text the non-streamed call returns."""

import asyncio


def collect(stream) -> str:
    return "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)


def test_stream_matches_plain_reply(openai_client):
    messages = [{"role": "user", "content": "Tell me a story."}]
    plain = openai_client.chat.completions.create(model="gpt-4o", messages=messages)
    streamed = collect(openai_client.chat.completions.create(model="gpt-4o", messages=messages, stream=True))
    assert streamed == plain.choices[0].message.content


def test_usage_arrives_in_the_last_chunk(openai_client):
    chunks = list(
        openai_client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "Count my tokens."}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert chunks[-1].choices == []
    assert chunks[-1].usage.total_tokens == chunks[-1].usage.prompt_tokens + chunks[-1].usage.completion_tokens


def test_async_client(openai_server):
    """AsyncOpenAI works the same (with pytest-asyncio, write ``async def`` tests and use
    ``async_openai_client``; this one runs its own loop so it needs no plugin)."""

    async def ask() -> tuple[str, int]:
        async with openai_server.async_client() as client:
            reply = await client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "hi"}], max_tokens=3
            )
        return reply.choices[0].finish_reason, reply.usage.completion_tokens

    assert asyncio.run(ask()) == ("length", 3)
