"""The WSGI application: one Map from every resource, auth, dispatch under a lock, capture.

Requests under the provider's base path (``/v1``) are API calls: they are authenticated,
dispatched to a resource handler and captured in the request log. Handlers run concurrently; one
``RLock`` guards the shared state: a handler holds it from its first use of the store
(``Ctx.state``) until it returns, scripts are chosen under it, and the log is appended under it
(so log order is commit order). Each call carries its test's ``cancel`` event: a call that
outlives its test (a ``reset()`` came first) writes nothing into the next test. A few paths
outside the base path serve tools (``TOOL_ROUTES``): ``/``, ``/health``, ``/__fake/*`` (and
``/__parlel/*`` in the parlel emulator's shapes). They send no CORS headers, and every request
whose ``Host`` is not a loopback name, the bound address or an allowed name gets a 421.

Problems that mean the fake (or the test) is wrong, not the client, are kept in
``problems``: an exception inside a handler, a request no route matches. The pytest plugin
raises them at the end of the test that caused them.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import threading
import time
import traceback
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping

from pydantic import ValidationError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.routing import Map, RequestRedirect, Rule
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response

from . import __version__, errors, sockets
from .cassette import Cassette
from .capture import CapturedRequest, CapturedResponse, RequestLog, headers_from_environ
from .determinism import Clock, IdSequence
from .providers import Provider, get_provider
from .resources import ALL_RESOURCES
from .server import WEBSOCKET_ENVIRON_KEY, WebSocket, WebSocketUpgrade
from .routing import Ctx, FakeRequest, Resource, Route, bound_root, build_map
from .scripting import (
    DEFAULT,
    NOTHING_CHOSEN,
    Call,
    Chosen,
    Failure,
    Message,
    Outcome,
    Script,
    ScriptError,
    Scripts,
    ToolCall,
    check_outcome,
    merge,
    message,
    script_from_spec,
    to_outcome,
    unlocked,
)
from .state import SharedIds, Store
from .streaming import DONE, error_frame

__all__ = ["TOOL_ROUTES", "FakeApp", "Problem", "Reply", "mask_credential", "routes_of"]

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "*",
    "Access-Control-Expose-Headers": "*",
    "Access-Control-Max-Age": "86400",
}


#: The tool routes outside the API (no auth, not captured, no CORS): method, path, handler name,
#: what it does. ``python -m pytest_openai_fake --help`` lists them from here.
TOOL_ROUTES: tuple[tuple[str, str, str, str], ...] = (
    ("GET", "/health", "health", 'liveness: {"status": "ok"}'),
    ("GET", "/", "index", "service metadata: version, provider, base_url, endpoints"),
    ("GET", "/__fake/requests", "list_requests", "the request log (credentials masked)"),
    ("DELETE", "/__fake/requests", "clear_requests", "empty the request log"),
    ("POST", "/__fake/reset", "reset", "forget everything: state, log, scripts, clock, ids"),
    ("GET", "/__fake/scripts", "list_scripts", "installed scripts, replies as JSON"),
    ("POST", "/__fake/scripts", "add_script", "install a script from JSON"),
    ("DELETE", "/__fake/scripts", "clear_scripts", "remove every script"),
    ("GET", "/__fake/blobs/<path:name>", "blob", "bytes a reply points to (image urls)"),
    ("GET", "/__fake/cassette", "get_cassette", "the cassette in use: path, mode, interactions, unplayed, misses"),
    ("POST", "/__fake/cassette", "use_cassette", 'switch cassettes: {"name": "..."} (needs --cassette-dir)'),
    # The parlel emulator's inspection routes, in its shapes (its docs/openai.md).
    ("GET", "/__parlel/requests", "parlel_list_requests", 'the request log as parlel serves it: {"requests", "count"}'),
    ("DELETE", "/__parlel/requests", "parlel_clear_requests", "empty the request log"),
    ("POST", "/__parlel/reset", "parlel_reset", "forget everything"),
    ("GET", "/__parlel/scripts", "list_scripts", "as /__fake/scripts"),
    ("POST", "/__parlel/scripts", "add_script", "as /__fake/scripts"),
    ("DELETE", "/__parlel/scripts", "clear_scripts", "as /__fake/scripts"),
)


@dataclass(frozen=True)
class Problem:
    """Something a test should hear about: a bug in the fake, or a call it cannot answer."""

    kind: str  # "exception" or "no-route"
    summary: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.summary}\n{self.detail}".rstrip()


class FakeApp:
    """The fake OpenAI API as a WSGI callable. Thread-safe; ``reset()`` empties it."""

    def __init__(
        self,
        provider: Provider,
        resources: Iterable[Resource] = ALL_RESOURCES,
        *,
        allowed_hosts: Iterable[str] = (),
        keep_credentials: bool = False,
    ) -> None:
        self.provider = provider
        #: Host names answered besides loopback and the bound address (see ``_host_allowed``).
        self.allowed_hosts = frozenset(_host_name(h) for h in allowed_hosts)
        #: Keep ``Authorization`` / ``api-key`` in the Python request log (the HTTP log masks always).
        self.keep_credentials = keep_credentials
        #: The PEM file clients trust when the fake serves HTTPS (``GET /`` reports it), else None.
        self.ca_bundle: str | None = None
        self.lock = threading.RLock()
        self.state = Store(provider)
        self.clock = Clock()
        self.ids: IdSequence = SharedIds()
        self.requests = RequestLog()
        self.problems: list[Problem] = []
        self.strict = True
        self.url_map, self.routes = build_map(
            [*resources, *provider.resources], provider.base_path, provider.mounts, provider.endpoints
        )
        self._key_headers = tuple("HTTP_" + h.upper().replace("-", "_") for h in provider.key_headers)
        self._secret_headers = frozenset({"authorization", *(h.lower() for h in provider.key_headers)})
        self.routes.update(sockets.routes(provider.base_path))  # scripts answer socket events too
        self.scripts = Scripts(self.routes, self.lock)
        #: Open WebSockets (closed by ``reset()``).
        self._sockets: set[WebSocket] = set()
        #: The cassette answering calls no script answers (``pytest_openai_fake.cassette``), or None.
        #: Kept across resets: the plugin sets it per test, the standalone server per run.
        self.cassette: Cassette | None = None
        #: The standalone server's cassette settings (``POST /__fake/cassette`` opens one by name).
        self.cassette_opener: Callable[[str], Cassette] | None = None
        # Set when the test ends (reset) or the server stops: every scripted delay ends early.
        self._cancel = threading.Event()
        self._api_prefixes = tuple(p.split("<")[0].rstrip("/") + "/" for p in (provider.base_path, *provider.mounts))
        # Bound once: the API ignores the Host header, and binding per request costs ~50 µs.
        self._adapter = self.url_map.bind("fake.invalid")
        self._tools = Map(
            [Rule(path, endpoint=name, methods=[method]) for method, path, name, _ in TOOL_ROUTES],
            strict_slashes=False,
            merge_slashes=False,  # ``/__fake//requests`` is a 404, as ``/v1//models`` is, not a redirect
        )

    # -- state ---------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything: stored objects, request log, problems, clock, ids, test config."""
        with self.lock:
            self.state.reset()
            self.clock.reset()
            # A new sequence, not a reset one: a call still running from the ended test keeps
            # drawing from the old one and cannot shift the next test's ids.
            self.ids = SharedIds()
            self.requests.clear()
            self.problems.clear()
            self.scripts.clear()
            self.strict = True
            self.cancel_waits()
            sockets, self._sockets = self._sockets, set()
        for ws in sockets:  # the test ended: its sockets close (1001, going away)
            ws.close(1001, "the test ended")

    def cancel_waits(self) -> None:
        """End every scripted delay now; the delayed requests get their connection reset."""
        with self.lock:
            self._cancel.set()
            self._cancel = threading.Event()

    def take_problems(self) -> list[Problem]:
        with self.lock:
            problems, self.problems = self.problems, []
            return problems

    # -- WSGI ----------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = FakeRequest(environ)
        response = self.dispatch(request)
        return response(environ, start_response)

    def dispatch(self, request: FakeRequest) -> Response | Reply:
        upgrade = request.environ.get(WEBSOCKET_ENVIRON_KEY)
        if upgrade is not None:
            return self._socket(request, upgrade)
        if not self._host_allowed(request.environ):
            request.get_data(cache=True)  # always read the body, even when we answer early
            return self._error(errors.OpenAIError(421, HOST_NOT_ALLOWED.format(host=request.environ.get("HTTP_HOST", "")), code="host_not_allowed"))
        is_api = request.path.startswith(self._api_prefixes)
        if request.method == "OPTIONS":
            # CORS is for the API routes only: a web page must not read the log or reset the fake.
            return Reply(204, b"", list(CORS_HEADERS.items()) if is_api else [])
        if not is_api:
            tool = self._match_tool(request)
            if tool is not None:
                return tool
        response, outcome, cancel = self._api_call(request)
        if outcome is not None:
            return self._perform(response, outcome, cancel)
        return response

    def _api_call(self, request: FakeRequest) -> tuple[Response | Reply, Outcome | None, threading.Event]:
        """Answer an API request and log it; the scripted outcome's timing is left to the caller
        (``_perform`` for a client's call; a batch line counts a delay on the fake clock)."""
        started = time.perf_counter()
        request.get_data(cache=True)  # always read the body, even when we answer early
        # The call runs without the lock: routing, parsing, validation and generation overlap with
        # other calls. A handler takes the lock when it first touches the store (``Ctx.state``) and
        # keeps it until it returns; the log is written under it below. ``cancel`` marks this
        # call's test: once a reset sets it, the call writes nothing into the next test.
        with self.lock:
            cancel, ids = self._cancel, self.ids
        problems: list[Problem] = []
        notes: dict[str, str] = {}
        endpoint, response, script, outcome = self._answer(request, cancel, ids, problems, notes)
        with self.lock:
            current = not cancel.is_set()
            request_id = (self.ids if current else ids).next("req_")
            response.headers.extend(
                [
                    ("x-request-id", request_id),
                    ("openai-processing-ms", str(int((time.perf_counter() - started) * 1000))),
                    ("openai-version", self.provider.api_version),
                    ("Access-Control-Allow-Origin", "*"),
                ]
            )
            if current:  # a call that outlived its test is answered, but logged nowhere
                captured = self._capture(
                    request, endpoint, response.status_code, len(self.requests),
                    response=CapturedResponse.of(response, outcome), script=script, origin=notes.get("origin"),
                )
                self.requests.append(captured)
                if script is not None:
                    script.calls.append(captured)
                self.problems.extend(problems)
        return response, outcome, cancel

    def _inline(self, outer: dict[str, Any], method: str, path: str, body: bytes, *, batch_id: str) -> InlineReply:
        """Run ``method path`` with the JSON ``body`` through the app as a client's call would
        run (``Ctx.inline``): a batch's line. It carries the credentials of the call that runs it
        (the batch's retrieve, list or cancel) and is logged with ``batch_id``. A scripted delay
        is not slept: it is returned, for the batch to count on the fake clock; a scripted
        ``drop()`` is the line's 500."""
        environ = EnvironBuilder(path=path, method=method, data=body, content_type="application/json").get_environ()
        for key in ("SERVER_NAME", "SERVER_PORT", "wsgi.url_scheme", "HTTP_AUTHORIZATION", *self._key_headers):
            if key in outer:
                environ[key] = outer[key]
        environ[BATCH_ENVIRON_KEY] = batch_id
        response, outcome, _ = self._api_call(FakeRequest(environ))
        headers = response.headers if isinstance(response, Reply) else response.headers.to_wsgi_list()
        request_id = next((value for name, value in headers if name.lower() == "x-request-id"), "")
        if response.status_code == DROPPED:
            error = errors.server_error("the connection was dropped (scripted drop())").to_api()
            return InlineReply(500, json.dumps(error).encode(), request_id, 0.0)
        data = response.body if isinstance(response, Reply) else b"".join(part.encode() if isinstance(part, str) else bytes(part) for part in response.response)
        return InlineReply(response.status_code, data, request_id, outcome.delay if outcome is not None else 0.0)

    # -- WebSockets ------------------------------------------------------------------------------

    def _socket(self, request: FakeRequest, upgrade: WebSocketUpgrade) -> Response | Reply:
        """A WebSocket upgrade: refused over HTTP like any call (host, route, auth), else served here."""
        return sockets.serve(self, request, upgrade)

    def _capture(
        self,
        request: FakeRequest,
        endpoint: str | None,
        status: int,
        index: int,
        *,
        response: CapturedResponse | None = None,
        script: Script | None = None,
        origin: str | None = None,
    ) -> CapturedRequest:
        """The request as the log keeps it (the one place a CapturedRequest is built), with what
        the fake answered and which script answered it once the call is done."""
        return CapturedRequest(
            method=request.method,
            path=request.path,
            query=dict(request.args.items()) if request.query_string else {},
            headers=self._captured_headers(request.environ),
            body=request.get_data(cache=True),
            endpoint=endpoint,
            status=status,
            index=index,
            response=response,
            script=script,
            batch_id=request.environ.get(BATCH_ENVIRON_KEY),
            origin=origin,
        )

    def _perform(self, response: Response | Reply, outcome: Outcome, cancel: threading.Event) -> Response | Reply:
        """Apply a scripted outcome's timing and transport faults, outside the lock."""
        if outcome.delay and cancel.wait(outcome.delay):
            raise errors.DropConnection("the test ended during a scripted delay")
        if response.status_code == DROPPED:
            raise errors.DropConnection("scripted drop()")
        frames = getattr(response, "frames", None)
        if frames is not None and (outcome.first_chunk or outcome.per_chunk or outcome.cut_after is not None or outcome.error_after is not None):
            response.response = _paced(frames, outcome, cancel, getattr(response, "error_event", error_frame))
        return response

    def _answer(
        self, request: FakeRequest, cancel: threading.Event, ids: IdSequence, problems: list[Problem], notes: dict[str, str]
    ) -> tuple[str | None, Response | Reply, Script | None, Outcome | None]:
        """Route, authenticate, choose a script and run the handler, without the lock: ``_choose``
        takes it, and the handler's first use of the store does (``_enter``). Problems for the
        test go to ``problems``, which ``dispatch`` keeps only if the test is still running."""
        try:
            endpoint, values = self._adapter.match(request.path, request.method)
        except (NotFound, MethodNotAllowed) as exc:
            cassette = self.cassette
            if cassette is not None:  # a recorded path the fake has no route for still replays
                try:
                    self._authenticate(request)
                except errors.OpenAIError as refused:
                    return None, self._error(refused), None, None
                return None, self._from_cassette(cassette, request, None, cancel, notes), None, None
            if isinstance(exc, MethodNotAllowed):
                problems.append(Problem("no-route", f"pytest-openai-fake has no {request.method} route for {request.path}"))
                return None, self._error(errors.method_not_allowed(request.method, request.path, exc.valid_methods or [])), None, None
            problems.append(Problem("no-route", f"pytest-openai-fake has no route for {request.method} {request.path}"))
            return None, self._error(errors.unknown_url(request.method, request.path)), None, None
        route = self.routes[endpoint]
        script: Script | None = None
        outcome: Outcome | None = None
        chosen = NOTHING_CHOSEN
        held: list[bool] = []
        ctx: Ctx | None = None

        def enter() -> None:  # the handler's first use of the store: take the lock until it returns
            self.lock.acquire()
            if cancel.is_set():
                self.lock.release()
                raise errors.DropConnection("the test ended before this call reached the store")
            held.append(True)

        try:
            self._authenticate(request)
            ctx = Ctx(
                request, self.state, self.clock, ids, self.provider, endpoint,
                deployment=values.pop("deployment", None), inline=functools.partial(self._inline, request.environ), _enter=enter,
            )
            # With a cassette, the provider's checks apply only to calls a script answers: the
            # upstream checked what it recorded (an Azure deployment name the fake never heard of).
            cassette = self.cassette
            if self.provider.check is not None and cassette is None:
                self.provider.check(ctx)
                if held:  # the check read the store: let go, so that scripts' user code runs unlocked
                    held.clear()
                    self.lock.release()
                    ctx._enter = enter
            if self.scripts:
                with self.lock:
                    self._check_current(cancel)
                    chosen = self._choose(ctx, request, route, cancel)
                script, outcome = chosen.script, chosen.outcome
            if cassette is not None:
                if outcome is None:  # scripts and faults take precedence over the cassette
                    return endpoint, self._from_cassette(cassette, request, endpoint, cancel, notes), None, None
                if self.provider.check is not None:
                    self.provider.check(ctx)
            result = self._run(ctx, route, values, outcome)
            if not isinstance(result, (Response, Reply)) and self.provider.decorate is not None:
                result = self.provider.decorate(endpoint, result)
        except errors.DropConnection:
            raise
        except errors.OpenAIError as exc:
            if outcome is not None and not exc.scripted:
                # The fake's own checks refused the call (a bad request): no model would have
                # answered it, so a ``once`` reply is kept for the next call, and the script
                # does not count the call.
                chosen.give_back()
                return endpoint, self._error(exc), None, None
            return endpoint, self._error(exc), script, outcome
        except HTTPException as exc:  # werkzeug refused the request itself (e.g. a body it cannot parse)
            return endpoint, self._error(errors.OpenAIError(exc.code or 400, exc.description or exc.name)), script, None
        except _ScriptFailure as exc:  # the test's script can't be followed: fail the test
            problems.append(Problem("script", f"{request.method} {request.path} ({endpoint}): {exc}", exc.detail))
            return endpoint, self._error(errors.server_error(f"script failed: {exc}")), script, None
        except Exception as exc:  # a bug in the fake: answer 500 and fail the test that caused it
            detail = "".join(traceback.format_exception(exc))
            problems.append(Problem("exception", f"pytest-openai-fake raised while answering {request.method} {request.path} ({endpoint}): {exc!r}", detail))
            return endpoint, self._error(errors.server_error(f"{type(exc).__name__}: {exc}")), script, None
        finally:
            if ctx is not None:
                ctx._enter = None  # a use of the store after the handler returned must not lock for good
            if held:
                self.lock.release()
        if isinstance(result, (Response, Reply)):
            return endpoint, result, script, outcome
        return endpoint, Reply.json(result), script, outcome

    def _choose(self, ctx: Ctx, request: FakeRequest, route: Route, cancel: threading.Event) -> Chosen:
        """The script and outcome for this call (callables called); neither for the default.
        Called holding the lock.

        ``match=`` predicates and reply functions run with the lock released (a slow one holds up
        no other call); the request they get is built under it. If the test ended meanwhile
        (``cancel`` is set), the call is dropped: it must not reach the next test's state and log.
        """
        body, _, stream = _facts(ctx)
        pending: list[CapturedRequest] = []

        def captured() -> CapturedRequest:  # built only if a predicate or callable wants it
            if not pending:
                pending.append(self._capture(request, route.endpoint, 0, len(self.requests)))
            return pending[0]

        try:
            chosen = self.scripts.choose(Call(route.endpoint, body, stream), captured)
        except Exception as exc:
            self._check_current(cancel)
            raise _ScriptFailure(f"a match= predicate raised {exc!r}", "".join(traceback.format_exception(exc))) from None
        self._check_current(cancel)
        script, outcome = chosen.script, chosen.outcome
        if script is None:
            return chosen
        if outcome is None:
            raise _ScriptFailure(f"{script!r} is strict and has no replies left for this call (call {script.call_count + 1})")
        if outcome.kind == "call":
            function, argument = outcome.reply, captured()
            try:
                with unlocked(self.lock):
                    produced = function(argument)
            except Exception as exc:
                self._check_current(cancel)
                raise _ScriptFailure(f"{script!r}: the reply function raised {exc!r}", "".join(traceback.format_exception(exc))) from None
            self._check_current(cancel)
            try:
                called = DEFAULT if produced is None else to_outcome(produced)
                if called.kind == "call":
                    raise ScriptError("a reply function must return a reply, not another callable")
                check_outcome(called, route, stream=stream)
            except ScriptError as exc:
                raise _ScriptFailure(f"{script!r}: the reply function returned {produced!r}: {exc}") from None
            # The script's latency applies to what the function returned, unless it set its own.
            timing = {k: getattr(outcome, k) for k in ("delay", "first_chunk", "per_chunk") if getattr(outcome, k)}
            outcome = called if not timing or any(getattr(called, k) for k in timing) else _retime(called, timing)
        elif stream:
            try:
                check_outcome(outcome, route, stream=True)  # a script without stream= met a stream
            except ScriptError as exc:
                raise _ScriptFailure(f"{script!r}: {exc}") from None
        return dataclasses.replace(chosen, outcome=outcome)

    def _from_cassette(self, cassette: Cassette, request: FakeRequest, endpoint: str | None, cancel: threading.Event, notes: dict[str, str]) -> Reply | Response:
        """Answer from the cassette: its recorded interaction, or (recording) the upstream's
        answer, saved. A miss answers with a 500 the SDK does not retry, and is kept on the
        cassette (the plugin fails the test with it)."""
        from .cassette import CassetteMiss, canonical_request, paced, response_parts

        raw = request.get_data(cache=True)
        incoming = canonical_request(request.method, request.path, dict(request.args.items()), headers_from_environ(request.environ), raw)
        played = cassette.play(incoming)
        try:
            if played is not None:
                interaction, number = played
                answer = interaction.response
                notes["origin"] = f"cassette {cassette.name} #{number}"
            elif cassette.recording:
                interaction, answer = cassette.record(incoming, request.query_string.decode("latin-1"), raw)
                notes["origin"] = f"recorded into cassette {cassette.name} #{len(cassette.interactions)}"
            else:
                raise CassetteMiss(cassette.miss(incoming))
        except CassetteMiss as exc:
            return Reply.json(
                {"error": {"message": str(exc), "type": "cassette_miss", "param": None, "code": "cassette_miss"}},
                status=500,
                headers=[("x-should-retry", "false")],
            )
        if endpoint is not None:
            self._remember(endpoint, incoming, interaction.response)
        status, headers, body, frames = response_parts(answer)
        if frames is None:
            assert body is not None
            kept = [(k, v) for k, v in headers if k.lower() != "content-length"]
            return Reply(status, body, [*kept, ("Content-Length", str(len(body)))])
        sse = [frame for _, frame in frames]
        stream: Iterable[bytes] = iter(sse)
        if cassette.recorder.timing == "recorded":
            stream = paced(frames, cancel.wait)
        response = Response(stream, status=status, headers=headers, direct_passthrough=True)
        response.frames = sse  # type: ignore[attr-defined]  # for the request log's stream summary
        return response

    def _remember(self, endpoint: str, request: dict[str, Any], response: dict[str, Any]) -> None:
        """Keep what a replayed answer created where later calls look for it: a
        ``responses.create`` answer can be continued with ``previous_response_id``."""
        if endpoint != "responses.create" or int(response.get("status", 0)) != 200:
            return
        from .resources.responses import remember_response

        created = response.get("json")
        if created is None and "events" in response:  # a stream: its response.completed event
            for event in response["events"]:
                data = next((line[5:].strip() for line in event.get("data", "").splitlines() if line.startswith("data:")), "")
                try:
                    parsed = json.loads(data) if data else None
                except ValueError:
                    continue
                if isinstance(parsed, dict) and parsed.get("type") == "response.completed":
                    created = parsed.get("response")
        body = request.get("json")
        if isinstance(created, dict) and isinstance(body, dict):
            with self.lock:
                remember_response(self.state, self.ids, body, created)

    @staticmethod
    def _check_current(cancel: threading.Event) -> None:
        if cancel.is_set():
            raise errors.DropConnection("the test ended while a reply function or match= predicate ran")

    def _run(self, ctx: Ctx, route: Route, values: dict[str, Any], outcome: Outcome | None) -> Any:
        """Answer with the handler, shaped by the scripted outcome (if any)."""
        if outcome is None or outcome.kind == "default" and outcome.error_after is None and outcome.cut_after is None:
            return route.handler(ctx, **values)
        _, model, stream = _facts(ctx)
        if outcome.kind == "fault" or (outcome.error_after is not None and not stream):
            assert outcome.fault is not None
            fault = outcome.fault.render(model)
            fault.scripted = True
            raise fault
        if outcome.kind == "drop" or (outcome.cut_after is not None and not stream):
            return Reply(DROPPED, b"", [])
        if outcome.kind == "raw":
            return Reply.json(outcome.reply, status=outcome.status, headers=outcome.headers)
        if outcome.kind == "reply":
            ctx.reply = self._reply_data(outcome.reply)
        result = route.handler(ctx, **values)
        if outcome.kind == "patch":
            if not isinstance(result, dict):
                raise _ScriptFailure(
                    f"a dict reply is merged into the JSON response, but this call is answered with a stream or "
                    f"binary data: script a reply for {route.endpoint} with on(..., stream=False), or use raw(...)"
                )
            result = merge(result, outcome.reply)
            if route.response is not None:
                try:
                    route.response.model_validate(result)
                except ValidationError as exc:
                    raise _ScriptFailure(f"the dict reply makes an invalid {route.response.__name__}: {exc}") from None
        return result

    @staticmethod
    def _reply_data(reply: Any) -> dict[str, Any]:
        """A scripted reply as the plain data handlers read (``Ctx.reply``); a tool call without
        an ``id`` keeps ``None``, for the handler to give each choice a fresh one."""
        if isinstance(reply, str):
            reply = message(reply)
        elif isinstance(reply, ToolCall):
            reply = message(tool_calls=[reply])
        assert isinstance(reply, (Message, Failure))
        return reply.to_data()

    def _authenticate(self, request: FakeRequest) -> None:
        header = request.environ.get("HTTP_AUTHORIZATION", "").strip()
        if not header and any(request.environ.get(key, "").strip() for key in self._key_headers):
            return  # a provider's own key header (Azure's ``api-key``)
        if not header:
            raise errors.missing_api_key()
        scheme, _, credential = header.partition(" ")
        if scheme.lower() != "bearer":
            raise errors.invalid_api_key(header)
        if not credential.strip():
            raise errors.missing_api_key()

    def _error(self, exc: errors.OpenAIError) -> Reply:
        status, body = exc.code or 500, exc.to_api()
        if self.provider.render_error is not None:
            status, body = self.provider.render_error(exc)
        return Reply.json(body, status=status, headers=exc.extra_headers.items())

    # -- tool endpoints (not captured, no auth) ------------------------------------------------

    def _match_tool(self, request: FakeRequest) -> Reply | None:
        adapter = self._tools.bind_to_environ(request.environ)
        try:
            name, values = adapter.match()
        except MethodNotAllowed as exc:
            return self._error(errors.method_not_allowed(request.method, request.path, exc.valid_methods or []))
        except (NotFound, RequestRedirect):
            if request.path.startswith(("/__fake/", "/__parlel/")):
                return self._error(errors.unknown_url(request.method, request.path))
            return None
        request.get_data(cache=True)
        if name == "blob":
            return self._blob(values["name"])
        try:
            payload = _TOOL_HANDLERS[name](self, request)
        except ScriptError as exc:
            return self._error(errors.bad_request(str(exc)))
        return Reply.json(payload)

    def _blob(self, name: str) -> Reply:
        with self.lock:
            blob = self.state.blobs.get(name)
        if blob is None:
            return self._error(errors.not_found(f"No blob named {name!r}. Blobs live until the next reset."))
        headers = [("Content-Type", blob.content_type), ("Content-Length", str(len(blob.data)))]
        return Reply(200, blob.data, headers)

    def _list_requests(self, _: FakeRequest) -> dict[str, Any]:
        return {"object": "list", "data": [self._served(r.to_dict()) for r in self.requests]}

    def _parlel_clear_requests(self, request: FakeRequest) -> dict[str, Any]:
        return {"ok": True, "count": 0, "deleted": self._clear_requests(request)["count"]}

    def _parlel_reset(self, request: FakeRequest) -> dict[str, Any]:
        return {"ok": True, **self._reset_over_http(request)}

    def _list_scripts(self, _: FakeRequest) -> dict[str, Any]:
        return {"object": "list", "data": [sc.describe() for sc in self.scripts]}

    def _get_cassette(self, _: FakeRequest) -> dict[str, Any]:
        cassette = self.cassette
        if cassette is None:
            return {"object": "cassette", "name": None}
        return {
            "object": "cassette",
            "name": cassette.name,
            "path": str(cassette.path),
            "mode": cassette.recorder.mode,
            "recording": cassette.recording,
            "interactions": len(cassette.interactions),
            "recorded": cassette.recorded,
            "unplayed": [{"number": n, "request": i.describe()} for n, i in cassette.unplayed()],
            "misses": list(cassette.misses),
        }

    def _use_cassette(self, request: FakeRequest) -> dict[str, Any]:
        from .cassette import CassetteError

        if self.cassette_opener is None:
            raise ScriptError("this server has no cassettes: start it with --cassette-dir DIR (and --record-mode, --upstream)")
        try:
            spec = json.loads(request.get_data(cache=True) or b"null")
        except ValueError:
            spec = None
        name = spec.get("name") if isinstance(spec, dict) else None
        if not isinstance(name, str) or not name.strip() or "/" in name or "\\" in name or name.startswith("."):
            raise ScriptError('the body must be {"name": "<cassette name>"}: a file name, no directories')
        try:
            opened = self.cassette_opener(name)
        except CassetteError as exc:
            raise ScriptError(str(exc)) from None
        previous, self.cassette = self.cassette, opened
        if previous is not None:
            previous.close()
        return self._get_cassette(request)

    def _health(self, _: FakeRequest) -> dict[str, Any]:
        return {"status": "ok"}

    def _add_script(self, request: FakeRequest) -> dict[str, Any]:
        try:
            spec = json.loads(request.get_data(cache=True) or b"null")
        except ValueError:
            raise ScriptError("the body must be a JSON object describing the script") from None
        script = script_from_spec(self.scripts, spec)
        return {"object": "script", **script.describe()}

    def _clear_scripts(self, _: FakeRequest) -> dict[str, Any]:
        count = len(self.scripts)
        self.scripts.clear()
        return {"deleted": True, "count": count}

    def _clear_requests(self, _: FakeRequest) -> dict[str, Any]:
        count = len(self.requests)
        self.requests.clear()
        return {"deleted": True, "count": count}

    def _reset_over_http(self, _: FakeRequest) -> dict[str, Any]:
        self.reset()
        return {"status": "ok", "reset": True}

    def _index(self, request: FakeRequest) -> dict[str, Any]:
        root = bound_root(request.environ).rstrip("/")
        return {
            "service": "pytest-openai-fake",
            "version": __version__,
            "provider": self.provider.name,
            "base_url": root + self.provider.base_path,
            **({"ca_bundle": self.ca_bundle} if self.ca_bundle is not None else {}),
            "endpoints": sorted(self.routes),
            "tools": {
                "requests": f"{root}/__fake/requests",
                "reset": f"{root}/__fake/reset",
                "scripts": f"{root}/__fake/scripts",
                "health": f"{root}/health",
            },
        }


    # -- security: Host names, credentials -----------------------------------------------------

    def _host_allowed(self, environ: dict[str, Any]) -> bool:
        """Loopback names, the bound address and ``allowed_hosts`` are answered; any other Host
        (a DNS-rebinding page's ``evil.example``) is refused. No Host (HTTP/1.0) is allowed."""
        host = environ.get("HTTP_HOST")
        if not host:
            return True
        name = _host_name(host)
        return name in LOOPBACK_NAMES or name == _host_name(environ.get("SERVER_NAME", "")) or name in self.allowed_hosts

    def _captured_headers(self, environ: dict[str, Any]) -> Mapping[str, str]:
        headers = headers_from_environ(environ)
        return headers if self.keep_credentials else self._masked(headers)

    def _masked(self, headers: Mapping[str, str]) -> Mapping[str, str]:
        """Credentials shown as the API's 401 message shows a key: ``Bearer sk-****...abcd``."""
        if not self._secret_headers.intersection(headers):
            return headers
        return MappingProxyType({key: mask_credential(value) if key in self._secret_headers else value for key, value in headers.items()})

    def _served(self, entry: dict[str, Any]) -> dict[str, Any]:
        """A log entry as served over HTTP: credentials always masked."""
        entry["headers"] = dict(self._masked(entry["headers"]))
        return entry

    def _parlel_requests(self, _: FakeRequest) -> dict[str, Any]:
        """``GET /__parlel/requests`` in the parlel emulator's shape: ``{"requests": [...], "count"}``,
        each entry with its ``n`` (from 1), ``kind``, ``method``, ``path``, ``headers`` and
        ``body`` (the parsed JSON, else the text)."""
        entries = []
        for captured in self.requests:
            body = captured.json
            entries.append(
                {
                    "n": captured.index + 1,
                    "kind": _PARLEL_KINDS.get(captured.endpoint or "", captured.endpoint),
                    "method": captured.method,
                    "path": captured.path,
                    "headers": dict(self._masked(captured.headers)),
                    "body": body if body is not None else captured.body.decode("utf-8", "replace"),
                    "endpoint": captured.endpoint,
                    "status": captured.status,
                }
            )
        return {"requests": entries, "count": len(entries)}


