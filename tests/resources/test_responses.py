"""The Responses API through the real SDK: create, stream, state, tools, structured outputs."""

from __future__ import annotations

import base64
import json

import jsonschema
import openai
import pydantic
import pytest

from pytest_openai_fake import ScriptError, content_filter, custom_tool_call, error, failed, refusal, tool_call
from pytest_openai_fake.sdk import stream_cut_errors
from openai.resources.responses import Responses
from openai.types.responses.response_function_web_search import ActionSearch
from openai.types.shared import ReasoningEffort
from tests.sdk_features import sdk_has, sdk_literal_has, sdk_reply_accepts

# What the installed SDK has (docs/versions.md): openai 2.0 has no responses.input_tokens,
# responses.compact or reasoning effort "none", and its ActionSearch requires a query.
NEEDS_INPUT_TOKENS = pytest.mark.skipif(not sdk_has(Responses, "input_tokens"), reason="this openai SDK has no responses.input_tokens")
NEEDS_COMPACT = pytest.mark.skipif(not sdk_has(Responses, "compact"), reason="this openai SDK has no responses.compact")
EFFORT_NONE = sdk_literal_has(ReasoningEffort, "none")
# The real API's web_search_call.added item has the action {"type": "search"} without a query;
# an SDK whose ActionSearch requires one rejects it under strict validation.
SDK_TAKES_A_BARE_SEARCH = sdk_reply_accepts(ActionSearch, type="search")

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


BIG_TOOL = {
    "type": "function",
    "name": "file_report",
    "parameters": {
        "type": "object",
        "properties": {key: {"type": "string"} for key in "abcdefghij"},
        "required": list("abcdefghij"),
        "additionalProperties": False,
    },
    "strict": True,
}


def test_max_output_tokens_counts_reasoning_tokens(client):
    # Regression: reasoning tokens were added on top of the limit.
    reasoned = create(client, model="o3", input="Tell me a long story.", max_output_tokens=16)
    assert reasoned.status == "incomplete" and reasoned.incomplete_details.reason == "max_output_tokens"
    assert [item.type for item in reasoned.output] == ["reasoning"]  # the limit came while it thought
    assert reasoned.output_text == ""
    assert reasoned.usage.output_tokens == reasoned.usage.output_tokens_details.reasoning_tokens == 16
    unlimited = create(client, model="o3", input="Tell me a long story.")
    roomy = create(client, model="o3", input="Tell me a long story.", max_output_tokens=unlimited.usage.output_tokens - 1)
    assert roomy.status == "incomplete" and [item.type for item in roomy.output] == ["reasoning", "message"]
    assert roomy.usage.output_tokens == unlimited.usage.output_tokens - 1
    assert unlimited.output_text.startswith(roomy.output_text) and roomy.output_text != unlimited.output_text


async def test_async_max_output_tokens_cuts_function_call_arguments(async_client):
    full = await async_client.responses.create(model="gpt-4o", input="file_report please", tools=[BIG_TOOL], tool_choice="required")
    [call] = full.output
    assert call.status == "completed" and full.status == "completed"
    limit = full.usage.output_tokens // 2
    cut = await async_client.responses.create(
        model="gpt-4o", input="file_report please", tools=[BIG_TOOL], tool_choice="required", max_output_tokens=limit
    )
    assert cut.status == "incomplete" and cut.incomplete_details.reason == "max_output_tokens"
    [partial] = cut.output
    assert partial.type == "function_call" and partial.status == "incomplete"
    assert call.arguments.startswith(partial.arguments) and partial.arguments != call.arguments
    assert cut.usage.output_tokens == limit


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
    tool = _with_store(client, tool)
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
    assert create(client, input="Tell me a long story.", max_output_tokens=16).status == "incomplete"
    events = list(create(client, input="Tell me a long story.", stream=True, max_output_tokens=16))
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


@NEEDS_INPUT_TOKENS
def test_input_tokens_count_matches_usage(client):
    response = create(client, input="Count me, please.", instructions="Be brief.")
    counted = client.responses.input_tokens.count(model="gpt-4o", input="Count me, please.", instructions="Be brief.")
    assert counted.input_tokens == response.usage.input_tokens


