"""Vector stores: ``/v1/vector_stores``, their files and file batches, and search that finds.

- **Stores**: create (``name``, ``file_ids``, ``chunking_strategy`` for those files,
  ``expires_after``, ``metadata``, ``description``), retrieve, update (``name``,
  ``expires_after``, ``metadata``), list, delete. ``file_counts`` and ``usage_bytes`` (the
  bytes of the extracted text of its completed files) add up the store's files; ``status`` is
  ``in_progress`` while a file is, ``completed`` after, and ``expired`` once the fake clock
  passes ``expires_at`` = ``last_active_at`` + ``expires_after.days``. ``last_active_at``
  moves when the store is created, gets a file, or is searched (directly or by
  ``file_search``). An expired store takes no files and answers no search (a 400).
- **Files** (``vector_stores.files``): attaching a stored file reads its text
  (``_documents``: the API's list of extensions, or its 400) and chunks it (``auto``: 800
  tokens, 400 overlap; ``static``: 100-4096 tokens, overlap at most half). The file is
  ``in_progress`` for ``Store.vector_store_file_seconds`` of the fake clock (0 by default: it
  is ``completed`` in the reply to the attach), then ``completed``, or ``failed`` with the
  API's ``last_error`` when its text cannot be read. Update sets ``attributes``; list filters
  by ``filter`` (status); delete detaches (the file itself stays); ``content`` is the
  extracted text.
- **File batches**: ``file_ids`` (with one ``attributes`` / ``chunking_strategy`` for all) or
  ``files`` (each with its own), not both; the batch is ``in_progress`` while one of its files
  is, then ``completed``; ``cancel`` cancels the files still in progress (``cancelled``).
  ``list_files`` lists the batch's files.
- **Search**: every completed chunk of the store whose ``attributes`` pass ``filters``, scored
  by ``embeddings.similarity`` (the cosine similarity the fake's embedding vectors of the query
  and the chunk have: shared words / all words) against each query (a list of queries: the best
  of them), best first; a chunk sharing no word with the query is no result. ``max_num_results``
  (1-50, default 10), ``ranking_options.score_threshold`` (0-1) and ``rewrite_query`` (the
  query's words without common words, reported in ``search_query``) apply.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable
from typing import Any

from openai.types import VectorStore, VectorStoreDeleted
from openai.types.vector_stores import VectorStoreFile, VectorStoreFileBatch, VectorStoreFileDeleted

from .. import errors
from ..routing import Ctx, Resource
from ..state import Collection, page
from . import generic
from ._documents import RETRIEVAL_EXTENSIONS, Chunk, chunk_text, extension, parse
from .embeddings import similarities, similarity, words
from .files import stored_files

__all__ = ["check_store_ids", "search_stores", "vector_stores"]

vector_stores = Resource("vector_stores")

#: ``auto`` chunking, as the API documents it (and reports it back as ``static``).
AUTO_CHUNK_TOKENS = 800
AUTO_OVERLAP_TOKENS = 400
MIN_CHUNK_TOKENS = 100
MAX_CHUNK_TOKENS = 4096
DEFAULT_MAX_RESULTS = 10
MAX_RESULTS = 50
DAY = 24 * 3600
#: Words ``rewrite_query`` leaves out of the query it searches with.
STOP_WORDS = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "could", "did", "do", "does", "for", "from", "had", "has", "have", "how", "i", "if", "in", "into", "is", "it", "its", "me", "my", "of", "on", "or", "our", "please", "should", "so", "tell", "that", "the", "their", "them", "there", "these", "they", "this", "to", "was", "we", "were", "what", "when", "where", "which", "who", "why", "will", "with", "would", "you", "your"]
)

# Texts: the 404s follow the API's "No <noun> found with id" pattern (the generic layer's);
# UNSUPPORTED_EXTENSION as reported in stdapi-ai/stdapi.ai#275; the others are unverified.
STORE_NOT_FOUND = "No vector store found with id '{id}'."
FILE_NOT_FOUND = "No file found with id '{id}' in vector store '{store}'."
BATCH_NOT_FOUND = "No file batch found with id '{id}' in vector store '{store}'."
UNSUPPORTED_EXTENSION = (
    "Files with extensions [{ext}] are not supported for retrieval. "
    "See https://platform.openai.com/docs/assistants/tools/file-search#supported-files"
)
OVERLAP_TOO_LARGE = (
    "Invalid 'chunking_strategy.static.chunk_overlap_tokens': chunk_overlap_tokens must be less than or "
    "equal to half of max_chunk_size_tokens ({half})."
)
STORE_EXPIRED = "Vector store '{id}' has expired."
BOTH_FILE_LISTS = "Only one of 'file_ids' or 'files' may be provided."
NO_FILE_LIST = "One of 'file_ids' or 'files' must be provided."
CANNOT_CANCEL = "Cannot cancel a vector store file batch with status '{status}'."


# -- state ---------------------------------------------------------------------------------------


def _collection(ctx: Ctx, template: str, scope: tuple[str, ...], noun: str, message: str, param: str) -> Collection:
    """The generic layer's collection at ``template`` under ``scope``, with the family's 404."""
    found = ctx.state.collections.get((template, scope))
    if found is None:
        store = scope[0] if scope else ""
        missing = lambda key: errors.OpenAIError(404, message.format(id=key, store=store), param=param, code="not_found")
        found = ctx.state.collections[(template, scope)] = Collection(noun, missing=missing)
    return found


def _stores(ctx: Ctx) -> Collection:
    return _collection(ctx, "/vector_stores", (), "vector store", STORE_NOT_FOUND, "vector_store_id")


def _files(ctx: Ctx, store_id: str) -> Collection:
    return _collection(ctx, "/vector_stores/{vector_store_id}/files", (store_id,), "vector store file", FILE_NOT_FOUND, "file_id")


def _batches(ctx: Ctx, store_id: str) -> Collection:
    return _collection(ctx, "/vector_stores/{vector_store_id}/file_batches", (store_id,), "file batch", BATCH_NOT_FOUND, "batch_id")


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in row.items() if not key.startswith("_")}


def _store(ctx: Ctx, store_id: str) -> dict[str, Any]:
    """The store, brought up to the fake clock's time."""
    return _settle(ctx, _stores(ctx).get(store_id))


