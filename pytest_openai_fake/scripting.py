"""Scripted replies and faults, per endpoint.

A test scripts the fake with ``openai_server.on(endpoint, **match)``, which returns a
``Script``. A script answers the calls it matches, in order of installation (the first script
that matches and still has something to give wins)::

    openai_server.on("chat.completions.create").once(tool_call("get_weather", {"city": "Paris"}))
    openai_server.on("chat.completions.create", message="weather").respond("It is sunny.")
    openai_server.on("chat.completions.create").fail(429, times=2, retry_after=0.01)

Everything a script can answer with is an *outcome*:

- reply content, completed by the endpoint into a full, valid response: a ``str`` (the text),
  ``tool_call(...)``, ``tool_calls(...)``, ``message(...)``, ``refusal(...)``,
  ``content_filter(...)``, a pydantic model instance (its JSON is the text), or a ``dict``
  that is deep-merged into the fake's own response (``{"usage": {...}}``);
- ``raw(json, status=...)``: exactly this body, nothing completed;
- ``error(status, ...)``: the real error envelope and headers (429 with rate-limit headers);
- ``drop()``: the connection is reset without a reply;
- ``cut_stream(after=N)`` / ``stream_error(after=N)``: a stream cut, or ended by an error
  event, after N chunks;
- ``delayed(outcome, seconds=, first_chunk=, per_chunk=)``: latency;
- ``DEFAULT``: the fake's own answer;
- a callable ``fn(request) -> outcome | None``, called with the ``CapturedRequest``. Reply
  functions and ``match=`` predicates run outside the fake's lock: a slow one (or one waiting
  for another call) holds up no other call.

Outcomes are checked against the endpoint when they are installed (``ScriptError``), so a
malformed script fails the test at the line that wrote it. Non-Python clients install the
same scripts as JSON at ``POST /__fake/scripts`` (``outcome_from_spec`` reads that form).
"""

from __future__ import annotations

import base64
import dataclasses
import difflib
import json
import math
import re
import threading
import typing
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping, Pattern, Protocol, TypeAlias, Union

from . import errors

if TYPE_CHECKING:
    from .capture import CapturedRequest
    from .routing import Route

__all__ = [
    "DEFAULT",
    "Failure",
    "Outcome",
    "PydanticModel",
    "Reply",
    "Script",
    "ScriptError",
    "Scripts",
    "ToolCall",
    "content_filter",
    "custom_tool_call",
    "cut_stream",
    "delayed",
    "drop",
    "error",
    "failed",
    "message",
    "outcome_from_spec",
    "raw",
    "refusal",
    "stream_error",
    "tool_call",
    "tool_calls",
]


class ScriptError(ValueError):
    """A script the fake cannot follow: unknown endpoint, a reply of the wrong shape, ..."""


# -- reply content --------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolCall:
    """One tool call the model makes. ``arguments`` is the JSON text the API sends."""

    name: str
    arguments: str = "{}"
    id: str | None = None
    type: str = "function"  # or "custom" (then ``arguments`` is the free-form input)

    def to_data(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "name": self.name, "arguments": self.arguments}


