"""Chat completions: ``POST /v1/chat/completions``, plain and streamed.

The reply text is derived from a hash of (model, messages, seed, choice index): the same
request always gets the same text, a different prompt gets a different one, and the streamed
deltas concatenate to exactly the non-streamed text. Tokens are ``determinism.tokenize``
pieces, so ``max_tokens`` truncates on the same boundaries the usage counts.
"""

from __future__ import annotations

import functools
import json
from typing import Any, Iterable

from openai.types.chat import ChatCompletion
from openai.types.chat.completion_create_params import (
    CompletionCreateParamsNonStreaming,
    CompletionCreateParamsStreaming,
)
from werkzeug.wrappers import Response

from .. import errors
from ..determinism import IdSequence, count_tokens, digest, generate_text, stable_json, tokenize
from ..determinism.schema import SchemaError, generate_instance
from ..routing import Ctx, Resource
from ..state import base_model
from ..streaming import Chunks, sse_response
from . import chat_store

chat = Resource("chat")

#: Tokens the fake counts for every message on top of its text, and once for the reply.
MESSAGE_OVERHEAD = 3
REPLY_PRIMING = 3
#: Tokens the fake counts for each image part.
IMAGE_TOKENS = 85


@chat.route(
    "POST",
    "/chat/completions",
    endpoint="chat.completions.create",
    replies=("text", "message"),
    streams=True,
    response=ChatCompletion,
)
def create_chat_completion(ctx: Ctx) -> dict[str, Any] | Response:
    body = ctx.json()
    ctx.validate(body, CompletionCreateParamsStreaming if body.get("stream") else CompletionCreateParamsNonStreaming)
    _check_limits(body)
    model = body["model"]
    ctx.require_model(model)
    _check_model_parameters(body, model)

    messages = body["messages"]
    n = body.get("n") or 1
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    stops = stop_sequences(body.get("stop"))
    strict_rules = ctx.provider.strict_schema_rules
    tools = Tools.from_request(body, strict_rules=strict_rules)
    output_format = _output_format(body.get("response_format"), strict_rules=strict_rules)
    if output_format == JSON_OBJECT and ctx.provider.json_mode_needs_word and not mentions_json(message_text(m.get("content"))[0] for m in messages if isinstance(m, dict)):
        raise errors.bad_request(JSON_WORD_MISSING, param="messages")
    prompt = digest("chat", model, messages, body.get("seed"))  # serialised once, not per choice
    reasons = is_reasoning_model(model)
    turns = []
    for index in range(n):
        basis = digest(prompt.hex(), index)
        if ctx.reply is not None:
            turn = Turn.from_reply(ctx.reply, basis, ctx.ids)
        else:
            last = messages[-1] if isinstance(messages[-1], dict) else {}
            turn = default_turn(
                ctx, tools, output_format, basis, last_text=_last_user_text(messages), after_result=last.get("role") in ("tool", "function")
            )
        turns.append(turn.thought(limit, stops) if reasons else turn.limited(limit, stops))
    tools.render(turns)

    completion_id = ctx.ids.next("chatcmpl-")
    fingerprint = system_fingerprint(model)
    prompt_tokens = count_prompt_tokens(messages, body.get("tools") or body.get("functions"))
    reasoning_tokens = sum(t.reasoning_tokens for t in turns)
    completion_tokens = sum(t.token_count for t in turns) + reasoning_tokens
    usage = usage_block(prompt_tokens, completion_tokens, reasoning_tokens)
    common = {
        "id": completion_id,
        "created": ctx.clock.now(),
        "model": model,
        "service_tier": _service_tier(body.get("service_tier")),
        "system_fingerprint": fingerprint,
    }
    want_logprobs = bool(body.get("logprobs"))
    top = body.get("top_logprobs") or 0

    stream = bool(body.get("stream"))
    if not stream or body.get("store"):
        completion = {
            **common,
            "object": "chat.completion",
            "choices": [
                {
                    "index": index,
                    "message": turn.message(),
                    "logprobs": turn.logprobs(top) if want_logprobs else None,
                    "finish_reason": turn.finish_reason,
                }
                for index, turn in enumerate(turns)
            ],
            "usage": usage,
        }
        if body.get("store"):
            chat_store.remember(ctx, body, completion)
    if stream:
        options = body.get("stream_options") or {}
        return sse_response(_stream_frames(common, turns, usage, want_logprobs, top, options))
    return completion


