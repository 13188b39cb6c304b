"""The Mistral profile (filled in by the providers work: catalog, quirks, errors)."""

from __future__ import annotations

from .openai import ModelCard, Provider

__all__ = ["MISTRAL"]

_CREATED = 1_735_689_600

MISTRAL = Provider(
    name="mistral",
    base_path="/v1",
    default_port=4755,
    catalog=(
        ModelCard("mistral-large-latest", _CREATED, owned_by="mistralai"),
        ModelCard("mistral-embed", _CREATED, owned_by="mistralai", dimensions=1024),
    ),
    reject_unknown_params=False,
)
