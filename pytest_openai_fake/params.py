"""Request validation against the installed SDK's ``*_params.py`` TypedDicts.

The SDK is the spec: ``openai.types.chat.completion_create_params.CompletionCreateParamsBase``
lists every argument chat completions accepts and its type. ``validate(body, Params)`` checks a
request body against such a TypedDict and raises the real API's 400s:

- an argument the TypedDict does not name -> ``Unrecognized request argument supplied: x``
- a missing ``Required`` key -> ``Missing required parameter: 'messages[0].role'.``
- a wrong JSON type -> ``Invalid type for 'n': expected an integer, but got a string instead.``
- a value outside a ``Literal`` -> ``Invalid value: 'robot'. Supported values are: ...``

``null`` for an optional key means "not given", as the real API reads it (LiteLLM sends
``"encoding_format": null`` on every embeddings call, llama-index ``"user": null`` on every
Responses call): ``validate`` removes such keys from the body, at the top and inside nested
objects, so handlers see exactly what they see when the key is left out. A required key sent as
``null`` is still checked against its type (``Invalid type for 'model': expected a string, but
got null instead.``).

Unions of TypedDicts (message params, content parts) are matched on their ``Literal`` key
(``role``, ``type``). Keys unknown inside nested objects are let through, as the real API
mostly does.
"""

from __future__ import annotations

import collections.abc
import functools
import types
import typing
from typing import Any, Iterable, Literal, Union

import typing_extensions

from . import errors

__all__ = ["validate", "param_names"]

_TypedDictMeta = (type(typing_extensions.TypedDict("_X", {})), type(typing.TypedDict("_Y", {})))


def is_typeddict(tp: Any) -> bool:
    return isinstance(tp, type) and isinstance(tp, _TypedDictMeta) and hasattr(tp, "__annotations__")


#: ``Required[Optional[...]]`` keys the real API lets a request leave out (TypedDict name, key).
#: Responses function tools: "If you omit strict ... Responses requests will attempt to normalize
#: your schema into strict mode" (OpenAI's function calling guide, as quoted in vercel/ai#15889
#: and 0xPlaygrounds/rig#2477); ``parameters`` is optional there as in chat.
OMITTABLE = frozenset(
    (td, key) for td in ("FunctionToolParam", "BetaFunctionToolParam") for key in ("strict", "parameters")
)


@functools.lru_cache(maxsize=None)
def _fields(td: type) -> tuple[dict[str, Any], frozenset[str], frozenset[str]]:
    """Wire name -> type, the wire names that are required, and those the SDK marks optional
    (where ``null`` means "not given"; ``OMITTABLE`` keys are ``Required[Optional[...]]``: their
    ``null`` is a value)."""
    hints = typing_extensions.get_type_hints(td, include_extras=True)
    fields: dict[str, Any] = {}
    required: set[str] = set()
    optional: set[str] = set()
    # Totality per key (inheritance-aware) is right in __required_keys__; the Required/NotRequired
    # wrappers are not, with postponed annotations, so those are read from the hints.
    by_totality = getattr(td, "__required_keys__", frozenset())
    for name, tp in hints.items():
        wire = name
        base, metadata = _strip(tp)
        for meta in metadata:
            alias = getattr(meta, "alias", None)
            if isinstance(alias, str):
                wire = alias
        fields[wire] = base
        # With postponed annotations __required_keys__ is unreliable; read the wrappers instead.
        marks = _marks(tp)
        if not (_REQUIRED & marks or (name in by_totality and not _NOT_REQUIRED & marks)):
            optional.add(wire)
        elif (td.__name__, wire) not in OMITTABLE:
            required.add(wire)
    return fields, frozenset(required), frozenset(optional)


def _marks(tp: Any) -> set[Any]:
    marks = set()
    while True:
        origin = typing_extensions.get_origin(tp)
        if origin is typing_extensions.Annotated or origin is typing.Annotated:
            tp = tp.__origin__
        elif origin in _WRAPPERS:
            marks.add(origin)
            tp = typing_extensions.get_args(tp)[0]
        else:
            return marks


def param_names(td: type) -> frozenset[str]:
    return frozenset(_fields(td)[0])


def _strip(tp: Any) -> tuple[Any, list[Any]]:
    """Remove Annotated / Required / NotRequired / ReadOnly wrappers, keeping Annotated metadata.

    Not cached itself: its callers (``_fields``, ``_kind``, ``_discriminators``) are.
    """
    metadata: list[Any] = []
    while True:
        origin = typing_extensions.get_origin(tp)
        if origin is typing_extensions.Annotated or origin is typing.Annotated:
            metadata.extend(getattr(tp, "__metadata__", ()))
            tp = tp.__origin__
        elif origin in _WRAPPERS:
            tp = typing_extensions.get_args(tp)[0]
        else:
            return tp, metadata


