"""Azure OpenAI through ``openai.AzureOpenAI`` / ``AsyncAzureOpenAI`` and the v1 ``openai.OpenAI``.

Deployment-style paths with ``api-version``, ``/openai/...`` for the rest, ``/openai/v1``;
``api-key`` and Bearer auth; deployments from the marker; Azure's own errors; content filter
annotations; scripting and faults on the Azure server. Every client validates strictly.
"""

from __future__ import annotations

import httpx2
import openai
import pytest

from pytest_openai_fake import FAKE_API_KEY, FakeOpenAI, content_filter, cut_stream, error, tool_call
from pytest_openai_fake.app import mask_credential
from pytest_openai_fake.providers import azure
from pytest_openai_fake.resources.images import render_png
from pytest_openai_fake.sdk import stream_cut_errors

pytestmark = pytest.mark.openai_fake(provider="azure")

ASK = [{"role": "user", "content": "Name a river."}]
GA = "2024-10-21"  # the api-version the fake's AzureOpenAI clients send
PREVIEW = "2025-04-01-preview"
SAFE = {"filtered": False, "severity": "safe"}
UNDETECTED = {"filtered": False, "detected": False}
RESOURCE_NOT_FOUND = {"error": {"code": "404", "message": "Resource not found"}}


@pytest.fixture
def azure_client(openai_server: FakeOpenAI) -> openai.AzureOpenAI:
    """``openai.AzureOpenAI`` (api-version 2024-10-21, ``api-key``) with strict validation."""
    return openai_server.client(_strict_response_validation=True)


@pytest.fixture
def v1_client(openai_server: FakeOpenAI) -> openai.OpenAI:
    """``openai.OpenAI`` on the v1 API, as Microsoft documents it: ``base_url=<resource>/openai/v1``."""
    return openai.OpenAI(
        base_url=openai_server.url + "/openai/v1",
        api_key=FAKE_API_KEY,
        max_retries=0,
        http_client=openai_server.client()._client,
        _strict_response_validation=True,
    )


def chat(client, model: str = "gpt-4o", **kwargs):
    return client.chat.completions.create(model=model, messages=ASK, **kwargs)


def raw(fake: FakeOpenAI, path: str, *, json=None, params=None, headers=None, method: str = "POST") -> httpx2.Response:
    return httpx2.request(
        method,
        fake.url + path,
        json=json,
        params=params,
        headers={"api-key": FAKE_API_KEY} if headers is None else headers,
    )


# -- deployment-style paths --------------------------------------------------------------------


def test_chat_goes_to_the_deployment_path_with_api_version_and_key(azure_client, openai_server):
    reply = chat(azure_client)
    assert reply.model == "gpt-4o"
    assert reply.choices[0].message.content
    request = openai_server.requests.last
    assert request.path == "/openai/deployments/gpt-4o/chat/completions"
    assert request.query == {"api-version": GA}
    assert request.headers["api-key"] == mask_credential(FAKE_API_KEY)  # masked unless keep_credentials
    # AzureOpenAI sends api-key only where it overrides the auth headers (openai 2.0 - 2.25 at
    # least also send the key as a bearer token)
    sends_api_key_only = any(name in vars(type(azure_client)) for name in ("auth_headers", "_auth_headers"))
    assert ("authorization" in request.headers) != sends_api_key_only
    assert request.endpoint == "chat.completions.create"


def test_same_prompt_same_answer_as_a_deterministic_fake(azure_client):
    assert chat(azure_client).choices[0].message.content == chat(azure_client).choices[0].message.content


async def test_async_client_creates_and_streams(openai_server):
    client = openai_server.async_client(keep_alive=False, _strict_response_validation=True)
    assert isinstance(client, openai.AsyncAzureOpenAI)
    reply = await chat(client)
    stream = await chat(client, stream=True)
    text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices])
    assert text == reply.choices[0].message.content
    assert openai_server.requests.last.path == "/openai/deployments/gpt-4o/chat/completions"
    await client.close()


