"""Request validation against the SDK's params TypedDicts."""

from __future__ import annotations

import pytest
from openai.types.chat.completion_create_params import CompletionCreateParamsNonStreaming as Params

from pytest_openai_fake.errors import OpenAIError
from pytest_openai_fake.params import validate

OK = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize(
    "body",
    [
        OK,
        {**OK, "temperature": 1, "top_p": 0.5, "stop": "\n", "n": None, "metadata": {"a": "b"}},
        {**OK, "messages": [{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "image_url", "image_url": {"url": "data:"}}]}]},
        {**OK, "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}], "tool_choice": "auto"},
        {**OK, "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {}, "strict": True}}},
    ],
)
def test_valid_bodies_pass(body):
    validate(body, Params)


@pytest.mark.parametrize(
    ("body", "param", "code", "message"),
    [
        ({"messages": []}, "model", "missing_required_parameter", "Missing required parameter: 'model'."),
        ({**OK, "bogus": 1}, "bogus", "unknown_parameter", "Unrecognized request argument supplied: bogus"),
        ({**OK, "temperature": "hot"}, "temperature", "invalid_type", "Invalid type for 'temperature': expected one of a number or null, but got a string instead."),
        ({**OK, "messages": [{"role": "robot", "content": "x"}]}, "messages[0].role", "invalid_value", None),
        ({**OK, "messages": [{"content": "x"}]}, "messages[0].role", "missing_required_parameter", None),
        ({**OK, "tool_choice": {"type": "function"}}, "tool_choice.function", "missing_required_parameter", None),
        ({**OK, "stream": True}, "stream", "invalid_value", None),
        ({**OK, "logprobs": 1}, "logprobs", "invalid_type", None),
        ({**OK, "n": True}, "n", "invalid_type", None),
    ],
)
def test_invalid_bodies_get_the_real_400(body, param, code, message):
    with pytest.raises(OpenAIError) as caught:
        validate(body, Params)
    error = caught.value.to_api()["error"]
    assert caught.value.code == 400
    assert (error["param"], error["code"]) == (param, code)
    if message:
        assert error["message"] == message


def test_unknown_arguments_can_be_allowed():
    validate({**OK, "bogus": 1}, Params, allow_unknown=True)


# -- null means "not given" ---------------------------------------------------------------------


def test_null_optional_keys_are_removed_as_not_given():
    # LiteLLM and llama-index send every optional argument, null when unset; the API ignores them.
    body = {**OK, "user": None, "n": None, "stream": None, "tools": None, "response_format": None, "stream_options": None}
    validate(body, Params)
    assert body == OK


def test_null_optional_keys_inside_objects_are_removed():
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}, "strict": None, "description": None}}
    message = {"role": "user", "content": "hi", "name": None}
    body = {**OK, "messages": [message], "tools": [tool], "stream_options": {"include_usage": None}}
    validate(body, Params)
    assert message == {"role": "user", "content": "hi"}
    assert tool["function"] == {"name": "f", "parameters": {"type": "object"}}
    assert body["stream_options"] == {}


@pytest.mark.parametrize(
    ("body", "param", "message"),
    [
        ({**OK, "model": None}, "model", "Invalid type for 'model': expected a string, but got null instead."),
        ({**OK, "messages": None}, "messages", "Invalid type for 'messages': expected an array, but got null instead."),
        ({**OK, "messages": [{"role": None, "content": "x"}]}, "messages[0].role", None),
        ({**OK, "messages": [{"role": "user", "content": None}]}, "messages[0].content", None),
        ({**OK, "tools": [{"type": "function", "function": {"name": None}}]}, "tools[0].function.name", None),
    ],
)
def test_required_keys_still_refuse_null(body, param, message):
    with pytest.raises(OpenAIError) as caught:
        validate(body, Params)
    error = caught.value.to_api()["error"]
    assert error["param"] == param
    if message:
        assert error["message"] == message


def test_nulls_are_kept_when_the_body_is_refused():
    body = {**OK, "user": None, "n": "two"}
    with pytest.raises(OpenAIError):
        validate(body, Params)
    assert body["user"] is None


def test_null_for_a_required_nullable_key_is_a_value():
    # Responses function tools: ``strict`` is Required[Optional[bool]] in the SDK (null: not strict),
    # though the API lets it be left out; a null there is kept for the handler.
    from openai.types.responses.response_create_params import ResponseCreateParamsNonStreaming

    tool = {"type": "function", "name": "f", "parameters": None, "strict": None}
    validate({"model": "gpt-4o", "input": "hi", "tools": [tool]}, ResponseCreateParamsNonStreaming)
    assert tool == {"type": "function", "name": "f", "parameters": None, "strict": None}


def test_unknown_null_keys_are_still_unknown():
    with pytest.raises(OpenAIError) as caught:
        validate({**OK, "bogus": None}, Params)
    assert caught.value.to_api()["error"]["code"] == "unknown_parameter"
