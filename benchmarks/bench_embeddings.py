"""One big embeddings request end to end, as a ratio against a bare server, in one run.

    python benchmarks/bench_embeddings.py [--inputs 2048] [--repeats 9] [--model text-embedding-3-small]

Every row is ``client.embeddings.create(model=..., input=<2048 distinct sentences>)`` through the
real SDK with its default ``encoding_format`` (the SDK asks for base64 and decodes it itself):

- floor: a bare werkzeug app served by the same ``ServerThread`` that answers every request
  with a prebuilt body: the fake's own reply to a request of the same shape. What the SDK,
  loopback HTTP and the serving layer cost with no work on the server.
- fake, cold: ``FakeOpenAI`` with fresh sentences and the per-model caches dropped before the
  call (``vector_space.cache_clear()``: every word's hash keys are recomputed). The target
  applies to this row.
- fake, warm words: fresh sentences again, but their words were seen by earlier requests (the
  per-word keys are cached, as in a test suite that embeds similar text many times). Nothing
  caches whole texts, so every sentence is still turned into a vector.

Each repeat uses new sentences (a shared vocabulary plus a repeat-and-position tag), so no row
answers from a cache of earlier replies. Rows are interleaved within a repeat (the two fake rows in alternating
order), so background load hits them alike; the table shows the median over repeats. Also shown: the fake's own
``openai-processing-ms`` (the handler and the app, without HTTP) and the first embeddings
request of the process, which builds the model's block table (a warm-up, not in the rows).
Target (issue 3): fake cold / floor <= 1.25, without numpy.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pytest_openai_fake import FakeOpenAI
from pytest_openai_fake.determinism import digest, generate_text
from pytest_openai_fake.resources import embeddings as embeddings_module
from pytest_openai_fake.server import ServerThread

TARGET = 1.25


def sentences(count: int, tag: str) -> list[str]:
    """``count`` distinct sentences: generated text (a ~190-word vocabulary) plus a unique tag."""
    return [
        f"{generate_text(digest('bench', tag, i), min_words=8, max_words=24)} (ref {tag}-{i})" for i in range(count)
    ]


def bare_app(body: bytes) -> Callable[..., Any]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inputs", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--model", default="text-embedding-3-small")
    args = parser.parse_args()
    model = args.model

    with FakeOpenAI() as fake:
        client = fake.client()
        started = time.perf_counter()
        client.embeddings.create(model=model, input="warm-up: builds the model's block table")
        pool_ms = (time.perf_counter() - started) * 1e3
        # The floor answers with the fake's own bytes for a request of this shape.
        raw = client.embeddings.with_raw_response.create(model=model, input=sentences(args.inputs, "floor"))
        body = raw.http_response.content
        floor_server = ServerThread(bare_app(body))
        floor_server.start()
        floor = openai.OpenAI(base_url=floor_server.url + "/v1", api_key="sk-floor", max_retries=0)
        floor.embeddings.create(model=model, input=sentences(args.inputs, "floor"))  # connect, warm up

        samples: dict[str, list[float]] = {"floor": [], "cold": [], "warm": []}
        server_ms: dict[str, list[float]] = {"cold": [], "warm": []}

        def fake_call(key: str, tag: str) -> None:
            texts = sentences(args.inputs, tag)
            if key == "cold":
                embeddings_module.vector_space.cache_clear()
            start = time.perf_counter()
            response = client.embeddings.with_raw_response.create(model=model, input=texts)
            result = response.parse()
            samples[key].append(time.perf_counter() - start)
            server_ms[key].append(float(response.headers["openai-processing-ms"]))
            assert len(result.data) == args.inputs and len(result.data[-1].embedding) == len(result.data[0].embedding)

        for repeat in range(args.repeats):
            texts = sentences(args.inputs, f"floor{repeat}")
            start = time.perf_counter()
            floor.embeddings.create(model=model, input=texts)
            samples["floor"].append(time.perf_counter() - start)
            for key in ("cold", "warm") if repeat % 2 == 0 else ("warm", "cold"):  # alternate the order
                fake_call(key, f"{key}{repeat}")
        floor_server.stop()
        problems = fake.take_problems()
        assert not problems, problems

    dims = len(json.loads(body)["data"][0]["embedding"]) * 3 // 4 // 4  # base64 of float32
    floor_s = statistics.median(samples["floor"])
    rows = [
        ("floor: bare app, prebuilt body (same ServerThread)", floor_s, "1.00x", ""),
        *(
            (
                label,
                statistics.median(samples[key]),
                f"{statistics.median(samples[key]) / floor_s:.2f}x",
                f"{statistics.median(server_ms[key]):.0f}",
            )
            for key, label in (
                ("cold", "fake: cold (new texts, word caches dropped)"),
                ("warm", "fake: warm words (new texts, words seen)"),
            )
        ),
    ]
    width = max(len(r[0]) for r in rows) + 2
    print(
        f"{args.inputs} inputs x {dims} dims, {model}, base64 (SDK default), {len(body) / 1e6:.1f} MB reply, "
        f"median of {args.repeats}"
    )
    print(f"{'per request':<{width}}{'ms':>9}{'ratio':>8}{'server ms':>11}")
    for name, seconds, ratio, server in rows:
        print(f"{name:<{width}}{seconds * 1e3:>9.0f}{ratio:>8}{server:>11}")
    print(f"\nfirst embeddings request of the process (one input; builds the block table): {pool_ms:.0f} ms")
    ratio = statistics.median(samples["cold"]) / floor_s
    verdict = "meets" if ratio <= TARGET else "MISSES"
    print(f"{verdict} the target: fake cold / floor {ratio:.2f}x (<= {TARGET}x)")


if __name__ == "__main__":
    main()
