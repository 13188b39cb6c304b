"""Stored chat completions (``store=True``) through the real SDK, with strict response validation."""

from __future__ import annotations

from types import SimpleNamespace

import openai
import pytest
from openai.types.chat import ChatCompletion

from pytest_openai_fake import FakeOpenAI
from pytest_openai_fake.resources.chat_store import StoredChatCompletion, remember, seed

ASK = [{"role": "user", "content": "Write a haiku about tests."}]


def create(client, **kwargs):
    return client.chat.completions.create(model="gpt-4o", messages=kwargs.pop("messages", ASK), **kwargs)


@pytest.fixture
def lax(openai_server: FakeOpenAI):
    """A client without strict validation, for ``messages.list``: stored messages keep the role
    they were sent with, as the real API sends them, and the SDK types them assistant-only
    (``ChatCompletionStoreMessage.role: Literal["assistant"]``), so a strict client rejects the
    real API's lists too."""
    return openai_server.client()


@pytest.fixture
def async_lax(openai_server: FakeOpenAI):
    """``lax``, async."""
    return openai_server.async_client(keep_alive=False)


def not_found(completion_id: str) -> str:
    return f"No chat completion found with id '{completion_id}'."


# -- store=true through chat.completions.create ----------------------------------------------------


def test_created_with_store_is_retrieved_as_created(client):
    created = create(client, store=True, metadata={"run": "nightly"}, temperature=0.5, user="user-42")
    stored = client.chat.completions.retrieve(created.id)
    assert stored.id == created.id
    assert stored.choices == created.choices
    assert stored.usage == created.usage
    assert (stored.model, stored.created, stored.system_fingerprint) == (created.model, created.created, created.system_fingerprint)
    assert stored.metadata == {"run": "nightly"}
    # the request's settings, as the real API echoes them on stored completions
    extra = stored.model_extra
    assert extra["temperature"] == 0.5 and extra["top_p"] == 1.0 and extra["input_user"] == "user-42"
    assert isinstance(extra["seed"], int)