class Turn:
    """One choice's assistant turn: text or refusal, tool calls, and why it finished."""

    def __init__(
        self,
        seed: bytes,
        *,
        content: str | None = None,
        refusal: str | None = None,
        tool_calls: list[dict[str, Any]] | None = None,
        finish_reason: str | None = None,
    ) -> None:
        self.seed = seed
        self.content = content
        self.refusal = refusal
        self.tool_calls = tool_calls or []  # [{"id", "type", "name", "arguments"}]
        self.function_call = False  # legacy ``functions``: the single call is a ``function_call``
        self._tokens: list[str] | None = None
        self.finish_reason = finish_reason or ("tool_calls" if self.tool_calls else "stop")
        self.reasoning_tokens = 0  # a reasoning model's hidden tokens (``thought``)

    @classmethod
    def from_reply(cls, reply: dict[str, Any], seed: bytes, ids: IdSequence) -> Turn:
        """A scripted reply as a turn; a call the script gave no id gets a fresh one per turn
        (so the choices of ``n > 1`` never share one)."""
        calls = [{**call, "id": call["id"] or ids.next("call_")} for call in reply["tool_calls"]]
        return cls(seed, content=reply["content"], refusal=reply["refusal"], tool_calls=calls, finish_reason=reply["finish_reason"])

    def limited(self, limit: int | None, stops: list[str]) -> Turn:
        """Cut the text at the first stop sequence and at ``limit`` tokens, as the model would.

        Tool calls count toward ``limit`` too (name and arguments, in order): the call that
        crosses it keeps the arguments that fit, marked ``"cut"`` (they are not valid JSON, as
        from the real API), later calls are dropped, and the turn finishes with ``length``.
        """
        if self.tool_calls:
            return self._calls_limited(limit)
        if self.content is None:
            return self
        text = self.content
        cut = min((pos for pos in (text.find(s) for s in stops) if pos >= 0), default=-1)
        if cut >= 0:
            text = text[:cut]
        tokens = tokenize(text)
        if limit is not None and len(tokens) > limit:
            # Keep the cut's own tokens: re-tokenising the cut text could merge trailing spaces.
            tokens = tokens[:limit]
            text = "".join(tokens)
            self.finish_reason = "length"
        self.content = text
        self._tokens = tokens
        return self

    def thought(self, limit: int | None, stops: list[str]) -> Turn:
        """A reasoning model's turn: it thinks first (``max(16, 2 × visible)`` hidden tokens),
        and ``limit`` (``max_completion_tokens``) bounds thinking and answer together, as in the
        real API: when thinking alone reaches it, the answer is empty (``finish_reason: "length"``)."""
        thinking = max(16, 2 * self.token_count)
        if limit is not None and thinking >= limit:
            self.reasoning_tokens = limit
            if self.tool_calls:
                self.tool_calls, self.finish_reason = [], "length"
            else:
                self.content, self.refusal, self._tokens, self.finish_reason = "", None, [], "length"
            return self
        self.reasoning_tokens = thinking
        return self.limited(None if limit is None else limit - thinking, stops)

    def _calls_limited(self, limit: int | None) -> Turn:
        if limit is None:
            return self
        budget, kept = limit, []
        for call in self.tool_calls:
            name_tokens = count_tokens(call["name"])
            arguments = tokenize(call["arguments"])
            if name_tokens + len(arguments) <= budget:
                kept.append(call)
                budget -= name_tokens + len(arguments)
                continue
            if budget > name_tokens:
                kept.append({**call, "arguments": "".join(arguments[: budget - name_tokens]), "cut": True})
            self.tool_calls, self.finish_reason = kept, "length"
            break
        return self

    @property
    def text_tokens(self) -> list[str]:
        if self._tokens is None:
            self._tokens = tokenize(self.content) if self.content else []
        return self._tokens

    @property
    def token_count(self) -> int:
        total = len(self.text_tokens) + (count_tokens(self.refusal) if self.refusal else 0)
        for call in self.tool_calls:
            total += count_tokens(call["name"]) + count_tokens(call["arguments"])
        return total

    def message(self) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": self.content, "refusal": self.refusal, "annotations": []}
        if self.function_call and self.tool_calls:
            call = self.tool_calls[0]
            message["function_call"] = {"name": call["name"], "arguments": call["arguments"]}
        elif self.tool_calls:
            message["tool_calls"] = [_tool_call_object(call) for call in self.tool_calls]
        return message

    def logprobs(self, top: int) -> dict[str, Any]:
        content = [token_logprob(t, self.seed, i, top) for i, t in enumerate(self.text_tokens)] if self.content is not None else None
        refusal = [token_logprob(t, self.seed, i, top) for i, t in enumerate(tokenize(self.refusal))] if self.refusal else None
        return {"content": content, "refusal": refusal}


