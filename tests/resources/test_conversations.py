"""Conversations and their items through the real SDK, with strict response validation."""

from __future__ import annotations

import re

import httpx2
import openai
import pytest
from openai.types.conversations import Message

from pytest_openai_fake import FakeOpenAI
from pytest_openai_fake.determinism import EPOCH, IdSequence
from pytest_openai_fake.errors import OpenAIError
from pytest_openai_fake.resources.conversations import (
    Conversation,
    append_items,
    history,
    normalise_items,
    remove_items,
    require_conversation,
    seed_conversation,
)
from pytest_openai_fake.routing import Ctx
from openai.types.responses import ResponseIncludable, ResponseInputItemParam, ResponseOutputMessageParam
from pytest_openai_fake.providers.openai import literal_strings
from tests.sdk_features import sdk_requires, sdk_union_types

# What the installed SDK has (docs/versions.md): openai 2.0's messages have no ``phase`` (the
# input's ResponseOutputMessageParam has it before the stored Message model does), and it lacks
# some item types (tool_search_call, additional_tools, compaction_trigger).
SDK_PHASE = "phase" in ResponseOutputMessageParam.__annotations__
SDK_ITEM_TYPES = sdk_union_types(ResponseInputItemParam)

AUTH = {"Authorization": "Bearer sk-test"}
HEX48 = re.compile(r"[0-9a-f]{48}")


def words(n: int) -> list[dict]:
    return [{"role": "user", "content": f"message {i}"} for i in range(n)]


def texts(items) -> list[str]:
    return [item.content[0].text for item in items]


def error_of(caught: pytest.ExceptionInfo) -> dict:
    return caught.value.body


# -- conversations ---------------------------------------------------------------------------------


def test_create_empty(client):
    conversation = client.conversations.create()
    assert conversation.object == "conversation"
    assert conversation.id.startswith("conv_") and HEX48.fullmatch(conversation.id.removeprefix("conv_"))
    assert conversation.created_at == EPOCH
    assert conversation.metadata == {}
    assert client.conversations.items.list(conversation.id).data == []


def test_create_stores_easy_messages_as_the_api_does(client):
    conversation = client.conversations.create(
        items=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
            {"type": "message", "role": "assistant", "content": "Hello!", **({"phase": "final_answer"} if SDK_PHASE else {})},
        ],
        metadata={"topic": "greeting"},
    )
    assert conversation.metadata == {"topic": "greeting"}
    system, user, assistant = client.conversations.items.list(conversation.id, order="asc").data
    for item, role in ((system, "system"), (user, "user"), (assistant, "assistant")):
        assert isinstance(item, Message)
        assert item.type == "message" and item.status == "completed" and item.role == role
        assert item.id.startswith("msg_") and HEX48.fullmatch(item.id.removeprefix("msg_"))
    assert user.content[0].model_dump(exclude={"prompt_cache_breakpoint"}) == {"type": "input_text", "text": "Hi"}
    assert getattr(user.content[0], "prompt_cache_breakpoint", None) is None  # openai 2.0 has no such field
    part = assistant.content[0]
    assert (part.type, part.text, part.annotations, part.logprobs) == ("output_text", "Hello!", [], [])
    if SDK_PHASE:
        assert assistant.phase == "final_answer" and getattr(user, "phase", None) is None  # an extra field before Message has it


