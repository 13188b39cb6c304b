"""Structured outputs without a script: ``response_format`` json_schema / json_object, parse()."""

from __future__ import annotations

import datetime
import enum
import json
import uuid
from typing import Literal, Optional, Union

import jsonschema
import openai
import pydantic
import pytest

ASK = [{"role": "user", "content": "Extract the event."}]


class Priority(enum.Enum):
    LOW = "low"
    HIGH = "high"


class Person(pydantic.BaseModel):
    name: str
    email: Optional[str]


class Event(pydantic.BaseModel):
    title: str
    when: datetime.datetime
    day: datetime.date
    id: uuid.UUID
    priority: Priority
    kind: Literal["meeting", "call"]
    attendees: list[Person] = pydantic.Field(min_length=1, max_length=3)
    score: float = pydantic.Field(ge=0, le=1)
    location: Union[str, None]


class Node(pydantic.BaseModel):
    label: str
    children: list["Node"]


def test_parse_returns_a_valid_instance(client):
    reply = client.chat.completions.parse(model="gpt-4o", messages=ASK, response_format=Event)
    event = reply.choices[0].message.parsed
    assert isinstance(event, Event)
    assert 1 <= len(event.attendees) <= 3 and 0 <= event.score <= 1
    assert json.loads(reply.choices[0].message.content) == json.loads(event.model_dump_json())


def test_recursive_model_terminates(client):
    node = client.chat.completions.parse(model="gpt-4o", messages=ASK, response_format=Node).choices[0].message.parsed
    assert isinstance(node, Node)


def test_same_prompt_same_instance_other_prompt_other(client):
    first = client.chat.completions.parse(model="gpt-4o", messages=ASK, response_format=Event).choices[0].message.content
    again = client.chat.completions.parse(model="gpt-4o", messages=ASK, response_format=Event).choices[0].message.content
    other = client.chat.completions.parse(model="gpt-4o", messages=[{"role": "user", "content": "Other"}], response_format=Event)
    assert first == again != other.choices[0].message.content


def test_raw_json_schema_is_honoured(client):
    schema = {
        "type": "object",
        "properties": {
            "tags": {"type": "array", "items": {"type": "string", "pattern": "^[A-Z]{3}-\\d{4}$"}, "minItems": 2, "maxItems": 4},
            "contact": {"anyOf": [{"type": "string", "format": "email"}, {"type": "null"}]},
            "mode": {"const": "fast"},
            "site": {"type": "string", "format": "uri"},
            "ref": {"$ref": "#/$defs/Ref"},
        },
        "required": ["tags", "contact", "mode", "site", "ref"],
        "additionalProperties": False,
        "$defs": {"Ref": {"type": "object", "properties": {"n": {"type": "integer", "minimum": 5, "maximum": 6}}, "required": ["n"], "additionalProperties": False}},
    }
    fmt = {"type": "json_schema", "json_schema": {"name": "tagged", "schema": schema, "strict": True}}
    content = client.chat.completions.create(model="gpt-4o", messages=ASK, response_format=fmt).choices[0].message.content
    jsonschema.validate(json.loads(content), schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def test_non_strict_schema_need_not_close_objects(client):
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    fmt = {"type": "json_schema", "json_schema": {"name": "loose", "schema": schema}}
    content = client.chat.completions.create(model="gpt-4o", messages=ASK, response_format=fmt).choices[0].message.content
    jsonschema.validate(json.loads(content), schema)


@pytest.mark.parametrize(
    "schema, fragment",
    [
        ({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}, "'additionalProperties' is required to be supplied and to be false"),
        ({"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False}, "Missing 'a'"),
        ({"type": "object", "properties": {"a": {"type": "object", "properties": {}}}, "required": ["a"], "additionalProperties": False}, "In context=('properties', 'a')"),
    ],
)
def test_strict_schema_rules_are_the_apis(client, schema, fragment):
    fmt = {"type": "json_schema", "json_schema": {"name": "bad", "schema": schema, "strict": True}}
    with pytest.raises(openai.BadRequestError) as excinfo:
        client.chat.completions.create(model="gpt-4o", messages=ASK, response_format=fmt)
    assert fragment in excinfo.value.body["message"]
    assert excinfo.value.body["message"].startswith("Invalid schema for response_format 'bad': ")
    assert excinfo.value.param == "response_format" and excinfo.value.code == "invalid_json_schema"


def test_unsatisfiable_schema_is_a_400(client):
    fmt = {"type": "json_schema", "json_schema": {"name": "never", "schema": {"type": "integer", "minimum": 5, "maximum": 1}}}
    with pytest.raises(openai.BadRequestError) as excinfo:
        client.chat.completions.create(model="gpt-4o", messages=ASK, response_format=fmt)
    assert excinfo.value.param == "response_format"


def test_json_object_is_a_json_object(client):
    ask = [{"role": "system", "content": "Reply in json."}, *ASK]
    content = client.chat.completions.create(model="gpt-4o", messages=ask, response_format={"type": "json_object"}).choices[0].message.content
    assert isinstance(json.loads(content), dict)


def test_json_object_needs_the_word_json_in_the_messages(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="gpt-4o", messages=ASK, response_format={"type": "json_object"})
    assert caught.value.body == {
        "message": "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
        "type": "invalid_request_error",
        "param": "messages",
        "code": None,
    }
    parts = [{"role": "user", "content": [{"type": "text", "text": "Give me JSON please"}]}]
    assert client.chat.completions.create(model="gpt-4o", messages=parts, response_format={"type": "json_object"}).choices[0].message.content


async def test_async_responses_json_object_needs_json_in_the_input_not_the_instructions(async_client):
    with pytest.raises(openai.BadRequestError) as caught:
        await async_client.responses.create(
            model="gpt-4o", instructions="Answer in JSON.", input="Extract the event.", text={"format": {"type": "json_object"}}
        )
    assert caught.value.param == "text.format" and caught.value.code is None
    assert caught.value.body["message"] == (
        "Response input messages must contain the word 'json' in some form to use 'text.format' of type 'json_object'."
    )
    reply = await async_client.responses.create(model="gpt-4o", input="Extract the event as json.", text={"format": {"type": "json_object"}})
    assert isinstance(json.loads(reply.output_text), dict)


def test_max_tokens_truncates_json_like_the_api(client):
    with pytest.raises(openai.LengthFinishReasonError):
        client.chat.completions.parse(model="gpt-4o", messages=ASK, response_format=Event, max_tokens=5)


def test_stream_helper_parses_the_final_instance(client):
    with client.chat.completions.stream(model="gpt-4o", messages=ASK, response_format=Event) as stream:
        events = [e.type for e in stream]
        final = stream.get_final_completion()
    assert "content.delta" in events and "content.done" in events
    plain = client.chat.completions.parse(model="gpt-4o", messages=ASK, response_format=Event)
    assert final.choices[0].message.parsed == plain.choices[0].message.parsed


async def test_async_parse(async_client):
    reply = await async_client.chat.completions.parse(model="gpt-4o", messages=ASK, response_format=Person)
    assert isinstance(reply.choices[0].message.parsed, Person)


def test_scripted_reply_wins_over_the_schema(openai_server, client):
    openai_server.on("chat.completions.create").respond(Person(name="Ada", email=None))
    parsed = client.chat.completions.parse(model="gpt-4o", messages=ASK, response_format=Person).choices[0].message.parsed
    assert parsed == Person(name="Ada", email=None)
