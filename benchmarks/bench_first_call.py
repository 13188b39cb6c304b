"""What the first call of each endpoint costs over the later ones, in one process.

    python benchmarks/bench_first_call.py [--calls 100] [--only chat,embeddings]

Starts one ``FakeOpenAI`` and one client the way the fixtures do, then for each endpoint makes
one SDK call (the first in this process: the SDK's response model, the fake's route, params
validation and generators are all cold) and ``--calls`` more, and prints the first call's time,
the median of the later ones, and the difference, split into the fake's share and the SDK's
(three fresh processes, see ``measure``). The SDK's share (building its pydantic models the first
time a response type is parsed) is paid against the real API too; the target is about the fake's.
Targets: first call at most 50 ms more than later calls (issue 12, point 11; issue 13, point 7
for the generic layer's families); a generic route's later calls cost no more than chat's.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parent.parent

USER = [{"role": "user", "content": "Say hi"}]
# First names of the families the generic layer answers (no hand-written resource).
GENERIC = ("fine_tuning", "evals", "containers", "admin")


def endpoints(client: Any, admin: Any) -> dict[str, Callable[[], Any]]:
    """Endpoint name -> one SDK call. Calls that create something make a new object each time."""
    conversation: dict[str, str] = {}

    def conversation_id() -> str:
        if "id" not in conversation:
            conversation["id"] = client.conversations.create().id
        return conversation["id"]

    return {
        "chat.completions.create": lambda: client.chat.completions.create(model="gpt-4o-mini", messages=USER),
        "chat.completions.create stream": lambda: list(
            client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True)
        ),
        "completions.create": lambda: client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Say hi"),
        "embeddings.create": lambda: client.embeddings.create(model="text-embedding-3-small", input="hi"),
        "responses.create": lambda: client.responses.create(model="gpt-4o-mini", input="Say hi"),
        "responses.create stream": lambda: list(client.responses.create(model="gpt-4o-mini", input="Say hi", stream=True)),
        "images.generate": lambda: client.images.generate(model="dall-e-2", prompt="a cat", size="256x256"),
        "moderations.create": lambda: client.moderations.create(model="omni-moderation-latest", input="hello"),
        "models.list": lambda: client.models.list(),
        "models.retrieve": lambda: client.models.retrieve("gpt-4o-mini"),
        "conversations.create": lambda: client.conversations.create(),
        "conversations.items.list": lambda: client.conversations.items.list(conversation_id()),
        "batches.list": lambda: client.batches.list(),
        # The generic layer (issue 13): families answered from the SDK's own types.
        "vector_stores.create": lambda: client.vector_stores.create(name="docs"),
        "vector_stores.list": lambda: client.vector_stores.list(),
        "fine_tuning.jobs.list": lambda: client.fine_tuning.jobs.list(),
        "evals.create": lambda: client.evals.create(
            data_source_config={"type": "custom", "item_schema": {"type": "object"}}, testing_criteria=[]
        ),
        "containers.create": lambda: client.containers.create(name="box"),
        "admin.organization.projects.create": lambda: admin.admin.organization.projects.create(name="acme"),
        "admin.organization.projects.list": lambda: admin.admin.organization.projects.list(),
    }


def sdk_modules_of(name: str, client: Any, admin: Any) -> None:
    """Touch ``client.a.b`` for endpoint ``a.b.create``: the SDK's lazy imports of that family."""
    target = admin if name.startswith("admin.") else client
    for part in name.split()[0].split(".")[:-1]:
        target = getattr(target, part)


