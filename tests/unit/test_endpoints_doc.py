"""ENDPOINTS.md is generated from the route registry and must be current."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "gen_endpoints.py"


def test_endpoints_md_is_up_to_date():
    spec = importlib.util.spec_from_file_location("gen_endpoints", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.TARGET.read_text() == module.render(), "run: python scripts/gen_endpoints.py"
