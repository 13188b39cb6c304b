"""The Azure OpenAI profile: deployments, ``api-version``, Azure's own errors, content filter annotations.

Three URL styles reach the same shared handlers, as on a real Azure OpenAI resource:

- ``/openai/deployments/<deployment>/<path>?api-version=<dated>``: what ``openai.AzureOpenAI``
  sends for the deployment endpoints (``DEPLOYMENT_ENDPOINTS``: chat, completions, embeddings,
  images, audio). The deployment in the path picks the model; the body's ``model`` is ignored.
- ``/openai/<path>?api-version=<dated>``: what ``AzureOpenAI`` sends for everything else
  (models, responses, stored chat completions). A ``model`` in the body names a deployment.
- ``/openai/v1/<path>``: the v1 API, for ``openai.OpenAI(base_url="<resource>/openai/v1")``.
  ``api-version`` is optional (``v1`` or ``preview``); ``model`` names a deployment.

Deployments. ``@pytest.mark.openai_fake(provider="azure", deployments={"my-gpt": "gpt-4o"})``
(or ``FakeOpenAI.configure(deployments=...)``) creates exactly those deployments; any other
deployment name is Azure's 404 ``DeploymentNotFound``. A test that configures none gets one
deployment per model of its catalog, named like the model, so ``AzureOpenAI(...)
.chat.completions.create(model="gpt-4o")`` works out of the box. The request is answered by the
deployment's model: the body's ``model`` is replaced by it (the request log keeps the bytes as
sent), and the response reports it. Azure reports the versioned model name a deployment runs
(``gpt-4o-2024-08-06``): map the deployment to that id to see it (``{"my-gpt":
"gpt-4o-2024-08-06"}``). A deployed model that is not in the catalog is added to it. A
deployment that cannot do the operation (embeddings from a chat model, chat from an embedding
model ...) is Azure's 400 ``OperationNotSupported``.

``api-version``. A dated version (``API_VERSIONS``) is required outside ``/openai/v1``:
missing, unknown, or one that predates the endpoint (``SINCE``: the Responses API needs
2025-03-01-preview, stored chat completions 2025-02-01-preview, image edits 2025-04-01-preview;
conversations are v1 only) is Azure's 404 "Resource not found", and so is a deployment endpoint
without a deployment or another endpoint under one. On ``/openai/v1`` a dated version is Azure's
400 "API version not supported".

Errors Azure's front end answers itself (``AzureError``) have Azure's ``{"error": {"code",
"message"}}`` envelope; request validation errors from the model behind it keep OpenAI's
envelope, as Azure passes them through. ``render_error`` also gives every 401 Azure's body
("Access denied due to invalid subscription key ...") and a scripted
``error(400, code="content_filter")`` Azure's prompt-filter body with its ``innererror``.

Content filters. Chat and completions responses carry ``prompt_filter_results`` and per choice
``content_filter_results``, all categories ``safe``. A choice with ``finish_reason
"content_filter"`` (script ``content_filter(...)``) shows ``violence`` filtered at severity
``medium`` (the default filter blocks medium and high). Images carry both per image. Streams
are sent as OpenAI sends them (no Azure filter chunks).
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

import typing_extensions
from werkzeug.datastructures import ImmutableMultiDict

from .. import errors
from .openai import OPENAI, Provider, base_model, literal_strings

__all__ = [
    "API_VERSION",
    "API_VERSIONS",
    "AZURE",
    "AzureError",
    "DEPLOYMENT_ENDPOINTS",
    "SINCE",
    "V1_API_VERSIONS",
    "check",
    "decorate",
    "render_error",
]

#: The version the fake's own ``AzureOpenAI`` clients send: the latest GA release.
API_VERSION = "2024-10-21"

#: Dated ``api-version`` values Azure OpenAI has released (GA, then preview).
GA_API_VERSIONS = ("2022-12-01", "2023-05-15", "2024-02-01", "2024-06-01", "2024-10-21")
PREVIEW_API_VERSIONS = (
    "2023-03-15-preview",
    "2023-06-01-preview",
    "2023-07-01-preview",
    "2023-08-01-preview",
    "2023-09-01-preview",
    "2023-10-01-preview",
    "2023-12-01-preview",
    "2024-02-15-preview",
    "2024-03-01-preview",
    "2024-04-01-preview",
    "2024-05-01-preview",
    "2024-07-01-preview",
    "2024-08-01-preview",
    "2024-09-01-preview",
    "2024-10-01-preview",
    "2024-12-01-preview",
    "2025-01-01-preview",
    "2025-02-01-preview",
    "2025-03-01-preview",
    "2025-04-01-preview",
)
API_VERSIONS = frozenset(GA_API_VERSIONS + PREVIEW_API_VERSIONS)
#: What ``/openai/v1`` accepts besides no ``api-version`` at all.
V1_API_VERSIONS = frozenset({"v1", "preview"})

#: Endpoints served under ``/openai/deployments/<deployment>`` (and only there, on dated
#: versions): the paths ``openai.lib.azure`` prefixes with the deployment.
DEPLOYMENT_ENDPOINTS = frozenset(
    {
        "chat.completions.create",
        "completions.create",
        "embeddings.create",
        "images.generate",
        "images.edit",
        "audio.transcriptions.create",
        "audio.translations.create",
        "audio.speech.create",
    }
)
#: Endpoints whose body ``model`` names a deployment on ``/openai`` and ``/openai/v1``.
MODEL_ENDPOINTS = DEPLOYMENT_ENDPOINTS | {"responses.create"}

#: Endpoint name prefix -> the first dated ``api-version`` that has it (``None``: only ``/openai/v1``).
SINCE: dict[str, str | None] = {
    "responses.": "2025-03-01-preview",
    "chat.completions.list": "2025-02-01-preview",
    "chat.completions.retrieve": "2025-02-01-preview",
    "chat.completions.update": "2025-02-01-preview",
    "chat.completions.delete": "2025-02-01-preview",
    "chat.completions.messages.": "2025-02-01-preview",
    "images.edit": "2025-04-01-preview",
    "conversations.": None,
}

#: The shared endpoints Azure OpenAI has (no moderations, no image variations; models.delete,
#: responses.compact and responses.input_tokens.count are not documented for Azure).
ENDPOINTS = frozenset(
    {
        "chat.completions.create",
        "chat.completions.list",
        "chat.completions.retrieve",
        "chat.completions.update",
        "chat.completions.delete",
        "chat.completions.messages.list",
        "completions.create",
        "conversations.create",
        "conversations.retrieve",
        "conversations.update",
        "conversations.delete",
        "conversations.items.create",
        "conversations.items.list",
        "conversations.items.retrieve",
        "conversations.items.delete",
        "embeddings.create",
        "images.generate",
        "images.edit",
        "models.list",
        "models.retrieve",
        "responses.create",
        "responses.retrieve",
        "responses.delete",
        "responses.cancel",
        "responses.input_items.list",
    }
)

# Azure's texts, as its front end sends them.
RESOURCE_NOT_FOUND = "Resource not found"
DEPLOYMENT_NOT_FOUND = (
    "The API deployment for this resource does not exist. If you created the deployment within "
    "the last 5 minutes, please wait a moment and try again."
)
API_VERSION_NOT_SUPPORTED = "API version not supported"
ACCESS_DENIED = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a "
    "valid key for an active subscription and use a correct regional API endpoint for your resource."
)
OPERATION_NOT_SUPPORTED = (
    "The {operation} operation does not work with the specified model, {model}. Please choose "
    "different model and try again. You can learn more about which models can be used with each "
    "operation here: https://go.microsoft.com/fwlink/?linkid=2197993."
)
PROMPT_FILTERED = (
    "The response was filtered due to the prompt triggering Azure OpenAI's content management "
    "policy. Please modify your prompt and retry. To learn more about our content filtering "
    "policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766"
)
#: The category a filtered reply or prompt shows, and its severity.
FILTERED_CATEGORY = "violence"
FILTERED_SEVERITY = "medium"


class AzureError(errors.OpenAIError):
    """An error Azure's front end answers itself: ``{"error": {"code", "message"}}`` only."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(status, message, code=code)

    def to_api(self) -> dict[str, Any]:
        return {"error": {"code": self.error_code, "message": self.message}}


