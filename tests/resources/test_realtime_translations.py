"""Realtime translation sockets through the real SDK: ``client.realtime.translations.connect(model=...)``."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

pytest.importorskip("wsproto", reason="needs the realtime extra: pip install 'pytest-openai-fake[realtime]'")
pytest.importorskip("websockets", reason="needs openai[realtime]")
from websockets.exceptions import ConnectionClosed, InvalidStatus  # noqa: E402
from websockets.sync.client import connect as ws_connect  # noqa: E402

from pytest_openai_fake import FakeOpenAI  # noqa: E402
from pytest_openai_fake.realtime import SAMPLE_RATE, speech_pcm16  # noqa: E402
from pytest_openai_fake.translation import FRAME_BYTES, VOICE, translation_available  # noqa: E402

pytestmark = pytest.mark.skipif(not translation_available(), reason="this openai SDK has no realtime translations")

MODEL = "gpt-realtime-translate"
SILENCE = bytes(SAMPLE_RATE * 2 * 6 // 10)  # 600 ms: ends a phrase


def frames(pcm: bytes) -> list[str]:
    """``pcm`` as base64 200 ms chunks, as the API advises appending."""
    return [base64.b64encode(pcm[at : at + FRAME_BYTES]).decode() for at in range(0, len(pcm), FRAME_BYTES)]


def test_translation_session_speech_in_translation_out(client: Any, openai_server: FakeOpenAI, until: Any) -> None:
    with client.realtime.translations.connect(model=MODEL) as connection:
        created = connection.recv()
        assert (created.type, created.session.type, created.session.model) == ("session.created", "translation", MODEL)
        assert created.session.audio.input.transcription is None
        connection.session.update(session={"audio": {"output": {"language": "fr"}, "input": {"transcription": {"model": "gpt-4o-transcribe"}}}})
        updated = connection.recv()
        assert updated.type == "session.updated"
        assert (updated.session.audio.output.language, updated.session.audio.input.transcription.model) == ("fr", "gpt-4o-transcribe")

        for chunk in frames(speech_pcm16("good evening everyone") + SILENCE):
            connection.session.input_audio_buffer.append(audio=chunk)
        events = []
        while not events or events[-1].type != "session.output_audio.delta" or sum(
            len(base64.b64decode(e.delta)) for e in events if e.type == "session.output_audio.delta"
        ) < len(speech_pcm16("good evening everyone", VOICE)):
            events.append(connection.recv())
        connection.session.close()
        closed = until(connection, "session.closed")
        assert [e.type for e in closed] == ["session.closed"]  # nothing left to flush
        with pytest.raises(ConnectionClosed):
            connection.recv()
    source = "".join(e.delta for e in events if e.type == "session.input_transcript.delta")
    target = "".join(e.delta for e in events if e.type == "session.output_transcript.delta")
    audio = b"".join(base64.b64decode(e.delta) for e in events if e.type == "session.output_audio.delta")
    assert source == target == "good evening everyone"  # the fake's "translation" is the transcript
    assert audio == speech_pcm16("good evening everyone", VOICE)
    assert {e.elapsed_ms % 200 for e in events} == {0} and events[0].elapsed_ms > 1000
    assert {(e.format, e.sample_rate, e.channels) for e in events if e.type == "session.output_audio.delta"} == {("pcm16", SAMPLE_RATE, 1)}
    endpoints = [r.endpoint for r in openai_server.requests]
    assert endpoints[:3] == ["realtime.translations.connect", "realtime.translations.session.update", "realtime.translations.session.input_audio_buffer.append"]
    assert endpoints[-1] == "realtime.translations.session.close"


async def test_async_close_flushes_the_phrase_in_progress(async_client: Any) -> None:
    async with async_client.realtime.translations.connect(model=MODEL) as connection:
        await connection.recv()
        pcm = speech_pcm16("see you tomorrow")
        await connection.session.input_audio_buffer.append(audio=base64.b64encode(pcm[: len(pcm) - 1000]).decode())
        await connection.session.input_audio_buffer.append(audio=base64.b64encode(pcm[len(pcm) - 1000 :]).decode())
        await connection.session.close()
        events = []
        while not events or events[-1].type != "session.closed":
            events.append(await connection.recv())
    types = [e.type for e in events]
    assert "session.input_transcript.delta" not in types  # source transcription is off
    assert "".join(e.delta for e in events if e.type == "session.output_transcript.delta") == "see you tomorrow"


def test_translation_errors(client: Any, openai_server: FakeOpenAI) -> None:
    with client.realtime.translations.connect(model=MODEL) as connection:
        connection.recv()
        connection.send({"type": "response.create"})
        error = connection.recv()
        assert (error.type, error.error.code, error.error.param) == ("error", "invalid_value", "type")
        connection.session.update(session={"model": "other"})  # type: ignore[typeddict-unknown-key]
        error = connection.recv()
        assert (error.error.code, error.error.param) == ("unknown_parameter", "session.model")
        connection.session.input_audio_buffer.append(audio="not base64!", event_id="evt_1")
        error = connection.recv()
        assert (error.error.param, error.error.event_id) == ("audio", "evt_1")
    url = openai_server.base_url.replace("http://", "ws://") + "/realtime/translations"
    with pytest.raises(InvalidStatus) as refused:
        ws_connect(url, additional_headers={"Authorization": "Bearer sk-test"}, open_timeout=5)
    assert refused.value.response.status_code == 400
    assert json.loads(refused.value.response.body)["error"]["param"] == "model"
