"""RequestLog and CapturedRequest: immutable, thread-safe, easy to assert on."""

from __future__ import annotations

import dataclasses
import re
import threading

import pytest

from pytest_openai_fake import CapturedRequest, FakeOpenAI, RequestLog


def captured(index: int, endpoint: str | None = "chat.completions.create", body: bytes = b'{"model": "gpt-4o"}', status: int = 200) -> CapturedRequest:
    return CapturedRequest(
        method="POST", path="/v1/chat/completions", query={}, headers={"authorization": "Bearer x"},
        body=body, endpoint=endpoint, status=status, index=index,
    )


def test_captured_requests_are_immutable():
    request = captured(0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.status = 500  # type: ignore[misc]


def test_json_and_model_are_parsed_lazily():
    assert captured(0).json == {"model": "gpt-4o"}
    assert captured(0).model == "gpt-4o"
    assert captured(0, body=b"not json").json is None
    assert captured(0, body=b"").json is None


def test_last_first_len_index_iter():
    log = RequestLog()
    assert len(log) == 0 and not log
    with pytest.raises(IndexError, match="no OpenAI requests were captured"):
        log.last
    for i in range(3):
        log.append(captured(i))
    assert log.last.index == 2 and log.first.index == 0
    assert log[1].index == 1 and [r.index for r in log[1:]] == [1, 2]
    assert [r.index for r in log] == [0, 1, 2]
    log.clear()
    assert len(log) == 0


def test_filter():
    log = RequestLog([captured(0), captured(1, endpoint="models.list"), captured(2, status=400)])
    assert [r.index for r in log.filter(endpoint="chat.completions.create")] == [0, 2]
    assert [r.index for r in log.filter(status=400)] == [2]
    assert [r.index for r in log.filter(path=re.compile(r"/chat/"))] == [0, 1, 2]
    assert [r.index for r in log.filter(lambda r: r.index > 0, endpoint="models.list")] == [1]
    assert [r.index for r in log.filter(method="post", model="gpt-4o")] == [0, 1, 2]
    assert log.endpoints == ["chat.completions.create", "models.list", "chat.completions.create"]


def test_concurrent_requests_are_all_captured(openai_server: FakeOpenAI):
    client = openai_server.client()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(10):
                client.models.retrieve("gpt-4o")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    assert len(openai_server.requests) == 40
    assert sorted(r.index for r in openai_server.requests) == list(range(40))


def test_summary_is_one_short_line():
    line = captured(0, body=b'{"model": "gpt-4o",\n "messages": [' + b'"x", ' * 100 + b'"y"]}').summary(width=60)
    assert "\n" not in line
    assert line.startswith("POST /v1/chat/completions model=gpt-4o -> 200 ")
    assert line.endswith("...")
