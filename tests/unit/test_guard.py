"""NetworkGuard without pytest's hooks. Connects go only to 192.0.2.1 (TEST-NET-1) and only
while a guard is installed, so nothing leaves the machine even if the guard were broken."""

from __future__ import annotations

import asyncio
import socket

import pytest

from pytest_openai_fake.guard import NetworkBlockedError, NetworkGuard, is_provider_host

OFF_MACHINE = ("192.0.2.1", 443)


def originals():
    return socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo


def test_blocks_before_connecting_and_records_it():
    before = originals()
    with NetworkGuard() as guard:
        with socket.socket() as sock:
            sock.settimeout(5)
            with pytest.raises(NetworkBlockedError, match=r"a connection to 192\.0\.2\.1:443, which is not on this machine"):
                sock.connect(OFF_MACHINE)
            with pytest.raises(OSError):
                sock.getpeername()
        with pytest.raises(ConnectionError):
            socket.create_connection(OFF_MACHINE, timeout=5)
        assert [(a.what, a.host, a.port) for a in guard.take_attempts()] == [("connect", "192.0.2.1", 443)] * 2
        assert guard.attempts == []
    assert originals() == before


def test_asyncio_connections_are_blocked_too():
    async def connect():
        await asyncio.wait_for(asyncio.open_connection(*OFF_MACHINE), timeout=5)

    with NetworkGuard() as guard:
        with pytest.raises(NetworkBlockedError):
            asyncio.run(connect())
    assert len(guard.attempts) == 1


def test_message_names_the_host_an_address_was_resolved_from(monkeypatch):
    def fake_getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    with NetworkGuard():
        with pytest.raises(NetworkBlockedError, match=r"db\.example \(192\.0\.2\.1\):5432"):
            socket.create_connection(("db.example", 5432), timeout=5)


@pytest.mark.parametrize("host", ["api.openai.com", "API.OpenAI.com.", "eastus.openai.azure.com", "api.together.ai", "api.together.xyz", "api.mistral.ai"])
def test_provider_hosts(host):
    assert is_provider_host(host)
    with NetworkGuard() as guard:
        with pytest.raises(NetworkBlockedError, match="a real provider API host"):
            socket.getaddrinfo(host, 443)
    assert guard.attempts[0].what == "resolve"


@pytest.mark.parametrize("host", ["openai.azure.com", "example.com", "api.openai.com.evil.example", "xapi.mistral.ai"])
def test_other_hosts_are_not_provider_hosts(host):
    assert not is_provider_host(host)


def test_guards_nest_and_restore_in_reverse_order():
    before = originals()
    outer = NetworkGuard().install()
    inner = NetworkGuard().install()
    with pytest.raises(NetworkBlockedError):
        socket.create_connection(OFF_MACHINE, timeout=5)
    assert len(inner.attempts) == 1 and outer.attempts == []
    inner.uninstall()
    assert originals() != before
    outer.uninstall()
    assert originals() == before
    with pytest.raises(RuntimeError):
        with NetworkGuard() as guard:
            guard.install()
    assert originals() == before
