"""The answer sentence: which sentence of the top passages answers the question.

Each sentence of the hits' passages is read together with the question: how
much of the question it holds (IDF-weighted, the article title's words counting
less since every sentence shares them), how close together, which of the
question's word pairs it keeps, whether it holds the kind of thing the question
asks for (``cues``: a person for "who", a date for "when"...), what its
neighbours hold, and where its passage ranks. A learned model
(``models/answer_sentence.json``, trained by ``bench/train_answers.py``) turns
these features into the probability that the sentence holds the answer; the
best sentence of each hit is its highlight, and the top hit's is the reply's
answer line.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .analysis import Analyses
from .cues import CUE_BITS, CUES, QUESTION_TYPES, TYPE_CUE
from .grouping import rerank_hits
from .learned import LearnedModel
from .question import Question
from .results import SNIPPET_CHARS, Hit, Passage

TOPIC_WEIGHT = 0.3  # a question term that is also in the article's title counts this much in "coverage_topic"
_TYPED = tuple(t for t in QUESTION_TYPES if TYPE_CUE[t])

SENTENCE_FEATURES: tuple[str, ...] = (
    "coverage",
    "coverage_topic",
    "matched_share",
    "rarest_matched",
    "closeness",
    "pairs",
    "coverage_gap",
    "topic_gap",
    "window_coverage",
    "prev_coverage",
    "next_coverage",
    "passage_coverage",
    "title_coverage",
    "hit_rank",
    "first_hit",
    "passage_score",
    "cosine",
    "sentence_index",
    "first_sentence",
    "article_start",
    "length",
    "novelty",
    "type_match",
    "prev_type_match",
    "next_type_match",
    "year_match",
    "cross_language",
    *(f"has_{c}" for c in CUES),
    *(f"asks_{t}" for t in QUESTION_TYPES),
    *(f"match_{t}" for t in _TYPED),
)
_INDEX = {name: i for i, name in enumerate(SENTENCE_FEATURES)}


@dataclass(frozen=True)
class SentenceRef:
    """Which sentence a feature row describes: the hit, the passage within it, the sentence's span in the passage."""

    hit: int
    passage: Passage
    span: tuple[int, int]


def _coverage(present: set[int], weight: dict[int, float], total: float) -> float:
    return sum(weight[t] for t in present) / total


def sentence_features(q: Question, hits: Sequence[Hit], analyses: Analyses) -> tuple[np.ndarray, list[SentenceRef]]:
    """One feature row (``SENTENCE_FEATURES``) per sentence of every passage of ``hits``, and what each row is."""
    weight = q.weight_of()
    wanted = set(weight)
    total = q.total_idf
    max_idf = float(q.idf.max()) if q.idf.size else 1.0
    pairs = {(a, b) for a, b, _ in q.pairs if a >= 0 and b >= 0}
    type_bit = CUE_BITS[TYPE_CUE[q.kind]] if TYPE_CUE.get(q.kind) else 0
    year_ids = {int(i) for t, i in zip(q.unique, q.ids, strict=True) if t in q.years and i >= 0}
    scores = [h.passage.score for h in hits]
    lo, hi = (min(scores), max(scores)) if scores else (0.0, 0.0)
    rows: list[np.ndarray] = []
    refs: list[SentenceRef] = []
    for h, hit in enumerate(hits):
        title = set(analyses.title_ids(hit.article_idx).tolist()) if hit.article_idx >= 0 else set()
        topic_weight = {t: w * (TOPIC_WEIGHT if t in title else 1.0) for t, w in weight.items()}
        topic_total = sum(topic_weight.values()) + float(q.idf[q.ids < 0].sum()) or 1.0
        title_cov = _coverage(wanted & title, weight, total)
        for passage in (hit.passage, *hit.more):
            sentences = list(analyses.sentence_range(passage.row))
            terms = [analyses.sentence_terms(s).tolist() for s in sentences]
            present = [wanted.intersection(t) for t in terms]
            coverage = [_coverage(p, weight, total) for p in present]
            passage_cov = _coverage(wanted & title.union(*terms), weight, total)
            fits = [bool(type_bit and analyses.cues[s] & type_bit) for s in sentences]
            for n, s in enumerate(sentences):
                f = np.zeros(len(SENTENCE_FEATURES), dtype=np.float64)
                t, p = terms[n], present[n]
                f[_INDEX["coverage"]] = coverage[n]
                f[_INDEX["coverage_topic"]] = sum(topic_weight[x] for x in p) / topic_total
                f[_INDEX["matched_share"]] = len(p) / (len(q.unique) or 1)
                f[_INDEX["rarest_matched"]] = max((weight[x] for x in p), default=0.0) / max_idf
                if len(p) >= 2:
                    positions = [i for i, x in enumerate(t) if x in p]
                    f[_INDEX["closeness"]] = 1.0 - (positions[-1] - positions[0] + 1) / len(t)
                if pairs:
                    f[_INDEX["pairs"]] = len(pairs & set(itertools.pairwise(t))) / len(pairs)
                window = p.union(present[n - 1] if n > 0 else (), present[n + 1] if n + 1 < len(sentences) else ())
                f[_INDEX["window_coverage"]] = _coverage(window, weight, total)
                f[_INDEX["prev_coverage"]] = coverage[n - 1] if n > 0 else 0.0
                f[_INDEX["next_coverage"]] = coverage[n + 1] if n + 1 < len(sentences) else 0.0
                f[_INDEX["passage_coverage"]] = passage_cov
                f[_INDEX["title_coverage"]] = title_cov
                f[_INDEX["hit_rank"]] = math.log1p(h)
                f[_INDEX["first_hit"]] = h == 0
                f[_INDEX["passage_score"]] = (passage.score - lo) / (hi - lo) if hi > lo else 1.0
                f[_INDEX["cosine"]] = hit.cosine or 0.0
                f[_INDEX["sentence_index"]] = math.log1p(n)
                f[_INDEX["first_sentence"]] = n == 0
                f[_INDEX["article_start"]] = n == 0 and passage.ordinal == 0
                f[_INDEX["length"]] = math.log1p(len(t))
                f[_INDEX["novelty"]] = sum(1 for x in t if x not in wanted and x not in title) / (len(t) or 1)
                f[_INDEX["type_match"]] = fits[n]
                f[_INDEX["prev_type_match"]] = n > 0 and fits[n - 1]
                f[_INDEX["next_type_match"]] = n + 1 < len(sentences) and fits[n + 1]
                f[_INDEX["year_match"]] = bool(year_ids) and bool(year_ids.intersection(t))
                f[_INDEX["cross_language"]] = q.cross_language
                cues = int(analyses.cues[s])
                for c in CUES:
                    f[_INDEX[f"has_{c}"]] = bool(cues & CUE_BITS[c])
                f[_INDEX[f"asks_{q.kind}"]] = 1.0
                if q.kind in _TYPED:
                    f[_INDEX[f"match_{q.kind}"]] = fits[n]
                rows.append(f)
                refs.append(SentenceRef(h, passage, tuple(int(v) for v in analyses.spans[s])))
    x = np.vstack(rows) if rows else np.zeros((0, len(SENTENCE_FEATURES)))
    for gap, of in (("coverage_gap", "coverage"), ("topic_gap", "coverage_topic")):
        if len(rows):  # how far each sentence is behind the best candidate: the features become relative to the question
            x[:, _INDEX[gap]] = x[:, _INDEX[of]].max() - x[:, _INDEX[of]]
    return x, refs


