"""The Azure OpenAI profile (filled in by the providers work: deployments, api-version, filters)."""

from __future__ import annotations

from .openai import OPENAI, Provider

__all__ = ["AZURE"]

AZURE = Provider(
    name="azure",
    base_path="/openai/v1",
    default_port=4848,
    catalog=OPENAI.catalog,
    api_version="2024-10-21",
    mounts=("/openai/deployments/<deployment>",),
    key_headers=("api-key",),
    client_kind="azure",
)
