"""Property-based tests: text processing never loses or reorders displayed text; any result renders validly."""

from __future__ import annotations

import itertools
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.render import RLM, Format, full_passage_messages, reply_messages
from bot.texts import AR, EN
from index.corpus.records import clean_text
from index.search.searcher import Hit, Passage, SearchResult
from index.text.arabic import analyze, normalize, tokenize
from index.text.chunking import ChunkParams, chunk_spans
from index.text.sentences import split_sentences
from tests.support.fake_telegram import parse_html, utf16_len

ARABIC = "".join(chr(c) for c in range(0x0621, 0x064B)) + "ًٌٍَُِّْـ٠١٢٣٤٥٦٧٨٩؟؛،"
TRICKY = "<>&\"'/\\*_`[]()" + "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u2066\u2067\u2069\ufeff" + "😀🇸🇦👍🏽\u0301"
texts = st.text(alphabet=st.sampled_from(ARABIC + string.ascii_letters + string.digits + " .!?\n\t" + TRICKY), max_size=600)
anything = st.text(max_size=400)  # any Unicode, surrogates excluded by hypothesis

relaxed = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def visible(text: str) -> str:
    return "".join(text.split())


@relaxed
@given(texts)
def test_sentence_spans_keep_every_character_in_order(text):
    spans = split_sentences(text)
    assert spans == sorted(spans)
    assert all(s < e for s, e in spans)
    assert all(e1 <= s2 for (_, e1), (s2, _) in itertools.pairwise(spans))
    assert visible("".join(text[s:e] for s, e in spans)) == visible(text)


@relaxed
@given(anything)
def test_sentence_spans_on_any_unicode(text):
    spans = split_sentences(text)
    assert visible("".join(text[s:e] for s, e in spans)) == visible(text)


@relaxed
@given(texts, st.integers(min_value=5, max_value=60), st.integers(min_value=0, max_value=4))
def test_chunks_map_back_and_cover_the_article(text, target, overlap):
    params = ChunkParams(
        target_words=target, max_words=target + 10, min_words=min(3, target), overlap_words=min(overlap, target - 1)
    )
    spans = chunk_spans(text, params)
    covered: set[int] = set()
    for s, e in spans:
        assert 0 <= s < e <= len(text)
        covered.update(range(s, e))
    missing = [i for i, ch in enumerate(text) if not ch.isspace() and i not in covered]
    assert missing == []
    assert all(s2 > s1 for (s1, _), (s2, _) in itertools.pairwise(spans)), "chunks move forward"


@relaxed
@given(anything)
def test_normalisation_is_idempotent_and_total(text):
    once = normalize(text)
    assert normalize(once) == once
    tokenize(text)
    analyze(text)


@relaxed
@given(anything)
def test_cleaning_keeps_visible_characters_in_order(text):
    control = {chr(c) for c in (*range(0, 9), 11, 12, *range(14, 32), 127)}
    expected = visible("".join(ch for ch in text if ch not in control))
    assert visible(clean_text(text)) == expected


def result_from(title: str, passage: str, source: str, url: str, highlight: tuple[int, int], n: int) -> SearchResult:
    s, e = sorted((min(highlight[0], len(passage)), min(highlight[1], len(passage))))
    hits = [
        Hit(
            i + 1,
            f"a{i}",
            title,
            source,
            url,
            "2026-01-02",
            1.0,
            Passage(i, passage, 0, len(passage), 1.0, [(s, e)] if e > s else []),
        )
        for i in range(n)
    ]
    return SearchResult("q", "hybrid", hits)


TELEGRAM_LIMIT = 4096  # Telegram's own number, not the renderer's constant: a change of LIMIT must fail here


def assert_telegram_accepts(messages: list[str]) -> None:
    assert messages
    for message in messages:
        plain, _ = parse_html(message)  # raises like Telegram on broken HTML
        assert utf16_len(plain) <= TELEGRAM_LIMIT, "Telegram counts the text after its HTML is parsed"
        assert plain.replace(RLM, "").strip(), "never an empty message"


urls = st.one_of(
    st.just(""),
    st.builds(lambda p: "https://example.org/" + p, st.text(alphabet=string.ascii_letters + "&?=/<>\"'", max_size=30)),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=anything,
    passage=st.one_of(anything, texts, st.builds(lambda t: t * 50, texts.filter(lambda t: t.strip()))),
    source=anything,
    url=urls,
    highlight=st.tuples(st.integers(0, 12_000), st.integers(0, 12_000)),
    n=st.integers(1, 4),
    lang=st.sampled_from([AR, EN]),
)
def test_any_result_renders_messages_telegram_accepts(title, passage, source, url, highlight, n, lang):
    result = result_from(title, passage, source, url, highlight, n)
    assert_telegram_accepts(reply_messages(result, lang, 0, 3))
    assert_telegram_accepts(full_passage_messages(result.hits[0], 1, lang))
    plain = reply_messages(result, lang, 0, 3, Format(html=False))
    assert all(utf16_len(m) <= TELEGRAM_LIMIT for m in plain)


def test_ten_thousand_character_passage_of_emoji_and_marks():
    passage = ("😀\u200f<b>&amp;</b>\u202eعربي " * 900)[:10_000]
    result = result_from("عنوان <i>", passage, "مصدر & شركاه", "https://x.org/?a=1&b=<2>", (100, 5000), 3)
    messages = full_passage_messages(result.hits[0], 1, AR)
    assert len(messages) >= 3
    assert_telegram_accepts(messages)
    assert_telegram_accepts(reply_messages(result, AR))
