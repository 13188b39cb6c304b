"""The Mistral profile through the official ``mistralai`` SDK (sync and async) and the ``openai`` SDK.

``mistral_client`` is ``mistralai.client.Mistral(server_url=<root>)``; ``client`` /
``async_client`` are strict ``openai`` clients at ``<root>/v1`` (tests/conftest.py).
"""

from __future__ import annotations

import json
import math
import re

import httpx2
import openai
import pytest

from pytest_openai_fake import FakeOpenAI, error, stream_error, tool_call, tool_calls
from pytest_openai_fake.determinism import count_tokens, tokenize
from pytest_openai_fake.providers.mistral import CHAT_PARAMS, EMBEDDING_PARAMS
from pytest_openai_fake.resources.fim import FIM_PARAMS

mistral_sdk = pytest.importorskip("mistralai.client")
from mistralai.client import errors as mistral_errors  # noqa: E402
from mistralai.client import models as mistral_models  # noqa: E402

pytestmark = pytest.mark.openai_fake(provider="mistral")

USER = [{"role": "user", "content": "Summarise: the quick brown fox jumps over the lazy dog."}]
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
TIME = {
    "type": "function",
    "function": {"name": "get_time", "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}, "required": ["zone"]}},
}
MISTRAL_ID = re.compile(r"[0-9a-f]{32}")
TOOL_CALL_ID = re.compile(r"[A-Za-z0-9]{9}")


def _wire_names(model: type) -> set[str]:
    return {field.alias or name for name, field in model.model_fields.items()}


def _raw(fake: FakeOpenAI, path: str, body: object, **headers: str) -> httpx2.Response:
    headers = {"Authorization": "Bearer sk-test", **headers}
    return httpx2.post(fake.url + path, headers=headers, json=body)


# -- the profile follows the SDK ------------------------------------------------------------------


def test_accepted_parameters_are_the_sdk_request_fields():
    assert CHAT_PARAMS == _wire_names(mistral_models.ChatCompletionRequest) == _wire_names(mistral_models.ChatCompletionStreamRequest)
    assert EMBEDDING_PARAMS == _wire_names(mistral_models.EmbeddingRequest)
    assert set(FIM_PARAMS) == _wire_names(mistral_models.FIMCompletionRequest)


# -- catalog --------------------------------------------------------------------------------------


def test_models_list_is_mistral_catalog(mistral_client):
    listed = mistral_client.models.list()
    cards = {card.id: card for card in listed.data}
    for model_id in ("mistral-large-latest", "mistral-medium-latest", "mistral-small-latest", "ministral-8b-latest",
                     "codestral-latest", "devstral-latest", "pixtral-large-latest", "magistral-medium-latest",
                     "open-mistral-nemo", "mistral-embed", "codestral-embed", "mistral-moderation-latest"):  # fmt: skip
        assert isinstance(cards[model_id], mistral_models.BaseModelCard), model_id
    codestral = cards["codestral-latest"]
    assert codestral.type == "base" and codestral.owned_by == "mistralai"
    assert codestral.capabilities.completion_fim and codestral.capabilities.completion_chat
    assert codestral.max_context_length == 256000
    assert codestral.aliases == ["codestral-2508"] and codestral.name == "codestral-2508"
    assert not cards["mistral-large-latest"].capabilities.completion_fim
    assert cards["pixtral-large-latest"].capabilities.vision
    assert not cards["mistral-embed"].capabilities.completion_chat
    assert cards["mistral-moderation-latest"].capabilities.moderation


async def test_models_retrieve_async(mistral_client):
    card = await mistral_client.models.retrieve_async(model_id="mistral-small-latest")
    assert card.id == "mistral-small-latest" and card.aliases == ["mistral-small-2506"]
    assert card.default_model_temperature == 0.3


def test_openai_sdk_lists_and_retrieves(client):
    ids = [model.id for model in client.models.list()]
    assert "mistral-large-latest" in ids and "gpt-4o" not in ids
    model = client.models.retrieve("codestral-latest")
    assert model.owned_by == "mistralai"
    assert model.model_extra["capabilities"]["completion_fim"] is True


def test_a_model_added_by_the_test_has_mistral_fields_and_can_be_deleted(openai_server, mistral_client):
    openai_server.state.models.add("ft:open-mistral-nemo:my-org:abc", owned_by="my-org")
    card = mistral_client.models.retrieve(model_id="ft:open-mistral-nemo:my-org:abc")
    assert card.type == "base" and card.capabilities.completion_chat
    deleted = mistral_client.models.delete(model_id="ft:open-mistral-nemo:my-org:abc")
    assert deleted.deleted and deleted.id == "ft:open-mistral-nemo:my-org:abc"
    with pytest.raises(mistral_errors.SDKError) as caught:
        mistral_client.models.delete(model_id="mistral-embed")
    assert caught.value.status_code == 403


# -- chat -----------------------------------------------------------------------------------------


def test_chat_complete_in_mistral_shape(openai_server, mistral_client):
    reply = mistral_client.chat.complete(model="mistral-large-latest", messages=USER)
    again = mistral_client.chat.complete(model="mistral-large-latest", messages=USER)
    assert isinstance(reply, mistral_models.ChatCompletionResponse)
    assert MISTRAL_ID.fullmatch(reply.id) and reply.id != again.id
    assert reply.object == "chat.completion" and reply.model == "mistral-large-latest"
    choice = reply.choices[0]
    assert choice.finish_reason == "stop" and choice.message.tool_calls is None
    assert choice.message.content and choice.message.content == again.choices[0].message.content
    assert reply.usage.completion_tokens == count_tokens(choice.message.content)
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens
    assert reply.usage.additional_properties == {"prompt_tokens_details": {"cached_tokens": 0}}
    sent = openai_server.requests.last.json
    assert sent == {"model": "mistral-large-latest", "messages": USER, "stream": False}
    raw = json.loads(_raw(openai_server, "/v1/chat/completions", {"model": "mistral-small-latest", "messages": USER}).content)
    assert set(raw) == {"id", "created", "model", "usage", "object", "choices"}
    assert set(raw["choices"][0]["message"]) == {"role", "tool_calls", "content"}


def test_random_seed_is_the_seed(mistral_client):
    def text(**kwargs):
        return mistral_client.chat.complete(model="mistral-small-latest", messages=USER, **kwargs).choices[0].message.content

    assert text(random_seed=1) == text(random_seed=1)
    assert text(random_seed=1) != text(random_seed=2)


def test_mistral_only_parameters_are_accepted(openai_server, mistral_client):
    reply = mistral_client.chat.complete(
        model="magistral-medium-latest", messages=USER, safe_prompt=True, prompt_mode="reasoning", min_tokens=1,
        top_k=5, repetition_penalty=1.1, metadata={"trace": {"nested": 1}}, service_tier="standard_only",
        reasoning_effort="high", max_tokens=5,
    )  # fmt: skip
    assert reply.choices[0].finish_reason == "length" and reply.usage.completion_tokens == 5
    sent = openai_server.requests.last.json
    assert sent["safe_prompt"] is True and sent["prompt_mode"] == "reasoning"


def test_stream_concatenates_to_the_reply_and_ends_with_usage(mistral_client):
    full = mistral_client.chat.complete(model="mistral-medium-latest", messages=USER).choices[0].message.content
    events = list(mistral_client.chat.stream(model="mistral-medium-latest", messages=USER))
    chunks = [e.data for e in events]
    assert all(isinstance(e, mistral_models.CompletionEvent) for e in events)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content for c in chunks if isinstance(c.choices[0].delta.content, str)) == full
    assert [c.choices[0].finish_reason for c in chunks][-1] == "stop"
    assert all(c.usage is None for c in chunks[:-1])
    assert chunks[-1].usage.completion_tokens == count_tokens(full)
    assert len({c.id for c in chunks}) == 1 and MISTRAL_ID.fullmatch(chunks[0].id)


