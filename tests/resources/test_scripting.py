"""Scripted replies through the real SDK: once/respond, matching, reply kinds, streaming."""

from __future__ import annotations

import base64
import contextlib
import json
import re
import struct
import threading
import time

import httpx2
import openai
import pydantic
import pytest
from openai.types.chat import ChatCompletion

from pytest_openai_fake import (
    DEFAULT,
    FakeOpenAI,
    ScriptError,
    content_filter,
    custom_tool_call,
    cut_stream,
    error,
    message,
    raw,
    refusal,
    stream_error,
    tool_call,
    tool_calls,
)
from pytest_openai_fake.sdk import stream_cut_errors

# openai 2.x's ChatCompletion has no metadata field, so scripts cannot set it there (docs/versions.md).
SDK_CHAT_METADATA = pytest.mark.skipif(
    "metadata" not in ChatCompletion.model_fields, reason="this openai SDK's ChatCompletion has no metadata field"
)

CHAT = "chat.completions.create"
ASK = [{"role": "user", "content": "What is the weather in Paris?"}]


def chat(client, messages=ASK, **kwargs):
    return client.chat.completions.create(model="gpt-4o", messages=messages, **kwargs)


def text_of_stream(stream) -> str:
    return "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)


# -- once / respond / fall through -------------------------------------------------------------


def test_once_replies_in_order_then_the_default(openai_server, client):
    default = chat(client, [{"role": "user", "content": "unscripted"}]).choices[0].message.content
    openai_server.on(CHAT).once("first", "second")
    assert chat(client).choices[0].message.content == "first"
    assert chat(client).choices[0].message.content == "second"
    third = chat(client, [{"role": "user", "content": "unscripted"}]).choices[0].message.content
    assert third == default  # used up: the fake's own deterministic answer again


def test_respond_answers_every_call_after_the_once_replies(openai_server, client):
    script = openai_server.on(CHAT).once("warm-up").respond("always")
    replies = [chat(client).choices[0].message.content for _ in range(4)]
    assert replies == ["warm-up", "always", "always", "always"]
    assert script.call_count == 4 and script.pending == 0


def test_scripted_reply_is_completed_into_a_full_response(openai_server, client):
    openai_server.on(CHAT).respond("Hello there, friend.")
    reply = chat(client)
    assert reply.id.startswith("chatcmpl-")
    assert reply.object == "chat.completion"
    assert reply.created == 1_767_225_600
    assert reply.system_fingerprint.startswith("fp_")
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage.completion_tokens > 0
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens


def test_scripted_text_streams_in_token_deltas(openai_server, client):
    openai_server.on(CHAT).respond("It is sunny in Paris today.")
    chunks = list(chat(client, stream=True, stream_options={"include_usage": True}))
    deltas = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(deltas) > 3
    assert "".join(deltas) == "It is sunny in Paris today."
    assert chunks[-1].usage.completion_tokens == len(deltas)


def test_max_tokens_cuts_a_scripted_reply_like_a_model(openai_server, client):
    openai_server.on(CHAT).respond("one two six ten")
    reply = chat(client, max_tokens=3)
    assert reply.choices[0].message.content == "one two six"
    assert reply.choices[0].finish_reason == "length"


def test_n_choices_all_get_the_scripted_reply(openai_server, client):
    openai_server.on(CHAT).respond("same")
    reply = chat(client, n=3)
    assert [c.message.content for c in reply.choices] == ["same"] * 3


def test_default_in_a_sequence(openai_server, client):
    openai_server.on(CHAT).once("scripted", DEFAULT, "scripted again")
    contents = [chat(client).choices[0].message.content for _ in range(3)]
    assert contents[0] == "scripted" and contents[2] == "scripted again"
    assert contents[1] not in ("scripted", "scripted again")


async def test_async_client_gets_scripted_replies(openai_server, async_client):
    openai_server.on(CHAT).once(tool_call("lookup", {"q": "x"}), "done")
    first = await async_client.chat.completions.create(model="gpt-4o", messages=ASK)
    assert first.choices[0].message.tool_calls[0].function.name == "lookup"
    stream = await async_client.chat.completions.create(model="gpt-4o", messages=ASK, stream=True)
    text = "".join([c.choices[0].delta.content or "" async for c in stream])
    assert text == "done"


# -- matching ----------------------------------------------------------------------------------


