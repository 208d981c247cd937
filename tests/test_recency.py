"""Time in answers (index.recency): time words, windows from the newest article, newer first among ties, and news
about now (recent articles among the candidates; a newer answer about as likely leads)."""

from dataclasses import replace

import numpy as np
import pytest

from index.build import run_build
from index.search.recency import (
    _PATTERNS,
    _WINDOWS,
    UNKNOWN_DAY,
    WINDOW_BONUS,
    Window,
    article_day,
    newer_first_among_ties,
    time_window,
    window_bonus,
)
from index.search.searcher import Searcher
from index.storage.lookup import recent_rows
from index.text.arabic import normalize
from tests.support.corpus import write_jsonl


@pytest.mark.parametrize(
    ("question", "window"),
    [
        ("ماذا حدث اليوم في الرياض؟", Window(0, 0)),
        ("ما أخبار أمس عن النفط؟", Window(1, 1)),
        ("ماذا قرر مجلس الوزراء هذا الأسبوع؟", Window(6, 0)),
        ("ماذا حدث في الأسبوع الماضي؟", Window(13, 7)),
        ("كم بلغت الصادرات الشهر الماضي؟", Window(60, 30)),
        ("ما آخر أخبار الهلال؟", Window(0, 0, latest=True)),
        ("What happened yesterday in Jeddah?", Window(1, 1)),
        ("latest news about oil prices", Window(0, 0, latest=True)),
    ],
)
def test_time_words(question, window):
    assert time_window(question) == window


@pytest.mark.parametrize("question", ["من فاز بالبطولة؟", "Who won the final?", "ما سبب الأمطار في جدة؟", "الأخبار"])
def test_questions_without_time_words(question):
    assert time_window(question) is None


def test_article_days():
    assert article_day("1970-01-02") == 1
    assert article_day("2015-07-21 02:16:27") == article_day("2015-07-21")
    assert article_day("") == article_day("أمس") == article_day("2015-13-40") == UNKNOWN_DAY


def test_window_bonus_counts_back_from_the_newest_article():
    days = np.array([100, 99, 93, 80, UNKNOWN_DAY])
    np.testing.assert_allclose(window_bonus(days, 100, Window(1, 1)), [0, WINDOW_BONUS, 0, 0, 0])
    np.testing.assert_allclose(window_bonus(days, 100, Window(13, 7)), [0, 0, WINDOW_BONUS, 0, 0])
    latest = window_bonus(days, 100, Window(0, 0, latest=True))
    assert latest[0] == WINDOW_BONUS and latest[0] > latest[1] > latest[2] > latest[3] > 0 and latest[4] == 0


def test_newer_first_only_among_ties():
    # a and b tie (newer b first); c is far behind and stays last even though it is newest
    assert newer_first_among_ties([1.0, 0.97, 0.5], [10, 20, 30], margin=0.05) == [1, 0, 2]
    assert newer_first_among_ties([1.0, 0.9], [10, 20], margin=0.05) == [0, 1]
    assert newer_first_among_ties([1.0, 1.0], [UNKNOWN_DAY, 5], margin=0.05) == [1, 0]


@pytest.fixture(scope="module")
def dated(tmp_path_factory, embedder):
    """The same story reported on three days, and another story on the newest day."""
    root = tmp_path_factory.mktemp("dated")
    text = "عقد مجلس الوزراء جلسته الأسبوعية وناقش مشروع الميزانية العامة للدولة وأقر عدداً من القرارات الاقتصادية المهمة."
    articles = [
        {"id": "old", "title": "مجلس الوزراء يناقش الميزانية", "date": "2026-10-01", "text": text},
        {
            "id": "mid",
            "title": "مجلس الوزراء يناقش الميزانية",
            "date": "2026-10-24",
            "text": text + " وحضر الجلسة عدد من المسؤولين.",
        },
        {"id": "new", "title": "مجلس الوزراء يناقش الميزانية", "date": "2026-10-30", "text": text + " واستمرت الجلسة ساعتين."},
        {
            "id": "other",
            "title": "افتتاح معرض الكتاب",
            "date": "2026-10-31",
            "text": "افتتح معرض الكتاب أبوابه للزوار بمشاركة مئات دور النشر من عدة دول.",
        },
    ]
    write_jsonl(root / "a" / "n.jsonl", articles)
    run_build([root / "a"], root / "ix", embedder=embedder, progress=False)
    return Searcher.open(root / "ix", embedder=embedder)


