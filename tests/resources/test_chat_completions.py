"""Chat completions through the real SDK, with strict response validation."""

from __future__ import annotations

import openai
import pytest

from pytest_openai_fake import FakeOpenAI
from pytest_openai_fake.determinism import count_tokens, tokenize
from pytest_openai_fake.providers.openai import literal_strings

MESSAGES = [{"role": "user", "content": "Summarise: the quick brown fox jumps over the lazy dog."}]


def test_reply_is_deterministic_per_prompt(client):
    first = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    again = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    other = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Something else"}])
    assert first.choices[0].message.content
    assert first.choices[0].message.content == again.choices[0].message.content
    assert other.choices[0].message.content != first.choices[0].message.content
    assert first.id != again.id and first.id.startswith("chatcmpl-")


def test_response_shape(client):
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert reply.object == "chat.completion"
    assert reply.model == "gpt-4o-mini"
    choice = reply.choices[0]
    assert choice.index == 0
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert choice.message.refusal is None
    assert choice.logprobs is None
    assert reply.system_fingerprint and reply.system_fingerprint.startswith("fp_")
    assert reply.service_tier == "default"
    assert reply.created == 1_767_225_600  # the fake clock's start


def test_usage_counts_match_text(client):
    reply = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    usage = reply.usage
    assert usage.completion_tokens == count_tokens(reply.choices[0].message.content)
    # 3 priming + per message (3 + text)
    assert usage.prompt_tokens == 3 + 3 + count_tokens(MESSAGES[0]["content"])
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert usage.prompt_tokens_details.cached_tokens == 0
    assert usage.completion_tokens_details.reasoning_tokens == 0


def test_n_choices_differ_and_are_counted(client):
    reply = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, n=3)
    texts = [c.message.content for c in reply.choices]
    assert [c.index for c in reply.choices] == [0, 1, 2]
    assert len(set(texts)) == 3
    assert reply.usage.completion_tokens == sum(count_tokens(t) for t in texts)


@pytest.mark.parametrize("param", ["max_tokens", "max_completion_tokens"])
def test_token_limit_truncates_with_finish_reason_length(client, param):
    full = client.chat.completions.create(model="gpt-4o", messages=MESSAGES).choices[0].message.content
    reply = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, **{param: 5})
    choice = reply.choices[0]
    assert choice.finish_reason == "length"
    assert choice.message.content == "".join(tokenize(full)[:5])
    assert reply.usage.completion_tokens == 5


def test_stop_sequence_cuts_the_text(client):
    full = client.chat.completions.create(model="gpt-4o", messages=MESSAGES).choices[0].message.content
    stop = full.split()[3]
    reply = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stop=[stop, "zzz-never"])
    assert reply.choices[0].finish_reason == "stop"
    assert reply.choices[0].message.content == full[: full.index(stop)]


def test_logprobs(client):
    reply = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, logprobs=True, top_logprobs=3)
    content = reply.choices[0].logprobs.content
    tokens = tokenize(reply.choices[0].message.content)
    assert [entry.token for entry in content] == tokens
    for entry in content:
        assert entry.logprob <= 0
        assert bytes(entry.bytes).decode() == entry.token
        assert len(entry.top_logprobs) == 3
        assert entry.top_logprobs[0].token == entry.token
        assert [t.logprob for t in entry.top_logprobs] == sorted((t.logprob for t in entry.top_logprobs), reverse=True)


def test_stream_concatenates_to_the_plain_reply(client):
    plain = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, n=2)
    stream = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, n=2, stream=True)
    texts = {0: "", 1: ""}
    finish = {}
    roles = set()
    for chunk in stream:
        assert chunk.object == "chat.completion.chunk"
        assert chunk.id.startswith("chatcmpl-")
        assert chunk.usage is None
        for choice in chunk.choices:
            if choice.delta.role:
                roles.add(choice.delta.role)
            texts[choice.index] += choice.delta.content or ""
            if choice.finish_reason:
                finish[choice.index] = choice.finish_reason
    assert roles == {"assistant"}
    assert texts == {c.index: c.message.content for c in plain.choices}
    assert finish == {0: "stop", 1: "stop"}