def _tool_call_object(call: dict[str, Any]) -> dict[str, Any]:
    if call["type"] == "custom":
        return {"id": call["id"], "type": "custom", "custom": {"name": call["name"], "input": call["arguments"]}}
    return {"id": call["id"], "type": "function", "function": {"name": call["name"], "arguments": call["arguments"]}}


def default_turn(
    ctx: Ctx, tools: Tools, output_format: dict[str, Any] | None, basis: bytes, *, last_text: str, after_result: bool, call_prefix: str = "call_"
) -> Turn:
    """The fake's own answer: tool calls by the documented rule, else JSON for the format, else text.

    ``last_text`` is the last user message, ``after_result`` whether the conversation ends with
    a tool result. Built-in tools (Responses) come back as calls too; the caller renders them.
    """
    calls = tools.choose(last_text, after_result, basis)
    if calls:
        for call in calls:
            call["id"] = ctx.ids.next(call_prefix)
        return Turn(basis, tool_calls=calls)
    if output_format is not None:
        if output_format["type"] == "json_object":
            return Turn(basis, content=json.dumps({"answer": generate_text(basis)}, separators=(",", ":")))
        return Turn(basis, content=json.dumps(instance_for(output_format["schema"], basis), separators=(",", ":"), ensure_ascii=False))
    return Turn(basis, content=generate_text(basis))


JSON_OBJECT = {"type": "json_object"}
# The real 400s for JSON mode without the word in the prompt (quoted by public projects that
# match on them; the Responses one with its body, param "text.format"). Chat's param is "messages".
JSON_WORD_MISSING = "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'."


def mentions_json(texts: Iterable[str]) -> bool:
    """Whether any of the texts says "json" (any case): what JSON mode requires of the prompt."""
    return any("json" in text.lower() for text in texts)


def _output_format(response_format: Any, *, strict_rules: bool = True) -> dict[str, Any] | None:
    """``json_object`` / ``json_schema`` formats (schema checked as the API checks it), else None."""
    if not isinstance(response_format, dict) or response_format.get("type") not in ("json_object", "json_schema"):
        return None
    if response_format["type"] == "json_object":
        return {"type": "json_object"}
    spec = response_format["json_schema"]
    name = spec["name"]
    schema = spec.get("schema") or {"type": "object", "properties": {}, "additionalProperties": False}
    where = f"response_format '{name}'"
    if spec.get("strict") and strict_rules:
        check_strict_schema(schema, where, "response_format")
    return {"type": "json_schema", "schema": _checked_schema(schema, where, "response_format")}


#: The seed a schema is checked with when the request arrives: an instance for it exists.
_PROBE = b"probe"


def instance_for(schema: Any, seed: bytes) -> Any:
    """An instance of a checked schema for this seed. The generator tries a bounded number of
    ``anyOf``/``oneOf`` branches in a seed-dependent order, so a seed may find none where the
    check's seed found one: then the check's instance, so a schema that passed always answers."""
    try:
        return generate_instance(schema, seed)
    except SchemaError:
        return generate_instance(schema, _PROBE)


def _checked_schema(schema: Any, where: str, param: str) -> Any:
    try:
        generate_instance(schema, _PROBE)
    except SchemaError as exc:
        raise errors.bad_request(f"Invalid schema for {where}: {exc}", param=param, code="invalid_json_schema") from None
    return schema


def check_strict_schema(schema: Any, where: str, param: str, context: tuple[str, ...] = ()) -> None:
    """The rules strict mode (structured outputs) enforces: every object closes its properties
    (``additionalProperties: false``) and lists all of them in ``required``."""
    if isinstance(schema, list):
        for item in schema:
            check_strict_schema(item, where, param, context)
        return
    if not isinstance(schema, dict):
        return
    is_object = schema.get("type") == "object" or (isinstance(schema.get("type"), list) and "object" in schema["type"])
    if is_object or "properties" in schema:
        def fail(rule: str) -> errors.OpenAIError:
            return errors.bad_request(f"Invalid schema for {where}: In context={context!r}, {rule}", param=param, code="invalid_json_schema")

        if schema.get("additionalProperties") is not False:
            raise fail("'additionalProperties' is required to be supplied and to be false.")
        properties, required = schema.get("properties") or {}, schema.get("required") or []
        if not isinstance(properties, dict):
            raise fail("'properties' is required to be an object.")  # wording unverified
        if not isinstance(required, list):
            raise fail("'required' is required to be supplied and to be an array including every key in properties.")
        missing = [key for key in properties if key not in required]
        if missing:
            raise fail(f"'required' is required to be supplied and to be an array including every key in properties. Missing '{missing[0]}'.")
    for key, value in schema.items():
        if key in ("properties", "$defs", "definitions", "patternProperties"):
            if isinstance(value, dict):
                for name, sub in value.items():
                    check_strict_schema(sub, where, param, (*context, key, name))
        elif key in ("items", "anyOf", "allOf", "oneOf", "prefixItems", "not", "additionalProperties"):
            check_strict_schema(value, where, param, (*context, key))


