"""What kind of answer a sentence holds, and what kind a question asks for.

Readers ask "who / when / where / how many / how much / why / how / what is";
the sentence that answers holds a person, a date, a place, a number with its
unit, a reason clause, a method or a definition. No Arabic named-entity tagger
is both well kept and offline, so both sides are recognised with small word
lists written for this project (titles and common given names for people,
institution words for organisations, a gazetteer and place words for places,
connectives for reasons) plus patterns for numbers, years and months. The lists
are cues for a learned model (``answers``), not a tagger: a hit is a hint.

Sentence cues are computed once per sentence at build time and stored as a
bit mask (``CUE_BITS``); question types are computed per question.
"""

from __future__ import annotations

import hashlib
import re

from .arabic import normalize, strip_prefixes, tokenize

# ------------------------------------------------------------------ sentence cues

CUES = ("number", "time", "person", "org", "place", "reason", "definition", "amount", "latin_name", "year", "said", "method")
CUE_BITS = {name: 1 << i for i, name in enumerate(CUES)}


def _words(text: str) -> frozenset[str]:
    return frozenset(normalize(w) for w in text.split())


_MONTHS = _words(
    "يناير فبراير مارس أبريل إبريل مايو يونيو يونيه يوليو يوليه أغسطس سبتمبر أكتوبر نوفمبر ديسمبر "
    "كانون شباط آذار نيسان أيار حزيران تموز آب أيلول تشرين "
    "محرم ربيع جمادى رمضان شوال القعدة الحجة "
    "january february march april may june july august september october november december"
)
_TIME_WORDS = _words(
    "السبت الأحد الاثنين الثلاثاء الأربعاء الخميس الجمعة أمس اليوم غدا الماضي المقبل القرن العصر الميلادي الهجري"
)
_NUMBER_WORDS = _words(
    "ألف آلاف ألفين مليون ملايين مليونين مليار مليارات مئة مائة مئات مئتين مائتين عشرة عشر عشرين ثلاثين أربعين خمسين "
    "ستين سبعين ثمانين تسعين اثنين اثنان اثنتين ثلاث ثلاثة أربع أربعة خمس خمسة ست ستة سبع سبعة ثمان ثماني ثمانية تسع "
    "تسعة نصف ربع ثلث ضعف أضعاف مرتين واحد واحدة الأول الثاني الثالث الرابع الخامس"
)
_UNITS = _words(
    "ريال ريالات دولار دولارات يورو جنيه جنيهات درهم دراهم دينار دنانير ليرة ليرات روبية ين % ٪ بالمئة بالمائة المئة المائة "
    "كيلومتر كيلومترات كلم كم متر أمتار مترا سنتيمتر ميل أميال طن أطنان كيلوغرام كيلوجرام كجم غرام جرام برميل براميل لتر "
    "هكتار فدان ساعة ساعات دقيقة دقائق ثانية يوما أيام أسبوعا أسابيع شهرا أشهر شهور عاما أعوام سنة سنوات سنين مرة مرات "
    "نسمة شخص أشخاص مواطن درجة درجات ميجاوات ميغاواط"
)
_PERSON_TITLES = _words(
    "الأمير الأميرة الملك الملكة الشيخ الشيخة الدكتور الدكتورة د السيد السيدة الرئيس رئيس الوزير وزير وزيرة الأستاذ "
    "المهندس اللواء العميد العقيد المشير الإمام البابا الشاعر الشاعرة الكاتب الكاتبة الفنان الفنانة اللاعب "
    "اللاعبة المدرب المطرب المطربة الممثل الممثلة الروائي المؤرخ الفيلسوف الخليفة السلطان القائد النبي الصحفي "
    "المتحدث الناطق المدير المديرة الحاكم المحافظ أمير سمو معالي فضيلة الراحل المواطن المواطنة القاضي المفتي "
    "مؤسس مؤلف المخترع العالم الطبيب المحامي"
)
_GIVEN_NAMES = _words(
    "محمد أحمد علي عبدالله عبد خالد سعود فهد سلمان فيصل عبدالعزيز تركي نايف بندر سلطان ناصر سعد عمر عثمان حسن "
    "حسين إبراهيم يوسف مصطفى محمود طارق وليد ماجد منصور صالح سليمان عادل جمال كمال سامي هشام ياسر زياد رامي عمرو "
    "مشعل متعب نواف ممدوح مساعد بدر راشد حمد حمدان زايد مبارك جاسم عيسى موسى هارون داود إسماعيل يحيى زكريا أنور "
    "نبيل نجيب رشيد مجيد حامد حميد أسامة معاوية هاني وائل أيمن باسم عماد جابر جبران نزار شريف رفيق توفيق نصر "
    "فاطمة عائشة مريم نورة نوره سارة هند ليلى زينب خديجة أمل هدى منى سلمى رانيا دينا لمى ريم حصة لطيفة جميلة "
    "ابن بن بنت أبو أبي أم آل"
)
_ORG_WORDS = _words(
    "شركة الشركة وزارة الوزارة هيئة الهيئة جامعة الجامعة منظمة المنظمة مؤسسة المؤسسة نادي النادي مجلس المجلس حزب "
    "الحزب جمعية الجمعية بنك البنك مصرف المصرف صندوق الصندوق مركز المركز معهد المعهد اتحاد الاتحاد لجنة اللجنة وكالة "
    "الوكالة محكمة المحكمة مستشفى المستشفى مدرسة المدرسة كلية الكلية قناة القناة صحيفة الصحيفة مجموعة المجموعة "
    "جيش الجيش حركة الحركة تنظيم التنظيم برنامج البرنامج مشروع المشروع"
)
_PLACE_WORDS = _words(
    "مدينة محافظة منطقة دولة قرية عاصمة ولاية إقليم بلدة حي جزيرة جزر نهر بحر جبل جبال صحراء شمال جنوب شرق غرب وسط "
    "شمالي جنوبي شرقي غربي شمالا جنوبا شرقا غربا ميناء مطار قارة بلد بلاد مقاطعة"
)
_PLACES = _words(
    "السعودية المملكة الرياض جدة مكة المكرمة المدينة المنورة الدمام الطائف أبها جازان جيزان نجران تبوك حائل القصيم "
    "بريدة عنيزة الخبر الأحساء الظهران ينبع الجبيل القطيف الباحة عسير الجوف عرعر سكاكا القريات خميس مشيط "
    "مصر القاهرة الإسكندرية سوريا دمشق حلب حمص العراق بغداد الموصل البصرة لبنان بيروت الأردن عمان فلسطين القدس "
    "غزة رام الضفة الكويت قطر الدوحة الإمارات دبي أبوظبي ظبي الشارقة البحرين المنامة مسقط اليمن صنعاء عدن تعز "
    "السودان الخرطوم ليبيا طرابلس بنغازي تونس الجزائر المغرب الرباط الدار البيضاء موريتانيا نواكشوط الصومال "
    "مقديشو جيبوتي تركيا إسطنبول أنقرة إيران طهران أفغانستان كابل باكستان إسلام الهند نيودلهي الصين بكين اليابان "
    "طوكيو كوريا روسيا موسكو أوكرانيا ألمانيا برلين فرنسا باريس بريطانيا لندن إنجلترا إيطاليا روما إسبانيا "
    "مدريد برشلونة أمريكا الأمريكية واشنطن نيويورك كندا البرازيل الأرجنتين المكسيك أستراليا إندونيسيا ماليزيا "
    "نيجيريا إثيوبيا كينيا أوروبا آسيا أفريقيا إفريقيا الخليج الأندلس الشام"
)
_REASON_WORDS = _words("لأن لأنه لأنها بسبب نتيجة نظرا لأجل أجل كي لكي جراء إثر بفضل لذلك لهذا مما أدى يعود سبب أسباب")
_DEFINITION_WORDS = _words("هو هي يعد تعد يعتبر تعتبر عبارة يطلق تطلق يعرف تعرف يسمى تسمى")
_SAID_WORDS = _words("قال قالت أكد أكدت أوضح أوضحت أشار أشارت صرح صرحت أضاف أضافت ذكر ذكرت أعلن أعلنت said says")
_METHOD_WORDS = _words("طريق بواسطة خلال باستخدام بطريقة عبر بفضل طريقة")

