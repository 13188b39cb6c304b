"""The Together AI profile (filled in by the providers work: catalog, quirks, errors)."""

from __future__ import annotations

from .openai import ModelCard, Provider

__all__ = ["TOGETHER"]

_CREATED = 1_735_689_600

TOGETHER = Provider(
    name="together",
    base_path="/v1",
    default_port=4863,
    catalog=(
        ModelCard("meta-llama/Llama-3.3-70B-Instruct-Turbo", _CREATED, owned_by="Meta"),
        ModelCard("BAAI/bge-base-en-v1.5", _CREATED, owned_by="BAAI", dimensions=768),
    ),
    reject_unknown_params=False,
)
