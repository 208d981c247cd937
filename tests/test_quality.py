"""Retrieval-quality machinery: metrics, grouping, duplicate collapsing, the answer sentence, the reply bands."""

import json
from dataclasses import replace

import pytest

from index.__main__ import main as cli
from index.build import run_build
from index.results import Hit, Passage, SearchResult
from index.search.rerank import phrase_coverage
from index.search.searcher import Searcher, SearchParams
from index.storage.lexical import LexicalParams
from index.tools.evaluate import contains_answer, score_results
from tests.support.corpus import CORPUS, write_jsonl


def hit(rank, article_id, text="", also=()):
    h = Hit(rank, article_id, "t", "s", "", "", 1.0, Passage(rank, text, 0, len(text), 1.0))
    h.also_in = [{"article_id": a, "source": "x", "title": "t", "url": ""} for a in also]
    return h


def test_metrics_on_a_hand_made_set():
    questions = [
        {"question": "q1", "relevant_article_ids": ["a"], "answers": ["عشرة"]},
        {"question": "q2", "relevant_article_ids": ["b"], "answers": ["٣٠٠"]},
        {"question": "q3", "relevant_article_ids": ["c"], "answers": ["x"]},
        {"question": "q4", "relevant_article_ids": ["d"], "answers": []},
    ]
    results = [
        SearchResult("q1", "hybrid", [hit(1, "a", "فيه عَشرة أشخاص"), hit(2, "z")]),
        SearchResult("q2", "hybrid", [hit(1, "z"), hit(2, "y"), hit(3, "b", "سعته 300 سرير")]),
        SearchResult("q3", "hybrid", [], no_answer=True),
        SearchResult("q4", "hybrid", [hit(1, "z", also=["d"])]),  # found as a collapsed duplicate
    ]
    m = score_results(questions, results)
    assert m["article_hit@1"] == pytest.approx(2 / 4)
    assert m["article_hit@5"] == pytest.approx(3 / 4)
    assert m["mrr@10"] == pytest.approx((1 + 1 / 3 + 0 + 1) / 4)
    assert m["answer_questions"] == 3
    assert m["answer_hit@1"] == pytest.approx(1 / 3)
    assert m["answer_hit@5"] == pytest.approx(2 / 3)
    assert m["no_answer"] == 1


def test_answer_matching_ignores_spelling_and_punctuation():
    assert contains_answer("بلغت الإيرادات ٣٫٥ مليار دولار.", ["3.5 مليار"])
    assert contains_answer("المدينة المنورة، غرب المملكة", ["المدينة المنوّرة"])
    assert not contains_answer("لا شيء هنا", ["الرياض"])


def test_highlight_spans_in_search_results(searcher):
    result = searcher.search("كم سريراً في مستشفى السرطان الجديد في الدمام؟", k=1)
    passage = result.hits[0].passage
    (s, e), *_ = passage.highlights
    assert "300 سرير" in passage.text[s:e]
    assert result.hits[0].passage.answer == passage.text[s:e]
    start, end = passage.snippet
    assert start <= s and e <= end and end - start < len(passage.text)  # the snippet holds the answer, not the passage


def test_the_answer_sentence_is_the_one_holding_what_was_asked(searcher):
    """Three sentences share the question's words; "how many" wants the one with the number of families."""
    result = searcher.search("كم عدد الأسر التي فقدت منازلها في فيضان السودان؟", k=1)
    assert "5 آلاف أسرة" in result.hits[0].passage.answer


def test_unrelated_question_is_refused(searcher):
    for question in ("ما عاصمة أستراليا؟", "كيف أصنع كعكة الشوكولاتة؟", "من اخترع الهاتف؟"):
        result = searcher.search(question)
        assert result.no_answer and result.hits == [] and result.band == "nothing", question


def test_related_question_is_answered_with_confidence(searcher):
    result = searcher.search("فيضان نهر النيل في السودان")
    assert result.band == "answer" and result.hits[0].article_id == "t-flood"
    assert {"answer_score", "coverage", "cosine", "year_missing"} <= set(result.signals)
    assert result.confidence >= searcher.sure_confidence


