"""Every other endpoint of the installed SDK: generic, schema-valid, stateful CRUD.

``generic`` is a ``Resource`` like the hand-written ones, whose routes are the SDK's methods
(``surface.sdk_methods()``), read on first use. A hand-written route for the same endpoint, or
the same method and path, wins (``routing.build_map``). Each generic call reads as
validate -> decide -> render:

- **validate**: the JSON body, multipart form (file parts must be files) and query string
  against the method's params TypedDicts, with ``params.validate`` (the same 400s as chat);
- **decide**: what the method does to the family's ``state.Collection``, from the shape of the
  SDK's paths: ``POST /x`` creates, ``GET /x`` lists, ``GET|POST|DELETE /x/{id}`` retrieves,
  updates or deletes, ``POST /x/{id}/cancel`` (any verb) acts on the stored object; a nested
  collection (``/containers/{id}/files``) lives under its parent, which must exist;
- **render**: an instance of the method's response model generated from its JSON schema
  (``determinism.schema``), seeded by the request, with the family's id prefix, the fake
  clock's ``created_at`` and the request's values reflected into fields of the same name; a
  page for list methods, bytes for ``.content()`` methods, SSE for ``stream=True``.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from werkzeug.wrappers import Response

from .. import errors, params
from ..determinism import digest, stable_json
from ..determinism.schema import generate_instance
from ..routing import Ctx, Resource, Route
from ..state import Collection
from ..streaming import DONE, event, sse_response
from ..surface import SdkMethod, sdk_methods

__all__ = ["ID_PREFIXES", "SdkResource", "generic", "operation_of"]

#: The real id prefix of each object kind (the ``object`` field), where the API documents one.
#: Other kinds get ``<last part of object>_``.
ID_PREFIXES: dict[str, str] = {
    "file": "file-",
    "batch": "batch_",
    "upload": "upload_",
    "upload.part": "part_",
    "vector_store": "vs_",
    "vector_store.file_batch": "vsfb_",
    "fine_tuning.job": "ftjob-",
    "fine_tuning.job.event": "ftevent-",
    "fine_tuning.job.checkpoint": "ftckpt_",
    "checkpoint.permission": "cp_",
    "eval": "eval_",
    "eval.run": "evalrun_",
    "eval.run.output_item": "outputitem_",
    "container": "cntr_",
    "container.file": "cfile_",
    "assistant": "asst_",
    "thread": "thread_",
    "thread.run": "run_",
    "thread.message": "msg_",
    "thread.run.step": "step_",
    "video": "video_",
    "conversation": "conv_",
    "response": "resp_",
    "chat.completion": "chatcmpl-",
    "organization.project": "proj_",
    "organization.invite": "invite-",
    "organization.user": "user-",
    "organization.admin_api_key": "key_",
    "organization.project.api_key": "key_",
    "organization.project.service_account": "svc_acct_",
    "organization.certificate": "cert_",
    "skill": "skill_",
    "chatkit.thread": "cthr_",
    "chatkit.session": "cksess_",
}

#: The API's own 404 text for an unknown id, where it is known (else ``No <noun> found with id``).
NOT_FOUND_TEXTS: dict[str, str] = {"file": "No such File object: '{id}'"}

#: Create: the first status the model allows from this list (a generic object is at rest: no
#: background progress runs for it).
_CREATED_STATUS = ("completed", "succeeded", "active", "ready", "processed", "in_progress", "queued", "validating")


class SdkResource(Resource):
    """The generic routes, one per SDK method, built on first access of ``routes``."""

    def __init__(self) -> None:  # no super().__init__: ``routes`` is computed
        self.name = "generic"
        self._routes: list[Route] | None = None

    @property
    def routes(self) -> list[Route]:  # type: ignore[override]
        if self._routes is None:
            self._routes = [_route(method) for method in sdk_methods()]
        return self._routes


def _route(method: SdkMethod) -> Route:
    def handler(ctx: Ctx, **values: str) -> Any:
        return answer(ctx, method, values)

    handler.__name__ = handler.__qualname__ = "generic_" + method.endpoint.replace(".", "_")
    return Route(method.method, method.rule, method.endpoint, handler, streams=method.stream is not None, generic=True)


generic = SdkResource()


# -- what each method does -------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    """What a method does, read from the shape of the SDK's paths."""

    kind: str  # "create" | "list" | "retrieve" | "update" | "delete" | "action" | "other"
    collection: str | None  # the template of the collection it works on
    id_param: str | None  # the path parameter naming the object (retrieve/update/delete/action)
    parents: tuple[tuple[str, str], ...]  # (collection template, id param) of each stored ancestor


