"""Follow-up questions: «ومتى حدث ذلك؟» understood in the context of the question before it.

The rule, offline and testable (``understand``): a question is a follow-up when

1. it leans on the previous one: it opens with «و»/«ف» before a question word (or
   "and", "so", "what about"), or it holds a pronoun or a demonstrative that points
   back (ذلك، هذه، يرأسها، تكلفته، "it", "that", "else"): ``text.followup.signs``; and
2. it names little of its own: at most ``MAX_OWN_WORDS`` content words.

Then the previous question's rarest content words (the fewest of the build's passages
hold them; up to ``MAX_CARRIED``, in their order) are carried into it. Otherwise it
stands alone: a fully specified question that opens with «و» («وما الجهة التي نظمت
مهرجان الزهور في ينبع؟») names enough of its own. On the tuning dialogues every
follow-up had at most three content words and every fully specified question seven or
more (docs/benchmarks/follow-up-questions-tuning-dialogues.md).

The carried words find the article; in the answer stages they weigh less
(``question.CARRIED_WEIGHT``), so the sentence answering the follow-up is picked by its own words.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from index.results import SearchResult
from index.text.arabic import is_mostly_latin, normalize
from index.text.followup import signs

MAX_OWN_WORDS = 3
MAX_CARRIED = 4
# Passages of the article the previous reply led with get this much on top of their re-ranked score
# (the scale of ``recency.WINDOW_BONUS``): a follow-up is most often about the answer just read.
FOLLOWUP_BONUS = 0.5
MAX_CARRIED_OTHER_SCRIPT = 6

# For each word, the share of the build's passages that hold it (0.0: none, or another script).
Shares = Callable[[Sequence[str]], list[float]]


@dataclass(frozen=True)
class Understood:
    """A question as the reader asked it and as it is searched: with the words carried from the one before."""

    asked: str
    carried: tuple[str, ...] = ()
    about: tuple[str, ...] = ()  # the article(s) the reply to it led with (``answered``); a follow-up prefers them

    @property
    def text(self) -> str:
        """What is searched."""
        return f"{self.asked} {' '.join(self.carried)}" if self.carried else self.asked

    @property
    def followup(self) -> bool:
        return bool(self.carried)

    def answered(self, result: SearchResult) -> Understood:
        """This question with the article its reply led with (none for "nothing found"), for the next follow-up."""
        about = (result.hits[0].article_id,) if result.hits and not result.no_answer else ()
        return replace(self, about=about)

    @property
    def shown(self) -> str:
        """How the reply says it was understood: the question, then the carried words in brackets."""
        return f"{self.asked} ({' '.join(self.carried)})" if self.carried else self.asked


def understand(question: str, previous: Understood | None, shares: Shares, corpus_latin: bool = False) -> Understood:
    """``question`` alone, or with the previous question's rare words carried in when the rule says it leans on it."""
    question = question.strip()
    if previous is None or not question:
        return Understood(question)
    sign = signs(question)
    if not sign.leans or len(sign.content) > MAX_OWN_WORDS:
        return Understood(question)
    carried = carry(previous, sign.content, shares, is_mostly_latin(previous.text) != corpus_latin)
    return Understood(question, carried, previous.about)


def carry(previous: Understood, own: Sequence[str], shares: Shares, other_script: bool = False) -> tuple[str, ...]:
    """The previous question's words worth carrying: its rarest content words not already asked, in their order.

    ``other_script``: the previous question is in another script than the corpus, which cannot rank
    its words; its first content words are carried.
    """
    held = {normalize(w) for w in own}
    candidates = [w for w in dict.fromkeys(signs(previous.text).content) if normalize(w) not in held]
    if not candidates:
        return ()
    if other_script:
        return tuple(candidates[:MAX_CARRIED_OTHER_SCRIPT])
    by_share = dict(zip(candidates, shares(candidates), strict=True))
    keep = set(sorted(candidates, key=lambda w: by_share[w])[:MAX_CARRIED])
    return tuple(w for w in candidates if w in keep)
