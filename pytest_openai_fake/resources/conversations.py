"""Conversations: ``/v1/conversations`` and ``/v1/conversations/{id}/items``.

A conversation is an id, a creation time, ``metadata`` and an ordered list of items. Items are
Responses-API items (the SDK's ``ConversationItem`` union): messages, ``function_call`` /
``function_call_output``, ``reasoning``, tool calls, ... The fake stores them the way the real
API does, and every stored item validates as the SDK's model for its ``type``:

- an "easy" message (``{"role": "user", "content": "hi"}``) becomes ``{"id": "msg_...",
  "type": "message", "status": "completed", "role": "user", "content": [{"type":
  "input_text", "text": "hi"}]}``; an assistant's string becomes an ``output_text`` part
  (``annotations: []``, ``logprobs: []``). ``phase`` is kept when given. An assistant's content
  list holds ``output_text`` / ``refusal`` parts, no id needed (as the real API accepts it);
- other items are kept as sent, plus an ``id`` (``fc_``, ``fco_``, ``rs_``, ``ctc_``, ...)
  and ``status: "completed"`` where the SDK's model needs them. Ids that are sent are kept;
- an ``item_reference`` is replaced by a copy of the item it names (searched in every
  conversation); ``compaction_trigger`` is not an item and cannot be stored.

Invalid items get the real 400s, ``param`` ``items[i]...``: an unknown ``type`` or ``role``,
a missing field, a part that does not fit the role (``Invalid value: 'input_text'. Supported
values are: 'output_text' and 'refusal'.``), an unknown member (``Unknown parameter:
'items[0].bogus'.``). ``items`` holds at most 20 items per request; ``metadata`` at most 16
pairs, 64-character keys and 512-character values. Unknown ids are the real 404s:
``Conversation with id 'conv_x' not found.`` and ``Item with id 'msg_x' not found in
conversation.``

``items.list`` pages newest first by default (``order``: ``asc`` | ``desc``; ``limit`` 1-100,
default 20; ``after`` an item id). ``include`` is checked against the SDK's values and
otherwise changes nothing. Deleting a conversation forgets it and its items.

Used by the Responses API (``responses.py``), with these exact semantics:

- ``normalise_items(ctx, items, param="items", resolve=None, existing=())``: input items -> stored
  item dicts with ids and status (raises the 400s above, ``param`` prefixed with ``param``).
  ``resolve(id)`` finds what an ``item_reference`` names before the conversations are searched;
  an item whose id (sent or resolved) is in ``existing`` (the request's context) is the real
  ``Duplicate item found with id ...`` 400, ``param`` ``param``;
- ``require_conversation(ctx, conversation_id) -> Conversation``: the record, or the real 404;
- ``append_items(ctx, conversation_id, items)``: already-normalised items appended in order
  (items that are not conversation items, such as ``compaction_trigger``, are skipped);
- ``history(ctx, conversation_id)``: copies of all items, oldest first;
- ``remove_items(ctx, conversation_id, item_ids)``: forget those items (a cancelled background
  response takes back its output); a deleted conversation or unknown ids are ignored.

Tests can store a conversation without calling the API (between requests)::

    from pytest_openai_fake.resources.conversations import seed_conversation

    conversation = seed_conversation(openai_server, items=[{"role": "user", "content": "Hi"}],
                                      metadata={"topic": "greeting"})
    client.conversations.items.list(conversation.id).data[0].content[0].text  # "Hi"

The records live in ``openai_server.state.conversations`` (``Conversation`` objects by id).
"""

from __future__ import annotations

import functools
import hashlib
import typing
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

