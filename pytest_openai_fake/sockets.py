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
import threading
import traceback
from typing import TYPE_CHECKING, Any

from . import errors
from .capture import CapturedRequest
from .realtime import EventError, Hooks, RealtimeSession, Scripted, TranscriptionSession
from .routing import Route
from .scripting import DEFAULT, Call, Message, ScriptError, ToolCall, check_outcome, message, to_outcome
from .server import WebSocketClosed
from .translation import TranslationSession, translation_available

if TYPE_CHECKING:
    from collections.abc import Callable

    from werkzeug.wrappers import Response

    from .app import FakeApp, Reply
    from .routing import FakeRequest
    from .server import WebSocket, WebSocketUpgrade

__all__ = ["RESPONSE_CREATE", "routes", "serve"]

#: The endpoint scripts answer realtime responses on: ``on("realtime.response.create")``.
RESPONSE_CREATE = "realtime.response.create"
#: The connect of a translation socket in the request log.
TRANSLATIONS_CONNECT = "realtime.translations.connect"


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
        from . import responses_socket

        return responses_socket.serve(app, request, upgrade, cancel)
    # Translation sockets exist where the installed SDK has them (openai 2.x has not: docs/versions.md).
    translations = request.path == f"{base}/realtime/translations" and translation_available()
    if "<" in base or (request.path != f"{base}/realtime" and not translations):
        with app.lock:
            if not cancel.is_set():
                app.problems.append(Problem("no-route", f"pytest-openai-fake serves no WebSocket at {request.path}"))
        return app._error(errors.unknown_url("GET", request.path))
    connect = TRANSLATIONS_CONNECT if translations else "realtime.connect"
    log = _Log(app, request, cancel)
    try:
        app._authenticate(request)
        model = request.args.get("model")
        intent = None if translations else request.args.get("intent")
        if intent is not None and intent != "transcription":
            raise errors.OpenAIError(400, f"Invalid value: '{intent}'. Supported values are: 'transcription'.", param="intent", code="invalid_value")
        if not model and (translations or (not request.args.get("call_id") and intent is None)):
            raise errors.missing_required("model")
    except errors.OpenAIError as exc:
        reply = app._error(exc)
        log.entry("GET", connect, b"", reply.status_code)
        return reply
    model = model or "gpt-realtime"
    model_error: str | None = None
    if not translations:  # the SDK names no translation model: any is taken
        try:
            app.state.models.require(model)
        except errors.OpenAIError as exc:
            # The API opens the socket and fails each response (``response.done``, ``status: failed``).
            model_error = exc.message
    hooks = Hooks(
        next_id=ids.next,
        now=app.clock.now,
        log_event=lambda endpoint, body: log.entry("WS", endpoint, body, 101),
        problem=log.problem,
        decide=lambda captured: _scripted(app, cancel, captured, model),
    )
    kind = TranslationSession if translations else TranscriptionSession if intent == "transcription" else RealtimeSession

    def run(ws: WebSocket) -> None:
        session = kind(ws, model, hooks)
        session.model_error = model_error
        session.run()

    return accept(app, upgrade, cancel, log, connect, run)


def accept(app: FakeApp, upgrade: WebSocketUpgrade, cancel: threading.Event, log: _Log, connect: str, run: Callable[[WebSocket], None]) -> Reply:
    """Accept the upgrade, log the connect (101) and serve the socket with ``run`` in this thread
    until it closes; the socket is closed with the test (``FakeApp.reset``), a bug in the fake
    fails the test and closes the socket with 1011."""
    ws = upgrade.accept()
    with app.lock:
        current = not cancel.is_set()
        if current:
            app._sockets.add(ws)
    if not current:
        ws.close(1001, "the test ended")
        return _empty()
    log.entry("GET", connect, b"", 101)
    try:
        run(ws)
    except WebSocketClosed:
        pass
    except Exception as exc:  # noqa: BLE001 - a bug in the fake: fail the test, tell the client (1011)
        log.problem(f"pytest-openai-fake raised while serving the socket {connect}: {exc!r}", "".join(traceback.format_exception(exc)))
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
