import html
import re

from bot.render import (
    RLM,
    Format,
    Run,
    first_page,
    format_date,
    full_passage_messages,
    pack,
    passage_runs,
    reply_messages,
    safe_link,
    snippet_runs,
    utf16_len,
)
from bot.texts import AR, EN
from index.results import Hit, Passage, SearchResult
from tests.support.fake_telegram import parse_html

TAG_RE = re.compile(r"</?(b|i|a|code)(\s[^>]*)?>")


def telegram_length(message: str) -> int:
    """What Telegram measures against its 4,096 limit: the parsed text, in UTF-16 code units."""
    return utf16_len(parse_html(message)[0])


def balanced(message: str) -> bool:
    stack = []
    for m in TAG_RE.finditer(message):
        name = m.group(1)
        if m.group(0).startswith("</"):
            if not stack or stack.pop() != name:
                return False
        else:
            stack.append(name)
    return not stack


def make_hit(
    rank=1,
    text="الجملة الأولى. الجملة الثانية هي الجواب. الجملة الثالثة.",
    title="عنوان الخبر",
    url="https://example.org/a?x=1&y=2",
):
    start = text.index("الجملة الثانية")
    end = text.index(". الجملة الثالثة") + 1
    passage = Passage(row=0, text=text, start=0, end=len(text), score=1.0, highlights=[(start, end)])
    return Hit(rank, f"a{rank}", title, "عكاظ", url, "2026-11-03", 1.0, passage)


def result_with(*hits):
    return SearchResult("سؤال", "hybrid", list(hits))


def test_reply_has_answer_sources_and_link():
    (msg,) = reply_messages(result_with(make_hit()), AR)
    assert "💡 <b>الجملة الثانية هي الجواب.</b>" in msg
    assert '1. <a href="https://example.org/a?x=1&amp;y=2">عنوان الخبر</a>' in msg  # the title is the link
    assert "<i>عكاظ · 3 نوفمبر 2026</i>" in msg
    assert balanced(msg)


def test_source_without_a_usable_link_shows_a_plain_title():
    for url in ("", "javascript:alert(1)", "file:///etc/passwd", "ftp://example.org/a", "http://"):
        (msg,) = reply_messages(result_with(make_hit(url=url)), AR)
        assert "<a " not in msg and "1. <b>عنوان الخبر</b>" in msg, url
    assert safe_link(" HTTPS://example.org/x ") == "HTTPS://example.org/x"
    assert safe_link("JavaScript:alert(1)") == ""


def test_snippet_is_the_answer_sentence_and_its_neighbour_not_the_whole_passage():
    text = " ".join(f"جملة تمهيدية رقم {i} عن موضوع آخر." for i in range(20))
    answer = "وقال المتحدث إن الجواب هو هذا."
    text = f"{text} {answer} وأضاف أن التفاصيل ستعلن لاحقاً. " + text
    start = text.index(answer)
    after = text.index("وأضاف")
    passage = Passage(
        0, text, 0, len(text), 1.0, [(start, start + len(answer))], snippet=(start, after + len("وأضاف أن التفاصيل ستعلن لاحقاً."))
    )
    shown = "".join(r.text for r in snippet_runs(passage))
    assert shown == answer + " وأضاف أن التفاصيل ستعلن لاحقاً."
    assert [r.style for r in snippet_runs(passage)] == ["b", None]


def test_a_long_answer_sentence_is_cut_at_a_word():
    sentence = "هذه جملة طويلة جداً " * 40 + "."
    passage = Passage(0, sentence, 0, len(sentence), 1.0, [(0, len(sentence))])
    runs = snippet_runs(passage, limit=120)
    shown = "".join(r.text for r in runs)
    assert len(shown) <= 125 and shown.endswith(" …") and " جدا …" not in shown[:-3]


def test_a_three_source_reply_is_compact():
    long_text = " ".join(f"هذه جملة رقم {i} في مقطع طويل من مئة وخمسين كلمة." for i in range(25))
    hits = []
    for rank in range(1, 4):
        s = long_text.index(f"رقم {10 + rank}")
        s = long_text.rfind("هذه", 0, s)
        e = long_text.index(".", s) + 1
        hit = make_hit(rank=rank, title=f"عنوان الخبر رقم {rank} عن حدث مهم في المنطقة")
        hit.passage = Passage(0, long_text, 0, len(long_text), 1.0, [(s, e)], snippet=(s, long_text.index(".", e) + 1))
        hits.append(hit)
    (msg,) = reply_messages(result_with(*hits), AR)
    text_only = html.unescape(TAG_RE.sub("", msg)).replace(RLM, "")
    assert len(text_only) < 1200 and len(long_text) * 3 > 3000


def test_arabic_lines_start_right_to_left():
    (msg,) = reply_messages(result_with(make_hit(title="SolarTech توقع اتفاقية")), AR)
    assert msg.startswith(RLM)
    assert all(line.startswith(RLM) for line in msg.split("\n") if line)


def test_english_reply_has_no_rtl_marks():
    (msg,) = reply_messages(result_with(make_hit()), EN)
    assert RLM not in msg and "Sources" in msg and "3 Nov 2026" in msg


def test_everything_is_escaped():
    evil = make_hit(title="<script>alert(1)</script> & <b>", text="a <i>b</i> & c. الجملة الثانية <b>x</b>. الجملة الثالثة.")
    (msg,) = reply_messages(result_with(evil), AR)
    assert "<script>" not in msg and "&lt;script&gt;" in msg
    assert "&lt;b&gt;x&lt;/b&gt;" in msg
    assert balanced(msg)


