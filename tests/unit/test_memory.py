"""A request body is freed when its reply is sent and the log is reset, without the cyclic GC.

A reference cycle between the request wrapper and ``environ["werkzeug.request"]`` kept every body
alive until the garbage collector ran: ten 50 MiB posts with resets in between held 500 MiB.
The collector is disabled here so that only reference counting can give the memory back. The
full-size check (500 MiB) is ``benchmarks/bench_memory.py``.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Iterator

import httpx2
import pytest

from pytest_openai_fake import FakeOpenAI

MIB = 2**20
SIZE = 200 * MIB
AUTH = {"Authorization": "Bearer sk-test", "Content-Type": "application/json"}


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MIB


def settled_rss(limit: float, timeout: float = 3.0) -> float:
    """RSS once it is at most ``limit`` (the server thread may still be finishing its reply)."""
    deadline = time.monotonic() + timeout
    while True:
        now = rss_mib()
        if now <= limit or time.monotonic() > deadline:
            return now
        time.sleep(0.02)


@pytest.fixture
def no_gc() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def big_bodies() -> Iterator[tuple[str, bytes]]:
    yield "unparseable", b"{" + b"x" * SIZE
    yield "valid JSON, refused", b'{"model": "text-embedding-3-small", "input": "hi", "pad": "' + b"x" * SIZE + b'"}'


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc/self/statm")
@pytest.mark.parametrize("kind", ["unparseable", "valid JSON, refused"])
def test_a_big_body_is_freed_after_reset_without_the_gc(no_gc: None, kind: str) -> None:
    with FakeOpenAI() as fake, httpx2.Client(timeout=60) as http:
        http.get(fake.url + "/health")
        baseline = rss_mib()
        payload = dict(big_bodies())[kind]
        status = http.post(fake.base_url + "/embeddings", content=payload, headers=AUTH).status_code
        del payload
        assert status == 400
        assert len(fake.requests) == 1  # the log keeps the body until reset, by design
        fake.reset()
        after = settled_rss(baseline * 1.1 + 5)
        assert after <= baseline * 1.1 + 5, f"RSS {baseline:.0f} MiB before, {after:.0f} MiB after reset"


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc/self/statm")
def test_repeated_big_posts_do_not_accumulate(no_gc: None) -> None:
    with FakeOpenAI() as fake, httpx2.Client(timeout=60) as http:
        http.get(fake.url + "/health")
        baseline = rss_mib()
        for _ in range(3):
            payload = b"{" + b"x" * (50 * MIB)
            http.post(fake.base_url + "/embeddings", content=payload, headers=AUTH)
            del payload
            fake.reset()
        after = settled_rss(baseline * 1.1 + 5)
        assert after <= baseline * 1.1 + 5, f"RSS {baseline:.0f} MiB before, {after:.0f} MiB after three posts"


def test_a_stopped_fake_is_freed_by_reference_counting():
    """No reference cycle keeps an app (and its store, log and bodies) alive until the cycle
    collector runs: its tool handlers were bound methods kept on the app itself."""
    import weakref

    from pytest_openai_fake import FakeOpenAI

    enabled = gc.isenabled()
    gc.disable()
    try:
        fake = FakeOpenAI().start()
        fake.client().models.list()
        httpx2.get(fake.url + "/__fake/requests")
        fake.stop()
        app = weakref.ref(fake.app)
        del fake
        # A joined thread can still hold its last frame's locals (the server) for a moment while
        # the interpreter tears it down; a reference cycle would hold the app for good.
        deadline = time.monotonic() + 2.0
        while app() is not None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert app() is None
    finally:
        if enabled:
            gc.enable()
