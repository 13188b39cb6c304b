"""The real API's errors, so error handling in your code gets exercised."""

import openai
import pytest


def ask(client: openai.OpenAI, model: str) -> str:
    """Code under test: falls back to a cheaper model when the requested one does not exist."""
    try:
        reply = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
    except openai.NotFoundError:
        reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    return reply.model


def test_falls_back_when_the_model_is_missing(openai_client, openai_server):
    assert ask(openai_client, "gpt-does-not-exist") == "gpt-4o-mini"
    assert [r.status for r in openai_server.requests] == [404, 200]


def test_bad_arguments_are_rejected_like_the_real_api(openai_client):
    with pytest.raises(openai.BadRequestError) as caught:
        openai_client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}], temperature=3)
    assert caught.value.param == "temperature"
    assert caught.value.code == "decimal_above_max_value"


def complete(client: openai.OpenAI, model: str, limit: int) -> str:
    """Code under test: the token limit's name depends on the model, as on the real API."""
    reasoning = model.startswith(("o1", "o3", "o4", "gpt-5"))
    limits = {"max_completion_tokens": limit} if reasoning else {"max_tokens": limit}
    reply = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}], **limits)
    return reply.choices[0].message.content


@pytest.mark.parametrize("model", ["gpt-4o", "o3", "gpt-5-mini"])
def test_token_limit_fits_the_model(openai_client, model):
    assert complete(openai_client, model, 200)


def test_reasoning_models_refuse_max_tokens(openai_client):
    # The mistake the code above avoids: the real API refuses it, and so does the fake.
    with pytest.raises(openai.BadRequestError, match="Use 'max_completion_tokens' instead"):
        openai_client.chat.completions.create(model="o3", messages=[{"role": "user", "content": "hi"}], max_tokens=200)
