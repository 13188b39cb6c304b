"""Resources, their routes and the context a handler receives.

A resource module declares ``chat = Resource("chat")`` and decorates handlers with
``@chat.route("POST", "/chat/completions", endpoint="chat.completions.create")``. The endpoint
name is the SDK call path; capture, scripting, faults and the coverage table all key on it.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable, Iterable

from werkzeug.routing import Map, Rule, Submount
from werkzeug.wrappers import Request

from . import errors, params

if TYPE_CHECKING:
    from .determinism import Clock, IdSequence
    from .providers.openai import Provider
    from .state import ModelCard, Store

__all__ = ["Ctx", "FakeRequest", "Resource", "Route", "bound_root", "build_map"]

Handler = Callable[..., Any]


@dataclass(frozen=True)
class Route:
    """One endpoint. ``replies``, ``streams`` and ``response`` tell scripting what it can answer:

    - ``replies``: the scripted reply content the handler understands, ``"text"`` (a string)
      and/or ``"message"`` (tool calls, refusals, finish reasons);
    - ``streams``: whether it can answer with SSE (so stream faults make sense);
    - ``response``: the SDK's pydantic model of its JSON reply, which a dict reply is checked
      against and merged into (``None``: not JSON, or a list page).
    """

    method: str
    path: str
    endpoint: str
    handler: Handler
    replies: frozenset[str] = frozenset()
    streams: bool = False
    response: type | None = None
    #: A route of the generic layer (``resources/generic.py``): a hand-written route for the same
    #: endpoint, or the same method and path, wins over it.
    generic: bool = False


class Resource:
    """A family of endpoints (``chat``, ``models`` ...): a name and its routes."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.routes: list[Route] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        replies: Iterable[str] = (),
        streams: bool = False,
        response: type | None = None,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.routes.append(Route(method.upper(), path, endpoint, handler, frozenset(replies), streams, response))
            return handler

        return register


#: build_map's results by their inputs. Compiling a Map of every SDK route costs ~150 ms, which
#: every ``FakeOpenAI()`` would pay; a Map is never changed once built, so apps share it.
_MAPS: dict[Any, tuple[Map, dict[str, Route]]] = {}
_MAPS_LOCK = threading.Lock()
_MAPS_KEPT = 32


def build_map(
    resources: Iterable[Resource], base_path: str, mounts: Iterable[str] = (), endpoints: Iterable[str] | None = None
) -> tuple[Map, dict[str, Route]]:
    """A werkzeug Map with every route under ``base_path`` (``/v1``) and each of ``mounts``, and
    endpoint -> Route. ``endpoints``: only these (None: all). A later resource's route with the
    same endpoint name replaces an earlier one: a provider's own ``resources`` (given last) can
    serve a shared endpoint in that provider's shape. The same inputs (the same resources with
    the same routes) give the same, shared Map; the dict is the caller's own copy."""
    resources = tuple(resources)
    mounts = tuple(mounts)
    key = (
        tuple((resource, tuple(resource.routes)) for resource in resources),
        base_path,
        mounts,
        None if endpoints is None else tuple(endpoints),
    )
    with _MAPS_LOCK:
        built = _MAPS.get(key)
    if built is None:
        built = _build_map(resources, base_path, mounts, key[3])
        with _MAPS_LOCK:
            if len(_MAPS) >= _MAPS_KEPT:
                _MAPS.pop(next(iter(_MAPS)))
            _MAPS[key] = built
    return built[0], dict(built[1])


def _build_map(
    resources: tuple[Resource, ...], base_path: str, mounts: tuple[str, ...], endpoints: tuple[str, ...] | None
) -> tuple[Map, dict[str, Route]]:
    wanted = None if endpoints is None else set(endpoints)
    routes = {
        route.endpoint: route
        for resource in resources
        for route in resource.routes
        if wanted is None or route.endpoint in wanted
    }
    dropped = [
        route
        for resource in resources
        for route in resource.routes
        if route.generic and routes.get(route.endpoint) is not route and (wanted is None or route.endpoint in wanted)
    ]
    routes = _without_shadowed(routes, dropped)
    rules: list[Any] = []
    for prefix in (base_path, *mounts):
        mounted = [Rule(r.path, endpoint=r.endpoint, methods=[r.method]) for r in routes.values()]
        rules.extend([Submount(prefix, mounted)] if prefix else mounted)
    url_map = Map(rules, strict_slashes=False, merge_slashes=False)
    return url_map, routes


