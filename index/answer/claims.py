"""Checking a model's answer against the passages it cites: nothing reaches a reader unless a cited passage holds it.

An answer is split into sentences; each sentence must cite ([n]) passages that were sent (a
sentence without a citation of its own leans on the answer's other citations), and every *named
thing* in it must appear in one of the passages it cites:

- **numbers**, as values (Arabic-Indic digits, thousands separators and decimal commas
  normalised: "1,200" = «1200» = «١٢٠٠»);
- **months** of dates, by name in either language or by number in a numeric date, so that
  "March 5, 2015" matches «5 مارس 2015» (the day and the year are numbers, checked as numbers);
- **names**: capitalised Latin words (not sentence-opening function words, months or weekdays),
  matched literally, by their usual Arabic name ("Egypt": مصر), or through the transliteration of
  ``index.text.transliterate`` («خاشقجي» for "Khashoggi"); and Arabic words that are rare in the
  whole archive — the words outside the corpus's common stock, most of
  them names — matched by their stem (``name_like_in``: at most three passages of the archive, or
  one in 500, hold them; in an archive of 1,000 passages or more, also a word it never saw);
- **links and addresses** (URLs, e-mail addresses, @handles), literally.

Only named things are checked: "X resigned" against a passage saying "X was appointed" passes.
Pure functions but ``name_like_in``, which reads a build's document frequencies.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from index.storage.lexical import LexicalIndex
from index.text.arabic import analyze_question, normalize
from index.text.followup import is_content, words
from index.text.sentences import split_sentences
from index.text.transliterate import arabic_form, arabic_skeleton, latin_form, latin_skeleton, similarity

CITATION = re.compile(r"\[(\d{1,2})\]")
LINK = re.compile(r"https?://[^\s\])>]+|www\.[^\s\])>]+|[\w.+-]+@[\w-]+\.[\w.]+|(?<![\w@])@\w{3,}")
NUMBER = re.compile(r"\d+(?:[.,٫٬]\d+)*")
NAME_SHARE = 1 / 500  # an Arabic word in fewer passages than this (or none) is checked like a name
NAME_SIMILARITY = 0.75  # a Latin name and an Arabic word whose consonant skeletons are this alike ...
FORM_SIMILARITY = 0.5  # ... and their consonants-and-long-vowels forms this alike are one name
NAME_DOCS = 3  # an Arabic word in at most this many passages (or this share of them) is checked like a name ...
KNOWN_WORDS = 1000  # ... and so is a word the archive never saw, once it holds this many passages
# Names English writes its own way, not by transliteration: "Egypt" is مصر.
EXONYMS = {
    "egypt": "مصر",
    "egyptian": "مصر",
    "saudi": "السعودية",
    "arabia": "السعودية",
    "jordan": "الأردن",
    "lebanon": "لبنان",
    "syria": "سوريا",
    "iraq": "العراق",
    "yemen": "اليمن",
    "kuwait": "الكويت",
    "qatar": "قطر",
    "bahrain": "البحرين",
    "oman": "عمان",
    "emirates": "الإمارات",
    "uae": "الإمارات",
    "morocco": "المغرب",
    "algeria": "الجزائر",
    "tunisia": "تونس",
    "libya": "ليبيا",
    "sudan": "السودان",
    "palestine": "فلسطين",
    "israel": "إسرائيل",
    "iran": "إيران",
    "turkey": "تركيا",
    "russia": "روسيا",
    "china": "الصين",
    "india": "الهند",
    "japan": "اليابان",
    "germany": "ألمانيا",
    "france": "فرنسا",
    "britain": "بريطانيا",
    "america": "أمريكا",
    "american": "الأمريكي",
    "europe": "أوروبا",
    "africa": "أفريقيا",
    "african": "أفريقيا",
    "mecca": "مكة",
    "makkah": "مكة",
    "medina": "المدينة",
    "madinah": "المدينة",
    "riyadh": "الرياض",
    "jeddah": "جدة",
    "cairo": "القاهرة",
    "eastern": "الشرقية",
    "nile": "النيل",
    "mediterranean": "المتوسط",
    "gulf": "الخليج",
    "red": "الأحمر",
    "sea": "البحر",
}

_MONTHS = {
    **{
        m: i
        for i, m in enumerate(
            (
                "january",
                "february",
                "march",
                "april",
                "may",
                "june",
                "july",
                "august",
                "september",
                "october",
                "november",
                "december",
            ),
            start=1,
        )
    },
    **{m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)},
    **{
        normalize(m): i
        for i, m in enumerate(
            ("يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"),
            start=1,
        )
    },
    **{
        normalize(m): i
        for i, m in enumerate(
            (
                "كانون الثاني",
                "شباط",
                "آذار",
                "نيسان",
                "أيار",
                "حزيران",
                "تموز",
                "آب",
                "أيلول",
                "تشرين الأول",
                "تشرين الثاني",
                "كانون الأول",
            ),
            start=1,
        )
    },
}
_WEEKDAYS = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
_NUMERIC_DATE = re.compile(r"\b(\d{1,4})[-/.](\d{1,2})[-/.](\d{1,4})\b")


@dataclass(frozen=True)
class Checked:
    """One sentence of an answer: its text (citations left in), the passages it cites, and what failed ("" if none)."""

    text: str
    cites: tuple[int, ...]
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


def numbers(text: str) -> set[str]:
    """The numbers of ``text`` as values: "1,200" and «١٬٢٠٠» -> "1200"; "2.5" and «2,5» -> "2.5"."""
    out = set()
    for raw in NUMBER.findall(normalize(text)):
        parts = re.split(r"[.,٫٬]", raw)
        if len(parts) > 1 and all(len(p) == 3 for p in parts[1:]):
            out.add(str(int("".join(parts))))  # thousands separators
        elif len(parts) == 2:
            out.add(f"{int(parts[0])}.{parts[1].rstrip('0') or '0'}".removesuffix(".0"))
        else:
            out.update(str(int(p)) for p in parts if p)
    return out


def months(text: str) -> set[int]:
    """The months ``text`` names, by name (Arabic, Levantine or English) or inside a numeric date."""
    form = normalize(text).lower()
    found = {n for name, n in _MONTHS.items() if re.search(rf"(?<!\w)(?:ب|و|ل)?{re.escape(name)}(?!\w)", form)}
    for a, b, c in _NUMERIC_DATE.findall(form):
        month = int(b)
        if 1 <= month <= 12 and (len(a) == 4 or len(c) == 4):
            found.add(month)
    return found


def latin_names(sentence: str) -> list[str]:
    """Capitalised Latin words that name something (not function words, months, weekdays or name particles)."""
    out = []
    for word in words(sentence):
        low = word.lower()
        named = word[:1].isupper() and word.isascii() and len(word) > 1 and is_content(word)
        if named and low not in _MONTHS and low not in _WEEKDAYS and low not in _PARTICLES and low not in _OPENERS:
            out.append(word)
    return out


_PARTICLES = {"al", "el", "abd", "abdel", "abdul", "bin", "ibn", "bint", "abu", "umm"}
# Words that open an English sentence with a capital and name nothing.
_OPENERS = {
    "because",
    "since",
    "during",
    "after",
    "before",
    "although",
    "while",
    "when",
    "where",
    "it",
    "its",
    "they",
    "there",
    "this",
    "that",
    "these",
    "those",
    "he",
    "she",
    "we",
    "you",
    "his",
    "her",
    "their",
    "more",
    "less",
    "most",
    "some",
    "many",
    "both",
    "each",
    "yes",
    "no",
    "according",
    "on",
    "in",
    "at",
    "by",
    "for",
    "from",
}


def rare_arabic_words(sentence: str, name_like: Callable[[Sequence[str]], list[bool]]) -> list[str]:
    """Arabic content words of ``sentence`` that few passages of the archive hold: names, most of them."""
    arabic = [w for w in words(sentence) if not w.isascii() and is_content(w) and not normalize(w).isdigit()]
    return [w for w, rare in zip(arabic, name_like(arabic), strict=True) if rare]


def name_like_in(lexical: LexicalIndex) -> Callable[[Sequence[str]], list[bool]]:
    """For a build: which Arabic words are checked like names — those at most ``NAME_DOCS`` passages (or one in
    500) hold, and, in an archive of ``KNOWN_WORDS`` passages or more, those it never saw."""
    limit = max(NAME_DOCS, lexical.num_docs * NAME_SHARE)
    big = lexical.num_docs >= KNOWN_WORDS

    def name_like(candidates: Sequence[str]) -> list[bool]:
        shares = lexical.word_shares(candidates)
        return [(0.0 < share * lexical.num_docs <= limit) or (share == 0.0 and big) for share in shares]

    return name_like


def _name_in(name: str, passage: str, passage_words: list[str]) -> bool:
    """Is the Latin ``name`` in the passage: literally, by its usual Arabic name (Egypt: مصر), or transliterated?"""
    if name.lower() in passage.lower():
        return True
    exonym = EXONYMS.get(name.lower())
    if exonym and normalize(exonym) in normalize(passage):
        return True
    skeleton, form = latin_skeleton(name), latin_form(name)
    if len(skeleton) < 2:
        return False
    return any(
        similarity(skeleton, arabic_skeleton(w)) >= NAME_SIMILARITY and similarity(form, arabic_form(w)) >= FORM_SIMILARITY
        for w in passage_words
        if not w.isascii()
    )


def _stems(text: str) -> set[str]:
    return set(analyze_question(text))


def check_sentence(
    sentence: str, cites: Sequence[int], passages: Sequence[str], name_like: Callable[[Sequence[str]], list[bool]]
) -> str:
    """What in ``sentence`` no cited passage holds ("" when everything named is there)."""
    if not cites:
        return "no citation"
    bad = [n for n in cites if not 1 <= n <= len(passages)]
    if bad:
        return f"cites [{bad[0]}], which was not sent"
    cited = " ".join(passages[n - 1] for n in cites)
    plain = CITATION.sub(" ", sentence)
    for link in LINK.findall(plain):
        if link.rstrip(".,;:") not in cited:
            return f"the link or address {link!r} is not in the cited passages"
    missing = numbers(LINK.sub(" ", plain)) - numbers(cited)
    if missing:
        return f"the number {sorted(missing)[0]} is not in the cited passages"
    lost = months(plain) - months(cited)
    if lost:
        return f"month {sorted(lost)[0]} is not in the cited passages"
    cited_words = words(cited)
    for name in latin_names(plain):
        if not _name_in(name, cited, cited_words):
            return f"the name {name!r} is not in the cited passages"
    cited_stems = _stems(cited)
    for word in rare_arabic_words(plain, name_like):
        if not (_stems(word) & cited_stems) and normalize(word) not in normalize(cited):
            return f"the name {word!r} is not in the cited passages"
    return ""


def citations(text: str) -> tuple[int, ...]:
    """The passage numbers ``text`` cites ([2][1] -> (2, 1)), each once, in order."""
    return tuple(dict.fromkeys(int(n) for n in CITATION.findall(text)))


def check_answer(answer: str, passages: Sequence[str], name_like: Callable[[Sequence[str]], list[bool]]) -> list[Checked]:
    """Every sentence of ``answer`` checked against the passages it cites (its own citations, else the answer's)."""
    everywhere = citations(answer)
    out = []
    for s, e in split_sentences(answer):
        text = answer[s:e]
        cites = citations(text) or everywhere
        out.append(Checked(text, cites, check_sentence(text, cites, passages, name_like)))
    return out
