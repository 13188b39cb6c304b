"""What the fake remembers: plain data, one attribute per family, rebuilt by ``reset()``."""

from __future__ import annotations

import threading
import typing
from dataclasses import dataclass
from typing import Any, Callable, Generic, Iterable, Iterator, TypeVar

from . import errors
from .determinism import IdSequence
from .providers.openai import ModelCard, Provider, base_model, literal_strings, sdk_model_id_set

# What resources need to know of models (what the SDK names, a fine-tune's base) comes through
# here, so they import only routing, errors, state, determinism and streaming (STYLE.md).
__all__ = [
    "Blob",
    "Collection",
    "ModelCard",
    "Models",
    "SharedIds",
    "Store",
    "Table",
    "base_model",
    "card_serves",
    "json_copy",
    "literal_strings",
    "page",
    "sdk_model_id_set",
]


def card_serves(card: ModelCard, kinds: typing.Collection[str], sdk_ids: typing.Collection[str]) -> bool:
    """Whether a catalog model serves an endpoint: by its card's own ``type`` where the catalog
    has one (Together's), else by its id (or a fine-tune's base): one of ``sdk_ids`` (what the SDK
    names for that endpoint), or an id the SDK does not name at all (a model the test added)."""
    kind = dict(card.extra).get("type")
    if isinstance(kind, str):
        return kind in kinds
    base = base_model(card.id)
    return base in sdk_ids or base not in sdk_model_id_set()


def json_copy(value: Any) -> Any:
    """A deep copy of JSON data (dicts and lists of scalars), made without recursion, so a body
    nested as deep as the JSON parser accepts (~1000 levels) copies as well (``copy.deepcopy``
    fails at about half that). Other values are shared, as immutable scalars are."""
    if not isinstance(value, (dict, list)):
        return value
    root: Any = {} if isinstance(value, dict) else []
    stack = [(value, root)]
    while stack:
        source, target = stack.pop()
        pairs = source.items() if isinstance(source, dict) else enumerate(source)
        for key, item in pairs:
            if isinstance(item, (dict, list)):
                child: Any = {} if isinstance(item, dict) else []
                stack.append((item, child))
            else:
                child = item
            if isinstance(target, dict):
                target[key] = child
            else:
                target.append(child)
    return root


class Models:
    """The model catalog of the current test: the provider's, or only the ones a test names."""

    def __init__(self, provider: Provider) -> None:
        self._provider = provider
        self._cards: dict[str, ModelCard] = {card.id: card for card in provider.catalog}

    def restrict(self, model_ids: Iterable[str]) -> None:
        """Only these models exist from now on (``@pytest.mark.openai_fake(models=[...])``)."""
        known = {card.id: card for card in self._provider.catalog}
        self._cards = {}
        for model_id in model_ids:
            self._cards[model_id] = known.get(model_id) or ModelCard(model_id, created=1_735_689_600)

    def add(self, model_id: str, *, owned_by: str = "system", created: int = 1_735_689_600) -> ModelCard:
        card = ModelCard(model_id, created=created, owned_by=owned_by)
        self._cards[model_id] = card
        return card

    def remove(self, model_id: str) -> None:
        self.get(model_id)
        del self._cards[model_id]

    def list(self) -> list[ModelCard]:
        return list(self._cards.values())

    def get(self, model_id: str) -> ModelCard:
        card = self._cards.get(model_id)
        if card is None:
            raise errors.model_not_found(model_id)
        return card

    def require(self, model_id: str) -> None:
        if model_id not in self._cards:
            raise errors.model_not_found(model_id)

    def __contains__(self, model_id: object) -> bool:
        return model_id in self._cards


@dataclass(frozen=True)
class Blob:
    """Bytes the fake serves at ``GET /__fake/blobs/<name>`` (e.g. a generated image's ``url``)."""

    content_type: str
    data: bytes


T = TypeVar("T")


class Table(Generic[T]):
    """Stored objects of one kind by id, oldest first. ``get`` answers the real 404 for unknown ids."""

    def __init__(self, noun: str, missing: Callable[[str], errors.OpenAIError] | None = None) -> None:
        self.noun = noun  # "response", "conversation", ... used in the 404 message
        self._missing = missing
        self._rows: dict[str, T] = {}

    def add(self, key: str, row: T) -> T:
        self._rows[key] = row
        return row

    def get(self, key: str) -> T:
        row = self._rows.get(key)
        if row is None:
            if self._missing is not None:
                raise self._missing(key)
            raise errors.not_found(f"No {self.noun} found with id '{key}'.")
        return row

    def find(self, key: str) -> T | None:
        return self._rows.get(key)

    def delete(self, key: str) -> T:
        row = self.get(key)
        del self._rows[key]
        return row

    def __contains__(self, key: object) -> bool:
        return key in self._rows

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._rows.values()))

    def __len__(self) -> int:
        return len(self._rows)


def page(
    rows: list[Any],
    *,
    key: Callable[[Any], str],
    after: str | None = None,
    before: str | None = None,
    limit: int | None = 20,
    order: str = "desc",
    default_limit: int = 20,
) -> dict[str, Any]:
    """One cursor page of ``rows`` (given oldest first), as the API's list endpoints page.

    ``order="desc"`` lists newest first. ``after`` / ``before`` are ids of listed items; an id
    that is not in the listing gives an empty page, as the API does. Returns ``{"object": "list",
    "data", "first_id", "last_id", "has_more"}``, with ``data`` still the rows (callers render).
    """
    errors.check_range("limit", limit, minimum=1, maximum=100)
    ordered = list(reversed(rows)) if order == "desc" else list(rows)
    ids = [key(row) for row in ordered]
    start, end = 0, len(ordered)
    if after is not None:
        start = ids.index(after) + 1 if after in ids else len(ordered)
    if before is not None:
        end = ids.index(before) if before in ids else 0
    window = ordered[start:end]
    size = default_limit if limit is None else limit
    chosen = window[:size]
    return {
        "object": "list",
        "data": chosen,
        "first_id": key(chosen[0]) if chosen else None,
        "last_id": key(chosen[-1]) if chosen else None,
        "has_more": len(window) > size,
    }


