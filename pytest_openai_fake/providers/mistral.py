"""The Mistral profile: Mistral's catalog, request checks, response shapes and error bodies.

The ``mistralai`` SDK (``Mistral(server_url=<root>)``) and the ``openai`` SDK (at ``<root>/v1``)
both work against it. Facts come from the ``mistralai`` 3.x SDK's request/response models
and from real API bodies quoted in public issues (sources in the README's Mistral section).

What differs from OpenAI, and is emulated:

- **Catalog**: Mistral's models as ``GET /v1/models`` lists them (December 2025): every alias is
  a model of its own, with ``capabilities``, ``name``, ``description``, ``max_context_length``,
  ``aliases``, ``deprecation``, ``default_model_temperature`` and ``type: "base"``.
- **Endpoints**: chat completions, embeddings, models (list, retrieve, delete) and FIM
  (``fim.complete``, ``resources/fim.py``). The rest of OpenAI's API is a 404, as on Mistral.
- **Chat requests** accept exactly the fields of the SDK's ``ChatCompletionRequest``; any other
  (``store``, ``max_completion_tokens``, ``stream_options``, ``user``, ``seed``, ``functions``)
  is Mistral's 422 ``extra_forbidden``. ``random_seed`` is the seed; ``tool_choice: "any"``
  means ``"required"``; ``safe_prompt``, ``prompt_mode``, ``min_tokens``, ``top_k`` and the
  other Mistral-only fields are accepted and ignored. Roles are system/user/assistant/tool.
  Mistral's 400s for tool-call ids that are not 9 letters/digits, for a ``user`` message right
  after a ``tool`` message, and for a conversation ending with an assistant message (unless it
  has ``prefix: true``). ``null`` is "not given" for the fields the SDK types ``Nullable``;
  for the others (``stream``, ``response_format``, ``parallel_tool_calls``, ``output_dtype``,
  ...) it is pydantic's 422, as FIM's ``stream`` is.
- **Chat responses**: a 32-hex ``id``, no ``system_fingerprint``/``service_tier``/``refusal``,
  ``tool_calls: null`` on text replies, tool calls with 9-character ids and an ``index``,
  usage with ``prompt_tokens_details.cached_tokens``, logprobs entries with a ``token_id``.
  Streams always end with the usage on the last chunk, and each tool call arrives whole in
  one chunk (Mistral does not split arguments; the ``mistralai`` SDK cannot parse split ones).
- **Embeddings**: ``mistral-embed`` has 1024 dimensions; ``codestral-embed`` 1536 by default,
  ``output_dimension`` up to 3072 and ``output_dtype`` (``int8``, ``uint8``, ``binary``,
  ``ubinary``, ``float``); other models reject both. Only strings are inputs. The reply has an
  ``id`` (the SDK requires it) and ``usage.completion_tokens: 0``.
- **Errors**: invalid bodies are 422 ``{"detail": [{"type", "loc", "msg", "input"}, ...]}``
  (the SDK's ``HTTPValidationError``) listing every violation in pydantic's order: the request
  model's fields as the SDK declares them, then the extra fields as sent; an unknown model is
  400 ``invalid_model`` "Invalid model: x" (code ``1500``); a bad tool-call id is 400
  ``invalid_function_call`` (code ``3280``); other errors are ``{"object": "error", "message",
  "type", "param": null, "code", "raw_status_code"}``; 401 is ``{"detail": "Unauthorized"}``;
  an unknown URL is the gateway's 404 ``{"message": "no Route matched with those values",
  "request_id"}``.
- **Mid-stream errors** (``stream_error(after=N)``) end chat and FIM streams with a chunk whose
  choice has ``finish_reason: "error"``, as Mistral's do; the mistralai SDK yields it (it cannot
  raise an API error from inside a stream).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from openai.types.chat import ChatCompletion
from werkzeug.wrappers import Response

from .. import errors
from ..determinism import EPOCH, base62, digest
from ..resources.embeddings import WireEmbeddingResponse
from ..resources.fim import FIM_PARAMS, completion_id, fim
from ..routing import Ctx, Resource
from ..streaming import DONE, event, sse_response
from .openai import ModelCard, Provider

__all__ = ["MISTRAL"]

# -- catalog -----------------------------------------------------------------------------------

_CAPABILITY_KEYS = {
    "chat": "completion_chat",
    "tools": "function_calling",
    "fim": "completion_fim",
    "tune": "fine_tuning",
    "vision": "vision",
    "ocr": "ocr",
    "classification": "classification",
    "moderation": "moderation",
    "audio": "audio",
}


def _model(
    ids: tuple[str, ...],
    description: str,
    context: int,
    temperature: float | None,
    capabilities: str,
    *,
    name: str | None = None,
    list_aliases: bool = True,
    dimensions: int | None = None,
) -> list[ModelCard]:
    """One model under each of its ids: Mistral lists every alias as a model of its own, whose
    ``aliases`` are the other ids (some families list none)."""
    wanted = set(capabilities.split())
    cards = []
    for model_id in ids:
        extra = (
            ("capabilities", {key: short in wanted for short, key in _CAPABILITY_KEYS.items()}),
            ("name", name or ids[0]),
            ("description", description),
            ("max_context_length", context),
            ("aliases", [other for other in ids if other != model_id] if list_aliases else []),
            ("deprecation", None),
            ("deprecation_replacement_model", None),
            ("default_model_temperature", temperature),
            ("type", "base"),
        )
        cards.append(ModelCard(model_id, EPOCH, owned_by="mistralai", dimensions=dimensions, extra=extra))
    return cards


def _official(model_id: str) -> str:
    return f"Official {model_id} Mistral AI model"


#: As ``GET https://api.mistral.ai/v1/models`` listed them in December 2025 (a subset).
_CATALOG = (
    *_model(
        ("mistral-large-2512", "mistral-large-latest"),
        _official("mistral-large-2512"), 262144, 0.3, "chat tools tune vision", list_aliases=False,
    ),
    *_model(
        ("mistral-large-2411",),
        "Our top-tier reasoning model for high-complexity tasks with the lastest version released November 2024.", 131072, 0.7, "chat tools tune",
    ),
    *_model(
        ("mistral-medium-2508", "mistral-medium-latest", "mistral-medium"),
        "Update on Mistral Medium 3 with improved capabilities.", 131072, 0.3, "chat tools tune vision",
    ),
    *_model(
        ("mistral-medium-2505",),
        "Our frontier-class multimodal model released May 2025.", 131072, 0.3, "chat tools tune vision",
    ),
    *_model(
        ("mistral-small-2506", "mistral-small-latest"),
        "Our latest enterprise-grade small model with the latest version released June 2025.", 131072, 0.3, "chat tools vision",
    ),
    *_model(
        ("ministral-3b-2512", "ministral-3b-latest"),
        "Ministral 3 (a.k.a. Tinystral) 3B Instruct.", 131072, 0.3, "chat tools tune vision",
    ),
    *_model(
        ("ministral-8b-2512", "ministral-8b-latest"),
        "Ministral 3 (a.k.a. Tinystral) 8B Instruct.", 262144, 0.3, "chat tools tune vision",
    ),
    *_model(
        ("ministral-14b-2512", "ministral-14b-latest"),
        "Ministral 3 (a.k.a. Tinystral) 14B Instruct.", 262144, 0.3, "chat tools tune vision",
    ),
    *_model(
        ("codestral-2508", "codestral-latest"),
        "Our cutting-edge language model for coding released August 2025.", 256000, 0.3, "chat tools fim",
    ),
    *_model(
        ("devstral-2512", "devstral-latest", "devstral-medium-latest", "mistral-vibe-cli-latest"),
        _official("devstral-2512"), 262144, 0.2, "chat tools", list_aliases=False,
    ),
    *_model(
        ("labs-devstral-small-2512", "devstral-small-latest"),
        _official("labs-devstral-small-2512"), 262144, 0.2, "chat tools vision", list_aliases=False,
    ),
    *_model(("devstral-small-2507",), "Our small open-source code-agentic model.", 131072, 0.0, "chat tools"),
    *_model(("devstral-medium-2507",), "Our medium code-agentic model.", 131072, 0.0, "chat tools"),
    *_model(
        ("pixtral-large-2411", "pixtral-large-latest", "mistral-large-pixtral-2411"),
        _official("pixtral-large-2411"), 131072, 0.7, "chat tools vision",
    ),
    *_model(
        ("magistral-medium-2509", "magistral-medium-latest"),
        "Our frontier-class reasoning model release candidate September 2025.", 131072, 0.7, "chat tools tune vision",
    ),
    *_model(
        ("magistral-small-2509", "magistral-small-latest"),
        "Our efficient reasoning model released September 2025.", 131072, 0.7, "chat tools tune vision",
    ),
    *_model(
        ("open-mistral-nemo", "open-mistral-nemo-2407", "mistral-tiny-2407", "mistral-tiny-latest"),
        "Our best multilingual open source model released July 2024.", 131072, 0.3, "chat tools tune",
    ),
    *_model(
        ("voxtral-small-2507", "voxtral-small-latest"),
        "A small audio understanding model released in July 2025", 32768, 0.2, "chat tools audio",
    ),
    *_model(("mistral-embed-2312", "mistral-embed"), _official("mistral-embed-2312"), 8192, None, "", dimensions=1024),
    # 3072 is the longest vector codestral-embed makes; without ``output_dimension`` it sends 1536.
    *_model(("codestral-embed", "codestral-embed-2505"), _official("codestral-embed"), 8192, None, "", dimensions=3072),
    *_model(
        ("mistral-moderation-2411", "mistral-moderation-latest"),
        _official("mistral-moderation-2411"), 8192, None, "classification moderation",
    ),
    *_model(("mistral-ocr-2512", "mistral-ocr-latest"), _official("mistral-ocr-2512"), 16384, 0.0, "tools vision ocr"),
)

#: Embedding models that take ``output_dimension`` and ``output_dtype``: (default length, maximum).
_FLEXIBLE_EMBEDDINGS = {"codestral-embed": (1536, 3072), "codestral-embed-2505": (1536, 3072)}
_OUTPUT_DTYPES = ("float", "int8", "uint8", "binary", "ubinary")

#: What a model card a test added itself (``openai_server.state.models.add``) says in Mistral's shape.
_CARD_DEFAULTS: dict[str, Any] = {
    "capabilities": {key: short in ("chat", "tools") for short, key in _CAPABILITY_KEYS.items()},
    "max_context_length": 32768,
    "aliases": [],
    "deprecation": None,
    "deprecation_replacement_model": None,
    "default_model_temperature": None,
    "type": "base",
}

# -- requests ----------------------------------------------------------------------------------

#: ``(JSON kind, minimum, maximum)`` of a request field; kind None: any JSON value.
_Spec = tuple[str | None, float | None, float | None]
_ANY: _Spec = (None, None, None)

#: The fields of the mistralai SDK's ``ChatCompletionRequest``, in its order (the API rejects any
#: other). Kinds follow the SDK's types; the ranges are the fake's (OpenAI's), not Mistral's.
_CHAT_FIELDS: dict[str, _Spec] = {
    "model": ("string", None, None),
    "messages": ("array", None, None),
    "temperature": ("number", 0, 2),
    "top_p": ("number", 0, 1),
    "max_tokens": ("integer", 0, None),
    "stream": ("boolean", None, None),
    "stop": _ANY,
    "random_seed": ("integer", 0, None),
    "metadata": ("object", None, None),
    "response_format": ("object", None, None),
    "tools": ("array", None, None),
    "tool_choice": _ANY,
    "presence_penalty": ("number", -2, 2),
    "frequency_penalty": ("number", -2, 2),
    "min_tokens": ("integer", None, None),
    "repetition_penalty": ("number", None, None),
    "top_k": ("integer", None, None),
    "logprobs": ("boolean", None, None),
    "top_logprobs": ("integer", 0, 20),
    "prompt_logprobs": ("boolean", None, None),
    "top_prompt_logprobs": ("integer", None, None),
    "n": ("integer", 1, 128),
    "prediction": ("object", None, None),
    "parallel_tool_calls": ("boolean", None, None),
    "reasoning_effort": _ANY,
    "prompt_mode": _ANY,
    "guardrails": ("array", None, None),
    "prompt_cache_key": ("string", None, None),
    "service_tier": _ANY,
    "safe_prompt": ("boolean", None, None),
}
CHAT_PARAMS = frozenset(_CHAT_FIELDS)
#: The chat fields that refuse ``null``: the required ones and those the mistralai SDK types
#: ``Optional`` but not ``Nullable`` (pydantic's type error, as FIM's ``stream``); ``null`` for
#: any other field is "not given". ``tool_choice`` (a union, whose 422 is not known) takes null.
_CHAT_NOT_NULL = frozenset({"model", "messages", "stream", "response_format", "prediction", "parallel_tool_calls", "safe_prompt"})
#: Accepted, then dropped before the shared handler (which has no use for them).
_MISTRAL_ONLY = (
    "safe_prompt", "prompt_mode", "min_tokens", "repetition_penalty", "top_k", "prompt_logprobs",
    "top_prompt_logprobs", "guardrails", "metadata", "service_tier", "reasoning_effort",
)  # fmt: skip
#: The fields of the mistralai SDK's ``EmbeddingRequest``, in its order. ``output_dimension``'s
#: range depends on the model (``_FLEXIBLE_EMBEDDINGS``); ``encoding_format`` is the shared
#: handler's to check.
_EMBEDDING_FIELDS: dict[str, _Spec] = {
    "model": ("string", None, None),
    "input": _ANY,
    "metadata": ("object", None, None),
    "output_dimension": ("integer", None, None),
    "output_dtype": _ANY,  # a Literal: pydantic's literal_error for any other value, null too
    "encoding_format": _ANY,
}
EMBEDDING_PARAMS = frozenset(_EMBEDDING_FIELDS)
#: As ``_CHAT_NOT_NULL``, for embeddings (``encoding_format`` is the shared handler's: null is
#: "not given" there).
_EMBEDDING_NOT_NULL = frozenset({"model", "input", "output_dtype"})
#: The fields of the mistralai SDK's ``FIMCompletionRequest``, in its order, with the ranges of
#: ``resources/fim.py`` (whose ``FIM_PARAMS`` say which may be null).
_FIM_FIELDS: dict[str, _Spec] = {
    "model": ("string", None, None),
    "prompt": ("string", None, None),
    "temperature": ("number", 0, None),
    "top_p": ("number", 0, 1),
    "max_tokens": ("integer", 0, None),
    "stream": ("boolean", None, None),
    "stop": _ANY,
    "random_seed": ("integer", 0, None),
    "metadata": ("object", None, None),
    "suffix": ("string", None, None),
    "min_tokens": ("integer", 0, None),
    "prompt_cache_key": ("string", None, None),
}
_ROLES = ("system", "user", "assistant", "tool")
_TOOL_CALL_ID = re.compile(r"[A-Za-z0-9]{9}")

# Mistral's texts, as its API sent them in 2025-2026.
INVALID_MODEL = "Invalid model: {model}"
# type ``invalid_function_call``, code ``3280``: nearai/ironclaw#1241 (2026-03),
# editor-code-assistant/eca#233 (2025-12), mistralai/mistral-vibe#1075 (2026-09):
# https://github.com/nearai/ironclaw/issues/1241
# https://github.com/editor-code-assistant/eca/issues/233
# https://github.com/mistralai/mistral-vibe/issues/1075
BAD_TOOL_CALL_ID = "Tool call id was {id} but must be a-z, A-Z, 0-9, with a length of 9."
USER_AFTER_TOOL = "Unexpected role 'user' after role 'tool'"
LAST_ROLE = "Expected last role User or Tool (or Assistant with prefix True) for serving but got assistant"
RATE_LIMITED = "Rate limit exceeded"
NO_ROUTE = "no Route matched with those values"
# Not verified against the real API (the fake's wording).
NO_EMBEDDING_OPTIONS = "Model {model} does not support {param}."
BASE_MODEL_DELETE = "Base model {model} cannot be deleted: only fine-tuned models can."


def _invalid_model(model: Any) -> errors.OpenAIError:
    return errors.OpenAIError(400, INVALID_MODEL.format(model=model), type="invalid_model", code="1500")


def _capabilities(ctx: Ctx, model: Any) -> dict[str, Any] | None:
    if not isinstance(model, str) or model not in ctx.state.models:
        return None
    return dict(ctx.state.models.get(model).extra).get("capabilities")


def check(ctx: Ctx) -> None:
    """Refuse what Mistral refuses and translate Mistral's parameters into OpenAI's."""
    try:
        _check(ctx)
    except errors.OpenAIError as exc:
        raise _with_input(exc, ctx) from None


def _check(ctx: Ctx) -> None:
    if ctx.endpoint == "chat.completions.create":
        body = ctx.body_json()
        if isinstance(body, dict):
            _check_chat(ctx, body)
    elif ctx.endpoint == "embeddings.create":
        body = ctx.body_json()
        if isinstance(body, dict):
            _check_embeddings(ctx, body)
    elif ctx.endpoint == "fim.complete":
        body = ctx.body_json()
        if isinstance(body, dict):
            _validate(body, _FIM_FIELDS, {"model", "prompt"}, _FIM_NOT_NULL, {"stop": _strings("stop")})
    elif ctx.endpoint == "models.delete":
        model = ctx.request.path.split("/models/", 1)[-1]
        if model in ctx.state.models and ctx.state.models.get(model).owned_by == "mistralai":
            raise errors.OpenAIError(403, BASE_MODEL_DELETE.format(model=model))


def _check_chat(ctx: Ctx, body: dict[str, Any]) -> None:
    required = {"model", "messages"}
    _validate(body, _CHAT_FIELDS, required, _CHAT_NOT_NULL, {"messages": _messages_details, "stop": _strings("stop")})
    seed = body.pop("random_seed", None)
    if seed is not None:
        body["seed"] = seed
    for key in _MISTRAL_ONLY:
        body.pop(key, None)
    if body.get("tool_choice") == "any":
        body["tool_choice"] = "required"
    _check_messages(body["messages"])
    capabilities = _capabilities(ctx, body.get("model"))
    if capabilities is not None and not capabilities.get("completion_chat"):
        raise _invalid_model(body["model"])


def _check_messages(messages: list[Any]) -> None:
    roles = []
    for message in messages:
        if not isinstance(message, dict):
            return  # the shared handler reports it
        role = message["role"]
        roles.append(role)
        if isinstance(message.get("content"), list):
            message["content"] = [_content_part(part) for part in message["content"]]
        if role == "assistant":
            for call in message.get("tool_calls") or []:
                if not isinstance(call, dict):
                    continue
                _check_call_id(call.get("id"))
                call.setdefault("type", "function")
                function = call.get("function")
                if isinstance(function, dict) and isinstance(function.get("arguments"), dict):
                    function["arguments"] = json.dumps(function["arguments"])
        elif role == "tool" and "tool_call_id" in message:
            _check_call_id(message["tool_call_id"])
    for before, after in zip(roles, roles[1:]):
        if before == "tool" and after == "user":
            raise errors.OpenAIError(400, USER_AFTER_TOOL, type="invalid_request_message_order", code="3230")
    if roles[-1] == "assistant" and messages[-1].get("prefix") is not True:
        raise errors.bad_request(LAST_ROLE)


def _check_call_id(call_id: Any) -> None:
    if not isinstance(call_id, str) or not _TOOL_CALL_ID.fullmatch(call_id):
        shown = "null" if call_id is None else call_id
        raise errors.OpenAIError(400, BAD_TOOL_CALL_ID.format(id=shown), type="invalid_function_call", code="3280")


def _content_part(part: Any) -> Any:
    """Mistral's content chunks as the OpenAI parts the shared handler reads."""
    if not isinstance(part, dict) or part.get("type") == "text":
        return part
    if part.get("type") == "image_url":
        url = part.get("image_url")
        return {"type": "image_url", "image_url": {"url": url} if isinstance(url, str) else url}
    return {"type": "text", "text": ""}  # document_url, reference, thinking ...: no text to count


