from index.text.sentences import sentences, split_sentences


def test_arabic_punctuation_ends_sentences():
    text = "هل وصل الوفد؟ نعم وصل صباحاً! وبدأت المحادثات؛ واستمرت ساعتين."
    assert sentences(text) == ["هل وصل الوفد؟", "نعم وصل صباحاً!", "وبدأت المحادثات؛", "واستمرت ساعتين."]


def test_line_breaks_end_sentences():
    assert sentences("العنوان الأول\nالفقرة الثانية بلا نقطة") == ["العنوان الأول", "الفقرة الثانية بلا نقطة"]


def test_numbers_and_abbreviations_do_not_split():
    text = "ارتفع المؤشر 3.5 في المئة. وقال د. أحمد إن النمو جيد. وصل إلى U.S. الأسبوع الماضي."
    assert sentences(text) == [
        "ارتفع المؤشر 3.5 في المئة.",
        "وقال د. أحمد إن النمو جيد.",
        "وصل إلى U.S. الأسبوع الماضي.",
    ]


def test_closing_quotes_stay_with_their_sentence():
    assert sentences("قال: «سننتصر.» ثم غادر.") == ["قال: «سننتصر.»", "ثم غادر."]


def test_long_comma_chains_are_split_at_commas():
    clause = "وأضاف المتحدث أن الوزارة تعمل على خطة شاملة للتطوير"
    text = "، ".join([clause] * 12) + "."
    parts = split_sentences(text, max_words=40)
    assert len(parts) > 1
    assert all(len(text[s:e].split()) <= 40 for s, e in parts)


def test_spans_cover_every_character_in_order():
    text = "  أولاً: جملة.   ثانياً؟\n\nثالثاً!  "
    spans = split_sentences(text)
    assert spans == sorted(spans)
    covered = "".join(text[s:e] for s, e in spans)
    assert covered.replace(" ", "") == "".join(text.split())


def test_empty_text():
    assert split_sentences("") == []
    assert split_sentences("   \n ") == []