def resource_not_found() -> AzureError:
    return AzureError(404, "404", RESOURCE_NOT_FOUND)


def deployment_not_found() -> AzureError:
    return AzureError(404, "DeploymentNotFound", DEPLOYMENT_NOT_FOUND)


def api_version_not_supported() -> AzureError:
    return AzureError(400, "BadRequest", API_VERSION_NOT_SUPPORTED)


def operation_not_supported(operation: str, model: str) -> AzureError:
    return AzureError(400, "OperationNotSupported", OPERATION_NOT_SUPPORTED.format(operation=operation, model=model))


# -- check: URL style, api-version, deployment -> model -----------------------------------------


def check(ctx: Any) -> None:
    """Refuse what Azure refuses, and put the deployment's model into the request body."""
    version = ctx.request.args.get("api-version")
    if ctx.request.path.startswith("/openai/v1/"):
        if version is not None and version not in V1_API_VERSIONS:
            raise api_version_not_supported()
    else:
        deployed = ctx.deployment is not None
        if version not in API_VERSIONS or (ctx.endpoint in DEPLOYMENT_ENDPOINTS) != deployed:
            raise resource_not_found()
        since = _since(ctx.endpoint)
        if since is None or version[:10] < since[:10]:  # dates order the versions
            raise resource_not_found()
        if deployed:
            model = _deployed_model(ctx, ctx.deployment)
            _set_model(ctx, model)
            _check_operation(ctx.endpoint, model)
            return
    if ctx.endpoint in MODEL_ENDPOINTS:
        name = _body_model(ctx)
        if name is not None:
            model = _deployed_model(ctx, name)
            _set_model(ctx, model)
            _check_operation(ctx.endpoint, model)


