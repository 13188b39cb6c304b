"""Vector stores, their files and file batches, search, and ``file_search`` in the Responses API,
through the real SDK with strict response validation."""

from __future__ import annotations

import openai
import pytest
from openai.types.shared.comparison_filter import ComparisonFilter

from tests.sdk_features import sdk_literal_has, sdk_takes

from pytest_openai_fake.resources import _documents

REFUNDS = "# Refunds\n\nCustomers may request a refund within 30 days of purchase. Refunds go back to the original card."
SHIPPING = "Shipping takes five business days within Europe and ten business days to Asia."
SECURITY = "<html><head><style>p {color: red}</style><script>var secret = 1;</script></head><body><h1>Security</h1><p>Passwords are hashed with bcrypt &amp; salted.</p></body></html>"
DOCS = {"refunds.md": REFUNDS, "shipping.txt": SHIPPING, "security.html": SECURITY}


def upload(client, name: str, text: str | bytes) -> str:
    data = text.encode() if isinstance(text, str) else text
    return client.files.create(file=(name, data), purpose="assistants").id


@pytest.fixture
def store(client):
    """A store holding the three documents, each with a ``topic`` attribute and a ``year``."""
    vs = client.vector_stores.create(name="kb")
    for year, (name, text) in enumerate(DOCS.items(), start=2024):
        file_id = upload(client, name, text)
        client.vector_stores.files.create(vector_store_id=vs.id, file_id=file_id, attributes={"topic": name.split(".")[0], "year": year})
    return vs


# -- stores ----------------------------------------------------------------------------------------


@pytest.mark.skipif(not sdk_takes(openai.resources.vector_stores.VectorStores.create, "description"), reason="this openai SDK has no vector store description")
def test_store_create_retrieve_update_list_delete(client, openai_server):
    file_id = upload(client, "refunds.md", REFUNDS)
    vs = client.vector_stores.create(
        name="kb", file_ids=[file_id], metadata={"team": "support"}, description="Support articles", expires_after={"anchor": "last_active_at", "days": 7}
    )
    assert vs.id.startswith("vs_") and vs.object == "vector_store" and vs.status == "completed"
    assert vs.file_counts.model_dump() == {"cancelled": 0, "completed": 1, "failed": 0, "in_progress": 0, "total": 1}
    assert vs.usage_bytes == len(REFUNDS.encode())
    assert vs.metadata == {"team": "support"} and vs.name == "kb"
    assert vs.last_active_at == vs.created_at and vs.expires_at == vs.created_at + 7 * 86400
    assert client.vector_stores.retrieve(vs.id) == vs

    openai_server.clock.advance(60)
    updated = client.vector_stores.update(vs.id, name="kb2", metadata={"team": "sales"}, expires_after={"anchor": "last_active_at", "days": 1})
    assert (updated.name, updated.metadata, updated.expires_at) == ("kb2", {"team": "sales"}, vs.last_active_at + 86400)

    other = client.vector_stores.create()
    assert other.name == "" and other.expires_at is None
    assert [s.id for s in client.vector_stores.list()] == [other.id, vs.id]
    assert [s.id for s in client.vector_stores.list(order="asc", limit=1).data] == [vs.id]

    deleted = client.vector_stores.delete(vs.id)
    assert (deleted.id, deleted.deleted, deleted.object) == (vs.id, True, "vector_store.deleted")
    with pytest.raises(openai.NotFoundError) as excinfo:
        client.vector_stores.retrieve(vs.id)
    assert excinfo.value.body["message"] == f"No vector store found with id '{vs.id}'."
    assert client.files.retrieve(file_id).id == file_id  # the file itself stays


