"""--openai-fake-block-network: an off-machine connect fails the test, loopback does not.

Connect attempts go only to 192.0.2.1 (TEST-NET-1, never routed) and only while the guard is
on, so nothing leaves the machine even if the guard were broken.
"""

from __future__ import annotations

import pytest

GUARD_MESSAGE = "*network guard blocked this test from reaching the network*"

SWALLOWING_APP = """
    import openai

    def ask_model():
        # the app builds its own client and swallows connection errors
        try:
            client = openai.OpenAI(api_key="sk-test", max_retries=0)
            return client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
        except openai.APIConnectionError:
            return None
"""


def test_client_without_base_url_fails_the_test_even_when_the_app_swallows_the_error(pytester, monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    pytester.makepyfile(
        SWALLOWING_APP
        + """
    def test_app():
        assert ask_model() is None
    """
    )
    result = pytester.runpytest("--openai-fake-block-network")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [GUARD_MESSAGE, "*a lookup of api.openai.com:443, a real provider API host*", "*openai_env*"]
    )


def test_with_openai_env_the_same_client_reaches_the_fake(pytester, monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    pytester.makepyfile(
        SWALLOWING_APP
        + """
    def test_app(openai_env, openai_server):
        reply = ask_model()
        assert reply is not None and reply.choices[0].message.content
        assert openai_server.requests.last.endpoint == "chat.completions.create"
    """
    )
    pytester.runpytest("--openai-fake-block-network").assert_outcomes(passed=1)


def test_an_uncaught_block_fails_with_the_error_and_a_report_section(pytester, monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    pytester.makepyfile(
        """
        import openai

        def test_app():
            openai.OpenAI(api_key="sk-test", max_retries=0).models.list()
        """
    )
    result = pytester.runpytest("--openai-fake-block-network")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*ConnectError: pytest-openai-fake's network guard blocked a lookup of api.openai.com:443*",
            "*openai.APIConnectionError: Connection error.",
            "*Captured openai-fake network guard call*",
            GUARD_MESSAGE,
        ]
    )


def test_a_raw_connect_off_the_machine_raises_before_connecting(pytester):
    pytester.makepyfile(
        """
        import socket
        import pytest
        from pytest_openai_fake import NetworkBlockedError

        def test_connect():
            sock = socket.socket()
            sock.settimeout(5)
            with pytest.raises(ConnectionError) as info:
                sock.connect(("192.0.2.1", 443))
            assert isinstance(info.value, NetworkBlockedError)
            assert "192.0.2.1:443" in str(info.value)
            with pytest.raises(OSError):
                sock.getpeername()  # never connected
            with pytest.raises(NetworkBlockedError):
                sock.connect_ex(("192.0.2.1", 80))
            sock.close()
        """
    )
    result = pytester.runpytest("--openai-fake-block-network")
    result.assert_outcomes(failed=1)  # both raised and were caught: the record fails the test
    result.stdout.fnmatch_lines(
        [GUARD_MESSAGE, "*a connection to 192.0.2.1:443, which is not on this machine", "*a connection to 192.0.2.1:80, *"]
    )


def test_a_caught_block_is_reported_once_per_target_with_a_count(pytester):
    pytester.makepyfile(
        """
        import socket

        def test_connect():
            for _ in range(3):
                try:
                    socket.create_connection(("192.0.2.1", 443), timeout=5)
                except ConnectionError:
                    pass
        """
    )
    result = pytester.runpytest("--openai-fake-block-network")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([GUARD_MESSAGE, "*a connection to 192.0.2.1:443, which is not on this machine (3 times)*"])