_REQUIRED = {w for w in (getattr(typing, "Required", None), typing_extensions.Required) if w is not None}
_NOT_REQUIRED = {w for w in (getattr(typing, "NotRequired", None), typing_extensions.NotRequired) if w is not None}
_WRAPPERS = {
    w
    for w in (
        getattr(typing, "Required", None),
        getattr(typing, "NotRequired", None),
        getattr(typing, "ReadOnly", None),
        typing_extensions.Required,
        typing_extensions.NotRequired,
        getattr(typing_extensions, "ReadOnly", None),
    )
    if w is not None
}


def validate(body: dict[str, Any], params: type, *, allow_unknown: bool = False) -> None:
    """Raise an ``errors.OpenAIError`` (400) if ``body`` does not fit the TypedDict ``params``;
    else remove the optional keys sent as ``null`` from it (and from the objects inside it)."""
    fields, required, optional = _fields(params)
    if not allow_unknown:
        for key in body:
            if key not in fields:
                raise errors.unknown_parameter(key)
    for key in sorted(required):
        if key not in body:
            raise errors.missing_required(key)
    nulls = []
    for key, value in body.items():
        if value is None and key in optional:
            nulls.append(key)
        elif key in fields:
            _check(value, fields[key], key)
    for key in nulls:
        del body[key]


def _check(value: Any, tp: Any, path: str) -> None:
    problem = _problem(value, tp, path)
    if problem is not None:
        raise problem


_KINDS: dict[int, tuple[Any, str, Any]] = {}


def _kind(tp: Any) -> tuple[str, Any]:
    """Classify an annotation once (cached by identity: hashing big Literals is slow)."""
    cached = _KINDS.get(id(tp))
    if cached is not None and cached[0] is tp:
        return cached[1], cached[2]
    base, _ = _strip(tp)
    origin = typing_extensions.get_origin(base)
    kind: str
    payload: Any = None
    if base is Any or base is object:
        kind = "any"
    elif origin is Union or origin is types.UnionType:
        kind, payload = "union", tuple(_strip(m)[0] for m in typing_extensions.get_args(base))
    elif origin is Literal or origin is typing_extensions.Literal:
        allowed = typing_extensions.get_args(base)
        kind, payload = "literal", (allowed, frozenset(allowed), all(isinstance(a, str) for a in allowed))
    elif is_typeddict(base):
        kind, payload = "object", base
    elif base in _SCALARS:
        kind, payload = "scalar", _SCALARS[base]
    elif origin in _SEQUENCES or base in _SEQUENCES:
        args = typing_extensions.get_args(base)
        kind, payload = "array", (args[0] if args else None)
    elif origin in _MAPPINGS or base in _MAPPINGS:
        args = typing_extensions.get_args(base)
        kind, payload = "map", (args[1] if len(args) == 2 else None)
    else:  # file uploads, opaque SDK types: accepted as sent
        kind = "any"
    _KINDS[id(tp)] = (tp, kind, payload)
    return kind, payload


def _problem(value: Any, tp: Any, path: str) -> errors.OpenAIError | None:
    """The error for ``value`` at ``path`` against type ``tp``, or None if it fits."""
    kind, payload = _kind(tp)
    if kind == "any":
        return None
    if kind == "scalar":
        accepts, name = payload
        return None if accepts(value) else errors.invalid_type(path, name, value)
    if kind == "union":
        return _union_problem(value, payload, path)
    if kind == "literal":
        allowed, allowed_set, all_str = payload
        try:
            if value in allowed_set and any(type(value) is type(a) for a in allowed):
                return None
        except TypeError:  # unhashable value
            pass
        if all_str and not isinstance(value, str):
            return errors.invalid_type(path, "a string", value)
        return errors.invalid_value(path, _supported(value, allowed))
    if kind == "object":
        if not isinstance(value, dict):
            return errors.invalid_type(path, "an object", value)
        fields, required, optional = _fields(payload)
        for key in sorted(required):
            if key not in value:
                return errors.missing_required(f"{path}.{key}")
        nulls = []
        for key, item in value.items():
            if item is None and key in optional:
                nulls.append(key)
            elif key in fields:
                problem = _problem(item, fields[key], f"{path}.{key}")
                if problem is not None:
                    return problem
        for key in nulls:  # only once the object fits: a union may try it against another member
            del value[key]
        return None
    if kind == "array":
        if not isinstance(value, list):
            return errors.invalid_type(path, "an array", value)
        if payload is not None:
            for index, item in enumerate(value):
                problem = _problem(item, payload, f"{path}[{index}]")
                if problem is not None:
                    return problem
        return None
    # kind == "map"
    if not isinstance(value, dict):
        return errors.invalid_type(path, "an object", value)
    if payload is not None:
        for key, item in value.items():
            problem = _problem(item, payload, f"{path}.{key}")
            if problem is not None:
                return problem
    return None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_SCALARS: dict[Any, tuple[Any, str]] = {
    str: (lambda v: isinstance(v, str), "a string"),
    bool: (lambda v: isinstance(v, bool), "a boolean"),
    int: (_is_int, "an integer"),
    float: (_is_number, "a number"),
    type(None): (lambda v: v is None, "null"),
}
_SEQUENCES = {list, tuple, collections.abc.Iterable, collections.abc.Sequence, typing.Iterable, typing.List, typing.Sequence}
_MAPPINGS = {dict, collections.abc.Mapping, typing.Dict, typing.Mapping}


