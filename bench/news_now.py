"""News about now: does a recent article that answers come first, and an old one when only it answers?

Two kinds of question, built from the team's Arabic news question sets (``arabic_news.jsonl``,
the dev set; ``arabic_heldout.jsonl``, never tuned on). For each article asked about, a
*recent* article is made from it, dated in November 2026 (the archive's present):

- **new** — the recent article restates the question's answer sentence (with its numbers
  redrawn, so a numeric answer changes value) amid about half of the old article's other
  sentences and sentences of other articles. Both answer; the recent one is right.
- **old** (the mirror) — the recent article keeps about half of the old article's sentences
  but none that holds the answer. Only the old article answers, so "newest first" alone fails.

Articles alternate between the two kinds (by a hash of their id). The recent articles are
generated here, from ../shared/data, into ``var/news-now/`` (never committed); the question
sets in ``bench/data/news_now*.jsonl`` hold questions, ids and answer strings only, and this
script checks that they match what it generates (``--write-sets`` rewrites them).

It measures, over one index of SaudiNewsNet + ARCD + the recent articles, the share of each
kind whose right article comes first (article-hit@1), for the shipped search, with the recency
of the answer layer off, and along a curve of margins; and the dev sets' article-hit@1 /
answer-hit@5 with and without.

    python -m bench.news_now [--write-sets] [--no-write]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
from dataclasses import dataclass, replace
from pathlib import Path

from bench.common import ARCD_ARTICLES, DEV_SETS, ROOT, SNN_ARTICLES, need, read_jsonl, record, table
from bench.quality import ensure_index
from index.build import BuildConfig
from index.search.searcher import Searcher, SearchParams
from index.text.arabic import normalize
from index.text.sentences import sentences
from index.tools.evaluate import article_rank, evaluate, load_questions

DATA = ROOT / "bench" / "data"
SOURCES = {"dev": DATA / "arabic_news.jsonl", "held-out": DATA / "arabic_heldout.jsonl"}
SETS = {"dev": DATA / "news_now.jsonl", "held-out": DATA / "news_now_heldout.jsonl"}
WORK = ROOT / "var" / "news-now"
KEEP = 0.5  # share of the old article's other sentences a recent article restates
DIGITS = re.compile(r"\d+")
# the team's Arabic news questions, over the same index as ARCD's (ARCD + SaudiNewsNet, titles indexed)
NEWS_SETS = {
    "arabic news (dev)": (DEV_SETS["arcd"], DATA / "arabic_news.jsonl"),
    "arabic news (held-out)": (DEV_SETS["arcd"], DATA / "arabic_heldout.jsonl"),
}
MARGINS = [0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 1.0]


@dataclass(frozen=True)
class Made:
    """One generated question (a set line) and the recent article it is about."""

    question: dict
    article: dict


def spec_name(spec: object) -> str:
    """The name of a dev set's index under var/ (``quality-<name>``, as bench/quality.py builds it)."""
    return next(name for name, known in DEV_SETS.items() if known is spec)


