"""Retrieval-quality machinery: metrics, grouping, duplicate collapsing, highlighting, refusals."""

import json
from dataclasses import replace

import pytest
from conftest import CORPUS, write_jsonl

from index.__main__ import main as cli
from index.arabic import analyze
from index.builder import run_build
from index.evaluate import contains_answer, score_results
from index.highlight import Sentence, answer_kind, best_sentences, phrase_coverage
from index.lexical import LexicalParams
from index.search import Hit, Passage, Searcher, SearchParams, SearchResult, combine_confidence


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


def test_highlight_picks_the_answering_sentence():
    passage = "افتتح المعرض أبوابه أمس في الرياض. وتشارك فيه 1800 دار نشر من 32 دولة. ويستمر عشرة أيام."
    terms = analyze("كم دار نشر تشارك في المعرض؟")
    (span,) = best_sentences(passage, terms, dict.fromkeys(terms, 1.0), analyze, kind=answer_kind("كم دار نشر تشارك في المعرض؟"))
    assert passage[span[0] : span[1]] == "وتشارك فيه 1800 دار نشر من 32 دولة."


def test_answer_kinds():
    assert answer_kind("كم عدد الأسر؟") == "number"
    assert answer_kind("متى افتتح المطار؟") == "time"
    assert answer_kind("How many people?") == "number"
    assert answer_kind("من فاز؟") is None


def test_highlight_spans_in_search_results(searcher):
    result = searcher.search("كم سريراً في مستشفى السرطان الجديد في الدمام؟", k=1)
    passage = result.hits[0].passage
    (s, e), *_ = passage.highlights
    assert "300 سرير" in passage.text[s:e]
    assert result.hits[0].passage.answer == passage.text[s:e]


def test_unrelated_question_is_refused(searcher):
    for question in ("ما عاصمة أستراليا؟", "كيف أصنع كعكة الشوكولاتة؟", "من اخترع الهاتف؟"):
        result = searcher.search(question)
        assert result.no_answer and result.hits == [], question


def test_related_question_is_answered_with_confidence(searcher):
    result = searcher.search("فيضان نهر النيل في السودان")
    assert not result.no_answer and result.hits[0].article_id == "t-flood"
    assert set(result.signals) == {"coverage", "sentence", "cosine"}
    assert result.confidence >= searcher.params.min_confidence


def test_a_year_the_hits_do_not_mention_lowers_confidence(searcher):
    """The chess final was in 2026 (its date); the same question about 2031 is about another year."""
    right = searcher.search("من فازت ببطولة أفريقيا للشطرنج للسيدات عام 2026؟")
    other = searcher.search("من فازت ببطولة أفريقيا للشطرنج للسيدات عام ٢٠٣١؟")
    assert not right.no_answer and right.hits[0].article_id == "t-chess"
    assert "year_missing" not in right.signals and other.signals.get("year_missing") == 1.0
    assert other.confidence < right.confidence
    assert other.no_answer
    # years written with the Gregorian/Hijri letter attached are still years
    suffixed = searcher.search("من فازت ببطولة أفريقيا للشطرنج للسيدات عام 2026م؟")
    assert "year_missing" not in suffixed.signals and not suffixed.no_answer


def test_answers_below_sure_confidence_are_tentative(searcher):
    question = "فيضان نهر النيل في السودان"
    base = searcher.params
    try:
        searcher.params = replace(base, sure_confidence=1.0)
        unsure = searcher.search(question)
        searcher.params = replace(base, sure_confidence=0.0)
        sure = searcher.search(question)
    finally:
        searcher.params = base
    assert not unsure.no_answer and unsure.tentative and unsure.to_json()["tentative"] is True
    assert not sure.tentative and sure.hits[0].article_id == unsure.hits[0].article_id
    assert unsure.confident_only(0.0).tentative
    assert not searcher.search("ما عاصمة أستراليا؟").tentative  # refused, not tentative


def test_confidence_rule():
    params = SearchParams(confidence_weights=(0.5, 0.2, 0.3), dense_accept=0.45, year_mismatch_penalty=0.5)
    assert combine_confidence({"coverage": 1.0, "sentence": 0.0, "cosine": 0.0}, params) == pytest.approx(0.5)
    # only the signals present count: a cross-script hit is judged on its cosine alone
    assert combine_confidence({"cosine": 0.3}, params) == pytest.approx(0.3)
    # a strong dense match is enough on its own
    assert combine_confidence({"coverage": 0.0, "sentence": 0.0, "cosine": 0.6}, params) == pytest.approx(0.6)
    # a missing year halves whatever the rest says
    assert combine_confidence({"coverage": 1.0, "sentence": 1.0, "cosine": 0.6, "year_missing": 1.0}, params) == pytest.approx(
        0.44
    )


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


def test_phrase_coverage_rewards_word_pairs_kept_together():
    terms = analyze("جامعة الملك سعود")  # three terms, two pairs
    idf = dict.fromkeys(terms, 1.0)
    together = [Sentence((0, 10), tuple(analyze("تأسست جامعة الملك سعود في الرياض")), frozenset())]
    scattered = [Sentence((0, 10), tuple(analyze("جامعة لشبونة تأسست في عهد الملك وزارها سعود")), frozenset())]
    assert phrase_coverage(terms, idf, together) == 1.0
    assert phrase_coverage(terms, idf, scattered) == 0.0
    assert phrase_coverage(terms[:1], idf, together) == 0.0  # a one-word question has no pair
