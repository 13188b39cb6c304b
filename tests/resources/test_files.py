"""Files and uploads through the real SDK (strict): exact bytes, purposes, limits, parts."""

from __future__ import annotations

import hashlib
import os

import openai
import pytest

from pytest_openai_fake import FakeOpenAI

ALL_BYTES = bytes(range(256)) * 5


def test_create_retrieve_content_exact_bytes(client):
    created = client.files.create(file=("data.bin", ALL_BYTES), purpose="fine-tune")
    assert created.bytes == len(ALL_BYTES) and created.filename == "data.bin"
    assert created.purpose == "fine-tune" and created.status == "processed" and created.expires_at is None
    assert client.files.retrieve(created.id) == created
    assert client.files.content(created.id).content == ALL_BYTES
    assert client.files.wait_for_processing(created.id).status == "processed"


def test_content_larger_than_a_chunk_comes_back_whole(client):
    data = os.urandom(3 * 1024 * 1024 + 17)
    created = client.files.create(file=("big.bin", data), purpose="fine-tune")
    assert client.files.content(created.id).content == data


def test_batch_file_expires_after_30_days_unless_told(client, openai_server: FakeOpenAI):
    batch = client.files.create(file=("in.jsonl", b"{}\n"), purpose="batch")
    assert batch.expires_at == batch.created_at + 30 * 24 * 3600
    told = client.files.create(
        file=("in.jsonl", b"{}\n"), purpose="batch", expires_after={"anchor": "created_at", "seconds": 3600}
    )
    assert told.expires_at == told.created_at + 3600


@pytest.mark.parametrize("purpose", ["user_data", "assistants"])
def test_content_refused_for_purposes_the_api_keeps(client, purpose):
    created = client.files.create(file=("notes.txt", b"secret"), purpose=purpose)
    with pytest.raises(openai.BadRequestError) as info:
        client.files.content(created.id)
    assert info.value.body["message"] == f"Not allowed to download files of purpose: {purpose}"


def test_batch_file_must_be_jsonl(client):
    with pytest.raises(openai.BadRequestError) as info:
        client.files.create(file=("notes.txt", b'{"a": 1}\n'), purpose="batch")
    assert info.value.body["message"] == "Invalid file format for Batch API. Must be .jsonl"


def test_empty_file_is_refused(client):
    with pytest.raises(openai.BadRequestError) as info:
        client.files.create(file=("empty.jsonl", b""), purpose="batch")
    assert info.value.body["param"] == "file"


def test_purpose_outside_the_sdk_literals_is_refused(client):
    with pytest.raises(openai.BadRequestError):
        client.files.create(file=("a.txt", b"x"), purpose="bogus")  # type: ignore[arg-type]


def test_list_filters_pages_and_orders(client):
    ids = [client.files.create(file=(f"f{i}.txt", b"x"), purpose="fine-tune" if i % 2 else "user_data").id for i in range(5)]
    listed = client.files.list()
    assert [f.id for f in listed.data] == ids[::-1]  # newest first
    assert [f.id for f in client.files.list(purpose="fine-tune").data] == [ids[3], ids[1]]
    assert [f.id for f in client.files.list(order="asc", limit=2).data] == ids[:2]
    page = client.files.list(limit=2)
    assert page.has_more and [f.id for f in page.data] == [ids[4], ids[3]]
    assert [f.id for f in client.files.list(limit=2)] == ids[::-1]  # auto-pagination follows ``after``


def test_delete_frees_the_bytes_and_404s_after(client, openai_server: FakeOpenAI):
    created = client.files.create(file=("a.txt", b"abc"), purpose="fine-tune")
    deleted = client.files.delete(created.id)
    assert deleted.deleted and deleted.id == created.id
    assert created.id not in openai_server.app.state.file_data
    with pytest.raises(openai.NotFoundError) as info:
        client.files.retrieve(created.id)
    assert info.value.body["message"] == f"No such File object: '{created.id}'"


async def test_async_files_round_trip(async_client):
    created = await async_client.files.create(file=("a.jsonl", b'{"x": 1}\n'), purpose="batch")
    assert (await async_client.files.content(created.id)).content == b'{"x": 1}\n'
    assert [f.id async for f in async_client.files.list()] == [created.id]


# -- uploads -------------------------------------------------------------------------------------


def test_upload_file_chunked_end_to_end(client):
    data = os.urandom(1000)
    upload = client.uploads.upload_file_chunked(
        file=data, filename="doc.jsonl", bytes=len(data), mime_type="application/jsonl", purpose="batch", part_size=300,
        md5=hashlib.md5(data).hexdigest(),
    )
    assert upload.status == "completed" and upload.file is not None
    assert upload.file.bytes == 1000 and upload.file.filename == "doc.jsonl"
    assert client.files.content(upload.file.id).content == data