def test_stream_through_the_deployment(azure_client):
    chunks = list(chat(azure_client, stream=True, stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == chat(azure_client).choices[0].message.content
    assert chunks[-1].usage.completion_tokens > 0


def test_embeddings_go_through_the_deployment(azure_client, openai_server):
    reply = azure_client.embeddings.create(model="text-embedding-3-large", input="a river", encoding_format="float")
    assert reply.model == "text-embedding-3-large"
    assert len(reply.data[0].embedding) == 3072
    assert openai_server.requests.last.path == "/openai/deployments/text-embedding-3-large/embeddings"


def test_legacy_completions_go_through_the_deployment(azure_client, openai_server):
    reply = azure_client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Once upon a time")
    assert reply.model == "gpt-3.5-turbo-instruct"
    assert reply.prompt_filter_results == [{"prompt_index": 0, "content_filter_results": azure.prompt_filter_results()}]
    assert reply.choices[0].content_filter_results == azure.choice_filter_results()
    assert openai_server.requests.last.path == "/openai/deployments/gpt-3.5-turbo-instruct/completions"


def test_image_generation_goes_through_the_deployment_with_filter_results(azure_client, openai_server):
    reply = azure_client.images.generate(model="dall-e-3", prompt="an otter on a river")
    image = reply.data[0]
    assert image.url
    assert image.content_filter_results == {"hate": SAFE, "self_harm": SAFE, "sexual": SAFE, "violence": SAFE}
    assert image.prompt_filter_results["profanity"] == UNDETECTED
    assert openai_server.requests.last.path == "/openai/deployments/dall-e-3/images/generations"


@pytest.mark.openai_fake(deployments={"painter": "gpt-image-1"})
def test_image_edit_upload_is_answered_by_the_deployment_model(openai_server):
    client = openai_server.client(api_version=PREVIEW, _strict_response_validation=True)
    png = render_png(b"otter", 16, 16, transparent=True)
    reply = client.images.edit(model="painter", image=("otter.png", png, "image/png"), prompt="add a hat")
    assert reply.data[0].b64_json  # a GPT image model answers base64, which dall-e-2 would not
    assert openai_server.requests.last.path == "/openai/deployments/painter/images/edits"


def test_image_edits_need_a_2025_04_preview_api_version(azure_client):
    png = render_png(b"otter", 16, 16, transparent=True)
    with pytest.raises(openai.NotFoundError) as caught:
        azure_client.images.edit(model="gpt-image-1", image=("otter.png", png, "image/png"), prompt="add a hat")
    assert caught.value.body == RESOURCE_NOT_FOUND["error"]


# -- deployments -------------------------------------------------------------------------------


@pytest.mark.openai_fake(deployments={"chat": "gpt-4o-2024-08-06", "embed": "text-embedding-3-small"})
def test_marker_deployments_map_names_to_models(azure_client, openai_server):
    reply = chat(azure_client, model="chat")
    assert reply.model == "gpt-4o-2024-08-06"  # the model behind the deployment, as Azure reports it
    assert openai_server.requests.last.path == "/openai/deployments/chat/chat/completions"
    assert openai_server.requests.last.json["model"] == "chat"  # the log keeps what was sent
    vectors = azure_client.embeddings.create(model="embed", input="a river", encoding_format="float")
    assert vectors.model == "text-embedding-3-small" and len(vectors.data[0].embedding) == 1536


@pytest.mark.openai_fake(deployments={"chat": "gpt-4o"})
def test_configured_deployments_are_the_only_ones(azure_client):
    with pytest.raises(openai.NotFoundError) as caught:
        chat(azure_client, model="gpt-4o")  # a model name, but no deployment of that name
    assert caught.value.code == "DeploymentNotFound"


@pytest.mark.openai_fake(deployments={"chat": "my-finetune"})
def test_a_deployed_model_outside_the_catalog_exists(azure_client, openai_server):
    assert chat(azure_client, model="chat").model == "my-finetune"
    assert "my-finetune" in openai_server.state.models


@pytest.mark.openai_fake(deployments={"chat": "gpt-4o-mini"})
def test_client_bound_to_a_deployment_ignores_the_body_model(openai_server):
    client = openai_server.client(azure_deployment="chat", _strict_response_validation=True)
    reply = chat(client, model="whatever-the-code-says")
    assert reply.model == "gpt-4o-mini"
    assert openai_server.requests.last.path == "/openai/deployments/chat/chat/completions"
    # Endpoints that are not deployment endpoints go to /openai/... even from a bound client.
    assert client.models.retrieve("gpt-4o").id == "gpt-4o"
    assert openai_server.requests.last.path == "/openai/models/gpt-4o"


def test_unknown_deployment_is_azures_404(azure_client):
    with pytest.raises(openai.NotFoundError) as caught:
        chat(azure_client, model="no-such-deployment")
    assert caught.value.body == {"code": "DeploymentNotFound", "message": azure.DEPLOYMENT_NOT_FOUND}
    assert caught.value.code == "DeploymentNotFound"


@pytest.mark.openai_fake(models=["gpt-4o-mini"])
def test_without_deployments_only_catalog_models_are_deployed(azure_client):
    assert chat(azure_client, model="gpt-4o-mini").model == "gpt-4o-mini"
    with pytest.raises(openai.NotFoundError) as caught:
        chat(azure_client, model="gpt-4o")
    assert caught.value.code == "DeploymentNotFound"


@pytest.mark.parametrize(
    ("call", "operation", "model"),
    [
        (lambda c: c.embeddings.create(model="gpt-4o", input="x"), "embeddings", "gpt-4o"),
        (lambda c: chat(c, model="text-embedding-3-small"), "chatCompletion", "text-embedding-3-small"),
        (lambda c: chat(c, model="o1-pro"), "chatCompletion", "o1-pro"),
        (lambda c: c.completions.create(model="gpt-4o", prompt="x"), "completion", "gpt-4o"),
        (lambda c: c.images.generate(model="gpt-4o", prompt="x"), "imageGenerations", "gpt-4o"),
    ],
)
def test_a_deployment_that_cannot_do_the_operation(azure_client, call, operation, model):
    with pytest.raises(openai.BadRequestError) as caught:
        call(azure_client)
    assert caught.value.body == {
        "code": "OperationNotSupported",
        "message": azure.OPERATION_NOT_SUPPORTED.format(operation=operation, model=model),
    }


# -- authentication ----------------------------------------------------------------------------


def test_bearer_token_from_azure_ad(openai_server):
    client = openai_server.client(api_key=None, azure_ad_token="entra-token", _strict_response_validation=True)
    assert chat(client).model == "gpt-4o"
    headers = openai_server.requests.last.headers  # lower-case names
    assert headers["authorization"] == mask_credential("Bearer entra-token")
    assert "api-key" not in headers


async def test_async_token_provider(openai_server):
    client = openai_server.async_client(
        keep_alive=False, api_key=None, azure_ad_token_provider=lambda: "fresh-token", _strict_response_validation=True
    )
    await chat(client)
    assert openai_server.requests.last.headers["authorization"] == mask_credential("Bearer fresh-token")
    await client.close()


def test_no_credentials_is_azures_401(openai_server):
    path = "/openai/deployments/gpt-4o/chat/completions"
    response = raw(openai_server, path, json={"messages": ASK}, params={"api-version": GA}, headers={})
    assert response.status_code == 401
    assert response.json() == {"error": {"code": "401", "message": azure.ACCESS_DENIED}}


def test_sdk_surfaces_the_401_as_authentication_error(openai_server):
    openai_server.on("chat.completions.create").respond(error(401))
    with pytest.raises(openai.AuthenticationError) as caught:
        chat(openai_server.client(_strict_response_validation=True))
    assert caught.value.body == {"code": "401", "message": azure.ACCESS_DENIED}


# -- api-version -------------------------------------------------------------------------------


def test_missing_api_version_is_resource_not_found(openai_server):
    response = raw(openai_server, "/openai/deployments/gpt-4o/chat/completions", json={"messages": ASK})
    assert response.status_code == 404
    assert response.json() == RESOURCE_NOT_FOUND


@pytest.mark.parametrize("version", ["2024-10-12", "preview", "v1", "2099-01-01"])
def test_unknown_api_version_is_resource_not_found(openai_server, version):
    client = openai_server.client(api_version=version, _strict_response_validation=True)
    with pytest.raises(openai.NotFoundError) as caught:
        chat(client)
    assert caught.value.body == RESOURCE_NOT_FOUND["error"]


@pytest.mark.parametrize("version", ["2023-05-15", "2024-02-01", "2024-06-01", GA, "2024-08-01-preview", PREVIEW])
def test_released_api_versions_work(openai_server, version):
    assert chat(openai_server.client(api_version=version, _strict_response_validation=True)).model == "gpt-4o"


def test_responses_api_needs_a_2025_preview_api_version(azure_client, openai_server):
    with pytest.raises(openai.NotFoundError) as caught:
        azure_client.responses.create(model="gpt-4o", input="Name a river.")
    assert caught.value.body == RESOURCE_NOT_FOUND["error"]
    client = openai_server.client(api_version=PREVIEW, _strict_response_validation=True)
    response = client.responses.create(model="gpt-4o", input="Name a river.")
    assert response.output_text and response.model == "gpt-4o"
    assert openai_server.requests.last.path == "/openai/responses"  # not a deployment endpoint
    assert client.responses.retrieve(response.id).id == response.id


@pytest.mark.openai_fake(deployments={"chat": "gpt-4o-mini"})
def test_responses_model_names_a_deployment(openai_server):
    client = openai_server.client(api_version=PREVIEW, _strict_response_validation=True)
    assert client.responses.create(model="chat", input="Name a river.").model == "gpt-4o-mini"
    with pytest.raises(openai.NotFoundError) as caught:
        client.responses.create(model="gpt-4o", input="Name a river.")
    assert caught.value.code == "DeploymentNotFound"


def test_stored_chat_completions_need_a_2025_preview_api_version(azure_client, openai_server):
    chat(azure_client, store=True)
    with pytest.raises(openai.NotFoundError):
        azure_client.chat.completions.list()
    client = openai_server.client(api_version="2025-02-01-preview", _strict_response_validation=True)
    assert len(client.chat.completions.list().data) == 1
    assert openai_server.requests.last.path == "/openai/chat/completions"


def test_models_list_on_the_classic_path(azure_client, openai_server):
    ids = [model.id for model in azure_client.models.list()]
    assert "gpt-4o" in ids
    assert openai_server.requests.last.path == "/openai/models"
    assert openai_server.requests.last.query == {"api-version": GA}


def test_deployment_endpoint_without_a_deployment_is_resource_not_found(openai_server):
    body = {"model": "gpt-4o", "messages": ASK}
    response = raw(openai_server, "/openai/chat/completions", json=body, params={"api-version": GA})
    assert response.status_code == 404
    assert response.json() == RESOURCE_NOT_FOUND


def test_other_endpoint_under_a_deployment_is_resource_not_found(openai_server):
    response = raw(openai_server, "/openai/deployments/gpt-4o/models", params={"api-version": GA}, method="GET")
    assert response.status_code == 404
    assert response.json() == RESOURCE_NOT_FOUND


# -- the v1 API --------------------------------------------------------------------------------


def test_v1_api_with_the_openai_client(v1_client, openai_server):
    reply = chat(v1_client, model="gpt-4o-mini")
    assert reply.model == "gpt-4o-mini"
    assert reply.prompt_filter_results[0]["prompt_index"] == 0
    request = openai_server.requests.last
    assert request.path == "/openai/v1/chat/completions" and request.query == {}
    assert request.headers["authorization"] == mask_credential(f"Bearer {FAKE_API_KEY}")


@pytest.mark.openai_fake(deployments={"embed": "text-embedding-3-large", "chat": "gpt-4o"})
def test_v1_model_is_a_deployment_name(v1_client):
    assert chat(v1_client, model="chat").model == "gpt-4o"
    vectors = v1_client.embeddings.create(model="embed", input="a river", encoding_format="float")
    assert len(vectors.data[0].embedding) == 3072
    with pytest.raises(openai.NotFoundError) as caught:
        chat(v1_client, model="gpt-4o")
    assert caught.value.code == "DeploymentNotFound"


@pytest.mark.parametrize("version", ["v1", "preview"])
def test_v1_accepts_v1_and_preview_api_versions(v1_client, version):
    assert chat(v1_client.with_options(default_query={"api-version": version})).model == "gpt-4o"


def test_v1_refuses_a_dated_api_version(v1_client):
    with pytest.raises(openai.BadRequestError) as caught:
        chat(v1_client.with_options(default_query={"api-version": "2025-01-01-preview"}))
    assert caught.value.body == {"code": "BadRequest", "message": "API version not supported"}


def test_v1_serves_responses_and_conversations_without_api_version(v1_client, azure_client):
    conversation = v1_client.conversations.create()
    response = v1_client.responses.create(model="gpt-4o", input="Name a river.", conversation=conversation.id)
    assert response.output_text
    with pytest.raises(openai.NotFoundError):  # not on a dated version
        azure_client.with_options(api_version=PREVIEW).conversations.retrieve(conversation.id)


@pytest.mark.openai_fake(problems="ignore")
def test_endpoints_azure_does_not_have_are_resource_not_found(v1_client, openai_server):
    with pytest.raises(openai.NotFoundError) as caught:
        v1_client.moderations.create(input="hello")
    assert caught.value.body == RESOURCE_NOT_FOUND["error"]
    assert [p.kind for p in openai_server.take_problems()] == ["no-route"]  # strict tests fail on it


def test_openai_error_envelope_for_request_validation(azure_client):
    # Azure passes the model's own validation errors through in OpenAI's envelope.
    with pytest.raises(openai.BadRequestError) as caught:
        azure_client.chat.completions.create(model="gpt-4o", messages=[])
    assert caught.value.code == "empty_array" and caught.value.param == "messages"


# -- content filter annotations ----------------------------------------------------------------


def test_chat_reply_has_prompt_and_choice_filter_results(azure_client):
    reply = chat(azure_client, n=2)
    assert reply.prompt_filter_results == [
        {
            "prompt_index": 0,
            "content_filter_results": {
                "hate": SAFE,
                "jailbreak": UNDETECTED,
                "self_harm": SAFE,
                "sexual": SAFE,
                "violence": SAFE,
            },
        }
    ]
    for choice in reply.choices:
        assert choice.content_filter_results == {
            "hate": SAFE,
            "protected_material_code": UNDETECTED,
            "protected_material_text": UNDETECTED,
            "self_harm": SAFE,
            "sexual": SAFE,
            "violence": SAFE,
        }


def test_scripted_content_filter_shows_the_filtered_category(azure_client, openai_server):
    openai_server.on("chat.completions.create").respond(content_filter())
    choice = chat(azure_client).choices[0]
    assert choice.finish_reason == "content_filter"
    assert choice.content_filter_results["violence"] == {"filtered": True, "severity": "medium"}
    assert choice.content_filter_results["hate"] == SAFE


def test_tool_call_reply_has_empty_filter_results(azure_client, openai_server):
    openai_server.on("chat.completions.create").respond(tool_call("get_weather", {"city": "Paris"}))
    choice = chat(azure_client).choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.content_filter_results == {}


def test_scripted_prompt_filter_error_has_azures_innererror(azure_client, openai_server):
    openai_server.on("chat.completions.create").respond(error(400, code="content_filter"))
    with pytest.raises(openai.BadRequestError) as caught:
        chat(azure_client)
    body = caught.value.body
    assert caught.value.code == "content_filter" and caught.value.param == "prompt"
    assert body["message"] == azure.PROMPT_FILTERED and body["status"] == 400
    assert body["innererror"]["code"] == "ResponsibleAIPolicyViolation"
    assert body["innererror"]["content_filter_result"]["violence"] == {"filtered": True, "severity": "medium"}


# -- scripting and faults on the Azure server ----------------------------------------------------


@pytest.mark.openai_fake(deployments={"chat": "gpt-4o"})
def test_scripts_match_the_deployment_model(azure_client, openai_server):
    script = openai_server.on("chat.completions.create", model="gpt-4o").respond("Scripted on Azure.")
    reply = chat(azure_client, model="chat")
    assert reply.choices[0].message.content == "Scripted on Azure."
    assert reply.prompt_filter_results  # scripted replies are annotated too
    assert script.call_count == 1


def test_rate_limit_fault_and_retry(openai_server):
    openai_server.fail_next(1, 429, retry_after=0.001)
    client = openai_server.client(max_retries=1, _strict_response_validation=True)
    assert chat(client).choices[0].message.content
    assert [r.status for r in openai_server.requests] == [429, 200]


def test_rate_limit_fault_surfaces(azure_client, openai_server):
    openai_server.on("embeddings.create").fail(429)
    with pytest.raises(openai.RateLimitError):
        azure_client.embeddings.create(model="text-embedding-3-small", input="x", encoding_format="float")


def test_cut_stream_fault(azure_client, openai_server):
    openai_server.on("chat.completions.create").respond(cut_stream(after=2))
    with pytest.raises(stream_cut_errors()):
        list(chat(azure_client, stream=True))


@pytest.mark.openai_fake(faults={"chat.completions.create": error(503)})
def test_marker_faults_apply_to_the_azure_server(azure_client):
    with pytest.raises(openai.InternalServerError) as caught:
        chat(azure_client)
    assert caught.value.status_code == 503


def test_azure_and_openai_servers_in_one_test(openai_servers, azure_client):
    plain = openai_servers["openai"].client(_strict_response_validation=True)
    assert chat(plain).model_extra == {}  # api.openai.com sends no filter annotations
    assert chat(azure_client).prompt_filter_results
    assert len(openai_servers["openai"].requests) == 1 and len(openai_servers["azure"].requests) == 1


async def test_plugin_fixtures_are_azure_clients(azure_openai_client, async_azure_openai_client, openai_server):
    assert isinstance(azure_openai_client, openai.AzureOpenAI)
    reply = await chat(async_azure_openai_client)
    assert reply.choices[0].message.content == chat(azure_openai_client).choices[0].message.content
    assert len(openai_server.requests) == 2
