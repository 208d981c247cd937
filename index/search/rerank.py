"""Second stage: the top candidates re-scored by their best sentence and by the question's word pairs.

A passage that holds the question's words in one sentence, and its names and
set phrases ("جامعة الملك سعود") side by side, is more likely to answer than one
that has them scattered. Pure lexical scoring over the stored analyses
(``index.analysis``), so it costs microseconds per passage.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from index.answer.matching import Matcher, Matches
from index.text.cues import CUE_BITS

from .retrieval import Candidates, minmax

CUE_BONUS = 0.2
PROXIMITY_BONUS = 0.05

# The cue that earns the re-ranking bonus, per question type.
_RERANK_CUE = {"number": CUE_BITS["number"], "amount": CUE_BITS["number"], "time": CUE_BITS["time"]}


def sentence_scores(
    matcher: Matcher, matches: Matches, weight: np.ndarray | None = None, total: float | None = None
) -> np.ndarray:
    """Lexical score of each sentence of ``matches``: IDF-weighted coverage, closeness, answer-kind bonus.

    ``weight`` / ``total``: the question's term weights and their sum (default: IDF; ``topic_weights``
    makes a title's terms count less).
    """
    q = matcher.q
    weight = matcher.idf if weight is None else weight
    total = q.total_idf if total is None else total
    held = matches.present.sum(axis=1)
    spread = (matches.last - matches.first + 1) / np.maximum(matches.length, 1)
    score = matches.present @ weight / total + PROXIMITY_BONUS * (1.0 - spread) * held / (len(q.unique) or 1)
    cue = _RERANK_CUE.get(q.kind, 0)
    if cue:
        score += CUE_BONUS * ((matcher.analyses.cues[matches.sentence] & cue) > 0)
    return np.where(held > 0, score, 0.0).astype(np.float32)


def phrase_coverage(matcher: Matcher, matches: Matches) -> np.ndarray:
    """Per chunk of ``matches``: IDF-weighted share of the question's adjacent term pairs standing side by side
    in one of its sentences (0 when the question has no pair)."""
    if not matcher.q.pairs:
        return np.zeros(matches.ptr.size - 1)
    return matches.per_chunk(matches.pairs) @ matcher.pair_weight / matcher.pair_total


def rerank(cands: Candidates, matcher: Matcher, depth: int, sentence_weight: float, phrase_weight: float) -> Candidates:
    """The top ``depth`` candidates re-scored (fused + best sentence + word pairs); the rest keep their order below."""
    if sentence_weight <= 0 or not matcher.q.unique or not cands.rows.size:
        return cands
    depth = min(depth, cands.rows.size)
    matches = matcher.match(cands.rows[:depth])
    best = matches.per_chunk(sentence_scores(matcher, matches), np.maximum)
    rescored = minmax(cands.scores[:depth].astype(np.float32)) + sentence_weight * best
    if phrase_weight:
        rescored += phrase_weight * phrase_coverage(matcher, matches).astype(np.float32)
    order = np.argsort(-rescored, kind="stable")
    rest = cands.scores[depth:]
    scores = np.concatenate([rescored[order], rest - float(rest.max(initial=0)) - 1.0])
    moved = cands.reorder(np.concatenate([order, np.arange(depth, cands.rows.size)]))
    return replace(moved, scores=scores.astype(np.float32))