def test_a_year_the_hits_do_not_mention_lowers_confidence(searcher):
    """The chess final was in 2026 (its date); the same question about 2031 is about another year."""
    right = searcher.search("من فازت ببطولة أفريقيا للشطرنج للسيدات عام 2026؟")
    other = searcher.search("من فازت ببطولة أفريقيا للشطرنج للسيدات عام ٢٠٣١؟")
    assert right.band != "nothing" and right.hits[0].article_id == "t-chess"
    assert right.signals["year_missing"] == 0.0 and other.signals["year_missing"] == 1.0
    assert other.confidence < right.confidence * 0.6  # the year rule halves the model's probability
    # years written with the Gregorian/Hijri letter attached are still years
    suffixed = searcher.search("من فازت ببطولة أفريقيا للشطرنج للسيدات عام 2026م؟")
    assert suffixed.signals["year_missing"] == 0.0 and suffixed.confidence == pytest.approx(right.confidence, rel=0.2)


def test_each_reply_band_follows_the_thresholds(searcher):
    question = "فيضان نهر النيل في السودان"
    base = searcher.params
    try:
        searcher.params = replace(base, sure_confidence=1.0)
        unsure = searcher.search(question)
        searcher.params = replace(base, sure_confidence=0.0)
        sure = searcher.search(question)
        searcher.params = replace(base, min_confidence=1.0, sure_confidence=1.0)
        nothing = searcher.search(question)
    finally:
        searcher.params = base
    assert unsure.band == "tentative" and unsure.tentative and unsure.to_json()["tentative"] is True
    assert unsure.to_json()["answer"] == ""  # no answer line is claimed below SURE_CONFIDENCE
    assert sure.band == "answer" and sure.hits[0].article_id == unsure.hits[0].article_id
    assert sure.to_json()["answer"] == sure.hits[0].passage.answer
    assert nothing.band == "nothing" and nothing.no_answer and nothing.hits == []
    assert unsure.confident_only(0.0).tentative
    assert not searcher.search("ما عاصمة أستراليا؟").tentative  # refused, not tentative


def test_thresholds_default_to_the_models_and_settings_override_them(searcher):
    low, high = searcher.models.thresholds()
    assert (searcher.min_confidence, searcher.sure_confidence) == (low, high)
    assert 0.0 < low < high < 1.0
    custom = Searcher(searcher.stored, searcher.embedder, SearchParams(min_confidence=0.2, sure_confidence=0.1), searcher.models)
    assert (custom.min_confidence, custom.sure_confidence) == (0.2, 0.2)  # sure never below the minimum


def test_english_question_about_arabic_articles_is_dense_led_and_not_refused(searcher):
    result = searcher.search("How many families lost their homes in the Sudan floods?", k=3)
    assert result.lang == "en" and not result.no_answer
    assert result.hits[0].article_id == "t-flood"
    assert result.signals["cross_language"] == 1.0


WIRE = "أعلنت وزارة الصحة اليوم تسجيل انخفاض كبير في حالات الإنفلونزا الموسمية خلال الشهر الماضي مقارنة بالعام السابق، وعزت ذلك إلى حملة التطعيم الواسعة التي شملت أكثر من مليوني شخص في مختلف المناطق."