#: Host names always answered: the loopback names a local client may use.
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})

HOST_NOT_ALLOWED = (
    "pytest-openai-fake does not answer requests for Host '{host}': only 127.0.0.1, localhost, [::1] and "
    "the address it is bound to are served (a guard against DNS rebinding). Allow other names with "
    "FakeOpenAI(allowed_hosts=[...]) or --allow-host."
)

#: The ``kind`` parlel's OpenAI emulator records per endpoint.
_PARLEL_KINDS = {
    "chat.completions.create": "chat",
    "completions.create": "completion",
    "embeddings.create": "embeddings",
    "images.generate": "images",
    "moderations.create": "moderations",
}


def _host_name(host: str) -> str:
    """``"[::1]:8080"`` -> ``"::1"``, ``"Localhost:80"`` -> ``"localhost"``, ``"::1"`` -> ``"::1"``."""
    host = host.strip().lower().rstrip(".")
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host[1:]
    if host.count(":") == 1:
        return host.partition(":")[0]
    return host


def mask_credential(value: str) -> str:
    """``Bearer sk-abc...wxyz`` -> ``Bearer sk-****...wxyz``, as the API's 401 message masks a key."""
    scheme, space, credential = value.partition(" ")
    if space and scheme.lower() == "bearer":
        return f"{scheme} {errors.mask_key(credential.strip())}"
    return errors.mask_key(value)


