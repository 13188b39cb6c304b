"""Audio: ``POST /v1/audio/speech``, ``/audio/transcriptions``, ``/audio/translations``.

Speech is real audio of every ``response_format`` (``determinism/audio.py`` builds it, pure
Python), long in proportion to the text at a realistic speaking rate, divided by ``speed``; its
text rides in the format's metadata, so transcribing the fake's own speech gives back exactly
the text. Any other upload transcribes to deterministic words drawn from a hash of its bytes,
about 2.5 words a second of audio (the length read from the container, or estimated from the
size at 128 kbit/s when the container does not say: MP4, WebM).

What each transcription model accepts is data (``MODELS``): response formats, streaming,
``logprobs``, diarization, and how it reports usage (``duration`` seconds for whisper-1, tokens
for the GPT models). Voices and voice consents stay on the generic layer (stored CRUD); speech
accepts the id of a stored voice as ``voice={"id": ...}``.
"""

from __future__ import annotations

import base64
import math
import re
from dataclasses import dataclass
from typing import Any

from openai.types.audio.speech_create_params import SpeechCreateParams
from openai.types.audio.transcription_create_params import (
    TranscriptionCreateParamsNonStreaming,
    TranscriptionCreateParamsStreaming,
)
from openai.types.audio.translation_create_params import TranslationCreateParams
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from .. import errors
from ..determinism import audio as codec
from ..determinism import count_tokens, digest, generate_text
from ..routing import Ctx, Resource
from ..streaming import event, sse_response

audio = Resource("audio")

# -- what the models accept (data) -----------------------------------------------------------


@dataclass(frozen=True)
class SpeechModel:
    #: ``stream_format="sse"`` (the SDK: "not supported for tts-1 or tts-1-hd").
    sse: bool


SPEECH_MODELS = {
    "tts-1": SpeechModel(sse=False),
    "tts-1-hd": SpeechModel(sse=False),
    "gpt-4o-mini-tts": SpeechModel(sse=True),
}
VOICES = (
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "fable",
    "onyx",
    "nova",
    "sage",
    "shimmer",
    "verse",
    "marin",
    "cedar",
)
MAX_INPUT = 4096


@dataclass(frozen=True)
class TranscribeModel:
    formats: tuple[str, ...]
    #: ``stream=True`` answers events (False: whisper-1 ignores it and answers the whole reply).
    streams: bool
    logprobs: bool
    diarize: bool
    #: ``usage`` as ``{"type": "duration"}`` (whisper-1) or ``{"type": "tokens"}``.
    usage: str
    prompt: bool = True
    granularities: bool = False
    translates: bool = False


WHISPER = TranscribeModel(
    ("json", "text", "srt", "verbose_json", "vtt"),
    streams=False,
    logprobs=False,
    diarize=False,
    usage="duration",
    granularities=True,
    translates=True,
)
GPT = TranscribeModel(("json", "text"), streams=True, logprobs=True, diarize=False, usage="tokens")
DIARIZE = TranscribeModel(
    ("json", "text", "diarized_json"), streams=True, logprobs=False, diarize=True, usage="tokens", prompt=False
)
#: By longest matching prefix.
TRANSCRIBE_MODELS = {
    "whisper-1": WHISPER,
    "gpt-4o-transcribe": GPT,
    "gpt-4o-mini-transcribe": GPT,
    "gpt-transcribe": TranscribeModel(("json", "text"), streams=True, logprobs=False, diarize=False, usage="tokens"),
    "gpt-4o-transcribe-diarize": DIARIZE,
}
SUPPORTED_UPLOADS = ("flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm")
#: The API's upload limit for transcriptions and translations.
MAX_UPLOAD = 25 * 1024 * 1024
WORDS_PER_SECOND = 2.5
#: Audio tokens a second of input (the GPT transcribe models report input audio tokens).
AUDIO_TOKENS_PER_SECOND = 10
#: Bytes a second assumed when the container does not give the length (128 kbit/s).
ASSUMED_BYTES_PER_SECOND = 16_000

