"""``FakeOpenAI`` works without the fixtures: as a context manager, in any test runner."""

from pytest_openai_fake import FakeOpenAI


def test_context_manager():
    with FakeOpenAI() as fake:  # an ephemeral port on 127.0.0.1
        client = fake.client()  # or openai.OpenAI(base_url=fake.base_url, api_key="anything")
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
        assert fake.requests.last.model == "gpt-4o"