@functools.lru_cache(maxsize=1)
def _item_paths() -> frozenset[str]:
    """Paths of stored objects: ``/x/{id}`` that the SDK can retrieve or delete."""
    return frozenset(
        m.path for m in sdk_methods() if m.method in ("GET", "DELETE") and m.path.endswith("}") and not m.page and not m.binary
    )


def _split(path: str) -> tuple[str, str | None]:
    """``/x/{id}`` -> (``/x``, ``id``); else (path, None)."""
    head, _, last = path.rpartition("/")
    if last.startswith("{") and last.endswith("}"):
        return head, last[1:-1]
    return path, None


@functools.cache
def operation_of(method: SdkMethod) -> Operation:
    items = _item_paths()
    path = method.path
    parents: tuple[tuple[str, str], ...] = tuple(
        (head, str(param)) for head, param in map(_split, _prefixes(path)) if param is not None and f"{head}/{{{param}}}" in items and f"{head}/{{{param}}}" != path
    )
    collection, id_param = _split(path)
    if id_param is not None and path in items:
        kind = {"GET": "retrieve", "DELETE": "delete"}.get(method.method, "update")
        if method.page:
            kind = "list"
        return Operation(kind, collection, id_param, tuple(p for p in parents if p[0] != collection or p[1] != id_param))
    is_collection = any(_split(item)[0] == path for item in items)
    if method.page or (method.method == "GET" and is_collection and method.verb.startswith("list")):
        return Operation("list", path, None, parents)
    if method.method == "POST" and is_collection and not method.binary:
        return Operation("create", path, None, parents)
    head, _, _ = path.rpartition("/")
    if method.method == "POST" and head in items:
        item_collection, item_id = _split(head)
        return Operation("action", item_collection, item_id, tuple(p for p in parents if p != (item_collection, str(item_id))))
    return Operation("other", None, None, parents)


def _prefixes(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(2, len(parts) + 1)]


# -- the handler -----------------------------------------------------------------------------


def answer(ctx: Ctx, method: SdkMethod, values: dict[str, str]) -> Any:
    types = method.types()
    body = _validated_body(ctx, method, types, values)
    query = _validated_query(ctx, types.query, values, fixed=method.fixed_query, shared=types.query in (types.body, types.body_alt) or not params.is_typeddict(types.query))
    op = operation_of(method)
    stored = _decide(ctx, method, op, body, query, values)
    streaming = body.get("stream") is True or query.get("stream") is True
    return _render(ctx, method, types, op, stored, body, values, streaming)


def _check(ctx: Ctx, data: dict[str, Any], params_type: type, path_values: dict[str, str]) -> None:
    """``ctx.validate``, with the path parameters the params type also names (``project_id``)
    counted as given."""
    if not params.is_typeddict(params_type):  # a union of TypedDicts (the method's overloads)
        members = [m for m in getattr(params_type, "__args__", ()) if params.is_typeddict(m)]
        if not members:
            return
        first: errors.OpenAIError | None = None
        for member in members:
            try:
                _check(ctx, dict(data), member, path_values)
            except errors.OpenAIError as exc:
                first = first or exc
                continue
            _check(ctx, data, member, path_values)
            return
        assert first is not None
        raise first
    names = params.param_names(params_type)
    added = [key for key in path_values if key in names and key not in data]
    for key in added:
        data[key] = path_values[key]
    try:
        ctx.validate(data, params_type)
    finally:
        for key in added:
            data.pop(key, None)


