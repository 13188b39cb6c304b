"""One module per family of endpoints. ``ALL_RESOURCES`` is what the app routes."""

from __future__ import annotations

from .chat import chat
from .completions import completions
from .embeddings import embeddings
from .images import images
from .models import models
from .moderations import moderations

__all__ = ["ALL_RESOURCES"]

ALL_RESOURCES = (chat, completions, embeddings, images, models, moderations)
