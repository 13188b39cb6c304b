"""What the fake remembers: plain data, one attribute per family, rebuilt by ``reset()``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from . import errors
from .providers.openai import ModelCard, Provider

__all__ = ["Blob", "Models", "Store"]


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


class Store:
    """All stored objects of one fake. ``reset()`` rebuilds every family from scratch."""

    def __init__(self, provider: Provider) -> None:
        self.provider = provider
        self.reset()

    def reset(self) -> None:
        self.models = Models(self.provider)
        #: name -> Blob, served without auth at ``/__fake/blobs/<name>`` (image URLs point here).
        self.blobs: dict[str, Blob] = {}
