"""index.bm25: scores by hand on a tiny corpus, equal to bm25s's bit for bit, and files that round-trip."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest

from index.storage.bm25 import BM25, METHODS, VOCAB


def _random_corpus(seed: int) -> tuple[list[list[str]], list[str]]:
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(200)]
    docs = [[rng.choice(words[: rng.randint(5, 200)]) for _ in range(rng.randint(1, 50))] for _ in range(rng.randint(1, 120))]
    return docs, words


def test_lucene_scores_by_hand() -> None:
    docs = [["قمة", "الرياض", "قمة"], ["الرياض", "مطر"], ["مطر"]]
    bm = BM25.build(docs, "lucene", k1=0.9, b=0.4)
    avg = 2.0
    n = 3

    def expected(tf: int, length: int, df: int) -> float:
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        return idf * tf / (0.9 * (1 - 0.4 + 0.4 * length / avg) + tf)

    got = bm.scores([bm.vocab["قمة"], bm.vocab["الرياض"]])
    want = [expected(2, 3, 1) + expected(1, 3, 2), expected(1, 2, 2), 0.0]
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert got.dtype == np.float32


def test_repeated_query_term_counts_again_and_unknown_terms_score_nothing() -> None:
    bm = BM25.build([["a", "b"], ["b", "c", "c"]], "lucene", 0.9, 0.4)
    once = bm.scores([bm.vocab["c"]])
    np.testing.assert_array_equal(bm.scores([bm.vocab["c"], bm.vocab["c"]]), once * 2)
    np.testing.assert_array_equal(bm.scores([]), np.zeros(2, dtype=np.float32))


def test_empty_chunks_are_allowed_and_hold_no_term() -> None:
    bm = BM25.build([[], ["a"], []], "bm25+", 1.2, 0.75)
    scores = bm.scores([bm.vocab["a"]])
    assert scores[1] > scores[0] == scores[2]  # bm25+ still gives every chunk its floor
    assert bm.document_frequency(np.array([bm.vocab["a"], -1])).tolist() == [1, 0]


@pytest.mark.parametrize("method", METHODS)
def test_equal_to_bm25s_bit_for_bit(method: str) -> None:
    bm25s = pytest.importorskip("bm25s")
    for seed in range(4):
        docs, words = _random_corpus(seed)
        for k1, b in ((0.9, 0.4), (1.5, 0.75), (1.2, 1.0)):
            theirs = bm25s.BM25(method=method, k1=k1, b=b)
            theirs.index(docs, show_progress=False)
            ours = BM25.build(docs, method, k1, b)
            rng = random.Random(seed)
            for _ in range(20):
                query = [rng.choice(words) for _ in range(rng.randint(1, 6))]
                their_ids = [theirs.vocab_dict[t] for t in query if t in theirs.vocab_dict]
                want = theirs.get_scores_from_ids(their_ids) if their_ids else np.zeros(len(docs), dtype=np.float32)
                got = ours.scores([ours.vocab[t] for t in query if t in ours.vocab])
                np.testing.assert_array_equal(got, np.asarray(want, dtype=np.float32))


def test_loads_an_index_bm25s_saved(tmp_path) -> None:
    """Builds made before index.bm25 (saved by bm25s) load and score the same."""
    bm25s = pytest.importorskip("bm25s")
    docs, words = _random_corpus(7)
    theirs = bm25s.BM25(method="bm25l", k1=0.9, b=0.4)
    theirs.index(docs, show_progress=False)
    theirs.save(str(tmp_path), allow_pickle=False)
    ours = BM25.load(tmp_path)
    query = words[:6]
    want = theirs.get_scores_from_ids([theirs.vocab_dict[t] for t in query if t in theirs.vocab_dict])
    np.testing.assert_array_equal(ours.scores([ours.vocab[t] for t in query if t in ours.vocab]), want)


@pytest.mark.parametrize("mmap", [False, True])
@pytest.mark.parametrize("method", ["lucene", "bm25l"])
def test_save_load_round_trip(tmp_path, method: str, mmap: bool) -> None:
    docs, words = _random_corpus(3)
    built = BM25.build(docs, method, 0.9, 0.4)
    built.save(tmp_path)
    loaded = BM25.load(tmp_path, mmap=mmap)
    assert (loaded.vocab, loaded.num_docs, loaded.method, loaded.k1, loaded.b) == (
        built.vocab,
        built.num_docs,
        method,
        0.9,
        0.4,
    )
    ids = [built.vocab[w] for w in words[:8] if w in built.vocab]
    np.testing.assert_array_equal(loaded.scores(ids), built.scores(ids))


def test_same_corpus_same_files(tmp_path) -> None:
    """Term ids follow sorted order, so two builds of one corpus write identical files."""
    docs, _ = _random_corpus(5)
    for name in ("a", "b"):
        BM25.build(docs, "lucene", 0.9, 0.4).save(tmp_path / name)
    for path in (tmp_path / "a").iterdir():
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes(), path.name


def test_mismatched_files_are_refused(tmp_path) -> None:
    BM25.build([["a", "b"], ["c"]], "lucene", 0.9, 0.4).save(tmp_path)
    vocab = json.loads((tmp_path / VOCAB).read_text(encoding="utf-8"))
    (tmp_path / VOCAB).write_text(json.dumps({**vocab, "zz": 99}), encoding="utf-8")
    with pytest.raises(ValueError, match="do not match"):
        BM25.load(tmp_path)


def test_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown BM25 method"):
        BM25.build([["a"]], "okapi")


def test_empty_corpora_and_bad_ids() -> None:
    for method in METHODS:
        assert BM25.build([], method).scores([]).shape == (0,)
        assert BM25.build([[], []], method).scores([]).tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="negative term id"):
        BM25.build([["a"]], "lucene").scores([-1])


def test_chunk_numbers_outside_the_index_are_refused(tmp_path) -> None:
    BM25.build([["a", "b"], ["c"]], "lucene", 0.9, 0.4).save(tmp_path)
    np.save(tmp_path / "indices.csc.index.npy", np.array([0, 1, 7], dtype=np.int32))
    with pytest.raises(ValueError, match="outside the index"):
        BM25.load(tmp_path)
