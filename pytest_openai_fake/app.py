"""The WSGI application: one Map from every resource, auth, dispatch under a lock, capture.

Requests under the provider's base path (``/v1``) are API calls: they are authenticated,
dispatched to a resource handler under one ``RLock`` and captured in the request log. A few
paths outside it serve tools: ``/``, ``/health``, ``/__fake/requests``, ``/__fake/reset``
(and the same under ``/__parlel/`` for suites written against the parlel emulator).

Problems that mean the fake (or the test) is wrong, not the client, are kept in
``problems``: an exception inside a handler, a request no route matches. The pytest plugin
raises them at the end of the test that caused them.
"""

from __future__ import annotations

import json
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Response

from . import __version__, errors
from .capture import CapturedRequest, RequestLog, headers_from_environ
from .determinism import Clock, IdSequence
from .providers import Provider
from .resources import ALL_RESOURCES
from .routing import Ctx, FakeRequest, Resource, build_map
from .state import Store

__all__ = ["FakeApp", "Problem", "Reply"]

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "*",
    "Access-Control-Expose-Headers": "*",
    "Access-Control-Max-Age": "86400",
}


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

    def __init__(self, provider: Provider, resources: Iterable[Resource] = ALL_RESOURCES) -> None:
        self.provider = provider
        self.lock = threading.RLock()
        self.state = Store(provider)
        self.clock = Clock()
        self.ids = IdSequence()
        self.requests = RequestLog()
        self.problems: list[Problem] = []
        self.strict = True
        self.url_map, self.routes = build_map(resources, provider.base_path)
        self._api_prefix = provider.base_path.rstrip("/") + "/"
        # Bound once: the API ignores the Host header, and binding per request costs ~50 µs.
        self._adapter = self.url_map.bind("fake.invalid")
        self._tools = Map(
            [Rule(path, endpoint=name, methods=[method]) for prefix in ("/__fake", "/__parlel") for method, path, name in (
                ("GET", f"{prefix}/requests", "list_requests"),
                ("DELETE", f"{prefix}/requests", "clear_requests"),
                ("POST", f"{prefix}/reset", "reset"),
            )]
            + [
                Rule("/__fake/blobs/<path:name>", endpoint="blob", methods=["GET"]),
                Rule("/health", endpoint="health", methods=["GET"]),
                Rule("/", endpoint="index", methods=["GET"]),
            ],
            strict_slashes=False,
        )
        self._tool_handlers: dict[str, Callable[[FakeRequest], Any]] = {
            "list_requests": lambda _: {"object": "list", "data": [r.to_dict() for r in self.requests]},
            "clear_requests": self._clear_requests,
            "reset": self._reset_over_http,
            "health": lambda _: {"status": "ok"},
            "index": self._index,
        }

    # -- state ---------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything: stored objects, request log, problems, clock, ids, test config."""
        with self.lock:
            self.state.reset()
            self.clock.reset()
            self.ids.reset()
            self.requests.clear()
            self.problems.clear()
            self.strict = True

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
        if request.method == "OPTIONS":
            return Reply(204, b"", list(CORS_HEADERS.items()))
        if not request.path.startswith(self._api_prefix):
            tool = self._match_tool(request)
            if tool is not None:
                return tool
        started = time.perf_counter()
        body = request.get_data(cache=True)  # always read the body, even when we answer early
        with self.lock:
            request_id = self.ids.next("req_")
            endpoint, response = self._answer(request)
            elapsed_ms = int((time.perf_counter() - started) * 1000)
            response.headers.extend(
                [
                    ("x-request-id", request_id),
                    ("openai-processing-ms", str(elapsed_ms)),
                    ("openai-version", self.provider.api_version),
                    ("Access-Control-Allow-Origin", "*"),
                ]
            )
            self.requests.append(
                CapturedRequest(
                    method=request.method,
                    path=request.path,
                    query=dict(request.args.items()) if request.query_string else {},
                    headers=headers_from_environ(request.environ),
                    body=body,
                    endpoint=endpoint,
                    status=response.status_code,
                    index=len(self.requests),
                )
            )
        return response

    def _answer(self, request: FakeRequest) -> tuple[str | None, Response | Reply]:
        try:
            endpoint, values = self._adapter.match(request.path, request.method)
        except NotFound:
            self._problem("no-route", f"pytest-openai-fake has no route for {request.method} {request.path}")
            return None, self._error(errors.unknown_url(request.method, request.path))
        except MethodNotAllowed as exc:
            self._problem("no-route", f"pytest-openai-fake has no {request.method} route for {request.path}")
            return None, self._error(errors.method_not_allowed(request.method, request.path, exc.valid_methods or []))
        try:
            self._authenticate(request)
            ctx = Ctx(request, self.state, self.clock, self.ids, self.provider, endpoint)
            result = self.routes[endpoint].handler(ctx, **values)
        except errors.OpenAIError as exc:
            return endpoint, self._error(exc)
        except Exception as exc:  # a bug in the fake: answer 500 and fail the test that caused it
            detail = "".join(traceback.format_exception(exc))
            self._problem("exception", f"pytest-openai-fake raised while answering {request.method} {request.path} ({endpoint}): {exc!r}", detail)
            return endpoint, self._error(errors.server_error(f"{type(exc).__name__}: {exc}"))
        if isinstance(result, Response):
            return endpoint, result
        return endpoint, Reply.json(result)

    def _authenticate(self, request: FakeRequest) -> None:
        header = request.environ.get("HTTP_AUTHORIZATION", "").strip()
        if not header:
            raise errors.missing_api_key()
        scheme, _, credential = header.partition(" ")
        if scheme.lower() != "bearer":
            raise errors.invalid_api_key(header)
        if not credential.strip():
            raise errors.missing_api_key()

    def _problem(self, kind: str, summary: str, detail: str = "") -> None:
        self.problems.append(Problem(kind, summary, detail))

    @staticmethod
    def _error(exc: errors.OpenAIError) -> Reply:
        return Reply.json(exc.to_api(), status=exc.code or 500, headers=exc.extra_headers.items())

    # -- tool endpoints (not captured, no auth) ------------------------------------------------

    def _match_tool(self, request: FakeRequest) -> Reply | None:
        adapter = self._tools.bind_to_environ(request.environ)
        try:
            name, values = adapter.match()
        except MethodNotAllowed as exc:
            return self._error(errors.method_not_allowed(request.method, request.path, exc.valid_methods or []))
        except NotFound:
            if request.path.startswith(("/__fake/", "/__parlel/")):
                return self._error(errors.unknown_url(request.method, request.path))
            return None
        request.get_data(cache=True)
        if name == "blob":
            return self._blob(values["name"])
        return Reply.json(self._tool_handlers[name](request), headers=[("Access-Control-Allow-Origin", "*")])

    def _blob(self, name: str) -> Reply:
        with self.lock:
            blob = self.state.blobs.get(name)
        if blob is None:
            return self._error(errors.not_found(f"No blob named {name!r}. Blobs live until the next reset."))
        headers = [("Content-Type", blob.content_type), ("Content-Length", str(len(blob.data)))]
        return Reply(200, blob.data, [*headers, ("Access-Control-Allow-Origin", "*")])

    def _clear_requests(self, _: FakeRequest) -> dict[str, Any]:
        count = len(self.requests)
        self.requests.clear()
        return {"deleted": True, "count": count}

    def _reset_over_http(self, _: FakeRequest) -> dict[str, Any]:
        self.reset()
        return {"status": "ok", "reset": True}

    def _index(self, request: FakeRequest) -> dict[str, Any]:
        root = request.host_url.rstrip("/")
        return {
            "service": "pytest-openai-fake",
            "version": __version__,
            "provider": self.provider.name,
            "base_url": root + self.provider.base_path,
            "endpoints": sorted(self.routes),
            "tools": {
                "requests": f"{root}/__fake/requests",
                "reset": f"{root}/__fake/reset",
                "health": f"{root}/health",
            },
        }


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
