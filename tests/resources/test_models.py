"""Models through the real SDK, with strict response validation."""

from __future__ import annotations

import openai
import pytest

from pytest_openai_fake import FakeOpenAI
from pytest_openai_fake.providers.openai import sdk_model_ids


def test_catalog_is_every_model_the_sdk_names(client):
    ids = [m.id for m in client.models.list()]
    assert ids == sdk_model_ids()
    # the families the SDK's literals cover
    for expected in ("gpt-4o", "gpt-4o-mini", "text-embedding-3-small", "dall-e-3", "omni-moderation-latest", "whisper-1", "tts-1"):
        assert expected in ids


def test_retrieve(client):
    model = client.models.retrieve("gpt-4o")
    assert model.id == "gpt-4o"
    assert model.object == "model"
    assert model.owned_by == "system"
    assert model.created > 1_600_000_000


def test_retrieve_unknown_is_404(client):
    with pytest.raises(openai.NotFoundError) as caught:
        client.models.retrieve("gpt-unknown")
    assert caught.value.body["code"] == "model_not_found"
    assert caught.value.body["message"] == "The model `gpt-unknown` does not exist or you do not have access to it."


@pytest.mark.openai_fake(models=["gpt-4o-mini", "my-custom-model"])
def test_marker_models_are_exactly_the_catalog(client):
    assert [m.id for m in client.models.list()] == ["gpt-4o-mini", "my-custom-model"]
    assert client.models.retrieve("my-custom-model").id == "my-custom-model"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4o")


def test_catalog_is_back_to_full_after_a_restricted_test(client):
    assert "gpt-4o" in [m.id for m in client.models.list()]


def test_fine_tuned_models_can_be_deleted_base_models_cannot(openai_server: FakeOpenAI, client):
    openai_server.state.models.add("ft:gpt-4o-mini:acme::abc123", owned_by="user-acme")
    deleted = client.models.delete("ft:gpt-4o-mini:acme::abc123")
    assert deleted.deleted is True and deleted.id == "ft:gpt-4o-mini:acme::abc123"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("ft:gpt-4o-mini:acme::abc123")
    with pytest.raises(openai.PermissionDeniedError):
        client.models.delete("gpt-4o")


async def test_async_list_and_retrieve(async_client):
    page = await async_client.models.list()
    assert any(m.id == "gpt-4o" for m in page.data)
    assert (await async_client.models.retrieve("gpt-4o")).id == "gpt-4o"
    await async_client.close()
