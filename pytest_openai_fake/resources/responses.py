"""The Responses API: ``POST /v1/responses`` (plain, streamed, background) and its stored state.

What the fake does:

- **Input**: ``input`` is a string or a list of items (easy messages, messages with text /
  image / file parts, ``function_call`` / ``function_call_output``, earlier output items).
  Items are checked one by one, with the same 400s as ``conversations.create`` (``param``
  ``input[i]...``): an unknown ``type`` (``Invalid value: 'bogus'. Supported values are: ...``,
  ``param`` ``input[0]``), a missing ``output`` / ``name`` (``Missing required parameter:
  'input[0].output'.``), an unknown member. A tool output without ``call_id`` (optional in the
  SDK's input type, so conversations store it) answers no call here: ``Missing required
  parameter: 'input[0].call_id'.`` An ``{"type": "item_reference", "id":
  ...}`` is replaced by a copy of the item it names: an input or (visible) output item of a
  stored response, or a conversation's item; an unknown id is the real 404 ``Item with id '...'
  not found. Items are not persisted when `store` is set to false. ...``. An item whose id is
  already in the context (e.g. an output item of ``previous_response_id``'s response sent
  again), or repeats in ``input``, is ``Duplicate item found with id {id}. Remove duplicate items
  from your input and try again.`` (``param`` ``input``).
  ``instructions`` apply to this request only (they are not carried by
  ``previous_response_id``), as in the real API.
- **Context**: ``previous_response_id`` continues a stored response (its input and output and
  everything before it); ``conversation`` continues a conversation and appends this request's
  input and output to it. The answer is derived from a hash of (model, instructions, the whole
  context without ids), so it is deterministic by input and by history.
- **Output**, in this order: a ``reasoning`` item for reasoning models (ids starting ``o1``,
  ``o3``, ``o4``, ``gpt-5``, ``codex``); built-in tool calls; then function calls, or a message.
  Tools follow chat's rule (``chat.Tools``): a tool is called when ``tool_choice`` names it, or
  (``auto``) when its name appears in the last user message, never right after a
  ``function_call_output``. Built-in tools are named ``web_search``, ``file_search``,
  ``code_interpreter`` and ``image_generation`` for that rule, and a response that uses one
  still ends with a message (they run on the server):

  - ``web_search_call``: ``action`` ``{"type": "search", "query": <last user message>,
    "sources": [{"type": "url", "url": "https://example.com/search?q=..."}]}``; the message
    cites that URL with one ``url_citation`` annotation;
  - ``file_search_call``: ``queries`` ``[<last user message>]``; it searches the tool's
    ``vector_store_ids`` (``vector_stores.search_stores``, with the tool's ``max_num_results``,
    ``filters`` and ``ranking_options``), and ``results`` are the chunks found when ``include``
    asks for ``file_search_call.results``, else ``null``; the message cites each file found with
    a ``file_citation`` (``index``: the end of the text). With ``tool_choice`` ``auto`` the
    tool is also called, without being named, when its stores hold a chunk that shares a word
    with the last user message; a scripted text reply then is the message, still cited. An
    unknown store id is a 404 when the request is made;
  - ``code_interpreter_call``: ``code`` ``print(<the message as a string>)``, a
    ``container_id``, and ``outputs`` ``[{"type": "logs", "logs": <the message>}]`` when
    ``include`` asks for ``code_interpreter_call.outputs``;
  - ``image_generation_call``: ``result`` a base64 256x256 PNG drawn from the prompt.

- ``text.format`` ``json_schema`` makes the message JSON valid for the schema (so
  ``responses.parse(text_format=Model)`` works), ``json_object`` a JSON object.
- ``max_output_tokens`` cuts the message: ``status: "incomplete"``,
  ``incomplete_details.reason: "max_output_tokens"``. A scripted ``content_filter(...)`` reply
  is ``status: "incomplete"``, ``incomplete_details.reason: "content_filter"`` (the message's
  status ``incomplete``; streamed, the last event is ``response.incomplete``).
- **Usage**: ``input_tokens`` counts the context's text (as chat counts messages), the
  instructions and the tools JSON; ``output_tokens`` the visible output plus
  ``reasoning_tokens`` (twice the visible tokens, at least 16, for reasoning models).
- **Streaming**: the real typed event sequence, ``sequence_number`` from 0:
  ``response.created``, ``response.in_progress`` (with ``background: true``: ``response.created``
  and ``response.queued`` with status ``queued`` first), then per output item
  ``response.output_item.added``, the item's own events, ``response.output_item.done``, and
  last ``response.completed`` or ``response.incomplete``. The items' own events:

  - message: ``content_part.added``, ``output_text.delta`` per token (or ``refusal.delta``),
    ``output_text.annotation.added`` per citation, ``output_text.done``, ``content_part.done``;
  - ``function_call``: ``function_call_arguments.delta`` (three tokens each), ``.done``;
    ``custom_tool_call``: ``custom_tool_call_input.delta`` (three tokens each), ``.done``;
  - ``web_search_call``: ``web_search_call.in_progress``, ``.searching``, ``.completed`` (the
    added item's ``action`` is ``{"type": "search"}``; the done item has the query and source);
  - ``file_search_call``: ``file_search_call.in_progress``, ``.searching``, ``.completed``;
  - ``code_interpreter_call``: ``code_interpreter_call.in_progress``,
    ``code_interpreter_call_code.delta`` (three tokens each), ``code_interpreter_call_code.done``,
    ``code_interpreter_call.interpreting``, ``code_interpreter_call.completed``;
  - ``image_generation_call``: ``image_generation_call.in_progress``, ``.generating``, one
    ``.partial_image`` per the tool's ``partial_images`` (0-3, default 0, as in the real API: the
    image drawn down to 1/(n+1), 2/(n+1), ... of its height), ``.completed``;
  - ``reasoning``: added and done only.

- **State**: ``store`` (default true) keeps the response for retrieve, delete, cancel,
  ``input_items``, ``previous_response_id`` and ``item_reference``. ``background: true``
  returns ``queued``; the response then moves one step (``queued`` → ``in_progress`` →
  ``completed``) per second of the fake clock or per ``retrieve`` — so polling loops finish and
  ``openai_server.clock.advance(2)`` completes it. A background response that was streamed
  (``stream: true`` on create, or ``retrieve(id, stream=True)``) is complete once its stream was
  sent. ``retrieve(id, stream=True, starting_after=N)`` replays the response's event stream
  from ``sequence_number`` N+1 (the same events, the same numbers).
- **Background and store**: ``background: true, store: false`` is still kept, as the real API
  keeps background responses ~10 minutes for polling: retrieve, cancel, delete and
  ``input_items`` work for ``BACKGROUND_RETENTION`` (600) seconds of the fake clock after
  ``created_at``, then it is the 404. It is not stored for reuse: ``previous_response_id`` gets
  ``Previous response with id '...' not found.`` and an ``item_reference`` to its items the 404.
- **Cancel**: only background responses: any other is the 400 ``Cannot cancel a synchronous
  response.``; a finished one ``Cannot cancel a response with status 'completed'.``. A response
  cancelled while ``queued`` / ``in_progress`` keeps no output (what existed at cancellation:
  none in the fake): ``previous_response_id`` continues from its input only, its output items
  leave the conversation it was appended to, and its stream stops after ``response.queued`` /
  ``response.in_progress``. Cancelling it again returns it again.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

from openai.types.responses import Response as ResponseModel
from openai.types.responses.response_create_params import (
    ResponseCreateParamsNonStreaming,
    ResponseCreateParamsStreaming,
)
from werkzeug.wrappers import Response

# responses.input_tokens.count and responses.compact came with openai 2.x releases after 2.0: with
# an SDK that lacks them, the fake has no such route either (docs/versions.md).
try:
    from openai.types.responses.input_token_count_params import InputTokenCountParams
except ImportError:  # pragma: no cover - older openai 2.x
    InputTokenCountParams = None  # type: ignore[assignment,misc]
try:
    from openai.types.responses.response_compact_params import ResponseCompactParams
except ImportError:  # pragma: no cover - older openai 2.x
    ResponseCompactParams = None  # type: ignore[assignment,misc]

from .. import errors
from ..determinism import EPOCH, IdSequence, count_tokens, digest, generate_text, stable_json, tokenize
from ..routing import Ctx, Resource
from ..state import Store, json_copy, page
from ..streaming import event, sse_response
from . import conversations as conversation_store
from .chat import (
    IMAGE_TOKENS,
    JSON_OBJECT,
    MESSAGE_OVERHEAD,
    REPLY_PRIMING,
    Tools,
    Turn,
    check_sampling,
    check_strict_schema,
    default_turn,
    is_reasoning_model,
    mentions_json,
)
from .images import render_png
from .vector_stores import check_store_ids, search_stores

responses = Resource("responses")

#: The model of a request that names none (``model`` is optional in the SDK's params).
DEFAULT_MODEL = "gpt-4o"

#: Width and height of the ``image_generation`` tool's PNG.
IMAGE_SIZE = 256

PREVIOUS_NOT_FOUND = "Previous response with id '{id}' not found."
RESPONSE_NOT_FOUND = "Response with id '{id}' not found."
NO_TOOL_CALL = "No tool call found for function call output with call_id {call_id}."
NO_TOOL_OUTPUT = "No tool output found for function call {call_id}."
BOTH_CONTEXTS = "Mutually exclusive parameters: Ensure you are only providing one of: 'previous_response_id' or 'conversation'."
CANNOT_CANCEL_SYNC = "Cannot cancel a synchronous response."
JSON_WORD_MISSING = "Response input messages must contain the word 'json' in some form to use 'text.format' of type 'json_object'."

#: In the environ of a request a Responses WebSocket makes (``responses_socket``): the socket's
#: memory of its latest responses (``find(id)`` -> their context, ``remember(id, context)``), so
#: that ``previous_response_id`` continues one made with ``store: false`` on that connection, as
#: WebSocket mode does.
SOCKET_MEMORY = "pytest_openai_fake.responses_socket_memory"

#: Seconds (of the fake clock) a ``background: true, store: false`` response stays retrievable.
BACKGROUND_RETENTION = 600
#: How many steps a background response takes: ``queued`` (0), ``in_progress`` (1), final (2).
_FINAL_STAGE = 2


@dataclass
class StoredResponse:
    """A kept response (``store: true``, or ``background: true``): what retrieve returns and what
    continues it. ``id`` is the response's id."""

    response: dict[str, Any]  # final state, as the API returns it
    input_items: list[dict[str, Any]]  # this request's input, with ids (``input_items``)
    context: list[dict[str, Any]]  # everything up to and including its output (for continuation)
    background: bool = False
    polls: int = 0
    cancelled: bool = False
    #: False for ``background: true, store: false``: kept for polling only (retrieve, cancel,
    #: delete, ``input_items``) for ``BACKGROUND_RETENTION`` seconds; never continued or referenced.
    store: bool = True
    conversation_id: str | None = None
    #: The status the response had when it was cancelled (``queued`` or ``in_progress``).
    cancelled_at: str | None = None
    #: Streamed ``partial_image_b64`` values per ``image_generation_call`` id (``partial_images``).
    partial_images: dict[str, list[str]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.response["id"]

    def to_api(self, now: int, *, poll: bool = False) -> dict[str, Any]:
        """The response as seen now: background ones move one step per second or per poll."""
        if not self.background or self.cancelled:
            return self.response
        if poll:
            self.polls += 1
        stage = (now - int(self.response["created_at"])) + self.polls
        if stage >= _FINAL_STAGE:
            return self.response
        return {**self.response, **_NOT_YET, "status": "queued" if stage == 0 else "in_progress"}

    def finish(self) -> None:
        """A background response whose whole event stream was sent is done."""
        self.polls = max(self.polls, _FINAL_STAGE)

    def expired(self, now: int) -> bool:
        return not self.store and now - int(self.response["created_at"]) >= BACKGROUND_RETENTION


# -- create ------------------------------------------------------------------------------------


@responses.route("POST", "/responses", endpoint="responses.create", replies=("text", "message", "failure"), streams=True, response=ResponseModel)
def create_response(ctx: Ctx) -> dict[str, Any] | Response:
    body = ctx.json()
    stream = bool(body.get("stream"))
    _validate(ctx, body, ResponseCreateParamsStreaming if stream else ResponseCreateParamsNonStreaming)
    check_sampling(body)
    errors.check_range("max_output_tokens", body.get("max_output_tokens"), minimum=16)
    errors.check_range("top_logprobs", body.get("top_logprobs"), minimum=0, maximum=20)
    errors.check_metadata(body.get("metadata"))
    for i, tool in enumerate(body.get("tools") or []):
        if tool.get("type") == "image_generation":
            errors.check_range(f"tools[{i}].partial_images", tool.get("partial_images"), minimum=0, maximum=3)
        elif tool.get("type") == "file_search":
            errors.check_range(f"tools[{i}].max_num_results", tool.get("max_num_results"), minimum=1, maximum=50)
            threshold = (tool.get("ranking_options") or {}).get("score_threshold")
            errors.check_range(f"tools[{i}].ranking_options.score_threshold", threshold, minimum=0, maximum=1, decimal=True)
            check_store_ids(ctx, tool.get("vector_store_ids") or [], f"tools[{i}].vector_store_ids")
    model = _model(ctx, body)
    _check_model_parameters(body, model)
    history, conversation_id = _history(ctx, body)
    inputs = _input_items(ctx, body.get("input"), history)
    context = [*history, *inputs]
    _check_tool_outputs(history, inputs)

    tools = Tools.from_responses(body)
    output_format = _text_format(body.get("text"))
    if output_format == JSON_OBJECT and not mentions_json(_item_text(i) for i in context if i.get("type") == "message"):
        raise errors.bad_request(JSON_WORD_MISSING, param="text.format")  # instructions do not count
    basis = digest("responses", model, body.get("instructions"), [_content_only(item) for item in context])
    last_text, after_result = _last_user_text(context), bool(inputs) and inputs[-1].get("type") in ("function_call_output", "custom_tool_call_output")
    if ctx.reply is not None:
        turn = Turn.from_reply(ctx.reply, basis, ctx.ids)
    else:
        turn = default_turn(ctx, tools, output_format, basis, last_text=last_text, after_result=after_result)
    if _searches(ctx, body, turn, last_text, after_result):
        turn.tool_calls = [{"id": ctx.ids.next("call_"), "type": "builtin", "name": "file_search", "arguments": ""}, *turn.tool_calls]
    limit = body.get("max_output_tokens")

    partials: dict[str, list[str]] = {}
    failure = ctx.reply.get("error") if ctx.reply is not None else None  # a scripted failed()
    usage: dict[str, Any] | None = None
    if failure is None:
        output, visible_tokens, reasoning_tokens, incomplete = _output(ctx, body, model, turn, basis, last_text, limit, partials)
        usage = {
            "input_tokens": _count_input(context, body.get("instructions"), body.get("tools")),
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": visible_tokens + reasoning_tokens,
            "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
        }
        usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
    else:
        output, incomplete = [], None
    now = ctx.clock.now()
    response = {
        "id": ctx.ids.next("resp_"),
        "object": "response",
        "created_at": now,
        "completed_at": None if failure else now,
        "status": "failed" if failure else "incomplete" if incomplete else "completed",
        "background": bool(body.get("background")),
        "error": failure,
        "incomplete_details": {"reason": incomplete} if incomplete else None,
        "instructions": body.get("instructions"),
        "max_output_tokens": limit,
        "max_tool_calls": body.get("max_tool_calls"),
        "metadata": body.get("metadata") or {},
        "model": model,
        "output": output,
        "parallel_tool_calls": body.get("parallel_tool_calls", True) is not False,
        "previous_response_id": body.get("previous_response_id"),
        "conversation": {"id": conversation_id} if conversation_id else None,
        "reasoning": {"effort": (body.get("reasoning") or {}).get("effort", "medium" if _reasons(model) else None), "summary": (body.get("reasoning") or {}).get("summary")},
        "service_tier": "default",
        "temperature": body.get("temperature", 1.0),
        "text": {"format": (body.get("text") or {}).get("format") or {"type": "text"}, "verbosity": (body.get("text") or {}).get("verbosity", "medium")},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools") or [],
        "top_logprobs": body.get("top_logprobs", 0),
        "top_p": body.get("top_p", 1.0),
        "truncation": body.get("truncation", "disabled"),
        "usage": usage,
        "user": body.get("user"),
        "safety_identifier": body.get("safety_identifier"),
        "prompt_cache_key": body.get("prompt_cache_key"),
    }
    background, store = bool(body.get("background")), body.get("store", True) is not False
    if store or background:  # background responses are kept for polling even with store: false
        stored = StoredResponse(
            response,
            inputs,
            [*context, *output],
            background=background,
            store=store,
            conversation_id=conversation_id,
            partial_images=partials,
        )
        ctx.state.responses.add(response["id"], stored)
        if stream:
            stored.finish()  # the stream runs to the end before the client can poll
    memory = ctx.request.environ.get(SOCKET_MEMORY)
    if memory is not None and failure is None:
        memory.remember(response["id"], [*context, *output])
    if conversation_id:
        conversation_store.append_items(ctx, conversation_id, [*inputs, *output])
    if stream:
        return sse_response(_events(response, queued=background, partials=partials), error_event=_error_event)
    if background:
        return {**response, **_NOT_YET, "status": "queued"}
    return response


#: What a response that has not finished yet shows of its result.
_NOT_YET: dict[str, Any] = {"output": [], "usage": None, "completed_at": None, "incomplete_details": None, "error": None}


def _validate(ctx: Ctx, body: dict[str, Any], params_type: type) -> None:
    """The params check, but an ``input`` list is left to the item checks (``_input_items``),
    which give the specific 400s (``input[0].type``, ``input[0].call_id``, ...)."""
    if not isinstance(body.get("input"), list):
        ctx.validate(body, params_type)
        return
    checked = {**body, "input": []}
    ctx.validate(checked, params_type)
    for key in body.keys() - checked.keys():  # optional keys sent as null: not given
        del body[key]


def _model(ctx: Ctx, body: dict[str, Any]) -> str:
    model = body.get("model")
    if model is None:
        return DEFAULT_MODEL  # the SDK makes `model` optional (a stored prompt may name it)
    ctx.require_model(model)
    return model


def _reasons(model: str) -> bool:
    """Models that reason (``chat.is_reasoning_model``): a ``reasoning`` output item and
    ``reasoning_tokens`` in the usage."""
    return is_reasoning_model(model)


def _check_model_parameters(body: dict[str, Any], model: str) -> None:
    """What the real API refuses per model kind: ``reasoning.effort`` on a model that does not
    reason; ``temperature`` / ``top_p`` other than 1 on one that does (unless its effort is
    ``"none"``)."""
    effort = (body.get("reasoning") or {}).get("effort")
    if not _reasons(model):
        if effort is not None:
            raise errors.unsupported_parameter("reasoning.effort")
        return
    for name in ("temperature", "top_p"):
        value = body.get(name)
        if value is not None and value != 1 and effort != "none":
            raise errors.unsupported_parameter(name)


def _history(ctx: Ctx, body: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
    """The items before this request, and the conversation it appends to (if any)."""
    previous = body.get("previous_response_id")
    conversation = body.get("conversation")
    if previous is not None and conversation is not None:
        raise errors.bad_request(BOTH_CONTEXTS, code="mutually_exclusive_parameters")
    if previous is not None:
        stored = ctx.state.responses.find(previous)
        if stored is None or not stored.store:  # background + store: false is for polling only
            memory = ctx.request.environ.get(SOCKET_MEMORY)
            remembered = memory.find(previous) if memory is not None else None
            if remembered is not None:
                return list(remembered), None
            raise errors.bad_request(PREVIOUS_NOT_FOUND.format(id=previous), param="previous_response_id", code="previous_response_not_found")
        return list(stored.context), None
    if conversation is not None:
        conversation_id = conversation if isinstance(conversation, str) else conversation.get("id")
        conversation_store.require_conversation(ctx, conversation_id)
        return conversation_store.history(ctx, conversation_id), conversation_id
    return [], None


def _input_items(ctx: Ctx, value: Any, history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The request's input as stored items. ``item_reference`` finds items of stored responses
    (their input and visible output) and of conversations; an item whose id is already in
    ``history`` is the duplicate-item 400."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [{"role": "user", "content": value}]
    existing = {item["id"] for item in history if item.get("id")}
    return conversation_store.normalise_items(ctx, value, param="input", resolve=_stored_item_finder(ctx), existing=existing)


def _stored_item_finder(ctx: Ctx) -> Callable[[str], dict[str, Any] | None]:
    def find(item_id: str) -> dict[str, Any] | None:
        now = ctx.clock.now()
        for stored in ctx.state.responses:
            if not stored.store:  # "Items are not persisted when `store` is set to false."
                continue
            for item in [*stored.input_items, *stored.to_api(now)["output"]]:
                if item.get("id") == item_id:
                    return item
        return None

    return find


def _check_tool_outputs(history: list[dict[str, Any]], inputs: list[dict[str, Any]]) -> None:
    """Every ``function_call_output`` answers a call; a continued call must get its output."""
    calls = {item.get("call_id") for item in [*history, *inputs] if item.get("type") in ("function_call", "custom_tool_call")}
    answered = {item.get("call_id") for item in [*history, *inputs] if item.get("type") in ("function_call_output", "custom_tool_call_output")}
    for index, item in enumerate(inputs):
        if item.get("type") in ("function_call_output", "custom_tool_call_output") and item.get("call_id") is None:
            # Optional in the SDK's input type (and a conversation stores it so), but an output
            # answers a call only by its call_id.
            raise errors.missing_required(f"input[{index}].call_id")
        if item.get("type") in ("function_call_output", "custom_tool_call_output") and item.get("call_id") not in calls:
            raise errors.bad_request(NO_TOOL_CALL.format(call_id=item.get("call_id")), param="input")
    if inputs:
        for item in history:
            if item.get("type") in ("function_call", "custom_tool_call") and item.get("call_id") not in answered:
                raise errors.bad_request(NO_TOOL_OUTPUT.format(call_id=item.get("call_id")), param="input")


def _content_only(item: dict[str, Any]) -> dict[str, Any]:
    """An item without what varies between equal conversations (ids, status)."""
    return {k: v for k, v in item.items() if k not in ("id", "status", "created_by")}


def _last_user_text(items: list[dict[str, Any]]) -> str:
    for item in reversed(items):
        if item.get("type") == "message" and item.get("role") == "user":
            return _item_text(item)
    return ""


def _item_text(item: dict[str, Any]) -> str:
    content = item.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p.get("text") or p.get("refusal") or "" for p in content if isinstance(p, dict))
    return ""


def _count_input(items: list[dict[str, Any]], instructions: Any, tools: Any) -> int:
    total = REPLY_PRIMING
    if isinstance(instructions, str):
        total += MESSAGE_OVERHEAD + count_tokens(instructions)
    for item in items:
        kind = item.get("type")
        if kind == "message":
            parts = item.get("content") if isinstance(item.get("content"), list) else []
            images = sum(1 for p in parts if isinstance(p, dict) and p.get("type") in ("input_image", "input_file"))
            total += MESSAGE_OVERHEAD + count_tokens(_item_text(item)) + images * IMAGE_TOKENS
        elif kind in ("function_call", "custom_tool_call"):
            total += count_tokens(item.get("name", "") + str(item.get("arguments", item.get("input", ""))))
        elif kind in ("function_call_output", "custom_tool_call_output"):
            output = item.get("output")
            total += MESSAGE_OVERHEAD + count_tokens(output if isinstance(output, str) else stable_json(output))
        elif kind == "compaction":  # the context it stands for, as compact's output_tokens counted it
            total += count_tokens(item.get("encrypted_content") or "")
    if tools:
        total += count_tokens(stable_json(tools))
    return total


def _text_format(text: Any) -> dict[str, Any] | None:
    fmt = text.get("format") if isinstance(text, dict) else None
    if not isinstance(fmt, dict) or fmt.get("type") not in ("json_schema", "json_object"):
        return None
    if fmt["type"] == "json_object":
        return {"type": "json_object"}
    schema = fmt.get("schema") or {"type": "object", "properties": {}, "additionalProperties": False}
    if fmt.get("strict"):
        check_strict_schema(schema, f"text.format '{fmt.get('name')}'", "text.format.schema")
    from .chat import _checked_schema  # noqa: PLC0415 - one checker for chat and responses

    return {"type": "json_schema", "schema": _checked_schema(schema, f"text.format '{fmt.get('name')}'", "text.format.schema")}


# -- output items ------------------------------------------------------------------------------


def _output(
    ctx: Ctx,
    body: dict[str, Any],
    model: str,
    turn: Turn,
    basis: bytes,
    last_text: str,
    limit: int | None,
    partials: dict[str, list[str]],
) -> tuple[list[dict[str, Any]], int, int, str | None]:
    """The output items, the visible and the reasoning output tokens, and why it is incomplete
    (if it is): ``max_output_tokens`` cut it, or a scripted ``content_filter()`` stopped it.
    ``partials`` gets the streamed partial images of each ``image_generation_call``.

    ``max_output_tokens`` bounds reasoning and visible tokens together, as in the real API: a
    reasoning model thinks first (``Turn.thought``: ``max(16, 2 × visible)`` tokens), and when
    that alone reaches the limit the output is the ``reasoning`` item only. Function-call
    arguments count as output.
    """
    include = set(body.get("include") or [])
    items: list[dict[str, Any]] = []
    builtins = [call for call in turn.tool_calls if call["type"] == "builtin"]
    calls = [call for call in turn.tool_calls if call["type"] != "builtin"]
    if builtins and not calls and turn.content is None and turn.refusal is None:
        turn = Turn(basis, content=generate_text(basis))
    turn.tool_calls = calls
    filtered = "content_filter" if turn.finish_reason == "content_filter" else None
    if _reasons(model):
        items.append({"id": ctx.ids.next("rs_"), "type": "reasoning", "summary": []})
        turn.thought(limit, [])  # thinking and answer within the limit (chat's rule)
        if turn.finish_reason == "length" and turn.token_count == 0:
            return items, 0, turn.reasoning_tokens, "max_output_tokens"  # the limit came while it thought
    else:
        turn.limited(limit, [])
    reasoning = turn.reasoning_tokens
    annotations: list[dict[str, Any]] = []
    for call in builtins:
        item, cited = _builtin_item(ctx, body, call["name"], last_text, basis, include)
        if item["type"] == "image_generation_call":
            partials[item["id"]] = _partial_images(body, basis)
        items.append(item)
        annotations.extend(cited)
    if calls:
        for call in turn.tool_calls:
            call_id = call["id"] if call["id"] and call["id"].startswith("call_") else ctx.ids.next("call_")
            status = "incomplete" if call.get("cut") else "completed"
            if call["type"] == "custom":
                # No ``status``: the SDK's ResponseCustomToolCall has none (and its input type
                # refuses one when the item is sent back)
                items.append({"id": ctx.ids.next("ctc_"), "type": "custom_tool_call", "call_id": call_id, "name": call["name"], "input": call["arguments"]})
            else:
                items.append({"id": ctx.ids.next("fc_"), "type": "function_call", "call_id": call_id, "name": call["name"], "arguments": call["arguments"], "status": status})
        return items, turn.token_count, reasoning, "max_output_tokens" if turn.finish_reason == "length" else filtered
    tokens = 0
    message = {"id": ctx.ids.next("msg_"), "type": "message", "role": "assistant", "status": "completed", "content": []}
    if turn.refusal is not None:
        message["content"].append({"type": "refusal", "refusal": turn.refusal})
        tokens += count_tokens(turn.refusal)
    else:
        text = turn.content or ""
        cut_annotations = [
            {**a, "index": len(text)} if a["type"] == "file_citation" else a for a in annotations if a.get("end_index", 0) <= len(text)
        ]
        message["content"].append({"type": "output_text", "text": text, "annotations": cut_annotations, "logprobs": []})
        tokens += len(turn.text_tokens)
    incomplete = "max_output_tokens" if turn.finish_reason == "length" else filtered
    if incomplete:
        message["status"] = "incomplete"
    items.append(message)
    return items, tokens, reasoning, incomplete


def _searches(ctx: Ctx, body: dict[str, Any], turn: Turn, last_text: str, after_result: bool) -> bool:
    """Whether the model also searches its files: a ``file_search`` tool, ``tool_choice``
    ``auto``, not right after a tool result, a turn that calls no tool itself (the fake's own,
    or a scripted text), and a chunk in the tool's stores that shares a word with the last user
    message (the tool's filters apply)."""
    tool = _file_search_tool(body)
    if tool is None or after_result or turn.tool_calls or turn.refusal is not None:
        return False
    if body.get("tool_choice", "auto") != "auto":
        return False
    return bool(search_stores(ctx, tool.get("vector_store_ids") or [], [last_text], limit=1, filters=tool.get("filters"), touch=False))


def _file_search_tool(body: dict[str, Any]) -> dict[str, Any] | None:
    return next((tool for tool in body.get("tools") or [] if isinstance(tool, dict) and tool.get("type") == "file_search"), None)


def _file_search(ctx: Ctx, body: dict[str, Any], query: str) -> list[dict[str, Any]]:
    """The results of the request's ``file_search`` tool for ``query`` (its ``max_num_results``,
    ``filters`` and ``ranking_options``, with ``hybrid_search`` weights)."""
    tool = _file_search_tool(body) or {}
    ranking = tool.get("ranking_options") or {}
    hybrid = ranking.get("hybrid_search")
    weights = (float(hybrid["embedding_weight"]), float(hybrid["text_weight"])) if isinstance(hybrid, dict) else None
    return search_stores(
        ctx,
        tool.get("vector_store_ids") or [],
        [query],
        limit=tool.get("max_num_results") or 10,
        filters=tool.get("filters"),
        threshold=ranking.get("score_threshold") or 0.0,
        weights=weights,
    )


def _builtin_item(ctx: Ctx, body: dict[str, Any], name: str, query: str, basis: bytes, include: set[str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    if name == "web_search":
        url = "https://example.com/search?q=" + quote_plus(query)
        item = {"id": ctx.ids.next("ws_"), "type": "web_search_call", "status": "completed", "action": {"type": "search", "query": query, "sources": [{"type": "url", "url": url}]}}
        return item, [{"type": "url_citation", "start_index": 0, "end_index": 1, "title": "Search results", "url": url}]
    if name == "file_search":
        found = _file_search(ctx, body, query)
        results = [{key: hit[key] for key in ("file_id", "filename", "score", "attributes", "text")} for hit in found]
        cited: dict[str, dict[str, Any]] = {}
        for hit in found:  # one citation per file, best first; ``index``: the end of the message
            cited.setdefault(hit["file_id"], {"type": "file_citation", "file_id": hit["file_id"], "filename": hit["filename"], "index": 0})
        item = {
            "id": ctx.ids.next("fs_"),
            "type": "file_search_call",
            "status": "completed",
            "queries": [query],
            "results": results if "file_search_call.results" in include else None,
        }
        return item, list(cited.values())
    if name == "code_interpreter":
        outputs = [{"type": "logs", "logs": query}] if "code_interpreter_call.outputs" in include else None
        container = "cntr_" + digest("container", basis.hex()).hex()[:32]
        return {"id": ctx.ids.next("ci_"), "type": "code_interpreter_call", "status": "completed", "code": f"print({query!r})", "container_id": container, "outputs": outputs}, []
    png = render_png(digest("image_generation", basis.hex()), IMAGE_SIZE, IMAGE_SIZE)
    return {"id": ctx.ids.next("ig_"), "type": "image_generation_call", "status": "completed", "result": base64.b64encode(png).decode()}, []


def _partial_images(body: dict[str, Any], basis: bytes) -> list[str]:
    """The tool's ``partial_images`` (0-3, default 0) partial PNGs: the final image drawn down
    to 1/(n+1), 2/(n+1), ... of its height, the rest grey (as ``images.generate`` streams)."""
    tool = next((t for t in body.get("tools") or [] if t.get("type") == "image_generation"), {})
    count = tool.get("partial_images") or 0
    seed = digest("image_generation", basis.hex())
    return [
        base64.b64encode(render_png(seed, IMAGE_SIZE, IMAGE_SIZE, shown=IMAGE_SIZE * (i + 1) // (count + 1))).decode()
        for i in range(count)
    ]


# -- streaming ---------------------------------------------------------------------------------


def _events(
    response: dict[str, Any],
    *,
    queued: bool = False,
    partials: dict[str, list[str]] | None = None,
    cancelled_at: str | None = None,
) -> list[bytes]:
    """The typed event sequence of a response, numbered from 0, ending completed/incomplete.

    ``queued`` (background): ``response.created`` and ``response.queued`` say ``queued`` before
    ``response.in_progress``. ``cancelled_at``: the stream stops where the response was cancelled.
    """
    frames: list[bytes] = []

    def emit(kind: str, **fields: Any) -> None:
        frames.append(event({"type": kind, **fields, "sequence_number": len(frames)}, name=kind))

    start = {**response, **_NOT_YET, "status": "in_progress"}
    if queued:
        waiting = {**start, "status": "queued"}
        emit("response.created", response=waiting)
        emit("response.queued", response=waiting)
        if cancelled_at == "queued":
            return frames
    else:
        emit("response.created", response=start)
    emit("response.in_progress", response=start)
    if cancelled_at is not None:
        return frames
    for index, item in enumerate(response["output"]):
        _item_events(emit, index, item, (partials or {}).get(item.get("id"), []))
    emit(_FINAL_EVENTS[response["status"]], response=response)
    return frames


#: The last event of a stream, by the response's final status.
_FINAL_EVENTS = {"completed": "response.completed", "incomplete": "response.incomplete", "failed": "response.failed"}


def _item_events(emit: Callable[..., None], index: int, item: dict[str, Any], partials: list[str]) -> None:
    """``output_item.added``, the item type's own events, then ``output_item.done``."""
    kind = item["type"]
    where = {"item_id": item.get("id"), "output_index": index}
    if kind == "message":
        emit("response.output_item.added", output_index=index, item={**item, "status": "in_progress", "content": []})
        for part_index, part in enumerate(item["content"]):
            at = {**where, "content_index": part_index}
            if part["type"] == "refusal":
                emit("response.content_part.added", **at, part={"type": "refusal", "refusal": ""})
                for token in tokenize(part["refusal"]):
                    emit("response.refusal.delta", **at, delta=token)
                emit("response.refusal.done", **at, refusal=part["refusal"])
            else:
                emit("response.content_part.added", **at, part={"type": "output_text", "text": "", "annotations": [], "logprobs": []})
                for token in tokenize(part["text"]):
                    emit("response.output_text.delta", **at, delta=token, logprobs=[])
                for annotation_index, annotation in enumerate(part["annotations"]):
                    emit("response.output_text.annotation.added", **at, annotation_index=annotation_index, annotation=annotation)
                emit("response.output_text.done", **at, text=part["text"], logprobs=[])
            emit("response.content_part.done", **at, part=part)
    elif kind == "function_call":
        emit("response.output_item.added", output_index=index, item={**item, "arguments": "", "status": "in_progress"})
        for delta in _chunks(item["arguments"]):
            emit("response.function_call_arguments.delta", **where, delta=delta)
        emit("response.function_call_arguments.done", **where, arguments=item["arguments"], name=item["name"])
    elif kind == "custom_tool_call":
        emit("response.output_item.added", output_index=index, item={**item, "input": ""})
        for delta in _chunks(item["input"]):
            emit("response.custom_tool_call_input.delta", **where, delta=delta)
        emit("response.custom_tool_call_input.done", **where, input=item["input"])
    elif kind in ("web_search_call", "file_search_call"):
        started = {**item, "status": "in_progress"}
        if kind == "web_search_call":
            started["action"] = {"type": item["action"]["type"]}
        else:
            started.update(queries=[], results=None)
        emit("response.output_item.added", output_index=index, item=started)
        for step in ("in_progress", "searching", "completed"):
            emit(f"response.{kind}.{step}", **where)
    elif kind == "code_interpreter_call":
        emit("response.output_item.added", output_index=index, item={**item, "status": "in_progress", "code": "", "outputs": None})
        emit("response.code_interpreter_call.in_progress", **where)
        for delta in _chunks(item["code"] or ""):
            emit("response.code_interpreter_call_code.delta", **where, delta=delta)
        emit("response.code_interpreter_call_code.done", **where, code=item["code"] or "")
        emit("response.code_interpreter_call.interpreting", **where)
        emit("response.code_interpreter_call.completed", **where)
    elif kind == "image_generation_call":
        emit("response.output_item.added", output_index=index, item={**item, "status": "in_progress", "result": None})
        emit("response.image_generation_call.in_progress", **where)
        emit("response.image_generation_call.generating", **where)
        for partial_index, partial in enumerate(partials):
            emit(
                "response.image_generation_call.partial_image",
                **where,
                partial_image_index=partial_index,
                partial_image_b64=partial,
                output_format="png",
                size=f"{IMAGE_SIZE}x{IMAGE_SIZE}",
            )
        emit("response.image_generation_call.completed", **where)
    else:  # reasoning: added and done only
        emit("response.output_item.added", output_index=index, item={**item, "status": "in_progress"} if "status" in item else item)
    emit("response.output_item.done", output_index=index, item=item)


def _chunks(text: str) -> list[str]:
    """Argument-like text in deltas of three tokens (as function arguments stream)."""
    tokens = tokenize(text)
    return ["".join(tokens[at : at + 3]) for at in range(0, len(tokens), 3)]


def _error_event(error: dict[str, Any], sequence_number: int) -> bytes:
    """A mid-stream error as the Responses API sends it: a typed ``error`` event."""
    body = {"type": "error", "code": error.get("code"), "message": error["message"], "param": error.get("param"), "sequence_number": sequence_number}
    return event(body, name="error")


# -- stored responses --------------------------------------------------------------------------


def _stored(ctx: Ctx, response_id: str) -> StoredResponse:
    stored = ctx.state.responses.find(response_id)
    if stored is not None and stored.expired(ctx.clock.now()):
        ctx.state.responses.delete(response_id)  # background + store: false, past its retention
        stored = None
    if stored is None:
        raise errors.not_found(RESPONSE_NOT_FOUND.format(id=response_id))
    return stored


@responses.route("GET", "/responses/<response_id>", endpoint="responses.retrieve", response=ResponseModel, streams=True)
def retrieve_response(ctx: Ctx, response_id: str) -> dict[str, Any] | Response:
    stored = _stored(ctx, response_id)
    if ctx.request.args.get("stream") != "true":
        return stored.to_api(ctx.clock.now(), poll=True)
    after = _int_arg(ctx.request.args.get("starting_after"), "starting_after")
    frames = _events(stored.response, queued=stored.background, partials=stored.partial_images, cancelled_at=stored.cancelled_at)
    if not stored.cancelled:
        stored.finish()  # a streaming retrieve follows the response to its end
    return sse_response(frames[max(after + 1, 0) :] if after is not None else frames, error_event=_error_event)


@responses.route("DELETE", "/responses/<response_id>", endpoint="responses.delete")
def delete_response(ctx: Ctx, response_id: str) -> dict[str, Any]:
    _stored(ctx, response_id)
    ctx.state.responses.delete(response_id)
    return {"id": response_id, "object": "response.deleted", "deleted": True}


@responses.route("POST", "/responses/<response_id>/cancel", endpoint="responses.cancel", response=ResponseModel)
def cancel_response(ctx: Ctx, response_id: str) -> dict[str, Any]:
    stored = _stored(ctx, response_id)
    if not stored.background:
        raise errors.bad_request(CANNOT_CANCEL_SYNC)
    current = stored.to_api(ctx.clock.now())
    if current["status"] in ("completed", "incomplete", "failed"):
        raise errors.bad_request(f"Cannot cancel a response with status '{current['status']}'.", param="response_id")
    if not stored.cancelled:
        # Its output is what existed at cancellation (none in the fake): take it back from the
        # context a continuation sees and from the conversation it was appended to.
        output = stored.response["output"]
        stored.context = stored.context[: len(stored.context) - len(output)]
        if stored.conversation_id:
            conversation_store.remove_items(ctx, stored.conversation_id, [item["id"] for item in output if item.get("id")])
        stored.cancelled, stored.cancelled_at = True, current["status"]
        stored.response = {**current, "status": "cancelled"}
    return stored.response


@responses.route("GET", "/responses/<response_id>/input_items", endpoint="responses.input_items.list")
def list_input_items(ctx: Ctx, response_id: str) -> dict[str, Any]:
    stored = _stored(ctx, response_id)
    args = ctx.request.args
    order = args.get("order", "desc")
    if order not in ("asc", "desc"):
        raise errors.invalid_value("order", f"Invalid value: '{order}'. Supported values are: 'asc' and 'desc'.")
    limit = _int_arg(args.get("limit"), "limit")
    return page(stored.input_items, key=lambda item: item["id"], after=args.get("after"), before=args.get("before"), limit=limit, order=order)


def _int_arg(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise errors.invalid_type(name, "an integer", value) from None


def count_input_tokens(ctx: Ctx) -> dict[str, Any]:
    body = ctx.json()
    _validate(ctx, body, InputTokenCountParams)
    if body.get("model") is not None:
        ctx.require_model(body["model"])
    history, _ = _history(ctx, body)
    context = [*history, *_input_items(ctx, body.get("input"), history)]
    return {"object": "response.input_tokens", "input_tokens": _count_input(context, body.get("instructions"), body.get("tools"))}


def compact_response(ctx: Ctx) -> dict[str, Any]:
    """Every user message of the context, then one ``compaction`` item standing for the rest
    (what a continuation passes back), as the SDK documents the output. The SDK's
    ``ResponseOutputItem`` union has assistant messages only, so a client with
    ``_strict_response_validation=True`` rejects the user messages, the real API's too."""
    body = ctx.json()
    _validate(ctx, body, ResponseCompactParams)
    ctx.require_model(body["model"])
    history, _ = _history(ctx, body)
    context = [*history, *_input_items(ctx, body.get("input"), history)]
    summary = base64.b64encode(digest("compaction", [_content_only(i) for i in context])).decode()
    compaction = {"id": ctx.ids.next("cmp_"), "type": "compaction", "encrypted_content": summary}
    tokens = _count_input(context, body.get("instructions"), None)
    users = [item for item in context if item.get("type") == "message" and item.get("role") == "user"]
    output = [*json_copy(users), compaction]
    return {
        "id": ctx.ids.next("resp_"),
        "object": "response.compaction",
        "created_at": ctx.clock.now(),
        "output": output,
        "usage": {
            "input_tokens": tokens,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": count_tokens(summary),
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": tokens + count_tokens(summary),
        },
    }



def remember_response(store: Store, ids: IdSequence, body: dict[str, Any], response: dict[str, Any]) -> None:
    """Keep a ``responses.create`` answer the fake did not make (replayed from a cassette), so
    that ``previous_response_id`` continues it and retrieve finds it. Not kept with ``store: false``."""
    if response.get("object") != "response" or not isinstance(response.get("id"), str) or body.get("store") is False:
        return
    context: list[dict[str, Any]] = []
    previous = body.get("previous_response_id")
    stored = store.responses.find(previous) if isinstance(previous, str) else None
    if stored is not None:
        context = list(stored.context)
    given = body.get("input", [])
    items = [{"role": "user", "content": given}] if isinstance(given, str) else given
    try:
        inputs = conversation_store._normalise(store, ids, items, "input", None)
    except errors.OpenAIError:  # input the fake's own rules refuse: keep the output only
        inputs = []
    output = [item for item in response.get("output") or [] if isinstance(item, dict)]
    store.responses.add(response["id"], StoredResponse(response, inputs, [*context, *inputs, *output]))


def seed_response(
    target: Any,
    *,
    input: str | list[dict[str, Any]],
    output_text: str,
    model: str = DEFAULT_MODEL,
    id: str | None = None,
    created_at: int | None = None,
) -> StoredResponse:
    """Store a completed response from plain data, to continue with ``previous_response_id``.

    ``target``: the fake (``openai_server``) or its ``Store``. ``input`` is what
    ``responses.create`` takes; ``output_text`` becomes one assistant message. Ids come from a
    sequence of their own, so seeding does not change the ids the API hands out. Returns the
    ``StoredResponse``: ``.id`` is the response id, ``.response`` the response as retrieve
    answers it.
    """
    store: Store = getattr(target, "state", target)
    clock = getattr(target, "clock", None)
    n = len(store.responses)
    while id is None or id in store.responses:
        n += 1
        id = IdSequence(f"seeded-response:{n}").next("resp_")
    ids = IdSequence(f"seeded-response-items:{id}")
    items = [{"role": "user", "content": input}] if isinstance(input, str) else input
    inputs = conversation_store._normalise(store, ids, items, "input", None)
    message = {
        "id": ids.next("msg_"),
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": output_text, "annotations": [], "logprobs": []}],
    }
    when = created_at if created_at is not None else (clock.now() if clock is not None else EPOCH)
    input_tokens, output_tokens = _count_input(inputs, None, None), count_tokens(output_text)
    response = {
        "id": id,
        "object": "response",
        "created_at": when,
        "completed_at": when,
        "status": "completed",
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "metadata": {},
        "model": model,
        "output": [message],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + output_tokens,
        },
    }
    return store.responses.add(id, StoredResponse(response, inputs, [*inputs, message]))


if InputTokenCountParams is not None:
    responses.route("POST", "/responses/input_tokens", endpoint="responses.input_tokens.count")(count_input_tokens)
if ResponseCompactParams is not None:
    responses.route("POST", "/responses/compact", endpoint="responses.compact")(compact_response)