# Verified texts: the upload-format 400 (quoted in many public reports, param and code null) and
# the response-format 400 (quoted with its param and code for gpt-4o-transcribe).
INVALID_FORMAT = f"Invalid file format. Supported formats: {list(SUPPORTED_UPLOADS)}"
INCOMPATIBLE_FORMAT = "response_format '{format}' is not compatible with model '{model}'. Use {choices} instead."
# The 413 over 25 MB: verified (public reports: type server_error, param and code null).
TOO_LARGE = "Maximum content size limit (26214400) exceeded ({size} bytes read)"
# Unverified wording (no public report found): a voice that is neither a built-in name nor a
# stored custom voice, a non-audio model, and the parameters a model does not take.
#: The SDK: chunking_strategy is "Required when using gpt-4o-transcribe-diarize for inputs longer
#: than 30 seconds" (the wording of the 400 is unverified).
DIARIZE_UNCHUNKED_SECONDS = 30
CHUNKING_REQUIRED = "chunking_strategy is required for gpt-4o-transcribe-diarize when the audio is longer than 30 seconds."
LANGUAGES = {
    "en": "english",
    "fr": "french",
    "de": "german",
    "es": "spanish",
    "it": "italian",
    "ja": "japanese",
    "pt": "portuguese",
    "nl": "dutch",
    "zh": "chinese",
    "ko": "korean",
    "ru": "russian",
}

# -- speech ----------------------------------------------------------------------------------


@audio.route("POST", "/audio/speech", endpoint="audio.speech.create", streams=True)
def create_speech(ctx: Ctx) -> Response:
    body = ctx.json(SpeechCreateParams)
    model = _speech_model(ctx, body["model"])
    text = body["input"]
    if len(text) > MAX_INPUT:
        raise errors.bad_request(
            f"Invalid 'input': string too long. Expected a string with maximum length {MAX_INPUT}, "
            f"but got a string with length {len(text)} instead.",
            param="input",
            code="string_above_max_length",
        )
    errors.check_range("speed", body.get("speed"), minimum=0.25, maximum=4.0, decimal=True)
    # ``instructions`` on tts-1 / tts-1-hd: the SDK says it "does not work" with them; no public
    # report of a 400 was found, so the fake ignores it there (unverified), like the model does.
    voice = _voice(ctx, body["voice"])
    fmt = body.get("response_format") or "mp3"
    speed = float(body.get("speed") or 1.0)
    if body.get("stream_format") == "sse":
        if not model.sse:
            raise errors.unsupported_value("stream_format", "sse", "audio")
        return _speech_events(codec.speech(text, voice, fmt, speed), text)
    data = codec.speech(text, voice, fmt, speed)
    return Response(data, status=200, content_type=codec.CONTENT_TYPES[fmt])


def _speech_model(ctx: Ctx, model: str) -> SpeechModel:
    ctx.require_model(model)
    card = next((SPEECH_MODELS[p] for p in sorted(SPEECH_MODELS, key=len, reverse=True) if model.startswith(p)), None)
    if card is None:
        raise errors.invalid_value(
            "model",
            f"Invalid 'model': '{model}' is not a text-to-speech model. "
            f"Supported models are {', '.join(SPEECH_MODELS)}.",
        )
    return card


def _voice(ctx: Ctx, voice: Any) -> str:
    """A built-in voice name, or the id of a stored custom voice (``voice_...``)."""
    if isinstance(voice, dict):
        voice_id = str(voice["id"])
        if not ctx.state.lenient_ids and voice_id not in ctx.state.collection("/audio/voices", (), "voices"):
            raise errors.bad_request(f"Voice '{voice_id}' not found.", param="voice", code="invalid_value")
        return voice_id
    if voice not in VOICES:
        raise errors.invalid_value("voice", f"Invalid 'voice': '{voice}'. Supported voices are {', '.join(VOICES)}.")
    return str(voice)


def _speech_events(data: bytes, text: str) -> Response:
    """``speech.audio.delta`` events (base64 chunks of the audio), then ``speech.audio.done`` with usage."""
    chunk = 8192
    frames = [
        event({"type": "speech.audio.delta", "audio": base64.b64encode(data[at : at + chunk]).decode()})
        for at in range(0, max(len(data), 1), chunk)
    ]
    input_tokens = count_tokens(text)
    output_tokens = math.ceil(len(data) / 1000)
    usage = {"input_tokens": input_tokens, "output_tokens": output_tokens, "total_tokens": input_tokens + output_tokens}
    frames.append(event({"type": "speech.audio.done", "usage": usage}))
    return sse_response(frames)


# -- transcriptions and translations ---------------------------------------------------------


