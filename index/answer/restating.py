"""News about now: does a newer article among the top hits restate the first one's answer, and so lead instead?

When an old and a recent article both answer a question that names no time (a count, a
name, a state of things), the recent one is right: it is what holds now. When only the old
article holds the answer, the recent one must not win just for being recent. So a newer hit
leads only when

- it *restates* every sentence of the first hit that is a likely answer (its answer
  probability within ``RESTATE_BAND`` of the best): one of its sentences holds at least
  ``RESTATE_SHARE`` of that sentence's terms (numbers may differ; that is the update), and
- its own likeliest answer sentence, read as if its hit had come first, is within
  ``margin`` of the first hit's.

The selector reads where retrieval put a hit (its rank, its passage's score); both hits are
read as first so that they are compared on what their sentences say. The constants were
chosen on the dev set of ``bench/news_now.py`` (the curve is in docs/benchmarks).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from index.results import Hit
from index.text.dates import UNKNOWN_DAY

from .learned import LearnedModel
from .matching import Matcher
from .selector import SENTENCE_FEATURES, SentenceRows, sentence_features

RESTATE_BAND = 0.1
RESTATE_SHARE = 0.8
_AS_FIRST = {SENTENCE_FEATURES.index("hit_rank"): 0.0, SENTENCE_FEATURES.index("first_hit"): 1.0}
_PASSAGE_SCORE = SENTENCE_FEATURES.index("passage_score")


def recent_lead(
    matcher: Matcher,
    hits: Sequence[Hit],
    model: LearnedModel,
    days: Sequence[int],
    margin: float,
    band: float = RESTATE_BAND,
    share: float = RESTATE_SHARE,
) -> int:
    """The position of the hit that should lead: the newest that restates the first one's answer, else 0.

    ``days``: each hit's article day (``UNKNOWN_DAY``: undated, neither newer nor older).
    """
    if len(hits) < 2 or days[0] == UNKNOWN_DAY or not any(d != UNKNOWN_DAY and d > days[0] for d in days[1:]):
        return 0
    x, refs = sentence_features(matcher, hits)
    if not len(refs):
        return 0
    for column, value in _AS_FIRST.items():
        x[:, column] = value
    x[:, _PASSAGE_SCORE] = 1.0
    probability = model.probability(model.raw(x))
    owner = SentenceRows.of(refs).hit
    # the same passages in the same order as sentence_features matched them: one row per sentence
    sentences = matcher.match([p.row for hit in hits for p in (hit.passage, *hit.more)]).sentence
    terms = _term_sets(matcher, sentences)
    lead_rows = np.flatnonzero(owner == 0)
    if not lead_rows.size:
        return 0
    best = float(probability[lead_rows].max())
    likely = [terms[i] for i in lead_rows[probability[lead_rows] >= best - band].tolist()]
    chosen, chosen_key = 0, None
    for h in range(1, len(hits)):
        if days[h] == UNKNOWN_DAY or days[h] <= days[0]:
            continue
        own = np.flatnonzero(owner == h)
        if not own.size or float(probability[own].max()) < best - margin:
            continue
        theirs = [terms[i] for i in own.tolist()]
        if all(_restated(sentence, theirs, share) for sentence in likely):
            key = (days[h], float(probability[own].max()))
            if chosen_key is None or key > chosen_key:
                chosen, chosen_key = h, key
    return chosen


def _term_sets(matcher: Matcher, sentences: np.ndarray) -> list[frozenset[int]]:
    """Each sentence's analysed terms (stems, stop words out), as a set."""
    a = matcher.analyses
    starts, ends = a.term_ptr[sentences].tolist(), a.term_ptr[sentences + 1].tolist()
    return [frozenset(a.terms[s:e].tolist()) for s, e in zip(starts, ends, strict=True)]


def _restated(sentence: frozenset[int], others: list[frozenset[int]], share: float) -> bool:
    """Does one of ``others`` hold at least ``share`` of ``sentence``'s terms?"""
    if not sentence:
        return True
    need = share * len(sentence)
    return any(len(sentence & other) >= need for other in others)