def test_scripts_match_model_message_and_stream(openai_server, client):
    openai_server.on(CHAT, model="gpt-4o-mini").respond("mini")
    openai_server.on(CHAT, message="Paris").respond("paris")
    openai_server.on(CHAT, message=re.compile(r"\bberlin\b", re.I)).respond("berlin")
    openai_server.on(CHAT, stream=True).respond("streamed")
    assert client.chat.completions.create(model="gpt-4o-mini", messages=ASK).choices[0].message.content == "mini"
    assert chat(client).choices[0].message.content == "paris"
    assert chat(client, [{"role": "user", "content": "And BERLIN?"}]).choices[0].message.content == "berlin"
    assert text_of_stream(chat(client, [{"role": "user", "content": "other"}], stream=True)) == "streamed"
    other = chat(client, [{"role": "user", "content": "other"}]).choices[0].message.content
    assert other not in ("mini", "paris", "berlin", "streamed")


def test_message_matches_the_last_user_message_only(openai_server, client):
    openai_server.on(CHAT, message="Paris").respond("paris")
    history = [*ASK, {"role": "assistant", "content": "Sunny."}, {"role": "user", "content": "And tomorrow?"}]
    assert chat(client, history).choices[0].message.content != "paris"


def test_first_installed_script_wins(openai_server, client):
    openai_server.on(CHAT).respond("first")
    openai_server.on(CHAT).respond("second")
    assert chat(client).choices[0].message.content == "first"


def test_match_predicate_sees_the_captured_request(openai_server, client):
    seen = []

    def wants_json(request):
        seen.append(request)
        return request.json.get("temperature") == 0

    openai_server.on(CHAT, match=wants_json).respond("cold")
    assert chat(client, temperature=0).choices[0].message.content == "cold"
    assert chat(client, temperature=1).choices[0].message.content != "cold"
    assert seen[0].endpoint == CHAT and seen[0].headers["authorization"].startswith("Bearer ")


def test_callable_builds_the_reply_from_the_request(openai_server, client):
    openai_server.on(CHAT).respond(lambda request: "echo: " + request.json["messages"][-1]["content"])
    assert chat(client).choices[0].message.content == "echo: What is the weather in Paris?"


def test_callable_returning_none_gives_the_default(openai_server, client):
    default = chat(client).choices[0].message.content
    openai_server.on(CHAT).respond(lambda request: None)
    assert chat(client).choices[0].message.content == default


@pytest.mark.openai_fake(problems="ignore")
def test_callable_that_raises_fails_loudly(openai_server, client):
    def broken(request):
        raise KeyError("oops")

    openai_server.on(CHAT).respond(broken)
    with pytest.raises(openai.InternalServerError, match="script failed"):
        chat(client)
    problems = openai_server.take_problems()
    assert len(problems) == 1 and "KeyError('oops')" in problems[0].summary
    assert "Traceback" in problems[0].detail


@pytest.mark.openai_fake(problems="ignore")
def test_callable_returning_a_bad_reply_fails_loudly(openai_server, client):
    openai_server.on(CHAT).respond(lambda request: 42)
    with pytest.raises(openai.InternalServerError):
        chat(client)
    assert "cannot reply with int 42" in openai_server.take_problems()[0].summary


def test_script_records_its_calls(openai_server, client):
    script = openai_server.on(CHAT, message="Paris").respond("ok")
    chat(client)
    chat(client, [{"role": "user", "content": "elsewhere"}])
    assert script.called and script.call_count == 1
    assert script.calls[0] is openai_server.requests[0]
    assert script.calls[0].status == 200


def test_reply_function_gets_the_request_the_log_keeps(openai_server, client):
    seen = []
    openai_server.on(CHAT).respond(lambda request: seen.append(request))
    chat(client)
    chat(client, temperature=0)
    for given, logged in zip(seen, openai_server.requests, strict=True):
        assert given.status == 0 and logged.status == 200
        assert (given.index, given.endpoint, given.body, given.headers) == (logged.index, logged.endpoint, logged.body, logged.headers)
    assert seen[1].json["temperature"] == 0


# -- user code runs outside the fake's lock ----------------------------------------------------


class Background(threading.Thread):
    """A chat call in a thread; ``result()`` is its reply text, or raises what it raised."""

    def __init__(self, client, text: str, **kwargs) -> None:
        super().__init__(daemon=True)
        self.client, self.text, self.kwargs = client, text, kwargs
        self.reply: str | None = None
        self.error: BaseException | None = None
        self.start()

    def run(self) -> None:
        try:
            self.reply = chat(self.client, [{"role": "user", "content": self.text}], **self.kwargs).choices[0].message.content
        except BaseException as exc:  # noqa: BLE001 - re-raised by result()
            self.error = exc

    def result(self, timeout: float = 5) -> str | None:
        self.join(timeout)
        assert not self.is_alive(), f"the call {self.text!r} did not finish in {timeout} s"
        if self.error is not None:
            raise self.error
        return self.reply