import typing_extensions
from openai.types.conversations import Conversation as ConversationModel
from openai.types.conversations import ConversationDeletedResource, ConversationItemList
from openai.types.conversations.conversation_create_params import ConversationCreateParams
from openai.types.conversations.conversation_item import ConversationItem
from openai.types.conversations.conversation_update_params import ConversationUpdateParams
from openai.types.conversations.item_create_params import ItemCreateParams
from openai.types.conversations.item_list_params import ItemListParams
from openai.types.responses.response_input_file_param import ResponseInputFileParam
from openai.types.responses.response_input_image_param import ResponseInputImageParam
from openai.types.responses.response_input_item_param import ResponseInputItemParam
from openai.types.responses.response_input_text_param import ResponseInputTextParam
from openai.types.responses.response_output_message_param import ResponseOutputMessageParam
from openai.types.responses.response_output_refusal_param import ResponseOutputRefusalParam
from openai.types.responses.response_output_text_param import ResponseOutputTextParam
from pydantic import ValidationError

from .. import errors, params
from ..determinism import EPOCH, IdSequence
from ..routing import Ctx, Resource
from ..state import Store, json_copy, page

__all__ = [
    "Conversation",
    "append_items",
    "conversations",
    "history",
    "normalise_items",
    "remove_items",
    "require_conversation",
    "seed_conversation",
]

conversations = Resource("conversations")

#: The real API's texts.
CONVERSATION_NOT_FOUND = "Conversation with id '{id}' not found."
ITEM_NOT_FOUND = "Item with id '{id}' not found in conversation."
REFERENCE_NOT_FOUND = (
    "Item with id '{id}' not found. Items are not persisted when `store` is set to false. "
    "Try again with `store` set to true, or remove this item from your input."
)
DUPLICATE_ITEM = "Duplicate item found with id {id}. Remove duplicate items from your input and try again."

#: Items per ``conversations.create`` / ``conversations.items.create`` request.
MAX_ITEMS = 20

ROLES = ("assistant", "system", "developer", "user")  # in the order the real API lists them
USER_PARTS = ("input_text", "input_image", "input_file")
ASSISTANT_PARTS = ("output_text", "refusal")
#: Content part types the API knows at all, in the order its message lists them.
KNOWN_PARTS = (
    "input_text",
    "input_image",
    "output_text",
    "refusal",
    "input_file",
    "computer_screenshot",
    "summary_text",
)
_PART_PARAMS: dict[str, type] = {
    "input_text": ResponseInputTextParam,
    "input_image": ResponseInputImageParam,
    "input_file": ResponseInputFileParam,
    "output_text": ResponseOutputTextParam,
    "refusal": ResponseOutputRefusalParam,
}
#: The keys an easy message may have: ``phase`` only where the installed SDK's message has it
#: (openai 2.0's has none: there it is an unknown parameter, as for any member the SDK lacks).
_MESSAGE_KEYS = frozenset({"id", "type", "role", "content", "status"} | set(params._fields(ResponseOutputMessageParam)[0]))

#: Id prefixes of stored items. Those the fake's id table knows get 48 hex digits from it; the
#: others the same shape from a hash of the per-prefix sequence.
ID_PREFIXES = {
    "message": "msg_",
    "function_call": "fc_",
    "function_call_output": "fco_",
    "custom_tool_call": "ctc_",
    "custom_tool_call_output": "ctco_",
    "reasoning": "rs_",
    "web_search_call": "ws_",
    "file_search_call": "fs_",
    "code_interpreter_call": "ci_",
    "image_generation_call": "ig_",
    "compaction": "cmp_",
    "computer_call": "cu_",
    "computer_call_output": "cuo_",
    "mcp_approval_response": "mcpr_",
}
_HEX_PREFIXES = frozenset({"msg_", "fc_", "rs_", "conv_", "ws_", "fs_", "ci_", "ig_", "ctc_", "cmp_"})


@dataclass
class Conversation:
    """One stored conversation. ``items`` are stored item dicts (``ConversationItem``), oldest first."""

    id: str
    created_at: int
    metadata: dict[str, str] = field(default_factory=dict)
    items: list[dict[str, Any]] = field(default_factory=list)

    def to_api(self) -> dict[str, Any]:
        return {"id": self.id, "object": "conversation", "created_at": self.created_at, "metadata": dict(self.metadata)}

    def find_item(self, item_id: str) -> dict[str, Any] | None:
        for item in self.items:
            if item.get("id") == item_id:
                return item
        return None


