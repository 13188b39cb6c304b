"""Searching a vector store of 1,000 chunks, as a ratio against an embeddings call for the query.

    python benchmarks/bench_vector_search.py [--chunks 1000] [--calls 200] [--repeats 5]

Set-up: ``--chunks`` chunks in one store: ten Markdown files of generated text (a ~190-word
vocabulary, so a query shares words with most chunks, the worst case for the search), each
chunked ``static`` 100 tokens / 50 overlap until the store holds the number asked for.

Rows, through the real SDK against one ``FakeOpenAI`` (strict response validation off, as a
user's client):

- floor: ``client.embeddings.create(model="text-embedding-3-small", input=<query>)`` with
  ``encoding_format="float"`` and with the SDK's default (base64, decoded by the SDK): what a
  retrieval step that embeds its query costs. The verdict uses the cheaper of the two.
- ``client.vector_stores.search(store, query=<query>)`` (10 results, the default).
- the same with ``max_num_results=50``, ``rewrite_query=True`` and a ``filters`` on attributes.

Each repeat runs ``--calls`` calls of each row, interleaved, with a new query per call (from the
same vocabulary); the table shows per-call medians over repeats. Also shown: the fake's own
``openai-processing-ms`` for a search. Target (issue 15): search / floor <= 2.0.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pytest_openai_fake import FakeOpenAI
from pytest_openai_fake.determinism import digest, generate_text

TARGET = 2.0
FILES = 10


def build_store(client, chunks: int) -> str:
    """A store of ``chunks`` chunks (100 tokens, 50 overlap: one new chunk per 50 tokens)."""
    store = client.vector_stores.create(name="bench")
    per_file = chunks // FILES
    for index in range(FILES):
        words: list[str] = []
        while len(" ".join(words).split()) < (per_file + 1) * 45:
            words.append(generate_text(digest("doc", index, len(words)), min_words=20, max_words=40))
        text = " ".join(words)
        file_id = client.files.create(file=(f"doc{index}.md", text.encode()), purpose="assistants").id
        client.vector_stores.files.create(
            vector_store_id=store.id,
            file_id=file_id,
            attributes={"doc": index, "even": index % 2 == 0},
            chunking_strategy={"type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 50}},
        )
    return store.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    with FakeOpenAI() as fake:
        client = fake.client()
        store_id = build_store(client, args.chunks)
        held = sum(len(row["_chunks"]) for row in fake.state.collections[("/vector_stores/{vector_store_id}/files", (store_id,))])
        queries = [generate_text(digest("query", i), min_words=6, max_words=12) for i in range(args.calls)]
        rows = {
            "floor": lambda q: client.embeddings.create(model="text-embedding-3-small", input=q, encoding_format="float"),
            "floor64": lambda q: client.embeddings.create(model="text-embedding-3-small", input=q),
            "search": lambda q: client.vector_stores.search(store_id, query=q),
            "search50": lambda q: client.vector_stores.search(
                store_id, query=q, max_num_results=50, rewrite_query=True, filters={"type": "eq", "key": "even", "value": True}
            ),
        }
        for call in rows.values():  # warm up: connections, model tables, pydantic models
            call(queries[0])
        samples: dict[str, list[float]] = {key: [] for key in rows}
        for repeat in range(args.repeats):
            spent = dict.fromkeys(rows, 0.0)
            order = list(rows) if repeat % 2 == 0 else list(reversed(rows))
            for query in queries:
                for key in order:
                    start = time.perf_counter()
                    rows[key](query)
                    spent[key] += time.perf_counter() - start
            for key in rows:
                samples[key].append(spent[key] / len(queries))
        raw = client.vector_stores.with_raw_response.search(store_id, query=queries[0])
        server_ms = raw.headers.get("openai-processing-ms")
        found = len(raw.parse().data)
        problems = fake.take_problems()
        assert not problems, problems

    floor = min(statistics.median(samples["floor"]), statistics.median(samples["floor64"]))
    labels = {
        "floor": "embeddings.create for the query, float",
        "floor64": "embeddings.create for the query, base64 (SDK default)",
        "search": f"vector_stores.search, {held} chunks ({found} results)",
        "search50": "  max_num_results=50, rewrite_query, filters",
    }
    width = max(map(len, labels.values())) + 2
    print(f"{held} chunks in {FILES} files, {args.calls} queries x {args.repeats} repeats, per-call medians")
    print(f"{'per call (ratio: to the cheaper embeddings row)':<{width}}{'µs':>9}{'ratio':>8}")
    for key, label in labels.items():
        median = statistics.median(samples[key])
        print(f"{label:<{width}}{median * 1e6:>9.0f}{median / floor:>7.2f}x")
    print(f"\nfake's own time for one search (openai-processing-ms): {server_ms}")
    ratio = statistics.median(samples["search"]) / floor
    verdict = "meets" if ratio <= TARGET else "MISSES"
    print(f"{verdict} the target: search / embeddings call {ratio:.2f}x (<= {TARGET}x)")


if __name__ == "__main__":
    main()
