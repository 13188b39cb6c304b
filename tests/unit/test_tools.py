"""The HTTP tool endpoints for non-Python clients: health, metadata, request log, reset, CORS."""

from __future__ import annotations

import httpx2
import pytest

from pytest_openai_fake import FakeOpenAI, __version__
from pytest_openai_fake.state import Blob

AUTH = {"Authorization": "Bearer sk-test"}


def test_health(openai_server: FakeOpenAI):
    response = httpx2.get(openai_server.url + "/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_index_describes_the_service(openai_server: FakeOpenAI):
    body = httpx2.get(openai_server.url + "/").json()
    assert body["service"] == "pytest-openai-fake"
    assert body["version"] == __version__
    assert body["provider"] == "openai"
    assert body["base_url"] == openai_server.base_url
    assert "chat.completions.create" in body["endpoints"]


def test_request_log_over_http(openai_server: FakeOpenAI, openai_client):
    prefix = "/__fake"
    openai_client.models.retrieve("gpt-4o")
    openai_client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    listing = httpx2.get(openai_server.url + prefix + "/requests").json()
    assert listing["object"] == "list"
    assert [r["endpoint"] for r in listing["data"]] == ["models.retrieve", "chat.completions.create"]
    assert listing["data"][1]["json"]["messages"] == [{"role": "user", "content": "hi"}]
    assert listing["data"][1]["status"] == 200
    # the tool endpoints themselves are not captured
    assert len(openai_server.requests) == 2

    assert httpx2.delete(openai_server.url + prefix + "/requests").json()["count"] == 2
    assert len(openai_server.requests) == 0


@pytest.mark.parametrize("prefix", ["/__fake", "/__parlel"])
def test_reset_over_http(openai_server: FakeOpenAI, openai_client, prefix):
    openai_server.state.models.add("temporary-model")
    openai_client.models.list()
    assert httpx2.post(openai_server.url + prefix + "/reset").status_code == 200
    assert len(openai_server.requests) == 0
    assert "temporary-model" not in openai_server.state.models


def test_parlel_request_log_in_parlels_shape(openai_server: FakeOpenAI, openai_client):
    """``GET /__parlel/requests`` answers parlel's documented ``{"requests": [...], "count": N}``."""
    openai_client.models.retrieve("gpt-4o")
    openai_client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    listing = httpx2.get(openai_server.url + "/__parlel/requests").json()
    assert listing["count"] == 2
    first, second = listing["requests"]
    assert (first["n"], first["method"], first["path"], first["body"]) == (1, "GET", "/v1/models/gpt-4o", "")
    assert (second["n"], second["kind"], second["method"], second["path"]) == (2, "chat", "POST", "/v1/chat/completions")
    assert second["body"] == {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    assert second["headers"]["content-type"] == "application/json"
    assert second["headers"]["authorization"].startswith("Bearer sk-")
    assert "pytest-openai-fake" not in second["headers"]["authorization"]  # masked like the 401 text

    assert httpx2.delete(openai_server.url + "/__parlel/requests").json() == {"ok": True, "count": 0, "deleted": 2}
    assert httpx2.get(openai_server.url + "/__parlel/requests").json() == {"requests": [], "count": 0}


def test_parlel_reset_answers_ok(openai_server: FakeOpenAI):
    assert httpx2.post(openai_server.url + "/__parlel/reset").json()["ok"] is True


def test_options_is_204_with_cors(openai_server: FakeOpenAI):
    response = httpx2.options(openai_server.base_url + "/chat/completions", headers={"Origin": "http://localhost:3000"})
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert "POST" in response.headers["access-control-allow-methods"]
    assert response.headers["access-control-allow-headers"] == "*"
    assert len(openai_server.requests) == 0


def test_api_responses_carry_cors_origin(openai_server: FakeOpenAI):
    response = httpx2.get(openai_server.base_url + "/models", headers=AUTH)
    assert response.headers["access-control-allow-origin"] == "*"


def test_fake_without_pytest_as_context_manager():
    with FakeOpenAI() as fake:
        assert fake.running
        assert fake.base_url == f"http://127.0.0.1:{fake.port}/v1"
        reply = fake.client().chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
        assert reply.choices[0].message.content
        assert fake.requests.last.endpoint == "chat.completions.create"
    assert not fake.running


def test_client_arguments_can_be_overridden():
    with FakeOpenAI() as fake, httpx2.Client() as own:
        client = fake.client(http_client=own, max_retries=3, api_key="sk-mine")
        assert client.max_retries == 3
        assert client.models.retrieve("gpt-4o").id == "gpt-4o"
        assert fake.requests.last.headers["authorization"] == "Bearer *******"  # masked by default


def test_blob_is_served_without_auth_until_reset(openai_server: FakeOpenAI):
    openai_server.state.blobs["img/abc.png"] = Blob("image/png", b"\x89PNG...")
    response = httpx2.get(openai_server.url + "/__fake/blobs/img/abc.png")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content == b"\x89PNG..."
    assert len(openai_server.requests) == 0  # a tool path, not an API call
    openai_server.reset()
    missing = httpx2.get(openai_server.url + "/__fake/blobs/img/abc.png")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"].startswith("No blob named")


@pytest.mark.parametrize("path", ["/__fake//requests", "/__parlel//requests", "/__fake/blobs//x", "/__fake//reset"])
def test_tool_paths_with_double_slashes_are_404_envelopes(openai_server: FakeOpenAI, path):
    response = httpx2.get(openai_server.url + path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] == "unknown_url"
