"""Third stage: candidate passages grouped into one hit per article; copies of one wire story collapsed."""

from __future__ import annotations

import functools

import numpy as np

from .arabic import tokenize
from .results import Hit, Passage
from .retrieval import Candidates, stored_vectors
from .store import StoredIndex

# Passages of one wire story in two outlets embed almost identically; below this they are not compared word by word.
DUPLICATE_COSINE = 0.8
SPARE_ARTICLES = 5  # looked at beyond k, in case duplicates are collapsed


def shingles(text: str, n: int = 3) -> set[tuple[str, ...]]:
    words = tokenize(text)
    return {tuple(words[i : i + n]) for i in range(max(1, len(words) - n + 1))}


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def group(
    stored: StoredIndex, cands: Candidates, k: int, per_article: int, collapse: bool = True, duplicate_similarity: float = 0.5
) -> list[Hit]:
    """Walk candidates best-first, one Hit per article with up to ``per_article`` passages; at most ``k`` hits."""
    chunk_article = stored.chunk_article
    cosine_of = dict(zip(cands.rows.tolist(), cands.cosines.tolist(), strict=True)) if cands.cosines is not None else {}
    picked: dict[int, list[tuple[int, float]]] = {}
    articles_of = chunk_article[cands.rows].tolist()
    for row, score, art in zip(cands.rows.tolist(), cands.scores.tolist(), articles_of, strict=True):
        if art in picked:
            if len(picked[art]) < per_article:
                picked[art].append((row, score))
        elif len(picked) < k + SPARE_ARTICLES:
            picked[art] = [(row, score)]
    if not picked:
        return []
    chunk_rows = stored.chunks([r for lst in picked.values() for r, _ in lst])
    articles = stored.articles(list(picked))
    hits: list[Hit] = []
    for art, lst in picked.items():
        a = articles[art]
        passages = [
            Passage(
                r, chunk_rows[r]["text"], chunk_rows[r]["start"], chunk_rows[r]["end"], float(s), ordinal=chunk_rows[r]["ordinal"]
            )
            for r, s in lst
        ]
        hit = Hit(0, a["id"], a["title"], a["source"], a["url"], a["date"], float(lst[0][1]), passages[0], passages[1:])
        hit.article_idx = art
        hit.cosine = cosine_of.get(lst[0][0])
        hits.append(hit)
    if collapse:
        hits = collapse_duplicates(stored, hits, duplicate_similarity)
    hits = hits[:k]
    for rank, hit in enumerate(hits, start=1):
        hit.rank = rank
    return hits


def collapse_duplicates(stored: StoredIndex, hits: list[Hit], similarity: float) -> list[Hit]:
    """Merge hits whose best passages are near-identical (the same wire story) into the first.

    Passage vectors pick the pairs worth checking (a copy is very close in
    embedding space); shared word 3-grams confirm them.
    """
    vectors = stored_vectors(stored, [hit.passage.row for hit in hits])
    similar = vectors @ vectors.T if vectors is not None else None
    sh = functools.cache(lambda i: shingles(hits[i].passage.text))  # only for the pairs that get compared
    kept: list[int] = []
    for i, hit in enumerate(hits):
        for j in kept:
            close = similar is None or similar[i, j] >= DUPLICATE_COSINE
            if close and jaccard(sh(i), sh(j)) >= similarity:
                hits[j].also_in.append({"article_id": hit.article_id, "source": hit.source, "title": hit.title, "url": hit.url})
                break
        else:
            kept.append(i)
    return [hits[i] for i in kept]


def rerank_hits(hits: list[Hit], order: np.ndarray | list[int]) -> list[Hit]:
    """``hits`` in a new order, ranks renumbered."""
    out = [hits[i] for i in order]
    for rank, hit in enumerate(out, start=1):
        hit.rank = rank
    return out