@audio.route("POST", "/audio/transcriptions", endpoint="audio.transcriptions.create", replies=("text",), streams=True)
def create_transcription(ctx: Ctx) -> Any:
    body = _multipart(ctx)
    streaming = body.get("stream") is True
    ctx.validate(body, TranscriptionCreateParamsStreaming if streaming else TranscriptionCreateParamsNonStreaming)
    model_id = body["model"]
    model = _transcribe_model(ctx, model_id)
    upload = _upload(body["file"])
    fmt = body.get("response_format") or "json"
    _check_options(body, model, model_id, fmt)
    text, seconds = _hear(ctx, upload, "audio.transcriptions.create")
    if model.diarize and seconds > DIARIZE_UNCHUNKED_SECONDS and body.get("chunking_strategy") is None:
        raise errors.bad_request(CHUNKING_REQUIRED, param="chunking_strategy", code="invalid_value")
    if streaming and model.streams:
        return _transcript_events(ctx, body, model, text, seconds)
    return _render(ctx, body, model, fmt, text, seconds, task="transcribe")


@audio.route("POST", "/audio/translations", endpoint="audio.translations.create", replies=("text",))
def create_translation(ctx: Ctx) -> Any:
    body = _multipart(ctx)
    ctx.validate(body, TranslationCreateParams)
    model_id = body["model"]
    model = _transcribe_model(ctx, model_id)
    if not model.translates:
        raise errors.invalid_value(
            "model", f"Invalid 'model': '{model_id}' does not support translations. Supported models are whisper-1."
        )
    fmt = body.get("response_format") or "json"
    upload = _upload(body["file"])
    text, seconds = _hear(ctx, upload, "audio.translations.create")
    return _render(ctx, body, model, fmt, text, seconds, task="translate")


def _transcribe_model(ctx: Ctx, model_id: str) -> TranscribeModel:
    ctx.require_model(model_id)
    prefix = max((p for p in TRANSCRIBE_MODELS if model_id.startswith(p)), key=len, default=None)
    if prefix is None:
        raise errors.invalid_value(
            "model",
            f"Invalid 'model': '{model_id}' is not a speech-to-text model. "
            f"Supported models are {', '.join(TRANSCRIBE_MODELS)}.",
        )
    return TRANSCRIBE_MODELS[prefix]


def _check_options(body: dict[str, Any], model: TranscribeModel, model_id: str, fmt: str) -> None:
    if fmt not in model.formats:
        choices = (
            " or ".join(f"'{f}'" for f in model.formats)
            if len(model.formats) == 2
            else (", ".join(f"'{f}'" for f in model.formats[:-1]) + f" or '{model.formats[-1]}'")
        )
        raise errors.bad_request(
            INCOMPATIBLE_FORMAT.format(format=fmt, model=model_id, choices=choices),
            param="response_format",
            code="unsupported_value",
        )
    include = body.get("include") or []
    if "logprobs" in include and (not model.logprobs or fmt != "json"):
        raise errors.unsupported_parameter(
            "include", " 'logprobs' needs response_format 'json' and a gpt-4o transcribe model."
        )
    if body.get("timestamp_granularities") and (not model.granularities or fmt != "verbose_json"):
        raise errors.bad_request(
            "`response_format` must be set `verbose_json` to use timestamp granularities.",
            param="timestamp_granularities",
            code="invalid_value",
        )
    if body.get("prompt") is not None and not model.prompt:
        raise errors.unsupported_parameter("prompt")
    names, refs = body.get("known_speaker_names") or [], body.get("known_speaker_references") or []
    if (names or refs) and not model.diarize:
        raise errors.unsupported_parameter("known_speaker_names" if names else "known_speaker_references")
    if len(names) != len(refs):
        raise errors.bad_request(
            "known_speaker_names and known_speaker_references must have the same length.",
            param="known_speaker_names",
            code="invalid_value",
        )
    errors.check_length("known_speaker_names", names, maximum=4)
    errors.check_range("temperature", body.get("temperature"), minimum=0, maximum=1, decimal=True)


def _upload(upload: Any) -> bytes:
    if not isinstance(upload, FileStorage):
        raise errors.invalid_type("file", "a file", upload)
    data: bytes = upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise errors.OpenAIError(413, TOO_LARGE.format(size=len(data)), type="server_error")
    if codec.sniff(data) not in ("flac", "wav", "ogg", "mp3", "mp4", "webm"):
        raise errors.bad_request(INVALID_FORMAT)
    return data


def _hear(ctx: Ctx, data: bytes, endpoint: str) -> tuple[str, float]:
    """The text of the upload and its length in seconds: a scripted transcript, else the text the
    fake's speech embedded, else words from the bytes' hash (2.5 a second)."""
    seconds = codec.duration(data)
    if seconds is None:
        seconds = len(data) / ASSUMED_BYTES_PER_SECOND
    if ctx.reply is not None and ctx.reply.get("content") is not None:
        return ctx.reply["content"], seconds
    text = codec.embedded_text(data)
    if text is not None:
        return text, seconds
    words = max(round(seconds * WORDS_PER_SECOND), 1)
    return generate_text(digest(endpoint, data.hex()), min_words=words, max_words=words), seconds


