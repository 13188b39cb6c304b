"""RequestLog and CapturedRequest: immutable, thread-safe, easy to assert on."""

from __future__ import annotations

import dataclasses
import re
import threading

import openai
import pytest

from pytest_openai_fake import (
    CapturedRequest,
    CapturedResponse,
    FakeOpenAI,
    RequestLog,
    StreamSummary,
    cut_stream,
    drop,
    error,
    stream_error,
    tool_call,
    tool_calls,
)
from pytest_openai_fake.resources import _png
from pytest_openai_fake.sdk import stream_cut_errors


def captured(index: int, endpoint: str | None = "chat.completions.create", body: bytes = b'{"model": "gpt-4o"}', status: int = 200) -> CapturedRequest:
    return CapturedRequest(
        method="POST", path="/v1/chat/completions", query={}, headers={"authorization": "Bearer x"},
        body=body, endpoint=endpoint, status=status, index=index,
    )


def test_captured_requests_are_immutable():
    request = captured(0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.status = 500  # type: ignore[misc]


def test_json_and_model_are_parsed_lazily():
    assert captured(0).json == {"model": "gpt-4o"}
    assert captured(0).model == "gpt-4o"
    assert captured(0, body=b"not json").json is None
    assert captured(0, body=b"").json is None


def test_last_first_len_index_iter():
    log = RequestLog()
    assert len(log) == 0 and not log
    with pytest.raises(IndexError, match="no OpenAI requests were captured"):
        log.last
    for i in range(3):
        log.append(captured(i))
    assert log.last.index == 2 and log.first.index == 0
    assert log[1].index == 1 and [r.index for r in log[1:]] == [1, 2]
    assert [r.index for r in log] == [0, 1, 2]
    log.clear()
    assert len(log) == 0


def test_filter():
    log = RequestLog([captured(0), captured(1, endpoint="models.list"), captured(2, status=400)])
    assert [r.index for r in log.filter(endpoint="chat.completions.create")] == [0, 2]
    assert [r.index for r in log.filter(status=400)] == [2]
    assert [r.index for r in log.filter(path=re.compile(r"/chat/"))] == [0, 1, 2]
    assert [r.index for r in log.filter(lambda r: r.index > 0, endpoint="models.list")] == [1]
    assert [r.index for r in log.filter(method="post", model="gpt-4o")] == [0, 1, 2]
    assert log.endpoints == ["chat.completions.create", "models.list", "chat.completions.create"]


def test_concurrent_requests_are_all_captured(openai_server: FakeOpenAI):
    client = openai_server.client()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(10):
                client.models.retrieve("gpt-4o")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    assert len(openai_server.requests) == 40
    assert sorted(r.index for r in openai_server.requests) == list(range(40))


def test_summary_is_one_short_line_with_the_last_message():
    body = b'{"model": "gpt-4o", "messages": [{"role": "system", "content": "You are a very long system prompt"},' + b'{"role": "user", "content": "' + b"x" * 300 + b'"}]}'
    line = captured(0, body=body).summary(width=60)
    assert "\n" not in line
    assert line.startswith('POST /v1/chat/completions model=gpt-4o -> 200 user: "xxx')
    assert "system prompt" not in line  # the last message, not the first bytes of the body
    assert '..."  (2 messages)' in line


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}, {"role": "tool", "tool_call_id": "c1", "content": "42"}]}, "tool [c1]: 42  (3 messages)"),
        ({"messages": [{"role": "user", "content": [{"type": "text", "text": "look"}, {"type": "image_url", "image_url": {"url": "x"}}]}]}, 'user: "look [image_url]"'),
        ({"input": "hello"}, 'input: "hello"'),
        ({"input": [{"role": "user", "content": "q"}, {"type": "function_call_output", "call_id": "call_1", "output": "sunny"}]}, "function_call_output [call_1]: sunny  (2 items)"),
        ({"input": ["a", "b"]}, 'input: "b"  (2 items)'),
        ({"prompt": "Once upon"}, 'prompt: "Once upon"'),
        ({"name": "store"}, '{"name":"store"}'),
    ],
)
def test_describe_request_shows_the_last_message_or_input(body, said):
    import json

    assert captured(0, body=json.dumps({"model": "m", **body}).encode()).describe_request() == said


def test_a_captured_response_keeps_status_headers_and_json(openai_server: FakeOpenAI, client):
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    request = openai_server.requests.last
    response = request.response
    assert isinstance(response, CapturedResponse)
    assert response.status == 200 and response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"].startswith("req_")
    assert response.json["object"] == "chat.completion"
    assert response.text == response.json["choices"][0]["message"]["content"]
    assert response.tool_calls == [] and response.error is None and response.stream is None
    assert request.script is None and request.answered_by == "default"
    assert request.to_dict()["response"]["json"] == response.json
    with pytest.raises(dataclasses.FrozenInstanceError):
        response.status = 500  # type: ignore[misc]


