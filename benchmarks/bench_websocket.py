"""Plain keep-alive HTTP with WebSocket support on: per-call cost with N idle realtime sockets open,
as a ratio to the same calls with none open, measured in one run.

    python benchmarks/bench_websocket.py [--calls 500] [--repeats 5] [--sockets 100]

One ``FakeOpenAI`` (the realtime extra installed: the server checks each GET for an upgrade), one
keep-alive SDK client (the way the fixture clients call). Each repeat measures, interleaved so that
background load hits them alike:
- no sockets: ``models.retrieve`` (a GET: the requests that pay the upgrade check) and
  ``chat.completions.create`` (a POST), the floor of each (1.00x);
- the same calls with ``--sockets`` realtime sockets open and idle (each opened through the SDK,
  ``client.realtime.connect(model=...)``, its ``session.created`` read; each holds a server
  connection thread blocked in its read);
- the same again once they are closed (back to the floor).
Needs the realtime extras: ``pip install 'pytest-openai-fake[realtime]' 'openai[realtime]'``.

Measured (2-core VM shared with other work, Python 3.11, openai 3.63, wsproto 1.2,
``--calls 300 --repeats 5 --sockets 100``): see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import wsproto  # noqa: F401 - the point: WebSocket support installed

from pytest_openai_fake import FakeOpenAI

MESSAGES = [{"role": "user", "content": "Summarise: the quick brown fox jumps over the lazy dog."}]


def mean_call(fn: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def open_sockets(client: Any, n: int) -> list[Any]:
    connections = []
    for _ in range(n):
        connection = client.realtime.connect(model="gpt-realtime").enter()
        assert connection.recv().type == "session.created"
        connections.append(connection)
    return connections


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sockets", type=int, default=100)
    args = parser.parse_args()

    with FakeOpenAI() as fake:
        client = fake.client()
        calls = {
            "GET models.retrieve": lambda: client.models.retrieve("gpt-4o"),
            "POST chat.completions.create": lambda: client.chat.completions.create(model="gpt-4o", messages=MESSAGES),
        }
        for fn in calls.values():  # warm: caches, the keep-alive connection
            for _ in range(min(100, args.calls)):
                fn()
        samples: dict[tuple[str, str], list[float]] = {}
        opening: list[float] = []
        for _ in range(args.repeats):
            for name, fn in calls.items():
                samples.setdefault((name, "no sockets"), []).append(mean_call(fn, args.calls))
            start = time.perf_counter()
            connections = open_sockets(client, args.sockets)
            opening.append((time.perf_counter() - start) / args.sockets)
            for name, fn in calls.items():
                samples.setdefault((name, f"{args.sockets} idle sockets"), []).append(mean_call(fn, args.calls))
            for connection in connections:
                connection.close()
            for name, fn in calls.items():
                samples.setdefault((name, "sockets closed again"), []).append(mean_call(fn, args.calls))
            fake.reset()  # the log of the sockets and calls; the keep-alive connection stays

    print(f"{'row':<56} {'per call':>10}  ratio to no sockets")
    for name in calls:
        base = statistics.median(samples[(name, "no sockets")])
        for (row_name, condition), values in samples.items():
            if row_name == name:
                value = statistics.median(values)
                print(f"{name + ', ' + condition:<56} {value * 1e6:>8.0f} µs  {value / base:.2f}x")
    print(f"opening a realtime socket through the SDK (handshake + session.created): {statistics.median(opening) * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
