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

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .cues import CUE_BITS, CUES, QUESTION_TYPES, TYPE_CUE
from .grouping import rerank_hits
from .learned import LearnedModel
from .matching import Matcher
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


def _coverage(present: frozenset[int] | set[int], weight: dict[int, float], total: float) -> float:
    return sum(weight[t] for t in present) / total


def sentence_features(matcher: Matcher, hits: Sequence[Hit]) -> tuple[np.ndarray, list[SentenceRef]]:
    """One feature row (``SENTENCE_FEATURES``) per sentence of every passage of ``hits``, and what each row is.

    Built column by column over all passages at once: a query has about a hundred
    rows, and per-row numpy work would cost more than the model.
    """
    q, analyses = matcher.q, matcher.analyses
    weight = q.weight_of()
    total = q.total_idf
    unknown = float(q.idf[q.ids < 0].sum())
    max_idf = float(q.idf.max()) if q.idf.size else 1.0
    n_terms = len(q.unique) or 1
    n_pairs = len(matcher.pairs)
    type_bit = CUE_BITS[TYPE_CUE[q.kind]] if TYPE_CUE.get(q.kind) else 0
    year_ids = {int(i) for t, i in zip(q.unique, q.ids, strict=True) if t in q.years and i >= 0}
    scores = [h.passage.score for h in hits]
    lo, hi = (min(scores), max(scores)) if scores else (0.0, 0.0)
    matcher.prepare([p.row for hit in hits for p in (hit.passage, *hit.more)])
    columns: dict[str, list] = {name: [] for name in _PER_ROW}
    indices: list[int] = []
    refs: list[SentenceRef] = []
    for h, hit in enumerate(hits):
        title = set(analyses.title_ids(hit.article_idx).tolist()) if hit.article_idx >= 0 else set()
        topic_weight = {t: w * (TOPIC_WEIGHT if t in title else 1.0) for t, w in weight.items()}
        topic_total = sum(topic_weight.values()) + unknown or 1.0
        title_cov = _coverage(weight.keys() & title, weight, total)
        familiar_terms = title | weight.keys()
        for passage in (hit.passage, *hit.more):
            matches = matcher.chunk(passage.row)
            n = len(matches)
            if not n:
                continue
            coverage = [_coverage(m.present, weight, total) for m in matches]
            passage_cov = _coverage(matcher.chunk_present(passage.row) | (weight.keys() & title), weight, total)
            terms = analyses.chunk_terms(passage.row).tolist()
            offset = 0
            familiar = []
            for m in matches:
                familiar.append(sum(1 for t in terms[offset : offset + m.length] if t in familiar_terms))
                offset += m.length
            c = columns
            c["coverage"] += coverage
            c["coverage_topic"] += [sum(topic_weight[t] for t in m.present) / topic_total for m in matches]
            c["matched_share"] += [len(m.present) / n_terms for m in matches]
            c["rarest_matched"] += [max((weight[t] for t in m.present), default=0.0) / max_idf for m in matches]
            c["closeness"] += [m.closeness for m in matches]
            c["pairs"] += [len(m.pairs) / n_pairs if n_pairs else 0.0 for m in matches]
            c["window_coverage"] += [
                _coverage(
                    m.present.union(matches[i - 1].present if i else (), matches[i + 1].present if i + 1 < n else ()),
                    weight,
                    total,
                )
                for i, m in enumerate(matches)
            ]
            c["prev_coverage"] += [0.0, *coverage[:-1]]
            c["next_coverage"] += [*coverage[1:], 0.0]
            c["passage_coverage"] += [passage_cov] * n
            c["title_coverage"] += [title_cov] * n
            c["hit_rank"] += [math.log1p(h)] * n
            c["first_hit"] += [h == 0] * n
            c["passage_score"] += [(passage.score - lo) / (hi - lo) if hi > lo else 1.0] * n
            c["cosine"] += [hit.cosine or 0.0] * n
            c["sentence_index"] += [math.log1p(i) for i in range(n)]
            c["first_sentence"] += [i == 0 for i in range(n)]
            c["article_start"] += [i == 0 and passage.ordinal == 0 for i in range(n)]
            c["length"] += [math.log1p(m.length) for m in matches]
            c["novelty"] += [(m.length - f) / (m.length or 1) for m, f in zip(matches, familiar, strict=True)]
            c["year_match"] += [bool(year_ids & m.present) for m in matches]
            c["block_start"] += [i == 0 for i in range(n)]
            c["block_end"] += [i == n - 1 for i in range(n)]
            indices += [m.index for m in matches]
            refs.extend(SentenceRef(h, passage, (int(a), int(b))) for a, b in analyses.spans[[m.index for m in matches]].tolist())
    x = np.zeros((len(indices), len(SENTENCE_FEATURES)))
    if not indices:
        return x, refs
    for name in _PER_ROW[:-2]:
        x[:, _INDEX[name]] = columns[name]
    cues = analyses.cues[indices].astype(np.int64)
    for c in CUES:
        x[:, _INDEX[f"has_{c}"]] = (cues & CUE_BITS[c]) > 0
    fits = (cues & type_bit) > 0 if type_bit else np.zeros(len(indices), dtype=bool)
    starts, ends = np.asarray(columns["block_start"]), np.asarray(columns["block_end"])
    x[:, _INDEX["type_match"]] = fits
    x[:, _INDEX["prev_type_match"]] = np.concatenate([[False], fits[:-1]]) & ~starts
    x[:, _INDEX["next_type_match"]] = np.concatenate([fits[1:], [False]]) & ~ends
    x[:, _INDEX[f"asks_{q.kind}"]] = 1.0
    if q.kind in _TYPED:
        x[:, _INDEX[f"match_{q.kind}"]] = fits
    x[:, _INDEX["cross_language"]] = q.cross_language
    for gap, of in (("coverage_gap", "coverage"), ("topic_gap", "coverage_topic")):
        # how far each sentence is behind the best candidate: the features become relative to the question
        x[:, _INDEX[gap]] = x[:, _INDEX[of]].max() - x[:, _INDEX[of]]
    return x, refs


