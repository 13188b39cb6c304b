"""Provider profiles: base path, model catalog and quirk flags. Handlers read flags, never names."""

from __future__ import annotations

from .openai import OPENAI, Provider

__all__ = ["PROVIDERS", "Provider", "get_provider"]

PROVIDERS: dict[str, Provider] = {OPENAI.name: OPENAI}


def get_provider(name: str) -> Provider:
    try:
        return PROVIDERS[name]
    except KeyError:
        known = ", ".join(sorted(PROVIDERS))
        raise ValueError(f"unknown provider {name!r}; known providers: {known}") from None
