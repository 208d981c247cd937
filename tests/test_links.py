"""Rendered links are only http(s): anything else in an article's url is shown without a link."""

from __future__ import annotations

import pytest

from bot.render import Format, reply_messages
from bot.texts import AR
from index.corpus.urls import canonical_url, safe_link, urls_in_text
from index.search.searcher import Hit, Passage, SearchResult


def reply_for(url: str) -> str:
    text = "الجملة الأولى. الجملة الثانية هي الجواب."
    passage = Passage(row=0, text=text, start=0, end=len(text), score=1.0, highlights=[(15, len(text))])
    (message,) = reply_messages(
        SearchResult("سؤال", "hybrid", [Hit(1, "a1", "عنوان", "عكاظ", url, "2026-11-03", 1.0, passage)]), AR
    )
    return message


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        " javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox",
        "file:///etc/passwd",
        "ftp://example.org/a",
        "tg://resolve?domain=evil",
        "//example.org/no-scheme",
        "/relative/path",
        'https://example.org/"><b>x</b>',
        "https://exa mple.org/",
        "http://",
        "http://[bad",
    ],
)
def test_unsafe_urls_get_no_link(url):
    assert safe_link(url) == ""
    message = reply_for(url)
    assert "<a " not in message and "عنوان" in message


@pytest.mark.parametrize("url", ["https://example.org/a?x=1&y=2", "HTTP://Example.org/خبر", "http://127.0.0.1:8080/n/1"])
def test_web_urls_are_linked(url):
    assert safe_link(url) == url
    assert "<a href=" in reply_for(url)


def test_console_format_shows_no_unsafe_link():
    text = "نص."
    passage = Passage(row=0, text=text, start=0, end=len(text), score=1.0, highlights=[])
    hit = Hit(1, "a1", "عنوان", "", "javascript:alert(1)", "", 1.0, passage)
    (plain,) = reply_messages(SearchResult("q", "hybrid", [hit]), AR, fmt=Format(html=False, rtl=False))
    assert "javascript" not in plain


def test_canonical_url_and_urls_in_text():
    assert canonical_url("HTTPS://News.Example.org:443/a/b?utm_source=rss&id=5#top") == "https://news.example.org/a/b?id=5"
    assert canonical_url("../c", "https://x.example/a/b/") == "https://x.example/a/c"
    assert canonical_url("javascript:alert(1)") == ""
    assert urls_in_text("أضف https://a.example/1، و(http://b.example/2). وكذلك javascript:x") == [
        "https://a.example/1",
        "http://b.example/2",
    ]
