"""Time in answers (index.recency): time words, windows from the newest article, newer first among ties."""

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
