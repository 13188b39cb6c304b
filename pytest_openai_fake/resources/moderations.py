"""Moderations: ``POST /v1/moderations``."""

from __future__ import annotations

from ..routing import Resource

moderations = Resource("moderations")
