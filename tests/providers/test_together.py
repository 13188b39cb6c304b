"""The Together AI profile, through the official ``together`` SDK (sync and async) and ``openai``.

Together clients here validate every reply strictly against the together SDK's types
(``_strict_response_validation=True``); ``openai`` clients point at the same server's ``/v1``.
"""

from __future__ import annotations

import base64
import json
import re
import struct
import urllib.error
import urllib.request
from typing import Any

import openai
import pytest

from pytest_openai_fake import FakeOpenAI
from pytest_openai_fake.providers.together import CATALOG

together = pytest.importorskip("together")

pytestmark = pytest.mark.openai_fake(provider="together")

CHAT = "meta-llama/Llama-3.3-70B-Instruct-Turbo"
BASE = "meta-llama/Llama-2-70b-hf"
EMBED = "BAAI/bge-base-en-v1.5"
IMAGE = "black-forest-labs/FLUX.1-schnell"
MESSAGES = [{"role": "user", "content": "Name three rivers."}]
STRICT: dict[str, Any] = {"api_key": "test-key", "max_retries": 0, "_strict_response_validation": True}
#: Together's request ids: ``oPBXTQt-4YNCb4-9ade09154f20a275``.
TOGETHER_ID = re.compile(r"^o[A-Za-z0-9]{6}-[A-Za-z0-9]{6}-[0-9a-f]{16}$")


@pytest.fixture
def tg(openai_server: FakeOpenAI) -> Any:
    """``together.Together`` validating every reply against the together SDK's types."""
    return together.Together(base_url=openai_server.url, **STRICT)


@pytest.fixture
async def atg(openai_server: FakeOpenAI) -> Any:
    client = together.AsyncTogether(base_url=openai_server.url, **STRICT)
    yield client
    await client.close()


@pytest.fixture
def oa(openai_server: FakeOpenAI) -> Any:
    """``openai.OpenAI`` at the Together server's ``/v1``, strict."""
    return openai_server.client(_strict_response_validation=True)


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


# -- chat ----------------------------------------------------------------------------------------


def test_chat_in_togethers_shape(tg):
    reply = tg.chat.completions.create(model=CHAT, messages=MESSAGES)
    assert TOGETHER_ID.match(reply.id)
    assert reply.object == "chat.completion"
    assert reply.model == CHAT
    assert reply.prompt == []
    choice = reply.choices[0]
    assert choice.message.role == "assistant" and choice.message.content
    assert choice.message.tool_calls == []
    assert choice.finish_reason == "stop"
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens
    extra = reply.model_dump()
    assert "system_fingerprint" not in extra and "service_tier" not in extra
    # Deterministic: the same request, the same answer.
    again = tg.chat.completions.create(model=CHAT, messages=MESSAGES)
    assert again.choices[0].message.content == choice.message.content


def test_chat_stream_in_togethers_shape(tg):
    whole = tg.chat.completions.create(model=CHAT, messages=MESSAGES)
    chunks = list(tg.chat.completions.create(model=CHAT, messages=MESSAGES, stream=True))
    with_choices = [c for c in chunks if c.choices]
    assert {c.id for c in chunks} == {chunks[0].id} and TOGETHER_ID.match(chunks[0].id)
    assert all(c.choices[0].delta.role == "assistant" for c in with_choices)
    assert all(c.choices[0].text == c.choices[0].delta.content for c in with_choices)
    assert "".join(c.choices[0].delta.content or "" for c in with_choices) == whole.choices[0].message.content
    assert with_choices[-1].choices[0].finish_reason == "stop"
    # The usage comes in a last chunk without choices, unasked.
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == whole.usage.total_tokens
    assert all(c.usage is None for c in chunks[:-1])


async def test_async_chat_and_stream(atg):
    reply = await atg.chat.completions.create(model=CHAT, messages=MESSAGES)
    stream = await atg.chat.completions.create(model=CHAT, messages=MESSAGES, stream=True)
    text = "".join([c.choices[0].delta.content async for c in stream if c.choices])
    assert text == reply.choices[0].message.content


