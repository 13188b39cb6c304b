"""Realtime transcription sessions through the real SDK: ``client.realtime.connect(extra_query={"intent": "transcription"})``."""

from __future__ import annotations

import base64
from typing import Any

import pytest

pytest.importorskip("wsproto", reason="needs the realtime extra: pip install 'pytest-openai-fake[realtime]'")
pytest.importorskip("websockets", reason="needs openai[realtime]")
from websockets.exceptions import InvalidStatus  # noqa: E402
from websockets.sync.client import connect as ws_connect  # noqa: E402

import inspect  # noqa: E402

from openai.resources.realtime.realtime import Realtime  # noqa: E402

from pytest_openai_fake import FakeOpenAI  # noqa: E402

#: A transcription session is opened without a model: openai 2.0's connect() requires one.
NEEDS_MODELLESS_CONNECT = pytest.mark.skipif(
    inspect.signature(Realtime.connect).parameters["model"].default is inspect.Parameter.empty,
    reason="this openai SDK's realtime.connect() requires a model",
)
from pytest_openai_fake.realtime import SAMPLE_RATE, speech_pcm16  # noqa: E402

TRANSCRIPTION = {"intent": "transcription"}
MANUAL = {"type": "transcription", "audio": {"input": {"transcription": {"model": "gpt-4o-transcribe", "language": "en"}, "turn_detection": None}}}


def append(connection: Any, pcm: bytes) -> None:
    for at in range(0, len(pcm), 9600):
        connection.input_audio_buffer.append(audio=base64.b64encode(pcm[at : at + 9600]).decode())


@NEEDS_MODELLESS_CONNECT
def test_transcription_session_round_trip(client: Any, openai_server: FakeOpenAI, until: Any) -> None:
    """The fake's own speech, committed by hand, transcribes back to its text; no responses."""
    with client.realtime.connect(extra_query=TRANSCRIPTION) as connection:
        created = connection.recv()
        assert (created.type, created.session.type) == ("session.created", "transcription")
        assert created.session.audio.input.transcription is None  # off until session.update names a model
        assert created.session.audio.input.turn_detection.type == "server_vad"
        assert created.session.audio.input.format.rate == SAMPLE_RATE

        connection.session.update(session=MANUAL)
        updated = until(connection, "session.updated")[-1].session
        assert updated.type == "transcription" and updated.audio.input.transcription.model == "gpt-4o-transcribe"
        assert updated.audio.input.turn_detection is None and updated.audio.input.format.rate == SAMPLE_RATE  # merged

        append(connection, speech_pcm16("please book a table for two"))
        connection.input_audio_buffer.commit()
        events = until(connection, "conversation.item.input_audio_transcription.completed")
        assert events[0].type == "input_audio_buffer.committed"
        deltas = [e for e in events if e.type == "conversation.item.input_audio_transcription.delta"]
        assert len(deltas) == 6 and "".join(d.delta for d in deltas) == "please book a table for two"
        assert events[-1].transcript == "please book a table for two" and events[-1].item_id == events[0].item_id
        assert events[-1].usage.type == "duration" and events[-1].usage.seconds > 0
        assert deltas[0].logprobs is None

        connection.response.create()
        error = connection.recv()
        assert (error.type, error.error.code, error.error.param) == ("error", "invalid_value", "type")
        connection.session.update(session={"type": "realtime", "output_modalities": ["text"]})
        error = connection.recv()
        assert (error.type, error.error.param) == ("error", "session.type")
        connection.input_audio_buffer.commit()  # an empty buffer
        assert connection.recv().error.code == "input_audio_buffer_commit_empty"
    endpoints = [r.endpoint for r in openai_server.requests]
    assert endpoints[:3] == ["realtime.connect", "realtime.session.update", "realtime.input_audio_buffer.append"]
    assert "realtime.response.create" in endpoints


@NEEDS_MODELLESS_CONNECT
def test_transcription_session_server_vad_commits_without_responding(client: Any, until: Any) -> None:
    audio = speech_pcm16("hello there") + bytes(2 * SAMPLE_RATE)  # a second of silence after it
    with client.realtime.connect(extra_query=TRANSCRIPTION) as connection:
        connection.recv()
        connection.session.update(session={"type": "transcription", "audio": {"input": {"transcription": {"model": "gpt-4o-mini-transcribe"}}}})
        until(connection, "session.updated")
        append(connection, audio)
        events = until(connection, "conversation.item.input_audio_transcription.completed")
        types = [e.type for e in events]
        assert types[:3] == ["input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped", "input_audio_buffer.committed"]
        assert events[-1].transcript == "hello there"
        connection.input_audio_buffer.clear()
        # Nothing else came meanwhile: no response.created for a transcription session.
        assert connection.recv().type == "input_audio_buffer.cleared"


@NEEDS_MODELLESS_CONNECT
async def test_async_transcription_with_logprobs(async_client: Any, until: Any) -> None:
    async with async_client.realtime.connect(extra_query=TRANSCRIPTION) as connection:
        await connection.recv()
        await connection.session.update(session={**MANUAL, "include": ["item.input_audio_transcription.logprobs"]})
        await until(connection, "session.updated")
        pcm = speech_pcm16("good morning")
        await connection.input_audio_buffer.append(audio=base64.b64encode(pcm).decode())
        await connection.input_audio_buffer.commit()
        events = await until(connection, "conversation.item.input_audio_transcription.completed")
    completed = events[-1]
    assert completed.transcript == "good morning"
    assert [p.token for p in completed.logprobs] == ["good", " morning"]
    assert all(p.logprob == 0.0 and bytes(p.bytes) == p.token.encode() for p in completed.logprobs)


def test_bad_intent_is_refused(openai_server: FakeOpenAI) -> None:
    url = openai_server.base_url.replace("http://", "ws://") + "/realtime?intent=translation"
    with pytest.raises(InvalidStatus) as refused:
        ws_connect(url, additional_headers={"Authorization": "Bearer sk-test"}, open_timeout=5)
    assert refused.value.response.status_code == 400
    assert b'"param": "intent"' in refused.value.response.body or b'"param":"intent"' in refused.value.response.body