# -- rendering -------------------------------------------------------------------------------


def _segments(text: str, seconds: float) -> list[tuple[float, float, str]]:
    """Sentences (or runs of 30 words) of ``text`` with start/end times spread by characters."""
    pieces = [p for p in re.split(r"(?<=[.!?])\s+", text.strip()) if p] or [text]
    chunks: list[str] = []
    for piece in pieces:
        words = piece.split(" ")
        chunks += [" ".join(words[i : i + 30]) for i in range(0, len(words), 30)]
    total = sum(len(c) + 1 for c in chunks) or 1
    out, at = [], 0.0
    for chunk in chunks:
        end = at + seconds * (len(chunk) + 1) / total
        out.append((round(at, 2), round(min(end, seconds), 2), chunk))
        at = end
    return out


def _words(text: str, seconds: float) -> list[dict[str, Any]]:
    words = [w for w in text.split() if w]
    total = sum(len(w) + 1 for w in words) or 1
    out, at = [], 0.0
    for word in words:
        end = at + seconds * (len(word) + 1) / total
        out.append({"word": word.strip(".,!?;:"), "start": round(at, 2), "end": round(min(end, seconds), 2)})
        at = end
    return out


def _usage(body: dict[str, Any], model: TranscribeModel, text: str, seconds: float) -> dict[str, Any]:
    if model.usage == "duration":
        return {"type": "duration", "seconds": math.ceil(seconds)}
    audio_tokens = max(math.ceil(seconds * AUDIO_TOKENS_PER_SECOND), 1)
    text_tokens = count_tokens(body.get("prompt") or "") if body.get("prompt") else 0
    output = count_tokens(text)
    return {
        "type": "tokens",
        "input_tokens": audio_tokens + text_tokens,
        "input_token_details": {"text_tokens": text_tokens, "audio_tokens": audio_tokens},
        "output_tokens": output,
        "total_tokens": audio_tokens + text_tokens + output,
    }


def _logprobs(text: str) -> list[dict[str, Any]]:
    out = []
    for index, word in enumerate(re.findall(r"\S+\s*", text)):
        seed = digest("logprob", text, index)
        out.append({"token": word, "bytes": list(word.encode()), "logprob": -round(seed[0] / 2550, 4)})
    return out


def _timestamp(seconds: float, sep: str) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}{sep}{ms % 1000:03d}"


def _render(
    ctx: Ctx, body: dict[str, Any], model: TranscribeModel, fmt: str, text: str, seconds: float, *, task: str
) -> Any:
    if fmt == "text":
        return Response(text + "\n", content_type="text/plain; charset=utf-8")
    if fmt in ("srt", "vtt"):
        segments = _segments(text, seconds)
        if fmt == "srt":
            blocks = [
                f"{i}\n{_timestamp(s, ',')} --> {_timestamp(e, ',')}\n{t}\n" for i, (s, e, t) in enumerate(segments, 1)
            ]
            return Response("\n".join(blocks) + "\n", content_type="text/plain; charset=utf-8")
        blocks = [f"{_timestamp(s, '.')} --> {_timestamp(e, '.')}\n{t}\n" for s, e, t in segments]
        return Response("WEBVTT\n\n" + "\n".join(blocks) + "\n", content_type="text/vtt; charset=utf-8")
    language = body.get("language") or "en"
    if fmt == "verbose_json":
        granularities = body.get("timestamp_granularities") or ["segment"]
        reply: dict[str, Any] = {
            "task": task,
            "language": "english" if task == "translate" else LANGUAGES.get(language, language),
            "duration": round(seconds, 2),
            "text": text,
        }
        if "word" in granularities:
            reply["words"] = _words(text, seconds)
        if "segment" in granularities:
            temperature = float(body.get("temperature") or 0.0)
            reply["segments"] = [
                {
                    "id": i,
                    "seek": 0,
                    "start": s,
                    "end": e,
                    "text": " " + t,
                    "tokens": [50364 + (b % 1000) for b in digest("tokens", t)[: min(len(t.split()), 32)]],
                    "temperature": temperature,
                    "avg_logprob": -0.25,
                    "compression_ratio": 1.2,
                    "no_speech_prob": 0.01,
                }
                for i, (s, e, t) in enumerate(_segments(text, seconds))
            ]
        if task == "transcribe":
            reply["usage"] = _usage(body, model, text, seconds)
        return reply
    if fmt == "diarized_json":
        return {
            "task": "transcribe",
            "duration": round(seconds, 2),
            "text": text,
            "segments": _diarized(body, text, seconds),
            "usage": _usage(body, model, text, seconds),
        }
    reply = {"text": text}
    if task == "transcribe":
        if "logprobs" in (body.get("include") or []):
            reply["logprobs"] = _logprobs(text)
        reply["usage"] = _usage(body, model, text, seconds)
    return reply


