"""Batches through the real SDK (strict): the lines run through the fake, on the fake clock."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from pytest_openai_fake import FakeOpenAI

CHAT = "/v1/chat/completions"


def line(custom_id: str, content: str = "hi", *, url: str = CHAT, method: str = "POST", **body: Any) -> dict[str, Any]:
    return {
        "custom_id": custom_id,
        "method": method,
        "url": url,
        "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}], **body},
    }


def jsonl(lines: list[Any]) -> bytes:
    return b"".join((item if isinstance(item, bytes) else json.dumps(item).encode()) + b"\n" for item in lines)


def start(client, lines: list[Any], endpoint: str = CHAT) -> Any:
    source = client.files.create(file=("input.jsonl", jsonl(lines)), purpose="batch")
    return client.batches.create(input_file_id=source.id, endpoint=endpoint, completion_window="24h", metadata={"job": "t"})


def results(client, file_id: str | None) -> dict[str, dict[str, Any]]:
    if file_id is None:
        return {}
    return {row["custom_id"]: row for row in map(json.loads, client.files.content(file_id).text.splitlines())}


def test_moves_one_step_per_second_of_the_fake_clock(client, openai_server: FakeOpenAI):
    batch = start(client, [line(f"r{i}") for i in range(4)])
    assert batch.status == "validating" and batch.metadata == {"job": "t"}
    assert batch.expires_at == batch.created_at + 24 * 3600
    seen = []
    for _ in range(3):
        openai_server.clock.advance(1)
        seen.append(client.batches.list().data[0].status)  # list does not count as a poll
    assert seen == ["in_progress", "finalizing", "completed"]
    done = client.batches.retrieve(batch.id)
    assert done.in_progress_at == batch.created_at + 1
    assert done.finalizing_at == batch.created_at + 2
    assert done.completed_at == batch.created_at + 3
    assert done.request_counts.model_dump() == {"total": 4, "completed": 4, "failed": 0}
    assert done.error_file_id is None and done.model == "gpt-4o-mini"


def test_a_polling_loop_ends_by_retrieve_alone(client):
    batch = start(client, [line("a"), line("b")])
    statuses = []
    while batch.status not in ("completed", "failed"):
        batch = client.batches.retrieve(batch.id)
        statuses.append(batch.status)
        assert len(statuses) < 10
    assert statuses == ["in_progress", "finalizing", "completed"]


def test_output_lines_have_the_real_shape_and_match_by_custom_id(client, openai_server: FakeOpenAI):
    ids = [f"req-{i}" for i in range(8)]
    batch = start(client, [line(custom_id, f"question {custom_id}") for custom_id in ids])
    openai_server.clock.advance(3)
    batch = client.batches.retrieve(batch.id)
    raw = client.files.content(batch.output_file_id).text.splitlines()
    rows = [json.loads(text) for text in raw]
    assert [row["custom_id"] for row in rows] != ids, "the output is not in input order"
    assert sorted(row["custom_id"] for row in rows) == ids
    for row in rows:
        assert set(row) == {"id", "custom_id", "response", "error"} and row["error"] is None
        assert row["id"].startswith("batch_req_")
        assert row["response"]["status_code"] == 200 and row["response"]["request_id"].startswith("req_")
        openai.types.chat.ChatCompletion.model_validate(row["response"]["body"])
    usage = [row["response"]["body"]["usage"] for row in rows]
    assert batch.usage.input_tokens == sum(u["prompt_tokens"] for u in usage)
    assert batch.usage.output_tokens == sum(u["completion_tokens"] for u in usage)
    assert batch.usage.total_tokens == batch.usage.input_tokens + batch.usage.output_tokens
    output = client.files.retrieve(batch.output_file_id)
    assert output.purpose == "batch_output" and output.filename.endswith(".jsonl")


def test_lines_run_through_the_app_scripts_faults_and_the_log(client, openai_server: FakeOpenAI):
    openai_server.on("chat.completions.create", message="refund").respond("Refund approved.")
    openai_server.on("chat.completions.create", message="flaky").fail(429)
    batch = start(client, [line("a", "I want a refund"), line("b", "flaky one"), line("c", "hello")])
    openai_server.clock.advance(3)
    batch = client.batches.retrieve(batch.id)
    assert batch.request_counts.model_dump() == {"total": 3, "completed": 2, "failed": 1}
    output, failed = results(client, batch.output_file_id), results(client, batch.error_file_id)
    assert output["a"]["response"]["body"]["choices"][0]["message"]["content"] == "Refund approved."
    assert "Refund" not in output["c"]["response"]["body"]["choices"][0]["message"]["content"]
    assert list(failed) == ["b"]
    assert failed["b"]["response"]["status_code"] == 429
    assert failed["b"]["response"]["body"]["error"]["type"]
    from_batch = openai_server.requests.filter(lambda r: r.batch_id == batch.id)
    assert len(from_batch) == 3 and {r.endpoint for r in from_batch} == {"chat.completions.create"}
    assert [r.batch_id for r in openai_server.requests.filter(endpoint="batches.create")] == [None]


def test_a_body_the_endpoint_rejects_is_an_error_line(client, openai_server: FakeOpenAI):
    bad = {"custom_id": "bad", "method": "POST", "url": CHAT, "body": {"model": "gpt-4o-mini"}}  # no messages
    batch = start(client, [line("good"), bad])
    openai_server.clock.advance(3)
    batch = client.batches.retrieve(batch.id)
    assert batch.status == "completed"
    failed = results(client, batch.error_file_id)
    assert failed["bad"]["response"]["status_code"] == 400
    assert failed["bad"]["response"]["body"]["error"]["param"] == "messages"
    assert list(results(client, batch.output_file_id)) == ["good"]


def test_embeddings_batch(client, openai_server: FakeOpenAI):
    lines = [{"custom_id": f"e{i}", "method": "POST", "url": "/v1/embeddings", "body": {"model": "text-embedding-3-small", "input": f"text {i}"}} for i in range(3)]
    batch = start(client, lines, endpoint="/v1/embeddings")
    openai_server.clock.advance(3)
    batch = client.batches.retrieve(batch.id)
    rows = results(client, batch.output_file_id)
    assert len(rows["e1"]["response"]["body"]["data"][0]["embedding"]) == 1536
    direct = client.embeddings.create(model="text-embedding-3-small", input="text 1", encoding_format="float").data[0].embedding
    assert rows["e1"]["response"]["body"]["data"][0]["embedding"] == direct  # the same deterministic answer


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([line("a"), b"{not json", line("c")], [("invalid_json_line", 2, None)]),
        ([line("a"), line("a")], [("duplicate_custom_id", 2, "custom_id")]),
        ([line("a"), line("b", url="/v1/embeddings")], [("url_mismatch", 2, "url")]),
        ([line("a", method="GET")], [("invalid_method", 1, "method")]),
        ([{"custom_id": "a", "method": "POST", "url": CHAT}], [("missing_required_parameter", 1, "body")]),
        ([{"method": "POST", "url": CHAT, "body": {}}], [("missing_required_parameter", 1, "custom_id")]),
        ([], [("empty_file", None, None)]),
    ],
    ids=["json", "duplicate", "url", "method", "body", "custom_id", "empty"],
)
def test_validation_failures(client, openai_server: FakeOpenAI, lines, expected):
    source = client.files.create(file=("input.jsonl", jsonl(lines) or b"\n"), purpose="batch")
    batch = client.batches.create(input_file_id=source.id, endpoint=CHAT, completion_window="24h")
    openai_server.clock.advance(1)
    batch = client.batches.retrieve(batch.id)
    assert batch.status == "failed" and batch.failed_at == batch.created_at + 1
    assert [(e.code, e.line, e.param) for e in batch.errors.data] == expected
    assert all(e.message for e in batch.errors.data)
    assert not openai_server.requests.filter(lambda r: r.batch_id is not None), "no line ran"
    openai_server.clock.advance(10)
    assert client.batches.retrieve(batch.id).status == "failed"


def test_duplicate_custom_id_text_is_the_apis(client, openai_server: FakeOpenAI):
    batch = start(client, [line("x"), line("x")])
    batch = client.batches.retrieve(batch.id)
    assert batch.errors.data[0].message == (
        "The custom_id for this request is a duplicate of another request. "
        "The custom_id parameter must be unique for each request in a batch."
    )


def test_too_many_requests_fails(client, openai_server: FakeOpenAI, monkeypatch):
    from pytest_openai_fake.resources import batches

    monkeypatch.setattr(batches, "MAX_REQUESTS", 2)
    batch = client.batches.retrieve(start(client, [line("a"), line("b"), line("c")]).id)
    assert [e.code for e in batch.errors.data] == ["too_many_tasks"]


def test_create_refuses_a_file_that_is_not_for_batches_and_unknown_ids(client):
    other = client.files.create(file=("x.jsonl", jsonl([line("a")])), purpose="fine-tune")
    with pytest.raises(openai.BadRequestError) as info:
        client.batches.create(input_file_id=other.id, endpoint=CHAT, completion_window="24h")
    assert info.value.body["param"] == "input_file_id"
    with pytest.raises(openai.NotFoundError):
        client.batches.create(input_file_id="file-nope", endpoint=CHAT, completion_window="24h")
    with pytest.raises(openai.BadRequestError):
        client.batches.create(input_file_id=other.id, endpoint="/v1/nope", completion_window="24h")  # type: ignore[arg-type]
    with pytest.raises(openai.NotFoundError):
        client.batches.retrieve("batch_nope")


def test_cancel_keeps_the_lines_done_so_far(client, openai_server: FakeOpenAI):
    batch = start(client, [line(f"r{i}") for i in range(4)])
    openai_server.clock.advance(1)
    assert client.batches.list().data[0].status == "in_progress"  # the first half has run
    cancelling = client.batches.cancel(batch.id)
    assert cancelling.status == "cancelling" and cancelling.cancelling_at == batch.created_at + 1
    openai_server.clock.advance(1)
    cancelled = client.batches.retrieve(batch.id)
    assert cancelled.status == "cancelled" and cancelled.cancelled_at == batch.created_at + 2
    assert cancelled.request_counts.model_dump() == {"total": 4, "completed": 2, "failed": 0}
    assert len(results(client, cancelled.output_file_id)) == 2
    assert len(openai_server.requests.filter(lambda r: r.batch_id == batch.id)) == 2
    with pytest.raises(openai.BadRequestError):
        client.batches.cancel(batch.id)


def test_a_slow_line_holds_the_batch_and_the_window_expires_it(client, openai_server: FakeOpenAI):
    openai_server.on("chat.completions.create", message="slow").delay(90_000)  # 25 h on the fake clock
    batch = start(client, [line("quick", "fast"), line("slow", "slow one")])
    openai_server.clock.advance(5)
    assert client.batches.retrieve(batch.id).status == "in_progress"
    openai_server.clock.advance(24 * 3600)
    expired = client.batches.retrieve(batch.id)
    assert expired.status == "expired" and expired.expired_at == batch.created_at + 5 + 24 * 3600
    assert list(results(client, expired.output_file_id)) == ["quick"]
    failed = results(client, expired.error_file_id)
    assert failed["slow"]["response"] is None
    assert failed["slow"]["error"] == {
        "code": "batch_expired",
        "message": "This request could not be executed before the completion window expired.",
    }
    assert expired.request_counts.model_dump() == {"total": 2, "completed": 1, "failed": 1}


def test_a_short_scripted_delay_counts_on_the_fake_clock(client, openai_server: FakeOpenAI):
    openai_server.on("chat.completions.create").delay(60)
    batch = start(client, [line("a")])
    openai_server.clock.advance(30)
    assert client.batches.retrieve(batch.id).status == "in_progress"  # the line started now
    openai_server.clock.advance(59)
    assert client.batches.retrieve(batch.id).status == "in_progress"
    openai_server.clock.advance(1)
    batch = client.batches.retrieve(batch.id)
    assert batch.status == "completed" and batch.completed_at == batch.created_at + 90


def test_reset_forgets_batches_and_their_files(client, openai_server: FakeOpenAI):
    batch = start(client, [line("a")])
    openai_server.reset()
    with pytest.raises(openai.NotFoundError):
        client.batches.retrieve(batch.id)
    assert client.files.list().data == []


async def test_async_pipeline(async_client, openai_server: FakeOpenAI):
    source = await async_client.files.create(file=("in.jsonl", jsonl([line("a"), line("b")])), purpose="batch")
    batch = await async_client.batches.create(input_file_id=source.id, endpoint=CHAT, completion_window="24h")
    openai_server.clock.advance(3)
    batch = await async_client.batches.retrieve(batch.id)
    assert batch.status == "completed"
    text = (await async_client.files.content(batch.output_file_id)).text
    assert sorted(json.loads(row)["custom_id"] for row in text.splitlines()) == ["a", "b"]
    assert [b.id async for b in async_client.batches.list()] == [batch.id]


@pytest.mark.openai_fake(lenient_ids=True)
def test_lenient_ids_take_an_input_file_never_uploaded(client):
    batch = client.batches.create(input_file_id="file-placeholder", endpoint=CHAT, completion_window="24h")
    failed = client.batches.retrieve(batch.id)
    assert failed.status == "failed" and [e.code for e in failed.errors.data] == ["empty_file"]


def test_an_input_file_deleted_before_validation_is_empty(client):
    batch = start(client, [line("a")])
    client.files.delete(batch.input_file_id)
    assert [e.code for e in client.batches.retrieve(batch.id).errors.data] == ["empty_file"]


def test_a_streaming_line_is_an_error_line_not_a_crash(client, openai_server: FakeOpenAI):
    batch = start(client, [line("s", stream=True), line("n")])
    openai_server.clock.advance(3)
    batch = client.batches.retrieve(batch.id)
    failed = results(client, batch.error_file_id)
    assert failed["s"]["response"]["status_code"] == 400
    assert failed["s"]["response"]["body"]["error"]["param"] == "stream"
    assert list(results(client, batch.output_file_id)) == ["n"]


def test_an_input_file_over_200_mb_fails(client, monkeypatch):
    from pytest_openai_fake.resources import batches

    monkeypatch.setattr(batches, "MAX_INPUT_BYTES", 10)
    batch = client.batches.retrieve(start(client, [line("a")]).id)
    assert [(e.code, e.line) for e in batch.errors.data] == [("file_too_large", None)]
