"""What the installed openai SDK has, found by feature (docs/versions.md).

Tests of something an older SDK lacks (a parameter, a reply field, a model literal, a resource,
an item type) skip or adapt with these; nothing here compares version numbers.
"""

from __future__ import annotations

import inspect
from typing import Any

import openai
import pydantic

from pytest_openai_fake.providers.openai import literal_strings, sdk_model_id_set


def sdk_has(obj: Any, *path: str) -> bool:
    """Whether ``obj.<path[0]>.<path[1]>...`` exists (a resource, a method, a type module)."""
    for name in path:
        if not hasattr(obj, name):
            return False
        obj = getattr(obj, name)
    return True


def sdk_takes(method: object, name: str) -> bool:
    """Whether an SDK method has the keyword parameter ``name``."""
    return name in inspect.signature(method).parameters  # type: ignore[arg-type]


def sdk_reply_accepts(model: type[pydantic.BaseModel], **fields: object) -> bool:
    """Whether the SDK's response model ``model`` validates a reply made of ``fields``."""
    try:
        model.model_validate(fields)
    except pydantic.ValidationError:
        return False
    return True


def sdk_requires(model: type[pydantic.BaseModel], field: str) -> bool:
    """Whether the SDK's response model ``model`` has ``field`` as a required field."""
    info = model.model_fields.get(field)
    return info is not None and info.is_required()


def sdk_literal_has(tp: Any, value: str) -> bool:
    """Whether the SDK type ``tp`` (a Literal, or a union or alias of them) allows ``value``."""
    return value in literal_strings(tp)


def sdk_knows_model(*models: str) -> bool:
    """Whether the SDK names every model of ``models`` (so the fake's catalog has them)."""
    return set(models) <= sdk_model_id_set()


def raw_body(content: bytes) -> dict[str, bytes]:
    """The keyword that makes ``client.post(path, cast_to=object, **raw_body(b"..."))`` send
    ``content`` as the body, byte for byte: ``content=`` where the SDK has it (later 2.x, 3.x),
    else ``body=`` (openai 2.0 sends a bytes body as is)."""
    return {"content": content} if sdk_takes(openai.OpenAI.post, "content") else {"body": content}


def sdk_union_types(union: Any) -> set[str]:
    """The ``type`` values of the members of an SDK union of TypedDicts or models
    (``ResponseInputItemParam``: the input item types the SDK can send)."""
    import typing_extensions

    kinds: set[str] = set()
    for member in typing_extensions.get_args(union):
        if typing_extensions.get_origin(member) is typing_extensions.Annotated:
            member = typing_extensions.get_args(member)[0]
        hints = getattr(member, "__annotations__", {})
        fields = getattr(member, "model_fields", None)
        kind = fields["type"].annotation if fields and "type" in fields else hints.get("type")
        if kind is not None:
            kinds.update(literal_strings(typing_extensions.get_type_hints(member)["type"] if fields is None else kind))
    return kinds
