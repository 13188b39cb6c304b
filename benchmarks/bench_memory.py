"""RSS after a 500 MiB upload and ``reset()``, with the cyclic garbage collector off.

    python benchmarks/bench_memory.py [--mib 500] [--posts 1]

Prints the RSS (from /proc/self/statm) before, after the reply, and after ``reset()``; exits 1
when RSS after reset is more than 10% above where it started. Linux only.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time

import httpx2

from pytest_openai_fake import FakeOpenAI

MIB = 2**20


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MIB


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mib", type=int, default=500, help="upload size in MiB (default: %(default)s)")
    parser.add_argument("--posts", type=int, default=1, help="uploads, each followed by reset() (default: %(default)s)")
    args = parser.parse_args()
    gc.collect()
    gc.disable()
    with FakeOpenAI() as fake, httpx2.Client(timeout=300) as http:
        http.get(fake.url + "/health")
        baseline = rss_mib()
        print(f"baseline              {baseline:8.0f} MiB")
        for post in range(args.posts):
            payload = b"{" + b"x" * (args.mib * MIB)
            started = time.perf_counter()
            status = http.post(
                fake.base_url + "/embeddings",
                content=payload,
                headers={"Authorization": "Bearer sk-bench", "Content-Type": "application/json"},
            ).status_code
            del payload
            print(
                f"post {post + 1}: {status} in {time.perf_counter() - started:5.2f} s, RSS {rss_mib():8.0f} MiB (body kept in the log)"
            )
            fake.reset()
        deadline = time.monotonic() + 5
        while rss_mib() > baseline * 1.1 and time.monotonic() < deadline:
            time.sleep(0.05)
        after = rss_mib()
    print(f"after reset()         {after:8.0f} MiB  ({(after - baseline) / baseline:+.1%}, gc never ran)")
    return 0 if after <= baseline * 1.1 else 1


if __name__ == "__main__":
    sys.exit(main())
