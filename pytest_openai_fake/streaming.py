"""Server-sent events, framed the way the OpenAI API frames them."""

from __future__ import annotations

import json
from typing import Any, Callable, Iterable, Iterator

from werkzeug.wrappers import Response

from .determinism import digest

__all__ = ["DONE", "Chunks", "error_frame", "event", "sse_response"]

#: The last frame of every chat and completions stream.
DONE = b"data: [DONE]\n\n"


def event(data: Any, *, name: str | None = None) -> bytes:
    """One SSE frame: ``event: name`` (if given) and a single-line JSON ``data:`` field."""
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    head = f"event: {name}\n" if name else ""
    return f"{head}data: {payload}\n\n".encode()


def error_frame(error: dict[str, Any], sequence_number: int) -> bytes:
    """A mid-stream error as chat and completions streams send it: ``data: {"error": {...}}``."""
    return event({"error": error})


def sse_response(frames: Iterable[bytes], *, error_event: Callable[[dict[str, Any], int], bytes] = error_frame) -> Response:
    """A streamed ``text/event-stream`` response of already-built frames (sent chunked).

    The frames stay readable as ``response.frames``: scripted faults re-pace, cut or end them;
    ``error_event(error, sequence_number)`` frames a scripted mid-stream error for this stream.
    """
    built = list(frames)

    def body() -> Iterator[bytes]:
        yield from built

    response = Response(body(), status=200, mimetype="text/event-stream", direct_passthrough=True)
    response.headers["Cache-Control"] = "no-cache"
    response.frames = built  # type: ignore[attr-defined]
    response.error_event = error_event  # type: ignore[attr-defined]
    return response


class Chunks:
    """The frames of a chat or completions stream: each chunk is ``common`` plus its choices.

    ``include_usage``: every chunk has ``usage: null`` and ``finish(usage)`` adds a last chunk
    with no choices and the usage. ``obfuscate``: each chunk gets the random-length
    ``obfuscation`` padding the real API adds against side channels (derived from the id here).
    """

    def __init__(self, common: dict[str, Any], *, include_usage: bool, obfuscate: bool = False) -> None:
        self.common = common
        self.include_usage = include_usage
        self.obfuscate = obfuscate
        self.frames: list[bytes] = []

    def add(self, choices: list[dict[str, Any]], **extra: Any) -> None:
        payload: dict[str, Any] = {**self.common, "choices": choices}
        if self.include_usage:
            payload["usage"] = None
        payload.update(extra)
        if self.obfuscate:
            counter = len(self.frames)
            payload["obfuscation"] = digest("obfuscation", self.common["id"], counter).hex()[: 2 + counter % 9]
        self.frames.append(event(payload))

    def finish(self, usage: dict[str, Any]) -> list[bytes]:
        """The frames, with the usage chunk (if asked for) and ``data: [DONE]``."""
        if self.include_usage:
            self.add([], usage=usage)
        self.frames.append(DONE)
        return self.frames