def test_reply_function_may_wait_for_another_call(openai_server, client):
    """A reply function blocks until a second call arrives: the second one is answered meanwhile."""
    second_seen = threading.Event()

    def wait_for_the_second(request):
        return "after the second call" if second_seen.wait(3) else "timed out"

    def note_the_second(request):
        second_seen.set()
        return "second"

    openai_server.on(CHAT, message="first").respond(wait_for_the_second)
    openai_server.on(CHAT, message="second").respond(note_the_second)
    started = time.perf_counter()
    first = Background(client, "first")
    time.sleep(0.05)
    assert Background(client, "second").result() == "second"
    assert first.result() == "after the second call"
    assert time.perf_counter() - started < 2
    assert [r.json["messages"][0]["content"] for r in openai_server.requests] == ["second", "first"]


def test_a_slow_reply_function_does_not_delay_other_calls(openai_server, client):
    entered, release = threading.Event(), threading.Event()

    def slow(request):
        entered.set()
        release.wait(3)
        return "slow"

    script = openai_server.on(CHAT, message="slow").respond(slow)
    call = Background(client, "slow")
    try:
        assert entered.wait(3)
        started = time.perf_counter()
        assert client.models.retrieve("gpt-4o").id == "gpt-4o"
        assert chat(client, [{"role": "user", "content": "fast"}]).choices[0].message.content != "slow"
        assert time.perf_counter() - started < 0.5
        assert call.is_alive() and not script.called
    finally:
        release.set()
    assert call.result() == "slow"
    assert script.call_count == 1 and openai_server.requests.last is script.calls[0]


def test_a_slow_match_predicate_does_not_delay_other_calls(openai_server, client):
    entered, release = threading.Event(), threading.Event()

    def slow_predicate(request):
        if request.json["messages"][-1]["content"] != "slow":
            return False
        entered.set()
        release.wait(3)
        return True

    openai_server.on(CHAT, match=slow_predicate).once("matched")
    call = Background(client, "slow")
    try:
        assert entered.wait(3)
        started = time.perf_counter()
        assert chat(client, [{"role": "user", "content": "fast"}]).choices[0].message.content != "matched"
        assert time.perf_counter() - started < 0.5
    finally:
        release.set()
    assert call.result() == "matched"


def test_a_script_removed_while_a_predicate_runs_answers_nothing(openai_server, client):
    # Regression: scripts after the predicate's were taken from a stale snapshot after clear().
    entered, release = threading.Event(), threading.Event()

    def slow_no(request):
        entered.set()
        release.wait(3)
        return False

    openai_server.on(CHAT, match=slow_no).once("never")
    later = openai_server.on(CHAT).respond("from a removed script")
    call = Background(client, "hello")
    try:
        assert entered.wait(3)
        openai_server.scripts.clear()
    finally:
        release.set()
    assert call.result() != "from a removed script"
    assert not later.called


def test_concurrent_calls_share_once_replies_without_repeats(openai_server, client):
    barrier = threading.Barrier(4, timeout=3)

    def together(request):
        barrier.wait()  # all four calls are inside a reply function at once (then the default reply)

    script = openai_server.on(CHAT, match=lambda r: True).once(*[together] * 4)
    calls = [Background(client, f"call {i}") for i in range(4)]
    replies = [c.result() for c in calls]
    assert all(replies) and script.pending == 0 and script.call_count == 4
    assert sorted(r.index for r in openai_server.requests) == [0, 1, 2, 3]


def test_a_reset_during_a_reply_function_drops_the_call(openai_server):
    client = openai_server.client()
    entered, release = threading.Event(), threading.Event()

    def slow(request):
        entered.set()
        release.wait(3)
        return "from the old test"

    openai_server.on(CHAT).respond(slow)
    call = Background(client, "slow")
    assert entered.wait(3)
    openai_server.reset()  # the test ended
    release.set()
    with pytest.raises(openai.APIConnectionError):
        call.result()
    assert len(openai_server.requests) == 0 and not openai_server.take_problems()


# -- strictness --------------------------------------------------------------------------------


@pytest.mark.openai_fake(problems="ignore")
def test_a_call_the_fake_refuses_uses_no_reply(openai_server, client):
    # Regression: a bad request (answered 400 by the fake's own checks) used up a once reply.
    script = openai_server.on(CHAT).once("first", "second")
    with pytest.raises(openai.BadRequestError):
        chat(client, n=0)
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="no-such-model", messages=ASK)
    assert script.pending == 2 and script.call_count == 0
    assert [chat(client).choices[0].message.content for _ in range(2)] == ["first", "second"]
    assert [r.status for r in openai_server.requests] == [400, 404, 200, 200]


