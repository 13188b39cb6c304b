"""Audio (speech, transcriptions, translations) through the real SDK, with strict validation.

Every speech file is read back by ``mutagen`` (a standard tag and stream-info parser): codec,
sample rate and a duration that grows with the text and shrinks with ``speed``.
"""

from __future__ import annotations

import base64
import io
import json
import struct
import wave

import httpx2
import openai
import pytest

from pytest_openai_fake import FakeOpenAI
from pytest_openai_fake.determinism import audio as codec
from tests.sdk_features import sdk_knows_model, sdk_takes

# openai 2.0 names no diarizing model (gpt-4o-transcribe-diarize) and has no known_speaker_names.
NEEDS_DIARIZE = pytest.mark.skipif(
    not (sdk_knows_model("gpt-4o-transcribe-diarize") and sdk_takes(openai.resources.audio.Transcriptions.create, "known_speaker_names")),
    reason="this openai SDK has no diarizing transcription",
)

mutagen = pytest.importorskip("mutagen", reason="the audio tests read files with mutagen (pip install -e '.[test]')")
from mutagen.aac import AAC
from mutagen.flac import FLAC
from mutagen.mp3 import MP3
from mutagen.oggopus import OggOpus
from mutagen.wave import WAVE

# The SDK marks whisper-1 and the tts models deprecated (a shutdown date is announced).
pytestmark = pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")

AUTH = {"Authorization": "Bearer sk-test"}
SHORT = "Hello from the fake."
LONG = "The quick brown fox jumps over the lazy dog, and then it runs into the forest to find a place to rest."
READERS = {"mp3": MP3, "aac": AAC, "flac": FLAC, "wav": WAVE, "opus": OggOpus}
SPEECH_FORMATS = ["mp3", "opus", "aac", "flac", "wav", "pcm"]


def read(fmt: str, data: bytes) -> tuple[float, int | None]:
    """(duration in seconds, sample rate) as mutagen reads them; pcm by its documented layout."""
    if fmt == "pcm":
        return len(data) / 2 / 24_000, 24_000
    info = READERS[fmt](io.BytesIO(data)).info
    if fmt == "opus":  # Opus decodes at 48 kHz; OpusHead keeps the input rate (RFC 7845)
        assert data[28:36] == b"OpusHead" and data[37] == 1  # one channel
        return info.length, struct.unpack("<I", data[40:44])[0]
    return info.length, info.sample_rate


def speak(client: openai.OpenAI, text: str, fmt: str = "mp3", **kw: object) -> bytes:
    return client.audio.speech.create(
        model="gpt-4o-mini-tts", voice="alloy", input=text, response_format=fmt, **kw
    ).content  # type: ignore[arg-type]


# -- speech ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", SPEECH_FORMATS)
def test_speech_is_decodable_audio_whose_length_follows_the_text(client: openai.OpenAI, fmt: str) -> None:
    short, long = speak(client, SHORT, fmt), speak(client, LONG, fmt)
    short_seconds, rate = read(fmt, short)
    long_seconds, _ = read(fmt, long)
    assert rate == 24_000
    # ~15 characters a second (about 150 words a minute); MP3/AAC round up to whole frames.
    assert long_seconds == pytest.approx(len(LONG) / 15, abs=0.1)
    assert short_seconds == pytest.approx(len(SHORT) / 15, abs=0.1)
    assert long_seconds > 4 * short_seconds


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [
        ("mp3", "audio/mpeg"),
        ("opus", "audio/opus"),
        ("aac", "audio/aac"),
        ("flac", "audio/flac"),
        ("wav", "audio/wav"),
        ("pcm", "audio/pcm"),
    ],
)
def test_speech_content_type(client: openai.OpenAI, fmt: str, content_type: str) -> None:
    response = client.audio.speech.with_raw_response.create(
        model="tts-1", voice="nova", input=SHORT, response_format=fmt
    )  # type: ignore[arg-type]
    assert response.headers["content-type"] == content_type


def test_speech_defaults_to_mp3_read_by_mutagen_with_the_text_tagged(client: openai.OpenAI) -> None:
    data = client.audio.speech.create(model="tts-1", voice="alloy", input=LONG).content
    tagged = MP3(io.BytesIO(data))
    assert tagged.info.sample_rate == 24_000 and tagged.info.channels == 1
    assert tagged.tags is not None and tagged.tags["TXXX:PYTEST_OPENAI_FAKE_TEXT"].text == [LONG]