_DIGIT_RE = re.compile(r"\d")
# A year, Gregorian or Hijri (1436 هـ): 1000-2099, whole or at the start of "2023م" / "1436هـ". One pattern for
# the build's sentence cues, the question's years and answerability's "a year the question names is missing".
YEAR_RE = re.compile(r"(?<!\d)(?:1[0-9]|20)\d\d(?!\d)")
_LATIN_NAME_RE = re.compile(r"\b[A-Z][a-z]{2,}")


def _forms(token: str) -> set[str]:
    """A token as written, without a glued conjunction (و ف ب), and without its clitic prefixes (وال بال لل ...)."""
    forms = {token, strip_prefixes(token)}
    if len(token) > 3 and token[0] in "وفب":
        forms |= {token[1:], strip_prefixes(token[1:])}
    if len(token) > 4 and token.endswith("ا"):  # accusative tanwin: "دولارا", "عاما"
        forms |= {f[:-1] for f in forms}
    return forms


def _bare(word: str) -> str:
    return strip_prefixes(word)


# Forms that are also common words: "على" normalises to the name "علي", "واحد" loses its "و" to
# "احد" (Sunday without its article), "الإمام" without its article is "امام" (in front of).
_AMBIGUOUS = _words(
    "علي عمر حسن سعد أمل نصر بدر جمال كمال صالح عادل سامي هدى منى ريم سلمى رشيد حميد حامد أنور شريف رفيق توفيق نبيل "
    "نجيب مجيد أبي أم أب أحد إمام عالم هدف"
)


