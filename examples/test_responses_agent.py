"""The Responses API: a tool-using agent that keeps its state on the server."""

import json

import openai
import pytest

from pytest_openai_fake import failed, tool_call

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": False},
    "strict": True,
}


def ask(client: openai.OpenAI, question: str) -> str:
    """Code under test: runs tools until the model answers, continuing with previous_response_id."""
    response = client.responses.create(model="gpt-4o", input=question, tools=[WEATHER])
    for _ in range(5):
        calls = [item for item in response.output if item.type == "function_call"]
        if not calls:
            return response.output_text
        outputs = [
            {"type": "function_call_output", "call_id": call.call_id, "output": f"Sunny in {json.loads(call.arguments)['city']}"}
            for call in calls
        ]
        response = client.responses.create(model="gpt-4o", previous_response_id=response.id, input=outputs, tools=[WEATHER])
    raise RuntimeError("no answer")


def test_agent_with_scripted_turns(openai_server, openai_client):
    openai_server.on("responses.create").once(tool_call("get_weather", {"city": "Paris"}), "It is sunny in Paris.")
    assert ask(openai_client, "Weather in Paris?") == "It is sunny in Paris."
    second = openai_server.requests.last.json
    assert second["input"][0]["type"] == "function_call_output"
    assert second["previous_response_id"].startswith("resp_")


def test_agent_without_a_script(openai_client):
    """No script: the fake calls a tool the question names, then answers with text."""
    assert ask(openai_client, "Use get_weather for Paris")


def test_background_response(openai_server, openai_client):
    response = openai_client.responses.create(model="gpt-4o", input="Write a report", background=True)
    assert response.status == "queued"
    openai_server.clock.advance(2)  # the fake clock drives background work; no sleeping
    assert openai_client.responses.retrieve(response.id).status == "completed"


def test_resume_a_background_stream(openai_client):
    """A dropped background stream resumes where it stopped: starting_after the last sequence_number."""
    stream = openai_client.responses.create(model="gpt-4o", input="Write a report", background=True, stream=True)
    seen = []
    for event in stream:  # read the first few events, then "lose" the connection
        seen.append(event)
        if len(seen) == 3:
            break
    stream.close()
    assert [e.type for e in seen] == ["response.created", "response.queued", "response.in_progress"]
    response_id, last = seen[0].response.id, seen[-1].sequence_number
    rest = list(openai_client.responses.retrieve(response_id, stream=True, starting_after=last))
    assert rest[0].sequence_number == last + 1 and rest[-1].type == "response.completed"


def summarise(client, text: str) -> str:
    """Code under test: a failed response is retried once, then reported."""
    for _ in range(2):
        response = client.responses.create(model="gpt-4o", input=f"Summarise: {text}")
        if response.status != "failed":
            return response.output_text
    raise RuntimeError(response.error.message)


def test_a_failed_response_is_retried_once(openai_server, openai_client):
    openai_server.on("responses.create").once(failed(), "A short summary.")
    assert summarise(openai_client, "a long text") == "A short summary."
    openai_server.on("responses.create").respond(failed("The model is overloaded."))
    with pytest.raises(RuntimeError, match="overloaded"):
        summarise(openai_client, "a long text")
