"""One module per family of endpoints. ``ALL_RESOURCES`` is what the app routes."""

from __future__ import annotations

from . import chat, chat_store, completions, conversations, embeddings, images, models, moderations, responses

__all__ = ["ALL_RESOURCES"]

ALL_RESOURCES = (
    chat.chat,
    chat_store.chat_store,
    completions.completions,
    conversations.conversations,
    embeddings.embeddings,
    images.images,
    models.models,
    moderations.moderations,
    responses.responses,
)
