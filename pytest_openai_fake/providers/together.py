"""The Together AI profile: its serverless catalog, its reply shapes, what it refuses, its errors.

What differs from OpenAI, as the official ``together`` SDK (3.x) and recorded Together replies
show it (the shared handlers do the work; this module reshapes their replies):

- The catalog is Together's serverless models with vendor-prefixed ids and Together's model
  fields (``type``, ``display_name``, ``organization``, ``link``, ``license``,
  ``context_length``, ``pricing``, ``running``). ``GET /v1/models`` answers a bare JSON array
  of them, not OpenAI's ``{"object": "list", "data": [...]}``. Embedding models have their real
  vector lengths (``BAAI/bge-base-en-v1.5`` 768, ``BAAI/bge-large-en-v1.5`` 1024, ...).
- Served: chat completions, legacy completions, embeddings, image generation and the model
  list. Everything else the fake knows (Responses, files, moderations, ...) is a 404 here.
- Chat completions: ids like ``oPBXTQt-4YNCb4-9ade09154f20a275``; a ``prompt`` list, a
  ``seed`` per choice, ``tool_calls`` always present in the message (each with its ``index``),
  usage with the three counts only, no ``system_fingerprint`` / ``service_tier``. Together's
  ``logprobs`` is an integer: how many top log-probabilities to return per token (in OpenAI's
  ``content`` shape). JSON mode takes a schema, ``{"type": "json_object", "schema": {...}}``,
  and the JSON then follows it; OpenAI's "json" keyword rule and strict-schema rules are not
  applied (flags on the profile).
- Chat streams: every delta carries ``role``, ``token_id`` and the text again as the choice's
  ``text``; the usage arrives in a last chunk without choices whether or not ``stream_options``
  asked for it. A chunk's ``logprobs`` is the token's log-probability, a number, as the
  together SDK types it (recorded replies send ``{"tokens", "token_logprobs", "top_logprobs"}``).
- Legacy completions: ``object`` ``text.completion``; streamed chunks are
  ``completion.chunk`` objects with a ``token`` (id, text, logprob, special) and the usage in
  the last chunk.
- Embeddings: only ``model``, ``input`` and ``encoding_format`` are accepted; anything else
  (``dimensions``, ``user``, ...) is Together's 400 "Unrecognized request arguments supplied:
  ..." with a body of that message alone, ``{"error": {"message": ...}}``. The ``m2-bert``
  retrieval models report no ``usage``.
- Images (``POST /v1/images/generations``): ``width`` / ``height`` (default 1024, model limits),
  ``n`` 1-4, ``steps`` 1-50, ``seed``, ``response_format`` ``url`` (the default) or
  ``base64``; the reply is ``{"id", "model", "object": "list", "data": [{"index", "type",
  "url" | "b64_json"}]}`` (no ``created``). The pictures are the fake's PNGs.
- Errors are OpenAI's envelope plus a top-level request ``id`` (as in HeyPuter/puter#3168); an
  unknown model is Together's 404 ``model_not_available`` "Unable to access model ...", a bad
  key Together's 401 text. Unrecognized arguments are the exception: message only (above).
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from openai.types.chat import ChatCompletion
from openai.types.completion import Completion
from werkzeug.wrappers import Response

from .. import errors
from ..determinism import base62, digest
from ..routing import Ctx, Resource
from ..streaming import DONE, event
from .openai import ModelCard, Provider

__all__ = ["TOGETHER", "together_id"]

# -- the catalog ------------------------------------------------------------------------------


def _model(
    model_id: str,
    created: int,
    kind: str,
    display_name: str,
    organization: str,
    *,
    link: str | None = None,
    license: str | None = None,
    context_length: int | None = None,
    price: tuple[float, float] = (0, 0),
    dimensions: int | None = None,
) -> ModelCard:
    """A model as ``GET /v1/models`` lists it (``config`` with the chat template left out)."""
    fields: dict[str, Any] = {"type": kind, "running": False, "display_name": display_name}
    fields["organization"] = organization
    if link is not None:
        fields["link"] = link
    if license is not None:
        fields["license"] = license
    if context_length is not None:
        fields["context_length"] = context_length
    fields["pricing"] = {"hourly": 0, "input": price[0], "output": price[1], "base": 0, "finetune": 0}
    return ModelCard(model_id, created, owned_by=organization, dimensions=dimensions, extra=tuple(fields.items()))


_HF = "https://huggingface.co/"

#: Together's serverless models as its model list reported them (2025), plus the embedding models
#: of its docs' table and the ids the ``together`` SDK names. Chat models serve completions too.
CATALOG: tuple[ModelCard, ...] = (
    # chat
    _model(
        "meta-llama/Llama-3.3-70B-Instruct-Turbo", 1733466629, "chat", "Meta Llama 3.3 70B Instruct Turbo", "Meta",
        link=_HF + "meta-llama/Llama-3.3-70B-Instruct", license="Llama-3.3 (Other)", context_length=131072,
        price=(0.88, 0.88),
    ),
    _model(
        "meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo", 1741298134, "chat", "Meta Llama 3.1 8B Instruct Turbo", "Meta",
        link=_HF + "meta-llama/Meta-Llama-3.1-8B-Instruct", license="Llama-3.1 (Other)", context_length=131072,
        price=(0.18, 0.18),
    ),
    _model(
        "meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo", 1721603683, "chat", "Meta Llama 3.1 70B Instruct Turbo", "Meta",
        link=_HF + "meta-llama/Meta-Llama-3.1-70B-Instruct", license="Llama-3.1 (Other)", context_length=131072,
        price=(0.88, 0.88),
    ),
    _model(
        "meta-llama/Meta-Llama-3.1-405B-Instruct-Turbo", 1721698359, "chat", "Meta Llama 3.1 405B Instruct Turbo",
        "Meta", link=_HF + "meta-llama/Meta-Llama-3.1-405B-Instruct", license="llama", context_length=130815,
        price=(3.5, 3.5),
    ),
    _model(
        "meta-llama/Llama-3.2-3B-Instruct-Turbo", 1727229064, "chat", "Meta Llama 3.2 3B Instruct Turbo", "Meta",
        link=_HF + "meta-llama/Llama-3.2-3B-Instruct", license="Llama-3.1 (Other)", context_length=131072,
        price=(0.06, 0.06),
    ),
    _model(
        "meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8", 1743878353, "chat", "Llama 4 Maverick Instruct (17Bx128E)",
        "Meta", link=_HF + "meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8", license="llama4",
        context_length=1048576, price=(0.27, 0.85),
    ),
    _model(
        "meta-llama/Llama-4-Scout-17B-16E-Instruct", 1743878170, "chat", "Llama 4 Scout Instruct (17Bx16E)", "Meta",
        link=_HF + "meta-llama/Llama-4-Scout-17B-16E-Instruct", license="llama4", context_length=1048576,
        price=(0.18, 0.59),
    ),
    _model(
        "Qwen/Qwen2.5-7B-Instruct-Turbo", 1728671048, "chat", "Qwen2.5 7B Instruct Turbo", "Qwen",
        link=_HF + "Qwen/Qwen2.5-7B-Instruct", license="Qwen", context_length=32768, price=(0.3, 0.3),
    ),
    _model(
        "Qwen/Qwen2.5-72B-Instruct-Turbo", 1728633510, "chat", "Qwen2.5 72B Instruct Turbo", "Qwen",
        link=_HF + "Qwen/Qwen2.5-72B-Instruct", license="Qwen", context_length=131072, price=(1.2, 1.2),
    ),
    _model(
        "Qwen/Qwen2.5-Coder-32B-Instruct", 1731556615, "chat", "Qwen2.5 Coder 32B Instruct", "Qwen",
        link=_HF + "api/models/Qwen/Qwen2.5-Coder-32B-Instruct", license="apache-2.0", context_length=32768,
        price=(0.8, 0.8),
    ),
    _model(
        "Qwen/Qwen2.5-VL-72B-Instruct", 1742408085, "chat", "Qwen2.5-VL (72B) Instruct", "Qwen",
        link=_HF + "api/models/Qwen/Qwen2.5-VL-72B-Instruct", license="tongyi-qianwen", context_length=32768,
        price=(1.95, 8),
    ),
    _model(
        "Qwen/QwQ-32B", 1741207789, "chat", "Qwen QwQ-32B", "Qwen", link=_HF + "Qwen/QwQ-32B", license="Qwen",
        context_length=131072, price=(1.2, 1.2),
    ),
    _model(
        "Qwen/Qwen3-235B-A22B-Instruct-2507-tput", 1753218184, "chat", "Qwen3 235B A22B Instruct 2507 FP8 Throughput",
        "Qwen", link=_HF + "api/models/Qwen/Qwen3-235B-A22B-Instruct-2507-FP8", license="apache-2.0",
        context_length=262144, price=(0.2, 0.6),
    ),
    _model(
        "Qwen/Qwen3-235B-A22B-Thinking-2507", 1753459407, "chat", "Qwen3 235B A22B Thinking 2507 FP8", "Qwen",
        link=_HF + "api/models/Qwen/Qwen3-235B-A22B-Thinking-2507-FP8", license="apache-2.0", context_length=262144,
        price=(0.65, 3),
    ),
    _model(
        "Qwen/Qwen3-Coder-480B-A35B-Instruct-FP8", 1753233591, "chat", "Qwen3 Coder 480B A35B Instruct Fp8", "Qwen",
        link=_HF + "api/models/Qwen/Qwen3-Coder-480B-A35B-Instruct-FP8", license="apache-2.0", context_length=262144,
        price=(2, 2),
    ),
    _model(
        "deepseek-ai/DeepSeek-V3", 1735450433, "chat", "DeepSeek V3-0324", "DeepSeek",
        link=_HF + "deepseek-ai/DeepSeek-V3", context_length=131072, price=(1.25, 1.25),
    ),
    _model(
        "deepseek-ai/DeepSeek-R1", 1737396322, "chat", "DeepSeek R1-0528", "DeepSeek",
        link=_HF + "deepseek-ai/DeepSeek-R1", context_length=163840, price=(3, 7),
    ),
    _model(
        "deepseek-ai/DeepSeek-R1-Distill-Llama-70B", 1738048961, "chat", "DeepSeek R1 Distill Llama 70B", "DeepSeek",
        link=_HF + "deepseek-ai/DeepSeek-R1-Distill-Llama-70B", license="mit", context_length=131072, price=(2, 2),
    ),
    _model(
        "mistralai/Mistral-7B-Instruct-v0.3", 1716406261, "chat", "Mistral (7B) Instruct v0.3", "mistralai",
        link=_HF + "api/models/mistralai/Mistral-7B-Instruct-v0.3", license="apache-2.0", context_length=32768,
        price=(0.2, 0.2),
    ),
    _model(
        "mistralai/Mixtral-8x7B-Instruct-v0.1", 1702342468, "chat", "Mixtral-8x7B Instruct v0.1", "mistralai",
        link=_HF + "mistralai/Mixtral-8x7B-Instruct-v0.1", license="apache-2.0", context_length=32768, price=(0.6, 0.6),
    ),
    _model(
        "mistralai/Mistral-Small-24B-Instruct-2501", 1738246136, "chat", "Mistral Small (24B) Instruct 25.01",
        "mistralai", link=_HF + "mistralai/Mistral-Small-Instruct-2501", license="apache-2.0", context_length=32768,
        price=(0.8, 0.8),
    ),
    _model("google/gemma-3-27b-it", 1743212460, "chat", "Gemma 3 27b it", "Google", context_length=65536),
    _model(
        "google/gemma-3n-E4B-it", 1750955040, "chat", "Gemma 3N E4B Instruct", "Google",
        link=_HF + "google/gemma-3n-E4B-it", license="gemma", context_length=32768, price=(0.02, 0.04),
    ),
    _model(
        "google/gemma-2-27b-it", 1708648606, "chat", "Gemma-2 Instruct (27B)", "Google",
        link=_HF + "google/gemma-2b-it", license="gemma-terms-of-use", context_length=8192, price=(0.8, 0.8),
    ),
    _model(
        "openai/gpt-oss-120b", 1754414557, "chat", "OpenAI GPT-OSS 120B", "OpenAI", link=_HF + "openai/gpt-oss-120b",
        license="other", context_length=131072, price=(0.15, 0.6),
    ),
    _model(
        "openai/gpt-oss-20b", 1754449757, "chat", "OpenAI GPT-OSS 20B", "OpenAI",
        link=_HF + "api/models/openai/gpt-oss-20b", license="apache-2.0", context_length=131072, price=(0.05, 0.2),
    ),
    _model(
        "moonshotai/Kimi-K2-Instruct", 1752305811, "chat", "Kimi K2 Instruct", "Moonshotai",
        link=_HF + "moonshotai/Kimi-K2-Instruct", license="other modified-mit", context_length=131072, price=(1, 3),
    ),
    # language (base) models: completions
    _model(
        "meta-llama/Llama-2-70b-hf", 1689720415, "language", "LLaMA-2 (70B)", "Meta",
        link=_HF + "api/models/meta-llama/Llama-2-70b-hf", license="llama2", context_length=4096, price=(0.9, 0.9),
    ),
    # The other completion models the together SDK's ``CompletionCreateParams.model`` names; their
    # ``created`` is the model's release date (they were not in the model list read in 2025).
    _model(
        "mistralai/Mistral-7B-v0.1", 1695772800, "language", "Mistral (7B)", "mistralai",
        link=_HF + "mistralai/Mistral-7B-v0.1", license="apache-2.0", context_length=8192, price=(0.2, 0.2),
    ),
    _model(
        "mistralai/Mixtral-8x7B-v0.1", 1702252800, "language", "Mixtral-8x7B (46.7B)", "mistralai",
        link=_HF + "mistralai/Mixtral-8x7B-v0.1", license="apache-2.0", context_length=32768, price=(0.6, 0.6),
    ),
    _model(
        "Meta-Llama/Llama-Guard-7b", 1701907200, "moderation", "Llama Guard (7B)", "Meta",
        link=_HF + "meta-llama/LlamaGuard-7b", license="llama2", context_length=4096, price=(0.2, 0.2),
    ),
    # moderation (safety models: chat completions, or ``safety_model=``)
    _model(
        "meta-llama/Llama-Guard-4-12B", 1746038486, "moderation", "Llama Guard 4 12B", "Meta",
        link=_HF + "meta-llama/Llama-Guard-4-12B", license="other llama4", context_length=1048576, price=(0.2, 0.2),
    ),
    _model(
        "meta-llama/Meta-Llama-Guard-3-8B", 1713429380, "moderation", "Meta Llama Guard 3 8B", "Meta",
        link=_HF + "meta-llama/Llama-Guard-3-8B", license="llama", context_length=8192, price=(0.2, 0.2),
    ),
    # embeddings (dimensions: Together's embedding-model table)
    _model(
        "togethercomputer/m2-bert-80M-32k-retrieval", 1699120644, "embedding", "M2-BERT-Retrieval-32k", "Together",
        link=_HF + "togethercomputer/m2-bert-80M-32k-retrieval", license="apache-2.0", context_length=32768,
        price=(0.008, 0.008), dimensions=768,
    ),
    _model(
        "togethercomputer/m2-bert-80M-8k-retrieval", 1699120644, "embedding", "M2-BERT-Retrieval-8k", "Together",
        link=_HF + "togethercomputer/m2-bert-80M-8k-retrieval", license="apache-2.0", context_length=8192,
        price=(0.008, 0.008), dimensions=768,
    ),
    _model(
        "BAAI/bge-large-en-v1.5", 1708648606, "embedding", "BGE-Large-EN-v1.5", "BAAI",
        link=_HF + "BAAI/bge-large-en-v1.5", license="mit", context_length=512, price=(0.016, 0.016), dimensions=1024,
    ),
    _model(
        "BAAI/bge-base-en-v1.5", 1708648606, "embedding", "BGE-Base-EN-v1.5", "BAAI",
        link=_HF + "BAAI/bge-base-en-v1.5", license="mit", context_length=512, price=(0.008, 0.008), dimensions=768,
    ),
    _model(
        "WhereIsAI/UAE-Large-V1", 1708648606, "embedding", "UAE-Large-V1", "WhereIsAI",
        link=_HF + "WhereIsAI/UAE-Large-V1", license="mit", context_length=512, price=(0.016, 0.016), dimensions=1024,
    ),
    _model(
        "Alibaba-NLP/gte-modernbert-base", 1747292078, "embedding", "Gte Modernbert Base", "Alibaba Nlp",
        link=_HF + "api/models/Alibaba-NLP/gte-modernbert-base", license="apache-2.0", context_length=8192,
        price=(0.08, 0.08), dimensions=768,
    ),
    _model(
        "intfloat/multilingual-e5-large-instruct", 1745513588, "embedding", "Multilingual E5 Large Instruct",
        "Intfloat", link=_HF + "api/models/intfloat/multilingual-e5-large-instruct", license="mit", context_length=514,
        price=(0.02, 0.02), dimensions=1024,
    ),
    # images
    _model(
        "black-forest-labs/FLUX.1-schnell", 0, "image", "FLUX.1 Schnell", "Black Forest Labs",
        link=_HF + "black-forest-labs/FLUX.1-schnell",
    ),
    _model(
        "black-forest-labs/FLUX.1-schnell-Free", 0, "image", "FLUX.1 [schnell] Free", "Black Forest Labs",
        link=_HF + "black-forest-labs/FLUX.1-schnell",
    ),
    _model(
        "black-forest-labs/FLUX.1-dev", 1732138026, "image", "FLUX.1 [dev]", "Black Forest Labs",
        link=_HF + "black-forest-labs/FLUX.1-dev",
    ),
    _model(
        "black-forest-labs/FLUX.1.1-pro", 0, "image", "FLUX1.1 [pro]", "Black Forest Labs",
        link=_HF + "black-forest-labs/FLUX.1-schnell",
    ),
    _model(
        "black-forest-labs/FLUX.1-kontext-pro", 0, "image", "FLUX.1 Kontext [pro]", "Black Forest Labs",
        context_length=0,
    ),
    _model("black-forest-labs/FLUX.2-pro", 0, "image", "FLUX.2 [pro]", "Black Forest Labs"),
    _model("black-forest-labs/FLUX.2-dev", 0, "image", "FLUX.2 [dev]", "Black Forest Labs"),
)

#: Embedding models whose replies carry no ``usage`` (reported to Together as ticket #13330).
NO_EMBEDDING_USAGE = frozenset(
    {"togethercomputer/m2-bert-80M-32k-retrieval", "togethercomputer/m2-bert-80M-8k-retrieval"}
)
#: What the embeddings endpoint accepts; any other argument is a 400.
EMBEDDING_ARGUMENTS = frozenset({"model", "input", "encoding_format"})

# -- Together's texts ---------------------------------------------------------------------------

MODEL_NOT_AVAILABLE = (
    "Unable to access model {model}. Please visit https://api.together.ai/models to view the list of supported models."
)
INVALID_API_KEY = "Invalid API key provided. You can find your API key at https://api.together.ai/settings/api-keys."
# "arguments" even for one name, and a body of the message alone: Together's reply to an
# embeddings request with ``drop_params`` in infiniflow/ragflow#18584 (2026-08):
# https://github.com/infiniflow/ragflow/issues/18584
UNRECOGNIZED_ARGUMENTS = "Unrecognized request arguments supplied: {names}"
DIMENSION_RANGE = (
    "Invalid value for '{param}' parameter. Image {param} must be an integer value between {low} and {high}, "
    "in multiples of '{step}'."
)
# The fake's own wording where Together's text is not known.
NOT_AN_IMAGE_MODEL = "Model {model} is not an image generation model."
N_RANGE = "Invalid value for 'n' parameter. n must be an integer value between 1 and {high}."
STEPS_RANGE = "Invalid value for 'steps' parameter. steps must be an integer value between 1 and {high}."
RESPONSE_FORMATS = "Invalid value for 'response_format' parameter. Supported values are: 'base64', 'url'."
OUTPUT_FORMATS = "Invalid value for 'output_format' parameter. Supported values are: 'jpeg', 'png'."

_MODEL_NOT_FOUND = re.compile(r"^The model `(.*)` does not exist")


class MessageOnlyError(errors.OpenAIError):
    """An error Together answers with ``{"error": {"message": ...}}``: no ``id``, ``type``,
    ``param`` or ``code`` (its reply to unrecognized arguments, infiniflow/ragflow#18584)."""

    def to_api(self) -> dict[str, Any]:
        return {"error": {"message": self.message}}


# -- ids -------------------------------------------------------------------------------------


def together_id(*parts: Any) -> str:
    """A Together request id (``oPBXTQt-4YNCb4-9ade09154f20a275``) derived from ``parts``."""
    raw = digest("together-id", *parts)
    return f"o{base62(raw, 6)}-{base62(raw[6:], 6)}-{raw[12:20].hex()}"


# -- check: what Together refuses, and its parameter names -----------------------------------


def _check(ctx: Ctx) -> None:
    if ctx.endpoint == "embeddings.create":
        body = ctx.body_json()
        if isinstance(body, dict):
            unknown = sorted(key for key in body if key not in EMBEDDING_ARGUMENTS)
            if unknown:
                raise MessageOnlyError(400, UNRECOGNIZED_ARGUMENTS.format(names=", ".join(unknown)))
    elif ctx.endpoint == "chat.completions.create":
        body = ctx.body_json()
        response_format = body.get("response_format") if isinstance(body, dict) else None
        if isinstance(response_format, dict) and response_format.get("type") == "json_object" and isinstance(response_format.get("schema"), dict):
            # Together's JSON mode takes the schema the JSON must follow: OpenAI's json_schema.
            body["response_format"] = {"type": "json_schema", "json_schema": {"name": "response", "schema": response_format["schema"]}}
        logprobs = body.get("logprobs") if isinstance(body, dict) else None
        # Together's ``logprobs`` is how many top log-probabilities to return (OpenAI: a boolean
        # plus ``top_logprobs``).
        if type(logprobs) is int:
            body["logprobs"] = logprobs > 0
            if logprobs > 0 and "top_logprobs" not in body:
                body["top_logprobs"] = logprobs


# -- decorate: Together's reply shapes ---------------------------------------------------------


def _decorate(endpoint: str, result: Any) -> Any:
    if not isinstance(result, dict):
        return result
    if endpoint == "models.list":
        return [{k: v for k, v in model.items() if k != "owned_by"} for model in result.get("data", [])]
    if endpoint == "chat.completions.create":
        return _chat_completion(result)
    if endpoint == "completions.create":
        return _completion(result)
    if endpoint == "embeddings.create" and result.get("model") in NO_EMBEDDING_USAGE:
        return {k: v for k, v in result.items() if k != "usage"}
    return result


#: Fields OpenAI sends and Together does not (the reply, a choice's message, a stream chunk).
_OPENAI_ONLY = ("system_fingerprint", "service_tier", "obfuscation")
_OPENAI_ONLY_MESSAGE = ("refusal", "annotations", "audio")


def _without(mapping: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in (mapping or {}).items() if k not in keys}


def _chat_completion(result: dict[str, Any]) -> dict[str, Any]:
    reply = _without(result, _OPENAI_ONLY)
    reply["id"] = together_id(result.get("id"))
    reply["prompt"] = []
    reply["choices"] = []
    for choice in result.get("choices", []):
        message = _without(choice.get("message"), _OPENAI_ONLY_MESSAGE)
        message["tool_calls"] = [{**call, "index": i} for i, call in enumerate(message.get("tool_calls") or [])]
        reply["choices"].append({**choice, "message": message, "seed": None})
    if "usage" in result:
        reply["usage"] = _usage(result["usage"])
    return reply


def _completion(result: dict[str, Any]) -> dict[str, Any]:
    reply = _without(result, _OPENAI_ONLY)
    reply.update(id=together_id(result.get("id")), object="text.completion", prompt=[])
    reply["choices"] = [{**choice, "seed": None} for choice in result.get("choices", [])]
    if "usage" in result:
        reply["usage"] = _usage(result["usage"])
    return reply


def _usage(usage: Any) -> Any:
    if not isinstance(usage, dict):
        return usage
    return {key: usage[key] for key in ("prompt_tokens", "completion_tokens", "total_tokens") if key in usage}


# -- render_error: Together's envelope ---------------------------------------------------------


def _render_error(exc: errors.OpenAIError) -> tuple[int, Any]:
    status = exc.code or 500
    if isinstance(exc, MessageOnlyError):
        return status, exc.to_api()
    message, code, param = exc.message, exc.error_code, exc.param
    found = _MODEL_NOT_FOUND.match(message) if code == "model_not_found" else None
    if found is not None:
        message, code, param = MODEL_NOT_AVAILABLE.format(model=found.group(1)), "model_not_available", None
    elif status == 401 and (message == errors.MISSING_API_KEY or code == "invalid_api_key"):
        message, code = INVALID_API_KEY, "invalid_api_key"
    error = {"message": message, "type": exc.type, "param": param, "code": code}
    return status, {"id": together_id("error", status, message), "error": error}


# -- Together's own routes: streams reshaped, images generated -----------------------------------

together = Resource("together")


def _shared(endpoint: str) -> Any:
    """The shared handler of ``endpoint`` (imported late: resources import this package's base)."""
    from ..resources import ALL_RESOURCES

    return next(route.handler for resource in ALL_RESOURCES for route in resource.routes if route.endpoint == endpoint and not route.generic)


@together.route(
    "POST",
    "/chat/completions",
    endpoint="chat.completions.create",
    replies=("text", "message"),
    streams=True,
    response=ChatCompletion,
)
def create_chat_completion(ctx: Ctx) -> Any:
    """The shared chat handler; a stream's chunks in Together's shape (usage always sent)."""
    _always_stream_usage(ctx)
    result = _shared("chat.completions.create")(ctx)
    if isinstance(result, Response):
        _reframe(result, _chat_chunk)
    return result


@together.route(
    "POST", "/completions", endpoint="completions.create", replies=("text",), streams=True, response=Completion
)
def create_completion(ctx: Ctx) -> Any:
    """The shared completions handler; a stream's chunks as Together's ``completion.chunk``."""
    _always_stream_usage(ctx)
    result = _shared("completions.create")(ctx)
    if isinstance(result, Response):
        _reframe(result, _completion_chunk)
    return result


def _always_stream_usage(ctx: Ctx) -> None:
    body = ctx.body_json()
    if isinstance(body, dict) and body.get("stream") is True:
        options = body.get("stream_options")
        body["stream_options"] = {**(options if isinstance(options, dict) else {}), "include_usage": True}


def _reframe(response: Response, reshape: Any) -> None:
    """Rewrite the ``data: {...}`` frames of a shared stream in place (``response.frames``)."""
    frames: list[bytes] = response.frames  # type: ignore[attr-defined]
    out = []
    for frame in frames:
        if frame.startswith(b"data: {") and frame != DONE:
            out.append(event(reshape(json.loads(frame[6:]))))
        else:
            out.append(frame)
    frames[:] = out


def _chat_chunk(chunk: dict[str, Any]) -> dict[str, Any]:
    reshaped = _without(chunk, _OPENAI_ONLY)
    reshaped["id"] = together_id(chunk.get("id"))
    reshaped["choices"] = []
    for choice in chunk.get("choices", []):
        delta = choice.get("delta") or {}
        content = delta.get("content") or ""
        logprobs = choice.get("logprobs")
        entries = logprobs.get("content") if isinstance(logprobs, dict) else None
        reshaped["choices"].append(
            {
                **choice,
                "text": content,
                "logprobs": entries[0]["logprob"] if entries else None,
                "delta": {"token_id": None, "role": "assistant", **_without(delta, ("refusal",)), "content": content},
            }
        )
    reshaped["usage"] = _stream_usage(chunk.get("usage"))
    return reshaped


def _completion_chunk(chunk: dict[str, Any]) -> dict[str, Any]:
    """A ``completion.chunk``: the shared chunk's one choice, plus the ``token`` it carries."""
    choices = chunk.get("choices", [])
    text = "".join(choice.get("text") or "" for choice in choices)
    last_piece = bool(choices) and not text  # the shared stream ends each choice with an empty piece
    logprob = None
    reshaped = _without(chunk, _OPENAI_ONLY)
    reshaped.update(id=together_id(chunk.get("id")), object="completion.chunk", choices=[])
    for choice in choices:
        piece = choice.get("text") or ""
        logprobs = choice.get("logprobs")
        values = logprobs.get("token_logprobs") if isinstance(logprobs, dict) else None
        logprob = values[0] if values and logprob is None else logprob
        reshaped["choices"].append(
            {
                **choice,
                "text": piece,
                "logprobs": values[0] if values else None,
                "finish_reason": choice.get("finish_reason") if last_piece else None,
                "delta": {"token_id": _token_id(piece), "role": "assistant", "content": piece},
            }
        )
    finished = [choice.get("finish_reason") for choice in choices if choice.get("finish_reason")]
    reshaped["finish_reason"] = finished[0] if finished and last_piece else None
    reshaped["token"] = {
        "id": _token_id(text),
        "text": text,
        "logprob": logprob if logprob is not None else _token_logprob(text),
        "special": last_piece,
    }
    reshaped["usage"] = _stream_usage(chunk.get("usage"))
    return reshaped


def _stream_usage(usage: Any) -> Any:
    if not isinstance(usage, dict):
        return usage
    counts = _usage(usage)
    return {**counts, "prompt_tokens_details": None, "reasoning_tokens": 0}


def _token_id(text: str) -> int:
    return int.from_bytes(digest("token", text)[:2], "big") if text else 2


def _token_logprob(text: str) -> float:
    return -round(int.from_bytes(digest("logprob", text)[:2], "big") / 65535 * 2, 4) if text else 0.0


# -- images ------------------------------------------------------------------------------------

#: (smallest, largest, step) of ``width`` / ``height`` per model; ``DEFAULT_LIMITS`` for the rest.
IMAGE_LIMITS: dict[str, tuple[int, int, int]] = {"black-forest-labs/FLUX.2-dev": (512, 2048, 16)}
DEFAULT_LIMITS = (64, 2048, 8)
DEFAULT_SIDE = 1024
MAX_IMAGES = 4
MAX_STEPS = 50
_SIZE = re.compile(r"^([1-9][0-9]{0,4})x([1-9][0-9]{0,4})$")


@together.route("POST", "/images/generations", endpoint="images.generate")
def generate_images(ctx: Ctx) -> dict[str, Any]:
    body = ctx.json()
    for key in ("model", "prompt"):
        if key not in body:
            raise errors.missing_required(key)
        if not isinstance(body[key], str):
            raise errors.invalid_type(key, "a string", body[key])
    model, prompt = body["model"], body["prompt"]
    ctx.require_model(model)
    card = ctx.provider.card(model) or ctx.state.models.get(model)
    if dict(card.extra).get("type", "image") != "image":
        raise errors.invalid_value("model", NOT_AN_IMAGE_MODEL.format(model=model))
    width, height = _dimensions(body, model)
    n = _integer(body, "n", 1)
    if not 1 <= n <= MAX_IMAGES:
        raise errors.invalid_value("n", N_RANGE.format(high=MAX_IMAGES))
    steps = _integer(body, "steps", None)
    if steps is not None and not 1 <= steps <= MAX_STEPS:
        raise errors.invalid_value("steps", STEPS_RANGE.format(high=MAX_STEPS))
    response_format = body.get("response_format") or "url"
    if response_format not in ("url", "base64", "b64_json"):
        raise errors.invalid_value("response_format", RESPONSE_FORMATS)
    if body.get("output_format") not in (None, "jpeg", "png"):
        raise errors.invalid_value("output_format", OUTPUT_FORMATS)

    from ..resources.images import render_png
    from ..state import Blob

    request_id = ctx.ids.next("together-image-")
    data: list[dict[str, Any]] = []
    for index in range(n):
        seed = digest("together-images", model, prompt, body.get("negative_prompt"), body.get("seed"), steps, index)
        image = render_png(seed, width, height)
        if response_format == "url":
            name = f"images/{together_id(request_id, index)}.png"
            ctx.state.blobs[name] = Blob("image/png", image)
            data.append({"index": index, "type": "url", "url": f"{ctx.root_url}__fake/blobs/{name}"})
        else:
            data.append({"index": index, "type": "b64_json", "b64_json": base64.b64encode(image).decode("ascii")})
    return {"id": together_id(request_id) + "-PDX", "model": model, "object": "list", "data": data}


def _dimensions(body: dict[str, Any], model: str) -> tuple[int, int]:
    """``width`` and ``height`` (an OpenAI-style ``size`` "WxH" is read when neither is given)."""
    size = body.get("size")
    if body.get("width") is None and body.get("height") is None and isinstance(size, str) and _SIZE.match(size):
        width, height = (int(side) for side in size.split("x"))
    else:
        width, height = _integer(body, "width", DEFAULT_SIDE), _integer(body, "height", DEFAULT_SIDE)
    low, high, step = IMAGE_LIMITS.get(model, DEFAULT_LIMITS)
    for param, value in (("width", width), ("height", height)):
        if not low <= value <= high or value % step:
            raise errors.invalid_value(param, DIMENSION_RANGE.format(param=param, low=low, high=high, step=step))
    return width, height


def _integer(body: dict[str, Any], key: str, default: Any) -> Any:
    value = body.get(key)
    if value is None:
        return default
    if type(value) is not int:
        raise errors.invalid_type(key, "an integer", value)
    return value


# -- the profile -------------------------------------------------------------------------------

TOGETHER = Provider(
    name="together",
    base_path="/v1",
    default_port=4863,
    upstream_url="https://api.together.xyz/v1",
    upstream_key_env="TOGETHER_API_KEY",
    catalog=CATALOG,
    reject_unknown_params=False,
    resources=(together,),
    endpoints=frozenset(
        {"chat.completions.create", "completions.create", "embeddings.create", "images.generate", "models.list"}
    ),
    check=_check,
    decorate=_decorate,
    render_error=_render_error,
    # Together documents JSON mode with a schema and no keyword rule, and no strict-schema rules
    # (its docs: "JSON Mode"); not confirmed either way, so the fake does not invent them.
    json_mode_needs_word=False,
    strict_schema_rules=False,
)
