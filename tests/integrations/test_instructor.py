"""An instructor application's own tests (instructor pins jiter<0.15, which excludes the newest
openai 3.x), running on the plugin's fixtures."""

from __future__ import annotations

import pytest

APP = '''
"""The application: instructor turns a support e-mail into a validated Ticket."""
from typing import Literal

import instructor
import pydantic


class Ticket(pydantic.BaseModel):
    title: str
    priority: Literal["low", "high"]


def triage(client, text, mode=instructor.Mode.TOOLS, max_retries=0):
    patched = instructor.from_openai(client, mode=mode)
    return patched.chat.completions.create(
        model="gpt-4o-mini",
        response_model=Ticket,
        max_retries=max_retries,
        messages=[{"role": "user", "content": f"Triage: {text}"}],
    )


async def atriage(client, text):
    return await instructor.from_openai(client).chat.completions.create(
        model="gpt-4o-mini", response_model=Ticket, messages=[{"role": "user", "content": f"Triage: {text}"}]
    )
'''

TESTS = '''
import instructor
import pytest

from app import Ticket, atriage, triage
from pytest_openai_fake import tool_call


def test_scripted_tool_call_becomes_the_model(openai_server, openai_client):
    openai_server.on("chat.completions.create").once(tool_call("Ticket", {"title": "Printer on fire", "priority": "high"}))
    ticket = triage(openai_client, "the printer is on fire")
    assert isinstance(ticket, Ticket) and ticket.model_dump() == {"title": "Printer on fire", "priority": "high"}
    sent = openai_server.requests.last.json
    assert sent["tools"][0]["function"]["name"] == "Ticket"
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "Ticket"}}


def test_unscripted_reply_fits_the_schema(openai_server, openai_client):
    ticket = triage(openai_client, "anything")
    assert isinstance(ticket, Ticket) and ticket.priority in ("low", "high")


def test_json_schema_mode(openai_server, openai_client):
    ticket = triage(openai_client, "anything", mode=instructor.Mode.JSON_SCHEMA)
    assert isinstance(ticket, Ticket)
    assert openai_server.requests.last.json["response_format"]["type"] == "json_schema"


def test_invalid_reply_is_retried_with_the_validation_error(openai_server, openai_client):
    openai_server.on("chat.completions.create").once(
        tool_call("Ticket", {"title": "Late invoice", "priority": "urgent"}),
        tool_call("Ticket", {"title": "Late invoice", "priority": "low"}),
    )
    assert triage(openai_client, "invoice", max_retries=1).priority == "low"
    assert len(openai_server.requests) == 2
    assert "urgent" in str(openai_server.requests.last.json["messages"])


async def test_async(openai_server, async_openai_client):
    openai_server.on("chat.completions.create").once(tool_call("Ticket", {"title": "t", "priority": "low"}))
    assert (await atriage(async_openai_client, "x")).model_dump() == {"title": "t", "priority": "low"}
'''


def test_instructor_app_tests_pass_with_the_plugin(pytester: pytest.Pytester, require) -> None:
    require("instructor", "instructor")
    pytester.makepyfile(app=APP, test_app=TESTS)
    pytester.makeini("[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning", timeout=120)
    result.assert_outcomes(passed=5)
