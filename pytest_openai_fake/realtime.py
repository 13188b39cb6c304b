"""Realtime sessions over WebSocket (``client.realtime.connect(model=...)``).

One ``RealtimeSession`` serves one socket in the connection's thread: it sends
``session.created``, then reads client events and answers them. A response is built whole when
``response.create`` arrives (the decision: text, audio with its transcript, or function calls, by
the same rule as chat) and its events are sent *paced*: before each one the session reads what the
client sent meanwhile, so a ``response.cancel`` sent right after ``response.create`` cancels it.

Every client event is validated against the SDK's ``RealtimeClientEventParam`` TypedDict for its
type (a bad one is answered with the API's ``error`` event, carrying ``param`` and the client's
``event_id``); every server event is validated against the SDK's ``RealtimeServerEvent`` union
before it is sent (a failure is a bug in the fake: it fails the test).
"""

from __future__ import annotations

import base64
import binascii
import copy
import dataclasses
import functools
import hashlib
import json
import struct
import threading
import time
import typing
from collections import deque
from collections.abc import Callable
from typing import Any

from . import errors, params
from .determinism import digest, generate_text
from .determinism.audio import SAMPLE_RATE, speech_pcm  # input and output audio: 24 kHz s16le mono (``audio/pcm``)
from .server import WebSocket, WebSocketClosed

__all__ = ["EVENT_PACE", "EventError", "Hooks", "RealtimeSession", "Scripted", "TranscriptionSession", "speech_pcm16"]

#: Seconds between two events of a response: what the session waits, reading client events, before
#: sending the next one (a ``response.cancel`` arriving meanwhile stops the response).
EVENT_PACE = 0.002
#: A session that hears nothing from its client for this long is closed (1001).
IDLE_TIMEOUT = 600.0
#: The shortest input audio buffer the API commits (else ``input_audio_buffer_commit_empty``).
MIN_COMMIT_MS = 100
#: Size of a ``response.output_audio.delta`` in bytes of PCM (100 ms).
AUDIO_DELTA_BYTES = SAMPLE_RATE * 2 // 10

_DEFAULT_INSTRUCTIONS = (
    "Your knowledge cutoff is 2023-10. You are a helpful, witty, and friendly AI. Act like a human, "
    "but remember that you aren't a human and that you can't do human things in the real world."
)


def default_session(model: str, session_id: str, expires_at: int) -> dict[str, Any]:
    """The session a new socket starts with (``session.created``): the API's documented defaults."""
    return {
        "type": "realtime",
        "object": "realtime.session",
        "id": session_id,
        "model": model,
        "output_modalities": ["audio"],
        "instructions": _DEFAULT_INSTRUCTIONS,
        "tools": [],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
        "tracing": None,
        "truncation": "auto",
        "prompt": None,
        "expires_at": expires_at,
        "audio": {
            "input": _default_input(create_response=True, interrupt_response=True),
            "output": {"format": {"type": "audio/pcm", "rate": SAMPLE_RATE}, "voice": "marin", "speed": 1.0},
        },
        "include": None,
    }


def _default_input(**turn_detection: Any) -> dict[str, Any]:
    """A new session's input audio: 24 kHz PCM, no transcription nor noise reduction, server VAD."""
    return {
        "format": {"type": "audio/pcm", "rate": SAMPLE_RATE},
        "transcription": None,
        "noise_reduction": None,
        "turn_detection": {
            "type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300, "silence_duration_ms": 200, "idle_timeout_ms": None,
            **turn_detection,
        },
    }


def default_transcription_session(session_id: str, expires_at: int) -> dict[str, Any]:
    """The session a transcription socket (``intent=transcription``) starts with: transcription off
    until a ``session.update`` names a model (the SDK: "defaults to off"), server VAD on."""
    return {
        "type": "transcription",
        "object": "realtime.transcription_session",
        "id": session_id,
        "expires_at": expires_at,
        "audio": {"input": _default_input()},
        "include": None,
    }


# -- speech ---------------------------------------------------------------------------------------

#: PCM the fake spoke, by its SHA-256, and the text it says: a committed input buffer holding
#: exactly that audio is transcribed back to the text (the round trip of a voice-agent test).
_SPOKEN: dict[bytes, str] = {}
_SPOKEN_LOCK = threading.Lock()
_SPOKEN_MAX = 1024


def speech_pcm16(text: str, voice: str = "alloy") -> bytes:
    """The fake's speech for ``text``: 24 kHz 16-bit mono PCM, deterministic, the same samples
    ``audio.speech`` returns as ``pcm`` (``determinism.audio.speech_pcm``). Remembered, so that a
    committed input buffer holding exactly this audio is transcribed back to ``text``."""
    pcm = speech_pcm(text, voice)
    with _SPOKEN_LOCK:
        if len(_SPOKEN) >= _SPOKEN_MAX:
            _SPOKEN.pop(next(iter(_SPOKEN)))
        _SPOKEN[_voice_key(pcm)] = text
    return pcm