def tool_call(name: str, arguments: Mapping[str, Any] | str | None = None, *, id: str | None = None) -> ToolCall:
    """A function tool call: ``tool_call("get_weather", {"city": "Paris"})``.

    ``arguments`` is a dict (sent as JSON) or a string sent as is (to test bad JSON handling).
    ``id`` defaults to a fresh ``call_...`` id.
    """
    __tracebackhide__ = True
    if not isinstance(name, str) or not name:
        raise ScriptError(f"tool_call(): name must be a non-empty string, got {name!r}")
    if arguments is None:
        text = "{}"
    elif isinstance(arguments, str):
        text = arguments
    elif isinstance(arguments, Mapping):
        try:
            text = json.dumps(dict(arguments), separators=(",", ":"), ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            raise ScriptError(f"tool_call({name!r}): arguments are not JSON-serialisable: {exc}") from None
    else:
        raise ScriptError(f"tool_call({name!r}): arguments must be a dict or a JSON string, got {type(arguments).__name__}")
    if id is not None and (not isinstance(id, str) or not id):
        raise ScriptError(f"tool_call({name!r}): id must be a non-empty string")
    return ToolCall(name, text, id)


def custom_tool_call(name: str, input: str, *, id: str | None = None) -> ToolCall:
    """A call of a custom (free-form) tool: ``custom_tool_call("run_sql", "SELECT 1")``."""
    __tracebackhide__ = True
    if not isinstance(input, str):
        raise ScriptError(f"custom_tool_call({name!r}): input must be a string")
    return replace(tool_call(name, None, id=id), arguments=input, type="custom")


@dataclass(frozen=True)
class Message:
    """An assistant turn: text, tool calls, a refusal, and how it finished."""

    content: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    refusal: str | None = None
    finish_reason: str | None = None

    def to_data(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "tool_calls": [call.to_data() for call in self.tool_calls],
            "refusal": self.refusal,
            "finish_reason": self.finish_reason,
        }


FINISH_REASONS = ("stop", "length", "tool_calls", "content_filter", "function_call")


def message(
    content: Any = None,
    *,
    tool_calls: Iterable[ToolCall] = (),
    refusal: str | None = None,
    finish_reason: str | None = None,
) -> Message:
    """Any assistant turn. ``content`` may be a string, or a dict/list/pydantic model (sent as JSON).

    ``finish_reason`` defaults to what the API would say: ``tool_calls`` when there are tool
    calls, else ``stop``.
    """
    __tracebackhide__ = True
    calls = tuple(tool_calls)
    for call in calls:
        if not isinstance(call, ToolCall):
            raise ScriptError(f"message(tool_calls=...): expected tool_call(...) items, got {call!r}")
    if refusal is not None and not isinstance(refusal, str):
        raise ScriptError(f"message(refusal=...): expected a string, got {refusal!r}")
    if finish_reason is not None and finish_reason not in FINISH_REASONS:
        raise ScriptError(f"message(finish_reason=...): expected one of {', '.join(FINISH_REASONS)}, got {finish_reason!r}")
    return Message(_content_text(content), calls, refusal, finish_reason)


def tool_calls(*calls: ToolCall) -> Message:
    """Parallel tool calls in one assistant turn."""
    __tracebackhide__ = True
    if not calls:
        raise ScriptError("tool_calls(): give at least one tool_call(...)")
    return message(tool_calls=calls)


def refusal(text: str = "I'm sorry, but I can't help with that.") -> Message:
    """The model refuses: ``message.refusal`` is set and ``content`` is null."""
    return message(refusal=text)


def content_filter(content: str = "") -> Message:
    """The reply is stopped by the content filter: ``finish_reason: "content_filter"``."""
    return message(content, finish_reason="content_filter")


@dataclass(frozen=True)
class Failure:
    """A Responses API response that fails: ``status: "failed"`` with ``error`` (``failed()``)."""

    message: str
    code: str

    def to_data(self) -> dict[str, Any]:
        return {"content": None, "tool_calls": [], "refusal": None, "finish_reason": None, "error": {"code": self.code, "message": self.message}}


#: The real API's text for a response that failed on its side (``code: "server_error"``).
FAILED_MESSAGE = (
    "An error occurred while processing your request. You can retry your request, or contact us "
    "through our help center at help.openai.com if the error persists."
)


def failed(message: str = FAILED_MESSAGE, *, code: str = "server_error") -> Failure:
    """The Responses API's failed response: ``status: "failed"``, ``error: {code, message}``, no
    output. A plain call gets it with HTTP 200, a stream ends with ``response.failed``, a
    background response fails when polled. ``code`` is one of the SDK's ``ResponseError`` codes."""
    __tracebackhide__ = True
    if not isinstance(message, str) or not message:
        raise ScriptError(f"failed(): message must be a non-empty string, got {message!r}")
    codes = _response_error_codes()
    if codes and code not in codes:
        raise ScriptError(f"failed(): code must be one of {', '.join(codes)}, got {code!r}")
    return Failure(message, code)


def _response_error_codes() -> tuple[str, ...]:
    """The literal of the SDK's ``ResponseError.code`` (empty if this SDK has none)."""
    try:
        from openai.types.responses.response_error import ResponseError
    except ImportError:  # pragma: no cover - an SDK without the Responses API
        return ()
    return tuple(typing.get_args(ResponseError.model_fields["code"].annotation))


def _content_text(content: Any) -> str | None:
    __tracebackhide__ = True
    if content is None or isinstance(content, str):
        return content
    _refuse_model_class(content)
    dump = getattr(content, "model_dump_json", None)
    if callable(dump):  # a pydantic model: what structured outputs would return
        return dump()
    if isinstance(content, (dict, list)):
        try:
            return json.dumps(content, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            raise ScriptError(f"message content is not JSON-serialisable: {exc}") from None
    raise ScriptError(f"message content must be a string, a dict/list or a pydantic model, got {type(content).__name__}")


# -- faults -----------------------------------------------------------------------------------

#: Default error texts per status (the real API's wording where it has one).
ERROR_TEXTS: dict[int, tuple[str, str, str | None]] = {
    400: ("Bad request.", "invalid_request_error", None),
    401: (errors.MISSING_API_KEY, "invalid_request_error", None),
    403: ("You are not allowed to sample from this model", "invalid_request_error", None),
    404: ("The requested resource was not found.", "invalid_request_error", None),
    408: ("Request timed out.", "timeout", None),
    409: ("The request conflicted with another request. Please retry.", "invalid_request_error", None),
    429: ("", "requests", "rate_limit_exceeded"),  # text built from the model, see _rate_limit_text
    500: ("The server had an error while processing your request. Sorry about that!", "server_error", None),
    502: ("Bad gateway.", "server_error", None),
    503: ("The engine is currently overloaded, please try again later.", "server_error", None),
    504: ("Gateway timeout.", "server_error", None),
}
QUOTA_TEXT = (
    "You exceeded your current quota, please check your plan and billing details. For more "
    "information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors."
)
#: The rate limits the fake reports in ``x-ratelimit-*`` headers of a 429.
RATE_LIMIT_REQUESTS = 500
RATE_LIMIT_TOKENS = 30000


@dataclass(frozen=True)
class Fault:
    """An error answer: status, envelope fields and extra headers."""

    status: int
    message: str | None = None
    type: str | None = None
    code: str | None = None
    param: str | None = None
    retry_after: float | None = None
    should_retry: bool | None = None
    headers: tuple[tuple[str, str], ...] = ()

    def render(self, model: str | None) -> errors.OpenAIError:
        text, kind, code = ERROR_TEXTS.get(self.status, ("", "server_error" if self.status >= 500 else "invalid_request_error", None))
        if self.status == 429 and self.code == "insufficient_quota":
            text, kind = QUOTA_TEXT, "insufficient_quota"
        elif self.status == 429:
            text = _rate_limit_text(model, self.retry_after)
        if not text:
            from werkzeug.http import HTTP_STATUS_CODES

            text = HTTP_STATUS_CODES.get(self.status, "Error") + "."
        headers: dict[str, str] = {}
        if self.status == 429 and self.code != "insufficient_quota":
            headers.update(rate_limit_headers(self.retry_after))
        if self.retry_after is not None:
            headers["retry-after"] = str(max(0, math.ceil(self.retry_after)))
            headers["retry-after-ms"] = str(max(0, round(self.retry_after * 1000)))
        if self.should_retry is not None:
            headers["x-should-retry"] = "true" if self.should_retry else "false"
        headers.update(self.headers)
        return errors.OpenAIError(
            self.status,
            self.message if self.message is not None else text,
            type=self.type or kind,
            param=self.param,
            code=self.code if self.code is not None else code,
            headers=headers,
        )


def _rate_limit_text(model: str | None, retry_after: float | None) -> str:
    wait = go_duration(retry_after if retry_after is not None else 1.0)
    subject = f"for {model} " if model else ""
    return (
        f"Rate limit reached {subject}in organization org-pytestopenaifake on requests per min (RPM): "
        f"Limit {RATE_LIMIT_REQUESTS}, Used {RATE_LIMIT_REQUESTS}, Requested 1. Please try again in {wait}. "
        "Visit https://platform.openai.com/account/rate-limits to learn more."
    )


def rate_limit_headers(retry_after: float | None) -> dict[str, str]:
    """``x-ratelimit-*`` headers of an exhausted request budget, in the API's duration format."""
    return {
        "x-ratelimit-limit-requests": str(RATE_LIMIT_REQUESTS),
        "x-ratelimit-limit-tokens": str(RATE_LIMIT_TOKENS),
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-remaining-tokens": str(RATE_LIMIT_TOKENS),
        "x-ratelimit-reset-requests": go_duration(retry_after if retry_after is not None else 1.0),
        "x-ratelimit-reset-tokens": "0s",
    }


def go_duration(seconds: float) -> str:
    """A duration the way the API writes it (Go's format): ``120ms``, ``1s``, ``6m0s``, ``1h2m3s``."""
    if seconds <= 0:
        return "0s"
    if seconds < 1:
        ms = round(seconds * 1000, 3)
        return f"{ms:g}ms"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{round(secs, 3):g}s"
    if hours:
        return f"{int(hours)}h{int(minutes)}m{text}"
    if minutes:
        return f"{int(minutes)}m{text}"
    return text


def error(
    status: int = 500,
    message: str | None = None,
    *,
    type: str | None = None,
    code: str | None = None,
    param: str | None = None,
    retry_after: float | None = None,
    should_retry: bool | None = None,
    headers: Mapping[str, str] | None = None,
) -> Outcome:
    """An error reply with the real envelope. Defaults follow the real API per status:

    - 429: ``rate_limit_exceeded`` with the API's message and ``x-ratelimit-*`` headers
      (``code="insufficient_quota"`` for the quota error instead);
    - 500/502/503/504: ``server_error``; 408: ``timeout``.

    ``retry_after`` (seconds, may be fractional) sends ``retry-after`` and ``retry-after-ms``.
    The SDK ignores a zero wait and backs off 0.5 s instead: use ``retry_after=0.001`` for a
    fast retry test. ``should_retry`` sends ``x-should-retry``.
    """
    __tracebackhide__ = True
    if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599:
        raise ScriptError(f"error(): status must be an HTTP error status 400-599, got {status!r}")
    if retry_after is not None and (not isinstance(retry_after, (int, float)) or retry_after < 0):
        raise ScriptError(f"error(): retry_after must be a number of seconds >= 0, got {retry_after!r}")
    for name, value in (("message", message), ("type", type), ("code", code), ("param", param)):
        if value is not None and not isinstance(value, str):
            raise ScriptError(f"error(): {name} must be a string, got {value!r}")
    if should_retry is not None and not isinstance(should_retry, bool):
        raise ScriptError(f"error(): should_retry must be True, False or None, got {should_retry!r}")
    extra = tuple((str(k), str(v)) for k, v in (headers or {}).items())
    return Outcome(kind="fault", fault=Fault(status, message, type, code, param, retry_after, should_retry, extra))


# -- outcomes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What the fake does for one call. Build with the functions of this module."""

    kind: str  # "default", "reply", "patch", "raw", "fault", "drop", "call"
    reply: Any = None  # "reply": str | Message | ToolCall; "patch": dict; "raw": JSON body; "call": callable
    fault: Fault | None = None
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    first_chunk: float = 0.0
    per_chunk: float = 0.0
    cut_after: int | None = None
    error_after: int | None = None  # with ``fault``: the error event sent after N chunks

    def __repr__(self) -> str:
        parts = [self.kind]
        if self.reply is not None:
            parts.append(repr(self.reply) if self.kind != "call" else getattr(self.reply, "__name__", "callable"))
        if self.fault is not None:
            parts.append(f"status={self.fault.status}")
        for name in ("delay", "first_chunk", "per_chunk"):
            if getattr(self, name):
                parts.append(f"{name}={getattr(self, name)}")
        if self.cut_after is not None:
            parts.append(f"cut_after={self.cut_after}")
        if self.error_after is not None:
            parts.append(f"error_after={self.error_after}")
        return f"<Outcome {' '.join(parts)}>"

    @property
    def streams_only(self) -> bool:
        return self.cut_after is not None or self.error_after is not None or bool(self.first_chunk or self.per_chunk)


#: The fake's own answer (useful in a sequence: ``once(error(429), DEFAULT)``).
DEFAULT = Outcome(kind="default")


class PydanticModel(Protocol):
    """A pydantic model instance (what structured outputs parse into): its JSON is the reply text."""

    def model_dump_json(self) -> str: ...


#: Everything ``once``, ``respond``, the marker's ``replies=`` and the outcome helpers accept as
#: a reply: text; ``tool_call(...)`` (or a list of them); ``message(...)``, ``refusal(...)``,
#: ``content_filter(...)``; ``failed(...)``; a pydantic model instance; a dict merged into the
#: response; an outcome (``raw``, ``error``, ``drop``, ``cut_stream``, ``stream_error``,
#: ``delayed``, ``DEFAULT``); or a function of the ``CapturedRequest`` returning one (``None``: the
#: fake's own answer).
Reply: TypeAlias = Union[  # noqa: UP007 (a runtime alias with forward references: no "|")
    str,
    Message,
    ToolCall,
    Failure,
    Outcome,
    list[ToolCall],
    tuple[ToolCall, ...],
    Mapping[str, Any],
    PydanticModel,
    Callable[["CapturedRequest"], "Reply | None"],
]


def raw(json: Any = None, *, status: int = 200, headers: Mapping[str, str] | None = None) -> Outcome:
    """Exactly this JSON body and status: nothing is completed or checked."""
    __tracebackhide__ = True
    if not isinstance(status, int) or not 100 <= status <= 599:
        raise ScriptError(f"raw(): status must be an HTTP status, got {status!r}")
    body = _json_copy(json, "raw() body")
    extra = tuple((str(k), str(v)) for k, v in (headers or {}).items())
    return Outcome(kind="raw", reply=body, status=status, headers=extra)


def drop() -> Outcome:
    """The connection is reset before any byte of the reply (the SDK sees a connection error)."""
    return Outcome(kind="drop")


def cut_stream(after: int, reply: Reply = DEFAULT) -> Outcome:
    """Stream ``reply`` (the fake's own by default) and reset the connection after ``after`` chunks.

    On a request that is not streamed, the connection is reset before the reply.
    """
    __tracebackhide__ = True
    _check_count("cut_stream", after)
    return replace(to_outcome(reply), cut_after=after)


def stream_error(
    after: int,
    reply: Reply = DEFAULT,
    *,
    message: str = "The server had an error while processing your request. Sorry about that!",
    type: str = "server_error",
    code: str | None = None,
    status: int = 500,
) -> Outcome:
    """Stream ``reply``, then after ``after`` chunks send ``data: {"error": {...}}`` and end.

    The SDK raises ``openai.APIError`` with that message. On a request that is not streamed,
    the error is the reply itself, with ``status``.
    """
    __tracebackhide__ = True
    _check_count("stream_error", after)
    fault = Fault(status, message, type, code)
    return replace(to_outcome(reply), error_after=after, fault=fault)


def delayed(reply: Reply = DEFAULT, *, seconds: float = 0.0, first_chunk: float = 0.0, per_chunk: float = 0.0) -> Outcome:
    """``reply`` after ``seconds``; for streams also ``first_chunk`` (time to first chunk, after
    the headers) and ``per_chunk`` (between chunks). Delays end early when the test ends."""
    __tracebackhide__ = True
    for name, value in (("seconds", seconds), ("first_chunk", first_chunk), ("per_chunk", per_chunk)):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0 or not math.isfinite(value):
            raise ScriptError(f"delayed(): {name} must be a number of seconds >= 0, got {value!r}")
    return replace(to_outcome(reply), delay=float(seconds), first_chunk=float(first_chunk), per_chunk=float(per_chunk))


def _check_count(name: str, after: Any) -> None:
    __tracebackhide__ = True
    if not isinstance(after, int) or isinstance(after, bool) or after < 0:
        raise ScriptError(f"{name}(): after must be a number of chunks >= 0, got {after!r}")


def to_outcome(reply: Reply | Any) -> Outcome:
    """Any accepted reply value as an ``Outcome`` (not yet checked against an endpoint)."""
    __tracebackhide__ = True
    if isinstance(reply, Outcome):
        return reply
    if isinstance(reply, (str, Message, ToolCall, Failure)):
        return Outcome(kind="reply", reply=reply)
    if isinstance(reply, (list, tuple)) and reply and all(isinstance(r, ToolCall) for r in reply):
        return Outcome(kind="reply", reply=message(tool_calls=reply))
    if isinstance(reply, Mapping):
        return Outcome(kind="patch", reply=_json_copy(reply, "a dict reply"))
    _refuse_model_class(reply)
    if hasattr(reply, "model_dump_json"):
        return Outcome(kind="reply", reply=message(reply))
    if callable(reply):
        return Outcome(kind="call", reply=reply)
    raise ScriptError(
        f"cannot reply with {type(reply).__name__} {reply!r}: use a string, tool_call(...), message(...), "
        "refusal(...), content_filter(...), failed(...), a dict (merged into the response), raw(...), error(...), drop(), "
        "cut_stream(...), stream_error(...), delayed(...), DEFAULT, or a callable"
    )


def _refuse_model_class(value: Any) -> None:
    """A pydantic model class is callable, but the reply is its instance: say so."""
    __tracebackhide__ = True
    if isinstance(value, type) and hasattr(value, "model_dump_json"):
        raise ScriptError(f"cannot reply with the class {value.__name__}: pass an instance, e.g. {value.__name__}(...)")


def _json_copy(value: Any, what: str) -> Any:
    __tracebackhide__ = True
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError) as exc:
        raise ScriptError(f"{what} is not JSON-serialisable: {exc}") from None


# -- checking outcomes against an endpoint ----------------------------------------------------

def check_outcome(outcome: Outcome, route: Route, *, stream: bool | None = None) -> None:
    """Raise ``ScriptError`` unless ``route`` can answer with ``outcome``.

    ``stream``: the calls it answers stream (``True``), never stream (``False``), or either.
    """
    __tracebackhide__ = True
    endpoint = route.endpoint
    if outcome.kind == "reply":
        kind = "text" if isinstance(outcome.reply, str) else "failure" if isinstance(outcome.reply, Failure) else "message"
        if kind not in route.replies:
            accepted = ", ".join(sorted(route.replies)) or "no reply content"
            raise ScriptError(
                f"{endpoint} cannot reply with {outcome.reply!r}: it accepts {accepted}; "
                "a dict (merged into its response), raw(...), error(...) or drop() work for every endpoint"
            )
    elif outcome.kind == "patch" and route.response is not None:
        check_patch(outcome.reply, route.response, endpoint)
    if outcome.streams_only and not route.streams and (outcome.first_chunk or outcome.per_chunk or outcome.cut_after is not None):
        raise ScriptError(f"{endpoint} never streams: first_chunk/per_chunk/cut_stream() need a streaming endpoint")
    if stream and outcome.kind == "patch":
        raise ScriptError(
            f"{endpoint}: a dict reply is merged into the JSON response, but streamed calls get no JSON response; "
            "reply with text, tool_call(...) or message(...), or script the plain calls with on(..., stream=False)"
        )


def check_patch(patch: Any, model: Any, where: str) -> None:
    """Every key of a dict reply must be a field of the SDK's response model (recursively), and
    every value must fit the field's type (a dict inside one is checked the same way)."""
    __tracebackhide__ = True
    model = _model_of(model)
    if model is None or not isinstance(patch, Mapping):
        return
    fields = getattr(model, "model_fields", {})
    for key, value in patch.items():
        field_info = fields.get(key)
        if field_info is None:
            known = ", ".join(sorted(fields))
            raise ScriptError(f"{where}: {key!r} is not a field of {model.__name__} (fields: {known})")
        _check_value(value, field_info.annotation, f"{where}.{key}")


def _check_value(value: Any, annotation: Any, where: str) -> None:
    """``value`` fits ``annotation``, where a dict for a model is a partial one (merged later)."""
    __tracebackhide__ = True
    if isinstance(value, Mapping) and _model_of(annotation) is not None:
        check_patch(value, annotation, where)
        return
    item = _item_annotation(annotation)
    if isinstance(value, list) and item is not None:
        for index, element in enumerate(value):
            _check_value(element, item, f"{where}[{index}]")
        return
    if isinstance(value, Mapping) and _names_models(annotation):
        return  # a partial item of a union of models (Responses output items): no single model to check
    adapter = _adapter(annotation)
    if adapter is None:
        return  # a type pydantic cannot check on its own: the merged reply is validated when sent
    try:
        adapter.validate_python(value)
    except ValueError as exc:  # pydantic's ValidationError
        problems = exc.errors() if hasattr(exc, "errors") else []
        reason = problems[0]["msg"] if problems else str(exc)
        raise ScriptError(f"{where}: {value!r} is not a valid {_type_name(annotation)} ({reason})") from None
    if isinstance(value, str) and _is_vector_or_text(annotation) and not _is_float32_base64(value):
        raise ScriptError(
            f"{where}: {value!r} is neither a list of floats nor base64 float32 data (what encoding_format=\"base64\" sends)"
        )


def _is_vector_or_text(annotation: Any) -> bool:
    """``list[float] | str``: a vector, or the same vector as base64 (embeddings)."""
    annotation = _unwrap(annotation)
    members = typing.get_args(annotation) if _is_union(annotation) else ()
    return str in members and any(_unwrap(_item_annotation(m) or object) is float for m in members)


def _is_float32_base64(text: str) -> bool:
    try:
        data = base64.b64decode(text, validate=True)
    except ValueError:  # binascii.Error
        return False
    return len(data) % 4 == 0


_ADAPTERS: dict[Any, Any] = {}


def _adapter(annotation: Any) -> Any:
    """A cached pydantic ``TypeAdapter`` for a field annotation, or None if it cannot have one."""
    try:
        return _ADAPTERS[annotation]
    except (KeyError, TypeError):  # not built yet, or an unhashable annotation (not cached)
        pass
    from pydantic import TypeAdapter

    try:
        adapter = TypeAdapter(annotation)
    except TypeError:  # pydantic's PydanticSchemaGenerationError
        adapter = None
    try:
        _ADAPTERS[annotation] = adapter
    except TypeError:
        pass
    return adapter


def _unwrap(annotation: Any) -> Any:
    """``annotation`` without ``Annotated[...]`` metadata and ``Optional``."""
    while True:
        if typing.get_origin(annotation) is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if _is_union(annotation) and len(args) == 1:
            annotation = args[0]
            continue
        return annotation


def _is_union(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    return origin is typing.Union or (origin is not None and getattr(origin, "__name__", "") == "UnionType")


def _model_of(annotation: Any) -> Any:
    """The single pydantic model an annotation names (unwrapping Optional), else None."""
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
        return annotation
    return None


def _item_annotation(annotation: Any) -> Any:
    """The item type of a list annotation (unwrapping Optional; of a union's one list type), else None."""
    annotation = _unwrap(annotation)
    if _is_union(annotation):
        items = [item for item in map(_item_annotation, typing.get_args(annotation)) if item is not None]
        return items[0] if len(items) == 1 else None
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (list, tuple) and args:
        return args[0]
    return None


def _names_models(annotation: Any) -> bool:
    """Whether a pydantic model appears anywhere in ``annotation``."""
    if isinstance(annotation, type):
        return hasattr(annotation, "model_fields")
    return any(_names_models(arg) for arg in typing.get_args(annotation))


def _type_name(annotation: Any) -> str:
    """``List[float]``, ``Choice``, ``Literal['chat.completion']``: module paths left out."""
    annotation = _unwrap(annotation)
    if isinstance(annotation, type):
        return annotation.__name__
    return re.sub(r"(?<!['\w.])(?:[a-z_]\w*\.)+(?=[A-Za-z_])", "", repr(annotation))


def merge(base: Any, patch: Any) -> Any:
    """Deep-merge ``patch`` into ``base``: dicts by key, lists item by item, anything else replaced."""
    if isinstance(base, dict) and isinstance(patch, Mapping):
        merged = dict(base)
        for key, value in patch.items():
            merged[key] = merge(base[key], value) if key in base else value
        return merged
    if isinstance(base, list) and isinstance(patch, list):
        return [merge(base[i], item) if i < len(base) else item for i, item in enumerate(patch)] + base[len(patch) :]
    return patch


# -- matching ---------------------------------------------------------------------------------


def last_user_text(body: Any) -> str:
    """The text of the last user turn, for ``message=`` matching, across endpoint shapes.

    Chat ``messages``, Responses ``input`` (string or items), completions ``prompt``,
    embeddings/moderations ``input``.
    """
    if not isinstance(body, dict):
        return ""
    messages = body.get("messages")
    if isinstance(messages, list):
        for item in reversed(messages):
            if isinstance(item, dict) and item.get("role") == "user":
                return _text_of(item.get("content"))
        return ""
    for key in ("input", "prompt"):
        value = body.get(key)
        if isinstance(value, str):
            return value
        if isinstance(value, list):
            for item in reversed(value):
                if isinstance(item, str):
                    return item
                if isinstance(item, dict) and item.get("role", "user") == "user":
                    return _text_of(item.get("content", item.get("text")))
    return ""


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            part["text"] for part in content if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


@dataclass
class Call:
    """What a script sees of a call while choosing: endpoint and parsed body."""

    endpoint: str
    body: Any
    stream: bool


# -- scripts ----------------------------------------------------------------------------------


class Script:
    """Replies for the calls one ``on(...)`` matches. Methods return the script, so they chain.

    - ``once(*replies)``: one reply per call, in order;
    - ``respond(reply)``: every call after the ``once`` replies (or every call);
    - ``fail(status, times=None, ...)``: errors, for ``times`` calls or every call;
    - ``delay(seconds, first_chunk=, per_chunk=)``: latency for every call this script answers.

    When the ``once`` replies are used up and there is no ``respond``, calls fall through to the
    next script or the fake's own answer; with ``exhaustive=True`` such a call fails the test
    instead, and so do ``once`` replies left unused at the end of the test, and a ``respond``
    reply that no call matched.
    """

    def __init__(
        self,
        owner: Scripts,
        endpoint: str | None,
        *,
        model: str | None = None,
        message: str | Pattern[str] | None = None,
        stream: bool | None = None,
        match: Callable[[CapturedRequest], bool] | None = None,
        exhaustive: bool = False,
        name: str = "",
    ) -> None:
        self._owner = owner
        self.endpoint = endpoint
        self.model = model
        self.message = message
        self.stream = stream
        self.match = match
        self.exhaustive = exhaustive
        self.name = name
        self._queue: list[Outcome] = []
        self._last_once: Outcome | None = None  # the ``once`` reply the last ``_take`` used
        self._always: Outcome | None = None
        self._latency: tuple[float, float, float] = (0.0, 0.0, 0.0)
        self._scripted = False  # once() or respond() was called
        self.calls: list[CapturedRequest] = []

    @property
    def strict(self) -> bool:
        """Deprecated: ``exhaustive``."""
        warn_deprecated("Script.strict is deprecated: use Script.exhaustive")
        return self.exhaustive

    # -- building --------------------------------------------------------------------------

    def once(self, *replies: Reply) -> Script:
        """Answer the next calls with these replies, one each, in order."""
        __tracebackhide__ = True
        if not replies:
            raise ScriptError("once(): give at least one reply")
        outcomes = []
        for reply in replies:  # a loop, not a comprehension: its frame would show in tracebacks
            outcomes.append(self._owner.check(self.endpoint, to_outcome(reply), stream=self.stream))
        with self._owner.lock:
            self._queue.extend(outcomes)
            self._scripted = True
        return self

    def respond(self, reply: Reply = DEFAULT, *, json: Any = None, status: int | None = None, headers: Mapping[str, str] | None = None) -> Script:
        """Answer every call (after any ``once`` replies) with ``reply``.

        ``respond(json={...}, status=...)`` sends exactly that body, like ``raw(...)``.
        """
        __tracebackhide__ = True
        if json is not None or status is not None or headers is not None:
            if reply is not DEFAULT:
                raise ScriptError("respond(): give a reply or json=..., not both")
            reply = raw(json, status=200 if status is None else status, headers=headers)
        outcome = self._owner.check(self.endpoint, to_outcome(reply), stream=self.stream)
        with self._owner.lock:
            self._always = outcome
            self._scripted = True
        return self

    def fail(self, status: int = 500, *, times: int | None = None, **fault: Any) -> Script:
        """Answer with ``error(status, **fault)``: the next ``times`` calls, or every call."""
        __tracebackhide__ = True
        outcome = error(status, **fault)
        if times is None:
            return self.respond(outcome)
        if not isinstance(times, int) or isinstance(times, bool) or times < 1:
            raise ScriptError(f"fail(): times must be a positive number, got {times!r}")
        return self.once(*([outcome] * times))

    def delay(self, seconds: float = 0.0, *, first_chunk: float = 0.0, per_chunk: float = 0.0) -> Script:
        """Latency for every call this script answers (its own outcomes may set their own)."""
        __tracebackhide__ = True
        probe = delayed(seconds=seconds, first_chunk=first_chunk, per_chunk=per_chunk)
        self._owner.check(self.endpoint, replace(probe, kind="default"))
        with self._owner.lock:
            self._latency = (probe.delay, probe.first_chunk, probe.per_chunk)
        return self

    # -- state -----------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """How many ``once`` replies are still unused."""
        return len(self._queue)

    @property
    def pending_replies(self) -> list[Outcome]:
        """The ``once`` replies still unused, in order."""
        with self._owner.lock:
            return list(self._queue)

    @property
    def call_count(self) -> int:
        return len(self.calls)

    @property
    def called(self) -> bool:
        return bool(self.calls)

    def assert_consumed(self) -> None:
        if self._queue:
            raise AssertionError(f"{self!r}: {len(self._queue)} scripted repl{'y' if len(self._queue) == 1 else 'ies'} never used: {self._queue}")

    def leftover(self) -> str | None:
        """What an exhaustive script failing the test at teardown would report, else None:
        ``once`` replies left, or a ``respond`` reply that no call matched."""
        if self._queue:
            return f"{len(self._queue)} reply(ies) left"
        if self._always is not None and not self.calls:
            return f"no call matched it (respond: {self._always!r})"
        return None

    def matches(self, call: Call, request: Callable[[], CapturedRequest]) -> bool:
        return self._matches_statically(call) and (self.match is None or bool(self.match(request())))

    def _matches_statically(self, call: Call) -> bool:
        """Every condition but ``match=`` (user code, which ``Scripts.choose`` runs unlocked)."""
        if self.endpoint is not None and call.endpoint != self.endpoint:
            return False
        if self.stream is not None and call.stream != self.stream:
            return False
        if self.model is not None:
            if not isinstance(call.body, dict) or call.body.get("model") != self.model:
                return False
        if self.message is not None:
            text = last_user_text(call.body)
            if isinstance(self.message, str):
                if self.message not in text:
                    return False
            elif not self.message.search(text):
                return False
        return True

    def _take(self) -> Outcome | None:
        """The next outcome, or None when used up (the caller decides: fall through or fail)."""
        self._last_once = None
        if self._queue:
            outcome = self._last_once = self._queue.pop(0)
        elif self._always is not None:
            outcome = self._always
        elif not self._scripted and any(self._latency):
            outcome = DEFAULT  # a latency-only script: the fake's own answer, slowed down
        else:
            return None
        return self._with_latency(outcome)

    def _give_back(self, once: Outcome) -> None:
        """Put a ``once`` reply back first in line: the call it was taken for was refused by
        the fake's own checks (a 4xx), so no model would have answered it. (A concurrent call
        may have taken the next reply meanwhile, while a reply function ran: then the given-back
        reply answers after it.)"""
        self._queue.insert(0, once)

    def _with_latency(self, outcome: Outcome) -> Outcome:
        delay, first, per = self._latency
        if not any(self._latency) or outcome.delay or outcome.first_chunk or outcome.per_chunk:
            return outcome
        return replace(outcome, delay=delay, first_chunk=first, per_chunk=per)

    def describe(self) -> dict[str, Any]:
        """A JSON-able view, as served by ``GET /__fake/scripts``."""
        message = self.message if isinstance(self.message, str) or self.message is None else self.message.pattern
        return {
            "name": self.name,
            "endpoint": self.endpoint,
            "model": self.model,
            "message": message,
            "stream": self.stream,
            "exhaustive": self.exhaustive,
            "strict": self.exhaustive,  # deprecated key, kept for one release
            "calls": self.call_count,
            "pending": [outcome_spec(o) for o in self._queue],
            "always": None if self._always is None else outcome_spec(self._always),
        }

    def __repr__(self) -> str:
        where = [self.endpoint or "any endpoint"]
        if self.model:
            where.append(f"model={self.model!r}")
        if self.message is not None:
            where.append(f"message={self.message!r}")
        if self.stream is not None:
            where.append(f"stream={self.stream}")
        if self.match is not None:
            where.append("match=...")
        return f"<Script {self.name} on({', '.join(where)})>"


@dataclass(frozen=True)
class Chosen:
    """What ``Scripts.choose`` picked: the script, its outcome, and the ``once`` reply it came
    from (None for ``respond`` and latency-only answers), to give back if the call is refused."""

    script: Script | None
    outcome: Outcome | None
    once: Outcome | None = None

    def give_back(self) -> None:
        if self.script is not None and self.once is not None:
            self.script._give_back(self.once)


NOTHING_CHOSEN = Chosen(None, None)


@contextmanager
def unlocked(lock: threading.RLock) -> Iterator[None]:
    """Release ``lock`` (held once by this thread) for the block: for user code (``match=``
    predicates, reply functions), which may be slow or wait for another call."""
    lock.release()
    try:
        yield
    finally:
        lock.acquire()


class Scripts:
    """The scripts of one fake, in order of installation. Thread-safe; ``clear()`` on reset."""

    def __init__(self, routes: Mapping[str, Route], lock: threading.RLock) -> None:
        self.routes = routes
        self.lock = lock
        self._scripts: list[Script] = []
        self._count = 0

    def __bool__(self) -> bool:
        return bool(self._scripts)

    def __iter__(self) -> Any:
        return iter(list(self._scripts))

    def __len__(self) -> int:
        return len(self._scripts)

    def on(
        self,
        endpoint: str | None = None,
        *,
        model: str | None = None,
        message: str | Pattern[str] | None = None,
        stream: bool | None = None,
        match: Callable[[CapturedRequest], bool] | None = None,
        exhaustive: bool = False,
        strict: bool | None = None,
    ) -> Script:
        __tracebackhide__ = True
        if strict is not None:
            warn_deprecated("on(..., strict=...) is deprecated: use on(..., exhaustive=...)")
            exhaustive = exhaustive or bool(strict)
        if isinstance(endpoint, str) and endpoint not in self.routes and ("/" in endpoint):
            endpoint = self.endpoint_of_path(endpoint)
        if endpoint is not None and endpoint not in self.routes:
            close = difflib.get_close_matches(str(endpoint), list(self.routes), n=3, cutoff=0.75)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ScriptError(f"unknown endpoint {endpoint!r}{hint}; endpoints: {', '.join(sorted(self.routes))}")
        if model is not None and (not isinstance(model, str) or not model):
            raise ScriptError(f"on(): model must be a model id, got {model!r}")
        if message is not None and not isinstance(message, (str, re.Pattern)):
            raise ScriptError(f"on(): message must be a substring or a compiled regex, got {message!r}")
        if stream is not None and not isinstance(stream, bool):
            raise ScriptError(f"on(): stream must be True, False or None, got {stream!r}")
        if match is not None and not callable(match):
            raise ScriptError(f"on(): match must be a callable taking the captured request, got {match!r}")
        if not isinstance(exhaustive, bool):
            raise ScriptError(f"on(): exhaustive must be True or False, got {exhaustive!r}")
        if stream and endpoint is not None and not self.routes[endpoint].streams:
            raise ScriptError(f"on(): {endpoint} never streams, stream=True would match nothing")
        with self.lock:
            self._count += 1
            script = Script(self, endpoint, model=model, message=message, stream=stream, match=match, exhaustive=exhaustive, name=f"script_{self._count}")
            self._scripts.append(script)
        return script

    def endpoint_of_path(self, path: str) -> str:
        """The endpoint a URL path routes to: ``"/v1/chat/completions"`` -> ``"chat.completions.create"``.

        The path may start with the HTTP method (``"GET /v1/chat/completions"``), and name ids
        literally (``/v1/files/file-abc``) or as the template (``/v1/files/{file_id}``). Without a
        method, a path shared by several endpoints means the one that answers with model replies
        (``POST``), if exactly one does; otherwise the method must be given.
        """
        __tracebackhide__ = True
        method, _, rest = path.strip().partition(" ")
        if rest and method.isalpha():
            method, path = method.upper(), rest.strip()
        else:
            method, path = "", path.strip()
        path = path.split("?", 1)[0].rstrip("/") or "/"
        candidates = [path]
        for prefix in (r"/openai/deployments/[^/]+", r"/openai/v1", r"/openai", r"/v1"):
            stripped = re.sub(f"^{prefix}(?=/)", "", path)
            if stripped != path:
                candidates.append(stripped)
        found = [
            route for route in self.routes.values()
            if (not method or route.method == method) and any(_path_pattern(route.path).fullmatch(c) for c in candidates)
        ]
        if len(found) == 1:
            return found[0].endpoint
        if found:
            # A literal segment beats a template one (``/files/search`` over ``/files/{file_id}``).
            exact = [r for r in found if any(r.path == c for c in candidates)]
            if len(exact) == 1:
                return exact[0].endpoint
            # Without a method, the endpoint a model answers (``POST /v1/chat/completions``, not
            # the stored-completions list at ``GET``) is the one a script means.
            answering = [r for r in (exact or found) if r.replies]
            if not method and len(answering) == 1:
                return answering[0].endpoint
            names = " or ".join(f"{r.endpoint} ({r.method})" for r in sorted(found, key=lambda r: r.endpoint))
            raise ScriptError(f"path {path!r} is {names}: name the endpoint, or give the method, e.g. on(\"{found[0].method} {path}\")")
        raise ScriptError(f"no endpoint has the path {path!r}{' for ' + method if method else ''}; name the endpoint, e.g. on(\"chat.completions.create\")")

    def check(self, endpoint: str | None, outcome: Outcome, *, stream: bool | None = None) -> Outcome:
        """``outcome`` if every endpoint the script may answer can give it, else ``ScriptError``.

        ``stream``: the script's ``stream=`` (``True``: every call it answers streams).
        """
        __tracebackhide__ = True
        routes = [self.routes[endpoint]] if endpoint is not None else []
        for route in routes:
            check_outcome(outcome, route, stream=stream)
        if endpoint is None and outcome.kind in ("reply", "patch"):
            raise ScriptError(
                f"{outcome.reply!r} fits only some endpoints: name the endpoint, e.g. on(\"chat.completions.create\"); "
                "error(...), drop(), raw(...) and delays work with on() for any endpoint"
            )
        return outcome

    def choose(self, call: Call, request: Callable[[], CapturedRequest]) -> Chosen:
        """The script answering ``call`` and its outcome; no outcome for an exhaustive one with nothing left;
        neither when no script answers.

        Called holding ``lock``. A ``match=`` predicate runs with the lock released, so a slow one
        holds up no other call; a script removed meanwhile (``clear()``, a reset) answers nothing.
        Replies are taken under the lock, so concurrent calls never get the same ``once`` reply.
        """
        released = False  # once the lock was let go, scripts may have been removed meanwhile
        for script in list(self._scripts):
            if released and not any(s is script for s in self._scripts):
                continue
            if not script._matches_statically(call):
                continue
            if script.match is not None:
                captured = request()
                with unlocked(self.lock):
                    wanted = bool(script.match(captured))
                released = True
                if not wanted or not any(s is script for s in self._scripts):
                    continue
            outcome = script._take()
            if outcome is not None:
                return Chosen(script, outcome, script._last_once)
            if script.exhaustive:
                return Chosen(script, None)
        return Chosen(None, None)

    def unconsumed(self) -> list[Script]:
        return [s for s in self._scripts if s.pending]

    def exhaustive_unconsumed(self) -> list[Script]:
        """Exhaustive scripts with ``once`` replies left, or a ``respond`` reply no call matched."""
        return [s for s in self._scripts if s.exhaustive and s.leftover() is not None]

    strict_unconsumed = exhaustive_unconsumed  # the name before exhaustive= (deprecated)

    def assert_all_consumed(self) -> None:
        """Raise ``AssertionError`` naming every script with ``once`` replies never used."""
        left = self.unconsumed()
        if left:
            lines = "\n".join(f"  {s!r}: {s.pending} left: {s._queue}" for s in left)
            raise AssertionError(f"{len(left)} script(s) not fully consumed:\n{lines}")

    def remove(self, script: Script) -> None:
        with self.lock:
            self._scripts = [s for s in self._scripts if s is not script]

    def clear(self) -> None:
        with self.lock:
            self._scripts = []
            self._count = 0


def _path_pattern(template: str) -> re.Pattern[str]:
    """A route template (``/files/<file_id>``) as a regex matching a literal path or the template
    written with braces (``/files/{file_id}``)."""
    pattern = _PATH_PATTERNS.get(template)
    if pattern is None:
        parts = re.split(r"<(?:[^:<>]+:)?[^<>]+>", template)
        pattern = _PATH_PATTERNS[template] = re.compile("[^/]+".join(re.escape(p) for p in parts))
    return pattern


_PATH_PATTERNS: dict[str, re.Pattern[str]] = {}


def warn_deprecated(message: str) -> None:
    """A ``DeprecationWarning`` pointing at the first caller outside this package (the user's line)."""
    import os
    import sys
    import warnings

    package = os.path.dirname(os.path.abspath(__file__))
    level, frame = 2, sys._getframe(1)
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)).startswith(package):
        level, frame = level + 1, frame.f_back  # type: ignore[assignment]
    warnings.warn(message, DeprecationWarning, stacklevel=level)