def _check_embeddings(ctx: Ctx, body: dict[str, Any]) -> None:
    required = {"model", "input"}
    _validate(body, _EMBEDDING_FIELDS, required, _EMBEDDING_NOT_NULL, {"input": _strings("input"), "output_dtype": _dtype_details})
    model, dtype, dimension = body.get("model"), body.get("output_dtype"), body.get("output_dimension")
    if model in ctx.state.models and ctx.state.models.get(model).dimensions is None:
        raise _invalid_model(model)
    flexible = _FLEXIBLE_EMBEDDINGS.get(model)
    if flexible is None:
        if dimension is not None:
            raise errors.bad_request(NO_EMBEDDING_OPTIONS.format(model=model, param="output_dimension"))
        if dtype not in (None, "float"):
            raise errors.bad_request(NO_EMBEDDING_OPTIONS.format(model=model, param="output_dtype"))
    else:
        default, maximum = flexible
        errors.check_range("output_dimension", dimension, minimum=1, maximum=maximum)
        body["dimensions"] = default if dimension is None else dimension
    body.pop("output_dimension", None)
    body.pop("metadata", None)


# -- 422: every violation of the request schema at once ----------------------------------------
#
# Mistral validates a body as FastAPI and pydantic do and lists every violation, each with its
# ``type``, ``loc``, ``msg`` and the ``input`` at that place: two ``extra_forbidden`` in one reply
# in Gitlawb/openclaude#739 (2026-04), one per message in zeroclaw-labs/zeroclaw#2693 (2026-03)
# and charmbracelet/crush#1590 (2025-12):
# https://github.com/Gitlawb/openclaude/issues/739
# https://github.com/zeroclaw-labs/zeroclaw/issues/2693
# https://github.com/charmbracelet/crush/issues/1590
# pydantic's order: the model's fields as declared (here: as the SDK declares them), then the
# extra fields as sent. A ``missing`` field's ``input`` is the whole body, as pydantic gives it.

