"""One module per family of endpoints. ``ALL_RESOURCES`` is what the app routes."""

from __future__ import annotations

from . import (
    audio,
    batches,
    chat,
    chat_store,
    completions,
    conversations,
    embeddings,
    files,
    generic,
    images,
    models,
    moderations,
    responses,
    uploads,
    vector_stores,
)

__all__ = ["ALL_RESOURCES"]

#: The generic layer comes first: every hand-written route with the same endpoint replaces it.
ALL_RESOURCES = (
    generic.generic,
    audio.audio,
    chat.chat,
    chat_store.chat_store,
    completions.completions,
    conversations.conversations,
    embeddings.embeddings,
    images.images,
    models.models,
    moderations.moderations,
    responses.responses,
    files.files,
    uploads.uploads,
    batches.batches,
    vector_stores.vector_stores,
)
