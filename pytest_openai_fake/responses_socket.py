"""The persistent Responses socket (``client.beta.responses.connect()``): ``response.create``,
``response.steer`` and ``response.inject`` over one WebSocket.

Each ``response.create`` is answered by the fake's own ``POST /responses`` with ``stream: true``
(same state, scripts, faults and log entry as ``responses.create``); its SSE events are sent as
messages, tagged with the event's ``stream_id``. The events are paced (``EVENT_PACE`` apart) and
the socket reads what the client sends in between, so ``response.steer`` can reach a response in
progress; a ``response.create`` that arrives meanwhile waits its turn (FIFO).

Steering follows the SDK's types (``BetaResponseSteerEvent`` and the ``response.steer.*``
events): a valid steer for a response in progress on this socket is ``response.steer.accepted``
(the input is queued); when that response completes, an automatic successor (the response's
settings, ``previous_response_id`` = the steered response, ``input`` = the queued input) is
created on the same lane, and its ``response.created`` commits the input. A response that stops
on client-owned tool calls (function calls, ...) keeps the input queued and sends
``response.steer.pending`` with the ``required_input`` stubs after ``response.completed``; the
client's next ``response.create`` with that ``previous_response_id`` gets the queued input
prepended to its own. Refusals are ``response.steer.failed`` with the input handed back. The fake
never cuts a response short for a steer (the API may end it ``incomplete``, reason ``steered``;
letting it finish first is the API's other documented path).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from werkzeug.test import EnvironBuilder

from . import errors, params
from .realtime import EVENT_PACE, IDLE_TIMEOUT
from .resources.responses import SOCKET_MEMORY
from .routing import FakeRequest as FakeRequestType
from .server import WebSocket, WebSocketClosed

if TYPE_CHECKING:
    from werkzeug.wrappers import Response

    from .app import FakeApp, Reply
    from .routing import FakeRequest
    from .server import WebSocketUpgrade
    from .sockets import _Log

__all__ = ["RESPONSES_CONNECT", "ResponsesSocket", "serve"]

#: Endpoint name of the Responses socket's connect in the request log.
RESPONSES_CONNECT = "beta.responses.connect"
#: Prefix of a steering submission's id (the API's prefix is not documented: unverified).
STEER_PREFIX = "steer_"
#: Output items a response stops on for client-owned output, and the ``required_input`` stub
#: type ``response.steer.pending`` names for each.
REQUIRED_OUTPUT = {
    "function_call": "function_call_output",
    "custom_tool_call": "custom_tool_call_output",
    "computer_call": "computer_call_output",
    "shell_call": "shell_call_output",
    "apply_patch_call": "apply_patch_call_output",
    "mcp_approval_request": "mcp_approval_response",
}
_TERMINAL = {"response.completed": "completed", "response.failed": "failed", "response.incomplete": "incomplete"}


@functools.lru_cache(maxsize=1)
def _server_event_adapter() -> Any:
    """The SDK's server event union, or None when the installed SDK types an earlier protocol of
    this socket (openai 2.x: error events without ``status``, no lanes, no steering): the fake
    then sends the API's current events unchecked (docs/versions.md)."""
    from openai.types.beta import beta_responses_server_event as module
    from pydantic import TypeAdapter

    if not hasattr(module, "BetaResponseWsError"):
        return None
    return TypeAdapter(module.BetaResponsesServerEvent)


def _check(event: dict[str, Any]) -> None:
    """Raise (pydantic's ValueError) if the installed SDK cannot parse ``event``."""
    adapter = _server_event_adapter()
    if adapter is not None:
        adapter.validate_python(event)


@functools.lru_cache(maxsize=1)
def _client_params() -> dict[str, type]:
    """The SDK's params types of ``response.steer`` and ``response.inject``, where it has them
    (openai 2.x has neither)."""
    import importlib

    found: dict[str, type] = {}
    for kind, module, name in (
        ("response.steer", "beta_response_steer_event_param", "BetaResponseSteerEventParam"),
        ("response.inject", "beta_response_inject_event_param", "BetaResponseInjectEventParam"),
    ):
        try:
            found[kind] = getattr(importlib.import_module(f"openai.types.beta.{module}"), name)
        except (ImportError, AttributeError):
            continue
    return found


