"""Batches: ``/v1/batches``, a JSONL file of requests that the fake really runs.

A batch moves one step per second of the fake clock or per ``retrieve`` (the rule background
responses follow): ``validating`` → ``in_progress`` → ``finalizing`` → ``completed``. The steps
happen when the batch is looked at (retrieve, list, cancel), at the fake clock's time then.

- **validating → in_progress**: the input file is checked as the API checks it, and a problem
  makes the batch ``failed`` with ``errors.data`` entries (``code``, ``message``, ``param``,
  1-based ``line``): ``empty_file``, ``invalid_json_line``, ``missing_required_parameter``
  (``custom_id``, ``method``, ``url``, ``body``), ``duplicate_custom_id``, ``invalid_method``,
  ``url_mismatch`` (every line uses the batch's ``endpoint``), ``too_many_tasks`` (over
  50,000 lines), ``file_too_large`` (over 200 MB).
- **in_progress**: each line runs through the fake's own route for its ``url``, as a client's
  call would (``Ctx.inline``): validation, the default answer, scripts and faults; the request
  log records it with ``batch_id``. The first half of the lines runs when the batch enters
  ``in_progress``, the rest when it leaves it. A line's scripted ``delay`` counts on the fake
  clock: the batch stays ``in_progress`` until it has passed.
  A line with ``"stream": true`` is not run: it is a 400 error line (param ``stream``).
- **finalizing → completed**: the output file (2xx answers) and error file (other answers) are
  written as JSONL, one ``{"id", "custom_id", "response": {"status_code", "request_id",
  "body"}, "error": null}`` per line, in an order that is not the input order (match by
  ``custom_id``); ``request_counts`` and ``usage`` add up. No file is made for an empty side.
- **cancel**: ``cancelling``, then ``cancelled`` one step later, with the lines done so far.
- **expiry**: a batch still validating or in progress ``COMPLETION_WINDOW`` (24 h) after it was
  created is ``expired``: lines done are in the output, the rest in the error file with the
  ``batch_expired`` error.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from openai.types import Batch

from .. import errors
from ..routing import Ctx, Resource
from ..state import Collection
from . import generic
from .files import add_file, stored_files

__all__ = ["batches"]

batches = Resource("batches")

#: The completion window (seconds): ``24h``, the only one the API takes.
COMPLETION_WINDOW = 24 * 3600
MAX_REQUESTS = 50_000
MAX_INPUT_BYTES = 200 * 1024 * 1024
#: Statuses after which a batch no longer changes.
FINAL = frozenset({"completed", "failed", "expired", "cancelled"})

BATCH_NOT_FOUND = "No batch found with id '{id}'."
INPUT_NOT_BATCH = "The input file must have purpose 'batch', got '{purpose}'."
CANNOT_CANCEL = "Cannot cancel a batch with status '{status}'."
# The line errors (``errors.data``): codes as the API documents them; ``invalid_json_line``'s
# and ``duplicate_custom_id``'s texts as it sends them, the others unverified.
EMPTY_FILE = "The batch input file is empty."
INVALID_JSON_LINE = "This line is not parseable as valid JSON."
NOT_AN_OBJECT = "This line is not a JSON object."
MISSING_FIELD = "Missing required parameter: '{field}'."
DUPLICATE_CUSTOM_ID = "The custom_id for this request is a duplicate of another request. The custom_id parameter must be unique for each request in a batch."
INVALID_METHOD = "Invalid method '{method}'. Only POST is supported."
URL_MISMATCH = "The provided URL '{url}' does not match the batch endpoint '{endpoint}'."
TOO_MANY_TASKS = f"The batch input file has more than {MAX_REQUESTS:,} requests."
FILE_TOO_LARGE = "The batch input file is larger than the 200 MB limit."
STREAM_REFUSED = "Streaming is not supported for batch requests."
BATCH_EXPIRED = "This request could not be executed before the completion window expired."


@dataclass
class BatchRun:
    """What a batch still has to do, and what it has done: its parsed lines, their results by
    line index, steps taken and polls seen (the clock rule), the line delays still running."""

    lines: list[dict[str, Any]] = field(default_factory=list)
    results: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: line index -> fake-clock time its (scripted) delay ends
    ready_at: dict[int, float] = field(default_factory=dict)
    polls: int = 0
    steps: int = 0


def _batches(ctx: Ctx) -> Collection:
    return ctx.state.collection("/batches", noun="batch", missing=lambda key: errors.OpenAIError(404, BATCH_NOT_FOUND.format(id=key), param="batch_id"))


@batches.route("POST", "/batches", endpoint="batches.create", response=Batch)
def create_batch(ctx: Ctx) -> dict[str, Any]:
    body, _ = generic.validated(ctx, "batches.create")
    files = stored_files(ctx)
    if body["input_file_id"] in files or not ctx.state.lenient_ids:
        source = files.get(body["input_file_id"])
    else:  # lenient_ids: a file the fake never stored reads as empty (the batch fails validating)
        source = {"purpose": "batch"}
    if source["purpose"] != "batch":
        raise errors.bad_request(INPUT_NOT_BATCH.format(purpose=source["purpose"]), param="input_file_id")
    now = ctx.clock.now()
    row = {
        "id": ctx.ids.next("batch_"),
        "object": "batch",
        "endpoint": body["endpoint"],
        "errors": None,
        "input_file_id": body["input_file_id"],
        "completion_window": body["completion_window"],
        "status": "validating",
        "output_file_id": None,
        "error_file_id": None,
        "created_at": now,
        "in_progress_at": None,
        "expires_at": now + COMPLETION_WINDOW,
        "finalizing_at": None,
        "completed_at": None,
        "failed_at": None,
        "expired_at": None,
        "cancelling_at": None,
        "cancelled_at": None,
        "request_counts": {"total": 0, "completed": 0, "failed": 0},
        "metadata": body.get("metadata"),
    }
    if body.get("output_expires_after"):
        row["_output_expires_after"] = body["output_expires_after"]
    _batches(ctx).add(row)
    ctx.state.batch_runs[row["id"]] = BatchRun()
    return _public(row)


@batches.route("GET", "/batches/<batch_id>", endpoint="batches.retrieve", response=Batch)
def retrieve_batch(ctx: Ctx, batch_id: str) -> dict[str, Any]:
    generic.validated(ctx, "batches.retrieve", {"batch_id": batch_id})
    row = _batches(ctx).get(batch_id)
    return _public(_progress(ctx, row, poll=True))


@batches.route("GET", "/batches", endpoint="batches.list")
def list_batches(ctx: Ctx) -> dict[str, Any]:
    _, query = generic.validated(ctx, "batches.list")
    collection = _batches(ctx)
    for row in collection:
        _progress(ctx, row, poll=False)
    found = collection.page(after=query.get("after"), limit=query.get("limit"))
    found["data"] = [_public(row) for row in found["data"]]
    return found


@batches.route("POST", "/batches/<batch_id>/cancel", endpoint="batches.cancel", response=Batch)
def cancel_batch(ctx: Ctx, batch_id: str) -> dict[str, Any]:
    generic.validated(ctx, "batches.cancel", {"batch_id": batch_id})
    row = _progress(ctx, _batches(ctx).get(batch_id), poll=False)
    if row["status"] in FINAL or row["status"] == "finalizing":
        raise errors.bad_request(CANNOT_CANCEL.format(status=row["status"]), param="batch_id")
    if row["status"] != "cancelling":
        row["status"] = "cancelling"
        row["cancelling_at"] = ctx.clock.now()
        ctx.state.batch_runs[batch_id].steps = _target(ctx, row, ctx.state.batch_runs[batch_id])
    return _public(row)


# -- progress ------------------------------------------------------------------------------------


def _target(ctx: Ctx, row: dict[str, Any], run: BatchRun) -> int:
    """How many steps the clock rule allows by now: one per second since creation, one per poll."""
    return ctx.clock.now() - row["created_at"] + run.polls


def _progress(ctx: Ctx, row: dict[str, Any], *, poll: bool) -> dict[str, Any]:
    """Take the steps the fake clock (and polls) allow, running lines on the way."""
    run: BatchRun = ctx.state.batch_runs[row["id"]]
    if poll:
        run.polls += 1
    now = ctx.clock.now()
    while row["status"] not in FINAL:
        if row["status"] in ("validating", "in_progress") and now >= row["expires_at"]:
            _finish(ctx, row, run, "expired")
            break
        if run.steps >= _target(ctx, row, run):
            break
        status = row["status"]
        if status == "validating":
            _validate(ctx, row, run)
            if row["status"] == "in_progress":
                _run_lines(ctx, row, run, range(0, (len(run.lines) + 1) // 2))
        elif status == "in_progress":
            _run_lines(ctx, row, run, range(0, len(run.lines)))
            if any(ready > now for ready in run.ready_at.values()):
                break  # a line's scripted delay is still running on the fake clock
            row["status"], row["finalizing_at"] = "finalizing", now
        elif status == "finalizing":
            _finish(ctx, row, run, "completed")
        elif status == "cancelling":
            _finish(ctx, row, run, "cancelled")
        run.steps += 1
    return row


def _validate(ctx: Ctx, row: dict[str, Any], run: BatchRun) -> None:
    """Check the input file as the API does when a batch validates: ``in_progress``, or
    ``failed`` with ``errors.data``."""
    now = ctx.clock.now()
    data = ctx.state.file_data.get(row["input_file_id"], b"")  # deleted since: empty
    problems: list[dict[str, Any]] = []
    if len(data) > MAX_INPUT_BYTES:
        problems.append(_problem("file_too_large", FILE_TOO_LARGE, None, None))
    texts = data.decode("utf-8", "replace").splitlines() if not problems else []
    numbered = [(number, text) for number, text in enumerate(texts, start=1) if text.strip()]
    if not problems and not numbered:
        problems.append(_problem("empty_file", EMPTY_FILE, None, None))
    if len(numbered) > MAX_REQUESTS:
        problems.append(_problem("too_many_tasks", TOO_MANY_TASKS, None, None))
    seen: set[str] = set()
    lines: list[dict[str, Any]] = []
    for number, text in numbered if not problems else ():
        try:
            line = json.loads(text)
        except ValueError:
            problems.append(_problem("invalid_json_line", INVALID_JSON_LINE, None, number))
            continue
        if not isinstance(line, dict):
            problems.append(_problem("invalid_json_line", NOT_AN_OBJECT, None, number))
            continue
        missing = [name for name in ("custom_id", "method", "url", "body") if name not in line]
        if missing:
            problems.extend(_problem("missing_required_parameter", MISSING_FIELD.format(field=name), name, number) for name in missing)
            continue
        custom_id = line["custom_id"]
        if not isinstance(custom_id, str):
            problems.append(_problem("invalid_type", f"Invalid type for 'custom_id': expected a string, but got {type(custom_id).__name__}.", "custom_id", number))
            continue
        if custom_id in seen:
            problems.append(_problem("duplicate_custom_id", DUPLICATE_CUSTOM_ID, "custom_id", number))
        seen.add(custom_id)
        if line["method"] != "POST":
            problems.append(_problem("invalid_method", INVALID_METHOD.format(method=line["method"]), "method", number))
        if line["url"] != row["endpoint"]:
            problems.append(_problem("url_mismatch", URL_MISMATCH.format(url=line["url"], endpoint=row["endpoint"]), "url", number))
        lines.append(line)
    if problems:
        row.update(status="failed", failed_at=now, errors={"object": "list", "data": problems})
        return
    run.lines = lines
    row.update(status="in_progress", in_progress_at=now)
    row["request_counts"]["total"] = len(lines)
    models = {line["body"].get("model") for line in lines if isinstance(line["body"], dict)}
    if len(models) == 1 and isinstance(next(iter(models)), str):
        row["model"] = next(iter(models))


def _problem(code: str, message: str, param: str | None, line: int | None) -> dict[str, Any]:
    return {"code": code, "message": message, "param": param, "line": line}


def _run_lines(ctx: Ctx, row: dict[str, Any], run: BatchRun, indexes: range) -> None:
    """Run the lines not run yet among ``indexes`` through the fake, as a client's calls."""
    assert ctx.inline is not None, "the app runs batch lines (Ctx.inline)"
    for index in indexes:
        if index in run.results:
            continue
        line = run.lines[index]
        body = line["body"]
        answer: Any
        if isinstance(body, dict) and body.get("stream") is True:  # a batch answers no streams
            error = errors.bad_request(STREAM_REFUSED, param="stream").to_api()
            status, request_id, answer, delay = 400, ctx.ids.next("req_"), error, 0.0
        else:
            reply = ctx.inline("POST", line["url"], json.dumps(body).encode(), batch_id=row["id"])
            status, request_id, delay = reply.status, reply.request_id, reply.delay
            try:
                answer = json.loads(reply.body) if reply.body else None
            except ValueError:
                answer = reply.body.decode("utf-8", "replace")
        run.results[index] = {
            "id": ctx.ids.next("batch_req_"),
            "custom_id": line["custom_id"],
            "response": {"status_code": status, "request_id": request_id, "body": answer},
            "error": None,
        }
        if delay:
            run.ready_at[index] = ctx.clock.now() + delay
        counts = row["request_counts"]
        if 200 <= status < 300:
            counts["completed"] += 1
        else:
            counts["failed"] += 1


