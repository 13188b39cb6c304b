"""The installed SDK's whole surface: every method of ``openai.OpenAI()`` as an ``SdkMethod``.

The SDK is the map (STYLE.md): each resource method ends in one request call such as::

    return self._post(
        path_template("/batches/{batch_id}/cancel", batch_id=batch_id),
        body=maybe_transform({...}, batch_create_params.BatchCreateParams),
        options=make_request_options(..., query=maybe_transform({...}, XListParams)),
        cast_to=Batch,
    )

``sdk_methods()`` reads them, once per process, from the SDK's source text: the client's
``cached_property`` children are followed recursively from ``OpenAI`` (``client.beta.threads.
runs``, ``client.admin.organization.projects.users``), and in each method the request call is cut
out and parsed with ``ast``. Nothing is imported for that, so reading the table costs tens of
milliseconds, not the seconds importing every resource and type module takes; the names in the
call (``Batch``, ``batch_create_params.BatchCreateParams``, ``SyncCursorPage[Batch]``) are
resolved in the resource's module only when a route first needs them (``SdkMethod.types()``).

A newer SDK's new endpoints appear here without a code change.
"""

from __future__ import annotations

import ast
import functools
import importlib
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["SdkMethod", "SdkTypes", "sdk_methods"]

_VERBS = {"get": "GET", "post": "POST", "patch": "PATCH", "put": "PUT", "delete": "DELETE", "get_api_list": "GET"}
_CALL = re.compile(r"self\._(get_api_list|get|post|patch|put|delete)\(")
_SYNC_CLASS = re.compile(r"^class (\w+)\(SyncAPIResource\):", re.MULTILINE)
_ANY_CLASS = re.compile(r"^class \w+", re.MULTILINE)
_MEMBER = re.compile(r"^    ((?:@[^\n]*\n    )*)def (\w+)\((?:self\) -> (\w+):)?", re.MULTILINE)
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class SdkTypes:
    """The Python objects an ``SdkMethod`` names, resolved in its module."""

    body: type | None  # the params TypedDict of a JSON or multipart body
    body_alt: type | None  # ``X if stream else Y``: X, used when the body's ``stream`` is true
    switch: str | None  # that condition's name (``stream``)
    query: type | None  # the params TypedDict of the query string
    model: Any  # the reply model (``Batch``), a page's item model, or None (bytes, str)
    page: Any  # the page class (``SyncCursorPage``, ``SyncPage``, ...) of a list method, else None
    stream: Any  # the event model of a streaming method (``Stream[X]``'s X), else None

    def body_for(self, body: dict[str, Any]) -> type | None:
        """The params type for this body (``Streaming`` when it says ``"stream": true``)."""
        if self.body_alt is not None and self.switch is not None and body.get(self.switch) in (True, "true"):
            return self.body_alt
        return self.body


@dataclass(frozen=True)
class SdkMethod:
    """One SDK method: ``client.<endpoint>(...)`` sends ``method`` to ``path`` (a template)."""

    endpoint: str  # "batches.create", "admin.organization.projects.users.retrieve"
    method: str  # "POST"
    path: str  # "/batches/{batch_id}/cancel" (the SDK's template)
    module: str  # where the names below resolve: "openai.resources.batches"
    body: str | None = None  # "batch_create_params.BatchCreateParams"
    query: str | None = None
    cast_to: str | None = None  # "Batch", "_legacy_response.HttpxBinaryResponseContent", "str"
    page: str | None = None  # "SyncCursorPage[Batch]"
    item: str | None = None  # a list method's ``model=`` (the page's item)
    stream: str | None = None  # "Stream[AssistantStreamEvent]"
    multipart: bool = False  # the body goes out as multipart/form-data (file uploads)
    has_body: bool = False  # the call sends a body (typed by ``body`` when that is not None)
    fixed_query: tuple[str, ...] = ()  # query parameters the path itself carries (``beta``)
    binary: bool = False  # the reply is bytes (``.content()``)

    @property
    def rule(self) -> str:
        """The path as a werkzeug rule: ``/batches/<batch_id>/cancel``."""
        return _PLACEHOLDER.sub(r"<\1>", self.path)

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(_PLACEHOLDER.findall(self.path))

    @property
    def verb(self) -> str:
        """The method's own name: ``create``, ``retrieve``, ``list``, ``cancel`` ..."""
        return self.endpoint.rpartition(".")[2]

    def types(self) -> SdkTypes:
        return _resolve(self)