async def test_async_complete_and_stream(mistral_client):
    reply = await mistral_client.chat.complete_async(model="ministral-8b-latest", messages=USER)
    stream = await mistral_client.chat.stream_async(model="ministral-8b-latest", messages=USER)
    text = ""
    async for event in stream:
        delta = event.data.choices[0].delta
        text += delta.content if isinstance(delta.content, str) else ""
    assert text == reply.choices[0].message.content


def test_tool_calls_in_mistral_format(mistral_client):
    reply = mistral_client.chat.complete(
        model="mistral-large-latest", messages=[{"role": "user", "content": "What is the weather in Paris?"}], tools=[WEATHER], tool_choice="any"
    )
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    [call] = choice.message.tool_calls
    assert TOOL_CALL_ID.fullmatch(call.id) and call.index == 0 and call.type == "function"
    assert call.function.name == "get_weather"
    assert isinstance(call.function.arguments, str) and set(json.loads(call.function.arguments)) == {"city"}


def test_tool_choice_any_and_none(mistral_client):
    question = [{"role": "user", "content": "Hello there"}]
    forced = mistral_client.chat.complete(model="mistral-small-latest", messages=question, tools=[WEATHER], tool_choice="any")
    assert forced.choices[0].message.tool_calls[0].function.name == "get_weather"
    auto = mistral_client.chat.complete(model="mistral-small-latest", messages=question, tools=[WEATHER], tool_choice="auto")
    assert auto.choices[0].message.tool_calls is None
    none = mistral_client.chat.complete(
        model="mistral-small-latest", messages=[{"role": "user", "content": "get weather please"}], tools=[WEATHER], tool_choice="none"
    )
    assert none.choices[0].message.tool_calls is None


def test_parallel_tool_calls(mistral_client):
    ask = [{"role": "user", "content": "get weather in Paris and get time there"}]
    both = mistral_client.chat.complete(model="mistral-large-latest", messages=ask, tools=[WEATHER, TIME])
    assert [c.function.name for c in both.choices[0].message.tool_calls] == ["get_weather", "get_time"]
    assert [c.index for c in both.choices[0].message.tool_calls] == [0, 1]
    one = mistral_client.chat.complete(model="mistral-large-latest", messages=ask, tools=[WEATHER, TIME], parallel_tool_calls=False)
    assert len(one.choices[0].message.tool_calls) == 1


