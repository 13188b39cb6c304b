"""The 30-second tour: the fixtures, the request log and the model marker.

Run with ``pytest examples/``. Copy any of these into your own suite: the plugin is loaded by
its pytest11 entry point, there is nothing to configure.
"""

import openai
import pytest


def summarise(client: openai.OpenAI, text: str) -> str:
    """The code under test: any function that takes an OpenAI client."""
    reply = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "system", "content": "Summarise in one line."}, {"role": "user", "content": text}],
        temperature=0,
    )
    return reply.choices[0].message.content


def test_summarise(openai_client, openai_server):
    summary = summarise(openai_client, "A long article about rivers.")

    assert summary  # deterministic text: the same prompt always gets the same reply
    assert summary == summarise(openai_client, "A long article about rivers.")
    request = openai_server.requests.last
    assert request.endpoint == "chat.completions.create"
    assert request.json["messages"][1]["content"] == "A long article about rivers."
    assert request.json["temperature"] == 0


@pytest.mark.openai_fake(models=["gpt-4o-mini"])
def test_only_that_model_exists(openai_client):
    with pytest.raises(openai.NotFoundError) as caught:
        openai_client.models.retrieve("gpt-4o")
    assert caught.value.code == "model_not_found"


def test_point_any_client_at_base_url(openai_server):
    # Code that builds its own client only needs the base URL (and any API key).
    client = openai.OpenAI(base_url=openai_server.base_url, api_key="sk-anything", max_retries=0)
    assert client.models.retrieve("gpt-4o").id == "gpt-4o"
