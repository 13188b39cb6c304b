"""``--openai-fake-tls`` (ini ``openai_fake_tls``, env ``PYTEST_OPENAI_FAKE_TLS``): the session's servers over HTTPS."""

from __future__ import annotations

import pytest

pytest.importorskip("trustme", reason="TLS needs the tls extra: pip install 'pytest-openai-fake[tls]'")

FIXTURE_CLIENTS = """
import os
import ssl

import httpx2
import openai
import pytest

ASK = [{"role": "user", "content": "Hi"}]


def test_server_and_clients(openai_server, openai_client):
    assert openai_server.base_url.startswith("https://127.0.0.1:")
    assert open(openai_server.ca_bundle).read().startswith("-----BEGIN CERTIFICATE-----")
    assert openai_client.chat.completions.create(model="gpt-4o", messages=ASK).choices
    assert openai_server.requests.last.endpoint == "chat.completions.create"


@pytest.mark.asyncio
async def test_async_client(async_openai_client):
    assert (await async_openai_client.chat.completions.create(model="gpt-4o", messages=ASK)).choices


def test_every_provider_shares_one_ca(openai_servers, azure_openai_client):
    assert azure_openai_client.chat.completions.create(model="gpt-4o", messages=ASK).choices
    assert openai_servers["azure"].ca_bundle == openai_servers["openai"].ca_bundle
    assert openai_servers["azure"].url.startswith("https://")


def test_http2_with_the_ca_bundle(openai_server):
    http = httpx2.Client(http2=True, verify=ssl.create_default_context(cafile=openai_server.ca_bundle))
    reply = openai_server.client(http_client=http).models.with_raw_response.list()
    assert reply.http_response.http_version == "HTTP/2"
    http.close()


def test_openai_env_makes_default_clients_trust_the_fake(openai_env, openai_server):
    assert openai_env["OPENAI_BASE_URL"].startswith("https://")
    assert os.environ["NODE_EXTRA_CA_CERTS"] == openai_server.ca_bundle
    trust = open(os.environ["SSL_CERT_FILE"]).read()
    assert open(openai_server.ca_bundle).read().strip() in trust
    assert trust.count("BEGIN CERTIFICATE") > 10  # the usual CAs too: SSL_CERT_FILE replaces a client's trust
    assert os.environ["REQUESTS_CA_BUNDLE"] == os.environ["SSL_CERT_FILE"]
    client = openai.OpenAI(max_retries=0)  # no arguments: everything from the environment
    assert client.chat.completions.create(model="gpt-4o", messages=ASK).choices
"""


def test_the_option_serves_every_fixture_over_https(pytester: pytest.Pytester) -> None:
    pytest.importorskip("h2")
    pytester.makepyfile(FIXTURE_CLIENTS)
    pytester.runpytest("--openai-fake-tls").assert_outcomes(passed=5)


def test_ini_and_env(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(
        """
        import os

        def test_scheme(openai_server, openai_client):
            assert openai_server.url.startswith(os.environ["WANT"] + "://")
            assert openai_client.models.list().data
        """
    )
    monkeypatch.setenv("WANT", "http")
    pytester.runpytest().assert_outcomes(passed=1)  # plain HTTP by default
    monkeypatch.setenv("WANT", "https")
    monkeypatch.setenv("PYTEST_OPENAI_FAKE_TLS", "1")
    pytester.runpytest().assert_outcomes(passed=1)
    monkeypatch.setenv("PYTEST_OPENAI_FAKE_TLS", "0")
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\nopenai_fake_tls = true\n")
    pytester.runpytest().assert_outcomes(passed=1)  # ini wins over env


def test_a_bad_value_is_one_usage_error(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile("def test_x(openai_server): pass")
    monkeypatch.setenv("PYTEST_OPENAI_FAKE_TLS", "maybe")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*PYTEST_OPENAI_FAKE_TLS: expected true or false*'maybe'*"])


def test_a_users_certificate(pytester: pytest.Pytester) -> None:
    import trustme

    leaf = trustme.CA().issue_cert("127.0.0.1", "localhost")
    leaf.cert_chain_pems[0].write_to_path(str(pytester.path / "cert.pem"))
    leaf.private_key_pem.write_to_path(str(pytester.path / "key.pem"))
    pytester.makepyfile(
        """
        def test_own(openai_server, openai_client):
            assert openai_server.ca_bundle.endswith("cert.pem")
            assert openai_client.models.list().data
        """
    )
    pytester.runpytest("--openai-fake-tls-cert", "cert.pem", "--openai-fake-tls-key", "key.pem").assert_outcomes(passed=1)
    result = pytester.runpytest("--openai-fake-tls-cert", "missing.pem")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--openai-fake-tls-cert: no such file: missing.pem*"])


def test_together_and_mistral_clients_over_tls(pytester: pytest.Pytester) -> None:
    pytest.importorskip("together")
    pytest.importorskip("mistralai.client")
    pytester.makepyfile(
        """
        ASK = [{"role": "user", "content": "Hi"}]

        def test_together(together_client, openai_servers):
            assert openai_servers["together"].url.startswith("https://")
            assert together_client.chat.completions.create(model="meta-llama/Llama-3.3-70B-Instruct-Turbo", messages=ASK).choices

        def test_mistral(mistral_client, openai_servers):
            assert openai_servers["mistral"].url.startswith("https://")
            assert mistral_client.chat.complete(model="mistral-small-latest", messages=ASK).choices
        """
    )
    pytester.runpytest("--openai-fake-tls").assert_outcomes(passed=2)
