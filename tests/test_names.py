"""Latin names against Arabic spellings, and the learned head over the vectors."""

from __future__ import annotations

import numpy as np
import pytest

from index.answer.head import head_features, head_rows, head_scores
from index.answer.learned import LearnedModel
from index.search.names import NameIndex, latin_names, name_terms
from index.text.transliterate import arabic_form, arabic_skeleton, latin_form, latin_skeleton, similarity


@pytest.mark.parametrize(
    ("latin", "arabic"),
    [
        ("Hyundai", "هيونداي"),
        ("Al-Qassim", "القصيم"),
        ("Jeddah", "جدة"),
        ("Blatter", "بلاتر"),
        ("Sayahid", "الصياهد"),
        ("Medina", "المدينة"),
    ],
)
def test_a_name_and_its_arabic_spelling_share_a_skeleton(latin, arabic):
    assert latin_skeleton(latin) == arabic_skeleton(arabic)
    assert similarity(latin_form(latin), arabic_form(arabic)) >= 0.6


def test_vowels_rank_the_words_of_one_skeleton():
    # هندي (Indian) has Hyundai's consonants but not its vowels
    assert arabic_skeleton("هندي") == latin_skeleton("Hyundai")
    assert similarity(latin_form("Hyundai"), arabic_form("هيونداي")) > similarity(latin_form("Hyundai"), arabic_form("هندي"))


def test_similarity_bounds():
    assert similarity("abc", "abc") == 1.0
    assert similarity("", "abc") == 0.0
    assert 0.0 < similarity("kasim", "ksim") < 1.0


def test_names_of_a_question_are_its_capitalised_content_words():
    assert latin_names("How many camels took part in the festival at Al-Sayahid?") == ["Sayahid"]
    assert latin_names("Who won the chess championship this year?") == []


def test_names_find_their_arabic_terms_in_the_build(searcher):
    names = NameIndex(searcher.stored.lexical)
    assert names.terms("Sayahid"), "الصياهد is in the test corpus"
    assert names.terms("Xq") == []  # too short a skeleton to match anything safely
    terms = name_terms("How many camels took part in the festival at Al-Sayahid?", names)
    matcher = searcher.analyse("How many camels took part in the festival at Al-Sayahid?")
    assert set(terms) <= set(matcher.q.terms) and (matcher.q.ids >= 0).any()


def test_an_english_question_naming_a_place_finds_the_arabic_article(searcher):
    result = searcher.search("How many camels took part in the festival at Al-Sayahid?", k=3)
    assert result.hits and result.hits[0].article_id == "t-camels"


def test_the_head_scores_passages_only_for_vectors_of_its_size():
    rng = np.random.default_rng(3)
    q, v = rng.normal(size=8), rng.normal(size=(3, 8))
    params = {"mean": np.zeros(8), "scale": np.ones(8), "coef": np.ones(8), "intercept": np.float64(0.0)}
    head = LearnedModel("answer_head", "logistic", head_features(8), logistic=params)
    assert np.allclose(head_scores(head, q, v), v @ q)  # unit weights: the plain dot product
    assert np.allclose(head_rows(q, v), v * q)
    assert head_scores(head, rng.normal(size=4), rng.normal(size=(3, 4))) is None
    assert head_scores(None, q, v) is None and head_scores(head, None, v) is None


def test_the_shipped_head_feeds_answerability(searcher):
    assert searcher.models.head is not None
    result = searcher.search("كم ناقة شاركت في مهرجان الملك عبدالعزيز للإبل؟", k=3)
    assert result.signals["head"] != 0.0
