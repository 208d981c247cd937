"""The index on Milvus against the embedded store: the same answers, and what a query costs through Milvus Lite.

Builds ARCD's articles with the 2,000 SaudiNewsNet distractors both ways from the same files
(the embeddings cache is shared, so both hold the same vectors), then:

1. evaluates the embedded store on ARCD (dev), Arabic news (dev) and the held-out Arabic news set;
2. deletes the local build (only the embeddings cache stays) and evaluates the Milvus index on the
   same questions through a ``milvus-lite server`` started on loopback;
3. compares article-hit@1 and answer-hit@5, the share of questions with the same first article,
   and query p50 / p95 (each engine timed alone, one question at a time).

    python -m bench.milvus [--no-write] [--limit N]
"""

from __future__ import annotations

import argparse
import collections
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from bench.answer_data import ARABIC_HELDOUT, ARABIC_NEWS
from bench.common import ARCD_ARTICLES, ARCD_QUESTIONS, ROOT, SNN_ARTICLES, need, record, table
from index.build import BuildConfig, run_build
from index.layout import IndexLayout
from index.search.searcher import Searcher, SearchParams
from index.storage.milvus import reading
from index.storage.milvus.target import MilvusTarget
from index.tools.evaluate import evaluate, load_questions
from tests.support.milvus import LiteServer

WORK = ROOT / "var" / "milvus-bench"
SETS = {"ARCD (dev)": ARCD_QUESTIONS, "Arabic news (dev)": ARABIC_NEWS, "Arabic news (held-out)": ARABIC_HELDOUT}


def run(searcher: Searcher, questions: dict[str, list[dict]]) -> dict[str, tuple[dict, list[str]]]:
    """Each set's metrics and the first article of each answer."""
    out = {}
    for name, qs in questions.items():
        metrics = evaluate(searcher, qs, k=10, mode="hybrid", progress=True)
        firsts = [(r.hits[0].article_id if r.hits else "") for r in (searcher.search(q["question"], k=1) for q in qs)]
        out[name] = (metrics, firsts)
    return out


