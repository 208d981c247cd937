import itertools

import pytest

from index.text.chunking import ChunkParams, chunk_article, chunk_spans, embedding_input
from index.text.sentences import split_sentences

SENTENCE = "وأعلنت الوزارة اليوم عن خطة جديدة لتطوير النقل العام في المدن الكبرى خلال خمس سنوات."


def long_article(n: int = 40) -> str:
    return "\n\n".join(f"{SENTENCE} الفقرة رقم {i}." for i in range(n))


def test_offsets_map_back_exactly():
    text = long_article()
    for chunk in chunk_article("a", text, ChunkParams(target_words=60, max_words=80, min_words=10, overlap_words=15)):
        assert text[chunk.start : chunk.end] == chunk.text


def test_chunks_cover_the_article_and_overlap():
    text = long_article()
    spans = chunk_spans(text, ChunkParams(target_words=60, max_words=80, min_words=10, overlap_words=15))
    assert spans[0][0] == 0
    assert spans[-1][1] == len(text.rstrip())
    for (s1, e1), (s2, _e2) in itertools.pairwise(spans):
        assert s2 < e1, "neighbouring chunks share text"
        assert s2 > s1, "chunks move forward"


def test_chunk_sizes_respect_limits():
    params = ChunkParams(target_words=60, max_words=80, min_words=10, overlap_words=15)
    sizes = [len(c.text.split()) for c in chunk_article("a", long_article(), params)]
    assert max(sizes) <= 80 + params.min_words
    assert min(sizes) >= params.min_words


def test_chunks_align_with_sentences():
    text = long_article()
    starts = {s for s, _ in split_sentences(text)}
    ends = {e for _, e in split_sentences(text)}
    for chunk in chunk_article("a", text):
        assert chunk.start in starts and chunk.end in ends


def test_no_empty_or_duplicate_chunks():
    text = "\n\n".join([SENTENCE] * 30)
    chunks = chunk_article("a", text, ChunkParams(target_words=20, max_words=30, min_words=5, overlap_words=0))
    assert len({c.text for c in chunks}) == len(chunks)
    assert all(c.text.strip() for c in chunks)


def test_short_article_is_one_chunk():
    chunks = chunk_article("a", SENTENCE)
    assert [c.text for c in chunks] == [SENTENCE]
    assert chunks[0].chunk_id == "a#0"


def test_one_huge_sentence_is_cut_at_word_boundaries():
    text = " ".join(f"كلمة{i}" for i in range(500))
    chunks = chunk_article("a", text, ChunkParams(target_words=90, max_words=120, min_words=20, overlap_words=0))
    assert len(chunks) >= 4
    assert all(len(c.text.split()) <= 140 for c in chunks)
    for c in chunks:
        assert text[c.start : c.end] == c.text


def test_invalid_params_rejected():
    with pytest.raises(ValueError):
        ChunkParams(target_words=100, max_words=50)
    with pytest.raises(ValueError):
        ChunkParams(overlap_words=200)


def test_title_is_given_as_context():
    assert embedding_input("العنوان", "النص") == "العنوان\nالنص"
    assert embedding_input("", "النص") == "النص"