#: Responses API built-in tools by their request ``type``, and the name the tool rule matches.
BUILTIN_TOOLS = {
    "web_search": "web_search",
    "web_search_preview": "web_search",
    "web_search_2025_08_26": "web_search",
    "web_search_preview_2025_03_11": "web_search",
    "file_search": "file_search",
    "code_interpreter": "code_interpreter",
    "image_generation": "image_generation",
}


class Tools:
    """The tools a request offers and how it lets the model use them (``tool_choice``).

    Without a script, the rule is:

    - ``tool_choice`` names a function (or the legacy ``function_call`` does): call it;
    - ``"required"``: call the tools named in the last user message, else the first tool;
    - ``"auto"`` (the default when tools are given): call the tools whose names appear in the
      last user message (``get_weather`` also matches "get weather"), unless the last message
      is a ``tool``/``function`` result; otherwise answer with text;
    - ``"none"``: text. ``allowed_tools`` narrows the tools, with its own mode.

    Several named tools become parallel calls unless ``parallel_tool_calls`` is false.
    Arguments are JSON generated from the tool's ``parameters`` schema.
    """

    def __init__(self, tools: list[dict[str, Any]], choice: Any, *, legacy: bool, parallel: bool) -> None:
        self.tools = tools  # [{"type": "function"|"custom", "name", "schema" | "format"}]
        self.choice = choice
        self.legacy = legacy
        self.parallel = parallel

    @classmethod
    def from_request(cls, body: dict[str, Any], *, strict_rules: bool = True) -> Tools:
        """The tools of a chat request; ``strict_rules``: check ``strict: true`` schemas by the
        API's structured-outputs rules (a provider flag)."""
        legacy = not body.get("tools") and bool(body.get("functions"))
        tools: list[dict[str, Any]] = []
        if legacy:
            for i, function in enumerate(body["functions"]):
                tools.append(cls._function(function, f"functions[{i}]"))
            choice = body.get("function_call", "auto")
        else:
            for i, tool in enumerate(body.get("tools") or []):
                if tool.get("type") == "custom":
                    tools.append({"type": "custom", "name": tool["custom"]["name"]})
                else:
                    tools.append(cls._function(tool["function"], f"tools[{i}].function", strict_key=strict_rules))
            choice = body.get("tool_choice", "auto" if tools else "none")
        names = [t["name"] for t in tools]
        duplicate = next((name for name in names if names.count(name) > 1), None)
        if duplicate is not None:
            raise errors.bad_request(f"Invalid 'tools': duplicate function name '{duplicate}'.", param="tools")
        return cls(tools, choice, legacy=legacy, parallel=body.get("parallel_tool_calls") is not False)

    @staticmethod
    def _function(function: dict[str, Any], param: str, *, strict_key: bool = False) -> dict[str, Any]:
        name = function["name"]
        schema = function.get("parameters") or {"type": "object", "properties": {}}
        where = f"function '{name}'"
        if strict_key and function.get("strict"):
            check_strict_schema(schema, where, f"{param}.parameters")
        return {"type": "function", "name": name, "schema": _checked_schema(schema, where, f"{param}.parameters")}

    @classmethod
    def from_responses(cls, body: dict[str, Any]) -> Tools:
        """The tools of a Responses request: flat function tools, custom tools, built-in tools."""
        tools: list[dict[str, Any]] = []
        for i, tool in enumerate(body.get("tools") or []):
            kind = tool.get("type")
            if kind == "function":
                tools.append(cls._function(tool, f"tools[{i}]", strict_key=True))
            elif kind == "custom":
                tools.append({"type": "custom", "name": tool["name"]})
            elif kind in BUILTIN_TOOLS:
                tools.append({"type": "builtin", "name": BUILTIN_TOOLS[kind], "spec": tool})
        choice = body.get("tool_choice", "auto" if tools else "none")
        if isinstance(choice, dict) and choice.get("type") in BUILTIN_TOOLS:
            choice = {"type": "builtin", "name": BUILTIN_TOOLS[choice["type"]]}
        return cls(tools, choice, legacy=False, parallel=body.get("parallel_tool_calls") is not False)

    def choose(self, last_text: str, after_result: bool, basis: bytes) -> list[dict[str, Any]]:
        """The tool calls of the fake's own answer (empty: answer with text)."""
        if not self.tools:
            return []
        tools, mode = self.tools, self.choice
        if isinstance(mode, dict):
            if mode.get("type") == "allowed_tools":
                allowed = {self._tool_name(t) for t in mode["allowed_tools"].get("tools", [])}
                tools = [t for t in tools if t["name"] in allowed]
                mode = mode["allowed_tools"]["mode"]
            else:
                name = self._tool_name(mode)
                named = [t for t in tools if t["name"] == name]
                if not named:
                    param = "function_call" if self.legacy else "tool_choice"
                    raise errors.invalid_value(param, f"Invalid value for '{param}': tool '{name}' was not found in '{'functions' if self.legacy else 'tools'}'.")
                return [self._call(named[0], basis)]
        if mode == "none" or not tools:
            return []
        if mode == "auto" and after_result:
            return []
        text = last_text.lower()
        mentioned = [t for t in tools if _mentions(text, t["name"])]
        if not mentioned and mode == "required":
            mentioned = tools[:1]
        if not self.parallel or self.legacy:
            mentioned = mentioned[:1]
        return [self._call(tool, digest(basis.hex(), tool["name"])) for tool in mentioned]

    @staticmethod
    def _tool_name(spec: dict[str, Any]) -> str:
        inner = spec.get("function") or spec.get("custom") or spec
        return inner.get("name", "") if isinstance(inner, dict) else ""

    @staticmethod
    def _call(tool: dict[str, Any], seed: bytes) -> dict[str, Any]:
        if tool["type"] == "builtin":
            return {"id": None, "type": "builtin", "name": tool["name"], "arguments": ""}
        if tool["type"] == "custom":
            return {"id": None, "type": "custom", "name": tool["name"], "arguments": generate_text(seed, min_words=3, max_words=8)}
        arguments = instance_for(tool["schema"], seed)
        return {"id": None, "type": "function", "name": tool["name"], "arguments": json.dumps(arguments, separators=(",", ":"), ensure_ascii=False)}

    def render(self, turns: list[Turn]) -> None:
        """Legacy ``functions`` requests get a ``function_call`` instead of ``tool_calls``."""
        if not self.legacy:
            return
        for turn in turns:
            if turn.tool_calls:
                turn.function_call = True
                turn.tool_calls = turn.tool_calls[:1]
                if turn.finish_reason == "tool_calls":
                    turn.finish_reason = "function_call"


