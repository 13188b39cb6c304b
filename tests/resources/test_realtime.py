"""Realtime over WebSocket through the real SDK: ``client.realtime.connect(model=...)``."""

from __future__ import annotations

import base64
import contextlib
import inspect
import json
import socket
import struct
import threading
import time
from typing import Any

import pytest

pytest.importorskip("wsproto", reason="needs the realtime extra: pip install 'pytest-openai-fake[realtime]'")
websockets = pytest.importorskip("websockets", reason="needs openai[realtime]")
from websockets.exceptions import ConnectionClosed, InvalidStatus  # noqa: E402
from websockets.sync.client import connect as ws_connect  # noqa: E402

import openai  # noqa: E402

from pytest_openai_fake import FakeOpenAI  # noqa: E402
from pytest_openai_fake.realtime import SAMPLE_RATE, speech_pcm16  # noqa: E402

MODEL = "gpt-realtime"
TEXT_SESSION = {"type": "realtime", "output_modalities": ["text"]}
WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def say(connection: Any, text: str) -> None:
    connection.conversation.item.create(item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]})


def ws_url(fake: FakeOpenAI, query: str = f"model={MODEL}") -> str:
    return fake.base_url.replace("http://", "ws://") + "/realtime?" + query


AUTH = {"Authorization": "Bearer sk-test"}


def test_text_conversation(client: Any, openai_server: FakeOpenAI, until: Any) -> None:
    with client.realtime.connect(model=MODEL) as connection:
        created = connection.recv()
        assert created.type == "session.created"
        assert created.session.model == MODEL and created.session.output_modalities == ["audio"]
        assert created.session.audio.input.turn_detection.type == "server_vad"
        connection.session.update(session={**TEXT_SESSION, "instructions": "Be brief."})
        updated = connection.recv()
        assert updated.type == "session.updated"
        assert updated.session.output_modalities == ["text"] and updated.session.instructions == "Be brief."
        assert updated.session.audio.output.voice == "marin"  # a partial update keeps the rest

        say(connection, "Hello there")
        added, done = connection.recv(), connection.recv()
        assert (added.type, done.type) == ("conversation.item.added", "conversation.item.done")
        connection.response.create()
        events = until(connection, "response.done")
    types = [e.type for e in events]
    assert types[0] == "response.created" and types[-1] == "response.done"
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text and text == next(e.text for e in events if e.type == "response.output_text.done")
    response = events[-1].response
    assert response.status == "completed" and response.output[0].content[0].text == text
    assert response.usage.output_tokens > 0 and response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens
    assert not any(t.startswith("response.output_audio") for t in types)
    endpoints = [r.endpoint for r in openai_server.requests]
    assert endpoints == ["realtime.connect", "realtime.session.update", "realtime.conversation.item.create", "realtime.response.create"]
    assert openai_server.requests[0].query == {"model": MODEL} and openai_server.requests[0].status == 101
    assert openai_server.requests.last.json["type"] == "response.create"


def test_same_conversation_same_answer(client: Any, until: Any) -> None:
    answers = []
    for _ in range(2):
        with client.realtime.connect(model=MODEL) as connection:
            connection.recv()
            connection.session.update(session=TEXT_SESSION)
            say(connection, "What is a fake?")
            connection.response.create()
            answers.append(until(connection, "response.done")[-1].response.output[0].content[0].text)
    assert answers[0] == answers[1]