def test_streamed_with_store_is_retrieved_as_the_whole_reply(client, lax):
    stream = create(client, store=True, stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    stored = client.chat.completions.retrieve(chunks[0].id)
    assert stored.object == "chat.completion"
    assert stored.choices[0].message.content == text
    assert stored.choices[0].finish_reason == "stop"
    assert stored.usage == chunks[-1].usage
    assert [m.content for m in lax.chat.completions.messages.list(stored.id)] == [ASK[0]["content"]]


@pytest.mark.parametrize("store", [None, False])
def test_without_store_nothing_is_kept(client, store):
    created = create(client) if store is None else create(client, store=store)
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.retrieve(created.id)
    assert caught.value.status_code == 404
    assert caught.value.body["message"] == not_found(created.id)
    assert client.chat.completions.list().data == []


def test_store_and_retrieve_are_captured_by_endpoint_name(openai_server: FakeOpenAI, client, lax):
    created = create(client, store=True)
    client.chat.completions.retrieve(created.id)
    lax.chat.completions.messages.list(created.id)
    assert [r.endpoint for r in openai_server.requests] == [
        "chat.completions.create",
        "chat.completions.retrieve",
        "chat.completions.messages.list",
    ]


# -- retrieve / update / delete ----------------------------------------------------------------------


def test_update_replaces_the_metadata(openai_server, client):
    stored = seed(openai_server, messages=ASK, metadata={"a": "1", "b": "2"})
    updated = client.chat.completions.update(stored.id, metadata={"c": "3"})
    assert updated.metadata == {"c": "3"}
    assert updated.choices == client.chat.completions.retrieve(stored.id).choices
    assert client.chat.completions.retrieve(stored.id).metadata == {"c": "3"}
    assert client.chat.completions.update(stored.id, metadata=None).metadata == {}


def test_update_takes_only_metadata(openai_server, client):
    stored = seed(openai_server, messages=ASK)
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.update(stored.id, metadata={}, extra_body={"temperature": 0})
    assert caught.value.body["code"] == "unknown_parameter" and caught.value.body["param"] == "temperature"
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.update(stored.id, metadata={"k": 1})  # type: ignore[dict-item]
    assert caught.value.body["message"] == "Invalid type for 'metadata.k': expected a string, but got an integer instead."


LONG_KEY = "k" * 65

METADATA_ERRORS = [
    pytest.param(
        {str(i): "v" for i in range(17)},
        "metadata",
        "object_above_max_properties",
        "Invalid 'metadata': too many properties. Expected an object with at most 16 properties, but got an object with 17 properties instead.",
        id="17-pairs",
    ),
    pytest.param(
        {LONG_KEY: "v"},
        "metadata." + LONG_KEY,
        "property_name_above_max_length",
        "Invalid property name in 'metadata': 'kkk...kkk' is too long. Expected a string with maximum length 64, but got a string with length 65 instead.",
        id="65-char-key",
    ),
    pytest.param(
        {"k": "v" * 513},
        "metadata.k",
        "string_above_max_length",
        "Invalid 'metadata.k': string too long. Expected a string with maximum length 512, but got a string with length 513 instead.",
        id="513-char-value",
    ),
]


@pytest.mark.parametrize(("metadata", "param", "code", "message"), METADATA_ERRORS)
def test_metadata_over_the_limits_is_rejected(openai_server, client, metadata, param, code, message):
    stored = seed(openai_server, messages=ASK, metadata={"kept": "yes"})
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.update(stored.id, metadata=metadata)
    assert caught.value.body == {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    assert client.chat.completions.retrieve(stored.id).metadata == {"kept": "yes"}
    with pytest.raises(openai.BadRequestError) as caught:
        create(client, store=True, metadata=metadata)
    assert caught.value.body["code"] == code
    assert client.chat.completions.list().data == [client.chat.completions.retrieve(stored.id)]


def test_metadata_at_the_limits_is_accepted(openai_server, client):
    stored = seed(openai_server, messages=ASK)
    metadata = {f"{i:02d}" + "k" * 62: "v" * 512 for i in range(16)}
    assert client.chat.completions.update(stored.id, metadata=metadata).metadata == metadata


def test_delete_then_everything_is_404(openai_server, client):
    stored = seed(openai_server, messages=ASK)
    deleted = client.chat.completions.delete(stored.id)
    assert (deleted.id, deleted.deleted, deleted.object) == (stored.id, True, "chat.completion.deleted")
    calls = [
        lambda: client.chat.completions.retrieve(stored.id),
        lambda: client.chat.completions.update(stored.id, metadata={}),
        lambda: client.chat.completions.messages.list(stored.id),
        lambda: client.chat.completions.delete(stored.id),
    ]
    for call in calls:
        with pytest.raises(openai.NotFoundError) as caught:
            call()
        assert caught.value.body == {"message": not_found(stored.id), "type": "invalid_request_error", "param": None, "code": None}
    assert client.chat.completions.list().data == []


# -- list -----------------------------------------------------------------------------------------------


def seed_five(openai_server):
    rows = []
    for i in range(5):
        rows.append(
            seed(
                openai_server,
                messages=[{"role": "user", "content": f"question {i}"}],
                model="gpt-4o" if i % 2 == 0 else "gpt-4o-mini",
                metadata={"batch": "even" if i % 2 == 0 else "odd", "n": str(i)},
            )
        )
        openai_server.clock.advance(10)
    return [row.id for row in rows]


def test_list_is_oldest_first_and_auto_paginates(openai_server, client):
    ids = seed_five(openai_server)
    first = client.chat.completions.list(limit=2)
    assert [c.id for c in first.data] == ids[:2]
    assert first.has_more is True and first.first_id == ids[0] and first.last_id == ids[1]
    assert [c.id for c in client.chat.completions.list(limit=2)] == ids  # follows `after` across 3 pages
    assert len(openai_server.requests.filter(endpoint="chat.completions.list")) == 1 + 3
    assert [c.id for c in client.chat.completions.list(order="desc", limit=3)] == ids[::-1]
    assert [c.id for c in client.chat.completions.list(after=ids[1]).data] == ids[2:]
    assert client.chat.completions.list(after="chatcmpl-unknown").data == []


def test_list_filters_by_model_and_metadata(openai_server, client):
    ids = seed_five(openai_server)
    assert [c.id for c in client.chat.completions.list(model="gpt-4o-mini")] == [ids[1], ids[3]]
    assert [c.id for c in client.chat.completions.list(metadata={"batch": "even"})] == [ids[0], ids[2], ids[4]]
    assert [c.id for c in client.chat.completions.list(metadata={"batch": "even", "n": "2"})] == [ids[2]]
    assert client.chat.completions.list(metadata={"batch": "odd"}, model="gpt-4o").data == []
    page = client.chat.completions.list(metadata={"batch": "even"}, limit=2)
    assert page.has_more is True and [c.metadata["n"] for c in page.data] == ["0", "2"]


def test_list_orders_by_created_time(openai_server, client):
    later = seed(openai_server, messages=ASK, created=2_000_000_000)
    earlier = seed(openai_server, messages=ASK, created=1_900_000_000)
    assert [c.id for c in client.chat.completions.list()] == [earlier.id, later.id]


@pytest.mark.parametrize(
    ("query", "param", "code"),
    [
        ({"limit": 0}, "limit", "integer_below_min_value"),
        ({"limit": 101}, "limit", "integer_above_max_value"),
        ({"limit": "lots"}, "limit", "invalid_type"),
        ({"order": "sideways"}, "order", "invalid_value"),
    ],
)
def test_list_rejects_bad_paging(openai_server, client, query, param, code):
    stored = seed(openai_server, messages=ASK)
    for call in (client.chat.completions.list, lambda **kw: client.chat.completions.messages.list(stored.id, **kw)):
        with pytest.raises(openai.BadRequestError) as caught:
            call(extra_query=query)
        assert (caught.value.body["param"], caught.value.body["code"]) == (param, code)


def test_each_test_starts_with_no_stored_completions_part_1(openai_server, client):
    create(client, store=True)
    seed(openai_server, messages=ASK)
    assert len(client.chat.completions.list().data) == 2


def test_each_test_starts_with_no_stored_completions_part_2(openai_server, client):
    assert client.chat.completions.list().data == []
    assert len(openai_server.state.chat_completions) == 0


# -- messages ------------------------------------------------------------------------------------------

CONVERSATION = [
    {"role": "system", "content": "You are terse."},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "low"}},
        ],
    },
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "look", "arguments": "{}"}}],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": "a cat"},
    {"role": "user", "content": "Thanks!", "name": "ann"},
]


