"""Legacy completions: ``POST /v1/completions`` (``text_completion``), plain and streamed.

What the fake does, as the real endpoint does it unless noted:

- ``prompt`` is a string, a list of strings, a list of token ids or a list of token-id lists;
  every prompt gets ``n`` choices, grouped per prompt (prompt 0 × n, then prompt 1 × n) with
  ``index`` running over all of them. ``null`` is the document separator ``<|endoftext|>``.
- The text is derived from a hash of (model, prompt, suffix, seed, choice number within its
  prompt): the same prompt gets the same text wherever it sits in a prompt list, and the
  streamed pieces concatenate to exactly the non-streamed text.
- ``max_tokens`` defaults to **16**, as on the real API, so most replies end with
  ``finish_reason: "length"``; ``stop`` (up to 4) cuts before the first stop sequence.
- ``echo`` prepends the prompt; ``max_tokens=0`` with ``echo`` returns just the prompt (the
  classic way to score a prompt with ``logprobs``). ``suffix`` changes the text, it is not
  appended to it.
- ``logprobs`` (0–5): the legacy shape (``tokens``, ``token_logprobs``, ``top_logprobs`` as
  ``{token: logprob}`` dicts with ``max(logprobs, 1)`` entries, the sampled token first, and
  ``text_offset`` counted from the start of the prompt, echoed or not).
- ``best_of`` candidates are generated per prompt and the ``n`` with the best mean logprob are
  returned, best first; ``usage.completion_tokens`` counts every candidate (as billed).
  ``best_of: 0`` is treated as unset. ``best_of > 1`` cannot be streamed.
- Token-id prompts decode to one fake token per id (id ``k`` is a space and four letters,
  ``k`` in base 26 modulo 26**4), so echo and ``prompt_tokens`` stay consistent.
- Streams: one chunk per token (the echoed prompt as one first chunk), then an empty-text chunk
  per choice, then the usage chunk if ``stream_options.include_usage``, then ``data: [DONE]``.
  ``finish_reason`` is ``null`` until a choice's last (empty-text) chunk, as the real API sends
  it. The SDK types ``CompletionChoice.finish_reason`` as non-null, so a client with
  ``_strict_response_validation=True`` rejects these streams, the real API's too: stream with a
  non-strict client.
- A scripted reply (``openai_server.on("completions.create").respond("text")``) is the text of
  every choice, cut by ``stop`` and ``max_tokens`` like generated text (mind the default 16).
- Chat models (the SDK's ``ChatModel`` ids and their fine-tunes) get the real 404
  ("This is a chat model and not supported in the v1/completions endpoint...").
- Only completion models answer. What a model is comes from its catalog card: the card's own
  ``type`` where the provider's catalog has one (Together: ``chat``, ``language``, ``code`` and
  ``moderation`` models generate text, ``embedding`` and ``image`` ones do not), a card with
  ``dimensions`` is an embedding model, and otherwise the id (or a fine-tune's base) as the SDK
  names it: ``gpt-3.5-turbo-instruct``, ``davinci-002`` and ``babbage-002`` answer, any other id
  the SDK names (embedding, image, moderation, audio, video and Responses-only models) gets the
  real 403 "You are not allowed to sample from this model". An id the SDK does not name (a model
  the test added) answers.
- With ``echo`` and ``logprobs`` the first prompt token's ``token_logprobs`` and
  ``top_logprobs`` entries are ``null`` (the first token has no context), as the real API sends
  them. The SDK types those lists as ``List[float]`` and ``List[Dict[str, float]]``, so a client
  with ``_strict_response_validation=True`` rejects such a reply, the real API's too.
"""

from __future__ import annotations

import functools
import typing
from dataclasses import dataclass
from typing import Any

from openai.types.completion import Completion
from openai.types.completion_create_params import (
    CompletionCreateParamsNonStreaming,
    CompletionCreateParamsStreaming,
)
from werkzeug.wrappers import Response

from .. import errors
from ..determinism import digest, generate_text, tokenize
from ..routing import Ctx, Resource
from ..state import ModelCard, base_model, card_serves, literal_strings
from ..streaming import Chunks, sse_response
from .chat import check_sampling, stop_sequences, system_fingerprint, token_logprob, usage_block

completions = Resource("completions")