def _without_shadowed(routes: dict[str, Route], dropped: list[Route]) -> dict[str, Route]:
    """Drop each generic route whose method and path a hand-written route (or an earlier generic
    one: ``beta.chat.completions.create`` after ``chat.completions.create``) already serves. The
    hand-written route answers ``lenient_ids`` 404s with the generic route's handler (``dropped``:
    the generic routes a hand-written one replaced by endpoint name)."""
    if not dropped and not any(route.generic for route in routes.values()):
        return routes
    own = {(r.method, _shape(r.path)): r for r in routes.values() if not r.generic}
    for route in dropped:
        shape = (route.method, _shape(route.path))
        if shape in own and "<" in route.path:
            own[shape] = replace(own[shape], handler=_lenient(own[shape], route))
    taken = set(own)
    kept: dict[str, Route] = {}
    for name, route in routes.items():
        if route.generic:
            shape = (route.method, _shape(route.path))
            if shape in taken:
                if shape in own and "<" in route.path:
                    hand = own[shape]
                    own[shape] = replace(hand, handler=_lenient(hand, route))
                continue
            taken.add(shape)
        kept[name] = route
    replaced = {r.endpoint: r for r in own.values()}
    return {name: replaced.get(name, route) if not route.generic else route for name, route in kept.items()}


def _lenient(hand: Route, generic: Route) -> Handler:
    """``hand``'s handler, answering with ``generic``'s when the test runs with ``lenient_ids``
    and an id in the path was never created (the hand-written family's 404)."""
    names = re.findall(r"<(?:[^>:]*:)?([^>]+)>", generic.path)

    def handler(ctx: Ctx, **values: Any) -> Any:
        try:
            return hand.handler(ctx, **values)
        except errors.OpenAIError as exc:
            if exc.code != 404 or exc.scripted or not ctx.state.lenient_ids:
                raise
            return generic.handler(ctx, **dict(zip(names, values.values())))

    handler.__name__ = getattr(hand.handler, "__name__", "handler")
    handler.__wrapped__ = hand.handler  # type: ignore[attr-defined]
    return handler


def _shape(path: str) -> str:
    """A rule's path with its variables blanked: ``/models/<path:model>`` -> ``/models/<>``."""
    return re.sub(r"<[^>]*>", "<>", path)


class FakeRequest(Request):
    """A werkzeug request whose bad JSON is the real API's 400, not werkzeug's HTML page.

    Werkzeug's multipart limits (500,000 bytes per text field, 1,000 parts) are lifted: the
    whole body is already in memory, and an over-long field must reach the endpoint's own check
    (the API's prompt-length 400), not a werkzeug 413 inside a handler. The request is not stored
    in ``environ["werkzeug.request"]``: that reference cycle kept every body alive until the
    cyclic garbage collector ran.
    """

    max_form_memory_size: int | None = None
    max_form_parts: int | None = None  # type: ignore[assignment]

    def __init__(self, environ: dict[str, Any]) -> None:
        super().__init__(environ, populate_request=False)

    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        raise errors.invalid_json()


