"""Tool calls without a script: the documented rule, argument schemas, legacy functions, streams."""

from __future__ import annotations

import json

import jsonschema
import openai
import pydantic
import pytest

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "minLength": 2},
                "units": {"type": "string", "enum": ["metric", "imperial"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
            },
            "required": ["city", "units"],
        },
    },
}
TIME = {
    "type": "function",
    "function": {
        "name": "get_time",
        "parameters": {"type": "object", "properties": {"tz": {"type": "string", "format": "uuid"}}, "required": ["tz"]},
    },
}
TOOLS = [WEATHER, TIME]


def ask(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def create(client, messages, **kwargs):
    return client.chat.completions.create(model="gpt-4o", messages=messages, **kwargs)


def schema_of(name: str) -> dict:
    return next(t["function"]["parameters"] for t in TOOLS if t["function"]["name"] == name)


def assert_valid_calls(calls) -> None:
    for call in calls:
        jsonschema.validate(json.loads(call.function.arguments), schema_of(call.function.name))


def test_auto_answers_text_when_no_tool_is_named(client):
    choice = create(client, ask("Tell me a story."), tools=TOOLS).choices[0]
    assert choice.finish_reason == "stop" and choice.message.tool_calls is None and choice.message.content


def test_auto_calls_the_tool_the_message_names(client):
    choice = create(client, ask("Please call get_weather for Paris."), tools=TOOLS).choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    [call] = choice.message.tool_calls
    assert call.function.name == "get_weather" and call.id.startswith("call_")
    assert_valid_calls([call])


def test_auto_matches_names_written_as_words(client):
    calls = create(client, ask("What does get weather say?"), tools=TOOLS).choices[0].message.tool_calls
    assert [c.function.name for c in calls] == ["get_weather"]


def test_several_named_tools_are_parallel_calls(client):
    calls = create(client, ask("Use get_weather and get_time."), tools=TOOLS).choices[0].message.tool_calls
    assert [c.function.name for c in calls] == ["get_weather", "get_time"]
    assert_valid_calls(calls)
    single = create(client, ask("Use get_weather and get_time."), tools=TOOLS, parallel_tool_calls=False)
    assert len(single.choices[0].message.tool_calls) == 1


def test_after_a_tool_result_auto_answers_text(client):
    first = create(client, ask("call get_weather"), tools=TOOLS).choices[0].message
    history = [
        *ask("call get_weather"),
        first.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": first.tool_calls[0].id, "content": "sunny"},
    ]
    second = create(client, history, tools=TOOLS).choices[0]
    assert second.finish_reason == "stop" and second.message.content


def test_required_calls_the_first_tool_when_none_is_named(client):
    calls = create(client, ask("Anything."), tools=TOOLS, tool_choice="required").choices[0].message.tool_calls
    assert [c.function.name for c in calls] == ["get_weather"]
    assert_valid_calls(calls)


def test_a_named_function_is_always_called(client):
    choice = {"type": "function", "function": {"name": "get_time"}}
    calls = create(client, ask("call get_weather"), tools=TOOLS, tool_choice=choice).choices[0].message.tool_calls
    assert [c.function.name for c in calls] == ["get_time"]
    assert_valid_calls(calls)


def test_none_answers_text(client):
    assert create(client, ask("call get_weather"), tools=TOOLS, tool_choice="none").choices[0].message.tool_calls is None


def test_allowed_tools_narrow_the_choice(client):
    choice = {"type": "allowed_tools", "allowed_tools": {"mode": "required", "tools": [{"type": "function", "function": {"name": "get_time"}}]}}
    calls = create(client, ask("call get_weather"), tools=TOOLS, tool_choice=choice).choices[0].message.tool_calls
    assert [c.function.name for c in calls] == ["get_time"]


def test_unknown_named_tool_is_a_400(client):
    with pytest.raises(openai.BadRequestError) as excinfo:
        create(client, ask("x"), tools=TOOLS, tool_choice={"type": "function", "function": {"name": "nope"}})
    assert excinfo.value.param == "tool_choice"


def test_arguments_are_deterministic(client):
    first = create(client, ask("call get_weather"), tools=TOOLS).choices[0].message.tool_calls[0]
    again = create(client, ask("call get_weather"), tools=TOOLS).choices[0].message.tool_calls[0]
    assert first.function.arguments == again.function.arguments
    assert first.id != again.id


def test_strict_pydantic_tool_is_parsed(client):
    class Lookup(pydantic.BaseModel):
        query: str
        limit: int = pydantic.Field(ge=1, le=10)
        tags: list[str]

    tools = [openai.pydantic_function_tool(Lookup)]
    reply = client.chat.completions.parse(model="gpt-4o", messages=ask("Lookup the docs"), tools=tools)
    parsed = reply.choices[0].message.tool_calls[0].function.parsed_arguments
    assert isinstance(parsed, Lookup) and 1 <= parsed.limit <= 10


def test_strict_tool_schema_is_checked_like_the_api(client):
    loose = {"type": "function", "function": {"name": "f", "strict": True, "parameters": {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}}}
    with pytest.raises(openai.BadRequestError) as excinfo:
        create(client, ask("call f"), tools=[loose])
    assert "'additionalProperties' is required to be supplied and to be false" in excinfo.value.body["message"]
    assert excinfo.value.param == "tools[0].function.parameters"


def test_streamed_tool_calls_accumulate_in_the_stream_helper(client):
    with client.chat.completions.stream(model="gpt-4o", messages=ask("get_weather and get_time please"), tools=TOOLS) as stream:
        for _ in stream:
            pass
        final = stream.get_final_completion()
    calls = final.choices[0].message.tool_calls
    assert [c.function.name for c in calls] == ["get_weather", "get_time"]
    assert_valid_calls(calls)
    assert final.choices[0].finish_reason == "tool_calls"


def test_streamed_and_plain_tool_calls_agree(client):
    plain = create(client, ask("call get_weather"), tools=TOOLS).choices[0].message.tool_calls[0]
    pieces = []
    for chunk in create(client, ask("call get_weather"), tools=TOOLS, stream=True):
        for delta in chunk.choices[0].delta.tool_calls or [] if chunk.choices else []:
            pieces.append(delta.function.arguments or "")
    assert "".join(pieces) == plain.function.arguments


async def test_async_tool_calls(async_client):
    reply = await async_client.chat.completions.create(model="gpt-4o", messages=ask("call get_time"), tools=TOOLS)
    assert reply.choices[0].message.tool_calls[0].function.name == "get_time"


def test_legacy_functions(client):
    functions = [WEATHER["function"], TIME["function"]]
    choice = create(client, ask("call get_time"), functions=functions).choices[0]
    assert choice.finish_reason == "function_call"
    assert choice.message.function_call.name == "get_time"
    jsonschema.validate(json.loads(choice.message.function_call.arguments), schema_of("get_time"))
    forced = create(client, ask("hello"), functions=functions, function_call={"name": "get_weather"}).choices[0]
    assert forced.message.function_call.name == "get_weather"
    assert create(client, ask("call get_time"), functions=functions, function_call="none").choices[0].message.function_call is None


def test_legacy_function_call_streams(client):
    chunks = [c for c in create(client, ask("call get_time"), functions=[TIME["function"]], stream=True) if c.choices]
    name = next(c.choices[0].delta.function_call.name for c in chunks if c.choices[0].delta.function_call)
    arguments = "".join(c.choices[0].delta.function_call.arguments or "" for c in chunks if c.choices[0].delta.function_call)
    assert name == "get_time"
    jsonschema.validate(json.loads(arguments), schema_of("get_time"))
    assert chunks[-1].choices[0].finish_reason == "function_call"


def test_custom_tools(client):
    tools = [{"type": "custom", "custom": {"name": "run_sql"}}]
    call = create(client, ask("use run_sql"), tools=tools).choices[0].message.tool_calls[0]
    assert call.type == "custom" and call.custom.name == "run_sql" and call.custom.input


def test_tools_count_in_prompt_tokens(client):
    without = create(client, ask("hi")).usage.prompt_tokens
    with_tools = create(client, ask("hi"), tools=TOOLS).usage.prompt_tokens
    assert with_tools > without
