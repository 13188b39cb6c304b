"""The persistent Responses socket through the real SDK: ``response.steer`` and ``response.inject``
(``client.beta.responses.connect()``); ``response.create`` itself is in test_realtime.py."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("wsproto", reason="needs the realtime extra: pip install 'pytest-openai-fake[realtime]'")
pytest.importorskip("websockets", reason="needs openai[realtime]")

import openai  # noqa: E402
beta_responses_server_event = pytest.importorskip(
    "openai.types.beta.beta_responses_server_event", reason="this openai SDK has no persistent Responses socket"
)

# Steering, lanes and the error events with status are the socket's protocol as openai 3.x types
# it; openai 2.x types an earlier one (docs/versions.md).
pytestmark = pytest.mark.skipif(
    not hasattr(beta_responses_server_event, "BetaResponseWsError"),
    reason="this openai SDK types an earlier Responses socket protocol (no steering, no lanes)",
)

from pytest_openai_fake import FakeOpenAI, delayed, tool_call  # noqa: E402

MODEL = "gpt-4.1"
WEATHER_TOOL = {
    "type": "function", "name": "get_weather", "description": "The weather in a city", "strict": False,
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
#: Slow enough that a steer sent on ``response.created`` reaches the response while it streams.
SLOW = 0.05


def _input_texts(client: Any, response_id: str) -> list[str]:
    items = client.responses.input_items.list(response_id, order="asc").data
    texts = []
    for item in items:
        if item.type == "message":
            texts.extend(part.text for part in item.content if part.type == "input_text")
        else:
            texts.append(item.type)
    return texts


def test_steer_queues_input_for_an_automatic_successor(client: Any, openai_server: FakeOpenAI, until: Any) -> None:
    openai_server.on("responses.create").once(delayed("The long first answer, word by word, slowly.", per_chunk=SLOW))
    with client.beta.responses.connect() as connection:
        connection.response.create(model=MODEL, input="Summarise the release.", instructions="Be brief.", metadata={"k": "v"}, stream_id="lane-1")
        created = until(connection, "response.created")[-1].response
        connection.response.steer(previous_response_id=created.id, input="Focus on the networking changes.")
        first = until(connection, "response.completed")
        accepted = [e for e in first if e.type == "response.steer.accepted"]
        assert len(accepted) == 1
        assert accepted[0].steer.previous_response_id == created.id
        assert accepted[0].steer.id.startswith("steer_")
        assert accepted[0].stream_id == "lane-1"
        # One sequence over the response's events and the steer event in between.
        assert [e.sequence_number for e in first] == list(range(1, len(first) + 1))
        successor = until(connection, "response.completed")
        assert successor[0].type == "response.created"  # the commit point, right after the first response
        assert {e.stream_id for e in successor} == {"lane-1"}
        second = successor[-1].response
        assert second.previous_response_id == created.id
        assert (second.instructions, second.metadata, second.model) == ("Be brief.", {"k": "v"}, first[-1].response.model)
        assert second.status == "completed" and second.output[0].content[0].text
    assert _input_texts(client, second.id) == ["Focus on the networking changes."]
    endpoints = [r.endpoint for r in openai_server.requests if r.endpoint.startswith(("beta.", "responses.create"))]
    assert endpoints == [
        "beta.responses.connect", "beta.responses.response.create", "responses.create",
        "beta.responses.response.steer", "responses.create",
    ]


def test_steer_refusals_hand_the_input_back(client: Any, until: Any) -> None:
    with client.beta.responses.connect() as connection:
        connection.response.steer(previous_response_id="resp_nope", input="Anything")
        failed = connection.recv()
        assert (failed.type, failed.error.code, failed.steer.id, failed.steer.input) == ("response.steer.failed", "response_not_found", None, "Anything")

        connection.response.create(model=MODEL, input="Hi", stream_id="s")
        done = until(connection, "response.completed")[-1].response
        connection.response.steer(previous_response_id=done.id, input=[{"type": "message", "role": "user", "content": "Too late"}])
        failed = connection.recv()
        assert (failed.error.code, failed.stream_id, failed.error.type) == ("response_already_completed", "s", "invalid_request_error")
        assert failed.steer.input[0].content == "Too late"
        assert failed.sequence_number > 2  # continues the response's sequence

        for bad in (
            [],
            [{"type": "function_call_output", "call_id": "call_1", "output": "42"}],
            [{"type": "message", "role": "user", "content": "x", "id": "msg_1"}],
            "  ",
        ):
            connection.response.steer(previous_response_id=done.id, input=bad)
            failed = connection.recv()
            assert (failed.type, failed.error.code) == ("response.steer.failed", "invalid_input"), bad
        connection.send({"type": "response.steer", "previous_response_id": done.id, "input": "x", "stream_id": "s"})
        assert connection.recv().error.code == "invalid_input"  # the target decides the lane
        connection.send({"type": "response.steer", "input": "no target"})
        error = connection.recv()
        assert (error.type, error.error.param) == ("error", "previous_response_id")

        conversation = client.conversations.create()
        connection.response.create(model=MODEL, input="Hi", conversation=conversation.id)
        bound = until(connection, "response.completed")[-1].response
        connection.response.steer(previous_response_id=bound.id, input="Steer")
        assert connection.recv().error.code == "steering_not_supported"


async def test_steer_waits_for_tool_output_then_joins_the_continuation(async_client: Any, openai_server: FakeOpenAI, until: Any) -> None:
    openai_server.on("responses.create").once(delayed(tool_call("get_weather", {"city": "Paris"}), per_chunk=SLOW))
    async with async_client.beta.responses.connect() as connection:
        await connection.response.create(model=MODEL, input="Weather in Paris?", tools=[WEATHER_TOOL])
        created = (await until(connection, "response.created"))[-1].response
        await connection.response.steer(previous_response_id=created.id, input="Also say it in French.")
        events = await until(connection, "response.completed")
        assert "response.steer.accepted" in [e.type for e in events]
        call = next(item for item in events[-1].response.output if item.type == "function_call")
        pending = await connection.recv()
        assert (pending.type, pending.reason) == ("response.steer.pending", "waiting_for_required_input")
        assert [(r.type, r.call_id, r.name) for r in pending.required_input] == [("function_call_output", call.call_id, "get_weather")]
        steer_id = pending.steer.id
        # A second submission to the waiting response: accepted, then pending at once.
        await connection.response.steer(previous_response_id=created.id, input="And in German.")
        accepted, again = await connection.recv(), await connection.recv()
        assert (accepted.type, again.type, again.steer.id) == ("response.steer.accepted", "response.steer.pending", accepted.steer.id)
        assert again.steer.id != steer_id
        await connection.response.create(
            model=MODEL, previous_response_id=created.id, tools=[WEATHER_TOOL],
            input=[{"type": "function_call_output", "call_id": call.call_id, "output": "Sunny, 21C"}],
        )
        final = (await until(connection, "response.completed"))[-1].response
        assert final.previous_response_id == created.id
    items = (await async_client.responses.input_items.list(final.id, order="asc")).data
    assert [getattr(i, "type", None) for i in items] == ["message", "message", "function_call_output"]
    assert [i.content[0].text for i in items[:2]] == ["Also say it in French.", "And in German."]


def test_inject_fails_like_the_api(client: Any, until: Any) -> None:
    with client.beta.responses.connect() as connection:
        tool_output = [{"type": "function_call_output", "call_id": "call_1", "output": "42"}]
        connection.response.inject(response_id="resp_nope", input=tool_output)
        failed = connection.recv()
        assert (failed.type, failed.error.code, failed.response_id, failed.input[0].call_id) == ("response.inject.failed", "response_not_found", "resp_nope", "call_1")
        connection.response.create(model=MODEL, input="Hi")
        done = until(connection, "response.completed")[-1].response
        connection.response.inject(response_id=done.id, input=tool_output)
        assert connection.recv().error.code == "response_already_completed"
        connection.send({"type": "response.inject", "response_id": done.id})
        error = connection.recv()
        assert (error.type, error.error.code, error.error.param) == ("error", "missing_required_parameter", "input")


def test_creates_sent_while_a_response_streams_are_answered_in_order(client: Any, openai_server: FakeOpenAI, until: Any) -> None:
    openai_server.on("responses.create").once(delayed("first", per_chunk=0.01))
    with client.beta.responses.connect() as connection:
        connection.response.create(model=MODEL, input="One", stream_id="a")
        connection.response.create(model=MODEL, input="Two", stream_id="b")
        first = until(connection, "response.completed")
        second = until(connection, "response.completed")
    assert {e.stream_id for e in first} == {"a"} and {e.stream_id for e in second} == {"b"}
    assert first[-1].response.output[0].content[0].text == "first"
    assert second[0].sequence_number == 0


def test_store_false_responses_continue_on_their_socket(client: Any, until: Any) -> None:
    """WebSocket mode keeps the latest response of each lane in the connection's memory: with
    ``store: false`` it is continued there (not over HTTP, not from another socket)."""
    with client.beta.responses.connect() as connection:
        connection.response.create(model=MODEL, input="My name is Ada.", store=False)
        first = until(connection, "response.completed")[-1].response
        connection.response.create(model=MODEL, input="What is my name?", store=False, previous_response_id=first.id)
        second = until(connection, "response.completed")[-1].response
        assert second.previous_response_id == first.id
        # Another lane forks from this lane's latest; the older response is no longer remembered.
        connection.response.create(model=MODEL, input="Fork", store=False, previous_response_id=second.id, stream_id="fork")
        assert until(connection, "response.completed")[-1].response.previous_response_id == second.id
        connection.response.create(model=MODEL, input="Too old", store=False, previous_response_id=first.id)
        error = connection.recv()
        assert (error.type, error.error.code, error.error.param) == ("error", "previous_response_not_found", "previous_response_id")
    with pytest.raises(openai.BadRequestError) as http:
        client.responses.create(model=MODEL, input="Over HTTP", previous_response_id=second.id)
    assert http.value.code == "previous_response_not_found"
    with client.beta.responses.connect() as other:
        other.response.create(model=MODEL, input="Elsewhere", previous_response_id=second.id)
        assert other.recv().error.code == "previous_response_not_found"


def test_steering_a_store_false_response(client: Any, openai_server: FakeOpenAI, until: Any) -> None:
    openai_server.on("responses.create").once(delayed("An answer that takes a while to stream.", per_chunk=SLOW))
    with client.beta.responses.connect() as connection:
        connection.response.create(model=MODEL, input="Start", store=False)
        created = until(connection, "response.created")[-1].response
        connection.response.steer(previous_response_id=created.id, input="Change course.")
        until(connection, "response.completed")
        successor = until(connection, "response.completed")
    assert successor[0].type == "response.created" and successor[-1].response.previous_response_id == created.id
    assert [e.type for e in successor if e.type.startswith("response.steer")] == []  # committed, not failed


def test_generate_flag(client: Any, until: Any) -> None:
    with client.beta.responses.connect() as connection:
        connection.response.create(model=MODEL, input="Hi", generate=True)
        assert until(connection, "response.completed")[-1].response.output
        connection.response.create(model=MODEL, input="Warm up", generate=False)
        error = connection.recv()
        assert (error.type, error.error.code, error.error.param) == ("error", "unsupported_value", "generate")
