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
