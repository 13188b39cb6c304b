"""Moderations through the real SDK, with strict response validation, and the trigger rule."""

from __future__ import annotations

import base64

import openai
import pytest

from pytest_openai_fake import FakeOpenAI
from pytest_openai_fake.resources.moderations import CATEGORIES, IMAGE_CATEGORIES, TRIGGERS

CLEAN = "I had a lovely walk by the river this morning."


def scores(result) -> dict[str, float]:
    return result.category_scores.model_dump(by_alias=True)


def flags(result) -> dict[str, bool | None]:
    return result.categories.model_dump(by_alias=True)


def applied(result) -> dict[str, list[str]]:
    return result.category_applied_input_types.model_dump(by_alias=True)


def flagged_categories(result) -> set[str]:
    return {category for category, flag in flags(result).items() if flag}


def test_the_sdk_categories_and_their_triggers():
    assert len(CATEGORIES) == 13
    assert IMAGE_CATEGORIES == {
        "violence", "violence/graphic", "self-harm", "self-harm/intent", "self-harm/instructions", "sexual"
    }  # fmt: skip
    assert TRIGGERS["violence/graphic"] == "FLAG_VIOLENCE_GRAPHIC"
    assert TRIGGERS["self-harm/intent"] == "FLAG_SELF_HARM_INTENT"
    assert len(set(TRIGGERS.values())) == 13


def test_clean_text_is_not_flagged(client):
    response = client.moderations.create(input=CLEAN)
    assert response.id.startswith("modr-")
    assert response.model == "omni-moderation-latest"  # the default model, echoed
    (result,) = response.results
    assert result.flagged is False
    assert not any(flags(result).values())
    assert all(0 < score < 0.001 for score in scores(result).values())
    assert applied(result) == {category: ["text"] for category in CATEGORIES}


def test_each_trigger_flags_exactly_its_category(client):
    texts = [f"Some words, then {word}, then more." for word in TRIGGERS.values()]
    response = client.moderations.create(input=texts)
    assert len(response.results) == len(TRIGGERS)
    for category, result in zip(TRIGGERS, response.results):
        assert result.flagged is True
        assert flagged_categories(result) == {category}
        assert scores(result)[category] >= 0.9
        assert all(score < 0.001 for name, score in scores(result).items() if name != category)


def test_several_triggers_flag_several_categories(client):
    (result,) = client.moderations.create(input="FLAG_HATE and FLAG_HARASSMENT_THREATENING").results
    assert flagged_categories(result) == {"hate", "harassment/threatening"}


@pytest.mark.parametrize(
    "text",
    ["flag_violence in lower case", "FLAG_VIOLENCEX glued on", "xFLAG_VIOLENCE", "FLAG_NOT_A_CATEGORY", "violence"],
)
def test_only_whole_trigger_words_count(client, text):
    (result,) = client.moderations.create(input=text).results
    assert result.flagged is False


def test_scores_are_deterministic_and_differ_per_input(client):
    first = client.moderations.create(input=CLEAN).results[0]
    again = client.moderations.create(input=CLEAN).results[0]
    other = client.moderations.create(input="Another sentence").results[0]
    assert scores(first) == scores(again)
    assert scores(first) != scores(other)


def test_list_of_strings_gets_one_result_each(client):
    response = client.moderations.create(input=[CLEAN, "FLAG_ILLICIT how to", ""])
    assert [r.flagged for r in response.results] == [False, True, False]


def test_model_is_echoed(client):
    response = client.moderations.create(input=CLEAN, model="omni-moderation-2024-09-26")
    assert response.model == "omni-moderation-2024-09-26"


# -- images --------------------------------------------------------------------------------------


def image(url: str) -> dict:
    return {"type": "image_url", "image_url": {"url": url}}


def test_multi_modal_input_gets_one_result(client):
    response = client.moderations.create(
        input=[{"type": "text", "text": CLEAN}, image("https://example.com/cat.png")],
    )
    (result,) = response.results
    assert result.flagged is False
    types = applied(result)
    assert types == {c: ["text", "image"] if c in IMAGE_CATEGORIES else ["text"] for c in CATEGORIES}


def test_image_only_input_applies_only_to_image_categories(client):
    (result,) = client.moderations.create(input=[image("https://example.com/cat.png")]).results
    assert applied(result) == {c: ["image"] if c in IMAGE_CATEGORIES else [] for c in CATEGORIES}


def test_trigger_in_an_image_url_flags_image_categories_only(client):
    url = "https://example.com/FLAG_VIOLENCE_GRAPHIC/FLAG_HATE.png"
    (result,) = client.moderations.create(input=[image(url)]).results
    assert flagged_categories(result) == {"violence/graphic"}  # hate is not scored on images


def test_trigger_inside_a_base64_data_url(client):
    payload = base64.b64encode(b"\x89PNG fake pixels FLAG_SEXUAL more pixels").decode()
    (result,) = client.moderations.create(input=[image(f"data:image/png;base64,{payload}")]).results
    assert flagged_categories(result) == {"sexual"}