@pytest.mark.skipif(SDK_PHASE, reason="this openai SDK's messages have a phase")
def test_phase_is_an_unknown_parameter_where_the_sdk_has_none(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.conversations.create(items=[{"role": "assistant", "content": "x", "phase": "final_answer"}])
    assert error_of(caught) == {
        "message": "Unknown parameter: 'items[0].phase'.",
        "type": "invalid_request_error",
        "param": "items[0].phase",
        "code": "unknown_parameter",
    }


def test_retrieve_update_delete(client):
    created = client.conversations.create(metadata={"a": "1"})
    assert client.conversations.retrieve(created.id) == created
    updated = client.conversations.update(created.id, metadata={"b": "2"})
    assert updated.metadata == {"b": "2"}  # replaced, not merged
    assert client.conversations.retrieve(created.id).metadata == {"b": "2"}
    assert client.conversations.update(created.id, metadata=None).metadata == {}
    deleted = client.conversations.delete(created.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (created.id, "conversation.deleted", True)
    with pytest.raises(openai.NotFoundError) as caught:
        client.conversations.retrieve(created.id)
    assert error_of(caught) == {
        "message": f"Conversation with id '{created.id}' not found.",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.conversations.retrieve("conv_missing"),
        lambda c: c.conversations.update("conv_missing", metadata={}),
        lambda c: c.conversations.delete("conv_missing"),
        lambda c: c.conversations.items.create("conv_missing", items=[{"role": "user", "content": "x"}]),
        lambda c: c.conversations.items.list("conv_missing"),
        lambda c: c.conversations.items.retrieve("msg_x", conversation_id="conv_missing"),
        lambda c: c.conversations.items.delete("msg_x", conversation_id="conv_missing"),
    ],
    ids=["retrieve", "update", "delete", "items.create", "items.list", "items.retrieve", "items.delete"],
)
def test_unknown_conversation_is_404(client, call):
    with pytest.raises(openai.NotFoundError) as caught:
        call(client)
    assert error_of(caught)["message"] == "Conversation with id 'conv_missing' not found."


# -- items ------------------------------------------------------------------------------------------


def test_items_create_appends_and_lists_what_was_added(client):
    conversation = client.conversations.create(items=[{"role": "user", "content": "first"}])
    added = client.conversations.items.create(
        conversation.id, items=[{"role": "assistant", "content": "second"}, {"role": "user", "content": "third"}]
    )
    assert added.object == "list" and added.has_more is False
    assert [i.role for i in added.data] == ["assistant", "user"]
    assert (added.first_id, added.last_id) == (added.data[0].id, added.data[1].id)
    assert texts(client.conversations.items.list(conversation.id, order="asc").data) == ["first", "second", "third"]


def test_items_of_every_common_type_round_trip(client):
    conversation = client.conversations.create(
        items=[
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "Weather?"},
                    {"type": "input_image", "image_url": "https://example.com/a.png", "detail": "low"},
                ],
            },
            {"type": "reasoning", "id": "rs_given", "summary": [{"type": "summary_text", "text": "Look it up."}]},
            {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": '{"city": "Paris"}'},
            {"type": "function_call_output", "call_id": "call_1", "output": '{"temp": 18}'},
            {"type": "custom_tool_call", "call_id": "call_2", "name": "run_sql", "input": "SELECT 1"},
            {"type": "custom_tool_call_output", "call_id": "call_2", "output": "1"},
            {
                "role": "assistant",
                "content": [{"type": "output_text", "text": "18C."}, {"type": "refusal", "refusal": "No more."}],
            },
        ]
    )
    items = client.conversations.items.list(conversation.id, order="asc").data
    assert [i.type for i in items] == [
        "message", "reasoning", "function_call", "function_call_output",
        "custom_tool_call", "custom_tool_call_output", "message",
    ]  # fmt: skip
    message, reasoning, call, output, custom_call, custom_output, answer = items
    assert message.content[1].type == "input_image" and message.content[1].detail == "low"
    assert reasoning.id == "rs_given" and reasoning.summary[0].text == "Look it up."
    # status is filled in where the SDK's item model requires it (openai 2.0's function_call and
    # function_call_output have an optional status, and the fake leaves it out there)
    assert call.id.startswith("fc_") and call.arguments == '{"city": "Paris"}'
    assert call.status == ("completed" if sdk_requires(type(call), "status") else None)
    assert output.id.startswith("fco_") and output.call_id == "call_1"
    assert output.status == ("completed" if sdk_requires(type(output), "status") else None)
    assert custom_call.id.startswith("ctc_") and custom_output.id.startswith("ctco_")
    assert [p.type for p in answer.content] == ["output_text", "refusal"]
    assert (answer.content[0].annotations, answer.content[0].logprobs) == ([], [])
    assert client.conversations.items.retrieve(call.id, conversation_id=conversation.id) == call


