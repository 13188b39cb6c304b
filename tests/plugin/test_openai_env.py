"""openai_env and ini openai_fake_env: SDK clients built with no arguments reach the fake."""

from __future__ import annotations

import pytest

SENTINELS = {
    "OPENAI_BASE_URL": "http://192.0.2.1/v1",
    "OPENAI_API_KEY": "sk-real-looking",
    "AZURE_OPENAI_ENDPOINT": "https://example.openai.azure.com",
    "AZURE_OPENAI_AD_TOKEN": "ad-token",
    "TOGETHER_BASE_URL": "https://192.0.2.1",
}


@pytest.fixture
def real_env(monkeypatch):
    """The outer environment a developer might have: real keys and endpoints."""
    for name, value in SENTINELS.items():
        monkeypatch.setenv(name, value)


def test_clients_built_with_no_arguments_reach_the_fake(pytester, real_env):
    pytester.makepyfile(
        """
        import os
        import openai

        def test_openai(openai_env, openai_server):
            reply = openai.OpenAI(max_retries=0).chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
            )
            assert reply.choices[0].message.content
            assert openai_server.requests.last.endpoint == "chat.completions.create"
            assert openai_env["OPENAI_BASE_URL"] == openai_server.base_url == os.environ["OPENAI_BASE_URL"]

        def test_azure(openai_env, openai_servers):
            assert "AZURE_OPENAI_AD_TOKEN" not in os.environ
            reply = openai.AzureOpenAI(max_retries=0).chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
            )
            assert reply.choices[0].message.content
            captured = openai_servers["azure"].requests.last
            assert captured.endpoint == "chat.completions.create"
            from pytest_openai_fake.app import mask_credential

            assert captured.headers["api-key"] == mask_credential(openai_env["AZURE_OPENAI_API_KEY"])  # masked in the log

        def test_async(openai_env, openai_server):
            import asyncio

            async def main():
                async with openai.AsyncOpenAI(max_retries=0) as client:
                    return await client.embeddings.create(model="text-embedding-3-small", input="x")

            assert asyncio.run(main()).data[0].embedding
            assert openai_server.requests.last.endpoint == "embeddings.create"
        """
    )
    pytester.runpytest("--openai-fake-block-network").assert_outcomes(passed=3)


def test_together_client_built_with_no_arguments_reaches_the_fake(pytester, real_env):
    pytest.importorskip("together")
    pytester.makepyfile(
        """
        import together

        def test_together(openai_env, openai_servers):
            reply = together.Together(max_retries=0).chat.completions.create(
                model="meta-llama/Llama-3.3-70B-Instruct-Turbo", messages=[{"role": "user", "content": "hi"}]
            )
            assert reply.choices[0].message.content
            assert openai_servers["together"].requests.last.endpoint == "chat.completions.create"
        """
    )
    pytester.runpytest("--openai-fake-block-network").assert_outcomes(passed=1)


def test_the_environment_is_restored_after_the_test(pytester, real_env):
    pytester.makepyfile(
        f"""
        import os

        SENTINELS = {SENTINELS!r}

        def test_uses_it(openai_env):
            assert os.environ["OPENAI_BASE_URL"].startswith("http://127.0.0.1:")
            assert "AZURE_OPENAI_AD_TOKEN" not in os.environ

        def test_after():
            assert {{name: os.environ.get(name) for name in SENTINELS}} == SENTINELS
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=2)


def test_ini_flag_gives_every_test_the_environment(pytester, real_env):
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\nopenai_fake_env = true\n")
    pytester.makepyfile(
        """
        import openai
        import pytest

        def test_plain(openai_server):
            assert openai.OpenAI(max_retries=0).models.list().data
            assert openai_server.requests.last.endpoint == "models.list"

        def test_without_fixtures():
            assert openai.OpenAI(max_retries=0).models.list().data

        @pytest.mark.openai_fake(provider="together")
        def test_marker_provider(openai_server):
            # OPENAI_BASE_URL points at the test's openai_server: here the Together one
            reply = openai.OpenAI(max_retries=0).chat.completions.create(
                model="meta-llama/Llama-3.3-70B-Instruct-Turbo", messages=[{"role": "user", "content": "hi"}]
            )
            assert reply.choices[0].message.content
            assert openai_server.provider.name == "together"
            assert openai_server.requests.last.endpoint == "chat.completions.create"
        """
    )
    pytester.runpytest("--openai-fake-block-network").assert_outcomes(passed=3)


def test_without_the_ini_flag_tests_that_do_not_ask_keep_their_environment(pytester, real_env):
    pytester.makepyfile(
        """
        import os

        def test_plain():
            assert os.environ["OPENAI_BASE_URL"] == "http://192.0.2.1/v1"
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)
