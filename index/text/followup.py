"""Signs that a question leans on the one before it, read off its words alone (no corpus needed).

A follow-up such as «ومتى حدث ذلك؟», «ومن يرأسها؟» or "and who else?" names nothing
of its own: it opens with «و»/«ف» (or "and", "so"), or points back with a
pronoun or a demonstrative. These functions find those signs and the words a
question would hand on to the next one; ``index.search.followup`` decides with
them and the build's word counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .arabic import QUESTION_WORDS, STOPWORDS, normalize, without_marks

# Words and clitics that point back to something named earlier. The free pronouns (هو، هي) are not
# among them: «من هو …؟» and «ما هي …؟» are how Arabic asks a fully specified question.
_AR_REFERENCES = frozenset(
    normalize(w)
    for w in """
    ذلك ذاك هذا هذه تلك هؤلاء أولئك هناك هنالك حينها حينئذ وقتها آنذاك عندها بعدها قبلها
    عنه عنها عنهم منه منها منهم فيه فيها فيهم له لها لهم به بها بهم عليه عليها عليهم إليه إليها إليهم
    لديه لديها لديهم مثله مثلها غيره غيرها غيرهم أيضا كذلك الآخر الأخرى الآخرين
    """.split()
)
_EN_REFERENCES = frozenset(
    "it its it's that this these those they them their theirs he him his she her hers there then else other others"
    " same also too".split()
)
_EN_OPENERS = frozenset("and so also then but plus".split())
_EN_TWO_WORD_OPENERS = frozenset({("what", "about"), ("how", "about"), ("and", "what")})
# English words that name nothing: they count neither as content nor as a reference.
_EN_FUNCTION = frozenset(
    """
    a an the of in on at to for from by with about into over after before during since until than as
    is are was were be been being am do does did done doing has have had having will would shall should can could may
    might must i you we me us my our your what who whom whose which when where why how much many long far often old
    and or but so not no yes any some all each every more most less least very just only still yet ever again
    please tell know want does there here this that these those it its they them their he him his she her
    """.split()
)
# Attached pronouns that point back (يرأسها، تكلفته، عددهم). "ه" is read on the word as written:
# normalisation turns the feminine ending ة into ه as well.
_AR_SUFFIXES = ("هما", "هم", "هن", "ها")
_NOT_SUFFIXED = frozenset(normalize(w) for w in "الله اتجاه تجاه مياه وجه شبه انتباه نزيه فقيه كراهية".split())
_WORD_RE = re.compile(r"[^\W_]+(?:[.,'’][^\W_]+)*", re.UNICODE)
_LATIN_RE = re.compile(r"[A-Za-z]")


@dataclass(frozen=True)
class Signs:
    """What a question's own words say about leaning on the previous question."""

    opener: bool  # opens with «و»/«ف» before a question word, or "and", "so", "what about"...
    reference: bool  # a pronoun, a demonstrative or an attached pronoun that points back
    content: tuple[str, ...]  # its words that name something (as written), in order

    @property
    def leans(self) -> bool:
        return self.opener or self.reference


def words(text: str) -> list[str]:
    """The words of ``text`` as written, without diacritics (a shadda would split «سجّل») or punctuation."""
    return _WORD_RE.findall(without_marks(text))


def is_content(word: str) -> bool:
    """A word that names something: not a function word, a question word or a bare «و»/«ف» + one."""
    if _LATIN_RE.match(word):
        return word.lower() not in _EN_FUNCTION and word.lower() not in _EN_REFERENCES
    form = normalize(word)
    if form in STOPWORDS or form in QUESTION_WORDS or form in _AR_REFERENCES:
        return False
    return not (form[:1] in ("و", "ف") and (form[1:] in QUESTION_WORDS or form[1:] in STOPWORDS or form[1:] in _AR_REFERENCES))


def _opens(tokens: list[str]) -> bool:
    if not tokens:
        return False
    first = tokens[0]
    if _LATIN_RE.match(first):
        lowered = [t.lower() for t in tokens[:2]]
        return lowered[0] in _EN_OPENERS or tuple(lowered) in _EN_TWO_WORD_OPENERS
    form = normalize(first)
    if form in ("و", "ف"):
        return True
    if form[:1] not in ("و", "ف") or len(form) < 2:
        return False
    rest = form[1:]
    return rest in QUESTION_WORDS or rest in STOPWORDS or rest in _AR_REFERENCES or normalize("ماذا") == rest


def _refers(tokens: list[str]) -> bool:
    for token in tokens:
        if _LATIN_RE.match(token):
            if token.lower() in _EN_REFERENCES:
                return True
            continue
        form = normalize(token)
        bare = form[1:] if form[:1] in ("و", "ف") and len(form) > 3 else form
        if form in _AR_REFERENCES or bare in _AR_REFERENCES:
            return True
        if form in _NOT_SUFFIXED or bare in _NOT_SUFFIXED or form in STOPWORDS:
            continue
        if len(bare) >= 5 and bare.endswith(_AR_SUFFIXES):
            return True
        if len(bare) >= 5 and token.endswith("ه") and not bare.startswith("ال"):
            return True  # تكلفته، افتتاحه: a written ه (not ة) after a noun or a verb
    return False


def signs(question: str) -> Signs:
    """Opener, reference and content words of ``question`` (see ``Signs``)."""
    tokens = words(question)
    return Signs(_opens(tokens), _refers(tokens), tuple(t for t in tokens if is_content(t)))