# -- the JSON form (HTTP and marker) ----------------------------------------------------------


def outcome_spec(outcome: Outcome) -> Any:
    """An outcome as JSON, in the form ``outcome_from_spec`` reads (``GET /__fake/scripts``). A reply
    function, which has no JSON form, is ``{"function": "<its name>"}``."""
    spec: Any
    if outcome.kind == "default":
        spec = {"default": True}
    elif outcome.kind == "reply":
        reply = outcome.reply
        if isinstance(reply, str):
            spec = reply
        elif isinstance(reply, Failure):
            spec = {"failed": {"message": reply.message, "code": reply.code}}
        else:
            turn = reply if isinstance(reply, Message) else Message(tool_calls=(reply,))
            spec = {key: value for key, value in turn.to_data().items() if value not in (None, [])}
            if turn.tool_calls:
                spec["tool_calls"] = [
                    {key: value for key, value in call.to_data().items() if value is not None and (key, value) != ("type", "function")}
                    for call in turn.tool_calls
                ]
    elif outcome.kind == "patch":
        spec = {"patch": outcome.reply}
    elif outcome.kind == "raw":
        spec = {"json": outcome.reply, "status": outcome.status, "headers": dict(outcome.headers)}
    elif outcome.kind == "drop":
        spec = {"drop": True}
    elif outcome.kind == "call":
        spec = {"function": getattr(outcome.reply, "__qualname__", None) or type(outcome.reply).__name__}
    else:  # "fault"
        spec = {"error": _fault_spec(outcome.fault)} if outcome.fault is not None else {"default": True}
    if outcome.error_after is not None and outcome.fault is not None:
        inner = replace(outcome, error_after=None, fault=None, delay=0.0, first_chunk=0.0, per_chunk=0.0)
        spec = {"stream_error": outcome.error_after, "error": _fault_spec(outcome.fault), "reply": outcome_spec(inner)}
    elif outcome.cut_after is not None:
        spec = {"cut_stream": outcome.cut_after, "reply": outcome_spec(replace(outcome, cut_after=None, delay=0.0, first_chunk=0.0, per_chunk=0.0))}
    delay = {key: value for key, value in (("seconds", outcome.delay), ("first_chunk", outcome.first_chunk), ("per_chunk", outcome.per_chunk)) if value}
    if delay:
        spec = {"delay": delay, "reply": spec}
    return spec