def _diarized(body: dict[str, Any], text: str, seconds: float) -> list[dict[str, Any]]:
    """One segment a sentence; speakers alternate between the known names (or A, B)."""
    names = body.get("known_speaker_names") or ["A", "B"]
    return [
        {
            "type": "transcript.text.segment",
            "id": f"seg_{i}",
            "start": s,
            "end": e,
            "text": t,
            "speaker": names[i % len(names)],
        }
        for i, (s, e, t) in enumerate(_segments(text, seconds))
    ]


def _transcript_events(ctx: Ctx, body: dict[str, Any], model: TranscribeModel, text: str, seconds: float) -> Response:
    """``transcript.text.delta`` a word at a time (diarized: ``transcript.text.segment`` after each
    segment's deltas), then ``transcript.text.done`` with usage."""
    want_logprobs = "logprobs" in (body.get("include") or [])
    frames = []
    if model.diarize:
        for segment in _diarized(body, text, seconds):
            for piece in re.findall(r"\S+\s*", segment["text"]):
                frames.append(event({"type": "transcript.text.delta", "delta": piece, "segment_id": segment["id"]}))
            frames.append(event(segment))
    else:
        for entry in _logprobs(text):
            delta: dict[str, Any] = {"type": "transcript.text.delta", "delta": entry["token"]}
            if want_logprobs:
                delta["logprobs"] = [entry]
            frames.append(event(delta))
    usage = _usage(body, model, text, seconds)
    done: dict[str, Any] = {"type": "transcript.text.done", "text": text, "usage": usage}
    if want_logprobs:
        done["logprobs"] = _logprobs(text)
    frames.append(event(done))
    return sse_response(frames)


# -- multipart -------------------------------------------------------------------------------

_FLOAT_FIELDS = frozenset({"temperature"})
_BOOL_FIELDS = frozenset({"stream"})
_LIST_FIELDS = frozenset(
    {"include", "timestamp_granularities", "known_speaker_names", "known_speaker_references", "keywords", "languages"}
)
NOT_MULTIPART = (
    "Invalid Content-Type header ({content_type}), expected multipart/form-data. "
    "(HINT: If you're using curl, you can pass -H 'Content-Type: multipart/form-data')"
)


def _multipart(ctx: Ctx) -> dict[str, Any]:
    """The form as a params body: ``x[]`` parts as lists, ``a[b]`` nested (``chunking_strategy``),
    numbers and booleans read back, the ``file`` part in."""
    request = ctx.request
    if request.mimetype != "multipart/form-data":
        raise errors.bad_request(NOT_MULTIPART.format(content_type=request.mimetype or "none"))
    body: dict[str, Any] = {}
    for key in request.form:
        values = request.form.getlist(key)
        match = re.fullmatch(r"([^\[\]]+)(?:\[([^\[\]]*)\])?", key)
        if match is None:
            raise errors.unknown_parameter(key)
        name, sub = match.group(1), match.group(2)
        if name == "file":
            raise errors.invalid_type("file", "a file", values[-1])
        if sub == "" or (sub is None and name in _LIST_FIELDS and len(values) > 1):
            body[name] = values
        elif sub is not None:
            nested = body.setdefault(name, {})
            if not isinstance(nested, dict):
                raise errors.invalid_type(name, "an object", nested)
            nested[sub] = _typed(sub, values[-1])
        else:
            body[name] = [values[-1]] if name in _LIST_FIELDS else _typed(name, values[-1])
    for key in request.files:
        if key != "file":
            raise errors.unknown_parameter(key)
        body["file"] = request.files["file"]
    return body


def _typed(name: str, value: str) -> Any:
    if name in _BOOL_FIELDS and value in ("true", "false"):
        return value == "true"
    if (name in _FLOAT_FIELDS or name in ("threshold", "prefix_padding_ms", "silence_duration_ms")) and re.fullmatch(
        r"-?[0-9]+(\.[0-9]+)?", value
    ):
        number = float(value)
        return int(number) if name.endswith("_ms") and number.is_integer() else number
    return value
