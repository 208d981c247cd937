"""What readers get from the shipped answer layer, on the dev sets: bands, answer line, English, reply length, speed.

    python -m bench.answers [--no-write] [--limit N]

Runs every set of bench/answer_data.py through ``Searcher.search`` exactly as
the bot does (the shipped models in index/models/ and their thresholds), and
reports per set: "nothing found" / "no sure answer" / answered as sure; for
answerable sets the answer line (the top hit's answer sentence holds a gold
answer: shown as the 💡 line, and whatever the band), article-hit@1 and
answer-hit@5 with the gate on; the trade-off curve over every threshold with
its AUC; the length of the rendered three-source reply; and query latency
beside the bare encoder's. The models were trained on these same sets, so these
are in-sample figures; bench/train_answers.py reports the out-of-fold ones.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from bench.answer_data import SETS, open_searchers
from bench.common import percentile, record, table
from bench.train_answers import ANSWERABLE_AR, OUT_OF_CORPUS_AR, roc_auc
from bot.render import Format, reply_messages
from index.search.searcher import AnswerModels, SearchParams
from index.tools.evaluate import answer_rank, article_rank, highlight_hit, load_questions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, help="only the first N questions of each set")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("TQDM_DISABLE", "1")
    models = AnswerModels.load()
    searchers = open_searchers(models=models, params=SearchParams())
    low, high = models.thresholds()
    rows, curve_top, lengths, latencies, encoder = [], {}, [], [], []
    by_set: dict[str, list[object]] = {}
    for spec in SETS:
        if not spec.questions.exists():
            print(f"skipping {spec.name}: {spec.questions} is missing")
            continue
        searcher = searchers[spec.index]
        questions = load_questions(spec.questions)[: args.limit]
        results, probs = [], []
        for q in questions:
            t = time.perf_counter()
            result = searcher.search(q["question"], k=5)
            if spec.name == "arcd":
                latencies.append(time.perf_counter() - t)
                t = time.perf_counter()
                searcher.encode([q["question"]])
                encoder.append(time.perf_counter() - t)
            results.append(result)
            probs.append(result.confidence)
            if not result.no_answer:
                shown = result.confident_only()
                text = "\n\n".join(reply_messages(shown, result.lang, 0, 3, Format(html=True, rtl=result.lang == "ar")))
                lengths.append(len(text))
        curve_top[spec.name] = np.asarray(probs)
        n = len(results)
        nothing = sum(r.no_answer for r in results) / n
        tentative = sum(r.tentative for r in results) / n
        sure = 1 - nothing - tentative
        row: list[object] = [spec.name, n, f"{nothing:.1%}", f"{tentative:.1%}", f"{sure:.1%}"]
        if spec.answerable:
            line_any = sum(highlight_hit(r, q["answers"]) for r, q in zip(results, questions, strict=True)) / n
            line_shown = (
                sum(highlight_hit(r, q["answers"]) and r.band == "answer" for r, q in zip(results, questions, strict=True)) / n
            )
            art1 = sum(article_rank(r, set(q["relevant_article_ids"])) == 1 for r, q in zip(results, questions, strict=True))
            ans5 = sum((answer_rank(r, q["answers"]) or 99) <= 5 for r, q in zip(results, questions, strict=True))
            row += [f"{line_shown:.3f}", f"{line_any:.3f}", f"{art1 / n:.3f}", f"{ans5 / n:.3f}"]
        else:
            row += ["—"] * 4
        rows.append(row)
        by_set[spec.name] = row
        print(" | ".join(map(str, row)))

    pos = np.concatenate([curve_top[n] for n in ANSWERABLE_AR if n in curve_top])
    neg = np.concatenate([curve_top[n] for n in OUT_OF_CORPUS_AR if n in curve_top])
    thresholds = sorted({*(round(t, 2) for t in np.linspace(0, 1, 21)), round(low, 3), round(high, 3)})
    curve = [[f"{t:.3f}", *(f"{np.mean(curve_top[n] < t):.1%}" for n in curve_top)] for t in thresholds]
    english = [n for n in ("english",) if n in curve_top]
    english_auc = (
        f" English answerable vs English out of corpus: {roc_auc(curve_top['english'], curve_top['unanswerable-en']):.3f}."
        if english and "unanswerable-en" in curve_top
        else ""
    )
    lat = {q: percentile([x * 1000 for x in latencies], q) for q in (0.5, 0.99)}
    enc50 = percentile([x * 1000 for x in encoder], 0.5)
    body = (
        f'Shipped models (index/models/, thresholds: "nothing found" below {low:.3f}, sure from {high:.3f}), '
        "through `Searcher.search` with k=5 as the bot calls it. In-sample: the models were trained on these sets "
        "(out-of-fold figures: the training section).\n\n"
        + table(
            [
                "set",
                "questions",
                "nothing found",
                "no sure answer",
                "sure",
                "answer line shown (💡) and right",
                "answer sentence right (any band)",
                "article-hit@1 (gate on)",
                "answer-hit@5 (gate on)",
            ],
            rows,
        )
        + f"\n\nTrade-off AUC (answerable ARCD vs out-of-corpus Arabic, top hit's probability): {roc_auc(pos, neg):.3f}."
        + english_auc
        + ' Share told "nothing found" at each threshold:\n\n'
        + table(["threshold", *curve_top], curve)
        + f"\n\nReply length (three sources, Telegram HTML source incl. tags, {len(lengths)} replies): mean "
        f"{statistics.fmean(lengths):.0f}, p50 {percentile(lengths, 0.5):.0f}, p95 {percentile(lengths, 0.95):.0f} characters."
        f"\n\nQuery latency over {len(latencies)} ARCD questions (one thread, k=5): p50 {lat[0.5]:.1f} ms, p99 "
        f"{lat[0.99]:.1f} ms; bare encoder p50 {enc50:.2f} ms in the same run (ratio {lat[0.5] / enc50:.2f}×)."
    )
    arcd, english = by_set.get("arcd"), by_set.get("english")
    figures = {
        "reply length, three sources, p50 / p95 characters": f"{percentile(lengths, 0.5):.0f} / {percentile(lengths, 0.95):.0f}"
    }
    if arcd:
        figures["answerable ARCD: sure / no sure answer / nothing found (shipped models)"] = (
            f"{arcd[4]} / {arcd[3]} / {arcd[2]} (in sample)"
        )
    if english:
        figures["English about Arabic: answer-hit@5 / nothing found (shipped models)"] = f"{english[8]} / {english[2]}"
    record("Answer layer: what readers get (dev sets, shipped models)", body, write=not args.no_write, figures=figures)


if __name__ == "__main__":
    main()