def _validated_body(ctx: Ctx, method: SdkMethod, types: Any, path_values: dict[str, str]) -> dict[str, Any]:
    if ctx.request.mimetype == "multipart/form-data":
        body: dict[str, Any] = {}
        for key in ctx.request.form:
            values = ctx.request.form.getlist(key)
            name = key.removesuffix("[]")
            value: Any = values if key.endswith("[]") or len(values) > 1 else values[0]
            if "[" in name:  # expires_after[anchor]=created_at: a field of an object
                name, _, rest = name.partition("[")
                body.setdefault(name, {})[rest.rstrip("]")] = value
            else:
                body[name] = value
        files = {key: True for key in ctx.request.files}
        params_type = types.body_for(body)
        if params_type is not None:
            for wire in sorted(_file_fields(params_type)):
                if wire in body:
                    raise errors.invalid_type(wire, "a file", body[wire])
                if wire in files or f"{wire}[]" in files:
                    body[wire] = _FILE
            for key in files:
                body.setdefault(key.removesuffix("[]"), _FILE)
            _coerce_form(body, params_type)
            _check(ctx, body, params_type, path_values)
        return body
    body = ctx.json() if method.method != "GET" else {}
    params_type = types.body_for(body)
    if params_type is not None:
        _check(ctx, body, params_type, path_values)
    elif body and method.body is None and not method.has_body:
        raise errors.unknown_parameter(next(iter(body)))
    return body


#: A file part of a multipart upload, as the validated body holds it.
_FILE = object()


def _validated_query(ctx: Ctx, query_type: Any, path_values: dict[str, str], *, fixed: tuple[str, ...] = (), shared: bool = False) -> dict[str, Any]:
    """The query string, read as the params type's values and validated. ``shared``: the SDK
    types the query with the body's params type (``include`` of ``runs.create``): only the keys
    sent are checked, against the first member that names them."""
    query: dict[str, Any] = {}
    for key in ctx.request.args:
        if key in fixed or key in _markers():
            continue
        values = ctx.request.args.getlist(key)
        if key.endswith("[]"):
            query[key[:-2]] = values
        elif "[" in key:  # metadata[k]=v: a nested object
            name, _, rest = key.partition("[")
            query.setdefault(name, {})[rest.rstrip("]")] = values[-1]
        else:
            query[key] = values if len(values) > 1 else values[0]
    if query_type is None:
        return query
    if shared:
        members = [m for m in getattr(query_type, "__args__", (query_type,)) if params.is_typeddict(m)]
        for key in list(query):
            naming = [m for m in members if key in params.param_names(m)]
            if not naming:
                if ctx.provider.reject_unknown_params:
                    raise errors.unknown_parameter(key)
                continue
            problem: errors.OpenAIError | None = None
            for member in naming:  # fits any of them (``stream=true``: the streaming member)
                field = params._fields(member)[0][key]
                value = _coerce(query[key], field)
                problem = params._problem(value, field, key)
                if problem is None:
                    query[key] = value
                    break
            if problem is not None:
                raise problem
        return query
    _coerce_form(query, query_type)
    _check(ctx, query, query_type, path_values)
    return query


@functools.lru_cache(maxsize=1)
def _markers() -> frozenset[str]:
    """Query parameters an SDK path carries as a marker of its flavour (``?beta=true``)."""
    return frozenset(key for method in sdk_methods() for key in method.fixed_query)


def _coerce_form(data: dict[str, Any], params_type: type) -> None:
    """Form fields and query values are strings: read them as the params type's scalars."""
    if not params.is_typeddict(params_type):
        members = [m for m in getattr(params_type, "__args__", ()) if params.is_typeddict(m)]
        if members:
            _coerce_form(data, members[0])
        return
    fields = params._fields(params_type)[0]
    for key, value in list(data.items()):
        tp = fields.get(key)
        if tp is None:
            continue
        data[key] = _coerce(value, tp)


