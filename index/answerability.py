"""Answerability: one calibrated probability that a hit answers the question, and the three replies.

A retriever always returns something; whether it answers is a separate
judgement. Each hit gets features read from the question and the hit together:
the answer sentence's probability (``answers``) and its lead over the other
hits', how much of the question (and of its rarest words) the passage and title
hold, the share of the question's words the corpus has never seen, the dense
similarity and its margin, the normalised BM25 score, whether the answer
sentence holds the kind of thing asked for, and whether a year the question
names is missing. A learned model (``models/answerability.json``) turns them
into a probability; the top hit's decides the reply:

    p >= sure     the answer line and the sources
    p >= minimum  "no sure answer" and the closest passages
    otherwise     "nothing found"

Both thresholds were chosen on the trade-off curve of the dev sets
(docs/benchmarks.md) and can be moved with ``MIN_CONFIDENCE`` / ``SURE_CONFIDENCE``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

import numpy as np

from .cues import CUE_BITS, TYPE_CUE
from .learned import LearnedModel
from .matching import Matcher
from .results import Hit

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
)
_INDEX = {name: i for i, name in enumerate(ANSWERABILITY_FEATURES)}
_YEAR = re.compile(r"(?<!\d)(?:1[89]|20)\d\d(?!\d)")
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


def hit_features(matcher: Matcher, hits: Sequence[Hit], bm25: Mapping[int, float], k1: float = 0.9) -> np.ndarray:
    """One row of ``ANSWERABILITY_FEATURES`` per hit (its answer sentence must already be chosen)."""
    q, analyses = matcher.q, matcher.analyses
    weight = q.weight_of()
    total = q.total_idf
    order = np.argsort(-q.idf, kind="stable")[:RARE_TERMS]
    rare_total = float(q.idf[order].sum()) or 1.0
    bm25_scale = total * (k1 + 1.0)
    max_idf = float(q.idf.max()) if q.idf.size else 1.0
    top_bm25 = sorted(bm25.values(), reverse=True)[:10]
    peak = top_bm25[0] / (sum(top_bm25) / len(top_bm25)) if top_bm25 and top_bm25[0] > 0 else 0.0
    type_bit = CUE_BITS[TYPE_CUE[q.kind]] if TYPE_CUE.get(q.kind) else 0
    year_ids = {int(i) for t, i in zip(q.unique, q.ids, strict=True) if t in q.years and i >= 0}

    def coverage(present: frozenset[int] | set[int]) -> float:
        return sum(weight[t] for t in present if t in weight) / total

    answer_scores = [h.answer_score for h in hits]
    cosines = [h.cosine or 0.0 for h in hits]
    scores = [h.score for h in hits]
    best_coverage = max((coverage(matcher.chunk_present(h.passage.row)) for h in hits), default=0.0)
    out = np.zeros((len(hits), len(ANSWERABILITY_FEATURES)), dtype=np.float64)
    for n, hit in enumerate(hits):
        f = out[n]
        others = [j for j in range(len(hits)) if j != n]
        title = set(analyses.title_ids(hit.article_idx).tolist()) if hit.article_idx >= 0 else set()
        present = matcher.chunk_present(hit.passage.row) | (weight.keys() & title)
        matches = matcher.chunk(hit.passage.row)
        answer: frozenset[int] = frozenset()
        window: frozenset[int] = frozenset()
        answer_cues = 0
        span = hit.passage.highlights[0] if hit.passage.highlights else None
        for i, m in enumerate(matches):
            if span is not None and (int(analyses.spans[m.index][0]), int(analyses.spans[m.index][1])) == span:
                answer, answer_cues = m.present, int(analyses.cues[m.index])
                window = answer.union(*(matches[j].present for j in (i - 1, i + 1) if 0 <= j < len(matches)))
        missing = [float(w) for i, w in zip(q.ids.tolist(), q.idf.tolist(), strict=True) if i not in present]
        f[_INDEX["answer_score"]] = hit.answer_score
        f[_INDEX["answer_margin"]] = hit.answer_score - max((answer_scores[j] for j in others), default=0.0)
        f[_INDEX["coverage"]] = coverage(present)
        f[_INDEX["rare_coverage"]] = sum(float(q.idf[i]) for i in order if int(q.ids[i]) in present) / rare_total
        f[_INDEX["sentence_coverage"]] = coverage(answer)
        f[_INDEX["sentence_share"]] = len(answer) / (len(q.unique) or 1)
        f[_INDEX["window_coverage"]] = coverage(window)
        f[_INDEX["missing_rare"]] = max(missing, default=0.0) / max_idf
        f[_INDEX["title_coverage"]] = coverage(title)
        f[_INDEX["unknown_share"]] = float(q.idf[q.ids < 0].sum()) / total
        f[_INDEX["cosine"]] = cosines[n]
        f[_INDEX["cosine_margin"]] = cosines[n] - max((cosines[j] for j in others), default=0.0)
        f[_INDEX["bm25"]] = min(1.0, bm25.get(hit.passage.row, 0.0) / bm25_scale)
        f[_INDEX["score_margin"]] = scores[n] - max((scores[j] for j in others), default=scores[n] - 1.0)
        f[_INDEX["bm25_peak"]] = peak
        f[_INDEX["best_coverage"]] = best_coverage
        f[_INDEX["asks_typed"]] = bool(type_bit)
        f[_INDEX["type_evidence"]] = bool(type_bit and answer_cues & type_bit)
        if q.years and not (year_ids & present) and not (q.years & set(_YEAR.findall(hit.date or ""))):
            f[_INDEX["year_missing"]] = 1.0
        f[_INDEX["terms"]] = math.log1p(len(q.unique))
        f[_INDEX["cross_language"]] = q.cross_language
        f[_INDEX["hit_rank"]] = math.log1p(n)
    return out


def answer_probabilities(
    matcher: Matcher, hits: Sequence[Hit], bm25: Mapping[int, float], model: LearnedModel, k1: float = 0.9
) -> dict[str, float]:
    """Set each hit's ``confidence`` to the model's probability that it answers; return the top hit's features."""
    if not hits:
        return {}
    x = hit_features(matcher, hits, bm25, k1)
    probs = model.predict(x) * rule_factors(x)
    for hit, p in zip(hits, probs.tolist(), strict=True):
        hit.confidence = p
    return {name: round(float(v), 4) for name, v in zip(ANSWERABILITY_FEATURES, x[0], strict=True)}
