"""The plugin's options for the session server: allowed Host names, credentials in the log."""

from __future__ import annotations

import pytest


def test_allowed_hosts_from_the_option_and_the_ini(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\nopenai_fake_allowed_hosts =\n    fake.internal\n")
    pytester.makepyfile(
        """
        import httpx2

        def get(server, host):
            return httpx2.get(server.url + "/health", headers={"Host": host}).status_code

        def test_hosts(openai_server):
            assert get(openai_server, "fake.internal") == 200      # ini
            assert get(openai_server, "other.internal") == 200     # option
            assert get(openai_server, "evil.example") == 421       # neither
        """
    )
    pytester.runpytest("--openai-fake-allow-host", "other.internal").assert_outcomes(passed=1)


def test_credentials_are_masked_unless_the_ini_keeps_them(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(
        """
        import os
        from pytest_openai_fake import FAKE_API_KEY

        def test_log(openai_server, openai_client):
            openai_client.models.list()
            shown = openai_server.requests.last.headers["authorization"]
            keep = os.environ["KEEP"] == "1"
            assert (shown == f"Bearer {FAKE_API_KEY}") is keep
            assert FAKE_API_KEY[-4:] in shown
        """
    )
    monkeypatch.setenv("KEEP", "0")
    pytester.runpytest().assert_outcomes(passed=1)
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\nopenai_fake_keep_credentials = true\n")
    monkeypatch.setenv("KEEP", "1")
    pytester.runpytest().assert_outcomes(passed=1)