_STRING = "Input should be a valid string"
_KINDS: dict[str, tuple[tuple[type, ...], str, str]] = {
    "string": ((str,), "string_type", _STRING),
    "integer": ((int,), "int_type", "Input should be a valid integer"),
    "number": ((int, float), "float_type", "Input should be a valid number"),
    "boolean": ((bool,), "bool_type", "Input should be a valid boolean"),
    "array": ((list,), "list_type", "Input should be a valid list"),
    "object": ((dict,), "dict_type", "Input should be a valid dictionary"),
}
#: FIM fields that may not be null (``FIM_PARAMS`` does not allow ``None`` for them).
_FIM_NOT_NULL = frozenset(name for name, allowed in FIM_PARAMS.items() if type(None) not in allowed)


class ValidationFailed(errors.OpenAIError):
    """Mistral's 422 ``{"detail": [...]}``: every violation, each ``{"type", "loc", "msg", "input"}``."""

    def __init__(self, details: list[dict[str, Any]]) -> None:
        text = "; ".join(f"{'.'.join(str(part) for part in d['loc'][1:])}: {d['msg']}" for d in details)
        super().__init__(422, text, code="validation_failed")
        self.details = details


def _detail(kind: str, loc: list[Any], msg: str, value: Any) -> dict[str, Any]:
    return {"type": kind, "loc": ["body", *loc], "msg": msg, "input": value}