def test_messages_are_the_request_messages(openai_server, lax):
    stored = seed(openai_server, messages=CONVERSATION)
    messages = list(lax.chat.completions.messages.list(stored.id))
    assert [m.id for m in messages] == [f"{stored.id}-{i}" for i in range(5)]
    assert [m.content for m in messages] == ["You are terse.", "What is this?", None, "a cat", "Thanks!"]
    # content parts only when a parts array was sent
    assert [m.content_parts is None for m in messages] == [True, False, True, True, True]
    text, image = messages[1].content_parts
    assert (text.type, text.text) == ("text", "What is this?")
    assert (image.type, image.image_url.url, image.image_url.detail) == ("image_url", "https://example.com/cat.png", "low")
    assert messages[2].tool_calls[0].function.name == "look"
    assert messages[4].model_extra["name"] == "ann"
    # each message keeps the role it was sent with, as the real API's list shows it
    assert [m.role for m in messages] == ["system", "user", "assistant", "tool", "user"]


def test_strict_clients_reject_stored_messages_of_other_roles(openai_server, client):
    # The SDK types ChatCompletionStoreMessage.role as Literal["assistant"]; the real API sends
    # the sent roles, so a strict client fails on its lists too. This documents that, on purpose.
    stored = seed(openai_server, messages=ASK)
    with pytest.raises(openai.APIResponseValidationError):
        client.chat.completions.messages.list(stored.id)


def test_messages_paginate(openai_server, lax):
    client = lax
    stored = seed(openai_server, messages=CONVERSATION)
    ids = [f"{stored.id}-{i}" for i in range(5)]
    first = client.chat.completions.messages.list(stored.id, limit=2)
    assert [m.id for m in first.data] == ids[:2] and first.has_more is True
    assert (first.first_id, first.last_id) == (ids[0], ids[1])
    assert [m.id for m in client.chat.completions.messages.list(stored.id, limit=2)] == ids
    assert [m.id for m in client.chat.completions.messages.list(stored.id, order="desc", limit=4)] == ids[::-1]
    assert [m.id for m in client.chat.completions.messages.list(stored.id, after=ids[2]).data] == ids[3:]
    last = client.chat.completions.messages.list(stored.id, after=ids[3])
    assert [m.id for m in last.data] == ids[4:] and last.has_more is False