def test_streamed_tool_calls_arrive_whole(mistral_client):
    ask = [{"role": "user", "content": "get weather in Paris and get time there"}]
    whole = mistral_client.chat.complete(model="mistral-large-latest", messages=ask, tools=[WEATHER, TIME]).choices[0].message.tool_calls
    chunks = [event.data for event in mistral_client.chat.stream(model="mistral-large-latest", messages=ask, tools=[WEATHER, TIME])]
    with_calls = [c for c in chunks if isinstance(c.choices[0].delta.tool_calls, list)]
    assert len(with_calls) == 1  # Mistral sends every call of a turn, complete, in one chunk
    streamed = with_calls[0].choices[0].delta.tool_calls
    assert [(c.function.name, json.loads(c.function.arguments), c.index) for c in streamed] == [
        (c.function.name, json.loads(c.function.arguments), c.index) for c in whole
    ]
    assert all(TOOL_CALL_ID.fullmatch(c.id) for c in streamed)
    assert chunks[-1].choices[0].finish_reason == "tool_calls" and chunks[-1].usage.total_tokens > 0


def test_tool_round_trip(mistral_client):
    ask = [{"role": "user", "content": "What is the weather in Paris?"}]
    call = mistral_client.chat.complete(model="mistral-large-latest", messages=ask, tools=[WEATHER], tool_choice="any").choices[0].message
    answer = mistral_client.chat.complete(
        model="mistral-large-latest",
        messages=[*ask, call, {"role": "tool", "name": "get_weather", "tool_call_id": call.tool_calls[0].id, "content": '{"temp": 21}'}],
        tools=[WEATHER],
    )
    assert answer.choices[0].finish_reason == "stop" and answer.choices[0].message.content


def test_tool_call_ids_must_be_nine_letters_or_digits(mistral_client):
    history = [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": "", "tool_calls": [{"id": "call_abc123", "function": {"name": "get_weather", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_abc123", "content": "sunny"},
    ]
    with pytest.raises(mistral_errors.SDKError) as caught:
        mistral_client.chat.complete(model="mistral-large-latest", messages=history)
    assert caught.value.status_code == 400
    assert json.loads(caught.value.body) == {
        "object": "error",
        "message": "Tool call id was call_abc123 but must be a-z, A-Z, 0-9, with a length of 9.",
        "type": "invalid_function_call",  # nearai/ironclaw#1241, editor-code-assistant/eca#233
        "param": None,
        "code": "3280",
        "raw_status_code": 400,
    }
    # the SDK's own ToolCall without an id sends the string "null"
    history[1]["tool_calls"] = [mistral_models.ToolCall(function=mistral_models.FunctionCall(name="get_weather", arguments={}))]
    with pytest.raises(mistral_errors.SDKError, match="Tool call id was null"):
        mistral_client.chat.complete(model="mistral-large-latest", messages=history)


def test_message_order_rules(mistral_client):
    called = [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": "", "tool_calls": [{"id": "abcDEF123", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
        {"role": "tool", "tool_call_id": "abcDEF123", "content": "sunny"},
    ]
    with pytest.raises(mistral_errors.SDKError) as caught:
        mistral_client.chat.complete(model="mistral-large-latest", messages=[*called, {"role": "user", "content": "thanks"}])
    body = json.loads(caught.value.body)
    assert (body["message"], body["type"], body["code"]) == ("Unexpected role 'user' after role 'tool'", "invalid_request_message_order", "3230")

    ending = [*USER, {"role": "assistant", "content": "The fox"}]
    with pytest.raises(mistral_errors.SDKError, match="Expected last role User or Tool"):
        mistral_client.chat.complete(model="mistral-large-latest", messages=ending)
    ending[-1]["prefix"] = True
    assert mistral_client.chat.complete(model="mistral-large-latest", messages=ending).choices[0].message.content


def test_structured_output_with_chat_parse(mistral_client):
    from pydantic import BaseModel

    class City(BaseModel):
        name: str
        population: int

    parsed = mistral_client.chat.parse(response_format=City, model="mistral-large-latest", messages=[{"role": "user", "content": "A city"}])
    city = parsed.choices[0].message.parsed
    assert isinstance(city, City) and city == City.model_validate_json(parsed.choices[0].message.content)


def test_logprobs_carry_token_ids(mistral_client):
    reply = mistral_client.chat.complete(model="mistral-small-latest", messages=USER, logprobs=True, top_logprobs=2, max_tokens=3)
    content = reply.choices[0].logprobs.content
    assert [entry.token for entry in content] == tokenize(reply.choices[0].message.content)
    assert all(isinstance(entry.token_id, int) and len(entry.top_logprobs) == 2 for entry in content)


def test_images_as_url_strings(mistral_client):
    message = {"role": "user", "content": [{"type": "text", "text": "What is it?"}, {"type": "image_url", "image_url": "https://example.com/a.png"}]}
    reply = mistral_client.chat.complete(model="pixtral-large-latest", messages=[message])
    assert reply.usage.prompt_tokens > count_tokens("What is it?") + 80  # the image is counted