def _seed(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def redraw(answer: str, rng: random.Random) -> str:
    """``answer`` with each number replaced by another of as many digits (never the same value)."""

    def other(match: re.Match) -> str:
        old = match.group()
        while True:
            low = 10 ** (len(old) - 1) if len(old) > 1 else 0
            new = str(rng.randrange(low, 10 ** len(old)))
            if new != old:
                return new

    return DIGITS.sub(other, answer)


def recent_article(source: dict, question: dict, kind: str, pool: list[str]) -> Made | None:
    """The recent article of ``kind`` made from ``source`` for ``question``; None when the answer is not in its text."""
    rng = random.Random(_seed(source["id"]))
    answer = next((a for a in question["answers"] if a in source["text"]), None)
    if answer is None:
        return None
    said = sentences(source["text"])
    holding = [i for i, s in enumerate(said) if answer in s]
    if not holding:
        return None
    new_answer = redraw(answer, rng) if kind == "new" else answer
    gone = normalize(answer)

    def other_article() -> str:  # a sentence of another article that does not happen to hold the answer
        while True:
            sentence = rng.choice(pool)
            if gone not in normalize(sentence):
                return sentence

    body: list[str] = []
    for i, sentence in enumerate(said):
        if i == holding[0] and kind == "new":
            body.append(sentence.replace(answer, new_answer))
        elif answer in sentence:
            continue  # only the first sentence restates it (new), or none does (old)
        elif rng.random() < KEEP:
            body.append(sentence)
        else:
            body.append(other_article())
    body.insert(rng.randrange(len(body) + 1), other_article())
    body.append(other_article())
    article = {
        "id": f"now-{source['id']}",
        "title": source["title"],
        "url": f"https://recent.example/{source['id']}",
        "date": f"2026-11-{_seed(source['id']) % 28 + 1:02d} 09:00:00",
        "source": source["source"],
        "text": "\n".join(" ".join(body[i : i + 3]) for i in range(0, len(body), 3)),
    }
    right = [article["id"]] if kind == "new" else question.get("relevant_article_ids") or [source["id"]]
    line = {
        "qid": f"now-{question['qid']}",
        "kind": kind,
        "question": question["question"],
        "answers": [new_answer],
        "article_id": right[0],
        "relevant_article_ids": right,
        "old_id": source["id"],
        "recent_id": article["id"],
    }
    return Made(line, article)


def generate(source_questions: Path, articles: dict[str, dict], pool: list[str]) -> list[Made]:
    """One question per article of a source set: the first whose answer is in its text, the kind by the id's hash."""
    made: list[Made] = []
    seen: set[str] = set()
    for q in read_jsonl(source_questions):
        art = q["article_id"]
        if art in seen or art not in articles:
            continue
        kind = "new" if _seed(art) % 2 == 0 else "old"
        one = recent_article(articles[art], q, kind, pool)
        if one is not None:
            seen.add(art)
            made.append(one)
    return made


def prepare(write_sets: bool) -> tuple[dict[str, list[dict]], Path]:
    """Generate both sets and their recent articles; check (or rewrite) the committed sets; write the corpus file."""
    snn = {r["id"]: r for r in read_jsonl(need(SNN_ARTICLES))}
    pool = [s for r in snn.values() for s in sentences(r["text"]) if len(s.split()) >= 6]
    sets: dict[str, list[dict]] = {}
    recent: list[dict] = []
    for name, source in SOURCES.items():
        made = generate(source, snn, pool)
        lines = [m.question for m in made]
        recent += [m.article for m in made]
        path = SETS[name]
        if write_sets:
            path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
        elif read_jsonl(path) != lines:
            raise SystemExit(f"{path} differs from what this script generates; rerun with --write-sets and review the diff")
        sets[name] = lines
    WORK.mkdir(parents=True, exist_ok=True)
    corpus = WORK / "recent.jsonl"
    text = "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in recent)
    if not corpus.exists() or corpus.read_text(encoding="utf-8") != text:
        corpus.write_text(text, encoding="utf-8")
    return sets, corpus


def first_share(searcher: Searcher, lines: list[dict]) -> float:
    """Share of questions whose right article comes first."""
    return evaluate(searcher, lines, k=10)["article_hit@1"]


def reach(searcher: Searcher, shipped: SearchParams, off: SearchParams, lines: list[dict]) -> list[object]:
    """Where the rule can act: for kind new, how often the recent article is among the top three hits (the
    rule looks no further) and how often it then comes first; for kind old, how often the old article comes
    first without news about now and how often it stays first with it."""

    def ranks(params: SearchParams) -> list[tuple[int | None, list[str]]]:
        searcher.params = params
        out = []
        for x in lines:
            result = searcher.search(x["question"], k=10)
            out.append((article_rank(result, set(x["relevant_article_ids"])), [h.article_id for h in result.hits[:3]]))
        return out

    now, before = ranks(shipped), ranks(off)
    if lines[0]["kind"] == "new":
        reachable = [i for i, (_, top) in enumerate(now) if lines[i]["recent_id"] in top]
        return [len(reachable) / len(lines), sum(now[i][0] == 1 for i in reachable) / max(len(reachable), 1)]
    first_before = [i for i, (rank, _) in enumerate(before) if rank == 1]
    return [len(first_before) / len(lines), sum(now[i][0] == 1 for i in first_before) / max(len(first_before), 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write-sets", action="store_true", help="rewrite bench/data/news_now*.jsonl from the generator")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--skip-dev", action="store_true", help="only the two new sets (for a quick look; implies --no-write)")
    args = parser.parse_args()
    sets, corpus = prepare(args.write_sets)
    index_dir = WORK / "index"
    ensure_index(index_dir, [SNN_ARTICLES, ARCD_ARTICLES, corpus], BuildConfig())
    searcher = Searcher.open(index_dir)
    shipped = replace(SearchParams(), min_confidence=0.0)
    variants = {
        "shipped": shipped,
        "news about now off": replace(shipped, recency_margin=0.0, recent_candidates=0, copy_days=None),
    }
    rows, curve, reached = [], [], []
    for name, lines in sets.items():
        for kind in ("new", "old"):
            chosen = [x for x in lines if x["kind"] == kind]
            for label, params in variants.items():
                searcher.params = params
                rows.append([name, kind, len(chosen), label, f"{first_share(searcher, chosen):.3f}"])
            can, did = reach(searcher, shipped, variants["news about now off"], chosen)
            reached.append([name, kind, f"{can:.3f}", f"{did:.3f}"])
        for margin in MARGINS:
            searcher.params = replace(shipped, recency_margin=margin)
            shares = [first_share(searcher, [x for x in lines if x["kind"] == kind]) for kind in ("new", "old")]
            curve.append([name, margin, f"{shares[0]:.3f}", f"{shares[1]:.3f}"])
    reach_headers = ["set", "kind", "new: recent in the top 3 / old: old first without", "and then right first"]
    if args.skip_dev:
        print(table(["set", "kind", "questions", "variant", "right article first"], rows))
        print(table(reach_headers, reached))
        print(table(["set", "margin", "new first", "old first"], curve))
        return
    dev_rows = []
    measured = {**{name: (spec, spec.questions) for name, spec in DEV_SETS.items()}, **NEWS_SETS}
    for name, (spec, question_file) in measured.items():
        dev_index = ROOT / "var" / f"quality-{spec_name(spec)}"
        ensure_index(dev_index, spec.articles, replace(BuildConfig(), index_titles=spec.titles))
        dev = Searcher.open(dev_index)
        questions = load_questions(need(question_file))
        for label, params in variants.items():
            dev.params = params
            r = evaluate(dev, questions, k=10)
            dev_rows.append([name, label, f"{r['article_hit@1']:.3f}", f"{r['answer_hit@5']:.3f}"])
    m = searcher.manifest
    body = (
        f"One index: SaudiNewsNet + ARCD + {len(read_jsonl(corpus))} recent articles made by this script "
        f"({m.articles} articles, {m.chunks} passages). Full search (answer layer included, refusals off), hybrid, k=10. "
        "'right article first' is article-hit@1: for kind *new* the recent article (the old one also answers, with "
        "other numbers), for kind *old* the old article or a wire copy of it (the recent one does not hold the "
        "answer). 'news about now off' switches off its three parts (recent candidates, the copy window, the answer "
        "margin), which is the search before this work.\n\n"
        + table(["set", "kind", "questions", "variant", "right article first"], rows)
        + "\n\nWhere the rule can act (shipped): it looks at the top three hits only, so a recent article "
        "retrieval leaves lower cannot lead; and an old article the search does not put first without the rule "
        "is a retrieval miss, not the rule's.\n\n"
        + table(reach_headers, reached)
        + "\n\nThe curve: every margin (the answer-sentence probability by which a newer article may trail the "
        "likeliest one and still lead), recent candidates on.\n\n"
        + table(["set", "margin", "new first", "old first"], curve)
        + "\n\nThe dev sets, and the team's Arabic news sets over the ARCD + SaudiNewsNet index (dev and "
        "held-out), the same two variants (full search, refusals off, k=10):\n\n"
        + table(["dev set", "variant", "art@1", "ans@5"], dev_rows)
    )
    share = {(r[0], r[1], r[3]): r[4] for r in rows}
    dev = {(r[0], r[1]): (float(r[2]), float(r[3])) for r in dev_rows}
    change = [
        f"{name} {dev[name, 'shipped'][0] - dev[name, 'news about now off'][0]:+.3f} / "
        f"{dev[name, 'shipped'][1] - dev[name, 'news about now off'][1]:+.3f}"
        for name in DEV_SETS
    ]
    figures = {
        "news about now: recent first / old first when only it answers (dev; held-out)": (
            f"{share['dev', 'new', 'shipped']} / {share['dev', 'old', 'shipped']}; "
            f"{share['held-out', 'new', 'shipped']} / {share['held-out', 'old', 'shipped']}"
        ),
        "news about now: dev art@1 / ans@5 change": "; ".join(change),
    }
    record("News about now", body, write=not args.no_write, figures=figures)


if __name__ == "__main__":
    main()
