"""What time in answers costs on the dev sets: the same questions with and without it.

Time in answers is two things (index/recency.py): a re-rank bonus for articles in the
window a question names ("today", "last week", "latest"), and newer-first order among
hits whose scores are within a small margin. Neither should cost retrieval quality on
questions that name no time. This runs both dev sets twice with the full search (answer
layer included, refusals off): shipped settings, then with both switched off.

    python -m bench.recency [--no-write]
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from bench.common import DEV_SETS, ROOT, need, record, table
from bench.quality import ensure_index
from index.build import BuildConfig
from index.search.recency import time_window
from index.search.searcher import Searcher, SearchParams
from index.tools.evaluate import evaluate, load_questions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    shipped = replace(SearchParams(), min_confidence=0.0)
    variants = {"shipped": shipped, "without time": replace(shipped, window_bonus=0.0, tie_margin=0.0)}
    rows = []
    for name, spec in DEV_SETS.items():
        index_dir = ROOT / "var" / f"quality-{name}"
        ensure_index(index_dir, spec.articles, replace(BuildConfig(), index_titles=spec.titles))
        questions = load_questions(need(spec.questions))
        timed = sum(time_window(q["question"]) is not None for q in questions)
        searcher = Searcher.open(index_dir)  # once per set: the variants differ only in their parameters
        for label, params in variants.items():
            searcher.params = params
            r = evaluate(searcher, questions, k=10, mode="hybrid")
            rows.append([name, len(questions), timed, label, r["article_hit@1"], r["article_hit@5"], r["mrr@10"]])
    body = (
        "Full search (answer layer included, refusals off), k=10, hybrid. 'questions naming a time' counts the "
        "questions the time-window bonus applies to; the newer-first order applies to every question whose top "
        "hits tie within the margin.\n\n"
        + table(["set", "questions", "questions naming a time", "variant", "art@1", "art@5", "MRR@10"], rows)
    )
    art1 = {(row[0], row[3]): row[4] for row in rows}
    figures = {
        "time in answers: ARCD / headlines article-hit@1 with and without": (
            f"{art1['arcd', 'shipped']:.3f} vs {art1['arcd', 'without time']:.3f} / "
            f"{art1['title2article', 'shipped']:.3f} vs {art1['title2article', 'without time']:.3f}"
        )
    }
    record("Time in answers: cost on the dev sets", body, write=not args.no_write, figures=figures)


if __name__ == "__main__":
    main()