def test_items_retrieve_and_delete(client):
    conversation = client.conversations.create(items=words(3))
    middle = client.conversations.items.list(conversation.id, order="asc").data[1]
    assert (
        client.conversations.items.retrieve(
            middle.id, conversation_id=conversation.id, include=["message.input_image.image_url"]
        )
        == middle
    )
    after = client.conversations.items.delete(middle.id, conversation_id=conversation.id)
    assert after == client.conversations.retrieve(conversation.id)  # delete answers the conversation
    assert texts(client.conversations.items.list(conversation.id, order="asc").data) == ["message 0", "message 2"]
    for call in (client.conversations.items.retrieve, client.conversations.items.delete):
        with pytest.raises(openai.NotFoundError) as caught:
            call(middle.id, conversation_id=conversation.id)
        assert error_of(caught)["message"] == f"Item with id '{middle.id}' not found in conversation."


def test_list_orders_and_pages_with_a_cursor(client):
    conversation = client.conversations.create(items=words(5))
    newest_first = client.conversations.items.list(conversation.id)  # desc is the default
    assert texts(newest_first.data) == [f"message {i}" for i in (4, 3, 2, 1, 0)]
    assert newest_first.has_more is False
    assert (newest_first.first_id, newest_first.last_id) == (newest_first.data[0].id, newest_first.data[-1].id)

    first = client.conversations.items.list(conversation.id, order="asc", limit=2)
    assert texts(first.data) == ["message 0", "message 1"] and first.has_more is True
    second = client.conversations.items.list(conversation.id, order="asc", limit=2, after=first.last_id)
    assert texts(second.data) == ["message 2", "message 3"] and second.has_more is True
    last = second.get_next_page()
    assert texts(last.data) == ["message 4"] and last.has_more is False and not last.has_next_page()
    assert client.conversations.items.list(conversation.id, after="msg_unknown").data == []


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_auto_pagination_iterates_every_item(client, openai_server: FakeOpenAI, order):
    conversation = client.conversations.create(items=words(7))
    listed = texts(client.conversations.items.list(conversation.id, limit=2, order=order))
    expected = [f"message {i}" for i in range(7)]
    assert listed == (expected if order == "asc" else expected[::-1])
    pages = openai_server.requests.filter(endpoint="conversations.items.list")
    assert len(pages) == 4


def test_more_than_twenty_items_need_two_requests(client):
    conversation = client.conversations.create(items=words(20))
    client.conversations.items.create(conversation.id, items=words(20))
    assert len(list(client.conversations.items.list(conversation.id, limit=100))) == 40
    with pytest.raises(openai.BadRequestError) as caught:
        client.conversations.items.create(conversation.id, items=words(21))
    assert error_of(caught) == {
        "message": (
            "Invalid 'items': array too long. Expected an array with maximum length 20, "
            "but got an array with length 21 instead."
        ),
        "type": "invalid_request_error",
        "param": "items",
        "code": "array_above_max_length",
    }
    with pytest.raises(openai.BadRequestError) as caught:
        client.conversations.create(items=words(21))
    assert error_of(caught)["code"] == "array_above_max_length"
    with pytest.raises(openai.BadRequestError) as caught:
        client.conversations.items.create(conversation.id, items=[])
    assert error_of(caught)["code"] == "empty_array"


def test_item_reference_copies_a_stored_item(client):
    source = client.conversations.create(items=[{"role": "user", "content": "remember me"}])
    item_id = client.conversations.items.list(source.id).data[0].id
    target = client.conversations.create(items=[{"type": "item_reference", "id": item_id}])
    copied = client.conversations.items.list(target.id).data[0]
    assert copied.id == item_id and copied.content[0].text == "remember me"
    with pytest.raises(openai.NotFoundError) as caught:
        client.conversations.create(items=[{"type": "item_reference", "id": "msg_gone"}])
    assert error_of(caught)["message"].startswith("Item with id 'msg_gone' not found.")


