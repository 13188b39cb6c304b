"""Legacy completions (``client.completions.create``): prompt in, text out, 16 tokens by default."""


def complete(client, prompt: str, **kwargs) -> str:
    """Code under test: a thin wrapper over the legacy endpoint."""
    reply = client.completions.create(model="gpt-3.5-turbo-instruct", prompt=prompt, **kwargs)
    return reply.choices[0].text


def test_default_max_tokens_is_16(openai_client):
    reply = openai_client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Once upon a time")
    assert reply.choices[0].finish_reason == "length"  # cut at the real API's default of 16 tokens
    assert reply.usage.completion_tokens == 16


def test_echo_and_stream(openai_client):
    text = complete(openai_client, "Once upon a time", echo=True, max_tokens=40)
    assert text.startswith("Once upon a time")  # echo prepends the prompt
    stream = openai_client.completions.create(
        model="gpt-3.5-turbo-instruct", prompt="Once upon a time", echo=True, max_tokens=40, stream=True
    )
    assert "".join(chunk.choices[0].text for chunk in stream if chunk.choices) == text


def test_one_choice_per_prompt(openai_client):
    reply = openai_client.completions.create(model="gpt-3.5-turbo-instruct", prompt=["Red", "Blue"], n=2)
    assert [choice.index for choice in reply.choices] == [0, 1, 2, 3]  # Red x2, then Blue x2
    assert reply.choices[0].text == complete(openai_client, "Red")  # same prompt, same text