def _one_of(values: tuple[str, ...]) -> str:
    """pydantic's literal_error text: ``Input should be 'a', 'b' or 'c'``."""
    quoted = [f"'{value}'" for value in values]
    return f"Input should be {', '.join(quoted[:-1])} or {quoted[-1]}"


def _validate(
    body: dict[str, Any],
    fields: dict[str, _Spec],
    required: set[str],
    not_null: set[str] | frozenset[str],
    nested: dict[str, Any],
) -> None:
    """Raise ``ValidationFailed`` with every violation of ``fields`` in ``body``, if any."""
    details: list[dict[str, Any]] = []
    for name, (kind, low, high) in fields.items():
        if name not in body:
            if name in required:
                details.append(_detail("missing", [name], "Field required", body))
            continue
        value = body[name]
        if value is None and name not in not_null:
            continue
        if kind is not None:
            types, code, msg = _KINDS[kind]
            if not isinstance(value, types) or (isinstance(value, bool) and kind != "boolean"):
                details.append(_detail(code, [name], msg, value))
                continue
        if low is not None and value < low:
            details.append(_detail("greater_than_equal", [name], f"Input should be greater than or equal to {low:g}", value))
        elif high is not None and value > high:
            details.append(_detail("less_than_equal", [name], f"Input should be less than or equal to {high:g}", value))
        elif name in nested:
            details += nested[name](value)
    details += [_detail("extra_forbidden", [key], "Extra inputs are not permitted", value) for key, value in body.items() if key not in fields]
    if details:
        raise ValidationFailed(details)