def test_store_expires_on_the_fake_clock_and_search_moves_last_active_at(client, openai_server, store):
    client.vector_stores.update(store.id, expires_after={"anchor": "last_active_at", "days": 2})
    openai_server.clock.advance(86400)
    client.vector_stores.search(store.id, query="refund")
    seen = client.vector_stores.retrieve(store.id)
    assert seen.last_active_at == store.created_at + 86400 and seen.expires_at == seen.last_active_at + 2 * 86400
    openai_server.clock.advance(2 * 86400 - 1)
    assert client.vector_stores.retrieve(store.id).status == "completed"
    openai_server.clock.advance(1)
    assert client.vector_stores.retrieve(store.id).status == "expired"
    with pytest.raises(openai.BadRequestError):
        client.vector_stores.search(store.id, query="refund")
    with pytest.raises(openai.BadRequestError):
        client.vector_stores.files.create(vector_store_id=store.id, file_id=upload(client, "a.txt", "text"))


def test_unknown_store_and_file_are_404(client, store):
    with pytest.raises(openai.NotFoundError):
        client.vector_stores.search("vs_missing", query="x")
    with pytest.raises(openai.NotFoundError):
        client.vector_stores.files.retrieve("file-missing", vector_store_id=store.id)
    with pytest.raises(openai.NotFoundError) as excinfo:
        client.vector_stores.files.create(vector_store_id=store.id, file_id="file-missing")
    assert excinfo.value.body["message"] == "No such File object: 'file-missing'"


# -- files ------------------------------------------------------------------------------------------


def test_files_in_a_store(client, store):
    listed = list(client.vector_stores.files.list(store.id))
    assert len(listed) == 3 and all(f.object == "vector_store.file" and f.status == "completed" for f in listed)
    first = listed[-1]  # newest first
    assert first.vector_store_id == store.id and first.attributes == {"topic": "refunds", "year": 2024}
    assert first.chunking_strategy.type == "static"
    assert first.chunking_strategy.static.model_dump() == {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 400}
    assert client.vector_stores.files.retrieve(first.id, vector_store_id=store.id) == first

    updated = client.vector_stores.files.update(first.id, vector_store_id=store.id, attributes={"topic": "money", "public": True})
    assert updated.attributes == {"topic": "money", "public": True}

    content = list(client.vector_stores.files.content(file_id=listed[0].id, vector_store_id=store.id))
    assert [c.model_dump() for c in content] == [{"type": "text", "text": "Security\nPasswords are hashed with bcrypt & salted."}]

    gone = client.vector_stores.files.delete(first.id, vector_store_id=store.id)
    assert (gone.id, gone.deleted, gone.object) == (first.id, True, "vector_store.file.deleted")
    assert client.vector_stores.retrieve(store.id).file_counts.total == 2
    assert client.files.retrieve(first.id).id == first.id


def test_sdk_helpers_create_and_poll_and_upload_and_poll(client):
    vs = client.vector_stores.create(name="helpers")
    polled = client.vector_stores.files.create_and_poll(file_id=upload(client, "a.md", "alpha beta"), vector_store_id=vs.id)
    assert polled.status == "completed"
    uploaded = client.vector_stores.files.upload_and_poll(vector_store_id=vs.id, file=("b.py", b"def gamma(): return 1\n"))
    assert uploaded.status == "completed"
    batch = client.vector_stores.file_batches.upload_and_poll(vs.id, files=[("c.json", b'{"delta": 1}'), ("d.csv", b"name,value\nepsilon,2\n")])
    assert batch.status == "completed" and batch.file_counts.completed == 2
    assert client.vector_stores.retrieve(vs.id).file_counts.completed == 4
    hits = client.vector_stores.search(vs.id, query="epsilon")
    assert [h.filename for h in hits] == ["d.csv"]


def test_in_progress_on_the_fake_clock(client, openai_server):
    openai_server.state.vector_store_file_seconds = 5
    vs = client.vector_stores.create(name="slow")
    attached = client.vector_stores.files.create(vector_store_id=vs.id, file_id=upload(client, "a.txt", "alpha"))
    assert attached.status == "in_progress" and attached.usage_bytes == 0
    assert client.vector_stores.retrieve(vs.id).status == "in_progress"
    assert client.vector_stores.search(vs.id, query="alpha").data == []  # not searchable yet
    assert [f.id for f in client.vector_stores.files.list(vs.id, filter="in_progress")] == [attached.id]
    openai_server.clock.advance(5)
    done = client.vector_stores.files.retrieve(attached.id, vector_store_id=vs.id)
    assert done.status == "completed" and done.usage_bytes == 5
    assert client.vector_stores.retrieve(vs.id).status == "completed"
    assert [h.filename for h in client.vector_stores.search(vs.id, query="alpha")] == ["a.txt"]