def _coerce(value: Any, tp: Any) -> Any:
    if value is _FILE:
        return value
    if isinstance(value, dict):  # metadata[k]=v, effective_at[gt]=1: an object's fields
        kind, payload = params._kind(tp)
        members = payload if kind == "union" else (tp,)
        for member in members:
            member_kind, member_payload = params._kind(member)
            if member_kind == "object":
                fields = params._fields(member_payload)[0]
                return {k: _coerce(v, fields[k]) if k in fields else v for k, v in value.items()}
        return value
    if isinstance(value, list):
        kind, payload = params._kind(tp)
        if kind == "array":
            return [_coerce(v, payload) for v in value]
        return value
    if not isinstance(value, str):
        return value
    kind, payload = params._kind(tp)
    members = payload if kind == "union" else (tp,)
    for member in members:
        member_kind, member_payload = params._kind(member)
        if member_kind == "scalar":
            name = member_payload[1]
            try:
                if name == "an integer" and re.fullmatch(r"-?\d+", value):
                    return int(value)
                if name == "a number":
                    return float(value)
                if name == "a boolean" and value in ("true", "false"):
                    return value == "true"
            except ValueError:
                pass
        elif member_kind == "array":
            return [value] if value else []
        elif member_kind == "literal" and not member_payload[2]:
            for allowed in member_payload[0]:
                if str(allowed).lower() == value.lower():
                    return allowed
        elif member_kind in ("object", "map"):
            try:
                return json.loads(value)
            except ValueError:
                return value
    return value


@functools.cache
def _file_fields(params_type: type) -> frozenset[str]:
    from openai._types import FileTypes

    found = set()
    if not params.is_typeddict(params_type):
        return frozenset(f for m in getattr(params_type, "__args__", ()) if params.is_typeddict(m) for f in _file_fields(m))
    for name, tp in params._fields(params_type)[0].items():
        if tp is FileTypes or FileTypes in getattr(tp, "__args__", ()) or "FileTypes" in repr(tp) or "IO[bytes]" in repr(tp):
            found.add(name)
    return frozenset(found)


# -- decide ----------------------------------------------------------------------------------


def _collection(ctx: Ctx, template: str, values: dict[str, str]) -> Collection:
    scope = tuple(values[name] for name in re.findall(r"\{(\w+)\}", template))
    noun = template.rstrip("/").rpartition("/")[2]
    return ctx.state.collection(template, scope, noun)


def _require_parents(ctx: Ctx, op: Operation, values: dict[str, str]) -> None:
    if ctx.state.lenient_ids:
        return
    for template, id_param in op.parents:
        collection = _collection(ctx, template, values)
        if values[id_param] not in collection:
            raise _not_found(template, values[id_param], id_param)


def _not_found(template: str, key: str, param: str) -> errors.OpenAIError:
    noun = _noun(template)
    text = NOT_FOUND_TEXTS.get(noun)
    if text is not None:
        return errors.OpenAIError(404, text.format(id=key), param="id")
    return errors.OpenAIError(404, f"No {noun.replace('_', ' ')} found with id '{key}'.", param=param, code="not_found")


def _noun(template: str) -> str:
    last = template.rstrip("/").rpartition("/")[2]
    irregular = {"batches": "batch", "files": "file", "statuses": "status", "entries": "entry", "policies": "policy"}
    if last in irregular:
        return irregular[last]
    return last.removesuffix("s")


@dataclass
class Decided:
    """What ``_decide`` found or made: the stored object (or None) and whether it is new."""

    row: dict[str, Any] | None
    missing: bool = False  # lenient_ids: the id was never created


