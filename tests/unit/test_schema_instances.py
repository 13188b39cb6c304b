"""generate_instance: deterministic JSON Schema instances for structured outputs and tool arguments.

Every instance is checked with jsonschema (Draft 2020-12 unless the schema is draft-07/draft-04)
and a format checker that really checks every format the generator produces; pydantic models are
also validated by the model itself and parsed the way the openai SDK parses them.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import hashlib
import json
import pickle
import re
import threading
import uuid
from typing import Annotated, Any, Literal, Optional, Union

import openai
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from jsonschema import Draft4Validator, Draft7Validator, Draft202012Validator, FormatChecker
from openai.lib._parsing._completions import _parse_content, type_to_response_format_param
from openai.lib._pydantic import to_strict_json_schema
from pydantic import AnyUrl, BaseModel, ConfigDict, Field, JsonValue, conint, confloat

from pytest_openai_fake.determinism.schema import SchemaError, generate_instance

SEEDS = (b"", b"seed", "request-1", "request-2", "\u00e9t\u00e9 \U0001f600")


# --------------------------------------------------------------------------------------------
# A format checker that checks every format the generator emits. jsonschema's own checkers for
# date-time, time, duration, hostname and the URI family need packages that are not installed
# here (rfc3339-validator, isoduration, fqdn, rfc3987), so those are written out below.

_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
_TIME = re.compile(r"\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
_DURATION = re.compile(r"P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?")
_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s]*")
_POINTER = re.compile(r"(/([^~/]|~[01])*)*")


def _make_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    checker.checkers.update(Draft202012Validator.FORMAT_CHECKER.checkers)

    def strings(check):
        return lambda value: not isinstance(value, str) or bool(check(value))

    def date_time(v: str) -> bool:
        return bool(_DATE_TIME.fullmatch(v)) and dt.datetime.fromisoformat(v.replace("Z", "+00:00")).tzinfo is not None

    def time_(v: str) -> bool:
        return bool(_TIME.fullmatch(v)) and dt.time.fromisoformat(v.replace("Z", "+00:00")).tzinfo is not None

    def hostname(v: str) -> bool:
        return len(v) <= 253 and all(_LABEL.fullmatch(label) for label in v.split("."))

    ours = {
        "date-time": date_time,
        "time": time_,
        "duration": _DURATION.fullmatch,
        "hostname": hostname,
        "uri": _URI.fullmatch,
        "iri": _URI.fullmatch,
        "uri-reference": lambda v: not re.search(r"\s", v),
        "iri-reference": lambda v: not re.search(r"\s", v),
        "uri-template": lambda v: not re.search(r"\s", v) and v.count("{") == v.count("}"),
        "json-pointer": _POINTER.fullmatch,
        "relative-json-pointer": lambda v: re.fullmatch(r"\d+(#|(/([^~/]|~[01])*)*)", v),
    }
    for name, check in ours.items():
        checker.checks(name, raises=(ValueError,))(strings(check))
    return checker


FORMATS = _make_checker()
ALL_FORMATS = (
    "date-time date time duration email idn-email hostname idn-hostname ipv4 ipv6 uuid uri iri "
    "uri-reference iri-reference uri-template json-pointer relative-json-pointer regex"
).split()


def assert_valid(schema: Any, instance: Any, validator: type = Draft202012Validator) -> None:
    json.loads(json.dumps(instance, allow_nan=False))  # plain JSON: no tuples, sets, NaN
    errors = sorted(validator(schema, format_checker=FORMATS).iter_errors(instance), key=str)
    assert not errors, f"{json.dumps(instance)[:500]} is not valid: " + "; ".join(
        f"{list(e.absolute_path)}: {e.message[:200]}" for e in errors[:5]
    )


@pytest.mark.parametrize(
    ("fmt", "bad"),
    [
        ("date-time", "2026-01-01 10:00"),
        ("date-time", "2026-01-01T10:00:00"),  # no offset
        ("date", "2026-13-01"),
        ("time", "10:00:00"),
        ("duration", "3 days"),
        ("email", "nobody"),
        ("hostname", "under_score.example.com"),
        ("ipv4", "256.1.1.1"),
        ("ipv6", "2001:db8::g"),
        ("uuid", "not-a-uuid"),
        ("uri", "example.com/path"),
        ("uri-reference", "has space"),
        ("json-pointer", "no-slash"),
        ("relative-json-pointer", "/x"),
        ("regex", "(unclosed"),
    ],
)
def test_the_format_checker_really_checks(fmt, bad):
    assert not Draft202012Validator({"format": fmt}, format_checker=FORMATS).is_valid(bad)


# --------------------------------------------------------------------------------------------
# pydantic models: what chat.completions.parse(response_format=Model) and pydantic_function_tool send


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"
    BLUE = "blue"


class Priority(enum.IntEnum):
    LOW = 1
    HIGH = 3


class Address(BaseModel):
    street: str
    zip: str = Field(pattern=r"^\d{5}(-\d{4})?$")
    country: Literal["US", "CA"] = "US"


class Customer(BaseModel):
    id: uuid.UUID
    name: str = Field(min_length=2, max_length=20)
    phone: str = Field(pattern=r"^\+?[0-9 ]{7,15}$")
    email: Optional[str] = None
    age: conint(ge=18, le=120)
    score: confloat(gt=0, lt=1)
    price: float = Field(multiple_of=0.01, ge=0)
    born: dt.date
    seen: dt.datetime
    at: dt.time
    took: dt.timedelta
    site: AnyUrl
    address: Address
    billing: Optional[Address] = None
    addresses: list[Address] = Field(min_length=1, max_length=3)
    tags: set[str] = set()
    color: Color
    priority: Priority
    counts: dict[str, int]
    pair: tuple[int, str]
    flags: list[bool] = Field(default_factory=list, max_length=2)
    amount: decimal.Decimal  # anyOf number-or-string: the number branch, which pydantic parses
    code: Union[int, str]


class Cat(BaseModel):
    kind: Literal["cat"]
    lives: int = Field(ge=1, le=9)


class Dog(BaseModel):
    kind: Literal["dog"]
    bark: str = Field(pattern=r"^wo+f$")


class Owner(BaseModel):
    pet: Annotated[Union[Cat, Dog], Field(discriminator="kind")]
    pets: list[Annotated[Union[Cat, Dog], Field(discriminator="kind")]] = Field(max_length=4)
    plain: Union[Cat, Dog, None] = None


class Tree(BaseModel):
    value: int
    label: str = Field(max_length=12)
    children: list[Tree] = []
    parent: Optional[Tree] = None


class Forbidding(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^[A-Z]{3}-\d{4}$")
    ratio: float = Field(gt=0, le=1, multiple_of=0.05)
    matrix: list[list[int]] = Field(min_length=1)
    scores: dict[str, float] = {}
    level: Literal[1, 2, 3]
    either: Union[int, str]


class Anything(BaseModel):
    value: JsonValue
    nested: dict[str, list[int]]


MODELS = [Customer, Owner, Tree, Forbidding, Anything, Address]


def _schemas_of(model: type[BaseModel]) -> list[tuple[str, dict]]:
    sent = type_to_response_format_param(model)  # exactly what chat.completions.parse sends
    tool = openai.pydantic_function_tool(model)
    return [
        ("model_json_schema", model.model_json_schema()),
        ("strict", to_strict_json_schema(model)),
        ("response_format", sent["json_schema"]["schema"]),
        ("tool_parameters", tool["function"]["parameters"]),
    ]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_pydantic_schemas_give_valid_instances_the_sdk_parses(model):
    for form, schema in _schemas_of(model):
        for seed in SEEDS:
            instance = generate_instance(schema, seed)
            assert_valid(schema, instance)
            model.model_validate(instance)
            parsed = _parse_content(model, json.dumps(instance))  # what .parse() does with the reply
            assert isinstance(parsed, model), form


def test_pydantic_instances_look_plain_and_predictable():
    customer = generate_instance(to_strict_json_schema(Customer), b"seed")
    assert customer["email"] is not None  # Optional picks the non-null branch
    assert customer["billing"] is not None
    assert re.fullmatch(r"[a-z]+ [a-z]+", customer["name"])
    assert customer["born"].startswith("2026-") and customer["seen"].startswith("2026-")
    assert customer["seen"].endswith("Z")
    assert uuid.UUID(customer["id"]).version == 4
    assert 18 <= customer["age"] <= 120 and 0 < customer["score"] < 1
    assert abs(customer["price"] * 100 - round(customer["price"] * 100)) < 1e-6
    assert 1 <= len(customer["addresses"]) <= 3
    assert 1 <= len(customer["counts"]) <= 3 and all(isinstance(v, int) for v in customer["counts"].values())
    assert isinstance(customer["pair"][0], int) and isinstance(customer["pair"][1], str)
    assert isinstance(customer["amount"], float)  # Decimal: the first branch, number, not a word pydantic rejects
    assert isinstance(customer["code"], int)  # Union[int, str]: the first branch
    assert list(customer) == list(Customer.model_fields)  # properties in schema order, all of them


def test_discriminated_unions_use_each_branch_const():
    kinds = set()
    for i in range(12):
        owner = Owner.model_validate(generate_instance(Owner.model_json_schema(), f"owner-{i}"))
        kinds.update(p.kind for p in [owner.pet, *owner.pets])
    assert kinds == {"cat", "dog"}


def test_recursive_models_terminate_with_small_trees():
    for form, schema in _schemas_of(Tree):
        for seed in SEEDS:
            tree = Tree.model_validate(generate_instance(schema, seed))
            depth, stack = 0, [(tree, 1)]
            while stack:
                node, d = stack.pop()
                depth = max(depth, d)
                stack.extend((c, d + 1) for c in node.children)
                if node.parent is not None:
                    stack.append((node.parent, d + 1))
            assert depth <= 4, form


def test_tool_arguments_parse_like_the_sdk_does():
    tool = openai.pydantic_function_tool(Forbidding, name="lookup")
    arguments = json.dumps(generate_instance(tool["function"]["parameters"], "call-1"))
    parsed = Forbidding.model_validate_json(arguments)
    assert re.fullmatch(r"[A-Z]{3}-\d{4}", parsed.code)
    assert parsed.level in (1, 2, 3)


# --------------------------------------------------------------------------------------------
# Handwritten schemas, one keyword family at a time

DEFS_07 = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "definitions": {"pos": {"type": "integer", "minimum": 1}, "name": {"type": "string", "minLength": 3}},
    "type": "object",
    "properties": {"n": {"$ref": "#/definitions/pos"}, "who": {"$ref": "#/definitions/name"}},
    "required": ["n", "who"],
    "additionalProperties": False,
}

HANDWRITTEN: list[tuple[str, Any]] = [
    ("empty", {}),
    ("true", True),
    ("nullable-string", {"type": ["string", "null"]}),
    ("type-list", {"type": ["integer", "boolean"]}),
    ("null", {"type": "null"}),
    ("boolean", {"type": "boolean"}),
    ("enum-mixed", {"enum": ["a", 1, None, [1, 2], {"k": "v"}]}),
    ("enum-with-type", {"type": "string", "enum": [1, "x", 2]}),
    ("const-object", {"const": {"a": [1, {"b": None}]}}),
    ("const-beats-type", {"type": "string", "const": "fixed"}),
    ("string-lengths", {"type": "string", "minLength": 30, "maxLength": 31}),
    ("string-one-char", {"type": "string", "minLength": 1, "maxLength": 1}),
    ("string-empty", {"type": "string", "maxLength": 0}),
    ("pattern-code", {"type": "string", "pattern": r"^[A-Z]{3}-\d{4}$"}),
    ("pattern-phone", {"type": "string", "pattern": r"^\+?[0-9 ]{7,15}$"}),
    ("pattern-email-unanchored", {"type": "string", "pattern": r"[a-z]+@[a-z]+\.com"}),
    ("pattern-alternation", {"type": "string", "pattern": r"^(red|green|blue)(-[0-9a-f]{2}){1,3}$"}),
    ("pattern-negated", {"type": "string", "pattern": r"^[^aeiou\s]{4,6}$"}),
    ("pattern-classes", {"type": "string", "pattern": r"^\w+\s\S+\.\D$"}),
    ("pattern-backref", {"type": "string", "pattern": r"^(ab|cd)-\1$"}),
    ("pattern-lengths", {"type": "string", "pattern": r"^[a-z]+$", "minLength": 12, "maxLength": 14}),
    ("pattern-lengths-unanchored", {"type": "string", "pattern": "abc", "minLength": 10}),
    ("pattern-unicode", {"type": "string", "pattern": r"^[\u4e00-\u9fff]{2,4}$"}),
    ("pattern-optional-groups", {"type": "string", "pattern": r"^v?\d+(\.\d+){0,2}(-rc\d)?$"}),
    ("pattern-lookahead", {"type": "string", "pattern": r"^(?=.*[0-9])[a-z0-9]{8,}$"}),
    ("integer", {"type": "integer"}),
    ("integer-bounds", {"type": "integer", "minimum": -7, "maximum": -3}),
    ("integer-exclusive", {"type": "integer", "exclusiveMinimum": 4, "exclusiveMaximum": 6}),
    ("integer-float-bounds", {"type": "integer", "minimum": 1.5, "maximum": 2.5}),
    ("integer-huge", {"type": "integer", "minimum": 10**20}),
    ("integer-multiple", {"type": "integer", "multipleOf": 7, "minimum": 100}),
    ("integer-multiple-float", {"type": "integer", "multipleOf": 0.5}),
    ("number", {"type": "number"}),
    ("number-cents", {"type": "number", "multipleOf": 0.01, "minimum": 1000}),
    ("number-tenths-negative", {"type": "number", "multipleOf": 0.1, "maximum": -50}),
    ("number-exclusive", {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 0.001}),
    ("number-tiny-range", {"type": "number", "minimum": 0.123456, "maximum": 0.123457}),
    ("number-two-multiples", {"allOf": [{"multipleOf": 0.25}, {"multipleOf": 0.1}], "type": "number"}),
    ("draft4-exclusive", {"type": "number", "minimum": 5, "exclusiveMinimum": True, "maximum": 5.01}),
    ("object-required-optional", {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "string"}, "c": {"type": "boolean"}},
        "required": ["a"],
    }),
    ("object-max-properties", {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "string"}, "c": {"type": "boolean"}},
        "required": ["c"],
        "maxProperties": 2,
    }),
    ("object-closed-min", {
        "type": "object",
        "properties": {"a": {"type": "integer"}},
        "patternProperties": {"^x-[a-z]+$": {"type": "string"}},
        "additionalProperties": False,
        "minProperties": 3,
    }),
    ("object-map", {"type": "object", "additionalProperties": {"type": "integer"}}),
    ("object-map-names", {
        "type": "object",
        "additionalProperties": {"type": "string", "format": "email"},
        "propertyNames": {"pattern": "^[A-Z][a-z]{2,5}$"},
        "minProperties": 2,
    }),
    ("object-map-min-max", {
        "type": "object", "additionalProperties": {"type": "boolean"}, "minProperties": 4, "maxProperties": 4,
    }),
    ("object-odd-names", {
        "type": "object",
        "properties": {"a/b": {"type": "integer"}, "t~n": {"type": "string"}, "": {"type": "null"}},
        "required": ["a/b", "t~n", ""],
    }),
    ("object-required-undeclared", {"type": "object", "required": ["x", "y"]}),
    ("object-dependent-required", {
        "type": "object",
        "properties": {"card": {"type": "string"}, "billing": {"type": "string"}},
        "dependentRequired": {"card": ["billing"]},
        "maxProperties": 2,
    }),
    ("object-dependent-schemas", {
        "type": "object",
        "properties": {"card": {"type": "string"}},
        "dependentSchemas": {
            "card": {"properties": {"cvv": {"type": "string", "pattern": r"^\d{3}$"}}, "required": ["cvv"]},
        },
    }),
    ("object-dependent-false", {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "string"}},
        "dependentSchemas": {"a": False},
    }),
    ("object-optional-false", {"type": "object", "properties": {"gone": False, "kept": {"type": "integer"}}}),
    ("array", {"type": "array", "items": {"type": "integer"}}),
    ("array-min-max", {"type": "array", "items": {"type": "string"}, "minItems": 5, "maxItems": 6}),
    ("array-unique-enum", {"type": "array", "items": {"enum": [1, 2, 3, 4]}, "minItems": 4, "uniqueItems": True}),
    ("array-unique-bool", {"type": "array", "items": {"type": "boolean"}, "minItems": 2, "uniqueItems": True}),
    ("array-unique-objects", {
        "type": "array",
        "items": {
            "type": "object", "properties": {"k": {"type": "integer", "minimum": 0, "maximum": 9}}, "required": ["k"],
        },
        "minItems": 5,
        "uniqueItems": True,
    }),
    ("array-prefix", {
        "type": "array", "prefixItems": [{"type": "integer"}, {"type": "string", "format": "date"}], "items": False,
    }),
    ("array-prefix-rest", {
        "type": "array", "prefixItems": [{"const": "head"}], "items": {"type": "number"}, "minItems": 3,
    }),
    ("array-contains", {
        "type": "array", "items": {"type": "integer"}, "contains": {"minimum": 90}, "minContains": 2, "maxContains": 2,
    }),
    ("array-max-zero", {"type": "array", "maxItems": 0}),
    ("draft7-tuple", {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "array",
        "items": [{"type": "string"}, {"type": "boolean"}],
        "additionalItems": {"type": "null"},
        "minItems": 3,
    }),
    ("draft7-definitions", DEFS_07),
    ("anyOf-null", {"anyOf": [{"type": "null"}, {"type": "integer", "minimum": 3}]}),
    ("anyOf-conflict", {"type": "string", "anyOf": [{"type": "integer"}, {"minLength": 4}]}),
    ("oneOf-types", {"oneOf": [{"type": "integer"}, {"type": "number"}]}),
    ("oneOf-overlap", {"oneOf": [{"type": "string"}, {"type": "string", "maxLength": 3}]}),
    ("oneOf-objects", {
        "oneOf": [
            {"type": "object", "properties": {"t": {"const": "a"}, "x": {"type": "integer"}}, "required": ["t", "x"]},
            {"type": "object", "properties": {"t": {"const": "b"}, "y": {"type": "string"}}, "required": ["t", "y"]},
        ]
    }),
    ("allOf-merge", {
        "allOf": [
            {"type": "object", "properties": {"a": {"type": "integer", "minimum": 10}}, "required": ["a"]},
            {"properties": {"a": {"maximum": 12}, "b": {"type": "string"}}, "required": ["b"]},
        ]
    }),
    ("allOf-closed", {
        "allOf": [
            {"properties": {"a": {"type": "integer"}, "b": {"type": "string"}}, "additionalProperties": False},
            {"properties": {"a": {"minimum": 1}, "c": {"type": "string"}}},
        ]
    }),
    ("not-type", {"not": {"type": "string"}}),
    ("not-const", {"type": "boolean", "not": {"const": True}}),
    ("not-required", {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "not": {"required": ["b"]},
    }),
    ("if-then-else", {
        "type": "object",
        "properties": {"country": {"enum": ["US", "NL"]}, "zip": {"type": "string"}},
        "required": ["country"],
        "if": {"properties": {"country": {"const": "US"}}},
        "then": {"properties": {"zip": {"pattern": r"^\d{5}$"}}, "required": ["zip"]},
        "else": {"properties": {"zip": {"pattern": r"^\d{4} [A-Z]{2}$"}}},
    }),
    ("if-required", {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "if": {"required": ["a"]},
        "then": {"properties": {"a": {"minimum": 50}}},
        "else": {"required": ["b"]},
    }),
    ("ref-root", {
        "type": "object", "properties": {"name": {"type": "string"}, "child": {"$ref": "#"}}, "required": ["name"],
    }),
    ("ref-siblings", {
        "$defs": {"Id": {"type": "string", "minLength": 4}},
        "type": "object",
        "properties": {"id": {"$ref": "#/$defs/Id", "maxLength": 5, "description": "merged with the target"}},
        "required": ["id"],
    }),
    ("ref-escapes", {
        "$defs": {"a/b": {"const": "slash"}, "t~n": {"const": "tilde"}, "sp ace": {"const": "space"}},
        "type": "array",
        "prefixItems": [{"$ref": "#/$defs/a~1b"}, {"$ref": "#/$defs/t~0n"}, {"$ref": "#/$defs/sp%20ace"}],
        "minItems": 3,
    }),
    ("ref-anchor", {"$defs": {"x": {"$anchor": "here", "type": "integer", "minimum": 500}}, "$ref": "#here"}),
    ("ref-chain", {
        "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/c"}, "c": {"type": "boolean"}},
        "$ref": "#/$defs/a",
    }),
    ("mutual-recursion", {
        "$defs": {
            "Folder": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "items": {"type": "array", "items": {"$ref": "#/$defs/Entry"}},
                },
                "required": ["name", "items"],
            },
            "Entry": {"anyOf": [{"$ref": "#/$defs/Folder"}, {"type": "string", "format": "uri"}]},
        },
        "$ref": "#/$defs/Folder",
    }),
    ("json-value", {
        "$defs": {"J": {"anyOf": [
            {"type": "array", "items": {"$ref": "#/$defs/J"}, "minItems": 2},
            {"type": "object", "additionalProperties": {"$ref": "#/$defs/J"}, "minProperties": 2},
            {"type": "string"}, {"type": "number"},
        ]}},
        "$ref": "#/$defs/J",
    }),
    ("unevaluated", {
        "type": "object",
        "allOf": [{"properties": {"a": {"type": "integer"}}}],
        "properties": {"b": {"type": "string"}},
        "unevaluatedProperties": False,
        "minProperties": 2,
    }),
] + [(f"format-{f}", {"type": "string", "format": f}) for f in ALL_FORMATS] + [
    ("format-unknown", {"type": "string", "format": "favourite-colour", "maxLength": 6}),
    ("format-and-length", {"type": "string", "format": "uri", "minLength": 1, "maxLength": 2083}),
    # Regressions: a format value too long for maxLength (or too short for minLength) was sent
    # as it was; a pattern's shortest match was the only name tried for minProperties.
    ("short-email", {"type": "string", "format": "email", "maxLength": 12}),
    ("long-email", {"type": "string", "format": "email", "minLength": 40, "maxLength": 50}),
    ("short-uri", {"type": "string", "format": "uri", "maxLength": 14}),
    ("short-hostname", {"type": "string", "format": "hostname", "maxLength": 8}),
    ("pattern-prefix-min-properties", {
        "type": "object", "patternProperties": {"^x-": {"type": "integer"}}, "additionalProperties": False, "minProperties": 4,
    }),
]


VALIDATORS = {
    "draft4-exclusive": Draft4Validator, "draft7-tuple": Draft7Validator, "draft7-definitions": Draft7Validator,
}


@pytest.mark.parametrize(("name", "schema"), HANDWRITTEN, ids=[h[0] for h in HANDWRITTEN])
def test_handwritten_schemas(name, schema):
    for seed in SEEDS:
        instance = generate_instance(schema, seed)
        assert_valid(schema, instance, VALIDATORS.get(name, Draft202012Validator))
        assert generate_instance(schema, seed) == instance


def test_a_ref_cycle_without_nesting_allows_anything():
    # jsonschema itself recurses forever on this one, so there is nothing to validate against
    schema = {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}
    assert isinstance(generate_instance(schema, "x"), str)


def test_nullable_prefers_the_value_and_enum_const_win():
    for seed in SEEDS:
        assert isinstance(generate_instance({"anyOf": [{"type": "integer"}, {"type": "string"}]}, seed), int)
        assert isinstance(generate_instance({"type": ["null", "boolean", "string"]}, seed), bool)
        assert isinstance(generate_instance({"type": ["boolean", "null"]}, seed), bool)
        assert isinstance(generate_instance({"type": ["string", "null"]}, seed), str)
        assert isinstance(generate_instance({"anyOf": [{"type": "null"}, {"type": "integer"}]}, seed), int)
        assert generate_instance({"type": "integer", "const": 7}, seed) == 7
        assert generate_instance({"enum": ["only"]}, seed) == "only"
        assert generate_instance({}, seed).replace(" ", "").isalpha()


def test_strings_are_plain_words_within_lengths():
    for seed in SEEDS:
        text = generate_instance({"type": "string"}, seed)
        assert re.fullmatch(r"[a-z]+ [a-z]+", text)
        assert len(generate_instance({"type": "string", "minLength": 40}, seed)) >= 40
        assert len(generate_instance({"type": "string", "maxLength": 3}, seed)) <= 3
        # code points, not UTF-16 units or bytes
        emoji = generate_instance({"type": "string", "pattern": "^\U0001f600{3}$"}, seed)
        assert emoji == "\U0001f600" * 3


def test_patterns_match():
    cases = {
        r"^[A-Z]{3}-\d{4}$": r"[A-Z]{3}-\d{4}",
        r"^\+?[0-9 ]{7,15}$": r"\+?[0-9 ]{7,15}",
        r"[a-z]+@[a-z]+\.com": r".*[a-z]+@[a-z]+\.com.*",
    }
    for pattern, full in cases.items():
        values = {generate_instance({"type": "string", "pattern": pattern}, f"p{i}") for i in range(20)}
        assert all(re.fullmatch(full, v) for v in values), values
        assert len(values) > 5


def test_number_rules():
    values = [generate_instance({"type": "number", "multipleOf": 0.01}, f"n{i}") for i in range(40)]
    assert all(v / 0.01 == int(v / 0.01) for v in values)  # the float check validators make
    assert all(0 <= v <= 100 for v in values)
    ints = [generate_instance({"type": "integer"}, f"i{i}") for i in range(40)]
    assert all(type(v) is int and 0 <= v <= 100 for v in ints)
    assert generate_instance({"type": "integer", "exclusiveMinimum": 4, "exclusiveMaximum": 6}, "x") == 5
    assert generate_instance({"type": "integer", "minimum": 1000}, "x") in range(1000, 1101)
    assert generate_instance({"type": "integer", "maximum": -1000}, "x") in range(-1100, -999)
    floats = [generate_instance({"type": "number"}, f"f{i}") for i in range(40)]
    assert all(type(v) is float and round(v, 2) == v for v in floats)


def test_arrays_default_to_one_to_three_items():
    lengths = {len(generate_instance({"type": "array", "items": {"type": "integer"}}, f"a{i}")) for i in range(30)}
    assert lengths == {1, 2, 3}
    tuple_ = generate_instance({"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}]}, "t")
    assert [type(x) for x in tuple_] == [int, str]


def test_uniqueness_varies_the_items():
    digits = {"type": "integer", "minimum": 0, "maximum": 9}
    schema = {"type": "array", "items": digits, "minItems": 10, "uniqueItems": True}
    assert sorted(generate_instance(schema, "u")) == list(range(10))


def test_map_types_get_word_keys():
    value = generate_instance({"type": "object", "additionalProperties": {"type": "integer"}}, "m")
    assert 1 <= len(value) <= 3
    assert all(re.fullmatch(r"[a-z]+", k) for k in value)


def test_deep_optional_properties_are_left_out():
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    for _ in range(12):
        schema = {"type": "object", "properties": {"x": schema, "y": {"type": "integer"}}, "required": ["x"]}
    value, depth = generate_instance(schema, "d"), 0
    while "x" in value:
        assert "y" in value or depth >= 8
        value, depth = value["x"], depth + 1
    assert depth == 12 and value == {}  # the innermost optional "a" is beyond the soft depth


# --------------------------------------------------------------------------------------------
# Determinism, purity, errors, termination


def test_same_seed_same_instance_other_seeds_differ():
    schema = to_strict_json_schema(Customer)
    assert generate_instance(schema, "s") == generate_instance(schema, b"s")
    assert generate_instance(schema, "s") == generate_instance(json.loads(json.dumps(schema)), "s")
    instances = [json.dumps(generate_instance(schema, f"seed-{i}")) for i in range(6)]
    assert len(set(instances)) == 6
    small = [generate_instance({"type": "integer"}, f"seed-{i}") for i in range(6)]
    assert len(set(small)) > 1


PINNED_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "n": {"type": "integer"},
        "x": {"type": "number"},
        "when": {"type": "string", "format": "date-time"},
        "code": {"type": "string", "pattern": r"^[A-Z]{3}-\d{4}$"},
        "tags": {"type": "array", "items": {"enum": ["a", "b", "c"]}},
        "m": {"type": "object", "additionalProperties": {"type": "boolean"}},
        "u": {"anyOf": [
            {"type": "object", "properties": {"k": {"const": 1}}, "required": ["k"]},
            {"type": "object", "properties": {"k": {"const": 2}}, "required": ["k"]},
        ]},
    },
    "required": ["name"],
}


def test_known_values_are_pinned():
    # The same with any PYTHONHASHSEED and on every run: a change here changes the fake's replies,
    # so it must be deliberate (and noted in the changelog).
    assert generate_instance(PINNED_SCHEMA, "pin") == {
        "name": "useful model",
        "n": 35,
        "x": 68.91,
        "when": "2026-01-31T01:40:55Z",
        "code": "UPD-2922",
        "tags": ["c"],
        "m": {"there": True, "compass": True},
        "u": {"k": 1},
    }


def test_schema_is_not_mutated_and_results_are_copies():
    schema = {"type": "object", "properties": {"k": {"const": {"a": [1]}}}, "required": ["k"]}
    before = json.dumps(schema)
    value = generate_instance(schema)
    value["k"]["a"].append(2)
    assert json.dumps(schema) == before


def test_threads_agree():
    schema = to_strict_json_schema(Owner)
    expected = [generate_instance(schema, str(i)) for i in range(20)]
    results: dict[int, list] = {}

    def run(n: int) -> None:
        results[n] = [generate_instance(schema, str(i)) for i in range(20)]

    threads = [threading.Thread(target=run, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert all(results[n] == expected for n in range(4))


@pytest.mark.parametrize(
    ("schema", "pointer", "words"),
    [
        (False, "#", "false"),
        ({"enum": []}, "#", "enum"),
        ({"type": "integer", "minimum": 5, "maximum": 3}, "#", "minimum 5"),
        ({"type": "number", "exclusiveMinimum": 1, "exclusiveMaximum": 1}, "#", "not below"),
        ({"type": "integer", "minimum": 1.2, "maximum": 1.8}, "#", "no integer"),
        ({"type": "integer", "multipleOf": 10, "minimum": 1, "maximum": 9}, "#", "multiple of 10"),
        ({"type": "string", "minLength": 5, "maxLength": 2}, "#", "minLength 5"),
        ({"type": "array", "minItems": 4, "maxItems": 2}, "#", "at least 4"),
        ({"type": "object", "minProperties": 3, "maxProperties": 1}, "#", "minProperties 3"),
        ({"type": "object", "properties": {"a": False}, "required": ["a"]}, "#/properties/a", "required property 'a'"),
        (
            {
                "type": "object",
                "properties": {"p": {"type": "object", "properties": {"q": {"enum": []}}, "required": ["q"]}},
                "required": ["p"],
            },
            "#/properties/p/properties/q",
            "enum",
        ),
        ({"$ref": "#/$defs/missing"}, "#", "does not resolve"),
        ({"$ref": "https://example.com/other.json"}, "#", "cannot resolve"),
        ({"allOf": [{"type": "string"}, {"type": "integer"}]}, "#/allOf/1", "type"),
        ({"type": "string", "const": 3}, "#", "enum/const"),
        ({"type": "array", "items": {"type": "boolean"}, "minItems": 3, "uniqueItems": True}, "#", "distinct"),
        ({"type": "object", "additionalProperties": False, "minProperties": 1}, "#", "minProperties"),
        (
            {
                "$defs": {"N": {"type": "object", "properties": {"n": {"$ref": "#/$defs/N"}}, "required": ["n"]}},
                "$ref": "#/$defs/N",
            },
            "#/$defs/N/properties/n",
            "never terminates",
        ),
        ({"type": "string", "minLength": 10**6}, "#", "limit"),
        ({"anyOf": []}, "#/anyOf", "empty anyOf"),
    ],
)
def test_unsatisfiable_schemas_raise_schema_error(schema, pointer, words):
    with pytest.raises(SchemaError) as info:
        generate_instance(schema, "x")
    assert isinstance(info.value, ValueError)
    assert info.value.pointer == pointer, str(info.value)
    assert str(info.value).startswith(pointer + ": ")
    assert words in str(info.value)
    again = pickle.loads(pickle.dumps(info.value))
    assert (again.pointer, again.reason, str(again)) == (info.value.pointer, info.value.reason, str(info.value))


def test_bad_arguments():
    with pytest.raises(SchemaError):
        generate_instance("string")  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match="must be a JSON object or a boolean"):
        generate_instance({"type": "object", "properties": {"a": 3}, "required": ["a"]})
    with pytest.raises(TypeError):
        generate_instance({}, 3)  # type: ignore[arg-type]


def test_recursion_always_terminates_quickly():
    explosive = {
        "$defs": {"E": {"anyOf": [
            {"type": "array", "items": {"$ref": "#/$defs/E"}, "minItems": 3},
            {"type": "object", "additionalProperties": {"$ref": "#/$defs/E"}, "minProperties": 3},
            {
                "type": "object",
                "properties": {"l": {"$ref": "#/$defs/E"}, "r": {"$ref": "#/$defs/E"}},
                "required": ["l", "r"],
            },
        ]}},
        "$ref": "#/$defs/E",
    }
    linked = {
        "type": "object",
        "properties": {"v": {"type": "integer"}, "next": {"anyOf": [{"$ref": "#"}, {"type": "null"}]}},
        "required": ["v", "next"],
    }
    for seed in SEEDS:
        with pytest.raises(SchemaError):  # every branch recurses: no finite instance
            generate_instance(explosive, seed)
        value = generate_instance(linked, seed)
        assert_valid(linked, value)
        assert value["next"]["next"]["next"] is None  # the second "#" on the way down is deep: null
        assert_valid(Tree.model_json_schema(), generate_instance(Tree.model_json_schema(), seed))


# --------------------------------------------------------------------------------------------
# A property-based sweep over schemas built from the supported keywords, satisfiable by construction

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.sampled_from(["a", "b", "x y", ""]))
NAMES = st.sampled_from(["id", "name", "size", "tags", "kind", "note", "when", "a-b", "x/y", "\u00fcn\u00ef"])
PATTERNS = [
    r"^[A-Z]{3}-\d{4}$", r"^\+?[0-9 ]{7,15}$", r"[a-z]+@[a-z]+\.com", r"^(a|bc)+$", r"^\d*$", r"^[^\s]{2,}$",
    r"^#[0-9a-fA-F]{6}$", r"^[a-z][a-z0-9_]{0,9}$",
]


def _plain(schema: dict) -> tuple[dict, dict]:
    return schema, {}


@st.composite
def integer_schemas(draw) -> tuple[dict, dict]:
    schema: dict[str, Any] = {"type": "integer"}
    mult = draw(st.sampled_from([None, 1, 2, 3, 7, 25]))
    lo = draw(st.one_of(st.none(), st.integers(-10**6, 10**6)))
    hi = draw(st.one_of(st.none(), st.integers(0, 300)))
    if mult:
        schema["multipleOf"] = mult
    if lo is not None:
        schema[draw(st.sampled_from(["minimum", "exclusiveMinimum"]))] = lo
    if hi is not None:
        schema[draw(st.sampled_from(["maximum", "exclusiveMaximum"]))] = (lo or 0) + hi + 2 * (mult or 1) + 2
    return _plain(schema)


@st.composite
def number_schemas(draw) -> tuple[dict, dict]:
    schema: dict[str, Any] = {"type": draw(st.sampled_from(["number", ["number", "null"]]))}
    mult = draw(st.sampled_from([None, 0.01, 0.1, 0.25, 0.5, 1.5, 2]))
    lo = draw(st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)))
    span = draw(st.one_of(st.none(), st.floats(0, 1000)))
    if mult:
        schema["multipleOf"] = mult
    if lo is not None:
        schema[draw(st.sampled_from(["minimum", "exclusiveMinimum"]))] = lo
    if span is not None:
        schema[draw(st.sampled_from(["maximum", "exclusiveMaximum"]))] = (lo or 0.0) + span + 3 * (mult or 1)
    return _plain(schema)


@st.composite
def string_schemas(draw) -> tuple[dict, dict]:
    kind = draw(st.sampled_from(["plain", "format", "pattern"]))
    schema: dict[str, Any] = {"type": "string"}
    if kind == "format":
        schema["format"] = draw(st.sampled_from(ALL_FORMATS))
    elif kind == "pattern":
        schema["pattern"] = draw(st.sampled_from(PATTERNS))
    else:
        lo = draw(st.one_of(st.none(), st.integers(0, 40)))
        if lo is not None:
            schema["minLength"] = lo
        if draw(st.booleans()):
            schema["maxLength"] = (lo or 0) + draw(st.integers(0, 20))
    return _plain(schema)


LEAVES = st.one_of(
    st.just(_plain({})),
    st.just(_plain({"type": "boolean"})),
    st.just(_plain({"type": "null"})),
    st.builds(lambda t: _plain({"not": {"type": t}}), st.sampled_from(["string", "integer", "object", "null"])),
    integer_schemas(),
    number_schemas(),
    string_schemas(),
    st.builds(lambda v: _plain({"enum": v}), st.lists(SCALARS, min_size=1, max_size=4, unique_by=json.dumps)),
    st.builds(
        lambda v: _plain({"const": v}), st.one_of(SCALARS, st.dictionaries(st.sampled_from("ab"), SCALARS, max_size=2))
    ),
)
UNIQUE_ITEMS = st.sampled_from([
    {"type": "string"}, {"type": "integer", "minimum": 0}, {"type": "string", "format": "uuid"}, {"type": "number"},
    {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]},
])


def _merge(*defs: dict) -> dict:
    out: dict = {}
    for d in defs:
        out.update(d)
    return out


def _extend(children: st.SearchStrategy) -> st.SearchStrategy:
    @st.composite
    def objects(draw):
        props = draw(st.dictionaries(NAMES, children, max_size=4))
        names = list(props)
        required = [n for n in names if draw(st.booleans())]
        schema: dict[str, Any] = {"type": "object", "properties": {n: s for n, (s, _) in props.items()}}
        if required:
            schema["required"] = required
        extra = draw(st.sampled_from(["absent", "false", "true", "schema"]))
        defs = _merge(*(d for _, d in props.values()))
        if extra == "false":
            schema["additionalProperties"] = False
        elif extra == "true":
            schema["additionalProperties"] = True
        elif extra == "schema":
            sub, sub_defs = draw(children)
            schema["additionalProperties"] = sub
            defs = _merge(defs, sub_defs)
        if draw(st.booleans()):
            schema["minProperties"] = draw(st.integers(0, len(names) if extra == "false" else len(names) + 2))
        if draw(st.booleans()):
            schema["maxProperties"] = max(len(required), schema.get("minProperties", 0)) + draw(st.integers(0, 2))
        return schema, defs

    @st.composite
    def maps(draw):
        sub, defs = draw(children)
        schema: dict[str, Any] = {"type": "object", "additionalProperties": sub}
        names = draw(st.sampled_from([None, {"pattern": "^[a-z]+$"}, {"maxLength": 8}, {"pattern": "^k[0-9]{2}$"}]))
        if names:
            schema["propertyNames"] = names
        lo = draw(st.integers(0, 3))
        if lo:
            schema["minProperties"] = lo
        if draw(st.booleans()):
            schema["maxProperties"] = lo + draw(st.integers(0, 2))
        return schema, defs

    @st.composite
    def arrays(draw):
        sub, defs = draw(children)
        schema: dict[str, Any] = {"type": "array", "items": sub}
        lo = draw(st.integers(0, 3))
        if lo:
            schema["minItems"] = lo
        if draw(st.booleans()):
            schema["maxItems"] = lo + draw(st.integers(0, 3))
        return schema, defs

    @st.composite
    def unique_arrays(draw):
        items = draw(UNIQUE_ITEMS)
        return {"type": "array", "items": items, "uniqueItems": True, "minItems": draw(st.integers(0, 5))}, {}

    @st.composite
    def tuples(draw):
        subs = draw(st.lists(children, min_size=1, max_size=3))
        schema: dict[str, Any] = {"type": "array", "prefixItems": [s for s, _ in subs]}
        if draw(st.booleans()):
            schema["items"] = False
        schema["minItems"] = draw(st.integers(0, len(subs)))
        return schema, _merge(*(d for _, d in subs))

    @st.composite
    def any_ofs(draw):
        subs = draw(st.lists(children, min_size=1, max_size=3))
        branches = [s for s, _ in subs] + ([{"type": "null"}] if draw(st.booleans()) else [])
        return {"anyOf": branches}, _merge(*(d for _, d in subs))

    @st.composite
    def one_of_types(draw):
        kinds = st.sampled_from(["string", "integer", "boolean", "null", "object", "array"])
        types = draw(st.lists(kinds, min_size=2, max_size=4, unique=True))
        return {"oneOf": [{"type": t} for t in types]}, {}

    @st.composite
    def discriminated(draw):
        subs = draw(st.lists(children, min_size=2, max_size=3))
        branches = [
            {"type": "object", "properties": {"kind": {"const": f"k{i}"}, "v": s}, "required": ["kind", "v"]}
            for i, (s, _) in enumerate(subs)
        ]
        return {"oneOf": branches}, _merge(*(d for _, d in subs))

    @st.composite
    def all_ofs(draw):
        a = draw(st.dictionaries(st.sampled_from(["a", "b", "c"]), children, max_size=2))
        b = draw(st.dictionaries(st.sampled_from(["x", "y", "z"]), children, max_size=2))
        first = {"type": "object", "properties": {k: s for k, (s, _) in a.items()}, "required": list(a)}
        second = {"properties": {k: s for k, (s, _) in b.items()}, "required": list(b)[:1]}
        return {"allOf": [first, second]}, _merge(*(d for _, d in [*a.values(), *b.values()]))

    @st.composite
    def refs(draw):
        sub, defs = draw(children)
        name = "d" + hashlib.sha256(json.dumps(sub, sort_keys=True).encode()).hexdigest()[:8]
        return {"$ref": f"#/$defs/{name}"}, _merge(defs, {name: sub})

    @st.composite
    def trees(draw):
        sub, defs = draw(children)
        name = "t" + hashlib.sha256(json.dumps(sub, sort_keys=True).encode()).hexdigest()[:8]
        node = {
            "type": "object",
            "properties": {
                "v": sub,
                "kids": {"type": "array", "items": {"$ref": f"#/$defs/{name}"}},
                "up": {"anyOf": [{"$ref": f"#/$defs/{name}"}, {"type": "null"}]},
            },
            "required": ["v", "kids", "up"] if draw(st.booleans()) else ["v"],
        }
        return {"$ref": f"#/$defs/{name}"}, _merge(defs, {name: node})

    @st.composite
    def contains(draw):
        lo = draw(st.integers(0, 2))
        schema = {
            "type": "array",
            "items": {"type": "integer"},
            "contains": {"type": "integer", "minimum": 90},
            "minContains": lo,
        }
        if draw(st.booleans()):
            schema["maxContains"] = lo + draw(st.integers(0, 1))
        return schema, {}

    @st.composite
    def conditionals(draw):
        sub, defs = draw(children)
        schema = {
            "type": "object",
            "properties": {"mode": {"enum": ["a", "b"]}, "x": sub},
            "required": ["mode"],
            "if": {"properties": {"mode": {"const": "a"}}},
            "then": {"required": ["x"]},
            "else": {"properties": {"x": {"type": "null"}}},
        }
        return schema, defs

    return st.one_of(
        objects(), maps(), arrays(), unique_arrays(), tuples(), any_ofs(), one_of_types(), discriminated(),
        all_ofs(), refs(), trees(), contains(), conditionals(),
    )


SCHEMAS = st.recursive(LEAVES, _extend, max_leaves=10).map(
    lambda pair: {**pair[0], "$defs": pair[1]} if pair[1] else pair[0]  # the $defs the $refs point to
)


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,  # repeatable in CI
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(schema=SCHEMAS, seed=st.binary(max_size=8))
def test_random_schemas_give_valid_instances(schema, seed):
    instance = generate_instance(schema, seed)
    assert_valid(schema, instance)
    assert generate_instance(schema, seed) == instance
