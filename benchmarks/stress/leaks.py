"""Leaks: RSS over many calls, and fds/threads/RSS over many server start/stop cycles.

    python benchmarks/stress/leaks.py [--calls 50000] [--cycles 1000] [--quick]

Calls: one FakeOpenAI, ``--calls`` SDK calls (chat plain and streamed, embeddings, responses,
a stored chat completion read back), with ``fake.reset()`` every ``--reset-every`` calls as the
pytest fixture does between tests (the request log and stored objects are kept until a reset
by design, so without resets memory grows on purpose). RSS is sampled after each reset; the
slope (least squares over the samples after the first quarter, the warm-up) is reported in KB
per 1,000 calls and must stay under ``--max-slope`` (default 50 KB: a leak of 50 bytes a call).

Cycles: ``--cycles`` times FakeOpenAI().start(), one request over a raw keep-alive socket
left open (so stop() must close a live connection), stop(). Checks: threads and fds back to
the baseline, RSS growth after warm-up (least-squares slope over the second half) under ``--max-cycle-slope`` KB per cycle, every FakeApp freed —
and how many were freed by reference counting alone, without the cycle collector.
"""

from __future__ import annotations

import gc
import sys
import time
import weakref
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import openai
from _common import Check, Reader, back_to, connect, gauges, parser, read_reply, report, rss_bytes

from pytest_openai_fake import FAKE_API_KEY, FakeOpenAI

MB = 1024 * 1024


def slope_per_1k(points: list[tuple[int, int]]) -> float:
    """Least-squares slope of RSS bytes over calls, in KB per 1,000 calls."""
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    var = sum((x - mx) ** 2 for x, _ in points)
    if not var:
        return 0.0
    return sum((x - mx) * (y - my) for x, y in points) / var * 1000 / 1024