def test_ids_sent_are_kept_and_must_be_unique(client):
    conversation = client.conversations.create(items=[{"role": "user", "content": "a", "id": "msg_mine"}])
    assert client.conversations.items.retrieve("msg_mine", conversation_id=conversation.id).content[0].text == "a"
    duplicate = "Duplicate item found with id msg_mine. Remove duplicate items from your input and try again."
    with pytest.raises(openai.BadRequestError) as caught:
        client.conversations.items.create(conversation.id, items=[{"role": "user", "content": "b", "id": "msg_mine"}])
    assert error_of(caught)["message"] == duplicate
    with pytest.raises(openai.BadRequestError) as caught:
        client.conversations.create(
            items=[{"role": "user", "content": "a", "id": "msg_x"}, {"role": "user", "content": "b", "id": "msg_x"}]
        )
    assert error_of(caught)["message"] == duplicate.replace("msg_mine", "msg_x")


ALL_ROLES = "Supported values are: 'assistant', 'system', 'developer', and 'user'."


@pytest.mark.parametrize(
    ("item", "param", "code", "message"),
    [
        (7, "items[0]", "invalid_type",
         "Invalid type for 'items[0]': expected an input item, but got an integer instead."),
        ({}, "items[0]", "invalid_value", f"Invalid value: ''. {ALL_ROLES}"),
        ({"role": "robot", "content": "x"}, "items[0]", "invalid_value", f"Invalid value: 'robot'. {ALL_ROLES}"),
        ({"role": "user"}, "items[0].content", "missing_required_parameter",
         "Missing required parameter: 'items[0].content'."),
        ({"role": "user", "content": "x", "bogus": 1}, "items[0].bogus", "unknown_parameter",
         "Unknown parameter: 'items[0].bogus'."),
        (
            {"role": "assistant", "content": [{"type": "input_text", "text": "x"}]},
            "items[0].content[0]",
            "invalid_value",
            "Invalid value: 'input_text'. Supported values are: 'output_text' and 'refusal'.",
        ),
        (
            {"role": "user", "content": [{"type": "output_text", "text": "x"}]},
            "items[0].content[0]",
            "invalid_value",
            "Invalid value: 'output_text'. Supported values are: 'input_text', 'input_image', and 'input_file'.",
        ),
        (
            {"role": "user", "content": [{"type": "input_text"}]},
            "items[0].content[0].text",
            "missing_required_parameter",
            "Missing required parameter: 'items[0].content[0].text'.",
        ),
        (
            {"role": "user", "content": [{"type": "bogus"}]},
            "items[0].content[0].type",
            "invalid_value",
            (
                "Invalid value: 'bogus'. Supported values are: 'input_text', 'input_image', 'output_text', 'refusal', "
                "'input_file', 'computer_screenshot', and 'summary_text'."
            ),
        ),
        pytest.param(
            {"role": "assistant", "content": "x", "phase": "later"},
            "items[0].phase",
            "invalid_value",
            "Invalid value: 'later'. Supported values are: 'commentary' and 'final_answer'.",
            marks=pytest.mark.skipif(not SDK_PHASE, reason="this openai SDK's messages have no phase"),
        ),
        (
            {"type": "function_call", "name": "f", "arguments": "{}"},
            "items[0].call_id",
            "missing_required_parameter",
            "Missing required parameter: 'items[0].call_id'.",
        ),
        (
            {"type": "function_call_output", "call_id": "c", "output": "x", "extra": True},
            "items[0].extra",
            "unknown_parameter",
            "Unknown parameter: 'items[0].extra'.",
        ),
        (
            {"role": "user", "content": [{"type": "input_text", "text": "x", "bogus": 1}]},
            "items[0].content[0].bogus",
            "unknown_parameter",
            "Unknown parameter: 'items[0].content[0].bogus'.",
        ),
        pytest.param(
            # the stored item (ResponseToolSearchCall) needs more than the input type asks for
            {"type": "tool_search_call", "arguments": {}},
            "items[0].execution",
            "missing_required_parameter",
            "Missing required parameter: 'items[0].execution'.",
            marks=pytest.mark.skipif("tool_search_call" not in SDK_ITEM_TYPES, reason="this openai SDK has no tool_search_call"),
        ),
    ],
    ids=[
        "not-an-object", "empty-object", "unknown-role", "no-content", "unknown-member", "assistant-input-text",
        "user-output-text", "part-without-text", "unknown-part", "unknown-phase", "call-without-call-id",
        "unknown-output-member",
        "unknown-part-member", "stored-model-needs-more",
    ],
)  # fmt: skip
def test_invalid_items_get_the_real_400(client, item, param, code, message):
    for call in (
        lambda: client.conversations.create(items=[item]),
        lambda: client.conversations.items.create(client.conversations.create().id, items=[item]),
    ):
        with pytest.raises(openai.BadRequestError) as caught:
            call()
        assert error_of(caught) == {"message": message, "type": "invalid_request_error", "param": param, "code": code}


