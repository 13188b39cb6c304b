"""Legacy completions through the real SDK, with strict response validation.

Streams are read with ``lax`` (no strict validation): the real API sends ``finish_reason: null``
until a choice's last chunk, which the SDK's ``CompletionChoice`` (non-null ``finish_reason``)
rejects, so a strict client fails on the real API's streams too.
"""

from __future__ import annotations

import openai
import pytest

from pytest_openai_fake import FakeOpenAI
from pytest_openai_fake.determinism import count_tokens, tokenize
from pytest_openai_fake.resources.completions import CHAT_MODEL_MESSAGE
from tests.sdk_features import sdk_knows_model

DEFAULT_MAX_TOKENS = 16  # the real API's default, not the fake's constant: this must fail if it drifts

MODEL = "gpt-3.5-turbo-instruct"
PROMPT = "Write a tagline for an ice cream shop."


@pytest.fixture
def lax(openai_server: FakeOpenAI):
    return openai_server.client()


@pytest.fixture
async def async_lax(openai_server: FakeOpenAI):
    client = openai_server.async_client(keep_alive=False)
    yield client
    await client.close()


def create(client, **kwargs):
    return client.completions.create(**{"model": MODEL, "prompt": PROMPT, **kwargs})


def test_reply_is_deterministic_per_prompt(client):
    first = create(client)
    again = create(client)
    other = create(client, prompt="Something else entirely")
    assert first.choices[0].text
    assert first.choices[0].text == again.choices[0].text
    assert other.choices[0].text != first.choices[0].text
    assert first.id != again.id and first.id.startswith("cmpl-")


def test_response_shape(client):
    reply = create(client, model="davinci-002")
    assert reply.object == "text_completion"
    assert reply.model == "davinci-002"
    assert reply.created == 1_767_225_600  # the fake clock's start
    assert reply.system_fingerprint.startswith("fp_")
    choice = reply.choices[0]
    assert choice.index == 0
    assert choice.logprobs is None
    assert choice.text.startswith("\n\n")  # the instruct model's usual blank line first


def test_max_tokens_defaults_to_16(client):
    full = create(client, max_tokens=500).choices[0].text
    reply = create(client)
    assert reply.choices[0].finish_reason == "length"
    assert reply.choices[0].text == "".join(tokenize(full)[:DEFAULT_MAX_TOKENS])
    assert reply.usage.completion_tokens == DEFAULT_MAX_TOKENS
    assert reply.usage.prompt_tokens == count_tokens(PROMPT)
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens


def test_max_tokens_cuts_on_token_boundaries(client):
    full = create(client, max_tokens=500).choices[0]
    assert full.finish_reason == "stop"
    cut = create(client, max_tokens=5).choices[0]
    assert cut.finish_reason == "length"
    assert cut.text == "".join(tokenize(full.text)[:5])


def test_stop_sequence_cuts_the_text(client):
    full = create(client, max_tokens=500).choices[0].text
    stop = full.split()[3]
    reply = create(client, max_tokens=500, stop=[stop, "zzz-never"])
    assert reply.choices[0].finish_reason == "stop"
    assert reply.choices[0].text == full[: full.index(stop)]


def test_list_prompts_get_n_choices_each_grouped_per_prompt(client):
    prompts = ["First prompt", "Second prompt"]
    reply = create(client, prompt=prompts, n=2)
    assert [c.index for c in reply.choices] == [0, 1, 2, 3]
    alone = [create(client, prompt=p, n=2).choices for p in prompts]
    # prompt 0 x n, then prompt 1 x n; a prompt gets the same text wherever it sits in the list
    assert [c.text for c in reply.choices] == [c.text for choices in alone for c in choices]
    assert len({c.text for c in reply.choices}) == 4
    assert reply.usage.prompt_tokens == sum(count_tokens(p) for p in prompts)
    assert {c.finish_reason for c in reply.choices} == {"length"}
    assert reply.usage.completion_tokens == 4 * DEFAULT_MAX_TOKENS


def test_token_id_prompts(client):
    one = create(client, prompt=[1212, 318, 257], echo=True, max_tokens=0)
    assert one.usage.prompt_tokens == 3
    assert len(tokenize(one.choices[0].text)) == 3  # one fake token per id
    many = create(client, prompt=[[1212, 318], [257]], echo=True, max_tokens=0)
    first = many.choices[0].text
    assert [first, many.choices[1].text] == [one.choices[0].text[: len(first)], one.choices[0].text[len(first) :]]
    assert many.usage.prompt_tokens == 3


