"""Embeddings: ``POST /v1/embeddings``."""

from __future__ import annotations

from ..routing import Resource

embeddings = Resource("embeddings")
