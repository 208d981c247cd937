"""Third stage: candidate passages grouped into one hit per article; copies of one wire story collapsed."""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from index.results import Hit, Passage
from index.storage.lookup import IndexStore
from index.text.arabic import tokenize
from index.text.dates import UNKNOWN_DAY

from .retrieval import Candidates

# Passages of one wire story in two outlets embed almost identically; below this they are not compared word by word.
DUPLICATE_COSINE = 0.8
# Copies of one wire story come out within a news cycle; an article that repeats an older one's text weeks later
# (an update, a follow-up with new figures) is news of its own, shown beside it, not folded under it.
COPY_DAYS = 3
SPARE_ARTICLES = 5  # looked at beyond k, in case duplicates are collapsed


def shingles(text: str, n: int = 3) -> set[tuple[str, ...]]:
    words = tokenize(text)
    return {tuple(words[i : i + n]) for i in range(max(1, len(words) - n + 1))}


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def leading_passages(articles: np.ndarray, max_articles: int, per_article: int) -> np.ndarray:
    """Positions, in order, of the passages kept from a best-first list whose passages belong to ``articles``:
    the first ``per_article`` of each of the first ``max_articles`` articles to appear (none if either is below 1)."""
    n = articles.size
    if not n or max_articles < 1 or per_article < 1:
        return np.zeros(0, dtype=np.int64)
    by_article = np.argsort(articles, kind="stable")
    ordered = articles[by_article]
    new = np.ones(n, dtype=bool)
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    counts = np.diff(np.append(starts, n))
    rank = np.empty(n, dtype=np.int64)  # how many passages of the same article come before
    rank[by_article] = np.arange(n) - np.repeat(starts, counts)
    first_seen = by_article[starts]  # each article's best position (the sort is stable)
    last_allowed = np.partition(first_seen, max_articles - 1)[max_articles - 1] if first_seen.size > max_articles else n
    allowed = np.empty(n, dtype=bool)
    allowed[by_article] = np.repeat(first_seen <= last_allowed, counts)
    return np.flatnonzero(allowed & (rank < per_article))


def group(
    stored: IndexStore,
    cands: Candidates,
    k: int,
    per_article: int,
    collapse: bool = True,
    duplicate_similarity: float = 0.5,
    copy_days: int | None = COPY_DAYS,
) -> list[Hit]:
    """Walk candidates best-first, one Hit per article with up to ``per_article`` passages; at most ``k`` hits.

    Copies of one story are found first (by vectors, and by words for the close pairs
    only: their leading passages' texts are read for it), so only the hits kept have all
    their passages and their articles read from the database.
    """
    arts = cands.articles
    picked: dict[int, list[int]] = {}  # article -> its passages' positions in ``cands``, articles in order of their best
    for i in leading_passages(arts, k + SPARE_ARTICLES, per_article).tolist():
        picked.setdefault(int(arts[i]), []).append(i)
    if not picked:
        return []
    rows, scores = cands.rows.tolist(), cands.scores.tolist()
    order = list(picked)
    lead_rows = [rows[picked[art][0]] for art in order]
    kept: list[int] = list(range(len(order)))
    copies: dict[int, list[int]] = {}
    if collapse and len(order) > 1:
        day_of = cands.day_of
        days = None if copy_days is None else np.asarray([day_of[art] for art in order])
        kept, copies = find_copies(
            lead_rows, stored.vectors(lead_rows), _text_reader(stored), duplicate_similarity, days, copy_days or 0
        )
    kept = kept[:k]
    shown = [order[i] for i in kept]
    chunk_rows = stored.chunks([rows[i] for art in shown for i in picked[art]])
    articles = stored.articles(shown + [order[c] for i in kept for c in copies.get(i, [])])
    hits: list[Hit] = []
    for lead, art in zip(kept, shown, strict=True):
        a = articles.get(art)
        passages = []
        for i in picked[art]:
            c = chunk_rows.get(rows[i])
            if c is None or a is None:  # taken out by an update in place since the search found it
                continue
            passages.append(Passage(rows[i], c["text"], c["start"], c["end"], float(scores[i]), ordinal=c["ordinal"]))
        if not passages:
            continue
        hit = Hit(
            len(hits) + 1, a["id"], a["title"], a["source"], a["url"], a["date"], passages[0].score, passages[0], passages[1:]
        )
        hit.article_idx = art
        hit.cosine = None if cands.cosines is None else float(cands.cosines[picked[art][0]])
        for c in copies.get(lead, []):
            copy = articles.get(order[c])
            if copy is None:
                continue
            hit.also_in.append({"article_id": copy["id"], "source": copy["source"], "title": copy["title"], "url": copy["url"]})
        hits.append(hit)
    return hits


def _text_reader(stored: IndexStore) -> Callable[[list[int]], dict[int, str]]:
    """Chunk rows' texts, read from the database in one query."""
    return lambda rows: {row: chunk["text"] for row, chunk in stored.chunks(rows).items()}


def find_copies(
    rows: list[int],
    vectors: np.ndarray | None,
    read_texts: Callable[[list[int]], dict[int, str]],
    similarity: float,
    days: np.ndarray | None = None,
    copy_days: int = COPY_DAYS,
) -> tuple[list[int], dict[int, list[int]]]:
    """Which passages of a best-first list are copies of an earlier one (the same wire story in two outlets).

    Passage vectors pick the pairs worth checking (a copy is very close in embedding
    space; without vectors every pair is checked); shared word 3-grams confirm them,
    so only the texts of close pairs are read (``read_texts``, once). With ``days`` (each
    passage's article day), two dated articles more than ``copy_days`` apart are never copies.
    Returns the positions kept, and for each kept position the positions of its copies.
    """
    n = len(rows)
    similar = np.ones((n, n), dtype=bool) if vectors is None else (vectors @ vectors.T) >= DUPLICATE_COSINE
    if days is not None:
        d = np.asarray(days, dtype=np.int64)
        dated = d != UNKNOWN_DAY
        similar &= ~(dated[:, None] & dated[None, :] & (np.abs(d[:, None] - d[None, :]) > copy_days))
    np.fill_diagonal(similar, False)
    below = np.tril(similar, -1)  # the pairs compared: each passage with the ones before it
    involved = np.flatnonzero(below.any(axis=0) | below.any(axis=1)).tolist()
    close = similar.tolist()  # looked up pair by pair: lists are faster than numpy scalars
    texts = read_texts([rows[i] for i in involved]) if involved else {}
    sh = functools.cache(lambda i: shingles(texts[rows[i]]))  # only for the pairs that get compared
    kept: list[int] = []
    copies: dict[int, list[int]] = {}
    for i in range(n):
        for j in kept:
            if close[i][j] and jaccard(sh(i), sh(j)) >= similarity:
                copies.setdefault(j, []).append(i)
                break
        else:
            kept.append(i)
    return kept, copies
