"""Run every stress script and print one summary table (PASS/FAIL per check, with figures).

    python benchmarks/stress/run_all.py --quick          # about a minute
    python benchmarks/stress/run_all.py                  # the full figures (~11 minutes on 2 cores)
    python benchmarks/stress/run_all.py --only load,fuzz

Each script runs in its own process (its RSS and thread counts are its own), bounded by
``--timeout`` seconds. Exits 1 if any check failed or any script did not finish.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ["load", "disconnects", "leaks", "fuzz", "malformed_http", "isolation"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--only", help="comma-separated script names: " + ",".join(SCRIPTS))
    p.add_argument("--timeout", type=float, default=None, help="seconds per script (default 300 quick, 1800 full)")
    p.add_argument("--json", metavar="PATH", help="write every script's checks to PATH")
    args = p.parse_args(argv)
    names = SCRIPTS if not args.only else [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = sorted(set(names) - set(SCRIPTS))
    if unknown:
        p.error(f"unknown scripts: {unknown}")
    timeout = args.timeout or (300.0 if args.quick else 1800.0)
    results = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            out = Path(tmp) / f"{name}.json"
            cmd = [sys.executable, str(HERE / f"{name}.py"), "--json", str(out)] + (["--quick"] if args.quick else [])
            print(f"$ {' '.join(cmd[1:2] + cmd[4:])}", flush=True)
            t0 = time.monotonic()
            try:
                proc = subprocess.run(cmd, check=False, timeout=timeout, capture_output=True, text=True)
                code, tail = proc.returncode, (proc.stdout + proc.stderr)[-3000:]
            except subprocess.TimeoutExpired:
                code, tail = None, f"did not finish within {timeout:g} s"
            seconds = time.monotonic() - t0
            if out.exists():
                data = json.loads(out.read_text())
            else:
                data = {"script": name, "checks": [{"name": "finished", "ok": False, "figures": tail.strip().splitlines()[-1:] or "no output"}]}
                print(tail)
            data["seconds"] = round(seconds, 1)
            data["exit"] = code
            results.append(data)
            verdict = "PASS" if code == 0 else "FAIL"
            print(f"  {verdict} in {seconds:.1f} s", flush=True)
    width = max(len(c["name"]) for r in results for c in r["checks"])
    print(f"\nSummary ({'quick' if args.quick else 'full'} run, {time.monotonic() - started:.0f} s)")
    print(f"{'script':<15} {'check':<{width}}  result  figures")
    failed = 0
    for r in results:
        for c in r["checks"]:
            failed += not c["ok"]
            figures = str(c["figures"]).replace("\n", "\n" + " " * (15 + width + 11))
            print(f"{r['script']:<15} {c['name']:<{width}}  {'PASS' if c['ok'] else 'FAIL':<6}  {figures}")
        if r["exit"] not in (0, 1):
            failed += 1
            print(f"{r['script']:<15} {'(exit status)':<{width}}  FAIL    exit {r['exit']}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    print(f"\n{'FAIL' if failed else 'PASS'}: {failed} failed checks")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
