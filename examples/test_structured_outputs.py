"""Structured outputs: parse() gets a valid instance of your model, scripted or generated."""

import openai
import pydantic
import pytest

from pytest_openai_fake import refusal


class Invoice(pydantic.BaseModel):
    number: str
    total: float = pydantic.Field(ge=0)
    lines: list[str] = pydantic.Field(min_length=1)


def extract_invoice(client: openai.OpenAI, text: str) -> Invoice:
    """Code under test: structured extraction with the SDK's parse helper."""
    reply = client.chat.completions.parse(
        model="gpt-4o", messages=[{"role": "user", "content": f"Extract the invoice: {text}"}], response_format=Invoice
    )
    message = reply.choices[0].message
    if message.refusal:
        raise ValueError(message.refusal)
    return message.parsed


def test_generated_instance_fits_the_schema(openai_client):
    invoice = extract_invoice(openai_client, "INV-1, 3 lines")  # no script: JSON generated from the schema
    assert isinstance(invoice, Invoice) and invoice.total >= 0 and invoice.lines


def test_scripted_instance(openai_server, openai_client):
    openai_server.on("chat.completions.create").respond(Invoice(number="INV-1", total=12.5, lines=["tea"]))
    assert extract_invoice(openai_client, "...") == Invoice(number="INV-1", total=12.5, lines=["tea"])


def test_refusal_path(openai_server, openai_client):
    openai_server.on("chat.completions.create").respond(refusal("I can't read that document."))
    with pytest.raises(ValueError, match="can't read"):
        extract_invoice(openai_client, "...")