#: Tool endpoint name -> its handler, called with the app. Plain functions kept on the module,
#: not bound methods on the app: an app that referred to itself would wait for the cycle
#: collector to be freed (benchmarks/stress/leaks.py checks it is freed by reference counting).
_TOOL_HANDLERS: dict[str, Callable[[FakeApp, FakeRequest], Any]] = {
    "list_requests": FakeApp._list_requests,
    "clear_requests": FakeApp._clear_requests,
    "reset": FakeApp._reset_over_http,
    "parlel_list_requests": FakeApp._parlel_requests,
    "parlel_clear_requests": FakeApp._parlel_clear_requests,
    "parlel_reset": FakeApp._parlel_reset,
    "list_scripts": FakeApp._list_scripts,
    "add_script": FakeApp._add_script,
    "clear_scripts": FakeApp._clear_scripts,
    "health": FakeApp._health,
    "get_cassette": FakeApp._get_cassette,
    "use_cassette": FakeApp._use_cassette,
    "index": FakeApp._index,
}


@functools.cache
def routes_of(provider: str) -> dict[str, Route]:
    """Endpoint name -> Route of a provider's fake, without building an app (to check scripts)."""
    profile = get_provider(provider)
    return build_map([*ALL_RESOURCES, *profile.resources], profile.base_path, profile.mounts, profile.endpoints)[1]


