"""Arabic text normalisation, tokenising and stemming for matching.

Everything here works on *copies* used for matching (BM25 terms, answer checks,
duplicate detection). Text shown to users is never passed through these
functions and stored back, so what a reader sees is exactly what the outlet
wrote.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable

# Harakat, tanwin, shadda, sukun, superscript alef, Quranic annotation marks.
_DIACRITICS = "".join(chr(c) for c in (*range(0x0610, 0x061B), *range(0x064B, 0x0660), 0x0670, *range(0x06D6, 0x06EE)))
_TATWEEL = "\u0640"
# Zero-width and bidi control characters that break word matching.
_INVISIBLE = "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff\u00ad"

_CHAR_MAP = str.maketrans(
    {
        **{c: None for c in _DIACRITICS + _TATWEEL + _INVISIBLE},
        # alef forms -> bare alef
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ٲ": "ا",
        "ٳ": "ا",
        # alef maqsura and Persian yeh -> yaa
        "ى": "ي",
        "ی": "ي",
        "ې": "ي",
        # taa marbuta -> haa
        "ة": "ه",
        # hamza carriers -> their bare letter
        "ؤ": "و",
        "ئ": "ي",
        # Persian / Urdu kaf and heh
        "ک": "ك",
        "ە": "ه",
        "ہ": "ه",
        # Arabic-Indic and Persian digits -> ASCII digits
        **{chr(0x0660 + i): str(i) for i in range(10)},
        **{chr(0x06F0 + i): str(i) for i in range(10)},
        # Arabic punctuation that should read as its Latin counterpart
        "٫": ".",
        "٬": ",",
        "،": ",",
        "؛": ";",
        "؟": "?",
    }
)

_MARKS_RE = re.compile(f"[{re.escape(_DIACRITICS + _TATWEEL + _INVISIBLE)}]+")


def without_marks(text: str) -> str:
    """``text`` without diacritics, tatweel and invisible marks: a cheap part of ``normalize`` (about 10x faster)."""
    return _MARKS_RE.sub("", text)


_TOKEN_RE = re.compile(r"[^\W_]+(?:[.,][0-9]+)*", re.UNICODE)
_SPACES_RE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Return a matching copy of ``text``: unified letter forms, ASCII digits, case-folded.

    Compatibility forms (presentation ligatures such as ﻻ) are decomposed first so
    that text pasted from PDFs matches text typed on a keyboard.
    """
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(_CHAR_MAP)
    return _SPACES_RE.sub(" ", text).strip().casefold()


def tokenize(text: str) -> list[str]:
    """Split normalised ``text`` into word tokens (letters and digits; 3.5 and 1,000 stay whole)."""
    return _TOKEN_RE.findall(normalize(text))


# Function words that carry no topic: prepositions, pronouns, particles,
# auxiliaries and the question words readers start questions with. Written in
# normalised form (no hamza on alef, taa marbuta as haa, yaa for alef maqsura).
STOPWORDS: frozenset[str] = frozenset(
    normalize(word)
    for word in """
    في من الي عن مع حتي منذ لدي لدى عند بين خلال ضد نحو حول دون عبر تجاه
    و او ام ثم بل لكن غير سوي الا اما اذا اذ ان انه انها انهم لان كان كانت كانوا يكون تكون
    هو هي هم هن هما انا نحن انت انتم انتن هذا هذه ذلك تلك هؤلاء هولاء اولئك الذي التي الذين اللذين اللتين اللاتي
    ما ماذا لماذا كيف متي اين اي ايه كم هل لم لن لا ليس ليست قد لقد سوف كل بعض جميع
    به بها بهم له لها لهم لنا لي منه منها منهم عليه عليها عليهم فيه فيها فيهم عنه عنها
    كما ايضا حيث وقد وكان وهو وهي وفي ومن وان وما ولا كذلك هناك هنا
    يا ذو ذات اذن مثل قبل بعد فوق تحت امام خلف اكثر اقل جدا فقط
    the a an of in on at to for is are was were be by and or with what who whom which when where why how
    """.split()
)

# Question words are dropped on the lexical side of a *question* only: in an
# article "متى" or "كم" is ordinary text, in a question it is noise.
_QUESTION_WORDS = "ما ماذا ماهو ماهي لماذا لم كيف متى أين أي أية كم هل من منو شو ليش وين امتى بكم إلى"
# "and when / and where ..." open second questions: "متى وأين ولد ...؟"
_JOINED_QUESTION_WORDS = [c + w for c in "وف" for w in "ما ماذا لماذا كيف متى أين كم هل".split()]
QUESTION_WORDS: frozenset[str] = frozenset(
    normalize(word)
    for word in [*_QUESTION_WORDS.split(), *_JOINED_QUESTION_WORDS, *"what who whom which when where why how".split()]
)

