"""Azure OpenAI: code that calls a deployment through ``openai.AzureOpenAI``.

``provider="azure"`` makes the fake an Azure OpenAI resource; ``deployments`` creates the
deployments the code uses (deployment name -> the model behind it). ``azure_openai_client`` is
an ``AzureOpenAI`` pointed at it, with an ``api-key`` and ``api-version`` 2024-10-21.
"""

import openai
import pytest

from pytest_openai_fake import content_filter


def answer(client: openai.AzureOpenAI, question: str) -> str:
    """The code under test: on Azure, ``model`` is the name of a deployment."""
    reply = client.chat.completions.create(model="support-bot", messages=[{"role": "user", "content": question}])
    choice = reply.choices[0]
    if choice.finish_reason == "content_filter":
        return "Sorry, I can't answer that."
    return choice.message.content


@pytest.mark.openai_fake(provider="azure", deployments={"support-bot": "gpt-4o-2024-08-06"})
def test_answer_from_the_deployment(azure_openai_client, openai_server):
    assert answer(azure_openai_client, "Where is my parcel?")

    request = openai_server.requests.last
    assert request.path == "/openai/deployments/support-bot/chat/completions"
    assert request.query["api-version"] == "2024-10-21"


@pytest.mark.openai_fake(provider="azure", deployments={"support-bot": "gpt-4o"})
def test_filtered_reply(azure_openai_client, openai_server):
    # Azure's content filter stopped the reply: the choice says which category fired.
    openai_server.on("chat.completions.create").respond(content_filter())
    assert answer(azure_openai_client, "Something the filter blocks") == "Sorry, I can't answer that."


@pytest.mark.openai_fake(provider="azure", deployments={"other-bot": "gpt-4o"})
def test_missing_deployment(azure_openai_client):
    with pytest.raises(openai.NotFoundError) as caught:
        answer(azure_openai_client, "Hello?")
    assert caught.value.code == "DeploymentNotFound"