def _lexicon(*groups: frozenset[str]) -> frozenset[str]:
    """Word lists compared on every form of a token: each entry also without its article, less the ambiguous forms."""
    return frozenset(form for group in groups for word in group for form in _forms(word)) - _AMBIGUOUS


_NUMBERS_L = _lexicon(_NUMBER_WORDS)
_UNITS_L = _lexicon(_UNITS)
_TIME_L = _lexicon(_MONTHS, _TIME_WORDS)
_PERSON_L = _lexicon(_GIVEN_NAMES, _PERSON_TITLES)
_ORG_L = _lexicon(_ORG_WORDS)
_PLACE_L = _lexicon(_PLACES, _PLACE_WORDS)
_REASON_L = _lexicon(_REASON_WORDS)
_SAID_L = _lexicon(_SAID_WORDS)
_METHOD_L = _lexicon(_METHOD_WORDS)


def sentence_cues(sentence: str) -> int:
    """Bit mask (``CUE_BITS``) of the kinds of answer ``sentence`` may hold."""
    tokens = tokenize(sentence)
    forms: set[str] = set()
    for token in tokens:
        forms |= _forms(token)
    mask = 0
    if any(_DIGIT_RE.search(t) for t in tokens) or forms & _NUMBERS_L:
        mask |= CUE_BITS["number"]
        if forms & _UNITS_L or "%" in sentence or "٪" in sentence:
            mask |= CUE_BITS["amount"]
    if any(YEAR_RE.fullmatch(t) for t in tokens):
        mask |= CUE_BITS["year"] | CUE_BITS["time"]
    checks = (
        (_TIME_L, "time"),
        (_PERSON_L, "person"),
        (_ORG_L, "org"),
        (_PLACE_L, "place"),
        (_REASON_L, "reason"),
        (_SAID_L, "said"),
        (_METHOD_L, "method"),
    )
    for lexicon, name in checks:
        if forms & lexicon:
            mask |= CUE_BITS[name]
    if set(tokens) & _DEFINITION_WORDS:
        mask |= CUE_BITS["definition"]
    if _LATIN_NAME_RE.search(sentence):
        mask |= CUE_BITS["latin_name"]
    return mask


# Changes to the word lists change stored analyses: builds key their cached analyses by this digest.
LEXICON_DIGEST = hashlib.sha256(
    repr(
        sorted(
            (name, sorted(words))
            for name, words in {
                "n": _NUMBERS_L,
                "u": _UNITS_L,
                "t": _TIME_L,
                "p": _PERSON_L,
                "o": _ORG_L,
                "l": _PLACE_L,
                "r": _REASON_L,
                "s": _SAID_L,
                "m": _METHOD_L,
                "d": _DEFINITION_WORDS,
                "c": frozenset(CUES),
            }.items()
        )
    ).encode()
).hexdigest()[:12]


def cue_names(mask: int) -> list[str]:
    """The names of the cues set in ``mask`` (for debugging and tests)."""
    return [name for name in CUES if mask & CUE_BITS[name]]


# ------------------------------------------------------------------ question types

QUESTION_TYPES = ("person", "time", "place", "number", "amount", "reason", "method", "definition", "org", "yesno", "other")

# The cue a sentence must hold to answer each question type (None: any sentence may).
TYPE_CUE: dict[str, str | None] = {
    "person": "person",
    "time": "time",
    "place": "place",
    "number": "number",
    "amount": "amount",
    "reason": "reason",
    "method": "method",
    "definition": "definition",
    "org": "org",
    "yesno": None,
    "other": None,
}