def test_messages_of_a_created_completion(client, lax):
    created = create(client, store=True, messages=[{"role": "developer", "content": "Be kind."}, *ASK])
    messages = lax.chat.completions.messages.list(created.id).data
    assert [(m.id, m.role, m.content) for m in messages] == [
        (f"{created.id}-0", "developer", "Be kind."),
        (f"{created.id}-1", "user", ASK[0]["content"]),
    ]


# -- seeding and remember() from Python ---------------------------------------------------------------


def test_seed_stores_plain_data(openai_server, client):
    openai_server.clock.advance(3600)
    stored = seed(
        openai_server, messages=ASK, reply="Green tests grow", model="gpt-4o-mini", metadata={"t": "1"}, temperature=0.2, seed=7
    )
    assert isinstance(stored, StoredChatCompletion)
    assert stored.id.startswith("chatcmpl-") and len(stored.id) == len("chatcmpl-") + 29
    got = client.chat.completions.retrieve(stored.id)
    assert got.choices[0].message.content == "Green tests grow"
    assert (got.model, got.created, got.metadata) == ("gpt-4o-mini", 1_767_225_600 + 3600, {"t": "1"})
    assert got.model_extra["temperature"] == 0.2 and got.model_extra["seed"] == 7
    assert seed(openai_server.state, messages=ASK).id != stored.id  # the Store works too, ids stay unique
    assert seed(openai_server, messages=ASK, id="chatcmpl-mine").id == "chatcmpl-mine"
    assert client.chat.completions.retrieve("chatcmpl-mine").choices[0].message.content == "Stored reply."


def test_remember_keeps_its_own_copy(openai_server, client, lax):
    request = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "store": True, "metadata": {"k": "v"}}
    completion = create(client).model_dump(mode="json", exclude_unset=True)
    remember(SimpleNamespace(state=openai_server.state), request, completion)
    request["messages"][0]["content"] = "changed"
    request["metadata"]["k"] = "changed"
    completion["choices"][0]["message"]["content"] = "changed"
    got = client.chat.completions.retrieve(completion["id"])
    assert got.metadata == {"k": "v"} and got.choices[0].message.content != "changed"
    assert lax.chat.completions.messages.list(completion["id"]).data[0].content == "hi"


@pytest.mark.skipif(
    "metadata" not in ChatCompletion.model_fields, reason="this openai SDK's ChatCompletion has no metadata field to script"
)
def test_stored_endpoints_can_be_scripted(openai_server, client):
    stored = seed(openai_server, messages=ASK)
    openai_server.on("chat.completions.retrieve").once({"metadata": {"scripted": "yes"}})
    openai_server.on("chat.completions.messages.list").fail(503)
    assert client.chat.completions.retrieve(stored.id).metadata == {"scripted": "yes"}
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.messages.list(stored.id)


# -- async -------------------------------------------------------------------------------------------


async def test_async_store_list_update_messages_delete(async_client, async_lax):
    created = await async_client.chat.completions.create(model="gpt-4o", messages=ASK, store=True, metadata={"a": "1"})
    stream = await async_client.chat.completions.create(model="gpt-4o", messages=ASK, store=True, stream=True)
    streamed_id = None
    async for chunk in stream:
        streamed_id = chunk.id
    listed = [c.id async for c in async_client.chat.completions.list(limit=1)]
    assert listed == [created.id, streamed_id]
    assert [c.id async for c in async_client.chat.completions.list(metadata={"a": "1"})] == [created.id]
    updated = await async_client.chat.completions.update(created.id, metadata={"a": "2"})
    assert updated.metadata == {"a": "2"}
    messages = [m async for m in async_lax.chat.completions.messages.list(created.id, limit=1)]
    assert [(m.role, m.content) for m in messages] == [("user", ASK[0]["content"])]
    assert (await async_client.chat.completions.delete(created.id)).deleted is True
    with pytest.raises(openai.NotFoundError):
        await async_client.chat.completions.retrieve(created.id)
    assert [c.id for c in (await async_client.chat.completions.list()).data] == [streamed_id]
    await async_client.close()
