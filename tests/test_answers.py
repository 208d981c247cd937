"""The answer layer's parts: sentence features, snippets, passage choice, answerability features."""

import numpy as np
import pytest

from index.answer.answerability import ANSWERABILITY_FEATURES, hit_features
from index.answer.ordering import lead_with_best_answer
from index.answer.selector import (
    CROSS_LANGUAGE_DENSE_WEIGHT,
    SENTENCE_FEATURES,
    SentenceRef,
    SentenceRows,
    apply_sentence_probabilities,
    dense_adjusted,
    sentence_cosines,
    sentence_features,
    snippet_around,
)
from index.results import Hit, Passage

COL = {name: i for i, name in enumerate(SENTENCE_FEATURES)}
HCOL = {name: i for i, name in enumerate(ANSWERABILITY_FEATURES)}


def stages(searcher, question, k=3):
    matcher = searcher.analyse(question)
    cands = searcher.candidates(matcher)
    return matcher, cands, searcher.hits(cands, k)


def test_one_feature_row_per_sentence_of_every_passage(searcher):
    q, _, hits = stages(searcher, "كم عدد الأسر التي فقدت منازلها في السودان؟")
    x, refs = sentence_features(q, hits)
    analyses = searcher.stored.analyses
    expected = sum(len(analyses.sentence_range(p.row)) for h in hits for p in (h.passage, *h.more))
    assert x.shape == (expected, len(SENTENCE_FEATURES)) and len(refs) == expected
    assert np.isfinite(x).all()
    for ref in refs:  # every row points at a real sentence of its passage
        s, e = ref.span
        assert 0 <= s < e <= len(ref.passage.text)
    # the gap features are relative to the best candidate: the best has gap 0
    assert x[:, COL["coverage_gap"]].min() == 0.0
    assert x[:, COL["asks_number"]].all() and not x[:, COL["asks_person"]].any()


def test_the_sentence_with_a_number_matches_a_how_many_question(searcher):
    q, _, hits = stages(searcher, "كم عدد الأسر التي فقدت منازلها في السودان؟", k=1)
    x, refs = sentence_features(q, hits)
    text = {i: ref.passage.text[ref.span[0] : ref.span[1]] for i, ref in enumerate(refs)}
    with_number = next(i for i, t in text.items() if "5 آلاف" in t)
    assert x[with_number, COL["type_match"]] == 1.0 and x[with_number, COL["match_number"]] == 1.0
    without = next(i for i, t in text.items() if "منظمات الإغاثة" in t)
    assert x[without, COL["type_match"]] == 0.0


def test_neighbour_features_see_the_sentences_around(searcher):
    q, _, hits = stages(searcher, "كم عدد الأسر التي فقدت منازلها في السودان؟", k=1)
    x, refs = sentence_features(q, hits)
    for i in range(1, len(refs)):
        if refs[i].passage is refs[i - 1].passage:
            assert x[i, COL["prev_coverage"]] == pytest.approx(x[i - 1, COL["coverage"]])


def test_snippet_takes_the_likelier_neighbour_when_both_fit():
    scored = [((0, 50), 0.1), ((51, 100), 0.9), ((101, 150), 0.4)]
    assert snippet_around(scored, 1) == (51, 150)
    assert snippet_around(scored, 1, limit=60) == (51, 100)  # the neighbour does not fit
    assert snippet_around([((0, 30), 0.9)], 0) == (0, 30)


def test_the_passage_with_the_likelier_sentence_leads_its_hit():
    first = Passage(0, "جملة أولى. جملة ثانية.", 0, 20, 1.0)
    second = Passage(1, "جملة ثالثة. جملة رابعة.", 20, 40, 0.9)
    hit = Hit(1, "a", "t", "s", "", "", 1.0, first, [second])
    refs = [
        SentenceRef(0, first, (0, 10)),
        SentenceRef(0, first, (11, 22)),
        SentenceRef(0, second, (0, 11)),
        SentenceRef(0, second, (12, 23)),
    ]
    apply_sentence_probabilities([hit], refs, np.array([0.1, 0.2, 0.3, 0.8]))
    assert hit.passage is second and hit.more == [first]
    assert hit.passage.highlights == [(12, 23)] and hit.answer_score == pytest.approx(0.8)
    assert first.highlights == [(11, 22)]


def test_the_hit_with_the_likeliest_answer_goes_first_among_the_top_ones():
    hits = [Hit(i + 1, f"a{i}", "t", "s", "", "", 1.0, Passage(i, "x", 0, 1, 1.0)) for i in range(4)]
    for hit, score in zip(hits, [0.2, 0.7, 0.5, 0.9], strict=True):
        hit.answer_score = score
    ordered = lead_with_best_answer(hits, depth=3)
    assert [h.article_id for h in ordered] == ["a1", "a0", "a2", "a3"]  # a3 is beyond the depth
    assert [h.rank for h in ordered] == [1, 2, 3, 4]


