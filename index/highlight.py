"""Pick the sentence(s) of a passage that best answer a question.

Pure lexical scoring so it costs microseconds: each sentence scores the summed
IDF of the question terms it contains, a small bonus for having them close
together, and a bonus when it holds the kind of thing the question asks for
(a number for "كم" / "how many", a date for "متى" / "when"). The best sentence
becomes the bot's one-line answer, and the best sentence score helps rank
passages (see ``search``).

Analysing a passage (splitting, normalising, stemming) is the costly part and
does not depend on the question, so it is done once per passage
(``analyze_passage``) and the result reused for every question.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import pairwise

from .arabic import normalize, tokenize
from .sentences import split_sentences

# Question cue words (normalised) -> the kind of answer they ask for.
_CUES: dict[str, str] = {
    **dict.fromkeys(["كم", "بكم", "عدد", "نسبه", "مقدار", "قيمه", "سعر", "many", "much", "percentage", "price"], "number"),
    **dict.fromkeys(["متي", "when", "تاريخ", "عام", "سنه", "year", "date"], "time"),
}
_MONTHS = (
    "يناير فبراير مارس ابريل مايو يونيو يوليو اغسطس سبتمبر اكتوبر نوفمبر ديسمبر "
    "كانون شباط اذار نيسان ايار حزيران تموز اب ايلول تشرين "
    "السبت الاحد الاثنين الثلاثاء الاربعاء الخميس الجمعه امس اليوم غدا "
    "january february march april may june july august september october november december"
).split()
_NUMBER_WORDS = "الف الاف مليون ملايين مليار مئه مائه عشره عشرين ثلاث اربع خمس ست سبع ثماني تسع نصف ربع ضعف".split()
_DIGIT_RE = re.compile(r"\d")
_YEAR_RE = re.compile(r"\b(1[5-9]\d\d|20\d\d)\b")

CUE_BONUS = 0.2
PROXIMITY_BONUS = 0.05
# Question terms that are also in the article's title name its topic, which most of
# its sentences share; the answering sentence is the one with the *other* terms.
TOPIC_WEIGHT = 0.3


@dataclass(frozen=True)
class Sentence:
    """One analysed sentence of a passage: its span, its terms, and what kinds of answer it holds."""

    span: tuple[int, int]
    terms: tuple[str, ...]
    kinds: frozenset[str]


def answer_kind(question: str) -> str | None:
    """ "number", "time" or None, from the question's cue words."""
    for token in tokenize(question)[:6]:  # cue words open the question
        kind = _CUES.get(token)
        if kind:
            return kind
    return None


def _kinds(sentence: str) -> frozenset[str]:
    norm = normalize(sentence)
    words = set(norm.split())
    kinds = set()
    if _DIGIT_RE.search(norm) or any(w in words or ("و" + w) in words for w in _NUMBER_WORDS):
        kinds.add("number")
    if _YEAR_RE.search(norm) or any(m in words for m in _MONTHS):
        kinds.add("time")
    return frozenset(kinds)


def analyze_passage(passage: str, analyze: Callable[[str], list[str]]) -> list[Sentence]:
    """Split and analyse a passage once (at build time); the result serves every question."""
    out = []
    for span in split_sentences(passage):
        sentence = passage[span[0] : span[1]]
        out.append(Sentence(span, tuple(analyze(sentence)), _kinds(sentence)))
    return out


def dump_sentences(sentences: list[Sentence]) -> str:
    """Compact JSON for the index: [[start, end, "term term ...", "kinds"], ...]."""
    return json.dumps([[s.span[0], s.span[1], " ".join(s.terms), "".join(sorted(k[0] for k in s.kinds))] for s in sentences])


def load_sentences(data: str) -> list[Sentence]:
    kinds = {"n": "number", "t": "time"}
    return [Sentence((a, b), tuple(terms.split()), frozenset(kinds[c] for c in k)) for a, b, terms, k in json.loads(data)]


def sentence_scores(
    sentences: list[Sentence],
    query_terms: list[str],
    idf: Mapping[str, float],
    kind: str | None = None,
    topic: frozenset[str] | set[str] = frozenset(),
) -> list[tuple[tuple[int, int], float]]:
    """Score every analysed sentence against the question's (stemmed) terms.

    Terms in ``topic`` (the article title's) count ``TOPIC_WEIGHT`` as much.
    """
    wanted = set(query_terms)
    if topic:
        idf = {t: idf.get(t, 0.0) * (TOPIC_WEIGHT if t in topic else 1.0) for t in wanted}
    total = sum(idf.get(t, 0.0) for t in wanted) or 1.0
    scored: list[tuple[tuple[int, int], float]] = []
    for sentence in sentences:
        terms = sentence.terms
        present = wanted.intersection(terms)
        score = sum(idf.get(t, 0.0) for t in present) / total
        if present:
            positions = [i for i, t in enumerate(terms) if t in present]
            spread = (positions[-1] - positions[0] + 1) / len(terms)
            score += PROXIMITY_BONUS * (1.0 - spread) * len(present) / max(1, len(wanted))
            if kind in sentence.kinds:
                score += CUE_BONUS
        scored.append((sentence.span, score))
    return scored


def phrase_coverage(query_terms: list[str], idf: Mapping[str, float], sentences: list[Sentence]) -> float:
    """IDF-weighted share of the question's adjacent term pairs that stand side by side in some sentence.

    Names and set phrases ("جامعة الملك سعود") are pairs: a passage that has
    the words scattered is less likely about the same thing than one that has
    them together. 0 when the question has no pair.
    """
    pairs = [(a, b) for a, b in pairwise(query_terms) if a != b]
    if not pairs:
        return 0.0
    present = {pair for sentence in sentences for pair in pairwise(sentence.terms)}
    weights = [idf.get(a, 0.0) + idf.get(b, 0.0) for a, b in pairs]
    total = sum(weights) or 1.0
    return sum(w for w, pair in zip(weights, pairs, strict=True) if pair in present) / total


def pick_sentences(scored: list[tuple[tuple[int, int], float]], max_sentences: int = 1) -> list[tuple[int, int]]:
    """Spans of up to ``max_sentences`` best-scored sentences, in text order.

    A second sentence is only added when it scores nearly as well as the best
    (an answer split over two sentences), never just to fill the quota.
    """
    if not scored:
        return []
    ranked = sorted(scored, key=lambda item: item[1], reverse=True)
    best_score = ranked[0][1]
    if best_score <= 0:
        return [scored[0][0]]  # nothing matched: the passage's opening sentence
    return sorted(span for span, score in ranked[:max_sentences] if score >= 0.8 * best_score)


def best_sentences(
    passage: str,
    query_terms: list[str],
    idf: Mapping[str, float],
    analyze: Callable[[str], list[str]],
    max_sentences: int = 1,
    kind: str | None = None,
) -> list[tuple[int, int]]:
    """Spans (into ``passage``) of the sentence(s) that best answer the question."""
    return pick_sentences(sentence_scores(analyze_passage(passage, analyze), query_terms, idf, kind), max_sentences)