def test_unknown_item_type_lists_the_input_types(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.conversations.create(items=[{"role": "user", "content": "ok"}, {"type": "bogus_item"}])
    body = error_of(caught)
    assert (body["param"], body["code"]) == ("items[1]", "invalid_value")
    first = min(SDK_ITEM_TYPES)  # additional_tools under 3.x
    assert body["message"].startswith(f"Invalid value: 'bogus_item'. Supported values are: '{first}', ")
    assert "'function_call_output'" in body["message"] and body["message"].endswith(", and 'web_search_call'.")
    with pytest.raises(openai.BadRequestError) as caught:
        client.conversations.create(items=[{"type": "compaction_trigger"}])  # an input, never a stored item
    assert error_of(caught)["param"] == "items[0]"


def test_a_rejected_request_stores_nothing_and_takes_no_ids(client):
    conversation = client.conversations.create()
    with pytest.raises(openai.BadRequestError):
        client.conversations.items.create(
            conversation.id, items=[{"role": "user", "content": "ok"}, {"role": "robot", "content": "x"}]
        )
    assert client.conversations.items.list(conversation.id).data == []
    fresh = client.conversations.items.create(conversation.id, items=[{"role": "user", "content": "ok"}]).data[0]
    assert fresh.id == IdSequence().next("msg_")  # the test's first message id


@pytest.mark.parametrize(
    ("metadata", "param", "code", "message"),
    [
        (
            {f"k{i}": "v" for i in range(17)},
            "metadata",
            "object_above_max_properties",
            (
                "Invalid 'metadata': too many properties. Expected an object with at most 16 properties, "
                "but got an object with 17 properties instead."
            ),
        ),
        (
            {"k" * 70: "v"},
            "metadata." + "k" * 70,
            "property_name_above_max_length",
            (
                "Invalid property name in 'metadata': 'kkk...kkk' is too long. "
                "Expected a string with maximum length 64, but got a string with length 70 instead."
            ),
        ),
        (
            {"k": "x" * 600},
            "metadata.k",
            "string_above_max_length",
            (
                "Invalid 'metadata.k': string too long. Expected a string with maximum length 512, "
                "but got a string with length 600 instead."
            ),
        ),
        (
            {"k": 7},
            "metadata.k",
            "invalid_type",
            "Invalid type for 'metadata.k': expected a string, but got an integer instead.",
        ),
        (
            "x",
            "metadata",
            "invalid_type",
            "Invalid type for 'metadata': expected a metadata object, but got a string instead.",
        ),
    ],
    ids=["17-pairs", "long-key", "long-value", "integer-value", "string"],
)
def test_metadata_limits(client, metadata, param, code, message):
    conversation = client.conversations.create()
    for call in (
        lambda: client.conversations.create(metadata=metadata),
        lambda: client.conversations.update(conversation.id, metadata=metadata),
    ):
        with pytest.raises(openai.BadRequestError) as caught:
            call()
        assert error_of(caught) == {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    at_limit = {f"{i:02d}" + "k" * 62: "v" * 512 for i in range(16)}
    assert client.conversations.update(conversation.id, metadata=at_limit).metadata == at_limit


@pytest.mark.parametrize(
    ("query", "param", "message"),
    [
        (
            {"limit": 0},
            "limit",
            "Invalid 'limit': integer below minimum value. Expected a value >= 1, but got 0 instead.",
        ),
        (
            {"limit": 101},
            "limit",
            "Invalid 'limit': integer above maximum value. Expected a value <= 100, but got 101 instead.",
        ),
        ({"order": "sideways"}, "order", "Invalid value: 'sideways'. Supported values are: 'asc' and 'desc'."),
        (
            {"include": ["bogus.thing"]},
            "include[0]",
            f"Invalid value: 'bogus.thing'. Supported values are: '{literal_strings(ResponseIncludable)[0]}', ",  # the SDK's order
        ),
    ],
    ids=["limit-0", "limit-101", "order", "include"],
)
def test_list_parameters_are_checked(client, query, param, message):
    conversation = client.conversations.create()
    with pytest.raises(openai.BadRequestError) as caught:
        client.conversations.items.list(conversation.id, **query)
    assert error_of(caught)["param"] == param
    assert error_of(caught)["message"].startswith(message)


def test_malformed_query_and_body_over_raw_http(openai_server: FakeOpenAI, client):
    conversation = client.conversations.create()
    url = f"{openai_server.base_url}/conversations/{conversation.id}/items"
    response = httpx2.get(url, params={"limit": "ten"}, headers=AUTH)
    assert response.status_code == 400
    assert (
        response.json()["error"]["message"]
        == "Invalid type for 'limit': expected an integer, but got a string instead."
    )
    response = httpx2.post(url, json={"items": "hello"}, headers=AUTH)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "items"
    response = httpx2.post(url, json={}, headers=AUTH)
    assert response.json()["error"]["message"] == "Missing required parameter: 'items'."
    response = httpx2.post(f"{openai_server.base_url}/conversations", json={"itemz": []}, headers=AUTH)
    assert (response.status_code, response.json()["error"]["param"]) == (400, "itemz")


# -- fakes' state, scripting, async ----------------------------------------------------------------------


def test_state_first_of_two_tests_creates(client, openai_server: FakeOpenAI):
    created = client.conversations.create(items=words(1))
    assert created.id == IdSequence().next("conv_")
    assert len(openai_server.state.conversations) == 1
    assert openai_server.state.conversations.get(created.id).items[0]["content"] == [
        {"type": "input_text", "text": "message 0"}
    ]


def test_state_second_of_two_tests_starts_empty(client, openai_server: FakeOpenAI):
    assert len(openai_server.state.conversations) == 0
    first_id = IdSequence().next("conv_")  # what the test before created
    with pytest.raises(openai.NotFoundError):
        client.conversations.retrieve(first_id)
    assert client.conversations.create().id == first_id  # ids start over too


def test_scripted_fault_and_reply(openai_server: FakeOpenAI, client):
    openai_server.fail_next(1, 500, endpoint="conversations.create")
    with pytest.raises(openai.InternalServerError):
        client.conversations.create()
    assert len(openai_server.state.conversations) == 0
    created = client.conversations.create()
    openai_server.on("conversations.retrieve").once({"metadata": {"scripted": "yes"}})
    assert client.conversations.retrieve(created.id).metadata == {"scripted": "yes"}
    assert client.conversations.retrieve(created.id).metadata == {}


def test_seed_conversation(openai_server: FakeOpenAI, client):
    seeded = seed_conversation(openai_server, items=[{"role": "user", "content": "Hi"}], metadata={"topic": "greeting"})
    assert isinstance(seeded, Conversation) and openai_server.state.conversations.get(seeded.id) is seeded
    assert client.conversations.retrieve(seeded.id).metadata == {"topic": "greeting"}
    assert texts(client.conversations.items.list(seeded.id)) == ["Hi"]
    # seeding takes ids of its own: the API's ids are the same as without it
    first_api_id = client.conversations.create().id
    openai_server.reset()
    assert client.conversations.create().id == first_api_id
    on_store = seed_conversation(
        openai_server.state,
        id="conv_custom",
        created_at=5,
        items=[{"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"}],
    )
    assert client.conversations.retrieve("conv_custom").created_at == 5
    assert client.conversations.items.list(on_store.id).data[0].type == "function_call"
    with pytest.raises(OpenAIError, match="Invalid value: 'robot'"):
        seed_conversation(openai_server, items=[{"role": "robot", "content": "x"}])


def test_module_api_for_the_responses_api(openai_server: FakeOpenAI, client):
    conversation = client.conversations.create(items=[{"role": "user", "content": "Hi"}])
    ctx = Ctx(
        None,
        openai_server.state,
        openai_server.clock,
        openai_server.app.ids,
        openai_server.provider,
        "responses.create",
    )  # type: ignore[arg-type]
    assert require_conversation(ctx, conversation.id).id == conversation.id
    with pytest.raises(OpenAIError) as caught:
        require_conversation(ctx, "conv_nope")
    assert caught.value.code == 404 and caught.value.message == "Conversation with id 'conv_nope' not found."

    trigger = [{"type": "compaction_trigger"}] if "compaction_trigger" in SDK_ITEM_TYPES else []
    inputs = normalise_items(ctx, [{"role": "user", "content": "What now?"}, *trigger], param="input")
    assert inputs[0]["id"].startswith("msg_") and inputs[0]["content"] == [{"type": "input_text", "text": "What now?"}]
    with pytest.raises(OpenAIError) as caught:
        normalise_items(ctx, [{"role": "robot", "content": "x"}], param="input")
    assert caught.value.param == "input[0]"

    output = [
        {
            "id": "msg_out",
            "type": "message",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Done.", "annotations": []}],
        }
    ]
    append_items(ctx, conversation.id, [*inputs, *output])  # compaction_trigger is not stored
    items = history(ctx, conversation.id)
    assert [i["id"] for i in items[1:]] == [inputs[0]["id"], "msg_out"]
    items[0]["content"] = "changed"  # a copy
    assert texts(client.conversations.items.list(conversation.id, order="asc")) == ["Hi", "What now?", "Done."]
    with pytest.raises(ValueError, match="not a valid Message"):
        append_items(ctx, conversation.id, [{"type": "message", "id": "msg_bad", "role": "user"}])


def test_module_api_existing_ids_resolve_and_remove(openai_server: FakeOpenAI, client):
    conversation = client.conversations.create(items=[{"role": "user", "content": "Hi"}, {"role": "user", "content": "Bye"}])
    first, second = (item.id for item in client.conversations.items.list(conversation.id, order="asc"))
    ctx = Ctx(
        None, openai_server.state, openai_server.clock, openai_server.app.ids, openai_server.provider, "responses.create"
    )  # type: ignore[arg-type]
    with pytest.raises(OpenAIError) as caught:  # an id already in the caller's context
        normalise_items(ctx, [{"type": "item_reference", "id": first}], param="input", existing={first})
    assert caught.value.param == "input"
    assert caught.value.message == f"Duplicate item found with id {first}. Remove duplicate items from your input and try again."
    elsewhere = {"id": "fc_elsewhere", "type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}", "status": "completed"}
    [found] = normalise_items(ctx, [{"type": "item_reference", "id": "fc_elsewhere"}], param="input", resolve={"fc_elsewhere": elsewhere}.get)
    assert found == elsewhere and found is not elsewhere
    [fallback] = normalise_items(ctx, [{"type": "item_reference", "id": second}], param="input", resolve={}.get)
    assert fallback["id"] == second  # then the conversations are searched

    remove_items(ctx, conversation.id, [first, "msg_unknown"])
    assert texts(client.conversations.items.list(conversation.id)) == ["Bye"]
    client.conversations.delete(conversation.id)
    remove_items(ctx, conversation.id, [second])  # a deleted conversation: nothing to do


async def test_async_crud_and_pagination(async_client):
    conversation = await async_client.conversations.create(items=words(5), metadata={"k": "v"})
    assert (await async_client.conversations.retrieve(conversation.id)).metadata == {"k": "v"}
    added = await async_client.conversations.items.create(
        conversation.id, items=[{"role": "assistant", "content": "done"}]
    )
    listed = [item async for item in async_client.conversations.items.list(conversation.id, limit=2, order="asc")]
    assert texts(listed) == [*(f"message {i}" for i in range(5)), "done"]
    got = await async_client.conversations.items.retrieve(added.first_id, conversation_id=conversation.id)
    assert got.role == "assistant"
    await async_client.conversations.items.delete(added.first_id, conversation_id=conversation.id)
    assert (await async_client.conversations.delete(conversation.id)).deleted is True
    with pytest.raises(openai.NotFoundError):
        await async_client.conversations.items.list(conversation.id)
