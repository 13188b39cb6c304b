"""The fake over HTTPS and HTTP/2: for clients that refuse http:// or insist on HTTP/2.

Run a whole suite over HTTPS with ``pytest --openai-fake-tls`` (the fixture clients trust the
fake's throwaway CA); here one test makes its own HTTPS fake. Needs
``pip install 'pytest-openai-fake[http2]'`` (trustme and h2).
"""

import ssl

import openai
import pytest

from pytest_openai_fake import FakeOpenAI

pytest.importorskip("trustme", reason="needs pytest-openai-fake[tls]")
pytest.importorskip("h2", reason="needs pytest-openai-fake[http2]")


@pytest.fixture(scope="module")
def https_fake():
    with FakeOpenAI(tls=True) as fake:  # a throwaway CA and a certificate for 127.0.0.1 / localhost
        yield fake


def test_https(https_fake):
    assert https_fake.base_url.startswith("https://")
    client = https_fake.client()  # trusts https_fake.ca_bundle
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert https_fake.requests.last.endpoint == "chat.completions.create"


def test_http2_streaming(https_fake):
    # What any client needs: the CA bundle (or SSL_CERT_FILE / REQUESTS_CA_BUNDLE / NODE_EXTRA_CA_CERTS).
    trust = ssl.create_default_context(cafile=https_fake.ca_bundle)
    # openai.DefaultHttpxClient: the SDK's own HTTP client class (httpx2 under openai 3.x, httpx under 2.x).
    with openai.DefaultHttpxClient(http2=True, verify=trust) as http:
        client = https_fake.client(http_client=http)
        https_fake.on("chat.completions.create").respond("streamed over HTTP/2")
        with client.chat.completions.with_streaming_response.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}], stream=True
        ) as response:
            assert response.http_version == "HTTP/2"
            text = "".join(chunk.choices[0].delta.content or "" for chunk in response.parse() if chunk.choices)
    assert text == "streamed over HTTP/2"