# -- the API used by the Responses API -----------------------------------------------------------


def require_conversation(ctx: Ctx, conversation_id: str) -> Conversation:
    """The stored conversation, or the real API's 404."""
    return _require(ctx.state, conversation_id)


def normalise_items(
    ctx: Ctx,
    items: list[dict[str, Any]],
    *,
    param: str = "items",
    resolve: Callable[[str], dict[str, Any] | None] | None = None,
    existing: Collection[str] = (),
) -> list[dict[str, Any]]:
    """Input items -> stored item dicts (with ids and status), in order.

    Raises the real 400s for invalid items, ``param`` ``"<param>[i]..."``. ``resolve`` finds the
    item an ``item_reference`` names (then any conversation's item with that id); an unknown
    reference is the real 404. An id that repeats in ``items`` or is in ``existing`` is the
    duplicate-item 400. Ids are taken from ``ctx.ids`` only when every item is valid.
    """
    return _normalise(ctx.state, ctx.ids, items, param, resolve, existing=existing)


def append_items(ctx: Ctx, conversation_id: str, items: list[dict[str, Any]]) -> None:
    """Append already-normalised items (e.g. a response's input and output items) in order.

    Items that are not conversation items (``compaction_trigger``) are skipped. An item that is
    not a valid ``ConversationItem`` is a bug in the caller: it raises ``ValueError``.
    """
    conversation = require_conversation(ctx, conversation_id)
    for item in items:
        if item.get("type") not in _item_models():
            continue
        _check_stored(item)
        conversation.items.append(json_copy(item))


def history(ctx: Ctx, conversation_id: str) -> list[dict[str, Any]]:
    """Copies of all the conversation's items, oldest first (404 for an unknown conversation)."""
    return json_copy(require_conversation(ctx, conversation_id).items)


def remove_items(ctx: Ctx, conversation_id: str, item_ids: Iterable[str]) -> None:
    """Forget the items with these ids; nothing happens for a deleted conversation or unknown ids."""
    conversation = ctx.state.conversations.find(conversation_id)
    if conversation is None:
        return
    gone = set(item_ids)
    conversation.items = [item for item in conversation.items if item.get("id") not in gone]


def seed_conversation(
    target: Any,
    *,
    items: Iterable[dict[str, Any]] = (),
    metadata: dict[str, str] | None = None,
    id: str | None = None,
    created_at: int | None = None,
) -> Conversation:
    """Store a conversation from plain data, as ``conversations.create`` would.

    ``target``: the fake (``openai_server``) or its ``Store``. ``items`` are input items (easy
    messages, function calls, ...), normalised as the API does; invalid ones raise the
    ``errors.OpenAIError`` the API would answer. Ids come from a sequence of their own, so
    seeding does not change the ids the API hands out. Call it from the test, between requests.
    """
    store: Store = getattr(target, "state", target)
    clock = getattr(target, "clock", None)
    n = len(store.conversations)
    while id is None or id in store.conversations:
        n += 1
        id = IdSequence(f"seeded-conversation:{n}").next("conv_")
    metadata = dict(metadata or {})
    _check_metadata_types(metadata)
    errors.check_metadata(metadata)
    when = created_at if created_at is not None else (clock.now() if clock is not None else EPOCH)
    conversation = Conversation(id, when, metadata)
    conversation.items = _normalise(
        store, IdSequence(f"seeded-items:{id}"), list(items), "items", None, into=conversation
    )
    return store.conversations.add(id, conversation)


# -- endpoints ---------------------------------------------------------------------------------------