def calls_run(calls: int, reset_every: int, max_slope: float, budget: float) -> list[Check]:
    checks: list[Check] = []
    fake = FakeOpenAI().start()
    http_client = openai.DefaultHttpx2Client()
    client = openai.OpenAI(base_url=fake.base_url, api_key=FAKE_API_KEY, max_retries=0, http_client=http_client, timeout=30)
    ask = [{"role": "user", "content": "leak check: say something"}]
    kinds = [
        lambda: client.chat.completions.create(model="gpt-4o-mini", messages=ask),
        lambda: list(client.chat.completions.create(model="gpt-4o-mini", messages=ask, stream=True)),
        lambda: client.embeddings.create(model="text-embedding-3-small", input=["leak check", "two"]),
        lambda: client.responses.create(model="gpt-4o-mini", input="leak check", store=False),
        lambda: client.chat.completions.retrieve(client.chat.completions.create(model="gpt-4o-mini", messages=ask, store=True).id),
    ]
    samples: list[tuple[int, int]] = []
    errors: list[str] = []
    deadline = time.monotonic() + budget
    started = time.monotonic()
    done = 0
    try:
        for i in range(calls):
            if time.monotonic() > deadline:
                errors.append(f"time budget exhausted after {i} calls")
                break
            try:
                kinds[i % len(kinds)]()
            except Exception as exc:  # noqa: BLE001
                errors.append(f"call {i}: {type(exc).__name__}: {exc}")
                if len(errors) > 20:
                    break
            done = i + 1
            if done % reset_every == 0:
                fake.reset()
                gc.collect()
                samples.append((done, rss_bytes()))
        elapsed = time.monotonic() - started
        problems = fake.take_problems()
    finally:
        http_client.close()
        fake.stop()
    steady = samples[len(samples) // 4 :]
    slope = slope_per_1k(steady)
    first, last = (samples[0][1], samples[-1][1]) if samples else (0, 0)
    checks.append(Check("calls", not errors and not problems, f"{done} calls in {elapsed:.1f} s, {len(errors)} errors, {len(problems)} fake problems" + (f"; first: {errors[0]}" if errors else "")))
    checks.append(Check(
        "RSS slope over calls", slope <= max_slope,
        f"{slope:+.1f} KB per 1k calls over {len(steady)} samples (limit {max_slope:g}); RSS {first / MB:.1f} -> {last / MB:.1f} MB",
    ))
    return checks


def one_cycle(refs: list[weakref.ref]) -> str | None:
    fake = FakeOpenAI().start()
    try:
        sock = connect(fake.port, 5.0)
    except OSError as exc:
        fake.stop()
        return f"connect: {exc}"
    error = None
    try:
        sock.sendall(f"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {FAKE_API_KEY}\r\n\r\n".encode())
        reply = read_reply(Reader(sock, 5.0))
        if reply.status != 200:
            error = f"GET /v1/models: {reply.describe()}"
        fake.stop()  # with the keep-alive connection still open
    finally:
        sock.close()
    refs.append(weakref.ref(fake.app))
    return error


def cycles_run(cycles: int, max_kb_per_cycle: float, budget: float) -> list[Check]:
    checks: list[Check] = []
    refs: list[weakref.ref] = []
    warmup = min(20, max(1, cycles // 10))
    for _ in range(warmup):
        one_cycle(refs)
    gc.collect()
    refs.clear()
    baseline, rss0 = gauges(), rss_bytes()
    errors: list[str] = []
    freed_by_refcount = 0
    deadline = time.monotonic() + budget
    started = time.monotonic()
    done = 0
    samples: list[tuple[int, int]] = []
    every = max(1, cycles // 20)
    for i in range(cycles):
        if time.monotonic() > deadline:
            errors.append(f"time budget exhausted after {i} cycles")
            break
        error = one_cycle(refs)
        if error:
            errors.append(error)
        if refs[-1]() is None:
            freed_by_refcount += 1
        done += 1
        if done % every == 0:
            gc.collect()
            samples.append((done, rss_bytes()))
    elapsed = time.monotonic() - started
    gc.collect()
    alive = sum(ref() is not None for ref in refs)
    ok, now = back_to(baseline, timeout=10.0)
    gc.collect()
    growth = (rss_bytes() - rss0) / MB
    checks.append(Check("start/stop cycles", not errors, f"{done} cycles in {elapsed:.1f} s ({elapsed / max(done, 1) * 1000:.1f} ms each), {len(errors)} errors" + (f"; first: {errors[0]}" if errors else "")))
    checks.append(Check("cycles: threads/fds back to baseline", ok, f"baseline {baseline}, after {now}"))
    # KB per cycle over the second half: the first cycles grow the allocator's arenas.
    per_cycle = slope_per_1k(samples[len(samples) // 2 :]) / 1000
    checks.append(Check(
        "cycles: RSS", per_cycle <= max_kb_per_cycle,
        f"{per_cycle:+.2f} KB per cycle over the second half (limit {max_kb_per_cycle:g}); {growth:+.1f} MB in all after {done} cycles",
    ))
    checks.append(Check("cycles: every FakeApp freed", alive == 0, f"{alive} of {done} still alive after gc.collect()"))
    checks.append(Check(
        "cycles: FakeApp freed without the cycle collector", freed_by_refcount == done,
        f"{freed_by_refcount} of {done} freed by reference counting alone"
        + ("" if freed_by_refcount == done else "; the rest wait for gc (a reference cycle)"),
    ))
    return checks


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--calls", type=int, default=50_000)
    p.add_argument("--reset-every", type=int, default=500)
    p.add_argument("--max-slope", type=float, default=50.0, help="KB per 1,000 calls")
    p.add_argument("--cycles", type=int, default=1000)
    p.add_argument("--max-cycle-slope", type=float, default=10.0, help="KB per cycle (a FakeApp weighs far more)")
    p.add_argument("--budget", type=float, default=600.0, help="seconds for each half before giving up")
    args = p.parse_args(argv)
    if args.quick:
        args.calls, args.cycles, args.reset_every = min(args.calls, 2000), min(args.cycles, 100), min(args.reset_every, 100)
    started = time.monotonic()
    checks = calls_run(args.calls, args.reset_every, args.max_slope, args.budget) if args.calls else []
    checks += cycles_run(args.cycles, args.max_cycle_slope, args.budget) if args.cycles else []
    return report("leaks", checks, args, started, {"calls": args.calls, "cycles": args.cycles})


if __name__ == "__main__":
    sys.exit(main())