@functools.cache
def _resolve(method: SdkMethod) -> SdkTypes:
    lookup = _Names(method.module)

    def value(expr: str | None) -> Any:
        """Evaluate a name or subscript the SDK's own source wrote; a name that is one of the
        method's arguments (``_create_response_format_type(response_format)``) is not given."""
        if expr is None:
            return None
        scope: dict[str, Any] = {}
        for _ in range(8):
            try:
                return eval(expr, scope)
            except NameError as exc:
                if exc.name is None or exc.name in scope:
                    raise
                scope[exc.name] = lookup(exc.name)
        return None

    body_alt = switch = None
    body_expr = method.body
    if body_expr is not None and " if " in body_expr:
        node = ast.parse(body_expr, mode="eval").body
        assert isinstance(node, ast.IfExp)
        body_alt, body_expr = value(ast.unparse(node.body)), ast.unparse(node.orelse)
        switch = ast.unparse(node.test)

    page = value(method.page)
    model = value(method.item) if method.page else value(method.cast_to)
    if method.page and model is None and page is not None:
        model = getattr(page, "__args__", (None,))[0]
    page_class = getattr(page, "__origin__", page) if page is not None else None
    if page_class is not None and getattr(page_class, "__pydantic_generic_metadata__", None):
        page_class = page_class.__pydantic_generic_metadata__.get("origin") or page_class
    stream = value(method.stream)
    stream_item = None
    if stream is not None:
        args = getattr(stream, "__args__", None) or getattr(stream, "__pydantic_generic_metadata__", {}).get("args")
        stream_item = args[0] if args else None
    if method.binary or (isinstance(model, type) and model in (str, bytes, object, type(None))):
        model = None
    return SdkTypes(value(body_expr), body_alt, switch, value(method.query), model, page_class, stream_item)


class _Names:
    """The names a resource module imports, each resolved by importing only its own module (a
    types module), not the resource module with all its siblings: a route's first call stays
    cheap. Anything else falls back to the resource module's namespace."""

    def __init__(self, module: str) -> None:
        self.module = module

    def __call__(self, name: str) -> Any:
        if name == "stream":
            return False  # ``X if stream else Y`` outside a request: the non-streaming type
        imported = _import_of(_source(self.module), name, self.module)
        if imported is not None:
            module, original = imported
            try:
                return getattr(importlib.import_module(module), original)
            except AttributeError:
                try:
                    return importlib.import_module(f"{module}.{original}")
                except ImportError:
                    pass
        namespace = vars(importlib.import_module(self.module))
        return namespace.get(name)  # None: a method argument (``response_format``), not given


@functools.cache
def _source(module: str) -> str:
    spec = importlib.util.find_spec("openai")
    assert spec is not None and spec.origin is not None
    path = Path(spec.origin).parent.joinpath(*module.split(".")[1:])
    file = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    return file.read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def sdk_methods() -> tuple[SdkMethod, ...]:
    """Every request-making method reachable from ``openai.OpenAI()``, in the client's order."""
    spec = importlib.util.find_spec("openai")
    assert spec is not None and spec.origin is not None, "the openai package is not installed"
    root = Path(spec.origin).parent
    reader = _Reader(root)
    client = (root / "_client.py").read_text(encoding="utf-8")
    start = client.index("\nclass OpenAI(")
    end = client.index("\nclass ", start + 1)
    out: list[SdkMethod] = []
    for name, cls, module in _client_children(client[start:end]):
        reader.walk(module, cls, name, out)
    return tuple(out)


def _client_children(text: str) -> list[tuple[str, str, str]]:
    """``OpenAI``'s resources: (attribute, class, module), from ``from .resources.x import X``."""
    found = []
    for match in re.finditer(r"@cached_property\n    def (\w+)\(self\) -> (\w+):(.*?)return ", text, re.DOTALL):
        name, cls, body = match.groups()
        imported = re.search(r"from \.(resources[\w.]*) import " + cls + r"\b", body)
        if imported and not name.startswith("with_"):
            found.append((name, cls, "openai." + imported.group(1)))
    return found


class _Reader:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._texts: dict[str, str] = {}

    def text(self, module: str) -> str:
        if module not in self._texts:
            parts = module.split(".")[1:]
            path = self.root.joinpath(*parts)
            file = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
            self._texts[module] = file.read_text(encoding="utf-8")
        return self._texts[module]

    def locate(self, module: str, cls: str) -> tuple[str, str, str]:
        """(module, its text, the class's own name) of the class imported as ``cls`` in
        ``module`` (following re-exports and ``import X as _X`` aliases)."""
        for _ in range(6):
            text = self.text(module)
            if re.search(rf"^class {cls}\(", text, re.MULTILINE):
                return module, text, cls
            imported = _import_of(text, cls, module)
            if imported is None:
                break
            module, cls = imported
        raise LookupError(f"cannot find class {cls} from {module}")

    def walk(self, module: str, cls: str, prefix: str, out: list[SdkMethod], depth: int = 0) -> None:
        module, text, cls = self.locate(module, cls)
        start = re.search(rf"^class {cls}\(([^)]*)\):", text, re.MULTILINE)
        assert start is not None and depth < 12
        for base in (b.strip() for b in start.group(1).split(",")):
            if re.fullmatch(r"\w+", base) and base not in ("SyncAPIResource", "object", "Generic"):
                try:  # ``class Webhooks(_Webhooks): pass``: the methods are the base's
                    self.walk(module, base, prefix, out, depth + 1)
                except LookupError:
                    pass
        following = _ANY_CLASS.search(text, start.end())
        body = text[start.start() : following.start() if following else len(text)]
        members = list(_MEMBER.finditer(body))
        for index, member in enumerate(members):
            decorators, name, returns = member.groups()
            if name.startswith(("_", "with_")) or "@overload" in decorators:
                continue
            stop = members[index + 1].start() if index + 1 < len(members) else len(body)
            source = body[member.end() : stop]
            if "cached_property" in decorators or "@property" in decorators:
                child = (returns or "").strip()
                if child and re.fullmatch(r"\w+", child):
                    try:
                        self.walk(module, child, f"{prefix}.{name}", out, depth + 1)
                    except LookupError:
                        pass
                continue
            method = _method(f"{prefix}.{name}", module, source)
            if method is not None:
                out.append(method)


