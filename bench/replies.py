"""Replies that read well, measured on questions the layer was never tuned on (issue 27's targets).

Every question of the team's Arabic news sets (dev and held-out), the out-of-corpus Arabic and
English sets and the English held-out set goes through the bot's own search and rendering (the
shipped models and bands, ``confident_only`` as the bot does), over the ARCD + SaudiNewsNet index.
Counted:

- replies where a sentence is shown twice (sentences compared after normalisation);
- "no sure answer" replies over 600 visible characters, and their length p50 / max;
- inline results that quote a passage for a question outside the sure band;
- questions in the "no sure answer" band that the editor's report lists as coverage gaps.

    python -m bench.replies [--no-write]
"""

from __future__ import annotations

import argparse
import re
from dataclasses import replace

from bench.common import DEV_SETS, ROOT, need, read_jsonl, record, table
from bench.quality import ensure_index
from bot.inline_cards import inline_items, inline_unsure
from bot.render import TENTATIVE_CHARS, plain, reply_messages, sentence_key
from index.build import BuildConfig
from index.questionlog import QuestionRecord
from index.results import ANSWER, TENTATIVE
from index.search.searcher import Searcher
from index.text.sentences import sentences
from index.tools.report import build_report

DATA = ROOT / "bench" / "data"
SETS = {
    "Arabic news, dev": DATA / "arabic_news.jsonl",
    "Arabic news, held-out": DATA / "arabic_heldout.jsonl",
    "English, held-out": DATA / "english_heldout.jsonl",
    "out of corpus, Arabic": DATA / "unanswerable_ar.jsonl",
    "out of corpus, English": DATA / "unanswerable_en.jsonl",
}
TOP_K = 3


ATTRIBUTION = re.compile(r"^\d+\. |·")  # a source's title line ("1. …") and its "outlet · date" line


def repeated(message_texts: list[str]) -> bool:
    """Does any sentence of the answer line or the snippets appear twice in the reply (its messages' visible text)?

    Attribution lines are not sentences: two sources from one outlet on one day share "outlet · date".
    """
    seen: set[str] = set()
    for body in message_texts:
        for line in body.split("\n"):
            line = line.strip("\u200f💡🔎📌 ")
            if ATTRIBUTION.search(line):
                continue
            for sentence in sentences(line):
                key = sentence_key(sentence)
                if len(key.split()) < 4:  # labels, titles' short words, "1." and the like
                    continue
                if key in seen:
                    return True
                seen.add(key)
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    spec = DEV_SETS["arcd"]
    index_dir = ROOT / "var" / "quality-arcd"
    ensure_index(index_dir, spec.articles, replace(BuildConfig(), index_titles=spec.titles))
    searcher = Searcher.open(index_dir)
    rows, lengths, log = [], [], []
    totals = {"replies": 0, "repeats": 0, "unsure": 0, "over": 0, "cards": 0}
    for name, path in SETS.items():
        questions = read_jsonl(need(path))
        counts = {"replies": 0, "repeats": 0, "unsure": 0, "over": 0, "cards": 0}
        for q in questions:
            result = searcher.search(q["question"], k=12).confident_only()
            lang = result.lang
            shown = [plain(m) for m in reply_messages(result, lang, 0, TOP_K)]
            counts["replies"] += 1
            counts["repeats"] += repeated(shown)
            if result.band == TENTATIVE:
                counts["unsure"] += 1
                length = len(shown[0].encode("utf-16-le")) // 2
                lengths.append(length)
                counts["over"] += length > TENTATIVE_CHARS
            # what inline mode offers: cards quoting passages only in the sure band (bot/inline.py)
            cards = inline_items(result, lang) if result.band == ANSWER else [inline_unsure(q["question"], lang)]
            counts["cards"] += result.band != ANSWER and any(c.key != "unsure" for c in cards)
            log.append(QuestionRecord("2026-12-06T00:00:00+00:00", q["question"], result.band, latency_ms=1.0))
        rows.append([name, counts["replies"], counts["repeats"], counts["unsure"], counts["over"], counts["cards"]])
        for key in totals:
            totals[key] += counts[key]
    report = build_report(log)
    unsure_questions = {r.question for r in log if r.band == TENTATIVE}
    listed_as_gaps = sum(v in unsure_questions for g in report.gaps for v in g.variants)
    lengths.sort()
    p50 = lengths[len(lengths) // 2] if lengths else 0
    body = (
        f"Index: ARCD + SaudiNewsNet ({searcher.manifest.articles} articles). Each question through the bot's search "
        f"(shipped bands, `confident_only`) and rendering (TOP_K {TOP_K}); lengths are Telegram's (UTF-16 code units "
        "of the visible text, right-to-left marks included).\n\n"
        + table(
            [
                "set",
                "replies",
                "a sentence shown twice",
                "no sure answer",
                "of those over 600 characters",
                "inline cards quoting a passage outside the sure band",
            ],
            rows,
        )
        + f'\n\n"No sure answer" replies: {len(lengths)}, visible length p50 {p50}, max {lengths[-1] if lengths else 0}.\n'
        f"The editor's report over all {len(log)} questions: {len(report.gaps)} coverage-gap groups, "
        f'{listed_as_gaps} of the {len(unsure_questions)} "no sure answer" questions among them; '
        f'{len(report.unsure)} "answerable but unsure" groups.\n'
    )
    figures = {
        "replies: sentences shown twice / no-sure replies over 600 characters / inline passage cards outside the sure band": (
            f"{totals['repeats']} / {totals['over']} / {totals['cards']} of {totals['replies']} replies"
        ),
        "report: answerable-but-unsure questions listed as coverage gaps": f"{listed_as_gaps} of {len(unsure_questions)}",
    }
    record("Replies that read well", body, write=not args.no_write, figures=figures)


if __name__ == "__main__":
    main()
