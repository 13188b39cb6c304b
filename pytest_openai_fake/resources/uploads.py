"""Uploads: ``/v1/uploads``, a large file sent in parts that becomes one ``File``.

- **create** (``bytes``, ``filename``, ``mime_type``, ``purpose``, optional ``expires_after``):
  a ``pending`` Upload that expires ``UPLOAD_TTL`` (an hour) of the fake clock later; at most
  ``MAX_UPLOAD_BYTES`` (8 GB) announced.
- **parts.create** (multipart ``data``): each part at most ``MAX_PART_BYTES`` (64 MB), kept in
  ``Store.upload_parts`` until the upload completes or is cancelled.
- **complete** (``part_ids`` in the caller's order, optional ``md5``): the parts joined in that
  order become a ``File`` (the files family's upload checks apply); a total that differs from
  ``bytes`` or an ``md5`` that differs is the 400. The parts are freed: the file's bytes are held
  once.
- **cancel**: ``cancelled``; parts freed. A completed, cancelled or expired upload takes no more
  parts and cannot be completed or cancelled (400).
"""

from __future__ import annotations

import hashlib
from typing import Any

from openai.types import Upload
from openai.types.uploads import UploadPart

from .. import errors
from ..routing import Ctx, Resource
from ..state import Collection
from . import generic
from .files import add_file, check_upload

__all__ = ["uploads"]

uploads = Resource("uploads")

#: An Upload expires this long (seconds of the fake clock) after it was created.
UPLOAD_TTL = 3600
#: The most one upload may announce (8 GB) and one part may hold (64 MB).
MAX_UPLOAD_BYTES = 8 * 1024**3
MAX_PART_BYTES = 64 * 1024**2

UPLOAD_NOT_FOUND = "No such Upload object: '{id}'"
UPLOAD_TOO_LARGE = "Upload size exceeds the maximum allowed size of 8 GB."
PART_TOO_LARGE = "Part size exceeds the maximum allowed size of 64 MB."
NOT_PENDING = "Upload with id '{id}' is {status} and can no longer be modified."
BYTES_MISMATCH = "The number of bytes uploaded ({got}) does not match the number of bytes specified at creation ({want})."
MD5_MISMATCH = "The md5 checksum of the uploaded file ({got}) does not match the checksum provided ({want})."
UNKNOWN_PART = "No such Part object: '{id}' in upload '{upload}'."


def _uploads(ctx: Ctx) -> Collection:
    return ctx.state.collection("/uploads", noun="Upload", missing=lambda key: errors.OpenAIError(404, UPLOAD_NOT_FOUND.format(id=key), param="upload_id"))


def _current(ctx: Ctx, upload_id: str) -> dict[str, Any]:
    """The upload as it is now: a pending one past its ``expires_at`` has expired."""
    row = _uploads(ctx).get(upload_id)
    if row["status"] == "pending" and ctx.clock.now() >= row["expires_at"]:
        row["status"] = "expired"
        ctx.state.upload_parts.pop(upload_id, None)
    return row


def _pending(ctx: Ctx, upload_id: str) -> dict[str, Any]:
    row = _current(ctx, upload_id)
    if row["status"] != "pending":
        raise errors.bad_request(NOT_PENDING.format(id=upload_id, status=row["status"]), param="upload_id")
    return row


@uploads.route("POST", "/uploads", endpoint="uploads.create", response=Upload)
def create_upload(ctx: Ctx) -> dict[str, Any]:
    body, _ = generic.validated(ctx, "uploads.create")
    if body["bytes"] > MAX_UPLOAD_BYTES:
        raise errors.bad_request(UPLOAD_TOO_LARGE, param="bytes")
    now = ctx.clock.now()
    row = {
        "id": ctx.ids.next("upload_"),
        "object": "upload",
        "bytes": body["bytes"],
        "created_at": now,
        "expires_at": now + UPLOAD_TTL,
        "filename": body["filename"],
        "purpose": body["purpose"],
        "status": "pending",
        "file": None,
        "_expires_after": body.get("expires_after"),
    }
    _uploads(ctx).add(row)
    ctx.state.upload_parts[row["id"]] = {}
    return _public(row)


@uploads.route("POST", "/uploads/<upload_id>/parts", endpoint="uploads.parts.create", response=UploadPart)
def create_part(ctx: Ctx, upload_id: str) -> dict[str, Any]:
    generic.validated(ctx, "uploads.parts.create", {"upload_id": upload_id})
    _pending(ctx, upload_id)
    part = ctx.request.files.get("data")
    if part is None:
        raise errors.invalid_type("data", "a file", ctx.request.form.get("data"))
    data = part.stream.read()
    part.close()
    if len(data) > MAX_PART_BYTES:
        raise errors.bad_request(PART_TOO_LARGE, param="data")
    part_id = ctx.ids.next("part_")
    ctx.state.upload_parts[upload_id][part_id] = data
    return {"id": part_id, "object": "upload.part", "created_at": ctx.clock.now(), "upload_id": upload_id}


@uploads.route("POST", "/uploads/<upload_id>/complete", endpoint="uploads.complete", response=Upload)
def complete_upload(ctx: Ctx, upload_id: str) -> dict[str, Any]:
    body, _ = generic.validated(ctx, "uploads.complete", {"upload_id": upload_id})
    row = _pending(ctx, upload_id)
    parts = ctx.state.upload_parts.get(upload_id, {})
    missing = [part_id for part_id in body["part_ids"] if part_id not in parts]
    if missing:
        raise errors.bad_request(UNKNOWN_PART.format(id=missing[0], upload=upload_id), param="part_ids")
    size = sum(len(parts[part_id]) for part_id in body["part_ids"])
    if size != row["bytes"]:
        raise errors.bad_request(BYTES_MISMATCH.format(got=size, want=row["bytes"]), param="bytes")
    data = b"".join(parts[part_id] for part_id in body["part_ids"])
    md5 = body.get("md5")
    if md5:
        got = hashlib.md5(data, usedforsecurity=False).hexdigest()
        if got != md5.lower():
            raise errors.bad_request(MD5_MISMATCH.format(got=got, want=md5), param="md5")
    check_upload(row["filename"], row["purpose"], len(data))
    del ctx.state.upload_parts[upload_id]  # the file holds the bytes once
    row["file"] = add_file(ctx, data, row["filename"], row["purpose"], row["_expires_after"])
    row["status"] = "completed"
    return _public(row)


@uploads.route("POST", "/uploads/<upload_id>/cancel", endpoint="uploads.cancel", response=Upload)
def cancel_upload(ctx: Ctx, upload_id: str) -> dict[str, Any]:
    generic.validated(ctx, "uploads.cancel", {"upload_id": upload_id})
    row = _pending(ctx, upload_id)
    row["status"] = "cancelled"
    ctx.state.upload_parts.pop(upload_id, None)
    return _public(row)


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in row.items() if not key.startswith("_")}