@conversations.route("POST", "/conversations", endpoint="conversations.create", response=ConversationModel)
def create_conversation(ctx: Ctx) -> dict[str, Any]:
    body = ctx.json()
    items = _body_items(ctx, body, ConversationCreateParams)
    metadata = _metadata(body.get("metadata"))
    conversation = Conversation("", ctx.clock.now(), metadata)
    conversation.items = _normalise(ctx.state, ctx.ids, items, "items", None, into=conversation)
    conversation.id = ctx.ids.next("conv_")
    return ctx.state.conversations.add(conversation.id, conversation).to_api()


@conversations.route(
    "GET", "/conversations/<conversation_id>", endpoint="conversations.retrieve", response=ConversationModel
)
def retrieve_conversation(ctx: Ctx, conversation_id: str) -> dict[str, Any]:
    return require_conversation(ctx, conversation_id).to_api()


@conversations.route(
    "POST", "/conversations/<conversation_id>", endpoint="conversations.update", response=ConversationModel
)
def update_conversation(ctx: Ctx, conversation_id: str) -> dict[str, Any]:
    body = ctx.json()
    _metadata_type(body.get("metadata"))
    ctx.validate(body, ConversationUpdateParams)
    metadata = _metadata(body["metadata"])
    conversation = require_conversation(ctx, conversation_id)
    conversation.metadata = metadata
    return conversation.to_api()


@conversations.route(
    "DELETE", "/conversations/<conversation_id>", endpoint="conversations.delete", response=ConversationDeletedResource
)
def delete_conversation(ctx: Ctx, conversation_id: str) -> dict[str, Any]:
    require_conversation(ctx, conversation_id)
    ctx.state.conversations.delete(conversation_id)
    return {"id": conversation_id, "object": "conversation.deleted", "deleted": True}


@conversations.route(
    "POST",
    "/conversations/<conversation_id>/items",
    endpoint="conversations.items.create",
    response=ConversationItemList,
)
def create_items(ctx: Ctx, conversation_id: str) -> dict[str, Any]:
    body = ctx.json()
    _include(ctx)
    items = _body_items(ctx, body, ItemCreateParams)
    errors.check_length("items", items, minimum=1)
    conversation = require_conversation(ctx, conversation_id)
    stored = _normalise(ctx.state, ctx.ids, items, "items", None, into=conversation)
    conversation.items.extend(stored)
    return {
        "object": "list",
        "data": json_copy(stored),
        "first_id": stored[0]["id"],
        "last_id": stored[-1]["id"],
        "has_more": False,
    }


@conversations.route("GET", "/conversations/<conversation_id>/items", endpoint="conversations.items.list")
def list_items(ctx: Ctx, conversation_id: str) -> dict[str, Any]:
    query: dict[str, Any] = {}
    args = ctx.request.args
    for name in ("after", "order"):
        if name in args:
            query[name] = args[name]
    if "limit" in args:
        try:
            query["limit"] = int(args["limit"])
        except ValueError:
            query["limit"] = args["limit"]  # the params check answers the real 400
    include = _include(ctx)
    if include:
        query["include"] = include
    ctx.validate(query, ItemListParams, allow_unknown=True)
    conversation = require_conversation(ctx, conversation_id)
    result = page(
        conversation.items,
        key=lambda item: item["id"],
        after=query.get("after"),
        limit=query.get("limit"),
        order=query.get("order", "desc"),
    )
    result["data"] = json_copy(result["data"])
    return result


@conversations.route("GET", "/conversations/<conversation_id>/items/<item_id>", endpoint="conversations.items.retrieve")
def retrieve_item(ctx: Ctx, conversation_id: str, item_id: str) -> dict[str, Any]:
    _include(ctx)
    return json_copy(_require_item(require_conversation(ctx, conversation_id), item_id))