def choose_answers(q: Question, hits: Sequence[Hit], analyses: Analyses, model: LearnedModel) -> list[float]:
    """Highlight each passage's most likely answer sentence; return each hit's best probability.

    Sets ``passage.highlights`` (one span) and ``passage.snippet`` on every passage, and ``hit.answer_score``.
    """
    x, refs = sentence_features(q, hits, analyses)
    probs = model.predict(x) if len(refs) else np.zeros(0)
    apply_sentence_probabilities(hits, refs, probs)
    return [hit.answer_score for hit in hits]


def apply_sentence_probabilities(hits: Sequence[Hit], refs: Sequence[SentenceRef], probs: np.ndarray) -> None:
    """Each passage's best sentence becomes its highlight (its likelier neighbour joins the snippet when both
    fit); each hit leads with its passage holding the likeliest sentence."""
    by_passage: dict[int, list[tuple[tuple[int, int], float]]] = {}
    passages: dict[int, Passage] = {}
    for ref, p in zip(refs, np.asarray(probs).tolist(), strict=True):
        by_passage.setdefault(id(ref.passage), []).append((ref.span, p))
        passages[id(ref.passage)] = ref.passage
    best_of: dict[int, float] = {}
    for key, scored in by_passage.items():
        passage = passages[key]
        best = max(range(len(scored)), key=lambda i: (scored[i][1], -i))
        passage.highlights = [scored[best][0]]
        passage.snippet = snippet_around(scored, best)
        best_of[key] = scored[best][1]
    for hit in hits:
        ranked = sorted((hit.passage, *hit.more), key=lambda p: -best_of.get(id(p), -1.0))
        hit.passage, hit.more = ranked[0], ranked[1:]
        hit.answer_score = best_of.get(id(hit.passage), 0.0)


def snippet_around(scored: Sequence[tuple[tuple[int, int], float]], best: int, limit: int = SNIPPET_CHARS) -> tuple[int, int]:
    """The best sentence's span, widened by its likelier neighbour when the two fit in ``limit`` characters."""
    start, end = scored[best][0]
    neighbours = [i for i in (best - 1, best + 1) if 0 <= i < len(scored)]
    for i in sorted(neighbours, key=lambda i: -scored[i][1])[:1]:
        s, e = scored[i][0]
        if max(end, e) - min(start, s) <= limit:
            start, end = min(start, s), max(end, e)
    return start, end


def lead_with_best_answer(hits: list[Hit], depth: int) -> list[Hit]:
    """Put first the hit, among the top ``depth``, whose answer sentence is likeliest (ties keep retrieval order)."""
    depth = min(depth, len(hits))
    best = max(range(depth), key=lambda i: (hits[i].answer_score, -i)) if depth > 1 else 0
    return rerank_hits(hits, [best, *(i for i in range(len(hits)) if i != best)])
