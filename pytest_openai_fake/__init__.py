"""pytest-openai-fake: a deterministic, in-memory fake of the OpenAI API for your tests."""

from __future__ import annotations

__version__ = "0.1.0.dev0"

from .app import Problem
from .capture import CapturedRequest, RequestLog
from .errors import OpenAIError
from .fake import FAKE_API_KEY, FakeOpenAI

__all__ = [
    "FAKE_API_KEY",
    "CapturedRequest",
    "FakeOpenAI",
    "OpenAIError",
    "Problem",
    "RequestLog",
    "__version__",
]
