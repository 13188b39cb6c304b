"""Fill-in-the-middle completions: ``POST /v1/fim/completions`` (Mistral's codestral models).

Only the Mistral profile serves this route (it is in the profile's ``resources=``, not in
``ALL_RESOURCES``). The endpoint name is the ``mistralai`` SDK's call path, ``fim.complete``;
``client.fim.stream(...)`` posts to the same URL with ``"stream": true``.

- The body is checked against Mistral's ``FIMCompletionRequest``: ``model`` and ``prompt`` are
  required, ``suffix``, ``max_tokens``, ``min_tokens``, ``stop``, ``random_seed``,
  ``temperature``, ``top_p``, ``metadata``, ``prompt_cache_key`` and ``stream`` are accepted,
  anything else is an unknown parameter (the profile renders these as Mistral's 422s).
- Only models whose card says ``capabilities.completion_fim`` (``codestral-latest``,
  ``codestral-2508``) complete; any other model in the catalog gets Mistral's 400 "FIM is not
  enabled for this model" (``invalid_request_invalid_args``, code ``3051``).
- The completion is ``determinism.generate_text`` of a hash of (model, prompt, suffix,
  random_seed): the same request gets the same text. ``stop`` cuts it at the first stop
  sequence, ``max_tokens`` at that many fake tokens (``finish_reason`` ``"length"``).
- ``usage.prompt_tokens`` counts the fake tokens of prompt and suffix; ``completion_tokens``
  those of the text. A stream sends the text token by token and the usage on its last chunk.
- Scripts: ``openai_server.on("fim.complete").respond("x = 1")`` replies with that text.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from .. import errors
from ..determinism import count_tokens, digest, generate_text, tokenize
from ..routing import Ctx, Resource
from ..streaming import DONE, event, sse_response

__all__ = ["FIM_NOT_ENABLED", "FIM_PARAMS", "completion_id", "fim"]

fim = Resource("fim")

#: Mistral's 400 for a model that does not do fill-in-the-middle (as reported in 2025).
FIM_NOT_ENABLED = "FIM is not enabled for this model"

#: The fields of the mistralai SDK's ``FIMCompletionRequest`` and the JSON types they take.
FIM_PARAMS: dict[str, tuple[type, ...]] = {
    "model": (str,),
    "prompt": (str,),
    "suffix": (str, type(None)),
    "temperature": (int, float, type(None)),
    "top_p": (int, float, type(None)),
    "max_tokens": (int, type(None)),
    "min_tokens": (int, type(None)),
    "stream": (bool,),
    "stop": (str, list, type(None)),
    "random_seed": (int, type(None)),
    "metadata": (dict, type(None)),
    "prompt_cache_key": (str, type(None)),
}
_EXPECTED = {str: "a string", int: "an integer", bool: "a boolean", list: "an array", dict: "an object"}


@fim.route("POST", "/fim/completions", endpoint="fim.complete", replies=("text",), streams=True)
def complete_fim(ctx: Ctx) -> dict[str, Any] | Response:
    body = ctx.json()
    _validate(body)
    model = body["model"]
    card = ctx.model_card(model)
    capabilities = dict(card.extra).get("capabilities") or {}
    if not capabilities.get("completion_fim"):
        raise errors.OpenAIError(400, FIM_NOT_ENABLED, type="invalid_request_invalid_args", code="3051")

    prompt, suffix = body["prompt"], body.get("suffix") or ""
    finish = "stop"
    if ctx.reply is not None and ctx.reply["content"] is not None:
        text = ctx.reply["content"]
        finish = ctx.reply["finish_reason"] or "stop"
    else:
        text = generate_text(digest("fim", model, prompt, suffix, body.get("random_seed")), min_words=4, max_words=16)
    tokens, cut = _limited(text, body.get("stop"), body.get("max_tokens"))
    if cut:
        finish = "length"
    text = "".join(tokens)

    prompt_tokens = count_tokens(prompt) + count_tokens(suffix)
    usage = {"prompt_tokens": prompt_tokens, "completion_tokens": len(tokens), "total_tokens": prompt_tokens + len(tokens)}
    common = {"id": completion_id(ctx), "object": "chat.completion", "model": model, "created": ctx.clock.now()}
    if body.get("stream"):
        return sse_response(_frames({**common, "object": "chat.completion.chunk"}, tokens, finish, usage))
    return {
        **common,
        "usage": usage,
        "choices": [{"index": 0, "message": {"role": "assistant", "tool_calls": None, "content": text}, "finish_reason": finish}],
    }


def completion_id(ctx: Ctx) -> str:
    """A Mistral completion id: 32 hex digits, unique in the test and the same from run to run."""
    return digest(ctx.ids.next("mistral-cmpl")).hex()[:32]


def _validate(body: dict[str, Any]) -> None:
    for key in body:
        if key not in FIM_PARAMS:
            raise errors.unknown_parameter(key)
    for key in ("model", "prompt"):
        if key not in body:
            raise errors.missing_required(key)
    for key, value in body.items():
        allowed = FIM_PARAMS[key]
        if isinstance(value, bool) and bool not in allowed or not isinstance(value, allowed):
            raise errors.invalid_type(key, "a number" if float in allowed else _EXPECTED[allowed[0]], value)
    stop = body.get("stop")
    if isinstance(stop, list):
        for index, item in enumerate(stop):
            if not isinstance(item, str):
                raise errors.invalid_type(f"stop[{index}]", "a string", item)
    errors.check_range("temperature", body.get("temperature"), decimal=True, minimum=0)
    errors.check_range("top_p", body.get("top_p"), decimal=True, minimum=0, maximum=1)
    for key in ("max_tokens", "min_tokens", "random_seed"):
        errors.check_range(key, body.get(key), minimum=0)


def _limited(text: str, stop: Any, limit: int | None) -> tuple[list[str], bool]:
    """The text's tokens up to the first stop sequence and at most ``limit``; True if cut by the limit."""
    stops = [stop] if isinstance(stop, str) else list(stop or [])
    cut = min((pos for pos in (text.find(s) for s in stops if s) if pos >= 0), default=-1)
    if cut >= 0:
        text = text[:cut]
    tokens = tokenize(text)
    if limit is not None and len(tokens) > limit:
        return tokens[:limit], True
    return tokens, False


def _frames(common: dict[str, Any], tokens: list[str], finish: str, usage: dict[str, Any]) -> list[bytes]:
    def chunk(delta: dict[str, Any], finish_reason: str | None = None, **extra: Any) -> bytes:
        return event({**common, "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}], **extra})

    frames = [chunk({"role": "assistant", "content": ""})]
    frames += [chunk({"content": token}) for token in tokens]
    frames.append(chunk({"content": ""}, finish, usage=usage))
    frames.append(DONE)
    return frames