def measure(mode: str, only: set[str] | None, calls: int, recorded: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """One mode, in this (fresh) process. ``e2e``: SDK calls against the fake over HTTP, recording
    the requests they send. ``fake``: those requests replayed straight into the app (werkzeug's
    test client, no SDK, no socket). ``sdk``: the app warmed by that replay first, then the SDK
    calls: what is left of the first-call cost is the SDK's own (building its pydantic models)."""
    sys.path.insert(0, str(REPO))
    from werkzeug.test import Client

    from pytest_openai_fake import FakeOpenAI

    started = time.perf_counter()
    fake = FakeOpenAI().start()
    client = fake.client()
    results: dict[str, Any] = {"(server start + client)": (time.perf_counter() - started, 0.0)}
    requests: dict[str, list[dict[str, Any]]] = {}
    app = Client(fake.app)

    def replay(name: str) -> None:
        for r in recorded[name]:
            app.open(r["path"], method=r["method"], query_string=r["query"], data=r["body"].encode("latin-1"), headers=r["headers"])

    admin = fake.client(admin_api_key="sk-admin-bench")
    calls_of = endpoints(client, admin)
    if mode == "sdk":
        for name in calls_of:
            if name in recorded:
                replay(name)
        fake.reset()
    for name, call in calls_of.items():
        if only and name.split()[0] not in only and name not in only:
            continue
        if mode == "fake":
            # The SDK imports a family's resource and type modules when the test first touches
            # ``client.admin.organization.projects`` (the admin types: ~270 ms of pydantic class
            # building), before any request is sent and against the real API too. Pay that here,
            # untimed, so this column holds the fake's own share; the fake reuses those modules.
            sdk_modules_of(name, client, admin)
            call = functools.partial(replay, name)
        start = time.perf_counter()
        call()
        first = time.perf_counter() - start
        if mode == "e2e":
            requests[name] = [
                {
                    "method": r.method,
                    "path": r.path,
                    "query": dict(r.query),
                    "body": r.body.decode("latin-1"),
                    "headers": {k: v for k, v in r.headers.items() if k.lower() in ("content-type", "authorization")},
                }
                for r in fake.requests.snapshot()
            ]
        later = []
        for _ in range(calls):
            start = time.perf_counter()
            call()
            later.append(time.perf_counter() - start)
        results[name] = (first, statistics.median(later))
        fake.reset()
    fake.stop()
    return {"results": results, "requests": requests}


def child(mode: str, args: argparse.Namespace, recorded: dict[str, Any]) -> dict[str, Any]:
    # A fresh process per mode: "first" must mean first in the process, as in a pytest session.
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(recorded, handle)
    try:
        proc = subprocess.run(
            [sys.executable, __file__, "--child", mode, "--recorded", handle.name, "--calls", str(args.calls), "--only", args.only],
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
    finally:
        os.unlink(handle.name)
    if proc.returncode:
        raise SystemExit(proc.stderr)
    return json.loads(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--only", default="", help="comma-separated endpoint names")
    parser.add_argument("--child", choices=("e2e", "fake", "sdk"), help=argparse.SUPPRESS)
    parser.add_argument("--recorded", help=argparse.SUPPRESS)
    args = parser.parse_args()
    only = set(filter(None, args.only.split(","))) or None
    if args.child:
        recorded = json.loads(Path(args.recorded).read_text()) if args.recorded else {}
        print(json.dumps(measure(args.child, only, args.calls, recorded)))
        return
    e2e = child("e2e", args, {})
    fake = child("fake", args, e2e["requests"])["results"]
    sdk = child("sdk", args, e2e["requests"])["results"]
    print(f"first call minus the median of the next {args.calls}, in ms; a fresh process per column\n")
    print("  end to end: SDK call against the fake over HTTP (what a test sees)")
    print("  fake only:  the same requests straight into the app, no SDK, no socket")
    print("  SDK only:   SDK calls after the app was warmed: the SDK's own first-call cost\n")
    print(f"| {'endpoint':<32} | {'first':>7} | {'later':>7} | {'end to end':>10} | {'fake only':>9} | {'SDK only':>8} |")
    print(f"|{'-' * 34}|{'-' * 9}|{'-' * 9}|{'-' * 12}|{'-' * 11}|{'-' * 10}|")
    worst_fake = 0.0
    for name, (first, later) in e2e["results"].items():
        if name.startswith("("):
            print(f"| {name:<32} | {first * 1000:7.1f} |         |            |           |          |")
            continue
        e2e_extra, fake_extra, sdk_extra = ((table[name][0] - table[name][1]) * 1000 for table in (e2e["results"], fake, sdk))
        worst_fake = max(worst_fake, fake_extra)
        print(
            f"| {name:<32} | {first * 1000:7.1f} | {later * 1000:7.2f} | {e2e_extra:10.1f} "
            f"| {fake_extra:9.1f} | {sdk_extra:8.1f} |"
        )
    print(f"\nworst first-call extra of the fake itself: {worst_fake:.1f} ms (target: at most 50 ms)")
    chat = fake.get("chat.completions.create")
    generic = {name: later for name, (first, later) in fake.items() if name.split(".")[0] in GENERIC}
    if chat and generic:
        name, later = max(generic.items(), key=lambda item: item[1])
        print(
            f"slowest later call of a generic route, fake only: {name} {later * 1000:.2f} ms, "
            f"{later / chat[1]:.2f}x chat.completions.create ({chat[1] * 1000:.2f} ms; target: at most 1x)"
        )


if __name__ == "__main__":
    main()
