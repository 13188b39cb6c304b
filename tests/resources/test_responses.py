"""The Responses API through the real SDK: create, stream, state, tools, structured outputs."""

from __future__ import annotations

import base64
import json

import jsonschema
import openai
import pydantic
import pytest

from pytest_openai_fake import error, refusal, tool_call

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "units": {"type": "string", "enum": ["c", "f"]}},
        "required": ["city", "units"],
        "additionalProperties": False,
    },
    "strict": True,
}


def create(client, **kwargs):
    kwargs.setdefault("model", "gpt-4o")
    return client.responses.create(**kwargs)


# -- create ------------------------------------------------------------------------------------


def test_text_reply_and_output_text(client):
    response = create(client, input="Say something nice.")
    assert response.object == "response" and response.status == "completed"
    assert response.id.startswith("resp_") and len(response.id) == 53
    [message] = response.output
    assert message.type == "message" and message.role == "assistant" and message.id.startswith("msg_")
    assert response.output_text == message.content[0].text and response.output_text
    assert response.usage.output_tokens == len(openai_tokens(response.output_text))
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens
    assert response.created_at == 1_767_225_600


def openai_tokens(text):
    from pytest_openai_fake.determinism import tokenize

    return tokenize(text)


def test_deterministic_by_input(client):
    first = create(client, input="Hello").output_text
    assert create(client, input="Hello").output_text == first
    assert create(client, input=[{"role": "user", "content": "Hello"}]).output_text == first
    assert create(client, input="Hello", instructions="Be brief.").output_text != first


def test_input_item_list_with_parts(client):
    response = create(
        client,
        input=[
            {"role": "developer", "content": "Be kind."},
            {"role": "user", "content": [{"type": "input_text", "text": "What is in this image?"}, {"type": "input_image", "image_url": "https://example.com/cat.png", "detail": "auto"}]},
        ],
    )
    assert response.output_text
    text_only = create(client, input=[{"role": "user", "content": "What is in this image?"}])
    assert response.usage.input_tokens > text_only.usage.input_tokens  # the image counts


def test_reasoning_models_emit_a_reasoning_item(client):
    response = create(client, model="o3-mini", input="Think.")
    assert [item.type for item in response.output] == ["reasoning", "message"]
    details = response.usage.output_tokens_details
    assert details.reasoning_tokens >= 16
    assert response.usage.output_tokens == details.reasoning_tokens + len(openai_tokens(response.output_text))


def test_max_output_tokens_makes_it_incomplete(client):
    response = create(client, input="Tell me a long story.", max_output_tokens=16)
    assert response.status == "incomplete"
    assert response.incomplete_details.reason == "max_output_tokens"
    assert len(openai_tokens(response.output_text)) == 16


def test_structured_output_parse(client):
    class Person(pydantic.BaseModel):
        name: str
        age: int
        tags: list[str]

    parsed = client.responses.parse(model="gpt-4o", input="Extract the person.", text_format=Person)
    assert isinstance(parsed.output_parsed, Person)


def test_json_schema_text_format(client):
    schema = {"type": "object", "properties": {"n": {"type": "integer", "minimum": 3, "maximum": 4}}, "required": ["n"], "additionalProperties": False}
    response = create(client, input="x", text={"format": {"type": "json_schema", "name": "n", "schema": schema, "strict": True}})
    jsonschema.validate(json.loads(response.output_text), schema)


def test_function_tools_then_text_after_the_output(client):
    first = create(client, input="Please call get_weather for Paris.", tools=[WEATHER])
    [call] = first.output
    assert call.type == "function_call" and call.name == "get_weather" and call.call_id.startswith("call_")
    jsonschema.validate(json.loads(call.arguments), WEATHER["parameters"])
    second = create(
        client,
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}],
        tools=[WEATHER],
    )
    assert second.output_text and second.output[0].type == "message"


def test_tool_output_with_unknown_call_id_is_the_real_400(client):
    with pytest.raises(openai.BadRequestError) as excinfo:
        create(client, input=[{"type": "function_call_output", "call_id": "call_nope", "output": "x"}])
    assert excinfo.value.body["message"] == "No tool call found for function call output with call_id call_nope."
    assert excinfo.value.param == "input"


def test_continuing_without_the_tool_output_is_the_real_400(client):
    first = create(client, input="call get_weather", tools=[WEATHER])
    with pytest.raises(openai.BadRequestError) as excinfo:
        create(client, previous_response_id=first.id, input="never mind", tools=[WEATHER])
    assert excinfo.value.body["message"] == f"No tool output found for function call {first.output[0].call_id}."