def _fault_spec(fault: Fault) -> dict[str, Any]:
    spec = {key: value for key, value in dataclasses.asdict(fault).items() if value is not None and key != "headers"}
    if fault.headers:
        spec["headers"] = dict(fault.headers)
    return spec


def outcome_from_spec(spec: Any) -> Outcome:
    """An outcome from its JSON form, as ``POST /__fake/scripts`` takes it.

    ``"text"`` | ``{"content", "tool_calls": [{"name", "arguments", "id"?}], "refusal", "finish_reason"}``
    | ``{"error": {"status", "message", "type", "code", "param", "retry_after", "should_retry", "headers"}}``
    | ``{"failed": true | {"message", "code"}}`` (Responses) | ``{"drop": true}`` | ``{"default": true}`` | ``{"patch": {...}}`` | ``{"json": ..., "status", "headers"}``
    | ``{"cut_stream": N, "reply": spec}`` | ``{"stream_error": N, "error": {...}, "reply": spec}``
    | ``{"delay": {"seconds", "first_chunk", "per_chunk"}, "reply": spec}``.
    """
    if isinstance(spec, str):
        return to_outcome(spec)
    if not isinstance(spec, dict):
        raise ScriptError(f"a reply must be a string or an object, got {json.dumps(spec)}")
    inner = outcome_from_spec(spec["reply"]) if "reply" in spec else DEFAULT
    if "delay" in spec:
        delay = spec["delay"]
        if isinstance(delay, (int, float)):
            delay = {"seconds": delay}
        if not isinstance(delay, dict) or set(delay) - {"seconds", "first_chunk", "per_chunk"}:
            raise ScriptError('"delay" must be a number or {"seconds", "first_chunk", "per_chunk"}')
        base = outcome_from_spec({k: v for k, v in spec.items() if k != "delay"}) if set(spec) - {"delay", "reply"} else inner
        return delayed(base, **delay)
    if "cut_stream" in spec:
        return cut_stream(spec["cut_stream"], inner)
    if "stream_error" in spec:
        fault = spec.get("error") or {}
        if not isinstance(fault, dict):
            raise ScriptError('"error" must be an object')
        allowed = {"message", "type", "code", "status"}
        if set(fault) - allowed:
            raise ScriptError(f'stream_error "error" takes {sorted(allowed)}')
        return stream_error(spec["stream_error"], inner, **fault)
    if "error" in spec:
        fault = spec["error"]
        if not isinstance(fault, dict):
            raise ScriptError('"error" must be an object with "status" and optional message, type, code, ...')
        try:
            return error(**fault)
        except TypeError as exc:
            raise ScriptError(f'"error": {exc}') from None
    if "failed" in spec:
        failure = spec["failed"]
        if failure is True:
            failure = {}
        if not isinstance(failure, dict) or set(failure) - {"message", "code"}:
            raise ScriptError('"failed" must be true or {"message", "code"}')
        return Outcome(kind="reply", reply=failed(**failure))
    if spec.get("drop") is True:
        return drop()
    if spec.get("default") is True:
        return DEFAULT
    if "patch" in spec:
        if not isinstance(spec["patch"], dict):
            raise ScriptError('"patch" must be an object')
        return Outcome(kind="patch", reply=spec["patch"])
    if "json" in spec:
        return raw(spec["json"], status=spec.get("status", 200), headers=spec.get("headers"))
    message_keys = {"content", "tool_calls", "refusal", "finish_reason"}
    if spec and set(spec) <= message_keys:
        calls = spec.get("tool_calls") or []
        if not isinstance(calls, list):
            raise ScriptError('"tool_calls" must be a list')
        built = []
        for item in calls:
            if not isinstance(item, dict) or "name" not in item:
                raise ScriptError('each tool call needs {"name": ..., "arguments": {...}}')
            if item.get("type") == "custom":
                built.append(custom_tool_call(item["name"], item.get("input", ""), id=item.get("id")))
            else:
                built.append(tool_call(item["name"], item.get("arguments"), id=item.get("id")))
        return Outcome(
            kind="reply",
            reply=message(spec.get("content"), tool_calls=built, refusal=spec.get("refusal"), finish_reason=spec.get("finish_reason")),
        )
    raise ScriptError(f"cannot read reply {json.dumps(spec)[:200]}: see outcome_from_spec for the accepted forms")


