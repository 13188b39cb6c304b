"""The OpenAI profile. Its catalog is every model the installed ``openai`` SDK names."""

from __future__ import annotations

import functools
import hashlib
import importlib
import typing
from dataclasses import dataclass, field
from typing import Any, Callable

import typing_extensions

__all__ = ["OPENAI", "ModelCard", "Provider", "literal_strings", "sdk_model_ids"]


@dataclass(frozen=True)
class ModelCard:
    id: str
    created: int
    owned_by: str = "system"
    #: Embedding models: the vector length when the request names none.
    dimensions: int | None = None
    #: Fields this provider's model objects have besides OpenAI's (Together's ``type``, ...).
    extra: tuple[tuple[str, Any], ...] = ()

    def to_api(self) -> dict[str, object]:
        return {"id": self.id, "object": "model", "created": self.created, "owned_by": self.owned_by, **dict(self.extra)}


@dataclass(frozen=True)
class Provider:
    """What differs between providers, as data and hooks. Handlers read these, never names."""

    name: str
    base_path: str
    default_port: int
    catalog: tuple[ModelCard, ...] = field(repr=False)
    #: Arguments the SDK's params TypedDict does not name are a 400, as on api.openai.com.
    reject_unknown_params: bool = True
    #: Sent as ``openai-version`` on every response.
    api_version: str = "2020-10-01"
    #: More path prefixes serving the same routes, e.g. Azure's ``/openai/deployments/<deployment>``
    #: (a ``<deployment>`` in the path reaches the ``check`` hook as ``ctx.deployment``).
    mounts: tuple[str, ...] = ()
    #: Headers that carry the API key besides ``Authorization: Bearer`` (Azure: ``api-key``).
    key_headers: tuple[str, ...] = ()
    #: Where cassettes record from by default (the base URL a client would use), the variable
    #: that may give it instead (Azure's resource endpoint, under which ``base_path`` is added),
    #: and the variable holding the key that recording sends upstream.
    upstream_url: str | None = "https://api.openai.com/v1"
    upstream_url_env: str | None = None
    upstream_key_env: str = "OPENAI_API_KEY"
    #: Endpoints only this provider has, and which shared endpoints it offers (None: all).
    resources: tuple[Any, ...] = ()
    endpoints: frozenset[str] | None = None
    #: Before the handler: raise ``errors.OpenAIError`` for what this provider refuses.
    check: Callable[[Any], None] | None = field(default=None, repr=False)
    #: ``(endpoint, JSON result) -> what this provider sends`` (e.g. extra fields, another shape).
    decorate: Callable[[str, Any], Any] | None = field(default=None, repr=False)
    #: ``OpenAIError -> (status, body)`` when this provider's errors are not OpenAI's envelope.
    render_error: Callable[[Any], tuple[int, Any]] | None = field(default=None, repr=False)
    #: Deployment name -> model id (Azure), unless a test configures its own.
    deployments: tuple[tuple[str, str], ...] = ()
    #: What ``FakeOpenAI.client()`` builds: ``"openai"`` (``OpenAI(base_url=...)``) or ``"azure"``.
    client_kind: str = "openai"
    #: JSON mode (``json_object``) needs the word "json" in the messages (OpenAI's 400).
    json_mode_needs_word: bool = True
    #: ``strict: true`` schemas must follow OpenAI's structured-outputs rules (closed objects,
    #: every property required), else OpenAI's 400.
    strict_schema_rules: bool = True

    @property
    def serves_deployments(self) -> bool:
        """Whether requests name a deployment (a ``<deployment>`` mount): the marker's
        ``deployments=`` configure this provider's server, whichever provider the marker names."""
        return any("<deployment>" in mount for mount in self.mounts)

    def card(self, model_id: str) -> ModelCard | None:
        return next((card for card in self.catalog if card.id == model_id), None)


# (module, attribute) of every Literal of model names the SDK defines, and for params whose
# model field carries its own Literal, (module, TypedDict, "model").
_MODEL_LITERALS = (
    ("openai.types.shared.chat_model", "ChatModel"),
    ("openai.types.shared.responses_model", "ResponsesModel"),
    ("openai.types.embedding_model", "EmbeddingModel"),
    ("openai.types.image_model", "ImageModel"),
    ("openai.types.moderation_model", "ModerationModel"),
    ("openai.types.audio_model", "AudioModel"),
    ("openai.types.audio.speech_model", "SpeechModel"),
    ("openai.types.video_model", "VideoModel"),
)
_MODEL_FIELDS = (
    ("openai.types.completion_create_params", "CompletionCreateParamsBase", "model"),
    ("openai.types.realtime.realtime_session_create_request_param", "RealtimeSessionCreateRequestParam", "model"),
)


def literal_strings(tp: object) -> list[str]:
    """Every string of the ``Literal``s inside a type (through unions and ``Annotated``)."""
    origin = typing_extensions.get_origin(tp)
    args = typing_extensions.get_args(tp)
    if origin in (typing.Literal, typing_extensions.Literal):
        return [a for a in args if isinstance(a, str)]
    if origin in (typing_extensions.Annotated, typing.Annotated):
        return literal_strings(args[0])
    return [s for a in args for s in literal_strings(a)]


def sdk_model_ids() -> list[str]:
    """Model ids named by the installed SDK, in the SDK's order, without duplicates."""
    ids: list[str] = []
    for module_name, attr in _MODEL_LITERALS:
        try:
            ids.extend(literal_strings(getattr(importlib.import_module(module_name), attr)))
        except (ImportError, AttributeError):  # an older or newer SDK without that literal
            continue
    for module_name, typed_dict, key in _MODEL_FIELDS:
        try:
            hints = typing_extensions.get_type_hints(
                getattr(importlib.import_module(module_name), typed_dict), include_extras=True
            )
            ids.extend(literal_strings(hints[key]))
        except (ImportError, AttributeError, KeyError):
            continue
    return list(dict.fromkeys(ids))


@functools.lru_cache(maxsize=1)
def sdk_model_id_set() -> frozenset[str]:
    """``sdk_model_ids()`` as a set, computed once."""
    return frozenset(sdk_model_ids())


def base_model(model_id: str) -> str:
    """The model a fine-tune (``ft:<base>:<org>:<suffix>:<id>``) was made from; any other id as is."""
    return model_id.split(":")[1] if model_id.startswith("ft:") and model_id.count(":") >= 2 else model_id


def _created(model_id: str) -> int:
    # A stable, plausible creation time between 2023-01-01 and 2026-01-01.
    offset = int.from_bytes(hashlib.sha256(model_id.encode()).digest()[:4], "big") % (3 * 365 * 86400)
    return 1_672_531_200 + offset


def _catalog() -> tuple[ModelCard, ...]:
    return tuple(ModelCard(model_id, _created(model_id)) for model_id in sdk_model_ids())


OPENAI = Provider(name="openai", base_path="/v1", default_port=4747, catalog=_catalog())
