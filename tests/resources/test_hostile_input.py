"""Valid-looking but hostile requests get the real API's 400s or normal answers, never a 500.

Regressions from a fuzzing pass: each case below answered 500 (and failed its test) before.
Raw JSON goes through the SDK's low-level ``post`` so the SDK still reads and raises the reply.
"""

from __future__ import annotations

import json
import warnings

import openai
import pytest

from pytest_openai_fake.resources.images import render_png
from tests.sdk_features import raw_body

RAW_JSON = {"headers": {"Content-Type": "application/json"}}
HUGE = "1" + "0" * 400  # an integer no double can hold
ASK = [{"role": "user", "content": "hi"}]


def post_raw(client, path: str, content: bytes):
    return client.post(path, cast_to=object, **raw_body(content), options=RAW_JSON)


@pytest.mark.parametrize(
    ("path", "body", "param", "code"),
    [
        ("/chat/completions", f'{{"model": "gpt-4o", "messages": [{{"role": "user", "content": "hi"}}], "n": {HUGE}}}', "n", "integer_above_max_value"),
        ("/chat/completions", f'{{"model": "gpt-4o", "messages": [{{"role": "user", "content": "hi"}}], "max_tokens": -{HUGE}}}', "max_tokens", "integer_below_min_value"),
        ("/completions", f'{{"model": "gpt-3.5-turbo-instruct", "prompt": "hi", "logprobs": {HUGE}}}', "logprobs", "integer_above_max_value"),
        ("/images/generations", f'{{"model": "dall-e-2", "prompt": "a cat", "n": {HUGE}}}', "n", "integer_above_max_value"),
    ],
)
def test_integers_beyond_a_double_are_range_400s(client, path, body, param, code):
    with pytest.raises(openai.BadRequestError) as caught:
        post_raw(client, path, body.encode())
    assert (caught.value.param, caught.value.code) == (param, code)
    assert HUGE in caught.value.body["message"]


def test_a_huge_list_limit_is_a_range_400(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.get("/chat/completions", cast_to=object, options={"params": {"limit": HUGE}})
    assert caught.value.param == "limit"


def test_a_multipart_number_too_long_to_read_is_a_type_400(client):
    png = render_png(b"seed", 256, 256)
    with pytest.raises(openai.BadRequestError) as caught:
        client.post(
            "/images/variations",
            cast_to=object,
            body={"model": "dall-e-2", "n": "9" * 5000},
            files=[("image", ("cat.png", png, "image/png"))],
            options={"headers": {"Content-Type": "multipart/form-data"}},
        )
    assert caught.value.param == "n"


@pytest.mark.parametrize("broken", [{"required": 5}, {"properties": 5}])
async def test_async_strict_schemas_of_the_wrong_shape_are_schema_400s(async_client, broken):
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"], "additionalProperties": False, **broken}
    with pytest.raises(openai.BadRequestError) as caught:
        await async_client.chat.completions.create(
            model="gpt-4o", messages=ASK, response_format={"type": "json_schema", "json_schema": {"name": "x", "strict": True, "schema": schema}}
        )
    assert caught.value.code == "invalid_json_schema" and caught.value.param == "response_format"


# Eight branches without an instance before one with: the generator tries a bounded number of
# branches in a seed-dependent order, so some requests' seeds found none and crashed.
NO_INSTANCE = {"type": "object", "properties": {"a": False}, "required": ["a"]}
LAST_BRANCH = {"anyOf": [NO_INSTANCE] * 8 + [{"type": "object", "properties": {"b": {"type": "string"}}}]}


@pytest.mark.parametrize("prompt", [f"hi {i}" for i in range(6)])
def test_a_schema_that_passed_its_check_always_answers(client, prompt):
    messages = [{"role": "user", "content": prompt}]
    reply = client.chat.completions.create(
        model="gpt-4o", messages=messages, response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": LAST_BRANCH}}
    )
    assert isinstance(json.loads(reply.choices[0].message.content), dict)
    tools = [{"type": "function", "function": {"name": "f", "parameters": LAST_BRANCH}}]
    call = client.chat.completions.create(model="gpt-4o", messages=messages, tools=tools, tool_choice="required")
    assert isinstance(json.loads(call.choices[0].message.tool_calls[0].function.arguments), dict)


def test_numbers_at_the_edge_of_a_double(client):
    schema = {
        "type": "object",
        "properties": {"x": {"type": "number", "multipleOf": 1e308}, "y": {"type": "number", "exclusiveMinimum": 1e20}},
        "required": ["x", "y"],
    }
    reply = client.chat.completions.create(
        model="gpt-4o", messages=ASK, response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}
    )
    value = json.loads(reply.choices[0].message.content)
    assert value["x"] % 1e308 == 0 and value["y"] > 1e20


def test_a_schema_whose_instance_is_too_large_is_a_400(client):
    schema = {"type": "array", "minItems": 2000, "items": {"type": "string", "minLength": 10000}}
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="gpt-4o", messages=ASK, response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}
        )
    assert caught.value.code == "invalid_json_schema" and "too much work" in caught.value.message


def test_stored_completions_keep_deeply_nested_requests(client):
    nested = "[" * 600 + "]" * 600
    tools = f'[{{"type": "function", "function": {{"name": "f", "parameters": {{"type": "object", "x": {nested}}}}}}}]'
    body = f'{{"model": "gpt-4o", "messages": [{{"role": "user", "content": "hi"}}], "store": true, "tools": {tools}}}'
    created = post_raw(client, "/chat/completions", body.encode())
    assert client.chat.completions.retrieve(created["id"]).id == created["id"]


# Multipart forms past werkzeug's own limits (a text field over 500,000 bytes, more than 1,000
# parts) raised werkzeug's 413 inside the handler, which the fake answered with a 500.

LONG_PROMPT = "a" * 500_001


def test_a_prompt_past_werkzeugs_form_limit_reaches_the_prompt_length_check(client):
    png = render_png(b"seed", 256, 256, transparent=True)
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.edit(model="dall-e-2", image=("cat.png", png, "image/png"), prompt=LONG_PROMPT)
    assert caught.value.param == "prompt"
    assert "string too long" in caught.value.body["message"]
    assert "got a string with length 500001" in caught.value.body["message"]


@pytest.mark.parametrize("call", ["edit", "create_variation"])
def test_more_than_a_thousand_form_parts_is_a_400(client, call):
    png = render_png(b"seed", 256, 256)
    extra = {f"extra_{i}": "x" for i in range(1_001)}
    kwargs = {"prompt": "a cat"} if call == "edit" else {}
    with pytest.raises(openai.BadRequestError) as caught, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # create_variation is deprecated in the SDK
        getattr(client.images, call)(model="dall-e-2", image=("cat.png", png, "image/png"), extra_body=extra, **kwargs)
    assert caught.value.code == "unknown_parameter"


async def test_async_long_multipart_field_reaches_the_handler(async_client):
    png = render_png(b"seed", 256, 256)
    with warnings.catch_warnings():  # create_variation is deprecated in openai 3.x, not in 2.x
        warnings.simplefilter("ignore", DeprecationWarning)
        reply = await async_client.images.create_variation(model="dall-e-2", image=("cat.png", png, "image/png"), user=LONG_PROMPT)
    assert len(reply.data) == 1
