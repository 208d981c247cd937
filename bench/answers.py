"""What readers get from the shipped answer layer: bands, the 💡 line, English, reply length, speed.

    python -m bench.answers [--no-write] [--limit N]

Runs the dev sets and the held-out sets of bench/answer_data.py through
``Searcher.search`` exactly as the bot does (the shipped models in index/models/ and
their thresholds), and reports per set: "nothing found" / "no sure answer" / sure;
for answerable sets the 💡 line's precision (when sure, the answer sentence holds a
gold answer), the answer sentence whatever the band, article-hit@1 and answer-hit@5
with the gate on; the coverage–precision curve over every sure threshold for ARCD and
for the held-out Arabic news set; the rendered reply's length; and query latency
beside the bare encoder's. Dev figures are in sample (the models learned from those
sets; bench/train_answers.py gives them out of fold); **held-out figures** come from
sets never trained or tuned on.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from dataclasses import dataclass

import numpy as np

from bench.answer_data import DEV, HELDOUT, QuestionSet, open_searchers, sets_for
from bench.common import percentile, record, table
from bench.learners import roc_auc
from bench.train_answers import ANSWERABLE_AR, OUT_OF_CORPUS_AR
from bot.render import Format, reply_messages
from index.results import ANSWER
from index.search.searcher import AnswerModels, SearchParams, SearchResult
from index.tools.evaluate import answer_rank, article_rank, contains_answer, highlight_hit, load_questions

HELDOUT_AR, HELDOUT_AR_OUT = "arabic-heldout", "arabic-heldout-out-of-corpus-and-copies"
# The held-out set's out-of-corpus twin without the copies of its articles in other outlets is the fair one:
# "arabic-heldout-out-of-corpus" (its articles alone removed) is still answered from syndicated copies.
CURVE = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


@dataclass
class SetOutcome:
    spec: QuestionSet
    questions: list[dict]
    results: list[SearchResult]

    @property
    def n(self) -> int:
        return len(self.results) or 1

    def share(self, band: str) -> float:
        return sum(r.band == band for r in self.results) / self.n

    def line_right(self) -> np.ndarray:
        """Per question: the top answer sentence holds a gold answer (whatever the band)."""
        return np.asarray([highlight_hit(r, q["answers"]) for r, q in zip(self.results, self.questions, strict=True)])

    def from_copy(self) -> np.ndarray:
        """Per question: the top passage holds a gold answer (for an out-of-corpus set: another outlet's copy)."""
        return np.asarray(
            [
                bool(r.hits) and contains_answer(r.hits[0].passage.text, q["answers"])
                for r, q in zip(self.results, self.questions, strict=True)
            ]
        )

    def probabilities(self) -> np.ndarray:
        return np.asarray([r.confidence for r in self.results])

    def row(self) -> list[object]:
        sure = np.asarray([r.band == ANSWER for r in self.results])
        out: list[object] = [
            self.spec.name + (" (held-out)" if self.spec.role == HELDOUT else ""),
            len(self.results),
            f"{self.share('nothing'):.1%}",
            f"{self.share('tentative'):.1%}",
            f"{self.share('answer'):.1%}",
        ]
        if not self.spec.answerable:
            if self.spec.copies:  # out of corpus, but another outlet's copy may hold the answer: not a wrong answer
                copied = self.from_copy()
                out[4] = f"{(sure & ~copied).mean():.1%} (+{(sure & copied).mean():.1%} from a copy)"
            return out + ["—"] * 4
        right = self.line_right()
        pairs = list(zip(self.results, self.questions, strict=True))
        art1 = sum(article_rank(r, set(q["relevant_article_ids"])) == 1 for r, q in pairs) / self.n
        ans5 = sum((answer_rank(r, q["answers"]) or 99) <= 5 for r, q in pairs) / self.n
        precision = f"{right[sure].mean():.3f}" if sure.any() else "—"
        return [*out, precision, f"{right.mean():.3f}", f"{art1:.3f}", f"{ans5:.3f}"]


def curve(pos: SetOutcome, neg: SetOutcome, thresholds: list[float]) -> list[list[object]]:
    p, right, q = pos.probabilities(), pos.line_right(), neg.probabilities()
    if neg.spec.copies:
        q = q[~neg.from_copy()]  # answered from another outlet's copy: not an out-of-corpus answer
    rows = []
    for t in thresholds:
        sure = p >= t
        rows.append(
            [f"{t:.3f}", f"{sure.mean():.1%}", f"{right[sure].mean():.3f}" if sure.any() else "—", f"{(q >= t).mean():.1%}"]
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, help="only the first N questions of each set")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("TQDM_DISABLE", "1")
    models = AnswerModels.load()
    sets = sets_for(DEV, HELDOUT)
    searchers = open_searchers(models=models, params=SearchParams(), sets=sets)
    low, high = models.thresholds()
    outcomes: dict[str, SetOutcome] = {}
    lengths, latencies, encoder = [], [], []
    for spec in sets:
        searcher = searchers[spec.index]
        questions = load_questions(spec.questions)[: args.limit]
        results = []
        for q in questions:
            t = time.perf_counter()
            result = searcher.search(q["question"], k=5)
            if spec.name == "arcd":
                latencies.append(time.perf_counter() - t)
                t = time.perf_counter()
                searcher.encode([q["question"]])
                encoder.append(time.perf_counter() - t)
            results.append(result)
            if not result.no_answer:
                shown = result.confident_only()
                lengths.append(
                    len("\n\n".join(reply_messages(shown, result.lang, 0, 3, Format(html=True, rtl=result.lang == "ar"))))
                )
        outcomes[spec.name] = SetOutcome(spec, questions, results)
        print(" | ".join(map(str, outcomes[spec.name].row())), flush=True)

    rows = [o.row() for o in outcomes.values()]
    top = {name: o.probabilities() for name, o in outcomes.items()}
    pos = np.concatenate([top[n] for n in ANSWERABLE_AR if n in top])
    neg = np.concatenate([top[n] for n in OUT_OF_CORPUS_AR if n in top])
    thresholds = sorted({*CURVE, round(high, 3)})
    lat = {q: percentile([x * 1000 for x in latencies], q) for q in (0.5, 0.99)}
    enc50 = percentile([x * 1000 for x in encoder], 0.5)
    body = (
        f'Shipped models (index/models/; "nothing found" below {low:.3f}, sure from {high:.3f}; English: '
        f"{models.thresholds(True)[0]:.3f} / {models.thresholds(True)[1]:.3f}), through `Searcher.search` with k=5 as the "
        "bot calls it. Dev sets are in sample; **held-out sets were never trained or tuned on**.\n\n"
        + table(
            [
                "set",
                "questions",
                "nothing found",
                "no sure answer",
                "sure",
                "💡 right when sure",
                "answer sentence right (any band)",
                "article-hit@1 (gate on)",
                "answer-hit@5 (gate on)",
            ],
            rows,
        )
        + f"\n\nAnswerable ARCD vs the Arabic out-of-corpus sets, AUC of the top hit's probability: {roc_auc(pos, neg):.3f}."
    )
    for name, out_name in (
        ("arcd", "arcd-out-of-corpus"),
        ("arabic-news", "arabic-news-out-of-corpus"),
        (HELDOUT_AR, HELDOUT_AR_OUT),
    ):
        if name in outcomes and out_name in outcomes:
            a, b = outcomes[name], outcomes[out_name]
            body += (
                f"\n\nCoverage–precision of the sure band, {name} (and its out-of-corpus twin), AUC "
                f"{roc_auc(a.probabilities(), b.probabilities()):.3f}:\n\n"
                + table(["sure from", "answerable sure", "💡 right among them", "out of corpus sure"], curve(a, b, thresholds))
            )
    if lengths:
        body += (
            f"\n\nReply length (three sources, Telegram HTML incl. tags, {len(lengths)} replies): mean {statistics.fmean(lengths):.0f}, "
            f"p50 {percentile(lengths, 0.5):.0f}, p95 {percentile(lengths, 0.95):.0f} characters."
        )
    if latencies:
        body += (
            f"\n\nQuery latency over {len(latencies)} ARCD questions (one thread, k=5): p50 {lat[0.5]:.1f} ms, p99 "
            f"{lat[0.99]:.1f} ms; bare encoder p50 {enc50:.2f} ms in the same run (ratio {lat[0.5] / enc50:.2f}×)."
        )
    record(
        "Answer layer: what readers get (shipped models, dev and held-out sets)",
        body,
        write=not args.no_write,
        figures=figures(outcomes, lengths),
    )


def figures(outcomes: dict[str, SetOutcome], lengths: list[int]) -> dict[str, str]:
    """The rows of the figures table this run measures."""
    out: dict[str, str] = {}
    if lengths:
        out["reply length, three sources, p50 / p95 characters"] = (
            f"{percentile(lengths, 0.5):.0f} / {percentile(lengths, 0.95):.0f}"
        )
    if "arcd" in outcomes:
        arcd = outcomes["arcd"].row()
        out["answerable ARCD: sure / no sure answer / nothing found (shipped models)"] = (
            f"{arcd[4]} / {arcd[3]} / {arcd[2]} (in sample)"
        )
        out["💡 line holds a gold answer, sure answers (shipped models)"] = f"{arcd[5]} (in sample)"
    if HELDOUT_AR in outcomes:
        row = outcomes[HELDOUT_AR].row()
        out["held-out Arabic news: sure / 💡 right when sure / nothing found"] = f"{row[4]} / {row[5]} / {row[2]}"
    if HELDOUT_AR_OUT in outcomes:
        row = outcomes[HELDOUT_AR_OUT].row()
        out["held-out Arabic news, out of corpus: sure / nothing found"] = f"{row[4]} / {row[2]}"
    for name, measure in (
        ("english", "English about Arabic: answer-hit@5 / nothing found (shipped models)"),
        ("english-heldout", "English held-out (320 questions): answer-hit@5 / nothing found"),
    ):
        if name in outcomes:
            row = outcomes[name].row()
            out[measure] = f"{row[8]} / {row[2]}"
    return out


if __name__ == "__main__":
    main()
