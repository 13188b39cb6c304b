"""Applications built on libraries that pin their own openai (docs/versions.md).

llama-index-llms-openai pins ``openai<3`` and instructor's ``jiter<0.15`` excludes the newest
openai 3.x, so these tests run in the openai 2.x environment of ``.ci/run`` (which installs
them); elsewhere they skip with the reason, unless ``PYTEST_OPENAI_FAKE_REQUIRE_INTEGRATIONS``
is set (as ``.ci/run`` does there): then a missing library fails.
"""

from __future__ import annotations

import importlib.util
import os

import pytest


@pytest.fixture
def require():
    """``require(module, install)``: skip (or fail, see above) when ``module`` is missing."""
    return _require


def _require(module: str, install: str) -> None:
    if importlib.util.find_spec(module.split(".")[0]) is not None and importlib.util.find_spec(module) is not None:
        return
    reason = f"needs {module}: pip install {install} (it pins its own openai, see docs/versions.md)"
    if os.environ.get("PYTEST_OPENAI_FAKE_REQUIRE_INTEGRATIONS", "").strip() not in ("", "0"):
        pytest.fail(reason + " (PYTEST_OPENAI_FAKE_REQUIRE_INTEGRATIONS is set)", pytrace=False)
    pytest.skip(reason)
