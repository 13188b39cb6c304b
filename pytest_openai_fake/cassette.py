"""Record once against the real API, replay in the fake: cassettes.

A ``Cassette`` is a file of recorded interactions (request -> response). While a cassette is
active on a ``FakeApp``, a request that no script answers is answered from it; in a recording
mode (see ``RECORD_MODES``) a request with no recorded answer is forwarded to the upstream (the
real API, or anything that speaks it), its answer returned unchanged and saved.

The file is JSON (``.json``, written by this module); YAML cassettes written by vcrpy /
pytest-recording (``.yaml`` / ``.yml``) are read too, read-only, with PyYAML (the
``pytest-openai-fake[yaml]`` extra).

JSON cassette format (version 1)::

    {"version": 1, "interactions": [
      {"request": {"method": "POST", "path": "/v1/chat/completions", "query": {},
                   "headers": {...}, "json": {...}},          # or "text" / "multipart" / "base64"
       "response": {"status": 200, "headers": {...}, "json": {...}}},   # or "text" / "base64" /
                                                                         # "events": [{"t", "data"}]
    ]}

Streamed answers are kept as their SSE events, each with ``t``: seconds since the request was
sent. Binary bodies are base64. Secrets never reach the file (``SECRET_HEADERS``, the names a
test adds, and the upstream key's value wherever it appears).

This module imports no pytest: the plugin and the standalone server both drive it.
"""

from __future__ import annotations

import base64
import copy
import gzip
import hashlib
import io
import json
import os
import re
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "RECORD_MODES",
    "REPLAY_TIMINGS",
    "SCRUBBED",
    "SECRET_HEADERS",
    "Cassette",
    "CassetteError",
    "CassetteMiss",
    "Interaction",
    "Recorder",
    "canonical_request",
    "diff",
    "load_interactions",
    "upstream_url_for",
]

#: pytest-recording's record modes. ``none``: replay only, a miss fails. ``once``: record a
#: cassette that does not exist yet, else as ``none``. ``new_episodes``: replay what matches,
#: record the rest (appended). ``all``: record everything anew (the file is rewritten).
RECORD_MODES = ("none", "once", "new_episodes", "all")
#: ``fast``: replayed streams are sent at once; ``recorded``: with the recorded pacing.
REPLAY_TIMINGS = ("fast", "recorded")
SCRUBBED = "<scrubbed>"
#: Header names never written to a cassette (requests and responses), lower case.
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "api-key",
        "x-api-key",
        "openai-organization",
        "openai-project",
        "cookie",
        "set-cookie",
    }
)
#: Hop-by-hop and framing headers: neither forwarded nor recorded (httpx decodes bodies).
_HOP_HEADERS = frozenset(
    {"host", "content-length", "connection", "keep-alive", "transfer-encoding", "te", "upgrade", "proxy-connection", "accept-encoding", "content-encoding", "trailer"}
)
#: Response headers the fake's app adds to every answer itself: a replay does not repeat them.
_APP_HEADERS = frozenset({"x-request-id", "openai-processing-ms", "openai-version", "access-control-allow-origin", "content-length", "date", "server"})
VERSION = 1


class CassetteError(Exception):
    """A cassette that cannot be read or written, or a recording that cannot be made."""


class CassetteMiss(Exception):
    """No recorded answer for a request, and this cassette may not record one."""


# -- canonical requests ---------------------------------------------------------------------


