"""Stored chat completions: ``store=True`` keeps a completion to list, tag, read back and delete."""

from pytest_openai_fake.resources.chat_store import seed


def answer_and_log(client, question: str, ticket: str) -> str:
    """Code under test: answers a support question and stores the exchange, tagged by ticket."""
    reply = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": question}], store=True, metadata={"ticket": ticket}
    )
    return reply.choices[0].message.content


def test_answers_are_stored_with_their_ticket(openai_client):
    answer = answer_and_log(openai_client, "How do I reset my password?", ticket="T-1")
    answer_and_log(openai_client, "Where is my invoice?", ticket="T-2")

    [stored] = openai_client.chat.completions.list(metadata={"ticket": "T-1"})
    assert stored.choices[0].message.content == answer
    [message] = openai_client.chat.completions.messages.list(stored.id)
    assert message.content == "How do I reset my password?"

    openai_client.chat.completions.update(stored.id, metadata={"ticket": "T-1", "reviewed": "yes"})
    assert [c.id for c in openai_client.chat.completions.list(metadata={"reviewed": "yes"})] == [stored.id]
    openai_client.chat.completions.delete(stored.id)
    assert [c.metadata for c in openai_client.chat.completions.list()] == [{"ticket": "T-2"}]


def test_seed_a_stored_completion_without_calling_the_api(openai_server, openai_client):
    stored = seed(openai_server, messages=[{"role": "user", "content": "Hi"}], reply="Hello!", metadata={"ticket": "T-9"})
    assert openai_client.chat.completions.retrieve(stored.id).choices[0].message.content == "Hello!"
