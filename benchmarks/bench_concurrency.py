"""Small calls from 8 threads, with and without one large chat request running alongside.

    python benchmarks/bench_concurrency.py [--threads 8] [--seconds 4] [--mib 10]

Each of ``--threads`` threads calls ``models.list()`` (a small call that reads the store) and
``chat.completions.create`` with a one-line prompt, alternately, through the real SDK on its own
keep-alive connection, for ``--seconds``. The "floor" row is that load alone; the next row adds one
more thread posting a ``--mib`` MiB chat request in a loop. Prints p50 / p95 / max latency of the
small calls and their throughput, and each as a ratio to the floor of the same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time

import httpx2
import openai

from pytest_openai_fake import FakeOpenAI


def small_calls(client: openai.OpenAI, stop: threading.Event, latencies: list[float]) -> None:
    ask = [{"role": "user", "content": "hi"}]
    turn = 0
    while not stop.is_set():
        started = time.perf_counter()
        if turn % 2:
            client.chat.completions.create(model="gpt-4o-mini", messages=ask)
        else:
            client.models.list()
        latencies.append(time.perf_counter() - started)
        turn += 1


def large_calls(base_url: str, body: bytes, stop: threading.Event, durations: list[float]) -> None:
    headers = {"Authorization": "Bearer sk-bench", "Content-Type": "application/json"}
    with httpx2.Client(timeout=60) as http:
        while not stop.is_set():
            started = time.perf_counter()
            assert http.post(base_url + "/chat/completions", content=body, headers=headers).status_code == 200
            durations.append(time.perf_counter() - started)


def run(fake: FakeOpenAI, threads: int, seconds: float, large: bytes | None) -> dict[str, float]:
    stop = threading.Event()
    per_thread: list[list[float]] = [[] for _ in range(threads)]
    clients = [
        openai.OpenAI(api_key="sk-bench", base_url=fake.base_url, max_retries=0, http_client=httpx2.Client())
        for _ in range(threads)
    ]
    big: list[float] = []
    workers = [threading.Thread(target=small_calls, args=(c, stop, l)) for c, l in zip(clients, per_thread)]
    if large is not None:
        workers.append(threading.Thread(target=large_calls, args=(fake.base_url, large, stop, big)))
    for worker in workers:
        worker.start()
    time.sleep(seconds)
    stop.set()
    for worker in workers:
        worker.join(timeout=120)
    for client in clients:
        client.close()
    latencies = sorted(x for l in per_thread for x in l)
    fake.reset()
    return {
        "calls": len(latencies),
        "throughput": len(latencies) / seconds,
        "p50": statistics.median(latencies) * 1000,
        "p95": latencies[int(len(latencies) * 0.95)] * 1000,
        "max": latencies[-1] * 1000,
        "large": len(big),
        "large_s": statistics.mean(big) if big else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--mib", type=float, default=10.0, help="size of the large chat request (default: %(default)s)")
    args = parser.parse_args()
    words = "hello world " * int(args.mib * 2**20 / 12)
    large = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": words}]}).encode()
    with FakeOpenAI() as fake:
        run(fake, args.threads, 0.5, None)  # warm up: imports, connections
        floor = run(fake, args.threads, args.seconds, None)
        loaded = run(fake, args.threads, args.seconds, large)
    print(f"{args.threads} threads of small calls for {args.seconds:g} s; large request {len(large) / 2**20:.1f} MiB")
    print("| row | calls/s | p50 ms | p95 ms | max ms | large requests (mean s) |")
    print("|---|---|---|---|---|---|")
    for name, row in (
        ("floor: small calls alone", floor),
        (f"with one {args.mib:g} MiB chat request in a loop", loaded),
    ):
        ratio = "" if row is floor else f" ({row['throughput'] / floor['throughput']:.2f}x)"
        p95 = "" if row is floor else f" ({row['p95'] / floor['p95']:.2f}x)"
        large_text = f"{row['large']} ({row['large_s']:.2f} s)" if row["large"] else "-"
        print(
            f"| {name} | {row['throughput']:.0f}{ratio} | {row['p50']:.1f} | {row['p95']:.1f}{p95} | {row['max']:.0f} | {large_text} |"
        )


if __name__ == "__main__":
    main()
