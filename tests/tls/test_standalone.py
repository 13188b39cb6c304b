"""``python -m pytest_openai_fake --tls``: HTTPS (and HTTP/2) for clients in any language."""

from __future__ import annotations

import os
import re
import shutil
import signal
import ssl
import subprocess
import sys

import httpx2
import openai
import pytest


def test_standalone_tls_prints_the_ca_bundle_and_serves_http2():
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest_openai_fake", "--port", "0", "--tls"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        banner = process.stdout.readline() + process.stdout.readline()
        base_url = re.search(r"at (https://127\.0\.0\.1:\d+/v1)", banner)
        ca_bundle = re.search(r"CA bundle: (\S+)", banner)
        assert base_url and ca_bundle, banner
        assert "HTTP/2 and HTTP/1.1" in banner
        trust = ssl.create_default_context(cafile=ca_bundle.group(1))
        root = base_url.group(1).removesuffix("/v1")
        assert httpx2.get(root + "/", verify=trust, timeout=10).json()["ca_bundle"] == ca_bundle.group(1)
        with httpx2.Client(http2=True, verify=trust, timeout=10) as http:
            client = openai.OpenAI(base_url=base_url.group(1), api_key="sk-any", http_client=http, max_retries=0)
            reply = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
            assert reply.http_response.http_version == "HTTP/2" and reply.parse().choices
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert not os.path.exists(ca_bundle.group(1))  # the throwaway CA is removed at exit
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_tls_key_without_cert_is_a_usage_error():
    result = subprocess.run([sys.executable, "-m", "pytest_openai_fake", "--tls-key", "k.pem"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "--tls-key needs --tls-cert" in result.stderr


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
def test_node_trusts_the_fake_with_node_extra_ca_certs(tls_fake):
    """The README's recipe for Node clients: NODE_EXTRA_CA_CERTS=<ca_bundle>, no code change."""
    script = (
        "const https = require('https');"
        f"https.get('{tls_fake.base_url}/models', {{headers: {{Authorization: 'Bearer sk-any'}}}}, (res) => {{"
        "  let body = ''; res.on('data', (c) => body += c);"
        "  res.on('end', () => { console.log(res.statusCode, JSON.parse(body).object); });"
        "}).on('error', (e) => { console.log('error', e.code); });"
    )
    env = {**os.environ, "NODE_EXTRA_CA_CERTS": tls_fake.ca_bundle}
    trusted = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=30, env=env)
    assert trusted.stdout.strip() == "200 list", trusted.stdout + trusted.stderr
    env.pop("NODE_EXTRA_CA_CERTS")
    untrusted = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=30, env=env)
    assert untrusted.stdout.strip() == "error UNABLE_TO_VERIFY_LEAF_SIGNATURE", untrusted.stdout + untrusted.stderr
