"""pytest-openai-fake: a deterministic, in-memory fake of the OpenAI API for your tests."""

from __future__ import annotations

__version__ = "0.1.0.dev0"

from .app import Problem
from .capture import CapturedRequest, CapturedResponse, RequestLog, StreamSummary
from .errors import OpenAIError
from .fake import FAKE_API_KEY, FakeOpenAI
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

__all__ = [
    "DEFAULT",
    "FAKE_API_KEY",
    "CapturedRequest",
    "CapturedResponse",
    "FakeOpenAI",
    "OpenAIError",
    "Problem",
    "Reply",
    "RequestLog",
    "Script",
    "ScriptError",
    "StreamSummary",
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