def test_no_answer_reply():
    (msg,) = reply_messages(SearchResult("سؤال", "hybrid", [], no_answer=True), AR)
    assert "لم أجد" in msg


def test_tentative_reply_shows_passages_without_claiming_an_answer():
    result = SearchResult("سؤال", "hybrid", [make_hit()], confidence=0.42, tentative=True)
    (msg,) = reply_messages(result, AR)
    assert "💡" not in msg and "لم أجد جواباً مؤكداً" in msg
    assert "<b>الجملة الثانية هي الجواب.</b>" in msg  # the closest sentence is still marked in its passage
    assert "no sure answer" in reply_messages(result, EN)[0]
    assert balanced(msg)


def test_long_reply_split_at_block_boundaries_within_limit():
    long_text = " ".join(["جملة طويلة جداً فيها كلام كثير."] * 60) + " الجملة الثانية هي الجواب. الجملة الثالثة."
    hits = [make_hit(rank=i, text=long_text) for i in range(1, 4)]
    messages = full_passage_messages(hits[0], 1, AR) + reply_messages(result_with(*hits), AR)
    for msg in messages:
        assert telegram_length(msg) <= 4096
        assert balanced(msg)


def test_huge_passage_cut_inside_text_never_inside_a_tag():
    words = " ".join(f"كلمة{i} <&>" for i in range(3000))
    text = words + " الجملة الثانية هي الجواب. الجملة الثالثة."
    messages = full_passage_messages(make_hit(text=text), 1, AR)
    assert len(messages) > 1
    plain = "".join(html.unescape(TAG_RE.sub("", m)).replace(RLM, "") for m in messages)
    for msg in messages:
        assert telegram_length(msg) <= 4096 and balanced(msg)
    assert "كلمة2999" in plain and "الجملة الثانية هي الجواب" in plain


def test_pack_counts_utf16_units():
    emoji = "😀" * 3000  # 6000 UTF-16 units
    messages = pack([[Run(emoji)]], Format())
    assert len(messages) == 2 and all(telegram_length(m) <= 4096 for m in messages)
    assert "".join(messages) == emoji


def test_passage_runs_bold_only_highlight():
    passage = Passage(0, "أ ب ج د", 0, 7, 1.0, highlights=[(2, 3)])
    runs = passage_runs(passage)
    assert [(r.text, r.style) for r in runs] == [("أ ", None), ("ب", "b"), (" ج د", None)]
    assert passage_runs(passage, start=4) == [Run("ج د")]


def test_dates():
    assert format_date("2015-07-21 02:16:27", AR) == "21 يوليو 2015"
    assert format_date("2026-11-03", EN) == "3 Nov 2026"
    assert format_date("أمس", AR) == "أمس"
    assert format_date("", AR) == ""


def test_plain_format_for_console():
    (msg,) = reply_messages(result_with(make_hit()), AR, fmt=Format(html=False))
    assert "<b>" not in msg and "*الجملة الثانية هي الجواب.*" in msg
    assert "عنوان الخبر: https://example.org/a?x=1&y=2" in msg


def test_also_in_lists_other_outlets():
    hit = make_hit()
    hit.also_in = [{"article_id": "x", "source": "الرياض", "title": "t", "url": ""}]
    (msg,) = reply_messages(result_with(hit), AR)
    assert "ورد أيضاً في: الرياض" in msg


def visible(message: str) -> str:
    return parse_html(message)[0]


def test_no_sentence_is_shown_twice():
    """The 💡 line's sentence is not repeated as its source's snippet; a sentence two sources share is shown once."""
    first = make_hit(1)
    first.passage.snippet = (first.passage.highlights[0][0], len(first.passage.text))  # answer + next sentence
    copy = make_hit(2, text="مقدمة أخرى. الجملة الثانية هي الجواب. الجملة الثالثة.")
    copy.passage.snippet = (copy.passage.highlights[0][0], len(copy.passage.text))
    (msg,) = reply_messages(result_with(first, copy), AR)
    seen = visible(msg)
    assert seen.count("الجملة الثانية هي الجواب") == 1, seen
    assert seen.count("الجملة الثالثة") == 1, seen
    assert "💡" in seen and "1. عنوان الخبر" in seen and "2. عنوان الخبر" in seen  # both sources still listed


def test_a_no_sure_answer_reply_fits_a_phone_screen():
    """At most two sources and 600 visible characters, however long the titles and passages."""
    long_text = " ".join(f"الجملة رقم {n} من نص طويل جداً عن موضوع بعيد عن السؤال." for n in range(40))
    long_text += " الجملة الثانية هي الجواب. الجملة الثالثة."
    hits = [make_hit(n, text=long_text, title="عنوان طويل " * 30) for n in (1, 2, 3)]
    for hit in hits:
        hit.passage.highlights = [(0, 60)]
        hit.passage.snippet = (0, 320)
    result = SearchResult("سؤال", "hybrid", hits, tentative=True)
    for lang in (AR, EN):
        (msg,) = reply_messages(result, lang, 0, 3)
        assert utf16_len(visible(msg)) <= 600, len(visible(msg))
        assert "1. " in visible(msg) and "2. " in visible(msg) and "3. " not in visible(msg)
    assert first_page(result, 3) == 2 and first_page(result_with(make_hit()), 3) == 3


def test_nothing_found_says_plainly_the_archive_does_not_seem_to_cover_it():
    (msg,) = reply_messages(SearchResult("سؤال", "hybrid", [], no_answer=True), AR)
    assert "لا يغطي" in msg
    (msg,) = reply_messages(SearchResult("question", "hybrid", [], no_answer=True), EN)
    assert "does not seem to cover" in msg