def test_a_refused_call_keeps_the_reply_function_for_the_next(openai_server, client):
    seen = []
    openai_server.on(CHAT).once(lambda request: seen.append(request.json["n"]) or f"n={request.json['n']}")
    with pytest.raises(openai.BadRequestError):
        chat(client, n=0)
    assert chat(client, n=1).choices[0].message.content == "n=1"
    assert seen == [0, 1]  # the function ran for both; only the answered call used it up


async def test_async_responses_refused_call_uses_no_reply(openai_server, async_client):
    openai_server.on("responses.create").once("SCRIPTED")
    with pytest.raises(openai.BadRequestError):
        await async_client.responses.create(
            model="gpt-4o", input=[{"type": "function_call_output", "call_id": "call_x", "output": "o"}]
        )
    assert (await async_client.responses.create(model="gpt-4o", input="hi")).output_text == "SCRIPTED"


@pytest.mark.parametrize("reply", [stream_error(2), cut_stream(2), "hello"], ids=["stream_error", "cut_stream", "text"])
def test_a_refused_stream_uses_no_stream_fault_either(openai_server, client, reply):
    # Regression: a stream_error reply was used up by a stream the fake refused (404).
    script = openai_server.on(CHAT).once(reply)
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="no-such-model", messages=ASK, stream=True)
    assert script.pending == 1 and script.call_count == 0
    with pytest.raises((openai.APIError, *stream_cut_errors())) if reply != "hello" else contextlib.nullcontext():
        list(client.chat.completions.create(model="gpt-4o", messages=ASK, stream=True))  # the next call gets it
    assert script.pending == 0 and script.call_count == 1


def test_scripted_faults_are_used_up_by_the_calls_they_fail(openai_server, client):
    openai_server.on(CHAT).once(error(400, "scripted"), "after")
    with pytest.raises(openai.BadRequestError, match="scripted"):
        chat(client)
    assert chat(client).choices[0].message.content == "after"


def test_exhaustive_script_fails_a_call_beyond_its_replies(openai_server, client):
    openai_server.on(CHAT, exhaustive=True).once("only one")
    assert chat(client).choices[0].message.content == "only one"
    with pytest.raises(openai.InternalServerError):
        chat(client)
    [problem] = openai_server.take_problems()
    assert "has no replies left" in problem.summary


def test_assert_all_consumed(openai_server, client):
    openai_server.on(CHAT).once("a", "b")
    chat(client)
    with pytest.raises(AssertionError, match="1 left"):
        openai_server.assert_all_consumed()
    chat(client)
    openai_server.assert_all_consumed()


def test_scripts_are_reset_between_tests_part_1(openai_server, client):
    openai_server.on(CHAT).respond("leaks?")


def test_scripts_are_reset_between_tests_part_2(openai_server, client):
    assert len(openai_server.scripts) == 0
    assert chat(client).choices[0].message.content != "leaks?"


# -- reply kinds -------------------------------------------------------------------------------


def test_parallel_tool_calls(openai_server, client):
    openai_server.on(CHAT).respond(tool_calls(tool_call("get_weather", {"city": "Paris"}), tool_call("get_time", {"tz": "CET"})))
    reply = chat(client)
    calls = reply.choices[0].message.tool_calls
    assert [c.function.name for c in calls] == ["get_weather", "get_time"]
    assert json.loads(calls[1].function.arguments) == {"tz": "CET"}
    assert calls[0].id != calls[1].id and all(c.id.startswith("call_") for c in calls)
    assert reply.choices[0].finish_reason == "tool_calls"
    assert reply.choices[0].message.content is None


def test_tool_call_with_given_id_and_raw_arguments(openai_server, client):
    openai_server.on(CHAT).respond(tool_call("f", '{"broken": ', id="call_fixed"))
    call = chat(client).choices[0].message.tool_calls[0]
    assert call.id == "call_fixed" and call.function.arguments == '{"broken": '


def test_each_choice_gets_its_own_tool_call_id(openai_server, client):
    # Regression: with n > 1 every choice carried the same fresh id.
    openai_server.on(CHAT).respond(tool_call("get_weather", {"city": "Paris"}))
    ids = [c.message.tool_calls[0].id for c in chat(client, n=3).choices]
    assert len(set(ids)) == 3 and all(i.startswith("call_") for i in ids)
    streamed = {d.id for c in chat(client, n=2, stream=True) for ch in c.choices for d in ch.delta.tool_calls or [] if d.id}
    assert len(streamed) == 2


