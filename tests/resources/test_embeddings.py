"""Embeddings through the real SDK.

``client`` / ``async_client`` validate strictly, which the SDK can only do for
``encoding_format="float"``: for base64 (its own default) it checks ``embedding`` against
``list[float]`` before decoding. Base64 replies are read with a plain ``openai_server.client()``.
"""

from __future__ import annotations

import base64
import json
import math
import struct

import openai
import pytest

from pytest_openai_fake import FakeOpenAI
from pytest_openai_fake.determinism import count_tokens

SMALL = "text-embedding-3-small"


def embed(client, texts, **kwargs):
    """The vectors of ``texts`` as float lists (float format: the strict clients can read it)."""
    reply = client.embeddings.create(model=kwargs.pop("model", SMALL), input=texts, encoding_format="float", **kwargs)
    return [item.embedding for item in reply.data]


def cosine(a, b):
    return sum(x * y for x, y in zip(a, b)) / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def norm(vector):
    return math.sqrt(math.fsum(x * x for x in vector))


def test_response_shape(client):
    reply = client.embeddings.create(model=SMALL, input=["first text", "second text"], encoding_format="float")
    assert reply.object == "list"
    assert reply.model == SMALL
    assert [item.index for item in reply.data] == [0, 1]
    assert {item.object for item in reply.data} == {"embedding"}
    assert [len(item.embedding) for item in reply.data] == [1536, 1536]
    assert (
        reply.usage.prompt_tokens
        == reply.usage.total_tokens
        == count_tokens("first text") + count_tokens("second text")
    )


def test_vectors_are_unit_length_and_repeat(client):
    first, again = embed(client, ["The quick brown fox."]), embed(client, ["The quick brown fox."])
    assert first == again
    assert norm(first[0]) == pytest.approx(1.0, abs=1e-6)
    assert len(set(first[0])) > 1000  # not a constant or a one-hot vector


def test_same_text_same_vector_in_any_batch_and_position(client):
    alone = embed(client, "alpha beta")[0]
    batch = embed(client, ["gamma", "alpha beta", "delta"])
    other = embed(client, ["alpha beta", "epsilon"])
    assert batch[1] == alone == other[0]
    assert batch[0] != batch[2]


def test_similarity_follows_shared_words(client):
    query, near, far, reordered, cased = embed(
        client,
        [
            "how do I reset my password",
            "reset your password from the account page",
            "the weather in paris is sunny today",
            "my password how do I reset",
            "How do I RESET my password?",
        ],
    )
    assert cosine(query, near) > cosine(query, far) + 0.1
    assert abs(cosine(query, far)) < 0.1  # no shared word: about orthogonal
    # the same words in another order or case: very close, never identical
    assert 0.9 < cosine(query, reordered) < 1.0 and query != reordered
    assert 0.9 < cosine(query, cased) < 1.0 and query != cased


def test_distinct_texts_are_never_near_duplicates(client):
    texts = [f"document number {i}" for i in range(20)]
    vectors = embed(client, texts)
    worst = max(cosine(a, b) for i, a in enumerate(vectors) for b in vectors[i + 1 :])
    assert worst < 0.95  # they share 2 of 3 words: similar, but not the same


def test_base64_and_float_agree_exactly(openai_server: FakeOpenAI, client):
    plain = openai_server.client()  # not strict: the SDK decodes base64 after validating
    texts = ["one two three", "four five", "über naïve café"]
    decoded = plain.embeddings.create(model=SMALL, input=texts)  # the SDK's default: base64
    assert [item.embedding for item in decoded.data] == embed(client, texts)
    raw = json.loads(plain.embeddings.with_raw_response.create(model=SMALL, input=texts).http_response.content)
    wire = raw["data"][0]["embedding"]
    assert isinstance(wire, str)
    data = base64.b64decode(wire)
    assert list(struct.unpack(f"<{len(data) // 4}f", data)) == decoded.data[0].embedding  # little-endian float32


def test_strict_sdk_rejects_base64_replies(client):
    # The SDK's own limitation (against api.openai.com too): strict validation runs before it
    # decodes the base64 it asked for. If this starts passing, update the module docstring.
    with pytest.raises(openai.APIResponseValidationError):
        client.embeddings.create(model=SMALL, input="hello")


@pytest.mark.parametrize(("count", "dimensions"), [(60, 1536), (300, 250)])
def test_large_batch_is_the_same_json(openai_server: FakeOpenAI, client, count, dimensions):
    # 64k components or more: serialised by the handler itself, which must give json.dumps' bytes.
    texts = [f"sentence {i} about rivers and {i % 7} bridges" for i in range(count)]
    response = openai_server.client().embeddings.with_raw_response.create(
        model=SMALL, input=texts, dimensions=dimensions
    )
    body = response.http_response.content
    assert int(response.headers["content-length"]) == len(body)
    assert json.dumps(json.loads(body), separators=(",", ":")).encode() == body
    reply = response.parse()
    assert [item.index for item in reply.data] == list(range(count))
    assert reply.data[42].embedding == embed(client, texts[42], dimensions=dimensions)[0]
    assert reply.usage.prompt_tokens == sum(count_tokens(t) for t in texts)


