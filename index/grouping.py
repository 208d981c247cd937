"""Third stage: candidate passages grouped into one hit per article; copies of one wire story collapsed."""

from __future__ import annotations

import functools
from collections.abc import Callable

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


def leading_passages(articles: np.ndarray, max_articles: int, per_article: int) -> np.ndarray:
    """Positions, in order, of the passages kept from a best-first list whose passages belong to ``articles``:
    the first ``per_article`` of each of the first ``max_articles`` articles to appear."""
    n = articles.size
    if not n:
        return np.zeros(0, dtype=np.int64)
    by_article = np.argsort(articles, kind="stable")
    ordered = articles[by_article]
    new = np.ones(n, dtype=bool)
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    rank = np.empty(n, dtype=np.int64)  # how many passages of the same article come before
    rank[by_article] = np.arange(n) - np.repeat(starts, np.diff(np.append(starts, n)))
    firsts = np.flatnonzero(rank == 0)[:max_articles]  # each article's best passage, in list order
    allowed = np.isin(articles, articles[firsts])
    return np.flatnonzero(allowed & (rank < per_article))


def group(
    stored: StoredIndex, cands: Candidates, k: int, per_article: int, collapse: bool = True, duplicate_similarity: float = 0.5
) -> list[Hit]:
    """Walk candidates best-first, one Hit per article with up to ``per_article`` passages; at most ``k`` hits.

    Copies of one story are found first (by vectors, and by words for the close pairs
    only), so only the hits kept have their passages and articles read from the database.
    """
    arts = stored.chunk_article[cands.rows]
    picked: dict[int, list[int]] = {}  # article -> its passages' positions in ``cands``, articles in order of their best
    for i in leading_passages(arts, k + SPARE_ARTICLES, per_article).tolist():
        picked.setdefault(int(arts[i]), []).append(i)
    if not picked:
        return []
    rows, scores = cands.rows.tolist(), cands.scores.tolist()
    order = list(picked)
    lead_rows = [rows[picked[art][0]] for art in order]
    kept, copies = list(range(len(order))), {}
    if collapse and len(order) > 1:
        kept, copies = find_copies(lead_rows, stored_vectors(stored, lead_rows), _text_reader(stored), duplicate_similarity)
    kept = kept[:k]
    shown = [order[i] for i in kept]
    chunk_rows = stored.chunks([rows[i] for art in shown for i in picked[art]])
    articles = stored.articles(shown + [order[c] for i in kept for c in copies.get(i, [])])
    hits: list[Hit] = []
    for rank, (lead, art) in enumerate(zip(kept, shown, strict=True), start=1):
        a = articles[art]
        passages = []
        for i in picked[art]:
            c = chunk_rows[rows[i]]
            passages.append(Passage(rows[i], c["text"], c["start"], c["end"], float(scores[i]), ordinal=c["ordinal"]))
        hit = Hit(rank, a["id"], a["title"], a["source"], a["url"], a["date"], passages[0].score, passages[0], passages[1:])
        hit.article_idx = art
        hit.cosine = None if cands.cosines is None else float(cands.cosines[picked[art][0]])
        for c in copies.get(lead, []):
            copy = articles[order[c]]
            hit.also_in.append({"article_id": copy["id"], "source": copy["source"], "title": copy["title"], "url": copy["url"]})
        hits.append(hit)
    return hits


def _text_reader(stored: StoredIndex) -> Callable[[int], str]:
    """A chunk row's text, read from the database on first use."""
    return functools.cache(lambda row: stored.chunks([row])[row]["text"])


def find_copies(
    rows: list[int], vectors: np.ndarray | None, text_of: Callable[[int], str], similarity: float
) -> tuple[list[int], dict[int, list[int]]]:
    """Which passages of a best-first list are copies of an earlier one (the same wire story in two outlets).

    Passage vectors pick the pairs worth checking (a copy is very close in embedding
    space; without vectors every pair is checked); shared word 3-grams confirm them.
    Returns the positions kept, and for each kept position the positions of its copies.
    """
    similar = vectors @ vectors.T if vectors is not None else None
    sh = functools.cache(lambda i: shingles(text_of(rows[i])))  # only for the pairs that get compared
    kept: list[int] = []
    copies: dict[int, list[int]] = {}
    for i in range(len(rows)):
        for j in kept:
            close = similar is None or similar[i, j] >= DUPLICATE_COSINE
            if close and jaccard(sh(i), sh(j)) >= similarity:
                copies.setdefault(j, []).append(i)
                break
        else:
            kept.append(i)
    return kept, copies


def rerank_hits(hits: list[Hit], order: np.ndarray | list[int]) -> list[Hit]:
    """``hits`` in a new order, ranks renumbered."""
    out = [hits[i] for i in order]
    for rank, hit in enumerate(out, start=1):
        hit.rank = rank
    return out
