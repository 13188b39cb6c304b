"""Provider profiles: base path, model catalog, quirk flags and hooks. Handlers read flags, never names."""

from __future__ import annotations

from .azure import AZURE
from .mistral import MISTRAL
from .openai import OPENAI, Provider
from .together import TOGETHER

__all__ = ["PROVIDERS", "Provider", "get_provider"]

PROVIDERS: dict[str, Provider] = {p.name: p for p in (OPENAI, TOGETHER, MISTRAL, AZURE)}


def get_provider(name: str) -> Provider:
    try:
        return PROVIDERS[name]
    except KeyError:
        known = ", ".join(sorted(PROVIDERS))
        raise ValueError(f"unknown provider {name!r}; known providers: {known}") from None
