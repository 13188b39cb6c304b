"""A voice agent on the Realtime API (``client.realtime.connect``), tested against the fake's WebSocket.

Needs ``pip install 'pytest-openai-fake[realtime]' 'openai[realtime]'``.
"""

import base64
import json

import pytest

pytest.importorskip("wsproto", reason="needs pytest-openai-fake[realtime]")
pytest.importorskip("websockets", reason="needs openai[realtime]")

from pytest_openai_fake import tool_call  # noqa: E402
from pytest_openai_fake.realtime import speech_pcm16  # noqa: E402

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def get_weather(city: str) -> str:
    return f"Sunny, 21 °C in {city}"


def voice_turn(client, audio: bytes) -> dict:
    """Code under test: sends one spoken turn, runs the tools the model calls, returns what it said."""
    heard = said = ""
    audio_out = b""
    with client.realtime.connect(model="gpt-realtime") as connection:
        connection.session.update(
            session={
                "type": "realtime",
                "tools": [WEATHER],
                "audio": {"input": {"transcription": {"model": "gpt-4o-transcribe"}, "turn_detection": None}},
            }
        )
        connection.input_audio_buffer.append(audio=base64.b64encode(audio).decode())
        connection.input_audio_buffer.commit()
        connection.response.create()
        for event in connection:
            if event.type == "conversation.item.input_audio_transcription.completed":
                heard = event.transcript
            elif event.type == "response.output_audio.delta":
                audio_out += base64.b64decode(event.delta)
            elif event.type == "response.output_audio_transcript.done":
                said = event.transcript
            elif event.type == "response.done":
                calls = [item for item in event.response.output if item.type == "function_call"]
                if not calls:
                    break
                for call in calls:
                    result = get_weather(**json.loads(call.arguments))
                    connection.conversation.item.create(
                        item={"type": "function_call_output", "call_id": call.call_id, "output": result}
                    )
                connection.response.create()
    return {"heard": heard, "said": said, "audio": audio_out}


def test_voice_agent_calls_the_tool_and_answers(openai_server, openai_client):
    openai_server.on("realtime.response.create").once(
        tool_call("get_weather", {"city": "Paris"}),
        "It is sunny in Paris.",
    )
    result = voice_turn(openai_client, speech_pcm16("what is the weather in paris"))
    assert result["heard"] == "what is the weather in paris"  # the fake's own speech transcribes back
    assert result["said"] == "It is sunny in Paris."
    assert result["audio"] == speech_pcm16("It is sunny in Paris.", "marin")  # 24 kHz PCM16 of what it said, in the session's voice
    sent = [r.endpoint for r in openai_server.requests]
    assert sent.count("realtime.response.create") == 2
    tool_output = [r.json for r in openai_server.requests if r.endpoint == "realtime.conversation.item.create"]
    assert tool_output[0]["item"]["output"] == "Sunny, 21 °C in Paris"


def test_voice_agent_without_a_script(openai_server, openai_client):
    """No script: the fake calls the tool the user names, then answers with deterministic speech."""
    result = voice_turn(openai_client, speech_pcm16("use get weather for paris"))
    assert result["said"] and result["audio"] == speech_pcm16(result["said"], "marin")