#: ``max_tokens`` when the request leaves it out (or sends null), as on the real API.
DEFAULT_MAX_TOKENS = 16
#: What a ``null`` prompt means: "generate as if from the beginning of a new document".
DOCUMENT_SEPARATOR = "<|endoftext|>"
#: What every generated text starts with: the real instruct model mostly opens with a blank line.
CONTINUATION = "\n\n"

CHAT_MODEL_MESSAGE = (
    "This is a chat model and not supported in the v1/completions endpoint. "
    "Did you mean to use v1/chat/completions?"
)
# The real 403 when the sampler is asked for a model that does not generate text (type
# invalid_request_error, param and code null): seen for dall-e-3 sent to chat completions in
# MadcowD/ell#167, ChatGPTNextWeb/NextChat#3185 and sigoden/aichat#262. No public report shows
# the v1/completions reply for an embedding, image or moderation model: assumed to be the same.
NOT_A_COMPLETION_MODEL = "You are not allowed to sample from this model"
#: Kinds of a catalog that says what each model is (Together's ``type``) that generate text.
TEXT_KINDS = frozenset({"chat", "language", "code", "moderation"})
BEST_OF_BELOW_N = "best_of must be greater than or equal to n."
BEST_OF_STREAM = "best_of > 1 is not supported when streaming: results cannot be streamed."

_TOKEN_ID_SPACE = 26**4


@completions.route(
    "POST", "/completions", endpoint="completions.create", replies=("text",), streams=True, response=Completion
)
def create_completion(ctx: Ctx) -> dict[str, Any] | Response:
    body = ctx.json()
    stream = bool(body.get("stream"))
    if "prompt" in body:
        _check_prompt_shape(body["prompt"])
    ctx.validate(body, CompletionCreateParamsStreaming if stream else CompletionCreateParamsNonStreaming)
    _check_limits(body)
    model = body["model"]
    ctx.require_model(model)
    if _is_chat_model(model):
        raise errors.OpenAIError(404, CHAT_MODEL_MESSAGE, param="model")
    if not _can_complete(ctx.model_card(model)):
        raise errors.OpenAIError(403, NOT_A_COMPLETION_MODEL)

    n = body.get("n") or 1
    best_of = body.get("best_of") or n
    if best_of < n:
        raise errors.invalid_value("best_of", BEST_OF_BELOW_N)
    if stream and (body.get("best_of") or 0) > 1:
        raise errors.invalid_value("best_of", BEST_OF_STREAM)

    limit = body.get("max_tokens")
    limit = DEFAULT_MAX_TOKENS if limit is None else limit
    stops = stop_sequences(body.get("stop"))
    echo = bool(body.get("echo"))
    want_logprobs = body.get("logprobs") is not None
    top = max(body.get("logprobs") or 0, 1)
    reply = ctx.reply

    choices: list[_Choice] = []
    prompts = _prompts(body.get("prompt"))
    completion_tokens = 0
    for prompt in prompts:
        prompt.basis = digest("completions", model, prompt.key, body.get("suffix"), body.get("seed"))
        if reply is not None:  # scripted text, cut by stop and max_tokens as the model's own
            text, finish = reply["content"] or "", reply["finish_reason"] or "stop"
            candidates = [_candidate(digest(prompt.basis.hex(), j), limit, stops, text, finish) for j in range(n)]
        else:
            candidates = [_candidate(digest(prompt.basis.hex(), j), limit, stops) for j in range(best_of)]
        completion_tokens += sum(len(c.tokens) for c in candidates)  # every candidate is billed
        if len(candidates) > n:
            candidates = sorted(candidates, key=lambda c: -c.mean_logprob())[:n]
        start = len(choices)
        choices.extend(_Choice(start + j, prompt, candidate) for j, candidate in enumerate(candidates))

    usage = usage_block(sum(len(p.tokens) for p in prompts), completion_tokens)
    common = {
        "id": ctx.ids.next("cmpl-"),
        "object": "text_completion",
        "created": ctx.clock.now(),
        "model": model,
        "system_fingerprint": system_fingerprint(model),
    }
    if stream:
        options = body.get("stream_options") or {}
        return sse_response(_stream_frames(common, choices, usage, echo, top if want_logprobs else 0, options))
    return {
        **common,
        "choices": [
            {
                "text": (choice.prompt.text if echo else "") + choice.candidate.text,
                "index": choice.index,
                "logprobs": _logprobs(choice.pieces(echo), top) if want_logprobs else None,
                "finish_reason": choice.candidate.finish_reason,
            }
            for choice in choices
        ],
        "usage": usage,
    }