def test_a_model_without_chat_is_an_invalid_model(mistral_client):
    with pytest.raises(mistral_errors.SDKError) as caught:
        mistral_client.chat.complete(model="mistral-embed", messages=USER)
    assert json.loads(caught.value.body)["message"] == "Invalid model: mistral-embed"


def test_openai_sdk_chat(client):
    reply = client.chat.completions.create(model="mistral-large-latest", messages=USER)
    assert MISTRAL_ID.fullmatch(reply.id) and reply.system_fingerprint is None
    assert reply.choices[0].message.content and reply.usage.prompt_tokens_details.cached_tokens == 0
    calls = client.chat.completions.create(
        model="mistral-large-latest", messages=[{"role": "user", "content": "get weather in Paris"}], tools=[WEATHER], tool_choice="required"
    ).choices[0].message.tool_calls
    assert TOOL_CALL_ID.fullmatch(calls[0].id) and calls[0].function.name == "get_weather"


async def test_openai_sdk_stream_with_tool_calls(async_client):
    stream = await async_client.chat.completions.create(
        model="mistral-large-latest", messages=[{"role": "user", "content": "get weather in Paris"}], tools=[WEATHER], stream=True
    )
    chunks = [chunk async for chunk in stream]
    calls = [call for chunk in chunks if chunk.choices for call in chunk.choices[0].delta.tool_calls or []]
    assert len(calls) == 1 and calls[0].function.name == "get_weather" and json.loads(calls[0].function.arguments)
    assert chunks[-1].usage is not None and chunks[-1].choices[0].finish_reason == "tool_calls"


@pytest.mark.parametrize(
    "extra", [{"store": True}, {"max_completion_tokens": 5}, {"stream_options": {"include_usage": True}}, {"user": "u1"}, {"seed": 1}]
)
def test_openai_only_parameters_are_422(client, extra):
    with pytest.raises(openai.UnprocessableEntityError) as caught:
        client.chat.completions.create(model="mistral-large-latest", messages=USER, stream="stream_options" in extra, **extra)
    [(key, value)] = extra.items()
    assert caught.value.body == {"detail": [{"type": "extra_forbidden", "loc": ["body", key], "msg": "Extra inputs are not permitted", "input": value}]}


def test_every_violation_is_listed_with_its_input(openai_server):
    # The request of Gitlawb/openclaude#739 and Mistral's reply to it, word for word.
    body = {"model": "codestral-2508", "messages": USER, "store": False, "max_completion_tokens": 8192}
    response = _raw(openai_server, "/v1/chat/completions", body)
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {"type": "extra_forbidden", "loc": ["body", "store"], "msg": "Extra inputs are not permitted", "input": False},
            {"type": "extra_forbidden", "loc": ["body", "max_completion_tokens"], "msg": "Extra inputs are not permitted", "input": 8192},
        ]
    }


def test_violations_in_pydantics_order(openai_server):
    # declared fields first, in the SDK's order (a missing field's input is the whole body), then extras as sent
    body = {"user": "u1", "top_p": 5, "random_seed": "7", "messages": [{"role": "developer", "content": "x"}, {"role": "user", "content": "y"}], "seed": 1}
    detail = _raw(openai_server, "/v1/chat/completions", body).json()["detail"]
    assert detail == [
        {"type": "missing", "loc": ["body", "model"], "msg": "Field required", "input": body},
        {"type": "literal_error", "loc": ["body", "messages", 0, "role"], "msg": "Input should be 'system', 'user', 'assistant' or 'tool'", "input": "developer"},
        {"type": "less_than_equal", "loc": ["body", "top_p"], "msg": "Input should be less than or equal to 1", "input": 5},
        {"type": "int_type", "loc": ["body", "random_seed"], "msg": "Input should be a valid integer", "input": "7"},
        {"type": "extra_forbidden", "loc": ["body", "user"], "msg": "Extra inputs are not permitted", "input": "u1"},
        {"type": "extra_forbidden", "loc": ["body", "seed"], "msg": "Extra inputs are not permitted", "input": 1},
    ]
    assert _raw(openai_server, "/v1/chat/completions", body).json()["detail"] == detail  # stable


def test_every_violation_through_the_mistralai_sdk(mistral_client):
    with pytest.raises(mistral_errors.HTTPValidationError) as caught:
        mistral_client.chat.complete(model="mistral-small-latest", messages=USER, temperature=3, top_p=1.5, random_seed=-1)
    assert caught.value.status_code == 422
    assert [(d.loc, d.type, d.input) for d in caught.value.data.detail] == [
        (["body", "temperature"], "less_than_equal", 3),
        (["body", "top_p"], "less_than_equal", 1.5),
        (["body", "random_seed"], "greater_than_equal", -1),
    ]


