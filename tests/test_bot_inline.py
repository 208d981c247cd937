"""Inline mode through the fake Bot API server: every answer must pass the fake's checks of results and HTML."""

from __future__ import annotations

from tests.support.botkit import READER, running_bot
from tests.support.fake_telegram import parse_html


def _results(answer: dict) -> list[dict]:
    return answer["results"]


def _message(result: dict) -> tuple[str, list[dict]]:
    content = result["input_message_content"]
    assert content.get("parse_mode") == "HTML"
    return parse_html(content["message_text"])


async def test_arabic_inline_query_lists_attributed_results(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, _app):
        fake.inline_query("كم تستغرق الرحلة بالقطار السريع بين مكة والمدينة؟", user_id=READER)
        (answer,) = await fake.wait_for_inline_answers(1)
        results = _results(answer)
        assert 1 <= len(results) <= 5
        assert int(answer["cache_time"]) > 0
        first = results[0]
        assert "قطار الحرمين" in first["title"] and "وكالة الاختبار" in first["description"]
        assert "وتستغرق الرحلة" in first["description"]
        assert all(len(r["id"].encode()) <= 64 for r in results) and len({r["id"] for r in results}) == len(results)
        plain, entities = _message(first)
        assert plain.strip("\u200f").startswith("💡") and "10 فبراير 2026" in plain and "وكالة الاختبار" in plain
        assert any(e["type"] == "text_link" and e["url"] == "https://example.org/t/train" for e in entities)
        assert not (tmp_path / "questions.jsonl").exists(), "inline keystrokes stay out of the question log"


async def test_english_inline_query_without_a_sure_answer_quotes_no_passage(tmp_path, embedder):
    """In the "no sure answer" band the one result says so, in English, and sends nothing that looks like an answer."""
    async with running_bot(tmp_path, embedder) as (fake, _app):
        fake.inline_query("chess championship Africa women", user_id=READER, language_code="en")
        (answer,) = await fake.wait_for_inline_answers(1)
        (only,) = _results(answer)
        assert only["title"] == "No sure answer in the archive"
        assert only["description"] == "Ask in a private chat to see the closest passages"
        plain, entities = _message(only)
        assert "no sure answer" in plain and "chess championship Africa women" in plain
        assert "💡" not in plain and "شطرنج" not in plain and not entities, "no passage, no link, no answer mark"


async def test_a_question_outside_the_sure_band_never_gets_a_passage_card(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, _app):
        fake.inline_query("كم عدد سكان المريخ؟", user_id=READER)
        (answer,) = await fake.wait_for_inline_answers(1)
        (only,) = _results(answer)
        plain, entities = _message(only)
        assert only["id"] in ("nothing", "unsure") and "💡" not in plain and not entities


async def test_empty_and_short_queries_list_latest_articles(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, _app):
        fake.inline_query("", user_id=READER)
        fake.inline_query("ق", user_id=READER + 1)
        answers = await fake.wait_for_inline_answers(2)
        for answer in answers:
            titles = [r["title"] for r in _results(answer)]
            assert len(titles) == 5
            assert titles[0] == "ارتفاع أسعار البن عالمياً يرفع كلفة القهوة في المقاهي", "newest first"
            assert "مهرجان الإبل يجذب آلاف الزوار في الصحراء" not in titles, "the oldest of six is left out"
            _message(_results(answer)[0])


async def test_nothing_found_is_one_explanatory_result(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, _app):
        fake.inline_query("xqzv wplk zzkk", user_id=READER, language_code="en")
        (answer,) = await fake.wait_for_inline_answers(1)
        (only,) = _results(answer)
        assert only["title"] == "The archive does not seem to cover this"
        plain, _ = _message(only)
        assert "does not seem to cover this question" in plain


async def test_long_and_html_like_queries_are_accepted(tmp_path, embedder):
    async with running_bot(tmp_path, embedder) as (fake, _app):
        long_query = ("قطار الحرمين السريع " * 20)[:256]
        assert len(long_query) == 256
        fake.inline_query(long_query, user_id=READER)
        fake.inline_query('<b>قطار</b> & <a href="x">الحرمين</a> &amp; </i>', user_id=READER + 1)
        answers = await fake.wait_for_inline_answers(2)
        assert all(_results(a) for a in answers)
        for answer in answers:
            for result in _results(answer):
                _message(result)
    assert not [e for e in fake.errors_returned if e[0] == "answerInlineQuery"]


async def test_inline_typing_is_limited_and_kept_apart_from_questions(tmp_path, embedder):
    async with running_bot(tmp_path, embedder, rate_limit_per_minute=1) as (fake, app):
        service = app.bot_data.service
        fake.message("قطار الحرمين", user_id=READER)
        await fake.wait_for_messages(1, chat_id=READER)
        answered, cached = service.answered, len(service.results)
        for n in range(8):  # a reader typing: one query per keystroke, over the inline limit (6 a minute here)
            fake.inline_query("قطار الحرمين السريع"[: 8 + n], user_id=READER)
        answers = await fake.wait_for_inline_answers(8)
        assert all(a["is_personal"] for a in answers)  # the results' language follows the reader
        assert [bool(a["results"]) for a in answers].count(False) == 2  # the 7th and 8th: nothing this time
        assert service.answered == answered and len(service.results) == cached  # buttons of answers not pushed out
        assert service.inline_answered == 6