# Nouns right after the question word that say what is asked: "في أي مدينة" -> place.
_TYPE_NOUNS: dict[str, str] = {
    **dict.fromkeys(_words("عام سنة سنه تاريخ يوم شهر قرن موعد وقت عصر فترة زمن year date day month century time"), "time"),
    **dict.fromkeys(
        _words("مدينة دولة منطقة عاصمة مكان بلد بلدة قرية محافظة ولاية قارة جزيرة حي city country place region capital"),
        "place",
    ),
    **dict.fromkeys(
        _words("عدد نسبة كمية مساحة طول ارتفاع عمر حجم وزن مدة عرض عمق درجة number percentage population age"), "number"
    ),
    **dict.fromkeys(_words("قيمة سعر تكلفة ثمن مبلغ ميزانية رسوم راتب price cost value amount"), "amount"),
    **dict.fromkeys(
        _words("اسم شخص لاعب رئيس مؤلف كاتب مكتشف مخترع مؤسس مدرب ملك أمير وزير شاعر person player president author"),
        "person",
    ),
    **dict.fromkeys(_words("سبب أسباب سر دافع reason"), "reason"),
    **dict.fromkeys(_words("طريقة كيفية وسيلة أسلوب way method"), "method"),
    **dict.fromkeys(
        _words("حزب شركة منظمة نادي جامعة هيئة وزارة مؤسسة فريق منتخب صحيفة قناة party company organization club team"),
        "org",
    ),
}

_ARABIC_WH: dict[str, str] = {
    "متي": "time",
    "امتي": "time",
    "اين": "place",
    "وين": "place",
    "كم": "number",
    "بكم": "amount",
    "لماذا": "reason",
    "ليش": "reason",
    "لم": "reason",
    "كيف": "method",
    "هل": "yesno",
    "من": "person",
    "منو": "person",
    "ما": "other",
    "ماذا": "other",
    "ماهو": "other",
    "ماهي": "other",
    "اي": "other",
    "ايه": "other",
    "شو": "other",
}
_ENGLISH_WH: dict[str, str] = {
    "when": "time",
    "where": "place",
    "why": "reason",
    "who": "person",
    "whom": "person",
    "whose": "person",
    "how": "method",
    "what": "other",
    "which": "other",
    "is": "yesno",
    "are": "yesno",
    "was": "yesno",
    "were": "yesno",
    "did": "yesno",
    "does": "yesno",
    "do": "yesno",
    "can": "yesno",
    "has": "yesno",
    "have": "yesno",
}
_COPULA = _words("هو هي هم كان كانت is was are were the a an of")


def question_type(question: str) -> str:
    """One of ``QUESTION_TYPES``, from the question word and the noun after it."""
    tokens = tokenize(question)
    for i, token in enumerate(tokens[:6]):
        # "وما" / "فمن": a conjunction glued to the question word
        word = token[1:] if len(token) > 2 and token[0] in "وف" and token[1:] in _ARABIC_WH else token
        wh = _ARABIC_WH.get(word) or _ENGLISH_WH.get(word)
        if wh is None or (i > 0 and (wh == "yesno" or word == "من")):
            continue  # "is" or the preposition "من" inside the question, not opening it
        following = [t for t in tokens[i + 1 : i + 5] if t not in _COPULA and t != "في"]
        noun = following[0] if following else ""
        typed = _TYPE_NOUNS.get(noun) or _TYPE_NOUNS.get(_bare(noun))
        if word == "how" and noun in _HOW_MANY:
            return _HOW_MANY[noun]
        if wh == "number":
            return "amount" if typed == "amount" or noun in _UNITS else "number"
        if word == "من" and noun == "اين":
            return "place"
        if typed and wh in ("other", "person"):
            return typed
        if wh == "other" and _is_definition(tokens[i + 1 :]):
            return "definition"
        return wh
    return "other"


_HOW_MANY = {"many": "number", "long": "number", "old": "number", "far": "number", "big": "number", "much": "amount"}


def _is_definition(rest: list[str]) -> bool:
    """ "ما هو الإيدز؟" / "what is AIDS?": a copula then a short subject (at most three words)."""
    if not rest or rest[0] not in _COPULA:
        return False
    subject = [t for t in rest[1:] if t not in _COPULA]
    return 0 < len(subject) <= 3