# -- prompts -------------------------------------------------------------------------------


@dataclass
class _Prompt:
    text: str  # what echo prepends and text_offset counts from
    tokens: list[str]  # its tokens: prompt_tokens, and the echoed logprobs
    key: Any  # what the reply is derived from
    basis: bytes = b""


def _prompts(prompt: Any) -> list[_Prompt]:
    if prompt is None:
        return [_Prompt(DOCUMENT_SEPARATOR, [DOCUMENT_SEPARATOR], None)]
    if isinstance(prompt, str):
        return [_text_prompt(prompt)]
    if prompt and _is_int(prompt[0]):
        return [_token_prompt(prompt)]
    return [_text_prompt(p) if isinstance(p, str) else _token_prompt(p) for p in prompt]


def _text_prompt(text: str) -> _Prompt:
    return _Prompt(text, tokenize(text), text)


def _token_prompt(ids: list[int]) -> _Prompt:
    tokens = [_decode_token(i) for i in ids]
    return _Prompt("".join(tokens), tokens, ["ids", ids])


def _decode_token(token_id: int) -> str:
    """Token id ``k`` as one fake token: a space and ``k`` in four base-26 letters."""
    value = token_id % _TOKEN_ID_SPACE
    letters = []
    for _ in range(4):
        value, digit = divmod(value, 26)
        letters.append(chr(ord("a") + digit))
    return " " + "".join(reversed(letters))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_prompt_shape(prompt: Any) -> None:
    """The precise 400 for a list prompt: non-empty, and all strings, all ids or all id lists."""
    if not isinstance(prompt, list):
        return  # strings, null and wrong scalar types are the params validator's
    errors.check_length("prompt", prompt, minimum=1)
    first = prompt[0]
    if _is_int(first):
        expected, fits = "an integer", _is_int
    elif isinstance(first, list):
        expected, fits = "an array of integers", lambda v: isinstance(v, list)
    else:
        expected, fits = "a string", lambda v: isinstance(v, str)
    for index, item in enumerate(prompt):
        if not fits(item):
            raise errors.invalid_type(f"prompt[{index}]", expected, item)
        if isinstance(item, list):
            errors.check_length(f"prompt[{index}]", item, minimum=1)
            for position, token_id in enumerate(item):
                if not _is_int(token_id):
                    raise errors.invalid_type(f"prompt[{index}][{position}]", "an integer", token_id)


# -- choices -------------------------------------------------------------------------------


class _Candidate:
    def __init__(self, text: str, finish_reason: str, seed: bytes, tokens: list[str] | None = None) -> None:
        self.text = text
        # The cut's own pieces: re-tokenizing a cut text can merge its trailing whitespace.
        self.tokens = tokenize(text) if tokens is None else tokens
        self.finish_reason = finish_reason
        self.seed = seed

    def mean_logprob(self) -> float:
        if not self.tokens:
            return 0.0
        return sum(token_logprob(t, self.seed, p, 0)["logprob"] for p, t in enumerate(self.tokens)) / len(self.tokens)


def _candidate(
    seed: bytes, limit: int, stops: list[str], text: str | None = None, finish_reason: str = "stop"
) -> _Candidate:
    """One candidate: ``text`` or text from its hash, cut at the first stop sequence and at ``limit`` tokens."""
    if text is None:
        # At least 20 words: more than the default max_tokens (16), which a real instruct model
        # nearly always runs into.
        text = CONTINUATION + generate_text(seed, min_words=20, max_words=48)
    cut = min((pos for pos in (text.find(s) for s in stops) if pos >= 0), default=-1)
    if cut >= 0:
        text = text[:cut]
    tokens = tokenize(text)
    if len(tokens) > limit:
        tokens = tokens[:limit]
        text = "".join(tokens)
        finish_reason = "length"
    return _Candidate(text, finish_reason, seed, tokens)