def test_openai_sdk_at_v1_gets_the_same_answers(tg, oa):
    ours = oa.chat.completions.create(model=CHAT, messages=MESSAGES)
    theirs = tg.chat.completions.create(model=CHAT, messages=MESSAGES)
    assert ours.choices[0].message.content == theirs.choices[0].message.content
    assert not ours.id.startswith("chatcmpl-") and TOGETHER_ID.match(ours.id)
    assert ours.system_fingerprint is None
    stream = oa.chat.completions.create(model=CHAT, messages=MESSAGES, stream=True)
    last = list(stream)[-1]
    assert last.usage is not None and last.usage.completion_tokens == ours.usage.completion_tokens


def test_tool_calls_carry_their_index(tg):
    function = {"name": "get_weather", "parameters": {"type": "object", "properties": {}}}
    tools = [{"type": "function", "function": function}]
    messages = [{"role": "user", "content": "Use get_weather for Paris."}]
    reply = tg.chat.completions.create(model=CHAT, messages=messages, tools=tools, tool_choice="required")
    (call,) = reply.choices[0].message.tool_calls
    assert call.index == 0 and call.type == "function" and call.function.name == "get_weather"
    assert reply.choices[0].finish_reason == "tool_calls"


def test_integer_logprobs_is_the_number_of_top_logprobs(tg):
    reply = tg.chat.completions.create(model=CHAT, messages=MESSAGES, logprobs=2, max_tokens=5)
    content = reply.choices[0].logprobs.model_dump()["content"]
    assert "".join(item["token"] for item in content) == reply.choices[0].message.content
    assert [len(item["top_logprobs"]) for item in content] == [2] * reply.usage.completion_tokens
    stream = tg.chat.completions.create(model=CHAT, messages=MESSAGES, logprobs=2, max_tokens=5, stream=True)
    numbers = [c.choices[0].logprobs for c in stream if c.choices and c.choices[0].delta.content]
    assert numbers == [item["logprob"] for item in content]


# -- legacy completions ------------------------------------------------------------------------


def test_completions_through_together_sdk(tg):
    reply = tg.completions.create(model=BASE, prompt="The capital of France is", max_tokens=8)
    assert reply.object == "text.completion" and TOGETHER_ID.match(reply.id)
    assert reply.prompt == [] and reply.choices[0].text
    assert reply.usage.completion_tokens == 8 and reply.choices[0].finish_reason == "length"
    chunks = list(tg.completions.create(model=BASE, prompt="The capital of France is", max_tokens=8, stream=True))
    assert all(c.object == "completion.chunk" for c in chunks)
    assert "".join(c.token.text for c in chunks) == reply.choices[0].text
    assert "".join(c.choices[0].text for c in chunks if c.choices) == reply.choices[0].text
    assert chunks[-2].finish_reason == "length" and chunks[-1].usage.completion_tokens == 8


def sdk_model_ids(module: str, params: str) -> list[str]:
    """The model ids a together SDK params TypedDict names in its ``model`` Literal."""
    import importlib
    import typing

    from pytest_openai_fake.providers.openai import literal_strings

    hints = typing.get_type_hints(getattr(importlib.import_module(module), params), include_extras=True)
    return literal_strings(hints["model"])


@pytest.mark.parametrize("model", sdk_model_ids("together.types.completion_create_params", "CompletionCreateParamsBase"))
def test_every_completion_model_the_sdk_names_completes(tg, model):
    # Regression: mistralai/Mixtral-8x7B-v0.1 and others the SDK offers were Together's 404.
    reply = tg.completions.create(model=model, prompt="The capital of France is", max_tokens=4)
    assert reply.model == model and reply.choices[0].text


@pytest.mark.parametrize(
    ("module", "params"),
    [
        ("together.types.embedding_create_params", "EmbeddingCreateParams"),
        ("together.types.image_generate_params", "ImageGenerateParams"),
    ],
)
def test_every_embedding_and_image_model_the_sdk_names_is_listed(openai_server, module, params):
    missing = [model for model in sdk_model_ids(module, params) if model not in openai_server.state.models]
    assert not missing


async def test_async_completions(atg):
    reply = await atg.completions.create(model=CHAT, prompt="Once upon a time", max_tokens=4)
    stream = await atg.completions.create(model=CHAT, prompt="Once upon a time", max_tokens=4, stream=True)
    assert "".join([c.token.text async for c in stream]) == reply.choices[0].text