@NEEDS_COMPACT
def test_compact(openai_server, client):
    # The output is every user message, then one compaction item (as the SDK documents it). Its
    # ResponseOutputItem union has assistant messages only, so a strict client rejects the real
    # API's reply too: read it with a non-strict one.
    lax = openai_server.client()
    first = create(client, input="Remember this.")
    raw = lax.responses.with_raw_response.compact(model="gpt-4o", previous_response_id=first.id, input="And this.")
    compacted = raw.parse()
    assert compacted.object == "response.compaction"
    *users, compaction = compacted.output
    assert compaction.type == "compaction"
    assert [(u.type, u.role, u.content[0].type, u.content[0].text) for u in users] == [
        ("message", "user", "input_text", "Remember this."),
        ("message", "user", "input_text", "And this."),
    ]
    with pytest.raises(openai.APIResponseValidationError):
        client.responses.compact(model="gpt-4o", previous_response_id=first.id)
    # the output is what the next turn passes back
    continued = create(client, input=[*raw.http_response.json()["output"], {"role": "user", "content": "Go on."}])
    assert continued.status == "completed"


@NEEDS_COMPACT
@NEEDS_INPUT_TOKENS
def test_a_compaction_item_counts_as_its_summary(openai_server, client):
    # Regression: a compaction passed back counted no input tokens at all.
    first = create(client, input="Remember this: the code word is heron.")
    *_, item = openai_server.client().responses.compact(model="gpt-4o", previous_response_id=first.id).output
    compaction = item.model_dump(exclude_none=True)
    empty = client.responses.input_tokens.count(model="gpt-4o", input=[]).input_tokens
    counted = client.responses.input_tokens.count(model="gpt-4o", input=[compaction]).input_tokens
    assert counted == empty + len(openai_tokens(compaction["encrypted_content"]))
    continued = create(client, input=[compaction, {"role": "user", "content": "What is the code word?"}])
    assert continued.usage.input_tokens > counted


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
    assert seeded.id == seeded.response["id"] and seeded.id.startswith("resp_")  # like the other seed helpers
    assert client.responses.retrieve(seeded.id).output_text == "Hello Ada!"
    follow = create(client, input="What is my name?", previous_response_id=seeded.id)
    assert follow.previous_response_id == seeded.id
    assert openai_server.state.responses.get(follow.id).context[0]["content"][0]["text"] == "My name is Ada."
    assert create(client, input="x").id != seeded.response["id"]  # seeding uses its own ids


def test_stream_faults_use_the_responses_error_event(openai_server, client):
    from pytest_openai_fake import cut_stream, stream_error

    openai_server.on("responses.create").once(stream_error(after=3, message="boom", code="server_error"), cut_stream(after=2))
    events = list(create(client, input="hi", stream=True))
    assert [e.type for e in events][-1] == "error"
    assert events[-1].message == "boom" and events[-1].code == "server_error" and events[-1].sequence_number == 3
    with pytest.raises(stream_cut_errors()):
        list(create(client, input="hi", stream=True))


# -- item references ---------------------------------------------------------------------------