@dataclass
class _Choice:
    index: int
    prompt: _Prompt
    candidate: _Candidate

    def pieces(self, echo: bool) -> list[tuple[str, bytes | None, int, int]]:
        """(token, seed, position, text offset) of every token the choice's text shows; the seed
        is None for the first prompt token, which has no logprob (nothing comes before it)."""
        out: list[tuple[str, bytes | None, int, int]] = []
        offset = 0
        if echo:
            for position, token in enumerate(self.prompt.tokens):
                out.append((token, self.prompt.basis if position else None, position, offset))
                offset += len(token)
        else:
            offset = len(self.prompt.text)
        for position, token in enumerate(self.candidate.tokens):
            out.append((token, self.candidate.seed, position, offset))
            offset += len(token)
        return out


def _logprobs(pieces: list[tuple[str, bytes | None, int, int]], top: int) -> dict[str, Any]:
    entries = [None if seed is None else token_logprob(token, seed, position, top) for token, seed, position, _ in pieces]
    return {
        "tokens": [token for token, *_ in pieces],
        "token_logprobs": [e and e["logprob"] for e in entries],
        "top_logprobs": [e and {alt["token"]: alt["logprob"] for alt in e["top_logprobs"]} for e in entries],
        "text_offset": [offset for *_, offset in pieces],
    }


def _stream_frames(
    common: dict[str, Any],
    choices: list[_Choice],
    usage: dict[str, Any],
    echo: bool,
    top: int,
    options: dict[str, Any],
) -> list[bytes]:
    chunks = Chunks(common, include_usage=bool(options.get("include_usage")))
    chunk = chunks.add

    def piece(choice: _Choice, text: str, pieces: list[tuple[str, bytes | None, int, int]], finish: str | None = None) -> None:
        chunk([{"text": text, "index": choice.index, "logprobs": _logprobs(pieces, top) if top else None, "finish_reason": finish}])

    all_pieces = {choice.index: choice.pieces(echo) for choice in choices}
    if echo:
        for choice in choices:
            shown = all_pieces[choice.index][: len(choice.prompt.tokens)]
            piece(choice, choice.prompt.text, shown)
    skip = {choice.index: len(choice.prompt.tokens) if echo else 0 for choice in choices}
    longest = max((len(c.candidate.tokens) for c in choices), default=0)
    for position in range(longest):
        for choice in choices:
            if position < len(choice.candidate.tokens):
                at = skip[choice.index] + position
                piece(choice, choice.candidate.tokens[position], all_pieces[choice.index][at : at + 1])
    for choice in choices:
        piece(choice, "", [], choice.candidate.finish_reason)
    return chunks.finish(usage)


# -- checks --------------------------------------------------------------------------------


def _check_limits(body: dict[str, Any]) -> None:
    errors.check_range("n", body.get("n"), minimum=1, maximum=128)
    errors.check_range("best_of", body.get("best_of"), minimum=0, maximum=20)
    errors.check_range("logprobs", body.get("logprobs"), minimum=0, maximum=5)
    errors.check_range("max_tokens", body.get("max_tokens"), minimum=0)
    check_sampling(body)
    errors.check_length("stop", body.get("stop"), maximum=4)


@functools.lru_cache(maxsize=1)
def _chat_model_ids() -> frozenset[str]:
    try:
        from openai.types.shared.chat_model import ChatModel
    except ImportError:  # an SDK without the literal: no model is known to be a chat model
        return frozenset()
    return frozenset(a for a in typing.get_args(ChatModel) if isinstance(a, str))


def _is_chat_model(model: str) -> bool:
    """A model the SDK names as a chat model, or a fine-tune of one (``ft:gpt-4o-mini:...``)."""
    return base_model(model) in _chat_model_ids()


def _can_complete(card: ModelCard) -> bool:
    """Whether the catalog's card describes a model that generates text (see the module doc):
    a card with ``dimensions`` is an embedding model."""
    return card.dimensions is None and card_serves(card, TEXT_KINDS, _completion_model_ids())


@functools.lru_cache(maxsize=1)
def _completion_model_ids() -> frozenset[str]:
    """The legacy completion models: the literal of ``CompletionCreateParams.model``."""
    try:
        from openai.types.completion_create_params import CompletionCreateParamsBase

        hints = typing.get_type_hints(CompletionCreateParamsBase, include_extras=True)
        return frozenset(literal_strings(hints["model"]))
    except (ImportError, KeyError):  # an SDK without the literal: no id is known to complete
        return frozenset()