def test_completions_through_openai_sdk(openai_server):
    loose = openai_server.client()
    reply = loose.completions.create(model=BASE, prompt="Hello", max_tokens=4)
    assert reply.object == "text.completion" and reply.choices[0].text
    # Together's ``text.completion`` is not the ``text_completion`` the openai types name:
    # strict validation rejects it, as it would the real service's reply.
    with pytest.raises(openai.APIResponseValidationError):
        strict = openai_server.client(_strict_response_validation=True)
        strict.completions.create(model=BASE, prompt="Hello", max_tokens=4)


# -- embeddings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "size"),
    [
        ("BAAI/bge-base-en-v1.5", 768),
        ("BAAI/bge-large-en-v1.5", 1024),
        ("togethercomputer/m2-bert-80M-32k-retrieval", 768),
        ("intfloat/multilingual-e5-large-instruct", 1024),
        ("Alibaba-NLP/gte-modernbert-base", 768),
    ],
)
def test_embedding_sizes(tg, model, size):
    reply = tg.embeddings.create(model=model, input=["red apples", "green pears"])
    assert [len(item.embedding) for item in reply.data] == [size, size]
    assert reply.model == model


async def test_async_embeddings(atg):
    reply = await atg.embeddings.create(model=EMBED, input="red apples")
    assert len(reply.data[0].embedding) == 768


def test_embeddings_through_openai_sdk(oa, openai_server):
    floats = oa.embeddings.create(model=EMBED, input="red apples", encoding_format="float")
    decoded = openai_server.client().embeddings.create(model=EMBED, input="red apples")  # base64 on the wire
    assert len(floats.data[0].embedding) == 768
    assert decoded.data[0].embedding == pytest.approx(floats.data[0].embedding)


@pytest.mark.parametrize(
    ("extra", "names"),
    [
        ({"dimensions": 256}, "dimensions"),
        ({"user": "u-1"}, "user"),
        ({"user": "u-1", "dimensions": 256}, "dimensions, user"),
    ],
)
def test_embeddings_refuse_what_together_refuses(oa, extra, names):
    with pytest.raises(openai.BadRequestError) as caught:
        oa.embeddings.create(model=EMBED, input="red apples", encoding_format="float", **extra)
    assert caught.value.status_code == 400
    # Together's body for this error is the message alone (infiniflow/ragflow#18584): no id, type, param, code.
    assert caught.value.response.json() == {"error": {"message": f"Unrecognized request arguments supplied: {names}"}}
    assert caught.value.body == {"message": f"Unrecognized request arguments supplied: {names}"}
    assert (caught.value.type, caught.value.param, caught.value.code) == (None, None, None)


def test_embeddings_refuse_extra_body_through_together_sdk(tg):
    with pytest.raises(together.BadRequestError) as caught:
        tg.embeddings.create(model=EMBED, input="red apples", extra_body={"drop_params": True})
    assert caught.value.status_code == 400
    assert caught.value.body == {"error": {"message": "Unrecognized request arguments supplied: drop_params"}}
    # what infiniflow/ragflow#18584 quotes, word for word
    assert str(caught.value) == "Error code: 400 - {'error': {'message': 'Unrecognized request arguments supplied: drop_params'}}"


async def test_embeddings_refuse_extra_body_through_async_together_sdk(atg):
    with pytest.raises(together.BadRequestError) as caught:
        await atg.embeddings.create(model=EMBED, input="red apples", extra_body={"dimensions": 256, "user": "u-1"})
    assert caught.value.body == {"error": {"message": "Unrecognized request arguments supplied: dimensions, user"}}


def test_other_errors_keep_togethers_envelope_with_id(tg):
    with pytest.raises(together.NotFoundError) as caught:
        tg.embeddings.create(model="BAAI/bge-small-en-v9", input="red apples")
    assert set(caught.value.body) == {"id", "error"} and TOGETHER_ID.match(caught.value.body["id"])
    assert set(caught.value.body["error"]) == {"message", "type", "param", "code"}


def test_m2_bert_replies_without_usage(tg):
    raw = tg.embeddings.with_raw_response.create(model="togethercomputer/m2-bert-80M-32k-retrieval", input="red apples")
    assert "usage" not in raw.http_response.json()
    assert "usage" in tg.embeddings.with_raw_response.create(model=EMBED, input="red apples").http_response.json()


# -- images ------------------------------------------------------------------------------------