def serve(app: FakeApp, request: FakeRequest, upgrade: WebSocketUpgrade, cancel: threading.Event) -> Response | Reply:
    """Authenticate the upgrade like an HTTP call, accept it and serve the socket until it closes."""
    from .sockets import _Log, accept

    log = _Log(app, request, cancel)
    try:
        app._authenticate(request)
    except errors.OpenAIError as exc:
        reply = app._error(exc)
        log.entry("GET", RESPONSES_CONNECT, b"", reply.status_code)
        return reply
    return accept(app, upgrade, cancel, log, RESPONSES_CONNECT, lambda ws: ResponsesSocket(app, request, ws, log).run())


@dataclasses.dataclass
class _Target:
    """A response created on this socket, as steering sees it."""

    id: str
    body: dict[str, Any]  # the request it was made from: a successor inherits its settings
    stream_id: str | None
    unsteerable: str | None  # why it cannot be steered, or None
    status: str = "in_progress"  # then its final status, or "waiting" (stopped on client-owned calls)
    seq: int = 0  # the next sequence number of its events on this socket
    steers: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # accepted, not committed
    required: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    reported: set[str] = dataclasses.field(default_factory=set)  # steers already reported pending


class _Lane:
    """The socket's memory as ``responses.create_response`` sees it for one request: any lane's
    latest response can be continued (a new lane may fork from another); the new one becomes its
    lane's latest."""

    def __init__(self, latest: dict[str | None, tuple[str, list[dict[str, Any]]]], stream_id: str | None) -> None:
        self.latest, self.stream_id = latest, stream_id

    def find(self, response_id: str) -> list[dict[str, Any]] | None:
        return next((context for known, context in self.latest.values() if known == response_id), None)

    def remember(self, response_id: str, context: list[dict[str, Any]]) -> None:
        self.latest[self.stream_id] = (response_id, context)


class _Refused(Exception):
    """A create the fake's ``POST /responses`` refused: the HTTP status and the error object."""

    def __init__(self, status: int, error: dict[str, Any]) -> None:
        super().__init__(error.get("message"))
        self.status, self.error = status, error