def test_stream_include_usage_sends_a_final_usage_chunk(client):
    plain = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
    )
    assert all(c.usage is None for c in chunks[:-1])
    assert chunks[-1].choices == []
    assert chunks[-1].usage.model_dump() == plain.usage.model_dump()


def test_stream_is_sse_ending_with_done(openai_server: FakeOpenAI, client):
    with client.chat.completions.with_streaming_response.create(
        model="gpt-4o", messages=MESSAGES, stream=True, max_tokens=2
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        raw = b"".join(response.iter_bytes())
    frames = [f for f in raw.split(b"\n\n") if f]
    assert all(f.startswith(b"data: ") for f in frames)
    assert frames[-1] == b"data: [DONE]"


def test_stream_logprobs_and_max_tokens(client):
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o", messages=MESSAGES, stream=True, logprobs=True, top_logprobs=1, max_tokens=4
        )
    )
    entries = [e for c in chunks for ch in c.choices if ch.logprobs for e in ch.logprobs.content]
    assert len(entries) == 4
    assert chunks[-1].choices[0].finish_reason == "length"


def test_seed_changes_the_text(client):
    a = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, seed=1)
    b = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, seed=2)
    assert a.choices[0].message.content != b.choices[0].message.content


def test_multimodal_and_tool_history_messages_are_accepted(client):
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "What is this?"}, {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "look", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "a cat"},
    ]
    reply = client.chat.completions.create(model="gpt-4o", messages=messages)
    assert reply.choices[0].message.content
    assert reply.usage.prompt_tokens > 85  # the image counts


async def test_async_create_and_stream(async_client):
    reply = await async_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    stream = await async_client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    text = ""
    async for chunk in stream:
        for choice in chunk.choices:
            text += choice.delta.content or ""
    assert text == reply.choices[0].message.content
    await async_client.close()


# DSPy's chat adapter ends a reply with "[[ ## completed ## ]]"; its stream listener holds back
# the last 10 chunks to catch that marker before passing text on. The real tokenizer keeps runs
# of punctuation together ("[[", " ##", " ]]"), so the marker spans 5 chunks; cut a character
# at a time it spanned 11, and DSPy leaked "[[ ## comp" into the answer.
DSPY_REPLY = "[[ ## answer ## ]]\nParis is the capital of France.\n\n[[ ## completed ## ]]"


def _marker_chunks(deltas: list[str], marker: str = "[[ ## completed ## ]]") -> int:
    """How many of the last chunks it takes to hold the whole marker."""
    return next(k for k in range(1, len(deltas) + 1) if marker in "".join(deltas[-k:]))


def test_stream_chunks_break_where_the_tokenizer_does(openai_server: FakeOpenAI, client):
    openai_server.on("chat.completions.create").respond(DSPY_REPLY)
    deltas = [c.choices[0].delta.content for c in client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
              if c.choices and c.choices[0].delta.content]
    assert "".join(deltas) == DSPY_REPLY
    assert deltas[-5:] == ["[[", " ##", " completed", " ##", " ]]"]
    assert _marker_chunks(deltas) == 5  # well within DSPy's 10-chunk buffer (cut a character at a time: 11)
    assert ".\n\n" in deltas and " Paris" not in deltas and "Paris" in deltas


