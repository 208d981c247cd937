"""Answerability: one calibrated probability that a hit answers the question, and the three replies.

A retriever always returns something; whether it answers is a separate
judgement. Each hit gets features read from the question and the hit together:
the answer sentence's probability (``answers``) and its lead over the other
hits', how much of the question (and of its rarest words) the passage and title
hold, the share of the question's words the corpus has never seen, the dense
similarity and its margin, a learned head's reading of the two vectors
(``head``), the normalised BM25 score, whether the answer sentence holds the
kind of thing asked for, and whether a year the question names is missing. A learned model (``models/answerability.json``) turns them
into a probability, and two rules the dev sets hold too few examples to learn
(``rule_factors``) adjust it: a year the question names that the hit lacks halves
it, and a question in the corpus's script sharing no word with the hit gets 0.
The top hit's probability decides the reply:

    p >= sure     the answer line and the sources
    p >= minimum  "no sure answer" and the closest passages
    otherwise     "nothing found"

Both thresholds were chosen on the trade-off curve of the dev sets
(docs/benchmarks.md) and can be moved with ``MIN_CONFIDENCE`` / ``SURE_CONFIDENCE``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from index.results import Hit
from index.text.cues import CUE_BITS, TYPE_CUE, YEAR_RE

from .learned import LearnedModel
from .matching import Matcher

ANSWERABILITY_FEATURES: tuple[str, ...] = (
    "answer_score",
    "answer_margin",
    "coverage",
    "rare_coverage",
    "sentence_coverage",
    "sentence_share",
    "window_coverage",
    "missing_rare",
    "title_coverage",
    "unknown_share",
    "cosine",
    "cosine_margin",
    "bm25",
    "score_margin",
    "bm25_peak",
    "best_coverage",
    "asks_typed",
    "type_evidence",
    "year_missing",
    "terms",
    "cross_language",
    "hit_rank",
    "head",
)
_INDEX = {name: i for i, name in enumerate(ANSWERABILITY_FEATURES)}
RARE_TERMS = 2  # "rare_coverage" looks at the question's this many rarest terms
# A year the question names that is nowhere in the hit (passage, title, date) marks a hit about another year.
# The dev sets hold too few such questions for the model to learn it, so it is a rule: the probability is halved.
YEAR_MISSING_FACTOR = 0.5


def rule_factors(x: np.ndarray) -> np.ndarray:
    """What the rules do to each hit's probability (rows of ``ANSWERABILITY_FEATURES``).

    Besides the year rule: a question in the corpus's own script that shares not one word
    with the hit (no coverage, no BM25 score) gets "nothing found". On the dev sets no
    answerable Arabic question's top hit was like that, while "what is the capital of
    Australia?" over a small news corpus was, on the dense side's word alone.
    """
    year = np.where(x[:, _INDEX["year_missing"]] > 0, YEAR_MISSING_FACTOR, 1.0)
    unshared = (x[:, _INDEX["coverage"]] <= 0) & (x[:, _INDEX["bm25"]] <= 0) & (x[:, _INDEX["cross_language"]] <= 0)
    return year * np.where(unshared, 0.0, 1.0)


def hit_features(
    matcher: Matcher, hits: Sequence[Hit], bm25: Mapping[int, float], k1: float = 0.9, head: np.ndarray | None = None
) -> np.ndarray:
    """One row of ``ANSWERABILITY_FEATURES`` per hit (its answer sentence must already be chosen).

    ``head``: the learned head's score of each hit's passage (``head.head_scores``); 0 without one.
    """
    q, analyses = matcher.q, matcher.analyses
    out = np.zeros((len(hits), len(ANSWERABILITY_FEATURES)), dtype=np.float64)
    if not hits:
        return out
    weight, total = matcher.idf, q.total_idf
    m = matcher.match([hit.passage.row for hit in hits])
    _, in_title = matcher.titles([hit.article_idx for hit in hits])
    in_chunk = m.per_chunk(m.present)
    present = in_chunk | in_title  # (hits, known terms)
    # the same over all of the question's terms, unknown ones never present
    known = np.flatnonzero(q.ids >= 0)
    present_all = np.zeros((len(hits), q.ids.size), dtype=bool)
    present_all[:, known] = present
    idf = q.idf.astype(np.float64)  # of every term, unknown ones included
    rare = np.argsort(-idf, kind="stable")[:RARE_TERMS]
    # each hit's answer sentence (its highlight) among its passage's rows, and that sentence's neighbours
    spans = analyses.spans[m.sentence]
    chosen = np.asarray([hit.passage.highlights[0] if hit.passage.highlights else (-1, -1) for hit in hits]).reshape(-1, 2)
    owner = m.chunk_of
    same = (spans[:, 0] == chosen[owner, 0]) & (spans[:, 1] == chosen[owner, 1])
    answer_row = m.per_chunk(np.where(same, np.arange(owner.size), -1), np.maximum)  # the last such row, -1 if none
    answer_row[m.counts == 0] = -1
    answer, window = np.zeros_like(present), np.zeros_like(present)
    answer_cues = np.zeros(len(hits), dtype=np.int64)
    found = np.flatnonzero(answer_row >= 0)
    if found.size:
        prev, nxt = m.neighbours(m.present)
        rows = answer_row[found]
        answer[found] = m.present[rows]
        window[found] = m.present[rows] | prev[rows] | nxt[rows]
        answer_cues[found] = analyses.cues[m.sentence[rows]]

    answer_scores = np.asarray([h.answer_score for h in hits], dtype=np.float64)
    cosines = np.asarray([h.cosine or 0.0 for h in hits], dtype=np.float64)
    scores = np.asarray([h.score for h in hits], dtype=np.float64)
    top_bm25 = sorted(bm25.values(), reverse=True)[:10]
    type_bit = CUE_BITS[TYPE_CUE[q.kind]] if TYPE_CUE.get(q.kind) else 0
    named_year = present[:, matcher.years].any(axis=1)
    bm25_scale = total * (k1 + 1.0)
    columns = {
        "answer_score": answer_scores,
        "answer_margin": answer_scores - _best_other(answer_scores, 0.0),
        "coverage": present @ weight / total,
        "rare_coverage": present_all[:, rare] @ idf[rare] / (float(q.idf[rare].sum()) or 1.0),
        "sentence_coverage": answer @ weight / total,
        "sentence_share": answer.sum(axis=1) / (len(q.unique) or 1),
        "window_coverage": window @ weight / total,
        "missing_rare": np.where(present_all, 0.0, idf).max(axis=1, initial=0.0) / (float(idf.max()) if idf.size else 1.0),
        "title_coverage": in_title @ weight / total,
        "unknown_share": matcher.unknown_idf / total,
        "cosine": cosines,
        "cosine_margin": cosines - _best_other(cosines, 0.0),
        "bm25": np.minimum(1.0, np.asarray([bm25.get(h.passage.row, 0.0) for h in hits]) / bm25_scale),
        "score_margin": scores - (_best_other(scores, 0.0) if len(hits) > 1 else scores - 1.0),
        "bm25_peak": top_bm25[0] / (sum(top_bm25) / len(top_bm25)) if top_bm25 and top_bm25[0] > 0 else 0.0,
        "best_coverage": float((in_chunk @ weight / total).max()),
        "asks_typed": bool(type_bit),
        "type_evidence": (answer_cues & type_bit) > 0,
        "year_missing": [
            bool(q.years) and not named_year[n] and not (q.years & set(YEAR_RE.findall(hit.date or "")))
            for n, hit in enumerate(hits)
        ],
        "terms": math.log1p(len(q.unique)),
        "cross_language": q.cross_language,
        "hit_rank": np.log1p(np.arange(len(hits))),
        "head": head if head is not None else 0.0,
    }
    for name, values in columns.items():
        out[:, _INDEX[name]] = values
    return out


def _best_other(values: np.ndarray, default: float) -> np.ndarray:
    """For each entry, the largest of the others (``default`` when there is none)."""
    if values.size < 2:
        return np.full(values.size, default)
    order = np.argsort(-values, kind="stable")
    best, second = values[order[0]], values[order[1]]
    out = np.full(values.size, best)
    out[order[0]] = second
    return out


def answer_probabilities(
    matcher: Matcher,
    hits: Sequence[Hit],
    bm25: Mapping[int, float],
    model: LearnedModel,
    k1: float = 0.9,
    head: np.ndarray | None = None,
) -> dict[str, float]:
    """Set each hit's ``confidence`` to the model's probability that it answers; return the top hit's features."""
    if not hits:
        return {}
    x = hit_features(matcher, hits, bm25, k1, head)
    probs = model.predict(x) * rule_factors(x)
    for hit, p in zip(hits, probs.tolist(), strict=True):
        hit.confidence = p
    return {name: round(float(v), 4) for name, v in zip(ANSWERABILITY_FEATURES, x[0], strict=True)}