def test_the_answering_script_and_its_tool_calls_are_captured(openai_server: FakeOpenAI, client):
    script = openai_server.on("chat.completions.create").once(tool_call("get_weather", {"city": "Paris"}))
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "weather?"}])
    request = openai_server.requests.last
    assert request.script is script and request.answered_by == script.name
    assert request.response.tool_calls == [("get_weather", '{"city":"Paris"}')]
    assert request.response.describe() == 'get_weather({"city":"Paris"})'
    assert request.to_dict()["script"] == script.name


def test_a_stream_is_summarised_from_its_frames(openai_server: FakeOpenAI, client):
    openai_server.on("chat.completions.create", message="text").respond("Hello there, friend.")
    openai_server.on("chat.completions.create", message="tools").respond(tool_calls(tool_call("a", {"x": 1}), tool_call("b")))
    chunks = list(client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "text"}], stream=True))
    summary = openai_server.requests.last.response.stream
    assert isinstance(summary, StreamSummary)
    assert summary.text == "Hello there, friend." == openai_server.requests.last.response.text
    assert summary.finish_reason == "stop" and summary.chunks == len(chunks) and not summary.cut
    list(client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "tools"}], stream=True))
    response = openai_server.requests.last.response
    assert response.tool_calls == [("a", '{"x":1}'), ("b", "{}")]
    assert response.stream.finish_reason == "tool_calls"
    assert response.json is None and response.frames


def test_a_responses_stream_is_summarised(openai_server: FakeOpenAI, client):
    openai_server.on("responses.create").respond(tool_call("lookup", {"q": "x"}))
    list(client.responses.create(model="gpt-4o", input="find x", stream=True))
    response = openai_server.requests.last.response
    assert response.tool_calls == [("lookup", '{"q":"x"}')]
    assert response.stream.finish_reason == "completed"


def test_a_cut_or_failed_stream_says_so(openai_server: FakeOpenAI, client):
    openai_server.on("chat.completions.create", message="cut").respond(cut_stream(2, "abcdefghijklmnop " * 5))
    openai_server.on("chat.completions.create", message="err").respond(stream_error(1, message="boom", type="server_error"))
    with pytest.raises(stream_cut_errors()):
        list(client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "cut"}], stream=True))
    summary = openai_server.requests.last.response.stream
    assert summary.cut and summary.chunks == 2
    assert "then the connection was cut" in openai_server.requests.last.response.describe()
    with pytest.raises(openai.APIError, match="boom"):
        list(client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "err"}], stream=True))
    response = openai_server.requests.last.response
    assert response.error == {"message": "boom", "type": "server_error", "param": None, "code": None}
    assert response.describe().endswith("then error server_error: boom")


def test_errors_and_drops_are_described(openai_server: FakeOpenAI, client):
    openai_server.on("models.list").once(error(429), drop())
    with pytest.raises(openai.RateLimitError):
        client.models.list()
    assert openai_server.requests.last.response.error["code"] == "rate_limit_exceeded"
    assert openai_server.requests.last.response.describe().startswith("requests (rate_limit_exceeded): Rate limit reached")
    with pytest.raises(openai.APIConnectionError):
        client.models.list()
    assert openai_server.requests.last.status == 0
    assert openai_server.requests.last.response.describe() == "connection dropped (drop())"


def test_binary_replies_are_not_kept(openai_server: FakeOpenAI, client):
    client.embeddings.create(model="text-embedding-3-small", input=["a", "b"], encoding_format="float")
    response = openai_server.requests.last.response
    assert response.describe() == "2 embedding(s) of 1536 dimensions"
    png = _png.encode(2, 2, [b"\x00\x00\x00\x00" * 2] * 2, alpha=True)
    client.images.edit(image=("a.png", png, "image/png"), prompt="add a hat", model="dall-e-2", size="256x256")
    assert openai_server.requests.last.describe_request().startswith("multipart upload, ")


def test_binary_bodies_are_summarised_not_kept():
    from werkzeug.wrappers import Response

    response = CapturedResponse.of(Response(b"\x89PNG" + b"\x00" * 100, content_type="image/png"))
    assert response.body is None and response.json is None and response.text is None
    assert (response.content_type, response.size) == ("image/png", 104)
    assert response.describe() == "image/png, 104 bytes"