def _import_of(text: str, name: str, module: str) -> tuple[str, str] | None:
    """(absolute module, original name) of the relative import that binds ``name`` in ``text``
    (the source of ``module``)."""
    for match in re.finditer(r"^[ \t]*from (\.+)([\w.]*) import (?:\(([^)]*)\)|([^\n]*))", text, re.MULTILINE):
        dots, rel, grouped, single = match.groups()
        for item in (grouped or single).split(","):
            original, _, alias = item.strip().partition(" as ")
            if (alias.strip() or original.strip()) != name:
                continue
            package = module.split(".")
            if not _is_package(module):
                package = package[:-1]
            base = package[: len(package) - (len(dots) - 1)]
            return ".".join([*base, *filter(None, rel.split("."))]), original.strip()
    return None


@functools.cache
def _is_package(module: str) -> bool:
    spec = importlib.util.find_spec("openai")
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).parent.joinpath(*module.split(".")[1:]).is_dir()


def _method(endpoint: str, module: str, source: str) -> SdkMethod | None:
    call = _CALL.search(source)
    if call is None:
        return None
    snippet = _balanced(source, call.end() - 1)
    try:
        node = ast.parse(source[call.start() : call.end() - 1] + snippet, mode="eval").body
    except SyntaxError:
        return None
    assert isinstance(node, ast.Call)
    verb = call.group(1)
    keywords = {k.arg: k.value for k in node.keywords if k.arg}
    http = _VERBS[verb]
    if verb == "get_api_list" and isinstance(keywords.get("method"), ast.Constant):
        http = str(keywords["method"].value).upper()  # type: ignore[attr-defined]
    path = _path(node.args[0]) if node.args else None
    if path is None:
        return None
    path, _, fixed = path.partition("?")  # ``/responses/{id}?beta=true``: the beta flavour's marker
    body = _transform_type(keywords.get("body"))
    query = None
    options = keywords.get("options")
    if isinstance(options, ast.Call):
        for kw in options.keywords:
            if kw.arg == "query":
                query = _transform_type(kw.value)
    cast_to = _unparse(keywords.get("cast_to"))
    binary = "HttpxBinaryResponseContent" in (cast_to or "") or '"application/binary"' in source
    return SdkMethod(
        endpoint=endpoint,
        method=http,
        path=path,
        module=module,
        body=body,
        query=query,
        cast_to=cast_to,
        page=_unparse(keywords.get("page")),
        item=_unparse(keywords.get("model")),
        stream=_unparse(keywords.get("stream_cls")),
        multipart="multipart/form-data" in source,
        has_body="body" in keywords,
        fixed_query=tuple(pair.partition("=")[0] for pair in fixed.split("&") if pair),
        binary=binary,
    )


def _balanced(source: str, open_at: int) -> str:
    """The text from the ``(`` at ``open_at`` to its matching ``)`` (strings skipped)."""
    depth = 0
    index = open_at
    quote: str | None = None
    while index < len(source):
        char = source[index]
        if quote:
            if char == "\\":
                index += 1
            elif source.startswith(quote, index):
                index += len(quote) - 1
                quote = None
        elif char in "\"'":
            quote = source[index : index + 3] if source[index : index + 3] in ('"""', "'''") else char
            index += len(quote) - 1
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return source[open_at : index + 1]
        index += 1
    raise SyntaxError("unbalanced call")


def _path(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "path_template" and node.args:
        return _path(node.args[0])
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            elif isinstance(value, ast.FormattedValue) and isinstance(value.value, ast.Name):
                parts.append("{" + value.value.id + "}")
            else:
                return None
        return "".join(parts)
    return None


def _transform_type(node: ast.expr | None) -> str | None:
    """``maybe_transform(x, T)`` -> ``"T"``."""
    if isinstance(node, ast.Call) and getattr(node.func, "id", "").endswith("maybe_transform") and len(node.args) == 2:
        return ast.unparse(node.args[1])
    return None


def _unparse(node: ast.expr | None) -> str | None:
    return None if node is None else ast.unparse(node)