@pytest.mark.parametrize(
    ("model", "length"), [(SMALL, 1536), ("text-embedding-3-large", 3072), ("text-embedding-ada-002", 1536)]
)
def test_length_per_model(client, model, length):
    assert len(embed(client, "hello", model=model)[0]) == length


def test_models_give_different_vectors(client):
    small = embed(client, "hello world")[0]
    ada = embed(client, "hello world", model="text-embedding-ada-002")[0]
    assert abs(cosine(small, ada)) < 0.2


def test_custom_model_gets_the_default_length(openai_server: FakeOpenAI, client):
    openai_server.state.models.add("my-embedder")
    vector = embed(client, "hello", model="my-embedder")[0]
    assert len(vector) == 1536 and norm(vector) == pytest.approx(1.0, abs=1e-6)
    assert len(embed(client, "hello", model="my-embedder", dimensions=100)[0]) == 100


@pytest.mark.parametrize("dimensions", [1, 7, 256, 1000, 1535])
def test_dimensions_is_the_renormalised_prefix(client, dimensions):
    full = embed(client, "shorten me please")[0]
    short = embed(client, "shorten me please", dimensions=dimensions)[0]
    assert len(short) == dimensions
    assert norm(short) == pytest.approx(1.0, abs=1e-6)
    head = full[:dimensions]
    assert short == pytest.approx([x / norm(head) for x in head], rel=1e-6, abs=1e-7)


def test_full_dimensions_is_the_default_vector(client):
    assert embed(client, "x y", dimensions=1536) == embed(client, "x y")
    assert embed(client, "x y", model="text-embedding-3-large", dimensions=3072) == embed(
        client, "x y", model="text-embedding-3-large"
    )


def test_dimensions_in_base64(openai_server: FakeOpenAI, client):
    decoded = openai_server.client().embeddings.create(model=SMALL, input=["a b", "c"], dimensions=64)
    assert [item.embedding for item in decoded.data] == embed(client, ["a b", "c"], dimensions=64)


@pytest.mark.parametrize(
    ("model", "dimensions", "message", "code"),
    [
        ("text-embedding-ada-002", 512, "This model does not support specifying dimensions.", None),
        (SMALL, 1537, "Invalid 'dimensions': Must be less than or equal to 1536.", "invalid_value"),
        ("text-embedding-3-large", 4000, "Invalid 'dimensions': Must be less than or equal to 3072.", "invalid_value"),
        (
            SMALL,
            0,
            "Invalid 'dimensions': integer below minimum value. Expected a value >= 1, but got 0 instead.",
            "integer_below_min_value",
        ),
        (
            SMALL,
            -5,
            "Invalid 'dimensions': integer below minimum value. Expected a value >= 1, but got -5 instead.",
            "integer_below_min_value",
        ),
    ],
)
def test_bad_dimensions(client, model, dimensions, message, code):
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model=model, input="x", dimensions=dimensions, encoding_format="float")
    assert caught.value.body == {
        "message": message,
        "type": "invalid_request_error",
        "param": "dimensions",
        "code": code,
    }


def test_token_id_inputs(client):
    one = client.embeddings.create(model=SMALL, input=[101, 202, 303], encoding_format="float")
    assert len(one.data) == 1 and one.usage.prompt_tokens == 3
    many = client.embeddings.create(model=SMALL, input=[[101, 202, 303], [404, 505]], encoding_format="float")
    assert [len(item.embedding) for item in many.data] == [1536, 1536]
    assert many.usage.prompt_tokens == 5
    assert many.data[0].embedding == one.data[0].embedding
    # token ids are their own words: shared ids raise the similarity, as shared words do
    ids = embed(client, [[1, 2, 3, 4], [1, 2, 3, 9], [5, 6, 7, 8]])
    assert cosine(ids[0], ids[1]) > cosine(ids[0], ids[2]) + 0.2
    assert embed(client, [[1, 2, 3]]) != embed(client, "1 2 3")


# The real reply to an empty string, alone or in a list (aryn-ai/sycamore#943, openai-python#576).
INVALID_INPUT = "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference."


@pytest.mark.parametrize("value", ["", ["ok", ""], ["", "ok"], ["ok"] * 20 + [""]])
def test_empty_string_is_the_real_400(client, value):
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model=SMALL, input=value, encoding_format="float")
    assert caught.value.body == {"message": INVALID_INPUT, "type": "invalid_request_error", "param": None, "code": None}


async def test_async_empty_string_is_the_real_400(async_client):
    with pytest.raises(openai.BadRequestError) as caught:
        await async_client.embeddings.create(model=SMALL, input=["a", ""], encoding_format="float")
    assert caught.value.body == {"message": INVALID_INPUT, "type": "invalid_request_error", "param": None, "code": None}


