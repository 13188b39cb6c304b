"""Code that calls Together AI through the official ``together`` SDK, tested against the fake.

``@pytest.mark.openai_fake(provider="together")`` makes ``openai_server`` the Together server:
its catalog (``meta-llama/...``, ``BAAI/bge-base-en-v1.5`` with 768-dimensional vectors, FLUX
image models), its reply shapes and its errors. ``together_client`` is a ``together.Together``
pointed at it; ``openai_client`` talks to the same server at ``/v1``.
"""

import base64

import openai
import pytest

together = pytest.importorskip("together", reason="the Together examples need the together SDK: pip install together")

pytestmark = pytest.mark.openai_fake(provider="together")

CHAT = "meta-llama/Llama-3.3-70B-Instruct-Turbo"
EMBED = "BAAI/bge-base-en-v1.5"


def answer(client, question: str) -> str:
    """The code under test: it takes any ``together.Together``."""
    reply = client.chat.completions.create(model=CHAT, messages=[{"role": "user", "content": question}])
    return reply.choices[0].message.content


def test_answer(together_client, openai_server):
    openai_server.on("chat.completions.create").respond("Paris.")

    assert answer(together_client, "What is the capital of France?") == "Paris."
    assert openai_server.requests.last.json["model"] == CHAT


def test_streaming_ends_with_usage(together_client):
    messages = [{"role": "user", "content": "Hi"}]
    chunks = list(together_client.chat.completions.create(model=CHAT, messages=messages, stream=True))

    assert "".join(c.choices[0].delta.content for c in chunks if c.choices)
    assert chunks[-1].usage.total_tokens > 0  # Together sends the usage without being asked


def test_embeddings_have_the_models_real_size(together_client):
    reply = together_client.embeddings.create(model=EMBED, input=["red apples", "green pears"])

    assert [len(item.embedding) for item in reply.data] == [768, 768]


def test_together_refuses_dimensions(openai_client):
    # Code written for OpenAI often passes ``dimensions``; Together answers 400.
    with pytest.raises(openai.BadRequestError, match="Unrecognized request arguments supplied: dimensions") as caught:
        openai_client.embeddings.create(model=EMBED, input="red apples", dimensions=256)
    assert caught.value.code is None  # Together's body for this error is the message alone


def test_images_as_base64_png(together_client):
    reply = together_client.images.generate(
        model="black-forest-labs/FLUX.1-schnell", prompt="a lighthouse", width=256, height=256, response_format="base64"
    )

    assert base64.b64decode(reply.data[0].b64_json).startswith(b"\x89PNG")


def test_unknown_model(together_client):
    with pytest.raises(together.NotFoundError, match="Unable to access model meta-llama/Llama-9"):
        together_client.chat.completions.create(
            model="meta-llama/Llama-9", messages=[{"role": "user", "content": "Hi"}]
        )