def _since(endpoint: str) -> str | None:
    """The first dated version with ``endpoint`` (``""``: every one; None: none, only ``/openai/v1``)."""
    for prefix, version in SINCE.items():
        if endpoint == prefix or (prefix.endswith(".") and endpoint.startswith(prefix)):
            return version
    return ""


def _deployed_model(ctx: Any, deployment: str) -> str:
    """The model of ``deployment``: the test's deployments, else every catalog model by its id."""
    configured: dict[str, str] = ctx.state.deployments
    model = configured.get(deployment) if configured else (deployment if deployment in ctx.state.models else None)
    if model is None:
        raise deployment_not_found()
    if model not in ctx.state.models:
        ctx.state.models.add(model)
    return model


def _body_model(ctx: Any) -> str | None:
    if ctx.request.mimetype == "multipart/form-data":
        value = ctx.request.form.get("model")
    else:
        try:
            body = ctx.body_json()
        except errors.OpenAIError:
            return None  # the handler answers bad JSON
        value = body.get("model") if isinstance(body, dict) else None
    return value if isinstance(value, str) else None


def _set_model(ctx: Any, model: str) -> None:
    if ctx.request.mimetype == "multipart/form-data":
        form = ctx.request.form.copy()
        form.setlist("model", [model])
        ctx.request.form = ImmutableMultiDict(form)
        return
    try:
        body = ctx.body_json()
    except errors.OpenAIError:
        return
    if isinstance(body, dict):
        body["model"] = model


#: Azure's operation names, for ``OperationNotSupported``, and the model kinds each works with.
_OPERATIONS = {
    "chat.completions.create": ("chatCompletion", {"chat"}),
    "completions.create": ("completion", {"completion"}),
    "embeddings.create": ("embeddings", {"embedding"}),
    "images.generate": ("imageGenerations", {"image"}),
}


def _check_operation(endpoint: str, model: str) -> None:
    operation = _OPERATIONS.get(endpoint)
    kind = model_kind(model)
    if operation is not None and kind is not None and kind not in operation[1]:
        raise operation_not_supported(operation[0], model)


#: (module, Literal, kind) in the order a model id is classified; the first match wins.
_KIND_LITERALS = (
    ("openai.types.embedding_model", "EmbeddingModel", "embedding"),
    ("openai.types.image_model", "ImageModel", "image"),
    ("openai.types.audio_model", "AudioModel", "audio"),
    ("openai.types.audio.speech_model", "SpeechModel", "audio"),
    ("openai.types.video_model", "VideoModel", "video"),
    ("openai.types.moderation_model", "ModerationModel", "moderation"),
    ("openai.types.shared.chat_model", "ChatModel", "chat"),
    ("openai.types.shared.responses_model", "ResponsesModel", "responses"),
)


@functools.cache
def _kinds() -> dict[str, str]:
    kinds: dict[str, str] = {}
    for module_name, attr, kind in _KIND_LITERALS:
        try:
            ids = literal_strings(getattr(importlib.import_module(module_name), attr))
        except (ImportError, AttributeError):  # an SDK without that literal
            continue
        for model_id in ids:
            kinds.setdefault(model_id, kind)
    try:  # the legacy completions models have no literal of their own
        from openai.types.completion_create_params import CompletionCreateParamsBase

        hints = typing_extensions.get_type_hints(CompletionCreateParamsBase, include_extras=True)
        for model_id in literal_strings(hints["model"]):
            kinds.setdefault(model_id, "completion")
    except (ImportError, KeyError):
        pass
    return kinds


