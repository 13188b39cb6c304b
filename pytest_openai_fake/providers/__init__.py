"""Provider profiles: base path, model catalog, quirk flags and hooks. Handlers read flags, never names."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .openai import OPENAI, Provider

__all__ = ["PROVIDERS", "Provider", "get_provider"]

if TYPE_CHECKING:
    PROVIDERS: dict[str, Provider]


def __getattr__(name: str) -> Any:
    # PROVIDERS is built on first use: the Together and Mistral profiles import resources, which
    # import state, which imports .openai from here. Importing them eagerly made
    # `import pytest_openai_fake.state` (or any resource module) first in a process fail.
    if name != "PROVIDERS":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from .azure import AZURE
    from .mistral import MISTRAL
    from .together import TOGETHER

    providers = {p.name: p for p in (OPENAI, TOGETHER, MISTRAL, AZURE)}
    globals()["PROVIDERS"] = providers
    return providers


def get_provider(name: str) -> Provider:
    providers: dict[str, Provider] = __getattr__("PROVIDERS") if "PROVIDERS" not in globals() else globals()["PROVIDERS"]
    try:
        return providers[name]
    except KeyError:
        known = ", ".join(sorted(providers))
        raise ValueError(f"unknown provider {name!r}; known providers: {known}") from None
