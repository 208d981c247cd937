"""index.grouping: the passages kept per article and the wire copies found, against plain walks."""

import numpy as np
import pytest

from index.search.grouping import find_copies, leading_passages
from index.text.dates import UNKNOWN_DAY


def walk(articles: list[int], max_articles: int, per_article: int) -> list[int]:
    """The plain definition: walk best-first, keep an article's first passages while it is among the first seen."""
    picked: dict[int, int] = {}
    out = []
    for i, art in enumerate(articles):
        if art in picked:
            if picked[art] < per_article:
                picked[art] += 1
                out.append(i)
        elif len(picked) < max_articles:
            picked[art] = 1
            out.append(i)
    return out


@pytest.mark.parametrize("seed", range(30))
def test_leading_passages_equal_the_walk(seed):
    rng = np.random.default_rng(seed)
    articles = rng.integers(0, int(rng.integers(1, 15)), size=int(rng.integers(0, 60)))
    for max_articles in (1, 3, 10):
        for per_article in (1, 2, 3):
            got = leading_passages(articles, max_articles, per_article).tolist()
            assert got == walk(articles.tolist(), max_articles, per_article)


def test_leading_passages_of_nothing():
    assert leading_passages(np.zeros(0, dtype=np.int64), 5, 2).size == 0
    articles = np.asarray([3, 1, 3, 2])
    assert leading_passages(articles, 0, 2).size == 0 and leading_passages(articles, 5, 0).size == 0


def test_copies_need_close_vectors_and_shared_words():
    texts = {
        10: "أعلنت وزارة الصحة اليوم عن افتتاح مستشفى جديد في مدينة جدة بسعة خمسمئة سرير",
        11: "أعلنت وزارة الصحة اليوم عن افتتاح مستشفى جديد في مدينة جدة بسعة خمسمئة سرير للمرضى",  # a copy
        12: "فاز الهلال على النصر بهدفين نظيفين في مباراة الدوري مساء أمس",
        13: "أعلنت وزارة الصحة اليوم عن افتتاح مستشفى جديد في مدينة جدة بسعة خمسمئة سرير",  # same words, far vector
    }
    vectors = np.asarray([[1.0, 0.0], [0.99, 0.141], [0.0, 1.0], [0.6, -0.8]])
    read: list[list[int]] = []

    def read_texts(rows: list[int]) -> dict[int, str]:
        read.append(rows)
        return {r: texts[r] for r in rows}

    kept, copies = find_copies([10, 11, 12, 13], vectors, read_texts, 0.5)
    assert kept == [0, 2, 3] and copies == {0: [1]}
    assert read == [[10, 11]]  # only the close pair's texts, in one read

    kept, copies = find_copies([10, 11, 12, 13], None, read_texts, 0.5)  # no vectors: words decide
    assert kept == [0, 2] and copies == {0: [1, 3]}
    read.clear()
    assert find_copies([10, 12], np.asarray([[1.0, 0.0], [0.0, 1.0]]), read_texts, 0.5) == ([0, 1], {})
    assert read == []  # nothing close: nothing read


def test_copies_come_out_within_a_news_cycle():
    """The same text ten days later is an update shown beside the older article, not a copy folded under it."""
    text = "أعلنت وزارة الصحة اليوم عن افتتاح مستشفى جديد في مدينة جدة بسعة خمسمئة سرير"
    texts = {10: text, 11: text, 12: text, 13: text}
    vectors = np.asarray([[1.0, 0.0]] * 4)
    days = np.asarray([100, 101, 110, UNKNOWN_DAY])

    def read_texts(rows: list[int]) -> dict[int, str]:
        return {r: texts[r] for r in rows}

    kept, copies = find_copies([10, 11, 12, 13], vectors, read_texts, 0.5, days, copy_days=3)
    assert kept == [0, 2] and copies == {0: [1, 3]}  # a day apart, or undated: copies; ten days: not
    kept, copies = find_copies([10, 11, 12, 13], vectors, read_texts, 0.5)  # without days: every one is a copy
    assert kept == [0] and copies == {0: [1, 2, 3]}