def model_kind(model: str) -> str | None:
    """What the SDK names ``model`` for (``chat``, ``embedding``, ``image`` ...); None: unknown."""
    return _kinds().get(base_model(model))


# -- decorate: content filter annotations -------------------------------------------------------


def _severity(filtered: bool = False) -> dict[str, Any]:
    return {"filtered": filtered, "severity": FILTERED_SEVERITY if filtered else "safe"}


def _detection() -> dict[str, Any]:
    return {"filtered": False, "detected": False}


def prompt_filter_results() -> dict[str, Any]:
    """A prompt's ``content_filter_results``: the four harm categories and the jailbreak shield."""
    harm = {name: _severity() for name in ("hate", "self_harm", "sexual", "violence")}
    return {**harm, "jailbreak": _detection()}


def choice_filter_results(filtered: bool = False) -> dict[str, Any]:
    """A choice's ``content_filter_results``: harm categories and protected material checks.

    ``filtered``: the reply was stopped by the filter, and ``FILTERED_CATEGORY`` shows why.
    """
    results = {
        "hate": _severity(),
        "protected_material_code": _detection(),
        "protected_material_text": _detection(),
        "self_harm": _severity(),
        "sexual": _severity(),
        "violence": _severity(),
    }
    if filtered:
        results[FILTERED_CATEGORY] = _severity(True)
    return results


def _image_prompt_results() -> dict[str, Any]:
    return {**_image_results(), "profanity": _detection()}


def _image_results() -> dict[str, Any]:
    return {"hate": _severity(), "self_harm": _severity(), "sexual": _severity(), "violence": _severity()}


def decorate(endpoint: str, result: Any) -> Any:
    """Azure's content filter annotations on chat, completions and image responses."""
    if not isinstance(result, dict):
        return result
    if endpoint in ("chat.completions.create", "completions.create") and isinstance(result.get("choices"), list):
        result["prompt_filter_results"] = [{"prompt_index": 0, "content_filter_results": prompt_filter_results()}]
        for choice in result["choices"]:
            filtered = choice.get("finish_reason") == "content_filter"
            message = choice.get("message")
            text = message.get("content") if isinstance(message, dict) else choice.get("text")
            # A reply of tool calls only carries no annotations, as on Azure.
            choice["content_filter_results"] = choice_filter_results(filtered) if filtered or text else {}
    elif endpoint in ("images.generate", "images.edit") and isinstance(result.get("data"), list):
        for image in result["data"]:
            image["prompt_filter_results"] = _image_prompt_results()
            image["content_filter_results"] = _image_results()
    return result


# -- render_error: Azure's envelopes -------------------------------------------------------------


def render_error(exc: errors.OpenAIError) -> tuple[int, Any]:
    """Azure's front-end errors in its own shape; the model's errors in OpenAI's, as Azure sends them."""
    status = exc.code or 500
    if isinstance(exc, AzureError):
        return status, exc.to_api()
    if status == 401:
        openai_text = exc.message == errors.MISSING_API_KEY or exc.message.startswith("Incorrect API key provided")
        return 401, {"error": {"code": "401", "message": ACCESS_DENIED if openai_text else exc.message}}
    if exc.error_code == "unknown_url":
        return 404, resource_not_found().to_api()
    if status == 400 and exc.error_code == "content_filter":
        return 400, _prompt_filtered(exc)
    return status, exc.to_api()


def _prompt_filtered(exc: errors.OpenAIError) -> dict[str, Any]:
    """A prompt refused by the content filter (``error(400, code="content_filter")``)."""
    results = prompt_filter_results()
    results[FILTERED_CATEGORY] = _severity(True)
    return {
        "error": {
            "message": PROMPT_FILTERED if exc.message == "Bad request." else exc.message,
            "type": None,
            "param": exc.param or "prompt",
            "code": "content_filter",
            "status": 400,
            "innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_result": results},
        }
    }


AZURE = Provider(
    name="azure",
    base_path="/openai/v1",
    default_port=4848,
    upstream_url=None,  # your resource: AZURE_OPENAI_ENDPOINT, or --openai-fake-upstream azure=URL
    upstream_url_env="AZURE_OPENAI_ENDPOINT",
    upstream_key_env="AZURE_OPENAI_API_KEY",
    catalog=OPENAI.catalog,
    api_version=API_VERSION,
    mounts=("/openai/deployments/<deployment>", "/openai"),
    key_headers=("api-key",),
    endpoints=ENDPOINTS,
    check=check,
    decorate=decorate,
    render_error=render_error,
    client_kind="azure",
)