def _voice_key(pcm: bytes) -> bytes:
    """What identifies audio the fake spoke: its samples without digital silence (zero samples)
    before and after, so a turn committed by VAD (with the silence that ended it) still matches."""
    lead = len(pcm) - len(pcm.lstrip(b"\0"))
    start = lead - lead % 2  # whole samples: a sample's low byte may be zero
    end = len(pcm.rstrip(b"\0"))
    end = max(start, min(len(pcm) - len(pcm) % 2, end + end % 2))
    return hashlib.sha256(pcm[start:end]).digest()


def transcribe_pcm16(pcm: bytes) -> str:
    """The transcript of committed input audio: the text if the fake spoke it (with or without
    digital silence around it), else text from its hash."""
    with _SPOKEN_LOCK:
        known = _SPOKEN.get(_voice_key(pcm))
    return known if known is not None else generate_text(digest("transcript", pcm.hex()), min_words=4, max_words=12)


def decode_pcm16(audio: str) -> bytes:
    """An append event's ``audio``: base64 of 16-bit PCM, else the API's ``error`` (``param: "audio"``)."""
    try:
        pcm = base64.b64decode(audio, validate=True)
    except (binascii.Error, ValueError):
        raise EventError("Invalid 'audio'. Expected base64-encoded audio bytes.", param="audio", code="invalid_value") from None
    if len(pcm) % 2:
        raise EventError("Invalid 'audio': 16-bit PCM audio must have an even number of bytes.", param="audio", code="invalid_value")
    return pcm


def _audio_ms(size: int) -> int:
    return size * 1000 // (2 * SAMPLE_RATE)


# -- validation -----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def client_event_params() -> dict[str, type]:
    """Each client event type the SDK can send and its ``*EventParam`` TypedDict."""
    from openai.types.realtime.realtime_client_event_param import RealtimeClientEventParam

    return event_param_table(RealtimeClientEventParam)


def event_param_table(union: Any) -> dict[str, type]:
    """The ``*EventParam`` TypedDicts of a union of client events, by their ``type``."""
    table: dict[str, type] = {}
    for td in typing.get_args(union):
        hint = typing.get_type_hints(td, include_extras=True)["type"]
        literal = typing.get_args(hint)[0] if typing.get_args(hint) else hint
        table[typing.get_args(literal)[0]] = td
    return table


@functools.lru_cache(maxsize=1)
def _server_event_adapter() -> Any:
    from openai.types.realtime.realtime_server_event import RealtimeServerEvent
    from pydantic import TypeAdapter

    return TypeAdapter(RealtimeServerEvent)


def check_server_event(event: dict[str, Any]) -> None:
    """Raise (a bug in the fake) unless ``event`` parses as the SDK's ``RealtimeServerEvent``."""
    parsed = _server_event_adapter().validate_python(event)
    if getattr(parsed, "type", None) != event["type"]:
        raise AssertionError(f"server event {event['type']!r} parsed as {type(parsed).__name__}")


class EventError(Exception):
    """A client event the API answers with an ``error`` event (the socket stays open)."""

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None, type_: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.message, self.param, self.code, self.type = message, param, code, type_

    @classmethod
    def of(cls, exc: errors.OpenAIError) -> EventError:
        return cls(exc.message, param=exc.param, code=exc.error_code, type_=exc.type)


