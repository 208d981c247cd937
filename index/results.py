"""What a search returns: articles (hits) with their best passage, the answer sentence and the reply band."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

# The three replies a question can get (``SearchResult.band``).
ANSWER, TENTATIVE, NOTHING = "answer", "tentative", "nothing"
# A snippet takes the answer sentence's neighbour only while both fit in this many characters.
SNIPPET_CHARS = 320


@dataclass
class Passage:
    """One chunk of an article; ``highlights`` are spans into ``text`` of the answering sentence(s)."""

    row: int
    text: str
    start: int
    end: int
    score: float
    highlights: list[tuple[int, int]] = field(default_factory=list)
    ordinal: int = 0  # the chunk's position in its article
    snippet: tuple[int, int] | None = None  # the answer sentence and at most one neighbour: what a reply shows

    @property
    def answer(self) -> str:
        """The best highlighted sentence (the one-line answer), or ``""``."""
        if not self.highlights:
            return ""
        s, e = self.highlights[0]
        return self.text[s:e]

    def segments(self, start: int = 0, end: int | None = None) -> list[tuple[str, bool]]:
        """``text[start:end]`` as (piece, highlighted) in order: how every view (bot, console, command line)
        marks the answering sentence."""
        end = len(self.text) if end is None else end
        out: list[tuple[str, bool]] = []
        pos = start
        for s, e in sorted(self.highlights):
            s, e = max(s, start), min(e, end)
            if s >= e:
                continue
            if s > pos:
                out.append((self.text[pos:s], False))
            out.append((self.text[s:e], True))
            pos = e
        if pos < end:
            out.append((self.text[pos:end], False))
        return out

    @property
    def snippet_span(self) -> tuple[int, int]:
        """What a compact reply shows of this passage: the snippet, else the answer sentence, else the start."""
        if self.snippet:
            return self.snippet
        if self.highlights:
            return self.highlights[0]
        return 0, min(len(self.text), SNIPPET_CHARS)


@dataclass
class Hit:
    """One article in the results, with its best passage first."""

    rank: int
    article_id: str
    title: str
    source: str
    url: str
    date: str
    score: float
    passage: Passage
    more: list[Passage] = field(default_factory=list)
    also_in: list[dict[str, str]] = field(default_factory=list)
    confidence: float = 0.0  # probability that this hit answers the question
    article_idx: int = -1
    cosine: float | None = None  # dense similarity of the best passage (None in lexical mode)
    answer_score: float = 0.0  # the answer sentence's probability of holding the answer

    def to_json(self) -> dict[str, Any]:
        """The stable JSON shape of ``search --json`` (extra keys may be added, none removed)."""
        return {
            "rank": self.rank,
            "article_id": self.article_id,
            "title": self.title,
            "source": self.source,
            "url": self.url,
            "date": self.date,
            "text": self.passage.text,
            "score": round(float(self.score), 6),
            "confidence": round(float(self.confidence), 4),
            "answer": self.passage.answer,
            "answer_score": round(float(self.answer_score), 4),
            "highlights": [list(span) for span in self.passage.highlights],
            "snippet": self.passage.text[slice(*self.passage.snippet_span)],
            "also_in": self.also_in,
            "more": [{"text": p.text, "score": round(float(p.score), 6)} for p in self.more],
        }


def banded(hits: list[Hit], low: float, high: float) -> tuple[list[Hit], float, bool, bool]:
    """The band rule: (the hits shown, the top hit's answer probability, "nothing found", "no sure answer").
    Below ``low`` nothing is shown; from ``high`` the top hit's sentence is the answer."""
    confidence = hits[0].confidence if hits else 0.0
    no_answer = not hits or confidence < low
    tentative = not no_answer and confidence < high
    return ([] if no_answer else hits), confidence, no_answer, tentative


@dataclass
class SearchResult:
    question: str
    mode: str
    hits: list[Hit]
    no_answer: bool = False  # "nothing found": no hits are shown
    confidence: float = 0.0  # the probability that the top hit answers the question
    timings: dict[str, float] = field(default_factory=dict)
    signals: dict[str, float] = field(default_factory=dict)  # the answerability features of the top hit
    tentative: bool = False  # hits shown as the closest passages under "no sure answer", not as an answer
    lang: str = "ar"  # the question's language: "en" for Latin-script questions
    floor: float = 0.0  # the probability below which a hit is not worth showing ("nothing found" for the top one)
    understood_as: str | None = None  # a follow-up: the question with the words carried from the one before
    pinned: bool = False  # the top hit is the passage an editor pinned for this question (``index.search.desk``)
    cross_language: bool = False  # asked in another script than the corpus (its bands are their own)

    @property
    def answer_line(self) -> str:
        """The sentence the 💡 line shows: the top hit's answer, in the sure band only (else "")."""
        return self.hits[0].passage.answer if self.band == ANSWER else ""

    @property
    def band(self) -> str:
        """``ANSWER``, ``TENTATIVE`` or ``NOTHING``: which of the three replies this result gets."""
        return NOTHING if self.no_answer or not self.hits else TENTATIVE if self.tentative else ANSWER

    def confident_only(self, threshold: float | None = None) -> SearchResult:
        """The same result keeping the top hit and the other hits whose own confidence reaches ``threshold``
        (by default the ``floor`` the search used).

        The bot shows readers only sources that look relevant on their own, not
        the best of the rest.
        """
        threshold = self.floor if threshold is None else threshold
        kept = [hit for i, hit in enumerate(self.hits) if i == 0 or hit.confidence >= threshold]
        for rank, hit in enumerate(kept, start=1):
            hit.rank = rank
        return replace(self, hits=kept)

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "results": [h.to_json() for h in self.hits],
            "no_answer": self.no_answer,
            "confidence": round(float(self.confidence), 4),
            "answer_probability": round(float(self.confidence), 4),
            "tentative": self.tentative,
            "band": self.band,
            "answer": self.answer_line,
            "mode": self.mode,
            "lang": self.lang,
            "understood_as": self.understood_as,
            "pinned": self.pinned,
        }