def _settle(ctx: Ctx, store: dict[str, Any]) -> dict[str, Any]:
    """Finish the files whose processing time has passed; recount; expire the store."""
    now = ctx.clock.now()
    files = _files(ctx, store["id"])
    counts = {"in_progress": 0, "completed": 0, "failed": 0, "cancelled": 0, "total": 0}
    usage = 0
    for row in files:
        if row["status"] == "in_progress" and now >= row["_ready_at"]:
            _finish(row)
        counts[row["status"]] += 1
        counts["total"] += 1
        usage += row["usage_bytes"]
    store["file_counts"] = counts
    store["usage_bytes"] = usage
    if store["expires_at"] is not None and now >= store["expires_at"]:
        store["status"] = "expired"
    else:
        store["status"] = "in_progress" if counts["in_progress"] else "completed"
    for batch in _batches(ctx, store["id"]):
        _settle_batch(ctx, store["id"], batch)
    return store


def _finish(row: dict[str, Any]) -> None:
    if row["_error"] is not None:
        row.update(status="failed", last_error=row["_error"], usage_bytes=0)
    else:
        row.update(status="completed", usage_bytes=len(row["_text"].encode()))


def _settle_batch(ctx: Ctx, store_id: str, batch: dict[str, Any]) -> dict[str, Any]:
    files = _files(ctx, store_id)
    counts = {"in_progress": 0, "completed": 0, "failed": 0, "cancelled": 0, "total": 0}
    for file_id in batch["_file_ids"]:
        row = files.find(file_id)
        if row is None or row.get("_batch") != batch["id"]:
            continue  # detached (or attached again by another call) since
        counts[row["status"]] += 1
        counts["total"] += 1
    batch["file_counts"] = counts
    if batch["status"] == "in_progress" and not counts["in_progress"]:
        batch["status"] = "cancelled" if counts["cancelled"] else "completed"
    return batch


def _touch(ctx: Ctx, store: dict[str, Any]) -> None:
    """The store is used now: ``last_active_at`` and, with an ``expires_after``, ``expires_at``."""
    store["last_active_at"] = ctx.clock.now()
    policy = store.get("expires_after")
    store["expires_at"] = store["last_active_at"] + policy["days"] * DAY if policy else None


def _require_active(store: dict[str, Any]) -> None:
    if store["status"] == "expired":
        raise errors.bad_request(STORE_EXPIRED.format(id=store["id"]), param="vector_store_id")


