"""Realtime translation sessions over WebSocket (``client.realtime.translations.connect(model=...)``:
``/v1/realtime/translations?model=...``).

Audio goes in (``session.input_audio_buffer.append``, 24 kHz PCM16), consumed in 200 ms frames as
the API does; a phrase is the audio from the first loud frame to ``PHRASE_END_MS`` of quiet frames
(or ``session.close``, which flushes). Each phrase is answered with ``session.input_transcript.delta``
(when ``audio.input.transcription`` is set), ``session.output_transcript.delta`` and
``session.output_audio.delta`` (the fake's speech of the translation), each with ``elapsed_ms``.
The fake does not translate: the "translation" is the phrase's transcript (the fake's own speech
transcribes back to its text), in whatever ``audio.output.language`` says.
"""

from __future__ import annotations

import base64
import functools
import struct
from typing import TYPE_CHECKING, Any

from . import errors, realtime
from .realtime import (
    SAMPLE_RATE,
    EventError,
    RealtimeSession,
    decode_pcm16,
    event_param_table,
    merge_settings,
    speech_pcm16,
    transcribe_pcm16,
    word_pieces,
)

if TYPE_CHECKING:
    from .realtime import Hooks
    from .server import WebSocket

__all__ = ["FRAME_MS", "PHRASE_END_MS", "TranslationSession"]

#: The API's engine frame: input audio is consumed in 200 ms frames.
FRAME_MS = 200
FRAME_BYTES = SAMPLE_RATE * 2 * FRAME_MS // 1000
#: Quiet audio (whole frames) that ends a phrase.
PHRASE_END_MS = 400
#: A frame is loud when a sample passes this (the realtime VAD's default threshold).
LOUD = 32768 * 0.1 * 0.5
#: The voice the fake speaks translations in (the API's voice is the model's own; unverified).
VOICE = "marin"


@functools.lru_cache(maxsize=1)
def _client_params() -> dict[str, type]:
    from openai.types.realtime.realtime_translation_client_event_param import RealtimeTranslationClientEventParam

    return event_param_table(RealtimeTranslationClientEventParam)


@functools.lru_cache(maxsize=1)
def translation_available() -> bool:
    """Whether the installed SDK has realtime translation sockets (their event types)."""
    import importlib.util

    return importlib.util.find_spec("openai.types.realtime.realtime_translation_server_event") is not None


@functools.lru_cache(maxsize=1)
def _server_adapter() -> Any:
    from openai.types.realtime.realtime_translation_server_event import RealtimeTranslationServerEvent
    from pydantic import TypeAdapter

    return TypeAdapter(RealtimeTranslationServerEvent)


class TranslationSession(RealtimeSession):
    """One translation socket: the session, the partial frame, the phrase being heard."""

    LOG_PREFIX = "realtime.translations."

    def __init__(self, ws: WebSocket, model: str, hooks: Hooks) -> None:
        self.pending = bytearray()  # audio short of a whole frame
        self.phrase = bytearray()  # the phrase being heard (from its first loud frame)
        self.before = b""  # the last quiet frame (the phrase's padding: a soft start is not lost)
        self.quiet_ms = 0
        self.elapsed_ms = 0  # input audio consumed, in whole frames
        super().__init__(ws, model, hooks)

    def initial_session(self, model: str) -> dict[str, Any]:
        return {
            "id": self.hooks.next_id("sess_"),
            "type": "translation",
            "model": model,
            "expires_at": self.hooks.now() + 3600,
            "audio": {"input": {"noise_reduction": None, "transcription": None}, "output": {"language": None}},
        }

    def event_params(self) -> dict[str, type]:
        return _client_params()

    def check_event(self, event: dict[str, Any]) -> None:
        parsed = _server_adapter().validate_python(event)
        if getattr(parsed, "type", None) != event["type"]:
            raise AssertionError(f"server event {event['type']!r} parsed as {type(parsed).__name__}")

    def on_session_update(self, event: dict[str, Any]) -> None:
        for key in event["session"]:  # "type and model are set at creation": not update fields
            if key != "audio":
                raise EventError.of(errors.unknown_parameter(f"session.{key}"))
        self.session = merge_settings(self.session, event["session"])
        self.send({"type": "session.updated", "session": self.session})

    def on_session_input_audio_buffer_append(self, event: dict[str, Any]) -> None:
        self.pending += decode_pcm16(event["audio"])
        while len(self.pending) >= FRAME_BYTES:
            frame = bytes(self.pending[:FRAME_BYTES])
            del self.pending[:FRAME_BYTES]
            self.frame(frame)

    def on_session_close(self, event: dict[str, Any]) -> None:
        """Flush: the partial frame and the phrase in progress are translated, then ``session.closed``."""
        if self.pending:
            self.frame(bytes(self.pending))
            self.pending.clear()
        if self.phrase:
            self.translate()
        self.send({"type": "session.closed"})
        self.ws.close(1000, "session closed")

    def frame(self, pcm: bytes) -> None:
        self.elapsed_ms += len(pcm) * 1000 // (2 * SAMPLE_RATE)
        loud = bool(pcm) and max(abs(s) for s in struct.unpack(f"<{len(pcm) // 2}h", pcm)) > LOUD
        if loud:
            if not self.phrase:
                self.phrase += self.before
            self.phrase += pcm
            self.quiet_ms = 0
        elif self.phrase:
            self.phrase += pcm
            self.quiet_ms += FRAME_MS
            if self.quiet_ms >= PHRASE_END_MS:
                self.translate()
        else:
            self.before = pcm

    def translate(self) -> None:
        transcript = transcribe_pcm16(bytes(self.phrase))
        self.phrase.clear()
        self.before, self.quiet_ms = b"", 0
        at = {"elapsed_ms": self.elapsed_ms}
        if self.session["audio"]["input"].get("transcription"):
            for piece in word_pieces(transcript):
                self.send({"type": "session.input_transcript.delta", "delta": piece, **at})
        translation = transcript  # the fake does not translate (see the module's docstring)
        for piece in word_pieces(translation):
            self.send({"type": "session.output_transcript.delta", "delta": piece, **at})
        spoken = speech_pcm16(translation, VOICE)
        for start in range(0, len(spoken), realtime.AUDIO_DELTA_BYTES):
            chunk = spoken[start : start + realtime.AUDIO_DELTA_BYTES]
            self.send({
                "type": "session.output_audio.delta", "delta": base64.b64encode(chunk).decode(),
                "format": "pcm16", "sample_rate": SAMPLE_RATE, "channels": 1, **at,
            })
