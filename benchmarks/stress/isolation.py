"""Isolation: many tests under pytest-xdist share the session fake; none sees another's traces.

    python benchmarks/stress/isolation.py [--tests 400] [--workers 2] [--quick]

Writes a throwaway test module to a temporary directory and runs it with ``pytest -n
--workers`` in a subprocess (bounded by ``--timeout``). The module holds ``--tests`` tests that
use the plugin's fixtures. Each test makes a different number of calls (1 to 5) tagged with its
own name, scripts a reply carrying its name, and stores a chat completion. It asserts:

- the request log holds exactly its own calls, all tagged with its name;
- the stored-completions list holds only its own;
- the scripted reply is its own (no script leaks in from an earlier test);
- the fake clock starts at the same instant, and ids start at the same sequence.

Each test also writes its first completion id and ``created`` to a file. The script then checks
that every test passed, and that those values are the same in every test and on every worker
(a per-test reset makes them deterministic).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, Check, parser, report

TEST_MODULE = '''
import json, os, pytest

N = {tests}
OUT = {out!r}


@pytest.mark.parametrize("index", range(N))
def test_isolated(index, openai_server, openai_client):
    tag = f"test-{{index}}"
    calls = 1 + index % 5
    openai_server.on("chat.completions.create", message="scripted").respond(f"reply for {{tag}}")
    first = openai_client.chat.completions.create(
        model="gpt-4o-mini", messages=[{{"role": "user", "content": f"{{tag}} first"}}], user=tag
    )
    for i in range(1, calls):
        openai_client.embeddings.create(model="text-embedding-3-small", input=f"{{tag}} {{i}}", encoding_format="float")
    log = openai_server.requests
    assert len(log) == calls, [r.summary() for r in log]
    assert all(tag in r.body.decode() for r in log), [r.summary() for r in log]
    scripted = openai_client.chat.completions.create(
        model="gpt-4o-mini", messages=[{{"role": "user", "content": "scripted"}}], store=True, metadata={{"tag": tag}}
    )
    assert scripted.choices[0].message.content == f"reply for {{tag}}"
    stored = openai_client.chat.completions.list()
    assert [c.metadata for c in stored.data] == [{{"tag": tag}}]
    with open(os.path.join(OUT, f"{{os.environ.get('PYTEST_XDIST_WORKER', 'main')}}.jsonl"), "a") as f:
        f.write(json.dumps({{"index": index, "id": first.id, "created": first.created, "stored": scripted.id}}) + "\\n")
'''


def run(tests: int, workers: int, timeout: float) -> list[Check]:
    checks: list[Check] = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        out.mkdir()
        (Path(tmp) / "test_isolation_stress.py").write_text(TEST_MODULE.format(tests=tests, out=str(out)))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
        env.pop("PYTEST_ADDOPTS", None)
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", str(workers),
               "-o", "asyncio_default_fixture_loop_scope=function",
               "--rootdir", tmp, "-c", os.devnull, str(Path(tmp) / "test_isolation_stress.py")]
        started = time.monotonic()
        try:
            proc = subprocess.run(cmd, check=False, cwd=tmp, env=env, timeout=timeout, capture_output=True, text=True)
            code, output = proc.returncode, proc.stdout + proc.stderr
        except subprocess.TimeoutExpired:
            code, output = None, f"pytest did not finish within {timeout:g} s"
        elapsed = time.monotonic() - started
        counts = [line for line in output.splitlines() if " passed" in line or " failed" in line or " error" in line]
        summary = (counts or output.strip().splitlines() or ["no output"])[-1].strip("= ")
        checks.append(Check(f"{tests} tests under xdist -n {workers}", code == 0, f"{summary} (exit {code}, {elapsed:.1f} s)"))
        if code != 0:
            print(output[-4000:])
        rows = [json.loads(line) for f in out.glob("*.jsonl") for line in f.read_text().splitlines()]
        workers_seen = len(list(out.glob("*.jsonl")))
        firsts = {(r["id"], r["created"]) for r in rows}
        stored = {r["stored"] for r in rows}
        checks.append(Check(
            "same ids and clock in every test", len(rows) == tests and len(firsts) == 1 and len(stored) == 1,
            f"{len(rows)} tests reported from {workers_seen} workers; {len(firsts)} distinct first (id, created), {len(stored)} distinct stored ids",
        ))
    return checks


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--tests", type=int, default=400)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--timeout", type=float, default=600.0)
    args = p.parse_args(argv)
    if args.quick:
        args.tests = min(args.tests, 60)
    started = time.monotonic()
    checks = run(args.tests, args.workers, args.timeout)
    return report("isolation", checks, args, started, {"tests": args.tests, "workers": args.workers})


if __name__ == "__main__":
    sys.exit(main())
