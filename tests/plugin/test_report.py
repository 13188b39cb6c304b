"""The "OpenAI calls" and "OpenAI scripts not used" sections of a failed test's report."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

AGENT_TEST = """
import openai
import pytest
from pytest_openai_fake import tool_call

SYSTEM = {"role": "system", "content": "You are a helpful assistant with the same long system prompt every turn."}

def test_agent(openai_server, openai_client):
    openai_server.on("chat.completions.create", message="weather").once(tool_call("get_weather", {"city": "Paris"}))
    openai_server.on("chat.completions.create", model="gpt-4o-mini").respond("never")
    openai_server.on("models.list").once({}, {})
    messages = [SYSTEM, {"role": "user", "content": "What's the weather in Paris?"}]
    reply = openai_client.chat.completions.create(model="gpt-4o", messages=messages)
    call = reply.choices[0].message.tool_calls[0]
    messages += [reply.choices[0].message.model_dump(exclude_none=True), {"role": "tool", "tool_call_id": "call_1", "content": "18C"}]
    openai_client.chat.completions.create(model="gpt-4o", messages=messages)
    openai_client.models.list()
    with pytest.raises(openai.NotFoundError):
        openai_client.chat.completions.create(model="gpt-5-nope", messages=messages)
    assert False, "deliberate"
"""


def test_the_report_tells_the_story_of_the_test(pytester: pytest.Pytester):
    pytester.makepyfile(AGENT_TEST)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- OpenAI calls -*",
            "  1. POST /v1/chat/completions model=gpt-4o -> 200  [[]<Script script_1 on(chat.completions.create, message='weather')>[]]",
            '       > user: "What\'s the weather in Paris?"  (2 messages)',
            '       < get_weather({"city":"Paris"})',
            "  2. POST /v1/chat/completions model=gpt-4o -> 200  [[]default[]]",
            "       > tool [[]call_1[]]: 18C  (4 messages)",
            '       < "*"',
            "  3. GET /v1/models -> 200  [[]<Script script_3 on(models.list)>[]]",
            "       < list of * model(s)",
            "  4. POST /v1/chat/completions model=gpt-5-nope -> 404  [[]default[]]",
            "       < invalid_request_error (model_not_found): The model `gpt-5-nope` does not exist or you do not have access to it.",
            (
                '       ! pytest-openai-fake: model "gpt-5-nope" is not in this test\'s catalog; add it with '
                '@pytest.mark.openai_fake(models=[[]..., "gpt-5-nope"[]]) or openai_server.state.models.add("gpt-5-nope")'
            ),
            "*- OpenAI scripts not used -*",
            "  <Script script_2 on(chat.completions.create, model='gpt-4o-mini')>: matched no call",
            "  <Script script_3 on(models.list)>: 1 once reply unused after 1 call(s): <Outcome patch {}>",
        ]
    )
    output = result.stdout.str()
    assert "long system prompt" not in output.split("- OpenAI calls -")[1]  # the last message, not the first bytes
    assert "request body:" not in output  # full bodies only with -vv


def test_vv_shows_the_full_bodies(pytester: pytest.Pytester):
    pytester.makepyfile(AGENT_TEST)
    result = pytester.runpytest("-p", "no:cacheprovider", "-vv")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- OpenAI calls -*",
            "  1. POST /v1/chat/completions model=gpt-4o -> 200*",
            "       request body:",
            "         {",
            '           "messages": [[]',
            "*same long system prompt every turn*",
            "       response body:",
            '*"object": "chat.completion",*',
        ]
    )


def test_a_stream_is_summarised_in_the_report(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        from pytest_openai_fake import cut_stream

        def test_x(openai_server, openai_client):
            openai_server.on("chat.completions.create").respond("Streaming words here.")
            list(openai_client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "go"}], stream=True))
            assert False
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(
        [
            "  1. POST /v1/chat/completions model=gpt-4o stream -> 200  [[]<Script script_1 on(chat.completions.create)>[]]",
            '       < stream of * chunks "Streaming words here."',
        ]
    )


def test_no_section_without_calls_and_none_for_passing_tests(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        def test_fails_without_calls(openai_server):
            assert False

        def test_passes(openai_server, openai_client):
            openai_server.on("models.list").once({})
            openai_client.models.list()
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-rA")
    result.assert_outcomes(failed=1, passed=1)
    assert "OpenAI calls" not in result.stdout.str()
    assert "OpenAI scripts not used" not in result.stdout.str()


def test_scripts_left_unused_are_listed_even_without_calls(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        def test_x(openai_server):
            openai_server.on("chat.completions.create", message="hello").once("hi")
            assert False
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert "OpenAI calls" not in result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*- OpenAI scripts not used -*",
            "  <Script script_1 on(chat.completions.create, message='hello')>: matched no call; 1 once reply unused: <Outcome reply 'hi'>",
        ]
    )


def test_a_teardown_failure_gets_the_section_once(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        import openai
        import pytest

        def test_x(openai_client):
            with pytest.raises(openai.NotFoundError):
                openai_client.post("/no-such-family/nope", cast_to=object, body={})
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_x*", "*- OpenAI calls -*", "  1. POST /v1/no-such-family/nope -> 404  [[]default[]]"])
    assert result.stdout.str().count("- OpenAI calls -") == 1


def test_several_providers_get_a_section_each(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        def test_x(openai_servers):
            openai_servers["openai"].client().models.list()
            openai_servers["mistral"].client().models.list()
            assert False
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*- OpenAI calls (openai) -*", "  1. GET /v1/models -> 200*", "*- OpenAI calls (mistral) -*", "  1. GET /v1/models -> 200*"])
