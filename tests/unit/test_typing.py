"""The public API type-checks in user code under ``mypy --strict`` (the package ships py.typed)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

HERE = Path(__file__).parent / "typecheck"
ROOT = Path(__file__).resolve().parents[2]

pytest.importorskip("mypy", reason="mypy is not installed (pip install -e .[test])")


def mypy(*paths: Path) -> subprocess.CompletedProcess[str]:
    # A cache outside the test's tmp dir: a cold run reads the openai package (~20 s), a warm one ~2 s.
    cache = Path(tempfile.gettempdir()) / "pytest-openai-fake-mypy-cache"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--cache-dir", str(cache), *map(str, paths)],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=ROOT,
    )


def test_a_user_suite_using_the_public_api_is_clean_under_mypy_strict():
    result = mypy(HERE / "user_suite.py")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_sees_the_reply_type(tmp_path: Path):
    """The check above could pass if mypy saw no types at all: a wrong reply must be an error."""
    bad = tmp_path / "bad_suite.py"
    bad.write_text(
        "from pytest_openai_fake import FakeOpenAI, Reply\n"
        "def test_x(fake: FakeOpenAI) -> None:\n"
        "    fake.on('chat.completions.create').once(42)\n"
        "    reply: Reply = object()\n"
    )
    result = mypy(bad)
    assert result.returncode == 1
    assert 'bad_suite.py:3: error: Argument 1 to "once" of "Script" has incompatible type "int"; expected "Reply"' in result.stdout
    assert "bad_suite.py:4: error: Incompatible types in assignment" in result.stdout
