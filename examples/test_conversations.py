"""Conversations: a transcript store your code keeps on the server.

The fake keeps conversations per test (each test starts with none), stores items the way the
real API does, and pages through them with cursors. Seed one from plain data when the code
under test only reads.
"""

import openai
import pytest

from pytest_openai_fake.resources.conversations import seed_conversation


def save_transcript(client: openai.OpenAI, turns: list[tuple[str, str]]) -> str:
    """The code under test: store a chat transcript, return the conversation id."""
    conversation = client.conversations.create(metadata={"source": "support-chat"})
    for start in range(0, len(turns), 20):  # at most 20 items per request
        batch = [{"role": role, "content": text} for role, text in turns[start : start + 20]]
        client.conversations.items.create(conversation.id, items=batch)
    return conversation.id


def transcript(client: openai.OpenAI, conversation_id: str) -> list[str]:
    """Every message's text, oldest first (the list pages transparently)."""
    lines = []
    for item in client.conversations.items.list(conversation_id, order="asc", limit=50):
        if item.type == "message":
            lines.append(f"{item.role}: {item.content[0].text}")
    return lines


def test_save_and_read_back_a_long_transcript(openai_client, openai_server):
    turns = [("user" if i % 2 == 0 else "assistant", f"turn {i}") for i in range(45)]

    conversation_id = save_transcript(openai_client, turns)

    assert transcript(openai_client, conversation_id) == [f"{role}: {text}" for role, text in turns]
    assert len(openai_server.requests.filter(endpoint="conversations.items.create")) == 3
    # Stored as the API stores it: a user's string became an input_text part.
    first = openai_client.conversations.items.list(conversation_id, order="asc", limit=1).data[0]
    assert first.content[0].type == "input_text"


def test_reading_a_seeded_conversation(openai_client, openai_server):
    seeded = seed_conversation(
        openai_server,
        items=[{"role": "user", "content": "Where is my order?"}, {"role": "assistant", "content": "On its way."}],
    )

    assert transcript(openai_client, seeded.id) == ["user: Where is my order?", "assistant: On its way."]


def test_unknown_conversation_is_the_real_404(openai_client):
    with pytest.raises(openai.NotFoundError) as caught:
        transcript(openai_client, "conv_does_not_exist")
    assert caught.value.body["message"] == "Conversation with id 'conv_does_not_exist' not found."