def _messages_details(messages: list[Any]) -> list[dict[str, Any]]:
    if not messages:
        return [_detail("too_short", ["messages"], "List should have at least 1 item after validation, not 0", messages)]
    return [
        _detail("literal_error", ["messages", index, "role"], _one_of(_ROLES), message.get("role"))
        for index, message in enumerate(messages)
        if isinstance(message, dict) and message.get("role") not in _ROLES
    ]


def _strings(name: str) -> Any:
    """The check of a field that is a string or a list of strings (``stop``, ``input``)."""

    def details(value: Any) -> list[dict[str, Any]]:
        if isinstance(value, str):
            return []
        if isinstance(value, list):
            return [_detail("string_type", [name, index], _STRING, item) for index, item in enumerate(value) if not isinstance(item, str)]
        return [_detail("string_type", [name], _STRING, value)]

    return details


def _dtype_details(value: str) -> list[dict[str, Any]]:
    return [] if value in _OUTPUT_DTYPES else [_detail("literal_error", ["output_dtype"], _one_of(_OUTPUT_DTYPES), value)]


def _with_input(exc: errors.OpenAIError, ctx: Ctx) -> errors.OpenAIError:
    """A schema violation found by a shared check (one at a time) as Mistral's 422 detail, with
    the ``input`` taken from the body as sent; any other error unchanged."""
    if isinstance(exc, ValidationFailed) or exc.error_code not in _VALIDATION_CODES:
        return exc
    try:
        sent = json.loads(ctx.request.get_data(cache=True))
    except ValueError:
        sent = None
    return ValidationFailed([_validation_detail(exc, sent)])


