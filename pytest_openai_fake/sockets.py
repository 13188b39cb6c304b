"""WebSocket endpoints of the fake: the upgrade's checks, the request log, the session's thread.

``FakeApp`` hands an upgradable request here (``server.WebSocketUpgrade`` in the environ). It is
refused over HTTP exactly as an HTTP call would be (Host, route, credentials: the envelope and
status of ``errors``), else accepted and served in the connection's thread until either side
closes it or the test ends (``FakeApp.reset`` closes every socket with 1001).

The request log gets one entry for the connect (``GET``, status 101, endpoint
``realtime.connect``) and one per client event (method ``WS``, the event's JSON as the body,
endpoint ``realtime.<event type>``).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import threading
import traceback
from typing import TYPE_CHECKING, Any

from . import errors
from .capture import CapturedRequest
from werkzeug.test import EnvironBuilder

from .realtime import IDLE_TIMEOUT, EventError, Hooks, RealtimeSession, Scripted
from .routing import FakeRequest as FakeRequestType
from .server import WebSocket, WebSocketClosed
from .routing import Route
from .scripting import DEFAULT, Call, Message, ScriptError, ToolCall, check_outcome, message, to_outcome

if TYPE_CHECKING:
    from werkzeug.wrappers import Response

    from .app import FakeApp, Reply
    from .routing import FakeRequest
    from .server import WebSocketUpgrade

__all__ = ["RESPONSE_CREATE", "routes", "serve"]

#: The endpoint scripts answer realtime responses on: ``on("realtime.response.create")``.
RESPONSE_CREATE = "realtime.response.create"


def _no_http(ctx: Any) -> Any:  # pragma: no cover - the route has no URL rule
    raise errors.unknown_url("GET", ctx.request.path)


def routes(base_path: str) -> dict[str, Route]:
    """The socket endpoints scripts may name (no URL rule: they are reached through the socket)."""
    if "<" in base_path:  # a deployment path (Azure): no realtime socket here
        return {}
    return {RESPONSE_CREATE: Route("WS", f"{base_path}/realtime", RESPONSE_CREATE, _no_http, frozenset({"text", "message"}), True, None)}


def _scripted(app: FakeApp, cancel: threading.Event, captured: CapturedRequest | None, model: str) -> Scripted | None:
    """The scripted outcome of a ``response.create`` (``None``: the fake answers on its own)."""
    if not app.scripts or captured is None:
        return None
    body = captured.json if isinstance(captured.json, dict) else {}
    with app.lock:
        if cancel.is_set():
            return None
        chosen = app.scripts.choose(Call(RESPONSE_CREATE, body, True), lambda: captured)
        script, outcome = chosen.script, chosen.outcome
        if script is None:
            return None
        script.calls.append(captured)
    if outcome is None:
        raise ScriptError(f"{script!r} is strict and has no replies left for this call (call {script.call_count})")
    if outcome.kind == "call":
        produced = outcome.reply(captured)
        timing = outcome
        outcome = DEFAULT if produced is None else to_outcome(produced)
        if not (outcome.delay or outcome.per_chunk or outcome.first_chunk):
            outcome = dataclasses.replace(outcome, delay=timing.delay, per_chunk=timing.per_chunk, first_chunk=timing.first_chunk)
    route = app.routes[RESPONSE_CREATE]
    check_outcome(outcome, route, stream=True)
    if outcome.kind in ("patch", "raw", "call"):
        raise ScriptError(f"{RESPONSE_CREATE} answers with text, tool_call(...), message(...), error(...) or drop(), not {outcome!r}")
    result = Scripted(delay=outcome.delay + outcome.first_chunk, pace=outcome.per_chunk or None)
    if outcome.kind == "fault":
        assert outcome.fault is not None
        fault = outcome.fault.render(model)
        result.error = EventError(fault.message, param=fault.param, code=fault.error_code, type_=fault.type)
    elif outcome.kind == "drop" or outcome.cut_after is not None:
        result.drop_after = outcome.cut_after if outcome.cut_after is not None else 2
    if outcome.kind == "reply":
        reply = outcome.reply
        if isinstance(reply, str):
            result.turn = {"text": reply}
        elif isinstance(reply, (ToolCall, Message)):
            data = (message(tool_calls=[reply]) if isinstance(reply, ToolCall) else reply).to_data()
            if data["tool_calls"]:
                result.turn = {"calls": [{"name": c["name"], "arguments": c["arguments"], "call_id": c["id"]} for c in data["tool_calls"]]}
            else:
                result.turn = {"text": data["content"] or data["refusal"] or ""}
    if outcome.error_after is not None and outcome.fault is not None:
        fault = outcome.fault.render(model)
        result.error_after = (outcome.error_after, EventError(fault.message, param=fault.param, code=fault.error_code, type_=fault.type))
        result.error = None
    return result


def serve(app: FakeApp, request: FakeRequest, upgrade: WebSocketUpgrade) -> Response | Reply:
    from .app import HOST_NOT_ALLOWED, Problem

    if not app._host_allowed(request.environ):
        return app._error(errors.OpenAIError(421, HOST_NOT_ALLOWED.format(host=request.environ.get("HTTP_HOST", "")), code="host_not_allowed"))
    with app.lock:
        cancel, ids = app._cancel, app.ids
    base = app.provider.base_path
    if "<" not in base and request.path == f"{base}/responses":
        return _serve_responses(app, request, upgrade, cancel)
    if "<" in base or request.path != f"{base}/realtime":
        with app.lock:
            if not cancel.is_set():
                app.problems.append(Problem("no-route", f"pytest-openai-fake serves no WebSocket at {request.path}"))
        return app._error(errors.unknown_url("GET", request.path))
    log = _Log(app, request, cancel)
    try:
        app._authenticate(request)
        model = request.args.get("model")
        if request.args.get("intent") == "transcription":
            raise errors.OpenAIError(
                400, "pytest-openai-fake does not emulate realtime transcription sessions (intent=transcription) yet.",
                param="intent", code="unsupported_value",
            )
        if not model and not request.args.get("call_id"):
            raise errors.missing_required("model")
    except errors.OpenAIError as exc:
        reply = app._error(exc)
        log.entry("GET", "realtime.connect", b"", reply.status_code)
        return reply
    model = model or "gpt-realtime"
    try:
        app.state.models.require(model)
        model_error: str | None = None
    except errors.OpenAIError as exc:
        # The API opens the socket and fails each response (``response.done``, ``status: failed``).
        model_error = exc.message
    ws = upgrade.accept()
    with app.lock:
        current = not cancel.is_set()
        if current:
            app._sockets.add(ws)
    if not current:
        ws.close(1001, "the test ended")
        return _empty()
    log.entry("GET", "realtime.connect", b"", 101)
    hooks = Hooks(
        next_id=ids.next,
        now=app.clock.now,
        log_event=lambda endpoint, body: log.entry("WS", endpoint, body, 101),
        problem=log.problem,
        decide=lambda captured: _scripted(app, cancel, captured, model),
    )
    session = RealtimeSession(ws, model, hooks)
    session.model_error = model_error
    try:
        session.run()
    except Exception as exc:  # a bug in the fake: fail the test, tell the client (1011)
        log.problem(f"pytest-openai-fake raised while serving the realtime socket: {exc!r}", "".join(traceback.format_exception(exc)))
        ws.close(1011, f"internal error: {type(exc).__name__}")
    finally:
        with app.lock:
            app._sockets.discard(ws)
    return _empty()


def _empty() -> Reply:
    from .app import Reply

    return Reply(101, b"", [])


class _Log:
    """Writes a socket's entries into the request log while its test runs."""

    def __init__(self, app: FakeApp, request: FakeRequest, cancel: threading.Event) -> None:
        self.app = app
        self.cancel = cancel
        self.path = request.path
        self.query = dict(request.args.items())
        self.headers = app._captured_headers(request.environ)

    def entry(self, method: str, endpoint: str, body: bytes, status: int) -> Any:
        app = self.app
        with app.lock:
            if self.cancel.is_set():
                return None
            captured = CapturedRequest(
                method=method, path=self.path, query=self.query, headers=self.headers, body=body,
                endpoint=endpoint, status=status, index=len(app.requests),
            )
            app.requests.append(captured)
            return captured

    def problem(self, summary: str, detail: str = "") -> None:
        from .app import Problem

        with self.app.lock:
            if not self.cancel.is_set():
                self.app.problems.append(Problem("exception", summary, detail))