def _mentions(text: str, name: str) -> bool:
    lowered = name.lower()
    return lowered in text or lowered.replace("_", " ").replace("-", " ") in text


def _last_user_text(messages: list[Any]) -> str:
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return message_text(message.get("content"))[0]
    return ""


def _stream_frames(
    common: dict[str, Any],
    turns: list[Turn],
    usage: dict[str, Any],
    want_logprobs: bool,
    top: int,
    options: dict[str, Any],
) -> list[bytes]:
    chunks = Chunks(
        {**common, "object": "chat.completion.chunk"},
        include_usage=bool(options.get("include_usage")),
        obfuscate=options.get("include_obfuscation", True) is not False,
    )
    chunk = chunks.add

    def delta(index: int, body: dict[str, Any], logprobs: Any = None) -> None:
        chunk([{"index": index, "delta": body, "logprobs": logprobs, "finish_reason": None}])

    for index, turn in enumerate(turns):
        first: dict[str, Any] = {"role": "assistant", "content": "" if turn.content is not None else None, "refusal": None}
        if turn.refusal is not None:
            first["refusal"] = ""
        delta(index, first)
    # Text arrives token by token, choices interleaved, as the API sends n > 1.
    longest = max((len(t.text_tokens) for t in turns), default=0)
    for position in range(longest):
        for index, turn in enumerate(turns):
            tokens = turn.text_tokens
            if position < len(tokens):
                logprobs = {"content": [token_logprob(tokens[position], turn.seed, position, top)], "refusal": None} if want_logprobs else None
                delta(index, {"content": tokens[position]}, logprobs)
    for index, turn in enumerate(turns):
        if turn.refusal:
            for position, token in enumerate(tokenize(turn.refusal)):
                logprobs = {"content": None, "refusal": [token_logprob(token, turn.seed, position, top)]} if want_logprobs else None
                delta(index, {"refusal": token}, logprobs)
        for call_index, call in enumerate(turn.tool_calls):
            # A custom tool call streams as the API sends it: {"type": "custom", "custom": {"name",
            # "input"}}. The SDK's ChoiceDeltaToolCall has no such variant, so only clients
            # without strict validation read it (against the real API too).
            kind, text = ("custom", "input") if call["type"] == "custom" else ("function", "arguments")
            if turn.function_call:
                delta(index, {"function_call": {"name": call["name"], "arguments": ""}})
            else:
                head = {"index": call_index, "id": call["id"], "type": kind, kind: {"name": call["name"], text: ""}}
                delta(index, {"tool_calls": [head]})
            # Arguments arrive as pieces of a few tokens, like the API's deltas.
            for piece in _pieces(call["arguments"]):
                if turn.function_call:
                    delta(index, {"function_call": {"arguments": piece}})
                else:
                    delta(index, {"tool_calls": [{"index": call_index, kind: {text: piece}}]})
    for index, turn in enumerate(turns):
        chunk([{"index": index, "delta": {}, "logprobs": None, "finish_reason": turn.finish_reason}])
    return chunks.finish(usage)


