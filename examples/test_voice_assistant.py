"""Audio: a voice assistant's loop (hear -> think -> speak), tested end to end without a network.

The fake's speech is real audio (here WAV, read with the stdlib ``wave`` module) whose text rides
in its metadata, so transcribing it gives back exactly that text: a test can feed the app the
fake's own speech as the "user" and predict every step. A scripted transcript stands in for
what a user would say into a microphone.
"""

import io
import wave

import openai
import pytest

# The SDK marks whisper-1 and the tts models deprecated (a shutdown date is announced).
pytestmark = pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")


def answer_voice_message(client: openai.OpenAI, recording: bytes) -> tuple[str, str, bytes]:
    """The code under test: transcribe a recording, answer it, speak the answer as WAV."""
    heard = client.audio.transcriptions.create(model="gpt-4o-mini-transcribe", file=("message.wav", recording)).text
    reply = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "system", "content": "You are a helpful concierge."}, {"role": "user", "content": heard}],
    )
    answer = reply.choices[0].message.content or ""
    speech = client.audio.speech.create(model="gpt-4o-mini-tts", voice="coral", input=answer, response_format="wav")
    return heard, answer, speech.content


def wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as reader:
        return reader.getnframes() / reader.getframerate()


def test_the_assistant_hears_and_answers(openai_client, openai_server):
    # The "user" speaks through the fake's own text-to-speech: its transcript is predictable.
    question = openai_client.audio.speech.create(
        model="tts-1", voice="alloy", input="Can you book a table for two at eight?", response_format="wav"
    ).content
    openai_server.on("chat.completions.create").respond("Done: a table for two at eight tonight.")

    heard, answer, spoken = answer_voice_message(openai_client, question)

    assert heard == "Can you book a table for two at eight?"
    assert answer == "Done: a table for two at eight tonight."
    # The answer is real audio, about 15 characters a second.
    assert 2.0 < wav_seconds(spoken) < 3.5
    # And it transcribes back to the answer: the round trip.
    again = openai_client.audio.transcriptions.create(model="whisper-1", file=("answer.wav", spoken))
    assert again.text == answer


def test_a_scripted_transcript_stands_in_for_a_microphone(openai_client, openai_server):
    openai_server.on("audio.transcriptions.create").respond("What time do you open?")
    recording = openai_client.audio.speech.create(
        model="tts-1", voice="alloy", input="(noise)", response_format="wav"
    ).content

    heard, _, _ = answer_voice_message(openai_client, recording)

    assert heard == "What time do you open?"
    assert openai_server.requests.filter(endpoint="audio.speech.create")[-1].json["voice"] == "coral"