def test_a_given_tool_call_id_is_kept_in_every_choice(openai_server, client):
    openai_server.on(CHAT).respond(tool_call("f", {}, id="call_fixed"))
    assert [c.message.tool_calls[0].id for c in chat(client, n=2).choices] == ["call_fixed", "call_fixed"]


def test_streamed_tool_calls_arrive_as_argument_deltas(openai_server, client):
    arguments = {"city": "Paris", "days": 3, "units": "metric", "details": ["wind", "rain"]}
    openai_server.on(CHAT).respond(tool_calls(tool_call("get_weather", arguments), tool_call("get_time", {"tz": "CET"})))
    chunks = [c for c in chat(client, stream=True) if c.choices]
    pieces: dict[int, list[str]] = {}
    heads = {}
    for chunk in chunks:
        for delta in chunk.choices[0].delta.tool_calls or []:
            if delta.id:
                heads[delta.index] = (delta.id, delta.function.name)
            pieces.setdefault(delta.index, []).append(delta.function.arguments or "")
    assert [name for _, name in heads.values()] == ["get_weather", "get_time"]
    assert len([p for p in pieces[0] if p]) > 2  # split across chunks, like the real API
    assert json.loads("".join(pieces[0])) == arguments
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_stream_helper_accumulates_scripted_tool_calls(openai_server, client):
    openai_server.on(CHAT).respond(tool_call("get_weather", {"city": "Paris"}))
    with client.chat.completions.stream(model="gpt-4o", messages=ASK) as stream:
        events = [e.type for e in stream]
        final = stream.get_final_completion()
    assert "tool_calls.function.arguments.delta" in events
    assert "tool_calls.function.arguments.done" in events
    assert json.loads(final.choices[0].message.tool_calls[0].function.arguments) == {"city": "Paris"}


def test_refusal(openai_server, client):
    openai_server.on(CHAT).respond(refusal("I can't help with that."))
    msg = chat(client).choices[0].message
    assert msg.refusal == "I can't help with that." and msg.content is None
    streamed = [c.choices[0].delta.refusal for c in chat(client, stream=True) if c.choices and c.choices[0].delta.refusal]
    assert "".join(streamed) == "I can't help with that."


def test_refusal_through_parse(openai_server, client):
    class Answer(pydantic.BaseModel):
        value: int

    openai_server.on(CHAT).respond(refusal())
    parsed = client.chat.completions.parse(model="gpt-4o", messages=ASK, response_format=Answer)
    assert parsed.choices[0].message.parsed is None
    assert parsed.choices[0].message.refusal


def test_content_filter_finish(openai_server, client):
    openai_server.on(CHAT).respond(content_filter("Partial answer"))
    choice = chat(client).choices[0]
    assert choice.finish_reason == "content_filter" and choice.message.content == "Partial answer"
    with pytest.raises(openai.ContentFilterFinishReasonError):
        client.chat.completions.parse(model="gpt-4o", messages=[{"role": "user", "content": "Answer in JSON."}], response_format={"type": "json_object"})


def test_message_with_pydantic_content_parses(openai_server, client):
    class Weather(pydantic.BaseModel):
        city: str
        celsius: float

    openai_server.on(CHAT).respond(Weather(city="Paris", celsius=21.5))
    parsed = client.chat.completions.parse(model="gpt-4o", messages=ASK, response_format=Weather)
    assert parsed.choices[0].message.parsed == Weather(city="Paris", celsius=21.5)


def test_message_with_everything(openai_server, client):
    openai_server.on(CHAT).respond(message("Let me check.", tool_calls=[tool_call("lookup", {})], finish_reason="tool_calls"))
    msg = chat(client).choices[0].message
    assert msg.content == "Let me check." and msg.tool_calls[0].function.name == "lookup"


def test_custom_tool_call(openai_server, client):
    openai_server.on(CHAT).respond(custom_tool_call("run_sql", "SELECT 1"))
    call = chat(client).choices[0].message.tool_calls[0]
    assert call.type == "custom" and call.custom.input == "SELECT 1"


