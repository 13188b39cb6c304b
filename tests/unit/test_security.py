"""A web page cannot reach into the fake: no CORS on tool routes, foreign Host headers refused,
generated URLs from the bound address, credentials masked in the log."""

from __future__ import annotations

import socket

import httpx2
import openai
import pytest

from pytest_openai_fake import FakeOpenAI
from pytest_openai_fake.app import mask_credential
from pytest_openai_fake.errors import INVALID_AUTH_HEADER, mask_key

AUTH = {"Authorization": "Bearer sk-test-0123456789abcdef"}
SECRET = "sk-proj-0123456789abcdefghijklmnopqrstuvwxyz"


def raw_get(port: int, head: bytes) -> tuple[int, bytes]:
    """One request as raw bytes (to send any Host header, or none), the status and body back."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(head)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, data.partition(b"\r\n\r\n")[2]


@pytest.mark.parametrize("path", ["/__fake/requests", "/__parlel/requests", "/__fake/scripts", "/health", "/"])
def test_tool_routes_send_no_cors_header(openai_server: FakeOpenAI, path):
    response = httpx2.get(openai_server.url + path, headers={"Origin": "http://evil.example"})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


def test_tool_preflight_is_not_allowed_cross_origin(openai_server: FakeOpenAI):
    response = httpx2.options(
        openai_server.url + "/__fake/reset",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in response.headers


def test_blobs_send_no_cors_header(openai_server: FakeOpenAI, client):
    image = client.images.generate(model="dall-e-2", prompt="a cat", response_format="url")
    assert image.data is not None and image.data[0].url is not None
    response = httpx2.get(image.data[0].url, headers={"Origin": "http://evil.example"})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


def test_api_routes_keep_cors(openai_server: FakeOpenAI):
    response = httpx2.get(openai_server.base_url + "/models", headers={**AUTH, "Origin": "http://localhost:3000"})
    assert response.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "attacker.test:80", "127.0.0.1.evil.example"])
@pytest.mark.parametrize("path", ["/__fake/requests", "/v1/models", "/"])
def test_a_foreign_host_header_is_refused(openai_server: FakeOpenAI, host, path):
    response = httpx2.get(openai_server.url + path, headers={**AUTH, "Host": host.format(port=openai_server.port)})
    assert response.status_code == 421
    assert response.json()["error"]["code"] == "host_not_allowed"
    assert "access-control-allow-origin" not in response.headers
    assert len(openai_server.requests) == 0


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.0.0.1:{port}", "localhost", "LOCALHOST:{port}", "[::1]:{port}", "[::1]"]
)
def test_loopback_host_names_are_answered(openai_server: FakeOpenAI, host):
    response = httpx2.get(
        openai_server.base_url + "/models", headers={**AUTH, "Host": host.format(port=openai_server.port)}
    )
    assert response.status_code == 200


def test_localhost_and_azure_clients_work(openai_server: FakeOpenAI):
    local = openai.OpenAI(api_key="sk-test", base_url=f"http://localhost:{openai_server.port}/v1", max_retries=0)
    assert local.models.retrieve("gpt-4o").id == "gpt-4o"
    with FakeOpenAI(provider="azure") as fake:
        azure = openai.AzureOpenAI(api_key="k", azure_endpoint=fake.url, api_version="2024-10-21", max_retries=0)
        reply = azure.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
        assert reply.choices[0].message.content


def test_http10_without_host_is_answered(openai_server: FakeOpenAI):
    status, body = raw_get(openai_server.port, b"GET /health HTTP/1.0\r\n\r\n")
    assert (status, body) == (200, b'{"status":"ok"}')


def test_allowed_hosts_are_answered():
    with FakeOpenAI(allowed_hosts=["fake.internal"]) as fake:
        assert httpx2.get(fake.url + "/health", headers={"Host": f"fake.internal:{fake.port}"}).status_code == 200
        assert httpx2.get(fake.url + "/health", headers={"Host": "other.internal"}).status_code == 421


def test_generated_urls_use_the_bound_address_not_the_host_header(openai_server: FakeOpenAI):
    headers = {**AUTH, "Host": f"localhost:{openai_server.port}"}
    index = httpx2.get(openai_server.url + "/", headers=headers).json()
    assert index["base_url"] == openai_server.base_url
    assert index["tools"]["requests"] == openai_server.url + "/__fake/requests"
    image = httpx2.post(
        openai_server.base_url + "/images/generations",
        headers=headers,
        json={"model": "dall-e-2", "prompt": "a cat", "response_format": "url"},
    ).json()
    assert image["data"][0]["url"].startswith(openai_server.url + "/__fake/blobs/")


def test_the_401_message_and_the_log_mask_alike():
    assert mask_credential(f"Bearer {SECRET}") == f"Bearer {mask_key(SECRET)}"
    assert mask_key(SECRET) in INVALID_AUTH_HEADER.format(shown=mask_key(SECRET))
    assert SECRET[-4:] in mask_key(SECRET) and SECRET not in mask_key(SECRET)


def test_credentials_are_masked_in_the_python_log(openai_server: FakeOpenAI):
    client = openai.OpenAI(api_key=SECRET, base_url=openai_server.base_url, max_retries=0)
    client.models.list()
    assert openai_server.requests.last.headers["authorization"] == f"Bearer {mask_key(SECRET)}"
    assert SECRET not in repr(openai_server.requests.last)


def test_credentials_are_masked_in_the_http_log_even_when_kept():
    with FakeOpenAI(keep_credentials=True) as fake:
        openai.OpenAI(api_key=SECRET, base_url=fake.base_url, max_retries=0).models.list()
        assert fake.requests.last.headers["authorization"] == f"Bearer {SECRET}"
        for path in ("/__fake/requests", "/__parlel/requests"):
            served = httpx2.get(fake.url + path).text
            assert SECRET not in served
            assert mask_key(SECRET) in served


def test_azure_api_key_header_is_masked():
    with FakeOpenAI(provider="azure") as fake:
        azure = openai.AzureOpenAI(api_key=SECRET, azure_endpoint=fake.url, api_version="2024-10-21", max_retries=0)
        azure.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
        assert fake.requests.last.headers["api-key"] == mask_key(SECRET)
        assert SECRET not in httpx2.get(fake.url + "/__fake/requests").text
