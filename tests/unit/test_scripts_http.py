"""Scripts installed over HTTP (``/__fake/scripts``), as a non-Python client would."""

from __future__ import annotations

import httpx2
import openai
import pytest

from pytest_openai_fake import FakeOpenAI
from pytest_openai_fake.sdk import stream_cut_errors

ASK = [{"role": "user", "content": "What is the weather in Paris?"}]


def install(fake: FakeOpenAI, spec: object) -> httpx2.Response:
    return httpx2.post(fake.url + "/__fake/scripts", json=spec)


def chat(client, **kwargs):
    return client.chat.completions.create(model="gpt-4o", messages=ASK, **kwargs)


def test_install_replies_over_http(openai_server, client):
    response = install(
        openai_server,
        {
            "endpoint": "chat.completions.create",
            "message": "weather",
            "once": [
                {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]},
                "It is sunny.",
            ],
        },
    )
    assert response.status_code == 200
    assert response.json()["object"] == "script" and len(response.json()["pending"]) == 2
    first = chat(client).choices[0]
    assert first.finish_reason == "tool_calls"
    assert first.message.tool_calls[0].function.arguments == '{"city":"Paris"}'
    assert chat(client).choices[0].message.content == "It is sunny."
    listed = httpx2.get(openai_server.url + "/__fake/scripts").json()["data"]
    assert listed[0]["calls"] == 2 and listed[0]["pending"] == []


def test_install_faults_over_http(openai_server):
    client = openai_server.client(max_retries=2)
    install(openai_server, {"once": [{"error": {"status": 429, "retry_after": 0.001}}, {"error": {"status": 500, "retry_after": 0.001}}]})
    assert chat(client).choices
    assert [r.status for r in openai_server.requests] == [429, 500, 200]


def test_stream_faults_and_delays_over_http(openai_server, client):
    install(
        openai_server,
        {
            "endpoint": "chat.completions.create",
            "stream": True,
            "once": [
                {"cut_stream": 2},
                {"stream_error": 1, "error": {"message": "boom"}},
                {"delay": {"first_chunk": 0.01}, "reply": "late"},
                {"drop": True},
            ],
            "respond": {"default": True},
        },
    )
    with pytest.raises(stream_cut_errors()):
        list(chat(client, stream=True))
    with pytest.raises(openai.APIError, match="boom"):
        list(chat(client, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chat(client, stream=True) if c.choices) == "late"
    with pytest.raises(stream_cut_errors()):
        list(chat(client, stream=True))
    assert list(chat(client, stream=True))


def test_patch_raw_and_regex_over_http(openai_server, client):
    install(openai_server, {"endpoint": "chat.completions.create", "message_regex": "(?i)^what", "respond": {"patch": {"usage": {"prompt_tokens": 7}}}})
    install(openai_server, {"endpoint": "models.list", "respond": {"json": {"object": "list", "data": []}, "status": 200}})
    assert chat(client).usage.prompt_tokens == 7
    assert list(client.models.list()) == []


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"endpoint": "chat.nope"}, "unknown endpoint 'chat.nope'"),
        ({"endpoint": "chat.completions.create", "once": [42]}, "a reply must be a string or an object"),
        ({"endpoint": "chat.completions.create", "once": [{"what": 1}]}, "cannot read reply"),
        ({"endpoint": "chat.completions.create", "once": [{"error": {"status": 200}}]}, "status must be an HTTP error status"),
        ({"endpoint": "chat.completions.create", "surprise": 1}, "unknown keys ['surprise']"),
        ({"endpoint": "models.list", "once": ["text"]}, "models.list cannot reply with 'text'"),
        ({"message_regex": "("}, "is not a regex"),
        (
            {"endpoint": "chat.completions.create", "respond": {"patch": {"usage": {"prompt_tokens": "many"}}}},
            "chat.completions.create.usage.prompt_tokens: 'many' is not a valid int",
        ),
        ({"endpoint": "chat.completions.create", "stream": True, "once": ["ok", {"patch": {}}]}, "streamed calls get no JSON response"),
        ([], "must be a JSON object"),
    ],
)
def test_bad_scripts_get_a_400_and_install_nothing(openai_server, spec, message):
    response = install(openai_server, spec)
    assert response.status_code == 400
    error = response.json()["error"]
    assert message in error["message"] and error["type"] == "invalid_request_error"
    assert len(openai_server.scripts) == 0


def test_clear_and_reset_remove_scripts(openai_server, client):
    install(openai_server, {"endpoint": "chat.completions.create", "respond": "x"})
    assert httpx2.delete(openai_server.url + "/__fake/scripts").json() == {"deleted": True, "count": 1}
    install(openai_server, {"endpoint": "chat.completions.create", "respond": "x"})
    httpx2.post(openai_server.url + "/__fake/reset")
    assert chat(client).choices[0].message.content != "x"
    assert httpx2.get(openai_server.url + "/__fake/scripts").json()["data"] == []


ROUND_TRIP_SPECS = [
    "It is sunny.",
    {"content": "hi", "finish_reason": "length"},
    {"tool_calls": [{"name": "get_weather", "arguments": '{"city":"Paris"}', "id": "call_1"}]},
    {"error": {"status": 429, "retry_after": 0.5}},
    {"error": {"status": 400, "message": "nope", "code": "bad", "param": "model", "headers": {"x-a": "1"}}},
    {"drop": True},
    {"default": True},
    {"patch": {"usage": {"prompt_tokens": 1}}},
    {"json": {"x": 1}, "status": 418, "headers": {"x-b": "2"}},
    {"cut_stream": 2, "reply": "streamed"},
    {"stream_error": 1, "error": {"message": "boom", "type": "server_error", "status": 500}, "reply": {"default": True}},
    {"delay": {"seconds": 0.25}, "reply": "late"},
    {"delay": {"first_chunk": 0.1, "per_chunk": 0.01}, "reply": {"cut_stream": 3, "reply": {"default": True}}},
]


@pytest.mark.openai_fake(unused_replies="ignore")  # the scripts are only listed, never called
def test_listed_scripts_are_json_that_reinstalls_the_same_outcomes(openai_server):
    """``GET /__fake/scripts`` shows each reply in the JSON form ``POST`` takes, not a Python repr."""
    from pytest_openai_fake.scripting import outcome_from_spec

    assert install(openai_server, {"endpoint": "chat.completions.create", "once": ROUND_TRIP_SPECS, "respond": "always"}).status_code == 200
    listed = httpx2.get(openai_server.url + "/__fake/scripts").json()["data"][0]
    assert listed["always"] == "always"
    assert len(listed["pending"]) == len(ROUND_TRIP_SPECS)
    for shown, given in zip(listed["pending"], ROUND_TRIP_SPECS):
        assert "<" not in repr(shown), shown  # no "<Outcome ...>" reprs
        assert outcome_from_spec(shown) == outcome_from_spec(given), (shown, given)


def test_a_reply_function_is_listed_by_name(openai_server):
    def sunny(request):
        return "sunny"

    openai_server.on("chat.completions.create").respond(sunny)
    listed = httpx2.get(openai_server.url + "/__fake/scripts").json()["data"][0]
    assert listed["always"] == {"function": sunny.__qualname__}
