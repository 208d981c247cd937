"""The interface's words: gettext catalogs (``bot/locale/<lang>/LC_MESSAGES/bot.po``) read at run time with Babel.

The catalogs are keyed: ``msgid`` is a stable key ("welcome", "reindex_done"), ``msgstr`` the text
with ``{placeholders}`` (python-brace-format). Reading the ``.po`` files themselves means an
editable install needs no compile step; a translator edits one file.

Counts agree with their numbers by CLDR's plural rules (Arabic has six forms: zero, one, two, few,
many, other): a placeholder written ``{n:#articles}`` picks the form of the plural entry
``count.articles`` for ``n``. Numbers and dates are formatted by Babel with Latin digits, as the
sources write them.
"""

from __future__ import annotations

import functools
import string
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

AR, EN = "ar", "en"
LANGS = (AR, EN)
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "bot"
COUNT = "count."  # plural entries: "count.articles" is what "{n:#articles}" reads
_TAGS = ("zero", "one", "two", "few", "many", "other")  # gettext's order of the plural forms, as Babel writes them


@dataclass(frozen=True)
class Catalog:
    """One language's texts: plain messages by key, and plural entries (their forms in gettext order)."""

    lang: str
    messages: dict[str, str]
    plurals: dict[str, tuple[str, ...]]

    def form(self, key: str, n: float) -> str:
        """The form of plural entry ``key`` that agrees with ``n`` (CLDR's rule for this language)."""
        rule = _locale(self.lang).plural_form
        tags = [t for t in _TAGS if t in rule.tags or t == "other"]
        forms = self.plurals[key]
        return forms[min(tags.index(rule(n)), len(forms) - 1)]


@functools.cache
def _locale(lang: str) -> Locale:
    return Locale.parse(lang)


def catalog_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def catalog(lang: str) -> Catalog:
    """The catalog of ``lang``, read once per process."""
    with open(catalog_path(lang), "rb") as f:
        po = read_po(f, locale=lang, domain=DOMAIN)
    messages: dict[str, str] = {}
    plurals: dict[str, tuple[str, ...]] = {}
    for message in po:
        if not message.id:
            continue  # the header
        if message.pluralizable:
            plurals[message.id[0]] = tuple(message.string)
        elif message.string:
            messages[message.id] = message.string
    return Catalog(lang, messages, plurals)


def number(value: float, lang: str = AR) -> str:
    """``value`` as the interface writes numbers: Babel's grouping for ``lang``, Latin digits."""
    return format_decimal(value, locale=lang, numbering_system="latn")


def counted(key: str, n: float, lang: str = AR) -> str:
    """``n`` with its noun in the agreeing form: counted("articles", 11) -> "11 خبراً", ("articles", 2) -> "خبران"."""
    return catalog(lang).form(COUNT + key, n).format(n=number(n, lang))


def day(value: date, lang: str = AR) -> str:
    """A date as the sources' readers write it: "3 نوفمبر 2026" / "3 Nov 2026" (Latin digits)."""
    return format_date(value, "d MMMM y" if lang == AR else "d MMM y", locale=lang)


class _Formatter(string.Formatter):
    """str.format with two additions: ``{n:#key}`` counts with plural entry ``key``; a bare int is a Babel number."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def format_field(self, value: object, format_spec: str) -> str:
        if format_spec.startswith("#"):
            return counted(format_spec[1:], value, self.lang)  # type: ignore[arg-type]
        if isinstance(value, int) and not isinstance(value, bool) and not format_spec:
            return number(value, self.lang)
        return super().format_field(value, format_spec)


def translate(key: str, lang: str = AR, **values: object) -> str:
    """The text ``key`` in ``lang`` (Arabic when the language lacks it), formatted with ``values``."""
    messages = catalog(lang if lang in LANGS else AR).messages
    template = messages.get(key) or catalog(AR).messages[key]
    return _Formatter(lang).format(template, **values) if values else template
