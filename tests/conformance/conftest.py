"""Fixtures for the conformance suite: the openai SDK's own generated tests, run against the fake.

The SDK's tests are not installed with the wheel, so they come from the sdist of the installed
openai version, cached under `.cache/openai-sdk-tests/<version>/` (see README.md here).
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR_ENV = "PYTEST_OPENAI_FAKE_SDK_TESTS_DIR"
DEFAULT_CACHE_DIR = REPO_ROOT / ".cache" / "openai-sdk-tests"
DOWNLOAD_TIMEOUT_S = 300


class SdkSuiteUnavailable(Exception):
    """The SDK's test suite is not cached and could not be downloaded."""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "conformance: runs the openai SDK's own tests/api_resources files against the fake "
        "(downloads the openai sdist once)",
    )


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def sdk_tests_dir(version: str) -> Path:
    """Where the suite for `version` is cached: `$PYTEST_OPENAI_FAKE_SDK_TESTS_DIR/<version>`."""
    base = os.environ.get(CACHE_DIR_ENV)
    return (Path(base).expanduser() if base else DEFAULT_CACHE_DIR) / version


def fetch_sdk_tests(version: str) -> Path:
    """Return the cached suite for `version`, downloading the sdist first if needed.

    The directory holds the sdist's `tests/` tree and its `pyproject.toml` (the suite's pytest
    settings: asyncio_mode=auto, filterwarnings=error, ...). It is built in a temporary sibling
    and renamed into place, so concurrent runs (xdist workers) never see half a suite.
    """
    target = sdk_tests_dir(version)
    if (target / "tests" / "conftest.py").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=target.parent))
    try:
        sdist = _download_sdist(version, staging / "download")
        top = _extract_suite(sdist, staging / "extract")
        try:
            (staging / "extract" / top).rename(target)
        except OSError:  # another process renamed its copy first: fine
            if not (target / "tests" / "conftest.py").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _download_sdist(version: str, dest: Path) -> Path:
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
        "--disable-pip-version-check", "--retries", "1", "--timeout", "15",
        f"openai=={version}", "-d", str(dest),
    ]  # fmt: skip
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=DOWNLOAD_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        raise SdkSuiteUnavailable(
            f"`pip download openai=={version}` timed out after {DOWNLOAD_TIMEOUT_S}s"
        ) from None
    archives = sorted(dest.glob("openai-*.tar.gz")) if dest.is_dir() else []
    if proc.returncode != 0 or len(archives) != 1:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise SdkSuiteUnavailable(
            f"could not download the openai {version} sdist "
            f"(pip exit code {proc.returncode}):\n{tail}"
        )
    return archives[0]


def _extract_suite(sdist: Path, dest: Path) -> str:
    """Extract `<top>/tests/` and `<top>/pyproject.toml` from the sdist into dest; return <top>."""
    with tarfile.open(sdist) as tar:
        members = tar.getmembers()
        top = members[0].name.split("/", 1)[0]
        wanted = [
            m
            for m in members
            if m.name == f"{top}/pyproject.toml" or m.name.startswith(f"{top}/tests/")
        ]
        tar.extractall(dest, members=wanted, filter="data")
    if not (dest / top / "tests" / "conftest.py").is_file():
        raise SdkSuiteUnavailable(f"{sdist.name} has no tests/conftest.py")
    return top


@pytest.fixture(scope="session")
def sdk_suite_root() -> Path:
    """The extracted SDK suite for the installed openai version (skips offline; fails on CI)."""
    version = importlib.metadata.version("openai")
    try:
        return fetch_sdk_tests(version)
    except SdkSuiteUnavailable as exc:
        reason = f"openai SDK test suite unavailable: {exc}"
        if _ci():
            pytest.fail(f"{reason}\n(CI is set, so conformance must not be skipped)")
        pytest.skip(reason)


@pytest.fixture
def fake_base_url() -> Iterator[str]:
    """A fresh fake server for one suite file; yields its base URL (`http://127.0.0.1:PORT/v1`)."""
    from pytest_openai_fake import FakeOpenAI

    with FakeOpenAI() as fake:
        yield fake.base_url