@dataclass
class Ctx:
    """Everything a handler may use: the request, the store, the clock, ids and the provider.

    Handlers run concurrently, outside the app's lock. The first use of ``state`` takes the lock
    (through ``_enter``, which the app gives), and the app releases it when the handler returns:
    a handler that touches the store runs that part alone, one that does not never waits.
    """

    request: FakeRequest
    _state: Store
    clock: Clock
    ids: IdSequence
    provider: Provider
    endpoint: str
    #: The scripted reply for this call as plain data, or None for the fake's own answer:
    #: ``{"content": str | None, "tool_calls": [{"id", "type", "name", "arguments"}],
    #: "refusal": str | None, "finish_reason": str | None}`` (only for routes with ``replies``).
    reply: dict[str, Any] | None = None
    #: The ``<deployment>`` of an Azure-style path, for the provider's ``check`` hook.
    deployment: str | None = None
    #: Runs a request through the app as if a client had sent it (its route, validation, scripts,
    #: faults and the request log) and returns an ``InlineReply``: how a batch runs its lines.
    #: ``inline(method, path, body_bytes, batch_id=...)``; set by the app.
    inline: Callable[..., Any] | None = field(default=None, repr=False)
    _body: Any = field(default=None, repr=False)
    _enter: Callable[[], None] | None = field(default=None, repr=False)

    @property
    def state(self) -> Store:
        """The store; the first use takes the app's lock for the rest of the handler."""
        if self._enter is not None:
            enter, self._enter = self._enter, None
            enter()
        return self._state

    def json(self, params_type: type | None = None, *, allow_unknown: bool = False) -> dict[str, Any]:
        """The JSON object body, validated against the SDK's params TypedDict when given."""
        body = self.body_json()
        if not isinstance(body, dict):
            raise errors.bad_request(
                "Invalid body: the request body must be a JSON object." if body is not None else errors.INVALID_JSON
            )
        if params_type is not None:
            self.validate(body, params_type, allow_unknown=allow_unknown)
        return body

    def validate(self, body: dict[str, Any], params_type: type, *, allow_unknown: bool = False) -> None:
        """400 unless ``body`` fits the SDK's params TypedDict (see ``params.validate``)."""
        params.validate(body, params_type, allow_unknown=allow_unknown or not self.provider.reject_unknown_params)

    def body_json(self) -> Any:
        if self._body is None:
            raw = self.request.get_data(cache=True)
            if not raw.strip():
                self._body = {}
            else:
                try:
                    body = json.loads(raw, parse_constant=_reject_constant)
                    if _SURROGATE_ESCAPE.search(raw) is not None:
                        _reject_lone_surrogates(body)
                except (ValueError, RecursionError):
                    # RecursionError: arrays or objects nested deeper than Python's stack allows
                    # (``[[[...]]]`` 5000 deep). The real API's depth limit is not published; a
                    # body the fake cannot read gets the unparseable-body 400, not a 500.
                    raise errors.invalid_json() from None
                self._body = body
        return self._body

    @property
    def root_url(self) -> str:
        """The server root for URLs the fake hands out (``http://127.0.0.1:4747/``): the bound
        address, never the request's ``Host`` header."""
        return bound_root(self.request.environ)

    def require_model(self, model: str) -> None:
        """404 ``model_not_found`` unless ``model`` is in this test's catalog. A read of one
        dict, so it does not take the lock (a chat call that stores nothing never waits)."""
        self._state.models.require(model)

    def model_card(self, model: str) -> ModelCard:
        """The catalog card of ``model`` (404 ``model_not_found`` if the test has none), read
        without the lock, like ``require_model``."""
        return self._state.models.get(model)


#: A ``\uD800``-``\uDFFF`` escape: only a body with one can hold a lone surrogate.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _reject_lone_surrogates(value: Any) -> None:
    """A string with an unpaired surrogate escape (``"\ud800"``) is no Unicode text: JSON parsers
    that decode to UTF-8 (serde_json, Go's) refuse it, so it gets the unparseable-body 400. (No
    public report of the real API's reply was found.) Walked only when the body has such an escape."""
    if isinstance(value, str):
        value.encode()  # UnicodeEncodeError is a ValueError
    elif isinstance(value, dict):
        for key, item in value.items():
            _reject_lone_surrogates(key)
            _reject_lone_surrogates(item)
    elif isinstance(value, list):
        for item in value:
            _reject_lone_surrogates(item)


def _reject_constant(name: str) -> Any:
    """``NaN``, ``Infinity`` and ``-Infinity`` are not JSON (RFC 8259), though Python's
    ``json.loads`` reads them as floats: they get the unparseable-body 400. (No public report of
    the real API's reply to them was found; a standard JSON parser rejects them.)"""
    raise ValueError(f"{name} is not valid JSON")


def bound_root(environ: dict[str, Any]) -> str:
    """``http://<bound address>:<port>/``, from the socket the server listens on, never from the
    request's Host header. A wildcard bind (``0.0.0.0``, ``::``) is shown as loopback."""
    name = environ.get("SERVER_NAME") or "127.0.0.1"
    name = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(name, name)
    if ":" in name:
        name = f"[{name}]"
    scheme = environ.get("wsgi.url_scheme", "http")
    port = str(environ.get("SERVER_PORT") or "")
    default = {"http": "80", "https": "443"}.get(scheme)
    return f"{scheme}://{name}{'' if not port or port == default else ':' + port}/"