def merge_settings(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and key not in ("format", "turn_detection"):
            merged[key] = merge_settings(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


# -- the session ----------------------------------------------------------------------------------


@dataclasses.dataclass
class Scripted:
    """A script's answer to ``response.create``: a turn, an error event, a drop, timing."""

    turn: dict[str, Any] | None = None  # {"text": str} or {"calls": [{"name", "arguments", "call_id"}]}
    error: EventError | None = None  # answered with an ``error`` event instead of a response
    drop_after: int | None = None  # the socket is cut (no close frame) after this many response events
    error_after: tuple[int, EventError] | None = None  # an ``error`` event after N events, then ``failed``
    delay: float = 0.0  # before the first event after ``response.created``
    pace: float | None = None  # between events


class Hooks:
    """What the app lends a session: ids, the clock, the request log, scripts and faults."""

    def __init__(
        self,
        *,
        next_id: Callable[[str], str],
        now: Callable[[], int],
        log_event: Callable[[str, bytes], Any],
        problem: Callable[[str, str], None],
        decide: Callable[[Any], Scripted | None] | None = None,
    ) -> None:
        self.next_id = next_id
        self.now = now
        self.log_event = log_event
        self.problem = problem
        self.decide = decide


class RealtimeSession:
    """One realtime socket: session config, conversation, input audio buffer, the response in progress."""

    def __init__(self, ws: WebSocket, model: str, hooks: Hooks, *, pace: float = EVENT_PACE) -> None:
        self.ws = ws
        self.hooks = hooks
        self.pace = pace
        self.session = self.initial_session(model)
        self.items: list[dict[str, Any]] = []
        self.buffer = bytearray()
        self.conversation_id = hooks.next_id("conv_")
        self.audio_sent = False
        #: Set when the socket's model is not in the test's catalog: every response fails with it.
        self.model_error: str | None = None
        # The response in progress: its id, the events still to send, what response.done says.
        self.active: dict[str, Any] | None = None
        self.outbox: deque[Callable[[], None]] = deque()
        self.next_send = 0.0
        self.response_pace = pace
        self._captured: Any = None  # the log entry of the client event being handled
        # VAD over appended audio: where speech started (ms into the buffer), silence seen since.
        self._speech_item: str | None = None
        self._speech_start_ms = 0
        self._buffer_start_ms = 0  # audio ms before the current buffer (for speech_started)

    def initial_session(self, model: str) -> dict[str, Any]:
        return default_session(model, self.hooks.next_id("sess_"), self.hooks.now() + 3600)

    # -- loop ----------------------------------------------------------------------------------

    def run(self) -> None:
        self.send({"type": "session.created", "session": self.session})
        try:
            while True:
                now = time.monotonic()
                if self.outbox and now >= self.next_send:
                    self.outbox.popleft()()
                    self.next_send = time.monotonic() + self.response_pace
                    continue
                timeout = max(0.0, self.next_send - now) if self.outbox else IDLE_TIMEOUT
                message = self.ws.receive(timeout)
                if message is None:
                    if not self.outbox:
                        self.ws.close(1001, "idle timeout")
                        return
                    continue
                self.handle(message)
        except WebSocketClosed:
            return

    #: Log endpoint of a client event: this prefix and the event's type.
    LOG_PREFIX = "realtime."

    def event_params(self) -> dict[str, type]:
        """Each client event type this socket takes and its SDK ``*EventParam`` TypedDict."""
        return client_event_params()

    def check_event(self, event: dict[str, Any]) -> None:
        """Raise (a bug in the fake) unless the SDK parses ``event`` as a server event of this socket."""
        check_server_event(event)

    def send(self, event: dict[str, Any]) -> None:
        event = {"event_id": self.hooks.next_id("event_"), **event}
        self.check_event(event)
        self.ws.send_text(json.dumps(event, separators=(",", ":"), ensure_ascii=False))

    def error(self, exc: EventError, event_id: str | None) -> None:
        self.send({"type": "error", "error": {"type": exc.type, "code": exc.code, "message": exc.message, "param": exc.param, "event_id": event_id}})

    def handle(self, message: str | bytes) -> None:
        if isinstance(message, bytes):
            self.hooks.log_event(self.LOG_PREFIX + "binary", message)
            self.error(EventError("Binary frames are not supported; send JSON events as text frames.", code="invalid_json"), None)
            return
        try:
            event = json.loads(message)
        except ValueError:
            event = None
        if not isinstance(event, dict):
            self.hooks.log_event(self.LOG_PREFIX + "invalid", message.encode())
            self.error(EventError(f"Invalid JSON in event: {message[:200]!r}", code="invalid_json"), None)
            return
        kind = event.get("type")
        event_id = event.get("event_id") if isinstance(event.get("event_id"), str) else None
        self._captured = self.hooks.log_event(self.LOG_PREFIX + (kind if isinstance(kind, str) else "invalid"), message.encode())
        table = self.event_params()
        try:
            if kind not in table:
                if not isinstance(kind, str):
                    raise EventError("Missing required parameter: 'type'.", param="type", code="missing_required_parameter")
                supported = ", ".join(f"'{name}'" for name in table)
                raise EventError(f"Invalid value: '{kind}'. Supported values are: {supported}.", param="type", code="invalid_value")
            try:
                # On a copy: the check drops optional keys sent as null, but here null means
                # "turn off" (``turn_detection: null``) and must reach the session.
                params.validate(copy.deepcopy(event), table[kind])
            except errors.OpenAIError as exc:
                raise EventError.of(exc) from None
            getattr(self, "on_" + kind.replace(".", "_"))(event)
        except EventError as exc:
            self.error(exc, event_id)

    # -- session ---------------------------------------------------------------------------------

    def on_session_update(self, event: dict[str, Any]) -> None:
        update = event["session"]
        if update.get("type") != "realtime":
            raise EventError(
                "Passing a transcription session update event to a realtime session is not allowed.",
                param="session.type", code="invalid_value",
            )
        if "model" in update and update["model"] != self.session["model"]:
            raise EventError("Cannot update a session's model.", param="session.model", code="invalid_value")
        voice = update.get("audio", {}).get("output", {}).get("voice") if isinstance(update.get("audio"), dict) else None
        if voice is not None and self.audio_sent and voice != self.session["audio"]["output"]["voice"]:
            raise EventError("Cannot update a conversation's voice if assistant audio is present.", param="session.audio.output.voice", code="cannot_update_voice")
        self.session = merge_settings(self.session, update)
        self.send({"type": "session.updated", "session": self.session})

    # -- conversation items -------------------------------------------------------------------------

    def _index(self, item_id: str, param: str = "item_id") -> int:
        for i, item in enumerate(self.items):
            if item["id"] == item_id:
                return i
        raise EventError(f"Conversation item with id '{item_id}' not found.", param=param, code="item_not_found")

    def _previous_id(self, index: int) -> str | None:
        return self.items[index - 1]["id"] if index > 0 else None

    def _normalize(self, item: dict[str, Any]) -> dict[str, Any]:
        item = {**copy.deepcopy(item), "object": "realtime.item", "status": "completed"}
        item.setdefault("id", self.hooks.next_id("item_"))
        if any(existing["id"] == item["id"] for existing in self.items):
            raise EventError(f"Item with id '{item['id']}' already exists.", param="item.id", code="duplicate_item_id")
        if item["type"] == "function_call_output" and not any(
            other["type"] == "function_call" and other.get("call_id") == item["call_id"] for other in self.items
        ):
            raise EventError(f"Tool call ID '{item['call_id']}' not found in conversation.", param="item.call_id", code="invalid_value")
        for part in item.get("content") or ():
            if part.get("type") == "input_audio" and part.get("audio"):
                try:
                    pcm = base64.b64decode(part["audio"], validate=True)
                except (binascii.Error, ValueError):
                    raise EventError("Invalid base64 audio in item content.", param="item.content", code="invalid_value") from None
                part.setdefault("transcript", transcribe_pcm16(pcm))
        return item

    def add_item(self, item: dict[str, Any], after: str | None = ...) -> dict[str, Any]:  # type: ignore[assignment]
        if after is ...:
            index = len(self.items)
        elif after == "root":
            index = 0
        else:
            index = self._index(after, "previous_item_id") + 1  # type: ignore[arg-type]
        self.items.insert(index, item)
        return {"previous_item_id": self._previous_id(index)}

    def on_conversation_item_create(self, event: dict[str, Any]) -> None:
        item = self._normalize(event["item"])
        where = self.add_item(item, event["previous_item_id"]) if event.get("previous_item_id") else self.add_item(item)
        self.send({"type": "conversation.item.added", "item": item, **where})
        self.send({"type": "conversation.item.done", "item": item, **where})

    def on_conversation_item_retrieve(self, event: dict[str, Any]) -> None:
        item = self.items[self._index(event["item_id"])]
        self.send({"type": "conversation.item.retrieved", "item": item})

    def on_conversation_item_delete(self, event: dict[str, Any]) -> None:
        del self.items[self._index(event["item_id"])]
        self.send({"type": "conversation.item.deleted", "item_id": event["item_id"]})

    def on_conversation_item_truncate(self, event: dict[str, Any]) -> None:
        item = self.items[self._index(event["item_id"])]
        if item.get("role") != "assistant":
            raise EventError("Only assistant messages can be truncated.", param="item_id", code="invalid_value")
        index = event["content_index"]
        content = item.get("content") or []
        if not 0 <= index < len(content) or content[index].get("type") != "output_audio":
            raise EventError(f"Content index {index} is not an audio content part of this item.", param="content_index", code="invalid_value")
        part = content[index]
        length = _audio_ms(len(base64.b64decode(part.get("audio") or "")))
        end = event["audio_end_ms"]
        if not 0 <= end <= length:
            raise EventError(
                f"Audio content of {length}ms is shorter than {end}ms.", param="audio_end_ms", code="invalid_value"
            )
        # The transcript is dropped with the audio the user did not hear (as the API does).
        part.pop("transcript", None)
        part["audio"] = base64.b64encode(base64.b64decode(part.get("audio") or "")[: end * 2 * SAMPLE_RATE // 1000]).decode()
        self.send({"type": "conversation.item.truncated", "item_id": item["id"], "content_index": index, "audio_end_ms": end})

    # -- input audio --------------------------------------------------------------------------------

    def _vad(self) -> dict[str, Any] | None:
        detection = self.session["audio"]["input"].get("turn_detection")
        return detection if isinstance(detection, dict) and detection.get("type") in ("server_vad", "semantic_vad") else None

    def on_input_audio_buffer_append(self, event: dict[str, Any]) -> None:
        pcm = decode_pcm16(event["audio"])
        start = len(self.buffer)
        self.buffer += pcm
        detection = self._vad()
        if detection is not None:
            self._detect(detection, start)

    def _detect(self, detection: dict[str, Any], start: int) -> None:
        """Server VAD: speech is 10 ms frames louder than the threshold; it stops after
        ``silence_duration_ms`` of quiet, which commits the buffer (and answers, if asked)."""
        frame = 2 * SAMPLE_RATE // 100
        threshold = 32768 * 0.1 * float(detection.get("threshold") or 0.5)
        silence_ms = int(detection.get("silence_duration_ms") or 500)
        first = start - start % frame
        quiet = 0
        for at in range(first, len(self.buffer) - frame + 1, frame):
            samples = struct.unpack_from(f"<{frame // 2}h", self.buffer, at)
            loud = max(abs(s) for s in samples) > threshold
            ms = _audio_ms(at)
            if loud and self._speech_item is None:
                self._speech_item = self.hooks.next_id("item_")
                self._speech_start_ms = ms
                self.send({"type": "input_audio_buffer.speech_started", "audio_start_ms": self._buffer_start_ms + ms, "item_id": self._speech_item})
                if self.active is not None and detection.get("interrupt_response", True):
                    self.cancel_active()
            quiet = 0 if loud else quiet + 10
            if self._speech_item is not None and not loud and quiet >= silence_ms:
                end = at + frame
                self.send({"type": "input_audio_buffer.speech_stopped", "audio_end_ms": self._buffer_start_ms + _audio_ms(end), "item_id": self._speech_item})
                rest = bytes(self.buffer[end:])
                del self.buffer[end:]
                self.commit(self._speech_item)
                self.buffer += rest
                self._speech_item = None
                if detection.get("create_response", True):
                    self.start_response({})
                return

    def on_input_audio_buffer_commit(self, event: dict[str, Any]) -> None:
        if _audio_ms(len(self.buffer)) < MIN_COMMIT_MS:
            raise EventError(
                f"Error committing input audio buffer: buffer too small. Expected at least {MIN_COMMIT_MS}ms of audio, "
                f"but buffer only has {len(self.buffer) * 1000 / (2 * SAMPLE_RATE):.2f}ms of audio.",
                code="input_audio_buffer_commit_empty",
            )
        self.commit(self._speech_item or self.hooks.next_id("item_"))
        self._speech_item = None

    def commit(self, item_id: str) -> None:
        pcm = bytes(self.buffer)
        self._buffer_start_ms += _audio_ms(len(pcm))
        self.buffer.clear()
        item = {
            "id": item_id, "object": "realtime.item", "type": "message", "role": "user", "status": "completed",
            "content": [{"type": "input_audio", "transcript": None}],
        }
        where = self.add_item(item)
        self.send({"type": "input_audio_buffer.committed", "item_id": item_id, **where})
        self.send({"type": "conversation.item.added", "item": item, **where})
        transcription = self.session["audio"]["input"].get("transcription")
        transcript = transcribe_pcm16(pcm)
        item["content"][0]["transcript"] = transcript
        self.send({"type": "conversation.item.done", "item": item, **where})
        if transcription:
            logprobs = "item.input_audio_transcription.logprobs" in (self.session.get("include") or ())
            for piece in word_pieces(transcript):
                delta: dict[str, Any] = {"type": "conversation.item.input_audio_transcription.delta", "item_id": item_id, "content_index": 0, "delta": piece}
                if logprobs:
                    delta["logprobs"] = _logprobs(piece)
                self.send(delta)
            completed: dict[str, Any] = {
                "type": "conversation.item.input_audio_transcription.completed", "item_id": item_id, "content_index": 0,
                "transcript": transcript,
                "usage": {"type": "duration", "seconds": round(len(pcm) / (2 * SAMPLE_RATE), 3)},
            }
            if logprobs:
                completed["logprobs"] = _logprobs(transcript)
            self.send(completed)

    def on_input_audio_buffer_clear(self, event: dict[str, Any]) -> None:
        self._buffer_start_ms += _audio_ms(len(self.buffer))
        self.buffer.clear()
        self._speech_item = None
        self.send({"type": "input_audio_buffer.cleared"})

    def on_output_audio_buffer_clear(self, event: dict[str, Any]) -> None:
        raise EventError("output_audio_buffer.clear is only supported for WebRTC and SIP connections.", code="invalid_value", param="type")

    # -- responses ----------------------------------------------------------------------------------

    def on_response_create(self, event: dict[str, Any]) -> None:
        self.start_response(event.get("response") or {}, event)

    def on_response_cancel(self, event: dict[str, Any]) -> None:
        wanted = event.get("response_id")
        if self.active is None or (wanted and wanted != self.active["id"]):
            raise EventError("Cancellation failed: no active response found", code="response_cancel_not_active")
        self.cancel_active()

    def cancel_active(self) -> None:
        assert self.active is not None
        self.outbox.clear()
        self.finish(status="cancelled", reason="client_cancelled")

    def start_response(self, options: dict[str, Any], event: dict[str, Any] | None = None) -> None:
        if self.active is not None:
            raise EventError(
                f"Conversation already has an active response in progress: {self.active['id']}. "
                "Wait until the response is finished before creating a new one.",
                code="conversation_already_has_active_response",
            )
        scripted = self.hooks.decide(self._captured) if self.hooks.decide is not None else None
        if scripted is not None and scripted.error is not None:
            raise scripted.error
        config = {**self.session, **{k: v for k, v in options.items() if v is not None}}
        in_conversation = options.get("conversation", "auto") != "none"
        context = list(self.items) if "input" not in options else [self._normalize_input(i) for i in options["input"]]
        modalities = config.get("output_modalities") or ["audio"]
        voice = (config.get("audio") or {}).get("output", {}).get("voice") or self.session["audio"]["output"]["voice"]
        response_id = self.hooks.next_id("resp_")
        self.active = {
            "id": response_id, "object": "realtime.response", "status": "in_progress", "status_details": None,
            "output": [], "conversation_id": self.conversation_id if in_conversation else None,
            "output_modalities": modalities, "max_output_tokens": config.get("max_output_tokens", "inf"),
            "audio": {"output": {"format": {"type": "audio/pcm", "rate": SAMPLE_RATE}, "voice": voice}},
            "metadata": options.get("metadata"), "usage": None,
            "_in_conversation": in_conversation, "_context": context,
        }
        self.send({"type": "response.created", "response": self._response_view()})
        if self.model_error is not None:
            self.finish(status="failed", error={"type": "invalid_request_error", "code": "model_not_found", "message": self.model_error})
            return
        turn = scripted.turn if scripted is not None and scripted.turn is not None else self._decide(config, context)
        self._plan(turn, modalities)
        if scripted is not None:
            self._fault(scripted)
        self.response_pace = scripted.pace if scripted is not None and scripted.pace is not None else self.pace
        delay = scripted.delay if scripted is not None else 0.0
        self.next_send = time.monotonic() + self.response_pace + delay  # read the client first: a cancel may be on its way

    def _fault(self, scripted: Scripted) -> None:
        """Put a scripted drop or mid-response error into the queue, after N sent events."""
        if scripted.drop_after is not None:
            at, step = scripted.drop_after, self._drop
        elif scripted.error_after is not None:
            at, error = scripted.error_after

            def step() -> None:
                self.outbox.clear()
                self.error(error, None)
                self.finish(status="failed", error={"type": error.type, "code": error.code, "message": error.message})
        else:
            return
        steps = list(self.outbox)
        sends = 0
        for index, queued in enumerate(steps):
            if sends >= at:
                steps.insert(index, step)
                break
            sends += getattr(queued, "sends", 0)
        else:
            steps.insert(max(0, len(steps) - 1), step)
        self.outbox = deque(steps)

    def _drop(self) -> None:
        self.ws.abort()
        raise WebSocketClosed(1006, "scripted drop()")

    def _normalize_input(self, item: dict[str, Any]) -> dict[str, Any]:
        if item.get("type") == "item_reference":
            return self.items[self._index(item["id"], "response.input")]
        return {**item, "id": item.get("id") or self.hooks.next_id("item_")}

    def _response_view(self) -> dict[str, Any]:
        assert self.active is not None
        return {k: copy.deepcopy(v) for k, v in self.active.items() if not k.startswith("_")}

    def _decide(self, config: dict[str, Any], context: list[dict[str, Any]]) -> dict[str, Any]:
        """The fake's own turn: ``{"text": str}`` or ``{"calls": [{"name", "arguments", "call_id"}]}``."""
        from .resources.chat import Tools

        basis = digest("realtime", config.get("instructions"), [_item_key(i) for i in context])
        last = context[-1] if context else None
        after_result = last is not None and last.get("type") == "function_call_output"
        tools = [t for t in config.get("tools") or () if t.get("type") == "function"]
        try:
            chooser = Tools.from_responses({"tools": tools, "tool_choice": config.get("tool_choice", "auto"), "parallel_tool_calls": config.get("parallel_tool_calls")})
            calls = chooser.choose(_last_user_text(context), after_result, basis)
        except errors.OpenAIError as exc:
            self.active = None
            raise EventError.of(exc) from None
        if calls:
            return {"calls": [{"name": c["name"], "arguments": c["arguments"], "call_id": None} for c in calls]}
        return {"text": generate_text(basis)}

    def _plan(self, turn: dict[str, Any], modalities: list[str]) -> None:
        """Queue the response's events (sent paced by ``run``)."""
        assert self.active is not None
        response_id = self.active["id"]
        queue = self.outbox.append
        base = {"response_id": response_id}

        def emit(event: dict[str, Any]) -> Callable[[], None]:
            def run() -> None:
                self.send(event)

            run.sends = 1  # type: ignore[attr-defined]
            return run

        def add_output(item: dict[str, Any]) -> Callable[[], None]:
            def run() -> None:
                assert self.active is not None
                self.active["output"].append(item)
                if self.active["_in_conversation"]:
                    where = self.add_item(item)
                    self.send({"type": "conversation.item.added", "item": copy.deepcopy(item), **where})
            return run

        def item_done(item: dict[str, Any]) -> Callable[[], None]:
            def run() -> None:
                assert self.active is not None
                if self.active["_in_conversation"]:
                    shown = copy.deepcopy(item)
                    for part in shown.get("content") or ():
                        part.pop("audio", None)
                    index = next((i for i, existing in enumerate(self.items) if existing is item), None)
                    if index is None:  # the client deleted it meanwhile
                        return
                    self.send({"type": "conversation.item.done", "item": shown, "previous_item_id": self._previous_id(index)})
            return run

        for call in turn.get("calls") or ():
            call = {**call, "call_id": call.get("call_id") or self.hooks.next_id("call_")}
            item_id = self.hooks.next_id("item_")
            item = {"id": item_id, "object": "realtime.item", "type": "function_call", "status": "in_progress", "name": call["name"], "call_id": call["call_id"], "arguments": ""}
            index = self._planned
            self._planned += 1
            queue(add_output(item))
            queue(emit({"type": "response.output_item.added", **base, "output_index": index, "item": dict(item)}))
            for piece in _pieces(call["arguments"], 8):
                queue(emit({"type": "response.function_call_arguments.delta", **base, "item_id": item_id, "output_index": index, "call_id": call["call_id"], "delta": piece}))
            done = {**item, "status": "completed", "arguments": call["arguments"]}
            queue(lambda item=item, done=done: item.update(done))
            queue(emit({"type": "response.function_call_arguments.done", **base, "item_id": item_id, "output_index": index, "call_id": call["call_id"], "name": call["name"], "arguments": call["arguments"]}))
            queue(emit({"type": "response.output_item.done", **base, "output_index": index, "item": done}))
            queue(item_done(item))
        text = turn.get("text")
        if text is not None:
            audio = "audio" in modalities
            item_id = self.hooks.next_id("item_")
            index = self._planned
            self._planned += 1
            item: dict[str, Any] = {"id": item_id, "object": "realtime.item", "type": "message", "role": "assistant", "status": "in_progress", "content": []}
            queue(add_output(item))
            queue(emit({"type": "response.output_item.added", **base, "output_index": index, "item": copy.deepcopy(item)}))
            where = {**base, "item_id": item_id, "output_index": index, "content_index": 0}
            empty_part = {"type": "audio", "transcript": ""} if audio else {"type": "text", "text": ""}
            queue(emit({"type": "response.content_part.added", **where, "part": empty_part}))
            if audio:
                pcm = speech_pcm16(text, self.active["audio"]["output"]["voice"] if self.active else "alloy")
                for at in range(0, len(pcm), AUDIO_DELTA_BYTES):
                    queue(emit({"type": "response.output_audio.delta", **where, "delta": base64.b64encode(pcm[at : at + AUDIO_DELTA_BYTES]).decode()}))
                for piece in _pieces(text, 12):
                    queue(emit({"type": "response.output_audio_transcript.delta", **where, "delta": piece}))
                queue(emit({"type": "response.output_audio.done", **where}))
                queue(emit({"type": "response.output_audio_transcript.done", **where, "transcript": text}))
                content = {"type": "output_audio", "transcript": text, "audio": base64.b64encode(pcm).decode()}
                final_part = {"type": "audio", "transcript": text}
                shown = {"type": "output_audio", "transcript": text}
            else:
                for piece in _pieces(text, 12):
                    queue(emit({"type": "response.output_text.delta", **where, "delta": piece}))
                queue(emit({"type": "response.output_text.done", **where, "text": text}))
                content = {"type": "output_text", "text": text}
                final_part = {"type": "text", "text": text}
                shown = content

            def complete(item: dict[str, Any] = item, content: dict[str, Any] = content) -> None:
                item["content"] = [content]
                item["status"] = "completed"
                if audio:
                    self.audio_sent = True

            queue(emit({"type": "response.content_part.done", **where, "part": final_part}))
            queue(complete)
            queue(emit({"type": "response.output_item.done", **base, "output_index": index, "item": {**item, "status": "completed", "content": [shown]}}))
            queue(item_done(item))
        queue(lambda: self.finish(status="completed"))
        self._planned = 0

    _planned = 0

    def finish(self, *, status: str, reason: str | None = None, error: dict[str, Any] | None = None) -> None:
        active = self.active
        assert active is not None
        for item in active["output"]:
            if item.get("status") == "in_progress":
                item["status"] = "incomplete"
        active["status"] = status
        if status == "cancelled":
            active["status_details"] = {"type": "cancelled", "reason": reason}
        elif status == "failed":
            active["status_details"] = {"type": "failed", "error": error}
        context_tokens = sum(_tokens(_item_key(i)) for i in active["_context"]) + _tokens(self.session.get("instructions") or "")
        output_tokens = sum(_tokens(_item_key(i)) for i in active["output"])
        audio_out = sum(
            len(c.get("audio") or "") * 3 // 4 // (2 * SAMPLE_RATE // 20)  # a token per 50 ms of audio
            for i in active["output"] for c in i.get("content") or () if c.get("type") == "output_audio"
        )
        active["usage"] = {
            "total_tokens": context_tokens + output_tokens + audio_out,
            "input_tokens": context_tokens,
            "output_tokens": output_tokens + audio_out,
            "input_token_details": {"text_tokens": context_tokens, "audio_tokens": 0, "cached_tokens": 0, "image_tokens": 0, "cached_tokens_details": {"text_tokens": 0, "audio_tokens": 0, "image_tokens": 0}},
            "output_token_details": {"text_tokens": output_tokens, "audio_tokens": audio_out},
        }
        view = self._response_view()
        for item in view["output"]:
            for part in item.get("content") or ():
                part.pop("audio", None)  # response.done carries transcripts, not the audio again
        self.active = None
        self.response_pace = self.pace
        self.send({"type": "response.done", "response": view})
        self.send({
            "type": "rate_limits.updated",
            "rate_limits": [
                {"name": "requests", "limit": 10000, "remaining": 9999, "reset_seconds": 0.006},
                {"name": "tokens", "limit": 2000000, "remaining": 2000000 - view["usage"]["total_tokens"], "reset_seconds": 0.0},
            ],
        })


def word_pieces(text: str) -> list[str]:
    """``text`` in pieces of one word each (with the space before it), for transcript deltas."""
    words = text.split(" ")
    return [word if i == 0 else " " + word for i, word in enumerate(words)]


def _logprobs(text: str) -> list[dict[str, Any]]:
    """A token per word, each certain (the fake's transcript is what it heard)."""
    return [{"token": piece, "logprob": 0.0, "bytes": list(piece.encode())} for piece in word_pieces(text) if piece]


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _tokens(text: str) -> int:
    return max(0, len(text.split()) + len(text) // 16)


def _item_key(item: dict[str, Any]) -> str:
    """The text an item contributes to the conversation (what the deterministic answer hashes)."""
    parts = [item.get("type", ""), item.get("role", ""), item.get("name", ""), item.get("arguments", ""), item.get("output", "")]
    for part in item.get("content") or ():
        parts.append(part.get("text") or part.get("transcript") or "")
    return " ".join(str(p) for p in parts if p)


def _last_user_text(items: list[dict[str, Any]]) -> str:
    for item in reversed(items):
        if item.get("type") == "message" and item.get("role") == "user":
            return " ".join(part.get("text") or part.get("transcript") or "" for part in item.get("content") or ())
    return ""


class TranscriptionSession(RealtimeSession):
    """A transcription socket (``client.realtime.connect(extra_query={"intent": "transcription"})``):
    input audio in, ``conversation.item.input_audio_transcription.*`` out, no model responses."""

    NO_RESPONSES = "Responses are not supported in transcription sessions."

    def initial_session(self, model: str) -> dict[str, Any]:
        return default_transcription_session(self.hooks.next_id("sess_"), self.hooks.now() + 3600)

    def on_session_update(self, event: dict[str, Any]) -> None:
        update = event["session"]
        if update.get("type") != "transcription":
            raise EventError(
                "Passing a realtime session update event to a transcription session is not allowed.",
                param="session.type", code="invalid_value",
            )
        self.session = merge_settings(self.session, update)
        self.send({"type": "session.updated", "session": self.session})

    def _vad(self) -> dict[str, Any] | None:
        detection = super()._vad()
        return None if detection is None else {**detection, "create_response": False, "interrupt_response": False}

    def on_response_create(self, event: dict[str, Any]) -> None:
        raise EventError(self.NO_RESPONSES, param="type", code="invalid_value")

    on_response_cancel = on_response_create