async def test_every_violation_through_the_async_mistralai_sdk(mistral_client):
    with pytest.raises(mistral_errors.HTTPValidationError) as caught:
        await mistral_client.embeddings.create_async(model="codestral-embed", inputs=["x"], metadata={"a": 1}, output_dimension=0, output_dtype="float", encoding_format="float")
    [detail] = caught.value.data.detail
    assert (detail.loc, detail.type, detail.input) == (["body", "output_dimension"], "greater_than_equal", 0)
    with pytest.raises(mistral_errors.HTTPValidationError) as caught:
        await mistral_client.fim.complete_async(model="codestral-latest", prompt="def f(", temperature=-1, top_p=2, max_tokens=-5)
    assert [(d.loc[1], d.type, d.input) for d in caught.value.data.detail] == [
        ("temperature", "greater_than_equal", -1),
        ("top_p", "less_than_equal", 2),
        ("max_tokens", "greater_than_equal", -5),
    ]


async def test_openai_sdk_422_lists_every_extra_argument(async_client):
    with pytest.raises(openai.UnprocessableEntityError) as caught:
        await async_client.chat.completions.create(model="mistral-large-latest", messages=USER, store=True, user="u1", max_completion_tokens=5)
    assert {(d["loc"][1], d["input"]) for d in caught.value.body["detail"]} == {("store", True), ("user", "u1"), ("max_completion_tokens", 5)}
    assert all(d["type"] == "extra_forbidden" for d in caught.value.body["detail"])


def test_shared_checks_report_their_input_too(client):
    with pytest.raises(openai.UnprocessableEntityError) as caught:
        client.chat.completions.create(model="mistral-large-latest", messages=USER, stop=["a", "b", "c", "d", "e"])
    [detail] = caught.value.body["detail"]
    assert (detail["loc"], detail["type"], detail["input"]) == (["body", "stop"], "too_long", ["a", "b", "c", "d", "e"])


def test_developer_role_is_422(client):
    with pytest.raises(openai.UnprocessableEntityError) as caught:
        client.chat.completions.create(model="mistral-large-latest", messages=[{"role": "developer", "content": "Be brief."}, *USER])
    assert caught.value.body["detail"][0]["loc"] == ["body", "messages", 0, "role"]


# -- embeddings -----------------------------------------------------------------------------------


def test_mistral_embed_has_1024_dimensions(openai_server, mistral_client):
    reply = mistral_client.embeddings.create(model="mistral-embed", inputs=["hello world", "bonjour le monde"])
    again = mistral_client.embeddings.create(model="mistral-embed", inputs=["hello world"])
    assert isinstance(reply, mistral_models.EmbeddingResponse) and MISTRAL_ID.fullmatch(reply.id)
    assert reply.object == "list" and reply.model == "mistral-embed"
    assert [item.index for item in reply.data] == [0, 1] and all(item.object == "embedding" for item in reply.data)
    assert [len(item.embedding) for item in reply.data] == [1024, 1024]
    assert math.isclose(math.hypot(*reply.data[0].embedding), 1.0, rel_tol=1e-5)
    assert reply.data[0].embedding == again.data[0].embedding
    assert reply.usage.prompt_tokens == reply.usage.total_tokens == count_tokens("hello world") + count_tokens("bonjour le monde")
    assert reply.usage.completion_tokens == 0
    assert openai_server.requests.last.json["input"] == ["hello world"]  # the SDK sends ``input``


async def test_codestral_embed_dimensions(mistral_client):
    default = await mistral_client.embeddings.create_async(model="codestral-embed", inputs=["def add(a, b): return a + b"])
    short = await mistral_client.embeddings.create_async(model="codestral-embed", inputs=["def add(a, b): return a + b"], output_dimension=256)
    longest = await mistral_client.embeddings.create_async(model="codestral-embed", inputs=["x"], output_dimension=3072)
    assert len(default.data[0].embedding) == 1536 and len(short.data[0].embedding) == 256 and len(longest.data[0].embedding) == 3072
    head = default.data[0].embedding[:256]
    norm = math.hypot(*head)
    assert all(math.isclose(a / norm, b, abs_tol=1e-5) for a, b in zip(head, short.data[0].embedding))  # the first dimensions, renormalised


def test_output_dtypes(mistral_client):
    def vector(dtype):
        return mistral_client.embeddings.create(model="codestral-embed", inputs=["fn main() {}"], output_dimension=64, output_dtype=dtype).data[0].embedding

    floats, int8, uint8, binary, ubinary = (vector(d) for d in ("float", "int8", "uint8", "binary", "ubinary"))
    assert len(floats) == len(int8) == len(uint8) == 64 and len(binary) == len(ubinary) == 8
    assert all(isinstance(v, int) or float(v).is_integer() for v in int8 + uint8 + binary + ubinary)
    assert max(abs(v) for v in int8) == 127 and min(int8) >= -128
    assert [v + 128 for v in int8] == uint8
    assert [v - 128 for v in ubinary] == binary
    bits = [(int(byte) >> (7 - i)) & 1 for byte in ubinary for i in range(8)]
    assert bits == [1 if x > 0 else 0 for x in floats]


