"""Second stage: the top candidates re-scored by their best sentence and by the question's word pairs.

A passage that holds the question's words in one sentence, and its names and
set phrases ("جامعة الملك سعود") side by side, is more likely to answer than one
that has them scattered. Pure lexical scoring over the stored analyses
(``index.analysis``), so it costs microseconds per passage.
"""

from __future__ import annotations

import numpy as np

from .cues import CUE_BITS
from .matching import Matcher
from .retrieval import Candidates, minmax

CUE_BONUS = 0.2
PROXIMITY_BONUS = 0.05
# Question terms that are also in the article's title name its topic, which most of
# its sentences share; the answering sentence is the one with the *other* terms.
TOPIC_WEIGHT = 0.3

# The cue that earns the re-ranking bonus, per question type.
_RERANK_CUE = {"number": CUE_BITS["number"], "amount": CUE_BITS["number"], "time": CUE_BITS["time"]}


def sentence_scores(matcher: Matcher, row: int, topic: frozenset[int] = frozenset()) -> np.ndarray:
    """Lexical score of each sentence of chunk ``row``: IDF-weighted coverage, closeness, answer-kind bonus.

    Terms in ``topic`` (the article title's) count ``TOPIC_WEIGHT`` as much.
    """
    q = matcher.q
    weight = q.weight_of()
    if topic:
        weight = {t: w * (TOPIC_WEIGHT if t in topic else 1.0) for t, w in weight.items()}
        total = sum(weight.values()) + float(q.idf[q.ids < 0].sum()) or 1.0
    else:
        total = q.total_idf
    wanted = len(q.unique) or 1
    cue = _RERANK_CUE.get(q.kind, 0)
    matches = matcher.chunk(row)
    out = np.zeros(len(matches), dtype=np.float32)
    for n, m in enumerate(matches):
        if not m.present:
            continue
        score = sum(weight[t] for t in m.present) / total
        spread = (m.last - m.first + 1) / m.length
        score += PROXIMITY_BONUS * (1.0 - spread) * len(m.present) / wanted
        if cue and matcher.analyses.cues[m.index] & cue:
            score += CUE_BONUS
        out[n] = score
    return out


def phrase_coverage(matcher: Matcher, row: int) -> float:
    """IDF-weighted share of the question's adjacent term pairs that stand side by side in a sentence of ``row``.

    0 when the question has no pair.
    """
    q = matcher.q
    if not q.pairs:
        return 0.0
    present = frozenset().union(*(m.pairs for m in matcher.chunk(row)))
    total = sum(w for _, _, w in q.pairs) or 1.0
    return sum(w for a, b, w in q.pairs if (a, b) in present) / total


def rerank(cands: Candidates, matcher: Matcher, depth: int, sentence_weight: float, phrase_weight: float) -> Candidates:
    """The top ``depth`` candidates re-scored (fused + best sentence + word pairs); the rest keep their order below."""
    if sentence_weight <= 0 or not matcher.q.unique or not cands.rows.size:
        return cands
    depth = min(depth, cands.rows.size)
    top = cands.rows[:depth].tolist()
    matcher.prepare(top)
    best = np.asarray([max(sentence_scores(matcher, r), default=0.0) for r in top], dtype=np.float32)
    rescored = minmax(cands.scores[:depth].astype(np.float32)) + sentence_weight * best
    if phrase_weight:
        rescored += phrase_weight * np.asarray([phrase_coverage(matcher, r) for r in top], dtype=np.float32)
    order = np.argsort(-rescored, kind="stable")
    rest = cands.scores[depth:]
    scores = np.concatenate([rescored[order], rest - float(rest.max(initial=0)) - 1.0])
    moved = cands.reorder(np.concatenate([order, np.arange(depth, cands.rows.size)]))
    return Candidates(moved.rows, scores.astype(np.float32), moved.cosines, moved.bm25)