async def test_async_text_conversation(async_client: Any, until: Any) -> None:
    async with async_client.realtime.connect(model=MODEL) as connection:
        assert (await connection.recv()).type == "session.created"
        await connection.session.update(session=TEXT_SESSION)
        await connection.conversation.item.create(item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"}]})
        await connection.response.create()
        events = await until(connection, "response.done")
    assert events[-1].response.status == "completed"
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == events[-1].response.output[0].content[0].text


def test_audio_turn_round_trip(client: Any, until: Any) -> None:
    """Input audio is committed, transcribed (the fake's own speech back to its text) and answered with audio."""
    spoken = speech_pcm16("what time is it")
    with client.realtime.connect(model=MODEL) as connection:
        connection.recv()
        connection.session.update(
            session={"type": "realtime", "audio": {"input": {"turn_detection": None, "transcription": {"model": "gpt-4o-transcribe"}}}}
        )
        until(connection, "session.updated")
        for at in range(0, len(spoken), 9600):
            connection.input_audio_buffer.append(audio=base64.b64encode(spoken[at : at + 9600]).decode())
        connection.input_audio_buffer.commit()
        committed = until(connection, "conversation.item.input_audio_transcription.completed")
        assert committed[0].type == "input_audio_buffer.committed"
        assert committed[-1].transcript == "what time is it" and committed[-1].item_id == committed[0].item_id
        connection.response.create()
        events = until(connection, "response.done")
    pcm = b"".join(base64.b64decode(e.delta) for e in events if e.type == "response.output_audio.delta")
    transcript = "".join(e.delta for e in events if e.type == "response.output_audio_transcript.delta")
    response = events[-1].response
    # The audio says the transcript, in the response's voice, as the speech endpoint says it.
    spoken_back = client.audio.speech.create(model="gpt-4o-mini-tts", voice=response.audio.output.voice, input=transcript, response_format="pcm")
    assert transcript and pcm == spoken_back.content == speech_pcm16(transcript, response.audio.output.voice)
    assert len(pcm) % 2 == 0 and len(pcm) > SAMPLE_RATE // 10
    assert response.output_modalities == ["audio"] and response.output[0].content[0].transcript == transcript
    assert response.usage.output_token_details.audio_tokens > 0


def test_server_vad_commits_and_answers(client: Any, until: Any) -> None:
    """With turn detection on, speech then silence starts and stops a turn and the server answers."""
    audio = speech_pcm16("hello there") + bytes(2 * SAMPLE_RATE)  # a second of silence after it
    with client.realtime.connect(model=MODEL) as connection:
        connection.recv()
        connection.session.update(session=TEXT_SESSION)
        until(connection, "session.updated")
        connection.input_audio_buffer.append(audio=base64.b64encode(audio).decode())
        events = until(connection, "response.done")
    types = [e.type for e in events]
    assert types[:3] == ["input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped", "input_audio_buffer.committed"]
    assert events[0].item_id == events[1].item_id == events[2].item_id
    assert 0 <= events[0].audio_start_ms < events[1].audio_end_ms
    assert "response.created" in types and events[-1].response.status == "completed"


def test_tool_calling_voice_agent(client: Any, openai_server: FakeOpenAI, until: Any) -> None:
    with client.realtime.connect(model=MODEL) as connection:
        connection.recv()
        connection.session.update(session={**TEXT_SESSION, "tools": [WEATHER_TOOL]})
        say(connection, "What's the weather in Paris? Use get_weather.")
        connection.response.create()
        events = until(connection, "response.done")
        call = events[-1].response.output[0]
        assert call.type == "function_call" and call.name == "get_weather"
        arguments = "".join(e.delta for e in events if e.type == "response.function_call_arguments.delta")
        assert arguments == call.arguments and "city" in json.loads(arguments)
        assert next(e for e in events if e.type == "response.function_call_arguments.done").call_id == call.call_id

        connection.conversation.item.create(item={"type": "function_call_output", "call_id": call.call_id, "output": '{"sky":"clear"}'})
        until(connection, "conversation.item.done")
        connection.response.create()
        final = until(connection, "response.done")[-1].response
    assert final.output[0].type == "message" and final.output[0].content[0].text


def test_cancel_right_after_create(client: Any, until: Any) -> None:
    with client.realtime.connect(model=MODEL) as connection:
        connection.recv()
        connection.session.update(session=TEXT_SESSION)
        say(connection, "Tell me a long story")
        connection.response.create()
        connection.response.cancel()
        events = until(connection, "response.done")
        response = events[-1].response
        assert response.status == "cancelled" and response.status_details.reason == "client_cancelled"
        assert not any(e.type == "response.output_text.done" for e in events)
        # nothing is in progress any more: a second cancel is the API's error
        connection.response.cancel()
        error = until(connection, "error")[-1]
    assert error.error.code == "response_cancel_not_active"


def test_bad_events_get_error_events(client: Any, until: Any) -> None:
    with client.realtime.connect(model=MODEL) as connection:
        connection.recv()
        connection.send({"type": "session.explode", "event_id": "evt_1"})
        error = connection.recv()
        assert error.type == "error" and error.error.param == "type" and error.error.event_id == "evt_1"
        assert error.error.code == "invalid_value"
        connection.send({"type": "session.update", "session": {"type": "realtime", "output_modalities": ["video"]}})
        error = connection.recv().error
        assert error.param == "session.output_modalities[0]" and error.code == "invalid_value"
        connection.send({"type": "conversation.item.create", "item": {"type": "message", "role": "user"}})
        assert connection.recv().error.param == "item.content"
        connection.conversation.item.retrieve(item_id="item_nope")
        assert connection.recv().error.code == "item_not_found"
        connection.input_audio_buffer.commit()
        assert connection.recv().error.code == "input_audio_buffer_commit_empty"
        connection.input_audio_buffer.append(audio="not base64!")
        assert connection.recv().error.param == "audio"
        connection.send({"type": "conversation.item.create", "item": {"type": "function_call_output", "call_id": "call_x", "output": "1"}})
        assert connection.recv().error.param == "item.call_id"
        connection.response.create()
        connection.response.create()
        events = until(connection, "error")
        assert events[-1].error.code == "conversation_already_has_active_response"
        assert until(connection, "response.done")[-1].response.status == "completed"  # the first one goes on
        assert connection.recv().type == "rate_limits.updated"
        # the socket is still usable after every error
        connection.session.update(session=TEXT_SESSION)
        assert connection.recv().type == "session.updated"


def test_items_retrieve_delete_truncate(client: Any, until: Any) -> None:
    with client.realtime.connect(model=MODEL) as connection:
        connection.recv()
        connection.conversation.item.create(item={"id": "item_first", "type": "message", "role": "user", "content": [{"type": "input_text", "text": "one"}]})
        until(connection, "conversation.item.done")
        connection.conversation.item.create(
            previous_item_id="root", item={"id": "item_zero", "type": "message", "role": "system", "content": [{"type": "input_text", "text": "zero"}]}
        )
        added = connection.recv()
        assert added.previous_item_id is None and added.item.id == "item_zero"
        connection.recv()
        connection.conversation.item.retrieve(item_id="item_first")
        retrieved = connection.recv()
        assert retrieved.type == "conversation.item.retrieved" and retrieved.item.content[0].text == "one"
        connection.conversation.item.delete(item_id="item_zero")
        assert connection.recv().item_id == "item_zero"

        connection.response.create()  # audio by default
        events = until(connection, "response.done")
        item = events[-1].response.output[0]
        assert connection.recv().type == "rate_limits.updated"
        connection.conversation.item.truncate(item_id=item.id, content_index=0, audio_end_ms=100)
        truncated = connection.recv()
        assert (truncated.type, truncated.audio_end_ms) == ("conversation.item.truncated", 100)
        connection.conversation.item.truncate(item_id=item.id, content_index=0, audio_end_ms=10**7)
        assert connection.recv().error.param == "audio_end_ms"
        connection.conversation.item.retrieve(item_id=item.id)
        part = connection.recv().item.content[0]
        assert len(base64.b64decode(part.audio)) == 100 * 2 * SAMPLE_RATE // 1000 and part.transcript is None


def test_unknown_model_fails_each_response(client: Any, until: Any) -> None:
    with client.realtime.connect(model="gpt-nope-realtime") as connection:
        assert connection.recv().session.model == "gpt-nope-realtime"
        connection.response.create()
        response = until(connection, "response.done")[-1].response
    assert response.status == "failed" and response.status_details.error.code == "model_not_found"


def test_handshake_refused_like_http(openai_server: FakeOpenAI) -> None:
    with pytest.raises(InvalidStatus) as missing:
        ws_connect(ws_url(openai_server), open_timeout=5)
    assert missing.value.response.status_code == 401
    assert json.loads(missing.value.response.body)["error"]["message"].startswith("You didn't provide an API key")
    with pytest.raises(InvalidStatus) as no_model:
        ws_connect(ws_url(openai_server, "foo=1"), additional_headers=AUTH, open_timeout=5)
    assert no_model.value.response.status_code == 400
    assert [r.endpoint for r in openai_server.requests] == ["realtime.connect", "realtime.connect"]


@pytest.mark.openai_fake(problems="ignore")
def test_unknown_socket_path_is_404(openai_server: FakeOpenAI) -> None:
    with pytest.raises(InvalidStatus) as refused:
        ws_connect(openai_server.base_url.replace("http://", "ws://") + "/nowhere", additional_headers=AUTH, open_timeout=5)
    assert refused.value.response.status_code == 404


def test_ping_fragments_and_garbage(openai_server: FakeOpenAI, client: Any) -> None:
    with ws_connect(ws_url(openai_server), additional_headers=AUTH, open_timeout=5, max_size=None) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "session.created"
        assert ws.ping(b"hi").wait(5)  # pong
        message = json.dumps({"type": "session.update", "session": TEXT_SESSION})
        ws.send(iter([message[:10], message[10:30], message[30:]]))  # one message in three frames
        assert json.loads(ws.recv(timeout=5))["type"] == "session.updated"
        ws.send(b"\x00\x01")
        assert json.loads(ws.recv(timeout=5))["error"]["code"] == "invalid_json"
        ws.send("{not json")
        assert json.loads(ws.recv(timeout=5))["type"] == "error"
    # Garbage frames: a protocol error closes the socket with 1002; the server keeps answering.
    with socket.create_connection(("127.0.0.1", openai_server.port), timeout=5) as raw:
        raw.sendall(
            b"GET /v1/realtime?model=gpt-realtime HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer sk-x\r\n\r\n"
        )
        head = _read_until(raw, b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101") and b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in head
        raw.sendall(b"\xff\xff\xff\xff\xff\xff")  # reserved opcode, unmasked
        tail = _read_to_eof(raw)
        close = tail[tail.rindex(b"\x88") :]
        assert struct.unpack("!H", close[2:4])[0] == 1002
    assert client.models.list().data  # still serving


def test_oversized_message_closes_1009(openai_server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_openai_fake import server

    monkeypatch.setattr(server, "MAX_WEBSOCKET_MESSAGE", 1024)
    with ws_connect(ws_url(openai_server), additional_headers=AUTH, open_timeout=5, max_size=None) as ws:
        ws.recv(timeout=5)
        ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": "A" * 2000}))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


def test_bad_handshake_is_refused(openai_server: FakeOpenAI) -> None:
    with socket.create_connection(("127.0.0.1", openai_server.port), timeout=5) as raw:
        raw.sendall(
            b"GET /v1/realtime?model=gpt-realtime HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer sk-x\r\n\r\n"
        )
        reply = _read_to_eof(raw)
    assert reply.startswith(b"HTTP/1.1 400") and b"Sec-WebSocket-Key" in reply


def test_socket_closes_when_the_test_ends(openai_server: FakeOpenAI) -> None:
    with ws_connect(ws_url(openai_server), additional_headers=AUTH, open_timeout=5) as ws:
        ws.recv(timeout=5)
        openai_server.reset()  # what the fixture does between tests
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
    assert len(openai_server.requests) == 0


def _server_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name.startswith("openai-fake-conn"))


def _settled_threads() -> int:
    """The server's connection threads once earlier tests' sockets (closed by the fixture's reset)
    have finished exiting: the same count three times 50 ms apart (at most 5 s)."""
    seen = [-1, -2, -3]
    deadline = time.monotonic() + 5
    while len(set(seen[-3:])) > 1 and time.monotonic() < deadline:
        seen.append(_server_threads())
        time.sleep(0.05)
    return seen[-1]


def _raw_socket(fake: FakeOpenAI) -> socket.socket:
    """An upgraded socket without a client library (for clients that vanish)."""
    raw = socket.create_connection(("127.0.0.1", fake.port), timeout=10)
    raw.sendall(
        b"GET /v1/realtime?model=gpt-realtime HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer sk-x\r\n\r\n"
    )
    assert _read_until(raw, b"session.created").startswith(b"HTTP/1.1 101")
    return raw


def test_many_sockets_and_vanishing_clients_leave_no_threads(openai_server: FakeOpenAI, client: Any) -> None:
    from wsproto import ConnectionType
    from wsproto.connection import Connection
    from wsproto.events import TextMessage

    client.models.list()  # the client's keep-alive connection (and its server thread) exists before the baseline
    baseline = _settled_threads()
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        polite = [stack.enter_context(ws_connect(ws_url(openai_server), additional_headers=AUTH, open_timeout=10)) for _ in range(100)]
        vanishing = [_raw_socket(openai_server) for _ in range(100)]
        for ws in polite:
            assert json.loads(ws.recv(timeout=10))["type"] == "session.created"
        assert _server_threads() == baseline + 200
        frame = Connection(ConnectionType.CLIENT).send(TextMessage(data='{"type":"response.create"}'))
        for i, raw in enumerate(vanishing):
            raw.sendall(frame)  # ask for a response, then vanish in the middle of it
            if i % 2:
                raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST
            raw.close()
    deadline = time.monotonic() + 10
    while _server_threads() > baseline and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _server_threads() == baseline
    assert client.models.list().data
    assert time.monotonic() - started < 10


def _read_until(sock: socket.socket, end: bytes) -> bytes:
    data = b""
    while end not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def _read_to_eof(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(4096):
        data += chunk
    return data


# -- scripts and faults -------------------------------------------------------------------------


def test_scripted_text_and_tool_call(client: Any, openai_server: FakeOpenAI, until: Any) -> None:
    from pytest_openai_fake import tool_call

    script = openai_server.on("realtime.response.create").once(tool_call("lookup_order", {"order": "A-1"}), "Your order ships today.")
    with client.realtime.connect(model=MODEL) as connection:
        connection.recv()
        connection.session.update(session=TEXT_SESSION)
        connection.response.create()
        call = until(connection, "response.done")[-1].response.output[0]
        assert (call.name, json.loads(call.arguments)) == ("lookup_order", {"order": "A-1"}) and call.call_id
        connection.conversation.item.create(item={"type": "function_call_output", "call_id": call.call_id, "output": "shipped"})
        connection.response.create()
        final = until(connection, "response.done")[-1].response
    assert final.output[0].content[0].text == "Your order ships today."
    assert [c.endpoint for c in script.calls] == ["realtime.response.create"] * 2


def test_scripted_error_event(client: Any, openai_server: FakeOpenAI, until: Any) -> None:
    from pytest_openai_fake import error

    openai_server.on("realtime.response.create").once(error(429))
    with client.realtime.connect(model=MODEL) as connection:
        connection.recv()
        connection.response.create(event_id="evt_rc")
        event = until(connection, "error")[-1]
        assert event.error.code == "rate_limit_exceeded" and event.error.event_id == "evt_rc"
        connection.session.update(session=TEXT_SESSION)
        connection.response.create()  # the next one is the fake's own
        assert until(connection, "response.done")[-1].response.status == "completed"


def test_scripted_error_mid_response(client: Any, openai_server: FakeOpenAI, until: Any) -> None:
    from pytest_openai_fake import stream_error

    openai_server.on("realtime.response.create").once(stream_error(3, "Hello there, how are you today?"))
    with client.realtime.connect(model=MODEL) as connection:
        connection.recv()
        connection.session.update(session=TEXT_SESSION)
        connection.response.create()
        events = until(connection, "response.done")
    types = [e.type for e in events]
    assert "error" in types and events[-1].response.status == "failed"
    assert events[-1].response.status_details.error.type == "server_error"


@pytest.mark.skipif(not hasattr(openai, "WebSocketConnectionClosedError"), reason="this openai SDK has no WebSocketConnectionClosedError")
def test_scripted_drop_closes_mid_response(client: Any, openai_server: FakeOpenAI) -> None:
    from openai import WebSocketConnectionClosedError

    from pytest_openai_fake import drop

    openai_server.on("realtime.response.create").once(drop())
    with client.realtime.connect(model=MODEL) as connection:
        connection.recv()
        connection.session.update(session=TEXT_SESSION)
        connection.response.create()
        seen = []
        with pytest.raises((WebSocketConnectionClosedError, ConnectionClosed)):
            for _ in range(100):
                seen.append(connection.recv().type)
    assert "response.created" in seen and "response.done" not in seen


def test_scripted_delay_paces_the_response(client: Any, openai_server: FakeOpenAI, until: Any) -> None:
    from pytest_openai_fake import delayed

    openai_server.on("realtime.response.create").once(delayed("one two three four", seconds=0.3))
    with client.realtime.connect(model=MODEL) as connection:
        connection.recv()
        connection.session.update(session=TEXT_SESSION)
        until(connection, "session.updated")
        started = time.monotonic()
        connection.response.create()
        assert connection.recv().type == "response.created"
        assert time.monotonic() - started < 0.25
        events = until(connection, "response.done")
        assert time.monotonic() - started >= 0.3
    assert events[-1].response.output[0].content[0].text == "one two three four"


# -- the persistent Responses socket --------------------------------------------------------------


def _until_completed(connection: Any) -> list[Any]:
    events = []
    for event in connection:
        events.append(event)
        if event.type in ("response.completed", "response.failed", "error"):
            return events
    raise AssertionError("the socket closed")


NEEDS_RESPONSES_SOCKET = pytest.mark.skipif(
    not hasattr(openai.resources.beta.Beta, "responses"), reason="this openai SDK has no persistent Responses socket"
)


def _error_field(event: Any, name: str) -> Any:
    """A field of an error event's ``error``: a model under openai 3.x, a dict under 2.x (whose
    types have the socket's earlier error shape, so the SDK keeps the API's object untyped)."""
    error = event.error
    return error[name] if isinstance(error, dict) else getattr(error, name)


def _takes_stream_id(connection: Any) -> bool:
    """Whether the installed SDK's Responses socket has ``stream_id`` lanes (openai 2.x's has not)."""
    return "stream_id" in inspect.signature(connection.response.create).parameters


@NEEDS_RESPONSES_SOCKET
def test_responses_socket_streams_the_sse_events_with_state(client: Any, openai_server: FakeOpenAI) -> None:
    sse = [e.type for e in client.responses.create(model="gpt-4.1", input="Hello", stream=True)]
    with client.beta.responses.connect() as connection:
        lanes = _takes_stream_id(connection)
        connection.response.create(model="gpt-4.1", input="Hello", **({"stream_id": "lane-1"} if lanes else {}))
        events = _until_completed(connection)
        assert [e.type for e in events] == sse
        if lanes:
            assert {e.stream_id for e in events} == {"lane-1"}
        first = events[-1].response
        connection.response.create(model="gpt-4.1", input="And again?", previous_response_id=first.id)
        second = _until_completed(connection)[-1].response
        assert second.previous_response_id == first.id
    assert client.responses.retrieve(second.id).output_text == second.output[0].content[0].text
    endpoints = [r.endpoint for r in openai_server.requests]
    assert endpoints[1:] == [
        "beta.responses.connect",
        "beta.responses.response.create", "responses.create",
        "beta.responses.response.create", "responses.create",
        "responses.retrieve",
    ]


@NEEDS_RESPONSES_SOCKET
async def test_responses_socket_async_and_errors(async_client: Any, openai_server: FakeOpenAI) -> None:
    openai_server.on("responses.create").once("Scripted over the socket")
    async with async_client.beta.responses.connect() as connection:
        await connection.response.create(model="gpt-4.1", input="Hi")
        events = []
        async for event in connection:
            events.append(event)
            if event.type == "response.completed":
                break
        assert events[-1].response.output[0].content[0].text == "Scripted over the socket"
        lanes = _takes_stream_id(connection)
        await connection.response.create(model="gpt-nope", input="Hi", **({"stream_id": "s"} if lanes else {}))
        error = await connection.recv()
        assert (error.type, error.status, _error_field(error, "code")) == ("error", 404, "model_not_found")
        if lanes:
            assert error.stream_id == "s"
        await connection.response.create(model="gpt-4.1", input="Hi", background=True)
        assert _error_field(await connection.recv(), "param") == "background"
        await connection.send({"type": "response.nope"})
        assert _error_field(await connection.recv(), "param") == "type"
