"""Images: ``POST /v1/images/generations``, ``/edits``, ``/variations``."""

from __future__ import annotations

from ..routing import Resource

images = Resource("images")
