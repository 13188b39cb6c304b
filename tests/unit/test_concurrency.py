"""Calls run concurrently: one slow call does not hold up the others, and the log, ids and
problems of each test stay exact (a call that outlives its test writes nothing into the next).

A chat handler is held mid-generation (its prompt-token count waits on an event), so the tests
are about order, not timing: with one lock around every call, nothing else could finish while it
waits.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import openai
import pytest

from pytest_openai_fake import FakeOpenAI
from pytest_openai_fake.resources import chat

ASK = [{"role": "user", "content": "hi"}]
WAIT = 10  # seconds: a bound on every wait, never reached when the fake works


class Gate:
    """Holds every chat completion inside its handler until ``release()``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.entered = threading.Event()
        self.released = threading.Event()
        original = chat.count_prompt_tokens

        def held(*args: Any, **kwargs: Any) -> int:
            self.entered.set()
            assert self.released.wait(WAIT), "the gate was never released"
            return original(*args, **kwargs)

        monkeypatch.setattr(chat, "count_prompt_tokens", held)

    def release(self) -> None:
        self.released.set()


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


def client(fake: FakeOpenAI) -> openai.OpenAI:
    return openai.OpenAI(api_key="sk-test", base_url=fake.base_url, max_retries=0, timeout=WAIT)


def test_a_call_held_in_its_handler_does_not_stall_the_others(fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch):
    gate = Gate(monkeypatch)
    with ThreadPoolExecutor(2) as pool:
        slow = pool.submit(client(fake).chat.completions.create, model="gpt-4o", messages=ASK)
        assert gate.entered.wait(WAIT)
        # the chat call is inside its handler; these go through the store and the log meanwhile
        quick = client(fake)
        assert quick.models.retrieve("gpt-4o").id == "gpt-4o"
        assert [m.id for m in quick.models.list()][:1]
        assert not slow.done()
        assert [r.endpoint for r in fake.requests] == ["models.retrieve", "models.list"]
        gate.release()
        assert slow.result(WAIT).choices[0].message.content
    assert [r.endpoint for r in fake.requests] == ["models.retrieve", "models.list", "chat.completions.create"]
    assert [r.index for r in fake.requests] == [0, 1, 2]


def test_a_call_that_outlives_its_test_is_not_logged_in_the_next(fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch):
    expected_id = client(fake).chat.completions.create(model="gpt-4o", messages=ASK).id
    fake.reset()
    gate = Gate(monkeypatch)
    with ThreadPoolExecutor(1) as pool:
        straggler = pool.submit(client(fake).chat.completions.create, model="gpt-4o", messages=ASK)
        assert gate.entered.wait(WAIT)
        fake.reset()  # the test ends while the call is inside its handler
        gate.release()
        assert straggler.result(WAIT).choices  # answered ...
    assert len(fake.requests) == 0  # ... but not logged in the next test
    assert fake.app.take_problems() == []
    monkeypatch.undo()
    # the next test's ids start where a fresh fake's do: the straggler drew from the old sequence
    assert client(fake).chat.completions.create(model="gpt-4o", messages=ASK).id == expected_id


def test_a_call_that_outlives_its_test_does_not_reach_the_next_tests_store(
    fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
):
    gate = Gate(monkeypatch)
    with ThreadPoolExecutor(1) as pool:
        straggler = pool.submit(client(fake).chat.completions.create, model="gpt-4o", messages=ASK, store=True)
        assert gate.entered.wait(WAIT)
        fake.reset()
        gate.release()
        with pytest.raises(openai.APIConnectionError):  # it would have stored into the next test
            straggler.result(WAIT)
    assert len(fake.requests) == 0
    assert len(fake.state.chat_completions) == 0


def test_concurrent_calls_are_logged_in_order_with_unique_ids(fake: FakeOpenAI):
    def calls(_: int) -> list[str]:
        sdk = client(fake)
        ids = []
        for turn in range(15):
            if turn % 3 == 0:
                ids.append(sdk.chat.completions.create(model="gpt-4o", messages=ASK, store=True).id)
            elif turn % 3 == 1:
                sdk.models.list()
            else:
                ids.append(sdk.embeddings.create(model="text-embedding-3-small", input="hi").model)
        return ids

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(calls, range(8)))
    log = fake.requests
    assert [r.index for r in log] == list(range(8 * 15))
    completion_ids = [i for ids in results for i in ids if i.startswith("chatcmpl-")]
    assert len(set(completion_ids)) == len(completion_ids) == 8 * 5
    assert len(fake.state.chat_completions) == 8 * 5
    assert fake.app.take_problems() == []


def test_a_reply_function_may_call_the_fake_on_a_provider_whose_check_reads_the_store():
    """Azure's check reads the store (deployments): the lock it took is let go before the
    script's reply function runs, so that function can call the fake itself."""
    with FakeOpenAI(provider="azure") as fake:
        inner = openai.AzureOpenAI(
            api_key="k", azure_endpoint=fake.url, api_version="2024-10-21", max_retries=0, timeout=3
        )

        def reply(_: Any) -> str:
            return f"{len(inner.models.list().data)} models"

        fake.on("chat.completions.create").respond(reply)
        outer = openai.AzureOpenAI(
            api_key="k", azure_endpoint=fake.url, api_version="2024-10-21", max_retries=0, timeout=WAIT
        )
        answer = outer.chat.completions.create(model="gpt-4o", messages=ASK)
        assert answer.choices[0].message.content.endswith(" models")
        assert fake.app.take_problems() == []
