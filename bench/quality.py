"""Retrieval quality with the current defaults on both dev sets, all three modes, against the targets.

Builds (or reuses, when its configuration matches the defaults) one index per set:
ARCD articles + the 2,000 SaudiNewsNet articles as distractors (titles indexed), and
the SaudiNewsNet articles with titles NOT indexed for the headline -> article set.

    python -m bench.quality [--no-write]
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from bench.common import DEV_SETS, ROOT, need, record
from index.build import BuildConfig, run_build
from index.search.searcher import Searcher, SearchParams
from index.storage.loading import open_index
from index.tools.evaluate import evaluate, format_table, load_questions


def ensure_index(index_dir: Path, articles: list[Path], config: BuildConfig) -> None:
    """Rebuild unless the current build was made with exactly this configuration."""
    try:
        m = open_index(index_dir).manifest
        same = (m.chunking, m.lexical, m.index_titles, m.embed_max_words) == (
            config.chunking,
            config.lexical,
            config.index_titles,
            config.embed_max_words,
        )
    except Exception:
        same = False
    if not same:
        run_build([need(p) for p in articles], index_dir, config, progress=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--embed-max-words", type=int, default=BuildConfig().embed_max_words, help="try another EMBED_MAX_WORDS")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    sections = []
    hybrid: dict[str, dict] = {}
    for name, spec in DEV_SETS.items():
        index_dir = ROOT / "var" / f"quality-{name}"
        ensure_index(
            index_dir, spec.articles, replace(BuildConfig(), index_titles=spec.titles, embed_max_words=args.embed_max_words)
        )
        searcher = Searcher.open(index_dir, params=replace(SearchParams(), min_confidence=0.0))
        questions = load_questions(need(spec.questions))
        rows = [evaluate(searcher, questions, k=10, mode=mode) for mode in ("lexical", "dense", "hybrid")]
        hybrid[name] = rows[-1]
        m = searcher.manifest
        title = (
            f"**{name}** — {len(questions)} questions; index {m.articles} articles / {m.chunks} chunks, titles "
            f"{'indexed' if spec.titles else 'not indexed'}; targets: {spec.targets}"
        )
        sections.append(format_table(rows, title))
    params, chunking, lexical = SearchParams(), BuildConfig().chunking, BuildConfig().lexical
    body = (
        f"Defaults: chunks {chunking.target_words}/{chunking.max_words} words "
        f"(overlap {chunking.overlap_words}), BM25 {lexical.method} k1={lexical.k1} "
        f"b={lexical.b}, stemmer {lexical.stemmer}, dense weight {params.dense_weight}, "
        f"sentence weight {params.sentence_weight}, phrase weight {params.phrase_weight}; k=10, one passage per article, refusals off (ranking only).\n\n"
        + "\n\n".join(sections)
    )
    arcd, heads = hybrid["arcd"], hybrid["title2article"]
    figures = {
        "ARCD article-hit@1 / answer-hit@1 / answer-hit@5 (refusals off)": (
            f"{arcd['article_hit@1']:.3f} / {arcd['answer_hit@1']:.3f} / {arcd['answer_hit@5']:.3f}"
        ),
        "headline → article, article-hit@1 (titles not indexed)": f"{heads['article_hit@1']:.3f}",
    }
    record("Retrieval quality (dev sets)", body, write=not args.no_write, figures=figures)


if __name__ == "__main__":
    main()
