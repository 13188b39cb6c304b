"""Cassettes on a FakeOpenAI, without pytester: recording against an upstream that is another fake
on loopback, replay with it stopped, streams and their pacing, binary and multipart bodies, the
other providers, faults over a recorded conversation, vcrpy YAML, the standalone server."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import openai
import pytest

from pytest_openai_fake import FakeOpenAI, delayed
from pytest_openai_fake.cassette import Cassette, CassetteError, Recorder, diff, parse_upstreams, recorder_for, upstream_url_for
from pytest_openai_fake.providers import get_provider

KEY = "sk-upstream-unit-secret-91c2"
HERE = Path(__file__).parent


@pytest.fixture
def upstream() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI().start()
    yield fake
    fake.stop()


def recorder(upstream: FakeOpenAI, mode: str = "once", **kw: object) -> Recorder:
    return Recorder(mode=mode, upstream=upstream.base_url, credential=("Authorization", f"Bearer {KEY}"), **kw)  # type: ignore[arg-type]


def test_streams_replay_their_events_fast_or_with_the_recorded_pacing(tmp_path: Path, upstream: FakeOpenAI, fake: FakeOpenAI) -> None:
    upstream.on("chat.completions.create").respond(delayed("Slow and steady words", per_chunk=0.08))
    path = tmp_path / "stream.json"
    fake.app.cassette = Cassette(path, recorder(upstream))
    chunks = list(fake.client().chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "go"}], stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Slow and steady words"
    events = json.loads(path.read_text())["interactions"][0]["response"]["events"]
    span = events[-1]["t"] - events[0]["t"]
    assert span >= 0.08 * (len(events) - 2)  # the upstream's pacing, recorded
    upstream.stop()

    def replay(timing: str) -> float:
        fake.reset()
        fake.app.cassette = Cassette(path, Recorder(mode="none", timing=timing))
        client = fake.client(_strict_response_validation=True)
        started = time.perf_counter()
        stream = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "go"}], stream=True)
        assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "Slow and steady words"
        assert fake.requests.last.response.stream.text == "Slow and steady words"
        return time.perf_counter() - started

    assert replay("fast") < span / 2
    assert replay("recorded") >= span * 0.9


def test_binary_and_multipart_bodies(tmp_path: Path, upstream: FakeOpenAI, fake: FakeOpenAI) -> None:
    path = tmp_path / "binary.json"
    fake.app.cassette = Cassette(path, recorder(upstream))
    client = fake.client()
    audio = client.audio.speech.create(model="gpt-4o-mini-tts", voice="alloy", input="hello").read()
    upload = client.files.create(file=("notes.jsonl", b'{"a": 1}\n', "application/jsonl"), purpose="batch")
    assert upstream.requests[0].response.size == len(audio) and len(audio) > 0
    recorded = json.loads(path.read_text())["interactions"]
    assert "base64" in recorded[0]["response"]
    assert recorded[1]["request"]["multipart"] == {
        "purpose": "batch",
        "file": {"filename": "notes.jsonl", "content_type": "application/jsonl", "size": 9, "sha256": hashlib.sha256(b'{"a": 1}\n').hexdigest()},
    }
    upstream.stop()
    fake.reset()
    fake.app.cassette = Cassette(path, Recorder(mode="none"))
    client = fake.client(_strict_response_validation=True)
    assert client.audio.speech.create(model="gpt-4o-mini-tts", voice="alloy", input="hello").read() == audio
    # another multipart boundary, the same upload: it matches
    assert client.files.create(file=("notes.jsonl", b'{"a": 1}\n', "application/jsonl"), purpose="batch").id == upload.id
    with pytest.raises(openai.InternalServerError, match=r"file.size: 10 != 9"):
        client.files.create(file=("notes.jsonl", b'{"a": 12}\n', "application/jsonl"), purpose="batch")


def test_faults_and_scripts_take_precedence_and_responses_continue(tmp_path: Path, upstream: FakeOpenAI, fake: FakeOpenAI) -> None:
    upstream.on("responses.create").respond("Recorded answer: the sky is blue.")
    path = tmp_path / "conversation.json"
    fake.app.cassette = Cassette(path, recorder(upstream))
    first = fake.client().responses.create(model="gpt-4o", input="What colour is the sky?")
    upstream.stop()
    fake.reset()
    fake.app.cassette = Cassette(path, Recorder(mode="none"))
    client = fake.client(_strict_response_validation=True)
    fake.fail_next(1, 429, endpoint="responses.create")
    with pytest.raises(openai.RateLimitError):
        client.responses.create(model="gpt-4o", input="What colour is the sky?")
    replayed = client.responses.create(model="gpt-4o", input="What colour is the sky?")
    assert replayed.id == first.id and replayed.output_text == "Recorded answer: the sky is blue."
    assert fake.requests.last.origin == "cassette conversation #1"
    fake.on("responses.create").respond("Scripted: and at night it is dark.")
    follow = client.responses.create(model="gpt-4o", input="And at night?", previous_response_id=replayed.id)
    assert follow.output_text == "Scripted: and at night it is dark."
    # The fake's own handler answered the scripted turn: it found the replayed response in its state
    # (an unknown previous_response_id is the API's 400 previous_response_not_found).
    assert follow.previous_response_id == replayed.id and fake.state.responses.find(replayed.id) is not None
    assert fake.app.cassette.unplayed() == []


@pytest.mark.parametrize("provider", ["together", "mistral", "azure"])
def test_other_providers_record_and_replay(tmp_path: Path, provider: str) -> None:
    profile = get_provider(provider)
    with FakeOpenAI(provider=provider) as upstream:
        upstream.on("chat.completions.create").respond(f"{provider} says hello from upstream")
        if provider == "azure":
            upstream.configure(deployments={"my-deployment": "gpt-4o"})
        rec = recorder_for(profile, mode="once", upstreams={provider: upstream.base_url}, environ={profile.upstream_key_env: KEY})
        path = tmp_path / f"{provider}.json"
        with FakeOpenAI(provider=provider) as fake:
            fake.app.cassette = Cassette(path, rec)
            model = "my-deployment" if provider == "azure" else profile.catalog[0].id
            reply = fake.client().chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
            assert reply.choices[0].message.content == f"{provider} says hello from upstream"
            sent = upstream.requests.last.headers
            assert (sent["api-key"] if provider == "azure" else sent["authorization"]).endswith(KEY[-4:])
    assert KEY not in path.read_text()
    with FakeOpenAI(provider=provider) as fake:
        fake.app.cassette = Cassette(path, Recorder(mode="none"))
        reply = fake.client().chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
        assert reply.choices[0].message.content == f"{provider} says hello from upstream"


def test_vcrpy_yaml_cassettes_replay(fake: FakeOpenAI) -> None:
    pytest.importorskip("yaml")
    fake.app.cassette = Cassette(HERE / "cassettes" / "vcrpy_openai_chat.yaml", Recorder(mode="none"))
    client = fake.client(_strict_response_validation=True)
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "What is the capital of France?"}])
    assert reply.choices[0].message.content == "Recorded by vcrpy: Paris."
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Stream please"}], stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "Streamed by vcrpy."
    with pytest.raises(openai.InternalServerError, match="already replayed"):  # played once: a repeat is a miss
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "What is the capital of France?"}])
    assert "set-cookie" not in fake.requests[0].response.headers and "openai-organization" not in fake.requests[0].response.headers
    with pytest.raises(CassetteError, match="YAML cassettes"):
        Cassette(HERE / "cassettes" / "vcrpy_openai_chat.yaml", Recorder(mode="new_episodes"))


def test_matching_ignores_key_order_and_named_fields() -> None:
    from pytest_openai_fake.cassette import Interaction, canonical_request

    def request(body: dict[str, object]) -> dict[str, object]:
        return canonical_request("POST", "/v1/chat/completions", {}, {"content-type": "application/json"}, json.dumps(body).encode())

    recorded = request({"model": "m", "stream_options": {"include_usage": True, "include_obfuscation": False}, "user": "a"})
    cassette = Cassette("/nonexistent/c.json", ignore=["user"])
    cassette.interactions = [Interaction(recorded, {"status": 200, "json": {}}), Interaction(recorded, {"status": 200, "json": {}})]
    again = request({"user": "b", "stream_options": {"include_obfuscation": False, "include_usage": True}, "model": "m"})
    assert cassette.play(again) is not None and cassette.play(again)[1] == 2  # type: ignore[index]
    assert cassette.play(again) is None
    assert "already replayed" in cassette.miss(again)
    assert Cassette("/nonexistent/c.json", match=lambda req, rec: req["path"] == rec["path"]).match is not None
    assert diff({"messages": [{"content": "Summarize"}]}, {"messages": [{"content": "Summarise"}], "n": 1}) == [
        'messages[0].content: "Summarize" != "Summarise"',
        "n: (absent) != 1",
    ]


def test_upstream_urls() -> None:
    assert upstream_url_for("https://api.openai.com/v1", "/v1", "/v1/chat/completions", "") == "https://api.openai.com/v1/chat/completions"
    assert upstream_url_for("https://gw.example/openai/", "/v1", "/v1/models", "a=1") == "https://gw.example/openai/models?a=1"
    assert (
        upstream_url_for("https://res.openai.azure.com/openai/v1", "/openai/v1", "/openai/deployments/d/chat/completions", "api-version=x")
        == "https://res.openai.azure.com/openai/deployments/d/chat/completions?api-version=x"
    )
    assert parse_upstreams(["https://a/v1", "azure=https://b/openai/v1"], ["azure"]) == {"*": "https://a/v1", "azure": "https://b/openai/v1"}
    with pytest.raises(CassetteError, match="unknown provider"):
        parse_upstreams(["nope=https://x"], ["azure"])
    azure = recorder_for(get_provider("azure"), mode="once", upstreams={}, environ={"AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com/"})
    assert azure.upstream == "https://res.openai.azure.com/openai/v1" and azure.credential is None


def _get(url: str, data: bytes | None = None) -> dict[str, object]:
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"}, method="POST" if data else "GET")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_standalone_server_records_and_switches_cassettes(tmp_path: Path, upstream: FakeOpenAI) -> None:
    upstream.on("chat.completions.create").respond("Served through the standalone recorder")
    env = {**os.environ, "OPENAI_API_KEY": KEY, "PYTHONPATH": str(Path(__file__).parents[2])}
    command = [sys.executable, "-m", "pytest_openai_fake", "--port", "0", "--cassette-dir", str(tmp_path), "--record-mode", "once", "--upstream", upstream.base_url]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        base_url = line.split(" at ")[1].split()[0]
        root = base_url[: -len("/v1")]
        client = openai.OpenAI(base_url=base_url, api_key="sk-anything", max_retries=0)
        ask = lambda: client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])  # noqa: E731
        assert ask().choices[0].message.content == "Served through the standalone recorder"
        assert _get(root + "/__fake/cassette")["recorded"] == 1
        assert _get(root + "/__fake/cassette", json.dumps({"name": "second"}).encode())["path"] == str(tmp_path / "second.json")
        ask()
        assert json.loads((tmp_path / "cassette.json").read_text())["interactions"][0]["response"]["json"]["choices"][0]["message"]["content"] == (
            "Served through the standalone recorder"
        )
        assert (tmp_path / "second.json").exists()
        assert KEY not in (tmp_path / "cassette.json").read_text()
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_replayed_stream_of_responses_is_continued(tmp_path: Path, upstream: FakeOpenAI, fake: FakeOpenAI) -> None:
    upstream.on("responses.create").respond("Streamed upstream answer")
    path = tmp_path / "streamed.json"
    fake.app.cassette = Cassette(path, recorder(upstream))
    with fake.client().responses.stream(model="gpt-4o", input="tell me") as stream:
        first = stream.get_final_response()
    upstream.stop()
    fake.reset()
    fake.app.cassette = Cassette(path, Recorder(mode="none"))
    client = fake.client(_strict_response_validation=True)
    with client.responses.stream(model="gpt-4o", input="tell me") as stream:
        assert stream.get_final_response().output_text == "Streamed upstream answer"
    fake.on("responses.create").respond("Next turn")
    assert client.responses.create(model="gpt-4o", input="more", previous_response_id=first.id).output_text == "Next turn"


async def test_async_clients_replay(tmp_path: Path, upstream: FakeOpenAI, fake: FakeOpenAI) -> None:
    upstream.on("embeddings.create").respond(json={"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [0.25, -0.5]}], "model": "text-embedding-3-small", "usage": {"prompt_tokens": 1, "total_tokens": 1}})
    path = tmp_path / "async.json"
    fake.app.cassette = Cassette(path, recorder(upstream))
    client = fake.async_client(keep_alive=False)
    assert (await client.embeddings.create(model="text-embedding-3-small", input="x")).data[0].embedding == [0.25, -0.5]
    upstream.stop()
    fake.app.cassette = Cassette(path, Recorder(mode="none"))
    assert (await client.embeddings.create(model="text-embedding-3-small", input="x")).data[0].embedding == [0.25, -0.5]
