"""One module per family of endpoints. ``ALL_RESOURCES`` is what the app routes."""

from __future__ import annotations

from . import chat, completions, embeddings, images, models, moderations

__all__ = ["ALL_RESOURCES"]

ALL_RESOURCES = (
    chat.chat,
    completions.completions,
    embeddings.embeddings,
    images.images,
    models.models,
    moderations.moderations,
)