def test_images_as_base64_png(tg):
    reply = tg.images.generate(model=IMAGE, prompt="a lighthouse", width=256, height=128, n=2, response_format="base64")
    assert reply.object == "list" and reply.model == IMAGE and reply.id.endswith("-PDX")
    assert [(item.index, item.type) for item in reply.data] == [(0, "b64_json"), (1, "b64_json")]
    images = [base64.b64decode(item.b64_json) for item in reply.data]
    assert [_png_size(image) for image in images] == [(256, 128), (256, 128)]
    assert images[0] != images[1]
    again = tg.images.generate(model=IMAGE, prompt="a lighthouse", width=256, height=128, n=2, response_format="base64")
    assert again.data[0].b64_json == reply.data[0].b64_json


def test_images_default_to_urls(tg):
    reply = tg.images.generate(model=IMAGE, prompt="a lighthouse", width=128, height=128)
    (item,) = reply.data
    assert item.type == "url"
    with urllib.request.urlopen(item.url, timeout=5) as response:
        assert _png_size(response.read()) == (128, 128)


async def test_async_images(atg):
    reply = await atg.images.generate(model=IMAGE, prompt="a lighthouse", width=64, height=64, response_format="base64")
    assert _png_size(base64.b64decode(reply.data[0].b64_json)) == (64, 64)


def test_images_through_openai_sdk(openai_server):
    loose = openai_server.client()
    reply = loose.images.generate(model=IMAGE, prompt="a lighthouse", size="256x256", response_format="b64_json")
    assert _png_size(base64.b64decode(reply.data[0].b64_json)) == (256, 256)
    assert reply.created is None  # Together's reply has no ``created``: strict openai validation rejects it
    with pytest.raises(openai.APIResponseValidationError):
        strict = openai_server.client(_strict_response_validation=True)
        strict.images.generate(model=IMAGE, prompt="a lighthouse", size="256x256")


@pytest.mark.parametrize(
    ("model", "arguments", "message"),
    [
        (
            "black-forest-labs/FLUX.2-dev",
            {"width": 256},
            "Invalid value for 'width' parameter. Image width must be an integer value between 512 and 2048, "
            "in multiples of '16'.",
        ),
        (IMAGE, {"n": 5}, "Invalid value for 'n' parameter. n must be an integer value between 1 and 4."),
        (CHAT, {}, f"Model {CHAT} is not an image generation model."),
    ],
)
def test_image_parameters_checked(tg, model, arguments, message):
    with pytest.raises(together.BadRequestError) as caught:
        tg.images.generate(model=model, prompt="a lighthouse", **arguments)
    assert caught.value.body["error"]["message"] == message


# -- models ------------------------------------------------------------------------------------


def test_models_list_is_a_bare_array(tg):
    models = tg.get("/v1/models", cast_to=object)
    assert isinstance(models, list) and len(models) == len(CATALOG)
    by_id = {model["id"]: model for model in models}
    bge = by_id[EMBED]
    assert bge["object"] == "model" and bge["type"] == "embedding" and bge["context_length"] == 512
    assert bge["organization"] == "BAAI" and set(bge["pricing"]) == {"hourly", "input", "output", "base", "finetune"}
    assert by_id[CHAT]["type"] == "chat" and by_id[CHAT]["display_name"] == "Meta Llama 3.3 70B Instruct Turbo"
    assert by_id[IMAGE]["type"] == "image" and by_id[BASE]["type"] == "language"
    assert all("owned_by" not in model for model in models)


def test_openai_sdk_cannot_page_togethers_model_list(oa, openai_server):
    # Together's /v1/models is not OpenAI's page object: the openai SDK fails on it, as on the real service.
    with pytest.raises(openai.APIResponseValidationError):
        oa.models.list()
    with pytest.raises(AttributeError):  # without strict validation: the page cannot be built
        openai_server.client().models.list()


@pytest.mark.openai_fake(provider="together", problems="ignore")
def test_endpoints_together_lacks_are_404(oa, tg):
    with pytest.raises(openai.NotFoundError):
        oa.moderations.create(input="hello")
    with pytest.raises(openai.NotFoundError):
        oa.responses.create(model=CHAT, input="hello")
    with pytest.raises(openai.NotFoundError):
        oa.models.retrieve(CHAT)
    # together 3.x lists a project's custom models under /v2, which the fake does not serve.
    with pytest.raises(together.NotFoundError):
        tg.models.list(project_id="proj_1")