def test_legacy_functions_get_a_function_call(openai_server, client):
    openai_server.on(CHAT).respond(tool_call("get_weather", {"city": "Paris"}))
    functions = [{"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]
    choice = chat(client, functions=functions).choices[0]
    assert choice.finish_reason == "function_call"
    assert choice.message.function_call.name == "get_weather"
    assert choice.message.tool_calls is None


def test_dict_reply_is_merged_into_the_response(openai_server, client):
    openai_server.on(CHAT).respond({"choices": [{"message": {"content": "patched"}}], "usage": {"prompt_tokens": 1234}})
    reply = chat(client)
    assert reply.choices[0].message.content == "patched"
    assert reply.usage.prompt_tokens == 1234
    assert reply.id.startswith("chatcmpl-")  # the rest is the fake's own


def test_raw_reply_is_sent_as_is(openai_server):
    openai_server.on(CHAT).respond(json={"not": "a completion"}, status=202)
    loose = openai_server.client()
    response = loose.chat.completions.with_raw_response.create(model="gpt-4o", messages=ASK)
    assert response.status_code == 202
    assert json.loads(response.text) == {"not": "a completion"}
    openai_server.reset()
    openai_server.on(CHAT).respond(raw({"x": 1}, headers={"x-custom": "yes"}))
    assert httpx2.post(
        openai_server.base_url + "/chat/completions", json={"model": "gpt-4o", "messages": ASK}, headers={"Authorization": "Bearer k"}
    ).headers["x-custom"] == "yes"


def test_scripts_work_for_other_endpoints(openai_server, client):
    openai_server.on("models.retrieve").respond({"owned_by": "acme"})
    assert client.models.retrieve("gpt-4o").owned_by == "acme"


# -- scripts are checked when they are written -------------------------------------------------


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda f: f.on("chat.completion.create"), "unknown endpoint 'chat.completion.create' (did you mean chat.completions.create, "),
        (lambda f: f.on("models.retrieve").respond("text"), "models.retrieve cannot reply with 'text'"),
        (lambda f: f.on(CHAT).respond({"choices": [{"mesage": {}}]}), "'mesage' is not a field of Choice"),
        (lambda f: f.on(CHAT).respond({"bogus": 1}), "'bogus' is not a field of ChatCompletion"),
        (lambda f: f.on(CHAT).respond(42), "cannot reply with int 42"),
        (lambda f: f.on(CHAT).once(), "give at least one reply"),
        (lambda f: f.on().respond("hi"), "name the endpoint"),
        (lambda f: f.on("models.list", stream=True), "models.list never streams"),
        (lambda f: f.on(CHAT, message=3), "message must be a substring or a compiled regex"),
        (lambda f: f.on(CHAT).respond(tool_call("")), "name must be a non-empty string"),
        (lambda f: f.on(CHAT).respond(message(finish_reason="done")), "finish_reason"),
        (lambda f: f.on(CHAT).respond("a", json={}), "not both"),
        # dict replies: values must fit the response model's field types
        (lambda f: f.on(CHAT).respond({"choices": "oops"}), "chat.completions.create.choices: 'oops' is not a valid List[Choice]"),
        (
            lambda f: f.on(CHAT).respond({"usage": {"prompt_tokens": "many"}}),
            "chat.completions.create.usage.prompt_tokens: 'many' is not a valid int",
        ),
        (
            lambda f: f.on("embeddings.create").respond({"data": [{"embedding": "notalist"}]}),
            "embeddings.create.data[0].embedding: 'notalist' is neither a list of floats nor base64 float32 data",
        ),
        (lambda f: f.on(CHAT).respond({"object": "chat.completions"}), "chat.completions.create.object: 'chat.completions' is not a valid Literal"),
        (lambda f: f.on(CHAT).respond({"choices": [{"finish_reason": "done"}]}), "chat.completions.create.choices[0].finish_reason"),
        (lambda f: f.on(CHAT).respond({"usage": [1]}), "chat.completions.create.usage: [1] is not a valid CompletionUsage"),
        pytest.param(
            lambda f: f.on(CHAT).respond({"metadata": {"k": 1}}),
            "chat.completions.create.metadata: {'k': 1} is not a valid Dict[str, str]",
            marks=SDK_CHAT_METADATA,
        ),
        # a pydantic model class is not a reply function
        (lambda f: f.on(CHAT).respond(Weather), "cannot reply with the class Weather: pass an instance, e.g. Weather(...)"),
        (lambda f: f.on(CHAT).once("ok", message(Weather)), "pass an instance, e.g. Weather(...)"),
        # replies a stream cannot carry
        (lambda f: f.on(CHAT, stream=True).respond({"usage": {"prompt_tokens": 1}}), "streamed calls get no JSON response"),
    ],
)
def test_malformed_scripts_raise_where_they_are_written(openai_server, build, message):
    with pytest.raises(ScriptError) as excinfo:
        build(openai_server)
    assert message in str(excinfo.value)
    assert all(not script.pending and not script.called for script in openai_server.scripts)