def _facts(ctx: Ctx) -> tuple[Any, str | None, bool]:
    """The body (JSON, or the form of a multipart upload), its model and whether it streams.

    Never raises: scripts must answer bodies the handler would reject (a fault comes first).
    """
    if ctx.request.mimetype == "multipart/form-data":
        try:
            body: Any = ctx.request.form.to_dict()
        except HTTPException:
            body = {}
        stream = str(body.get("stream", "")).lower() == "true"
    else:
        try:
            body = ctx.body_json()
        except errors.OpenAIError:
            body = None
        stream = isinstance(body, dict) and body.get("stream") is True
    model = body.get("model") if isinstance(body, dict) and isinstance(body.get("model"), str) else None
    return body, model, stream




class _ScriptFailure(Exception):
    """A script that cannot be followed at request time (it fails the test, like a fake bug)."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


#: The WSGI environ key that marks a request a batch runs (its value: the batch id).
BATCH_ENVIRON_KEY = "pytest_openai_fake.batch_id"


@dataclass(frozen=True)
class InlineReply:
    """What a request run inside the fake (a batch line) was answered: status, body bytes, the
    ``x-request-id``, and the scripted delay (seconds) that the caller counts on the fake clock."""

    status: int
    body: bytes
    request_id: str
    delay: float


#: The status of a reply that is never sent: the connection is reset instead (``drop()``).
DROPPED = 0


def _retime(outcome: Outcome, timing: dict[str, float]) -> Outcome:
    return replace(outcome, **timing)


def _paced(
    frames: list[bytes], outcome: Outcome, cancel: threading.Event, error_event: Callable[[dict[str, Any], int], bytes]
) -> Iterable[bytes]:
    """Send SSE ``frames`` with the outcome's chunk timing, cut or error event."""
    stop_at = outcome.cut_after if outcome.cut_after is not None else outcome.error_after
    if outcome.first_chunk:
        yield b""  # flush the status line and headers now: the delay is time to first chunk
        if cancel.wait(outcome.first_chunk):
            raise errors.DropConnection("the test ended during a scripted delay")
    for position, frame in enumerate(frames):
        if stop_at is not None and (position == stop_at or frame == DONE):
            if outcome.cut_after is not None:
                raise errors.DropConnection("scripted cut_stream()")
            assert outcome.fault is not None
            yield error_event(outcome.fault.render(None).to_api()["error"], position)
            return
        if position and outcome.per_chunk and cancel.wait(outcome.per_chunk):
            raise errors.DropConnection("the test ended during a scripted delay")
        yield frame


class Reply:
    """A finished reply with a known body: cheaper to build and send than a werkzeug Response.

    Handlers return dicts, which become ``Reply.json``; streams and binary bodies stay werkzeug
    Responses. Both have ``status_code`` and ``headers.extend``.
    """

    __slots__ = ("status_code", "body", "headers")

    def __init__(self, status_code: int, body: bytes, headers: list[tuple[str, str]]) -> None:
        self.status_code = status_code
        self.body = body
        self.headers = headers

    @classmethod
    def json(cls, payload: Any, *, status: int = 200, headers: Iterable[tuple[str, str]] = ()) -> Reply:
        body = json.dumps(payload, separators=(",", ":")).encode()
        return cls(status, body, [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *headers])

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response(f"{self.status_code} {HTTP_STATUS_CODES.get(self.status_code, 'Unknown')}", self.headers)
        return [self.body]
