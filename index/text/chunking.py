"""Sentence-aligned chunks with overlap, keeping character offsets into the article text.

A chunk is a run of whole sentences of about ``target_words`` words; neighbouring
chunks share ``overlap_words`` words of whole sentences so an answer that sits on
a boundary is found whole in at least one chunk.
"""

from __future__ import annotations

from dataclasses import dataclass

from .arabic import normalize
from .sentences import split_sentences

# Bump when chunk_article's output changes for the same text and params (the sentence
# splitter included): builds cache chunk spans under this version.
CHUNKER_VERSION = 1


@dataclass(frozen=True)
class ChunkParams:
    """How articles are cut into passages; recorded in each build's manifest."""

    target_words: int = 150
    max_words: int = 200
    min_words: int = 20
    overlap_words: int = 40

    def __post_init__(self) -> None:
        if not 0 < self.min_words <= self.target_words <= self.max_words:
            raise ValueError("chunk sizes must satisfy 0 < min_words <= target_words <= max_words")
        if not 0 <= self.overlap_words < self.target_words:
            raise ValueError("overlap_words must be >= 0 and smaller than target_words")


@dataclass(frozen=True)
class Chunk:
    """A passage of one article: ``text == article_text[start:end]``."""

    article_id: str
    ordinal: int
    start: int
    end: int
    text: str

    @property
    def chunk_id(self) -> str:
        return f"{self.article_id}#{self.ordinal}"


def _words(text: str, span: tuple[int, int]) -> int:
    return len(text[span[0] : span[1]].split())


def _split_oversized(text: str, span: tuple[int, int], max_words: int) -> list[tuple[int, int]]:
    """Cut a single sentence longer than ``max_words`` at word boundaries (rare: lists, tables)."""
    start, end = span
    if _words(text, span) <= max_words:
        return [span]
    pieces: list[tuple[int, int]] = []
    count = 0
    piece_start = start
    i = start
    while i < end:
        if text[i].isspace() and i > start and not text[i - 1].isspace():
            count += 1
            if count == max_words:
                pieces.append((piece_start, i))
                while i < end and text[i].isspace():
                    i += 1
                piece_start = i
                count = 0
                continue
        i += 1
    if piece_start < end:
        pieces.append((piece_start, end))
    return pieces


def chunk_spans(text: str, params: ChunkParams = ChunkParams()) -> list[tuple[int, int]]:
    """Return ``(start, end)`` spans of the chunks of ``text`` (pure; no article needed)."""
    sentences: list[tuple[int, int]] = []
    for span in split_sentences(text, max_words=params.max_words):
        sentences.extend(_split_oversized(text, span, params.max_words))
    if not sentences:
        return []
    sizes = [_words(text, s) for s in sentences]

    spans: list[tuple[int, int]] = []
    first = 0
    n = len(sentences)
    while first < n:
        last = first
        words = sizes[first]
        while last + 1 < n and words + sizes[last + 1] <= params.max_words and words < params.target_words:
            last += 1
            words += sizes[last]
        # Fold a short tail into this chunk rather than emitting a tiny last chunk.
        tail = sum(sizes[last + 1 :])
        if last + 1 < n and tail < params.min_words and words + tail <= params.max_words + params.min_words:
            last = n - 1
        spans.append((sentences[first][0], sentences[last][1]))
        if last == n - 1:
            break
        # Step back over whole sentences to create the overlap, always moving forward.
        next_first = last + 1
        back = 0
        while next_first - 1 > first and back + sizes[next_first - 1] <= params.overlap_words:
            next_first -= 1
            back += sizes[next_first]
        first = next_first
    return spans


def chunk_article(article_id: str, text: str, params: ChunkParams = ChunkParams()) -> list[Chunk]:
    """Cut one article into chunks; duplicates (same normalised text) are dropped."""
    chunks: list[Chunk] = []
    seen: set[str] = set()
    for start, end in chunk_spans(text, params):
        piece = text[start:end]
        key = normalize(piece)
        if not key or key in seen:
            continue
        seen.add(key)
        chunks.append(Chunk(article_id, len(chunks), start, end, piece))
    return chunks


def chunks_from_spans(article_id: str, text: str, spans: list[tuple[int, int]]) -> list[Chunk]:
    """The chunks ``chunk_article`` gave for these spans (as the build cache stores them)."""
    return [Chunk(article_id, n, start, end, text[start:end]) for n, (start, end) in enumerate(spans)]


def embedding_input(title: str, chunk_text: str, max_words: int = 0) -> str:
    """What the embedder sees for a chunk: the title as context, then the passage.

    ``max_words`` > 0 keeps only the passage's first words: the encoder's cost grows
    with length, and an averaging encoder gains little from the tail of a long passage.
    """
    if max_words > 0:
        words = chunk_text.split()
        if len(words) > max_words:
            chunk_text = " ".join(words[:max_words])
    return f"{title}\n{chunk_text}" if title else chunk_text
