"""Fuzz: seeded mutations of valid requests to every endpoint of every provider profile.

    python benchmarks/stress/fuzz.py [--requests 50000] [--seed 1] [--quick]
    python benchmarks/stress/fuzz.py --case openai:1234 --seed 1 -v    # replay one case

For each provider (openai, together, mistral, azure) the script reads the fake's route
registry (``FakeApp(...).routes``) and needs a valid seed request for every hand-written endpoint
in it (an endpoint without one fails the "seeds" check, so new endpoints are not silently
skipped); a last pass, "generic", fuzzes every endpoint of the generic layer, with seeds built
from the SDK's params types (``generic_seeds``) against a fake with ``lenient_ids=True``;
every seed must answer 2xx before fuzzing starts. Then ``--requests`` cases, spread over the
passes (40 % to the generic one, the rest by number of endpoints), each built from its own ``Random(f"{seed}:{provider}:{i}")``
(so ``--case provider:i`` replays exactly one), apply 1-3 mutations to a seed:

- JSON bodies: drop / add keys, values replaced by wrong types, nulls, huge integers (10**400),
  NaN/Infinity, 100 kB strings, NUL / RTL / emoji / lone-surrogate text, deep nesting (up to
  5,000 levels), stream toggled; the whole body replaced by a non-object, truncated, bit-flipped,
  non-UTF-8, empty or duplicated-key text; odd Content-Types;
- multipart bodies (image edits and variations): fields dropped, duplicated or garbled, the
  image replaced by junk / empty / text, broken boundaries;
- query strings (list endpoints and api-version): odd limits, orders, cursors, bad percent
  escapes, repeated keys; path ids replaced by unknown, unicode or 5,000-character ids;
- headers: no key, a non-Bearer scheme.

Checks: no answer is 5xx; every answer is JSON (an error in the provider's envelope: OpenAI's
``{"error": {message, type, param, code}}`` exactly, Together's, Mistral's or Azure's shape) or a
well-formed SSE stream (every ``data:`` JSON or ``[DONE]``), or bytes from a 2xx ``.content()``-style endpoint; no request hangs (``--timeout``);
``fake.take_problems()`` holds no exception (a bug in the fake). Failures are printed with the
request that caused them and the ``--case`` to replay it; ``--failures PATH`` writes them all.
"""

from __future__ import annotations

import json
import random
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx2
from _common import ENVELOPE_KEYS, Check, parser, report

from pytest_openai_fake import FAKE_API_KEY, FakeOpenAI
from pytest_openai_fake.determinism.audio import speech
from pytest_openai_fake.resources.images import render_png

#: The passes: each provider's hand-written endpoints (hand-written seeds, stored fixtures), and
#: "generic": every endpoint the generic layer answers, with seeds built from the SDK's params
#: types, against a fake with ``lenient_ids=True`` (so the seeds' placeholder ids answer).
PROVIDERS = ("openai", "together", "mistral", "azure", "generic")
RESET_EVERY = 100  # cases between fake.reset() + fresh fixtures (stored objects to point at)
PNG = render_png(b"fuzz", 256, 256)
RGBA = render_png(b"fuzz", 256, 256, transparent=True)
DEEP = "@@DEEP@@"  # a string "@@DEEP@@<n>" becomes n nested arrays in the serialized text


@dataclass
class Req:
    method: str
    path: str  # may contain {name} placeholders for fixture ids
    json: Any = None
    fields: dict[str, Any] | None = None  # multipart form fields
    files: dict[str, tuple[str, bytes, str]] | None = None
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # a body given as bytes (after a text-level mutation)
    notes: list[str] = field(default_factory=list)


# -- seeds: one valid request per endpoint -----------------------------------------------------

