"""Scripted replies through the real SDK: once/respond, matching, reply kinds, streaming."""

from __future__ import annotations

import json
import re

import httpx2
import openai
import pydantic
import pytest

from pytest_openai_fake import (
    DEFAULT,
    FakeOpenAI,
    ScriptError,
    content_filter,
    custom_tool_call,
    message,
    raw,
    refusal,
    tool_call,
    tool_calls,
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


@pytest.mark.openai_fake(strict=False)
def test_callable_that_raises_fails_loudly(openai_server, client):
    def broken(request):
        raise KeyError("oops")

    openai_server.on(CHAT).respond(broken)
    with pytest.raises(openai.InternalServerError, match="script failed"):
        chat(client)
    problems = openai_server.take_problems()
    assert len(problems) == 1 and "KeyError('oops')" in problems[0].summary
    assert "Traceback" in problems[0].detail


@pytest.mark.openai_fake(strict=False)
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


# -- strictness --------------------------------------------------------------------------------


@pytest.mark.openai_fake(strict=False)
def test_strict_script_fails_a_call_beyond_its_replies(openai_server, client):
    openai_server.on(CHAT, strict=True).once("only one")
    assert chat(client).choices[0].message.content == "only one"
    with pytest.raises(openai.InternalServerError):
        chat(client)
    [problem] = openai_server.take_problems()
    assert "is strict and has no replies left" in problem.summary


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
        client.chat.completions.parse(model="gpt-4o", messages=ASK, response_format={"type": "json_object"})


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
    ],
)
def test_malformed_scripts_raise_where_they_are_written(openai_server, build, message):
    with pytest.raises(ScriptError) as excinfo:
        build(openai_server)
    assert message in str(excinfo.value)


def test_without_pytest(tmp_path):
    with FakeOpenAI() as fake:
        fake.on(CHAT).respond("standalone")
        assert chat(fake.client()).choices[0].message.content == "standalone"