class ResponsesSocket:
    """One Responses socket: the responses created on it, the one streaming, the queued creates."""

    def __init__(self, app: FakeApp, request: FakeRequest, ws: WebSocket, log: _Log, *, pace: float = EVENT_PACE) -> None:
        self.app, self.request, self.ws, self.log, self.pace = app, request, ws, log, pace
        self.targets: dict[str, _Target] = {}
        self.streaming: _Target | None = None
        self.busy = False  # a response is being sent: creates wait in ``inbox``
        self.inbox: deque[dict[str, Any]] = deque()
        #: The latest response of each lane and its context: ``previous_response_id`` continues it
        #: even with ``store: false`` (WebSocket mode keeps it in the connection's memory).
        self.latest: dict[str | None, tuple[str, list[dict[str, Any]]]] = {}

    # -- the loop ---------------------------------------------------------------------------------

    def run(self) -> None:
        while True:
            if self.inbox:
                self.create(self.inbox.popleft())
                continue
            message = self.ws.receive(IDLE_TIMEOUT)
            if message is None:
                self.ws.close(1001, "idle timeout")
                return
            self.take(message)

    def take(self, message: str | bytes) -> None:
        """Log a client event and answer it (a create that arrives while a response streams waits)."""
        text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
        try:
            event = json.loads(text)
        except ValueError:
            event = None
        if not isinstance(event, dict):
            self.log.entry("WS", "beta.responses.invalid", text.encode(), 101)
            self.error(400, errors.invalid_json().to_api()["error"], None)
            return
        kind = event.get("type")
        stream_id = event.get("stream_id") if isinstance(event.get("stream_id"), str) else None
        self.log.entry("WS", f"beta.responses.{kind}" if isinstance(kind, str) else "beta.responses.invalid", text.encode(), 101)
        if kind == "response.create":
            if self.busy:
                self.inbox.append(event)
            else:
                self.create(event)
        elif kind in ("response.steer", "response.inject") and kind not in _client_params():
            message_text = f"pytest-openai-fake answers '{kind}' only with an openai SDK that types it (openai 3.x); see docs/versions.md."
            self.error(400, {"type": "invalid_request_error", "code": "unsupported_value", "message": message_text, "param": "type"}, stream_id)
        elif kind == "response.steer":
            self.steer(event)
        elif kind == "response.inject":
            self.inject(event)
        else:
            shown = kind if isinstance(kind, str) else json.dumps(kind)
            message_text = f"Invalid value: '{shown}'. Supported values are: 'response.create', 'response.steer' and 'response.inject'."
            self.error(400, {"type": "invalid_request_error", "code": "invalid_value", "message": message_text, "param": "type"}, stream_id)

    def read_for(self, seconds: float) -> None:
        """Pace: read (and answer) client events for ``seconds`` before the next event goes out."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            message = self.ws.receive(remaining)
            if message is None:
                return
            self.take(message)

    # -- sending ----------------------------------------------------------------------------------

    def send(self, event: dict[str, Any]) -> None:
        _check(event)  # a bug in the fake if the SDK cannot parse it
        self.ws.send_text(json.dumps(event, separators=(",", ":"), ensure_ascii=False))

    def error(self, status: int, error: dict[str, Any], stream_id: str | None) -> None:
        event: dict[str, Any] = {"type": "error", "status": status, "error": {k: error.get(k) for k in ("type", "code", "message", "param")}}
        if stream_id is not None:
            event["stream_id"] = stream_id
        self.send(event)

    def send_for(self, target: _Target | None, event: dict[str, Any]) -> None:
        """A steer/inject event: numbered in its target response's sequence, on its lane."""
        event["sequence_number"] = 0
        if target is not None:
            event["sequence_number"] = target.seq
            target.seq += 1
            if target.stream_id is not None:
                event["stream_id"] = target.stream_id
        self.send(event)

    # -- response.create --------------------------------------------------------------------------

    def create(self, event: dict[str, Any]) -> None:
        stream_id = event.get("stream_id") if isinstance(event.get("stream_id"), str) else None
        body = {key: value for key, value in event.items() if key not in ("type", "stream_id")}
        if body.get("background"):
            self.error(400, errors.bad_request("background is not supported over WebSocket.", param="background").to_api()["error"], stream_id)
            return
        if body.get("generate", True) is False:
            # A warm-up (no output, a response id to chain from): not emulated, and said so.
            self.error(400, errors.bad_request("pytest-openai-fake does not emulate generate: false (warm-up) yet.", param="generate", code="unsupported_value").to_api()["error"], stream_id)
            return
        body.pop("generate", None)  # true: a normal response (a socket-only field, not a POST /responses one)
        parent = self.targets.get(body["previous_response_id"]) if isinstance(body.get("previous_response_id"), str) else None
        committing: list[dict[str, Any]] = []
        if parent is not None and parent.status == "waiting":
            # The explicit continuation of a response that stopped on client-owned calls: the queued
            # steering input goes first, in submission order.
            committing = list(parent.steers)
            if committing:
                body["input"] = [*(item for steer in committing for item in _items(steer["input"])), *_items(body.get("input", []))]
        try:
            target = self.stream(body, stream_id, parent, committing)
        except _Refused as refused:
            self.error(refused.status, refused.error, stream_id)
            return
        while target is not None:
            target = self.settle(target)

    def stream(self, body: dict[str, Any], stream_id: str | None, parent: _Target | None, committing: list[dict[str, Any]]) -> _Target | None:
        """Send one response's events; returns its target (``None`` if its stream had no
        ``response.created``), raises ``_Refused`` if ``POST /responses`` refused it."""
        request = {**body, "stream": True}
        target: _Target | None = None
        self.busy = True
        try:
            for event in self.events(request, stream_id):
                if target is None and event.get("type") == "response.created":
                    target = _Target(event["response"]["id"], body, stream_id, _unsteerable(body))
                    self.targets[target.id] = target
                    self.streaming = target
                    if parent is not None:  # the commit point of the steering input it carries
                        parent.steers = [steer for steer in parent.steers if steer not in committing]
                        if parent.status == "waiting":
                            parent.status = "completed"  # continued: no longer waiting
                if target is not None and "sequence_number" in event:
                    event["sequence_number"] = target.seq
                    target.seq += 1
                if stream_id is not None:
                    event["stream_id"] = stream_id
                self.send(event)
                final = _TERMINAL.get(event.get("type", ""))
                if final is not None and target is not None:
                    target.status = final
                    target.required = _required(event["response"].get("output") or [])
                    if final == "completed" and target.required:
                        target.status = "waiting"
                    break
                self.read_for(self.pace)
        finally:
            self.busy = False
            self.streaming = None
        return target

    def events(self, request: dict[str, Any], stream_id: str | None) -> Iterator[dict[str, Any]]:
        """The SSE events of the fake's ``POST /responses`` for ``request``, parsed."""
        headers = {key: value for key, value in self.request.headers.items() if key.lower() in ("authorization", "openai-organization", "openai-project")}
        environ_base = {key: self.request.environ.get(key, default) for key, default in (("SERVER_NAME", "127.0.0.1"), ("SERVER_PORT", "80"), ("HTTP_HOST", "127.0.0.1"))}
        environ = EnvironBuilder(
            path=self.request.path, method="POST", data=json.dumps(request), content_type="application/json",
            headers=headers, environ_base=environ_base,
        ).get_environ()
        environ[SOCKET_MEMORY] = _Lane(self.latest, stream_id)
        status: list[int] = []

        def start_response(line: str, headers: Any, exc_info: Any = None) -> None:
            status.append(int(line[:3]))

        try:
            response = self.app.dispatch(FakeRequestType(environ))
            chunks = response(environ, start_response)
            try:
                buffer = b""
                for chunk in chunks:
                    buffer += chunk
                    if status and status[0] >= 400:
                        continue
                    while b"\n\n" in buffer:
                        frame, buffer = buffer.split(b"\n\n", 1)
                        data = b"\n".join(line[5:].lstrip() for line in frame.split(b"\n") if line.startswith(b"data:"))
                        if not data or data == b"[DONE]":
                            continue
                        event = json.loads(data)
                        if "error" in event and "type" not in event:  # a scripted mid-stream error
                            self.error(500, event["error"], stream_id)
                            continue
                        yield event
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
        except errors.DropConnection:
            self.ws.abort()  # a scripted drop() or cut_stream(): the socket goes, as the HTTP connection would
            raise WebSocketClosed(1006, "scripted drop") from None
        if status and status[0] >= 400:
            try:
                error = json.loads(buffer)["error"]
            except (ValueError, KeyError, TypeError):
                error = {"type": "server_error", "code": None, "message": buffer.decode("utf-8", "replace"), "param": None}
            raise _Refused(status[0], error)

    # -- response.steer -----------------------------------------------------------------------------

    def steer(self, event: dict[str, Any]) -> None:
        submitted = {"previous_response_id": event.get("previous_response_id"), "input": event.get("input")}
        target = self.targets.get(submitted["previous_response_id"]) if isinstance(submitted["previous_response_id"], str) else None
        problem = _steer_problem(event)
        if problem is not None:
            self.steer_failed(target, submitted, "invalid_input", problem)
            return
        if target is None:
            self.steer_failed(None, submitted, "response_not_found", f"Response '{submitted['previous_response_id']}' is not available on this connection.")
            return
        if target.unsteerable is not None:
            self.steer_failed(target, submitted, "steering_not_supported", target.unsteerable)
            return
        if target.status == "completed":
            self.steer_failed(target, submitted, "response_already_completed", f"Response '{target.id}' has already completed and is no longer accepting steering input.")
            return
        if target.status not in ("in_progress", "waiting"):
            self.steer_failed(target, submitted, "response_not_active", f"Response '{target.id}' is {target.status} and is no longer accepting steering input.")
            return
        steer = {"id": self.app.ids.next(STEER_PREFIX), "input": copy.deepcopy(event["input"])}
        target.steers.append(steer)
        self.send_for(target, {"type": "response.steer.accepted", "steer": {"id": steer["id"], "previous_response_id": target.id}})
        if target.status == "waiting":
            self.report_pending(target)

    def steer_failed(self, target: _Target | None, submitted: dict[str, Any], code: str, message: str, steer_id: str | None = None) -> None:
        steer = dict(submitted)
        if steer_id is not None:
            steer["id"] = steer_id
        event = {"type": "response.steer.failed", "steer": steer, "error": {"code": code, "message": message, "type": "invalid_request_error"}}
        try:
            _check({**event, "sequence_number": 0})
        except ValueError:
            # Not even the shape steer.failed hands back (no previous_response_id, input not an
            # input): the API's plain ``error`` event.
            self.error(400, {"type": "invalid_request_error", "code": code, "message": message, "param": "input" if isinstance(submitted["previous_response_id"], str) else "previous_response_id"}, None)
            return
        self.send_for(target, event)

    def report_pending(self, target: _Target) -> None:
        """``response.steer.pending`` once per queued submission of a response waiting for client-owned output."""
        for steer in target.steers:
            if steer["id"] in target.reported:
                continue
            target.reported.add(steer["id"])
            self.send_for(target, {
                "type": "response.steer.pending", "reason": "waiting_for_required_input",
                "required_input": copy.deepcopy(target.required), "steer": {"id": steer["id"], "previous_response_id": target.id},
            })

    def settle(self, target: _Target) -> _Target | None:
        """After a response's last event: its queued steering input goes to an automatic successor
        (returned, to settle in turn), stays pending, or fails."""
        if not target.steers:
            return None
        if target.status == "waiting":
            self.report_pending(target)
            return None
        steers, target.steers = target.steers, []
        if target.status != "completed":
            for steer in steers:
                message = f"Response '{target.id}' ended {target.status}; its steering input was not committed."
                self.steer_failed(target, {"previous_response_id": target.id, "input": steer["input"]}, "response_not_active", message, steer["id"])
            return None
        body = {key: value for key, value in target.body.items() if key not in ("input", "previous_response_id")}
        body["previous_response_id"] = target.id
        body["input"] = [item for steer in steers for item in _items(steer["input"])]
        target.steers = steers  # owned until the successor's response.created commits them
        failure = "The successor response could not be created."
        try:
            successor = self.stream(body, target.stream_id, target, steers)
        except _Refused as refused:
            successor, failure = None, refused.error.get("message") or failure
        for steer in target.steers:  # not committed: handed back
            self.steer_failed(target, {"previous_response_id": target.id, "input": steer["input"]}, "successor_creation_failed", failure, steer["id"])
        target.steers = []
        return successor

    # -- response.inject ----------------------------------------------------------------------------

    def inject(self, event: dict[str, Any]) -> None:
        try:
            params.validate(copy.deepcopy(event), _client_params()["response.inject"])
        except errors.OpenAIError as exc:
            self.error(400, exc.to_api()["error"], None)
            return
        target = self.targets.get(event["response_id"])
        if target is None or target.status == "in_progress":
            code, message = "response_not_found", f"Response '{event['response_id']}' is not available on this connection."
            if target is not None:
                # The fake's responses never wait mid-response for client-owned output (no hosted agent).
                self.error(400, {
                    "type": "invalid_request_error", "code": "invalid_value", "param": "response_id",
                    "message": f"Response '{target.id}' is not waiting for input: pytest-openai-fake's responses never wait for client-owned output mid-response.",
                }, target.stream_id)
                return
        else:
            code, message = "response_already_completed", f"Response '{target.id}' has already completed; send the input with response.create and previous_response_id."
        failed = {"type": "response.inject.failed", "response_id": event["response_id"], "input": copy.deepcopy(list(event["input"])), "error": {"code": code, "message": message}}
        try:
            _check({**failed, "sequence_number": 0})
        except ValueError:
            self.error(400, {"type": "invalid_request_error", "code": code, "message": message, "param": "response_id"}, None)
            return
        self.send_for(target, failed)