def _decide(ctx: Ctx, method: SdkMethod, op: Operation, body: dict[str, Any], query: dict[str, Any], values: dict[str, str]) -> Decided:
    _require_parents(ctx, op, values)
    if op.kind in ("retrieve", "update", "delete", "action") and op.collection is not None and op.id_param is not None:
        collection = _collection(ctx, op.collection, values)
        key = values[op.id_param]
        row = collection.find(key)
        if row is None:
            if not ctx.state.lenient_ids:
                raise _not_found(op.collection, key, op.id_param)
            return Decided(None, missing=True)
        if op.kind == "delete":
            collection.delete(key)
        return Decided(row)
    return Decided(None)


# -- render ----------------------------------------------------------------------------------


def _render(
    ctx: Ctx, method: SdkMethod, types: Any, op: Operation, decided: Decided, body: dict[str, Any], values: dict[str, str], streaming: bool
) -> Any:
    if method.binary:
        return Response(_content(method, values), status=200, mimetype="application/octet-stream")
    if method.stream is not None and streaming and types.stream is not None:
        return _stream(ctx, method, types, body, values)
    if op.kind == "list":
        return _page(ctx, method, types, op, values)
    model = types.model
    if model is None:
        return Response(b"", status=200, content_type="application/json")
    # The generated part is a function of the endpoint and the path (cached: generating costs
    # milliseconds); what the request says is reflected into it, ids and clock make it new.
    seed = digest(method.endpoint, values)
    if op.kind == "create":
        row = _instance(model, seed, body, ctx, new_id=True, noun=_noun(op.collection) if op.collection else None)
        if op.collection is not None and "id" in row:
            _collection(ctx, op.collection, values).add(row)
        return row
    if decided.missing:  # lenient_ids: an object the fake never made answers as if it existed
        key = values[op.id_param]  # type: ignore[index]
        row = _instance(model, seed, body if op.kind == "update" else {}, ctx, new_id=False)
        row["id"] = key
        if op.kind == "delete":
            row["deleted"] = True
        return _checked(model, row)
    if op.kind == "retrieve" and decided.row is not None:
        return decided.row
    if op.kind == "update" and decided.row is not None:
        collection = _collection(ctx, op.collection, values)  # type: ignore[arg-type]
        changes, _ = _reflected(model, decided.row, body)
        return collection.update(decided.row["id"], changes)
    if op.kind == "delete" and decided.row is not None:
        row = _instance(model, seed, {}, ctx, new_id=False)
        if "id" in _properties(model):
            row["id"] = decided.row.get("id")
        if "deleted" in _properties(model):
            row["deleted"] = True
        return _checked(model, row)
    if op.kind == "action" and decided.row is not None and _same_kind(model, decided.row):
        changes, _ = _reflected(model, decided.row, body)
        status = _status_after(model, method.verb)
        if status is not None:
            changes["status"] = status
        collection = _collection(ctx, op.collection, values)  # type: ignore[arg-type]
        return collection.update(decided.row["id"], changes)
    return _instance(model, seed, body, ctx, new_id=True)


def _json_safe(body: dict[str, Any]) -> Any:
    return {k: ("<file>" if v is _FILE else v) for k, v in body.items()}


def _content(method: SdkMethod, values: dict[str, str]) -> bytes:
    """The bytes of a ``.content()`` method: deterministic, named after what was asked for."""
    return f"pytest-openai-fake content of {method.endpoint} {stable_json(values)}\n".encode()


def _page(ctx: Ctx, method: SdkMethod, types: Any, op: Operation, values: dict[str, str]) -> dict[str, Any]:
    query = _validated_query(ctx, types.query if params.is_typeddict(types.query) else None, values, fixed=method.fixed_query)
    collection = _collection(ctx, op.collection or method.path, values)
    order = query.get("order") if query.get("order") in ("asc", "desc") else "desc"
    limit = query.get("limit") if isinstance(query.get("limit"), int) else None
    after = query.get("after") if isinstance(query.get("after"), str) else None
    before = query.get("before") if isinstance(query.get("before"), str) else None
    page_name = getattr(types.page, "__name__", "")
    if page_name.startswith(("SyncTokenPage", "AsyncTokenPage")) and isinstance(query.get("page"), str):
        after = query["page"]
    rows = [row for row in collection if _fits(row, types.model)]
    result = _page_of(rows, after=after, before=before, limit=limit, order=order)
    if "NextCursor" in page_name or "TokenPage" in page_name:
        result["next"] = result["last_id"] if result["has_more"] else None
    if page_name in ("SyncPage", "AsyncPage"):
        result = {"object": "list", "data": result["data"]}
    return result


