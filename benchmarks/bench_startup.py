"""What installing the plugin costs a pytest run whose tests never use it.

    python benchmarks/bench_startup.py [--runs 7]

Runs ``pytest -q`` on one trivial test in a fresh temporary directory, in a subprocess, with the
plugin (``-p openai_fake`` is loaded by its entry point) and without it (``-p no:openai_fake``),
alternating, and prints the median wall time and CPU time of each and their difference. Also
prints what ``import pytest_openai_fake.plugin`` imports (``python -X importtime``), and whether
``openai`` / ``pydantic`` / ``werkzeug`` / the app are among them (they must not be).
Target (issue 12, point 11): the plugin adds at most 50 ms.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("openai", "pydantic", "werkzeug", "httpx2", "pytest_openai_fake.app", "pytest_openai_fake.resources")


def env() -> dict[str, str]:
    result = dict(os.environ)
    result["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])
    result.pop("PYTEST_ADDOPTS", None)
    result["PYTHONDONTWRITEBYTECODE"] = "0"
    return result


def run_pytest(directory: Path, *args: str) -> tuple[float, float]:
    """Wall seconds and child CPU seconds (user + system) of one ``pytest`` run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=directory,
        env=env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"pytest {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def import_table() -> list[tuple[str, int]]:
    """(module, cumulative µs) of the slowest imports under ``pytest_openai_fake.plugin``, pytest excluded."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import pytest, pytest_openai_fake.plugin"],
        env=env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    rows = []
    seen_pytest = False
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        _self_us, cumulative, name = line[len("import time:") :].split("|")
        if name.strip() == "pytest":
            seen_pytest = True
            continue
        if seen_pytest:
            rows.append((name.rstrip(), int(cumulative)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        (directory / "pytest.ini").write_text("[pytest]\n")
        (directory / "test_nothing.py").write_text("def test_nothing():\n    assert True\n")
        run_pytest(directory)  # warm the OS caches and the bytecode caches
        run_pytest(directory, "-p", "no:openai_fake")
        samples: dict[str, list[tuple[float, float]]] = {"without the plugin": [], "with the plugin": []}
        for _ in range(args.runs):
            samples["without the plugin"].append(run_pytest(directory, "-p", "no:openai_fake"))
            samples["with the plugin"].append(run_pytest(directory))

    print(f"pytest -q on one trivial test, median of {args.runs} runs (alternating)\n")
    print(f"| {'run':<22} | {'wall ms':>8} | {'CPU ms':>8} |")
    print(f"|{'-' * 24}|{'-' * 10}|{'-' * 10}|")
    medians = {}
    for label, rows in samples.items():
        wall = statistics.median(w for w, _ in rows) * 1000
        cpu = statistics.median(c for _, c in rows) * 1000
        medians[label] = (wall, cpu)
        print(f"| {label:<22} | {wall:8.1f} | {cpu:8.1f} |")
    wall = medians["with the plugin"][0] - medians["without the plugin"][0]
    cpu = medians["with the plugin"][1] - medians["without the plugin"][1]
    print(f"| {'plugin adds':<22} | {wall:8.1f} | {cpu:8.1f} |")
    print("\ntarget: the plugin adds at most 50 ms")

    rows = import_table()
    total = sum(us for name, us in rows if not name.startswith("  "))  # top-level imports only
    print(f"\nimport pytest_openai_fake.plugin after pytest: {total / 1000:.1f} ms (python -X importtime)")
    for name, us in sorted(rows, key=lambda r: -r[1])[:8]:
        print(f"  {us / 1000:7.2f} ms  {name.strip()}")
    names = {name.strip() for name, _ in rows}
    heavy = [m for m in HEAVY if any(n == m or n.startswith(m + ".") for n in names)]
    print(f"heavy modules imported at start-up: {', '.join(heavy) if heavy else 'none'}")


if __name__ == "__main__":
    main()