async def test_async_responses_stream_chunks_break_where_the_tokenizer_does(openai_server: FakeOpenAI, async_client):
    openai_server.on("responses.create").respond(DSPY_REPLY)
    stream = await async_client.responses.create(model="gpt-4o", input="Capital of France?", stream=True)
    deltas = [event.delta async for event in stream if event.type == "response.output_text.delta"]
    assert "".join(deltas) == DSPY_REPLY
    assert _marker_chunks(deltas) == 5
    await async_client.close()


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "param", "code"),
    [
        ({"messages": []}, "messages", "empty_array"),
        ({"n": 0}, "n", "integer_below_min_value"),
        ({"n": 129}, "n", "integer_above_max_value"),
        ({"temperature": 2.5}, "temperature", "decimal_above_max_value"),
        ({"top_p": -0.1}, "top_p", "decimal_below_min_value"),
        ({"top_logprobs": 21, "logprobs": True}, "top_logprobs", "integer_above_max_value"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop", "array_above_max_length"),
        ({"messages": [{"role": "robot", "content": "hi"}]}, "messages[0].role", "invalid_value"),
        ({"messages": [{"role": "user", "content": 5}]}, "messages[0].content", "invalid_type"),
        ({"messages": [{"role": "tool", "content": "x"}]}, "messages[0].tool_call_id", "missing_required_parameter"),
        ({"n": "2"}, "n", "invalid_type"),
        ({"extra_body": {"frobnicate": True}}, "frobnicate", "unknown_parameter"),
    ],
)
def test_bad_arguments_get_the_real_400(client, kwargs, param, code):
    arguments = {"model": "gpt-4o", "messages": MESSAGES, **kwargs}
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(**arguments)
    error = caught.value
    assert error.status_code == 400
    assert error.body["param"] == param
    assert error.body["code"] == code
    assert error.body["type"] == "invalid_request_error"
    assert set(error.body) == {"message", "type", "param", "code"}


def test_unknown_model_is_404_model_not_found(client):
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-nonexistent", messages=MESSAGES)
    assert caught.value.body == {
        "message": "The model `gpt-nonexistent` does not exist or you do not have access to it.",
        "type": "invalid_request_error",
        "param": None,
        "code": "model_not_found",
    }


@pytest.mark.openai_fake(models=["gpt-4o-mini"])
def test_marker_models_restrict_chat(client):
    assert client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES).choices
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)


def test_requests_are_captured(openai_server: FakeOpenAI, openai_client):
    openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES, temperature=0.2)
    last = openai_server.requests.last
    assert last.endpoint == "chat.completions.create"
    assert last.method == "POST"
    assert last.path == "/v1/chat/completions"
    assert last.json["model"] == "gpt-4o"
    assert last.json["temperature"] == 0.2
    assert last.status == 200
    assert last.headers["authorization"].startswith("Bearer ")


def test_max_tokens_cuts_tool_call_arguments(client):
    tool = {
        "type": "function",
        "function": {
            "name": "file_report",
            "parameters": {"type": "object", "properties": {k: {"type": "string"} for k in "abcdefgh"}, "required": list("abcdefgh")},
        },
    }
    ask = [{"role": "user", "content": "file_report please"}]
    full = client.chat.completions.create(model="gpt-4o", messages=ask, tools=[tool], tool_choice="required")
    [call] = full.choices[0].message.tool_calls
    limit = full.usage.completion_tokens // 2
    cut = client.chat.completions.create(model="gpt-4o", messages=ask, tools=[tool], tool_choice="required", max_tokens=limit)
    assert cut.choices[0].finish_reason == "length" and cut.usage.completion_tokens == limit
    [partial] = cut.choices[0].message.tool_calls
    assert call.function.arguments.startswith(partial.function.arguments) and partial.function.arguments != call.function.arguments
    streamed = client.chat.completions.create(model="gpt-4o", messages=ask, tools=[tool], tool_choice="required", max_tokens=limit, stream=True)
    pieces = [d.function.arguments or "" for c in streamed for ch in c.choices for d in ch.delta.tool_calls or []]
    assert "".join(pieces) == partial.function.arguments


# -- parameters per model kind ------------------------------------------------------------------