# -- the persistent Responses socket (client.beta.responses.connect()) ---------------------------

#: Endpoint names of the Responses socket in the request log.
RESPONSES_CONNECT = "beta.responses.connect"


@functools.lru_cache(maxsize=1)
def _responses_event_adapter() -> Any:
    from openai.types.beta.beta_responses_server_event import BetaResponsesServerEvent
    from pydantic import TypeAdapter

    return TypeAdapter(BetaResponsesServerEvent)


def _serve_responses(app: FakeApp, request: FakeRequest, upgrade: WebSocketUpgrade, cancel: threading.Event) -> Response | Reply:
    """``response.create`` over one socket: each one is answered by the fake's own
    ``POST /responses`` with ``stream: true`` (same state, scripts, faults and log entry as
    ``responses.create``), its SSE events sent as WebSocket messages tagged with ``stream_id``."""
    log = _Log(app, request, cancel)
    try:
        app._authenticate(request)
    except errors.OpenAIError as exc:
        reply = app._error(exc)
        log.entry("GET", RESPONSES_CONNECT, b"", reply.status_code)
        return reply
    ws = upgrade.accept()
    with app.lock:
        current = not cancel.is_set()
        if current:
            app._sockets.add(ws)
    if not current:
        ws.close(1001, "the test ended")
        return _empty()
    log.entry("GET", RESPONSES_CONNECT, b"", 101)
    try:
        while True:
            message = ws.receive(IDLE_TIMEOUT)
            if message is None:
                ws.close(1001, "idle timeout")
                break
            _responses_event(app, request, ws, log, message)
    except WebSocketClosed:
        pass
    except Exception as exc:  # a bug in the fake: fail the test, tell the client (1011)
        log.problem(f"pytest-openai-fake raised while serving the Responses socket: {exc!r}", "".join(traceback.format_exception(exc)))
        ws.close(1011, f"internal error: {type(exc).__name__}")
    finally:
        with app.lock:
            app._sockets.discard(ws)
    return _empty()


