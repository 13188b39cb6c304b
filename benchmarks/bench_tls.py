"""Per-call cost over TLS (HTTP/1.1 and HTTP/2) as a ratio to plain HTTP, measured in one run.

    python benchmarks/bench_tls.py [--calls 500] [--repeats 5]

Rows, each ``chat.completions.create`` through the SDK with a keep-alive ``httpx2`` client (the
way the fixture clients call), interleaved so that background load hits them alike:
- plain: ``FakeOpenAI()``, HTTP/1.1 over TCP (the baseline, 1.00x);
- TLS HTTP/1.1: ``FakeOpenAI(tls=True)``, a client that does not offer h2;
- TLS HTTP/2: the same server, ``httpx2.Client(http2=True)`` (ALPN h2);
- the same three with ``stream=True``, consumed to the end;
- concurrent: 50 calls at once from ``AsyncOpenAI`` (HTTP/1.1: a pool of connections; HTTP/2:
  one multiplexed connection), time per call.
Also: the cost of a new TLS connection (handshake) and of making the throwaway CA.
Needs the http2 extra: ``pip install 'pytest-openai-fake[http2]'``.

Measured (2-core VM shared with other work, Python 3.11, openai 3.63, httpx2 2.17, h2 4.4.1,
``--calls 150 --repeats 3``): per call plain 1334 µs; TLS HTTP/1.1 1.06x; TLS HTTP/2 1.68x.
Streamed: TLS HTTP/1.1 1.10x, HTTP/2 0.71x. 50 concurrent async: TLS HTTP/1.1 1.39x, HTTP/2
0.95x (one multiplexed connection). New connection + GET: plain 1.2 ms, TLS 2.4 ms. Throwaway CA
22 ms. Background load moves single runs by 20 % or more.
"""

from __future__ import annotations

import argparse
import asyncio
import ssl
import statistics
import time
from typing import Callable

import httpx2
import openai
from bench_chat import per_call  # benchmarks/ is on sys.path when run as a script

from pytest_openai_fake import FakeOpenAI

MESSAGES = [{"role": "user", "content": "Summarise: the quick brown fox jumps over the lazy dog."}]




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import trustme  # noqa: F401 - its import (cryptography) is paid once per process, not per CA

    FakeOpenAI()  # the first FakeOpenAI() pays for importing and building the app; not TLS's cost
    started = time.perf_counter()
    secure = FakeOpenAI(tls=True)
    make_ca = time.perf_counter() - started
    with FakeOpenAI() as plain, secure:
        trust = ssl.create_default_context(cafile=secure.ca_bundle)
        clients = {
            "plain HTTP/1.1": plain.client(),
            "TLS HTTP/1.1": secure.client(http_client=httpx2.Client(verify=trust)),
            "TLS HTTP/2": secure.client(http_client=httpx2.Client(http2=True, verify=trust)),
        }
        version = clients["TLS HTTP/2"].chat.completions.with_raw_response.create(model="gpt-4o", messages=MESSAGES).http_response.http_version
        assert version == "HTTP/2", version

        def call(client: openai.OpenAI, stream: bool) -> Callable[[], object]:
            if stream:
                return lambda: list(client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True))
            return lambda: client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

        single = per_call({name: call(c, False) for name, c in clients.items()}, args.calls, args.repeats)
        streamed = per_call({name: call(c, True) for name, c in clients.items()}, max(1, args.calls // 4), args.repeats)

        async def burst(fake: FakeOpenAI, http: httpx2.AsyncClient, n: int = 50) -> float:
            client = fake.async_client(http_client=http)
            await asyncio.gather(*[client.chat.completions.create(model="gpt-4o", messages=MESSAGES) for _ in range(n)])  # warm
            start = time.perf_counter()
            await asyncio.gather(*[client.chat.completions.create(model="gpt-4o", messages=MESSAGES) for _ in range(n)])
            took = (time.perf_counter() - start) / n
            await http.aclose()
            return took

        concurrent: dict[str, list[float]] = {name: [] for name in clients}
        for _ in range(args.repeats):
            concurrent["plain HTTP/1.1"].append(asyncio.run(burst(plain, httpx2.AsyncClient())))
            concurrent["TLS HTTP/1.1"].append(asyncio.run(burst(secure, httpx2.AsyncClient(verify=trust))))
            concurrent["TLS HTTP/2"].append(asyncio.run(burst(secure, httpx2.AsyncClient(http2=True, verify=trust))))

        handshakes = []
        for _ in range(20):
            start = time.perf_counter()
            with httpx2.Client(verify=trust) as fresh:
                fresh.get(secure.url + "/health")
            handshakes.append(time.perf_counter() - start)
        plain_connects = []
        for _ in range(20):
            start = time.perf_counter()
            with httpx2.Client(verify=trust) as fresh:  # the same context: building one costs ~50 ms
                fresh.get(plain.url + "/health")
            plain_connects.append(time.perf_counter() - start)

    print(f"{'row':<44} {'per call':>10}  ratio to plain")
    for title, table in (("chat.completions.create", single), ("same, stream=True (consumed)", streamed)):
        base = table["plain HTTP/1.1"]
        for name, value in table.items():
            print(f"{title + ', ' + name:<44} {value * 1e6:>8.0f} µs  {value / base:.2f}x")
    base = statistics.median(concurrent["plain HTTP/1.1"])
    for name, values in concurrent.items():
        value = statistics.median(values)
        print(f"{'50 concurrent (async), ' + name:<44} {value * 1e6:>8.0f} µs  {value / base:.2f}x")
    print(f"new connection + GET /health: plain {statistics.median(plain_connects) * 1e3:.2f} ms, TLS {statistics.median(handshakes) * 1e3:.2f} ms")
    print(f"FakeOpenAI(tls=True): throwaway CA + certificate (trustme, imported already): {make_ca * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