def test_echo_prepends_the_prompt(client):
    plain = create(client)
    echoed = create(client, echo=True)
    assert echoed.choices[0].text == PROMPT + plain.choices[0].text
    assert echoed.usage.model_dump() == plain.usage.model_dump()


def test_echo_with_max_tokens_zero_scores_the_prompt(lax):
    # lax: echoed logprobs start with null (see test_echo_logprobs_first_token_is_null)
    reply = create(lax, echo=True, max_tokens=0, logprobs=0)
    choice = reply.choices[0]
    assert choice.text == PROMPT
    assert choice.finish_reason == "length"
    assert choice.logprobs.tokens == tokenize(PROMPT)
    assert choice.logprobs.token_logprobs[0] is None and all(v <= 0 for v in choice.logprobs.token_logprobs[1:])
    assert reply.usage.completion_tokens == 0


def test_suffix_changes_the_text_and_is_not_appended(client):
    plain = create(client).choices[0].text
    with_suffix = create(client, suffix=" END-OF-DOC").choices[0].text
    assert with_suffix != plain
    assert not with_suffix.endswith(" END-OF-DOC")


def test_seed_changes_the_text(client):
    assert create(client, seed=1).choices[0].text != create(client, seed=2).choices[0].text


@pytest.mark.parametrize("echo", [False, True])
def test_logprobs_legacy_shape(lax, echo):
    reply = create(lax, logprobs=3, echo=echo)
    choice = reply.choices[0]
    logprobs = choice.logprobs
    assert "".join(logprobs.tokens) == choice.text
    lengths = {len(logprobs.token_logprobs), len(logprobs.top_logprobs), len(logprobs.text_offset)}
    assert lengths == {len(logprobs.tokens)}
    # text_offset counts from the start of the prompt, echoed or not
    shown = choice.text if echo else PROMPT + choice.text
    for token, offset in zip(logprobs.tokens, logprobs.text_offset):
        assert shown[offset : offset + len(token)] == token
    scored = slice(1 if echo else 0, None)  # the first echoed token has no logprob: null
    for token, logprob, top in zip(logprobs.tokens[scored], logprobs.token_logprobs[scored], logprobs.top_logprobs[scored]):
        assert logprob <= 0
        assert len(top) == 3
        assert top[token] == logprob == max(top.values())


def test_logprobs_zero_still_reports_the_sampled_token(client):
    logprobs = create(client, logprobs=0).choices[0].logprobs
    assert [list(top) for top in logprobs.top_logprobs] == [[t] for t in logprobs.tokens]


def test_best_of_returns_the_best_candidates_and_bills_them_all(client):
    candidates = create(client, n=3, max_tokens=500, logprobs=0).choices
    best = create(client, best_of=3, max_tokens=500, logprobs=0)

    def mean(choice):
        return sum(choice.logprobs.token_logprobs) / len(choice.logprobs.token_logprobs)

    assert best.choices[0].text == max(candidates, key=mean).text
    assert best.usage.completion_tokens == sum(len(tokenize(c.text)) for c in candidates)


def test_stream_concatenates_to_the_plain_reply(client, lax):
    kwargs = {"prompt": ["One", "Two"], "n": 2, "echo": True, "max_tokens": 6}
    plain = create(client, **kwargs)
    texts: dict[int, str] = {}
    finish: dict[int, list[str | None]] = {}
    for chunk in create(lax, stream=True, **kwargs):
        assert chunk.object == "text_completion"
        assert chunk.id.startswith("cmpl-")
        assert chunk.usage is None
        for choice in chunk.choices:
            texts[choice.index] = texts.get(choice.index, "") + choice.text
            finish.setdefault(choice.index, []).append(choice.finish_reason)
    assert texts == {c.index: c.text for c in plain.choices}
    # finish_reason is null until the choice's last chunk, as the real API streams it
    for c in plain.choices:
        assert finish[c.index][-1] == c.finish_reason
        assert set(finish[c.index][:-1]) == {None}


def test_strict_clients_reject_streamed_completions(client):
    # The SDK types CompletionChoice.finish_reason non-null; the real API streams null until the
    # last chunk, so a strict client fails on its streams too. This documents that, on purpose.
    with pytest.raises(openai.APIResponseValidationError):
        list(create(client, stream=True, max_tokens=2))