#: A batch input file of two chat lines, and the fake's own speech as a WAV file to transcribe.
BATCH_JSONL = b"".join(
    json.dumps({"custom_id": f"r{n}", "method": "POST", "url": "/v1/chat/completions",
                "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"line {n}"}]}}).encode() + b"\n"
    for n in range(2)
)
SPEECH_WAV = speech("hello there", response_format="wav")


ASK = [{"role": "user", "content": "Say something short."}]


def openai_seeds() -> dict[str, list[Req]]:
    chat = {"model": "gpt-4o-mini", "messages": ASK, "max_tokens": 16}
    return {
        "chat.completions.create": [
            Req("POST", "/chat/completions", dict(chat)),
            Req("POST", "/chat/completions", {**chat, "stream": True, "stream_options": {"include_usage": True}}),
            Req("POST", "/chat/completions", {**chat, "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"a": {"type": "string"}}}}}], "tool_choice": "auto"}),
            Req("POST", "/chat/completions", {**chat, "response_format": {"type": "json_schema", "json_schema": {"name": "s", "strict": True, "schema": {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"], "additionalProperties": False}}}}),
        ],
        "chat.completions.list": [Req("GET", "/chat/completions", query=[("limit", "5"), ("order", "asc")])],
        "chat.completions.retrieve": [Req("GET", "/chat/completions/{chat_id}")],
        "chat.completions.update": [Req("POST", "/chat/completions/{chat_id}", {"metadata": {"k": "v"}})],
        "chat.completions.delete": [Req("DELETE", "/chat/completions/{chat_id}")],
        "chat.completions.messages.list": [Req("GET", "/chat/completions/{chat_id}/messages", query=[("limit", "2")])],
        "completions.create": [
            Req("POST", "/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": "Once upon", "max_tokens": 8}),
            Req("POST", "/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": ["a", "b"], "max_tokens": 8, "stream": True, "logprobs": 2}),
        ],
        "conversations.create": [Req("POST", "/conversations", {"items": [{"type": "message", "role": "user", "content": "hi"}], "metadata": {"k": "v"}})],
        "conversations.retrieve": [Req("GET", "/conversations/{conversation_id}")],
        "conversations.update": [Req("POST", "/conversations/{conversation_id}", {"metadata": {"k": "w"}})],
        "conversations.delete": [Req("DELETE", "/conversations/{conversation_id}")],
        "conversations.items.create": [Req("POST", "/conversations/{conversation_id}/items", {"items": [{"type": "message", "role": "user", "content": "more"}]})],
        "conversations.items.list": [Req("GET", "/conversations/{conversation_id}/items", query=[("limit", "3"), ("order", "desc")])],
        "conversations.items.retrieve": [Req("GET", "/conversations/{conversation_id}/items/{item_id}")],
        "conversations.items.delete": [Req("DELETE", "/conversations/{conversation_id}/items/{item_id}")],
        "embeddings.create": [
            Req("POST", "/embeddings", {"model": "text-embedding-3-small", "input": "hello"}),
            Req("POST", "/embeddings", {"model": "text-embedding-3-small", "input": ["a", "b"], "encoding_format": "base64", "dimensions": 8}),
        ],
        "images.generate": [
            Req("POST", "/images/generations", {"model": "dall-e-2", "prompt": "a cat", "size": "256x256", "response_format": "b64_json"}),
            Req("POST", "/images/generations", {"model": "gpt-image-1", "prompt": "a cat", "size": "1024x1024", "quality": "low", "stream": True, "partial_images": 1}),
        ],
        "images.edit": [
            Req("POST", "/images/edits", fields={"model": "dall-e-2", "prompt": "a hat", "size": "256x256", "n": "1", "response_format": "b64_json"},
                files={"image": ("cat.png", RGBA, "image/png")}),
        ],
        "images.create_variation": [
            Req("POST", "/images/variations", fields={"model": "dall-e-2", "size": "256x256", "n": "1", "response_format": "b64_json"},
                files={"image": ("cat.png", PNG, "image/png")}),
        ],
        "models.list": [Req("GET", "/models")],
        "models.retrieve": [Req("GET", "/models/gpt-4o-mini")],
        "models.delete": [Req("DELETE", "/models/{fine_tuned_model}")],
        "moderations.create": [
            Req("POST", "/moderations", {"model": "omni-moderation-latest", "input": "hello"}),
            Req("POST", "/moderations", {"model": "omni-moderation-latest", "input": [{"type": "text", "text": "hi"}]}),
        ],
        "responses.create": [
            Req("POST", "/responses", {"model": "gpt-4o-mini", "input": "hi", "max_output_tokens": 32}),
            Req("POST", "/responses", {"model": "gpt-4o-mini", "input": [{"role": "user", "content": "hi"}], "stream": True, "instructions": "be brief"}),
            Req("POST", "/responses", {"model": "gpt-4o-mini", "input": "hi", "tools": [{"type": "function", "name": "f", "parameters": {"type": "object", "properties": {}}}]}),
        ],
        "responses.retrieve": [Req("GET", "/responses/{response_id}"), Req("GET", "/responses/{response_id}", query=[("stream", "true")])],
        "responses.delete": [Req("DELETE", "/responses/{response_id}")],
        "responses.cancel": [Req("POST", "/responses/{background_id}/cancel")],
        "responses.input_items.list": [Req("GET", "/responses/{response_id}/input_items", query=[("limit", "5")])],
        "responses.input_tokens.count": [Req("POST", "/responses/input_tokens", {"model": "gpt-4o-mini", "input": "count me"})],
        "responses.compact": [Req("POST", "/responses/compact", {"model": "gpt-4o-mini", "input": [{"role": "user", "content": "hi"}]})],
        "files.create": [
            Req("POST", "/files", fields={"purpose": "assistants"}, files={"file": ("notes.txt", b"hello files", "text/plain")}),
            Req("POST", "/files", fields={"purpose": "batch", "expires_after[anchor]": "created_at", "expires_after[seconds]": "3600"},
                files={"file": ("in.jsonl", BATCH_JSONL, "application/jsonl")}),
        ],
        "files.list": [Req("GET", "/files", query=[("purpose", "assistants"), ("limit", "5"), ("order", "asc")])],
        "files.retrieve": [Req("GET", "/files/{file_id}")],
        "files.content": [Req("GET", "/files/{batch_file_id}/content")],  # assistants files can't be downloaded
        "files.delete": [Req("DELETE", "/files/{file_id}")],
        "uploads.create": [Req("POST", "/uploads", {"bytes": 11, "filename": "notes.txt", "mime_type": "text/plain", "purpose": "assistants"})],
        "uploads.parts.create": [Req("POST", "/uploads/{upload_id}/parts", fields={}, files={"data": ("blob", b"hello", "application/octet-stream")})],
        # cancel first: a cancel or delete seed gets fresh fixtures after it, so complete has an open upload
        "uploads.cancel": [Req("POST", "/uploads/{upload_id}/cancel")],
        "uploads.complete": [Req("POST", "/uploads/{upload_id}/complete", {"part_ids": ["{part_id}"]})],
        "batches.create": [
            Req("POST", "/batches", {"input_file_id": "{batch_file_id}", "endpoint": "/v1/chat/completions", "completion_window": "24h", "metadata": {"k": "v"}}),
        ],
        "batches.list": [Req("GET", "/batches", query=[("limit", "5")])],
        "batches.retrieve": [Req("GET", "/batches/{batch_id}")],
        "batches.cancel": [Req("POST", "/batches/{batch_id}/cancel")],
        "audio.speech.create": [
            Req("POST", "/audio/speech", {"model": "tts-1", "voice": "alloy", "input": "hello there"}),
            Req("POST", "/audio/speech", {"model": "gpt-4o-mini-tts", "voice": "coral", "input": "hi", "response_format": "wav", "speed": 1.5}),
        ],
        "audio.transcriptions.create": [
            Req("POST", "/audio/transcriptions", fields={"model": "whisper-1", "response_format": "verbose_json", "timestamp_granularities[]": "word"},
                files={"file": ("hello.wav", SPEECH_WAV, "audio/wav")}),
            Req("POST", "/audio/transcriptions", fields={"model": "gpt-4o-mini-transcribe", "stream": "true"}, files={"file": ("hello.wav", SPEECH_WAV, "audio/wav")}),
        ],
        "audio.translations.create": [
            Req("POST", "/audio/translations", fields={"model": "whisper-1", "response_format": "text"}, files={"file": ("hello.wav", SPEECH_WAV, "audio/wav")}),
        ],
        # vector stores: a JSON string "{name}" in a body is a fixture id too (see ``_fill``)
        "vector_stores.create": [
            Req("POST", "/vector_stores", {"name": "kb", "file_ids": ["{text_file_id}"], "chunking_strategy": {"type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 50}},
                                           "expires_after": {"anchor": "last_active_at", "days": 7}, "metadata": {"k": "v"}, "description": "d"}),
        ],
        "vector_stores.retrieve": [Req("GET", "/vector_stores/{vector_store_id}")],
        "vector_stores.update": [Req("POST", "/vector_stores/{vector_store_id}", {"name": "kb2", "expires_after": {"anchor": "last_active_at", "days": 1}, "metadata": {"k": "w"}})],
        "vector_stores.list": [Req("GET", "/vector_stores", query=[("limit", "5"), ("order", "asc")])],
        "vector_stores.delete": [Req("DELETE", "/vector_stores/{vector_store_id}")],
        "vector_stores.search": [
            Req("POST", "/vector_stores/{vector_store_id}/search", {"query": "refund days", "max_num_results": 5, "rewrite_query": True,
                                                                   "filters": {"type": "and", "filters": [{"type": "eq", "key": "topic", "value": "refunds"}, {"type": "gte", "key": "year", "value": 2024}]},
                                                                   "ranking_options": {"ranker": "auto", "score_threshold": 0.1}}),
            Req("POST", "/vector_stores/{vector_store_id}/search", {"query": ["refund", "days"]}),
        ],
        "vector_stores.files.create": [Req("POST", "/vector_stores/{vector_store_id}/files", {"file_id": "{text_file_id}", "attributes": {"topic": "refunds", "year": 2024}})],
        "vector_stores.files.retrieve": [Req("GET", "/vector_stores/{vector_store_id}/files/{text_file_id}")],
        "vector_stores.files.update": [Req("POST", "/vector_stores/{vector_store_id}/files/{text_file_id}", {"attributes": {"topic": "x", "public": True}})],
        "vector_stores.files.list": [Req("GET", "/vector_stores/{vector_store_id}/files", query=[("filter", "completed"), ("limit", "2")])],
        "vector_stores.files.delete": [Req("DELETE", "/vector_stores/{vector_store_id}/files/{text_file_id}")],
        "vector_stores.files.content": [Req("GET", "/vector_stores/{vector_store_id}/files/{text_file_id}/content")],
        "vector_stores.file_batches.create": [
            Req("POST", "/vector_stores/{vector_store_id}/file_batches", {"file_ids": ["{text_file_id}"], "attributes": {"k": 1}}),
            Req("POST", "/vector_stores/{vector_store_id}/file_batches", {"files": [{"file_id": "{text_file_id}", "chunking_strategy": {"type": "auto"}}]}),
        ],
        "vector_stores.file_batches.retrieve": [Req("GET", "/vector_stores/{vector_store_id}/file_batches/{file_batch_id}")],
        "vector_stores.file_batches.cancel": [Req("POST", "/vector_stores/{vector_store_id}/file_batches/{slow_batch_id}/cancel")],
        "vector_stores.file_batches.list_files": [Req("GET", "/vector_stores/{vector_store_id}/file_batches/{file_batch_id}/files", query=[("limit", "5")])],
    }


def together_seeds() -> dict[str, list[Req]]:
    chat = {"model": "meta-llama/Llama-3.3-70B-Instruct-Turbo", "messages": ASK, "max_tokens": 16}
    return {
        "chat.completions.create": [Req("POST", "/chat/completions", chat), Req("POST", "/chat/completions", {**chat, "stream": True})],
        "completions.create": [Req("POST", "/completions", {"model": "meta-llama/Llama-2-70b-hf", "prompt": "Once", "max_tokens": 8}),
                               Req("POST", "/completions", {"model": "meta-llama/Llama-2-70b-hf", "prompt": "Once", "max_tokens": 8, "stream": True})],
        "embeddings.create": [Req("POST", "/embeddings", {"model": "BAAI/bge-base-en-v1.5", "input": ["a", "b"]})],
        "images.generate": [Req("POST", "/images/generations", {"model": "black-forest-labs/FLUX.1-schnell", "prompt": "a cat", "n": 1, "response_format": "base64"})],
        "models.list": [Req("GET", "/models")],
    }


def mistral_seeds() -> dict[str, list[Req]]:
    chat = {"model": "mistral-small-latest", "messages": ASK, "max_tokens": 16}
    return {
        "chat.completions.create": [Req("POST", "/chat/completions", chat), Req("POST", "/chat/completions", {**chat, "stream": True})],
        "embeddings.create": [Req("POST", "/embeddings", {"model": "mistral-embed", "input": ["a", "b"]})],
        "models.list": [Req("GET", "/models")],
        "models.retrieve": [Req("GET", "/models/mistral-small-latest")],
        "models.delete": [Req("DELETE", "/models/{fine_tuned_model}")],
        "fim.complete": [Req("POST", "/fim/completions", {"model": "codestral-latest", "prompt": "def f(", "suffix": "return 1", "max_tokens": 16}),
                         Req("POST", "/fim/completions", {"model": "codestral-latest", "prompt": "def f(", "stream": True})],
    }


def generic_seeds(routes: dict[str, Any]) -> dict[str, list[Req]]:
    """A seed for each generic endpoint in ``routes``: its SDK method's required parameters, with
    values generated from their types (the first member of a union of params types), file parts
    as small text files, and literal placeholder ids in the path. None for a method whose
    parameters can't be generated (the "seeds" check then names it)."""
    from pydantic import TypeAdapter

    from pytest_openai_fake import params
    from pytest_openai_fake.determinism.schema import generate_instance
    from pytest_openai_fake.resources import generic
    from pytest_openai_fake.surface import sdk_methods

    def required(td: Any, seed: bytes) -> tuple[dict[str, Any], dict[str, tuple[str, bytes, str]]]:
        if td is None:
            return {}, {}
        if getattr(td, "__origin__", None) is not None and not params.is_typeddict(td):
            td = td.__args__[0]  # Union[ParamsNonStreaming, ParamsStreaming]: the first
        fields, wanted, _ = params._fields(td)
        file_fields = generic._file_fields(td)
        values: dict[str, Any] = {}
        files: dict[str, tuple[str, bytes, str]] = {}
        for name in sorted(wanted):
            if name in file_fields:
                files[name] = (f"{name}.txt", b"fuzz data", "text/plain")
            else:
                values[name] = generate_instance(TypeAdapter(fields[name]).json_schema(), seed + name.encode())
        return values, files

    seeds: dict[str, list[Req]] = {}
    for method in sdk_methods():
        route = routes.get(method.endpoint)
        if route is None or not route.generic:
            continue
        path = re.sub(r"\{(\w+)\}", r"fuzz_\1", method.path)
        try:
            types = method.types()
            body, files = required(types.body, method.endpoint.encode())
            query, _ = required(types.query, method.endpoint.encode())
        except Exception:  # noqa: BLE001 - reported as a missing seed
            continue
        pairs = [(k, str(v).lower() if isinstance(v, bool) else str(v)) for k, v in query.items() if isinstance(v, (str, int, float))]
        if method.multipart and files:
            fields = {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}
            seeds[method.endpoint] = [Req(method.method, path, fields=fields, files=files, query=pairs)]
        else:
            seeds[method.endpoint] = [Req(method.method, path, body if method.has_body else None, query=pairs)]
    return seeds


def seeds_for(provider: str) -> tuple[str, dict[str, list[Req]]]:
    """(base path, endpoint -> seed requests) for a provider ("generic": see ``generic_seeds``)."""
    if provider == "generic":
        return "/v1", {}
    if provider == "together":
        return "/v1", together_seeds()
    if provider == "mistral":
        return "/v1", mistral_seeds()
    if provider == "azure":
        seeds = openai_seeds()
        # The deployment URL style too, as openai.AzureOpenAI sends it.
        seeds["chat.completions.create"].append(
            Req("POST", "/../deployments/gpt-4o-mini/chat/completions", {"messages": ASK, "max_tokens": 8}, query=[("api-version", "2024-10-21")])
        )
        return "/openai/v1", seeds
    return "/v1", openai_seeds()


# -- fixtures: stored objects the seeds point at ------------------------------------------------


def make_fixtures(http: httpx2.Client, fake: FakeOpenAI, provider: str) -> dict[str, str]:
    """Reset the fake and create the objects path templates name; ids of unknown objects otherwise."""
    fake.reset()
    ids = {"chat_id": "chatcmpl-none", "conversation_id": "conv_none", "item_id": "msg_none", "response_id": "resp_none",
           "background_id": "resp_none", "fine_tuned_model": "ft:gpt-4o-mini:org::none", "file_id": "file-none",
           "batch_file_id": "file-none", "batch_id": "batch_none", "upload_id": "upload_none", "part_id": "part_none"}
    if provider not in ("openai", "azure"):
        return ids
    base = fake.url + ("/openai/v1" if provider == "azure" else "/v1")
    auth = {"Authorization": f"Bearer {FAKE_API_KEY}"}
    r = http.post(base + "/chat/completions", json={"model": "gpt-4o-mini", "messages": ASK, "store": True, "metadata": {"a": "b"}}, headers=auth)
    ids["chat_id"] = r.json()["id"]
    r = http.post(base + "/conversations", json={"items": [{"type": "message", "role": "user", "content": "hi"}]}, headers=auth)
    ids["conversation_id"] = r.json()["id"]
    r = http.get(base + f"/conversations/{ids['conversation_id']}/items", headers=auth)
    ids["item_id"] = r.json()["data"][0]["id"]
    r = http.post(base + "/responses", json={"model": "gpt-4o-mini", "input": "hi"}, headers=auth)
    ids["response_id"] = r.json()["id"]
    r = http.post(base + "/responses", json={"model": "gpt-4o-mini", "input": "hi", "background": True}, headers=auth)
    ids["background_id"] = r.json()["id"]
    if provider != "openai":  # Azure's profile serves no files or vector stores
        return ids
    r = http.post(base + "/files", data={"purpose": "assistants"}, files={"file": ("kept.txt", b"kept", "text/plain")}, headers=auth)
    ids["file_id"] = r.json()["id"]
    r = http.post(base + "/files", data={"purpose": "batch"}, files={"file": ("in.jsonl", BATCH_JSONL, "application/jsonl")}, headers=auth)
    ids["batch_file_id"] = r.json()["id"]
    r = http.post(base + "/batches", json={"input_file_id": ids["batch_file_id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"}, headers=auth)
    ids["batch_id"] = r.json()["id"]
    r = http.post(base + "/uploads", json={"bytes": 5, "filename": "up.txt", "mime_type": "text/plain", "purpose": "assistants"}, headers=auth)
    ids["upload_id"] = r.json()["id"]
    r = http.post(base + f"/uploads/{ids['upload_id']}/parts", files={"data": ("blob", b"hello", "application/octet-stream")}, headers=auth)
    ids["part_id"] = r.json()["id"]
    r = http.post(base + "/files", data={"purpose": "assistants"}, files={"file": ("refunds.md", b"Refunds within 30 days.", "text/markdown")}, headers=auth)
    ids["text_file_id"] = r.json()["id"]
    r = http.post(base + "/vector_stores", json={"name": "kb", "file_ids": [ids["text_file_id"]]}, headers=auth)
    ids["vector_store_id"] = r.json()["id"]
    r = http.post(base + f"/vector_stores/{ids['vector_store_id']}/file_batches", json={"file_ids": [ids["text_file_id"]]}, headers=auth)
    ids["file_batch_id"] = r.json()["id"]
    fake.state.vector_store_file_seconds = 3600  # a batch still in progress, to cancel, of a file no seed names
    r = http.post(base + "/files", data={"purpose": "assistants"}, files={"file": ("slow.md", b"Slow to index.", "text/markdown")}, headers=auth)
    r = http.post(base + f"/vector_stores/{ids['vector_store_id']}/file_batches", json={"file_ids": [r.json()["id"]]}, headers=auth)
    ids["slow_batch_id"] = r.json()["id"]
    fake.state.vector_store_file_seconds = 0
    return ids


# -- mutations ----------------------------------------------------------------------------------

KEYS = ["model", "messages", "input", "prompt", "stream", "n", "max_tokens", "temperature", "top_p", "tools", "tool_choice",
        "response_format", "metadata", "user", "stop", "logprobs", "top_logprobs", "seed", "size", "quality", "dimensions",
        "encoding_format", "stream_options", "store", "background", "instructions", "text", "reasoning", "items", "limit",
        "", "__proto__", "model\u0000", "ñ", "x" * 300]


def odd_string(rng: random.Random) -> str:
    return rng.choice([
        "", " ", "x", "null", "true", "0", "-1", "1e999", "\u0000", "\u0000abc", "😀" * 50, "\u202eevil", "\ud800", "a\ud800b",
        "\uffff", "ʕ•ᴥ•ʔ", "<script>", "' OR 1=1 --", "../../etc/passwd", "%00", "\r\nX-Injected: 1", "a" * 100_000,
        "gpt-4o-mini", "dall-e-2", "text-embedding-3-small", "assistant", "user", "system", "function", "auto", "none",
    ])


def odd_value(rng: random.Random, depth: int = 0) -> Any:
    choice = rng.randrange(16)
    if choice == 0:
        return None
    if choice == 1:
        return rng.choice([True, False])
    if choice == 2:
        return rng.choice([0, -1, 1, 2, 3, 127, 128, 255, 256, 4096, 2**31, 2**53 + 1, 2**63, 2**64, -(2**63)])
    if choice == 3:
        return rng.choice([10**400, -(10**400), 10**20])
    if choice == 4:
        return rng.choice([0.5, -0.0, 1e-300, 1e308, -1e308, 2.5, 3.0, float("nan"), float("inf"), float("-inf")])
    if choice in (5, 6, 7):
        return odd_string(rng)
    if choice == 8:
        return []
    if choice == 9:
        return {}
    if choice == 10 and depth < 3:
        return [odd_value(rng, depth + 1) for _ in range(rng.randrange(1, 4))]
    if choice == 11 and depth < 3:
        return {rng.choice(KEYS): odd_value(rng, depth + 1) for _ in range(rng.randrange(1, 4))}
    if choice == 12:
        return DEEP + str(rng.choice([50, 200, 1000, 5000]))
    if choice == 13:
        return [{"role": rng.choice(["user", "assistant", "system", "tool", "developer", "x"]), "content": odd_value(rng, depth + 1) if depth < 3 else "hi"}]
    if choice == 14:
        return ["x"] * rng.choice([0, 1, 2049, 5000])
    return rng.choice(["gpt-4o", "gpt-4o-mini", "o3-mini", "gpt-5", "text-embedding-3-large", "gpt-image-1", "dall-e-3", "whisper-1", "nope"])


def nodes(value: Any, path: tuple = ()) -> list[tuple]:
    """Paths of every container member in ``value`` (for picking a place to mutate)."""
    found = []
    if isinstance(value, dict):
        for k, v in value.items():
            found.append(path + (k,))
            found.extend(nodes(v, path + (k,)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found.append(path + (i,))
            found.extend(nodes(v, path + (i,)))
    return found


def parent_of(root: Any, path: tuple) -> Any:
    for step in path[:-1]:
        root = root[step]
    return root


def mutate_json(rng: random.Random, req: Req) -> None:
    body = req.json
    if not isinstance(body, dict):  # an earlier mutation replaced the whole body
        req.json = odd_value(rng)
        req.notes.append(f"body={type(req.json).__name__}")
        return
    places = nodes(body)
    op = rng.randrange(10)
    if op <= 2 and places:  # replace a value
        path = rng.choice(places)
        parent_of(body, path)[path[-1]] = odd_value(rng)
        req.notes.append(f"set {'.'.join(map(str, path))}")
    elif op == 3 and places:  # drop a key or item
        path = rng.choice(places)
        parent = parent_of(body, path)
        del parent[path[-1]]
        req.notes.append(f"drop {'.'.join(map(str, path))}")
    elif op == 4:  # add a key, at the top or inside a dict
        targets = [body] + [parent_of(body, p)[p[-1]] for p in places if isinstance(parent_of(body, p)[p[-1]], dict)]
        target = rng.choice(targets)
        key = rng.choice(KEYS)
        target[key] = odd_value(rng)
        req.notes.append(f"add {key[:20]!r}")
    elif op == 5:
        body["stream"] = rng.choice([True, False, "true", 1, None])
        req.notes.append(f"stream={body['stream']!r}")
    elif op == 6 and places:  # wrap in a list / unwrap a list
        path = rng.choice(places)
        parent = parent_of(body, path)
        value = parent[path[-1]]
        parent[path[-1]] = value[0] if isinstance(value, list) and value else [value]
        req.notes.append(f"wrap/unwrap {'.'.join(map(str, path))}")
    elif op == 7:  # the whole body
        req.json = odd_value(rng)
        req.notes.append(f"body={type(req.json).__name__}")
    else:
        path = rng.choice(places) if places else None
        if path is not None:
            parent_of(body, path)[path[-1]] = odd_string(rng)
            req.notes.append(f"string {'.'.join(map(str, path))}")


def serialize(value: Any) -> bytes:
    text = json.dumps(value)  # NaN and Infinity come out as bare words, as some clients send them
    while DEEP in text:
        at = text.index(DEEP)
        end = text.index('"', at)
        depth = int(text[at + len(DEEP) : end])
        text = text[: at - 1] + "[" * depth + "]" * depth + text[end + 1 :]
    return text.encode("utf-8", "surrogatepass")


def mutate_bytes(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    op = rng.randrange(8)
    if op == 0 and data:
        return data[: rng.randrange(len(data))], "truncated"
    if op == 1 and data:
        b = bytearray(data)
        for _ in range(rng.randrange(1, 4)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        return bytes(b), "bit-flipped"
    if op == 2:
        return b"", "empty body"
    if op == 3:
        return b"\xef\xbb\xbf" + data, "BOM"
    if op == 4:
        return data.replace(b'"', b"\xff", 1), "invalid UTF-8"
    if op == 5 and data.endswith(b"}"):
        return data[:-1] + b', "model": 5, "model": "gpt-4o"}', "duplicate keys"
    if op == 6:
        return data + b" trailing", "trailing garbage"
    return b"{" * 20, "unterminated"


def mutate_multipart(rng: random.Random, req: Req) -> None:
    assert req.fields is not None and req.files is not None
    op = rng.randrange(7)
    if op == 0 and req.fields:
        key = rng.choice(list(req.fields))
        del req.fields[key]
        req.notes.append(f"drop field {key}")
    elif op in (1, 2):
        key = rng.choice(list(req.fields) + ["n", "size", "model", "mask", "stream", "background", "input_fidelity", "x"])
        value = odd_value(rng)
        req.fields[key] = value if isinstance(value, str) else json.dumps(value)
        req.notes.append(f"field {key}")
    elif op == 3:
        req.files = {} if rng.random() < 0.5 else {"image": ("x.png", rng.choice([b"", b"not an image", PNG[:100], b"\x89PNG\r\n\x1a\n" + bytes(50)]), "image/png")}
        req.notes.append("image replaced")
    elif op == 4:
        req.files = dict(req.files, mask=("m.png", rng.choice([PNG, RGBA, b"junk"]), "image/png"))
        req.notes.append("mask")
    elif op == 5:
        req.files = dict(req.files, **{"image[]": ("y.png", PNG, rng.choice(["image/png", "text/plain", ""]))})
        req.notes.append("image[]")
    else:
        req.headers["Content-Type"] = rng.choice(["multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=nope", "application/json"])
        req.notes.append(f"content-type {req.headers['Content-Type']!r}")


def mutate_query(rng: random.Random, req: Req) -> None:
    key = rng.choice(["limit", "order", "after", "before", "include[]", "include", "metadata", "model", "stream", "api-version", "starting_after", "x"])
    value = rng.choice(["0", "-1", "101", "1" + "0" * 400, "abc", "", "asc", "desc", "sideways", "%zz", "true", "1.5", "\u00e9", "null", "2024-10-21", "v1"])
    req.query.append((key, value))
    req.notes.append(f"query {key}={value!r}")


def mutate_path(rng: random.Random, ids: dict[str, str]) -> dict[str, str]:
    key = rng.choice(list(ids))
    value = rng.choice(["x", "0", "chatcmpl-" + "9" * 40, "é", "😀", "a" * 5000, "..", "%00", "%25", "%20", "resp_" + "f" * 30, ids[key] + "x", ids[key].upper()])
    return {**ids, key: value}


def build_case(rng: random.Random, seed: Req, ids: dict[str, str]) -> tuple[Req, dict[str, str]]:
    req = replace(seed, json=json.loads(json.dumps(seed.json)) if seed.json is not None else None,
                  fields=dict(seed.fields) if seed.fields is not None else None,
                  files=dict(seed.files) if seed.files is not None else None,
                  query=list(seed.query), headers=dict(seed.headers), notes=[])
    for _ in range(rng.randrange(1, 4)):
        roll = rng.random()
        if roll < 0.06:
            ids = mutate_path(rng, ids)
            req.notes.append("path id")
        elif roll < 0.12:
            mutate_query(rng, req)
        elif roll < 0.15:
            scheme = rng.choice(["", "Basic abc", "Bearer", "bearer " + FAKE_API_KEY, "Token x"])
            req.headers["Authorization"] = scheme
            req.notes.append(f"auth {scheme!r}")
        elif req.fields is not None:
            mutate_multipart(rng, req)
        elif req.method == "POST" and req.json is not None:
            if roll < 0.25:
                req.raw, note = mutate_bytes(rng, req.raw if req.raw is not None else serialize(req.json))
                req.notes.append(note)
            elif roll < 0.28:
                req.headers["Content-Type"] = rng.choice(["text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1", "", "multipart/form-data"])
                req.notes.append(f"content-type {req.headers['Content-Type']!r}")
            elif req.raw is None:
                mutate_json(rng, req)
        else:
            mutate_query(rng, req)
    return req, ids


# -- sending and judging ------------------------------------------------------------------------


@dataclass
class Outcome:
    status: int | None
    kind: str  # "json", "sse", "binary", "text", "hang", "transport", "other"
    problem: str = ""  # what is wrong with the answer, if anything


def _fill(value: Any, ids: dict[str, str]) -> Any:
    """``value`` with each JSON string ``"{name}"`` naming a fixture replaced by its id."""
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, str) and value.startswith("{") and value.endswith("}") and value[1:-1] in ids:
        return ids[value[1:-1]]
    return value


def send(http: httpx2.Client, fake: FakeOpenAI, base: str, req: Req, ids: dict[str, str], timeout: float) -> tuple[Outcome, dict]:
    path = req.path.format(**{k: quote(v, safe="%") for k, v in ids.items()})
    url = fake.url + base + path if not path.startswith("/..") else fake.url + "/openai" + path[3:]
    if req.query:
        url += "?" + urlencode(req.query, safe="%[]")
    headers = {"Authorization": f"Bearer {FAKE_API_KEY}", **req.headers}
    kwargs: dict[str, Any] = {"headers": headers}
    if req.fields is not None:
        ctype = headers.pop("Content-Type", None)
        if ctype is None:
            kwargs["data"] = {k: v.encode("utf-8", "surrogatepass") if isinstance(v, str) else v for k, v in req.fields.items()}
            kwargs["files"] = [(k, v) for k, v in (req.files or {}).items()] or {"": ("", b"", "text/plain")}
        else:
            headers["Content-Type"] = ctype
            kwargs["content"] = b"--nope\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\nhi\r\n--nope--\r\n"
    elif req.method != "GET" and (req.json is not None or req.raw is not None):
        kwargs["content"] = req.raw if req.raw is not None else serialize(_fill(req.json, ids))
        headers.setdefault("Content-Type", "application/json")
    headers = {k: v for k, v in headers.items() if v != "" or k == "Authorization"}
    kwargs["headers"] = headers
    repro = {"method": req.method, "url": url.replace(fake.url, ""), "headers": {k: v[:200] for k, v in headers.items()},
             "body": (kwargs.get("content") or b"")[:400].decode("utf-8", "replace") if "content" in kwargs else ("multipart " + json.dumps(req.fields)[:300] if req.fields is not None else ""),
             "mutations": req.notes}
    deadline = time.monotonic() + timeout
    try:
        with http.stream(req.method, url, timeout=timeout, **kwargs) as response:
            chunks = []
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    return Outcome(response.status_code, "hang", f"body still streaming after {timeout} s"), repro
            return judge(response.status_code, response.headers.get("content-type", ""), b"".join(chunks)), repro
    except httpx2.TimeoutException:
        return Outcome(None, "hang", f"no answer within {timeout} s"), repro
    except (httpx2.LocalProtocolError, UnicodeError) as exc:  # the client refused to send it: not a case
        return Outcome(None, "unsendable", f"{type(exc).__name__}: {exc}"), repro
    except httpx2.HTTPError as exc:
        return Outcome(None, "transport", f"{type(exc).__name__}: {exc}"), repro


def error_shape_ok(body: Any, status: int) -> bool:
    """OpenAI's envelope exactly, or a provider's documented error shape."""
    if not isinstance(body, dict):
        return False
    error = body.get("error")
    if isinstance(error, dict) and set(error) == ENVELOPE_KEYS:
        return True
    if isinstance(error, dict) and isinstance(error.get("message"), str):  # Azure's and Together's variants
        return True
    return "detail" in body or isinstance(body.get("message"), str)  # Mistral's shapes


def judge(status: int, ctype: str, data: bytes) -> Outcome:
    mime = ctype.split(";")[0].strip().lower()
    if 200 <= status < 300 and data == b"":
        return Outcome(status, "empty")  # methods the SDK reads no body of (``hangup``, ``accept``)
    if mime == "application/json":
        try:
            body = json.loads(data)
        except ValueError:
            return Outcome(status, "json", f"body is not JSON: {data[:120]!r}")
        if status >= 500:
            return Outcome(status, "json", f"5xx: {data[:300]!r}")
        if status >= 400 and not error_shape_ok(body, status):
            return Outcome(status, "json", f"error body not an envelope: {data[:200]!r}")
        return Outcome(status, "json")
    if mime == "text/event-stream":
        if status >= 400:
            return Outcome(status, "sse", "an error status with an SSE body")
        for line in data.decode("utf-8", "replace").splitlines():
            if line.startswith("data:"):
                payload = line[5:].strip()
                if payload == "[DONE]":
                    continue
                try:
                    json.loads(payload)
                except ValueError:
                    return Outcome(status, "sse", f"SSE data line is not JSON: {line[:120]!r}")
            elif line and not line.startswith(("event:", ":", "id:", "retry:")):
                return Outcome(status, "sse", f"not an SSE line: {line[:120]!r}")
        return Outcome(status, "sse")
    if status >= 500:
        return Outcome(status, "other", f"5xx {ctype!r}: {data[:200]!r}")
    if 200 <= status < 300 and mime.startswith(BINARY_TYPES):
        return Outcome(status, "binary")  # ``.content()`` methods: file, audio, image, video bytes
    if 200 <= status < 300 and mime in TEXT_TYPES:
        return Outcome(status, "text")  # transcripts as response_format text, srt or vtt
    return Outcome(status, "other", f"neither JSON nor SSE nor bytes: {status} {ctype!r} {data[:120]!r}")


#: Content types of a 2xx reply that is bytes (an error is always JSON).
BINARY_TYPES = ("application/octet-stream", "audio/", "image/", "video/", "application/zip")
TEXT_TYPES = ("text/plain", "text/vtt")


# -- the run ------------------------------------------------------------------------------------


#: The generic pass's share of the cases: its 360-odd endpoints share one handler, so they get
#: less than their number would give them; the rest go to the hand-written endpoints.
GENERIC_SHARE = 0.4


def plan(total: int) -> dict[str, int]:
    """Cases per pass: ``GENERIC_SHARE`` to the generic one, the rest to the providers in
    proportion to their number of hand-written endpoints."""
    generic = int(total * GENERIC_SHARE)
    sizes = {p: len(_routes(FakeOpenAI(provider=_profile(p)).app.routes, p)) for p in PROVIDERS if p != "generic"}
    whole = sum(sizes.values())
    counts = {p: (total - generic) * n // whole for p, n in sizes.items()}
    counts["openai"] += total - generic - sum(counts.values())
    return {**counts, "generic": generic}


def run_provider(provider: str, count: int, seed: int, timeout: float, only: int | None, verbose: bool,
                 failures: list[dict], stats: Counter, budget_end: float) -> list[Check]:
    checks: list[Check] = []
    fake = FakeOpenAI(provider=_profile(provider), lenient_ids=provider == "generic").start()
    fake.configure(problems="fail")
    http = httpx2.Client(timeout=timeout)
    try:
        routes = _routes(fake.app.routes, provider)
        base, seeds = seeds_for(provider)
        if provider == "generic":
            seeds = generic_seeds(routes)
        missing = sorted(set(routes) - set(seeds))
        seeds = {e: s for e, s in seeds.items() if e in routes}
        ids = make_fixtures(http, fake, provider)
        ids["fine_tuned_model"] = _fine_tuned(fake)
        # every seed must be answered 2xx (a seed the fake refuses fuzzes nothing useful)
        refused = []
        for endpoint, reqs in seeds.items():
            for req in reqs:
                outcome, repro = send(http, fake, base, req, ids, timeout)
                if outcome.status is None or not 200 <= outcome.status < 300 or outcome.problem:
                    refused.append(f"{endpoint} {repro['url']}: {outcome.status} {outcome.problem}")
            if "delete" in endpoint or "cancel" in endpoint:
                ids = make_fixtures(http, fake, provider)
                ids["fine_tuned_model"] = _fine_tuned(fake)
        checks.append(Check(
            f"{provider}: seeds", not missing and not refused,
            f"{sum(map(len, seeds.values()))} seeds for {len(seeds)}/{len(routes)} endpoints"
            + (f"; no seed for {missing}" if missing else "") + (f"; refused: {refused[:3]}" if refused else ""),
        ))
        fake.take_problems()

        endpoints = sorted(seeds)
        bad = Counter()
        statuses: Counter[int] = Counter()
        started = time.monotonic()
        done = 0
        # A replay runs the case's whole batch (from the reset before it), so the state it meets is
        # the state it met in the full run; only the case itself is printed.
        cases = range(only - only % RESET_EVERY, only + 1) if only is not None else range(count)
        for i in cases:
            if time.monotonic() > budget_end:
                bad["time budget exhausted"] += 1
                break
            if i % RESET_EVERY == 0:
                problems = [p for p in fake.take_problems() if p.kind != "no-route"]
                _record_problems(problems, provider, i, failures, bad)
                ids = make_fixtures(http, fake, provider)
                ids["fine_tuned_model"] = _fine_tuned(fake)
            rng = random.Random(f"{seed}:{provider}:{i}")
            endpoint = endpoints[i % len(endpoints)]
            req, case_ids = build_case(rng, rng.choice(seeds[endpoint]), ids)
            outcome, repro = send(http, fake, base, req, case_ids, timeout)
            done += 1
            stats[outcome.kind] += 1
            if outcome.status is not None:
                statuses[outcome.status] += 1
            if verbose and (only is None or i == only):
                print(f"{provider}:{i} {endpoint} {req.notes} -> {outcome.status} {outcome.kind} {outcome.problem}")
            if outcome.kind == "unsendable":
                continue
            if only is not None and i != only:
                continue
            if outcome.problem or outcome.kind in ("hang", "transport"):
                bad[outcome.kind if outcome.kind in ("hang", "transport") else ("5xx" if (outcome.status or 0) >= 500 else "shape")] += 1
                failures.append({"case": f"{provider}:{i}", "endpoint": endpoint, "status": outcome.status, "problem": outcome.problem, **repro})
            # a 5xx comes with a problem recorded by the fake: attach it to this case
            if outcome.status is not None and outcome.status >= 500:
                problems = [p for p in fake.take_problems() if p.kind != "no-route"]
                if problems:
                    failures[-1]["fake_problem"] = problems[0].summary
                    failures[-1]["traceback_tail"] = problems[0].detail.strip().splitlines()[-3:]
        problems = [p for p in fake.take_problems() if p.kind != "no-route"]
        _record_problems(problems, provider, done, failures, bad)
        elapsed = time.monotonic() - started
        checks.append(Check(
            f"{provider}: {done} mutated requests", not bad,
            f"in {elapsed:.1f} s; statuses {dict(sorted(statuses.items()))}; "
            + (", ".join(f"{k}: {v}" for k, v in bad.items()) if bad else "0 5xx, 0 hangs, 0 bad shapes, 0 fake problems"),
        ))
    finally:
        http.close()
        fake.stop()
    return checks


def _profile(provider: str) -> str:
    return "openai" if provider == "generic" else provider


def _routes(routes: dict[str, Any], provider: str) -> dict[str, Any]:
    """The endpoints a pass fuzzes: the generic layer's in "generic", the hand-written ones else.
    Socket events (``realtime.response.create``) are not HTTP calls: tests/resources/test_realtime.py
    sends them bad frames and events."""
    return {name: route for name, route in routes.items() if route.generic == (provider == "generic") and route.method != "WS"}




FINE_TUNED = "ft:gpt-4o-mini-2024-07-18:fuzz::abc123"


def _fine_tuned(fake: FakeOpenAI) -> str:
    """A deletable model: one owned by the user, added to this test's catalog."""
    fake.state.models.add(FINE_TUNED, owned_by="user-fuzz")
    return FINE_TUNED


def _record_problems(problems: list, provider: str, i: int, failures: list[dict], bad: Counter) -> None:
    for p in problems:
        bad["fake problems"] += 1
        failures.append({"case": f"{provider}:~{i}", "problem": f"fake problem ({p.kind}): {p.summary}", "traceback_tail": p.detail.strip().splitlines()[-3:]})


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=50_000, help="mutated requests in all (spread over the providers)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--timeout", type=float, default=10.0, help="seconds before a request counts as a hang")
    p.add_argument("--budget", type=float, default=900.0, help="seconds before giving up")
    p.add_argument("--case", help="replay one case, e.g. openai:1234")
    p.add_argument("--failures", metavar="PATH", help="write every failure (with its request) as JSON")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    if args.quick:
        args.requests, args.budget = min(args.requests, 2000), min(args.budget, 120.0)
    started = time.monotonic()
    failures: list[dict] = []
    stats: Counter[str] = Counter()
    checks: list[Check] = []
    budget_end = time.monotonic() + args.budget
    if args.case:
        provider, _, index = args.case.partition(":")
        checks += run_provider(provider, 1, args.seed, args.timeout, int(index), True, failures, stats, budget_end)
    else:
        for provider, count in plan(args.requests).items():
            checks += run_provider(provider, count, args.seed, args.timeout, None, args.verbose, failures, stats, budget_end)
    for f in failures[:10]:
        print(json.dumps(f)[:1500])
    if len(failures) > 10:
        print(f"... {len(failures) - 10} more failures (--failures PATH writes them all)")
    if args.failures:
        Path(args.failures).write_text(json.dumps(failures, indent=1))
    return report("fuzz", checks, args, started, {"seed": args.seed, "requests": args.requests, "answers": dict(stats), "failures": failures[:50]})


if __name__ == "__main__":
    sys.exit(main())