def test_text_part_triggers_flag_in_a_multi_modal_input(client):
    parts = [{"type": "text", "text": "caption FLAG_HARASSMENT"}, image("https://example.com/cat.png")]
    (result,) = client.moderations.create(input=parts).results
    assert flagged_categories(result) == {"harassment"}


# -- legacy text models --------------------------------------------------------------------------


def test_legacy_text_model_has_no_illicit_categories(client):
    (result,) = client.moderations.create(input="FLAG_ILLICIT FLAG_HATE", model="text-moderation-latest").results
    assert result.categories.illicit is None
    assert result.categories.illicit_violent is None
    assert flagged_categories(result) == {"hate"}
    assert applied(result)["illicit"] == []


def test_legacy_text_model_rejects_images(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.moderations.create(
            input=[{"type": "text", "text": "hi"}, image("https://example.com/cat.png")], model="text-moderation-stable"
        )
    assert caught.value.body["param"] == "input[1]"
    assert "does not support image inputs" in caught.value.body["message"]


async def test_async_create(async_client):
    response = await async_client.moderations.create(input=["FLAG_SELF_HARM", CLEAN])
    assert [r.flagged for r in response.results] == [True, False]
    await async_client.close()


def test_requests_are_captured(openai_server: FakeOpenAI, client):
    client.moderations.create(input=CLEAN)
    last = openai_server.requests.last
    assert last.endpoint == "moderations.create"
    assert last.path == "/v1/moderations"
    assert last.json == {"input": CLEAN}


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "param", "code"),
    [
        ({"input": 5}, "input", "invalid_type"),
        ({"input": []}, "input", "empty_array"),
        ({"input": ["ok", 5]}, "input[1]", "invalid_type"),
        ({"input": [{"type": "text"}]}, "input[0].text", "missing_required_parameter"),
        ({"input": [{"type": "video", "video": {}}]}, "input[0].type", "invalid_value"),
        ({"input": [{"type": "image_url", "image_url": {}}]}, "input[0].image_url.url", "missing_required_parameter"),
        ({"input": ["text", {"type": "text", "text": "x"}]}, "input[0]", "invalid_type"),
        ({"input": CLEAN, "model": 5}, "model", "invalid_type"),
        ({"input": CLEAN, "extra_body": {"threshold": 0.5}}, "threshold", "unknown_parameter"),
    ],
)
def test_bad_arguments_get_the_real_400(client, kwargs, param, code):
    with pytest.raises(openai.BadRequestError) as caught:
        client.moderations.create(**kwargs)
    error = caught.value
    assert error.status_code == 400
    assert error.body["param"] == param
    assert error.body["code"] == code
    assert set(error.body) == {"message", "type", "param", "code"}


def test_unknown_model_is_404_model_not_found(client):
    with pytest.raises(openai.NotFoundError) as caught:
        client.moderations.create(input=CLEAN, model="omni-moderation-nope")
    assert caught.value.body["code"] == "model_not_found"


# The real 400 for a model that does not moderate (BerriAI/litellm#6020).
def not_a_moderation_model(model: str) -> dict:
    return {
        "message": f"Invalid value for 'model' = {model}. Please check the OpenAI documentation and try again.",
        "type": "invalid_request_error",
        "param": "model",
        "code": None,
    }


@pytest.mark.parametrize(
    "model", ["gpt-4o", "gpt-3.5-turbo-instruct", "text-embedding-3-small", "dall-e-3", "whisper-1", "o1-pro"]
)
def test_models_of_other_endpoints_are_the_real_400(client, model):
    with pytest.raises(openai.BadRequestError) as caught:
        client.moderations.create(input=CLEAN, model=model)
    assert caught.value.body == not_a_moderation_model(model)


async def test_async_chat_model_is_the_real_400(async_client):
    with pytest.raises(openai.BadRequestError) as caught:
        await async_client.moderations.create(input=[{"type": "text", "text": CLEAN}], model="gpt-4o-mini")
    assert caught.value.body == not_a_moderation_model("gpt-4o-mini")


@pytest.mark.parametrize(
    "model",
    ["omni-moderation-latest", "omni-moderation-2024-09-26", "text-moderation-latest", "text-moderation-stable"],
)
def test_every_moderation_model_answers(client, model):
    assert client.moderations.create(input=CLEAN, model=model).model == model


def test_a_model_the_test_added_answers_unless_it_fine_tunes_another_kind(openai_server: FakeOpenAI, client):
    openai_server.state.models.add("my-moderator")
    assert client.moderations.create(input="FLAG_HATE", model="my-moderator").results[0].categories.hate
    openai_server.state.models.add("ft:gpt-4o-mini-2024-07-18:acme::abc123")
    with pytest.raises(openai.BadRequestError) as caught:
        client.moderations.create(input=CLEAN, model="ft:gpt-4o-mini-2024-07-18:acme::abc123")
    assert caught.value.body == not_a_moderation_model("ft:gpt-4o-mini-2024-07-18:acme::abc123")