def _pieces(text: str, size: int = 3) -> list[str]:
    """``text`` in pieces of ``size`` fake tokens (how tool-call arguments are streamed)."""
    tokens = tokenize(text)
    return ["".join(tokens[i : i + size]) for i in range(0, len(tokens), size)]


@functools.lru_cache(maxsize=256)
def system_fingerprint(model: str) -> str:
    """A stable ``fp_`` + 10 hex per model, as the real API reports its backend configuration."""
    return "fp_" + digest("fingerprint", model).hex()[:10]


def _check_limits(body: dict[str, Any]) -> None:
    errors.check_length("messages", body["messages"], minimum=1)
    errors.check_range("n", body.get("n"), minimum=1, maximum=128)
    check_sampling(body)
    errors.check_range("top_logprobs", body.get("top_logprobs"), minimum=0, maximum=20)
    errors.check_range("max_tokens", body.get("max_tokens"), minimum=0)
    errors.check_range("max_completion_tokens", body.get("max_completion_tokens"), minimum=0)
    errors.check_length("stop", body.get("stop"), maximum=4)
    errors.check_metadata(body.get("metadata"))


#: Model ids (or a fine-tune's base) that reason: the o-series, the gpt-5 and gpt-6 families (but
#: not their ``-chat`` models) and codex.
REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5", "gpt-6", "codex")
MAX_TOKENS_HINT = " Use 'max_completion_tokens' instead."


def is_reasoning_model(model: str) -> bool:
    base = base_model(model)
    return base.startswith(REASONING_PREFIXES) and "-chat" not in base


def _check_model_parameters(body: dict[str, Any], model: str) -> None:
    """What the real API refuses per model kind: reasoning models take ``max_completion_tokens``
    (not ``max_tokens``) and only the default ``temperature`` and ``top_p`` (unless
    ``reasoning_effort`` is ``"none"``); other models take no ``reasoning_effort``."""
    if not is_reasoning_model(model):
        if body.get("reasoning_effort") is not None:
            raise errors.unsupported_parameter("reasoning_effort")
        return
    if body.get("max_tokens") is not None:
        raise errors.unsupported_parameter("max_tokens", MAX_TOKENS_HINT)
    for name in ("temperature", "top_p"):
        value = body.get(name)
        if value is not None and value != 1 and body.get("reasoning_effort") != "none":
            raise errors.unsupported_value(name, value, 1)


def check_sampling(body: dict[str, Any]) -> None:
    """The sampling parameters' ranges, shared by chat and legacy completions."""
    errors.check_range("temperature", body.get("temperature"), decimal=True, minimum=0, maximum=2)
    errors.check_range("top_p", body.get("top_p"), decimal=True, minimum=0, maximum=1)
    errors.check_range("presence_penalty", body.get("presence_penalty"), decimal=True, minimum=-2, maximum=2)
    errors.check_range("frequency_penalty", body.get("frequency_penalty"), decimal=True, minimum=-2, maximum=2)


def stop_sequences(stop: Any) -> list[str]:
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

