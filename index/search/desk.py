"""The desk's decisions applied to a search: blocked sources left out, a pinned passage first (``corpus.desk``).

A pin applies to its question only (``question_key``). Its passage is found again in the build
by the article's id and the passage's text, so rebuilds that renumber rows do not lose it; when
the article left the index or changed (another body key), the pin is reported as *dropped* and
the caller records that and tells the editors.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from index.answer.ordering import rerank_hits
from index.answer.selector import choose_answers
from index.corpus.desk import Desk, Pin
from index.results import Hit, Passage, SearchResult, banded
from index.text.arabic import normalize

from .searcher import Searcher

PINNED_CONFIDENCE = 1.0  # an editor said so: the sure band


@dataclass
class Applied:
    """The result as readers get it, and the pins found stale on the way."""

    result: SearchResult
    dropped: list[Pin] = field(default_factory=list)  # with ``reason`` "removed" or "changed"


def apply_desk(searcher: Searcher, result: SearchResult, desk: Desk, question: str) -> Applied:
    """``result`` without blocked sources and, when ``question`` has a pin, with the pinned passage first."""
    hits = [h for h in result.hits if desk.blocked(h.url) is None] if desk.blocks else list(result.hits)
    pin = desk.pin_for(question)
    dropped: list[Pin] = []
    if pin is not None:
        pinned, why = pinned_hit(searcher, pin)
        if pinned is None:
            dropped.append(replace(pin, undone=True, reason=why, at=""))
        elif desk.blocked(pinned.url) is None:
            others = [h for h in hits if h.article_id != pin.article_id]
            hits = [pinned, *others]
            choose_answers(searcher.analyse(result.question), hits[:1], searcher.models.sentence)
            pinned.confidence = PINNED_CONFIDENCE
            hits = rerank_hits(hits, range(len(hits)))
            return Applied(
                replace(result, hits=hits, no_answer=False, tentative=False, confidence=PINNED_CONFIDENCE, pinned=True),
                dropped,
            )
    if len(hits) == len(result.hits):
        return Applied(result, dropped)
    # the band was the blocked top hit's: the new top hit's own answer probability decides it now
    shown, confidence, no_answer, tentative = banded(rerank_hits(hits, range(len(hits))), *searcher.bands(result.cross_language))
    return Applied(replace(result, hits=shown, confidence=confidence, no_answer=no_answer, tentative=tentative), dropped)


def pinned_hit(searcher: Searcher, pin: Pin) -> tuple[Hit | None, str]:
    """The hit a pin names in the current build, or (None, "removed" / "changed")."""
    stored = searcher.stored
    (idx, *_) = stored.article_index([pin.article_id]) or [None]
    if idx is None:
        return None, "removed"
    article = stored.articles([idx]).get(idx)
    if article is None:  # gone between the two reads (an update in place)
        return None, "removed"
    if pin.body_key and article["body_key"] != pin.body_key:
        return None, "changed"
    wanted = " ".join(normalize(pin.passage).split())
    for chunk in stored.article_chunks(idx):
        if " ".join(normalize(chunk["text"]).split()) == wanted:
            passage = Passage(
                chunk["row"], chunk["text"], chunk["start"], chunk["end"], PINNED_CONFIDENCE, ordinal=chunk["ordinal"]
            )
            hit = Hit(1, article["id"], article["title"], article["source"], article["url"], article["date"], 1.0, passage)
            hit.article_idx = idx
            return hit, ""
    return None, "changed"