def test_wav_and_flac_carry_the_same_samples_and_pcm_is_raw_wav_data(client: openai.OpenAI) -> None:
    pcm = speak(client, LONG, "pcm")
    with wave.open(io.BytesIO(speak(client, LONG, "wav"))) as reader:
        assert (reader.getnchannels(), reader.getsampwidth(), reader.getframerate()) == (1, 2, 24_000)
        assert reader.readframes(reader.getnframes()) == pcm
    flac = FLAC(io.BytesIO(speak(client, LONG, "flac")))
    assert flac.info.bits_per_sample == 16 and flac.info.channels == 1
    import hashlib

    assert flac.info.md5_signature == int.from_bytes(hashlib.md5(pcm).digest(), "big")
    samples = struct.unpack(f"<{len(pcm) // 2}h", pcm)
    assert max(samples) > 1000, "a tone, not silence"


@pytest.mark.parametrize("fmt", ["mp3", "opus", "wav"])
def test_speed_scales_the_duration(client: openai.OpenAI, fmt: str) -> None:
    normal, _ = read(fmt, speak(client, LONG, fmt))
    fast, _ = read(fmt, speak(client, LONG, fmt, speed=2.0))
    slow, _ = read(fmt, speak(client, LONG, fmt, speed=0.5))
    assert fast == pytest.approx(normal / 2, abs=0.1)
    assert slow == pytest.approx(normal * 2, abs=0.1)


def test_speech_is_deterministic_and_voice_changes_the_tone(client: openai.OpenAI) -> None:
    assert speak(client, LONG, "wav") == speak(client, LONG, "wav")
    other = client.audio.speech.create(model="gpt-4o-mini-tts", voice="onyx", input=LONG, response_format="wav").content
    assert other != speak(client, LONG, "wav")


async def test_speech_async_streams_bytes(async_client: openai.AsyncOpenAI) -> None:
    async with async_client.audio.speech.with_streaming_response.create(
        model="gpt-4o-mini-tts", voice="coral", input=LONG, response_format="opus"
    ) as response:
        data = b"".join([chunk async for chunk in response.iter_bytes()])
    assert OggOpus(io.BytesIO(data)).info.length == pytest.approx(len(LONG) / 15, abs=0.05)


