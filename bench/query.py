"""Query benchmark: in-process search latency, split by stage, beside the bare encoder.

Builds (or reuses) an index of the questions' articles plus the 2,000 SaudiNewsNet
articles as distractors, then times every question. The bare encoder's time for
the same questions is measured in the same run, so the ratio is fair on a noisy
machine.

    python -m bench.query [--questions FILE] [--articles FILE ...] [--index DIR] [--no-write]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bench.common import ARCD_QUESTIONS, DEV_SETS, ROOT, build_index_cli, need, record, summary_ms, table
from index.search.searcher import Searcher
from index.storage.store import current_build_id
from index.tools.evaluate import load_questions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=Path, default=ARCD_QUESTIONS)
    parser.add_argument("--articles", type=Path, nargs="+", default=DEV_SETS["arcd"].articles)
    parser.add_argument("--index", type=Path, default=ROOT / "var" / "bench-arcd-index")
    parser.add_argument("--mode", default="hybrid", choices=("hybrid", "lexical", "dense"))
    parser.add_argument("--rebuild", action="store_true", help="rebuild the index even if it exists")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    questions = [q["question"] for q in load_questions(need(args.questions))]
    for path in args.articles:
        need(path)
    if args.rebuild or current_build_id(args.index) is None:
        build_index_cli(args.index, args.articles)

    searcher = Searcher.open(args.index)
    searcher.search(questions[0])  # warm up caches and lazy imports
    stages: dict[str, list[float]] = {}
    totals: list[float] = []
    rest: list[float] = []  # each question's time after its encoding
    for q in questions:
        t = time.perf_counter()
        result = searcher.search(q, k=5, mode=args.mode)
        totals.append(time.perf_counter() - t)
        rest.append(totals[-1] - result.timings.get("encode", 0.0))
        for stage, seconds in result.timings.items():
            stages.setdefault(stage, []).append(seconds)
    bare: list[float] = []
    for q in questions:
        t = time.perf_counter()
        searcher.embedder.encode_queries([q])
        bare.append(time.perf_counter() - t)

    total = summary_ms(totals)
    enc = summary_ms(bare)
    rows = [["search total", total["p50"], total["p95"], total["p99"], total["mean"]]]
    for stage, values in stages.items():
        s = summary_ms(values)
        rows.append([f"  {stage}", s["p50"], s["p95"], s["p99"], s["mean"]])
    rows.append(["bare encoder (same questions)", enc["p50"], enc["p95"], enc["p99"], enc["mean"]])
    m = searcher.manifest
    body = (
        f"{len(questions)} questions from `{args.questions.name}`, mode {args.mode}, k=5; index: {m.articles} articles, "
        f"{m.chunks} chunks, FAISS {m.faiss_index}, model {m.model}.\n\n"
        + table(["stage", "p50 ms", "p95 ms", "p99 ms", "mean ms"], rows)
        + f"\n\nsearch p50 / bare encoder p50 = {total['p50'] / enc['p50']:.2f}; p99 / p99 = {total['p99'] / enc['p99']:.2f}."
    )
    if "encode" in stages:  # where the ratio comes from
        body += (
            f" Inside the search the encoder's p50 is {summary_ms(stages['encode'])['p50'] / enc['p50']:.2f}x its bare p50 "
            f"(its weights leave the cache between questions); the rest of the search has p50 "
            f"{summary_ms(rest)['p50']:.3f} ms = {summary_ms(rest)['p50'] / enc['p50']:.2f}x the bare encoder."
        )
    figures = {
        "query p50 / p99 (ARCD questions, 2,151 articles)": f"{total['p50']:.2f} / {total['p99']:.2f} ms",
        "query p50 ÷ bare encoder p50": f"{total['p50'] / enc['p50']:.2f}×",
    }
    record("Query latency", body, write=not args.no_write, figures=figures if args.mode == "hybrid" else None)


if __name__ == "__main__":
    main()
