"""Legacy completions: ``POST /v1/completions``."""

from __future__ import annotations

from ..routing import Resource

completions = Resource("completions")
