"""Each passage's analysed sentences (``index.text.analysis``), stored as flat numpy arrays in a build.

Splitting, normalising, stemming and answer cues do not depend on the
question, so a build computes them once per chunk (through the build cache) and
writes them as arrays that queries memory-map: reading a passage's sentences is
an array slice, not a decode. Terms are stored as ids of the build's BM25
vocabulary, the same ids a question's terms get (``question.analyse_question``).

    analysis/chunk_article.npy  int32 [chunks]          article index of each chunk
    analysis/article_day.npy    int32 [articles]        article date as days since 1970-01-01 (-1: none)
    analysis/chunk_ptr.npy      int64 [chunks + 1]      chunk c's sentences: chunk_ptr[c]:chunk_ptr[c + 1]
    analysis/spans.npy          int32 [sentences, 2]    (start, end) in the chunk's text
    analysis/cues.npy           uint16 [sentences]      cues.CUE_BITS of each sentence
    analysis/term_ptr.npy       int64 [sentences + 1]   sentence s's terms: term_ptr[s]:term_ptr[s + 1]
    analysis/terms.npy          int32 [terms]           term ids, in sentence order
    analysis/title_ptr.npy      int64 [articles + 1]    article a's title terms: title_ptr[a]:title_ptr[a + 1]
    analysis/title_terms.npy    int32 [terms]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from index.text.analysis import SentenceInfo


def offsets(lengths: Sequence[int] | np.ndarray) -> np.ndarray:
    """Where each of consecutive runs of ``lengths`` starts, plus the end: the ``*_ptr`` layout of these arrays."""
    ptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=ptr[1:])
    return ptr


def ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The concatenation of ``range(start, start + count)`` for each pair: many slices gathered at once."""
    ptr = offsets(counts)
    return np.repeat(np.asarray(starts, dtype=np.int64) - ptr[:-1], counts) + np.arange(int(ptr[-1]))


@dataclass(frozen=True)
class Analyses:
    """The arrays of one build (see the module docstring); loaded memory-mapped."""

    chunk_article: np.ndarray
    article_day: np.ndarray
    chunk_ptr: np.ndarray
    spans: np.ndarray
    cues: np.ndarray
    term_ptr: np.ndarray
    terms: np.ndarray
    title_ptr: np.ndarray
    title_terms: np.ndarray

    @classmethod
    def from_sentences(
        cls,
        chunk_article: Sequence[int],
        chunks: Sequence[Sequence[SentenceInfo]],
        titles: Sequence[Sequence[str]],
        vocab: Mapping[str, int],
        article_days: Sequence[int] | None = None,
    ) -> Analyses:
        """Arrays from analysed chunks and article titles, terms as ``vocab`` ids (the BM25 vocabulary).

        Every chunk term is in the vocabulary (the chunks are its documents); a title
        term of an article without chunks may not be, and is left out.
        """
        sentences = [s for chunk in chunks for s in chunk]
        return cls(
            chunk_article=np.asarray(chunk_article, dtype=np.int32),
            article_day=np.asarray(article_days if article_days is not None else [-1] * len(titles), dtype=np.int32),
            chunk_ptr=offsets([len(c) for c in chunks]),
            spans=np.asarray([s.span for s in sentences], dtype=np.int32).reshape(-1, 2),
            cues=np.asarray([s.cues for s in sentences], dtype=np.uint16),
            term_ptr=offsets([len(s.terms) for s in sentences]),
            terms=np.asarray([vocab[t] for s in sentences for t in s.terms], dtype=np.int32),
            title_ptr=offsets([sum(t in vocab for t in title) for title in titles]),
            title_terms=np.asarray([vocab[t] for title in titles for t in title if t in vocab], dtype=np.int32),
        )

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for f in fields(self):
            np.save(directory / f"{f.name}.npy", getattr(self, f.name), allow_pickle=False)

    @classmethod
    def load(cls, directory: Path, mmap: bool = True) -> Analyses:
        """Load (memory-mapped by default); ``OSError``/``ValueError`` when a file is missing or damaged."""
        mode = "r" if mmap else None
        arrays = {f.name: np.load(directory / f"{f.name}.npy", mmap_mode=mode, allow_pickle=False) for f in fields(cls)}
        # plain ndarray views of the mapped memory: slicing an np.memmap costs ~1 µs of Python per slice
        return cls(**{name: a.view(np.ndarray) for name, a in arrays.items()})

    @property
    def num_chunks(self) -> int:
        return int(self.chunk_article.shape[0])

    def check(self, chunks: int, articles: int) -> str:
        """'' when the arrays agree with each other and with the counts, else what is wrong."""
        n_sent = self.spans.shape[0]
        problems = [
            name
            for name, ok in (
                ("chunk_article", self.chunk_article.shape == (chunks,)),
                ("article_day", self.article_day.shape == (articles,)),
                ("chunk_ptr", self.chunk_ptr.shape == (chunks + 1,) and int(self.chunk_ptr[-1]) == n_sent),
                ("cues", self.cues.shape == (n_sent,)),
                ("term_ptr", self.term_ptr.shape == (n_sent + 1,) and int(self.term_ptr[-1]) == self.terms.shape[0]),
                ("title_ptr", self.title_ptr.shape == (articles + 1,) and int(self.title_ptr[-1]) == self.title_terms.shape[0]),
            )
            if not ok
        ]
        return ", ".join(problems)

    def chunk_sentences(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where each of chunks ``rows``'s sentences start, and how many it has."""
        first = self.chunk_ptr[rows]
        return first, self.chunk_ptr[np.asarray(rows) + 1] - first

    def sentence_range(self, row: int) -> range:
        """Indices of chunk ``row``'s sentences."""
        return range(int(self.chunk_ptr[row]), int(self.chunk_ptr[row + 1]))

    def sentence_terms(self, sentence: int) -> np.ndarray:
        return self.terms[self.term_ptr[sentence] : self.term_ptr[sentence + 1]]

    def chunk_terms(self, row: int) -> np.ndarray:
        """All term ids of chunk ``row`` (its sentences', in order)."""
        first, last = self.chunk_ptr[row], self.chunk_ptr[row + 1]
        return self.terms[self.term_ptr[first] : self.term_ptr[last]]

    def title_ids(self, article: int) -> np.ndarray:
        return self.title_terms[self.title_ptr[article] : self.title_ptr[article + 1]]
