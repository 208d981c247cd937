"""Retrieval-quality sweep: chunking, BM25 variant, stemmer, titles and dense weight on the dev sets.

For each build configuration the index is rebuilt (embeddings come from the
cache after the first time), then every question set is scored at several dense
weights with the query vectors computed once. Results go to docs/benchmarks.md.

    python -m bench.sweep --set arcd --grid chunking
    python -m bench.sweep --set arcd --grid bm25 --no-write
"""

from __future__ import annotations

import argparse
import itertools
from dataclasses import replace
from pathlib import Path

from bench.common import DEV_SETS, ROOT, need, record, table
from index.build import BuildConfig, run_build
from index.search.searcher import Searcher, SearchParams
from index.text.chunking import ChunkParams
from index.tools.evaluate import load_questions, score_results

BASE = BuildConfig()
GRIDS: dict[str, list[tuple[str, BuildConfig]]] = {
    "default": [("default", BASE)],
    "chunking": [
        (
            f"chunk {t}/{m} overlap {o}",
            replace(BASE, chunking=ChunkParams(target_words=t, max_words=m, min_words=min(20, t // 3), overlap_words=o)),
        )
        for t, m, o in [(50, 70, 12), (70, 95, 20), (90, 120, 25), (120, 160, 30), (150, 200, 40), (200, 260, 50)]
    ],
    "bm25": [
        (f"{method} k1={k1} b={b}", replace(BASE, lexical=replace(BASE.lexical, method=method, k1=k1, b=b)))
        for method, k1, b in [
            ("lucene", 1.2, 0.75),
            ("lucene", 0.9, 0.4),
            ("lucene", 1.5, 0.75),
            ("lucene", 1.2, 0.9),
            ("lucene", 2.0, 0.75),
            ("robertson", 1.2, 0.75),
            ("atire", 1.2, 0.75),
            ("bm25+", 1.2, 0.75),
            ("bm25l", 1.2, 0.75),
        ]
    ],
    "stemmer": [
        (f"stemmer {s}", replace(BASE, lexical=replace(BASE.lexical, stemmer=s)))
        for s in ("none", "light", "snowball", "light+snowball", "light+snowball+masdar")
    ],
    "titles": [(f"titles {t}", replace(BASE, index_titles=t)) for t in (True, False)],
}
WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0)


def evaluate_weights(
    searcher: Searcher,
    questions: list[dict],
    weights: tuple[float, ...],
    sentence_weights: tuple[float, ...],
    phrase_weights: tuple[float, ...] = (SearchParams.phrase_weight,),
    k: int = 10,
) -> list[dict]:
    """Score every (dense, sentence, phrase weight) combination; query vectors are computed once."""
    vectors = searcher.encode([q["question"] for q in questions])
    rows = []
    base = searcher.params
    for w, sw, pw in itertools.product(weights, sentence_weights, phrase_weights):
        searcher.params = replace(base, dense_weight=w, sentence_weight=sw, phrase_weight=pw, min_confidence=0.0)
        mode = "lexical" if w == 0.0 else "dense" if w == 1.0 else "hybrid"
        results = [
            searcher.search(q["question"], k=k, mode=mode, query_vector=v) for q, v in zip(questions, vectors, strict=True)
        ]
        rows.append({"weight": w, "sentence_weight": sw, "phrase_weight": pw, **score_results(questions, results)})
    searcher.params = base
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", choices=sorted(DEV_SETS), default="arcd")
    parser.add_argument("--grid", choices=sorted(GRIDS), default="default")
    parser.add_argument("--weights", type=float, nargs="+", default=list(WEIGHTS))
    parser.add_argument("--sentence-weights", type=float, nargs="+", default=[SearchParams.sentence_weight])
    parser.add_argument("--phrase-weights", type=float, nargs="+", default=[SearchParams.phrase_weight])
    parser.add_argument("--only", nargs="+", help="run only the grid entries whose label contains one of these")
    parser.add_argument("--index", type=Path, help="index directory to (re)build (default: var/sweep-<set>)")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    dev = DEV_SETS[args.set]
    questions = load_questions(need(dev.questions))
    index_dir = args.index or ROOT / "var" / f"sweep-{args.set}"
    rows = []
    for label, config in GRIDS[args.grid]:
        if args.only and not any(part in label for part in args.only):
            continue
        config = replace(config, index_titles=config.index_titles and dev.titles)
        run_build([need(p) for p in dev.articles], index_dir, config, progress=True)
        searcher = Searcher.open(index_dir, params=SearchParams())
        for row in evaluate_weights(
            searcher, questions, tuple(args.weights), tuple(args.sentence_weights), tuple(args.phrase_weights)
        ):
            keys = (
                "weight",
                "sentence_weight",
                "phrase_weight",
                "article_hit@1",
                "article_hit@5",
                "mrr@10",
                "answer_hit@1",
                "answer_hit@5",
                "highlight_hit@1",
            )
            rows.append([label, *(row[key] for key in keys)])
            print(*rows[-1], sep="\t", flush=True)
    body = (
        f"Question set `{args.set}` ({len(questions)} questions; titles {'indexed' if dev.titles else 'not indexed'}), "
        f"grid `{args.grid}`; weight 0 = BM25 only, 1 = dense only; no refusals.\n\n"
        + table(
            ["config", "dense weight", "sentence weight", "phrase weight", "art@1", "art@5", "MRR@10", "ans@1", "ans@5", "hl@1"],
            rows,
        )
    )
    record(f"Sweep: {args.set} / {args.grid}", body, write=not args.no_write)


if __name__ == "__main__":
    main()