def _send_responses_event(ws: WebSocket, event: dict[str, Any]) -> None:
    _responses_event_adapter().validate_python(event)  # a bug in the fake if the SDK cannot parse it
    ws.send_text(json.dumps(event, separators=(",", ":"), ensure_ascii=False))


def _ws_error(ws: WebSocket, status: int, error: dict[str, Any], stream_id: str | None) -> None:
    event: dict[str, Any] = {"type": "error", "status": status, "error": {k: error.get(k) for k in ("type", "code", "message", "param")}}
    if stream_id is not None:
        event["stream_id"] = stream_id
    _send_responses_event(ws, event)


def _responses_event(app: FakeApp, request: FakeRequest, ws: WebSocket, log: _Log, message: str | bytes) -> None:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    try:
        event = json.loads(text)
    except ValueError:
        event = None
    if not isinstance(event, dict):
        log.entry("WS", "beta.responses.invalid", text.encode(), 101)
        _ws_error(ws, 400, errors.invalid_json().to_api()["error"], None)
        return
    kind = event.get("type")
    stream_id = event.get("stream_id") if isinstance(event.get("stream_id"), str) else None
    log.entry("WS", f"beta.responses.{kind}" if isinstance(kind, str) else "beta.responses.invalid", text.encode(), 101)
    if kind in ("response.steer", "response.inject"):
        message_text = f"pytest-openai-fake does not emulate {kind} yet."
        _ws_error(ws, 400, {"type": "invalid_request_error", "code": "unsupported_value", "message": message_text, "param": "type"}, stream_id)
        return
    if kind != "response.create":
        shown = kind if isinstance(kind, str) else json.dumps(kind)
        message_text = f"Invalid value: '{shown}'. Supported values are: 'response.create', 'response.steer' and 'response.inject'."
        _ws_error(ws, 400, {"type": "invalid_request_error", "code": "invalid_value", "message": message_text, "param": "type"}, stream_id)
        return
    body = {key: value for key, value in event.items() if key not in ("type", "stream_id")}
    if body.get("background"):
        _ws_error(ws, 400, errors.bad_request("background is not supported over WebSocket.", param="background").to_api()["error"], stream_id)
        return
    body["stream"] = True
    headers = {key: value for key, value in request.headers.items() if key.lower() in ("authorization", "openai-organization", "openai-project")}
    builder = EnvironBuilder(
        path=request.path, method="POST", data=json.dumps(body), content_type="application/json", headers=headers,
        environ_base={"SERVER_NAME": request.environ.get("SERVER_NAME", "127.0.0.1"), "SERVER_PORT": request.environ.get("SERVER_PORT", "80"), "HTTP_HOST": request.environ.get("HTTP_HOST", "127.0.0.1")},
    )
    environ = builder.get_environ()
    status: list[int] = []

    def start_response(line: str, headers: Any, exc_info: Any = None) -> None:
        status.append(int(line[:3]))

    try:
        response = app.dispatch(FakeRequestType(environ))
        chunks = response(environ, start_response)
        try:
            data = b"".join(_iter_chunks(chunks, ws, stream_id, status))
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
    except errors.DropConnection:
        ws.abort()  # a scripted drop() or cut_stream(): the socket goes, as the HTTP connection would
        raise WebSocketClosed(1006, "scripted drop") from None
    if status and status[0] >= 400:
        try:
            error = json.loads(data)["error"]
        except (ValueError, KeyError, TypeError):
            error = {"type": "server_error", "code": None, "message": data.decode("utf-8", "replace"), "param": None}
        _ws_error(ws, status[0], error, stream_id)


def _iter_chunks(chunks: Any, ws: WebSocket, stream_id: str | None, status: list[int]) -> Any:
    """Forward each SSE event of a streamed reply as a message; yield an error reply's body."""
    buffer = b""
    for chunk in chunks:
        if status and status[0] >= 400:
            yield chunk
            continue
        buffer += chunk
        while b"\n\n" in buffer:
            frame, buffer = buffer.split(b"\n\n", 1)
            data = b"\n".join(line[5:].lstrip() for line in frame.split(b"\n") if line.startswith(b"data:"))
            if not data or data == b"[DONE]":
                continue
            event = json.loads(data)
            if "error" in event and "type" not in event:  # a scripted mid-stream error
                _ws_error(ws, 500, event["error"], stream_id)
                continue
            if stream_id is not None:
                event["stream_id"] = stream_id
            _send_responses_event(ws, event)