# Features filled row by row (the rest come from the cue bits and the question); the last two only mark passage edges.
_PER_ROW = (
    "coverage",
    "coverage_topic",
    "matched_share",
    "rarest_matched",
    "closeness",
    "pairs",
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
    "year_match",
    "block_start",
    "block_end",
)


# Key in the answer-sentence model's meta: how much the sentences' similarity to the question
# counts for questions in another script than the corpus (chosen by bench/train_answers.py).
CROSS_LANGUAGE_DENSE_WEIGHT = "cross_language_dense_weight"


def choose_answers(
    matcher: Matcher,
    hits: Sequence[Hit],
    model: LearnedModel,
    similarity: Callable[[Sequence[SentenceRef]], np.ndarray] | None = None,
) -> list[float]:
    """Highlight each passage's most likely answer sentence; return each hit's best probability.

    Sets ``passage.highlights`` (one span) and ``passage.snippet`` on every passage, and ``hit.answer_score``.
    ``similarity`` (for questions in another script, whose words the sentences do not share) gives
    each sentence's cosine to the question (NaN where not computed); see ``dense_adjusted``.
    """
    x, refs = sentence_features(matcher, hits)
    raw = model.raw(x) if len(refs) else np.zeros(0)
    weight = float(model.meta.get(CROSS_LANGUAGE_DENSE_WEIGHT, 0.0))
    if similarity is not None and weight > 0 and len(refs):
        raw = dense_adjusted(raw, similarity(refs), weight)
    apply_sentence_probabilities(hits, refs, model.probability(raw))
    return [hit.answer_score for hit in hits]


def dense_adjusted(raw: np.ndarray, cosines: np.ndarray, weight: float) -> np.ndarray:
    """Selector scores lowered by how much less similar to the question each sentence is than the most similar one.

    An English question shares no words with Arabic sentences, so the lexical features
    cannot tell its answer sentence; the encoder, trained on question-answer pairs across
    languages, can. Sentences without a cosine (NaN) count as the least similar. The most
    similar sentence keeps the selector's own score, so probabilities keep their meaning.
    """
    known = ~np.isnan(cosines)
    if weight <= 0 or not known.any():
        return raw
    c = np.where(known, cosines, np.nanmin(cosines))
    return raw + weight * (c - c.max())


def sentence_cosines(
    refs: Sequence[SentenceRef], query_vector: np.ndarray, encode: Callable[[list[str]], np.ndarray], depth: int
) -> np.ndarray:
    """Cosine of each sentence of the first ``depth`` hits to the question (NaN for the others).

    Embedded at query time (about 2 ms a sentence with the built-in model), so only for
    the hits whose answers compete for first place.
    """
    out = np.full(len(refs), np.nan)
    keep = [i for i, ref in enumerate(refs) if ref.hit < depth]
    if keep:
        texts = [refs[i].passage.text[refs[i].span[0] : refs[i].span[1]] for i in keep]
        out[keep] = np.asarray(encode(texts), dtype=np.float64) @ np.asarray(query_vector, dtype=np.float64)
    return out


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
