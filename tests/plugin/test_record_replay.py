"""Cassettes through pytest: record against an upstream (another fake on loopback, scripted to say
distinctive things), then replay with the upstream stopped; misses, scrubbing, unplayed warnings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest

from pytest_openai_fake import FakeOpenAI

SECRET = "sk-upstream-secret-do-not-record-7f3a"

TEST_FILE = '''
import pytest

@pytest.mark.openai_fake(cassette=True)
def test_chat(openai_client):
    reply = openai_client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Summarise the plot"}]
    )
    assert reply.choices[0].message.content == "The butler did it, in the conservatory."

@pytest.mark.openai_fake(cassette="shared")
def test_stream(openai_client):
    stream = openai_client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "Count"}], stream=True, stream_options={"include_usage": True}
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "One, two, three."
'''


@pytest.fixture
def upstream(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    """The 'real API': another fake, scripted with answers the test fake would never make up."""
    fake = FakeOpenAI().start()
    fake.on("chat.completions.create", message="Summarise").respond("The butler did it, in the conservatory.")
    fake.on("chat.completions.create", message="Count").respond("One, two, three.")
    fake.on("responses.create").respond("Upstream remembers: blue.")
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.delenv("PYTEST_OPENAI_FAKE_RECORD_MODE", raising=False)
    monkeypatch.delenv("PYTEST_OPENAI_FAKE_UPSTREAM", raising=False)
    yield fake
    fake.stop()


def test_record_once_then_replay_with_the_upstream_stopped(pytester: pytest.Pytester, upstream: FakeOpenAI) -> None:
    pytester.makepyfile(test_story=TEST_FILE)
    result = pytester.runpytest("--openai-fake-record-mode=once", f"--openai-fake-upstream={upstream.base_url}")
    result.assert_outcomes(passed=2)
    assert len(upstream.requests) == 2
    # The upstream got the run's key, never the fake key the test's client sent.
    assert all(r.headers["authorization"].endswith(SECRET[-4:]) for r in upstream.requests)
    chat = pytester.path / "cassettes" / "test_story" / "test_chat.json"
    shared = pytester.path / "cassettes" / "test_story" / "shared.json"
    assert chat.exists() and shared.exists()
    recorded = json.loads(shared.read_text())["interactions"][0]["response"]
    assert recorded["events"][-1]["data"] == "data: [DONE]"
    upstream.stop()
    result = pytester.runpytest()  # record mode none by default
    result.assert_outcomes(passed=2)
    assert "recorded interaction" not in result.stdout.str()


def test_recorded_cassette_holds_no_key(pytester: pytest.Pytester, upstream: FakeOpenAI) -> None:
    pytester.makeconftest("def pytest_openai_fake_scrub(config):\n    return ['x-trace-token', 'user']\n")
    pytester.makepyfile(
        test_secret='''
import pytest

@pytest.mark.openai_fake(cassette=True)
def test_secret(openai_server):
    client = openai_server.client(default_headers={"OpenAI-Organization": "org-secret", "OpenAI-Project": "proj_secret",
                                                    "Cookie": "session=secret", "X-Trace-Token": "trace-secret"})
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Summarise"}], user="user-secret")
'''
    )
    pytester.runpytest("--openai-fake-record-mode=once", f"--openai-fake-upstream={upstream.base_url}").assert_outcomes(passed=1)
    text = (pytester.path / "cassettes" / "test_secret" / "test_secret.json").read_text()
    for secret in (SECRET, SECRET[-8:], "sk-fake", "org-secret", "proj_secret", "session=secret", "trace-secret", "user-secret"):
        assert secret not in text
    assert text.count("<scrubbed>") == 2  # the hook's header and body field
    assert upstream.requests.last.headers["x-trace-token"] == "trace-secret"  # scrubbed in the file only


def test_a_miss_fails_with_a_field_diff_and_how_to_re_record(pytester: pytest.Pytester, upstream: FakeOpenAI) -> None:
    pytester.makepyfile(test_story=TEST_FILE)
    pytester.runpytest("--openai-fake-record-mode=once", f"--openai-fake-upstream={upstream.base_url}").assert_outcomes(passed=2)
    upstream.stop()
    test = pytester.path / "test_story.py"
    test.write_text(TEST_FILE.replace('"Summarise the plot"', '"Summarize the plot"'))
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=1, failed=1, errors=1)
    out = result.stdout.str()
    assert 'messages[1].content: "Summarize the plot" != "Summarise the plot"' in out
    assert "--openai-fake-record-mode=new_episodes" in out and "test_chat.json" in out


def test_new_episodes_records_only_what_is_missing(pytester: pytest.Pytester, upstream: FakeOpenAI) -> None:
    pytester.makepyfile(test_story=TEST_FILE)
    pytester.runpytest("--openai-fake-record-mode=once", f"--openai-fake-upstream={upstream.base_url}").assert_outcomes(passed=2)
    (pytester.path / "test_story.py").write_text(TEST_FILE + '''

@pytest.mark.openai_fake(cassette=True)
def test_chat_twice(openai_client):
    for _ in range(2):
        reply = openai_client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Summarise"}])
        assert reply.choices[0].message.content == "The butler did it, in the conservatory."
''')
    before = len(upstream.requests)
    result = pytester.runpytest("--openai-fake-record-mode=new_episodes", f"--openai-fake-upstream={upstream.base_url}")
    result.assert_outcomes(passed=3)
    assert len(upstream.requests) - before == 2  # the two calls of the new test; the others replayed
    interactions = json.loads((pytester.path / "cassettes" / "test_story" / "test_chat_twice.json").read_text())["interactions"]
    assert len(interactions) == 2
    upstream.stop()
    pytester.runpytest().assert_outcomes(passed=3)


def test_unplayed_interactions_are_a_warning(pytester: pytest.Pytester, upstream: FakeOpenAI) -> None:
    pytester.makepyfile(test_story=TEST_FILE)
    pytester.runpytest("--openai-fake-record-mode=once", f"--openai-fake-upstream={upstream.base_url}").assert_outcomes(passed=2)
    (pytester.path / "test_story.py").write_text(TEST_FILE.replace("    reply = openai_client", "    return\n    reply = openai_client", 1))
    result = pytester.runpytest()
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*CassetteWarning*1 recorded interaction(s) of cassette*test_chat.json were never replayed*", "*#1: POST /v1/chat/completions model=gpt-4o -> 200*"])


def test_no_key_means_no_recording(pytester: pytest.Pytester, upstream: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    pytester.makepyfile(test_story=TEST_FILE)
    result = pytester.runpytest("--openai-fake-record-mode=once", f"--openai-fake-upstream={upstream.base_url}")
    result.assert_outcomes(failed=2, errors=2)
    assert "Recording needs the upstream's API key in $OPENAI_API_KEY" in result.stdout.str()
    assert len(upstream.requests) == 0


def test_record_mode_usage_errors(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile("def test_x(): pass")
    monkeypatch.setenv("PYTEST_OPENAI_FAKE_RECORD_MODE", "sometimes")
    result = pytester.runpytest()
    assert "PYTEST_OPENAI_FAKE_RECORD_MODE: record mode must be one of none, once, new_episodes, all, got 'sometimes'" in result.stderr.str()
    monkeypatch.delenv("PYTEST_OPENAI_FAKE_RECORD_MODE")
    pytester.makepyfile(
        "import pytest\n@pytest.mark.openai_fake(cassette=3)\ndef test_y(openai_client): pass\n"
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    assert "cassette= must be True or a cassette name, got 3" in result.stdout.str()


def test_shared_cassettes_dir_option_env_mode_and_ignored_fields(pytester: pytest.Pytester, upstream: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(
        test_shared='''
import pytest

def ask(client, user):
    return client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Summarise"}], user=user)

@pytest.mark.openai_fake(cassette="together_now", cassette_ignore=["user"])
def test_one(openai_client):
    assert ask(openai_client, "alice").choices[0].message.content.startswith("The butler")

@pytest.mark.openai_fake(cassette="together_now", cassette_ignore=["user"])
def test_two(openai_client):
    ask(openai_client, "bob")
    ask(openai_client, "carol")

@pytest.mark.openai_fake(cassette="together_now", cassette_match=lambda request, recorded: request["path"] == recorded["path"])
def test_any_chat(openai_client):
    openai_client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "anything at all"}])
'''
    )
    monkeypatch.setenv("PYTEST_OPENAI_FAKE_RECORD_MODE", "once")
    monkeypatch.setenv("PYTEST_OPENAI_FAKE_UPSTREAM", upstream.base_url)
    pytester.runpytest("--openai-fake-cassette-dir=tapes", "-k", "one or two").assert_outcomes(passed=2)
    cassette = pytester.path / "tapes" / "test_shared" / "together_now.json"
    # The second test replayed the first one's recording (the user field is ignored) and added one more.
    assert len(json.loads(cassette.read_text())["interactions"]) == 2 and len(upstream.requests) == 2
    upstream.stop()
    monkeypatch.setenv("PYTEST_OPENAI_FAKE_RECORD_MODE", "none")
    pytester.runpytest("--openai-fake-cassette-dir=tapes").assert_outcomes(passed=3)
    result = pytester.runpytest("-k", "one")  # not in cassettes/ next to the test: a miss
    result.assert_outcomes(failed=1, errors=1)
    assert "The cassette has no interactions" in result.stdout.str()


def test_ini_settings_reach_the_cassette(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-key-from-the-run")
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\nopenai_fake_record_mode = new_episodes\nopenai_fake_replay_timing = recorded\nopenai_fake_cassette_dir = tapes\n"
        "openai_fake_upstream =\n    https://gateway.invalid/v1\n    azure=https://res.invalid/openai/v1\n"
    )
    pytester.makepyfile(
        test_settings='''
import pytest

@pytest.mark.openai_fake(cassette="named", provider="azure")
def test_azure(openai_server, request, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "the-test-fake-key")
    cassette = openai_server.app.cassette
    assert cassette.path == request.config.rootpath / "tapes" / "test_settings" / "named.json"
    r = cassette.recorder
    assert (r.mode, r.timing, r.upstream, r.credential) == ("new_episodes", "recorded", "https://res.invalid/openai/v1", ("api-key", "azure-key-from-the-run"))

class TestGroup:
    @pytest.mark.openai_fake(cassette=True)
    def test_default_name(self, openai_server):
        r = openai_server.app.cassette.recorder
        assert openai_server.app.cassette.path.name == "TestGroup.test_default_name.json"
        assert r.upstream == "https://gateway.invalid/v1" and r.credential is None
'''
    )
    pytester.runpytest().assert_outcomes(passed=2)