@conversations.route(
    "DELETE",
    "/conversations/<conversation_id>/items/<item_id>",
    endpoint="conversations.items.delete",
    response=ConversationModel,
)
def delete_item(ctx: Ctx, conversation_id: str, item_id: str) -> dict[str, Any]:
    conversation = require_conversation(ctx, conversation_id)
    item = _require_item(conversation, item_id)
    conversation.items.remove(item)
    return conversation.to_api()


# -- request pieces ------------------------------------------------------------------------------


def _require(store: Store, conversation_id: Any) -> Conversation:
    conversation = store.conversations.find(conversation_id) if isinstance(conversation_id, str) else None
    if conversation is None:
        raise errors.not_found(CONVERSATION_NOT_FOUND.format(id=conversation_id))
    return conversation


def _require_item(conversation: Conversation, item_id: str) -> dict[str, Any]:
    item = conversation.find_item(item_id)
    if item is None:
        raise errors.not_found(ITEM_NOT_FOUND.format(id=item_id))
    return item


def _body_items(ctx: Ctx, body: dict[str, Any], params_type: type) -> list[Any]:
    """``items`` from the body (checked here, item by item); everything else by the params check."""
    _metadata_type(body.get("metadata"))
    items = body.get("items")
    if (
        "items" in body
        and not isinstance(items, list)
        and not (items is None and params_type is ConversationCreateParams)
    ):
        raise errors.invalid_type("items", "an array of input items", items)
    ctx.validate({**body, "items": []} if "items" in body else body, params_type)
    errors.check_length("items", items, maximum=MAX_ITEMS)
    return items or []


def _include(ctx: Ctx) -> list[str]:
    """The ``include`` query values (the SDK sends ``include[]=...``), checked against the SDK's."""
    values = ctx.request.args.getlist("include[]") + ctx.request.args.getlist("include")
    if values:
        ctx.validate({"include": values}, ItemListParams, allow_unknown=True)
    return values


def _metadata_type(value: Any) -> None:
    if value is not None and not isinstance(value, dict):
        raise errors.invalid_type("metadata", "a metadata object", value)


def _metadata(value: Any) -> dict[str, str]:
    """Checked metadata (types were checked by the params validation); ``null`` is ``{}``."""
    _metadata_type(value)
    errors.check_metadata(value)
    return dict(value or {})


def _check_metadata_types(metadata: dict[str, Any]) -> None:
    for key, value in metadata.items():
        if not isinstance(value, str):
            raise errors.invalid_type(f"metadata.{key}", "a string", value)


# -- item normalisation ----------------------------------------------------------------------------


def _normalise(
    store: Store,
    ids: IdSequence,
    items: Any,
    param: str,
    resolve: Callable[[str], dict[str, Any] | None] | None,
    *,
    into: Conversation | None = None,
    existing: Collection[str] = (),
) -> list[dict[str, Any]]:
    """``normalise_items``; with ``into``, only stored item types, with ids new to that conversation."""
    if not isinstance(items, list):
        raise errors.invalid_type(param, "an array of input items", items)
    built: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        path = f"{param}[{index}]"
        built.append(_one(store, item, path, resolve))
    seen: set[str] = set()
    for index, item in enumerate(built):
        if item["type"] not in _item_models():
            if into is not None:  # an input only (compaction_trigger), never stored
                raise errors.invalid_value(f"{param}[{index}]", _supported(item["type"], sorted(_item_models())))
            continue
        _check_model(item, f"{param}[{index}]")
        item_id = item.get("id")  # ids sent (or resolved) are unique in the request and the conversation
        if item_id is not None:
            if item_id in seen or item_id in existing or (into is not None and into.find_item(item_id) is not None):
                raise errors.bad_request(DUPLICATE_ITEM.format(id=item_id), param=param)
            seen.add(item_id)
    for item in built:  # only now, when every item is valid, take fresh ids
        if item.get("id") is None and item["type"] in _item_models():
            item["id"] = _new_id(ids, ID_PREFIXES.get(item["type"], item["type"] + "_"))
    return built


