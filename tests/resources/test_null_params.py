"""``null`` for an optional argument means "not given", as on the real API.

Clients built on the SDK often send every argument they know, ``null`` when unset: LiteLLM sends
``"encoding_format": null`` on every embeddings call, llama-index's Responses client ``"user":
null``, ``"include": null``, ``"instructions": null``, ... on every call. The API ignores them;
required arguments still refuse ``null``.
"""

from __future__ import annotations

import openai
import pytest

from pytest_openai_fake import FakeOpenAI

MESSAGES = [{"role": "user", "content": "Name three rivers."}]


def test_chat_nulls_are_not_given(openai_server: FakeOpenAI, client):
    nulls = dict.fromkeys(
        ("n", "stream", "stream_options", "user", "tools", "tool_choice", "parallel_tool_calls", "response_format",
         "max_tokens", "max_completion_tokens", "temperature", "seed", "stop", "logprobs", "metadata", "store")
    )
    plain = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, **nulls)
    assert openai_server.requests.last.json["user"] is None  # sent as null
    assert len(reply.choices) == 1  # n: null is one choice, stream: null no stream
    assert reply.choices[0].message.content == plain.choices[0].message.content
    assert reply.usage == plain.usage


def test_chat_null_inside_objects(client):
    tool = {"type": "function", "function": {"name": "get_weather", "description": None, "strict": None,
                                              "parameters": {"type": "object", "properties": {}}}}
    reply = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Weather?", "name": None}],
        tools=[tool],
        tool_choice="required",
    )
    assert reply.choices[0].message.tool_calls[0].function.name == "get_weather"
    chunks = list(client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": None}
    ))
    assert all(chunk.usage is None for chunk in chunks)  # include_usage: null is false


def test_chat_required_null_is_the_real_400(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=None, messages=MESSAGES)
    assert caught.value.body["message"] == "Invalid type for 'model': expected a string, but got null instead."
    assert caught.value.param == "model"


def test_embeddings_encoding_format_null_returns_floats(openai_server: FakeOpenAI, client):
    # What LiteLLM sends: the SDK then does not decode, and the API sends floats (its default).
    reply = client.embeddings.create(model="text-embedding-3-small", input="hi", encoding_format=None, user=None, dimensions=None)
    assert openai_server.requests.last.json["encoding_format"] is None
    floats = client.embeddings.create(model="text-embedding-3-small", input="hi", encoding_format="float")
    assert reply.data[0].embedding == floats.data[0].embedding


async def test_async_embeddings_list_input_with_nulls(async_client):
    texts = [f"text {i}" for i in range(20)]  # a long list of strings takes the fast validation path
    reply = await async_client.embeddings.create(model="text-embedding-3-small", input=texts, encoding_format=None, user=None)
    assert len(reply.data) == 20 and isinstance(reply.data[0].embedding, list)


def test_embeddings_required_null_is_the_real_400(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model="text-embedding-3-small", input=None, encoding_format="float")
    assert caught.value.param == "input"


def test_completions_nulls_are_not_given(client):
    nulls = dict.fromkeys(("n", "stream", "user", "echo", "best_of", "logprobs", "suffix", "stop", "max_tokens", "stream_options"))
    plain = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Say hi")
    reply = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Say hi", **nulls)
    assert [choice.text for choice in reply.choices] == [choice.text for choice in plain.choices]


def test_responses_nulls_are_not_given(openai_server: FakeOpenAI, client):
    # What llama-index's OpenAIResponses sends on every call.
    nulls = dict.fromkeys(
        ("user", "include", "instructions", "max_output_tokens", "metadata", "previous_response_id", "temperature",
         "top_p", "truncation", "tools", "tool_choice", "text", "reasoning", "parallel_tool_calls", "store", "stream")
    )
    plain = client.responses.create(model="gpt-4o-mini", input="Name three rivers.")
    reply = client.responses.create(model="gpt-4o-mini", input="Name three rivers.", **nulls)
    assert openai_server.requests.last.json["include"] is None
    assert reply.output_text == plain.output_text
    assert reply.tools == [] and reply.text.format.type == "text"  # the defaults, as if left out


def test_responses_nulls_with_an_item_list(client):
    reply = client.responses.create(
        model="gpt-4o-mini", input=[{"role": "user", "content": "Name three rivers."}], user=None, text=None, tools=None
    )
    assert reply.status == "completed"


def test_responses_required_null_is_the_real_400(client):
    # ``model`` is optional in Responses (a stored prompt may name it): a function tool's name is not.
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model="gpt-4o-mini", input="hi", tools=[{"type": "function", "name": None, "parameters": None, "strict": None}])
    assert caught.value.param == "tools[0].name"
    assert caught.value.body["message"] == "Invalid type for 'tools[0].name': expected a string, but got null instead."


@pytest.mark.openai_fake(provider="together")
def test_together_chat_nulls_are_not_given(openai_server: FakeOpenAI):
    client = openai_server.client()
    reply = client.chat.completions.create(
        model="meta-llama/Llama-3.3-70B-Instruct-Turbo", messages=MESSAGES, user=None, n=None, tools=None
    )
    assert len(reply.choices) == 1
