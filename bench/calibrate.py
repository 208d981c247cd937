"""Calibrate the "no answer" decision: confidence weights and threshold.

Runs answerable dev questions (ARCD, SaudiNewsNet headlines) and the team's
unanswerable questions (bench/data/unanswerable_ar.jsonl) through the searcher,
records each top hit's signals (coverage, sentence, cosine, year check), then searches the
weights and threshold that refuse the most unanswerable questions while wrongly
refusing at most --max-wrong of the answerable ones.

    python bench/calibrate.py [--index DIR] [--max-wrong 0.05] [--no-write]
"""

from __future__ import annotations

import argparse
import itertools
from dataclasses import replace
from pathlib import Path

from common import DEV_SETS, ROOT, build_index_cli, need, record, table

from index.evaluate import load_questions
from index.search import Searcher, SearchParams, combine_confidence

UNANSWERABLE = ROOT / "bench" / "data" / "unanswerable_ar.jsonl"
ANSWERABLE = {name: dev.questions for name, dev in DEV_SETS.items()}
ARTICLES = DEV_SETS["arcd"].articles


def signals_for(searcher: Searcher, questions: list[dict]) -> list[dict[str, float]]:
    vectors = searcher.encode([q["question"] for q in questions])
    return [searcher.search(q["question"], k=5, query_vector=v).signals for q, v in zip(questions, vectors, strict=True)]


def confidence(signals: dict[str, float], weights: tuple[float, float, float]) -> float:
    """The searcher's own confidence rule with other weights (dense acceptance and year check as shipped)."""
    return combine_confidence(signals, replace(SearchParams(), confidence_weights=weights))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, default=ROOT / "var" / "bench-arcd-index")
    parser.add_argument("--max-wrong", type=float, default=0.05, help="largest share of answerable questions refused")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if not (args.index / "CURRENT").exists():
        build_index_cli(args.index, ARTICLES)
    searcher = Searcher.open(args.index)
    searcher.params = replace(searcher.params, min_confidence=0.0)
    sets = {name: signals_for(searcher, load_questions(need(path))) for name, path in ANSWERABLE.items()}
    unanswerable = signals_for(searcher, load_questions(UNANSWERABLE))

    candidates = []
    steps = [i / 10 for i in range(11)]
    for weights in itertools.product(steps, repeat=3):
        if abs(sum(weights) - 1.0) > 1e-9:
            continue
        # the highest threshold that refuses at most max_wrong of EACH answerable set
        threshold = min(
            sorted(confidence(s, weights) for s in values)[int(args.max_wrong * len(values))] for values in sets.values()
        )
        refused = sum(confidence(s, weights) < threshold for s in unanswerable) / len(unanswerable)
        wrong = {name: sum(confidence(s, weights) < threshold for s in values) / len(values) for name, values in sets.items()}
        candidates.append((refused, -max(wrong.values()), weights, threshold, wrong))
    candidates.sort(reverse=True)
    rows = [
        [*weights, round(threshold, 3), refused, *(wrong[name] for name in ANSWERABLE)]
        for refused, _, weights, threshold, wrong in candidates[:8]
    ]
    shipped = Searcher(searcher.stored, searcher.embedder, SearchParams())
    outcomes = {
        name: [shipped.search(q["question"]) for q in qs]
        for name, qs in {
            **{n: load_questions(need(p)) for n, p in ANSWERABLE.items()},
            "unanswerable": load_questions(UNANSWERABLE),
        }.items()
    }
    refused_now = {name: sum(r.no_answer for r in results) / len(results) for name, results in outcomes.items()}
    bands = [
        [
            name,
            f"{sum(r.no_answer for r in results) / len(results):.1%}",
            f"{sum(r.tentative for r in results) / len(results):.1%}",
            f"{sum(not r.no_answer and not r.tentative for r in results) / len(results):.1%}",
        ]
        for name, results in outcomes.items()
    ]
    current = searcher.params.confidence_weights
    body = (
        f"Index `{args.index.name}` ({searcher.manifest['articles']} articles). Answerable: "
        + ", ".join(f"{name} {len(values)}" for name, values in sets.items())
        + f"; unanswerable: {len(unanswerable)} (bench/data/unanswerable_ar.jsonl). Threshold chosen so that at most "
        f"{args.max_wrong:.0%} of each answerable set is refused. Best weight combinations:\n\n"
        + table(
            [
                "w coverage",
                "w sentence",
                "w cosine",
                "threshold",
                "unanswerable refused",
                *(f"{n} wrongly refused" for n in ANSWERABLE),
            ],
            rows,
        )
        + f"\n\nWith the shipped defaults (weights {current}, MIN_CONFIDENCE {SearchParams().min_confidence}, dense-only acceptance at "
        f"cosine ≥ {SearchParams().dense_accept}), refused: "
        + ", ".join(f"{name} {share:.1%}" for name, share in refused_now.items())
        + f". What readers see with the shipped defaults (SURE_CONFIDENCE {SearchParams().sure_confidence}: below it the "
        'reply shows the closest passages under "no sure answer" instead of a one-line answer):\n\n'
        + table(["questions", "no answer", "closest passages (tentative)", "answer"], bands)
    )
    record("No-answer calibration", body, write=not args.no_write)


if __name__ == "__main__":
    main()