def script_from_spec(scripts: Scripts, spec: Any) -> Script:
    """Install a script from ``{"endpoint", "model", "message", "message_regex", "stream", "exhaustive",
    "once": [...], "respond": ..., "delay": {...}}``."""
    if not isinstance(spec, dict):
        raise ScriptError("the body must be a JSON object")
    allowed = {"endpoint", "model", "message", "message_regex", "stream", "exhaustive", "strict", "once", "respond", "delay"}
    unknown = set(spec) - allowed
    if unknown:
        raise ScriptError(f"unknown keys {sorted(unknown)}; a script takes {sorted(allowed)}")
    if spec.get("message") is not None and spec.get("message_regex") is not None:
        raise ScriptError('give "message" or "message_regex", not both')
    message: str | Pattern[str] | None = spec.get("message")
    if spec.get("message_regex") is not None:
        try:
            message = re.compile(spec["message_regex"])
        except (re.error, TypeError) as exc:
            raise ScriptError(f'"message_regex" is not a regex: {exc}') from None
    exhaustive = spec.get("exhaustive", spec.get("strict", False))  # "strict": the deprecated key
    if not isinstance(exhaustive, bool):
        raise ScriptError('"exhaustive" must be true or false')
    once = spec.get("once") or []
    if not isinstance(once, list):
        raise ScriptError('"once" must be a list of replies')
    # Build every outcome before installing anything: a bad spec installs nothing.
    endpoint = spec.get("endpoint")
    outcomes = [scripts.check(endpoint, outcome_from_spec(item)) for item in once] if endpoint in scripts.routes or endpoint is None else []
    always = outcome_from_spec(spec["respond"]) if "respond" in spec else None
    script = scripts.on(endpoint, model=spec.get("model"), message=message, stream=spec.get("stream"), exhaustive=exhaustive)
    try:
        if outcomes:
            script.once(*outcomes)
        if always is not None:
            script.respond(always)
        if "delay" in spec:
            delay = spec["delay"]
            if not isinstance(delay, dict):
                raise ScriptError('"delay" must be {"seconds", "first_chunk", "per_chunk"}')
            script.delay(**delay)
    except (ScriptError, TypeError) as exc:
        scripts.remove(script)
        raise ScriptError(str(exc)) from None
    return script