@pytest.fixture(scope="module")
def dup_searcher(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("dups")
    articles = [
        *CORPUS,
        {"id": "wire-a", "title": "انخفاض حالات الإنفلونزا", "source": "okaz", "url": "https://okaz.example/1", "text": WIRE},
        {
            "id": "wire-b",
            "title": "الصحة: تراجع الإنفلونزا بعد التطعيم",
            "source": "alriyadh",
            "url": "https://riyadh.example/2",
            "text": WIRE.replace("اليوم", "أمس") + " وأكدت الوزارة استمرار الحملة.",
        },
        {
            "id": "long",
            "title": "تقرير مطول عن قطار الحرمين",
            "source": "x",
            "text": " ".join(f"الفقرة {i}: قطار الحرمين السريع نقل آلاف الركاب في اليوم {i} من الموسم." for i in range(80)),
        },
    ]
    write_jsonl(root / "a" / "n.jsonl", articles)
    run_build([root / "a"], root / "ix", embedder=embedder, progress=False)
    return Searcher.open(root / "ix", embedder=embedder)


def test_same_wire_story_collapsed_with_other_outlet_listed(dup_searcher):
    result = dup_searcher.search("انخفاض حالات الإنفلونزا بعد حملة التطعيم", k=5)
    top = result.hits[0]
    assert top.article_id in {"wire-a", "wire-b"}
    assert [d["article_id"] for d in top.also_in] == [({"wire-a", "wire-b"} - {top.article_id}).pop()]
    assert {d["source"] for d in top.also_in} <= {"عكاظ", "الرياض"}
    assert all(h.article_id not in {"wire-a", "wire-b"} for h in result.hits[1:])


def test_one_result_per_article_unless_more_requested(dup_searcher):
    one = dup_searcher.search("قطار الحرمين السريع نقل الركاب", k=3)
    assert len({h.article_id for h in one.hits}) == len(one.hits) and one.hits[0].more == []
    more = dup_searcher.search("قطار الحرمين السريع نقل الركاب", k=3, passages_per_article=3)
    top = next(h for h in more.hits if h.article_id == "long")
    assert len(top.more) == 2 and len({p.row for p in [top.passage, *top.more]}) == 3


def test_confident_only_drops_weak_sources(searcher):
    result = searcher.search("فيضان نهر النيل في السودان", k=5)
    shown = result.confident_only(0.99)
    assert [h.rank for h in shown.hits] == [1] and shown.hits[0].article_id == "t-flood"


def test_eval_command_prints_metrics(built_index, tmp_path, capsys, monkeypatch):
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        "\n".join(
            json.dumps(q, ensure_ascii=False)
            for q in [
                {
                    "qid": "1",
                    "question": "كم سريراً في مستشفى الدمام الجديد؟",
                    "answers": ["300 سرير"],
                    "relevant_article_ids": ["t-hospital"],
                },
                {
                    "qid": "2",
                    "question": "من فازت ببطولة أفريقيا للشطرنج؟",
                    "answers": ["سلمى عبد الرحمن"],
                    "relevant_article_ids": ["t-chess"],
                },
            ]
        ),
        encoding="utf-8",
    )
    monkeypatch.delenv("EMBEDDING_MODEL", raising=False)
    assert cli(["eval", "--index", str(built_index), str(questions), "--json", "--compare", "-q"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["mode"] for r in rows] == ["lexical", "dense", "hybrid"]
    hybrid = rows[-1]
    assert hybrid["article_hit@1"] == 1.0 and hybrid["answer_hit@1"] == 1.0 and hybrid["questions"] == 2
    assert hybrid["latency_ms_p50"] > 0


def test_lexical_params_validated():
    with pytest.raises(ValueError, match="BM25 method"):
        LexicalParams(method="bm99")
    assert SearchParams().dense_weight == pytest.approx(0.3)


@pytest.fixture(scope="module")
def phrase_searcher(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("phrases")
    articles = [
        {"id": "together", "title": "خبر أ", "text": "تأسست جامعة الملك سعود في الرياض قبل عقود طويلة من الزمن."},
        {"id": "scattered", "title": "خبر ب", "text": "جامعة لشبونة تأسست في عهد الملك وزارها سعود في رحلة طويلة."},
    ]
    write_jsonl(root / "a" / "n.jsonl", articles)
    run_build([root / "a"], root / "ix", embedder=embedder, progress=False)
    return Searcher.open(root / "ix", embedder=embedder)


def test_phrase_coverage_rewards_word_pairs_kept_together(phrase_searcher):
    stored = phrase_searcher.stored
    matcher = phrase_searcher.analyse("جامعة الملك سعود")  # three terms, two pairs
    row_of = {stored.articles([int(a)])[int(a)]["id"]: row for row, a in enumerate(stored.chunk_article)}
    rows = [row_of["together"], row_of["scattered"]]
    assert phrase_coverage(matcher, matcher.match(rows)).tolist() == [1.0, 0.0]
    one_word = phrase_searcher.analyse("جامعة")
    assert phrase_coverage(one_word, one_word.match(rows)).tolist() == [0.0, 0.0]  # a one-word question has no pair
