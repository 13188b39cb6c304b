"""The pytest plugin seen from a user's test suite, through pytester."""

from __future__ import annotations

import random
import socket

import pytest

pytest_plugins = ["pytester"]


def test_fixtures_work_out_of_the_box(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        import openai
        import pytest
        from pytest_openai_fake import FakeOpenAI

        def test_summarise(openai_client, openai_server: FakeOpenAI):
            reply = openai_client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "Summarise: ..."}])
            assert reply.choices[0].message.content
            assert openai_server.requests.last.json["model"] == "gpt-4o"
            assert isinstance(openai_client, openai.OpenAI)
            assert openai_client.max_retries == 0
            # sockets at ws:// (openai 2.0 dials wss:// unless told; docs/versions.md)
            assert openai_client.websocket_base_url == openai_server.websocket_base_url
            assert openai_server.websocket_base_url == "ws" + openai_server.base_url.removeprefix("http")

        @pytest.mark.openai_fake(models=["gpt-4o-mini"])
        def test_only_that_model_exists(openai_client):
            with pytest.raises(openai.NotFoundError):
                openai_client.models.retrieve("gpt-4o")
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_every_test_starts_clean(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        import pytest

        MESSAGES = [{"role": "user", "content": "hi"}]

        @pytest.mark.openai_fake(models=["gpt-4o"])
        def test_first(openai_server, openai_client):
            openai_server.state.models.add("my-model")
            openai_server.clock.advance(3600)
            reply = openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
            assert len(openai_server.requests) == 1
            pytest.first_id = reply.id

        def test_second(openai_server, openai_client):
            assert len(openai_server.requests) == 0
            ids = [m.id for m in openai_client.models.list()]
            assert "my-model" not in ids and "gpt-4o-mini" in ids
            reply = openai_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
            assert reply.id == pytest.first_id          # id counters were reset
            assert reply.created == 1767225600          # so was the clock
        """
    )
    pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly").assert_outcomes(passed=2)


def test_one_server_per_session(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        seen = set()

        def test_a(openai_server):
            seen.add(openai_server.base_url)

        def test_b(openai_server):
            seen.add(openai_server.base_url)
            assert len(seen) == 1
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_async_client_fixture(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        import openai
        import pytest

        @pytest.mark.asyncio
        async def test_async(async_openai_client, openai_server):
            assert isinstance(async_openai_client, openai.AsyncOpenAI)
            reply = await async_openai_client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
            assert reply.choices[0].message.content
            assert openai_server.requests.last.endpoint == "chat.completions.create"

        @pytest.mark.asyncio
        async def test_async_again(async_openai_client):
            page = await async_openai_client.models.list()
            assert page.data
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-W", "error::ResourceWarning")
    result.assert_outcomes(passed=2)


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("models='gpt-4o'", "models= must be a list of model ids"),
        ("models=[1]", "models= must contain non-empty strings"),
        ("modles=['gpt-4o']", "unknown keyword modles= (did you mean models=?)"),
        ("strict=False, problems='fail'", "give problems= only"),
        ("strict='no'", "strict= must be True or False"),
        ("problems='yes'", "problems= must be 'fail' or 'ignore'"),
        ("['gpt-4o']", "takes keywords only"),
        ("replies={'chat.completion.create': 'x'}", "unknown endpoint 'chat.completion.create'"),
        ("replies={'models.list': 'text'}", "models.list cannot reply with 'text'"),
        ("replies=['x']", "replies= must map endpoint names to replies"),
        ("replies={'chat.completions.create': 42}", "cannot reply with int 42"),
        ("faults={'*': 'text'}", "is not a fault"),
    ],
)
def test_marker_is_validated(pytester: pytest.Pytester, marker: str, message: str):
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.openai_fake({marker})
        def test_x(openai_server):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*@pytest.mark.openai_fake on test_marker_is_validated.py::test_x*{message}*"])


def test_marker_is_registered(pytester: pytest.Pytester):
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["*@pytest.mark.openai_fake(models=None, problems='fail', replies=None, faults=None, provider='openai', deployments=None, unused_replies='fail', lenient_ids=False, cassette=None, cassette_ignore=(), cassette_match=None)*"])


def test_closest_marker_wins(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        import pytest

        pytestmark = pytest.mark.openai_fake(models=["gpt-4o"], problems="ignore")

        @pytest.mark.openai_fake(models=["gpt-4o-mini"])
        def test_x(openai_server, openai_client):
            assert [m.id for m in openai_client.models.list()] == ["gpt-4o-mini"]
            assert openai_server.problem_policy == "ignore"
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_exception_inside_the_fake_fails_the_test_at_teardown(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        import dataclasses
        import openai
        import pytest

        def boom(ctx):
            raise ZeroDivisionError("the fake is broken")

        def test_x(openai_server, openai_client, monkeypatch):
            route = openai_server.app.routes["models.list"]
            monkeypatch.setitem(openai_server.app.routes, "models.list", dataclasses.replace(route, handler=boom))
            with pytest.raises(openai.InternalServerError) as caught:
                openai_client.models.list()
            assert caught.value.body["type"] == "server_error"

        def test_next_is_clean(openai_server, openai_client):
            assert openai_client.models.list().data
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_x*",
            "*pytest-openai-fake saw 1 problem(s)*",
            "*raised while answering GET /v1/models (models.list): ZeroDivisionError*",
            "*Traceback (most recent call last)*",
            "*ZeroDivisionError: the fake is broken*",
        ]
    )


def test_unrouted_request_fails_the_test_unless_problems_are_ignored(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        import openai
        import pytest

        def test_strict(openai_client):
            with pytest.raises(openai.NotFoundError):
                openai_client.post("/no-such-family/nope", cast_to=object, body={})

        @pytest.mark.openai_fake(problems="ignore")
        def test_lenient(openai_client):
            with pytest.raises(openai.NotFoundError):
                openai_client.post("/no-such-family/nope", cast_to=object, body={})
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_strict*", "*has no route for POST /v1/no-such-family/nope*"])


def test_failed_test_report_lists_the_openai_calls(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        def test_x(openai_client):
            openai_client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hello there"}])
            openai_client.models.list()
            assert False, "deliberate"
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- OpenAI calls -*",
            "*1. POST /v1/chat/completions model=gpt-4o -> 200  [[]default[]]",
            '*> user: "hello there"',
            '*< "*',
            "*2. GET /v1/models -> 200  [[]default[]]",
            "*< list of * model(s)",
        ]
    )


def _free_port(span: int = 4) -> int:
    """A port such that it and the ``span - 1`` after it are free now (a fixed port reserves one
    per provider: 4). Chosen below Linux's ephemeral range (32768+), so parallel tests' sockets
    cannot take the neighbours meanwhile (a port from ``bind(0)`` could have its +1 taken by
    another worker's client socket)."""
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(20000, 32000 - span)
        socks = []
        try:
            for port in range(base, base + span):
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError("no free port range found in 200 tries")


PORT_TEST = """
def test_port(openai_server):
    assert openai_server.port == {port}
    assert openai_server.base_url == "http://127.0.0.1:{port}/v1"
"""


def test_port_option(pytester: pytest.Pytester):
    port = _free_port()
    pytester.makepyfile(PORT_TEST.format(port=port))
    pytester.runpytest("-p", "no:cacheprovider", f"--openai-fake-port={port}").assert_outcomes(passed=1)


def test_port_ini(pytester: pytest.Pytester):
    port = _free_port()
    pytester.makeini(f"[pytest]\nasyncio_default_fixture_loop_scope = function\nopenai_fake_port = {port}\n")
    pytester.makepyfile(PORT_TEST.format(port=port))
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_port_env(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    port = _free_port()
    monkeypatch.setenv("PYTEST_OPENAI_FAKE_PORT", str(port))
    pytester.makepyfile(PORT_TEST.format(port=port))
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


@pytest.mark.parametrize("taken", [0, 2], ids=["openai-port", "mistral-port"])
def test_port_taken_is_one_error_at_session_start(pytester: pytest.Pytester, taken: int):
    base = _free_port()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", base + taken))
        holder.listen()
        pytester.makepyfile("def test_x(openai_server):\n    pass\n\ndef test_y(openai_server):\n    pass\n")
        result = pytester.runpytest("-p", "no:cacheprovider", f"--openai-fake-port={base}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    provider = ["openai", "together", "mistral", "azure"][taken]
    result.stderr.fnmatch_lines([f"ERROR: pytest-openai-fake: port(s) {base + taken} ({provider}) on 127.0.0.1 are not free*"])
    assert result.stderr.str().count("are not free") == 1
    assert "test_x" not in result.stdout.str()  # no test ran, none failed one by one


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("70000", "*--openai-fake-port: port 70000 is out of range: a fixed port needs 4 ports per process*"),
        ("65533", "*--openai-fake-port: port 65533 is out of range*(it uses 65533-65536)*"),
        ("-5", "*--openai-fake-port: port -5 is out of range*"),
        ("abc", "*--openai-fake-port: expected a port number, got 'abc'*"),
    ],
)
def test_bad_port_value_is_one_usage_error(pytester: pytest.Pytester, value: str, message: str):
    pytester.makepyfile("def test_x(openai_server):\n    pass\n\ndef test_y(openai_server):\n    pass\n")
    option = ["--openai-fake-port", value] if value != "abc" else [f"--openai-fake-port={value}"]
    if value == "abc":  # argparse refuses a non-number for type=int: use the ini instead
        pytester.makeini(f"[pytest]\nasyncio_default_fixture_loop_scope = function\nopenai_fake_port = {value}\n")
        option = []
        message = message.replace("--openai-fake-port", "openai_fake_port (ini)")
    result = pytester.runpytest("-p", "no:cacheprovider", *option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message.replace("*--", "ERROR: --").replace("*openai_fake_port", "ERROR: openai_fake_port")])
    assert result.stderr.str().count("ERROR:") == 1


def test_server_is_only_started_when_needed(pytester: pytest.Pytester):
    pytester.makeconftest(
        """
        import pytest_openai_fake.fake as fake_module

        started = []
        original = fake_module.FakeOpenAI.start

        def spy(self):
            started.append(self)
            return original(self)

        fake_module.FakeOpenAI.start = spy

        def pytest_sessionfinish(session):
            print(f"servers started: {len(started)}")
        """
    )
    pytester.makepyfile("def test_plain():\n    assert True\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*servers started: 0*"])


