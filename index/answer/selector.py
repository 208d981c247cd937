"""The answer sentence: which sentence of the top passages answers the question.

Each sentence of the hits' passages is read together with the question: how
much of the question it holds (IDF-weighted, the article title's words counting
less since every sentence shares them), how close together, which of the
question's word pairs it keeps, whether it holds the kind of thing the question
asks for (``cues``: a person for "who", a date for "when"...), what its
neighbours hold, and where its passage ranks. A learned model
(``models/answer_sentence.json``, trained by ``bench/train_answers.py``) turns
these features into the probability that the sentence holds the answer; each
passage's best sentence is its highlight, each hit leads with its passage holding
the likeliest one, and among the top three hits the one with the likeliest answer
goes first (``lead_with_best_answer``): its sentence is the reply's answer line.
For a question in another script than the corpus (English about Arabic news) the
competing sentences are also embedded and their similarity to the question leads
the choice (``sentence_cosines``, ``dense_adjusted``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from index.results import SNIPPET_CHARS, Hit, Passage
from index.storage.analyses import ranges
from index.text.cues import CUE_BITS, CUES, QUESTION_TYPES, TYPE_CUE

from .learned import LearnedModel
from .matching import ID_BASE, Matcher, Matches, topic_weights

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
_HAS = [_INDEX[f"has_{c}"] for c in CUES]
_CUE_BITS = np.asarray([CUE_BITS[c] for c in CUES], dtype=np.int64)


@dataclass(frozen=True)
class SentenceRef:
    """Which sentence a feature row describes: the hit, the passage within it, the sentence's span in the passage."""

    hit: int
    passage: Passage
    span: tuple[int, int]


class SentenceRows(Sequence[SentenceRef]):
    """Which sentence each feature row describes, held as arrays; a row becomes a ``SentenceRef`` only when asked.

    A query has about fifty rows and the answer stage reads the arrays
    (``apply_sentence_probabilities``, ``sentence_cosines``), never a ``SentenceRef``.
    """

    def __init__(self, passages: Sequence[Passage], passage_hit: np.ndarray, owner: np.ndarray, spans: np.ndarray) -> None:
        self.passages = list(passages)
        self.passage_hit = np.asarray(passage_hit, dtype=np.int64)  # per passage: its hit
        self.owner = np.asarray(owner, dtype=np.int64)  # per row: its passage
        self.spans = np.asarray(spans, dtype=np.int64).reshape(-1, 2)  # per row: the sentence's span in its passage

    @classmethod
    def of(cls, refs: Sequence[SentenceRef]) -> SentenceRows:
        """The rows of a list of ``SentenceRef`` (passages in order of their first row)."""
        if isinstance(refs, SentenceRows):
            return refs
        index: dict[int, int] = {}
        passages: list[Passage] = []
        hits: list[int] = []
        for ref in refs:
            if id(ref.passage) not in index:
                index[id(ref.passage)] = len(passages)
                passages.append(ref.passage)
                hits.append(ref.hit)
        owner = [index[id(ref.passage)] for ref in refs]
        return cls(passages, np.asarray(hits), np.asarray(owner), np.asarray([ref.span for ref in refs]))

    @property
    def hit(self) -> np.ndarray:
        """Per row: its hit."""
        return self.passage_hit[self.owner]

    def __len__(self) -> int:
        return int(self.owner.size)

    def __getitem__(self, i: int) -> SentenceRef:  # type: ignore[override]
        if not isinstance(i, (int, np.integer)):
            raise TypeError("SentenceRows are indexed by one row number")
        owner = int(self.owner[i])
        start, end = self.spans[i].tolist()
        return SentenceRef(int(self.passage_hit[owner]), self.passages[owner], (start, end))


def sentence_features(matcher: Matcher, hits: Sequence[Hit]) -> tuple[np.ndarray, SentenceRows]:
    """One feature row (``SENTENCE_FEATURES``) per sentence of every passage of ``hits``, and what each row is.

    Built column by column over all passages at once (``matching.Matches``): a query
    has about fifty rows, and per-row work would cost more than the model.
    """
    q, analyses = matcher.q, matcher.analyses
    passages = [(h, passage) for h, hit in enumerate(hits) for passage in (hit.passage, *hit.more)]
    passage_list = [passage for _, passage in passages]
    m = matcher.match([passage.row for passage in passage_list])
    x = np.zeros((m.sentence.size, len(SENTENCE_FEATURES)))
    passage_hit = np.asarray([h for h, _ in passages], dtype=np.int64)
    owner = m.chunk_of  # each row's passage
    if not m.sentence.size:
        return x, SentenceRows(passage_list, passage_hit, owner, np.zeros((0, 2)))
    hit_of = passage_hit[owner]
    weight, total = matcher.idf, q.total_idf
    n_pairs = matcher.pair_ids.shape[0]
    titles, in_title = matcher.titles([hit.article_idx for hit in hits])  # in_title: (hits, terms)
    topic, topic_total = topic_weights(matcher, in_title)
    familiar = _familiar_terms(matcher, m, hit_of, titles)
    scores = [hit.passage.score for hit in hits]
    lo_score, hi_score = min(scores), max(scores)
    present = m.present
    coverage = present @ weight / total
    prev_present, next_present = m.neighbours(present)
    prev_cov, next_cov = m.neighbours(coverage)
    chunk_present = m.per_chunk(present)[owner] | in_title[hit_of]
    position = np.arange(m.sentence.size) - m.ptr[owner]
    starts, ends = m.block_edges()
    columns = {
        "coverage": coverage,
        "coverage_topic": (present * topic[hit_of]).sum(axis=1) / topic_total[hit_of],
        "matched_share": present.sum(axis=1) / (len(q.unique) or 1),
        "rarest_matched": np.where(present, weight, 0.0).max(axis=1, initial=0.0) / (float(q.idf.max()) if q.idf.size else 1.0),
        "closeness": m.closeness(),
        "pairs": m.pairs.sum(axis=1) / n_pairs if n_pairs else 0.0,
        "window_coverage": (present | prev_present | next_present) @ weight / total,
        "prev_coverage": prev_cov,
        "next_coverage": next_cov,
        "passage_coverage": chunk_present @ weight / total,
        "title_coverage": (in_title @ weight / total)[hit_of],
        "hit_rank": np.log1p(hit_of),
        "first_hit": hit_of == 0,
        "passage_score": (
            (np.asarray([p.score for _, p in passages])[owner] - lo_score) / (hi_score - lo_score) if hi_score > lo_score else 1.0
        ),
        "cosine": np.asarray([hit.cosine or 0.0 for hit in hits])[hit_of],
        "sentence_index": np.log1p(position),
        "first_sentence": position == 0,
        "article_start": (position == 0) & (np.asarray([p.ordinal == 0 for _, p in passages])[owner]),
        "length": np.log1p(m.length),
        "novelty": (m.length - familiar) / np.maximum(m.length, 1),
        "year_match": present[:, matcher.years].any(axis=1),
    }
    for name, values in columns.items():
        x[:, _INDEX[name]] = values
    cues = analyses.cues[m.sentence].astype(np.int64)
    x[:, _HAS] = (cues[:, None] & _CUE_BITS) > 0
    type_bit = CUE_BITS[TYPE_CUE[q.kind]] if TYPE_CUE.get(q.kind) else 0
    fits = (cues & type_bit) > 0 if type_bit else np.zeros(m.sentence.size, dtype=bool)
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
    return x, SentenceRows(passage_list, passage_hit, owner, analyses.spans[m.sentence])


def _familiar_terms(matcher: Matcher, m: Matches, hit_of: np.ndarray, titles: list[np.ndarray]) -> np.ndarray:
    """Per sentence: how many of its terms (every occurrence) are the question's or its article title's."""
    terms = matcher.analyses.terms
    positions = ranges(matcher.analyses.term_ptr[m.sentence], m.length)
    hits = np.arange(len(titles), dtype=np.int64)
    wanted = np.unique(
        np.concatenate(
            [h * ID_BASE + title.astype(np.int64) for h, title in enumerate(titles)]
            + [(hits[:, None] * ID_BASE + matcher.ids).ravel()]
        )
    )
    keys = np.repeat(hit_of, m.length) * ID_BASE + terms[positions].astype(np.int64)
    slot = np.minimum(np.searchsorted(wanted, keys), max(wanted.size - 1, 0))
    known = wanted[slot] == keys if wanted.size else np.zeros(keys.size, dtype=bool)
    return np.bincount(np.repeat(np.arange(m.sentence.size), m.length), known, minlength=m.sentence.size)


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
    rows = SentenceRows.of(refs)
    out = np.full(len(rows), np.nan)
    keep = np.flatnonzero(rows.hit < depth).tolist()
    if keep:
        spans = rows.spans.tolist()
        texts = [rows.passages[int(rows.owner[i])].text[spans[i][0] : spans[i][1]] for i in keep]
        out[keep] = np.asarray(encode(texts), dtype=np.float64) @ np.asarray(query_vector, dtype=np.float64)
    return out


def apply_sentence_probabilities(hits: Sequence[Hit], refs: Sequence[SentenceRef], probs: np.ndarray) -> None:
    """Each passage's best sentence becomes its highlight (its likelier neighbour joins the snippet when both
    fit); each hit leads with its passage holding the likeliest sentence."""
    rows = SentenceRows.of(refs)
    spans = [tuple(span) for span in rows.spans.tolist()]
    scored_rows = list(zip(spans, np.asarray(probs, dtype=np.float64).tolist(), strict=True))
    owner = rows.owner
    if owner.size and (owner[1:] >= owner[:-1]).all():  # each passage's rows in one run (as sentence_features gives them)
        bounds = np.searchsorted(owner, np.arange(len(rows.passages) + 1)).tolist()
        own_rows = [range(bounds[p], bounds[p + 1]) for p in range(len(rows.passages))]
    else:
        own_rows = [np.flatnonzero(owner == p).tolist() for p in range(len(rows.passages))]
    best_of: dict[int, float] = {}
    for passage, own in zip(rows.passages, own_rows, strict=True):
        if not own:
            continue
        scored = [scored_rows[i] for i in own]  # the passage's rows, in order
        probabilities = [p for _, p in scored]
        best = probabilities.index(max(probabilities))  # the first of equals
        passage.highlights = [scored[best][0]]
        passage.snippet = snippet_around(scored, best)
        best_of[id(passage)] = scored[best][1]
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