def test_embedding_options_only_where_the_model_has_them(mistral_client):
    for option in ({"output_dimension": 512}, {"output_dtype": "int8"}):
        with pytest.raises(mistral_errors.SDKError) as caught:
            mistral_client.embeddings.create(model="mistral-embed", inputs=["x"], **option)
        assert caught.value.status_code == 400
    with pytest.raises(mistral_errors.HTTPValidationError) as caught:
        mistral_client.embeddings.create(model="codestral-embed", inputs=["x"], output_dimension=4096)
    assert caught.value.data.detail[0].loc == ["body", "output_dimension"] and caught.value.data.detail[0].type == "less_than_equal"
    with pytest.raises(mistral_errors.SDKError, match="Invalid model: mistral-large-latest"):
        mistral_client.embeddings.create(model="mistral-large-latest", inputs=["x"])


def test_openai_sdk_embeddings(client):
    reply = client.embeddings.create(model="mistral-embed", input=["a b c"], encoding_format="float")
    assert len(reply.data[0].embedding) == 1024 and reply.model_extra["id"]
    with pytest.raises(openai.UnprocessableEntityError) as caught:
        client.embeddings.create(model="codestral-embed", input="x", dimensions=256, encoding_format="float")
    assert caught.value.body["detail"][0]["type"] == "extra_forbidden"
    with pytest.raises(openai.UnprocessableEntityError) as caught:
        client.embeddings.create(model="mistral-embed", input=[[1, 2, 3]], encoding_format="float")
    assert caught.value.body["detail"] == [{"type": "string_type", "loc": ["body", "input", 0], "msg": "Input should be a valid string", "input": [1, 2, 3]}]


# -- FIM ------------------------------------------------------------------------------------------


def test_fim_complete(openai_server, mistral_client):
    reply = mistral_client.fim.complete(model="codestral-latest", prompt="def fib(n):\n    ", suffix="\n    return a")
    again = mistral_client.fim.complete(model="codestral-latest", prompt="def fib(n):\n    ", suffix="\n    return a")
    other = mistral_client.fim.complete(model="codestral-latest", prompt="def fib(n):\n    ", suffix="\n    return b")
    assert isinstance(reply, mistral_models.FIMCompletionResponse) and MISTRAL_ID.fullmatch(reply.id)
    assert reply.model == "codestral-latest" and reply.object == "chat.completion"
    text = reply.choices[0].message.content
    assert text and text == again.choices[0].message.content != other.choices[0].message.content
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage.prompt_tokens == count_tokens("def fib(n):\n    ") + count_tokens("\n    return a")
    assert reply.usage.completion_tokens == count_tokens(text)
    assert openai_server.requests.last.endpoint == "fim.complete"


def test_fim_max_tokens_and_stop(mistral_client):
    full = mistral_client.fim.complete(model="codestral-2508", prompt="x = ").choices[0].message.content
    cut = mistral_client.fim.complete(model="codestral-2508", prompt="x = ", max_tokens=2)
    assert cut.choices[0].finish_reason == "length" and cut.choices[0].message.content == "".join(tokenize(full)[:2])
    word = full.split()[2]
    stopped = mistral_client.fim.complete(model="codestral-2508", prompt="x = ", stop=[word])
    assert stopped.choices[0].message.content == full[: full.find(word)]


def test_fim_stream(mistral_client):
    full = mistral_client.fim.complete(model="codestral-latest", prompt="import os\n", suffix="print(path)")
    chunks = [event.data for event in mistral_client.fim.stream(model="codestral-latest", prompt="import os\n", suffix="print(path)")]
    text = "".join(c.choices[0].delta.content for c in chunks if isinstance(c.choices[0].delta.content, str))
    assert text == full.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == "stop" and chunks[-1].usage.total_tokens == full.usage.total_tokens


async def test_fim_async(mistral_client):
    reply = await mistral_client.fim.complete_async(model="codestral-latest", prompt="fn main() {")
    stream = await mistral_client.fim.stream_async(model="codestral-latest", prompt="fn main() {")
    text = "".join([e.data.choices[0].delta.content async for e in stream if isinstance(e.data.choices[0].delta.content, str)])
    assert text == reply.choices[0].message.content


def test_fim_only_for_codestral(mistral_client):
    with pytest.raises(mistral_errors.SDKError) as caught:
        mistral_client.fim.complete(model="mistral-large-latest", prompt="def f(")
    assert caught.value.status_code == 400
    assert json.loads(caught.value.body) == {
        "object": "error",
        "message": "FIM is not enabled for this model",
        "type": "invalid_request_invalid_args",
        "param": None,
        "code": "3051",
        "raw_status_code": 400,
    }


def test_fim_bad_bodies_are_422(openai_server):
    extra = _raw(openai_server, "/v1/fim/completions", {"model": "codestral-latest", "prompt": "x", "echo": True})
    assert extra.status_code == 422 and extra.json()["detail"][0]["type"] == "extra_forbidden"
    missing = _raw(openai_server, "/v1/fim/completions", {"model": "codestral-latest"})
    assert missing.json() == {"detail": [{"type": "missing", "loc": ["body", "prompt"], "msg": "Field required", "input": {"model": "codestral-latest"}}]}
    wrong = _raw(openai_server, "/v1/fim/completions", {"model": "codestral-latest", "prompt": "x", "max_tokens": "5"})
    assert wrong.json()["detail"][0]["type"] == "int_type"