def test_a_named_window_prefers_its_articles(dated):
    assert dated.newest_day == article_day("2026-10-31")
    week = dated.search("ماذا ناقش مجلس الوزراء الأسبوع الماضي بشأن الميزانية؟", k=3)
    assert week.hits[0].article_id == "mid"  # 7-13 days before the newest article
    yesterday = dated.search("ماذا ناقش مجلس الوزراء أمس بشأن الميزانية؟", k=3)
    assert yesterday.hits[0].article_id == "new"


def test_latest_prefers_the_newest_report(dated):
    latest = dated.search("آخر أخبار مجلس الوزراء والميزانية", k=3)
    assert latest.hits[0].article_id == "new"


@pytest.mark.parametrize("prefix", ["", "و", "ب", "لل"])
def test_the_one_search_precheck_agrees_with_the_ordered_patterns(prefix):
    """Every phrase, with each prefix, alone or glued to more letters: the same window as trying each pattern in turn."""
    for phrase in _WINDOWS:
        for text in (f"ما الخبر {prefix}{phrase} ؟", f"ما الخبر {prefix}{phrase}ات ؟"):
            normalised = normalize(text)
            expected = next((window for pattern, window in _PATTERNS if pattern.search(normalised)), None)
            assert time_window(text) == expected, text
    assert time_window(f"ما الخبر {prefix}الاخرى ؟") is None  # "اخر" inside a word names no time


def test_recent_rows_are_the_chunks_of_articles_near_the_newest_day():
    article_day = np.array([100, 80, 60, UNKNOWN_DAY])
    chunk_article = np.array([0, 0, 1, 2, 3, 3])
    assert recent_rows(article_day, chunk_article, newest=100, since=70).tolist() == [0, 1, 2]
    assert recent_rows(article_day, chunk_article, newest=100, since=100).tolist() == [0, 1]
    # every dated chunk recent and no undated one: nothing to add; no dates at all: nothing either
    assert recent_rows(np.array([100, 90]), np.array([0, 1]), newest=100, since=70) is None
    assert recent_rows(np.array([UNKNOWN_DAY]), np.array([0]), newest=UNKNOWN_DAY, since=0) is None


_TRAIN = "قطار الرياض"
_OLD_STORY = (
    "بدأت أعمال قطار الرياض في شوارع العاصمة، وقال مسؤولو قطار الرياض إن قطار الرياض سيخدم الأحياء الشمالية. "
    "ويتابع سكان الرياض تقدم أعمال قطار الرياض كل يوم."
)


