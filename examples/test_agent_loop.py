"""An agent loop driven by scripted replies: tool call -> tool result -> final answer."""

import asyncio
import json

import openai
import pytest

from pytest_openai_fake import tool_call

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
                "additionalProperties": False,
            },
            # strict: the arguments always fit the schema (and openai 2.x's stream helper parses
            # only strict tools)
            "strict": True,
        },
    }
]


def get_weather(city: str) -> str:
    return f"Sunny, 21 °C in {city}"


def run_agent(client: openai.OpenAI, question: str) -> str:
    """Code under test: calls tools until the model answers with text."""
    messages = [{"role": "user", "content": question}]
    for _ in range(5):
        reply = client.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)
        message = reply.choices[0].message
        if not message.tool_calls:
            return message.content
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls:
            result = get_weather(**json.loads(call.function.arguments))
            messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
    raise RuntimeError("the agent did not finish")


def test_agent_uses_the_weather_tool(openai_server, openai_client):
    openai_server.on("chat.completions.create").once(
        tool_call("get_weather", {"city": "Paris"}),  # first call: the model asks for the tool
        "It is sunny in Paris.",  # second call: the final answer
    )
    assert run_agent(openai_client, "Weather in Paris?") == "It is sunny in Paris."
    last = openai_server.requests.last.json["messages"]
    assert last[-1] == {"role": "tool", "tool_call_id": last[-2]["tool_calls"][0]["id"], "content": "Sunny, 21 °C in Paris"}
    openai_server.assert_all_consumed()


def test_agent_without_a_script(openai_server, openai_client):
    """No script: the fake calls a tool the question names, then answers with text."""
    answer = run_agent(openai_client, "Use get_weather for Paris, please.")
    assert answer  # deterministic filler text
    first, second = openai_server.requests
    assert first.json["messages"][-1]["role"] == "user"
    assert second.json["messages"][-1]["role"] == "tool"


async def run_agent_async(client: openai.AsyncOpenAI, question: str, *, stream: bool) -> str:
    """The same agent on AsyncOpenAI; ``stream=True`` reads each turn with the SDK's stream helper."""
    messages = [{"role": "user", "content": question}]
    for _ in range(5):
        if stream:
            async with client.chat.completions.stream(model="gpt-4o", messages=messages, tools=TOOLS) as events:
                reply = await events.get_final_completion()
        else:
            reply = await client.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)
        message = reply.choices[0].message
        if not message.tool_calls:
            return message.content
        calls = [{"id": c.id, "type": "function", "function": {"name": c.function.name, "arguments": c.function.arguments}} for c in message.tool_calls]
        messages.append({"role": "assistant", "tool_calls": calls})
        for call in message.tool_calls:
            result = get_weather(**json.loads(call.function.arguments))
            messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
    raise RuntimeError("the agent did not finish")


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
def test_async_agent_uses_the_weather_tool(openai_server, stream):
    """With pytest-asyncio, write ``async def`` tests and use ``async_openai_client``; this one
    runs its own loop so it needs no plugin."""
    openai_server.on("chat.completions.create").once(
        tool_call("get_weather", {"city": "Paris"}, id="call_weather_1"),
        "It is sunny in Paris.",
    )

    async def main() -> str:
        async with openai_server.async_client() as client:
            return await run_agent_async(client, "Weather in Paris?", stream=stream)

    assert asyncio.run(main()) == "It is sunny in Paris."
    first, second = openai_server.requests
    assert first.stream is stream and second.stream is stream
    assert second.json["messages"][1]["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": '{"city":"Paris"}'}
    assert second.json["messages"][-1] == {"role": "tool", "tool_call_id": "call_weather_1", "content": "Sunny, 21 °C in Paris"}
    openai_server.assert_all_consumed()