def _page_of(rows: list[dict[str, Any]], **query: Any) -> dict[str, Any]:
    from ..state import page

    return page(rows, key=lambda row: str(row.get("id")), **query)


def _fits(row: dict[str, Any], model: Any) -> bool:
    if model is None:
        return True
    try:
        _adapter(model).validate_python(row)
    except ValidationError:
        return False
    return True


def _stream(ctx: Ctx, method: SdkMethod, types: Any, body: dict[str, Any], values: dict[str, str]) -> Response:
    seed = digest(method.endpoint, values, _json_safe(body), "stream")
    frames = []
    for index in range(2):
        instance = generate_instance(_schema(types.stream), seed + bytes([index]))
        _set_timestamps(instance, ctx)
        name = instance.get("event") if isinstance(instance, dict) else None
        if isinstance(name, str) and name.startswith("thread.") and "data" in instance:
            frames.append(event(instance["data"], name=name))
        else:
            kind = instance.get("type") if isinstance(instance, dict) else None
            frames.append(event(instance, name=kind if isinstance(kind, str) else None))
    frames.append(DONE)
    return sse_response(frames)


# -- generated instances ---------------------------------------------------------------------


@functools.cache
def _adapter(model: Any) -> TypeAdapter[Any]:
    return TypeAdapter(model)


@functools.cache
def _schema(model: Any) -> dict[str, Any]:
    if isinstance(model, type) and issubclass(model, BaseModel):
        return model.model_json_schema()
    return _adapter(model).json_schema()


@functools.cache
def _properties(model: Any) -> dict[str, Any]:
    schema = _schema(model)
    return dict(schema.get("properties", {})) if isinstance(schema, dict) else {}


def _literal_values(model: Any, field: str) -> tuple[Any, ...]:
    schema = _schema(model)
    prop = _properties(model).get(field)
    found: list[Any] = []

    def walk(node: Any) -> None:
        if not isinstance(node, dict):
            return
        if "$ref" in node:
            name = node["$ref"].rpartition("/")[2]
            walk(schema.get("$defs", {}).get(name))
        if "const" in node:
            found.append(node["const"])
        found.extend(node.get("enum", ()))
        for key in ("anyOf", "oneOf", "allOf"):
            for branch in node.get(key, ()):
                walk(branch)

    walk(prop)
    return tuple(dict.fromkeys(found))


def _object_kind(model: Any) -> str | None:
    values = _literal_values(model, "object")
    return values[0] if values and isinstance(values[0], str) else None


def _prefix(model: Any, noun: str | None) -> str:
    """The id prefix: by the model's ``object`` literal, else by the collection's noun."""
    kind = _object_kind(model)
    if kind is not None:
        return ID_PREFIXES.get(kind) or kind.rpartition(".")[2] + "_"
    if noun is not None:
        return ID_PREFIXES.get(noun) or noun + "_"
    return "obj_"


def _instance(model: Any, seed: bytes, body: dict[str, Any], ctx: Ctx, *, new_id: bool, noun: str | None = None) -> dict[str, Any]:
    instance = _generated(model, seed)
    if not isinstance(instance, dict):
        return instance
    properties = _properties(model)
    if new_id and "id" in properties and isinstance(instance.get("id"), str):
        instance["id"] = ctx.ids.next(_prefix(model, noun))
    _set_timestamps(instance, ctx)
    for key in properties:  # a new object has not been archived, cancelled, completed ... yet
        if key.endswith("_at") and key not in ("created_at", "expires_at") and _nullable(model, key):
            instance[key] = None
    if "status" in properties and isinstance(instance.get("status"), str):
        allowed = _literal_values(model, "status")
        instance["status"] = next((s for s in _CREATED_STATUS if s in allowed), None) or (instance["status"] if allowed else "active")
    changes, validated = _reflected(model, instance, body)
    instance.update(changes)
    return instance if validated else _checked(model, instance)


