"""Disconnects: clients that go away at every point of an exchange; the server cleans up.

    python benchmarks/stress/disconnects.py [--cuts 1000] [--stall-wait SECONDS] [--quick]

Cases (each ``--cuts`` times unless noted), against one FakeOpenAI:

- cut streams, raw socket: a streamed chat completion (paced by a script at 2 ms per chunk) is
  read up to its first event, then the socket is closed (half of them with an RST);
- cut streams, SDK: the same through ``openai`` — the loop breaks after the first chunk and the
  response is closed;
- closed before the reply: a complete request, then an immediate close;
- half request heads: part of the request line or headers, then close;
- short bodies: a head declaring ``Content-Length: 1000`` (or chunked) and part of the body,
  then close;
- stalled heads and stalled bodies (``--stalls`` connections each): part of a head or body,
  then nothing. The server should drop them after its read deadline; the script waits up to
  ``--stall-wait`` seconds, or the server's own deadline + 2 s if ``pytest_openai_fake.server``
  declares one (see ``_common.server_read_deadline``), and reports how many it still holds —
  each one holds a server thread.

Checks: no hangs, the fake still answers afterwards, the request log counts exactly the complete
requests (no half request is captured), no problems recorded, OS threads and fds back to the
baseline within a bounded wait once the clients are gone.
"""

from __future__ import annotations

import json
import socket
import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import openai
from _common import (
    Check,
    Reader,
    back_to,
    connect,
    gauges,
    parser,
    read_reply,
    report,
    server_read_deadline,
    thread_count,
    wait_until,
)

from pytest_openai_fake import FAKE_API_KEY, FakeOpenAI

TIMEOUT = 10.0
LINGER_RST = struct.pack("ii", 1, 0)
# Sent by every complete request (as the last header, so a head cut short never has it).
COMPLETE = "X-Stress-Complete"


def request_bytes(path: str, body: dict | None, *, extra: str = "", method: str = "POST") -> bytes:
    data = json.dumps(body).encode() if body is not None else b""
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {FAKE_API_KEY}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n{COMPLETE}: 1\r\n{extra}\r\n"
    )
    return head.encode() + data


def chat_body(i: int, stream: bool) -> dict:
    return {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": f"cut {i}: tell me a long story about the sea"}],
        "max_tokens": 200,
        "stream": stream,
    }


def close(sock: socket.socket, rst: bool) -> None:
    if rst:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RST)
        except OSError:
            pass
    sock.close()


def cut_streams_raw(port: int, count: int) -> tuple[int, int, list[str]]:
    """Read each stream's head and first event, then close. Returns (cut, complete requests, errors)."""
    cut, errors = 0, []
    for i in range(count):
        try:
            sock = connect(port, TIMEOUT)
        except OSError as exc:
            errors.append(f"connect: {exc}")
            continue
        try:
            sock.sendall(request_bytes("/v1/chat/completions", chat_body(i, True)))
            reader = Reader(sock, TIMEOUT)
            reply = read_reply(reader, head_only=True)
            if reply.status != 200:
                errors.append(f"stream {i}: {reply.describe()}")
            elif reader.line() is None:
                errors.append(f"stream {i}: no first chunk")
            else:
                cut += 1
        except OSError as exc:
            errors.append(f"stream {i}: {exc!r}")
        finally:
            close(sock, rst=i % 2 == 1)
    return cut, count, errors


def cut_streams_sdk(fake: FakeOpenAI, count: int) -> tuple[int, int, list[str]]:
    cut, errors = 0, []
    http_client = openai.DefaultHttpx2Client()
    client = openai.OpenAI(base_url=fake.base_url, api_key=FAKE_API_KEY, max_retries=0, http_client=http_client, timeout=TIMEOUT,
                           default_headers={COMPLETE: "1"})
    try:
        for i in range(count):
            try:
                stream = client.chat.completions.create(**chat_body(i, True))
                for _ in stream:
                    break
                stream.close()
                cut += 1
            except Exception as exc:  # noqa: BLE001
                errors.append(f"sdk stream {i}: {type(exc).__name__}: {exc}")
    finally:
        http_client.close()
    return cut, count, errors


def closed_before_reply(port: int, count: int) -> tuple[int, int, list[str]]:
    errors = []
    for i in range(count):
        try:
            sock = connect(port, TIMEOUT)
            sock.sendall(request_bytes("/v1/chat/completions", chat_body(i, False)))
            close(sock, rst=i % 2 == 1)
        except OSError as exc:
            errors.append(f"close-before-reply {i}: {exc!r}")
    return count - len(errors), count - len(errors), errors


HALF_HEADS = [
    b"POS",
    b"POST /v1/chat/completions",
    b"POST /v1/chat/completions HTTP/1.1\r\n",
    b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-",
    b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n",
]


def half_heads(port: int, count: int) -> tuple[int, int, list[str]]:
    errors = []
    for i in range(count):
        try:
            sock = connect(port, TIMEOUT)
            sock.sendall(HALF_HEADS[i % len(HALF_HEADS)])
            close(sock, rst=i % 3 == 0)
        except OSError as exc:
            errors.append(f"half head {i}: {exc!r}")
    return count - len(errors), 0, errors


def short_body_bytes(i: int) -> bytes:
    """A head announcing a body (Content-Length 1000, or chunked) and the start of that body."""
    incomplete = f"{COMPLETE}: 1\r\n".encode()
    if i % 2:
        head = request_bytes("/v1/chat/completions", None).replace(b"Content-Length: 0", b"Content-Length: 1000").replace(incomplete, b"")
        return head + b'{"model": "gpt-4o-mini", "messages": [{"role": "us'
    head = request_bytes("/v1/chat/completions", None).replace(b"Content-Length: 0", b"Transfer-Encoding: chunked").replace(incomplete, b"")
    return head + b'40\r\n{"model": "gpt-4o-mini", "mess'


