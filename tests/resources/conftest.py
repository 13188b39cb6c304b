"""Helpers of this directory's WebSocket tests (realtime, transcription, translation, Responses sockets)."""

from __future__ import annotations

import asyncio
import inspect
import threading
from typing import Any

import pytest

#: Seconds ``until`` waits for its event before it fails the test (closing the connection).
WAIT = 20.0


def _until(connection: Any, kind: str, limit: int = 2000, timeout: float = WAIT) -> Any:
    """The events a connection receives up to and including the first of type ``kind`` (a
    coroutine for the SDK's async connections). Fails after ``limit`` events without one, or
    after ``timeout`` seconds (the connection is closed: a missing event fails, never hangs)."""
    if inspect.iscoroutinefunction(connection.recv):
        return _until_async(connection, kind, limit, timeout)
    events: list[Any] = []
    watchdog = threading.Timer(timeout, connection.close)
    watchdog.start()
    try:
        for _ in range(limit):
            event = connection.recv()
            events.append(event)
            if event.type == kind:
                return events
    except Exception as exc:
        if not watchdog.is_alive():
            raise AssertionError(f"no {kind} within {timeout} s; got {[e.type for e in events]}") from exc
        raise
    finally:
        watchdog.cancel()
    raise AssertionError(f"no {kind} in {limit} events")


async def _until_async(connection: Any, kind: str, limit: int, timeout: float) -> list[Any]:
    events: list[Any] = []
    deadline = asyncio.get_running_loop().time() + timeout
    for _ in range(limit):
        try:
            event = await asyncio.wait_for(connection.recv(), deadline - asyncio.get_running_loop().time())
        except asyncio.TimeoutError:
            raise AssertionError(f"no {kind} within {timeout} s; got {[e.type for e in events]}") from None
        events.append(event)
        if event.type == kind:
            return events
    raise AssertionError(f"no {kind} in {limit} events")


@pytest.fixture
def until() -> Any:
    """``until(connection, "response.done")`` (sync) or ``await until(connection, ...)`` (async)."""
    return _until
