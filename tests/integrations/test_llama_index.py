"""A llama-index application's own tests (it pins openai<3), running on the plugin's fixtures."""

from __future__ import annotations

import pytest

APP = '''
"""The application: a llama-index OpenAI LLM that summarises and looks up the weather."""
from llama_index.core.llms import ChatMessage
from llama_index.core.tools import FunctionTool
from llama_index.llms.openai import OpenAI


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}"


WEATHER = FunctionTool.from_defaults(fn=get_weather)


def make_llm(**kwargs):
    return OpenAI(model="gpt-4o-mini", max_retries=0, **kwargs)


def summarise(llm, text):
    return llm.complete(f"Summarise: {text}").text


def stream_answer(llm, question):
    return "".join(chunk.delta or "" for chunk in llm.stream_chat([ChatMessage(role="user", content=question)]))


def weather_tool_calls(llm, question):
    response = llm.chat_with_tools([WEATHER], user_msg=question)
    return [(call.tool_name, call.tool_kwargs) for call in llm.get_tool_calls_from_response(response, error_on_no_tool_call=False)]


async def asummarise(llm, text):
    return (await llm.acomplete(f"Summarise: {text}")).text
'''

TESTS = '''
import openai
import pytest

from app import asummarise, make_llm, stream_answer, summarise, weather_tool_calls
from pytest_openai_fake import error, tool_call


@pytest.fixture
def llm(openai_server):
    return make_llm(api_key="sk-test", api_base=openai_server.base_url)


def test_summary_is_the_scripted_reply(openai_server, llm):
    openai_server.on("chat.completions.create").once("A short summary.")
    assert summarise(llm, "a long text") == "A short summary."
    sent = openai_server.requests.last.json
    assert sent["model"] == "gpt-4o-mini" and sent["messages"][-1] == {"role": "user", "content": "Summarise: a long text"}


def test_unscripted_reply_is_deterministic(openai_server, llm):
    first = summarise(llm, "same")
    assert first and summarise(llm, "same") == first


def test_streamed_answer(openai_server, llm):
    openai_server.on("chat.completions.create").once("Streamed words arrive in order.")
    assert stream_answer(llm, "go") == "Streamed words arrive in order."
    assert openai_server.requests.last.json["stream"] is True


def test_tool_call(openai_server, llm):
    openai_server.on("chat.completions.create").once(tool_call("get_weather", {"city": "Paris"}))
    assert weather_tool_calls(llm, "Weather in Paris?") == [("get_weather", {"city": "Paris"})]
    assert openai_server.requests.last.json["tools"][0]["function"]["name"] == "get_weather"


def test_api_error_reaches_the_app(openai_server, llm):
    openai_server.on("chat.completions.create").once(error(429))
    with pytest.raises(openai.RateLimitError):
        summarise(llm, "x")


async def test_async(openai_server, llm):
    openai_server.on("chat.completions.create").once("async summary")
    assert await asummarise(llm, "x") == "async summary"
'''


def test_llama_index_app_tests_pass_with_the_plugin(pytester: pytest.Pytester, require) -> None:
    require("llama_index.llms.openai", "llama-index-llms-openai")
    pytester.makepyfile(app=APP, test_app=TESTS)
    pytester.makeini("[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning", timeout=120)
    result.assert_outcomes(passed=6)