def test_loopback_and_unix_sockets_stay_allowed(pytester):
    pytester.makepyfile(
        """
        import os
        import socket
        import tempfile

        def test_loopback(openai_client):
            assert openai_client.models.list().data  # the fake itself is on 127.0.0.1
            for host in ("127.0.0.1", "localhost", "127.0.0.2"):
                with socket.create_server(("127.0.0.1" if host == "localhost" else host, 0)) as server:
                    port = server.getsockname()[1]
                    socket.create_connection((host, port), timeout=5).close()
            if socket.has_ipv6:
                try:
                    server = socket.create_server(("::1", 0), family=socket.AF_INET6)
                except OSError:
                    pass  # no IPv6 loopback on this machine
                else:
                    with server:
                        socket.create_connection(("::1", server.getsockname()[1]), timeout=5).close()
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "s")
                with socket.socket(socket.AF_UNIX) as server:
                    server.bind(path)
                    server.listen()
                    with socket.socket(socket.AF_UNIX) as client:
                        client.connect(path)
        """
    )
    pytester.runpytest("--openai-fake-block-network").assert_outcomes(passed=1)


@pytest.mark.parametrize(
    "host", ["api.openai.com", "myresource.openai.azure.com", "api.together.xyz", "api.together.ai", "api.mistral.ai"]
)
def test_provider_hosts_are_blocked_at_lookup(pytester, host):
    pytester.makepyfile(
        f"""
        import socket
        import pytest
        from pytest_openai_fake import NetworkBlockedError

        def test_lookup():
            with pytest.raises(NetworkBlockedError, match="lookup of {host}"):
                socket.getaddrinfo("{host}", 443)
        """
    )
    result = pytester.runpytest("--openai-fake-block-network")
    result.assert_outcomes(failed=1)  # raised and caught: the test still fails
    result.stdout.fnmatch_lines([f"*a lookup of {host}:443, a real provider API host*"])


def test_ini_flag_and_marker_turn_it_on_and_off(pytester):
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\nopenai_fake_block_network = true\n")
    pytester.makepyfile(
        """
        import socket
        import pytest

        def guarded():
            return hasattr(socket.socket.connect, "__wrapped__") and hasattr(socket.getaddrinfo, "__wrapped__")

        def test_on_by_ini():
            assert guarded()

        @pytest.mark.openai_fake_block_network(False)
        def test_off_by_marker():
            assert not guarded()

        @pytest.mark.openai_fake_block_network(enabled=False)
        def test_off_by_marker_keyword():
            assert not guarded()
        """
    )
    pytester.runpytest().assert_outcomes(passed=3)


def test_marker_alone_turns_it_on_and_everything_is_restored_after_each_test(pytester):
    pytester.makepyfile(
        """
        import socket
        import pytest

        ORIGINALS = (socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo)

        def current():
            return (socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo)

        @pytest.fixture
        def during_teardown():
            yield
            assert current() != ORIGINALS  # still guarded while fixtures are torn down

        def test_off_by_default():
            assert current() == ORIGINALS

        @pytest.mark.openai_fake_block_network
        def test_on(during_teardown):
            assert current() != ORIGINALS

        def test_restored():
            assert current() == ORIGINALS
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=3)


def test_attempts_in_fixture_setup_and_teardown_fail_those_phases(pytester):
    pytester.makepyfile(
        """
        import socket
        import pytest

        def reach_out():
            try:
                socket.create_connection(("192.0.2.1", 443), timeout=5)
            except ConnectionError:
                pass

        @pytest.fixture
        def at_setup():
            reach_out()

        @pytest.fixture
        def at_teardown():
            yield
            reach_out()

        def test_setup(at_setup):
            pass

        def test_teardown(at_teardown):
            pass
        """
    )
    result = pytester.runpytest("--openai-fake-block-network")
    result.assert_outcomes(passed=1, errors=2)
    result.stdout.fnmatch_lines(["*ERROR at setup of test_setup*", "*ERROR at teardown of test_teardown*"])


def test_a_bad_marker_argument_is_an_error(pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.openai_fake_block_network("yes")
        def test_a():
            pass

        @pytest.mark.openai_fake_block_network(True, bogus=1)
        def test_b():
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*enabled= must be True or False, got 'yes'*", "*unexpected keyword argument 'bogus'*"])
