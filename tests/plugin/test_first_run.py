"""The README's first command (`pip install -e . && pytest examples/`) runs clean without the test extra."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_no_config_warning_when_pytest_asyncio_is_absent():
    # -p no:asyncio: pytest-asyncio's plugin is not loaded, so its ini options are unknown.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER")}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:asyncio", "-p", "no:cacheprovider", "-q", "examples/test_quickstart.py"],
        cwd=REPO,
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "passed" in proc.stdout
    assert "warning" not in (proc.stdout + proc.stderr).lower(), proc.stdout + proc.stderr