def test_stream_include_usage_and_logprobs(client, lax):
    plain = create(client, logprobs=2)
    chunks = list(create(lax, logprobs=2, stream=True, stream_options={"include_usage": True}))
    assert all(c.usage is None for c in chunks[:-1])
    assert chunks[-1].choices == []
    assert chunks[-1].usage.model_dump() == plain.usage.model_dump()
    tokens = [t for c in chunks for ch in c.choices if ch.logprobs for t in ch.logprobs.tokens]
    offsets = [o for c in chunks for ch in c.choices if ch.logprobs for o in ch.logprobs.text_offset]
    assert tokens == plain.choices[0].logprobs.tokens
    assert offsets == plain.choices[0].logprobs.text_offset


def test_stream_is_sse_ending_with_done(client):
    with client.completions.with_streaming_response.create(
        model=MODEL, prompt=PROMPT, stream=True, max_tokens=2
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        raw = b"".join(response.iter_bytes())
    frames = [f for f in raw.split(b"\n\n") if f]
    assert all(f.startswith(b"data: ") for f in frames)
    assert frames[-1] == b"data: [DONE]"
    assert len(frames) == 2 + 1 + 1  # two tokens, the finishing chunk, [DONE]


async def test_async_create_and_stream(async_client, async_lax):
    reply = await async_client.completions.create(model=MODEL, prompt=PROMPT)
    stream = await async_lax.completions.create(model=MODEL, prompt=PROMPT, stream=True)
    text = ""
    async for chunk in stream:
        text += "".join(choice.text for choice in chunk.choices)
    assert text == reply.choices[0].text
    await async_client.close()


def test_scripted_text_is_the_reply(openai_server: FakeOpenAI, client, lax):
    openai_server.on("completions.create").respond("Scoops of joy.")
    reply = create(client, n=2)
    assert [c.text for c in reply.choices] == ["Scoops of joy.", "Scoops of joy."]
    assert {c.finish_reason for c in reply.choices} == {"stop"}
    streamed = "".join(ch.text for c in create(lax, stream=True) for ch in c.choices)
    assert streamed == "Scoops of joy."
    cut = create(client, max_tokens=2).choices[0]  # cut like the model's own text
    assert (cut.text, cut.finish_reason) == ("".join(tokenize("Scoops of joy.")[:2]), "length")


def test_requests_are_captured(openai_server: FakeOpenAI, client):
    create(client, temperature=0.2)
    last = openai_server.requests.last
    assert last.endpoint == "completions.create"
    assert last.path == "/v1/completions"
    assert last.json["prompt"] == PROMPT
    assert last.status == 200


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "param", "code"),
    [
        ({"prompt": 5}, "prompt", "invalid_type"),
        ({"prompt": []}, "prompt", "empty_array"),
        ({"prompt": [[]]}, "prompt[0]", "empty_array"),
        ({"prompt": [1, "a"]}, "prompt[1]", "invalid_type"),
        ({"prompt": ["a", 1]}, "prompt[1]", "invalid_type"),
        ({"prompt": [[1, "a"]]}, "prompt[0][1]", "invalid_type"),
        ({"n": 0}, "n", "integer_below_min_value"),
        ({"n": 129}, "n", "integer_above_max_value"),
        ({"logprobs": 6}, "logprobs", "integer_above_max_value"),
        ({"max_tokens": -1}, "max_tokens", "integer_below_min_value"),
        ({"best_of": 21}, "best_of", "integer_above_max_value"),
        ({"best_of": 1, "n": 2}, "best_of", "invalid_value"),
        ({"best_of": 2, "stream": True}, "best_of", "invalid_value"),
        ({"temperature": 2.5}, "temperature", "decimal_above_max_value"),
        ({"top_p": -0.1}, "top_p", "decimal_below_min_value"),
        ({"frequency_penalty": 3}, "frequency_penalty", "decimal_above_max_value"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop", "array_above_max_length"),
        ({"echo": "yes"}, "echo", "invalid_type"),
        ({"extra_body": {"messages": []}}, "messages", "unknown_parameter"),
    ],
)
def test_bad_arguments_get_the_real_400(client, kwargs, param, code):
    with pytest.raises(openai.BadRequestError) as caught:
        create(client, **kwargs)
    error = caught.value
    assert error.status_code == 400
    assert error.body["param"] == param
    assert error.body["code"] == code
    assert error.body["type"] == "invalid_request_error"
    assert set(error.body) == {"message", "type", "param", "code"}


