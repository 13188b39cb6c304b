"""Shared helpers for the stress scripts: process gauges, bounded waits, raw HTTP, reporting.

Every script here starts its own ``FakeOpenAI`` on 127.0.0.1 port 0, stops it, and prints a
table of checks (PASS/FAIL with figures); it exits 1 when a check fails. ``--json PATH`` also
writes the checks as JSON (``run_all.py`` collects them that way).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the checkout under test wins over an installed copy
    sys.path.insert(0, str(ROOT))

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
ENVELOPE_KEYS = {"message", "type", "param", "code"}


# -- process gauges (Linux /proc; the scripts are Linux-only) ------------------------------------


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


def thread_count() -> int:
    """OS threads of this process (``/proc/self/task``), which includes non-Python threads."""
    return len(os.listdir("/proc/self/task"))


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def gauges() -> dict[str, int]:
    return {"threads": thread_count(), "py_threads": threading.active_count(), "fds": fd_count()}


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` seconds pass (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def back_to(baseline: dict[str, int], timeout: float, slack: int = 0) -> tuple[bool, dict[str, int]]:
    """Wait (bounded) until threads and fds are at most ``baseline`` (+ ``slack``)."""
    def ok() -> bool:
        now = gauges()
        return now["threads"] <= baseline["threads"] + slack and now["fds"] <= baseline["fds"] + slack

    reached = wait_until(ok, timeout)
    return reached, gauges()


def server_read_deadline() -> tuple[float | None, str]:
    """The server's read deadline for a request head or body, if ``server.py`` declares one.

    Looks for numeric module constants and class attributes whose name mentions a deadline, or
    a read / head / body / request timeout (not the idle, start or stop timeouts). Returns
    (seconds, where it was found), or (None, why not).
    """
    import re

    from pytest_openai_fake import server

    pattern = re.compile(r"deadline|(read|head|header|body|request|slow).*timeout|timeout.*(read|head|body)", re.IGNORECASE)
    skip = {"IDLE_TIMEOUT", "START_TIMEOUT", "STOP_TIMEOUT", "ACCEPT_POLL", "timeout"}
    found: list[tuple[float, str]] = []
    spaces = [("server", vars(server))] + [
        (name, vars(value)) for name, value in vars(server).items() if isinstance(value, type) and value.__module__ == server.__name__
    ]
    for owner, space in spaces:
        for name, value in space.items():
            if name in skip or not pattern.search(name):
                continue
            if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= 600:
                found.append((float(value), f"{owner}.{name}" if owner != "server" else name))
    if not found:
        return None, "no read deadline found in server.py"
    seconds, where = max(found)
    return seconds, f"server read deadline {where} = {seconds:g} s"


# -- raw HTTP ------------------------------------------------------------------------------------


@dataclass
class RawReply:
    """What came back on a raw socket: a parsed response, a clean close, or a timeout."""

    status: int | None = None
    headers: dict[str, str] | None = None
    body: bytes = b""
    closed: bool = False  # the server closed (or reset) the connection
    timed_out: bool = False
    error: str = ""  # a framing problem in the server's reply

    @property
    def json(self) -> object:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def is_envelope(self) -> bool:
        body = self.json
        return isinstance(body, dict) and isinstance(body.get("error"), dict) and set(body["error"]) == ENVELOPE_KEYS

    def describe(self) -> str:
        if self.timed_out:
            return "TIMEOUT"
        if self.status is None:
            return "closed" if self.closed else f"no reply ({self.error})"
        return f"{self.status} {self.body[:120]!r}"


def connect(port: int, timeout: float) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.settimeout(timeout)
    return sock


class Reader:
    """Buffered reader over a socket with an overall deadline; every recv has a timeout."""

    def __init__(self, sock: socket.socket, timeout: float) -> None:
        self.sock = sock
        self.buf = b""
        self.deadline = time.monotonic() + timeout
        self.eof = False

    def _fill(self) -> bool:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def line(self) -> bytes | None:
        while b"\n" not in self.buf:
            if not self._fill():
                return None
        line, _, self.buf = self.buf.partition(b"\n")
        return line + b"\n"

    def exactly(self, n: int) -> bytes | None:
        while len(self.buf) < n:
            if not self._fill():
                return None
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def rest(self) -> bytes:
        while self._fill():
            pass
        data, self.buf = self.buf, b""
        return data


def read_reply(reader: Reader, *, head_only: bool = False) -> RawReply:
    """Read one HTTP response (Content-Length, chunked or close-delimited) within the deadline."""
    reply = RawReply()
    try:
        status_line = reader.line()
        while status_line is not None and status_line.startswith(b"HTTP/1.1 100"):
            while reader.line() not in (None, b"\r\n", b"\n"):  # skip the interim answer's headers
                pass
            status_line = reader.line()
        if status_line is None:
            reply.closed = True
            return reply
        parts = status_line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
            reply.error = f"bad status line {status_line[:80]!r}"
            return reply
        reply.status = int(parts[1])
        headers: dict[str, str] = {}
        for _ in range(200):
            line = reader.line()
            if line is None:
                reply.error = "cut in head"
                reply.closed = True
                return reply
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        reply.headers = headers
        if head_only or reply.status in (204, 304) or 100 <= reply.status < 200:
            return reply
        if "content-length" in headers:
            body = reader.exactly(int(headers["content-length"]))
            if body is None:
                reply.error = "body shorter than Content-Length"
                reply.closed = True
                return reply
            reply.body = body
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            for _ in range(1_000_000):
                size_line = reader.line()
                if size_line is None:
                    reply.error = "chunked body cut"
                    reply.closed = True
                    break
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    reader.line()
                    break
                chunks.append(reader.exactly(size) or b"")
                reader.line()
            reply.body = b"".join(chunks)
        else:
            reply.body = reader.rest()
            reply.closed = True
    except TimeoutError:
        reply.timed_out = True
    except OSError as exc:
        reply.closed = True
        reply.error = f"{type(exc).__name__}"
    return reply


def exchange(port: int, data: bytes, timeout: float = 5.0) -> RawReply:
    """Send ``data`` on a fresh connection, half-close nothing, read one reply."""
    try:
        sock = connect(port, timeout)
    except OSError as exc:
        return RawReply(error=f"connect failed: {exc}")
    with sock:
        try:
            sock.sendall(data)
        except OSError:
            pass  # the server may have answered and closed already; read what it sent
        return read_reply(Reader(sock, timeout))


# -- reporting -----------------------------------------------------------------------------------


@dataclass
class Check:
    name: str
    ok: bool
    figures: str

    def __str__(self) -> str:
        return f"{'PASS' if self.ok else 'FAIL'}  {self.name}: {self.figures}"


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="a run of seconds (smaller counts)")
    p.add_argument("--json", metavar="PATH", help="also write the checks to PATH as JSON")
    return p


def report(script: str, checks: list[Check], args: argparse.Namespace, started: float, extra: dict | None = None) -> int:
    elapsed = time.monotonic() - started
    width = max((len(c.name) for c in checks), default=10)
    print(f"\n{script}: {len(checks)} checks in {elapsed:.1f} s")
    for c in checks:
        print(f"  {'PASS' if c.ok else 'FAIL'}  {c.name:<{width}}  {c.figures}")
    failed = [c for c in checks if not c.ok]
    print(f"{script}: {'FAIL' if failed else 'PASS'}")
    if args.json:
        Path(args.json).write_text(
            json.dumps({"script": script, "seconds": round(elapsed, 2), "checks": [asdict(c) for c in checks], **(extra or {})})
        )
    sys.stdout.flush()
    return 1 if failed else 0
