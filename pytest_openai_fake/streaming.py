"""Server-sent events, framed the way the OpenAI API frames them."""

from __future__ import annotations

import json
from typing import Any, Iterable, Iterator

from werkzeug.wrappers import Response

__all__ = ["DONE", "event", "sse_response"]

#: The last frame of every chat and completions stream.
DONE = b"data: [DONE]\n\n"


def event(data: Any, *, name: str | None = None) -> bytes:
    """One SSE frame: ``event: name`` (if given) and a single-line JSON ``data:`` field."""
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    head = f"event: {name}\n" if name else ""
    return f"{head}data: {payload}\n\n".encode()


def sse_response(frames: Iterable[bytes]) -> Response:
    """A streamed ``text/event-stream`` response of already-built frames (sent chunked).

    The frames stay readable as ``response.frames``: scripted faults re-pace, cut or end them.
    """
    built = list(frames)

    def body() -> Iterator[bytes]:
        yield from built

    response = Response(body(), status=200, mimetype="text/event-stream", direct_passthrough=True)
    response.headers["Cache-Control"] = "no-cache"
    response.frames = built  # type: ignore[attr-defined]
    return response
