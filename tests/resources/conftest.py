"""Helpers of this directory's WebSocket tests (realtime, transcription, translation, Responses sockets)."""

from __future__ import annotations

import inspect
from typing import Any

import pytest


def _until(connection: Any, kind: str, limit: int = 2000) -> Any:
    """The events a connection receives up to and including the first of type ``kind`` (a
    coroutine for the SDK's async connections): fails after ``limit`` events without one."""
    if inspect.iscoroutinefunction(connection.recv):
        return _until_async(connection, kind, limit)
    events = []
    for _ in range(limit):
        event = connection.recv()
        events.append(event)
        if event.type == kind:
            return events
    raise AssertionError(f"no {kind} in {limit} events")


async def _until_async(connection: Any, kind: str, limit: int) -> list[Any]:
    events = []
    for _ in range(limit):
        event = await connection.recv()
        events.append(event)
        if event.type == kind:
            return events
    raise AssertionError(f"no {kind} in {limit} events")


@pytest.fixture
def until() -> Any:
    """``until(connection, "response.done")`` (sync) or ``await until(connection, ...)`` (async)."""
    return _until
