"""A Batch API pipeline: upload a JSONL file, create a batch, poll it, download, match by custom_id.

The fake runs each line through its own endpoint, so scripts and faults answer batch lines as they
answer direct calls, and the batch moves one step per second of ``openai_server.clock``.
"""

from __future__ import annotations

import json
import time
from typing import Callable

import openai


def classify_tickets(client: openai.OpenAI, tickets: dict[str, str], sleep: Callable[[float], None] = time.sleep) -> dict[str, str]:
    """Code under test: classify support tickets at batch prices. Returns ticket id -> label, or
    ``"error: <status>"`` for a ticket the API refused."""
    lines = [
        {
            "custom_id": ticket_id,
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"model": "gpt-4o-mini", "messages": [{"role": "system", "content": "Label the ticket."}, {"role": "user", "content": text}]},
        }
        for ticket_id, text in tickets.items()
    ]
    data = "".join(json.dumps(line) + "\n" for line in lines).encode()
    source = client.files.create(file=("tickets.jsonl", data), purpose="batch")
    batch = client.batches.create(input_file_id=source.id, endpoint="/v1/chat/completions", completion_window="24h")
    while batch.status not in ("completed", "failed", "expired", "cancelled"):
        sleep(60)
        batch = client.batches.retrieve(batch.id)
    if batch.status != "completed":
        raise RuntimeError(f"batch {batch.id} ended {batch.status}: {batch.errors}")
    labels: dict[str, str] = {}
    for file_id in (batch.output_file_id, batch.error_file_id):
        if file_id is None:
            continue
        for row in map(json.loads, client.files.content(file_id).text.splitlines()):
            response = row["response"]
            if response is not None and response["status_code"] == 200:
                labels[row["custom_id"]] = response["body"]["choices"][0]["message"]["content"]
            else:
                labels[row["custom_id"]] = f"error: {response['status_code'] if response else row['error']['code']}"
    return labels


def test_batch_pipeline(openai_server, openai_client):
    openai_server.on("chat.completions.create", message="refund").respond("billing")
    openai_server.on("chat.completions.create", message="password").respond("account")
    openai_server.on("chat.completions.create", message="crash").fail(429)  # one line is rate-limited

    tickets = {
        "T-1": "I want a refund for last month",
        "T-2": "I forgot my password",
        "T-3": "The app crash happens at login",
        "T-4": "Another refund please",
    }
    labels = classify_tickets(openai_client, tickets, sleep=openai_server.clock.advance)

    assert labels == {"T-1": "billing", "T-2": "account", "T-3": "error: 429", "T-4": "billing"}
    # Every line ran through the fake, and the log says which batch it came from.
    lines = openai_server.requests.filter(lambda request: request.batch_id is not None)
    assert len(lines) == 4 and {request.endpoint for request in lines} == {"chat.completions.create"}


def test_a_bad_input_file_fails_the_batch(openai_server, openai_client):
    data = b'{"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {}}\n' * 2
    source = openai_client.files.create(file=("dup.jsonl", data), purpose="batch")
    batch = openai_client.batches.create(input_file_id=source.id, endpoint="/v1/chat/completions", completion_window="24h")
    openai_server.clock.advance(1)
    batch = openai_client.batches.retrieve(batch.id)
    assert batch.status == "failed"
    assert [(e.code, e.line) for e in batch.errors.data] == [("duplicate_custom_id", 2)]
