"""Record once against the real API, replay in the fake (docs/record-replay.md).

These tests answer from the cassette ``cassettes/test_recorded_conversation/support_triage.json``:
what the model said when it was recorded, replayed byte for byte, no key and no network needed.
Record it again against the real API with::

    OPENAI_API_KEY=sk-... pytest examples/test_recorded_conversation.py --openai-fake-record-mode=all

(The cassette shipped here was recorded against a scripted fake on loopback, so the test suite never
touches the internet; one recorded against api.openai.com looks the same.)
"""

from __future__ import annotations

import json

import openai
import pytest

from pytest_openai_fake import error

TICKET = "My order #4521 arrived broken and I want my money back. This is the second time!"
PROMPT = 'Classify the support ticket. Answer JSON: {"intent": ..., "urgency": "low"|"high", "order": ...}'


def triage(client: openai.OpenAI, ticket: str) -> dict[str, str]:
    """The code under test: a prompt and a parser fed the model's real output."""
    reply = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "system", "content": PROMPT}, {"role": "user", "content": ticket}],
        response_format={"type": "json_object"},
        temperature=0,
    )
    return json.loads(reply.choices[0].message.content or "{}")


@pytest.mark.openai_fake(cassette="support_triage")
def test_triage_parses_what_the_model_said(openai_client: openai.OpenAI) -> None:
    assert triage(openai_client, TICKET) == {"intent": "refund", "urgency": "high", "order": "4521"}


@pytest.mark.openai_fake(cassette="support_triage")
def test_the_reply_continues_a_recorded_response(openai_server, openai_client: openai.OpenAI) -> None:
    first = openai_client.responses.create(model="gpt-4o-mini", input=f"Draft a two-sentence apology for: {TICKET}")
    assert first.output_text.startswith("I'm sorry your order #4521")
    # The next turn is not in the cassette: script it. The fake continues the recorded response.
    openai_server.on("responses.create").respond("Refund issued.")
    follow = openai_client.responses.create(model="gpt-4o-mini", input="Now confirm the refund.", previous_response_id=first.id)
    assert follow.output_text == "Refund issued."


@pytest.mark.openai_fake(cassette="support_triage", faults={"chat.completions.create": [error(429, retry_after=0.001)]})
def test_a_rate_limit_in_the_middle_of_a_recorded_conversation(openai_server, openai_client: openai.OpenAI) -> None:
    # Faults and scripts take precedence over the cassette: the first call gets the 429, the retry
    # gets the recorded answer.
    retrying = openai_server.client(max_retries=1)
    assert triage(retrying, TICKET)["intent"] == "refund"
    assert [call.status for call in openai_server.requests] == [429, 200]