def test_missing_prompt_is_400(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.completions.create(model=MODEL, prompt=openai.Omit())
    assert caught.value.body["message"] == "Missing required parameter: 'prompt'."


def test_unknown_model_is_404_model_not_found(client):
    with pytest.raises(openai.NotFoundError) as caught:
        create(client, model="text-davinci-nope")
    assert caught.value.body["code"] == "model_not_found"


@pytest.mark.parametrize("model", ["gpt-4o", "ft:gpt-4o-mini-2024-07-18:acme::abc123"])
def test_chat_model_is_the_real_404(openai_server: FakeOpenAI, client, model):
    if model not in openai_server.state.models:  # a fine-tune of a chat model
        openai_server.state.models.add(model)
    with pytest.raises(openai.NotFoundError) as caught:
        create(client, model=model)
    error = {"message": CHAT_MODEL_MESSAGE, "type": "invalid_request_error", "param": "model", "code": None}
    assert caught.value.body == error


# -- which models complete -----------------------------------------------------------------------

# The real 403 when a model that does not generate text is sampled (MadcowD/ell#167).
NOT_SAMPLEABLE = {
    "message": "You are not allowed to sample from this model",
    "type": "invalid_request_error",
    "param": None,
    "code": None,
}


@pytest.mark.parametrize(
    "model",
    [
        "text-embedding-3-small", "dall-e-3", "omni-moderation-latest", "whisper-1", "tts-1",
        pytest.param("sora-2", marks=pytest.mark.skipif(not sdk_knows_model("sora-2"), reason="this openai SDK does not name sora-2")),
        "o1-pro",
    ],
)
def test_models_of_other_endpoints_are_the_real_403(client, model):
    with pytest.raises(openai.PermissionDeniedError) as caught:
        create(client, model=model)
    assert caught.value.status_code == 403
    assert caught.value.body == NOT_SAMPLEABLE


async def test_async_embedding_model_is_the_real_403(async_client):
    with pytest.raises(openai.PermissionDeniedError) as caught:
        await async_client.completions.create(model="text-embedding-3-small", prompt=PROMPT, stream=True)
    assert caught.value.body == NOT_SAMPLEABLE


@pytest.mark.parametrize("model", ["gpt-3.5-turbo-instruct", "davinci-002", "babbage-002"])
def test_completion_models_answer(client, model):
    assert create(client, model=model).model == model


def test_fine_tunes_of_completion_models_and_models_the_test_added_answer(openai_server: FakeOpenAI, client):
    for model in ("ft:davinci-002:acme::abc123", "my-completion-model"):
        openai_server.state.models.add(model)
        assert create(client, model=model).choices[0].text
    openai_server.state.models.add("ft:text-embedding-3-small:acme::abc123")  # judged by its base model
    with pytest.raises(openai.PermissionDeniedError):
        create(client, model="ft:text-embedding-3-small:acme::abc123")


@pytest.mark.openai_fake(provider="together")
def test_a_provider_catalog_says_which_models_complete(openai_server: FakeOpenAI):
    loose = openai_server.client()  # Together's replies are not OpenAI's shape
    assert loose.completions.create(model="meta-llama/Llama-2-70b-hf", prompt="Hi", max_tokens=2).choices
    assert loose.completions.create(model="meta-llama/Llama-3.3-70B-Instruct-Turbo", prompt="Hi", max_tokens=2).choices
    for model in ("BAAI/bge-base-en-v1.5", "black-forest-labs/FLUX.1-schnell"):  # Together's "embedding", "image"
        with pytest.raises(openai.PermissionDeniedError) as caught:
            loose.completions.create(model=model, prompt="Hi")
        assert caught.value.body["message"] == NOT_SAMPLEABLE["message"]


def test_echo_logprobs_first_token_is_null(client, lax):
    # The real API sends null for the first echoed token's logprob and top_logprobs entry (it has
    # no context). The SDK types those lists without None, so a strict client rejects that reply,
    # the real API's too: this documents it, on purpose.
    with pytest.raises(openai.APIResponseValidationError):
        create(client, echo=True, logprobs=1)
    logprobs = create(lax, echo=True, logprobs=1).choices[0].logprobs
    assert logprobs.token_logprobs[0] is None and logprobs.top_logprobs[0] is None
    assert isinstance(logprobs.token_logprobs[1], float)
    assert logprobs.top_logprobs[1] == {logprobs.tokens[1]: logprobs.token_logprobs[1]}
    # without echo every token is scored
    plain = create(client, logprobs=1).choices[0].logprobs
    assert None not in plain.token_logprobs