def _body_fields(content_type: str, raw: bytes) -> dict[str, Any]:
    """A body as the cassette keeps it: one of ``json``, ``text``, ``multipart``, ``base64``
    (nothing for an empty body). Multipart uploads become their fields and, per file, its name,
    type, size and sha256: the boundary differs on every request, the content does not."""
    if not raw:
        return {}
    mimetype = content_type.split(";")[0].strip().lower()
    if mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        from werkzeug.wrappers import Request

        request = Request.from_values(input_stream=io.BytesIO(raw), content_length=len(raw), content_type=content_type, method="POST")
        fields: dict[str, Any] = {}
        for name, values in request.form.lists():
            fields[name] = values[0] if len(values) == 1 else values
        for name, files in request.files.lists():
            described = []
            for upload in files:
                data = upload.read()
                described.append(
                    {"filename": upload.filename, "content_type": upload.mimetype, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                )
            fields[name] = described[0] if len(described) == 1 else described
        return {"multipart": fields}
    if mimetype.endswith("json") or mimetype == "":
        try:
            return {"json": json.loads(raw)}
        except ValueError:
            pass
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(raw).decode("ascii")}
    return {"text": text}


_BODY_KEYS = ("json", "text", "multipart", "base64")


def _body_of(record: Mapping[str, Any]) -> Any:
    """The comparable body of a request record (None when empty)."""
    for key in _BODY_KEYS:
        if key in record:
            return record[key]
    return None


def canonical_request(method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str], raw: bytes) -> dict[str, Any]:
    """A request as a cassette records and matches it (headers not yet scrubbed)."""
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    return {
        "method": method.upper(),
        "path": path,
        "query": dict(query),
        "headers": {k.lower(): v for k, v in headers.items() if k.lower() not in _HOP_HEADERS},
        **_body_fields(content_type, raw),
    }


# -- matching ---------------------------------------------------------------------------------

_TOKEN = re.compile(r"\[(\d+|\*)\]|([^.\[\]]+)")


def _path_tokens(path: str) -> list[str | int]:
    tokens: list[str | int] = []
    for index, key in _TOKEN.findall(path):
        if index:
            tokens.append("*" if index == "*" else int(index))
        else:
            tokens.append(key)
    return tokens


def _drop(value: Any, tokens: Sequence[str | int]) -> None:
    if not tokens:
        return
    head, rest = tokens[0], tokens[1:]
    if isinstance(value, dict):
        keys = list(value) if head == "*" else [head] if head in value else []
        for key in keys:
            if rest:
                _drop(value[key], rest)
            else:
                del value[key]
    elif isinstance(value, list):
        indices = range(len(value)) if head == "*" else [head] if isinstance(head, int) and head < len(value) else []
        for index in sorted(indices, reverse=True):
            if rest:
                _drop(value[index], rest)
            else:
                del value[index]


def _comparable(record: Mapping[str, Any], ignore: Sequence[str]) -> dict[str, Any]:
    """What two requests are compared on: method, path, query, body; minus the ignored fields
    (``"user"``, ``"metadata.trace"``, ``"messages[*].name"``, ``"query.api-version"``)."""
    item = {"method": record["method"], "path": record["path"], "query": dict(record.get("query") or {}), "body": copy.deepcopy(_body_of(record))}
    for path in ignore:
        tokens = _path_tokens(path)
        if tokens and tokens[0] == "query":
            _drop(item["query"], tokens[1:])
        else:
            _drop(item["body"], tokens)
    return item


def diff(got: Any, recorded: Any, path: str = "") -> list[str]:
    """Field-by-field differences, ``messages[1].content: "Summarise…" != "Summarize…"``
    (this request's value first, the recorded one second)."""
    if isinstance(got, dict) and isinstance(recorded, dict):
        lines = []
        for key in [*got, *(k for k in recorded if k not in got)]:
            sub = f"{path}.{key}" if path else str(key)
            if key not in recorded:
                lines.append(f"{sub}: {_short(got[key])} != (absent)")
            elif key not in got:
                lines.append(f"{sub}: (absent) != {_short(recorded[key])}")
            else:
                lines.extend(diff(got[key], recorded[key], sub))
        return lines
    if isinstance(got, list) and isinstance(recorded, list):
        lines = []
        for index in range(max(len(got), len(recorded))):
            sub = f"{path}[{index}]"
            if index >= len(recorded):
                lines.append(f"{sub}: {_short(got[index])} != (absent)")
            elif index >= len(got):
                lines.append(f"{sub}: (absent) != {_short(recorded[index])}")
            else:
                lines.extend(diff(got[index], recorded[index], sub))
        return lines
    if got != recorded or type(got) is not type(recorded):
        return [f"{path or '(body)'}: {_short(got)} != {_short(recorded)}"]
    return []


