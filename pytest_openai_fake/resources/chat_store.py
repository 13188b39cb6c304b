"""Stored chat completions: ``GET/POST/DELETE /v1/chat/completions/{id}``, ``GET
/v1/chat/completions`` and ``GET /v1/chat/completions/{id}/messages``.

A chat completion created with ``store: true`` is kept (``remember``, called by
``chat.completions.create``, streamed or not) until the test ends. Completions created without
``store`` are not kept: retrieving one is the real 404. What a stored completion answers:

- ``retrieve`` / ``list`` / ``update``: the completion as it was created, plus its ``metadata``
  (``{}`` when none was sent) and the request's sampling settings the real API echoes
  (``seed``, ``temperature``, ``top_p``, ``presence_penalty``, ``frequency_penalty``,
  ``tool_choice``, ``tools``, ``response_format``, ``input_user``). ``update`` replaces the
  metadata (``null`` clears it); it is the only thing that can change.
- ``list``: oldest first (``order`` defaults to ``asc``, as the SDK documents), filtered by
  ``model`` and by every ``metadata[key]=value`` given; cursor pages of 1-100 (default 20).
- ``messages.list``: the request's messages, ids ``<completion id>-<index>``. A string content
  is ``content``; a content array becomes ``content_parts`` (its ``text`` and ``image_url``
  parts; audio and file parts are not kept) and ``content`` is its text parts joined by
  newlines (null when there are none).

  Each message keeps the role it was sent with (``"system"``, ``"developer"``, ``"user"``,
  ``"tool"``, ...), as the real API answers. The SDK types ``ChatCompletionStoreMessage`` as an
  assistant message (``role: Literal["assistant"]``), so a client with
  ``_strict_response_validation=True`` rejects any other role, from the real API too: read
  such lists with a non-strict client.

Tests can store a completion without calling the API::

    from pytest_openai_fake.resources.chat_store import seed

    stored = seed(openai_server, messages=[{"role": "user", "content": "Hi"}], reply="Hello!",
                  metadata={"topic": "greeting"})
    client.chat.completions.retrieve(stored.id).choices[0].message.content  # "Hello!"
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from openai.types.chat import ChatCompletion, ChatCompletionDeleted
from openai.types.chat.completion_list_params import CompletionListParams
from openai.types.chat.completion_update_params import CompletionUpdateParams
from openai.types.chat.completions.message_list_params import MessageListParams

from .. import errors
from ..determinism import EPOCH, IdSequence, count_tokens, digest
from ..routing import Ctx, Resource
from ..state import Store, json_copy, page

__all__ = ["StoredChatCompletion", "chat_store", "remember", "seed"]

chat_store = Resource("chat_store")

#: The sampling settings a stored completion reports, and what it reports when none was sent.
_ECHOED_DEFAULTS = {"temperature": 1.0, "top_p": 1.0, "presence_penalty": 0.0, "frequency_penalty": 0.0}
_ECHOED = ("tool_choice", "tools", "response_format")


@dataclass
class StoredChatCompletion:
    """One chat completion created with ``store: true``: the request as sent, the completion
    as answered (non-streamed form) and its current metadata."""

    request: dict[str, Any]
    completion: dict[str, Any]
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.completion["id"]

    @property
    def model(self) -> str:
        return self.completion["model"]

    @property
    def created(self) -> int:
        return self.completion["created"]

    def to_api(self) -> dict[str, Any]:
        request = self.request
        seed_value = request.get("seed")
        if not isinstance(seed_value, int):  # the API reports the seed it drew
            seed_value = int.from_bytes(digest("seed", self.id)[:8], "big") >> 1
        echoed = {name: request.get(name, default) for name, default in _ECHOED_DEFAULTS.items()}
        return {
            **json_copy(self.completion),
            **echoed,
            **{name: json_copy(request.get(name)) for name in _ECHOED},
            "seed": seed_value,
            "input_user": request.get("user"),
            "metadata": dict(self.metadata),
        }

    def messages(self) -> list[dict[str, Any]]:
        """The request's messages as ``ChatCompletionStoreMessage`` dicts."""
        messages = self.request.get("messages") or []
        return [_store_message(f"{self.id}-{index}", message) for index, message in enumerate(messages)]


def remember(ctx: Ctx, request: dict[str, Any], completion: dict[str, Any]) -> StoredChatCompletion:
    """Store a chat completion made with ``store: true``: the request body as sent and the full
    non-streamed ``ChatCompletion`` dict (for a streamed request, its non-streamed equivalent).

    Raises the real 400 if the request's ``metadata`` is over the API's limits.
    """
    return _add(ctx.state, request, completion)


def seed(
    target: Any,
    *,
    messages: list[dict[str, Any]],
    reply: str = "Stored reply.",
    model: str = "gpt-4o",
    metadata: dict[str, str] | None = None,
    id: str | None = None,
    created: int | None = None,
    **request: Any,
) -> StoredChatCompletion:
    """Store a chat completion from plain data, as if it had been created with ``store: true``.

    ``target``: the fake (``openai_server``) or its ``Store``. ``reply`` is the assistant's
    answer; extra keyword arguments are request parameters (``temperature=0.2``,
    ``seed=7``). ``created`` defaults to the fake clock's current time, ``id`` to a fresh
    ``chatcmpl-`` id. Call it from the test, between requests.
    """
    store: Store = getattr(target, "state", target)
    clock = getattr(target, "clock", None)
    body: dict[str, Any] = {**request, "model": model, "messages": json_copy(messages), "store": True}
    if metadata is not None:
        body["metadata"] = dict(metadata)
    if id is None:
        n = len(store.chat_completions)
        while id is None or id in store.chat_completions:
            n += 1
            id = IdSequence(f"seeded:{n}").next("chatcmpl-")
    # As chat completions count text prompts: 3 for the reply, 3 + the text per message.
    prompt_tokens = 3 + sum(3 + count_tokens(m["content"] if isinstance(m.get("content"), str) else "") for m in messages)
    completion_tokens = count_tokens(reply)
    completion = {
        "id": id,
        "object": "chat.completion",
        "created": created if created is not None else (clock.now() if clock is not None else EPOCH),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply, "refusal": None, "annotations": []},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
        "service_tier": "default",
        "system_fingerprint": None,
    }
    return _add(store, body, completion)


