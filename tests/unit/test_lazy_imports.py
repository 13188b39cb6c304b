"""Cheap when unused: the plugin's start-up imports nothing heavy, and lazy imports keep working."""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest_openai_fake

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("openai", "pydantic", "werkzeug", "httpx2", "pytest_openai_fake.app", "pytest_openai_fake.resources", "pytest_openai_fake.cassette")


def run_python(code: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_importing_the_plugin_loads_no_sdk_and_no_app():
    loaded = json.loads(
        run_python(
            "import json, sys, pytest, pytest_openai_fake.plugin\n"
            f"print(json.dumps([m for m in sys.modules if m.split('.')[0] in {HEAVY!r} or m in {HEAVY!r}"
            " or any(m.startswith(h + '.') for h in " + repr(HEAVY) + ")]))"
        )
    )
    assert loaded == []


def test_every_module_can_be_the_first_one_imported():
    """No import cycle hides behind the import order the package used to force."""
    modules = sorted(
        m.name for m in pkgutil.walk_packages(pytest_openai_fake.__path__, "pytest_openai_fake.") if m.name != "pytest_openai_fake.__main__"
    )
    assert "pytest_openai_fake.state" in modules and "pytest_openai_fake.resources.chat" in modules
    failures = run_python(
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    for loaded in [m for m in sys.modules if m.startswith('pytest_openai_fake')]:\n"
        "        del sys.modules[loaded]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as exc:\n"
        "        print(name, repr(exc))\n"
    )
    assert failures == ""


def test_public_names_resolve_lazily():
    from pytest_openai_fake import FakeOpenAI, NetworkGuard, error
    from pytest_openai_fake.fake import FakeOpenAI as defined

    assert FakeOpenAI is defined
    assert callable(error) and NetworkGuard.__module__ == "pytest_openai_fake.guard"
    assert set(pytest_openai_fake.__all__) <= set(dir(pytest_openai_fake))
    for name in pytest_openai_fake.__all__:
        assert getattr(pytest_openai_fake, name) is not None


def test_the_fixed_port_block_lists_every_provider_once() -> None:
    """plugin.PORT_ORDER is a literal (the plugin must not import the providers at start-up)."""
    from pytest_openai_fake.plugin import PORT_ORDER
    from pytest_openai_fake.providers import PROVIDERS

    assert sorted(PORT_ORDER) == sorted(PROVIDERS) and len(set(PORT_ORDER)) == len(PORT_ORDER)


def test_the_plugin_lists_the_cassette_modes_and_timings() -> None:
    """plugin.RECORD_MODES / REPLAY_TIMINGS are literals (the plugin must not import the cassette module at start-up)."""
    from pytest_openai_fake import cassette, plugin

    assert plugin.RECORD_MODES == cassette.RECORD_MODES and plugin.REPLAY_TIMINGS == cassette.REPLAY_TIMINGS
