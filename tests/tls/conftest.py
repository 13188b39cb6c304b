"""A TLS fake shared by this directory's tests, and SDK clients over HTTP/1.1 or HTTP/2 to it."""

from __future__ import annotations

import ssl
from typing import Any, AsyncIterator, Iterator

import pytest

pytest.importorskip("trustme", reason="TLS needs the tls extra: pip install 'pytest-openai-fake[tls]'")
pytest.importorskip("h2", reason="HTTP/2 needs the http2 extra: pip install 'pytest-openai-fake[http2]'")

import httpx2  # noqa: E402

from pytest_openai_fake import FakeOpenAI  # noqa: E402

#: httpx2's names for what ALPN negotiated.
VERSIONS = {"h1": "HTTP/1.1", "h2": "HTTP/2"}


@pytest.fixture(scope="module")
def tls_fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(tls=True) as fake:
        yield fake


@pytest.fixture(scope="module")
def trust(tls_fake: FakeOpenAI) -> ssl.SSLContext:
    """What any client needs to trust the fake: its CA bundle (and nothing private of the fake)."""
    return ssl.create_default_context(cafile=tls_fake.ca_bundle)


@pytest.fixture
def fake(tls_fake: FakeOpenAI) -> Iterator[FakeOpenAI]:
    tls_fake.reset()
    yield tls_fake
    problems = tls_fake.take_problems()
    assert not problems, "\n".join(map(str, problems))


@pytest.fixture(params=["h1", "h2"])
def transport(request: pytest.FixtureRequest) -> str:
    return request.param


class Versions(list):
    """The HTTP version of every response a client got (an httpx2 response hook fills it)."""

    def hook(self, response: Any) -> None:
        self.append(response.http_version)


@pytest.fixture
def versions(transport: str) -> Iterator[Versions]:
    seen = Versions()
    yield seen
    assert set(seen) <= {VERSIONS[transport]}, f"negotiated {set(seen)}, expected {VERSIONS[transport]}"


@pytest.fixture
def client(fake: FakeOpenAI, transport: str, trust: ssl.SSLContext, versions: Versions) -> Iterator[Any]:
    """A strict ``openai.OpenAI`` over TLS, offering h2 (ALPN) or not; every response's version is checked."""
    http = httpx2.Client(http2=transport == "h2", verify=trust, event_hooks={"response": [versions.hook]})
    yield fake.client(http_client=http, _strict_response_validation=True)
    http.close()


@pytest.fixture
async def async_client(fake: FakeOpenAI, transport: str, trust: ssl.SSLContext, versions: Versions) -> AsyncIterator[Any]:
    async def hook(response: Any) -> None:
        versions.hook(response)

    http = httpx2.AsyncClient(http2=transport == "h2", verify=trust, event_hooks={"response": [hook]})
    yield fake.async_client(http_client=http, _strict_response_validation=True)
    await http.aclose()