def test_fim_scripted_reply(openai_server, mistral_client):
    openai_server.on("fim.complete").respond("return a + b")
    reply = mistral_client.fim.complete(model="codestral-latest", prompt="def add(a, b):\n    ")
    assert reply.choices[0].message.content == "return a + b"


# -- errors ---------------------------------------------------------------------------------------


def test_unknown_model_is_400_invalid_model(mistral_client, client):
    with pytest.raises(mistral_errors.SDKError) as caught:
        mistral_client.chat.complete(model="mistral-gigantic", messages=USER)
    assert caught.value.status_code == 400
    assert json.loads(caught.value.body) == {
        "object": "error",
        "message": "Invalid model: mistral-gigantic",
        "type": "invalid_model",
        "param": None,
        "code": "1500",
        "raw_status_code": 400,
    }
    with pytest.raises(openai.BadRequestError) as caught_openai:
        client.embeddings.create(model="mistral-embedder", input="x", encoding_format="float")
    assert caught_openai.value.body["message"] == "Invalid model: mistral-embedder"


async def test_invalid_bodies_are_http_validation_errors(mistral_client):
    with pytest.raises(mistral_errors.HTTPValidationError) as caught:
        await mistral_client.chat.complete_async(model="mistral-small-latest", messages=USER, top_p=1.5)
    assert caught.value.status_code == 422
    [detail] = caught.value.data.detail
    assert (detail.loc, detail.type, detail.msg) == (["body", "top_p"], "less_than_equal", "Input should be less than or equal to 1")


def test_invalid_json_is_422(openai_server):
    response = httpx2.post(openai_server.url + "/v1/chat/completions", headers={"Authorization": "Bearer k"}, content=b"{nope")
    assert response.status_code == 422
    assert response.json() == {"detail": [{"type": "json_invalid", "loc": ["body", 0], "msg": "JSON decode error", "input": {}}]}


def test_missing_key_is_401(openai_server):
    response = httpx2.get(openai_server.url + "/v1/models")
    assert response.status_code == 401 and response.json() == {"detail": "Unauthorized"}


@pytest.mark.openai_fake(problems="ignore")
def test_endpoints_mistral_does_not_serve_are_404(client):
    with pytest.raises(openai.NotFoundError) as caught:
        client.responses.create(model="mistral-large-latest", input="hi")
    assert caught.value.body["message"] == "no Route matched with those values"
    with pytest.raises(openai.NotFoundError):
        client.moderations.create(model="mistral-moderation-latest", input="hi")


def test_scripted_faults_in_mistral_shape(openai_server, mistral_client):
    openai_server.on("chat.completions.create").fail(429)
    with pytest.raises(mistral_errors.SDKError) as caught:
        mistral_client.chat.complete(model="mistral-small-latest", messages=USER)
    assert caught.value.status_code == 429
    body = json.loads(caught.value.body)
    assert (body["message"], body["type"], body["code"]) == ("Rate limit exceeded", "rate_limited", "1300")

    openai_server.on("embeddings.create").respond(error(503, message="Service unavailable"))
    with pytest.raises(mistral_errors.SDKError) as caught:
        mistral_client.embeddings.create(model="mistral-embed", inputs=["x"])
    assert caught.value.status_code == 503 and json.loads(caught.value.body)["message"] == "Service unavailable"


def test_mid_stream_error_is_a_finish_reason_error_chunk(openai_server, mistral_client):
    # Mistral ends a failing stream with finish_reason "error" (mistralai/client-python#74); the
    # mistralai SDK types it, so the test sees a chunk rather than a ResponseValidationError.
    openai_server.on("chat.completions.create").respond(stream_error(after=3))
    chunks = [event.data for event in mistral_client.chat.stream(model="mistral-small-latest", messages=USER)]
    assert len(chunks) == 4 and [c.choices[0].finish_reason for c in chunks] == [None, None, None, "error"]
    assert chunks[-1].id == chunks[0].id and chunks[-1].choices[0].delta.content == ""


async def test_mid_stream_error_async_and_fim(openai_server, mistral_client):
    openai_server.on("chat.completions.create").respond(stream_error(after=1))
    stream = await mistral_client.chat.stream_async(model="mistral-small-latest", messages=USER)
    assert [event.data.choices[0].finish_reason async for event in stream] == [None, "error"]
    openai_server.on("fim.complete").respond(stream_error(after=2))
    stream = await mistral_client.fim.stream_async(model="codestral-latest", prompt="def add(a, b):")
    assert [event.data.choices[0].finish_reason async for event in stream] == [None, None, "error"]


def test_mid_stream_error_through_the_openai_sdk(openai_server):
    openai_server.on("chat.completions.create").respond(stream_error(after=2))
    chunks = list(openai_server.client().chat.completions.create(model="mistral-small-latest", messages=USER, stream=True))
    assert [c.choices[0].finish_reason for c in chunks] == [None, None, "error"]


