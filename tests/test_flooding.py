"""No reply floods a chat: a long URL, long escaped text or many button presses stay a few messages.

Red-team finding of 2026-12 (docs/reliability.md): an article whose URL was 5,000 characters
turned one question into 67 sendMessage calls (the HTML source was measured, so each message
after the first held one character of the title inside the link), and 20 presses of "full
passage" sent 1,540 messages; inline results lost their attribution.
"""

from __future__ import annotations

from bot.render import Format, Run, pack
from tests.support.botkit import READER, buttons, running_bot
from tests.support.corpus import CORPUS, write_jsonl
from tests.support.fake_telegram import parse_html, utf16_len

LONG_URL = "https://example.org/news?" + "&".join(f"p{i}=" + "x" * 40 for i in range(120))  # about 5,300 characters
PLANTED = {
    "id": "t-planted",
    "title": "محطة تحلية جديدة في ينبع تنتج مليون متر مكعب",
    "url": LONG_URL,
    "date": "2026-10-01",
    "source": "صحيفة الاختبار",
    "text": "بدأت محطة تحلية جديدة في ينبع الإنتاج بطاقة مليون متر مكعب من المياه يومياً، وهي الأكبر في المنطقة.",
}


def sent_to(fake, chat_id: int) -> int:
    return sum(1 for method, params in fake.calls if method == "sendMessage" and str(params.get("chat_id")) == str(chat_id))


async def test_an_article_with_a_5000_character_url_gets_a_one_message_reply(tmp_path, embedder):
    write_jsonl(tmp_path / "articles" / "planted.jsonl", [PLANTED])
    async with running_bot(tmp_path, embedder) as (fake, _app):
        fake.message("كم تنتج محطة التحلية الجديدة في ينبع؟", user_id=READER)
        (reply,) = await fake.wait_for_messages(1, chat_id=READER)
        assert "مليون متر مكعب" in reply["text"] and PLANTED["title"] in reply["text"]
        assert sent_to(fake, READER) == 1
        links = [e["url"] for e in reply.get("entities", []) if e["type"] == "text_link"]
        assert LONG_URL not in links, "a URL over 2,048 characters is dropped when articles are loaded"


def test_length_is_what_telegram_counts_not_the_html_source():
    escaped = "<&>" * 1000  # 3,000 visible characters, 13,000 of HTML source
    messages = pack([[Run(escaped)]], Format(html=True, rtl=False))
    assert len(messages) == 1 and utf16_len(messages[0]) > 4096
    assert utf16_len(parse_html(messages[0])[0]) == 3000


def test_a_link_is_never_split_across_messages():
    title = "عنوان " * 400  # a 2,400-character link text...
    href = "https://example.org/a?" + "q" * 1990  # ...to a 2,000-character address (under the 2,048 cap)
    blocks = [[Run("نص " * 1200)], [Run(title.strip(), "a", href), Run("\n"), Run("تتمة")]]
    messages = pack(blocks, Format(html=True, rtl=True))
    assert len(messages) == 2
    for message in messages:
        plain, entities = parse_html(message)
        assert utf16_len(plain) <= 4096
        for entity in entities:
            if entity["type"] == "text_link":  # whole: the link's text is the whole title
                assert plain_utf16(plain, entity) == title.strip()
    assert sum(message.count("<a ") for message in messages) == 1


def plain_utf16(plain: str, entity: dict) -> str:
    units = plain.encode("utf-16-le")
    return units[entity["offset"] * 2 : (entity["offset"] + entity["length"]) * 2].decode("utf-16-le")


async def test_full_passage_presses_count_against_a_limit_of_their_own(tmp_path, embedder):
    async with running_bot(tmp_path, embedder, rate_limit_per_minute=2) as (fake, _app):
        fake.message("قطار الحرمين السريع", user_id=READER)
        (first,) = await fake.wait_for_messages(1, chat_id=READER)
        full = next(data for _, data in buttons(first) if data.startswith("full:"))
        vote = next(data for _, data in buttons(first) if data.startswith("vote:"))
        for _ in range(20):
            fake.callback(full, message=first, user_id=READER)
        await fake.wait_for_call("answerCallbackQuery", 20)
        assert sent_to(fake, READER) == 1 + 2 * 3, "two questions a minute allow six presses a minute"
        alerts = [p for m, p in fake.calls if m == "answerCallbackQuery" and p.get("show_alert")]
        assert len(alerts) == 20 - 6
        for _ in range(10):  # votes send no message and stay free
            fake.callback(vote, message=first, user_id=READER)
        await fake.wait_for_call("answerCallbackQuery", 30)
        assert len([p for m, p in fake.calls if m == "answerCallbackQuery" and p.get("show_alert")]) == 20 - 6


async def test_an_inline_result_keeps_title_outlet_and_date_whatever_the_url(tmp_path, embedder):
    """The card of a sure answer (inline cards are only offered in the sure band; this search's band is set to it)."""
    from dataclasses import replace

    from bot.inline_cards import inline_items

    write_jsonl(tmp_path / "articles" / "planted.jsonl", [PLANTED])
    async with running_bot(tmp_path, embedder) as (_fake, app):
        result = app.bot_data.service.searcher.search("كم تنتج محطة التحلية الجديدة في ينبع؟")
        (first, *_) = inline_items(replace(result, tentative=False, no_answer=False), "ar")
        plain, _ = parse_html(first.message)
        assert PLANTED["title"] in plain and "صحيفة الاختبار" in plain and "1 أكتوبر 2026" in plain


def test_titles_are_clipped_in_replies(tmp_path):
    """A pathological title (here 10,000 characters) cannot make the title link longer than a message."""
    from bot.render import reply_messages
    from index.results import Hit, Passage, SearchResult

    passage = Passage(row=0, text="نص قصير.", start=0, end=8, score=1.0, highlights=[(0, 8)])
    hit = Hit(
        rank=1, article_id="x", title="عنوان طويل " * 1000, url=CORPUS[0]["url"], date="", source="", score=1.0, passage=passage
    )
    messages = reply_messages(SearchResult("q", "hybrid", [hit]), "ar")
    assert len(messages) == 1 and utf16_len(parse_html(messages[0])[0]) < 1000
