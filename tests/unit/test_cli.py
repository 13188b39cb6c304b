"""``python -m pytest_openai_fake``: the standalone server for clients in any language."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
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