def _add(store: Store, request: dict[str, Any], completion: dict[str, Any]) -> StoredChatCompletion:
    metadata = request.get("metadata")
    errors.check_metadata(metadata)
    record = StoredChatCompletion(json_copy(request), json_copy(completion), dict(metadata or {}))
    return store.chat_completions.add(record.id, record)


def _store_message(message_id: str, message: Any) -> dict[str, Any]:
    message = message if isinstance(message, dict) else {}
    content = message.get("content")
    parts: list[dict[str, Any]] | None = None
    refusal = None
    if isinstance(content, list):
        parts, texts = [], []
        for part in content:
            if not isinstance(part, dict):
                continue
            if part.get("type") == "text" and isinstance(part.get("text"), str):
                parts.append({"type": "text", "text": part["text"]})
                texts.append(part["text"])
            elif part.get("type") == "image_url" and isinstance(part.get("image_url"), dict):
                parts.append({"type": "image_url", "image_url": json_copy(part["image_url"])})
            elif part.get("type") == "refusal" and isinstance(part.get("refusal"), str):
                refusal = part["refusal"]
        content = "\n".join(texts) if texts else None
    elif not isinstance(content, str):
        content = None
    stored: dict[str, Any] = {
        "id": message_id,
        # As sent: the real API's wire shape, stricter SDK types notwithstanding (module docstring).
        "role": message.get("role") if isinstance(message.get("role"), str) else "assistant",
        "content": content,
        "name": message.get("name"),
        "content_parts": parts,
    }
    if refusal is not None or isinstance(message.get("refusal"), str):
        stored["refusal"] = refusal if refusal is not None else message["refusal"]
    for key in ("tool_calls", "function_call"):
        if message.get(key):
            stored[key] = json_copy(message[key])
    return stored


def _query(ctx: Ctx, params_type: type, names: tuple[str, ...]) -> dict[str, Any]:
    """The list parameters from the query string, typed as the SDK sends them and validated.

    ``metadata`` arrives as ``metadata[key]=value`` pairs; ``limit`` as digits.
    """
    args = ctx.request.args
    query: dict[str, Any] = {}
    for name in names:
        if name == "metadata":
            pairs = {k[9:-1]: v for k, v in args.items() if k.startswith("metadata[") and k.endswith("]")}
            if pairs:
                query["metadata"] = pairs
        elif name in args:
            value: Any = args[name]
            if name == "limit":
                try:
                    value = int(value)
                except ValueError:
                    pass
            query[name] = value
    ctx.validate(query, params_type, allow_unknown=True)
    return query


def _page(rows: list[Any], key: Callable[[Any], str], query: dict[str, Any]) -> dict[str, Any]:
    """A cursor page of ``rows`` (oldest first); lists default to ``asc`` here, as the SDK says."""
    return page(rows, key=key, after=query.get("after"), limit=query.get("limit"), order=query.get("order", "asc"))


#: One stored completion's URL.
STORED = "/chat/completions/<completion_id>"


@chat_store.route("GET", "/chat/completions", endpoint="chat.completions.list")
def list_chat_completions(ctx: Ctx) -> dict[str, Any]:
    query = _query(ctx, CompletionListParams, ("after", "limit", "metadata", "model", "order"))
    wanted = query.get("metadata") or {}
    rows = [
        row
        for row in sorted(ctx.state.chat_completions, key=lambda r: r.created)
        if ("model" not in query or row.model == query["model"])
        and all(row.metadata.get(key) == value for key, value in wanted.items())
    ]
    result = _page(rows, lambda row: row.id, query)
    result["data"] = [row.to_api() for row in result["data"]]
    return result


@chat_store.route("GET", STORED, endpoint="chat.completions.retrieve", response=ChatCompletion)
def retrieve_chat_completion(ctx: Ctx, completion_id: str) -> dict[str, Any]:
    return ctx.state.chat_completions.get(completion_id).to_api()


@chat_store.route("POST", STORED, endpoint="chat.completions.update", response=ChatCompletion)
def update_chat_completion(ctx: Ctx, completion_id: str) -> dict[str, Any]:
    body = ctx.json(CompletionUpdateParams)
    errors.check_metadata(body["metadata"])
    record = ctx.state.chat_completions.get(completion_id)
    record.metadata = dict(body["metadata"] or {})
    return record.to_api()


@chat_store.route("DELETE", STORED, endpoint="chat.completions.delete", response=ChatCompletionDeleted)
def delete_chat_completion(ctx: Ctx, completion_id: str) -> dict[str, Any]:
    ctx.state.chat_completions.delete(completion_id)
    return {"id": completion_id, "object": "chat.completion.deleted", "deleted": True}


@chat_store.route("GET", STORED + "/messages", endpoint="chat.completions.messages.list")
def list_chat_completion_messages(ctx: Ctx, completion_id: str) -> dict[str, Any]:
    query = _query(ctx, MessageListParams, ("after", "limit", "order"))
    record = ctx.state.chat_completions.get(completion_id)
    return _page(record.messages(), lambda message: message["id"], query)