# -- scripting through the mistralai SDK ----------------------------------------------------------


def test_scripted_reply_and_tool_calls(openai_server, mistral_client):
    openai_server.on("chat.completions.create").once(
        "Bonjour !",
        tool_calls(tool_call("get_weather", {"city": "Paris"}), tool_call("get_time", {"zone": "CET"})),
        tool_call("get_weather", {"city": "Lyon"}, id="Lyon00001"),
    )
    assert mistral_client.chat.complete(model="mistral-small-latest", messages=USER).choices[0].message.content == "Bonjour !"
    message = mistral_client.chat.complete(model="mistral-small-latest", messages=USER, tools=[WEATHER, TIME]).choices[0].message
    assert [(c.function.name, json.loads(c.function.arguments)) for c in message.tool_calls] == [("get_weather", {"city": "Paris"}), ("get_time", {"zone": "CET"})]
    assert all(TOOL_CALL_ID.fullmatch(c.id) for c in message.tool_calls) and message.tool_calls[0].id != message.tool_calls[1].id

    chunks = [e.data for e in mistral_client.chat.stream(model="mistral-small-latest", messages=USER, tools=[WEATHER])]
    [call] = next(c.choices[0].delta.tool_calls for c in chunks if isinstance(c.choices[0].delta.tool_calls, list))
    assert (call.id, json.loads(call.function.arguments)) == ("Lyon00001", {"city": "Lyon"})
    assert openai_server.requests.filter(endpoint="chat.completions.create")[-1].status == 200


def test_several_providers_in_one_test(openai_servers, mistral_client):
    openai_servers["mistral"].on("chat.completions.create").respond("from mistral")
    assert mistral_client.chat.complete(model="mistral-small-latest", messages=USER).choices[0].message.content == "from mistral"
    embedded = openai_servers["openai"].client().embeddings.create(model="text-embedding-3-small", input="x", encoding_format="float")
    assert len(embedded.data[0].embedding) == 1536
    assert openai_servers["mistral"].requests.last.endpoint == "chat.completions.create"


def test_strict_json_schema_is_not_held_to_openais_rules(mistral_client):
    # Regression: OpenAI's strict-schema 400 ("'additionalProperties' is required ...") was applied.
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    reply = mistral_client.chat.complete(
        model="mistral-small-latest",
        messages=[{"role": "user", "content": "A city?"}],
        response_format={"type": "json_schema", "json_schema": {"name": "place", "schema": schema, "strict": True}},
    )
    assert "city" in json.loads(reply.choices[0].message.content)


# -- null: "not given" where the SDK types a field Nullable, pydantic's type error elsewhere ------


def _non_nullable(model: type) -> set[str]:
    """The fields of a mistralai request model that may be left out but not sent as null."""
    return {field.alias or name for name, field in model.model_fields.items() if not field.is_required() and "Nullable" not in str(field.annotation)}


def test_not_null_fields_are_the_sdks_non_nullable_ones():
    from pytest_openai_fake.providers.mistral import _CHAT_NOT_NULL, _EMBEDDING_NOT_NULL

    required = {"model", "messages"}
    assert _CHAT_NOT_NULL - required == _non_nullable(mistral_models.ChatCompletionRequest) - {"tool_choice"}
    assert _EMBEDDING_NOT_NULL - {"model", "input"} == _non_nullable(mistral_models.EmbeddingRequest) - {"encoding_format"}
    assert {k for k, allowed in FIM_PARAMS.items() if type(None) not in allowed} - {"model", "prompt"} == _non_nullable(mistral_models.FIMCompletionRequest)


def test_null_for_a_nullable_field_is_not_given(openai_server, client):
    nulls = dict.fromkeys(("temperature", "top_p", "max_tokens", "random_seed", "n", "tools", "stop", "metadata", "tool_choice"))
    body = {"model": "mistral-small-latest", "messages": USER, **nulls}
    response = _raw(openai_server, "/v1/chat/completions", body)
    assert response.status_code == 200, response.text
    assert len(response.json()["choices"]) == 1


@pytest.mark.parametrize(
    ("path", "body", "key", "kind", "msg"),
    [
        ("/v1/chat/completions", {"model": "mistral-small-latest", "messages": USER, "stream": None}, "stream", "bool_type", "Input should be a valid boolean"),
        ("/v1/chat/completions", {"model": "mistral-small-latest", "messages": USER, "response_format": None}, "response_format", "dict_type", "Input should be a valid dictionary"),
        ("/v1/embeddings", {"model": "mistral-embed", "input": "hi", "output_dtype": None}, "output_dtype", "literal_error", None),
        ("/v1/chat/completions", {"model": None, "messages": USER}, "model", "string_type", "Input should be a valid string"),
    ],
)
def test_null_for_a_non_nullable_field_is_422(openai_server, path, body, key, kind, msg):
    response = _raw(openai_server, path, body)
    assert response.status_code == 422
    [detail] = response.json()["detail"]
    assert (detail["loc"], detail["type"], detail["input"]) == (["body", key], kind, None)
    if msg:
        assert detail["msg"] == msg
