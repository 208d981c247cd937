"""Follow-up questions: two-turn dialogues answered with and without the first turn's context.

    python -m bench.followups [--set test|tuning] [--no-write]

Each dialogue of bench/data/followups.jsonl (``--set tuning``: followups_tuning.jsonl,
the one the rule's constants were tuned on) is asked as a reader in a private chat
would: the first question, then the follow-up understood after it
(``Searcher.understand``), and where there is one a fully specified third question
understood after the follow-up. Every turn is also asked alone. The measure is the
reader's: a gold answer is in the reply, i.e. in the snippet of one of the three
sources shown (``confident_only``, as the bot sends them), or the reply is not
"nothing found" and the 💡 line holds it. Over the ARCD + SaudiNewsNet index.
"""

from __future__ import annotations

import argparse
import json
import os
from collections import defaultdict
from dataclasses import dataclass

from bench.answer_data import DATA, open_searchers
from bench.common import record, table
from index.results import SearchResult
from index.search.followup import Understood
from index.search.searcher import AnswerModels, Searcher
from index.tools.evaluate import contains_answer

SETS = {"test": DATA / "followups.jsonl", "tuning": DATA / "followups_tuning.jsonl"}
SHOWN = 3  # sources in the bot's first reply (TOP_K)


@dataclass(frozen=True)
class Turn:
    kind: str  # first | followup | specified
    question: str
    answers: tuple[str, ...]
    article_id: str


@dataclass(frozen=True)
class Dialogue:
    did: str
    lang: str
    turns: tuple[Turn, ...]


def load_dialogues(path) -> list[Dialogue]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            turns = tuple(Turn(t["kind"], t["question"], tuple(t["answers"]), t["article_id"]) for t in d["turns"])
            out.append(Dialogue(d["did"], d["lang"], turns))
    return out


def in_reply(result: SearchResult, answers: tuple[str, ...]) -> bool:
    """A gold answer is in what the reader sees: the snippets of the sources shown."""
    shown = result.confident_only().hits[:SHOWN]
    return any(contains_answer(h.passage.text[slice(*h.passage.snippet_span)], answers) for h in shown)


def ask(searcher: Searcher, question: str | Understood) -> SearchResult:
    return searcher.search(question, k=12)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", choices=tuple(SETS), default="test")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--show", action="store_true", help="print each dialogue's turns as understood")
    args = parser.parse_args()
    os.environ.setdefault("TQDM_DISABLE", "1")
    dialogues = load_dialogues(SETS[args.set])
    searcher = open_searchers(models=AnswerModels.load())["arcd+snn"]
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])  # (measure, lang) -> [hits, total]

    def count(measure: str, lang: str, ok: bool) -> None:
        for key in ((measure, lang), (measure, "all")):
            counts[key][0] += ok
            counts[key][1] += 1

    for d in dialogues:
        first = searcher.understand(d.turns[0].question)
        reply = ask(searcher, first)
        first = first.answered(reply)
        count("first turn", d.lang, in_reply(reply, d.turns[0].answers))
        follow = d.turns[1]
        understood = searcher.understand(follow.question, first)
        reply = ask(searcher, understood)
        understood = understood.answered(reply)
        with_context = in_reply(reply, follow.answers)
        alone = in_reply(ask(searcher, follow.question), follow.answers)
        count("follow-up understood as one", d.lang, understood.followup)
        count("follow-up: answer in the reply, with context", d.lang, with_context)
        count("follow-up: answer in the reply, alone", d.lang, alone)
        if args.show:
            print(f"{d.did} {'+' if with_context else '-'}{'+' if alone else '-'} {understood.shown}")
        if len(d.turns) > 2:
            third = d.turns[2]
            after = searcher.understand(third.question, understood)
            count("specified after a follow-up: taken as a follow-up", d.lang, after.followup)
            count("specified after a follow-up: answer in the reply", d.lang, in_reply(ask(searcher, after), third.answers))
            count("specified: answer in the reply, asked alone", d.lang, in_reply(ask(searcher, third.question), third.answers))
            opens = "و" if third.question.startswith("و") else "other"
            count(f"specified opening with «و»: taken as a follow-up ({opens})", d.lang, after.followup)
            if args.show:
                print(f"   third: {'FOLLOW-UP ' if after.followup else ''}{after.shown}")

    measures = list(dict.fromkeys(m for m, _ in counts))
    langs = ["all", "ar", "en"]

    def cell(m: str, lang: str) -> str:
        hits, total = counts.get((m, lang), [0, 0])
        return f"{hits / total:.2f} ({hits}/{total})" if total else "—"

    rows = [[m, *(cell(m, lang) for lang in langs)] for m in measures]
    print(table(["measure", *langs], rows))
    body = (
        f"Set: `{SETS[args.set].relative_to(DATA.parent.parent)}` ({len(dialogues)} dialogues, "
        f"{sum(len(d.turns) > 2 for d in dialogues)} with a fully specified third turn). Index: ARCD + SaudiNewsNet "
        f'(shipped models). "Answer in the reply": a gold answer in the snippet of one of the {SHOWN} sources shown.\n\n'
        + table(["measure", "all", "Arabic", "English"], rows)
    )
    with_ctx = counts[("follow-up: answer in the reply, with context", "all")]
    alone = counts[("follow-up: answer in the reply, alone", "all")]
    after = counts.get(("specified after a follow-up: answer in the reply", "all"), [0, 0])
    solo = counts.get(("specified: answer in the reply, asked alone", "all"), [0, 0])
    figures = {}
    if args.set == "test" and with_ctx[1]:
        figures["follow-ups: answer in the reply to the second turn, with / without context"] = (
            f"{with_ctx[0] / with_ctx[1]:.2f} / {alone[0] / alone[1]:.2f}"
        )
        if solo[1]:
            figures["fully specified after a follow-up vs asked alone: answer in the reply"] = (
                f"{after[0] / after[1]:.2f} vs {solo[0] / solo[1]:.2f}"
            )
    record(f"Follow-up questions ({args.set} dialogues)", body, write=not args.no_write, figures=figures or None)


if __name__ == "__main__":
    main()