def test_answerability_features_of_a_question_the_corpus_cannot_know(searcher):
    q, cands, hits = stages(searcher, "ما هي نتيجة مباراة الكريكيت بين زيلندا وسريلانكا؟")
    searcher.answer(q, hits, cands)
    bm25 = dict(zip(cands.rows.tolist(), cands.bm25.tolist(), strict=True))
    x = hit_features(q, hits, bm25)
    assert x.shape == (len(hits), len(ANSWERABILITY_FEATURES))
    assert x[0, HCOL["unknown_share"]] > 0.5  # most of its words are in no article
    assert x[0, HCOL["cross_language"]] == 0.0


def test_answerability_features_of_an_english_question(searcher):
    q, cands, hits = stages(searcher, "Who won the African women's chess championship?")
    hits, signals = searcher.answer(q, hits, cands, searcher.encode([q.q.text])[0])
    assert signals["cross_language"] == 1.0 and signals["coverage"] == 0.0
    assert hits[0].confidence == pytest.approx(searcher.search("Who won the African women's chess championship?", k=3).confidence)


def test_dense_adjustment_keeps_the_most_similar_sentence_and_lowers_the_rest():
    raw = np.array([2.0, 1.0, 0.5, 3.0])
    cos = np.array([0.30, 0.50, np.nan, 0.45])
    out = dense_adjusted(raw, cos, 10.0)
    assert out[1] == raw[1]  # the most similar keeps the selector's score
    assert out[0] == pytest.approx(2.0 - 10 * 0.20) and out[3] == pytest.approx(3.0 - 10 * 0.05)
    assert out[2] == pytest.approx(0.5 - 10 * 0.20)  # not embedded: counted as the least similar
    assert np.array_equal(dense_adjusted(raw, cos, 0.0), raw)
    assert np.array_equal(dense_adjusted(raw, np.full(4, np.nan), 10.0), raw)


def test_sentence_cosines_embed_only_the_competing_hits(searcher):
    question = "Why were schools closed?"
    q, _, hits = stages(searcher, question, k=4)
    _, refs = sentence_features(q, hits)
    qvec = searcher.encode([question])[0]
    cos = sentence_cosines(refs, qvec, searcher.embedder.encode_passages, depth=2)
    near = [i for i, r in enumerate(refs) if r.hit < 2]
    assert near and not np.isnan(cos[near]).any() and np.isnan(np.delete(cos, near)).all()
    i = near[0]
    text = refs[i].passage.text[refs[i].span[0] : refs[i].span[1]]
    assert cos[i] == pytest.approx(float(searcher.embedder.encode_passages([text])[0] @ qvec), abs=1e-5)


def test_an_english_question_takes_the_sentence_most_like_it(searcher):
    from dataclasses import replace

    question = "How many families lost their homes in Sudan?"
    sentence = replace(searcher.models.sentence, meta={CROSS_LANGUAGE_DENSE_WEIGHT: 1000.0})
    models = replace(searcher.models, sentence=sentence)
    strong = type(searcher)(searcher.stored, searcher.embedder, searcher.params, models)
    result = strong.search(question, k=3)
    q, _, hits = stages(strong, question, k=3)
    _, refs = sentence_features(q, hits)
    cos = sentence_cosines(refs, strong.encode([question])[0], strong.embedder.encode_passages, strong.params.answer_depth)
    best = refs[int(np.nanargmax(cos))]
    top = result.hits[0]
    assert top.article_id == hits[best.hit].article_id
    assert top.passage.text[slice(*top.passage.highlights[0])] == best.passage.text[slice(*best.span)]


def test_rules_refuse_a_same_script_question_sharing_no_word_and_halve_a_missing_year():
    from index.answer.answerability import YEAR_MISSING_FACTOR, rule_factors

    x = np.zeros((4, len(ANSWERABILITY_FEATURES)))
    x[0, HCOL["coverage"]] = 0.5  # shares words
    x[1, HCOL["bm25"]] = 0.0  # shares none, same script: refused
    x[2, HCOL["cross_language"]] = 1.0  # shares none, but English about Arabic news: left to the model
    x[3, [HCOL["coverage"], HCOL["year_missing"]]] = [0.5, 1.0]
    assert rule_factors(x).tolist() == [1.0, 0.0, 1.0, YEAR_MISSING_FACTOR]


def test_sentence_rows_read_as_refs_and_back():
    first = Passage(0, "جملة أولى. جملة ثانية.", 0, 20, 1.0)
    second = Passage(1, "جملة ثالثة.", 20, 31, 0.9)
    refs = [SentenceRef(0, first, (0, 10)), SentenceRef(0, first, (11, 22)), SentenceRef(1, second, (0, 11))]
    rows = SentenceRows.of(refs)
    assert len(rows) == 3 and list(rows) == refs and rows.hit.tolist() == [0, 0, 1]
    assert SentenceRows.of(rows) is rows
    with pytest.raises(TypeError):
        rows[0:2]