def short_bodies(port: int, count: int) -> tuple[int, int, list[str]]:
    errors = []
    for i in range(count):
        try:
            sock = connect(port, TIMEOUT)
            sock.sendall(short_body_bytes(i))
            close(sock, rst=i % 4 == 0)
        except OSError as exc:
            errors.append(f"short body {i}: {exc!r}")
    return count - len(errors), 0, errors


def stalls(port: int, count: int, wait: float) -> tuple[list[socket.socket], int, float]:
    """Open ``count`` connections that stop mid-head or mid-body; wait for the server to drop
    them. Returns (sockets, how many the server still holds, seconds until it dropped all)."""
    socks = []
    for i in range(count):
        sock = connect(port, TIMEOUT)
        sock.sendall(HALF_HEADS[2 + i % 3] if i % 2 else short_body_bytes(i))
        socks.append(sock)

    def dropped(sock: socket.socket) -> bool:
        sock.settimeout(0.001)
        try:
            data = sock.recv(65536)
            return data == b"" or data.startswith(b"HTTP/")  # closed, or answered (e.g. 408)
        except (TimeoutError, BlockingIOError):
            return False
        except OSError:
            return True

    started = time.monotonic()
    open_ = set(range(count))

    def all_dropped() -> bool:
        for i in list(open_):
            if dropped(socks[i]):
                open_.discard(i)
        return not open_

    wait_until(all_dropped, wait, interval=0.1)
    return socks, len(open_), time.monotonic() - started


def run(cuts: int, stall_count: int, stall_wait: float) -> list[Check]:
    checks: list[Check] = []
    fake = FakeOpenAI().start()
    try:
        time.sleep(0.05)
        baseline = gauges()
        # Streams go out slowly, so every cut lands while the server is still writing.
        fake.on("chat.completions.create", stream=True).delay(per_chunk=0.002)
        complete = 0
        for name, fn in (
            ("cut streams (raw socket)", lambda: cut_streams_raw(fake.port, cuts)),
            ("cut streams (SDK)", lambda: cut_streams_sdk(fake, max(1, cuts // 4))),
            ("closed before the reply", lambda: closed_before_reply(fake.port, max(1, cuts // 4))),
            ("half request heads", lambda: half_heads(fake.port, cuts)),
            ("short bodies then close", lambda: short_bodies(fake.port, cuts)),
        ):
            started = time.monotonic()
            done, requests, errors = fn()
            complete += requests
            checks.append(Check(
                name, not errors,
                f"{done} in {time.monotonic() - started:.1f} s, {len(errors)} errors" + (f"; first: {errors[0]}" if errors else ""),
            ))

        # Every complete request is captured once the server has read it; half ones never are.
        wait_until(lambda: len(fake.requests) >= complete, 10.0)
        client = fake.client(_strict_response_validation=True, timeout=TIMEOUT)
        try:
            reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "still there?"}], extra_headers={COMPLETE: "1"})
            serving = bool(reply.choices[0].message.content)
        except Exception as exc:  # noqa: BLE001
            serving = False
            checks.append(Check("still serving", False, repr(exc)))
        complete += 1
        if serving:
            checks.append(Check("still serving", True, "a chat completion after all the cuts"))
        log = fake.requests.snapshot()
        partial = [e for e in log if COMPLETE.lower() not in e.headers]
        checks.append(Check(
            "log counts complete requests only", len(log) == complete and not partial,
            f"{len(log)} captured / {complete} complete requests sent; {len(partial)} captured from incomplete requests"
            + (f", e.g. {partial[0].method} {partial[0].path} -> {partial[0].status} headers {dict(partial[0].headers)}" if partial else ""),
        ))
        fake._http_client and fake._http_client.close()
        fake._http_client = None

        # Stalls last: they may hold threads until the server's deadline.
        deadline, source = server_read_deadline()
        wait = stall_wait if deadline is None else max(stall_wait, deadline + 2.0)
        before = thread_count()
        socks, held, took = stalls(fake.port, stall_count, wait)
        peak = thread_count()
        checks.append(Check(
            "stalled heads/bodies dropped by the server", held == 0,
            f"{stall_count} stalled, {held} still held after {took:.1f} s ({source}); "
            f"threads {before} -> {peak} while stalled",
        ))
        for sock in socks:
            close(sock, rst=False)
        problems = fake.take_problems()
        checks.append(Check("no fake problems", not problems, f"{len(problems)}" + (f"; first: {problems[0].summary}" if problems else "")))
        ok, now = back_to(baseline, timeout=10.0)
        checks.append(Check("threads/fds back to baseline", ok, f"baseline {baseline}, after {now}"))
    finally:
        fake.stop()
    return checks


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--cuts", type=int, default=1000)
    p.add_argument("--stalls", type=int, default=20)
    p.add_argument("--stall-wait", type=float, default=30.0, help="seconds to wait for the server to drop stalled connections")
    args = p.parse_args(argv)
    if args.quick:
        args.cuts, args.stalls, args.stall_wait = min(args.cuts, 100), min(args.stalls, 6), min(args.stall_wait, 5.0)
    started = time.monotonic()
    checks = run(args.cuts, args.stalls, args.stall_wait)
    return report("disconnects", checks, args, started, {"cuts": args.cuts, "stalls": args.stalls})


if __name__ == "__main__":
    sys.exit(main())