# -- errors ------------------------------------------------------------------------------------


def test_unknown_model_is_togethers_404(tg, oa):
    with pytest.raises(together.NotFoundError) as caught:
        tg.chat.completions.create(model="nope/not-a-model", messages=MESSAGES)
    body = caught.value.body
    assert TOGETHER_ID.match(body["id"])
    assert body["error"] == {
        "message": "Unable to access model nope/not-a-model. "
        "Please visit https://api.together.ai/models to view the list of supported models.",
        "type": "invalid_request_error",
        "param": None,
        "code": "model_not_available",
    }
    with pytest.raises(openai.NotFoundError) as seen:
        oa.embeddings.create(model="nope/not-a-model", input="x")
    assert seen.value.code == "model_not_available"


def test_missing_key_is_togethers_401(openai_server):
    request = urllib.request.Request(
        openai_server.url + "/v1/chat/completions",
        data=json.dumps({"model": CHAT, "messages": MESSAGES}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 401
    body = json.loads(caught.value.read())
    assert body["error"]["code"] == "invalid_api_key"
    assert body["error"]["message"] == (
        "Invalid API key provided. You can find your API key at https://api.together.ai/settings/api-keys."
    )


# -- scripting, faults, the request log, several providers ---------------------------------------


def test_scripted_reply_through_together_sdk(tg, openai_server):
    openai_server.on("chat.completions.create").respond("Scripted hello.")
    assert tg.chat.completions.create(model=CHAT, messages=MESSAGES).choices[0].message.content == "Scripted hello."
    stream = tg.chat.completions.create(model=CHAT, messages=MESSAGES, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "Scripted hello."
    last = openai_server.requests.last
    assert last.endpoint == "chat.completions.create" and last.path == "/v1/chat/completions"
    assert last.json["stream"] is True and "stream_options" not in last.json  # the log keeps what was sent


def test_scripted_dict_reply_is_merged_then_shaped(tg, openai_server):
    usage = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
    openai_server.on("chat.completions.create").respond({"usage": usage})
    reply = tg.chat.completions.create(model=CHAT, messages=MESSAGES)
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens, reply.usage.total_tokens) == (1, 2, 3)
    assert reply.prompt == [] and TOGETHER_ID.match(reply.id)


def test_scripted_fault_in_togethers_envelope(tg, openai_server):
    openai_server.on("embeddings.create").fail(429, times=1)
    with pytest.raises(together.RateLimitError) as caught:
        tg.embeddings.create(model=EMBED, input="x")
    assert set(caught.value.body) == {"id", "error"} and TOGETHER_ID.match(caught.value.body["id"])
    assert tg.embeddings.create(model=EMBED, input="x").data
    assert [r.status for r in openai_server.requests] == [429, 200]


@pytest.mark.openai_fake(provider="openai")
def test_fixture_clients_and_several_providers(openai_client, openai_servers, together_client, async_together_client):
    # Chat on OpenAI, embeddings on Together, in one test.
    answer = openai_client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    vectors = together_client.embeddings.create(model=EMBED, input=[answer.choices[0].message.content])
    assert len(vectors.data[0].embedding) == 768
    assert [r.endpoint for r in openai_servers["openai"].requests] == ["chat.completions.create"]
    assert [r.endpoint for r in openai_servers["together"].requests] == ["embeddings.create"]
    assert async_together_client.base_url == together_client.base_url


def test_json_mode_with_a_schema_follows_it(tg):
    # Regression: the schema was ignored ({"answer": ...}), and OpenAI's "json" word rule applied.
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}, "required": ["name", "age"]}
    reply = tg.chat.completions.create(
        model=CHAT, messages=[{"role": "user", "content": "Who wrote Hamlet?"}], response_format={"type": "json_object", "schema": schema}
    )
    value = json.loads(reply.choices[0].message.content)
    assert set(value) >= {"name", "age"} and isinstance(value["age"], int)
    plain = tg.chat.completions.create(model=CHAT, messages=[{"role": "user", "content": "Hi"}], response_format={"type": "json_object"})
    assert isinstance(json.loads(plain.choices[0].message.content), dict)