def test_unreadable_files_fail_with_the_api_last_error(client):
    vs = client.vector_stores.create()
    not_text = client.vector_stores.files.create(vector_store_id=vs.id, file_id=upload(client, "notes.txt", b"\xff\xfe\x00binary"))
    assert not_text.status == "failed"
    assert not_text.last_error.model_dump() == {"code": "unsupported_file", "message": "The file type is not supported."}
    slides = client.vector_stores.files.create(vector_store_id=vs.id, file_id=upload(client, "deck.pptx", b"PK\x03\x04"))
    assert slides.status == "failed" and slides.last_error.code == "unsupported_file"
    assert client.vector_stores.retrieve(vs.id).file_counts.failed == 2
    assert list(client.vector_stores.files.content(file_id=slides.id, vector_store_id=vs.id)) == []


def test_pdf_and_docx_without_the_extra_are_unsupported(client, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def without_the_extra(name, *args, **kwargs):
        if name in ("pypdf", "docx"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_the_extra)
    vs = client.vector_stores.create()
    for name, data in (("report.pdf", b"%PDF-1.4\n"), ("handbook.docx", b"PK\x03\x04")):
        attached = client.vector_stores.files.create(vector_store_id=vs.id, file_id=upload(client, name, data))
        assert attached.status == "failed" and attached.last_error.code == "unsupported_file"


def tiny_pdf(text: str) -> bytes:
    """A one-page PDF that shows ``text`` in Helvetica (objects and xref offsets written out)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_pdf_text_with_the_documents_extra(client):
    pytest.importorskip("pypdf")
    vs = client.vector_stores.create()
    pdf = client.vector_stores.files.create(vector_store_id=vs.id, file_id=upload(client, "report.pdf", tiny_pdf("Quarterly revenue grew nine percent.")))
    assert pdf.status == "completed"
    assert [c.text for c in client.vector_stores.files.content(file_id=pdf.id, vector_store_id=vs.id)] == ["Quarterly revenue grew nine percent."]
    assert client.vector_stores.search(vs.id, query="revenue").data[0].filename == "report.pdf"
    broken = client.vector_stores.files.create(vector_store_id=vs.id, file_id=upload(client, "broken.pdf", b"%PDF-1.4 not really"))
    assert broken.status == "failed" and broken.last_error.code == "invalid_file"


def test_docx_text_with_the_documents_extra(client):
    docx = pytest.importorskip("docx")
    import io

    document = docx.Document()
    document.add_paragraph("Holiday policy")
    document.add_paragraph("Staff get twenty-five vacation days a year.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Carry over", "five days"
    buffer = io.BytesIO()
    document.save(buffer)
    vs = client.vector_stores.create()
    handbook = client.vector_stores.files.create(vector_store_id=vs.id, file_id=upload(client, "handbook.docx", buffer.getvalue()))
    assert handbook.status == "completed"
    text = [c.text for c in client.vector_stores.files.content(file_id=handbook.id, vector_store_id=vs.id)]
    assert text == ["Holiday policy\nStaff get twenty-five vacation days a year.\nCarry over\nfive days"]
    assert client.vector_stores.search(vs.id, query="vacation days").data[0].filename == "handbook.docx"
    broken = client.vector_stores.files.create(vector_store_id=vs.id, file_id=upload(client, "broken.docx", b"PK not a zip"))
    assert broken.status == "failed" and broken.last_error.code == "invalid_file"


def test_an_extension_outside_the_retrieval_list_is_the_api_400(client):
    vs = client.vector_stores.create()
    with pytest.raises(openai.BadRequestError) as excinfo:
        client.vector_stores.files.create(vector_store_id=vs.id, file_id=upload(client, "photo.png", b"\x89PNG"))
    assert excinfo.value.body["message"].startswith("Files with extensions [.png] are not supported for retrieval.")
    assert excinfo.value.body["code"] == "unsupported_file"


# -- file batches -----------------------------------------------------------------------------------


@pytest.mark.skipif(
    not sdk_takes(openai.resources.vector_stores.FileBatches.create, "files"), reason="this openai SDK has no per-file batch entries"
)
def test_file_batches_with_file_ids_and_with_files(client):
    vs = client.vector_stores.create()
    a, b = upload(client, "a.md", "alpha"), upload(client, "b.md", "beta")
    batch = client.vector_stores.file_batches.create(vs.id, file_ids=[a, b], attributes={"source": "wiki"})
    assert batch.id.startswith("vsfb_") and batch.object == "vector_store.files_batch" and batch.status == "completed"
    assert batch.file_counts.total == 2
    assert client.vector_stores.file_batches.retrieve(batch.id, vector_store_id=vs.id) == batch
    assert {f.attributes["source"] for f in client.vector_stores.file_batches.list_files(batch.id, vector_store_id=vs.id)} == {"wiki"}

    c = upload(client, "c.md", "gamma " * 300)
    per_file = client.vector_stores.file_batches.create(
        vs.id,
        files=[
            {"file_id": c, "attributes": {"n": 3}, "chunking_strategy": {"type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 0}}},
            {"file_id": a, "attributes": {"n": 1}},
        ],
    )
    files = {f.id: f for f in client.vector_stores.file_batches.list_files(per_file.id, vector_store_id=vs.id)}
    assert files[c].attributes == {"n": 3} and files[c].chunking_strategy.static.max_chunk_size_tokens == 100
    assert files[a].attributes == {"n": 1} and files[a].chunking_strategy.static.max_chunk_size_tokens == 800
    with pytest.raises(openai.BadRequestError):
        client.vector_stores.file_batches.create(vs.id, file_ids=[a], files=[{"file_id": b}])
    with pytest.raises(openai.BadRequestError):
        client.vector_stores.file_batches.create(vs.id)


def test_file_batch_cancel(client, openai_server):
    openai_server.state.vector_store_file_seconds = 10
    vs = client.vector_stores.create()
    batch = client.vector_stores.file_batches.create(vs.id, file_ids=[upload(client, "a.md", "alpha"), upload(client, "b.md", "beta")])
    assert batch.status == "in_progress" and batch.file_counts.in_progress == 2
    cancelled = client.vector_stores.file_batches.cancel(batch.id, vector_store_id=vs.id)
    assert cancelled.status == "cancelled" and cancelled.file_counts.cancelled == 2
    assert {f.status for f in client.vector_stores.file_batches.list_files(batch.id, vector_store_id=vs.id, filter="cancelled")} == {"cancelled"}
    openai_server.clock.advance(10)
    assert client.vector_stores.retrieve(vs.id).file_counts.cancelled == 2  # cancelled files stay cancelled
    with pytest.raises(openai.BadRequestError):
        client.vector_stores.file_batches.cancel(batch.id, vector_store_id=vs.id)


# -- chunking ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "static, param",
    [
        ({"max_chunk_size_tokens": 99, "chunk_overlap_tokens": 0}, "chunking_strategy.static.max_chunk_size_tokens"),
        ({"max_chunk_size_tokens": 4097, "chunk_overlap_tokens": 0}, "chunking_strategy.static.max_chunk_size_tokens"),
        ({"max_chunk_size_tokens": 200, "chunk_overlap_tokens": 101}, "chunking_strategy.static.chunk_overlap_tokens"),
    ],
)
def test_static_chunking_limits_are_400s(client, static, param):
    vs = client.vector_stores.create()
    with pytest.raises(openai.BadRequestError) as excinfo:
        client.vector_stores.files.create(vector_store_id=vs.id, file_id=upload(client, "a.md", "x"), chunking_strategy={"type": "static", "static": static})
    assert excinfo.value.body["param"] == param


def test_static_chunks_overlap_by_the_given_tokens(client):
    names = ["x" + chr(97 + i // 26) + chr(97 + i % 26) for i in range(250)]  # "xaa", "xab", ...: a token each
    text = " ".join(names)
    vs = client.vector_stores.create()
    client.vector_stores.files.create(
        vector_store_id=vs.id,
        file_id=upload(client, "words.txt", text),
        chunking_strategy={"type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 50}},
    )
    hits = client.vector_stores.search(vs.id, query=text, max_num_results=50)
    chunks = sorted((h.content[0].text.split() for h in hits), key=lambda words: names.index(words[0]))
    assert [(names.index(words[0]), names.index(words[-1])) for words in chunks] == [(0, 99), (50, 149), (100, 199), (150, 249)]


def test_chunk_text_windows():
    chunks = _documents.chunk_text(" ".join(["tok"] * 1000), 800, 400)
    assert len(chunks) == 2 and "".join(chunks[0].text) == " ".join(["tok"] * 800)
    assert _documents.chunk_text("   ", 800, 400) == []


# -- search -----------------------------------------------------------------------------------------


def test_search_ranks_shared_words_higher(client, store):
    page = client.vector_stores.search(store.id, query="How many days do I have to request a refund?")
    assert [h.filename for h in page][:1] == ["refunds.md"]
    assert all(0 <= h.score <= 1 for h in page) and [h.score for h in page] == sorted((h.score for h in page), reverse=True)
    best = page.data[0]
    assert best.attributes == {"topic": "refunds", "year": 2024} and best.content[0].type == "text" and "30 days" in best.content[0].text
    assert page.search_query == ["How many days do I have to request a refund?"]
    again = client.vector_stores.search(store.id, query="How many days do I have to request a refund?")
    assert [h.model_dump() for h in again] == [h.model_dump() for h in page]  # deterministic
    assert client.vector_stores.search(store.id, query="zebra quantum").data == []


def test_search_query_list_max_results_threshold_and_rewrite(client, store):
    both = client.vector_stores.search(store.id, query=["refund", "bcrypt"])
    assert {h.filename for h in both} == {"refunds.md", "security.html"}
    assert len(client.vector_stores.search(store.id, query=["refund", "bcrypt"], max_num_results=1).data) == 1
    assert client.vector_stores.search(store.id, query="refund", ranking_options={"ranker": "auto", "score_threshold": 0.99}).data == []
    rewritten = client.vector_stores.search(store.id, query="What is the refund policy?", rewrite_query=True)
    assert rewritten.search_query == ["refund policy"]
    for bad in (0, 51):
        with pytest.raises(openai.BadRequestError) as excinfo:
            client.vector_stores.search(store.id, query="refund", max_num_results=bad)
        assert excinfo.value.body["param"] == "max_num_results"


@pytest.mark.parametrize(
    "filters, expected",
    [
        ({"type": "eq", "key": "topic", "value": "refunds"}, {"refunds.md"}),
        ({"type": "ne", "key": "topic", "value": "refunds"}, {"shipping.txt", "security.html"}),
        ({"type": "gt", "key": "year", "value": 2024}, {"shipping.txt", "security.html"}),
        ({"type": "gte", "key": "year", "value": 2025}, {"shipping.txt", "security.html"}),
        ({"type": "lt", "key": "year", "value": 2025}, {"refunds.md"}),
        ({"type": "lte", "key": "year", "value": 2025}, {"refunds.md", "shipping.txt"}),
        pytest.param(
            *({"type": "in", "key": "topic", "value": ["shipping", "security"]}, {"shipping.txt", "security.html"}),
            marks=pytest.mark.skipif(not sdk_literal_has(ComparisonFilter.model_fields["type"].annotation, "in"), reason="this openai SDK has no in filter"),
        ),
        pytest.param(
            *({"type": "nin", "key": "topic", "value": ["shipping", "security"]}, {"refunds.md"}),
            marks=pytest.mark.skipif(not sdk_literal_has(ComparisonFilter.model_fields["type"].annotation, "nin"), reason="this openai SDK has no nin filter"),
        ),
        (
            {"type": "and", "filters": [{"type": "gte", "key": "year", "value": 2025}, {"type": "ne", "key": "topic", "value": "security"}]},
            {"shipping.txt"},
        ),
        (
            {"type": "or", "filters": [{"type": "eq", "key": "year", "value": 2024}, {"type": "eq", "key": "topic", "value": "security"}]},
            {"refunds.md", "security.html"},
        ),
    ],
)
def test_search_filters_on_attributes(client, store, filters, expected):
    page = client.vector_stores.search(store.id, query="refund shipping passwords days", filters=filters)
    assert {h.filename for h in page} == expected


async def test_async_store_search(async_client):
    vs = await async_client.vector_stores.create(name="async")
    uploaded = await async_client.vector_stores.files.upload_and_poll(vector_store_id=vs.id, file=("notes.md", b"The launch date is March 3."))
    assert uploaded.status == "completed"
    page = await async_client.vector_stores.search(vs.id, query="launch date")
    assert [h.file_id for h in page.data] == [uploaded.id]
    batch = await async_client.vector_stores.file_batches.upload_and_poll(vs.id, files=[("x.txt", b"x ray")])
    assert batch.status == "completed"


# -- file_search in the Responses API --------------------------------------------------------------


def test_file_search_call_has_the_results_and_the_message_cites_them(client, store):
    response = client.responses.create(
        model="gpt-4o-mini",
        input="How long do customers have to ask for a refund?",
        tools=[{"type": "file_search", "vector_store_ids": [store.id]}],
        include=["file_search_call.results"],
    )
    search, message = response.output
    assert search.type == "file_search_call" and search.queries == ["How long do customers have to ask for a refund?"]
    assert search.results[0].filename == "refunds.md" and "30 days" in search.results[0].text
    assert search.results[0].attributes == {"topic": "refunds", "year": 2024}
    citations = message.content[0].annotations
    assert citations[0].type == "file_citation" and citations[0].file_id == search.results[0].file_id
    assert citations[0].filename == "refunds.md" and citations[0].index == len(message.content[0].text)
    assert len({c.file_id for c in citations}) == len(citations)
    without = client.responses.create(model="gpt-4o-mini", input="How long do customers have to ask for a refund?", tools=[{"type": "file_search", "vector_store_ids": [store.id]}])
    assert without.output[0].results is None


def test_file_search_tool_options_apply(client, store):
    question = "refund shipping passwords days"
    tool = {"type": "file_search", "vector_store_ids": [store.id], "max_num_results": 1}
    one = client.responses.create(model="gpt-4o-mini", input=question, tools=[tool], include=["file_search_call.results"])
    assert len(one.output[0].results) == 1
    only_security = {**tool, "max_num_results": 5, "filters": {"type": "eq", "key": "topic", "value": "security"}}
    filtered = client.responses.create(model="gpt-4o-mini", input=question, tools=[only_security], include=["file_search_call.results"])
    assert [r.filename for r in filtered.output[0].results] == ["security.html"]
    strict = {**tool, "ranking_options": {"score_threshold": 0.99}}
    none_left = client.responses.create(model="gpt-4o-mini", input="file search: " + question, tools=[strict], include=["file_search_call.results"])
    assert none_left.output[0].results == [] and none_left.output[1].content[0].annotations == []
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model="gpt-4o-mini", input="hi", tools=[{"type": "file_search", "vector_store_ids": ["vs_missing"]}])
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model="gpt-4o-mini", input="hi", tools=[{**tool, "max_num_results": 51}])


def test_no_search_without_a_match_or_with_tool_choice_none(client, store):
    tool = {"type": "file_search", "vector_store_ids": [store.id]}
    unrelated = client.responses.create(model="gpt-4o-mini", input="Hello there!", tools=[tool])
    assert [i.type for i in unrelated.output] == ["message"]
    declined = client.responses.create(model="gpt-4o-mini", input="refund", tools=[tool], tool_choice="none")
    assert [i.type for i in declined.output] == ["message"]


def test_streamed_file_search(client, store):
    events = list(
        client.responses.create(
            model="gpt-4o-mini", input="What about a refund?", tools=[{"type": "file_search", "vector_store_ids": [store.id]}], include=["file_search_call.results"], stream=True
        )
    )
    kinds = [e.type for e in events]
    searched = [k for k in kinds if k.startswith("response.file_search_call.")]
    assert searched == ["response.file_search_call.in_progress", "response.file_search_call.searching", "response.file_search_call.completed"]
    assert kinds.index("response.file_search_call.completed") < kinds.index("response.output_text.annotation.added")
    final = events[-1].response
    added = next(e for e in events if e.type == "response.output_text.annotation.added")
    # openai 2.x types the annotation as a bare object: the API's dict
    annotation = added.annotation if isinstance(added.annotation, dict) else added.annotation.model_dump()
    assert annotation["file_id"] == final.output[0].results[0].file_id


def test_a_scripted_reply_replaces_the_message_but_the_search_runs(client, openai_server, store):
    openai_server.on("responses.create").respond("Refunds are possible for 30 days.")
    response = client.responses.create(
        model="gpt-4o-mini", input="refund?", tools=[{"type": "file_search", "vector_store_ids": [store.id]}], include=["file_search_call.results"]
    )
    search, message = response.output
    assert message.content[0].text == "Refunds are possible for 30 days."
    assert message.content[0].annotations[0].filename == search.results[0].filename == "refunds.md"


async def test_async_file_search(async_client):
    vs = await async_client.vector_stores.create()
    await async_client.vector_stores.files.upload_and_poll(vector_store_id=vs.id, file=("menu.md", b"Soup of the day: tomato."))
    response = await async_client.responses.create(model="gpt-4o-mini", input="What is the soup today?", tools=[{"type": "file_search", "vector_store_ids": [vs.id]}])
    assert response.output[1].content[0].annotations[0].filename == "menu.md"


def test_hybrid_search_weights_on_the_tool(client):
    vs = client.vector_stores.create()
    short = client.vector_stores.files.create(vector_store_id=vs.id, file_id=upload(client, "short.md", "refund policy"))
    long = client.vector_stores.files.create(
        vector_store_id=vs.id, file_id=upload(client, "long.md", "refund policy window days card " + " ".join(f"x{c}" for c in "abcdefghij"))
    )
    question = "file search: refund policy window days"

    def ranked(ranking_options):
        tool = {"type": "file_search", "vector_store_ids": [vs.id], **({"ranking_options": ranking_options} if ranking_options else {})}
        response = client.responses.create(model="gpt-4o-mini", input=question, tools=[tool], include=["file_search_call.results"])
        return [r.file_id for r in response.output[0].results]

    # embedding similarity alone favours the short file (fewer words in all); text weight favours
    # the file holding every query word
    assert ranked(None) == [short.id, long.id]
    assert ranked({"hybrid_search": {"embedding_weight": 0.0, "text_weight": 1.0}}) == [long.id, short.id]


def test_lenient_ids_attach_and_search_unknown_objects():
    from pytest_openai_fake import FakeOpenAI

    with FakeOpenAI(lenient_ids=True) as fake:
        client = fake.client(_strict_response_validation=True)
        vs = client.vector_stores.create(file_ids=["file-never-made"])
        assert vs.file_counts.completed == 1
        response = client.responses.create(
            model="gpt-4o-mini", input="file search please", tools=[{"type": "file_search", "vector_store_ids": ["vs_never_made", vs.id]}], include=["file_search_call.results"]
        )
        assert response.output[0].results == []