def _items(value: Any) -> list[dict[str, Any]]:
    """A request's or steer's input as items (a string is one user message)."""
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": value}]
    return [dict(item, type=item.get("type", "message")) for item in value]


def _unsteerable(body: dict[str, Any]) -> str | None:
    if body.get("conversation") is not None:
        return "Responses bound to a conversation do not support steering."
    if any(isinstance(entry, dict) and entry.get("type") == "compaction" for entry in body.get("context_management") or ()):
        return "Responses using automatic compaction do not support steering."
    if body.get("multi_agent") is not None:
        return "Steering is supported only for single-agent responses."
    return None


def _steer_problem(event: dict[str, Any]) -> str | None:
    """Why a ``response.steer`` event is invalid input (``None``: it is valid)."""
    checked = copy.deepcopy(event)
    if isinstance(checked.get("input"), list):  # the message's ``type`` is optional ("must be message")
        checked["input"] = [dict(item, type=item.get("type", "message")) if isinstance(item, dict) else item for item in checked["input"]]
    try:
        params.validate(checked, _client_params()["response.steer"])
    except errors.OpenAIError as exc:
        return exc.message
    value = event["input"]
    if isinstance(value, str):
        return None if value.strip() else "Invalid 'input': steering input must not be empty."
    if not value:
        return "Invalid 'input': expected a non-empty array of input items."
    for index, item in enumerate(value):
        if item.get("type", "message") != "message":
            return f"Invalid 'input[{index}]': steering accepts only user messages, not '{item.get('type')}' items."
        extra = sorted(set(item) - {"type", "role", "content"})
        if extra:
            return f"Invalid 'input[{index}]': a steering message may contain only 'type', 'role' and 'content', not '{extra[0]}'."
    return None


def _required(output: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``required_input`` stubs for the client-owned calls a response stopped on."""
    stubs = []
    for item in output:
        kind = REQUIRED_OUTPUT.get(item.get("type", ""))
        if kind is None:
            continue
        if kind == "mcp_approval_response":
            stubs.append({"type": kind, "approval_request_id": item["id"]})
        elif kind == "function_call_output":
            stubs.append({"type": kind, "call_id": item["call_id"], "name": item["name"]})
        else:
            stubs.append({"type": kind, "call_id": item["call_id"]})
    return stubs