# -- responses ---------------------------------------------------------------------------------

#: The ids the shared handlers give tool calls (``call_`` and 24 letters/digits).
_SHARED_CALL_ID = re.compile(r"call_[A-Za-z0-9]{24}")


def tool_call_id(call_id: Any) -> Any:
    """Mistral's 9-character tool-call id for one of the fake's ``call_...`` ids (others kept)."""
    if isinstance(call_id, str) and _SHARED_CALL_ID.fullmatch(call_id):
        return base62(digest("mistral-call", call_id), 9)
    return call_id


def _completion_id(shared_id: str) -> str:
    return digest("mistral-chat", shared_id).hex()[:32]


def _usage(usage: dict[str, Any]) -> dict[str, Any]:
    return {
        "prompt_tokens": usage["prompt_tokens"],
        "total_tokens": usage["total_tokens"],
        "completion_tokens": usage["completion_tokens"],
        "prompt_tokens_details": {"cached_tokens": 0},
    }


def _logprobs(logprobs: Any) -> Any:
    """OpenAI's logprobs with the ``token_id`` Mistral's entries carry (and no ``refusal``)."""
    if not isinstance(logprobs, dict):
        return logprobs

    def entry(item: dict[str, Any]) -> dict[str, Any]:
        out = {**item, "token_id": int.from_bytes(digest("token", item["token"])[:3], "big") % 131072}
        if "top_logprobs" in item:
            out["top_logprobs"] = [entry(top) for top in item["top_logprobs"]]
        return out

    return {"content": [entry(item) for item in logprobs.get("content") or []]}


