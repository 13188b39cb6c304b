"""Shared fixtures: strict SDK clients (every response must validate) and a clean pytester."""

from __future__ import annotations

from typing import Any

# httpx2 imports httpcore2 lazily, on the first request, and caches httpcore2's exception classes
# to translate them. If that first import happens inside an in-process ``pytester.runpytest()``,
# pytester drops the module afterwards, the next import makes new classes, and every later
# connection error escapes as a raw ``httpcore2.ReadError`` instead of ``openai.APIConnectionError``.
# Importing it here keeps one httpcore2 for the whole session. Under openai 2.x the SDK is on
# httpx, which does the same with httpcore: import the core of whichever library the SDK uses.
import importlib

import pytest

from pytest_openai_fake import FakeOpenAI
from pytest_openai_fake.sdk import http_module

importlib.import_module({"httpx2": "httpcore2", "httpx": "httpcore"}[http_module().__name__])


@pytest.fixture
def client(openai_server: FakeOpenAI) -> Any:
    """``openai.OpenAI`` with ``_strict_response_validation=True``."""
    return openai_server.client(_strict_response_validation=True)


@pytest.fixture
def async_client(openai_server: FakeOpenAI) -> Any:
    """``openai.AsyncOpenAI`` with ``_strict_response_validation=True``."""
    return openai_server.async_client(keep_alive=False, _strict_response_validation=True)


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """``pytester`` that does not inherit this run's PYTEST_ADDOPTS or port settings."""
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    monkeypatch.delenv("PYTEST_OPENAI_FAKE_PORT", raising=False)
    monkeypatch.delenv("PYTEST_OPENAI_FAKE_TLS", raising=False)
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    return pytester
