"""Mistral through its own SDK: chat with tools, embeddings, codestral FIM and Mistral's errors.

``provider="mistral"`` makes ``openai_server`` emulate api.mistral.ai; ``mistral_client`` is
``mistralai.client.Mistral(server_url=...)`` pointed at it. Needs ``pip install mistralai``.
"""

import json

import openai
import pytest

pytest.importorskip("mistralai", reason="the Mistral examples need the mistralai SDK: pip install mistralai")
from mistralai.client import errors  # noqa: E402

from pytest_openai_fake import tool_call  # noqa: E402

pytestmark = pytest.mark.openai_fake(provider="mistral")

WEATHER = {
    "type": "function",
    "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}},
}


def test_chat_with_a_scripted_tool_call(openai_server, mistral_client):
    openai_server.on("chat.completions.create").once(tool_call("get_weather", {"city": "Paris"}), "It is sunny in Paris.")
    ask = [{"role": "user", "content": "Weather in Paris?"}]

    first = mistral_client.chat.complete(model="mistral-large-latest", messages=ask, tools=[WEATHER], tool_choice="any")
    call = first.choices[0].message.tool_calls[0]
    assert len(call.id) == 9  # Mistral's tool-call ids: 9 letters or digits
    assert json.loads(call.function.arguments) == {"city": "Paris"}

    result = {"role": "tool", "name": "get_weather", "tool_call_id": call.id, "content": '{"sky": "clear"}'}
    final = mistral_client.chat.complete(model="mistral-large-latest", messages=[*ask, first.choices[0].message, result], tools=[WEATHER])
    assert final.choices[0].message.content == "It is sunny in Paris."


def test_embeddings_and_fim(mistral_client):
    vectors = mistral_client.embeddings.create(model="mistral-embed", inputs=["hello", "world"])
    assert [len(item.embedding) for item in vectors.data] == [1024, 1024]

    code = mistral_client.fim.complete(model="codestral-latest", prompt="def add(a, b):\n    ", suffix="\n", max_tokens=8)
    assert code.choices[0].message.content  # deterministic: the same prompt, the same completion


def test_mistral_errors(mistral_client):
    with pytest.raises(errors.SDKError) as caught:
        mistral_client.chat.complete(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.status_code == 400 and json.loads(caught.value.body)["message"] == "Invalid model: gpt-4o"

    with pytest.raises(errors.HTTPValidationError) as invalid:  # bad parameters are 422s
        mistral_client.chat.complete(model="mistral-small-latest", messages=[{"role": "user", "content": "hi"}], top_p=2)
    assert invalid.value.data.detail[0].loc == ["body", "top_p"]


def test_openai_only_arguments_are_all_listed(openai_client):
    # Code written for OpenAI often sends ``store`` and ``max_completion_tokens``: Mistral's 422
    # lists every field it refuses, with the value that was sent.
    with pytest.raises(openai.UnprocessableEntityError) as caught:
        openai_client.chat.completions.create(
            model="mistral-small-latest", messages=[{"role": "user", "content": "hi"}], store=False, max_completion_tokens=64
        )
    refused = {d["loc"][-1]: d["input"] for d in caught.value.body["detail"] if d["type"] == "extra_forbidden"}
    assert refused == {"store": False, "max_completion_tokens": 64}