def test_item_reference_to_a_stored_responses_output_item(client):
    first = create(client, input="Please call get_weather for Paris.", tools=[WEATHER])
    [call] = first.output
    second = create(
        client,
        input=[
            {"type": "item_reference", "id": call.id},
            {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"},
        ],
        tools=[WEATHER],
    )
    assert second.output[0].type == "message" and second.output_text
    [referenced, _] = client.responses.input_items.list(second.id, order="asc").data
    assert (referenced.type, referenced.id, referenced.call_id, referenced.name) == ("function_call", call.id, call.call_id, "get_weather")
    # the same turn sent by value gives the same answer: the reference is the item itself
    by_value = create(
        client,
        input=[
            {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
            {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"},
        ],
        tools=[WEATHER],
    )
    assert by_value.output_text == second.output_text


def test_item_reference_to_a_stored_responses_input_item(client):
    first = create(client, input="Remember the word 'otter'.")
    [message] = client.responses.input_items.list(first.id).data
    second = create(client, input=[{"type": "item_reference", "id": message.id}])
    assert second.output_text == create(client, input="Remember the word 'otter'.").output_text
    assert client.responses.input_items.list(second.id).data[0].id == message.id


async def test_item_reference_async_and_unknown_id(async_client):
    first = await async_client.responses.create(model="gpt-4o", input="call get_weather", tools=[WEATHER])
    call = first.output[0]
    second = await async_client.responses.create(
        model="gpt-4o",
        input=[{"type": "item_reference", "id": call.id}, {"type": "function_call_output", "call_id": call.call_id, "output": "rain"}],
        tools=[WEATHER],
    )
    assert second.status == "completed" and second.output_text
    with pytest.raises(openai.NotFoundError) as excinfo:
        await async_client.responses.create(model="gpt-4o", input=[{"type": "item_reference", "id": "fc_nope"}])
    assert excinfo.value.body["message"].startswith("Item with id 'fc_nope' not found.")


def test_item_reference_to_a_store_false_response_is_not_found(client):
    first = create(client, input="call get_weather", tools=[WEATHER], store=False)
    with pytest.raises(openai.NotFoundError) as excinfo:
        create(client, input=[{"type": "item_reference", "id": first.output[0].id}])
    assert excinfo.value.body["message"].startswith(f"Item with id '{first.output[0].id}' not found.")


# -- input validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "item, param, code",
    [
        ({"type": "bogus"}, "input[0]", "invalid_value"),
        ({"type": "function_call_output", "call_id": "call_1"}, "input[0].output", "missing_required_parameter"),
        ({"type": "function_call", "call_id": "call_1", "arguments": "{}"}, "input[0].name", "missing_required_parameter"),
        ({"role": "user", "content": "x", "bogus": 1}, "input[0].bogus", "unknown_parameter"),
    ],
)
def test_input_items_get_the_same_400s_as_conversations(client, item, param, code):
    with pytest.raises(openai.BadRequestError) as from_responses:
        create(client, input=[item])
    with pytest.raises(openai.BadRequestError) as from_conversations:
        client.conversations.create(items=[item])
    body = from_responses.value.body
    assert (body["param"], body["code"]) == (param, code)
    expected = from_conversations.value.body["message"].replace("'items[", "'input[")
    assert body["message"] == expected
    if item.get("type") == "bogus":
        assert body["message"].startswith("Invalid value: 'bogus'. Supported values are: ")


def test_a_tool_output_without_call_id_is_missing_it(client):
    # call_id is optional in the SDK's input type (a conversation stores such an item), but a
    # response can only match an output to its call by call_id.
    with pytest.raises(openai.BadRequestError) as excinfo:
        create(client, input=[{"role": "user", "content": "hi"}, {"type": "function_call_output", "output": "x"}])
    body = excinfo.value.body
    assert (body["message"], body["param"], body["code"]) == ("Missing required parameter: 'input[1].call_id'.", "input[1].call_id", "missing_required_parameter")


def test_a_resent_context_item_is_a_duplicate(client):
    first = create(client, input="Hello")
    [message] = first.output
    resent = {"id": message.id, "type": "message", "role": "assistant", "content": [{"type": "output_text", "text": message.content[0].text}]}
    with pytest.raises(openai.BadRequestError) as excinfo:
        create(client, previous_response_id=first.id, input=[resent, {"role": "user", "content": "Again"}])
    assert excinfo.value.body["message"] == f"Duplicate item found with id {message.id}. Remove duplicate items from your input and try again."
    assert excinfo.value.param == "input"
    assert create(client, input=[resent, {"role": "user", "content": "Again"}]).output_text  # fine without the context
    conversation = client.conversations.create(items=[{"role": "user", "content": "Hi"}])
    [stored] = client.conversations.items.list(conversation.id).data
    with pytest.raises(openai.BadRequestError) as excinfo:
        create(client, conversation=conversation.id, input=[{"type": "item_reference", "id": stored.id}])
    assert excinfo.value.body["message"].startswith(f"Duplicate item found with id {stored.id}.")


# -- content filter ----------------------------------------------------------------------------


def test_scripted_content_filter_is_incomplete(openai_server, client):
    openai_server.on("responses.create").respond(content_filter("Partial"))
    response = create(client, input="something bad")
    assert response.status == "incomplete" and response.incomplete_details.reason == "content_filter"
    assert response.output[0].status == "incomplete" and response.output_text == "Partial"
    events = list(create(client, input="something bad", stream=True))
    assert events[-1].type == "response.incomplete"
    assert events[-1].response.incomplete_details.reason == "content_filter"


async def test_scripted_content_filter_async(openai_server, async_client):
    openai_server.on("responses.create").respond(content_filter())
    response = await async_client.responses.create(model="gpt-4o", input="x")
    assert (response.status, response.incomplete_details.reason) == ("incomplete", "content_filter")


# -- failed responses --------------------------------------------------------------------------


def test_scripted_failure_is_a_failed_response(openai_server, client):
    openai_server.on("responses.create").respond(failed())
    response = create(client, input="Hello")
    assert response.status == "failed" and response.output == [] and response.output_text == ""
    assert response.error.code == "server_error" and response.error.message.startswith("An error occurred")
    assert response.usage is None and response.completed_at is None
    assert client.responses.retrieve(response.id).status == "failed"  # stored as it failed
    # continuing it carries its input, as for any response, and no output
    assert create(client, input="Again?", previous_response_id=response.id).status == "failed"


def test_a_failed_stream_ends_with_response_failed(openai_server, client):
    openai_server.on("responses.create").once(failed("The model broke.", code="server_error"))
    events = list(create(client, input="Hello", stream=True))
    assert [e.type for e in events] == ["response.created", "response.in_progress", "response.failed"]
    assert [e.sequence_number for e in events] == [0, 1, 2]
    assert events[0].response.error is None
    final = events[-1].response
    assert final.status == "failed" and final.error.message == "The model broke."


async def test_async_stream_helper_with_a_failure(openai_server, async_client):
    openai_server.on("responses.create").once(failed(code="rate_limit_exceeded"))
    async with async_client.responses.stream(model="gpt-4o", input="Hello") as stream:
        types = [event.type async for event in stream]
    assert types[-1] == "response.failed"


def test_a_background_response_fails_when_polled(openai_server, client):
    openai_server.on("responses.create").once(failed())
    response = create(client, input="Write a report", background=True)
    assert response.status == "queued" and response.error is None
    assert client.responses.retrieve(response.id).status == "in_progress"
    polled = client.responses.retrieve(response.id)
    assert polled.status == "failed" and polled.error.code == "server_error"
    with pytest.raises(openai.BadRequestError, match="Cannot cancel a response with status 'failed'"):
        client.responses.cancel(response.id)
    streamed = list(client.responses.retrieve(response.id, stream=True))
    assert [e.type for e in streamed] == ["response.created", "response.queued", "response.in_progress", "response.failed"]


def test_failed_is_for_the_responses_api_only(openai_server):
    with pytest.raises(ScriptError, match="chat.completions.create cannot reply with"):
        openai_server.on("chat.completions.create").once(failed())
    with pytest.raises(ScriptError, match="code must be one of"):
        failed(code="exploded")


def test_failed_over_http(openai_server, client):
    import httpx2

    spec = {"endpoint": "responses.create", "once": [{"failed": {"message": "Nope.", "code": "server_error"}}, {"failed": True}]}
    assert httpx2.post(openai_server.url + "/__fake/scripts", json=spec).status_code == 200
    assert create(client, input="x").error.message == "Nope."
    assert create(client, input="x").error.message.startswith("An error occurred")
    bad = httpx2.post(openai_server.url + "/__fake/scripts", json={"endpoint": "responses.create", "once": [{"failed": 3}]})
    assert bad.status_code == 400 and "failed" in bad.json()["error"]["message"]


# -- streamed tool calls -----------------------------------------------------------------------


BUILTIN_STREAMS = [
    (
        {"type": "web_search"},
        ["response.web_search_call.in_progress", "response.web_search_call.searching", "response.web_search_call.completed"],
    ),
    (
        {"type": "file_search", "vector_store_ids": ["vs_1"]},
        ["response.file_search_call.in_progress", "response.file_search_call.searching", "response.file_search_call.completed"],
    ),
    (
        {"type": "code_interpreter", "container": {"type": "auto"}},
        ["response.code_interpreter_call.in_progress", "response.code_interpreter_call_code.delta", "response.code_interpreter_call_code.done", "response.code_interpreter_call.interpreting", "response.code_interpreter_call.completed"],
    ),
    (
        {"type": "image_generation"},
        ["response.image_generation_call.in_progress", "response.image_generation_call.generating", "response.image_generation_call.completed"],
    ),
    (
        {"type": "image_generation", "partial_images": 2},
        ["response.image_generation_call.in_progress", "response.image_generation_call.generating", "response.image_generation_call.partial_image", "response.image_generation_call.partial_image", "response.image_generation_call.completed"],
    ),
]


def _with_store(client, tool):
    """A ``file_search`` tool names a store that exists (an unknown id is the API's 404)."""
    if tool["type"] != "file_search":
        return tool
    return {**tool, "vector_store_ids": [client.vector_stores.create(name="empty").id]}


def _between_added_and_done(events, output_index=0):
    kinds = [e.type for e in events if getattr(e, "output_index", None) == output_index]
    assert kinds[0] == "response.output_item.added" and kinds[-1] == "response.output_item.done"
    collapsed = []
    for kind in kinds[1:-1]:
        if not (kind.endswith(".delta") and collapsed and collapsed[-1] == kind):
            collapsed.append(kind)
    return collapsed


@pytest.mark.parametrize("tool, expected", BUILTIN_STREAMS)
def test_builtin_tool_calls_stream_their_own_events(openai_server, client, tool, expected):
    if tool["type"] == "web_search" and not SDK_TAKES_A_BARE_SEARCH:
        client = openai_server.client()  # not strict: see SDK_TAKES_A_BARE_SEARCH
    tool = _with_store(client, tool)
    name = {"web_search": "web search", "file_search": "file search", "code_interpreter": "code interpreter", "image_generation": "image generation"}[tool["type"]]
    events = list(create(client, input=f"Use {name} for cats.", tools=[tool], stream=True))
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert _between_added_and_done(events) == expected
    item = events[-1].response.output[0]
    assert item.id and all(e.item_id == item.id for e in events if e.type.startswith(f"response.{item.type}"))
    plain = create(client, input=f"Use {name} for cats.", tools=[tool]).output
    assert [i.model_dump(exclude={"id"}) for i in events[-1].response.output] == [i.model_dump(exclude={"id"}) for i in plain]
    if item.type == "code_interpreter_call":
        deltas = "".join(e.delta for e in events if e.type == "response.code_interpreter_call_code.delta")
        done = next(e for e in events if e.type == "response.code_interpreter_call_code.done")
        assert deltas == done.code == item.code
    partials = [e for e in events if e.type == "response.image_generation_call.partial_image"]
    assert [p.partial_image_index for p in partials] == list(range(len(partials)))
    for partial in partials:
        png = base64.b64decode(partial.partial_image_b64)
        assert png.startswith(b"\x89PNG") and partial.partial_image_b64 != item.result


def test_partial_images_over_three_is_the_real_400(client):
    with pytest.raises(openai.BadRequestError) as excinfo:
        create(client, input="image generation", tools=[{"type": "image_generation", "partial_images": 4}], stream=True)
    assert excinfo.value.param == "tools[0].partial_images"


def test_custom_tool_call_streams_its_input(openai_server, client):
    openai_server.on("responses.create").respond(custom_tool_call("run_sql", "SELECT name, city FROM users WHERE id = 1"))
    with client.responses.stream(model="gpt-4o", input="query", tools=[{"type": "custom", "name": "run_sql"}]) as stream:
        events = list(stream)
        final = stream.get_final_response()
    assert _between_added_and_done(events) == ["response.custom_tool_call_input.delta", "response.custom_tool_call_input.done"]
    deltas = "".join(e.delta for e in events if e.type == "response.custom_tool_call_input.delta")
    done = next(e for e in events if e.type == "response.custom_tool_call_input.done")
    assert deltas == done.input == final.output[0].input == "SELECT name, city FROM users WHERE id = 1"


async def test_builtin_tool_stream_async(openai_server, async_client):
    if not SDK_TAKES_A_BARE_SEARCH:
        async_client = openai_server.async_client(keep_alive=False)  # not strict: see SDK_TAKES_A_BARE_SEARCH
    stream = await async_client.responses.create(model="gpt-4o", input="web search: cats", tools=[{"type": "web_search"}], stream=True)
    kinds = [event.type async for event in stream]
    assert kinds.index("response.web_search_call.searching") < kinds.index("response.web_search_call.completed") < kinds.index("response.output_item.done")


# -- background streams and resuming -----------------------------------------------------------


def test_background_stream_starts_queued(client):
    events = list(create(client, input="Work", background=True, stream=True))
    assert [e.type for e in events[:3]] == ["response.created", "response.queued", "response.in_progress"]
    assert [e.response.status for e in events[:3]] == ["queued", "queued", "in_progress"]
    assert events[-1].type == "response.completed" and events[-1].response.background is True
    assert client.responses.retrieve(events[-1].response.id).status == "completed"  # the stream ran to the end
    with client.responses.stream(model="gpt-4o", input="Work", background=True) as stream:
        assert stream.get_final_response().output_text == events[-1].response.output_text


def test_retrieve_stream_resumes_after_a_sequence_number(client):
    events = list(create(client, input="Resume me", background=True, stream=True))
    response_id = events[-1].response.id
    replayed = list(client.responses.retrieve(response_id, stream=True))
    assert [(e.type, e.sequence_number) for e in replayed] == [(e.type, e.sequence_number) for e in events]
    resumed = list(client.responses.retrieve(response_id, stream=True, starting_after=4))
    assert [e.sequence_number for e in resumed] == list(range(5, len(events)))
    assert resumed == events[5:]
    assert list(client.responses.retrieve(response_id, stream=True, starting_after=len(events) - 1)) == []


async def test_retrieve_stream_resumes_async(async_client):
    response = await async_client.responses.create(model="gpt-4o", input="Resume me", background=True)
    stream = await async_client.responses.retrieve(response.id, stream=True, starting_after=1)
    events = [event async for event in stream]
    assert events[0].type == "response.in_progress" and events[0].sequence_number == 2
    assert events[-1].type == "response.completed"
    assert (await async_client.responses.retrieve(response.id)).status == "completed"


def test_background_without_store_can_be_polled(openai_server, client):
    response = create(client, input="Poll me", background=True, store=False)
    assert response.status == "queued"
    assert client.responses.retrieve(response.id).status == "in_progress"
    done = client.responses.retrieve(response.id)
    assert done.status == "completed" and done.output_text
    with pytest.raises(openai.BadRequestError) as excinfo:
        create(client, input="more", previous_response_id=response.id)
    assert excinfo.value.code == "previous_response_not_found"
    openai_server.clock.advance(600)  # kept ~10 minutes for polling
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(response.id)


def test_background_without_store_can_be_cancelled(client):
    response = create(client, input="Cancel me", background=True, store=False)
    assert client.responses.cancel(response.id).status == "cancelled"


# -- cancel ------------------------------------------------------------------------------------


def test_cancel_a_synchronous_response_is_the_real_400(client):
    plain = create(client, input="not background")
    with pytest.raises(openai.BadRequestError) as excinfo:
        client.responses.cancel(plain.id)
    assert excinfo.value.body["message"] == "Cannot cancel a synchronous response."


def test_a_cancelled_response_has_no_output_to_continue_from(openai_server, client):
    cancelled = create(client, input="My name is Ada.", background=True)
    assert client.responses.cancel(cancelled.id).output == []
    assert client.responses.cancel(cancelled.id).status == "cancelled"  # again: the same answer
    follow = create(client, input="What is my name?", previous_response_id=cancelled.id)
    context = openai_server.state.responses.get(follow.id).context
    assert [(i["type"], i["role"]) for i in context] == [("message", "user"), ("message", "user"), ("message", "assistant")]
    # a background response that completed does carry its output
    done = create(client, input="My name is Ada.", background=True)
    openai_server.clock.advance(2)
    follow_done = create(client, input="What is my name?", previous_response_id=done.id)
    assert len(openai_server.state.responses.get(follow_done.id).context) == 4
    assert follow.output_text != follow_done.output_text
    stream = list(client.responses.retrieve(cancelled.id, stream=True))
    assert [e.type for e in stream] == ["response.created", "response.queued"]


async def test_a_cancelled_response_leaves_no_output_in_its_conversation(async_client):
    conversation = await async_client.conversations.create()
    response = await async_client.responses.create(model="gpt-4o", input="First", conversation=conversation.id, background=True)
    cancelled = await async_client.responses.cancel(response.id)
    assert cancelled.status == "cancelled" and cancelled.output == []
    items = (await async_client.conversations.items.list(conversation.id, order="asc")).data
    assert [(i.type, i.role) for i in items] == [("message", "user")]


# -- parameters per model kind ------------------------------------------------------------------


def test_reasoning_effort_on_a_model_that_does_not_reason(client):
    with pytest.raises(openai.BadRequestError) as caught:
        create(client, model="gpt-4o", input="Hi", reasoning={"effort": "high"})
    assert caught.value.body == {
        "message": "Unsupported parameter: 'reasoning.effort' is not supported with this model.",
        "type": "invalid_request_error",
        "param": "reasoning.effort",
        "code": "unsupported_parameter",
    }
    assert create(client, model="o3", input="Hi", reasoning={"effort": "high"}).status == "completed"


@pytest.mark.parametrize("name", ["temperature", "top_p"])
async def test_async_reasoning_models_refuse_sampling_parameters(async_client, name):
    with pytest.raises(openai.BadRequestError) as caught:
        await async_client.responses.create(model="gpt-5", input="Hi", **{name: 0.5})
    assert caught.value.body["message"] == f"Unsupported parameter: '{name}' is not supported with this model."
    assert caught.value.param == name
    if EFFORT_NONE:
        ok = await async_client.responses.create(model="gpt-5.1", input="Hi", reasoning={"effort": "none"}, **{name: 0.5})
        assert ok.status == "completed"
    assert (await async_client.responses.create(model="gpt-5", input="Hi", **{name: 1})).status == "completed"


# -- round trips and optional tool fields --------------------------------------------------------


def test_a_custom_tool_call_goes_back_as_input(client):
    # Regression: the item carried a status the SDK's input type lacks, so the fake refused it.
    tools = [{"type": "custom", "name": "gram"}]
    first = create(client, input="use gram", tools=tools)
    [call] = first.output
    assert call.type == "custom_tool_call" and not call.model_extra
    done = create(
        client,
        tools=tools,
        input=[{"role": "user", "content": "use gram"}, call, {"type": "custom_tool_call_output", "call_id": call.call_id, "output": "x"}],
    )
    assert done.output_text


async def test_async_function_tools_without_strict_or_parameters(async_client):
    # Regression: Required[Optional] in the SDK's FunctionToolParam, but the API lets both go.
    for tool in ({"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}}, {"type": "function", "name": "get_weather"}):
        response = await async_client.responses.create(model="gpt-4o", input="get_weather now", tools=[tool])
        assert response.output[0].type == "function_call" and response.output[0].arguments.startswith("{")
