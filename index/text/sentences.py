"""Arabic-aware sentence splitting that returns character spans into the original text.

Spans (not copies) are returned so callers can cut chunks and highlight answers
in the text exactly as it was written.
"""

from __future__ import annotations

import re

# A sentence ends at . ! ? ؟ ؛ … (possibly repeated, possibly followed by closing
# quotes/brackets) when whitespace or the end of text follows, and at every line break.
_END_RE = re.compile(r"[.!?؟؛…]+[\"'»”’)\]]*(?=\s|$)|\n+")

# Tokens that end with a dot without ending a sentence: titles, era markers and
# agency names. Compared without the trailing dot.
ABBREVIATIONS: frozenset[str] = frozenset(
    {
        "د",
        "م",
        "هـ",
        "ه",
        "ق.م",
        "ص",
        "ج",
        "ت",
        "ش",
        "أ",
        "ا",
        "ب",
        "ف",
        "ك",
        "أ.د",
        "م.م",
        "ص.ب",
        "أ.ف.ب",
        "ا.ف.ب",
        "و.م.ع",
        "إلخ",
        "الخ",
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "st",
        "jr",
        "sr",
        "no",
        "vs",
        "etc",
        "inc",
        "ltd",
        "co",
        "u.s",
        "u.k",
        "u.n",
        "a.m",
        "p.m",
        "e.g",
        "i.e",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
    }
)

_LAST_WORD_RE = re.compile(r"(\S+?)\.+$")

# Arabic writers often chain clauses with commas for a whole paragraph; sentences
# longer than this many words are split again after "،" / "," / ";".
LONG_SENTENCE_WORDS = 60
_CLAUSE_RE = re.compile(r"[،,;]+(?=\s)")


def _is_abbreviation(text: str, dot_start: int) -> bool:
    """True if the dot run starting at ``dot_start`` closes an abbreviation, not a sentence."""
    if text[dot_start] != ".":
        return False
    line_start = max(text.rfind(" ", 0, dot_start), text.rfind("\n", 0, dot_start)) + 1
    word = text[line_start:dot_start].lstrip("(«\"'“")
    if not word:
        return False
    if word.casefold() in ABBREVIATIONS:
        return True
    # a single letter before the dot, as in initials: "أ. محمد", "J. Smith"
    return len(word) == 1 and word.isalpha()


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _split_long(text: str, start: int, end: int, max_words: int) -> list[tuple[int, int]]:
    """Split an over-long sentence at clause commas into pieces of up to ``max_words`` words."""
    if len(text[start:end].split()) <= max_words:
        return [(start, end)]
    pieces: list[tuple[int, int]] = []
    piece_start = start
    for m in _CLAUSE_RE.finditer(text, start, end):
        if len(text[piece_start : m.end()].split()) >= max_words // 2:
            pieces.append((piece_start, m.end()))
            piece_start = m.end()
    pieces.append((piece_start, end))
    return [span for s, e in pieces if (span := _trim(text, s, e))]


def split_sentences(text: str, max_words: int = LONG_SENTENCE_WORDS) -> list[tuple[int, int]]:
    """Return ``(start, end)`` spans of the sentences in ``text``, in order, whitespace trimmed.

    Every non-space character of ``text`` lies in exactly one span. Numbers such
    as 3.5 or 1.000 and abbreviations such as "د." or "U.S." do not end a sentence.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _END_RE.finditer(text):
        if m.group().startswith(".") and _is_abbreviation(text, m.start()):
            continue
        span = _trim(text, start, m.end())
        if span:
            spans.extend(_split_long(text, *span, max_words))
        start = m.end()
    span = _trim(text, start, len(text))
    if span:
        spans.extend(_split_long(text, *span, max_words))
    return spans


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` as strings (convenience over ``split_sentences``)."""
    return [text[s:e] for s, e in split_sentences(text)]