@pytest.mark.parametrize(
    ("value", "message", "param"),
    [
        ([], "Invalid 'input': input cannot be an empty array.", "input"),
        ([[1, 2], []], "Invalid 'input[1]': input cannot be an empty array.", "input[1]"),
    ],
)
def test_empty_array(client, value, message, param):
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model=SMALL, input=value, encoding_format="float")
    assert caught.value.body == {"message": message, "type": "invalid_request_error", "param": param, "code": None}


def test_input_type_is_checked(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model=SMALL, input=["text", 3], encoding_format="float")
    assert caught.value.body["param"].startswith("input")
    assert caught.value.body["code"] == "invalid_type"


def test_at_most_2048_inputs(client):
    assert len(embed(client, ["x"] * 2048, dimensions=8)) == 2048  # short vectors: a small reply
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model=SMALL, input=["x"] * 2049, encoding_format="float")
    assert caught.value.body["message"] == "Invalid 'input': array length must be 2048 or less."
    assert caught.value.body["param"] == "input"


def test_at_most_8192_tokens_per_input(client):
    long_text = "abc " * 8200  # one token per " abc"
    assert count_tokens(long_text) > 8192
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model=SMALL, input=long_text, encoding_format="float")
    assert caught.value.body["message"] == "Invalid 'input': maximum context length is 8192 tokens."
    assert caught.value.body["param"] == "input"
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model=SMALL, input=["short", long_text], encoding_format="float")
    assert caught.value.body == {
        "message": "Invalid 'input[1]': maximum input length is 8192 tokens.",
        "type": "invalid_request_error",
        "param": "input[1]",
        "code": "invalid_value",
    }
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model=SMALL, input=[list(range(8193))], encoding_format="float")


def test_at_most_300k_tokens_per_request(client):
    text = "abc " * 7999
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model=SMALL, input=[text] * 38, encoding_format="float")
    tokens = 38 * count_tokens(text)
    assert caught.value.body == {
        "message": f"Requested {tokens} tokens, max 300000 tokens per request",
        "type": "max_tokens_per_request",
        "param": "input",
        "code": "max_tokens_per_request",
    }


def test_unknown_model_is_404(client):
    with pytest.raises(openai.NotFoundError) as caught:
        client.embeddings.create(model="text-embedding-4-imaginary", input="x", encoding_format="float")
    assert caught.value.body["code"] == "model_not_found"


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4o-mini", "whisper-1", "dall-e-3", "ft:gpt-4o-mini:acme::abc123"])
def test_models_of_other_endpoints_are_403(openai_server: FakeOpenAI, client, model):
    openai_server.state.models.add("ft:gpt-4o-mini:acme::abc123")
    with pytest.raises(openai.PermissionDeniedError) as caught:
        client.embeddings.create(model=model, input="x", encoding_format="float")
    assert caught.value.body["message"] == "You are not allowed to generate embeddings from this model"


@pytest.mark.openai_fake(models=["my-embedder", "gpt-4o"])
def test_restricted_catalog(client):
    assert len(embed(client, "x", model="my-embedder")[0]) == 1536
    with pytest.raises(openai.NotFoundError):
        embed(client, "x")
    with pytest.raises(openai.PermissionDeniedError):
        embed(client, "x", model="gpt-4o")


def test_request_is_captured(openai_server: FakeOpenAI, client):
    embed(client, ["a", "b"], user="user-1")
    request = openai_server.requests.last
    assert request.endpoint == "embeddings.create"
    assert request.json == {"model": SMALL, "input": ["a", "b"], "user": "user-1", "encoding_format": "float"}


async def test_async_float_and_base64(openai_server: FakeOpenAI, async_client):
    reply = await async_client.embeddings.create(model=SMALL, input=["async text", "more"], encoding_format="float")
    assert [len(item.embedding) for item in reply.data] == [1536, 1536]
    plain = openai_server.async_client(keep_alive=False)
    decoded = await plain.embeddings.create(model=SMALL, input=["async text", "more"])
    assert [item.embedding for item in decoded.data] == [item.embedding for item in reply.data]
    with pytest.raises(openai.BadRequestError):
        await async_client.embeddings.create(model=SMALL, input="", encoding_format="float")


def test_scripted_dict_reply_is_merged(openai_server: FakeOpenAI, client):
    openai_server.on("embeddings.create").respond({"usage": {"prompt_tokens": 7, "total_tokens": 7}})
    assert openai_server.client().embeddings.create(model=SMALL, input="hi").usage.prompt_tokens == 7  # base64
    assert client.embeddings.create(model=SMALL, input="hi", encoding_format="float").usage.total_tokens == 7


def test_scripted_vector_replaces_the_base64_one(openai_server: FakeOpenAI):
    openai_server.on("embeddings.create").respond({"data": [{"embedding": [0.6, 0.8]}]})
    reply = openai_server.client().embeddings.create(model=SMALL, input="anything")
    assert reply.data[0].embedding == [0.6, 0.8]
