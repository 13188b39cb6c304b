"""Chat completions: ``POST /v1/chat/completions``, plain and streamed.

The reply text is derived from a hash of (model, messages, seed, choice index): the same
request always gets the same text, a different prompt gets a different one, and the streamed
deltas concatenate to exactly the non-streamed text. Tokens are ``determinism.tokenize``
pieces, so ``max_tokens`` truncates on the same boundaries the usage counts.
"""

from __future__ import annotations

import functools
from typing import Any

from openai.types.chat.completion_create_params import (
    CompletionCreateParamsNonStreaming,
    CompletionCreateParamsStreaming,
)
from werkzeug.wrappers import Response

from .. import errors
from ..determinism import count_tokens, digest, generate_text, stable_json, tokenize
from ..routing import Ctx, Resource
from ..streaming import DONE, event, sse_response

chat = Resource("chat")

#: Tokens the fake counts for every message on top of its text, and once for the reply.
MESSAGE_OVERHEAD = 3
REPLY_PRIMING = 3
#: Tokens the fake counts for each image part.
IMAGE_TOKENS = 85


@chat.route("POST", "/chat/completions", endpoint="chat.completions.create")
def create_chat_completion(ctx: Ctx) -> dict[str, Any] | Response:
    body = ctx.json()
    ctx.validate(body, CompletionCreateParamsStreaming if body.get("stream") else CompletionCreateParamsNonStreaming)
    _check_limits(body)
    model = body["model"]
    ctx.require_model(model)

    messages = body["messages"]
    n = body.get("n") or 1
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    stops = _stop_sequences(body.get("stop"))
    prompt = digest("chat", model, messages, body.get("seed"))  # serialised once, not per choice
    choices = [_choice(digest(prompt.hex(), index), limit, stops) for index in range(n)]

    completion_id = ctx.ids.next("chatcmpl-")
    fingerprint = system_fingerprint(model)
    prompt_tokens = count_prompt_tokens(messages, body.get("tools") or body.get("functions"))
    completion_tokens = sum(len(c.tokens) for c in choices)
    usage = usage_block(prompt_tokens, completion_tokens)
    common = {
        "id": completion_id,
        "created": ctx.clock.now(),
        "model": model,
        "service_tier": _service_tier(body.get("service_tier")),
        "system_fingerprint": fingerprint,
    }
    want_logprobs = bool(body.get("logprobs"))
    top = body.get("top_logprobs") or 0

    if body.get("stream"):
        options = body.get("stream_options") or {}
        return sse_response(_stream_frames(common, choices, usage, want_logprobs, top, options))
    return {
        **common,
        "object": "chat.completion",
        "choices": [
            {
                "index": index,
                "message": {
                    "role": "assistant",
                    "content": choice.text,
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": {"content": choice.logprobs(top), "refusal": None} if want_logprobs else None,
                "finish_reason": choice.finish_reason,
            }
            for index, choice in enumerate(choices)
        ],
        "usage": usage,
    }


class _Choice:
    def __init__(self, text: str, finish_reason: str, seed: bytes) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.finish_reason = finish_reason
        self.seed = seed

    def logprobs(self, top: int) -> list[dict[str, Any]]:
        return [token_logprob(token, self.seed, position, top) for position, token in enumerate(self.tokens)]


def _choice(basis: bytes, limit: int | None, stops: list[str]) -> _Choice:
    """One choice's text from its hash ``basis``, cut at the first stop sequence and at ``limit`` tokens."""
    text = generate_text(basis)
    finish_reason = "stop"
    cut = min((pos for pos in (text.find(s) for s in stops) if pos >= 0), default=-1)
    if cut >= 0:
        text = text[:cut]
    if limit is not None:
        tokens = tokenize(text)
        if len(tokens) > limit:
            text = "".join(tokens[:limit])
            finish_reason = "length"
    return _Choice(text, finish_reason, basis)


def _stream_frames(
    common: dict[str, Any],
    choices: list[_Choice],
    usage: dict[str, Any],
    want_logprobs: bool,
    top: int,
    options: dict[str, Any],
) -> list[bytes]:
    include_usage = bool(options.get("include_usage"))
    obfuscate = options.get("include_obfuscation", True) is not False
    frames: list[bytes] = []
    counter = 0

    def chunk(choice_list: list[dict[str, Any]], **extra: Any) -> None:
        nonlocal counter
        payload: dict[str, Any] = {**common, "object": "chat.completion.chunk", "choices": choice_list}
        if include_usage:
            payload["usage"] = None
        payload.update(extra)
        if obfuscate:
            # The real API pads chunks with a random-length string against side channels.
            payload["obfuscation"] = digest("obfuscation", common["id"], counter).hex()[: 2 + counter % 9]
        counter += 1
        frames.append(event(payload))

    for index, _ in enumerate(choices):
        chunk([{"index": index, "delta": {"role": "assistant", "content": "", "refusal": None}, "logprobs": None, "finish_reason": None}])
    longest = max((len(c.tokens) for c in choices), default=0)
    for position in range(longest):
        for index, choice in enumerate(choices):
            if position >= len(choice.tokens):
                continue
            token = choice.tokens[position]
            logprobs = (
                {"content": [token_logprob(token, choice.seed, position, top)], "refusal": None} if want_logprobs else None
            )
            chunk([{"index": index, "delta": {"content": token}, "logprobs": logprobs, "finish_reason": None}])
    for index, choice in enumerate(choices):
        chunk([{"index": index, "delta": {}, "logprobs": None, "finish_reason": choice.finish_reason}])
    if include_usage:
        chunk([], usage=usage)
    frames.append(DONE)
    return frames


@functools.lru_cache(maxsize=256)
def system_fingerprint(model: str) -> str:
    """A stable ``fp_`` + 10 hex per model, as the real API reports its backend configuration."""
    return "fp_" + digest("fingerprint", model).hex()[:10]


def _check_limits(body: dict[str, Any]) -> None:
    errors.check_length("messages", body["messages"], minimum=1)
    errors.check_range("n", body.get("n"), minimum=1, maximum=128)
    errors.check_range("temperature", body.get("temperature"), decimal=True, minimum=0, maximum=2)
    errors.check_range("top_p", body.get("top_p"), decimal=True, minimum=0, maximum=1)
    errors.check_range("presence_penalty", body.get("presence_penalty"), decimal=True, minimum=-2, maximum=2)
    errors.check_range("frequency_penalty", body.get("frequency_penalty"), decimal=True, minimum=-2, maximum=2)
    errors.check_range("top_logprobs", body.get("top_logprobs"), minimum=0, maximum=20)
    errors.check_range("max_tokens", body.get("max_tokens"), minimum=0)
    errors.check_range("max_completion_tokens", body.get("max_completion_tokens"), minimum=0)
    errors.check_length("stop", body.get("stop"), maximum=4)


def _stop_sequences(stop: Any) -> list[str]:
    if stop is None:
        return []
    if isinstance(stop, str):
        return [stop] if stop else []
    return [s for s in stop if s]


def _service_tier(requested: Any) -> str:
    # "auto" and unset are served by the default tier; "fast" is reported as "priority".
    if requested in (None, "auto", "default"):
        return "default"
    return "priority" if requested == "fast" else str(requested)


def token_logprob(token: str, seed: bytes, position: int, top: int) -> dict[str, Any]:
    """A deterministic logprob entry, with ``top`` alternatives (the token itself first)."""
    raw = digest("logprob", seed.hex(), position)
    logprob = -round(raw[0] / 255 * 1.5, 6)
    alternatives = [{"token": token, "logprob": logprob, "bytes": list(token.encode())}]
    alt_logprob = logprob
    for k in range(1, top):
        alt = f"{token.strip() or token}{k}" if raw[k] % 2 else f" alt{k}"
        alt_logprob = round(alt_logprob - 0.25 - raw[k] / 255, 6)  # strictly decreasing
        alternatives.append({"token": alt, "logprob": alt_logprob, "bytes": list(alt.encode())})
    return {"token": token, "logprob": logprob, "bytes": list(token.encode()), "top_logprobs": alternatives[:top]}


def message_text(content: Any) -> tuple[str, int]:
    """The text of a message's content, and how many image parts it has."""
    if isinstance(content, str):
        return content, 0
    if not isinstance(content, list):
        return "", 0
    texts: list[str] = []
    images = 0
    for part in content:
        if not isinstance(part, dict):
            continue
        if isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif isinstance(part.get("refusal"), str):
            texts.append(part["refusal"])
        elif part.get("type") in ("image_url", "file", "input_audio"):
            images += 1
    return "\n".join(texts), images


def count_prompt_tokens(messages: list[Any], tools: Any = None) -> int:
    """``MESSAGE_OVERHEAD`` per message + its text (+ its tool calls) + ``IMAGE_TOKENS`` per image."""
    total = REPLY_PRIMING
    for message in messages:
        if not isinstance(message, dict):
            continue
        text, images = message_text(message.get("content"))
        total += MESSAGE_OVERHEAD + count_tokens(text) + images * IMAGE_TOKENS
        if message.get("name"):
            total += 1
        if message.get("tool_calls"):
            total += count_tokens(stable_json(message["tool_calls"]))
    if tools:
        total += count_tokens(stable_json(tools))
    return total


def usage_block(prompt_tokens: int, completion_tokens: int, reasoning_tokens: int = 0) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }
