"""index.matching: the vectorised sentence matches equal a plain walk over each sentence's terms."""

import itertools

import numpy as np
import pytest

from index.answer.matching import Matcher
from index.question import Question
from index.storage.analyses import Analyses
from index.text.analysis import SentenceInfo


def random_analyses(rng: np.random.Generator, chunks: int = 12, vocab: int = 15) -> Analyses:
    """Chunks of 0-5 sentences of 0-9 terms drawn from a small vocabulary (so matches and pairs are common)."""
    words = {f"w{i}": i for i in range(vocab)}
    analysed = [
        [
            SentenceInfo((0, 1), tuple(f"w{t}" for t in rng.integers(vocab, size=int(rng.integers(10)))), 0)
            for _ in range(int(rng.integers(6)))
        ]
        for _ in range(chunks)
    ]
    return Analyses.from_sentences(list(range(chunks)), analysed, [()] * chunks, words)


def question(rng: np.random.Generator, vocab: int = 15) -> Question:
    """A question of 1-5 distinct known terms and one the corpus has never seen (id -1)."""
    ids = np.append(rng.choice(vocab, size=int(rng.integers(1, 6)), replace=False), -1).astype(np.int32)
    idf = rng.uniform(0.5, 3.0, size=ids.size).astype(np.float32)
    pairs = tuple((int(a), int(b), float(idf[i] + idf[i + 1])) for i, (a, b) in enumerate(itertools.pairwise(ids)))
    unique = tuple(f"t{i}" for i in range(ids.size))
    return Question("?", unique, unique, ids, idf, pairs, "other", frozenset(), False, False)


def walk(analyses: Analyses, q: Question, sentence: int) -> tuple[set, int, int, int, set]:
    """The old definition, term by term: (ids present, first, last, length, pairs side by side)."""
    terms = analyses.sentence_terms(sentence).tolist()
    wanted = {int(i) for i in q.ids if i >= 0}
    pairs = {(a, b) for a, b, _ in q.pairs if a >= 0 and b >= 0}
    positions = [p for p, t in enumerate(terms) if t in wanted]
    side_by_side = {(terms[p], terms[p + 1]) for p in positions if p + 1 < len(terms) and (terms[p], terms[p + 1]) in pairs}
    first, last = (positions[0], positions[-1]) if positions else (-1, -1)
    return {terms[p] for p in positions}, first, last, len(terms), side_by_side


def random_matcher(seed: int) -> tuple[np.random.Generator, Analyses, Question, Matcher]:
    """A random corpus and question, their matcher, and the generator to draw more from."""
    rng = np.random.default_rng(seed)
    analyses = random_analyses(rng)
    q = question(rng)
    return rng, analyses, q, Matcher(q, analyses)


@pytest.mark.parametrize("seed", range(20))
def test_matches_equal_walking_each_sentence(seed):
    rng, analyses, q, matcher = random_matcher(seed)
    rows = rng.integers(analyses.num_chunks, size=8)  # any order, repeats allowed
    m = matcher.match(rows)
    assert m.ptr[-1] == m.sentence.size == sum(len(analyses.sentence_range(int(r))) for r in rows)
    for i, sentence in enumerate(m.sentence.tolist()):
        present, first, last, length, pairs = walk(analyses, q, sentence)
        assert set(matcher.ids[m.present[i]].tolist()) == present
        assert (m.first[i], m.last[i], m.length[i]) == (first, last, length)
        assert {tuple(p) for p in matcher.pair_ids[m.pairs[i]].tolist()} == pairs
    for c, row in enumerate(rows.tolist()):  # per-chunk views line up with the rows asked for
        assert m.sentence[m.ptr[c] : m.ptr[c + 1]].tolist() == list(analyses.sentence_range(row))


def test_per_chunk_neighbours_and_edges_stay_inside_each_chunk():
    rng = np.random.default_rng(7)
    analyses = random_analyses(rng, chunks=6)
    matcher = Matcher(question(rng), analyses)
    rows = [*[r for r in range(6) if len(analyses.sentence_range(r))][:3], 0]
    m = matcher.match(rows)
    values = np.arange(1, m.sentence.size + 1, dtype=np.float64)
    prev, nxt = m.neighbours(values)
    starts, ends = m.block_edges()
    for c in range(len(rows)):
        lo, hi = int(m.ptr[c]), int(m.ptr[c + 1])
        if hi > lo:
            assert starts[lo] and ends[hi - 1] and prev[lo] == 0 and nxt[hi - 1] == 0
            assert prev[lo + 1 : hi].tolist() == values[lo : hi - 1].tolist()
            assert m.per_chunk(values)[c] == values[lo:hi].sum()
            assert m.per_chunk(values, np.maximum)[c] == values[lo:hi].max()
        else:
            assert m.per_chunk(values)[c] == 0


def test_holds_marks_the_question_terms_among_given_ids():
    rng = np.random.default_rng(3)
    analyses = random_analyses(rng)
    q = question(rng)
    matcher = Matcher(q, analyses)
    title = np.asarray([int(matcher.ids[0]), 99], dtype=np.int32)
    assert matcher.holds(title).tolist() == [True] + [False] * (matcher.ids.size - 1)
    assert not matcher.holds(np.zeros(0, dtype=np.int32)).any()


@pytest.mark.parametrize("seed", range(10))
def test_later_batches_equal_a_fresh_match(seed):
    """Chunks asked again come from the earlier batch, new ones join it: the same as matching afresh."""
    rng, analyses, q, matcher = random_matcher(seed)
    for _ in range(4):
        rows = rng.integers(0, 12, size=int(rng.integers(1, 8)))
        got, fresh = matcher.match(rows), Matcher(q, analyses).match(rows)
        for name in ("ptr", "sentence", "present", "first", "last", "length", "pairs"):
            assert np.array_equal(getattr(got, name), getattr(fresh, name)), name
