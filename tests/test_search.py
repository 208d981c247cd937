import json
import subprocess
import sys

import numpy as np
import pytest

from index.search.retrieval import fuse, minmax
from index.search.searcher import ModelMismatch, Searcher
from index.storage.vectors import top_rows
from tests.support.corpus import ROOT, need_shared

# Paraphrased questions: different words from the articles, same meaning.
PARAPHRASES = [
    ("أين افتتح مركز طبي جديد لعلاج الأورام؟", "t-hospital"),
    ("كم عدد الأسر التي خسرت بيوتها بسبب ارتفاع منسوب النهر؟", "t-flood"),
    ("من هي الفتاة التي حصلت على لقب القارة في لعبة الشطرنج؟", "t-chess"),
    ("كم تستغرق الرحلة بالقطار السريع بين مكة والمدينة؟", "t-train"),
    ("لماذا أصبح فنجان القهوة أغلى؟", "t-coffee"),
    ("ما قيمة جوائز مسابقة جمال النوق؟", "t-camels"),
]


@pytest.mark.parametrize(("question", "article_id"), PARAPHRASES)
def test_paraphrased_questions_find_the_right_article(searcher, question, article_id):
    from dataclasses import replace

    ranking_only = Searcher(searcher.stored, searcher.embedder, replace(searcher.params, min_confidence=0.0))
    result = ranking_only.search(question, k=3)
    assert result.hits[0].article_id == article_id


def test_strong_dense_match_is_shown_despite_few_shared_words(searcher):
    result = searcher.search("من هي الفتاة التي حصلت على لقب القارة في لعبة الشطرنج؟", k=3)
    assert not result.no_answer and result.hits[0].article_id == "t-chess"
    assert result.signals["coverage"] < 0.5 and result.confidence >= searcher.min_confidence


@pytest.mark.parametrize("mode", ["lexical", "dense", "hybrid"])
def test_each_mode_returns_attributed_passages(searcher, mode):
    result = searcher.search("قطار الحرمين السريع", k=3, mode=mode)
    top = result.hits[0]
    assert top.article_id == "t-train" and top.title.startswith("قطار الحرمين")
    assert top.source == "وكالة الاختبار" and top.url == "https://example.org/t/train" and top.date == "2026-02-10"
    assert top.passage.text and top.passage.text in searcher.stored.article_text(searcher.stored.article_ids.index("t-train"))
    assert [h.rank for h in result.hits] == list(range(1, len(result.hits) + 1))
    assert len({h.article_id for h in result.hits}) == len(result.hits), "one result per article"


def test_scores_are_sorted_but_for_newer_ties_and_the_answer_first(searcher):
    """Best first; among about-equal scores the newer article leads; the likeliest answer may take first place."""
    from index.search.recency import TIE_MARGIN

    result = searcher.search("ارتفاع الأسعار", k=5)
    scores = [h.score for h in result.hits][1:]
    assert all(later <= earlier + TIE_MARGIN for i, earlier in enumerate(scores) for later in scores[i + 1 :])


def test_arabic_indic_digits_match_western(searcher):
    result = searcher.search("٣٠٠ سرير", k=1, mode="lexical")
    assert result.hits[0].article_id == "t-hospital"


def test_json_shape(searcher):
    """The stable `search --json` contract: keys may be added, never removed."""
    data = searcher.search("فيضان النيل", k=2).to_json()
    assert set(data) >= {"question", "results", "no_answer", "confidence", "tentative", "answer_probability", "band"}
    first = data["results"][0]
    assert set(first) >= {"rank", "article_id", "title", "source", "url", "date", "text", "score", "confidence", "answer"}
    assert first["answer"] and first["answer"] in first["text"] and first["snippet"] in first["text"]
    assert data["answer_probability"] == data["confidence"] == first["confidence"]


def test_empty_question_is_no_answer(searcher):
    assert searcher.search("   ").no_answer


def test_fusion_helpers():
    np.testing.assert_allclose(minmax(np.array([1.0, 3.0, 2.0])), [0.0, 1.0, 0.5])
    np.testing.assert_allclose(minmax(np.array([2.0, 2.0])), [1.0, 1.0])
    np.testing.assert_allclose(fuse(np.array([0.2, 0.4]), np.array([10.0, 0.0]), 0.3), [0.7, 0.3])
    assert top_rows(np.array([0.1, 0.9, 0.5]), 2).tolist() == [1, 2]


def test_index_model_mismatch_is_clear(built_index, embedder):
    with pytest.raises(ModelMismatch, match="EMBEDDING_MODEL"):
        Searcher.open(built_index, model="intfloat/multilingual-e5-base", embedder=embedder)


def run_cli(*args, stdin=None, env=None):
    return subprocess.run(
        [sys.executable, "-m", "index", *args], input=stdin, capture_output=True, text=True, cwd=ROOT, env=env, timeout=300
    )


def test_cli_build_update_stats_search(tmp_path):
    """The admin CLI end to end, in a subprocess as an admin would run it."""
    from tests.support.corpus import CORPUS, write_jsonl

    articles = write_jsonl(tmp_path / "a" / "n.jsonl", CORPUS[:4])
    (tmp_path / "a" / "broken.json").write_text("{oops", encoding="utf-8")
    ix = str(tmp_path / "ix")
    done = run_cli("build", "--articles", str(tmp_path / "a"), "--index", ix)
    assert done.returncode == 0, done.stderr
    assert "4 articles" in done.stdout and "broken.json:1: bad JSON" in done.stderr

    write_jsonl(articles, CORPUS[:5])
    done = run_cli("update", "--articles", str(articles), "--index", ix)
    assert done.returncode == 0, done.stderr
    assert "added: 1\n    قطار الحرمين يرفع عدد رحلاته في موسم العمرة (" in done.stdout and "[t-train]" in done.stdout
    assert "removed: 0" in done.stdout

    done = run_cli("stats", "--index", ix, "--json")
    stats = json.loads(done.stdout)
    assert stats["articles"] == 5 and stats["model"] == "builtin:use-multilingual-v3" and stats["dimension"] == 512

    done = run_cli("search", "--index", ix, "--json", "--k", "2", stdin="فيضان النيل في السودان\nبطولة الشطرنج للسيدات\n")
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["results"][0]["article_id"] for line in lines] == ["t-flood", "t-chess"]
    assert lines[0]["question"] == "فيضان النيل في السودان"

    done = run_cli("build", "--articles", str(tmp_path / "nothing-here"), "--index", ix)
    assert done.returncode == 1 and "no articles" in done.stderr and "Traceback" not in done.stderr


def test_real_corpus_finds_the_seed_article(tmp_path, embedder):
    """The issue's acceptance check on the shared data: distractors + the seed dump."""
    snn = need_shared("saudinewsnet", "saudinewsnet_mini300.jsonl")
    seed = need_shared("seed")
    from index.build import run_build

    run_build([snn, seed], tmp_path / "ix", embedder=embedder, progress=False)
    searcher = Searcher.open(tmp_path / "ix", embedder=embedder)
    result = searcher.search("من هو أمين حركة النجباء في العراق؟", k=3)
    top = result.hits[0]
    assert top.title.startswith("مصادر عراقية")
    assert "أكرم الكعبي" in top.passage.text and "أكرم الكعبي" in top.passage.answer