# -- checks --------------------------------------------------------------------------------------


def _chunking(strategy: Any, param: str = "chunking_strategy") -> dict[str, Any]:
    """The ``static`` strategy a file is chunked with (``auto`` or none: 800/400), after the
    API's range checks."""
    if not isinstance(strategy, dict) or strategy.get("type") != "static":
        return {"type": "static", "static": {"max_chunk_size_tokens": AUTO_CHUNK_TOKENS, "chunk_overlap_tokens": AUTO_OVERLAP_TOKENS}}
    static = strategy["static"]
    size, overlap = static["max_chunk_size_tokens"], static["chunk_overlap_tokens"]
    errors.check_range(f"{param}.static.max_chunk_size_tokens", size, minimum=MIN_CHUNK_TOKENS, maximum=MAX_CHUNK_TOKENS)
    errors.check_range(f"{param}.static.chunk_overlap_tokens", overlap, minimum=0)
    if overlap > size // 2:
        raise errors.invalid_value(f"{param}.static.chunk_overlap_tokens", OVERLAP_TOO_LARGE.format(half=size // 2))
    return {"type": "static", "static": {"max_chunk_size_tokens": size, "chunk_overlap_tokens": overlap}}


def _expires_after(policy: Any) -> dict[str, Any] | None:
    if not isinstance(policy, dict):
        return None
    errors.check_range("expires_after.days", policy["days"], minimum=1, maximum=365)
    return {"anchor": policy["anchor"], "days": policy["days"]}


def _check_attributes(attributes: Any, param: str = "attributes") -> None:
    errors.check_metadata(attributes, param)


# -- stores --------------------------------------------------------------------------------------


@vector_stores.route("POST", "/vector_stores", endpoint="vector_stores.create", response=VectorStore)
def create_vector_store(ctx: Ctx) -> dict[str, Any]:
    body, _ = generic.validated(ctx, "vector_stores.create")
    errors.check_metadata(body.get("metadata"))
    policy = _expires_after(body.get("expires_after"))
    chunking = _chunking(body.get("chunking_strategy"))
    sources = [_source(ctx, file_id, "file_ids") for file_id in body.get("file_ids") or []]
    store = {
        "id": ctx.ids.next("vs_"),
        "object": "vector_store",
        "created_at": ctx.clock.now(),
        "name": body.get("name") or "",
        "usage_bytes": 0,
        "file_counts": {},
        "status": "completed",
        "last_active_at": None,
        "metadata": body.get("metadata") or {},
        "expires_after": policy,
        "expires_at": None,
        "_description": body.get("description"),
    }
    _touch(ctx, store)
    _stores(ctx).add(store)
    for source in sources:
        _attach(ctx, store, source, attributes=None, chunking=chunking)
    return _public(_settle(ctx, store))


@vector_stores.route("GET", "/vector_stores/<vector_store_id>", endpoint="vector_stores.retrieve", response=VectorStore)
def retrieve_vector_store(ctx: Ctx, vector_store_id: str) -> dict[str, Any]:
    generic.validated(ctx, "vector_stores.retrieve", {"vector_store_id": vector_store_id})
    return _public(_store(ctx, vector_store_id))


@vector_stores.route("POST", "/vector_stores/<vector_store_id>", endpoint="vector_stores.update", response=VectorStore)
def update_vector_store(ctx: Ctx, vector_store_id: str) -> dict[str, Any]:
    body, _ = generic.validated(ctx, "vector_stores.update", {"vector_store_id": vector_store_id})
    store = _store(ctx, vector_store_id)
    errors.check_metadata(body.get("metadata"))
    if "expires_after" in body:
        store["expires_after"] = _expires_after(body["expires_after"])
        policy = store["expires_after"]
        store["expires_at"] = store["last_active_at"] + policy["days"] * DAY if policy else None
    if body.get("name") is not None:
        store["name"] = body["name"]
    if "metadata" in body:
        store["metadata"] = body["metadata"] or {}
    return _public(_settle(ctx, store))


@vector_stores.route("GET", "/vector_stores", endpoint="vector_stores.list")
def list_vector_stores(ctx: Ctx) -> dict[str, Any]:
    _, query = generic.validated(ctx, "vector_stores.list")
    stores = _stores(ctx)
    for store in stores:
        _settle(ctx, store)
    return _page(stores, query)


@vector_stores.route("DELETE", "/vector_stores/<vector_store_id>", endpoint="vector_stores.delete", response=VectorStoreDeleted)
def delete_vector_store(ctx: Ctx, vector_store_id: str) -> dict[str, Any]:
    generic.validated(ctx, "vector_stores.delete", {"vector_store_id": vector_store_id})
    _stores(ctx).delete(vector_store_id)
    for key in [key for key in ctx.state.collections if key[1][:1] == (vector_store_id,) and key[0].startswith("/vector_stores/")]:
        del ctx.state.collections[key]
    return {"id": vector_store_id, "object": "vector_store.deleted", "deleted": True}


def _page(rows: Iterable[dict[str, Any]], query: dict[str, Any]) -> dict[str, Any]:
    """One cursor page of ``rows`` (oldest first), newest first unless ``order=asc``."""
    found = page(
        list(rows), key=lambda row: str(row["id"]), after=query.get("after"), before=query.get("before"),
        limit=query.get("limit"), order=query.get("order", "desc"),
    )
    found["data"] = [_public(row) for row in found["data"]]
    return found


# -- files ---------------------------------------------------------------------------------------


def _source(ctx: Ctx, file_id: str, param: str) -> dict[str, Any]:
    """The stored file ``file_id`` names (404 if none), after the extension check."""
    files = stored_files(ctx)
    if file_id not in files and ctx.state.lenient_ids:  # a file the fake never stored reads as empty text
        return {"id": file_id, "filename": f"{file_id}.txt"}
    source = files.get(file_id)
    ext = extension(source["filename"])
    if ext not in RETRIEVAL_EXTENSIONS:
        shown = f".{ext}" if ext else source["filename"]
        raise errors.bad_request(UNSUPPORTED_EXTENSION.format(ext=shown), param=param, code="unsupported_file")
    return source


def _attach(
    ctx: Ctx, store: dict[str, Any], source: dict[str, Any], *, attributes: Any, chunking: dict[str, Any], batch: str | None = None
) -> dict[str, Any]:
    """Attach ``source`` to ``store``: read and chunk it now; ``in_progress`` until its time."""
    now = ctx.clock.now()
    parsed = parse(source["filename"], ctx.state.file_data.get(source["id"], b""))
    static = chunking["static"]
    chunks = [] if parsed.error else chunk_text(parsed.text, static["max_chunk_size_tokens"], static["chunk_overlap_tokens"])
    row = {
        "id": source["id"],
        "object": "vector_store.file",
        "usage_bytes": 0,
        "created_at": now,
        "vector_store_id": store["id"],
        "status": "in_progress",
        "last_error": None,
        "chunking_strategy": chunking,
        "attributes": attributes if attributes is not None else {},
        "_ready_at": now + float(ctx.state.vector_store_file_seconds),
        "_error": parsed.error,
        "_text": parsed.text,
        "_chunks": chunks,
        "_words": [chunk.words for chunk in chunks],
        "_filename": source["filename"],
        "_batch": batch,
    }
    files = _files(ctx, store["id"])
    if source["id"] in files:
        files.delete(source["id"])  # attached again: a fresh row, listed as the newest
    files.add(row)
    if now >= row["_ready_at"]:
        _finish(row)
    _touch(ctx, store)
    return row


@vector_stores.route("POST", "/vector_stores/<vector_store_id>/files", endpoint="vector_stores.files.create", response=VectorStoreFile)
def create_vector_store_file(ctx: Ctx, vector_store_id: str) -> dict[str, Any]:
    body, _ = generic.validated(ctx, "vector_stores.files.create", {"vector_store_id": vector_store_id})
    store = _store(ctx, vector_store_id)
    _check_attributes(body.get("attributes"))
    chunking = _chunking(body.get("chunking_strategy"))
    _require_active(store)
    row = _attach(ctx, store, _source(ctx, body["file_id"], "file_id"), attributes=body.get("attributes"), chunking=chunking)
    _settle(ctx, store)
    return _public(row)


def _file(ctx: Ctx, vector_store_id: str, file_id: str) -> dict[str, Any]:
    _store(ctx, vector_store_id)
    return _files(ctx, vector_store_id).get(file_id)


@vector_stores.route("GET", "/vector_stores/<vector_store_id>/files/<file_id>", endpoint="vector_stores.files.retrieve", response=VectorStoreFile)
def retrieve_vector_store_file(ctx: Ctx, vector_store_id: str, file_id: str) -> dict[str, Any]:
    generic.validated(ctx, "vector_stores.files.retrieve", {"vector_store_id": vector_store_id, "file_id": file_id})
    return _public(_file(ctx, vector_store_id, file_id))


@vector_stores.route("POST", "/vector_stores/<vector_store_id>/files/<file_id>", endpoint="vector_stores.files.update", response=VectorStoreFile)
def update_vector_store_file(ctx: Ctx, vector_store_id: str, file_id: str) -> dict[str, Any]:
    values = {"vector_store_id": vector_store_id, "file_id": file_id}
    body, _ = generic.validated(ctx, "vector_stores.files.update", values)
    _check_attributes(body.get("attributes"))
    row = _file(ctx, vector_store_id, file_id)
    row["attributes"] = body.get("attributes") or {}
    return _public(row)


@vector_stores.route("GET", "/vector_stores/<vector_store_id>/files", endpoint="vector_stores.files.list")
def list_vector_store_files(ctx: Ctx, vector_store_id: str) -> dict[str, Any]:
    _, query = generic.validated(ctx, "vector_stores.files.list", {"vector_store_id": vector_store_id})
    _store(ctx, vector_store_id)
    rows = [row for row in _files(ctx, vector_store_id) if query.get("filter") in (None, row["status"])]
    return _page(rows, query)


@vector_stores.route("DELETE", "/vector_stores/<vector_store_id>/files/<file_id>", endpoint="vector_stores.files.delete", response=VectorStoreFileDeleted)
def delete_vector_store_file(ctx: Ctx, vector_store_id: str, file_id: str) -> dict[str, Any]:
    generic.validated(ctx, "vector_stores.files.delete", {"vector_store_id": vector_store_id, "file_id": file_id})
    _file(ctx, vector_store_id, file_id)
    _files(ctx, vector_store_id).delete(file_id)
    _settle(ctx, _stores(ctx).get(vector_store_id))
    return {"id": file_id, "object": "vector_store.file.deleted", "deleted": True}


@vector_stores.route("GET", "/vector_stores/<vector_store_id>/files/<file_id>/content", endpoint="vector_stores.files.content")
def vector_store_file_content(ctx: Ctx, vector_store_id: str, file_id: str) -> dict[str, Any]:
    generic.validated(ctx, "vector_stores.files.content", {"vector_store_id": vector_store_id, "file_id": file_id})
    row = _file(ctx, vector_store_id, file_id)
    data = [{"type": "text", "text": row["_text"]}] if row["status"] == "completed" and row["_text"] else []
    return {"object": "vector_store.file_content.page", "data": data, "has_more": False, "next_page": None}


# -- file batches --------------------------------------------------------------------------------


@vector_stores.route("POST", "/vector_stores/<vector_store_id>/file_batches", endpoint="vector_stores.file_batches.create", response=VectorStoreFileBatch)
def create_file_batch(ctx: Ctx, vector_store_id: str) -> dict[str, Any]:
    body, _ = generic.validated(ctx, "vector_stores.file_batches.create", {"vector_store_id": vector_store_id})
    store = _store(ctx, vector_store_id)
    if body.get("file_ids") is not None and body.get("files") is not None:
        raise errors.bad_request(BOTH_FILE_LISTS, param="files")
    if body.get("files") is not None:
        errors.check_length("files", body["files"], minimum=1, maximum=2000)
        entries = [
            (f"files[{i}]", item["file_id"], item.get("attributes"), _chunking(item.get("chunking_strategy"), f"files[{i}].chunking_strategy"))
            for i, item in enumerate(body["files"])
        ]
    elif body.get("file_ids") is not None:
        errors.check_length("file_ids", body["file_ids"], minimum=1, maximum=2000)
        chunking = _chunking(body.get("chunking_strategy"))
        entries = [(f"file_ids[{i}]", file_id, body.get("attributes"), chunking) for i, file_id in enumerate(body["file_ids"])]
    else:
        raise errors.bad_request(NO_FILE_LIST, param="file_ids")
    for param, _, attributes, _ in entries:
        _check_attributes(attributes, f"{param}.attributes" if param.startswith("files") else "attributes")
    _require_active(store)
    sources = [(_source(ctx, file_id, param), attributes, chunking) for param, file_id, attributes, chunking in entries]
    batch = {
        "id": ctx.ids.next("vsfb_"),
        "object": "vector_store.files_batch",
        "created_at": ctx.clock.now(),
        "vector_store_id": vector_store_id,
        "status": "in_progress",
        "file_counts": {},
        "_file_ids": [source["id"] for source, _, _ in sources],
    }
    _batches(ctx, vector_store_id).add(batch)
    for source, attributes, chunking in sources:
        _attach(ctx, store, source, attributes=attributes, chunking=chunking, batch=batch["id"])
    _settle(ctx, store)
    return _public(batch)


def _batch(ctx: Ctx, vector_store_id: str, batch_id: str) -> dict[str, Any]:
    _store(ctx, vector_store_id)
    return _batches(ctx, vector_store_id).get(batch_id)


@vector_stores.route("GET", "/vector_stores/<vector_store_id>/file_batches/<batch_id>", endpoint="vector_stores.file_batches.retrieve", response=VectorStoreFileBatch)
def retrieve_file_batch(ctx: Ctx, vector_store_id: str, batch_id: str) -> dict[str, Any]:
    generic.validated(ctx, "vector_stores.file_batches.retrieve", {"vector_store_id": vector_store_id, "batch_id": batch_id})
    return _public(_batch(ctx, vector_store_id, batch_id))


@vector_stores.route(
    "POST", "/vector_stores/<vector_store_id>/file_batches/<batch_id>/cancel", endpoint="vector_stores.file_batches.cancel", response=VectorStoreFileBatch
)
def cancel_file_batch(ctx: Ctx, vector_store_id: str, batch_id: str) -> dict[str, Any]:
    generic.validated(ctx, "vector_stores.file_batches.cancel", {"vector_store_id": vector_store_id, "batch_id": batch_id})
    batch = _batch(ctx, vector_store_id, batch_id)
    if batch["status"] != "in_progress":
        raise errors.bad_request(CANNOT_CANCEL.format(status=batch["status"]), param="batch_id")
    files = _files(ctx, vector_store_id)
    for file_id in batch["_file_ids"]:
        row = files.find(file_id)
        if row is not None and row.get("_batch") == batch_id and row["status"] == "in_progress":
            row["status"] = "cancelled"
    _settle(ctx, _stores(ctx).get(vector_store_id))
    return _public(batch)


@vector_stores.route(
    "GET", "/vector_stores/<vector_store_id>/file_batches/<batch_id>/files", endpoint="vector_stores.file_batches.list_files"
)
def list_file_batch_files(ctx: Ctx, vector_store_id: str, batch_id: str) -> dict[str, Any]:
    values = {"vector_store_id": vector_store_id, "batch_id": batch_id}
    _, query = generic.validated(ctx, "vector_stores.file_batches.list_files", values)
    batch = _batch(ctx, vector_store_id, batch_id)
    rows = [
        row
        for row in _files(ctx, vector_store_id)
        if row.get("_batch") == batch["id"] and query.get("filter") in (None, row["status"])
    ]
    return _page(rows, query)


# -- search --------------------------------------------------------------------------------------


@vector_stores.route("POST", "/vector_stores/<vector_store_id>/search", endpoint="vector_stores.search")
def search_vector_store(ctx: Ctx, vector_store_id: str) -> dict[str, Any]:
    body, _ = generic.validated(ctx, "vector_stores.search", {"vector_store_id": vector_store_id})
    queries = [body["query"]] if isinstance(body["query"], str) else list(body["query"])
    errors.check_length("query", queries, minimum=1)
    limit = body.get("max_num_results", DEFAULT_MAX_RESULTS)
    errors.check_range("max_num_results", limit, minimum=1, maximum=MAX_RESULTS)
    ranking = body.get("ranking_options") or {}
    threshold = ranking.get("score_threshold", 0.0)
    errors.check_range("ranking_options.score_threshold", threshold, minimum=0, maximum=1, decimal=True)
    if body.get("rewrite_query"):
        queries = [rewrite(query) for query in queries]
    results = search_stores(ctx, [vector_store_id], queries, limit=limit, filters=body.get("filters"), threshold=threshold)
    data = [
        {
            "file_id": hit["file_id"],
            "filename": hit["filename"],
            "score": hit["score"],
            "attributes": hit["attributes"],
            "content": [{"type": "text", "text": hit["text"]}],
        }
        for hit in results
    ]
    return {"object": "vector_store.search_results.page", "search_query": queries, "data": data, "has_more": False, "next_page": None}


def rewrite(query: str) -> str:
    """``rewrite_query``: the query's words in order, lower-cased, without common words (what a
    keyword search would use)."""
    kept = [word for word in re.findall(r"\w+", query.lower()) if word not in STOP_WORDS]
    return " ".join(kept) or query


def search_stores(
    ctx: Ctx,
    store_ids: list[str],
    queries: list[str],
    *,
    limit: int = DEFAULT_MAX_RESULTS,
    filters: Any = None,
    threshold: float = 0.0,
    weights: tuple[float, float] | None = None,
    touch: bool = True,
) -> list[dict[str, Any]]:
    """The best chunks of the stores for the queries: ``{"file_id", "filename", "score",
    "attributes", "text"}``, best first (ties: store, then file, then chunk order). Every store
    must exist and be active; each is marked used now. ``weights``: ``(embedding, text)`` of the
    Responses tool's hybrid search, where the text score is the share of the query's words the
    chunk holds. ``touch=False``: only look (the store's ``last_active_at`` stays)."""
    query_words = [words(query) for query in queries]
    scored: list[tuple[float, int, dict[str, Any], Chunk]] = []  # (-score, order, ...): unique order
    order = 0
    for store_id in store_ids:
        if store_id not in _stores(ctx) and ctx.state.lenient_ids:
            continue  # lenient_ids: a store the fake never made is an empty one
        store = _store(ctx, store_id)
        _require_active(store)
        if touch:
            _touch(ctx, store)
        for row in _files(ctx, store_id):
            if row["status"] != "completed" or not matches(filters, row["attributes"]):
                continue
            chunks: list[Chunk] = row["_chunks"]
            sets: list[frozenset[str]] = row["_words"]
            if weights is None:  # one pass over the chunks per query
                scores = similarities(query_words[0], sets)
                for query in query_words[1:]:
                    scores = list(map(max, scores, similarities(query, sets)))
            else:
                scores = [max(_score(query, words, weights) for query in query_words) for words in sets]
            scored.extend((-score, order + i, row, chunks[i]) for i, score in enumerate(scores) if score > 0 and score >= threshold)
            order += len(chunks)
    return [
        {"file_id": row["id"], "filename": row["_filename"], "score": round(-score, 6), "attributes": row["attributes"], "text": chunk.text}
        for score, _, row, chunk in heapq.nsmallest(limit, scored)
    ]


def check_store_ids(ctx: Ctx, store_ids: list[str], param: str) -> None:
    """Each id names a store (the store's 404 otherwise): what a ``file_search`` tool is checked for."""
    for store_id in store_ids:
        if store_id not in _stores(ctx) and not ctx.state.lenient_ids:
            raise errors.OpenAIError(404, STORE_NOT_FOUND.format(id=store_id), param=param, code="not_found")


def _score(query: frozenset[str], chunk: frozenset[str], weights: tuple[float, float] | None) -> float:
    semantic = similarity(query, chunk)
    if weights is None:
        return semantic
    embedding, text = weights
    keyword = len(query & chunk) / len(query) if query else 0.0
    total = embedding + text
    return (embedding * semantic + text * keyword) / total if total > 0 else semantic


def matches(filters: Any, attributes: dict[str, Any] | None) -> bool:
    """Whether a file's ``attributes`` pass ``filters`` (a comparison or an and/or compound)."""
    if not isinstance(filters, dict):
        return True
    kind = filters.get("type")
    if kind in ("and", "or"):
        parts = [matches(part, attributes) for part in filters.get("filters") or []]
        return all(parts) if kind == "and" else any(parts)
    attributes = attributes or {}
    if filters.get("key") not in attributes:
        return kind in ("ne", "nin")
    have, want = attributes[filters["key"]], filters.get("value")
    if kind == "eq":
        return _same(have, want)
    if kind == "ne":
        return not _same(have, want)
    if kind in ("in", "nin"):
        found = isinstance(want, list) and any(_same(have, item) for item in want)
        return found if kind == "in" else not found
    if isinstance(have, bool) or isinstance(want, bool):
        return False
    if isinstance(have, (int, float)) and isinstance(want, (int, float)) or isinstance(have, str) and isinstance(want, str):
        return {"gt": have > want, "gte": have >= want, "lt": have < want, "lte": have <= want}.get(kind, False)  # type: ignore[operator]
    return False


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return bool(a == b)
