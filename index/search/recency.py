"""Time in answers: a named time prefers its window; otherwise recent articles join the candidates and lead among equals.

"Today" in a news archive means the newest day in it, not the server's clock (an
archive of 2015 news answers "what happened yesterday?" with its own
yesterday), so windows are measured back from the newest article's date.
Pure functions over article days (days since 1970-01-01; -1: no date).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from index.text.arabic import normalize
from index.text.dates import UNKNOWN_DAY, article_day

__all__ = [
    "RECENCY_DEPTH",
    "RECENCY_MARGIN",
    "RECENT_CANDIDATES",
    "RECENT_DAYS",
    "TIE_MARGIN",
    "UNKNOWN_DAY",
    "WINDOW_BONUS",
    "Window",
    "article_day",
    "newer_first_among_ties",
    "time_window",
    "window_bonus",
]


# A bonus of this size lifts an article of the asked-for window over a slightly more relevant one outside it.
WINDOW_BONUS = 0.5
# Two hits whose scores are this close are "about equally relevant": the newer one goes first.
TIE_MARGIN = 0.02
# News about now (a question naming no time): articles this many days from the newest are "recent";
RECENT_DAYS = 30
# this many of their passages join the candidates, whatever the older ones score;
RECENT_CANDIDATES = 20
# and, among the top RECENCY_DEPTH hits, a newer article that restates the first one's answer leads when its own
# answer sentence (read as if it led) is this close to the first hit's (index/answer/restating.py; bench/news_now.py).
RECENCY_MARGIN = 0.2
RECENCY_DEPTH = 3


@dataclass(frozen=True)
class Window:
    """Days back from the newest article: [newest - start, newest - end]; ``latest``: newer is better throughout."""

    start: int
    end: int
    latest: bool = False


# Normalised phrases -> window. Longer phrases are tried first ("الأسبوع الماضي" before "الأسبوع").
_WINDOWS: dict[str, Window] = {
    "اليوم": Window(0, 0),
    "today": Window(0, 0),
    "tonight": Window(0, 0),
    "امس": Window(1, 1),
    "البارحه": Window(1, 1),
    "yesterday": Window(1, 1),
    "هذا الاسبوع": Window(6, 0),
    "الاسبوع الحالي": Window(6, 0),
    "this week": Window(6, 0),
    "الاسبوع الماضي": Window(13, 7),
    "last week": Window(13, 7),
    "هذا الشهر": Window(30, 0),
    "الشهر الحالي": Window(30, 0),
    "this month": Window(30, 0),
    "الشهر الماضي": Window(60, 30),
    "last month": Window(60, 30),
    "هذا العام": Window(365, 0),
    "هذه السنه": Window(365, 0),
    "this year": Window(365, 0),
    "مؤخرا": Window(30, 0, latest=True),
    "recently": Window(30, 0, latest=True),
    "اخر": Window(0, 0, latest=True),
    "احدث": Window(0, 0, latest=True),
    "الاخيره": Window(0, 0, latest=True),
    "الاخير": Window(0, 0, latest=True),
    "latest": Window(0, 0, latest=True),
    "newest": Window(0, 0, latest=True),
    "most recent": Window(0, 0, latest=True),
}
_PHRASES = sorted(_WINDOWS, key=len, reverse=True)
_BOUNDARY = r"(?<![\w])(?:[وفب]|لل|ل)?{}(?![\w])"


# compiled once, in the order they are tried (the first phrase found decides)
_PATTERNS = [(re.compile(_BOUNDARY.format(re.escape(phrase))), _WINDOWS[phrase]) for phrase in _PHRASES]
# any of them: one search tells most questions (which name no time) there is nothing to look for
_ANY = re.compile(_BOUNDARY.format("(?:" + "|".join(map(re.escape, _PHRASES)) + ")"))


def time_window(question: str) -> Window | None:
    """The window a question names ("ماذا حدث أمس؟" -> yesterday), or None."""
    text = normalize(question)
    if not _ANY.search(text):
        return None
    for pattern, window in _PATTERNS:
        if pattern.search(text):
            return window
    return None


def window_bonus(days: np.ndarray, newest: int, window: Window, bonus: float = WINDOW_BONUS) -> np.ndarray:
    """Per article day: ``bonus`` inside the window (for "latest", falling with age), 0 outside or undated."""
    days = np.asarray(days)
    known = days != UNKNOWN_DAY
    age = newest - days
    if window.latest:  # "the latest ...": the newest day gets the whole bonus, a month back half of it
        return np.where(known, bonus / (1.0 + np.maximum(age, 0) / 30.0), 0.0)
    inside = known & (age >= window.end) & (age <= window.start)
    return np.where(inside, bonus, 0.0)


def newer_first_among_ties(scores: list[float], days: list[int], margin: float = TIE_MARGIN) -> list[int]:
    """An order of the hits (given best first) where, among hits within ``margin`` of each other, newer comes first.

    Walks the list once, swapping a hit with its better-scored neighbour when they tie and it is newer,
    so a much better hit is never overtaken.
    """
    order = list(range(len(scores)))
    changed = True
    while changed:
        changed = False
        for i in range(len(order) - 1):
            a, b = order[i], order[i + 1]
            if abs(scores[a] - scores[b]) <= margin and days[b] > days[a]:
                order[i], order[i + 1] = b, a
                changed = True
    return order