XDIST_TEST = """
import os
import pathlib
import pytest

@pytest.mark.parametrize("i", range(8))
def test_isolated(openai_server, openai_client, i):
    openai_client.models.list()
    assert len(openai_server.requests) == 1
    worker = os.environ.get("PYTEST_XDIST_WORKER", "master")
    with open(pathlib.Path(__file__).parent / "ports.txt", "a") as seen:
        seen.write(f"{{worker}} {{openai_server.port}}\\n")
    {port_check}
"""


def _worker_ports(pytester: pytest.Pytester) -> dict[str, set[str]]:
    ports: dict[str, set[str]] = {}
    for line in (pytester.path / "ports.txt").read_text().splitlines():
        worker, port = line.split()
        ports.setdefault(worker, set()).add(port)
    return ports


def test_xdist_one_server_per_worker(pytester: pytest.Pytester):
    pytest.importorskip("xdist")
    pytester.makepyfile(XDIST_TEST.format(port_check="pass"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=8)
    ports = _worker_ports(pytester)
    assert set(ports) == {"gw0", "gw1"}
    assert all(len(p) == 1 for p in ports.values())  # one server per worker...
    assert ports["gw0"] != ports["gw1"]  # ...each on its own port


def test_xdist_fixed_port_gives_each_worker_its_own_block(pytester: pytest.Pytester):
    """Worker gwN's servers use PORT+N*4 .. PORT+N*4+3 (openai, together, mistral, azure): no
    provider's port of one worker is another worker's port."""
    pytest.importorskip("xdist")
    base = _free_port(span=8)
    check = (
        f"assert openai_server.port == {base} + int(worker[2:]) * 4; "
        f"assert openai_servers['mistral'].port == {base} + int(worker[2:]) * 4 + 2; "
        f"assert openai_servers['azure'].port == {base} + int(worker[2:]) * 4 + 3"
    )
    pytester.makepyfile(XDIST_TEST.format(port_check=check).replace("def test_isolated(openai_server,", "def test_isolated(openai_servers, openai_server,"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", f"--openai-fake-port={base}")
    result.assert_outcomes(passed=8)
    assert _worker_ports(pytester) == {"gw0": {str(base)}, "gw1": {str(base + 4)}}
