"""pytest-openai-fake: a deterministic, in-memory fake of the OpenAI API for your tests.

The names below are imported on first use (PEP 562): ``import pytest_openai_fake`` (which the
pytest plugin does on every run) loads neither ``openai`` nor the app until a test needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0.dev0"

if TYPE_CHECKING:
    from .app import Problem
    from .capture import CapturedRequest, CapturedResponse, RequestLog, StreamSummary
    from .errors import OpenAIError
    from .fake import FAKE_API_KEY, FakeOpenAI
    from .guard import NetworkBlockedError, NetworkGuard
    from .server import Limits
    from .tls import Certificate, TLSError
    from .scripting import (
        DEFAULT,
        Reply,
        Script,
        ScriptError,
        content_filter,
        custom_tool_call,
        cut_stream,
        delayed,
        drop,
        error,
        failed,
        message,
        raw,
        refusal,
        stream_error,
        tool_call,
        tool_calls,
    )

#: public name -> the submodule defining it
_LAZY = {
    "Problem": "app",
    "CapturedRequest": "capture",
    "CapturedResponse": "capture",
    "RequestLog": "capture",
    "StreamSummary": "capture",
    "OpenAIError": "errors",
    "FAKE_API_KEY": "fake",
    "FakeOpenAI": "fake",
    "NetworkBlockedError": "guard",
    "NetworkGuard": "guard",
    "Limits": "server",
    "Certificate": "tls",
    "TLSError": "tls",
    **dict.fromkeys(
        (
            "DEFAULT",
            "Reply",
            "Script",
            "ScriptError",
            "content_filter",
            "custom_tool_call",
            "cut_stream",
            "delayed",
            "drop",
            "error",
            "failed",
            "message",
            "raw",
            "refusal",
            "stream_error",
            "tool_call",
            "tool_calls",
        ),
        "scripting",
    ),
}

__all__ = [
    "CapturedRequest",
    "Certificate",
    "CapturedResponse",
    "DEFAULT",
    "FAKE_API_KEY",
    "FakeOpenAI",
    "Limits",
    "NetworkBlockedError",
    "NetworkGuard",
    "OpenAIError",
    "Problem",
    "Reply",
    "RequestLog",
    "Script",
    "ScriptError",
    "StreamSummary",
    "TLSError",
    "__version__",
    "content_filter",
    "custom_tool_call",
    "cut_stream",
    "delayed",
    "drop",
    "error",
    "failed",
    "message",
    "raw",
    "refusal",
    "stream_error",
    "tool_call",
    "tool_calls",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