@contextmanager
def timed_calls() -> Iterator[dict[str, list[float]]]:
    """Seconds of each request to Milvus, by kind, while the block runs (the searches also run on the store's
    threads, so these add up to more than the wall time when they overlap)."""
    spent: dict[str, list[float]] = collections.defaultdict(list)
    search, query = reading.MilvusIndex.search, reading.MilvusIndex._query

    def timed_search(self, field, data, limit, where=""):
        t = time.perf_counter()
        try:
            return search(self, field, data, limit, where)
        finally:
            kind = "by id" if where.startswith("row in") else "recent" if where else "top"
            spent[f"{'vector' if field == 'vector' else 'BM25'} search, {kind}"].append(time.perf_counter() - t)

    def timed_query(self, collection, where, fields, limit=None):
        t = time.perf_counter()
        try:
            return query(self, collection, where, fields, limit)
        finally:
            kind = "articles" if collection.endswith("__articles") else "vectors" if fields == ["row", "vector"] else "rows"
            spent[f"query by id: {kind}"].append(time.perf_counter() - t)

    reading.MilvusIndex.search, reading.MilvusIndex._query = timed_search, timed_query
    try:
        yield spent
    finally:
        reading.MilvusIndex.search, reading.MilvusIndex._query = search, query


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--limit", type=int, help="only the first N questions of each set")
    args = parser.parse_args()
    articles = [need(ARCD_ARTICLES), need(SNN_ARTICLES)]
    questions = {name: load_questions(need(path))[: args.limit] for name, path in SETS.items()}
    params = replace(SearchParams(), min_confidence=0.0)  # ranking only, as bench.quality measures it
    local, cache = WORK / "embedded", WORK / "milvus-cache"
    shutil.rmtree(WORK, ignore_errors=True)
    warm = ROOT / "var" / "quality-arcd" / "cache"  # bench.quality's embeddings of the same chunks, when present
    for index_dir in (local, cache):
        if warm.exists():
            shutil.copytree(warm, IndexLayout(index_dir).cache_dir, dirs_exist_ok=True)

    t = time.perf_counter()
    built = run_build(articles, local, BuildConfig(), progress=True)
    local_seconds = time.perf_counter() - t
    embedded = run(Searcher.open(local, params=params), questions)
    shutil.rmtree(local)  # nothing local from here on but the embeddings cache

    with tempfile.TemporaryDirectory() as data:
        server = LiteServer(Path(data) / "milvus")
        t = time.perf_counter()
        server.start()
        start_seconds = time.perf_counter() - t
        try:
            target = MilvusTarget.parse(server.uri("arcd"))
            t = time.perf_counter()
            run_build(articles, cache, BuildConfig(), progress=True, target=target)
            milvus_seconds = time.perf_counter() - t
            assert not IndexLayout(cache).builds.exists(), "a Milvus build left a local build"
            with timed_calls() as spent:
                remote = run(Searcher.open(cache, params=params, store=target), questions)
        finally:
            server.stop()

    rows = []
    for name in SETS:
        (a, first_a), (b, first_b) = embedded[name], remote[name]
        same = sum(x == y for x, y in zip(first_a, first_b, strict=True)) / max(len(first_a), 1)
        rows.append(
            [
                name,
                len(first_a),
                f"{a['article_hit@1']:.3f} / {b['article_hit@1']:.3f} ({b['article_hit@1'] - a['article_hit@1']:+.3f})",
                f"{a['answer_hit@5']:.3f} / {b['answer_hit@5']:.3f} ({b['answer_hit@5'] - a['answer_hit@5']:+.3f})",
                f"{same:.3f}",
                f"{a['latency_ms_p50']:.1f} / {a['latency_ms_p95']:.1f}",
                f"{b['latency_ms_p50']:.1f} / {b['latency_ms_p95']:.1f}",
            ]
        )
    headers = [
        "set",
        "questions",
        "art@1 embedded / Milvus",
        "ans@5 embedded / Milvus",
        "same first article",
        "embedded p50 / p95 ms",
        "Milvus Lite p50 / p95 ms",
    ]
    body = (
        f"ARCD's articles with the 2,000 SaudiNewsNet distractors: {built.articles} articles, {built.chunks} passages, "
        "shipped search settings with refusals off (ranking only), k=10. The Milvus figures were taken with the local "
        "build deleted (only the embeddings cache left), through `milvus-lite server` on loopback (HNSW, M=16, ef 128; "
        f"BM25 candidates from Milvus, scored on the client from the stored terms). Build: embedded {local_seconds:.0f} s, "
        f"Milvus {milvus_seconds:.0f} s (the same embeddings cache); the server started in {start_seconds:.1f} s.\n\n"
        + table(headers, rows)
    )
    arcd = rows[0]
    figures = {
        "Milvus vs embedded, ARCD: art@1 / ans@5 (both engines); query p50 through Milvus Lite": (
            f"art@1 {arcd[2].replace(' / ', ' → ')}, ans@5 {arcd[3].replace(' / ', ' → ')}; p50 {arcd[6].split(' / ')[0]} ms"
        ),
    }
    asked = 2 * sum(len(qs) for qs in questions.values())  # ``run`` asks each question twice
    calls = [
        [kind, f"{len(times) / asked:.2f}", f"{1000 * sum(times) / len(times):.1f}", f"{1000 * sum(times) / asked:.1f}"]
        for kind, times in sorted(spent.items(), key=lambda kv: -sum(kv[1]))
    ]
    body += (
        "\n\nWhere a question's time goes through Milvus Lite (every request of the Milvus runs, timed at the client; "
        "Lite answers one request at a time, so requests sent together queue):\n\n"
        + table(["request", "per question", "ms each", "ms per question"], calls)
    )
    record("The index on Milvus", body, write=not args.no_write, figures=figures)


if __name__ == "__main__":
    main()