def _union_problem(value: Any, stripped: tuple[Any, ...], path: str) -> errors.OpenAIError | None:
    if isinstance(value, dict):
        dicts = [m for m in stripped if is_typeddict(m)]
        if dicts:
            chosen = _discriminate(value, dicts, path)
            if isinstance(chosen, errors.OpenAIError):
                return chosen
            if chosen is not None:
                return _problem(value, chosen, path)
    problems = []
    for member in stripped:
        problem = _problem(value, member, path)
        if problem is None:
            return None
        problems.append(problem)
    # Prefer the most specific complaint: a wrong value inside the right shape over a wrong type.
    for problem in problems:
        if problem.error_code != "invalid_type" or problem.param != path:
            return problem
    expected = _describe_all(list(stripped))
    return errors.invalid_type(path, expected, value)


@functools.lru_cache(maxsize=None)
def _discriminators(dicts: tuple[type, ...]) -> tuple[tuple[str, tuple[tuple[type, tuple[Any, ...]], ...]], ...]:
    """For a union of TypedDicts: each shared Literal key, with each member's allowed values."""
    candidates: set[str] | None = None
    for td in dicts:
        fields = _fields(td)[0]
        keys = {k for k, t in fields.items() if typing_extensions.get_origin(_strip(t)[0]) in (Literal, typing_extensions.Literal)}
        candidates = keys if candidates is None else candidates & keys
    return tuple(
        (key, tuple((td, typing_extensions.get_args(_strip(_fields(td)[0][key])[0])) for td in dicts))
        for key in sorted(candidates or ())
    )


def _discriminate(value: dict[str, Any], dicts: list[type], path: str) -> type | errors.OpenAIError | None:
    if len(dicts) == 1:
        return dicts[0]
    for key, members in _discriminators(tuple(dicts)):
        allowed: list[Any] = []
        matched: list[type] = []
        for td, literal_values in members:
            allowed.extend(literal_values)
            if key in value and value[key] in literal_values:
                matched.append(td)
        if matched:
            if len(matched) == 1:
                return matched[0]
            if len(matched) < len(dicts):  # narrowed (``type: "message"``): the next key decides (``role``)
                return _discriminate(value, matched, path)
            continue  # every member takes this value: another key may tell them apart
        if key not in value and not all(key in _fields(td)[1] for td in dicts):
            continue  # an optional key (``object: "realtime.item"``) tells nothing when absent
        if key not in value:
            return errors.missing_required(f"{path}.{key}")
        if not isinstance(value[key], str) and all(isinstance(a, str) for a in allowed):
            return errors.invalid_type(f"{path}.{key}", "a string", value[key])
        return errors.invalid_value(f"{path}.{key}", _supported(value[key], tuple(dict.fromkeys(allowed))))
    return None


def _supported(value: Any, allowed: Iterable[Any]) -> str:
    shown = [repr(a) if isinstance(a, str) else str(a) for a in allowed]
    if len(shown) > 1:
        listing = ", ".join(shown[:-1]) + (", and " if len(shown) > 2 else " and ") + shown[-1]
    else:
        listing = "".join(shown)
    return f"Invalid value: {value!r}. Supported values are: {listing}."


def _describe(tp: Any) -> str:
    kind, payload = _kind(tp)
    if kind == "scalar":
        return payload[1]
    if kind == "literal":
        return "a string" if payload[2] else "a value"
    return {"array": "an array", "union": "a value", "any": "a value"}.get(kind, "an object")


def _describe_all(members: list[Any]) -> str:
    names = list(dict.fromkeys(_describe(m) for m in members))
    if len(names) == 1:
        return names[0]
    return "one of " + ", ".join(names[:-1]) + " or " + names[-1]
