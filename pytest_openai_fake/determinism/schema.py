"""A JSON value valid for a JSON Schema, derived deterministically from (schema, seed).

The fake answers ``response_format={"type": "json_schema", ...}`` and tool calls with
instances made here, seeded with a hash of the request: the same request always gets the
same instance, another request (usually) a different one. ``generate_instance`` is a pure
function of its arguments (no clock, no global random state, no dict-order surprises, safe
to call from many threads), uses only the standard library, and understands Draft 2020-12
plus draft-07 ``definitions``, tuple ``items``/``additionalItems`` and draft-04 boolean
``exclusiveMinimum``/``exclusiveMaximum``.

What you get, so that a test can predict it:

- ``enum`` and ``const`` win over everything else: one of the listed values that satisfies the
  rest of the schema, picked by the seed.
- ``type``: a single type is used as is; from a list, the first non-null type in the list's
  order (``["string", "null"]`` gives a string). ``integer`` gives an ``int``, ``number`` a
  ``float``. Without ``type`` the keywords decide (``properties`` means an object, ``items`` an
  array, ``minLength``/``pattern``/``format`` a string, ``minimum``/``multipleOf`` a number); an
  empty schema ``{}`` or ``true`` gives a plain string.
- ``anyOf``/``oneOf``: the first non-null branch in schema order (``Optional[X]`` gives an
  ``X``, pydantic's number-or-string ``Decimal`` a number). When every non-null branch is an
  object (a union of models such as ``Union[Cat, Dog]``) the seed picks the branch. A branch
  that contradicts the rest of the schema is skipped. For ``oneOf`` a value that also matches
  another branch is regenerated, so a discriminated union gets its branch's own ``const``.
  ``allOf`` is merged; ``$ref`` (local: ``#/$defs/...``, ``#/definitions/...``, ``#``,
  ``#anchor``, percent and ``~0``/``~1`` escapes) is followed and merged with its siblings;
  ``if``/``then``/``else`` takes the ``if`` + ``then`` side when it can; ``not`` is checked on
  the result (and used directly for ``type``, ``required`` and number bounds).
- Objects list their properties in schema order. Every declared property is included, required
  or not, unless ``maxProperties`` leaves no room (required ones go first) or the generator is
  deep in a recursion (see below). An object that declares no properties but has an
  ``additionalProperties`` schema (pydantic's ``dict[str, int]``) gets one to three keys, plain
  words such as ``"river"`` (or names valid for ``propertyNames``); ``minProperties`` is met with
  more such keys or with names made for ``patternProperties``.
- Arrays: tuples (``prefixItems``) are filled completely; otherwise one to three items (seed),
  always within ``minItems``/``maxItems``. ``uniqueItems`` gives distinct items;
  ``contains``/``minContains`` are met by the first items.
- Strings are two plain words from a fixed vocabulary (``"river lantern"``), cut or extended to
  fit ``minLength``/``maxLength`` (counted in code points). ``format`` gives a well-formed value:
  ``date-time`` ``2026-03-14T09:26:53Z`` (a moment in 2026, UTC), ``date`` ``2026-03-14``,
  ``time`` ``09:26:53Z``, ``duration`` ``P3DT4H``, ``email``/``idn-email``
  ``river.lantern@example.com``, ``hostname`` ``river-lantern.example.com``, ``ipv4``
  (192.0.2.0/24), ``ipv6`` (2001:db8::/32), ``uuid`` (version 4), ``uri``/``iri``/
  ``uri-reference`` ``https://example.com/river/lantern``, ``uri-template``, ``json-pointer``,
  ``relative-json-pointer``, ``regex``, ``base64``; unknown formats are ignored. ``pattern``
  gives a string built from the regular expression's parse tree (unbounded repeats kept short,
  letters spelled from the same words where the pattern allows, lengths fitted to
  ``minLength``/``maxLength``) and checked with ``re.search``. Lookarounds are only checked,
  not built; a pattern Python cannot compile is ignored.
- Numbers: integers from 0..100 and floats from 0..100 with two decimals, moved next to the
  bounds when ``minimum``/``maximum``/``exclusiveMinimum``/``exclusiveMaximum`` exclude that
  range, and always a multiple of every ``multipleOf`` (checked with the float division
  validators use, so ``multipleOf: 0.01`` holds). Booleans come from the seed.
- Recursion: a ``$ref`` entered a second time on the way down (a tree node inside a tree
  node), or nesting deeper than 8 levels, switches to the terminating choices: the null or simplest
  branch of ``anyOf``/``oneOf`` and type lists, only the required properties, the shortest
  allowed arrays. A ``$ref`` met five times, or nesting deeper than 48 levels, means the
  schema has no finite instance.
- Limits: at most 10,000 characters, items or properties in one value, and a fixed amount of
  work per call.

``SchemaError`` (a ``ValueError``) means no instance exists or none was found within the limits:
the schema is ``false``, an ``enum`` is empty or none of its values fits, ``minimum > maximum``,
a required property's schema is ``false``, a ``$ref`` does not resolve, a recursion never ends,
... Its message starts with the JSON pointer of the subschema at fault, e.g.
``#/properties/age: minimum 5 is not below maximum 3``. When a ``not``/``oneOf`` check still
fails after a few reseeded attempts, the first attempt's value is returned as a best effort.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from . import _WORDS

try:  # Python 3.11+
    from re import _parser as _sre  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse as _sre  # type: ignore[no-redef]

__all__ = ["SchemaError", "generate_instance"]

_SOFT_DEPTH = 8  # deeper than this, prefer the terminating choices
_HARD_DEPTH = 48  # deeper than this, give up
_RECURSION = 2  # a $ref entered this many times on the way down counts as deep
_GIVE_UP = 5  # entered this many times: the terminating choices did not terminate
_MAX_ALTERNATIVES = 8  # anyOf/oneOf/if combinations tried per subschema
_ROUNDS = 4  # reseeded attempts when a not/oneOf check or a search fails
_BUDGET = 60_000  # units of work per call
_MAX_SIZE = 10_000  # characters in a string, items in an array, properties in an object
_CHARS_PER_UNIT = 16  # string characters that cost one unit of work: about 1 MB of text per call

_PLAIN = tuple(w for w in _WORDS if len(w) >= 4)
_TYPE_ORDER = ("object", "array", "string", "number", "integer", "boolean", "null")
_DEEP_RANK = {"null": 0, "boolean": 1, "integer": 1, "number": 1, "string": 1, "array": 2, "object": 3}
_OBJECT_KEYS = frozenset(
    "properties required additionalProperties patternProperties minProperties maxProperties "
    "propertyNames dependentRequired dependentSchemas dependencies unevaluatedProperties".split()
)
_ARRAY_KEYS = frozenset(
    "items prefixItems additionalItems minItems maxItems uniqueItems contains minContains maxContains "
    "unevaluatedItems".split()
)
_STRING_KEYS = frozenset("minLength maxLength pattern format contentEncoding contentMediaType".split())
_NUMBER_KEYS = frozenset("minimum maximum exclusiveMinimum exclusiveMaximum multipleOf".split())
_HINTS = (("object", _OBJECT_KEYS), ("array", _ARRAY_KEYS), ("string", _STRING_KEYS), ("number", _NUMBER_KEYS))
_EPOCH_2026 = datetime(2026, 1, 1, tzinfo=timezone.utc)
_MISSING = object()


class SchemaError(ValueError):
    """No instance of the schema could be made. ``pointer`` is the JSON pointer of the subschema."""

    def __init__(self, pointer: str, reason: str) -> None:
        super().__init__(pointer, reason)
        self.pointer = pointer
        self.reason = reason
        self.soft = False  # a failed search (reseeding may help), not a contradiction

    def __str__(self) -> str:
        return f"{self.pointer}: {self.reason}"


def _soft(pointer: str, reason: str) -> SchemaError:
    err = SchemaError(pointer, reason)
    err.soft = True
    return err


def generate_instance(schema: Mapping[str, Any] | bool, seed: bytes | str = b"") -> Any:
    """A JSON value valid for `schema`, derived deterministically from (schema, seed)."""
    if isinstance(seed, str):
        seed = seed.encode("utf-8", "surrogatepass")
    elif isinstance(seed, (bytearray, memoryview)):
        seed = bytes(seed)
    elif not isinstance(seed, bytes):
        raise TypeError(f"seed must be bytes or str, not {type(seed).__name__}")
    if not isinstance(schema, (bool, Mapping)):
        raise SchemaError("#", f"a schema must be a JSON object or a boolean, not {type(schema).__name__}")
    root_seed = hashlib.blake2b(b"pytest-openai-fake/schema\x00" + seed, digest_size=16).digest()
    return _Generator(schema).generate(root_seed)


# --------------------------------------------------------------------------------------------
# Small deterministic helpers


def _child(seed: bytes, key: str) -> bytes:
    return hashlib.blake2b(seed + b"\x00" + key.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class _Rng:
    """Draws derived from a seed and a counter; the same seed gives the same draws."""

    __slots__ = ("_seed", "_n", "_buf", "_pos")

    def __init__(self, seed: bytes) -> None:
        self._seed = seed
        self._n = 0
        self._buf = b""
        self._pos = 0

    def bytes(self, size: int) -> bytes:  # size <= 64
        if self._pos + size > len(self._buf):
            self._n += 1
            self._buf = hashlib.blake2b(self._seed + self._n.to_bytes(4, "little"), digest_size=64).digest()
            self._pos = 0
        self._pos += size
        return self._buf[self._pos - size : self._pos]

    def below(self, n: int) -> int:
        if n <= 1:
            return 0
        size = 8 if n < 1 << 32 else min(64, (n.bit_length() + 71) // 8)
        return int.from_bytes(self.bytes(size), "little") % n

    def between(self, lo: int, hi: int) -> int:
        return lo + self.below(hi - lo + 1)

    def pick(self, seq: Any) -> Any:
        return seq[self.below(len(seq))]


def _key(value: Any) -> Any:
    """A hashable form with JSON equality: 1 == 1.0, but True != 1."""
    if value is None:
        return ("z",)
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, (int, float)):
        return ("n", value)
    if isinstance(value, str):
        return ("s", value)
    if _is_map(value):
        return ("o", frozenset((k, _key(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return ("a", tuple(_key(v) for v in value))
    return ("?", repr(value))


def _copy(value: Any) -> Any:
    if _is_map(value):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_copy(v) for v in value]
    return value


_NOT_MAPS = frozenset((str, int, float, bool, type(None), list, tuple))


def _is_map(x: Any) -> bool:
    return type(x) is dict or (type(x) not in _NOT_MAPS and isinstance(x, Mapping))


def _is_num(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and (not isinstance(x, float) or math.isfinite(x))


def _is_type(value: Any, t: Any) -> bool:
    if t == "string":
        return isinstance(value, str)
    if t == "integer":
        if isinstance(value, bool):
            return False
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if t == "object":
        return _is_map(value)
    if t == "array":
        return isinstance(value, (list, tuple))
    if t == "boolean":
        return isinstance(value, bool)
    if t == "null":
        return value is None
    return False


def _types_of(t: Any) -> frozenset[str]:
    if type(t) is str:
        hit = _TYPE_SETS.get(t)
        if hit is not None:
            return hit
    names = {t} if isinstance(t, str) else {x for x in t if isinstance(x, str)} if isinstance(t, list) else set()
    if "number" in names:
        names.add("integer")  # a number may be an integer; "integer" alone means only integers
    return frozenset(names)


_TYPE_SETS: dict[str, frozenset[str]] = {}
_TYPE_SETS.update((t, _types_of(t)) for t in _DEEP_RANK)
_COMPOSITE = frozenset(("$ref", "$dynamicRef", "allOf", "anyOf", "oneOf", "not", "if", "const", "enum"))


_ANNOTATIONS = frozenset(
    "title description default examples $comment deprecated readOnly writeOnly $id $schema $anchor "
    "$dynamicAnchor $defs definitions $vocabulary".split()
)


def _allows_all(s: Any, depth: int = 0) -> bool:
    """True for schemas that obviously accept every value ({}, true, anyOf with such a branch...)."""
    if s is True:
        return True
    if not _is_map(s) or depth > 4:
        return False
    for key, value in s.items():
        if key in _ANNOTATIONS:
            continue
        if key == "anyOf" and isinstance(value, list) and any(_allows_all(b, depth + 1) for b in value):
            continue
        if key == "allOf" and isinstance(value, list) and all(_allows_all(b, depth + 1) for b in value):
            continue
        return False
    return True


def _esc(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except (re.error, RecursionError, OverflowError):
        return None


def _search(pattern: Any, text: str) -> bool:
    """JSON Schema patterns are unanchored; a pattern Python cannot compile counts as matching."""
    if not isinstance(pattern, str):
        return True
    compiled = _compiled(pattern)
    return compiled is None or compiled.search(text) is not None


def _frac_lcm(a: Fraction, b: Fraction) -> Fraction:
    return Fraction(math.lcm(a.numerator, b.numerator), math.gcd(a.denominator, b.denominator))


def _multiple_ok(value: Any, m: Any) -> bool:
    """The check validators make (jsonschema's float division, exact for integers)."""
    if isinstance(m, float):
        try:
            q = value / m
            return int(q) == q
        except OverflowError:
            return (Fraction(value) / Fraction(m)).denominator == 1
        except (ValueError, ZeroDivisionError):
            return False
    try:
        return not (value % m)
    except ZeroDivisionError:
        return False


class _Flat:
    """One way of reading a subschema: the dicts that all apply (refs followed, allOf merged,
    one branch of each anyOf/oneOf/if chosen), the allowed types and values, and what has to be
    checked on the result (``not``, the other ``oneOf`` branches)."""

    __slots__ = ("parts", "types", "enum", "checks", "refs")

    def __init__(self, parts: tuple, types: frozenset | None, enum: tuple | None, checks: tuple, refs: tuple):
        self.parts = parts
        self.types = types
        self.enum = enum
        self.checks = checks
        self.refs = refs


class _ObjectPlan:
    """The object keywords of a set of parts, merged."""

    def __init__(self, parts: tuple) -> None:
        self.parts = parts
        self.declared: dict[str, str] = {}  # name -> pointer, in schema order
        self.required: dict[str, str] = {}
        self.min_p, self.max_p = 0, _MAX_SIZE
        self.dep_required: dict[str, list] = {}
        self.dep_schemas: list[tuple[str, Any, str]] = []
        self.name_schemas: list[tuple[Any, str]] = []
        self.patterns: list[str] = []
        self.open_schema = False  # an additionalProperties schema: a map type
        self.closed = False
        self._entries: dict[str, tuple | None] = {}

    def entries(self, gen: _Generator, name: str) -> tuple | None:
        if name not in self._entries:
            self._entries[name] = gen._prop_entries(self.parts, name)
        return self._entries[name]


# --------------------------------------------------------------------------------------------
# The generator


class _Generator:
    def __init__(self, root: Mapping[str, Any] | bool) -> None:
        self.root = root
        self.budget = _BUDGET
        self.refs: dict[str, tuple[Any, str]] = {}
        self.anchors: dict[str, tuple[Any, str]] | None = None
        self.why = ""  # why the last alternative was pruned
        self.plans: dict[tuple, _ObjectPlan] = {}

    def generate(self, seed: bytes) -> Any:
        return self.gen((("#", self.root),), "#", seed, 0, ())

    def tick(self, pointer: str, cost: int = 1) -> None:
        self.budget -= cost
        if self.budget < 0:
            raise SchemaError(pointer, "too much work: the schema is too large or too constrained to generate")

    # -- references ------------------------------------------------------------------------

    def resolve(self, ref: str, pointer: str) -> tuple[Any, str]:
        hit = self.refs.get(ref)
        if hit is not None:
            return hit
        base, _, fragment = ref.partition("#")
        root_id = self.root.get("$id") if _is_map(self.root) else None
        if base and base != root_id:
            raise SchemaError(pointer, f"cannot resolve $ref {ref!r}: only references inside the schema are supported")
        fragment = unquote(fragment)
        node: Any = self.root
        if fragment.startswith("/"):
            for token in fragment[1:].split("/"):
                token = token.replace("~1", "/").replace("~0", "~")
                if _is_map(node) and token in node:
                    node = node[token]
                elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                    node = node[int(token)]
                else:
                    raise SchemaError(pointer, f"$ref {ref!r} does not resolve: no {token!r}")
            target = (node, "#" + fragment)
        elif fragment:
            if self.anchors is None:
                self.anchors = {}
                self._collect_anchors(self.root, "#", 0)
            if fragment not in self.anchors:
                raise SchemaError(pointer, f"$ref {ref!r} does not resolve: no $anchor {fragment!r}")
            target = self.anchors[fragment]
        else:
            target = (self.root, "#")
        if not isinstance(target[0], (bool, Mapping)):
            raise SchemaError(pointer, f"$ref {ref!r} points to a {type(target[0]).__name__}, not a schema")
        self.refs[ref] = target
        return target

    def _collect_anchors(self, node: Any, pointer: str, depth: int) -> None:
        if depth > 64:
            return
        if _is_map(node):
            for key in ("$anchor", "$dynamicAnchor"):
                name = node.get(key)
                if isinstance(name, str):
                    self.anchors.setdefault(name, (node, pointer))  # type: ignore[union-attr]
            for k, v in node.items():
                if k not in ("enum", "const", "default", "examples") and isinstance(v, (Mapping, list)):
                    self._collect_anchors(v, f"{pointer}/{_esc(str(k))}", depth + 1)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                self._collect_anchors(v, f"{pointer}/{i}", depth + 1)

    # -- flattening --------------------------------------------------------------------------

    def flats(self, entries: tuple, seed: bytes, depth: int, refs: tuple) -> Iterator[_Flat]:
        if len(entries) == 1:  # fast path: one plain subschema, nothing to merge or choose
            s = entries[0][1]
            if type(s) is dict and not _COMPOSITE.intersection(s):
                t = s.get("type")
                types = None if t is None else _types_of(t)
                if types is None or types:
                    return iter((_Flat(((s, entries[0][0]),), types, None, (), refs),))
        stack = tuple(("s", ptr, s) for ptr, s in entries)
        return self._flats(stack, (), None, None, (), refs, frozenset(), seed, depth)

    def _flats(
        self,
        stack: tuple,
        parts: tuple,
        types: frozenset | None,
        enum: tuple | None,
        checks: tuple,
        refs: tuple,
        seen: frozenset,
        seed: bytes,
        depth: int,
    ) -> Iterator[_Flat]:
        while stack:
            (kind, ptr, s), stack = stack[0], stack[1:]
            self.tick(ptr)
            if kind == "c":
                for branch, extra in self._order_choice(s, ptr, seed, depth, refs):
                    yield from self._flats(
                        branch + stack, parts, types, enum, checks + extra, refs, seen, seed, depth
                    )
                return
            if s is True:
                continue
            if s is False:
                self.why = f"{ptr}: the schema is false, no value is valid"
                return
            if not _is_map(s):
                raise SchemaError(ptr, f"a schema must be a JSON object or a boolean, not {type(s).__name__}")
            front: list = []
            ref = s.get("$ref", s.get("$dynamicRef"))
            if isinstance(ref, str):
                target, tptr = self.resolve(ref, ptr)
                if refs.count(tptr) >= _GIVE_UP:
                    self.why = f"{ptr}: the recursion through {tptr} never terminates"
                    return
                if tptr not in seen:  # a $ref cycle without nesting adds nothing new
                    seen = seen | {tptr}
                    refs = refs + (tptr,)
                    front.append(("s", tptr, target))
            parts = parts + ((s, ptr),)
            if "type" in s:
                t = _types_of(s["type"])
                types = t if types is None else types & t
                if not types:
                    self.why = f"{ptr}: no type allowed by every subschema"
                    return
            for values in ([s["const"]] if "const" in s else None, s.get("enum")):
                if isinstance(values, list):
                    if enum is None:
                        enum = tuple(values)
                    else:
                        allowed = {_key(v) for v in values}
                        enum = tuple(v for v in enum if _key(v) in allowed)
                    if not enum:
                        self.why = f"{ptr}: no value satisfies every enum/const"
                        return
            nt = s.get("not")
            if nt is not None and _allows_all(nt):
                self.why = f"{ptr}/not: the negation of a schema that allows everything allows nothing"
                return
            if nt is not None:
                checks = checks + (("not", nt, ptr + "/not"),)
                if _is_map(nt) and "type" in nt and set(nt) <= {"type", "title", "description"}:
                    types = (types if types is not None else _types_of(list(_DEEP_RANK))) - _types_of(nt["type"])
                    if not types:
                        self.why = f"{ptr}/not: every type is excluded"
                        return
            all_of = s.get("allOf")
            if isinstance(all_of, list):
                front.extend(("s", f"{ptr}/allOf/{i}", sub) for i, sub in enumerate(all_of))
            for word in ("anyOf", "oneOf"):
                if isinstance(s.get(word), list):
                    front.append(("c", f"{ptr}/{word}", (word, s[word])))
            if "if" in s and ("then" in s or "else" in s):
                front.append(("c", f"{ptr}/if", ("if", s)))
            stack = tuple(front) + stack
        yield _Flat(parts, types, enum, checks, refs)

    def _order_choice(self, choice: tuple, ptr: str, seed: bytes, depth: int, refs: tuple) -> Iterator[tuple]:
        word, payload = choice
        if word == "if":
            s = payload
            base = ptr[: -len("/if")]
            then_ = (("s", ptr, s["if"]), ("s", base + "/then", s.get("then", True)))
            else_ = (("s", base + "/else", s.get("else", True)),)
            yield then_, ()
            yield else_, (("not", s["if"], ptr),)
            return
        branches = payload
        if not branches:
            self.why = f"{ptr}: an empty {word} allows nothing"
            return
        if word == "oneOf" and sum(1 for b in branches if _allows_all(b)) > 1:
            self.why = f"{ptr}: every value matches more than one branch"
            return
        order = self._branch_order(branches, _Rng(_child(seed, "choice" + ptr)), self.is_deep(refs, depth))
        for i in order:
            check = (("oneOf", (branches, i), ptr),) if word == "oneOf" and len(branches) > 1 else ()
            yield (("s", f"{ptr}/{i}", branches[i]),), check

    def _branch_order(self, branches: list, rng: _Rng, deep: bool) -> list[int]:
        ranks = [self._rank(b, 0) for b in branches]
        idx = [i for i in range(len(branches)) if branches[i] is not False]
        if deep:
            return sorted(idx, key=lambda i: ranks[i])
        real = [i for i in idx if ranks[i] > 0]
        nulls = [i for i in idx if ranks[i] == 0]
        if len(real) > 1 and all(ranks[i] >= 3 for i in real):  # a union of models: the seed picks
            k = rng.below(len(real))
            real = real[k:] + real[:k]
        return real + nulls

    def _rank(self, s: Any, hops: int) -> float:
        """0 for null, 1 for scalars, 2 arrays, 3 objects; half a point more behind a $ref."""
        if not _is_map(s):
            return 1
        ref = s.get("$ref")
        if isinstance(ref, str) and hops < 4:
            try:
                target = self.resolve(ref, "#")[0]
            except SchemaError:
                return 3
            return self._rank(target, hops + 1) + 0.5
        t = s.get("type")
        if t == "null" or ("const" in s and s["const"] is None) or s.get("enum") == [None]:
            return 0
        if "const" in s or "enum" in s:
            return 1
        types = _types_of(t) if t is not None else None
        if types is not None:
            return min(_DEEP_RANK.get(x, 3) for x in (types - {"null"} or types)) if types else 3
        if _OBJECT_KEYS & s.keys():
            return 3
        if _ARRAY_KEYS & s.keys():
            return 2
        if "anyOf" in s or "oneOf" in s or "allOf" in s:
            return 2
        return 1

    @staticmethod
    def is_deep(refs: tuple, depth: int) -> bool:
        if depth >= _SOFT_DEPTH:
            return True
        return len(refs) > len(set(refs)) and max(refs.count(r) for r in set(refs)) >= _RECURSION

    # -- one value ---------------------------------------------------------------------------

    def gen(self, entries: tuple, ptr: str, seed: bytes, depth: int, refs: tuple) -> Any:
        """A value satisfying every (pointer, schema) in entries."""
        if depth > _HARD_DEPTH:
            raise SchemaError(ptr, f"nesting deeper than {_HARD_DEPTH} levels: the recursion never terminates")
        self.tick(ptr)
        self.why = ""
        alternatives = self.flats(entries, seed, depth, refs)
        tried: list[_Flat] = []
        first_error: SchemaError | None = None
        best: list = []
        retry = False
        for round_ in range(_ROUNDS):
            i = 0
            while True:
                if round_ == 0:
                    if i >= _MAX_ALTERNATIVES:
                        break
                    flat = next(alternatives, None)
                    if flat is None:
                        break
                    tried.append(flat)
                elif i < len(tried):
                    flat = tried[i]
                else:
                    break
                i += 1
                try:
                    attempt_seed = seed if not round_ else _child(seed, f"retry{round_}")
                    value = self.gen_flat(flat, attempt_seed, depth, ptr, round_)
                except SchemaError as e:
                    if first_error is None:
                        first_error = e
                    retry = retry or e.soft
                    continue
                if not flat.checks or self.checks_pass(value, flat):
                    return value
                retry = True
                if not best:
                    best.append(value)
            if round_ == 0 and not tried:
                where, _, reason = self.why.partition(": ")
                raise SchemaError(where or ptr, reason or "no value satisfies the schema")
            if not retry:
                break
        if best:
            return best[0]  # best effort: a not/oneOf check we could not satisfy
        assert first_error is not None
        raise first_error

    def checks_pass(self, value: Any, flat: _Flat) -> bool:
        for kind, payload, _ in flat.checks:
            if kind == "not":
                if self.valid(value, payload, 0):
                    return False
            else:
                branches, chosen = payload
                if any(j != chosen and self.valid(value, b, 0) for j, b in enumerate(branches)):
                    return False
        return True

    def gen_flat(self, flat: _Flat, seed: bytes, depth: int, ptr: str, round_: int) -> Any:
        rng = _Rng(seed)
        enum = flat.enum
        nulls: list = []
        if enum is None and flat.types is not None and flat.types <= {"boolean", "null"}:
            enum = (True, False) if "boolean" in flat.types else ()  # so few values: try each one
            nulls = [None] if "null" in flat.types else []
        if enum is not None:
            values = list(enum)
            k = rng.below(len(values))
            for v in values[k:] + values[:k] + nulls:
                if all(self.valid(v, s, 0) for s, _ in flat.parts):
                    return _copy(v)
            raise SchemaError(ptr, "no value of enum/const satisfies the other keywords")
        deep = self.is_deep(flat.refs, depth)
        order = self._type_order(flat, deep)
        if round_:
            k = round_ % len(order)
            order = order[k:] + order[:k]
        error: SchemaError | None = None
        for t in order:
            try:
                if t == "object":
                    return self.gen_object(flat, rng, seed, depth, ptr, deep)
                if t == "array":
                    return self.gen_array(flat, rng, seed, depth, ptr, deep)
                if t == "string":
                    text = self.gen_string(flat, rng, ptr)
                    self.tick(ptr, len(text) // _CHARS_PER_UNIT)  # bounds the whole value's size
                    return text
                if t in ("number", "integer"):
                    return self.gen_number(flat, rng, ptr, integer=t == "integer")
                if t == "boolean":
                    return rng.below(2) == 0
                return None
            except SchemaError as e:
                if error is None:
                    error = e
        assert error is not None
        raise error

    def _type_order(self, flat: _Flat, deep: bool) -> list[str]:
        if flat.types is None:
            keys: set[str] = set()
            for s, _ in flat.parts:
                keys.update(s.keys())
            hinted = [t for t, words in _HINTS if words & keys]
            rest = [t for t in ("string", "integer", "number", "boolean", "object", "array", "null") if t not in hinted]
            return hinted + rest
        written: list = []  # the order of the first "type" list in the schema
        for s, _ in flat.parts:
            if "type" in s:
                written = s["type"] if isinstance(s["type"], list) else [s["type"]]
                break
        cand = [t for t in (*written, *_TYPE_ORDER) if isinstance(t, str) and t in flat.types]
        cand = list(dict.fromkeys(t for t in cand if not (t == "integer" and "number" in flat.types)))
        if deep:
            return sorted(cand, key=lambda t: _DEEP_RANK[t])
        return [t for t in cand if t != "null"] + [t for t in cand if t == "null"]

    # -- numbers -----------------------------------------------------------------------------

    def gen_number(self, flat: _Flat, rng: _Rng, ptr: str, *, integer: bool) -> int | float:
        lo = hi = None
        lo_x = hi_x = False
        mults: list = []
        for s, _ in flat.parts:
            for key, excl_key, is_lo in (("minimum", "exclusiveMinimum", True), ("maximum", "exclusiveMaximum", False)):
                for value, excl in ((s.get(key), s.get(excl_key) is True), (s.get(excl_key), True)):
                    if not _is_num(value):
                        continue
                    f = Fraction(value)
                    if is_lo:
                        if lo is None or f > lo or (f == lo and excl):
                            lo, lo_x = f, excl or (lo_x and f == lo)
                    elif hi is None or f < hi or (f == hi and excl):
                        hi, hi_x = f, excl or (hi_x and f == hi)
            m = s.get("multipleOf")
            if _is_num(m) and m > 0:
                mults.append(m)
        for kind, nt, _ in flat.checks:  # `not: {maximum: 5}` is `exclusiveMinimum: 5`, and so on
            if kind != "not" or not _is_map(nt) or len(nt.keys() & _NUMBER_KEYS) != 1:
                continue
            if not nt.keys() <= _NUMBER_KEYS | {"type"}:
                continue
            key, value = next((k, v) for k, v in nt.items() if k in _NUMBER_KEYS)
            if key == "multipleOf" or not _is_num(value):
                continue
            f = Fraction(value)
            if key in ("maximum", "exclusiveMaximum"):
                if lo is None or f > lo or (f == lo and key == "maximum"):
                    lo, lo_x = f, key == "maximum"
            elif hi is None or f < hi or (f == hi and key == "minimum"):
                hi, hi_x = f, key == "minimum"
        if lo is None and hi is None and not mults:  # the common case, without fractions
            return rng.between(0, 100) if integer else rng.between(0, 10_000) / 100
        if lo is not None and hi is not None and (lo > hi or (lo == hi and (lo_x or hi_x))):
            what = ("exclusiveMinimum" if lo_x else "minimum", "exclusiveMaximum" if hi_x else "maximum")
            raise SchemaError(ptr, f"{what[0]} {_show(lo)} is not below {what[1]} {_show(hi)}")
        step = Fraction(1) if integer else None
        for m in mults:
            f = Fraction(str(m)) if isinstance(m, float) else Fraction(m)
            step = f if step is None else _frac_lcm(step, f)
        grid = step if step is not None else Fraction(1, 100)
        kmin = None if lo is None else (math.floor(lo / grid) + 1 if lo_x else math.ceil(lo / grid))
        kmax = None if hi is None else (math.ceil(hi / grid) - 1 if hi_x else math.floor(hi / grid))
        if kmin is not None and kmax is not None and kmin > kmax:
            if step is not None:
                what = "integer" if integer and not mults else f"multiple of {_show(step)}"
                raise SchemaError(ptr, f"no {what} between {_show(lo)} and {_show(hi)}")
            value = float((lo + hi) / 2)  # a range narrower than 0.01
            return value if self._number_ok(value, flat) else float(lo if not lo_x else hi)
        width = max(Fraction(100), 5 * grid)
        if lo is not None and lo >= width:
            wlo, whi = lo, lo + width
        elif hi is not None and hi <= 0:
            wlo, whi = hi - width, hi
        else:
            wlo, whi = Fraction(0), width
        a, b = math.ceil(wlo / grid), math.floor(whi / grid)
        if kmin is not None:
            a = max(a, kmin)
        if kmax is not None:
            b = min(b, kmax)
        if a > b:
            a = b = kmin if kmin is not None and kmin > b else kmax  # type: ignore[assignment]
        k = rng.between(a, b)
        first = None
        for delta in (0, 1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 6, -6, 7, -7, 8, -8):
            kk = k + delta
            if (kmin is not None and kk < kmin) or (kmax is not None and kk > kmax):
                continue
            exact = kk * grid
            try:
                value: int | float = int(exact) if integer else float(exact)
            except OverflowError:  # beyond a double (multipleOf: 1e308)
                continue
            if first is None:
                first = value
            if self._number_ok(value, flat):
                return value
        if not integer:  # bounds beyond a double's precision (exclusiveMinimum: 1e20): the next double
            for bound, toward in ((lo, math.inf), (hi, -math.inf)):
                if bound is None:
                    continue
                value = float(bound)
                for _ in range(4):
                    value = math.nextafter(value, toward)
                    if self._number_ok(value, flat):
                        return value
        if first is None:
            raise SchemaError(ptr, "no number in the range fits a double")
        return first

    def _number_ok(self, value: float, flat: _Flat) -> bool:
        for s, _ in flat.parts:
            for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"):
                bound = s.get(key)
                if key in ("exclusiveMinimum", "exclusiveMaximum") and bound is True:
                    bound = s.get("minimum" if key == "exclusiveMinimum" else "maximum")
                    if _is_num(bound) and (value <= bound if key == "exclusiveMinimum" else value >= bound):
                        return False
                    continue
                if not _is_num(bound):
                    continue
                if (
                    (key == "minimum" and value < bound)
                    or (key == "maximum" and value > bound)
                    or (key == "exclusiveMinimum" and value <= bound)
                    or (key == "exclusiveMaximum" and value >= bound)
                    or (key == "multipleOf" and bound > 0 and not _multiple_ok(value, bound))
                ):
                    return False
        return True

    # -- strings -----------------------------------------------------------------------------

    def gen_string(self, flat: _Flat, rng: _Rng, ptr: str) -> str:
        min_len, max_len = 0, _MAX_SIZE
        patterns: list[str] = []
        fmt = None
        for s, _ in flat.parts:
            if _is_num(s.get("minLength")):
                min_len = max(min_len, math.ceil(s["minLength"]))
            if _is_num(s.get("maxLength")):
                max_len = min(max_len, math.floor(s["maxLength"]))
            pattern = s.get("pattern")
            if isinstance(pattern, str) and _compiled(pattern) is not None:
                patterns.append(pattern)
            if fmt is None:
                for key in ("format", "contentEncoding"):
                    if isinstance(s.get(key), str) and s[key] in _FORMATS:
                        fmt = s[key]
                        break
        if min_len > max_len:
            if min_len > _MAX_SIZE:
                raise SchemaError(ptr, f"minLength {min_len} is above the generator's limit of {_MAX_SIZE}")
            raise SchemaError(ptr, f"minLength {min_len} is greater than maxLength {max_len}")

        def fits(text: str) -> bool:
            return min_len <= len(text) <= max_len and all(_search(p, text) for p in patterns)

        candidates: list[str] = []
        if fmt is not None:
            text = _FORMATS[fmt](rng)
            if fits(text):
                return text
            candidates.append(text)
            sized = _sized_format(fmt, rng, min_len, max_len)
            if sized is not None and fits(sized):
                return sized
        if patterns:
            for attempt in range(6):  # from the third attempt on, random characters instead of words
                pattern = patterns[attempt % len(patterns)]
                text = _pattern_string(pattern, _Rng(rng.bytes(16)), min_len, max_len, attempt < 2)
                if text is not None:
                    if fits(text):
                        return text
                    candidates.append(text)
        text = _plain_string(rng, min_len, max_len)
        if fits(text) or not candidates:
            return text
        return candidates[-1] if patterns else text  # best effort

    # -- objects -----------------------------------------------------------------------------

    def _object_plan(self, parts: tuple) -> _ObjectPlan:
        """What the parts say about objects, computed once per set of parts in a call."""
        key = tuple((id(s), p) for s, p in parts)
        plan = self.plans.get(key)
        if plan is not None:
            return plan
        plan = self.plans[key] = _ObjectPlan(parts)  # keeps `parts` alive, so the ids stay unique
        for s, p in parts:
            props = s.get("properties")
            if _is_map(props):
                for k in props:
                    plan.declared.setdefault(k, f"{p}/properties/{_esc(k)}")
            req = s.get("required")
            if isinstance(req, list):
                for k in req:
                    if isinstance(k, str):
                        plan.required.setdefault(k, p)
            if _is_num(s.get("minProperties")):
                plan.min_p = max(plan.min_p, math.ceil(s["minProperties"]))
            if _is_num(s.get("maxProperties")):
                plan.max_p = min(plan.max_p, math.floor(s["maxProperties"]))
            for word in ("dependentRequired", "dependentSchemas", "dependencies"):
                deps = s.get(word) if word in s else None
                if deps is not None and _is_map(deps):
                    for k, v in deps.items():
                        if isinstance(v, list):
                            plan.dep_required.setdefault(k, []).extend(x for x in v if isinstance(x, str))
                        elif word != "dependentRequired":
                            plan.dep_schemas.append((k, v, f"{p}/{word}/{_esc(k)}"))
            if "propertyNames" in s:
                plan.name_schemas.append((s["propertyNames"], p + "/propertyNames"))
            ap = s.get("additionalProperties")
            if ap is False or s.get("unevaluatedProperties") is False:
                plan.closed = True
            elif _is_map(ap):
                plan.open_schema = True
            pp = s.get("patternProperties")
            if _is_map(pp):
                plan.patterns.extend(k for k in pp if isinstance(k, str) and _compiled(k) is not None)
        return plan

    def gen_object(
        self, flat: _Flat, rng: _Rng, seed: bytes, depth: int, ptr: str, deep: bool, extended: bool = False
    ) -> dict:
        parts = flat.parts
        plan = self._object_plan(parts)
        declared, required, dep_required = plan.declared, plan.required, plan.dep_required
        name_schemas = plan.name_schemas
        min_p, max_p = plan.min_p, plan.max_p
        if min_p > max_p:
            raise SchemaError(ptr, f"minProperties {min_p} is greater than maxProperties {max_p}")
        if len(required) > max_p:
            raise SchemaError(ptr, f"{len(required)} properties are required but maxProperties is {max_p}")

        # Which names: required ones, then the other declared ones in schema order (not when deep).
        planned = dict.fromkeys(required)
        room = max_p - len(planned)
        left_out = set()  # `not: {required: [...]}` (also the else side of `if: {required: ...}`)
        for kind, payload, _ in flat.checks:
            if kind == "not" and _is_map(payload) and set(payload) == {"required"} and isinstance(
                payload["required"], list
            ):
                left_out.update([n for n in payload["required"] if n not in required][:1])
        for name in declared:
            if name not in planned and not deep and room > 0 and name not in left_out:
                entries = plan.entries(self, name)
                if entries is not None and self._name_ok(name, name_schemas):
                    planned[name] = None
                    room -= 1
        for _ in range(len(dep_required) + 1):  # dependentRequired closure
            added = [x for k in list(planned) for x in dep_required.get(k, ()) if x not in planned]
            if not added:
                break
            planned.update(dict.fromkeys(added))
        if len(planned) > max_p:
            raise SchemaError(ptr, f"required and dependent properties exceed maxProperties {max_p}")
        if plan.dep_schemas and not extended:  # the object also has to satisfy these
            extra = tuple((p, sch) for k, sch, p in plan.dep_schemas if k in planned)
            if extra:
                entries = tuple((p, s) for s, p in parts) + extra
                wider = next(self.flats(entries, seed, depth, ()), None)
                if wider is not None and (wider.types is None or "object" in wider.types):
                    wider.refs = flat.refs
                    return self.gen_object(wider, rng, seed, depth, ptr, deep, extended=True)
                deps = {k for k, _, _ in plan.dep_schemas if k in planned}
                if deps & required.keys():
                    raise SchemaError(ptr, f"the dependentSchemas of required {sorted(deps & required.keys())} fail")
                for k in deps:  # leave out the optional properties whose dependent schemas fail
                    del planned[k]

        out: dict[str, Any] = {}
        order = [n for n in declared if n in planned] + [n for n in planned if n not in declared]
        for name in order:
            entries = plan.entries(self, name)
            where = declared.get(name, f"{required.get(name, ptr)}/required")
            if entries is None:
                if name in required:
                    raise SchemaError(where, f"required property {name!r} is not allowed by the schema")
                continue
            try:
                out[name] = self.gen(entries, where, _child(seed, "p" + name), depth + 1, flat.refs)
            except SchemaError:
                if name in required or any(name in dep_required.get(k, ()) for k in out):
                    raise

        # Extra keys: a map type gets one to three, minProperties may ask for more.
        want = len(out)
        if not declared and plan.open_schema and not deep:
            want += 1 + rng.below(3)
        want = min(max(want, min_p), max_p)
        if len(out) < want:
            for name in declared:  # optional ones first, even when deep
                if len(out) >= want:
                    break
                entries = plan.entries(self, name)
                if name in out or name in left_out or entries is None or not self._name_ok(name, name_schemas):
                    continue
                try:
                    out[name] = self.gen(entries, declared[name], _child(seed, "p" + name), depth + 1, flat.refs)
                except SchemaError:
                    pass
            attempts = 0
            failed: dict[tuple, SchemaError] = {}  # value schemas that cannot be generated at all
            while len(out) < want and attempts < 4 * (want - len(out)) + 12:
                attempts += 1
                self.tick(ptr)
                name = self._extra_name(rng, seed, attempts, plan, depth, flat.refs, ptr)
                if name is not None and (name in out or name in declared):
                    name = f"{name}{attempts}"  # a pattern's shortest match repeats: try it extended
                if name is None or name in out or name in declared or not self._name_ok(name, name_schemas):
                    continue
                entries = plan.entries(self, name)
                if entries is None:
                    continue
                key = tuple(id(sch) for _, sch in entries)
                if key in failed:
                    continue
                where = entries[0][0] if entries else f"{ptr}/additionalProperties"
                try:
                    out[name] = self.gen(entries, where, _child(seed, "x" + name), depth + 1, flat.refs)
                except SchemaError as e:
                    if not e.soft:
                        failed[key] = e
            if len(out) < min_p:
                if failed:
                    raise next(iter(failed.values()))
                raise _soft(ptr, f"could not make the {min_p} properties minProperties asks for")
        return out

    def _name_ok(self, name: str, name_schemas: list) -> bool:
        return all(self.valid(name, s, 0) for s, _ in name_schemas)

    def _extra_name(
        self, rng: _Rng, seed: bytes, attempt: int, plan: _ObjectPlan, depth: int, refs: tuple, ptr: str
    ) -> str | None:
        """A candidate name for one more property: valid for propertyNames, else made for a
        patternProperties pattern, else a plain word (unless the object is closed)."""
        closed, patterns = plan.closed, plan.patterns
        if plan.name_schemas:
            entries = (("#", {"type": "string"}),) + tuple((p, s) for s, p in plan.name_schemas)
            try:
                name = self.gen(entries, ptr + "/propertyNames", _child(seed, f"name{attempt}"), depth + 1, refs)
            except SchemaError:
                return None
            return name if isinstance(name, str) else None
        if patterns and (closed or attempt % 2 == 0):
            return _pattern_string(patterns[attempt % len(patterns)], _Rng(_child(seed, f"key{attempt}")), 1, 64)
        if closed:
            return None
        word = rng.pick(_PLAIN)
        return word if attempt <= 6 else f"{word}_{attempt}"

    def _prop_entries(self, parts: tuple, name: str) -> tuple | None:
        """What applies to property `name`, as (pointer, schema) entries; None if it is forbidden."""
        out: list[tuple[str, Any]] = []
        evaluated = False
        for s, p in parts:
            matched = False
            props = s.get("properties")
            if _is_map(props) and name in props:
                out.append((f"{p}/properties/{_esc(name)}", props[name]))
                matched = True
            pp = s.get("patternProperties")
            if _is_map(pp):
                for pattern, sub in pp.items():
                    if isinstance(pattern, str) and _search(pattern, name):
                        out.append((f"{p}/patternProperties/{_esc(pattern)}", sub))
                        matched = True
            if not matched and "additionalProperties" in s:
                out.append((f"{p}/additionalProperties", s["additionalProperties"]))
                matched = True
            evaluated = evaluated or matched
        if not evaluated:
            for s, p in parts:
                if "unevaluatedProperties" in s:
                    out.append((f"{p}/unevaluatedProperties", s["unevaluatedProperties"]))
        if any(sch is False for _, sch in out):
            return None
        return tuple(e for e in out if e[1] is not True)

    # -- arrays ------------------------------------------------------------------------------

    def gen_array(self, flat: _Flat, rng: _Rng, seed: bytes, depth: int, ptr: str, deep: bool) -> list:
        min_i, max_i = 0, _MAX_SIZE
        unique = False
        shapes: list[tuple[list, str, Any, str]] = []  # (prefix, prefix pointer, rest, rest pointer)
        contains: list[tuple[Any, str, int, int | None]] = []
        for s, p in flat.parts:
            if _is_num(s.get("minItems")):
                min_i = max(min_i, math.ceil(s["minItems"]))
            if _is_num(s.get("maxItems")):
                max_i = min(max_i, math.floor(s["maxItems"]))
            unique = unique or s.get("uniqueItems") is True
            items = s.get("items")
            if isinstance(s.get("prefixItems"), list):
                shape = (s["prefixItems"], p + "/prefixItems", items, p + "/items")
            elif isinstance(items, list):
                shape = (items, p + "/items", s.get("additionalItems"), p + "/additionalItems")
            else:
                shape = ([], p, items, p + "/items")
            if shape[2] is None and s.get("unevaluatedItems") is False:
                shape = (shape[0], shape[1], False, p + "/unevaluatedItems")
            if shape[0] or shape[2] is not None:
                shapes.append(shape)
                if shape[2] is False:
                    max_i = min(max_i, len(shape[0]))
                for i, sub in enumerate(shape[0]):
                    if sub is False:
                        max_i = min(max_i, i)
                        break
            if "contains" in s:
                lo_c = s.get("minContains", 1)
                hi_c = s.get("maxContains")
                lo_c = int(lo_c) if _is_num(lo_c) else 1
                contains.append((s["contains"], p + "/contains", lo_c, int(hi_c) if _is_num(hi_c) else None))
        need = max((c[2] for c in contains), default=0)
        lo = max(min_i, need)
        for _, cptr, lo_c, hi_c in contains:
            if hi_c is not None and lo_c > hi_c:
                raise SchemaError(cptr, f"minContains {lo_c} is greater than maxContains {hi_c}")
        if lo > max_i:
            if lo > _MAX_SIZE:
                raise SchemaError(ptr, f"{lo} items is above the generator's limit of {_MAX_SIZE}")
            raise SchemaError(ptr, f"at least {lo} items are needed but at most {max_i} are allowed")
        if deep:
            n = lo
        else:
            tuple_len = max((len(sh[0]) for sh in shapes), default=0)
            n = min(max(tuple_len or 1 + rng.below(3), lo), max_i)
        out: list = []
        keys: set = set()
        for i in range(n):
            entries: list[tuple[str, Any]] = []
            for prefix, pptr, rest, rptr in shapes:
                if i < len(prefix):
                    entries.append((f"{pptr}/{i}", prefix[i]))
                elif rest is not None:
                    entries.append((rptr, rest))
            for sch, cptr, lo_c, _ in contains:
                if i < lo_c:
                    entries.append((cptr, sch))
            where = entries[0][0] if entries else ptr + "/items"
            value: Any = _MISSING
            for attempt in range(24 if unique or contains else 1):
                child = _child(seed, f"i{i}" if not attempt else f"i{i}.{attempt}")
                try:
                    candidate = self.gen(tuple(entries), where, child, depth + 1, flat.refs)
                except SchemaError:
                    if i >= lo:
                        return out
                    raise
                if unique and _key(candidate) in keys:
                    continue
                if i >= need and any(
                    hi_c is not None
                    and self.valid(candidate, sch, 0)
                    and sum(self.valid(x, sch, 0) for x in out) >= hi_c
                    for sch, _, _, hi_c in contains
                ):
                    continue
                value = candidate
                break
            if value is _MISSING:
                if i >= lo:
                    return out
                raise _soft(ptr, f"could not make {lo} distinct items" if unique else f"could not make {lo} items")
            out.append(value)
            keys.add(_key(value))
        return out

    # -- validation (for enum values, not/oneOf checks, uniqueness, propertyNames) -----------

    def valid(self, v: Any, s: Any, depth: int) -> bool:  # noqa: C901 - one keyword at a time
        if s is True or not _is_map(s):
            return s is not False
        if depth > 64:
            return True
        self.tick("#")
        ref = s.get("$ref", s.get("$dynamicRef"))
        if isinstance(ref, str):
            try:
                target = self.resolve(ref, "#")[0]
            except SchemaError:
                target = True
            if not self.valid(v, target, depth + 1):
                return False
        t = s.get("type")
        if t is not None:
            if isinstance(t, list):
                if not any(_is_type(v, x) for x in t):
                    return False
            elif not _is_type(v, t):
                return False
        if "const" in s and _key(v) != _key(s["const"]):
            return False
        if isinstance(s.get("enum"), list) and _key(v) not in {_key(e) for e in s["enum"]}:
            return False
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if not self._number_ok(v, _Flat(((s, "#"),), None, None, (), ())):
                return False
        elif isinstance(v, str):
            if _is_num(s.get("minLength")) and len(v) < s["minLength"]:
                return False
            if _is_num(s.get("maxLength")) and len(v) > s["maxLength"]:
                return False
            if "pattern" in s and not _search(s["pattern"], v):
                return False
        elif isinstance(v, (list, tuple)):
            if not self._valid_array(v, s, depth):
                return False
        elif _is_map(v):
            if not self._valid_object(v, s, depth):
                return False
        for sub in s.get("allOf", ()) if isinstance(s.get("allOf"), list) else ():
            if not self.valid(v, sub, depth + 1):
                return False
        if isinstance(s.get("anyOf"), list) and not any(self.valid(v, b, depth + 1) for b in s["anyOf"]):
            return False
        if isinstance(s.get("oneOf"), list) and sum(1 for b in s["oneOf"] if self.valid(v, b, depth + 1)) != 1:
            return False
        if "not" in s and self.valid(v, s["not"], depth + 1):
            return False
        if "if" in s:
            branch = s.get("then", True) if self.valid(v, s["if"], depth + 1) else s.get("else", True)
            if not self.valid(v, branch, depth + 1):
                return False
        return True

    def _valid_array(self, v: Any, s: Mapping, depth: int) -> bool:
        if _is_num(s.get("minItems")) and len(v) < s["minItems"]:
            return False
        if _is_num(s.get("maxItems")) and len(v) > s["maxItems"]:
            return False
        if s.get("uniqueItems") is True and len({_key(x) for x in v}) != len(v):
            return False
        items = s.get("items")
        if isinstance(s.get("prefixItems"), list):
            prefix, rest = s["prefixItems"], items
        elif isinstance(items, list):
            prefix, rest = items, s.get("additionalItems")
        else:
            prefix, rest = [], items
        for i, x in enumerate(v):
            sub = prefix[i] if i < len(prefix) else rest
            if sub is not None and not self.valid(x, sub, depth + 1):
                return False
        if "contains" in s:
            count = sum(1 for x in v if self.valid(x, s["contains"], depth + 1))
            lo = s.get("minContains", 1)
            hi = s.get("maxContains")
            if (_is_num(lo) and count < lo) or (_is_num(hi) and count > hi):
                return False
        return True

    def _valid_object(self, v: Mapping, s: Mapping, depth: int) -> bool:
        req = s.get("required")
        if isinstance(req, list) and any(isinstance(k, str) and k not in v for k in req):
            return False
        if _is_num(s.get("minProperties")) and len(v) < s["minProperties"]:
            return False
        if _is_num(s.get("maxProperties")) and len(v) > s["maxProperties"]:
            return False
        props = s.get("properties") if _is_map(s.get("properties")) else {}
        pp = s.get("patternProperties") if _is_map(s.get("patternProperties")) else {}
        ap = s.get("additionalProperties")
        for k, x in v.items():
            matched = False
            if k in props:
                matched = True
                if not self.valid(x, props[k], depth + 1):
                    return False
            for pattern, sub in pp.items():
                if _search(pattern, k):
                    matched = True
                    if not self.valid(x, sub, depth + 1):
                        return False
            if not matched and ap is not None and not self.valid(x, ap, depth + 1):
                return False
            if "propertyNames" in s and not self.valid(k, s["propertyNames"], depth + 1):
                return False
        for word in ("dependentRequired", "dependentSchemas", "dependencies"):
            deps = s.get(word)
            if _is_map(deps):
                for k, dep in deps.items():
                    if k not in v:
                        continue
                    if isinstance(dep, list):
                        if any(x not in v for x in dep):
                            return False
                    elif not self.valid(v, dep, depth + 1):
                        return False
        return True


def _show(f: Fraction | None) -> str:
    if f is None:
        return "none"
    return str(f.numerator) if f.denominator == 1 else repr(float(f))


# --------------------------------------------------------------------------------------------
# Plain strings and formats


def _plain_string(rng: _Rng, min_len: int, max_len: int) -> str:
    words = [rng.pick(_PLAIN), rng.pick(_PLAIN)]
    size = len(words[0]) + 1 + len(words[1])
    while size < min_len:
        word = rng.pick(_PLAIN)
        words.append(word)
        size += len(word) + 1
    text = " ".join(words)
    if len(text) > max_len:
        text = text[:max_len]
        if text.endswith(" "):
            text = text[:-1] + "s"
    return text


def _moment(rng: _Rng) -> datetime:
    return _EPOCH_2026 + timedelta(days=rng.below(365), seconds=rng.below(86_400))


def _two_words(rng: _Rng, sep: str) -> str:
    return rng.pick(_PLAIN) + sep + rng.pick(_PLAIN)


def _sized_format(fmt: str, rng: _Rng, min_len: int, max_len: int) -> str | None:
    """A value of ``fmt`` padded or shortened to fit the length bounds, for the formats whose
    shape allows it (``a@b.co`` is an email of 6 characters); None for the others."""
    shapes = {"email": ("", "@b.co"), "idn-email": ("", "@b.co"), "hostname": ("", ".co"), "idn-hostname": ("", ".co"),
              "uri": ("https://", ".co"), "iri": ("https://", ".co")}  # fmt: skip
    if fmt not in shapes:
        return None
    head, tail = shapes[fmt]
    room = max_len - len(head) - len(tail)
    if room < 1:
        return None
    word = rng.pick(_PLAIN)
    size = min(room, max(1, min_len - len(head) - len(tail), min(len(word), room)))
    body = (word * (size // len(word) + 1))[:size]
    return head + body + tail


_FORMATS: dict[str, Any] = {
    "date-time": lambda r: _moment(r).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "date": lambda r: _moment(r).strftime("%Y-%m-%d"),
    "time": lambda r: _moment(r).strftime("%H:%M:%SZ"),
    "duration": lambda r: f"P{1 + r.below(9)}DT{1 + r.below(23)}H",
    "email": lambda r: _two_words(r, ".") + "@example.com",
    "idn-email": lambda r: _two_words(r, ".") + "@example.com",
    "hostname": lambda r: _two_words(r, "-") + ".example.com",
    "idn-hostname": lambda r: _two_words(r, "-") + ".example.com",
    "ipv4": lambda r: f"192.0.2.{1 + r.below(254)}",
    "ipv6": lambda r: f"2001:db8::{1 + r.below(0xFFFE):x}",
    "ipvanyaddress": lambda r: f"192.0.2.{1 + r.below(254)}",
    "ipvanyinterface": lambda r: f"192.0.2.{1 + r.below(254)}/24",
    "ipvanynetwork": lambda r: "192.0.2.0/24",
    "ipv4network": lambda r: "192.0.2.0/24",
    "ipv6network": lambda r: "2001:db8::/32",
    "ipv4interface": lambda r: f"192.0.2.{1 + r.below(254)}/24",
    "ipv6interface": lambda r: f"2001:db8::{1 + r.below(0xFFFE):x}/64",
    "uuid": lambda r: str(uuid.UUID(bytes=r.bytes(16), version=4)),
    "uri": lambda r: "https://example.com/" + _two_words(r, "/"),
    "iri": lambda r: "https://example.com/" + _two_words(r, "/"),
    "uri-reference": lambda r: "https://example.com/" + _two_words(r, "/"),
    "iri-reference": lambda r: "https://example.com/" + _two_words(r, "/"),
    "uri-template": lambda r: f"https://example.com/{r.pick(_PLAIN)}/{{{r.pick(_PLAIN)}}}",
    "json-pointer": lambda r: f"/{r.pick(_PLAIN)}/{r.below(10)}",
    "relative-json-pointer": lambda r: f"{r.below(3)}/{r.pick(_PLAIN)}",
    "regex": lambda r: f"^{r.pick(_PLAIN)}-[0-9]+$",
    "base64": lambda r: base64.b64encode(_two_words(r, " ").encode()).decode(),
    "base64url": lambda r: base64.urlsafe_b64encode(_two_words(r, " ").encode()).decode(),
}


# --------------------------------------------------------------------------------------------
# Strings from regular expressions: the stdlib's re parser gives the tree, compiled once per
# pattern into small tuples with their lengths, then walked with the seed's draws.

_INF = 1 << 30
_REPEATS = tuple(
    x for x in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, getattr(_sre, "POSSESSIVE_REPEAT", None)) if x is not None
)
_ATOMIC = getattr(_sre, "ATOMIC_GROUP", None)
_CATEGORY_TEST = {
    _sre.CATEGORY_DIGIT: re.compile(r"\d").match,
    _sre.CATEGORY_NOT_DIGIT: re.compile(r"\D").match,
    _sre.CATEGORY_SPACE: re.compile(r"\s").match,
    _sre.CATEGORY_NOT_SPACE: re.compile(r"\S").match,
    _sre.CATEGORY_WORD: re.compile(r"\w").match,
    _sre.CATEGORY_NOT_WORD: re.compile(r"\W").match,
}
_LOWER = "abcdefghijklmnopqrstuvwxyz"
_PREFERRED = _LOWER + _LOWER.upper() + "0123456789 -_.,:;!?@#$%&*+=/"
_ANY_SET = (1, 1, 1, _LOWER, (), ("lower", True))

# Nodes: (kind, min length, max length, a, b, c); a sequence is (min, max, nodes).
# kind 0 literal text a; 1 one character: pool a (or code point ranges b), words c;
# 2 group: number a, sequence b; 3 alternation: sequences a; 4 repeat: (min, max) a,
# sequence b, single-character node c; 5 backreference a; 6 conditional: group a, yes b, no c.


class _Unsupported(Exception):
    pass


@lru_cache(maxsize=256)
def _regex_plan(pattern: str) -> tuple | None:
    try:
        return _compile_seq(_sre.parse(pattern))
    except (re.error, RecursionError, OverflowError, ValueError, _Unsupported):
        return None


def _compile_seq(items: Any) -> tuple:
    nodes: list[tuple] = []
    for op, av in items:
        if op is _sre.LITERAL:
            if nodes and nodes[-1][0] == 0:
                text = nodes[-1][3] + chr(av)
                nodes[-1] = (0, len(text), len(text), text, None, None)
            else:
                nodes.append((0, 1, 1, chr(av), None, None))
        elif op is _sre.NOT_LITERAL:
            nodes.append(_set_node([(_sre.NEGATE, None), (_sre.LITERAL, av)]))
        elif op is _sre.ANY:
            nodes.append(_ANY_SET)
        elif op is _sre.IN:
            nodes.append(_set_node(av))
        elif op is _sre.SUBPATTERN or (_ATOMIC is not None and op is _ATOMIC):
            inner = _compile_seq(av[-1] if op is _sre.SUBPATTERN else av)
            nodes.append((2, inner[0], inner[1], av[0] if op is _sre.SUBPATTERN else None, inner, None))
        elif op is _sre.BRANCH:
            seqs = tuple(_compile_seq(b) for b in av[1])
            nodes.append((3, min(x[0] for x in seqs), max(x[1] for x in seqs), seqs, None, None))
        elif op in _REPEATS:
            mn, mx, sub = av
            mx = _INF if mx == _sre.MAXREPEAT else mx
            inner = _compile_seq(sub)
            hi = 0 if inner[1] == 0 else min(_INF, mx * inner[1])
            single = inner[2][0] if len(inner[2]) == 1 and inner[2][0][0] == 1 else None
            nodes.append((4, min(_INF, mn * inner[0]), hi, (mn, mx), inner, single))
        elif op is _sre.GROUPREF:
            nodes.append((5, 0, _INF, av, None, None))
        elif op is _sre.GROUPREF_EXISTS:
            yes = _compile_seq(av[1])
            no = _compile_seq(av[2]) if av[2] is not None else (0, 0, ())
            nodes.append((6, min(yes[0], no[0]), max(yes[1], no[1]), av[0], yes, no))
        elif op in (_sre.AT, _sre.ASSERT, _sre.ASSERT_NOT):
            continue  # anchors add nothing; lookarounds are only checked afterwards
        else:
            raise _Unsupported(str(op))
    return (sum(n[1] for n in nodes), min(_INF, sum(n[2] for n in nodes)), tuple(nodes))


def _class_has(items: Any, ch: str) -> bool:
    negate = False
    hit = False
    code = ord(ch)
    for op, av in items:
        if op is _sre.NEGATE:
            negate = True
        elif op is _sre.LITERAL:
            hit = code == av
        elif op is _sre.RANGE:
            hit = av[0] <= code <= av[1]
        elif op is _sre.CATEGORY:
            hit = _CATEGORY_TEST.get(av, lambda c: None)(ch) is not None
        if hit:
            break
    return hit != negate


def _set_node(items: Any) -> tuple:
    """A character class: the plain characters it allows, else its code point ranges."""
    items = list(items)
    pool = "".join(c for c in _PREFERRED if _class_has(items, c))
    ranges: tuple = ()
    if not pool:
        if items and items[0][0] is _sre.NEGATE:
            pool = "".join(c for c in map(chr, range(0xA1, 0x3000)) if _class_has(items, c))[:64]
        else:
            ranges = tuple(av for op, av in items if op is _sre.RANGE)
            ranges += tuple((av, av) for op, av in items if op is _sre.LITERAL)
        if not pool and not ranges:
            raise _Unsupported("empty character class")
    words = None
    for case, letters in (("lower", _LOWER), ("upper", _LOWER.upper())):
        if all(c in pool for c in letters):
            words = (case, " " in pool)
            break
    return (1, 1, 1, pool, ranges, words)


def _pattern_string(pattern: str, rng: _Rng, min_len: int, max_len: int, words: bool = True) -> str | None:
    """A string meant to match `pattern` with min_len..max_len characters (the caller checks)."""
    plan = _regex_plan(pattern)
    if plan is None:
        return None
    try:
        text = _Rx(rng, words).run(plan, None)
        if not min_len <= len(text) <= max_len:
            target = min(max(len(text), min_len, plan[0]), max_len, plan[1])
            text = _Rx(rng, words).run(plan, target)
    except (_Unsupported, RecursionError):
        return None
    if len(text) < min_len and _search(pattern, text):
        pad = _plain_string(rng, min_len - len(text), _MAX_SIZE)[: min_len - len(text)]
        for padded in (text + pad, pad + text):
            if _search(pattern, padded):
                return padded
    return text


class _Rx:
    """Walks a compiled pattern, natural lengths (target None) or an exact length."""

    def __init__(self, rng: _Rng, words: bool = True) -> None:
        self.rng = rng
        self.use_words = words
        self.out: list[str] = []
        self.size = 0
        self.groups: dict[int, str] = {}

    def run(self, plan: tuple, target: int | None) -> str:
        self.seq(plan, target)
        return "".join(self.out)

    def emit(self, text: str) -> None:
        self.size += len(text)
        if self.size > _MAX_SIZE:
            raise _Unsupported("too long")
        self.out.append(text)

    def seq(self, seq: tuple, target: int | None) -> None:
        nodes = seq[2]
        if target is None:
            for node in nodes:
                self.node(node, None)
            return
        alloc = [n[1] for n in nodes]
        extra = target - seq[0]
        flex = [i for i, n in enumerate(nodes) if n[2] > n[1]]
        while extra > 0 and flex:
            share = max(1, extra // len(flex))
            still = []
            for i in flex:
                give = min(nodes[i][2] - alloc[i], share, extra)
                alloc[i] += give
                extra -= give
                if alloc[i] < nodes[i][2]:
                    still.append(i)
                if not extra:
                    break
            flex = still
        for node, t in zip(nodes, alloc):
            self.node(node, t)

    def node(self, node: tuple, target: int | None) -> None:
        kind = node[0]
        if kind == 0:
            self.emit(node[3])
        elif kind == 1:
            self.emit(self.char(node))
        elif kind == 2:
            start = len(self.out)
            self.seq(node[4], target)
            if node[3]:
                self.groups[node[3]] = "".join(self.out[start:])
        elif kind == 3:
            seqs = node[3]
            if target is not None:
                seqs = [x for x in seqs if x[0] <= target <= x[1]] or seqs
            self.seq(seqs[self.rng.below(len(seqs))], target)
        elif kind == 4:
            self.repeat(node, target)
        elif kind == 5:
            self.emit(self.groups.get(node[3], ""))
        else:
            self.seq(node[4] if node[3] in self.groups else node[5], target)

    def char(self, node: tuple) -> str:
        pool = node[3]
        if pool:
            return pool[self.rng.below(len(pool))]
        lo, hi = node[4][self.rng.below(len(node[4]))]
        code = self.rng.between(lo, hi)
        if 0xD800 <= code <= 0xDFFF and lo < 0xD800:
            code = lo
        return chr(code)

    def repeat(self, node: tuple, target: int | None) -> None:
        (mn, mx), sub, single = node[3], node[4], node[5]
        rng = self.rng
        slo, shi = sub[0], sub[1]
        if target is None:
            upper = min(mx, mn + 8) if mx < _INF else max(mn, 1) + 4
            count = rng.between(mn, max(mn, upper))
            subs: list[int | None] = [None] * count
        elif shi == 0:
            count, subs = mn, [0] * mn
        else:
            c_lo = max(mn, -(-target // shi))
            c_hi = min(mx, target // slo if slo else max(c_lo, target))
            count = c_lo if c_lo > c_hi else rng.between(c_lo, min(c_hi, c_lo + 3))
            subs = [slo] * count
            extra = target - slo * count
            for i in range(count):
                give = min(shi - slo, extra)
                subs[i] += give
                extra -= give
        if single is not None and single[5] is not None and count and self.use_words:
            self.emit(self.words(count, single[5]))
            return
        for t in subs:
            self.seq(sub, t)

    def words(self, count: int, mode: tuple) -> str:
        """`count` characters spelled from words, for a class that allows a whole alphabet."""
        case, spaced = mode
        parts: list[str] = []
        size = 0
        while size < count:
            word = _PLAIN[self.rng.below(len(_PLAIN))]
            parts.append(word)
            size += len(word) + spaced
        text = (" " if spaced else "").join(parts)[:count]
        if text.endswith(" "):
            text = text[:-1] + "s"
        return text.upper() if case == "upper" else text
