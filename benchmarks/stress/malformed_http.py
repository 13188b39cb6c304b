"""Malformed HTTP: raw-socket requests that break HTTP/1.1 framing in every way we could think of.

    python benchmarks/stress/malformed_http.py [--slowloris SECONDS] [--quick]

Each case is sent on a fresh loopback connection (every read has a timeout). For every case:

- the answer is a JSON error envelope (``{"error": {message, type, param, code}}``), a 2xx JSON
  answer where the request is valid HTTP after all (HTTP/1.0, pipelining, ``Expect:
  100-continue``, absolute-form targets, chunked bodies with extensions), or a clean close —
  never a hang, HTML, a traceback, or a 500;
- the server logs no exception (``pytest_openai_fake.server`` records at ERROR);
- the server still answers a fresh request afterwards.

Cases with a MUST of RFC 9112 attached (a missing or doubled Host, whitespace before a colon,
Content-Length + Transfer-Encoding, chunked not last, invalid Content-Length, absolute-form, ...)
are also checked against it; deviations are listed in the "RFC 9112" check. The slowloris case
trickles a request head one byte at a time for up to ``--slowloris`` seconds (or the server's
read deadline + 2 s, if it declares one) and reports whether the server cuts it off or keeps a
thread on it.
"""

from __future__ import annotations

import logging
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Check, RawReply, Reader, connect, parser, read_reply, report, server_read_deadline

from pytest_openai_fake import FAKE_API_KEY, FakeOpenAI

TIMEOUT = 5.0
AUTH = f"Authorization: Bearer {FAKE_API_KEY}\r\n"
CHAT = b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}'


@dataclass
class Talk:
    replies: list[RawReply]
    closed_after: bool | None  # True: the server closed after its replies; None: unknown (timed out mid-reply)
    hang: bool
    interim: bytes = b""  # what came back between the parts of ``data`` (Expect: 100-continue)


def talk(port: int, data: bytes | list[bytes], replies: int = 1, then_wait: float = 0.3, eof: bool = False, interim: bool = False) -> Talk:
    """Send ``data`` (a list: separate sends), read up to ``replies`` replies, then see whether
    the server closes the connection within ``then_wait`` seconds (or sends more). ``eof``:
    shut down the sending side after the data (the client is gone mid-message). ``interim``:
    after the first part, wait (up to 1 s, as curl does) for an interim answer before the rest."""
    out: list[RawReply] = []
    try:
        sock = connect(port, TIMEOUT)
    except OSError as exc:
        return Talk([RawReply(error=f"connect: {exc}")], None, False)
    with sock:
        seen = b""
        try:
            for n, part in enumerate(data if isinstance(data, list) else [data]):
                sock.sendall(part)
                if interim and n == 0:
                    sock.settimeout(1.0)
                    try:
                        while not seen.endswith(b"\r\n\r\n"):
                            chunk = sock.recv(1)
                            if not chunk:
                                break
                            seen += chunk
                    except TimeoutError:
                        pass
                    sock.settimeout(TIMEOUT)
            if eof:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        reader = Reader(sock, TIMEOUT)
        if seen and not seen.startswith(b"HTTP/1.1 100"):
            reader.buf = seen  # a final answer instead of 100 Continue: read it as the reply
            seen = b""
        for _ in range(replies):
            reply = read_reply(reader)
            if reply.timed_out:
                return Talk(out, None, True, seen)
            if reply.status is None:
                return Talk(out, True, False, seen)
            out.append(reply)
            if reply.closed:
                return Talk(out, True, False, seen)
        reader.deadline = time.monotonic() + then_wait
        try:
            more = reader._fill()
        except TimeoutError:
            return Talk(out, False, False, seen)
        except OSError:
            return Talk(out, True, False, seen)
        if not more:
            return Talk(out, True, False, seen)
        reader.deadline = time.monotonic() + TIMEOUT
        extra = read_reply(reader)  # an answer nobody asked for (e.g. a smuggled request)
        out.append(extra)
        return Talk(out, extra.closed, extra.timed_out, seen)


def req(head: str, body: bytes = b"") -> bytes:
    return head.encode("latin-1") + b"\r\n" + body