def test_speech_sse_events_with_usage(client: openai.OpenAI, openai_server: FakeOpenAI) -> None:
    with client.audio.speech.with_streaming_response.create(
        model="gpt-4o-mini-tts", voice="alloy", input=LONG, response_format="wav", stream_format="sse"
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [json.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: ")]
    assert [e["type"] for e in events[:-1]] == ["speech.audio.delta"] * (len(events) - 1)
    audio = b"".join(base64.b64decode(e["audio"]) for e in events[:-1])
    assert codec.embedded_text(audio) == LONG
    done = events[-1]
    assert done["type"] == "speech.audio.done"
    assert done["usage"]["total_tokens"] == done["usage"]["input_tokens"] + done["usage"]["output_tokens"] > 0


def test_speech_sse_is_refused_on_tts_1(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.speech.create(model="tts-1", voice="alloy", input=SHORT, stream_format="sse")
    assert caught.value.body["param"] == "stream_format"  # type: ignore[index]


def test_instructions_are_accepted_and_ignored_by_tts_1(client: openai.OpenAI) -> None:
    assert client.audio.speech.create(
        model="gpt-4o-mini-tts", voice="alloy", input=SHORT, instructions="Cheerful."
    ).content
    plain = client.audio.speech.create(model="tts-1", voice="alloy", input=SHORT).content
    assert (
        client.audio.speech.create(model="tts-1", voice="alloy", input=SHORT, instructions="Cheerful.").content == plain
    )


@pytest.mark.parametrize(
    ("kwargs", "param", "code"),
    [
        ({"input": "x" * 4097}, "input", "string_above_max_length"),
        ({"speed": 4.5}, "speed", "decimal_above_max_value"),
        ({"speed": 0.2}, "speed", "decimal_below_min_value"),
        ({"voice": "robot"}, "voice", "invalid_value"),
        ({"model": "gpt-4o-mini"}, "model", "invalid_value"),
        ({"response_format": "ogg"}, "response_format", None),
    ],
)
def test_speech_400s(client: openai.OpenAI, kwargs: dict[str, object], param: str, code: str | None) -> None:
    args: dict[str, object] = {"model": "tts-1", "voice": "alloy", "input": SHORT, **kwargs}
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.speech.create(**args)  # type: ignore[arg-type]
    assert caught.value.body["param"] == param  # type: ignore[index]
    if code is not None:
        assert caught.value.body["code"] == code  # type: ignore[index]


def test_input_of_exactly_4096_characters_is_accepted(client: openai.OpenAI) -> None:
    assert speak(client, "a" * 4096, "aac")


@pytest.mark.skipif(not hasattr(openai.resources.audio.Audio, "voice_consents"), reason="this openai SDK has no audio.voice_consents")
def test_custom_voice_by_id_must_be_stored(client: openai.OpenAI) -> None:
    consent = client.audio.voice_consents.create(
        name="Ada", language="en-US", recording=("consent.wav", speak(client, SHORT, "wav"))
    )
    voice = client.audio.voices.create(
        name="Ada", consent=consent.id, audio_sample=("sample.wav", speak(client, LONG, "wav"))
    )
    data = client.audio.speech.create(
        model="gpt-4o-mini-tts", voice={"id": voice.id}, input=SHORT, response_format="wav"
    ).content
    assert codec.embedded_text(data) == SHORT
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.speech.create(model="gpt-4o-mini-tts", voice={"id": "voice_missing"}, input=SHORT)
    assert caught.value.body["param"] == "voice"  # type: ignore[index]


# -- the round trip --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["mp3", "opus", "flac", "wav"])
def test_speech_transcribes_back_to_its_text(client: openai.OpenAI, fmt: str) -> None:
    data = speak(client, LONG, fmt)
    transcript = client.audio.transcriptions.create(model="gpt-4o-transcribe", file=(f"speech.{fmt}", data))
    assert transcript.text == LONG
    translation = client.audio.translations.create(model="whisper-1", file=(f"speech.{fmt}", data))
    assert translation.text == LONG


async def test_round_trip_async_with_unicode(async_client: openai.AsyncOpenAI) -> None:
    text = "Grüße aus Köln — ça va? 你好"
    speech = await async_client.audio.speech.create(model="tts-1-hd", voice="fable", input=text, response_format="flac")
    transcript = await async_client.audio.transcriptions.create(model="whisper-1", file=("a.flac", speech.content))
    assert transcript.text == text


def wav_of_silence(seconds: float, rate: int = 16_000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(bytes(2 * int(seconds * rate)))
    return out.getvalue()


def test_other_audio_gives_deterministic_text_proportional_to_its_duration(client: openai.OpenAI) -> None:
    short = client.audio.transcriptions.create(model="whisper-1", file=("a.wav", wav_of_silence(2)))
    again = client.audio.transcriptions.create(model="whisper-1", file=("a.wav", wav_of_silence(2)))
    long = client.audio.transcriptions.create(model="whisper-1", file=("a.wav", wav_of_silence(20)))
    assert short.text == again.text
    assert len(short.text.split()) == 5  # 2.5 words a second
    assert len(long.text.split()) == 50


# -- transcriptions --------------------------------------------------------------------------


def test_verbose_json_segments_and_words_lie_within_the_audio(client: openai.OpenAI) -> None:
    text = "First sentence here. Second one follows! And a third?"
    data = client.audio.speech.create(model="tts-1", voice="alloy", input=text, response_format="wav").content
    result = client.audio.transcriptions.create(
        model="whisper-1",
        file=("a.wav", data),
        response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
    )
    assert result.text == text and result.language == "english"
    assert result.duration == pytest.approx(len(text) / 15, abs=0.01)
    assert result.segments is not None and [s.text.strip() for s in result.segments] == [
        "First sentence here.",
        "Second one follows!",
        "And a third?",
    ]
    assert result.words is not None and [w.word for w in result.words][:3] == ["First", "sentence", "here"]
    for item in [*result.segments, *result.words]:
        assert 0 <= item.start <= item.end <= result.duration
    assert result.usage is not None and result.usage.type == "duration" and result.usage.seconds == 4


def test_verbose_json_words_only_has_no_segments(client: openai.OpenAI) -> None:
    result = client.audio.transcriptions.create(
        model="whisper-1",
        file=("a.wav", speak(client, SHORT, "wav")),
        response_format="verbose_json",
        timestamp_granularities=["word"],
    )
    assert result.segments is None and result.words is not None


def test_text_srt_and_vtt(client: openai.OpenAI) -> None:
    data = speak(client, "One. Two.", "mp3")
    assert (
        client.audio.transcriptions.create(model="whisper-1", file=("a.mp3", data), response_format="text")
        == "One. Two.\n"
    )
    srt = client.audio.transcriptions.create(model="whisper-1", file=("a.mp3", data), response_format="srt")
    assert srt.startswith("1\n00:00:00,000 --> 00:00:00,") and "\n2\n" in srt and "Two." in srt
    vtt = client.audio.transcriptions.create(model="whisper-1", file=("a.mp3", data), response_format="vtt")
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> ")


def test_gpt_transcribe_reports_token_usage_and_logprobs(client: openai.OpenAI) -> None:
    result = client.audio.transcriptions.create(
        model="gpt-4o-mini-transcribe", file=("a.ogg", speak(client, LONG, "opus")), include=["logprobs"]
    )
    assert result.usage is not None and result.usage.type == "tokens"
    assert result.usage.total_tokens == result.usage.input_tokens + result.usage.output_tokens
    assert result.logprobs is not None and "".join(p.token or "" for p in result.logprobs) == LONG


def test_verbose_json_on_gpt_4o_transcribe_is_the_apis_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.transcriptions.create(
            model="gpt-4o-transcribe", file=("a.wav", speak(client, SHORT, "wav")), response_format="verbose_json"
        )
    assert caught.value.body == {  # type: ignore[comparison-overlap]
        "message": "response_format 'verbose_json' is not compatible with model 'gpt-4o-transcribe'. Use 'json' or 'text' instead.",
        "type": "invalid_request_error",
        "param": "response_format",
        "code": "unsupported_value",
    }


@NEEDS_DIARIZE
def test_diarized_json_with_known_speakers(client: openai.OpenAI) -> None:
    ref = "data:audio/wav;base64," + base64.b64encode(wav_of_silence(2)).decode()
    result = client.audio.transcriptions.create(
        model="gpt-4o-transcribe-diarize",
        file=("a.wav", speak(client, "Hi there. Hello back. Bye now.", "wav")),
        response_format="diarized_json",
        chunking_strategy="auto",
        known_speaker_names=["agent", "customer"],
        known_speaker_references=[ref, ref],
    )
    assert [(s.speaker, s.text) for s in result.segments] == [
        ("agent", "Hi there."),
        ("customer", "Hello back."),
        ("agent", "Bye now."),
    ]
    assert result.text == "Hi there. Hello back. Bye now."


def test_streaming_transcription_events(client: openai.OpenAI) -> None:
    stream = client.audio.transcriptions.create(
        model="gpt-4o-transcribe", file=("a.wav", speak(client, LONG, "wav")), stream=True
    )
    events = list(stream)
    assert {e.type for e in events[:-1]} == {"transcript.text.delta"}
    assert "".join(e.delta for e in events[:-1]) == LONG  # type: ignore[union-attr]
    done = events[-1]
    assert done.type == "transcript.text.done" and done.text == LONG and done.usage is not None


@NEEDS_DIARIZE
async def test_streaming_diarized_transcription_has_segment_events(async_client: openai.AsyncOpenAI) -> None:
    data = codec.speech("Hi there. Bye now.", response_format="wav")
    stream = await async_client.audio.transcriptions.create(
        model="gpt-4o-transcribe-diarize", file=("a.wav", data), response_format="diarized_json", stream=True
    )
    events = [e async for e in stream]
    segments = [e for e in events if e.type == "transcript.text.segment"]
    assert [(s.speaker, s.text) for s in segments] == [("A", "Hi there."), ("B", "Bye now.")]  # type: ignore[union-attr]
    assert events[-1].type == "transcript.text.done"


def test_whisper_ignores_stream(client: openai.OpenAI, openai_server: FakeOpenAI) -> None:
    data = speak(client, SHORT, "wav")
    response = httpx2.post(
        f"{openai_server.url}/v1/audio/transcriptions",
        headers=AUTH,
        data={"model": "whisper-1", "stream": "true"},
        files={"file": ("a.wav", data)},
    )
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    assert response.json()["text"] == SHORT


def test_scripted_transcript_in_every_format(client: openai.OpenAI, openai_server: FakeOpenAI) -> None:
    openai_server.on("audio.transcriptions.create").respond("Book a table for two. At eight.")
    data = wav_of_silence(3)
    assert (
        client.audio.transcriptions.create(model="whisper-1", file=("a.wav", data)).text
        == "Book a table for two. At eight."
    )
    verbose = client.audio.transcriptions.create(
        model="whisper-1", file=("a.wav", data), response_format="verbose_json"
    )
    assert verbose.segments is not None and [s.text.strip() for s in verbose.segments] == [
        "Book a table for two.",
        "At eight.",
    ]
    assert verbose.segments[-1].end == pytest.approx(3.0)
    assert (
        client.audio.transcriptions.create(model="whisper-1", file=("a.wav", data), response_format="text")
        == "Book a table for two. At eight.\n"
    )


def test_speech_can_be_scripted_to_fail(client: openai.OpenAI, openai_server: FakeOpenAI) -> None:
    openai_server.on("audio.speech.create").fail(503)
    with pytest.raises(openai.InternalServerError):
        speak(client, SHORT)


@pytest.mark.parametrize(
    ("file", "message"),
    [
        (
            ("notes.txt", b"just some text, not audio"),
            "Invalid file format. Supported formats: ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']",
        ),
        (("raw.pcm", codec.speech(SHORT, response_format="pcm")), "Invalid file format."),
        (("a.aac", codec.speech(SHORT, response_format="aac")), "Invalid file format."),
    ],
)
def test_unsupported_upload_is_the_apis_400(client: openai.OpenAI, file: tuple[str, bytes], message: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.transcriptions.create(model="whisper-1", file=file)
    assert caught.value.body["message"].startswith(message)  # type: ignore[index]


def test_upload_over_25_mb_is_refused(client: openai.OpenAI) -> None:
    data = codec.speech(SHORT, response_format="wav") + bytes(25 * 1024 * 1024)
    with pytest.raises(openai.APIStatusError) as caught:
        client.audio.transcriptions.create(model="whisper-1", file=("big.wav", data))
    assert caught.value.status_code == 413
    assert caught.value.body == {  # type: ignore[comparison-overlap]
        "message": f"Maximum content size limit (26214400) exceeded ({25 * 1024 * 1024 + 1} bytes read)",
        "type": "server_error",
        "param": None,
        "code": None,
    }


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"model": "gpt-4o-transcribe", "timestamp_granularities": ["word"]}, "timestamp_granularities"),
        ({"model": "whisper-1", "include": ["logprobs"]}, "include"),
        pytest.param({"model": "gpt-4o-transcribe-diarize", "prompt": "Names: Ada."}, "prompt", marks=NEEDS_DIARIZE),
        ({"model": "gpt-4o-transcribe", "response_format": "diarized_json"}, "response_format"),
        ({"model": "gpt-4o-mini", "response_format": "json"}, "model"),
        ({"model": "whisper-1", "temperature": 1.5}, "temperature"),
    ],
)
def test_transcription_400s(client: openai.OpenAI, kwargs: dict[str, object], param: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.transcriptions.create(file=("a.wav", wav_of_silence(1)), **kwargs)  # type: ignore[call-overload]
    assert caught.value.body["param"] == param  # type: ignore[index]


def test_translation_formats_and_model(client: openai.OpenAI) -> None:
    data = speak(client, "Bonjour. Merci.", "mp3")
    verbose = client.audio.translations.create(model="whisper-1", file=("a.mp3", data), response_format="verbose_json")
    assert verbose.language == "english" and verbose.segments is not None and len(verbose.segments) == 2
    assert client.audio.translations.create(model="whisper-1", file=("a.mp3", data), response_format="vtt").startswith(
        "WEBVTT"
    )
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.translations.create(model="gpt-4o-transcribe", file=("a.mp3", data))
    assert caught.value.body["param"] == "model"  # type: ignore[index]


def test_not_multipart_is_a_400(openai_server: FakeOpenAI) -> None:
    response = httpx2.post(f"{openai_server.url}/v1/audio/transcriptions", headers=AUTH, json={"model": "whisper-1"})
    assert response.status_code == 400
    assert "expected multipart/form-data" in response.json()["error"]["message"]


def test_missing_file_is_a_400(openai_server: FakeOpenAI) -> None:
    response = httpx2.post(
        f"{openai_server.url}/v1/audio/transcriptions",
        headers=AUTH,
        data={"model": "whisper-1"},
        files={"x": ("a", b"1")},
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] in ("x", "file")


def test_language_chunking_strategy_and_temperature_are_read(client: openai.OpenAI) -> None:
    data = speak(client, "Bonjour tout le monde.", "flac")
    result = client.audio.transcriptions.create(
        model="whisper-1",
        file=("a.flac", data),
        response_format="verbose_json",
        language="fr",
        prompt="Salutations.",
        temperature=0.4,
        chunking_strategy={"type": "server_vad", "threshold": 0.5, "silence_duration_ms": 500},
    )
    assert result.language == "french" and result.text == "Bonjour tout le monde."
    assert result.segments is not None and result.segments[0].temperature == 0.4


@NEEDS_DIARIZE
def test_diarize_needs_a_chunking_strategy_over_30_seconds(client: openai.OpenAI) -> None:
    long = wav_of_silence(31)
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.transcriptions.create(model="gpt-4o-transcribe-diarize", file=("a.wav", long))
    assert caught.value.body["param"] == "chunking_strategy"  # type: ignore[index]
    chunked = client.audio.transcriptions.create(model="gpt-4o-transcribe-diarize", file=("a.wav", long), chunking_strategy="auto")
    assert len(chunked.text.split()) == round(31 * 2.5)
