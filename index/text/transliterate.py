"""Latin names against their Arabic spellings: both written as a consonant skeleton and compared.

An English question names "Khashoggi", "Hyundai" or "Al-Qassim"; the Arabic article
writes خاشقجي، هيونداي، القصيم. Vowels are not written the same way in the two
scripts (nor consistently within either), so both sides are reduced to their
consonants, in broad classes where spellings disagree (ق and ك are both "k";
ج and غ and the Latin g are one class; ض and ذ and "dh" are "d"), doubled letters
collapsed. "Hyundai" and هيونداي both become ``hnd``. Pure functions; the build's
vocabulary is searched with them in ``index.search.names``.
"""

from __future__ import annotations

import re

from .arabic import normalize

# Arabic letters (normalised: no hamza forms, ة as ه, ى as ي) -> consonant class; letters left out are vowels.
_ARABIC = {
    "ب": "b",
    "ت": "t",
    "ث": "t",
    "ج": "g",
    "ح": "h",
    "خ": "x",
    "د": "d",
    "ذ": "d",
    "ر": "r",
    "ز": "z",
    "س": "s",
    "ش": "s",
    "ص": "s",
    "ض": "d",
    "ط": "t",
    "ظ": "d",
    "غ": "g",
    "ف": "f",
    "ق": "k",
    "ك": "k",
    "ل": "l",
    "م": "m",
    "ن": "n",
    "ه": "h",
}
# Latin letter groups, longest first -> consonant class ("" for letters that are vowels or silent).
_LATIN = [
    ("kh", "x"),
    ("gh", "g"),
    ("sh", "s"),
    ("ch", "s"),
    ("th", "t"),
    ("dh", "d"),
    ("ph", "f"),
    ("dj", "g"),
    ("ck", "k"),
    ("ou", ""),
    ("b", "b"),
    ("p", "b"),
    ("t", "t"),
    ("j", "g"),
    ("g", "g"),
    ("h", "h"),
    ("d", "d"),
    ("r", "r"),
    ("z", "z"),
    ("s", "s"),
    ("c", "k"),
    ("f", "f"),
    ("v", "f"),
    ("q", "k"),
    ("k", "k"),
    ("x", "ks"),
    ("l", "l"),
    ("m", "m"),
    ("n", "n"),
]
_LATIN_RE = re.compile("|".join(re.escape(group) for group, _ in _LATIN) + "|.")
_LATIN_CLASS = dict(_LATIN)
# "Al-Qassim", "El Hilal", "Abdul-Aziz": the article and its variants are not part of the name's skeleton.
_ARTICLE_RE = re.compile(r"^(?:al|el|ad|ar|as|ash|at|az|an)[-\s'’]", re.IGNORECASE)
_ARABIC_ARTICLE = "ال"


def _collapse(classes: list[str]) -> str:
    out: list[str] = []
    for c in classes:
        if c and (not out or out[-1] != c):
            out.append(c)
    return "".join(out)


def latin_skeleton(word: str) -> str:
    """The consonant skeleton of a Latin-script name ("Al-Qassim" -> "ksm", "Hyundai" -> "hnd")."""
    word = _ARTICLE_RE.sub("", word.strip()).lower()
    word = re.sub(r"['’]s$", "", word)
    classes = [_LATIN_CLASS.get(group, "") for group in _LATIN_RE.findall(word) if group.isalpha()]
    skeleton = _collapse(classes)
    return skeleton[:-1] if skeleton.endswith("h") and word.endswith(("ah", "eh")) and len(skeleton) > 3 else skeleton


def arabic_skeleton(word: str) -> str:
    """The consonant skeleton of an Arabic word or stem (القصيم -> "ksm", هيونداي -> "hnd")."""
    word = normalize(word)
    if word.startswith(_ARABIC_ARTICLE) and len(word) > 4:
        word = word[2:]
    skeleton = _collapse([_ARABIC.get(ch, "") for ch in word])
    return skeleton[:-1] if skeleton.endswith("h") and word.endswith("ه") and len(skeleton) > 3 else skeleton


# The vowels too, for ranking the words that share a skeleton: "Hyundai" is nearer هيونداي than هندي.
_ARABIC_VOWELS = {"ا": "a", "و": "u", "ي": "i"}
_LATIN_VOWELS = {"a": "a", "e": "", "i": "i", "y": "i", "o": "u", "u": "u", "w": "u", "ee": "i", "oo": "u", "ou": "u"}
_LATIN_FULL_RE = re.compile("|".join(re.escape(g) for g in sorted({*_LATIN_CLASS, *_LATIN_VOWELS}, key=len, reverse=True)) + "|.")


def latin_form(word: str) -> str:
    """A Latin name as consonant classes and broad vowels ("Hyundai" -> "hiundai")."""
    word = _ARTICLE_RE.sub("", word.strip()).lower()
    word = re.sub(r"['’]s$", "", word)
    out = [_LATIN_VOWELS.get(g, _LATIN_CLASS.get(g, "")) for g in _LATIN_FULL_RE.findall(word) if g.isalpha()]
    return _collapse(out)


def arabic_form(word: str) -> str:
    """An Arabic word as consonant classes and long vowels (هيونداي -> "hiundai")."""
    word = normalize(word)
    if word.startswith(_ARABIC_ARTICLE) and len(word) > 4:
        word = word[2:]
    return _collapse([_ARABIC.get(ch, _ARABIC_VOWELS.get(ch, "")) for ch in word])


def similarity(a: str, b: str) -> float:
    """1 - edit distance / the longer length: 1.0 for the same string, towards 0 as they differ."""
    if not a or not b:
        return 0.0
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return 1.0 - prev[-1] / max(len(a), len(b))