def post_chat(extra_headers: str, body: bytes, line: str = "POST /v1/chat/completions HTTP/1.1") -> bytes:
    return req(f"{line}\r\nHost: 127.0.0.1\r\n{AUTH}Content-Type: application/json\r\n{extra_headers}", body)


def chunked(body: bytes, size: int = 16) -> bytes:
    parts = [b"%x\r\n%b\r\n" % (len(body[i : i + size]), body[i : i + size]) for i in range(0, len(body), size)]
    return b"".join(parts) + b"0\r\n\r\n"


# -- expectations --------------------------------------------------------------------------------

Expect = Callable[[Talk], str | None]  # None when met, else what is wrong


def status_in(*statuses: int, close: bool = False) -> Expect:
    def check(t: Talk) -> str | None:
        first = t.replies[0].status if t.replies else None
        if first not in statuses:
            return f"expected {'/'.join(map(str, statuses))}, got {first if first is not None else 'a close'}"
        if close and t.closed_after is False:
            return "the connection stayed open"
        if close and len(t.replies) > 1:
            return f"answered a second request on the connection ({t.replies[1].status})"
        return None

    return check


def ok_then_closed(t: Talk) -> str | None:
    """RFC 9112 6.1 (CL + TE, or TE in HTTP/1.0): reject with 400, or answer and close."""
    first = t.replies[0].status if t.replies else None
    if first is None or first == 400:
        return None
    if len(t.replies) > 1:
        return f"answered the bytes after the body as a second request ({t.replies[1].status}): request smuggling"
    if t.closed_after is False:
        return f"answered {first} and kept the connection open"
    return None


@dataclass
class Case:
    name: str
    data: bytes | list[bytes]
    valid: bool = False  # valid HTTP: a 2xx answer is required
    replies: int = 1
    rfc: Expect | None = None
    rfc_text: str = ""
    # The bytes end mid-message: the client then shuts its sending side, so the server sees
    # EOF. (A client that stalls mid-message instead is the slowloris case, and disconnects.py.)
    eof: bool = False
    interim: bool = False  # wait for 100 Continue between the parts