def _short(value: Any, width: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= width else text[: width - 1] + "…"


# -- interactions -----------------------------------------------------------------------------


@dataclass
class Interaction:
    """One recorded request and its response, as the cassette file holds them."""

    request: dict[str, Any]
    response: dict[str, Any]
    played: bool = False

    def describe(self) -> str:
        body = _body_of(self.request)
        model = f" model={body['model']}" if isinstance(body, dict) and isinstance(body.get("model"), str) else ""
        return f"{self.request['method']} {self.request['path']}{model} -> {self.response.get('status')}"

    def to_data(self) -> dict[str, Any]:
        return {"request": self.request, "response": self.response}


@dataclass(frozen=True)
class Recorder:
    """How a cassette records: its mode, where misses are forwarded, with which credential, and
    what is scrubbed. ``credential`` is ``(header, value)`` (``("Authorization", "Bearer sk-…")``
    or Azure's ``("api-key", "…")``), read from the provider's usual environment variable,
    never from the request: the test's own key is not forwarded."""

    mode: str = "none"
    upstream: str | None = None
    base_path: str = "/v1"
    credential: tuple[str, str] | None = None
    credential_env: str = "OPENAI_API_KEY"
    timing: str = "fast"
    #: More header or JSON body field names to scrub (lower-cased for headers).
    scrub: frozenset[str] = frozenset()
    timeout: float = 120.0
    #: How to re-record, for the miss message (the plugin's options or the server's).
    rerecord: str = "record it with --openai-fake-record-mode=new_episodes (adds to the cassette) or =all (rewrites it)"

    def __post_init__(self) -> None:
        if self.mode not in RECORD_MODES:
            raise CassetteError(f"record mode must be one of {', '.join(RECORD_MODES)}, got {self.mode!r}")
        if self.timing not in REPLAY_TIMINGS:
            raise CassetteError(f"replay timing must be one of {', '.join(REPLAY_TIMINGS)}, got {self.timing!r}")


def upstream_url_for(upstream: str, base_path: str, path: str, query_string: str) -> str:
    """The upstream URL of a request to ``path`` on the fake.

    ``upstream`` is the base URL as a client uses it (``https://api.openai.com/v1``). A path
    under the provider's ``base_path`` keeps its rest (``/v1/chat/completions`` ->
    ``<upstream>/chat/completions``); any other (Azure's ``/openai/deployments/...``) goes to the
    upstream's root: ``upstream`` without its ``base_path`` suffix.
    """
    upstream = upstream.rstrip("/")
    base = base_path.rstrip("/")
    if base and (path == base or path.startswith(base + "/")):
        url = upstream + path[len(base) :]
    else:
        root = upstream[: -len(base)] if base and upstream.endswith(base) else upstream
        url = root + path
    return url + (f"?{query_string}" if query_string else "")


class Cassette:
    """The interactions of one cassette file, replayed in order and (in a recording mode) added to.

    Thread-safe. ``ignore``: field paths left out of the match (``"user"``,
    ``"metadata.trace"``, ``"messages[*].name"``, ``"query.api-version"``). ``match``: a
    callable ``(request, recorded) -> bool`` on the two request records (``method``, ``path``,
    ``query``, ``headers`` and the body as ``json`` / ``text`` / ``multipart`` / ``base64``)
    that replaces the comparison of method, path, query and body.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        recorder: Recorder | None = None,
        *,
        ignore: Iterable[str] = (),
        match: Callable[[dict[str, Any], dict[str, Any]], bool] | None = None,
        name: str | None = None,
        fresh: bool = False,
    ) -> None:
        """``fresh``: this run already recorded into this file (another test sharing the cassette):
        modes ``once`` and ``all`` keep recording into it, after what is there."""
        self.path = Path(path)
        self.recorder = recorder or Recorder()
        self.ignore = tuple(ignore)
        self.match = match
        self.name = name or self.path.stem
        self.lock = threading.Lock()
        exists = self.path.exists()
        self.existed = exists and not fresh
        self.read_only = self.path.suffix.lower() in (".yaml", ".yml")
        mode = self.recorder.mode
        if self.read_only and (mode in ("new_episodes", "all") or (mode == "once" and not self.existed)):
            raise CassetteError(
                f"{self.path}: YAML cassettes (vcrpy / pytest-recording) are replayed, not written; record mode "
                f"{mode!r} would write to it. Replay it with record mode 'none', or record a JSON cassette instead"
            )
        keep = exists and (fresh or mode != "all")
        self.interactions: list[Interaction] = load_interactions(self.path) if keep else []
        #: Miss messages (each fails the test under the plugin).
        self.misses: list[str] = []
        self.recorded = 0
        self._http: Any = None

    def __repr__(self) -> str:
        return f"<Cassette {self.path} mode={self.recorder.mode} {len(self.interactions)} interaction(s)>"

    @property
    def recording(self) -> bool:
        """Whether a request with no recorded answer is forwarded upstream and saved."""
        mode = self.recorder.mode
        return mode in ("new_episodes", "all") or (mode == "once" and not self.existed)

    # -- replay ---------------------------------------------------------------------------------

    def _matches(self, request: dict[str, Any], recorded: dict[str, Any]) -> bool:
        if self.match is not None:
            return bool(self.match(request, recorded))
        return _comparable(request, self.ignore) == _comparable(recorded, self.ignore)

    def play(self, request: dict[str, Any]) -> tuple[Interaction, int] | None:
        """The first interaction not yet played that matches ``request``, marked played, and its
        number (from 1); None if there is none (in mode ``all``: always none)."""
        if self.recorder.mode == "all":
            return None
        with self.lock:
            for number, interaction in enumerate(self.interactions, 1):
                if not interaction.played and self._matches(request, interaction.request):
                    interaction.played = True
                    return interaction, number
        return None

    def unplayed(self) -> list[tuple[int, Interaction]]:
        with self.lock:
            return [(n, i) for n, i in enumerate(self.interactions, 1) if not i.played]

    def miss(self, request: dict[str, Any], reason: str = "") -> str:
        """Why ``request`` has no answer: the nearest recorded request, field by field, and how
        to re-record. Kept in ``misses``."""
        lines = [
            f"pytest-openai-fake: cassette {self.path} has no recorded answer for {request['method']} {request['path']} "
            f"(record mode {self.recorder.mode!r}{', the cassette existed: replay only' if self.recorder.mode == 'once' else ''})."
        ]
        if reason:
            lines.append(reason)
        nearest = self._nearest(request)
        mine = _comparable(request, self.ignore)
        if nearest is None:
            lines.append("The cassette has no interactions." if not self.interactions else "")
        else:
            number, interaction = nearest
            theirs = _comparable(interaction.request, self.ignore)
            differences = diff(
                {k: v for k, v in mine.items() if k != "body"} | _flat_body(mine["body"]),
                {k: v for k, v in theirs.items() if k != "body"} | _flat_body(theirs["body"]),
            )
            if differences:
                lines.append(f"Nearest recorded request (#{number}: {interaction.describe()}), this request != recorded:")
                lines.extend(f"  {line}" for line in differences[:20])
                if len(differences) > 20:
                    lines.append(f"  … and {len(differences) - 20} more difference(s)")
            elif self.match is not None:
                lines.append(f"Recorded request #{number} has the same method, path, query and body, but the cassette's match= callable refused it.")
            else:
                same = sum(1 for i in self.interactions if _comparable(i.request, self.ignore) == mine)
                lines.append(
                    f"This exact request was recorded {same} time(s), and every recording of it was already replayed in this "
                    "test: identical requests replay in order, once each."
                )
        lines.append(f"To re-record: {self.recorder.rerecord} (cassette: {self.path}).")
        message = "\n".join(line for line in lines if line)
        with self.lock:
            self.misses.append(message)
        return message

    def _nearest(self, request: dict[str, Any]) -> tuple[int, Interaction] | None:
        mine = _comparable(request, self.ignore)
        best: tuple[tuple[int, int, int], int, Interaction] | None = None
        with self.lock:
            candidates = list(enumerate(self.interactions, 1))
        for number, interaction in candidates:
            theirs = _comparable(interaction.request, self.ignore)
            other_route = (theirs["method"], theirs["path"]) != (mine["method"], mine["path"])
            score = (int(other_route), len(diff(_flat_body(mine["body"]) | {"query": mine["query"]}, _flat_body(theirs["body"]) | {"query": theirs["query"]})), int(interaction.played))
            if best is None or score < best[0]:
                best = (score, number, interaction)
        return None if best is None else (best[1], best[2])

    # -- record ---------------------------------------------------------------------------------

    def record(self, request: dict[str, Any], query_string: str, raw: bytes) -> tuple[Interaction, dict[str, Any]]:
        """Forward ``request`` upstream, save the interaction; return it and the upstream's answer
        as it came (unscrubbed headers, the body's own bytes in ``raw``), for the client. Raises
        ``CassetteMiss`` when the recording cannot be made (no upstream, no key, unreachable)."""
        recorder = self.recorder
        if not recorder.upstream:
            raise CassetteMiss(self.miss(request, "Recording needs an upstream: give --openai-fake-upstream URL (the base URL a client would use)."))
        if recorder.credential is None:
            raise CassetteMiss(self.miss(request, f"Recording needs the upstream's API key in ${recorder.credential_env} (the test's fake key is never forwarded)."))
        url = upstream_url_for(recorder.upstream, recorder.base_path, request["path"], query_string)
        headers = {k: v for k, v in request["headers"].items() if k not in SECRET_HEADERS and k not in _HOP_HEADERS}
        headers[recorder.credential[0]] = recorder.credential[1]
        try:
            response = self._forward(request["method"], url, headers, raw)
        except Exception as exc:  # the HTTP library's transport errors: the recording failed
            raise CassetteMiss(self.miss(request, f"Forwarding to the upstream {url} failed: {type(exc).__name__}: {exc}")) from None
        live = dict(response)
        response.pop("raw", None)
        interaction = Interaction(self._scrubbed_request(request), self._scrubbed_response(response), played=True)
        with self.lock:
            self.interactions.append(interaction)
            self.recorded += 1
            self.save()
        return interaction, live

    def _client(self) -> Any:
        if self._http is None:
            from .sdk import http_module  # the HTTP library the installed openai SDK brings

            self._http = http_module().Client(timeout=self.recorder.timeout, follow_redirects=False, trust_env=False)
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def _forward(self, method: str, url: str, headers: dict[str, str], raw: bytes) -> dict[str, Any]:
        started = time.perf_counter()
        client = self._client()
        with client.stream(method, url, headers=headers, content=raw) as upstream:
            status = upstream.status_code
            response_headers = [(k.lower(), v) for k, v in upstream.headers.multi_items() if k.lower() not in _HOP_HEADERS]
            content_type = upstream.headers.get("content-type", "")
            if content_type.split(";")[0].strip().lower() == "text/event-stream":
                events = []
                buffer = b""
                for chunk in upstream.iter_bytes():
                    buffer += chunk.replace(b"\r\n", b"\n")
                    while b"\n\n" in buffer:
                        frame, buffer = buffer.split(b"\n\n", 1)
                        events.append({"t": round(time.perf_counter() - started, 4), "data": frame.decode("utf-8")})
                if buffer.strip():
                    events.append({"t": round(time.perf_counter() - started, 4), "data": buffer.decode("utf-8")})
                body: dict[str, Any] = {"events": events}
            else:
                data = upstream.read()
                body = {**_response_body(content_type, data), "raw": data}
        return {"status": status, "headers": _header_dict(response_headers), **body}

    def _scrub_names(self) -> frozenset[str]:
        return frozenset(n.lower() for n in self.recorder.scrub)

    def _scrubbed_request(self, request: dict[str, Any]) -> dict[str, Any]:
        names = self._scrub_names()
        record = {k: v for k, v in request.items()}
        record["headers"] = {k: (SCRUBBED if k in names else v) for k, v in request["headers"].items() if k not in SECRET_HEADERS}
        record["query"] = {k: (SCRUBBED if k.lower() in names or k.lower() in SECRET_HEADERS else v) for k, v in request["query"].items()}
        for key in ("json", "multipart"):
            if key in record:
                record[key] = _scrub_fields(record[key], names)
        return self._scrub_secret(record)

    def _scrubbed_response(self, response: dict[str, Any]) -> dict[str, Any]:
        names = self._scrub_names()
        record = dict(response)
        record["headers"] = {k: (SCRUBBED if k in names else v) for k, v in response["headers"].items() if k not in SECRET_HEADERS}
        if "json" in record:
            record["json"] = _scrub_fields(record["json"], names)
        return self._scrub_secret(record)

    def _scrub_secret(self, record: dict[str, Any]) -> dict[str, Any]:
        """The upstream key's value, wherever it appears (an echoed header, an error message)."""
        credential = self.recorder.credential
        secret = credential[1].split(" ", 1)[-1] if credential else ""
        if len(secret) < 8:
            return record
        text = json.dumps(record, ensure_ascii=False)
        if secret not in text:
            return record
        scrubbed: dict[str, Any] = json.loads(text.replace(json.dumps(secret)[1:-1], SCRUBBED))
        return scrubbed

    def save(self) -> None:
        """Write the cassette (atomically: a temporary file replaced)."""
        if self.read_only:
            raise CassetteError(f"{self.path}: YAML cassettes are not written")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"version": VERSION, "interactions": [i.to_data() for i in self.interactions]}
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        fd, tmp = tempfile.mkstemp(prefix=self.path.name, suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _flat_body(body: Any) -> dict[str, Any]:
    """The body as the diff shows it: a JSON object's fields at the top level."""
    if body is None:
        return {}
    return body if isinstance(body, dict) else {"(body)": body}


def _scrub_fields(value: Any, names: frozenset[str]) -> Any:
    if not names:
        return value
    if isinstance(value, dict):
        return {k: (SCRUBBED if k.lower() in names else _scrub_fields(v, names)) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_fields(v, names) for v in value]
    return value


def _header_dict(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for key, value in pairs:
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


def _response_body(content_type: str, raw: bytes) -> dict[str, Any]:
    mimetype = content_type.split(";")[0].strip().lower()
    if mimetype == "text/event-stream":
        text = raw.decode("utf-8").replace("\r\n", "\n")
        return {"events": [{"t": 0.0, "data": frame} for frame in text.split("\n\n") if frame.strip()]}
    if mimetype.endswith("json"):
        try:
            return {"json": json.loads(raw)}
        except ValueError:
            pass
    if mimetype.startswith("text/") or mimetype.endswith(("json", "xml")):
        try:
            return {"text": raw.decode("utf-8")}
        except UnicodeDecodeError:
            pass
    if not raw:
        return {"text": ""}
    return {"base64": base64.b64encode(raw).decode("ascii")}


# -- rendering a recorded response --------------------------------------------------------------


def response_parts(response: Mapping[str, Any]) -> tuple[int, list[tuple[str, str]], bytes | None, list[tuple[float, bytes]] | None]:
    """A recorded response as status, headers, and either its body or its SSE frames with
    their times."""
    status = int(response.get("status", 200))
    headers = [(k, v) for k, v in (response.get("headers") or {}).items() if k.lower() not in _APP_HEADERS and k.lower() not in _HOP_HEADERS]
    if "events" in response:
        frames = [(float(e.get("t", 0.0)), (e["data"].rstrip("\n") + "\n\n").encode()) for e in response["events"]]
        return status, headers, None, frames
    if "raw" in response:  # a recording's own bytes
        body = response["raw"]
    elif "json" in response:
        body = json.dumps(response["json"], ensure_ascii=False).encode()
    elif "base64" in response:
        body = base64.b64decode(response["base64"])
    else:
        body = str(response.get("text", "")).encode()
    return status, headers, body, None


def paced(frames: list[tuple[float, bytes]], wait: Callable[[float], bool]) -> Iterator[bytes]:
    """The frames at their recorded times (relative to the first): ``wait(seconds)`` returns
    True when the wait was cut short (the test ended), which ends the stream."""
    start = time.perf_counter()
    first = frames[0][0] if frames else 0.0
    yield b""  # the status line and headers go now
    for at, frame in frames:
        delay = (at - first) - (time.perf_counter() - start)
        if delay > 0 and wait(delay):
            return
        yield frame


# -- loading --------------------------------------------------------------------------------------


def load_interactions(path: Path) -> list[Interaction]:
    """The interactions of a JSON cassette, or of a vcrpy / pytest-recording YAML one."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CassetteError(f"cannot read cassette {path}: {exc}") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        return _load_vcr(path, text)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CassetteError(f"cassette {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        raise CassetteError(f'cassette {path}: expected {{"version": 1, "interactions": [...]}}')
    if data.get("version") != VERSION:
        raise CassetteError(f"cassette {path}: version {data.get('version')!r} is not one this version reads ({VERSION})")
    interactions = []
    for number, item in enumerate(data["interactions"], 1):
        request, response = (item.get("request"), item.get("response")) if isinstance(item, dict) else (None, None)
        if not isinstance(request, dict) or not isinstance(response, dict) or not {"method", "path"} <= set(request):
            raise CassetteError(f"cassette {path}: interaction #{number} needs a request (method, path) and a response")
        request.setdefault("query", {})
        request.setdefault("headers", {})
        interactions.append(Interaction(request, response))
    return interactions


def _load_vcr(path: Path, text: str) -> list[Interaction]:
    try:
        import yaml
    except ImportError:
        raise CassetteError(
            f"cassette {path} is YAML (vcrpy / pytest-recording): reading it needs PyYAML, pip install 'pytest-openai-fake[yaml]'"
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CassetteError(f"cassette {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        raise CassetteError(f"cassette {path}: not a vcrpy cassette (no interactions: list)")
    interactions = []
    for number, item in enumerate(data["interactions"], 1):
        try:
            interactions.append(_vcr_interaction(item))
        except (KeyError, TypeError, ValueError) as exc:
            raise CassetteError(f"cassette {path}: vcrpy interaction #{number} cannot be read: {exc!r}") from None
    return interactions


def _vcr_headers(headers: Any) -> dict[str, str]:
    """vcrpy keeps each header as a list of values."""
    result = {}
    for key, value in (headers or {}).items():
        values = value if isinstance(value, list) else [value]
        result[str(key).lower()] = ", ".join(str(v) for v in values)
    return result


def _vcr_bytes(body: Any) -> bytes:
    if isinstance(body, dict):
        body = body.get("string", b"")
    if body is None:
        return b""
    return body if isinstance(body, bytes) else str(body).encode("utf-8")


def _vcr_interaction(item: dict[str, Any]) -> Interaction:
    request, response = item["request"], item["response"]
    url = urlsplit(request["uri"])
    headers = _vcr_headers(request.get("headers"))
    record = canonical_request(request["method"], url.path or "/", dict(parse_qsl(url.query, keep_blank_values=True)), headers, _vcr_bytes(request.get("body")))
    record["headers"] = {k: v for k, v in record["headers"].items() if k not in SECRET_HEADERS}
    response_headers = _vcr_headers(response.get("headers"))
    raw = _vcr_bytes(response.get("body"))
    encoding = response_headers.pop("content-encoding", "").strip().lower()
    if encoding in ("gzip", "x-gzip"):
        raw = gzip.decompress(raw)
    elif encoding == "deflate":
        raw = zlib.decompress(raw)
    elif encoding not in ("", "identity"):
        raise ValueError(f"a {encoding}-encoded body (record with decode_compressed_response=True)")
    status = response.get("status", {})
    code = status.get("code", 200) if isinstance(status, dict) else int(status)
    kept = {k: v for k, v in response_headers.items() if k not in _HOP_HEADERS and k not in SECRET_HEADERS}
    return Interaction(record, {"status": int(code), "headers": kept, **_response_body(response_headers.get("content-type", ""), raw)})


# -- configuration (shared by the pytest plugin and the standalone server) -----------------------

#: Characters pytest-recording replaces with ``-`` in a test's name to make its cassette's name.
_UNSAFE = re.compile(r"[<>?%*:|\"'/\\]")


def default_cassette_name(test_name: str, class_name: str | None = None) -> str:
    """pytest-recording's default: the test's name (``Class.test`` in a class), unsafe
    characters replaced by ``-``."""
    name = _UNSAFE.sub("-", test_name)
    return f"{class_name}.{name}" if class_name else name


def cassette_file(directory: Path, name: str) -> Path:
    """``directory/name.<ext>``: an existing ``.json``, else ``.yaml`` / ``.yml`` (vcrpy's), else
    a new ``.json``. A name that has one of these extensions is taken as it is."""
    if Path(name).suffix.lower() in (".json", ".yaml", ".yml"):
        return directory / name
    for ext in (".json", ".yaml", ".yml"):
        candidate = directory / f"{name}{ext}"
        if candidate.exists():
            return candidate
    return directory / f"{name}.json"


def parse_upstreams(values: Iterable[str], known: Iterable[str]) -> dict[str, str]:
    """``["https://x/v1", "azure=https://y/openai/v1"]`` -> ``{"*": ..., "azure": ...}``."""
    known = set(known)
    upstreams: dict[str, str] = {}
    for value in values:
        value = value.strip()
        if not value:
            continue
        provider, sep, url = value.partition("=")
        if sep and provider in known:
            upstreams[provider] = url.strip()
        elif sep and "://" not in provider:
            raise CassetteError(f"upstream {value!r}: unknown provider {provider!r} (known: {', '.join(sorted(known))})")
        else:
            upstreams["*"] = value
    for url in upstreams.values():
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise CassetteError(f"upstream {url!r} is not an http(s) URL such as https://api.openai.com/v1")
    return upstreams


def recorder_for(
    provider: Any,
    *,
    mode: str,
    upstreams: Mapping[str, str],
    environ: Mapping[str, str],
    timing: str = "fast",
    scrub: Iterable[str] = (),
    rerecord: str | None = None,
) -> Recorder:
    """The ``Recorder`` of a cassette on ``provider``'s fake: its upstream (given for it, given
    for all, else the provider's default) and credential, from ``environ`` as it was when the
    run started (before a fixture pointed ``OPENAI_API_KEY`` at the fake)."""
    upstream = upstreams.get(provider.name) or upstreams.get("*") or provider.upstream_url
    if upstream is None and provider.upstream_url_env and environ.get(provider.upstream_url_env):
        upstream = environ[provider.upstream_url_env].rstrip("/") + provider.base_path
    key = environ.get(provider.upstream_key_env, "").strip()
    credential = None
    if key:
        credential = (provider.key_headers[0], key) if provider.key_headers else ("Authorization", f"Bearer {key}")
    options: dict[str, Any] = {}
    if rerecord is not None:
        options["rerecord"] = rerecord
    return Recorder(
        mode=mode,
        upstream=upstream,
        base_path=provider.base_path,
        credential=credential,
        credential_env=provider.upstream_key_env,
        timing=timing,
        scrub=frozenset(scrub),
        **options,
    )