@functools.cache
def _nullable(model: Any, field: str) -> bool:
    prop = _properties(model).get(field, {})
    return any(branch.get("type") == "null" for branch in prop.get("anyOf", ())) if isinstance(prop, dict) else False


def _generated(model: Any, seed: bytes) -> Any:
    """A fresh copy of the instance of ``model`` for ``seed`` (generated once; kept as JSON text,
    as parsing it is several times cheaper than copying the objects)."""
    return json.loads(_generated_once(model, seed))


@functools.lru_cache(maxsize=2048)
def _generated_once(model: Any, seed: bytes) -> str:
    return json.dumps(generate_instance(_schema(model), seed))


def _set_timestamps(instance: Any, ctx: Ctx) -> None:
    if isinstance(instance, dict):
        for key in ("created_at", "created"):
            if isinstance(instance.get(key), int) and not isinstance(instance.get(key), bool):
                instance[key] = ctx.clock.now()


def _reflected(model: Any, instance: dict[str, Any], body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The body's values for fields of the same name whose type they fit (checked with the
    model), and whether the instance with them applied passed the model (so the caller need not
    validate it again; a create's one validation is most of its cost)."""
    properties = _properties(model)
    changes = {k: v for k, v in body.items() if k in properties and v is not _FILE and k not in ("id", "object")}
    if not changes:
        return {}, False
    candidate = {**instance, **changes}
    for _ in range(3):
        try:
            _adapter(model).validate_python(candidate)
            return changes, True
        except ValidationError as exc:
            bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"] and str(e["loc"][0]) in changes}
            if not bad:
                return changes, False
            for key in bad:
                changes.pop(key)
                candidate[key] = instance.get(key)
    return {}, False


def _checked(model: Any, instance: dict[str, Any]) -> dict[str, Any]:
    _adapter(model).validate_python(instance)  # a failure here is a bug in the fake: it fails the test
    return instance


def _same_kind(model: Any, row: dict[str, Any]) -> bool:
    kind = _object_kind(model)
    return kind is not None and row.get("object") == kind


#: The status an action leaves an object in, where the model's ``status`` is a plain string.
_STATUS_AFTER = {"cancel": "cancelled", "archive": "archived", "pause": "paused", "resume": "active", "complete": "completed"}


def _status_after(model: Any, verb: str) -> str | None:
    allowed = [s for s in _literal_values(model, "status") if isinstance(s, str)]
    if not allowed:
        return _STATUS_AFTER.get(verb) if "status" in _properties(model) else None
    stem = verb.rstrip("e")[:5]
    matching = [s for s in allowed if s.startswith(stem)]
    for status in matching:
        if status.endswith("ed"):
            return status
    return matching[0] if matching else None



# -- for hand-written families ---------------------------------------------------------------


@functools.cache
def sdk_method(endpoint: str) -> SdkMethod:
    """The SDK method named ``endpoint`` (``"files.create"``)."""
    return next(method for method in sdk_methods() if method.endpoint == endpoint)


def validated(ctx: Ctx, endpoint: str, values: dict[str, str] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The body and query of a call to ``endpoint``, validated as the generic route validates
    them (the SDK's params types; a multipart file part is ``FILE_PART``): what a hand-written
    handler of the family starts with."""
    method = sdk_method(endpoint)
    types = method.types()
    path_values = values or {}
    body = _validated_body(ctx, method, types, path_values)
    shared = types.query in (types.body, types.body_alt) or not params.is_typeddict(types.query)
    query = _validated_query(ctx, types.query, path_values, fixed=method.fixed_query, shared=shared)
    return body, query


#: The value ``validated`` gives a multipart file part.
FILE_PART = _FILE
