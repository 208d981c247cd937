from index.text.arabic import (
    STOPWORDS,
    analyze,
    analyze_question,
    is_mostly_latin,
    normalize,
    stem_tokens,
    strip_prefixes,
    tokenize,
)


def test_diacritics_and_tatweel_removed():
    assert normalize("مُحَمَّدٌ") == "محمد"
    assert normalize("الســـلام") == "السلام"
    assert normalize("قياديَّين") == "قياديين"


def test_letter_forms_unified():
    assert normalize("أحمد إبراهيم آمنة ٱلله") == "احمد ابراهيم امنه الله"
    assert normalize("مستشفى") == normalize("مستشفي")
    assert normalize("مدرسة") == "مدرسه"
    assert normalize("مسؤول") == normalize("مسوول")
    assert normalize("شاطئ") == "شاطي"


def test_digits_unified():
    assert normalize("٢٠٢٦") == "2026"
    assert normalize("۱۲۳") == "123"
    assert normalize("٣٫٥") == "3.5"


def test_invisible_and_presentation_forms():
    assert normalize("ال\u200cعراق\u200f") == "العراق"
    assert normalize("ﻻ") == "لا"


def test_latin_casefolded_and_spaces_collapsed():
    assert normalize("  SolarTech   Global ") == "solartech global"


def test_normalize_does_not_touch_the_input():
    text = "أكرمُ الكعبيّ"
    normalize(text)
    assert text == "أكرمُ الكعبيّ"


def test_tokenize_keeps_numbers_whole():
    assert tokenize("صعد 2.4% إلى 91.5 دولار و1,000 برميل") == ["صعد", "2.4", "الي", "91.5", "دولار", "و1,000", "برميل"]


def test_prefix_stripping_and_stemming():
    assert strip_prefixes("والمدارس") == "مدارس"
    assert strip_prefixes("الي") == "الي"  # too short to strip
    assert stem_tokens(["والمدارس"], "light+snowball") == stem_tokens(["المدارس"], "light+snowball")
    assert stem_tokens(["produces", "2026"], "snowball") == stem_tokens(["produce", "2026"], "snowball")
    assert stem_tokens(["2026"], "snowball") == ["2026"]


def test_unknown_stemmer_is_a_clear_error():
    import pytest

    with pytest.raises(ValueError, match="unknown stemmer"):
        stem_tokens(["كتاب"], "porter")


def test_analyze_drops_stopwords_and_matches_spelling_variants():
    assert "في" not in analyze("في المدرسة")
    assert analyze("المستشفى الجديد") == analyze("المستشفي الجديد")
    assert analyze("٢٠٢٦") == analyze("2026")


def test_question_words_dropped_only_on_question_side():
    assert analyze_question("متى افتتح المعرض؟") == analyze("افتتح المعرض")
    # a question made only of function words still yields terms rather than nothing
    assert analyze_question("من هو؟")
    # a second question word joined to "and" ("... وأين") is a question word too
    assert analyze_question("متى وأين ولد ابن خلدون؟") == analyze("ولد ابن خلدون")


def test_stopwords_are_normalised():
    assert all(w == normalize(w) for w in STOPWORDS)


def test_language_detection():
    assert is_mostly_latin("How much water does the plant produce?")
    assert not is_mostly_latin("كم تنتج محطة SolarTech من الماء؟")


def test_masdar_variant_meets_the_verb():
    """The opt-in "+masdar" variant maps the form II verbal noun to its root: تعليق meets علّق."""
    assert analyze("تعليق الدراسة", "light+snowball+masdar")[0] == analyze("علقت", "light+snowball+masdar")[0] == "علق"
    assert analyze("تعليق", "light+snowball") == ["تعليق"]  # the default leaves it alone


def test_without_marks_drops_only_what_normalize_drops():
    from index.text.arabic import normalize, without_marks

    text = "السَّرطانُ\u0640\u200f في جدّة"
    assert without_marks(text) == "السرطان في جدة"
    assert normalize(without_marks(text)) == normalize(text)
