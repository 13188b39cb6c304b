from __future__ import annotations

import openai
import pydantic
import pytest

from pytest_openai_fake import (
    DEFAULT,
    CapturedRequest,
    CapturedResponse,
    FakeOpenAI,
    Reply,
    cut_stream,
    delayed,
    error,
    message,
    tool_call,
)


class Weather(pydantic.BaseModel):
    city: str


def reply_for(request: CapturedRequest) -> Reply | None:
    if request.model == "gpt-4o":
        return "for gpt-4o"
    return None


@pytest.mark.openai_fake(models=["gpt-4o"], problems="fail")
def test_typed(openai_server: FakeOpenAI, openai_client: openai.OpenAI) -> None:
    replies: list[Reply] = ["text", tool_call("f", {"a": 1}), message("x"), Weather(city="Paris"), {"usage": {}}, error(429), DEFAULT, reply_for]
    openai_server.on("chat.completions.create", exhaustive=True).once(*replies)
    openai_server.on("responses.create").respond(cut_stream(2, "partial"))
    openai_server.on("models.list").respond(delayed(reply_for, seconds=0.1))
    openai_client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    last: CapturedRequest = openai_server.requests.last
    response: CapturedResponse | None = last.response
    assert response is not None
    status: int = response.status
    text: str | None = response.text
    calls: list[tuple[str, str]] = response.tool_calls
    assert status and (text or calls)