def _one(store: Store, item: Any, path: str, resolve: Callable[[str], dict[str, Any] | None] | None) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise errors.invalid_type(path, "an input item", item)
    kind = item.get("type")
    if "type" in item and kind is not None and not isinstance(kind, str):
        raise errors.invalid_value(path, _supported("", sorted(_input_params())))
    if kind is None and "role" not in item and "id" in item and set(item) <= {"id", "type"}:
        kind = "item_reference"
    if kind is None or kind == "message":
        return _message(item, path)
    if kind not in _input_params():
        raise errors.invalid_value(path, _supported(kind, sorted(_input_params())))
    if kind == "item_reference":
        _check_members(item, _input_params()[kind], path)
        return _reference(store, item, path, resolve)
    td, model = _input_params()[kind], _item_models().get(kind)
    _check_members(item, td, path, model)
    _check(item, td, path)
    if model is None:  # not a stored item (compaction_trigger): as sent
        return json_copy(item)
    stored = {"id": None, **json_copy(item)}  # a fresh id once every item is valid
    if kind in ("function_call_output", "custom_tool_call_output") and isinstance(stored.get("output"), list):
        stored["output"] = [_part(part, f"{path}.output[{j}]", USER_PARTS) for j, part in enumerate(stored["output"])]
    status = model.model_fields.get("status")
    if "status" not in stored and status is not None and status.is_required():
        stored["status"] = "completed"
    return stored


def _message(item: dict[str, Any], path: str) -> dict[str, Any]:
    role = item.get("role")
    if role not in ROLES:
        raise errors.invalid_value(path, _supported(role if isinstance(role, str) else "", ROLES))
    for key in item:
        if key not in _MESSAGE_KEYS:
            raise _unknown(f"{path}.{key}")
    if "content" not in item:
        raise errors.missing_required(f"{path}.content")
    fields = params._fields(ResponseOutputMessageParam)[0]  # id: str, status and phase: Literals
    for key in ("id", "status", "phase"):
        if key in item and key in fields and item[key] is not None:
            _check(item[key], fields[key], f"{path}.{key}")
    content = item["content"]
    allowed = ASSISTANT_PARTS if role == "assistant" else USER_PARTS
    if isinstance(content, str):
        parts = [_text_part(allowed[0], content)]
    elif isinstance(content, list):
        parts = [_part(part, f"{path}.content[{j}]", allowed) for j, part in enumerate(content)]
    else:
        raise errors.invalid_type(f"{path}.content", "one of a string or array of input content", content)
    stored: dict[str, Any] = {
        "id": item.get("id"),
        "type": "message",
        "status": item.get("status") or "completed",
        "role": role,
        "content": parts,
    }
    if item.get("phase") is not None:
        stored["phase"] = item["phase"]
    return stored


