"""Models: ``GET /v1/models``, ``GET /v1/models/{model}``, ``DELETE /v1/models/{model}``."""

from __future__ import annotations

from typing import Any

from openai.types import Model, ModelDeleted

from .. import errors
from ..routing import Ctx, Resource

models = Resource("models")

#: Owners of models that come with the service; only other (fine-tuned) models can be deleted.
BASE_OWNERS = ("system", "openai", "openai-internal")


@models.route("GET", "/models", endpoint="models.list")
def list_models(ctx: Ctx) -> dict[str, Any]:
    return {"object": "list", "data": [card.to_api() for card in ctx.state.models.list()]}


@models.route("GET", "/models/<path:model>", endpoint="models.retrieve", response=Model)
def retrieve_model(ctx: Ctx, model: str) -> dict[str, Any]:
    return ctx.state.models.get(model).to_api()


@models.route("DELETE", "/models/<path:model>", endpoint="models.delete", response=ModelDeleted)
def delete_model(ctx: Ctx, model: str) -> dict[str, Any]:
    card = ctx.state.models.get(model)
    if card.owned_by in BASE_OWNERS:
        raise errors.OpenAIError(
            403, "You have insufficient permissions for this operation.", code="insufficient_permissions"
        )
    ctx.state.models.remove(model)
    return {"id": model, "object": "model", "deleted": True}