def _add_usage(total: dict[str, int], answer: Any) -> None:
    """Add a reply's token usage (chat's, completions', embeddings' or Responses' shape)."""
    usage = answer.get("usage") if isinstance(answer, dict) else None
    if not isinstance(usage, dict):
        return
    total["input_tokens"] += int(usage.get("input_tokens", usage.get("prompt_tokens", 0)) or 0)
    total["output_tokens"] += int(usage.get("output_tokens", usage.get("completion_tokens", 0)) or 0)
    details = usage.get("input_tokens_details") or usage.get("prompt_tokens_details") or {}
    total["cached_tokens"] += int(details.get("cached_tokens", 0) or 0) if isinstance(details, dict) else 0
    out_details = usage.get("output_tokens_details") or usage.get("completion_tokens_details") or {}
    total["reasoning_tokens"] += int(out_details.get("reasoning_tokens", 0) or 0) if isinstance(out_details, dict) else 0


def _finish(ctx: Ctx, row: dict[str, Any], run: BatchRun, status: str) -> None:
    """Write the output and error files and end the batch as ``status``."""
    now = ctx.clock.now()
    done = [run.results[index] for index in sorted(run.results)]
    if status == "expired":  # lines still running or not started did not finish in time
        done = [result for index, result in sorted(run.results.items()) if run.ready_at.get(index, 0) <= now]
        finished = {result["custom_id"] for result in done}
        for result in run.results.values():
            if result["custom_id"] not in finished:
                _uncount(row, result)
        expired = [
            {"id": ctx.ids.next("batch_req_"), "custom_id": line["custom_id"], "response": None, "error": {"code": "batch_expired", "message": BATCH_EXPIRED}}
            for line in run.lines
            if line["custom_id"] not in finished
        ]
    else:
        expired = []
    succeeded = [r for r in done if 200 <= r["response"]["status_code"] < 300]
    failed = [r for r in done if not 200 <= r["response"]["status_code"] < 300] + expired
    if status == "expired":
        row["request_counts"]["failed"] += len(expired)
    expires_after = row.get("_output_expires_after")
    name = row["id"]
    if succeeded:
        row["output_file_id"] = add_file(ctx, _jsonl(row["id"], succeeded), f"{name}_output.jsonl", "batch_output", expires_after)["id"]
    if failed:
        row["error_file_id"] = add_file(ctx, _jsonl(row["id"], failed), f"{name}_error.jsonl", "batch_output", expires_after)["id"]
    if run.results and row["status"] != "validating":  # the usage of the answers it kept
        usage = {"input_tokens": 0, "output_tokens": 0, "cached_tokens": 0, "reasoning_tokens": 0}
        for result in succeeded:
            _add_usage(usage, result["response"]["body"])
        row["usage"] = {
            "input_tokens": usage["input_tokens"],
            "input_tokens_details": {"cached_tokens": usage["cached_tokens"]},
            "output_tokens": usage["output_tokens"],
            "output_tokens_details": {"reasoning_tokens": usage["reasoning_tokens"]},
            "total_tokens": usage["input_tokens"] + usage["output_tokens"],
        }
    row["status"] = status
    row[f"{status}_at"] = now
    if status == "completed" and row["finalizing_at"] is None:
        row["finalizing_at"] = now
    run.lines, run.results, run.ready_at = [], {}, {}  # the files hold the results now


def _uncount(row: dict[str, Any], result: dict[str, Any]) -> None:
    counts = row["request_counts"]
    if 200 <= result["response"]["status_code"] < 300:
        counts["completed"] -= 1
    else:
        counts["failed"] -= 1


def _jsonl(batch_id: str, results: list[dict[str, Any]]) -> bytes:
    """The result lines in the order the API's workers finished them: not the input order (a
    stable shuffle by ``custom_id``), so code must match results by ``custom_id``."""
    ordered = sorted(results, key=lambda r: hashlib.sha256(f"{batch_id}:{r['custom_id']}".encode()).digest())
    return b"".join(json.dumps(result, separators=(",", ":")).encode() + b"\n" for result in ordered)


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in row.items() if not key.startswith("_")}