@pytest.fixture(scope="module")
def archive(tmp_path_factory, embedder):
    """A long archive of 2015 stories that repeat a phrase, one 2026 article that answers with it said once,
    and one old article alone holding the length of the track (its 2026 follow-up does not say it)."""
    root = tmp_path_factory.mktemp("archive")
    old = [
        {
            "id": f"old-{i}",
            "title": f"أعمال {_TRAIN} {i}",
            "date": f"2015-08-{i % 28 + 1:02d}",
            "text": f"{_OLD_STORY} وأغلقت البلدية {word} لتسهيل الأعمال.",
        }
        for i, word in enumerate(["شارع العليا", "طريق الملك فهد", "شارع التحلية", "طريق العروبة", "شارع الثلاثين"])
    ]
    new = {
        "id": "new-opening",
        "title": "افتتاح خط جديد للنقل العام",
        "date": "2026-11-20",
        "text": f"افتتح خادم الحرمين الشريفين {_TRAIN} رسمياً يوم الأحد بعد سنوات من العمل، "
        "وبلغ عدد ركاب اليوم الأول مئة ألف راكب.",
    }
    length_old = {
        "id": "old-length",
        "title": "طول مسارات المترو",
        "date": "2015-07-25",
        "text": "يبلغ طول مسارات مترو العاصمة 176 كيلومتراً موزعة على ستة خطوط تغطي أحياء المدينة.",
    }
    length_new = {
        "id": "new-length",
        "title": "طول مسارات المترو",
        "date": "2026-11-21",
        "text": "زار وفد من البلدية مسارات مترو العاصمة وتفقد المحطات وأثنى على نظافة العربات في الخطوط الستة.",
    }
    riders_old = {
        "id": "old-riders",
        "title": "ركاب حافلات المدينة",
        "date": "2015-08-02",
        "text": "وأوضحت الهيئة أن عدد ركاب حافلات النقل العام في المدينة بلغ 40 ألف راكب يومياً. "
        "وتعمل الحافلات من السادسة صباحاً حتى منتصف الليل على عشرين خطاً.",
    }
    riders_new = {
        "id": "new-riders",
        "title": "الهيئة تعلن أرقام النقل العام",
        "date": "2026-11-18",
        "text": "وأوضحت الهيئة أن عدد ركاب حافلات النقل العام في المدينة بلغ 95 ألف راكب يومياً. "
        "وأضافت أن أسطول الحافلات الكهربائية سيتضاعف خلال العام المقبل.",
    }
    write_jsonl(root / "a" / "n.jsonl", [*old, new, length_old, length_new, riders_old, riders_new])
    run_build([root / "a"], root / "ix", embedder=embedder, progress=False)
    return Searcher.open(root / "ix", embedder=embedder)


def _ids(searcher: Searcher, question: str, **params) -> list[str]:
    searcher.params = replace(searcher.params, candidates=4, min_confidence=0.0, **params)
    try:
        return [h.article_id for h in searcher.search(question, k=5).hits]
    finally:
        searcher.params = replace(searcher.params, candidates=100, recent_candidates=20)


def test_a_recent_article_is_among_the_candidates_however_many_old_ones_outscore_it(archive):
    question = f"ما أخبار {_TRAIN}؟"
    assert "new-opening" not in _ids(archive, question, recent_candidates=0)  # the old ones fill every candidate place
    assert "new-opening" in _ids(archive, question)


def test_a_named_time_keeps_its_own_handling(archive):
    # "in 2015" names a time: no recent passages are added, so the 2026 article does not crowd in
    assert "new-opening" not in _ids(archive, f"ماذا حدث في {_TRAIN} في 2015؟")


def test_only_the_old_article_holds_the_answer_so_it_comes_first(archive):
    assert _ids(archive, "كم يبلغ طول مسارات مترو العاصمة؟")[0] == "old-length"


def test_when_both_answer_the_newer_one_comes_first(archive):
    question = "كم عدد ركاب حافلات النقل العام في المدينة يومياً؟"
    assert _ids(archive, question)[0] == "new-riders"
    assert _ids(archive, question, recency_margin=0.0)[0] == "old-riders", "without the rule the old one leads"


def test_a_newer_article_leads_only_when_it_restates_the_first_ones_answer(archive):
    """The same pair asked what only the old one's second sentence answers: the newer one (third) does not lead."""
    ids = _ids(archive, "متى تعمل حافلات المدينة على خطوطها العشرين؟")
    assert ids[0] == "old-riders" and "new-riders" in ids[:3]


def test_copies_fold_only_within_a_news_cycle_through_the_search(dated):
    """The same report on three days weeks apart: three hits; with the window off (any dates), one with copies."""
    question = "ماذا ناقش مجلس الوزراء بشأن الميزانية العامة للدولة؟"
    dated.params = replace(dated.params, min_confidence=0.0)
    try:
        apart = [h.article_id for h in dated.search(question, k=4).hits]
        dated.params = replace(dated.params, copy_days=None)
        folded = dated.search(question, k=4).hits
    finally:
        dated.params = replace(dated.params, copy_days=3, min_confidence=None)
    assert {"old", "mid", "new"} <= set(apart)
    assert len({"old", "mid", "new"} & {h.article_id for h in folded}) < 3 and any(h.also_in for h in folded)
