"""Choosing providers from pytest: the marker's provider=, several providers per test, SDK fixtures."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def test_marker_provider_and_several_servers(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        import pytest

        MESSAGES = [{"role": "user", "content": "hi"}]

        @pytest.mark.openai_fake(provider="together")
        def test_marker_picks_the_server(openai_server, openai_client):
            assert openai_server.provider.name == "together"
            assert str(openai_client.base_url).rstrip("/") == openai_server.base_url
            openai_client.chat.completions.create(model="meta-llama/Llama-3.3-70B-Instruct-Turbo", messages=MESSAGES)
            assert openai_server.requests.last.endpoint == "chat.completions.create"

        def test_two_providers_in_one_test(openai_servers, openai_server):
            assert openai_server is openai_servers["openai"]
            together = openai_servers["together"]
            assert together.url != openai_server.url
            openai_server.client().chat.completions.create(model="gpt-4o", messages=MESSAGES)
            together.client().embeddings.create(model="BAAI/bge-base-en-v1.5", input="hello", encoding_format="float")
            assert openai_server.requests.endpoints == ["chat.completions.create"]
            assert together.requests.endpoints == ["embeddings.create"]
            pytest.together_url = together.url

        def test_every_server_is_reset(openai_servers):
            together = openai_servers["together"]
            assert together.url == pytest.together_url  # one server per provider per session
            assert len(together.requests) == 0

        def test_unknown_provider_key(openai_servers):
            with pytest.raises(KeyError, match="unknown provider 'anthropic'"):
                openai_servers["anthropic"]
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_marker_deployments_reach_the_azure_server_of_any_test(pytester: pytest.Pytester):
    # Regression: deployments= was applied only when the marker's provider was azure.
    pytester.makepyfile(
        """
        import pytest

        MESSAGES = [{"role": "user", "content": "hi"}]

        @pytest.mark.openai_fake(deployments={"bot": "gpt-4o-mini"})
        def test_openai_marker(azure_openai_client):
            assert azure_openai_client.chat.completions.create(model="bot", messages=MESSAGES).model == "gpt-4o-mini"

        @pytest.mark.openai_fake(provider="mistral", deployments={"bot": "gpt-4o"})
        def test_mistral_marker_and_azure(openai_servers):
            azure = openai_servers["azure"].client()
            assert azure.chat.completions.create(model="bot", messages=MESSAGES).model == "gpt-4o"
            assert "bot" not in openai_servers["mistral"].state.deployments
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_problems_of_any_provider_fail_the_test(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        import httpx2

        def test_calls_an_unknown_url_on_mistral(openai_servers):
            fake = openai_servers["mistral"]
            httpx2.post(fake.url + "/v1/nowhere", headers={"Authorization": "Bearer k"})
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*pytest-openai-fake has no route for POST /v1/nowhere*"])


@pytest.mark.parametrize(
    "marker, message",
    [
        ("provider='anthropic'", "provider= must be one of azure, mistral, openai, together"),
        ("deployments=['x']", "deployments= must map deployment names to model ids"),
    ],
)
def test_provider_keywords_are_validated(pytester: pytest.Pytester, marker: str, message: str):
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.openai_fake({marker})
        def test_x(openai_server):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret != 0
    result.stdout.fnmatch_lines([f"*{message}*"])


def test_sdk_fixtures_skip_without_their_sdk(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        import sys
        import pytest

        @pytest.fixture(autouse=True)
        def no_provider_sdks(monkeypatch):
            monkeypatch.setitem(sys.modules, "together", None)
            monkeypatch.setitem(sys.modules, "mistralai", None)
            monkeypatch.setitem(sys.modules, "mistralai.client", None)

        def test_together(together_client):
            pass

        def test_mistral(mistral_client):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(["*together_client needs the together SDK*", "*mistral_client needs the mistralai SDK*"])


def test_fixed_port_gives_each_provider_the_next_port(pytester: pytest.Pytester):
    port = _free_block(4)
    pytester.makepyfile(
        f"""
        def test_ports(openai_servers):
            assert openai_servers["openai"].port == {port}
            assert openai_servers["together"].port == {port} + 1
            assert openai_servers["mistral"].port == {port} + 2
            assert openai_servers["azure"].port == {port} + 3
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", f"--openai-fake-port={port}")
    result.assert_outcomes(passed=1)


def _free_block(span: int) -> int:
    """A port such that it and the ``span - 1`` after it are free now (below the ephemeral range)."""
    import random
    import socket

    for _ in range(200):
        base = random.randrange(20000, 32000 - span)
        socks = [socket.socket() for _ in range(span)]
        try:
            for offset, sock in enumerate(socks):
                sock.bind(("127.0.0.1", base + offset))
            return base
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError("no free port range found in 200 tries")
