"""One module per family of endpoints. ``ALL_RESOURCES`` is what the app routes."""

from __future__ import annotations

from .chat import chat
from .models import models

__all__ = ["ALL_RESOURCES"]

ALL_RESOURCES = (chat, models)
