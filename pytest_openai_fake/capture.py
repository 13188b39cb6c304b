"""The request log: immutable copies of every API request the fake answered."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Sequence, overload

if TYPE_CHECKING:
    from .scripting import Script

__all__ = ["CapturedRequest", "CapturedResponse", "RequestLog", "StreamSummary"]

_NO_JSON = object()
_UNSET: Any = object()

#: How long a quoted text or argument list may get in one-line summaries.
SHORT = 80


@dataclass(frozen=True)
class CapturedResponse:
    """What the fake answered one request with: status, headers, and the body or a stream's summary.

    Cheap to make: it keeps references to what was sent (the JSON bytes, the stream's SSE frames)
    and parses them only when asked. Binary bodies (audio, images) are not kept: ``content_type``
    and ``size`` say what they were. ``status`` 0 means the connection was dropped (``drop()``).

    - ``json``: the parsed JSON body (``None`` for streams, binary data and drops);
    - ``stream``: for a streamed reply, a ``StreamSummary`` of what was sent (text, tool calls,
      finish reason, error event, whether the stream was cut), else ``None``;
    - ``text``: the assistant text of the reply (streamed or not), if it has one;
    - ``error``: the error envelope's ``{"message", "type", "param", "code"}``, plain or mid-stream.
    """

    status: int
    raw_headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    content_type: str = ""
    size: int | None = None
    _body: bytes | None = field(default=None, repr=False, compare=False)
    _parts: tuple[bytes, ...] | None = field(default=None, repr=False, compare=False)
    _frames: tuple[bytes, ...] | None = field(default=None, repr=False, compare=False)
    _stream_end: tuple[int | None, str, Any] | None = field(default=None, repr=False, compare=False)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def of(cls, response: Any, outcome: Any = None) -> CapturedResponse:
        """Capture a reply the app built (its ``Reply`` or a werkzeug ``Response``), and the
        scripted outcome's cut or error event for a stream. Keeps references, copies nothing."""
        status = response.status_code
        body = getattr(response, "body", None)
        if isinstance(body, bytes):  # the app's own Reply: headers are a list of pairs
            headers = tuple(response.headers)
            content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
            json_body = content_type.startswith("application/json")
            return cls(status, headers, content_type, len(body), body if json_body else None)
        headers = tuple(response.headers.items())
        content_type = response.headers.get("Content-Type", "")
        frames = getattr(response, "frames", None)
        if frames is not None:
            end = None
            if outcome is not None and (outcome.cut_after is not None or outcome.error_after is not None):
                if outcome.cut_after is not None:
                    end = (outcome.cut_after, "cut", None)
                else:
                    end = (outcome.error_after, "error", outcome.fault.render(None).to_api()["error"])
            return cls(status, headers, content_type, None, _frames=tuple(frames), _stream_end=end)
        parts = response.response if isinstance(response.response, (list, tuple)) else None
        size = response.content_length
        if size is None and parts is not None:
            size = sum(len(p) for p in parts)
        if content_type.startswith("application/json") and parts is not None:
            return cls(status, headers, content_type, size, _parts=tuple(parts))
        return cls(status, headers, content_type, size)

    @property
    def headers(self) -> Mapping[str, str]:
        """The reply's headers, lower-case keys."""
        cached = self._cache.get("headers")
        if cached is None:
            cached = self._cache["headers"] = MappingProxyType({k.lower(): v for k, v in self.raw_headers})
        return cached

    @property
    def body(self) -> bytes | None:
        """The JSON body as sent (``None`` for streams, binary data and drops)."""
        if self._body is not None:
            return self._body
        if self._parts is not None:
            return b"".join(self._parts)
        return None

    @property
    def json(self) -> Any:
        cached = self._cache.get("json", _NO_JSON)
        if cached is _NO_JSON:
            body = self.body
            try:
                cached = json.loads(body) if body else None
            except ValueError:
                cached = None
            self._cache["json"] = cached
        return cached

    @property
    def stream(self) -> StreamSummary | None:
        """What a streamed reply sent, summarised from its SSE frames; ``None`` if not streamed."""
        if self._frames is None:
            return None
        cached = self._cache.get("stream")
        if cached is None:
            cached = self._cache["stream"] = _summarise_stream(self._frames, self._stream_end)
        return cached

    @property
    def streamed(self) -> bool:
        return self._frames is not None

    @property
    def frames(self) -> tuple[bytes, ...]:
        """The SSE frames the stream was built from (a cut or error event applied: see ``stream``)."""
        return self._frames or ()

    @property
    def text(self) -> str | None:
        """The assistant's text: of a chat completion, a Responses response or a completion."""
        if self._frames is not None:
            summary = self.stream
            return summary.text if summary is not None and summary.text else None
        return _reply_parts(self.json).text

    @property
    def tool_calls(self) -> list[tuple[str, str]]:
        """``(name, arguments)`` of each tool call the reply made, streamed or not."""
        if self._frames is not None:
            summary = self.stream
            return list(summary.tool_calls) if summary is not None else []
        return _reply_parts(self.json).tool_calls

    @property
    def error(self) -> Mapping[str, Any] | None:
        """The error sent: the envelope of an error reply, or a stream's error event."""
        if self._frames is not None:
            summary = self.stream
            return summary.error if summary is not None else None
        body = self.json
        error = body.get("error") if isinstance(body, dict) else None
        return error if isinstance(error, dict) else None

    def describe(self, width: int = SHORT) -> str:
        """A short form of the answer: text, tool calls with arguments, error type and message."""
        if self.status == 0:
            return "connection dropped (drop())"
        if self._frames is not None:
            summary = self.stream
            assert summary is not None
            return summary.describe(width)
        body = self.json
        if body is None:
            if self.body is not None:
                return f"{_short(self.body.decode('utf-8', 'replace'), width)}"
            size = f", {self.size} bytes" if self.size is not None else ""
            return f"{self.content_type or 'no content type'}{size}" if self.status < 400 else f"{self.status} ({self.content_type or 'no body'})"
        return _describe_json(body, width)

    def full(self) -> str:
        """The whole body as sent, for ``-vv`` reports (a stream: its frames)."""
        if self._frames is not None:
            return b"".join(_sent_frames(self._frames, self._stream_end)).decode("utf-8", "replace").rstrip()
        if self.body is not None:
            return self.body.decode("utf-8", "replace")
        return self.describe()


@dataclass(frozen=True)
class StreamSummary:
    """What a stream sent: the text deltas joined, tool calls, finish reason, an error event, and
    whether the connection was cut (``cut_stream()``)."""

    text: str = ""
    tool_calls: tuple[tuple[str, str], ...] = ()
    finish_reason: str | None = None
    error: Mapping[str, Any] | None = None
    chunks: int = 0
    cut: bool = False

    def describe(self, width: int = SHORT) -> str:
        parts = [f"stream of {self.chunks} chunk{'s' if self.chunks != 1 else ''}"]
        if self.text:
            parts.append(_quote(self.text, width))
        parts.extend(_call_text(name, args, width) for name, args in self.tool_calls)
        if self.finish_reason and self.finish_reason not in ("stop", "tool_calls", "completed"):
            parts.append(f"finish_reason={self.finish_reason}")
        if self.error is not None:
            parts.append(f"then error {_error_text(self.error, width)}")
        if self.cut:
            parts.append("then the connection was cut (cut_stream())")
        return ": ".join(parts[:1]) + (" " + ", ".join(parts[1:]) if len(parts) > 1 else "")


class _Parts:
    __slots__ = ("choices", "finish_reason", "refusal", "text", "tool_calls")

    def __init__(self) -> None:
        self.text: str | None = None
        self.tool_calls: list[tuple[str, str]] = []
        self.refusal: str | None = None
        self.finish_reason: str | None = None
        self.choices = 0


def _reply_parts(body: Any) -> _Parts:
    """Text, tool calls, refusal and finish reason of a chat completion, a Responses response or
    a completion (the first choice)."""
    parts = _Parts()
    if not isinstance(body, dict):
        return parts
    choices = body.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        parts.choices = len(choices)
        first = choices[0]
        parts.finish_reason = first.get("finish_reason")
        message = first.get("message")
        if isinstance(message, dict):
            content = message.get("content")
            parts.text = content if isinstance(content, str) else None
            parts.refusal = message.get("refusal") if isinstance(message.get("refusal"), str) else None
            for call in message.get("tool_calls") or []:
                if isinstance(call, dict):
                    function = call.get("function") or call.get("custom") or {}
                    parts.tool_calls.append((str(function.get("name")), str(function.get("arguments", function.get("input", "")))))
        elif isinstance(first.get("text"), str):
            parts.text = first["text"]
        return parts
    output = body.get("output")
    if body.get("object") == "response" and isinstance(output, list):
        texts = []
        for item in output:
            if not isinstance(item, dict):
                continue
            if item.get("type") == "message":
                for content in item.get("content") or []:
                    if isinstance(content, dict) and content.get("type") == "output_text":
                        texts.append(str(content.get("text", "")))
                    elif isinstance(content, dict) and content.get("type") == "refusal":
                        parts.refusal = str(content.get("refusal", ""))
            elif item.get("type") in ("function_call", "custom_tool_call"):
                parts.tool_calls.append((str(item.get("name")), str(item.get("arguments", item.get("input", "")))))
        parts.text = "".join(texts) if texts else None
        status = body.get("status")
        parts.finish_reason = status if isinstance(status, str) else None
    return parts


def _describe_json(body: Any, width: int) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return _error_text(body["error"], width)
    parts = _reply_parts(body)
    if isinstance(body, dict) and (parts.choices or body.get("object") == "response"):
        out = []
        if parts.text:
            out.append(_quote(parts.text, width))
        if parts.refusal:
            out.append(f"refusal {_quote(parts.refusal, width)}")
        out.extend(_call_text(name, args, width) for name, args in parts.tool_calls)
        if body.get("object") == "response" and isinstance(body.get("error"), dict):
            out.append(f"failed: {_error_text(body['error'], width)}")
        elif parts.finish_reason and parts.finish_reason not in ("stop", "tool_calls", "completed"):
            out.append(f"finish_reason={parts.finish_reason}")
        if parts.choices > 1:
            out.append(f"({parts.choices} choices)")
        return ", ".join(out) if out else "(empty reply)"
    if isinstance(body, dict):
        data = body.get("data")
        if isinstance(data, list):
            first = data[0] if data and isinstance(data[0], dict) else {}
            if first.get("object") == "embedding":
                vector = first.get("embedding")
                shape = f" of {len(vector)} dimensions" if isinstance(vector, list) else " (base64)"
                return f"{len(data)} embedding(s){shape}"
            if "url" in first or "b64_json" in first:
                return f"{len(data)} image(s) ({'url' if first.get('url') else 'b64_json'})"
            kind = first.get("object") or "item"
            return f"list of {len(data)} {kind}(s)" + (", has_more" if body.get("has_more") else "")
        kind, ident = body.get("object"), body.get("id")
        if kind or ident:
            status = body.get("status")
            extra = f" status={status}" if isinstance(status, str) else ""
            return " ".join(str(x) for x in (kind, ident) if x) + extra
    return _short(json.dumps(body, separators=(",", ":"), ensure_ascii=False), width)


def _sent_frames(frames: Sequence[bytes], end: tuple[int | None, str, Any] | None) -> list[bytes]:
    """The frames the client got: a cut or scripted error event stops them (as ``_paced`` does)."""
    if end is None:
        return list(frames)
    stop_at, kind, error_body = end
    sent = []
    for position, frame in enumerate(frames):
        if position == stop_at or frame == b"data: [DONE]\n\n":
            if kind == "error":
                sent.append(("data: " + json.dumps({"error": error_body}) + "\n\n").encode())
            break
        sent.append(frame)
    return sent


def _summarise_stream(frames: Sequence[bytes], end: tuple[int | None, str, Any] | None) -> StreamSummary:
    text: list[str] = []
    calls: dict[Any, list[str]] = {}
    finish: str | None = None
    error: Mapping[str, Any] | None = None
    sent = _sent_frames(frames, end)
    chunks = 0
    final_response: Any = None
    for frame in sent:
        for line in frame.split(b"\n"):
            if not line.startswith(b"data:"):
                continue
            payload = line[5:].strip()
            if payload == b"[DONE]":
                continue
            try:
                data = json.loads(payload)
            except ValueError:
                continue
            if not isinstance(data, dict):
                continue
            if isinstance(data.get("error"), dict) and "choices" not in data and "type" not in data:
                error = data["error"]
                continue
            chunks += 1
            kind = data.get("type")
            if isinstance(kind, str):  # a Responses event
                if kind == "error":
                    error = {k: data.get(k) for k in ("message", "type", "code", "param") if k in data}
                elif kind == "response.output_text.delta":
                    text.append(str(data.get("delta", "")))
                elif kind in ("response.completed", "response.incomplete", "response.failed"):
                    final_response = data.get("response")
                continue
            for choice in data.get("choices") or []:
                if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                    continue
                delta = choice.get("delta")
                if isinstance(delta, dict):
                    if isinstance(delta.get("content"), str):
                        text.append(delta["content"])
                    for call in delta.get("tool_calls") or []:
                        if not isinstance(call, dict):
                            continue
                        entry = calls.setdefault(call.get("index", len(calls)), ["", ""])
                        function = call.get("function") or call.get("custom") or {}
                        entry[0] += function.get("name") or ""
                        entry[1] += function.get("arguments") or function.get("input") or ""
                elif isinstance(choice.get("text"), str):  # completions
                    text.append(choice["text"])
                if choice.get("finish_reason"):
                    finish = choice["finish_reason"]
    tool_calls = tuple((name, args) for name, args in calls.values())
    if final_response is not None:
        parts = _reply_parts(final_response)
        tool_calls = tuple(parts.tool_calls)
        finish = parts.finish_reason
        if isinstance(final_response, dict) and isinstance(final_response.get("error"), dict):
            error = final_response["error"]
        if not text and parts.text:
            text = [parts.text]
    return StreamSummary("".join(text), tool_calls, finish, error, chunks, cut=end is not None and end[1] == "cut")


def _error_text(error: Mapping[str, Any], width: int) -> str:
    kind = error.get("type") or "error"
    code = f" ({error['code']})" if error.get("code") else ""
    return f"{kind}{code}: {_short(str(error.get('message', '')), width)}"


def _call_text(name: str, arguments: str, width: int) -> str:
    return f"{name}({_short(arguments, width)})"


def _quote(text: str, width: int) -> str:
    return json.dumps(_short(text, width), ensure_ascii=False)


def _short(text: str, width: int) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= width else text[: width - 3] + "..."


def describe_request_body(body: Any, raw: bytes, content_type: str = "", width: int = SHORT) -> str:
    """The last message or input of a request (not its first bytes: that is the same system prompt
    every turn), or a short form of other bodies."""
    if not isinstance(body, dict):
        if not raw:
            return ""
        if content_type.startswith("multipart/"):
            return f"multipart upload, {len(raw)} bytes"
        if body is None:
            return f"{content_type or 'body'}, {len(raw)} bytes"
        return _short(json.dumps(body, ensure_ascii=False), width)
    messages = body.get("messages")
    if isinstance(messages, list) and messages:
        return _describe_item(messages[-1], width) + (f"  ({len(messages)} messages)" if len(messages) > 1 else "")
    for key in ("input", "prompt"):
        value = body.get(key)
        if isinstance(value, str):
            return f"{key}: {_quote(value, width)}"
        if isinstance(value, list) and value:
            last = value[-1]
            count = f"  ({len(value)} items)" if len(value) > 1 else ""
            if isinstance(last, str):
                return f"{key}: {_quote(last, width)}{count}"
            if isinstance(last, dict):
                return _describe_item(last, width) + count
            return f"{key}: {_short(json.dumps(value), width)}"
    rest = {k: v for k, v in body.items() if k not in ("model", "stream")}
    return _short(json.dumps(rest, separators=(",", ":"), ensure_ascii=False), width) if rest else ""


def _describe_item(item: Any, width: int) -> str:
    """One chat message or Responses input item."""
    if not isinstance(item, dict):
        return _short(json.dumps(item, ensure_ascii=False), width)
    kind = item.get("type")
    if kind in ("function_call_output", "custom_tool_call_output"):
        return f"{kind} [{item.get('call_id')}]: {_short(_plain(item.get('output')), width)}"
    if kind in ("function_call", "custom_tool_call"):
        return f"{kind} {_call_text(str(item.get('name')), str(item.get('arguments', item.get('input', ''))), width)}"
    role = item.get("role")
    content = _plain(item.get("content"))
    if role == "tool":
        return f"tool [{item.get('tool_call_id')}]: {_short(content, width)}"
    calls = [c for c in item.get("tool_calls") or [] if isinstance(c, dict)]
    if calls:
        names = ", ".join(_call_text(str((c.get("function") or {}).get("name")), str((c.get("function") or {}).get("arguments", "")), width // 2) for c in calls)
        return f"{role}: tool calls {names}"
    if role is not None:
        return f"{role}: {_quote(content, width)}"
    return f"{kind or 'item'}: {_short(json.dumps(item, ensure_ascii=False), width)}"


def _plain(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, dict):
                if isinstance(part.get("text"), str):
                    texts.append(part["text"])
                else:
                    texts.append(f"[{part.get('type', 'part')}]")
        return " ".join(texts)
    return "" if content is None else json.dumps(content, ensure_ascii=False)


@dataclass(frozen=True)
class CapturedRequest:
    """One request as the fake saw it, and what it answered.

    ``headers`` keys are lower-case. ``json`` is the parsed body, or ``None`` when the body was
    empty or not JSON (``body`` always has the raw bytes). ``response`` is what the fake sent
    (``CapturedResponse``: status, headers, body or stream summary); ``script`` the script that
    answered the call, ``None`` when the fake answered on its own.
    """

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    endpoint: str | None
    status: int
    index: int = 0
    response: CapturedResponse | None = field(default=None, repr=False, compare=False)
    script: Script | None = field(default=None, repr=False, compare=False)
    #: The id of the batch that ran this request (a line of its input file), ``None`` for a
    #: request a client sent.
    batch_id: str | None = field(default=None, compare=False)
    #: Who answered when no script did: ``"cassette <name> #<n>"`` (replayed) or ``"recorded into
    #: cassette <name> #<n>"`` (forwarded upstream); None for the fake's own answer.
    origin: str | None = field(default=None, repr=False, compare=False)
    _json: Any = field(default=_NO_JSON, repr=False, compare=False)

    @property
    def json(self) -> Any:
        if self._json is _NO_JSON:
            try:
                parsed = json.loads(self.body) if self.body.strip() else None
            except ValueError:
                parsed = None
            object.__setattr__(self, "_json", parsed)
        return self._json

    @property
    def model(self) -> str | None:
        body = self.json
        model = body.get("model") if isinstance(body, dict) else None
        return model if isinstance(model, str) else None

    @property
    def stream(self) -> bool:
        body = self.json
        return bool(isinstance(body, dict) and body.get("stream"))

    @property
    def answered_by(self) -> str:
        """``"default"`` (the fake's own answer) or the name of the script that answered."""
        return "default" if self.script is None else self.script.name

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able view, as served by ``GET /__fake/requests``."""
        body = self.json
        response = self.response
        return {
            "index": self.index,
            "method": self.method,
            "path": self.path,
            "query": dict(self.query),
            "headers": dict(self.headers),
            "endpoint": self.endpoint,
            "status": self.status,
            "batch_id": self.batch_id,
            "json": body,
            "body": None if body is not None else self.body.decode("utf-8", "replace"),
            "script": None if self.script is None else self.script.name,
            "response": None if response is None else {
                "status": response.status,
                "headers": dict(response.headers),
                "json": response.json,
                "summary": response.describe(),
            },
        }

    def describe_request(self, width: int = SHORT) -> str:
        """The request's last message or input (see ``describe_request_body``)."""
        return describe_request_body(self.json, self.body, self.headers.get("content-type", ""), width)

    def summary(self, width: int = 120) -> str:
        """One line: ``POST /v1/chat/completions model=gpt-4o -> 200 user: "Hi" => "Hello!"``."""
        model = f" model={self.model}" if self.model else ""
        said = self.describe_request(width // 2)
        answered = f" => {self.response.describe(width // 2)}" if self.response is not None else ""
        return f"{self.method} {self.path}{model} -> {self.status} {said}{answered}".rstrip()


class RequestLog(Sequence[CapturedRequest]):
    """A thread-safe, list-like log of captured requests.

    ``log.last``, ``log[0]``, ``len(log)``, iteration, ``log.filter(endpoint=..., path=...)``,
    ``log.clear()``.
    """

    def __init__(self, items: Sequence[CapturedRequest] = ()) -> None:
        self._items: list[CapturedRequest] = list(items)
        self._lock = threading.Lock()

    def append(self, request: CapturedRequest) -> None:
        with self._lock:
            self._items.append(request)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def snapshot(self) -> list[CapturedRequest]:
        with self._lock:
            return list(self._items)

    @property
    def last(self) -> CapturedRequest:
        with self._lock:
            if not self._items:
                raise IndexError("no OpenAI requests were captured")
            return self._items[-1]

    @property
    def first(self) -> CapturedRequest:
        with self._lock:
            if not self._items:
                raise IndexError("no OpenAI requests were captured")
            return self._items[0]

    def filter(
        self,
        predicate: Callable[[CapturedRequest], bool] | None = None,
        *,
        endpoint: str | None = None,
        path: str | re.Pattern[str] | None = None,
        method: str | None = None,
        model: str | None = None,
        status: int | None = None,
    ) -> RequestLog:
        """The requests matching every given condition, as a new (detached) log.

        ``path`` is an exact path, or a compiled regex searched in the path.
        """

        def keep(request: CapturedRequest) -> bool:
            if endpoint is not None and request.endpoint != endpoint:
                return False
            if method is not None and request.method != method.upper():
                return False
            if isinstance(path, re.Pattern):
                if not path.search(request.path):
                    return False
            elif path is not None and request.path != path:
                return False
            if model is not None and request.model != model:
                return False
            if status is not None and request.status != status:
                return False
            return predicate is None or predicate(request)

        return RequestLog([r for r in self.snapshot() if keep(r)])

    @property
    def endpoints(self) -> list[str | None]:
        """The endpoint name of each request, in order: handy for asserting a call sequence."""
        return [r.endpoint for r in self.snapshot()]

    @overload
    def __getitem__(self, index: int) -> CapturedRequest: ...

    @overload
    def __getitem__(self, index: slice) -> list[CapturedRequest]: ...

    def __getitem__(self, index: int | slice) -> CapturedRequest | list[CapturedRequest]:
        with self._lock:
            return self._items[index]

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __iter__(self) -> Iterator[CapturedRequest]:
        return iter(self.snapshot())

    def __bool__(self) -> bool:
        return len(self) > 0

    def __repr__(self) -> str:
        return f"RequestLog({len(self)} requests)"


def headers_from_environ(environ: Mapping[str, Any]) -> Mapping[str, str]:
    """The request's headers, lower-case keys, read straight from the WSGI environ."""
    headers = {key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")}
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = environ[key]
    return MappingProxyType(headers)
