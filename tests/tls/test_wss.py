"""WebSockets over TLS (``wss://``): the upgrade over HTTP/1.1+TLS on the fake's one port, while
HTTP/2 clients of the same fake keep getting HTTP/2."""

from __future__ import annotations

import ssl
from typing import Any

import pytest

pytest.importorskip("wsproto", reason="needs the realtime extra: pip install 'pytest-openai-fake[realtime]'")
pytest.importorskip("websockets", reason="needs openai[realtime]")
from websockets.sync.client import connect as ws_connect  # noqa: E402

from pytest_openai_fake import FakeOpenAI  # noqa: E402


def test_realtime_over_wss_beside_http2(fake: FakeOpenAI, client: Any, versions: Any, transport: str) -> None:
    assert client.models.list().data  # over h2 or HTTP/1.1, as the transport says (``versions`` checks it)
    with client.realtime.connect(model="gpt-realtime", websocket_connection_options=fake.websocket_options) as connection:
        assert connection.recv().session.type == "realtime"
        connection.session.update(session={"type": "realtime", "output_modalities": ["text"]})
        connection.conversation.item.create(item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"}]})
        connection.response.create()
        for event in connection:
            if event.type == "response.done":
                break
    assert event.response.status == "completed" and event.response.output[0].content[0].text
    assert client.models.list().data  # the HTTP connection still speaks its version after the socket
    assert versions and set(versions) == {"HTTP/2" if transport == "h2" else "HTTP/1.1"}
    assert [r.endpoint for r in fake.requests][:2] == ["models.list", "realtime.connect"]


async def test_responses_socket_over_wss_async(fake: FakeOpenAI, async_client: Any) -> None:
    async with async_client.beta.responses.connect(websocket_connection_options=fake.websocket_options) as connection:
        await connection.response.create(model="gpt-4.1", input="Hello over TLS")
        async for event in connection:
            if event.type == "response.completed":
                break
    assert (await async_client.responses.retrieve(event.response.id)).id == event.response.id


def test_wss_needs_the_fakes_ca(fake: FakeOpenAI) -> None:
    """A client that trusts only the system CAs is refused at the TLS handshake, as for HTTPS."""
    url = fake.base_url.replace("https://", "wss://") + "/realtime?model=gpt-realtime"
    with pytest.raises(ssl.SSLCertVerificationError):
        ws_connect(url, additional_headers={"Authorization": "Bearer sk-test"}, open_timeout=5, ssl=ssl.create_default_context())
    with ws_connect(url, additional_headers={"Authorization": "Bearer sk-test"}, open_timeout=5, ssl=ssl.create_default_context(cafile=fake.ca_bundle)) as ws:
        assert '"session.created"' in ws.recv(timeout=5)


def test_websocket_options_without_tls() -> None:
    with FakeOpenAI() as plain:
        assert plain.websocket_options == {}
        with plain.client().realtime.connect(model="gpt-realtime", websocket_connection_options=plain.websocket_options) as connection:
            assert connection.recv().type == "session.created"