class Collection:
    """Stored API objects of one kind, as their JSON (dicts), by id, oldest first: what the
    generic layer (``resources/generic.py``) keeps for every family, and what hand-written
    families may use too: add, get-or-404, update (merge), delete, and one cursor page.

    ``noun`` names the object in the 404: ``No such {noun} object: '{id}'`` (the API's wording
    for files, batches and most objects), unless ``missing`` gives the family's own error.
    """

    def __init__(self, noun: str, missing: Callable[[str], errors.OpenAIError] | None = None) -> None:
        self.noun = noun
        self._missing = missing
        self._rows: dict[str, dict[str, Any]] = {}

    def add(self, row: dict[str, Any], key: str | None = None) -> dict[str, Any]:
        self._rows[row["id"] if key is None else key] = row
        return row

    def get(self, key: str) -> dict[str, Any]:
        row = self._rows.get(key)
        if row is None:
            raise self.not_found(key)
        return row

    def not_found(self, key: str) -> errors.OpenAIError:
        if self._missing is not None:
            return self._missing(key)
        return errors.not_found(f"No such {self.noun} object: '{key}'", param="id")

    def find(self, key: str) -> dict[str, Any] | None:
        return self._rows.get(key)

    def update(self, key: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Merge ``changes`` into the stored object (top-level keys replace); return it."""
        row = self.get(key)
        row.update(json_copy(changes))
        return row

    def delete(self, key: str) -> dict[str, Any]:
        row = self.get(key)
        del self._rows[key]
        return row

    def page(self, **query: Any) -> dict[str, Any]:
        """One cursor page, newest first unless ``order="asc"`` (see ``page``)."""
        return page(list(self._rows.values()), key=lambda row: str(row.get("id")), **query)

    def __contains__(self, key: object) -> bool:
        return key in self._rows

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(list(self._rows.values()))

    def __len__(self) -> int:
        return len(self._rows)


class SharedIds(IdSequence):
    """An ``IdSequence`` that calls on several threads may draw from at once (handlers run
    concurrently; each id is still drawn exactly once)."""

    def __init__(self, seed: str = "pytest-openai-fake") -> None:
        super().__init__(seed)
        self._lock = threading.Lock()

    def next(self, prefix: str) -> str:
        with self._lock:
            return super().next(prefix)


class Store:
    """All stored objects of one fake. ``reset()`` rebuilds every family from scratch."""

    #: What ``lenient_ids`` is after a reset (``FakeOpenAI(lenient_ids=True)``, ``--lenient-ids``).
    lenient_ids_default = False

    def __init__(self, provider: Provider) -> None:
        self.provider = provider
        self.reset()

    def collection(
        self, path: str, parents: tuple[str, ...] = (), noun: str = "object", missing: Callable[[str], errors.OpenAIError] | None = None
    ) -> Collection:
        """The generic collection at ``path`` (a template) under ``parents`` (created empty; with
        ``missing``, the error for an unknown id, when this call creates it)."""
        found = self.collections.get((path, parents))
        if found is None:
            found = self.collections[(path, parents)] = Collection(noun, missing)
        return found

    def reset(self) -> None:
        self.models = Models(self.provider)
        #: Deployment name -> model id (Azure-style paths), from the provider or the test.
        self.deployments: dict[str, str] = dict(self.provider.deployments)
        #: Stateful families, by id, oldest first: stored Responses, Conversations, stored chat
        #: completions. Each resource module keeps its own records in its table.
        self.responses: Table[Any] = Table("response")
        self.conversations: Table[Any] = Table("conversation")
        self.chat_completions: Table[Any] = Table("chat completion")
        #: The generic layer's collections: (collection path template, parent ids) -> Collection,
        #: e.g. ("/containers/{container_id}/files", ("cntr_1",)). Created on first use.
        self.collections: dict[tuple[str, tuple[str, ...]], Collection] = {}
        #: ``lenient_ids``: an id the fake never created answers as a generated object with that
        #: id instead of 404 (``@pytest.mark.openai_fake(lenient_ids=True)``, ``--lenient-ids``).
        self.lenient_ids = self.lenient_ids_default
        #: name -> Blob, served without auth at ``/__fake/blobs/<name>`` (image URLs point here).
        self.blobs: dict[str, Blob] = {}
        #: The bytes of each stored file (``resources/files.py``), by file id: held once, served
        #: from this one object, freed by ``delete`` and ``reset``.
        self.file_data: dict[str, bytes] = {}
        #: The parts of each pending upload (``resources/uploads.py``): upload id -> part id -> bytes.
        self.upload_parts: dict[str, dict[str, bytes]] = {}
        #: What each batch still has to run (``resources/batches.py``), by batch id.
        self.batch_runs: dict[str, Any] = {}
        #: How long (fake-clock seconds) a file attached to a vector store stays ``in_progress``
        #: (``resources/vector_stores.py``): 0, completed at once; set it to see the in-progress
        #: state, then ``openai_server.clock.advance(...)``.
        self.vector_store_file_seconds: float = 0