def test_upload_file_chunked_from_a_path(client, tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_bytes(b'{"a": 1}\n' * 50)
    upload = client.uploads.upload_file_chunked(file=path, mime_type="application/jsonl", purpose="batch", part_size=128)
    assert client.files.content(upload.file.id).content == path.read_bytes()


def test_complete_joins_parts_in_the_callers_order(client):
    upload = client.uploads.create(bytes=6, filename="x.txt", mime_type="text/plain", purpose="fine-tune")
    first = client.uploads.parts.create(upload.id, data=b"abc")
    second = client.uploads.parts.create(upload.id, data=b"def")
    done = client.uploads.complete(upload.id, part_ids=[second.id, first.id])
    assert client.files.content(done.file.id).content == b"defabc"


def test_byte_count_mismatch_and_md5_mismatch_are_400(client):
    upload = client.uploads.create(bytes=10, filename="x.txt", mime_type="text/plain", purpose="fine-tune")
    part = client.uploads.parts.create(upload.id, data=b"abc")
    with pytest.raises(openai.BadRequestError) as info:
        client.uploads.complete(upload.id, part_ids=[part.id])
    assert info.value.body["param"] == "bytes"
    upload = client.uploads.create(bytes=3, filename="x.txt", mime_type="text/plain", purpose="fine-tune")
    part = client.uploads.parts.create(upload.id, data=b"abc")
    with pytest.raises(openai.BadRequestError) as info:
        client.uploads.complete(upload.id, part_ids=[part.id], md5="0" * 32)
    assert info.value.body["param"] == "md5"
    assert client.uploads.complete(upload.id, part_ids=[part.id], md5=hashlib.md5(b"abc").hexdigest()).status == "completed"


def test_cancel_and_no_parts_after(client):
    upload = client.uploads.create(bytes=3, filename="x.txt", mime_type="text/plain", purpose="fine-tune")
    assert client.uploads.cancel(upload.id).status == "cancelled"
    with pytest.raises(openai.BadRequestError):
        client.uploads.parts.create(upload.id, data=b"abc")


def test_upload_expires_after_an_hour_of_the_fake_clock(client, openai_server: FakeOpenAI):
    upload = client.uploads.create(bytes=3, filename="x.txt", mime_type="text/plain", purpose="fine-tune")
    assert upload.expires_at == upload.created_at + 3600
    part = client.uploads.parts.create(upload.id, data=b"abc")
    openai_server.clock.advance(3600)
    with pytest.raises(openai.BadRequestError) as info:
        client.uploads.complete(upload.id, part_ids=[part.id])
    assert "expired" in info.value.body["message"]


def test_a_part_over_64_mb_is_refused(client):
    upload = client.uploads.create(bytes=64 * 1024 * 1024 + 1, filename="x.bin", mime_type="application/octet-stream", purpose="fine-tune")
    with pytest.raises(openai.BadRequestError) as info:
        client.uploads.parts.create(upload.id, data=b"\0" * (64 * 1024 * 1024 + 1))
    assert info.value.body["param"] == "data"


def test_unknown_upload_is_404(client):
    with pytest.raises(openai.NotFoundError):
        client.uploads.cancel("upload_nope")


# -- memory ----------------------------------------------------------------------------------


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_rss() -> int:
    """The most RSS since ``_reset_peak`` (``VmHWM``)."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError as exc:  # a kernel or sandbox that does not allow it
        pytest.skip(f"cannot reset the peak RSS: {exc}")


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="reads RSS and its peak from /proc (Linux)")
def test_a_200_mb_upload_is_held_once_and_freed_by_reset(client, openai_server: FakeOpenAI):
    size = 200 * 1024 * 1024
    upload = client.uploads.create(bytes=size, filename="big.jsonl", mime_type="application/jsonl", purpose="batch")
    part_ids = []
    for _ in range(4):  # 4 parts of 50 MB: each request body is dropped after its part is kept
        part_ids.append(client.uploads.parts.create(upload.id, data=b"\n" * (size // 4)).id)
    done = client.uploads.complete(upload.id, part_ids=part_ids)
    state = openai_server.app.state
    data = state.file_data[done.file.id]
    assert len(data) == size and not state.upload_parts  # the parts were joined once and freed
    openai_server.requests.clear()  # the log keeps each request's body until reset
    before = _rss()
    _reset_peak()
    with client.files.with_streaming_response.content(done.file.id) as response:
        total = sum(len(chunk) for chunk in response.iter_bytes())
    assert total == size
    assert state.file_data[done.file.id] is data  # read from the one stored object
    assert _peak_rss() - before < size // 4, "a read must not copy the file, even for a moment"
    del data
    openai_server.reset()
    assert _rss() < before - size // 2, "reset frees the file's bytes"


def test_a_file_over_the_size_limit_is_refused(client, monkeypatch):
    from pytest_openai_fake.resources import files

    monkeypatch.setattr(files, "MAX_FILE_BYTES", 10)  # 512 MB in the API: the same check, smaller
    with pytest.raises(openai.BadRequestError) as info:
        client.files.create(file=("a.txt", b"x" * 11), purpose="fine-tune")
    assert info.value.body["param"] == "file"
    assert client.files.create(file=("a.txt", b"x" * 10), purpose="fine-tune").bytes == 10