def test_reasoning_models_take_max_completion_tokens_not_max_tokens(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="o3", messages=MESSAGES, max_tokens=50)
    assert caught.value.body == {
        "message": "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
        "type": "invalid_request_error",
        "param": "max_tokens",
        "code": "unsupported_parameter",
    }
    reply = client.chat.completions.create(model="o3", messages=MESSAGES, max_completion_tokens=500)
    assert reply.choices[0].message.content


def test_reasoning_tokens_count_toward_max_completion_tokens(client):
    full = client.chat.completions.create(model="o3", messages=MESSAGES)
    thinking = full.usage.completion_tokens_details.reasoning_tokens
    visible = full.usage.completion_tokens - thinking
    assert thinking >= 16 and visible > 1 and full.choices[0].finish_reason == "stop"
    # the limit leaves room for part of the answer
    cut = client.chat.completions.create(model="o3", messages=MESSAGES, max_completion_tokens=thinking + 1)
    assert cut.choices[0].finish_reason == "length" and cut.usage.completion_tokens == thinking + 1
    assert full.choices[0].message.content.startswith(cut.choices[0].message.content)
    # the model thinks through the whole limit: an empty answer, as the real API gives
    empty = client.chat.completions.create(model="o3", messages=MESSAGES, max_completion_tokens=thinking)
    assert empty.choices[0].message.content == "" and empty.choices[0].finish_reason == "length"
    assert empty.usage.completion_tokens == empty.usage.completion_tokens_details.reasoning_tokens == thinking
    both = client.chat.completions.create(model="o3", messages=MESSAGES, max_completion_tokens=16, n=2)  # 16: the least it thinks
    assert [(c.message.content, c.finish_reason) for c in both.choices] == [("", "length"), ("", "length")]
    assert both.usage.completion_tokens_details.reasoning_tokens == 32
    streamed = list(client.chat.completions.create(model="o3", messages=MESSAGES, max_completion_tokens=thinking, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == ""
    assert streamed[-1].choices[0].finish_reason == "length"


async def test_async_other_models_report_no_reasoning_tokens(async_client):
    reply = await async_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert reply.usage.completion_tokens_details.reasoning_tokens == 0


@pytest.mark.parametrize("name", ["temperature", "top_p"])
@pytest.mark.parametrize("model", ["o1", "o4-mini", "gpt-5", "gpt-5-mini", "ft:o4-mini-2025-04-16:acme::abc"])
def test_reasoning_models_take_only_the_default_sampling(openai_server, client, model, name):
    openai_server.state.models.add(model)
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=model, messages=MESSAGES, **{name: 0.2})
    assert caught.value.code == "unsupported_value" and caught.value.param == name
    assert caught.value.body["message"] == (
        f"Unsupported value: '{name}' does not support 0.2 with this model. Only the default (1) value is supported."
    )
    assert client.chat.completions.create(model=model, messages=MESSAGES, max_completion_tokens=500, **{name: 1}).choices[0].message.content


@pytest.mark.skipif(
    "none" not in literal_strings(openai.types.shared.ReasoningEffort), reason="this openai SDK has no reasoning effort 'none'"
)
def test_reasoning_effort_none_allows_sampling_parameters(client):
    reply = client.chat.completions.create(model="gpt-5.1", messages=MESSAGES, reasoning_effort="none", temperature=0.2)
    assert reply.choices[0].message.content


async def test_async_other_models_take_no_reasoning_effort(async_client):
    for model in ("gpt-4o", "gpt-5-chat-latest"):
        with pytest.raises(openai.BadRequestError) as caught:
            await async_client.chat.completions.create(model=model, messages=MESSAGES, reasoning_effort="low")
        assert caught.value.body["message"] == "Unsupported parameter: 'reasoning_effort' is not supported with this model."
        assert (caught.value.param, caught.value.code) == ("reasoning_effort", "unsupported_parameter")
    reply = await async_client.chat.completions.create(model="gpt-5-chat-latest", messages=MESSAGES, max_tokens=5, temperature=0.3)
    assert reply.choices[0].finish_reason == "length"