class Weather(pydantic.BaseModel):
    city: str


@SDK_CHAT_METADATA
def test_dict_reply_values_of_the_right_type_are_accepted(openai_server, client):
    openai_server.on(CHAT).respond(
        {"usage": {"prompt_tokens": 9, "completion_tokens_details": None}, "metadata": {"k": "v"}, "service_tier": "flex"}
    )
    reply = chat(client)
    assert (reply.usage.prompt_tokens, reply.service_tier) == (9, "flex")
    openai_server.on("embeddings.create").respond({"data": [{"embedding": [0.6, 0.8]}]})
    assert client.embeddings.create(model="text-embedding-3-small", input="x", dimensions=2, encoding_format="float").data[0].embedding == [0.6, 0.8]
    openai_server.reset()
    packed = base64.b64encode(struct.pack("<2f", 0.5, 0.25)).decode()  # what the SDK asks for by default
    openai_server.on("embeddings.create").respond({"data": [{"embedding": packed}]})
    loose = openai_server.client()  # strict validation checks the wire form, before the SDK decodes base64
    assert loose.embeddings.create(model="text-embedding-3-small", input="x", dimensions=2).data[0].embedding == [0.5, 0.25]
    # Responses output items are a union of models: a partial item is merged as given.
    openai_server.on("responses.create").respond({"output": [{"status": "completed"}]})
    assert client.responses.create(model="gpt-4o", input="hi").output[0].status == "completed"


def test_stream_scripts_take_replies_a_stream_can_carry(openai_server, client):
    openai_server.on(CHAT, stream=True).respond(tool_call("lookup", {"q": "x"}))
    openai_server.on("responses.create", stream=True).respond(custom_tool_call("run_sql", "SELECT 1"))
    events = list(client.responses.create(model="gpt-4o", input="hi", stream=True))
    item = next(e.item for e in events if e.type == "response.output_item.done")
    assert (item.type, item.input) == ("custom_tool_call", "SELECT 1")


CUSTOM_TOOL = [{"type": "custom", "custom": {"name": "run_sql"}}]


@pytest.mark.parametrize("scripted", [True, False], ids=["scripted", "default-rule"])
def test_custom_tool_calls_stream_in_the_apis_shape(openai_server, scripted):
    # Regression: the fake's own rule crashed (500) on a streamed custom tool call.
    if scripted:
        openai_server.on(CHAT, stream=True).respond(custom_tool_call("run_sql", "SELECT name FROM users WHERE id = 1"))
    loose = openai_server.client()  # the SDK's chunk type has no custom variant: strict clients reject it
    ask = [{"role": "user", "content": "run_sql please"}]
    chunks = [c for c in loose.chat.completions.create(model="gpt-4o", messages=ask, tools=CUSTOM_TOOL, stream=True) if c.choices]
    deltas = [d.model_dump() for c in chunks for d in c.choices[0].delta.tool_calls or []]
    head, *rest = deltas
    assert head["type"] == "custom" and head["custom"] == {"name": "run_sql", "input": ""} and head["id"].startswith("call_")
    streamed = "".join(d["custom"]["input"] for d in rest)
    plain = loose.chat.completions.create(model="gpt-4o", messages=ask, tools=CUSTOM_TOOL).choices[0].message.tool_calls[0]
    expected = "SELECT name FROM users WHERE id = 1" if scripted else plain.custom.input  # plain calls: unscripted
    assert streamed == expected and len(rest) > 1
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_strict_clients_reject_streamed_custom_tool_calls_as_against_the_api(openai_server, client):
    openai_server.on(CHAT).respond(custom_tool_call("run_sql", "SELECT 1"))
    with pytest.raises(openai.APIResponseValidationError):
        list(chat(client, stream=True, tools=CUSTOM_TOOL))


def test_without_pytest(tmp_path):
    with FakeOpenAI() as fake:
        fake.on(CHAT).respond("standalone")
        assert chat(fake.client()).choices[0].message.content == "standalone"


# -- endpoints by path, models the catalog cannot have -------------------------------------------


@pytest.mark.parametrize(
    ("path", "endpoint"),
    [
        ("/v1/chat/completions", "chat.completions.create"),
        ("/chat/completions", "chat.completions.create"),
        ("POST /v1/chat/completions", "chat.completions.create"),
        ("GET /v1/chat/completions", "chat.completions.list"),
        ("/v1/responses/resp_123/input_items", "responses.input_items.list"),
        ("/v1/responses/{response_id}/input_items", "responses.input_items.list"),
        ("/v1/embeddings/", "embeddings.create"),
    ],
)
def test_on_a_path_scripts_its_endpoint(openai_server, path, endpoint):
    assert openai_server.on(path).endpoint == endpoint