@pytest.mark.parametrize(
    "tool, kind",
    [
        ({"type": "web_search_preview"}, "web_search_call"),
        ({"type": "file_search", "vector_store_ids": ["vs_1"]}, "file_search_call"),
        ({"type": "code_interpreter", "container": {"type": "auto"}}, "code_interpreter_call"),
        ({"type": "image_generation"}, "image_generation_call"),
    ],
)
def test_builtin_tools(client, tool, kind):
    name = kind.removesuffix("_call").replace("_", " ")
    response = create(client, input=f"Use {name} for cats.", tools=[tool])
    assert [item.type for item in response.output] == [kind, "message"]
    assert response.output_text
    if kind == "image_generation_call":
        assert base64.b64decode(response.output[0].result).startswith(b"\x89PNG")
    not_named = create(client, input="Hello.", tools=[tool])
    assert [item.type for item in not_named.output] == ["message"]


def test_web_search_cites_its_source(client):
    response = create(client, input="web search: latest news", tools=[{"type": "web_search"}])
    search, message = response.output
    assert search.action.type == "search" and search.action.query == "web search: latest news"
    assert message.content[0].annotations[0].url == search.action.sources[0].url


# -- streaming ---------------------------------------------------------------------------------


def test_stream_event_sequence(client):
    events = list(create(client, input="Hello", stream=True))
    kinds = [e.type for e in events]
    assert kinds[:4] == ["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"]
    assert kinds[-4:] == ["response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas == events[-1].response.output_text == create(client, input="Hello").output_text


def test_stream_helper_with_function_call(client):
    with client.responses.stream(model="gpt-4o", input="call get_weather", tools=[WEATHER]) as stream:
        kinds = [e.type for e in stream]
        final = stream.get_final_response()
    assert "response.function_call_arguments.delta" in kinds
    assert final.output[0].type == "function_call"
    jsonschema.validate(json.loads(final.output[0].arguments), WEATHER["parameters"])


def test_stream_incomplete(client):
    events = list(create(client, input="Long story", stream=True, max_output_tokens=16))
    assert events[-1].type == "response.incomplete"


async def test_async_create_and_stream(async_client):
    response = await async_client.responses.create(model="gpt-4o", input="Hi")
    assert response.output_text
    stream = await async_client.responses.create(model="gpt-4o", input="Hi", stream=True)
    kinds = [event.type async for event in stream]
    assert kinds[-1] == "response.completed"


# -- scripting ---------------------------------------------------------------------------------


def test_scripted_replies(openai_server, client):
    openai_server.on("responses.create").once(tool_call("get_weather", {"city": "Paris", "units": "c"}), "It is sunny.", refusal("No."))
    first = create(client, input="weather?", tools=[WEATHER])
    assert first.output[0].type == "function_call" and json.loads(first.output[0].arguments) == {"city": "Paris", "units": "c"}
    second = create(client, previous_response_id=first.id, input=[{"type": "function_call_output", "call_id": first.output[0].call_id, "output": "sunny"}])
    assert second.output_text == "It is sunny."
    third = create(client, input="bad")
    assert third.output[0].content[0].type == "refusal"


def test_scripted_fault(openai_server, client):
    openai_server.on("responses.create").once(error(429, retry_after=1))
    with pytest.raises(openai.RateLimitError):
        create(client, input="x")


# -- state -------------------------------------------------------------------------------------


def test_retrieve_delete(client):
    response = create(client, input="Keep me")
    assert client.responses.retrieve(response.id).output_text == response.output_text
    client.responses.delete(response.id)
    with pytest.raises(openai.NotFoundError) as excinfo:
        client.responses.retrieve(response.id)
    assert excinfo.value.body["message"] == f"Response with id '{response.id}' not found."


def test_store_false_is_not_kept(client):
    response = create(client, input="Forget me", store=False)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(response.id)
    with pytest.raises(openai.BadRequestError) as excinfo:
        create(client, input="again", previous_response_id=response.id)
    assert excinfo.value.code == "previous_response_not_found" and excinfo.value.param == "previous_response_id"


def test_previous_response_id_changes_the_answer(client):
    first = create(client, input="My name is Ada.")
    follow = create(client, input="What is my name?", previous_response_id=first.id)
    fresh = create(client, input="What is my name?")
    assert follow.output_text != fresh.output_text
    assert follow.usage.input_tokens > fresh.usage.input_tokens
    assert follow.previous_response_id == first.id


def test_input_items_pagination(client):
    items = [{"role": "user", "content": f"message {i}"} for i in range(5)]
    response = create(client, input=items)
    listed = list(client.responses.input_items.list(response.id, limit=2))
    assert [i.content[0].text for i in listed] == [f"message {i}" for i in reversed(range(5))]
    ascending = client.responses.input_items.list(response.id, order="asc", limit=2)
    assert [i.content[0].text for i in ascending.data] == ["message 0", "message 1"] and ascending.has_more


def test_background_progress_follows_polls_and_the_clock(openai_server, client):
    response = create(client, input="Work in the background", background=True)
    assert response.status == "queued" and response.output == []
    assert client.responses.retrieve(response.id).status == "in_progress"
    done = client.responses.retrieve(response.id)
    assert done.status == "completed" and done.output_text
    other = create(client, input="Another", background=True)
    openai_server.clock.advance(2)
    assert client.responses.retrieve(other.id).status == "completed"


def test_background_cancel(client):
    response = create(client, input="Cancel me", background=True)
    cancelled = client.responses.cancel(response.id)
    assert cancelled.status == "cancelled"
    assert client.responses.retrieve(response.id).status == "cancelled"
    plain = create(client, input="not background")
    with pytest.raises(openai.BadRequestError):
        client.responses.cancel(plain.id)


def test_input_tokens_count_matches_usage(client):
    response = create(client, input="Count me, please.", instructions="Be brief.")
    counted = client.responses.input_tokens.count(model="gpt-4o", input="Count me, please.", instructions="Be brief.")
    assert counted.input_tokens == response.usage.input_tokens


def test_compact(client):
    first = create(client, input="Remember this.")
    compacted = client.responses.compact(model="gpt-4o", previous_response_id=first.id, input="And this.")
    assert compacted.object == "response.compaction"
    assert compacted.output[-1].type == "compaction"


def test_previous_response_and_conversation_are_exclusive(client):
    first = create(client, input="x")
    conversation = client.conversations.create()
    with pytest.raises(openai.BadRequestError):
        create(client, input="y", previous_response_id=first.id, conversation=conversation.id)


def test_conversation_collects_the_turns(client):
    conversation = client.conversations.create()
    create(client, input="First turn", conversation=conversation.id)
    second = create(client, input="Second turn", conversation=conversation.id)
    items = list(client.conversations.items.list(conversation.id, order="asc"))
    roles = [(item.type, getattr(item, "role", None)) for item in items]
    assert roles == [("message", "user"), ("message", "assistant"), ("message", "user"), ("message", "assistant")]
    assert items[-1].content[0].text == second.output_text
    assert second.conversation.id == conversation.id


def test_unknown_model_and_default_model(client):
    with pytest.raises(openai.NotFoundError):
        create(client, model="gpt-nope", input="x")
    assert client.responses.create(input="x").model == "gpt-4o"  # `model` is optional in the SDK


def test_multi_turn_agent_over_previous_response_id(client):
    """A tool-using agent loop that keeps state on the server."""

    def run(question: str) -> str:
        response = create(client, input=question, tools=[WEATHER])
        for _ in range(5):
            calls = [item for item in response.output if item.type == "function_call"]
            if not calls:
                return response.output_text
            outputs = [{"type": "function_call_output", "call_id": c.call_id, "output": f"sunny in {json.loads(c.arguments)['city']}"} for c in calls]
            response = create(client, previous_response_id=response.id, input=outputs, tools=[WEATHER])
        raise AssertionError("no final answer")

    assert run("Use get_weather for Paris")
    assert run("What about a haiku?")


def test_seeded_response_can_be_continued_and_read_back(openai_server, client):
    from pytest_openai_fake.resources.responses import seed_response

    seeded = seed_response(openai_server, input="My name is Ada.", output_text="Hello Ada!")
    assert client.responses.retrieve(seeded.response["id"]).output_text == "Hello Ada!"
    follow = create(client, input="What is my name?", previous_response_id=seeded.response["id"])
    assert follow.previous_response_id == seeded.response["id"]
    assert openai_server.state.responses.get(follow.id).context[0]["content"][0]["text"] == "My name is Ada."
    assert create(client, input="x").id != seeded.response["id"]  # seeding uses its own ids


def test_stream_faults_use_the_responses_error_event(openai_server, client):
    from pytest_openai_fake import cut_stream, stream_error

    openai_server.on("responses.create").once(stream_error(after=3, message="boom", code="server_error"), cut_stream(after=2))
    events = list(create(client, input="hi", stream=True))
    assert [e.type for e in events][-1] == "error"
    assert events[-1].message == "boom" and events[-1].code == "server_error" and events[-1].sequence_number == 3
    with pytest.raises(openai.APIConnectionError):
        list(create(client, input="hi", stream=True))
