"""The request log: immutable copies of every API request the fake answered."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Iterator, Mapping, Sequence, overload

__all__ = ["CapturedRequest", "RequestLog"]

_NO_JSON = object()


@dataclass(frozen=True)
class CapturedRequest:
    """One request as the fake saw it, and the status it answered with.

    ``headers`` keys are lower-case. ``json`` is the parsed body, or ``None`` when the body was
    empty or not JSON (``body`` always has the raw bytes).
    """

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    endpoint: str | None
    status: int
    index: int = 0
    _json: Any = field(default=_NO_JSON, repr=False, compare=False)

    @property
    def json(self) -> Any:
        if self._json is _NO_JSON:
            try:
                parsed = json.loads(self.body) if self.body.strip() else None
            except ValueError:
                parsed = None
            object.__setattr__(self, "_json", parsed)
        return self._json

    @property
    def model(self) -> str | None:
        body = self.json
        model = body.get("model") if isinstance(body, dict) else None
        return model if isinstance(model, str) else None

    @property
    def stream(self) -> bool:
        body = self.json
        return bool(isinstance(body, dict) and body.get("stream"))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able view, as served by ``GET /__fake/requests``."""
        body = self.json
        return {
            "index": self.index,
            "method": self.method,
            "path": self.path,
            "query": dict(self.query),
            "headers": dict(self.headers),
            "endpoint": self.endpoint,
            "status": self.status,
            "json": body,
            "body": None if body is not None else self.body.decode("utf-8", "replace"),
        }

    def summary(self, width: int = 120) -> str:
        """One line: ``POST /v1/chat/completions model=gpt-4o -> 200 {"messages": ...}``."""
        model = f" model={self.model}" if self.model else ""
        text = self.body.decode("utf-8", "replace")
        text = re.sub(r"\s+", " ", text)
        if len(text) > width:
            text = text[: width - 3] + "..."
        return f"{self.method} {self.path}{model} -> {self.status} {text}".rstrip()


class RequestLog(Sequence[CapturedRequest]):
    """A thread-safe, list-like log of captured requests.

    ``log.last``, ``log[0]``, ``len(log)``, iteration, ``log.filter(endpoint=..., path=...)``,
    ``log.clear()``.
    """

    def __init__(self, items: Sequence[CapturedRequest] = ()) -> None:
        self._items: list[CapturedRequest] = list(items)
        self._lock = threading.Lock()

    def append(self, request: CapturedRequest) -> None:
        with self._lock:
            self._items.append(request)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def snapshot(self) -> list[CapturedRequest]:
        with self._lock:
            return list(self._items)

    @property
    def last(self) -> CapturedRequest:
        with self._lock:
            if not self._items:
                raise IndexError("no OpenAI requests were captured")
            return self._items[-1]

    @property
    def first(self) -> CapturedRequest:
        with self._lock:
            if not self._items:
                raise IndexError("no OpenAI requests were captured")
            return self._items[0]

    def filter(
        self,
        predicate: Callable[[CapturedRequest], bool] | None = None,
        *,
        endpoint: str | None = None,
        path: str | re.Pattern[str] | None = None,
        method: str | None = None,
        model: str | None = None,
        status: int | None = None,
    ) -> RequestLog:
        """The requests matching every given condition, as a new (detached) log.

        ``path`` is an exact path, or a compiled regex searched in the path.
        """

        def keep(request: CapturedRequest) -> bool:
            if endpoint is not None and request.endpoint != endpoint:
                return False
            if method is not None and request.method != method.upper():
                return False
            if isinstance(path, re.Pattern):
                if not path.search(request.path):
                    return False
            elif path is not None and request.path != path:
                return False
            if model is not None and request.model != model:
                return False
            if status is not None and request.status != status:
                return False
            return predicate is None or predicate(request)

        return RequestLog([r for r in self.snapshot() if keep(r)])

    @property
    def endpoints(self) -> list[str | None]:
        """The endpoint name of each request, in order: handy for asserting a call sequence."""
        return [r.endpoint for r in self.snapshot()]

    @overload
    def __getitem__(self, index: int) -> CapturedRequest: ...

    @overload
    def __getitem__(self, index: slice) -> list[CapturedRequest]: ...

    def __getitem__(self, index: int | slice) -> CapturedRequest | list[CapturedRequest]:
        with self._lock:
            return self._items[index]

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __iter__(self) -> Iterator[CapturedRequest]:
        return iter(self.snapshot())

    def __bool__(self) -> bool:
        return len(self) > 0

    def __repr__(self) -> str:
        return f"RequestLog({len(self)} requests)"


def headers_from_environ(environ: Mapping[str, Any]) -> Mapping[str, str]:
    """The request's headers, lower-case keys, read straight from the WSGI environ."""
    headers = {key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")}
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = environ[key]
    return MappingProxyType(headers)