def test_on_a_path_answers_like_the_endpoint(openai_server, client):
    openai_server.on("/v1/chat/completions").respond("by path")
    assert chat(client).choices[0].message.content == "by path"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/v1/chat/completions/{completion_id}", r"chat.completions.delete \(DELETE\) or chat.completions.retrieve \(GET\) or chat.completions.update \(POST\)"),
        ("/v1/nope", "no endpoint has the path '/v1/nope'"),
        ("PUT /v1/embeddings", "no endpoint has the path '/v1/embeddings' for PUT"),
    ],
)
def test_an_ambiguous_or_unknown_path_is_refused(openai_server, path, message):
    with pytest.raises(ScriptError, match=message):
        openai_server.on(path)


def test_a_model_no_catalog_has_is_refused_at_install(openai_server):
    with pytest.raises(ScriptError, match=r"on\(model='gpt-9-imaginary'\): no such model .*openai_server.state.models.add\('gpt-9-imaginary'\)"):
        openai_server.on(CHAT, model="gpt-9-imaginary")
    assert not openai_server.scripts  # nothing installed


def test_a_model_added_first_may_be_scripted(openai_server, client):
    openai_server.state.models.add("my-finetune")
    openai_server.on(CHAT, model="my-finetune").respond("tuned")
    assert client.chat.completions.create(model="my-finetune", messages=ASK).choices[0].message.content == "tuned"


@pytest.mark.openai_fake(models=["gpt-4o"])
def test_a_catalog_model_the_test_adds_later_may_be_scripted_before(openai_server, client):
    """gpt-4o-mini is not in this test's catalog (models=) when the script is made, but the
    provider has it: the test may add it later, so the script is not refused."""
    openai_server.on(CHAT, model="gpt-4o-mini").respond("mini")
    openai_server.state.models.add("gpt-4o-mini")
    assert client.chat.completions.create(model="gpt-4o-mini", messages=ASK).choices[0].message.content == "mini"


def test_fine_tunes_of_catalog_models_may_be_scripted(openai_server):
    openai_server.on(CHAT, model="ft:gpt-4o-mini-2024-07-18:org::abc123")


def test_model_not_found_keeps_the_api_text_and_hints_in_a_header(openai_server, client):
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-9-imaginary", messages=ASK)
    assert caught.value.body == {
        "message": "The model `gpt-9-imaginary` does not exist or you do not have access to it.",
        "type": "invalid_request_error",
        "param": None,
        "code": "model_not_found",
    }
    assert caught.value.response.headers["x-fake-hint"] == (
        "pytest-openai-fake: model \"gpt-9-imaginary\" is not in this test's catalog; add it with "
        "@pytest.mark.openai_fake(models=[..., \"gpt-9-imaginary\"]) or openai_server.state.models.add(\"gpt-9-imaginary\")"
    )
    assert openai_server.requests.last.response.headers["x-fake-hint"] == caught.value.response.headers["x-fake-hint"]


def test_a_huge_unknown_model_is_a_404_with_a_short_hint(client):
    # The whole id in the header made a 100 kB head, which the SDK's HTTP client refuses.
    model = "m" * 100_000
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model=model, messages=ASK)
    assert caught.value.body["code"] == "model_not_found" and model in caught.value.body["message"]
    hint = caught.value.response.headers["x-fake-hint"]
    assert len(hint) < 1000, f"a hint of {len(hint)} characters"
    assert f'"{"m" * 200}..."' in hint


@pytest.mark.skipif(not hasattr(openai.resources.responses.Responses, "compact"), reason="this openai SDK has no responses.compact")
def test_a_null_model_the_sdk_allows_gets_the_404_not_a_500(client):
    # responses.compact types ``model`` as Required[... | None]: null reaches the model lookup.
    with pytest.raises(openai.NotFoundError) as caught:
        client.responses.compact(model=None, input="hi")
    assert caught.value.body["code"] == "model_not_found"


def test_the_hint_header_escapes_what_a_header_cannot_carry(openai_server, client):
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="modèle\nX-Injected: 1", messages=ASK)
    assert "x-injected" not in caught.value.response.headers
    assert '"mod\\u00e8le\\nX-Injected: 1"' in caught.value.response.headers["x-fake-hint"]