def _calls(calls: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    if not calls:
        return None
    return [
        {"id": tool_call_id(call["id"]), "type": "function", "function": dict(call["function"]), "index": index}
        for index, call in enumerate(calls)
    ]


def _chat_completion(result: dict[str, Any]) -> dict[str, Any]:
    choices = []
    for choice in result["choices"]:
        message = choice["message"]
        content = message.get("content")
        if content is None and message.get("refusal"):
            content = message["refusal"]  # Mistral has no refusal field: the model says it
        shaped: dict[str, Any] = {
            "index": choice["index"],
            "finish_reason": choice["finish_reason"],
            "message": {"role": "assistant", "tool_calls": _calls(message.get("tool_calls")), "content": content},
        }
        if choice.get("logprobs") is not None:
            shaped["logprobs"] = _logprobs(choice["logprobs"])
        choices.append(shaped)
    return {
        "id": _completion_id(result["id"]),
        "created": result["created"],
        "model": result["model"],
        "usage": _usage(result["usage"]),
        "object": "chat.completion",
        "choices": choices,
    }


def _model_object(item: dict[str, Any]) -> dict[str, Any]:
    shaped = {**item}
    for key, value in _CARD_DEFAULTS.items():
        shaped.setdefault(key, json.loads(json.dumps(value)))
    shaped.setdefault("name", item["id"])
    shaped.setdefault("description", None)
    return shaped


def decorate(endpoint: str, result: Any) -> Any:
    """Reshape the shared handlers' JSON into what Mistral sends."""
    if endpoint == "chat.completions.create" and isinstance(result, dict) and "choices" in result:
        return _chat_completion(result)
    if endpoint == "models.list" and isinstance(result, dict):
        return {**result, "data": [_model_object(item) for item in result["data"]]}
    if endpoint == "models.retrieve" and isinstance(result, dict):
        return _model_object(result)
    return result


def _chat_frames(frames: list[bytes]) -> list[bytes]:
    """The shared chat stream as Mistral streams it: whole tool calls in one chunk per choice,
    the usage on the last chunk, none of OpenAI's extra fields."""
    chunks = [json.loads(frame[len(b"data: ") : -2]) for frame in frames if frame != DONE]
    calls: dict[int, dict[int, dict[str, Any]]] = {}
    for chunk in chunks:
        for choice in chunk["choices"]:
            for delta in choice["delta"].get("tool_calls") or []:
                call = calls.setdefault(choice["index"], {}).setdefault(delta["index"], {"arguments": ""})
                if delta.get("id"):
                    call["id"], call["name"] = delta["id"], delta["function"]["name"]
                call["arguments"] += delta["function"].get("arguments") or ""
    usage = next((chunk["usage"] for chunk in chunks if not chunk["choices"] and chunk.get("usage")), None)
    out: list[dict[str, Any]] = []
    for chunk in chunks:
        if not chunk["choices"]:
            continue  # the usage chunk: its usage goes on the last chunk
        common = {"id": _completion_id(chunk["id"]), "object": "chat.completion.chunk", "created": chunk["created"], "model": chunk["model"]}
        for choice in chunk["choices"]:
            delta = choice["delta"]
            if delta.get("tool_calls"):
                continue  # sent whole below
            if choice["finish_reason"] is not None and choice["index"] in calls:
                whole = [
                    {"id": tool_call_id(call["id"]), "type": "function", "function": {"name": call["name"], "arguments": call["arguments"]}, "index": index}
                    for index, call in sorted(calls.pop(choice["index"]).items())
                ]
                out.append({**common, "choices": [{"index": choice["index"], "delta": {"tool_calls": whole}, "finish_reason": None}]})
            shaped_delta = {key: value for key, value in delta.items() if key != "refusal"}
            if "role" in shaped_delta and shaped_delta.get("content") is None:
                shaped_delta["content"] = ""
            shaped = {"index": choice["index"], "delta": shaped_delta, "finish_reason": choice["finish_reason"]}
            if choice.get("logprobs") is not None:
                shaped["logprobs"] = _logprobs(choice["logprobs"])
            out.append({**common, "choices": [shaped]})
    if usage is not None and out:
        out[-1]["usage"] = _usage(usage)
    return [event(chunk) for chunk in out] + [DONE]


# -- Mistral's own handlers over the shared ones -------------------------------------------------
# They replace the shared routes of the same endpoint (a profile's resources come last). The
# shared handlers are imported when called: resources.chat imports state, which imports providers.

mistral = Resource("mistral")


@mistral.route(
    "POST", "/chat/completions", endpoint="chat.completions.create", replies=("text", "message"), streams=True, response=ChatCompletion
)
def create_chat_completion(ctx: Ctx) -> dict[str, Any] | Response:
    from ..resources import chat

    body = ctx.json()
    if body.get("stream") is True:
        body["stream_options"] = {"include_usage": True, "include_obfuscation": False}
    try:
        result = chat.create_chat_completion(ctx)
    except errors.OpenAIError as exc:
        raise _with_input(exc, ctx) from None
    frames = getattr(result, "frames", None)
    if frames is not None:
        shaped = _chat_frames(frames)
        return sse_response(shaped, error_event=_stream_error(shaped))
    return result  # decorate() reshapes it


@mistral.route("POST", "/embeddings", endpoint="embeddings.create", response=WireEmbeddingResponse)
def create_embedding(ctx: Ctx) -> dict[str, Any] | Response:
    from ..resources import embeddings

    dtype = ctx.json().pop("output_dtype", None) or "float"
    try:
        result = embeddings.create_embedding(ctx)
    except errors.OpenAIError as exc:
        raise _with_input(exc, ctx) from None
    if not isinstance(result, dict):
        return result  # a large base64 reply, written as bytes
    data = result["data"]
    if dtype != "float":
        data = [{**item, "embedding": quantize(item["embedding"], dtype)} if isinstance(item["embedding"], list) else item for item in data]
    usage = result["usage"]
    return {
        "id": completion_id(ctx),
        "object": "list",
        "data": data,
        "model": result["model"],
        "usage": {"prompt_tokens": usage["prompt_tokens"], "total_tokens": usage["total_tokens"], "completion_tokens": 0},
    }


@mistral.route("POST", "/fim/completions", endpoint="fim.complete", replies=("text",), streams=True)
def complete_fim(ctx: Ctx) -> dict[str, Any] | Response:
    """``resources/fim.py``'s handler (``check`` has validated the body), with Mistral's
    mid-stream error."""
    from ..resources import fim as fim_resource

    result = fim_resource.complete_fim(ctx)
    frames = getattr(result, "frames", None)
    if frames is not None:
        result.error_event = _stream_error(frames)  # type: ignore[union-attr]
    return result


def _stream_error(frames: list[bytes]) -> Callable[[dict[str, Any], int], bytes]:
    """How Mistral ends a stream that fails midway: a chunk whose choice finishes with
    ``finish_reason: "error"`` and no message, then the end of the stream. A real stream did so
    in mistralai/client-python#74 (https://github.com/mistralai/client-python/issues/74), and
    the SDK's ``CompletionResponseStreamChoice.finish_reason`` lists ``"error"``. The mistralai
    SDK parses every event of a stream as a ``CompletionEvent``, so nothing in a stream can make
    it raise an API error: the test sees the chunk. The scripted message and status are not sent."""
    chunks = [json.loads(frame[len(b"data: ") :]) for frame in frames if frame.startswith(b"data: {")]

    def error_event(error: dict[str, Any], sequence_number: int) -> bytes:
        if not chunks:
            return b""
        indices = sorted({choice["index"] for chunk in chunks for choice in chunk["choices"]}) or [0]
        done = {c["index"] for chunk in chunks[:sequence_number] for c in chunk["choices"] if c.get("finish_reason")}
        common = {key: chunks[0][key] for key in ("id", "object", "created", "model") if key in chunks[0]}
        return b"".join(
            event({**common, "choices": [{"index": index, "delta": {"content": ""}, "finish_reason": "error"}]})
            for index in [i for i in indices if i not in done] or indices
        )

    return error_event


def quantize(vector: list[float], dtype: str) -> list[int]:
    """A float vector as ``output_dtype`` gives it. ``int8``: each component scaled so the largest
    magnitude is 127, rounded; ``uint8``: that plus 128; ``ubinary``: one bit per component
    (1 when positive), packed 8 to a byte, first component in the high bit; ``binary``: the
    ``ubinary`` bytes minus 128 (offset binary). The fake's scaling rule, not Mistral's."""
    if dtype in ("int8", "uint8"):
        scale = 127 / (max(abs(x) for x in vector) or 1.0)
        ints = [max(-128, min(127, round(x * scale))) for x in vector]
        return ints if dtype == "int8" else [i + 128 for i in ints]
    packed = []
    for start in range(0, len(vector), 8):
        byte = 0
        for position, x in enumerate(vector[start : start + 8]):
            if x > 0:
                byte |= 0x80 >> position
        packed.append(byte)
    return packed if dtype == "ubinary" else [b - 128 for b in packed]


# -- errors ------------------------------------------------------------------------------------

#: The shared errors that are schema violations: Mistral answers those 422 (pydantic's shape).
_VALIDATION_CODES = frozenset(
    {
        "missing_required_parameter", "unknown_parameter", "invalid_type", "invalid_value",
        "integer_below_min_value", "integer_above_max_value", "decimal_below_min_value",
        "decimal_above_max_value", "empty_array", "array_below_min_length", "array_above_max_length",
    }
)  # fmt: skip
_PYDANTIC_TYPES = {
    "a string": ("string_type", "Input should be a valid string"),
    "an integer": ("int_type", "Input should be a valid integer"),
    "a number": ("float_type", "Input should be a valid number"),
    "a decimal": ("float_type", "Input should be a valid number"),
    "a boolean": ("bool_type", "Input should be a valid boolean"),
    "an array": ("list_type", "Input should be a valid list"),
    "an object": ("dict_type", "Input should be a valid dictionary"),
}


def _loc(param: str | None) -> list[Any]:
    """``messages[0].role`` -> ``["body", "messages", 0, "role"]``."""
    loc: list[Any] = ["body"]
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", param or ""):
        loc.append(int(index) if index else name)
    return loc


def _validation_detail(exc: errors.OpenAIError, sent: Any = None) -> dict[str, Any]:
    """One shared error as a pydantic detail; its ``input`` is found in ``sent`` (the body as sent)."""
    code, message = exc.error_code or "", exc.message
    if message == errors.INVALID_JSON:
        return {"type": "json_invalid", "loc": ["body", 0], "msg": "JSON decode error", "input": {}}  # FastAPI's
    kind, text = "value_error", message
    if code == "missing_required_parameter":
        kind, text = "missing", "Field required"
    elif code == "unknown_parameter":
        kind, text = "extra_forbidden", "Extra inputs are not permitted"
    elif code == "invalid_type":
        expected = re.search(r"expected (.+?), but got", message)
        kind, text = _PYDANTIC_TYPES.get(expected.group(1) if expected else "", ("value_error", message))
    elif code == "invalid_value":
        kind = "literal_error"
    elif code.endswith("_below_min_value"):
        bound = re.search(r">= (\S+),", message)
        kind, text = "greater_than_equal", f"Input should be greater than or equal to {bound.group(1) if bound else '?'}"
    elif code.endswith("_above_max_value"):
        bound = re.search(r"<= (\S+),", message)
        kind, text = "less_than_equal", f"Input should be less than or equal to {bound.group(1) if bound else '?'}"
    elif code in ("empty_array", "array_below_min_length"):
        kind = "too_short"
    elif code == "array_above_max_length":
        kind = "too_long"
    loc = _loc(exc.param)
    return {"type": kind, "loc": loc, "msg": text, "input": _at(sent, loc[1:], parent=kind == "missing")}


def _at(body: Any, path: list[Any], *, parent: bool = False) -> Any:
    """The value at ``path`` in ``body`` (for a missing field: the object that lacks it); None if absent."""
    for part in path[:-1] if parent else path:
        try:
            body = body[part]
        except (KeyError, IndexError, TypeError):
            return None
    return body


def render_error(exc: errors.OpenAIError) -> tuple[int, Any]:
    """Every error in Mistral's shape for it."""
    status = exc.code or 500
    if status == 401:
        default = exc.message == errors.MISSING_API_KEY or exc.error_code == "invalid_api_key"
        return 401, {"detail": "Unauthorized" if default else exc.message}
    if exc.error_code == "unknown_url":
        return 404, {"message": NO_ROUTE, "request_id": digest("request", exc.message).hex()[:32]}
    if status == 405:
        return 405, {"detail": "Method Not Allowed"}
    if isinstance(exc, ValidationFailed):
        return 422, {"detail": exc.details}
    if status == 422 or status == 400 and (exc.error_code in _VALIDATION_CODES or exc.message == errors.INVALID_JSON):
        return 422, {"detail": [_validation_detail(exc)]}
    message, kind, code = exc.message, exc.type, exc.error_code
    if exc.error_code == "model_not_found":
        named = re.search(r"`(.*)`", exc.message)
        status, message, kind, code = 400, INVALID_MODEL.format(model=named.group(1) if named else ""), "invalid_model", "1500"
    elif status == 429 and exc.message.startswith("Rate limit reached "):  # the fake's default 429 text
        message, kind, code = RATE_LIMITED, "rate_limited", "1300"
    code = code if isinstance(code, str) and code.isdigit() else None  # Mistral's codes are numbers
    return status, {"object": "error", "message": message, "type": kind, "param": None, "code": code, "raw_status_code": status}


MISTRAL = Provider(
    name="mistral",
    base_path="/v1",
    default_port=4755,
    upstream_url="https://api.mistral.ai/v1",
    upstream_key_env="MISTRAL_API_KEY",
    catalog=_CATALOG,
    reject_unknown_params=False,
    resources=(fim, mistral),  # mistral's fim.complete wraps fim's
    endpoints=frozenset({"chat.completions.create", "embeddings.create", "models.list", "models.retrieve", "models.delete", "fim.complete"}),
    check=check,
    decorate=decorate,
    render_error=render_error,
    # Mistral's docs show neither OpenAI's "json" keyword rule nor its strict-schema rules (the
    # mistralai SDK closes the objects of a parsed model itself); not confirmed either way.
    json_mode_needs_word=False,
    strict_schema_rules=False,
)
