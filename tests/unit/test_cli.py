"""``python -m pytest_openai_fake``: the standalone server for clients in any language."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from typing import Iterator

import httpx2
import pytest


def run(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest_openai_fake", *args], capture_output=True, text=True, timeout=timeout)


def test_help_documents_every_option():
    result = run("--help")
    assert result.returncode == 0
    for option in ("--host", "--port", "--provider", "openai 4747", "mistral 4755", "together 4863", "azure 4848", "/__fake/requests", "/__fake/reset", "/health"):
        assert option in result.stdout


def test_unknown_provider_is_rejected_clearly():
    result = run("--provider", "anthropic")
    assert result.returncode == 2
    assert "invalid choice: 'anthropic'" in result.stderr
    assert "openai" in result.stderr


def test_port_in_use_is_a_clear_error():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run("--port", str(port))
    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr


@contextlib.contextmanager
def serving(*args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """The standalone server on a free port, and the first line it printed; killed if left running."""
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest_openai_fake", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        yield process, process.stdout.readline()  # the banner, printed once it serves
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_serves_until_terminated():
    with serving() as (process, banner):
        match = re.search(r"at (http://127\.0\.0\.1:\d+/v1)", banner)
        assert match, banner
        models = httpx2.get(match.group(1) + "/models", headers={"Authorization": "Bearer any"}, timeout=10)
        assert models.status_code == 200 and models.json()["object"] == "list"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert "stopped" in process.stdout.read()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery differs on Windows")
def test_ctrl_c_stops_cleanly():
    with serving() as (process, banner):
        assert "emulating openai" in banner
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        assert "Traceback" not in process.stderr.read()


@pytest.mark.parametrize("provider, base", [("together", "/v1"), ("mistral", "/v1"), ("azure", "/openai/v1")])
def test_serves_each_provider(provider: str, base: str):
    with serving("--provider", provider) as (process, banner):
        match = re.search(rf"emulating {provider} at (http://127\.0\.0\.1:\d+{base})", banner)
        assert match, banner
        models = httpx2.get(match.group(1) + "/models", headers={"Authorization": "Bearer any"}, timeout=10)
        assert models.status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_help_lists_every_tool_endpoint():
    from pytest_openai_fake import FakeOpenAI

    help_text = run("--help").stdout
    rules = list(FakeOpenAI().app._tools.iter_rules())
    assert len(rules) >= 15
    for rule in rules:
        path = rule.rule.replace("<path:name>", "<name>")
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        for method in methods:
            assert re.search(rf"^  {method}\s+{re.escape(path)}\s", help_text, re.MULTILINE), (method, path)
    assert "--allow-host" in help_text


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_exits_within_half_a_second_of_a_signal(signum: int):
    with serving() as (process, banner):
        base = re.search(r"at (http://127\.0\.0\.1:\d+)/v1", banner).group(1)
        # a kept-alive connection is open when the signal comes, after a call loaded the SDK's types
        with httpx2.Client(timeout=5) as http:
            chat = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
            assert http.post(base + "/v1/chat/completions", json=chat, headers={"Authorization": "Bearer any"}).status_code == 200
            sent = time.monotonic()
            process.send_signal(signum)
            assert process.wait(timeout=5) == 0
            elapsed = time.monotonic() - sent
        assert elapsed < 0.5, f"exited {elapsed:.2f} s after the signal"


def test_allow_host_is_answered():
    with serving("--allow-host", "fake.internal") as (process, banner):
        base = re.search(r"at (http://127\.0\.0\.1:\d+)/v1", banner).group(1)
        assert httpx2.get(base + "/health", headers={"Host": "fake.internal:1234"}, timeout=5).status_code == 200
        refused = httpx2.get(base + "/health", headers={"Host": "evil.example"}, timeout=5)
        assert refused.status_code == 421 and refused.json()["error"]["code"] == "host_not_allowed"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_max_request_body_must_be_positive(capsys):
    import pytest as _pytest

    from pytest_openai_fake.__main__ import main

    with _pytest.raises(SystemExit) as exc:
        main(["--max-request-body", "0", "--port", "0"])
    assert exc.value.code == 2
    assert "--max-request-body" in capsys.readouterr().err


def test_serves_the_realtime_socket():
    """The standalone server answers the same WebSockets (any language's client can connect)."""
    pytest.importorskip("wsproto")
    connect = pytest.importorskip("websockets.sync.client").connect
    with serving() as (process, banner):
        base = re.search(r"at http://(127\.0\.0\.1:\d+/v1)", banner).group(1)
        with connect(f"ws://{base}/realtime?model=gpt-realtime", additional_headers={"Authorization": "Bearer any"}, open_timeout=10) as ws:
            assert '"type":"session.created"' in ws.recv(timeout=10)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
