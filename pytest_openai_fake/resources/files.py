"""Files: ``/v1/files`` with the bytes that were uploaded.

- **create** (multipart ``file`` + ``purpose``, optional ``expires_after``): the params are the
  SDK's (validated by the generic layer); the bytes are kept once in ``Store.file_data``. Checks
  at upload time: an empty file, more than ``MAX_FILE_BYTES`` (512 MB), and a ``batch`` file
  whose name does not end in ``.jsonl``. A ``batch`` file expires after 30 days unless
  ``expires_after`` says otherwise (as the SDK documents); others do not expire.
- **retrieve / list / delete**: the ``FileObject`` (``status: "processed"``, so
  ``files.wait_for_processing`` returns at once); list filters by ``purpose``, pages newest
  first (``order``, ``limit`` up to 10,000, ``after``); delete frees the bytes.
- **content**: exactly the uploaded bytes, streamed from the one stored object in 1 MiB chunks
  (chunked transfer encoding: no second copy of the file is made per read). Files whose purpose
  the API does not hand back (``assistants``, ``user_data``) get its 400.

Files made by the fake itself (a batch's output and error files) go through ``add_file``.
"""

from __future__ import annotations

from typing import Any, Iterator

from openai.types import FileObject
from werkzeug.wrappers import Response

from .. import errors
from ..routing import Ctx, Resource
from ..state import Collection
from . import generic

__all__ = ["add_file", "file_bytes", "files", "stored_files"]

files = Resource("files")

#: The largest file the API takes (512 MB).
MAX_FILE_BYTES = 512 * 1024 * 1024
#: How long a ``batch`` file is kept when ``expires_after`` is not given (30 days).
BATCH_FILE_TTL = 30 * 24 * 3600
#: Purposes whose content the API refuses to hand back.
NOT_DOWNLOADABLE = frozenset({"assistants", "user_data"})
#: Bytes per chunk of a streamed ``content`` reply.
CHUNK = 1024 * 1024

NOT_DOWNLOADABLE_TEXT = "Not allowed to download files of purpose: {purpose}"
BATCH_NOT_JSONL = "Invalid file format for Batch API. Must be .jsonl"
EMPTY_FILE = "File is empty."
TOO_LARGE = "File size exceeds the maximum allowed size of 512 MB."
FILE_NOT_FOUND = "No such File object: '{id}'"


def stored_files(ctx: Ctx) -> Collection:
    """The stored ``FileObject``s: the generic layer's ``/files`` collection, so generic
    families that name a file see the same ones."""
    return ctx.state.collection("/files", noun="File", missing=lambda key: errors.OpenAIError(404, FILE_NOT_FOUND.format(id=key), param="id"))


def file_bytes(ctx: Ctx, file_id: str) -> bytes:
    """The bytes of a stored file (404 if there is no such file)."""
    stored_files(ctx).get(file_id)
    return ctx.state.file_data.get(file_id, b"")


def check_upload(filename: str, purpose: str, size: int) -> None:
    """The API's upload-time refusals (shared by ``files.create`` and ``uploads.complete``)."""
    if size == 0:
        raise errors.bad_request(EMPTY_FILE, param="file")
    if size > MAX_FILE_BYTES:
        raise errors.bad_request(TOO_LARGE, param="file")
    if purpose == "batch" and not filename.lower().endswith(".jsonl"):
        raise errors.bad_request(BATCH_NOT_JSONL, param="file")


def add_file(ctx: Ctx, data: bytes, filename: str, purpose: str, expires_after: dict[str, Any] | None = None) -> dict[str, Any]:
    """Store ``data`` (the object itself, not a copy) as a new processed file; its FileObject."""
    now = ctx.clock.now()
    if isinstance(expires_after, dict) and "seconds" in expires_after:
        expires_at: int | None = now + int(expires_after["seconds"])
    else:
        expires_at = now + BATCH_FILE_TTL if purpose == "batch" else None
    file_id = ctx.ids.next("file-")
    row: dict[str, Any] = {
        "id": file_id,
        "object": "file",
        "bytes": len(data),
        "created_at": now,
        "expires_at": expires_at,
        "filename": filename,
        "purpose": purpose,
        "status": "processed",
        "status_details": None,
    }
    stored_files(ctx).add(row)
    ctx.state.file_data[file_id] = data
    return row


@files.route("POST", "/files", endpoint="files.create", response=FileObject)
def create_file(ctx: Ctx) -> dict[str, Any]:
    body, _ = generic.validated(ctx, "files.create")
    upload = ctx.request.files.get("file")
    if upload is None:  # the params type requires it: only a non-file ``file`` field gets here
        raise errors.invalid_type("file", "a file", body.get("file"))
    filename = upload.filename or "file"
    data = upload.stream.read()
    upload.close()
    check_upload(filename, body["purpose"], len(data))
    return add_file(ctx, data, filename, body["purpose"], body.get("expires_after"))


@files.route("GET", "/files/<file_id>", endpoint="files.retrieve", response=FileObject)
def retrieve_file(ctx: Ctx, file_id: str) -> dict[str, Any]:
    generic.validated(ctx, "files.retrieve", {"file_id": file_id})
    return stored_files(ctx).get(file_id)


@files.route("GET", "/files", endpoint="files.list")
def list_files(ctx: Ctx) -> dict[str, Any]:
    _, query = generic.validated(ctx, "files.list")
    limit = query.get("limit", 10_000)
    errors.check_range("limit", limit, minimum=1, maximum=10_000)
    rows = [row for row in stored_files(ctx) if query.get("purpose") in (None, row["purpose"])]
    return _page(rows, after=query.get("after"), limit=limit, order=query.get("order", "desc"))


def _page(rows: list[dict[str, Any]], *, after: str | None, limit: int, order: str) -> dict[str, Any]:
    ordered = list(reversed(rows)) if order == "desc" else list(rows)  # rows are oldest first
    ids = [row["id"] for row in ordered]
    start = ids.index(after) + 1 if after in ids else (len(ordered) if after is not None else 0)
    chosen = ordered[start : start + limit]
    return {
        "object": "list",
        "data": chosen,
        "first_id": chosen[0]["id"] if chosen else None,
        "last_id": chosen[-1]["id"] if chosen else None,
        "has_more": start + limit < len(ordered),
    }


@files.route("DELETE", "/files/<file_id>", endpoint="files.delete")
def delete_file(ctx: Ctx, file_id: str) -> dict[str, Any]:
    stored_files(ctx).delete(file_id)
    ctx.state.file_data.pop(file_id, None)
    return {"id": file_id, "object": "file", "deleted": True}


@files.route("GET", "/files/<file_id>/content", endpoint="files.content")
def file_content(ctx: Ctx, file_id: str) -> Response:
    row = stored_files(ctx).get(file_id)
    if row["purpose"] in NOT_DOWNLOADABLE:
        raise errors.bad_request(NOT_DOWNLOADABLE_TEXT.format(purpose=row["purpose"]))
    data = ctx.state.file_data.get(file_id, b"")
    return Response(_chunks(data), status=200, content_type="application/octet-stream", direct_passthrough=True)


def _chunks(data: bytes) -> Iterator[bytes]:
    """``data`` in ``CHUNK``-sized pieces, each copied on its own: no copy of the whole file is
    made, and a piece the server still holds after the reply does not keep the file alive (a
    memoryview slice would, until ``reset`` had long passed)."""
    view = memoryview(data)
    for start in range(0, len(data), CHUNK):
        yield bytes(view[start : start + CHUNK])