def _part(part: Any, path: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(part, dict):
        raise errors.invalid_type(path, "an object", part)
    kind = part.get("type")
    if "type" not in part:
        raise errors.missing_required(f"{path}.type")
    if kind not in KNOWN_PARTS:
        raise errors.invalid_value(f"{path}.type", _supported(kind if isinstance(kind, str) else "", KNOWN_PARTS))
    if kind not in allowed:
        raise errors.invalid_value(path, _supported(kind, allowed))
    td = _PART_PARAMS[kind]
    _check_members(part, td, path)
    if kind == "output_text":
        # The real API takes an output_text part without annotations (it stores ``[]``).
        _check({"annotations": [], **part}, td, path)
        return {"logprobs": [], "annotations": [], **json_copy(part)}
    _check(part, td, path)
    return json_copy(part)


def _text_part(kind: str, text: str) -> dict[str, Any]:
    if kind == "output_text":
        return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
    return {"type": "input_text", "text": text}


def _reference(
    store: Store, item: dict[str, Any], path: str, resolve: Callable[[str], dict[str, Any] | None] | None
) -> dict[str, Any]:
    item_id = item.get("id")
    if not isinstance(item_id, str):
        raise errors.invalid_type(f"{path}.id", "a string", item_id)
    found = resolve(item_id) if resolve is not None else None
    if found is None:
        found = next((i for c in store.conversations for i in c.items if i.get("id") == item_id), None)
    if found is None:
        raise errors.not_found(REFERENCE_NOT_FOUND.format(id=item_id))
    return json_copy(found)


def _check_members(item: dict[str, Any], td: type, path: str, model: Any = None) -> None:
    """``Unknown parameter`` for a key that is neither in the params TypedDict nor the stored model."""
    known = set(params.param_names(td))
    if model is not None:
        known |= {f.alias or name for name, f in model.model_fields.items()}
    for key in item:
        if key not in known:
            raise _unknown(f"{path}.{key}")


def _unknown(path: str) -> errors.OpenAIError:
    return errors.bad_request(f"Unknown parameter: '{path}'.", param=path, code="unknown_parameter")


def _check(value: Any, tp: Any, path: str) -> None:
    problem = params._problem(value, tp, path)
    if problem is not None:
        raise problem


def _check_model(item: dict[str, Any], path: str) -> None:
    """The 400 for an item the SDK's stored model rejects (a field the input type leaves out)."""
    model = _item_models()[item["type"]]
    try:
        model.model_validate({**item, "id": item.get("id") or "item_0"})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join([path, *(str(part) for part in first["loc"])])
        if first["type"] == "missing":
            raise errors.missing_required(where) from None
        raise errors.bad_request(f"Invalid '{where}': {first['msg']}.", param=where, code="invalid_value") from None


def _check_stored(item: dict[str, Any]) -> None:
    """Every stored item must be the SDK's ``ConversationItem`` for its type (a fake bug if not)."""
    model = _item_models().get(item.get("type"))
    if model is None:
        raise ValueError(f"not a conversation item: {item!r}")
    try:
        model.model_validate(item)
    except ValidationError as exc:
        raise ValueError(f"stored {item.get('type')} item is not a valid {model.__name__}: {exc}") from None


def _new_id(ids: IdSequence, prefix: str) -> str:
    fresh = ids.next(prefix)
    if prefix in _HEX_PREFIXES:
        return fresh
    return prefix + hashlib.sha256(fresh.encode()).hexdigest()[:48]


def _supported(value: Any, allowed: Iterable[str]) -> str:
    shown = [f"'{a}'" for a in allowed]
    if len(shown) > 2:
        listing = ", ".join(shown[:-1]) + ", and " + shown[-1]
    else:
        listing = " and ".join(shown)
    return f"Invalid value: '{value}'. Supported values are: {listing}."


def _literal_values(tp: Any) -> tuple[Any, ...]:
    base, _ = params._strip(tp)
    if typing_extensions.get_origin(base) in (typing.Literal, typing_extensions.Literal):
        return typing_extensions.get_args(base)
    values: tuple[Any, ...] = ()
    if typing_extensions.get_origin(base) is typing.Union:
        for member in typing_extensions.get_args(base):
            if typing_extensions.get_origin(member) in (typing.Literal, typing_extensions.Literal):
                values += typing_extensions.get_args(member)
    return values


@functools.cache
def _input_params() -> dict[str, type]:
    """Input item ``type`` -> the SDK's params TypedDict (messages are handled on their own)."""
    found: dict[str, type] = {}
    for td in typing_extensions.get_args(ResponseInputItemParam):
        for kind in _literal_values(params._fields(td)[0].get("type")):
            found.setdefault(kind, td)
    return found


@functools.cache
def _item_models() -> dict[str, Any]:
    """Stored item ``type`` -> the SDK's ``ConversationItem`` member model."""
    union = typing_extensions.get_args(ConversationItem)[0]
    return {
        kind: model
        for model in typing_extensions.get_args(union)
        for kind in _literal_values(model.model_fields["type"].annotation)
    }
