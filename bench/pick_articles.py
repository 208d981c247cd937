"""Pick SaudiNewsNet articles at random for writing a new question set (their ids only, never their text).

The articles a set is written about are chosen by this script, not by whoever builds the
system, so a held-out set cannot lean towards what the system handles well. Articles that an
earlier question file (``bench/data/*.jsonl``) already asks about, very short ones and
near-copies (the same opening) are left out; the draw is seeded, so the same command gives the
same articles.

    .venv/bin/python -m bench.pick_articles --n 150 --seed 2412 > var/picked.txt
    .venv/bin/python -m bench.pick_articles --n 50 --seed 2412 --skip 150   # the next 50 of the same draw
"""

from __future__ import annotations

import argparse
import json
import random

from bench.common import ROOT, SNN_ARTICLES, need

MIN_WORDS = 120  # shorter items rarely hold a second fact worth asking about


def used_article_ids() -> set[str]:
    """Every article some question file of the team already names."""
    used: set[str] = set()
    for path in (ROOT / "bench" / "data").glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            record = json.loads(line)
            for turn in record.get("turns", [record]):
                used.update(filter(None, [turn.get("article_id"), *turn.get("relevant_article_ids", [])]))
    return used


def candidates() -> list[str]:
    """SaudiNewsNet ids worth writing about, in file order."""
    used = used_article_ids()
    seen_openings: set[str] = set()
    out = []
    for line in need(SNN_ARTICLES).read_text(encoding="utf-8").splitlines():
        article = json.loads(line)
        opening = " ".join(article["text"].split()[:25])
        if article["id"] in used or opening in seen_openings or len(article["text"].split()) < MIN_WORDS:
            continue
        seen_openings.add(opening)
        out.append(article["id"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, required=True, help="how many articles")
    parser.add_argument("--seed", type=int, default=2412)
    parser.add_argument("--skip", type=int, default=0, help="leave out the first SKIP of the draw (an earlier set's)")
    args = parser.parse_args()
    pool = candidates()
    random.Random(args.seed).shuffle(pool)
    for article_id in pool[args.skip : args.skip + args.n]:
        print(article_id)


if __name__ == "__main__":
    main()