# Clitic prefixes stripped by the "light" stemmer (longest first). Only stripped
# when at least three letters remain, so short words are left alone.
_PREFIXES = ("وبال", "وكال", "فبال", "وال", "فال", "بال", "كال", "لل", "ال")


_PREFIX_RE = re.compile("^(?:" + "|".join(_PREFIXES) + r")(?=\w{3})")


def strip_prefixes(token: str) -> str:
    """Remove a leading conjunction/preposition + article cluster (وال، بال، لل ...), keeping 3+ letters."""
    return _PREFIX_RE.sub("", token, count=1)


STEMMERS = ("none", "light", "snowball", "light+snowball", "light+snowball+masdar")

# The verbal noun of form II verbs, taf'il (تعليق، تسجيل، تطوير), after Snowball: reduced to
# its three root letters so it meets its verb (علّق، سجّل، طوّر) as Snowball stems them.
_TAFIL_RE = re.compile(r"^ت([\u0621-\u064a])([\u0621-\u064a])ي([\u0621-\u064a])$")


_STEMMERS = threading.local()  # PyStemmer objects are not thread-safe: one per thread


def _snowball(language: str = "arabic"):
    stemmers = getattr(_STEMMERS, "by_language", None)
    if stemmers is None:
        stemmers = _STEMMERS.by_language = {}
    if language not in stemmers:
        import Stemmer  # PyStemmer: Snowball stemmers in C

        stemmers[language] = Stemmer.Stemmer(language)
    return stemmers[language]


def stem_tokens(tokens: list[str], stemmer: str = "light+snowball") -> list[str]:
    """Stem already-normalised tokens with the named variant (see ``STEMMERS``).

    Snowball leaves conjunction+article clusters such as "والمدارس" whole, so the
    default strips those first ("light") and then applies Snowball. Latin-script
    words get Snowball's English stemmer (names in English questions match either
    way); numbers pass through unchanged.
    """
    if stemmer not in STEMMERS:
        raise ValueError(f"unknown stemmer {stemmer!r}; choose one of {', '.join(STEMMERS)}")
    if stemmer == "none":
        return tokens
    out = list(tokens)
    if "light" in stemmer:
        out = [strip_prefixes(t) if _is_arabic(t) else t for t in out]
    if "snowball" in stemmer:
        # one C call per script (stemWords) instead of one Python call per word
        arabic = [i for i, t in enumerate(out) if _is_arabic(t)]
        latin = [i for i, t in enumerate(out) if t[:1].isalpha() and not _is_arabic(t)]
        for indices, language in ((arabic, "arabic"), (latin, "english")):
            if indices:
                for i, stem in zip(indices, _snowball(language).stemWords([out[i] for i in indices]), strict=True):
                    out[i] = stem
    if "masdar" in stemmer:
        out = [_TAFIL_RE.sub(r"\1\2\3", t) for t in out]
    return out


def _is_arabic(token: str) -> bool:
    return bool(token) and "\u0600" <= token[0] <= "\u06ff"


def analyze(
    text: str,
    stemmer: str = "light+snowball",
    stopwords: Iterable[str] = STOPWORDS,
) -> list[str]:
    """Text -> BM25 terms: normalise, tokenise, drop stopwords, stem."""
    stop = stopwords if isinstance(stopwords, (set, frozenset)) else frozenset(stopwords)
    tokens = [t for t in tokenize(text) if t not in stop]
    return [t for t in stem_tokens(tokens, stemmer) if t]


_QUESTION_STOPWORDS = STOPWORDS | QUESTION_WORDS


def analyze_question(text: str, stemmer: str = "light+snowball") -> list[str]:
    """Like ``analyze`` but also drops question words; falls back to all terms if none remain."""
    terms = analyze(text, stemmer, _QUESTION_STOPWORDS)
    return terms or analyze(text, stemmer, frozenset())


_LATIN_RE = re.compile(r"[A-Za-z]")
_ARABIC_LETTER_RE = re.compile(r"[\u0621-\u064a\u0671-\u06d3\u0750-\u077f]")


def is_mostly_latin(text: str) -> bool:
    """True when most letters in ``text`` are Latin: used to answer English questions in English."""
    return len(_LATIN_RE.findall(text)) > len(_ARABIC_LETTER_RE.findall(text))
