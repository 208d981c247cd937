"""The interface's words (bot/i18n.py): gettext catalogs read with Babel, counts that agree with their numbers by
CLDR's plural rules (Arabic has six forms), Latin digits, dates as the sources' readers write them."""

from __future__ import annotations

import re
from datetime import date

import pytest

from bot.i18n import AR, COUNT, EN, catalog, catalog_path, counted, day, number, translate
from bot.texts import keys

NUMBERS = (0, 1, 2, 3, 11, 101)
# Every counted noun of the interface at 0, 1, 2, 3, 11 and 101: zero, one, two, few, many, other.
TABLE = {
    "articles": (["0 خبر", "خبر واحد", "خبران", "3 أخبار", "11 خبراً", "101 خبر"], "article"),
    "links": (["0 رابط", "رابط واحد", "رابطان", "3 روابط", "11 رابطاً", "101 رابط"], "link"),
    "days": (["0 يوم", "يوم واحد", "يومان", "3 أيام", "11 يوماً", "101 يوم"], "day"),
    "seconds": (["0 ثانية", "ثانية واحدة", "ثانيتان", "3 ثوانٍ", "11 ثانية", "101 ثانية"], "second"),
    "minutes": (["0 دقيقة", "دقيقة واحدة", "دقيقتان", "3 دقائق", "11 دقيقة", "101 دقيقة"], "minute"),
}


@pytest.mark.parametrize("noun", sorted(TABLE))
def test_every_counted_noun_agrees_with_its_number(noun):
    arabic, english = TABLE[noun]
    assert [counted(noun, n, AR) for n in NUMBERS] == arabic
    assert [counted(noun, n, EN) for n in NUMBERS] == [f"{n} {english}" + ("" if n == 1 else "s") for n in NUMBERS]


def test_the_table_covers_every_plural_entry_and_every_count_in_the_texts():
    for lang in (AR, EN):
        assert {k.removeprefix(COUNT) for k in catalog(lang).plurals} == set(TABLE), lang
        used = {m for text in catalog(lang).messages.values() for m in re.findall(r"\{\w+:#(\w+)\}", text)}
        assert used <= set(TABLE), used - set(TABLE)


def test_no_arabic_text_counts_a_noun_by_hand():
    """A number placed before a counted noun in a template would not agree with every number: it goes through a
    plural entry ("{n:#articles}") or stands after a label ("الأخبار: {articles}")."""
    nouns = r"(?:خبر|أخبار|رابط|روابط|يوم|أيام|ثانية|ثوان|دقيقة|دقائق|مقطع|مقاطع)"
    by_hand = [key for key, text in catalog(AR).messages.items() if re.search(r"\{\w+(?::[^#}][^}]*)?\}\s*" + nouns, text)]
    assert by_hand == []


def test_numbers_and_dates_in_latin_digits():
    assert number(2153, AR) == "2,153" and number(2.5, AR) == "2.5" and number(2153, EN) == "2,153"
    assert counted("articles", 2153, AR) == "2,153 خبراً" and counted("minutes", 2.5, AR) == "2.5 دقيقة"
    assert day(date(2026, 11, 3), AR) == "3 نوفمبر 2026" and day(date(2026, 11, 3), EN) == "3 Nov 2026"
    assert (
        translate(
            "report_head",
            AR,
            questions=7,
            days=7,
            answered=1,
            answered_pct="1%",
            tentative=0,
            tentative_pct="0%",
            nothing=6,
            nothing_pct="86%",
            p50=4.0,
            p95=9.0,
            up=0,
            down=0,
        ).count("7 أيام")
        == 1
    )


def test_the_catalogs_are_gettext_files_with_cldr_plural_headers():
    for lang, forms in ((AR, 6), (EN, 2)):
        head = catalog_path(lang).read_text(encoding="utf-8")
        assert f"nplurals={forms};" in head and f'"Language: {lang}\\n"' in head
    assert keys(AR) >= keys(EN) and "welcome" in keys(EN)
    assert translate("reason.HTTP 404", EN) == translate("reason.HTTP 404", AR), "a key English lacks reads Arabic"
    assert translate("btn_cancel", "fr") == translate("btn_cancel", AR), "an unknown language reads Arabic"


def test_both_languages_fill_the_same_placeholders():
    """A text whose Arabic and English ask for different values would fail in one language only, at run time."""

    def placeholders(text: str) -> set[str]:
        return set(re.findall(r"\{(\w+)(?::[^}]*)?\}", text))

    ar, en = catalog(AR).messages, catalog(EN).messages
    assert [k for k in en if k in ar and placeholders(ar[k]) != placeholders(en[k])] == []
