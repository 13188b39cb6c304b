"""Streaming: the deltas add up to the same text the non-streamed call returns."""


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


async def test_async_client(async_openai_client):
    reply = await async_openai_client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}], max_tokens=3
    )
    assert reply.choices[0].finish_reason == "length"
    assert reply.usage.completion_tokens == 3
