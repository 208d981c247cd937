"""What a question asks for and what a sentence holds (index.cues)."""

import pytest

from index.text.cues import CUE_BITS, cue_names, question_type, sentence_cues


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("من سجل أهداف المغرب في النهائي؟", "person"),
        ("متى افتتح المطار الجديد؟", "time"),
        ("في أي عام تأسست الجامعة؟", "time"),
        ("أين تقع محطة الطاقة الشمسية؟", "place"),
        ("في أي مدينة ولد الشاعر؟", "place"),
        ("ما عاصمة أستراليا؟", "place"),
        ("كم عدد الأسر المتضررة؟", "number"),
        ("كم سعر برميل النفط؟", "amount"),
        ("بكم بيعت اللوحة؟", "amount"),
        ("لماذا علقت الدراسة في جدة؟", "reason"),
        ("وما سبب الحريق؟", "reason"),
        ("كيف تم اكتشاف الدواء؟", "method"),
        ("ما هو الإيدز؟", "definition"),
        ("ماهو الحزب الذي يرأسه أردوغان؟", "org"),
        ("هل فاز الهلال بالدوري؟", "yesno"),
        ("ماذا قال الوزير عن الميزانية؟", "other"),
        ("Who won the final?", "person"),
        ("When did the metro open?", "time"),
        ("How many people died in the fire?", "number"),
        ("How much does the ticket cost?", "amount"),
        ("Which city hosted the summit?", "place"),
        ("What is AIDS?", "definition"),
        ("Why were schools closed in Jeddah?", "reason"),
    ],
)
def test_question_types(question, kind):
    assert question_type(question) == kind


def test_the_preposition_min_inside_a_question_is_not_who():
    assert question_type("ما الذي منع الطلاب من الحضور؟") == "other"


@pytest.mark.parametrize(
    ("sentence", "present", "absent"),
    [
        ("وسجل هدفي المغرب اللاعب حمزة العلمي في الدقيقة 23", {"person", "number", "place"}, {"reason"}),
        ("ارتفع سعر البرميل إلى 80 دولاراً", {"number", "amount"}, {"person", "time"}),
        ("افتتح المعرض في الثالث من أكتوبر 2026", {"time", "year"}, set()),
        ("علقت الدراسة بسبب الأمطار الغزيرة", {"reason"}, {"number"}),
        ("الإيدز هو مرض يصيب الجهاز المناعي", {"definition"}, {"time"}),
        ("قال الأمير محمد بن سلمان إن المشروع كبير", {"person", "said"}, set()),
        ("The company Aramco announced it", {"latin_name"}, set()),
    ],
)
def test_sentence_cues(sentence, present, absent):
    names = set(cue_names(sentence_cues(sentence)))
    assert present <= names, names
    assert not (absent & names), names


def test_common_words_that_look_like_names_or_days_are_not_cues():
    """ "على" normalises to the name "علي", "واحد" loses its "و" to "احد" (Sunday), "أمام" is "in front of"."""
    mask = sentence_cues("فاز الفريق على منافسه بهدف واحد أمام جماهيره")
    assert not mask & (CUE_BITS["person"] | CUE_BITS["time"] | CUE_BITS["reason"])


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("1436", ["1436"]),  # a Hijri year, as Saudi outlets write them
        ("عام 1492", ["1492"]),
        ("2023م", ["2023"]),
        ("1445هـ", ["1445"]),
        ("2099", ["2099"]),
        ("999", []),
        ("2100", []),
        ("12345", []),
        ("ص1999", ["1999"]),
    ],
)
def test_one_year_pattern_for_sentences_questions_and_dates(text, years):
    """The build's sentence cues, the question's named years and answerability read years with one pattern."""
    from index.text.cues import YEAR_RE

    assert YEAR_RE.findall(text) == years


def test_a_question_names_hijri_and_early_years(searcher):
    assert searcher.analyse("ماذا حدث عام 1436هـ؟").q.years == {"1436"}
    assert searcher.analyse("متى سقطت غرناطة عام 1492؟").q.years == {"1492"}
    assert searcher.analyse("كم سعره؟ 999 ريالاً").q.years == frozenset()