def cases(port: int) -> list[Case]:
    host = f"Host: 127.0.0.1:{port}\r\n"
    models = f"GET /v1/models HTTP/1.1\r\n{host}{AUTH}"
    big = "x" * 70_000
    return [
        # request lines
        Case("garbage request line", req("GARBAGE\r\n")),
        Case("one word", req("GET\r\n")),
        Case("four words", req(f"GET /v1/models HTTP/1.1 extra\r\n{host}")),
        Case("unknown version HTTP/9.9", req(f"GET /v1/models HTTP/9.9\r\n{host}")),
        Case("HTTP/2.0 over HTTP/1 framing", req(f"GET /v1/models HTTP/2.0\r\n{host}")),
        Case("not HTTP (FOO/1.1)", req(f"GET /v1/models FOO/1.1\r\n{host}")),
        Case("version with junk (HTTP/1.1x)", req(f"GET /v1/models HTTP/1.1x\r\n{host}")),
        Case("lower-case method", req(f"get /v1/models HTTP/1.1\r\n{host}{AUTH}")),
        Case("unknown method", req(f"BREW /v1/models HTTP/1.1\r\n{host}{AUTH}")),
        Case("TLS ClientHello on plain HTTP", bytes.fromhex("160301002a010000260303") + bytes(32), eof=True),
        Case("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
        Case("very long URL (100 kB)", req(f"GET /v1/models?q={'a' * 100_000} HTTP/1.1\r\n{host}{AUTH}"),
             rfc=status_in(414, 400, 431), rfc_text="414 for a target longer than the server parses (RFC 9112 3)"),
        Case("long URL (8 kB, valid)", req(f"GET /v1/models?q={'a' * 8000} HTTP/1.1\r\n{host}{AUTH}"), valid=True),
        Case("absolute-form target", req(f"GET http://127.0.0.1:{port}/v1/models HTTP/1.1\r\n{host}{AUTH}"), valid=True,
             rfc=status_in(200), rfc_text="a server MUST accept the absolute-form (RFC 9112 3.2.2)"),
        Case("asterisk-form on GET", req(f"GET * HTTP/1.1\r\n{host}")),
        Case("authority-form (CONNECT)", req(f"CONNECT 127.0.0.1:443 HTTP/1.1\r\n{host}")),
        Case("NUL in request line", req(f"GET /v1/mo\x00dels HTTP/1.1\r\n{host}{AUTH}")),
        Case("raw UTF-8 in path", f"GET /v1/models/gpt-\u00e9\u6f22 HTTP/1.1\r\n{host}{AUTH}\r\n".encode()),
        Case("bad percent escape in path", req(f"GET /v1/models/%zz%ff%00 HTTP/1.1\r\n{host}{AUTH}")),
        Case("bare LF line endings", f"GET /v1/models HTTP/1.1\n{host.strip()}\n{AUTH.strip()}\n\n".encode(), valid=True),
        Case("leading empty line", b"\r\n" + req(models), rfc=status_in(200),
             rfc_text="a server SHOULD ignore at least one empty line before the request line (RFC 9112 2.2)"),
        # headers
        Case("header line too long (70 kB)", req(f"GET /v1/models HTTP/1.1\r\n{host}X-Big: {big}\r\n"),
             rfc=status_in(431, 400), rfc_text="431/400 for an oversized header"),
        Case("200 headers", req(models + "".join(f"X-H{i}: v\r\n" for i in range(200))), rfc=status_in(431, 400), rfc_text="431/400 for too many headers"),
        Case("header without colon", req(models + "NoColonHere\r\n"), rfc=status_in(400), rfc_text="400 (RFC 9112 5)"),
        Case("whitespace before colon", req(models + "X-Test : v\r\n"), rfc=status_in(400, close=True),
             rfc_text="a server MUST reject whitespace between field name and colon with 400 (RFC 9112 5.1)"),
        Case("obs-fold continuation line", req(models + "X-Test: a\r\n  folded\r\n"), rfc=status_in(400, 200),
             rfc_text="reject with 400 or replace the fold with SP (RFC 9112 5.2)"),
        Case("NUL in header value", req(models + "X-Test: a\x00b\r\n"), rfc=status_in(400, 200), rfc_text="400 or a valid answer"),
        Case("NUL in header name", req(models + "X-Te\x00st: a\r\n"), rfc=status_in(400), rfc_text="400 (not a token)"),
        Case("bare CR in header value", req(models + "X-Test: a\rb\r\n"), rfc=status_in(400, 200),
             rfc_text="treat as invalid or replace with SP (RFC 9112 2.2)"),
        Case("non-ASCII header value", models.encode() + "X-Test: caf\u00e9 \u6f22\r\n\r\n".encode(), valid=True),
        Case("non-ASCII header name", models.encode() + "X-T\u00e9st: v\r\n\r\n".encode(), rfc=status_in(400), rfc_text="400 (not a token)"),
        Case("missing Host (HTTP/1.1)", req(f"GET /v1/models HTTP/1.1\r\n{AUTH}"), rfc=status_in(400),
             rfc_text="a server MUST answer 400 to an HTTP/1.1 request without Host (RFC 9112 3.2)"),
        Case("two Host headers", req(models + "Host: other\r\n"), rfc=status_in(400),
             rfc_text="a server MUST answer 400 to more than one Host (RFC 9112 3.2)"),
        Case("empty header name", req(models + ": v\r\n"), rfc=status_in(400), rfc_text="400"),
        # bodies and framing
        Case("Content-Length and Transfer-Encoding", post_chat("Content-Length: 4\r\nTransfer-Encoding: chunked\r\n", chunked(CHAT) + req(models)),
             replies=2, rfc=ok_then_closed, rfc_text="reject, or process as chunked and then close the connection (RFC 9112 6.1)"),
        Case("Transfer-Encoding in HTTP/1.0", post_chat("Transfer-Encoding: chunked\r\nConnection: keep-alive\r\n", chunked(CHAT) + req(models), line="POST /v1/chat/completions HTTP/1.0"),
             replies=2, rfc=ok_then_closed, rfc_text="TE in an HTTP/1.0 request: treat framing as faulty, close after (RFC 9112 6.1)"),
        Case("unknown transfer coding (gzip)", post_chat("Transfer-Encoding: gzip\r\n", CHAT), rfc=status_in(501, 400, close=True),
             rfc_text="501 for an unknown coding (SHOULD, RFC 9112 6.1); chunked not final: 400 and close (MUST)"),
        Case("chunked not final (chunked, gzip)", post_chat("Transfer-Encoding: chunked, gzip\r\n", chunked(CHAT)), rfc=status_in(400, close=True),
             rfc_text="chunked not the final coding: MUST answer 400 and close (RFC 9112 6.3)"),
        Case("gzip, chunked (unsupported coding)", post_chat("Transfer-Encoding: gzip, chunked\r\n", chunked(CHAT)), rfc=status_in(501, 400, 415),
             rfc_text="an unsupported coding before chunked: 501 (SHOULD)"),
        Case("Transfer-Encoding twice", post_chat("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", chunked(CHAT))),
        Case("chunked: invalid size", post_chat("Transfer-Encoding: chunked\r\n", b"zz\r\nabc\r\n0\r\n\r\n"), rfc=status_in(400, close=True), rfc_text="400 and close"),
        Case("chunked: negative size", post_chat("Transfer-Encoding: chunked\r\n", b"-5\r\nabcde\r\n0\r\n\r\n"), rfc=status_in(400, close=True), rfc_text="400 and close"),
        Case("chunked: 2**64 size", post_chat("Transfer-Encoding: chunked\r\n", b"10000000000000000\r\nabc\r\n0\r\n\r\n"), rfc=status_in(400, 413, close=True), rfc_text="400/413 and close"),
        Case("chunked: size with 0x", post_chat("Transfer-Encoding: chunked\r\n", b"0x5\r\nabcde\r\n0\r\n\r\n"), rfc=status_in(400, close=True), rfc_text="400 and close"),
        Case("chunked: missing CRLF after data", post_chat("Transfer-Encoding: chunked\r\n", b"5\r\nabcdeXX0\r\n\r\n"), rfc=status_in(400, close=True), rfc_text="400 and close"),
        Case("chunked: extensions and trailers (valid)", post_chat("Transfer-Encoding: chunked\r\n", b"%x;name=value\r\n%b\r\n0\r\nX-Trailer: 1\r\n\r\n" % (len(CHAT), CHAT)), valid=True),
        Case("chunked: split over many sends (valid)", [post_chat("Transfer-Encoding: chunked\r\n", b"")] + [chunked(CHAT, 7)[i : i + 5] for i in range(0, len(chunked(CHAT, 7)), 5)], valid=True),
        Case("chunked body then EOF before the last chunk", post_chat("Transfer-Encoding: chunked\r\n", b"5\r\nabcde\r\n"), eof=True),
        Case("Content-Length: two different values", post_chat(f"Content-Length: {len(CHAT)}\r\nContent-Length: 5\r\n", CHAT), rfc=status_in(400, close=True),
             rfc_text="invalid Content-Length: MUST 400 and close (RFC 9112 6.3)"),
        Case("Content-Length: list of equal values", post_chat(f"Content-Length: {len(CHAT)}, {len(CHAT)}\r\n", CHAT), rfc=status_in(400, 200),
             rfc_text="reject, or accept the repeated equal value (RFC 9110 8.6)"),
        Case("Content-Length: negative", post_chat("Content-Length: -1\r\n", CHAT), rfc=status_in(400, close=True), rfc_text="MUST 400 and close"),
        Case("Content-Length: +5", post_chat("Content-Length: +5\r\n", CHAT), rfc=status_in(400, close=True), rfc_text="MUST 400 and close"),
        Case("Content-Length: hex", post_chat("Content-Length: 0x10\r\n", CHAT), rfc=status_in(400, close=True), rfc_text="MUST 400 and close"),
        Case("Content-Length: 10**20", post_chat("Content-Length: 100000000000000000000\r\n", CHAT), rfc=status_in(400, 413, close=True), rfc_text="400/413 and close"),
        Case("Content-Length: shorter than the body", post_chat("Content-Length: 10\r\n", CHAT), replies=2, eof=True),
        Case("body on GET", req(models + "Content-Length: 5\r\n", b"hello") + req(models), replies=2, valid=True),
        Case("NUL bytes in JSON body", post_chat(f"Content-Length: {len(CHAT) + 2}\r\n", CHAT[:-1] + b"\x00\x00}")),
        Case("invalid UTF-8 in JSON body", post_chat("Content-Length: 10\r\n", b'{"a":"\xff\xfe"}'[:10])),
        Case("Expect: 100-continue", [post_chat(f"Expect: 100-continue\r\nContent-Length: {len(CHAT)}\r\n", b""), CHAT], valid=True, interim=True,
             rfc=lambda t: None if t.interim.startswith(b"HTTP/1.1 100") else f"no 100 Continue before the body (got {t.interim[:40]!r})",
             rfc_text="a server that will read the body sends 100 (Continue) first (RFC 9110 10.1.1)"),
        Case("Expect: 100-continue on HTTP/1.0 (ignored)", post_chat(f"Expect: 100-continue\r\nContent-Length: {len(CHAT)}\r\n", CHAT, line="POST /v1/chat/completions HTTP/1.0"), valid=True,
             rfc=lambda t: None if not t.interim else "sent an interim answer to HTTP/1.0", rfc_text="no 100 to HTTP/1.0 (RFC 9110 10.1.1)"),
        Case("Expect: something else", post_chat(f"Expect: teapot\r\nContent-Length: {len(CHAT)}\r\n", CHAT), rfc=status_in(417, 200),
             rfc_text="417 for an unknown expectation (MAY ignore it)"),
        # connection handling
        Case("HTTP/1.0 GET", req(f"GET /v1/models HTTP/1.0\r\n{AUTH}"), valid=True, rfc=status_in(200, close=True), rfc_text="HTTP/1.0 without keep-alive: close after the answer"),
        Case("HTTP/1.0 keep-alive, two requests", [req(f"GET /v1/models HTTP/1.0\r\nConnection: keep-alive\r\n{AUTH}") * 2], replies=2, valid=True),
        Case("pipelined: three requests in one send", req(f"GET /v1/models/gpt-4o HTTP/1.1\r\n{host}{AUTH}") + req(f"GET /v1/models/gpt-4o-mini HTTP/1.1\r\n{host}{AUTH}")
             + post_chat(f"Content-Length: {len(CHAT)}\r\n", CHAT), replies=3, valid=True),
        Case("pipelined: good then bad then good", req(models) + b"BAD LINE\r\n\r\n" + req(models), replies=3),
        Case("Connection: close honoured", req(models + "Connection: close\r\n"), valid=True, rfc=status_in(200, close=True), rfc_text="close after the answer (RFC 9112 9.6)"),
        Case("request then half a second request", req(models) + b"GET /v1/mod", replies=2, eof=True),
    ]


def judge(case: Case, t: Talk) -> str | None:
    """What is wrong with the answer in general (not the RFC specifics), or None."""
    if t.hang:
        return "hang (no complete answer within the timeout)"
    for i, reply in enumerate(t.replies):
        if reply.status is None:
            continue
        if reply.error:
            return f"reply {i + 1}: {reply.error}"
        text = reply.body[:2000].lower()
        if b"traceback" in text or b"<html" in text or b"<!doctype" in text:
            return f"reply {i + 1}: HTML or a traceback: {reply.body[:120]!r}"
        if reply.status >= 500 and reply.status not in (501, 505):
            return f"reply {i + 1}: {reply.status}"
        if reply.status >= 400 and not reply.is_envelope():
            return f"reply {i + 1}: {reply.status} without the JSON envelope: {reply.body[:120]!r}"
        if 200 <= reply.status < 300 and reply.json is None:
            return f"reply {i + 1}: {reply.status} not JSON: {reply.body[:120]!r}"
    if case.valid:
        statuses = [r.status for r in t.replies[: case.replies]]
        if len(statuses) < case.replies or any(s is None or not 200 <= s < 300 for s in statuses):
            return f"valid HTTP but answered {statuses or 'nothing'}"
    return None


class ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def still_serving(port: int) -> bool:
    t = talk(port, req(f"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n{AUTH}Connection: close\r\n"), then_wait=0.1)
    return bool(t.replies) and t.replies[0].status == 200


def slowloris(port: int, seconds: float) -> tuple[bool, float, int]:
    """Trickle a head one byte per 0.25 s. Returns (cut by the server, seconds, bytes sent).
    (4 bytes/s: far below any real client; a server with a head deadline cuts it off.)"""
    head = f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n{AUTH}X-Slow: {'s' * 10_000}".encode()
    sock = connect(port, TIMEOUT)
    started = time.monotonic()
    sent = 0
    try:
        while time.monotonic() - started < seconds and sent < len(head):
            try:
                sock.sendall(head[sent : sent + 1])
            except OSError:
                return True, time.monotonic() - started, sent
            sent += 1
            sock.settimeout(0.25)
            try:
                data = sock.recv(4096)
                if data == b"" or data.startswith(b"HTTP/"):
                    return True, time.monotonic() - started, sent
            except TimeoutError:
                pass
            except OSError:
                return True, time.monotonic() - started, sent
        return False, time.monotonic() - started, sent
    finally:
        sock.close()


def run(slowloris_seconds: float, only: str | None) -> list[Check]:
    checks: list[Check] = []
    log = ErrorLog()
    server_logger = logging.getLogger("pytest_openai_fake.server")
    server_logger.addHandler(log)
    fake = FakeOpenAI().start()
    try:
        all_cases = [c for c in cases(fake.port) if only is None or only.lower() in c.name.lower()]
        general: list[str] = []
        rfc: list[str] = []
        down: list[str] = []
        hangs = 0
        for case in all_cases:
            t = talk(fake.port, case.data, replies=case.replies, eof=case.eof, interim=case.interim)
            hangs += t.hang
            seen = ", ".join(r.describe()[:60] for r in t.replies) or "closed"
            closed = {True: "closed", False: "kept open", None: "?"}[t.closed_after]
            problem = judge(case, t)
            if problem:
                general.append(f"{case.name}: {problem}")
            if case.rfc is not None and not t.hang:
                wrong = case.rfc(t)
                if wrong:
                    rfc.append(f"{case.name}: {wrong} [{case.rfc_text}]")
            if only is not None:
                print(f"{case.name}: {seen}; then {closed}; {problem or 'ok'}")
            if not still_serving(fake.port):
                down.append(case.name)
        fake.take_problems()  # no-route problems for odd targets are expected here
        checks.append(Check(
            "answers: JSON envelope, valid 2xx or a clean close", not general,
            f"{len(all_cases)} cases, {len(general)} bad, {hangs} hangs" + "".join(f"\n        - {g}" for g in general),
        ))
        checks.append(Check("server keeps serving after each case", not down, f"{len(all_cases) - len(down)}/{len(all_cases)}" + (f"; down after {down}" if down else "")))
        rfc_cases = sum(c.rfc is not None for c in all_cases)
        checks.append(Check("RFC 9112 MUSTs (and noted SHOULDs)", not rfc, f"{rfc_cases - len(rfc)}/{rfc_cases} met" + "".join(f"\n        - {r}" for r in rfc)))
        errors = [r for r in log.records]
        checks.append(Check("no exception logged by the server", not errors, f"{len(errors)} records" + (f"; first: {errors[0].getMessage()[:200]}" if errors else "")))
        if only is None and slowloris_seconds > 0:
            deadline, source = server_read_deadline()
            cut, took, sent = slowloris(fake.port, slowloris_seconds if deadline is None else max(slowloris_seconds, deadline + 2.0))
            checks.append(Check(
                "slowloris head cut off by the server", cut,
                f"{'cut' if cut else 'still reading'} after {took:.1f} s and {sent} bytes at 4 bytes/s"
                + ("" if cut else "; a server thread stays on it meanwhile") + f" ({source})",
            ))
    finally:
        fake.stop()
        server_logger.removeHandler(log)
    return checks


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--slowloris", type=float, default=20.0, help="seconds to trickle a head (0: skip)")
    p.add_argument("--only", help="run the cases whose name contains this, printing each answer")
    args = p.parse_args(argv)
    if args.quick:
        args.slowloris = min(args.slowloris, 3.0)
    started = time.monotonic()
    checks = run(args.slowloris, args.only)
    return report("malformed_http", checks, args, started)


if __name__ == "__main__":
    sys.exit(main())
