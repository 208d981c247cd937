"""Arabic-aware BM25 over chunks (``bm25``'s arrays), saved as JSON + .npy (no pickle)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from index.text.arabic import STEMMERS, analyze, analyze_question

from .bm25 import BM25, idf
from .bm25 import METHODS as BM25_METHODS

# Bump when normalisation, stopwords or stemming change, so cached terms are not reused.
ANALYZER_VERSION = 2  # 2: sentence cues (index.cues) stored as bit masks


@dataclass(frozen=True)
class LexicalParams:
    """BM25 variant and text analysis; recorded in the manifest so queries match the index."""

    stemmer: str = "light+snowball"
    method: str = "lucene"
    k1: float = 0.9
    b: float = 0.4

    def __post_init__(self) -> None:
        if self.stemmer not in STEMMERS:
            raise ValueError(f"unknown stemmer {self.stemmer!r}; choose one of {', '.join(STEMMERS)}")
        if self.method not in BM25_METHODS:
            raise ValueError(f"unknown BM25 method {self.method!r}; choose one of {', '.join(BM25_METHODS)}")


def terms_by_id(vocab: Mapping[str, int]) -> list[str]:
    """The vocabulary as a list: term id -> term ("" for an id no term has)."""
    names = [""] * (max(vocab.values(), default=-1) + 1)
    for term, i in vocab.items():
        names[i] = term
    return names


class LexicalIndex:
    """BM25 whose documents are the chunks, in FAISS row order, with the analysis its terms came from."""

    def __init__(self, bm25: BM25, params: LexicalParams) -> None:
        self._bm25 = bm25
        self.params = params

    @classmethod
    def from_ids(
        cls,
        ids: np.ndarray,
        docs: np.ndarray,
        n_docs: int,
        vocab: dict[str, int],
        params: LexicalParams,
        vocab_offset: int = 0,
    ) -> LexicalIndex:
        """Documents given as ids of ``vocab`` (see ``BM25.from_ids``)."""
        return cls(BM25.from_ids(ids, docs, n_docs, vocab, params.method, params.k1, params.b, vocab_offset=vocab_offset), params)

    def save(self, directory: Path) -> None:
        self._bm25.save(directory)
        (directory / "analysis.json").write_text(json.dumps(asdict(self.params)), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path, mmap: bool = False) -> LexicalIndex:
        params = LexicalParams(**json.loads((directory / "analysis.json").read_text(encoding="utf-8")))
        return cls(BM25.load(directory, mmap=mmap), params)

    @property
    def bm25(self) -> BM25:
        """The arrays behind it (a build of parts reads each part's)."""
        return self._bm25

    @property
    def vocab(self) -> dict[str, int]:
        """Term -> id; the ids ``analysis.Analyses`` stores."""
        return self._bm25.vocab

    @property
    def num_docs(self) -> int:
        return self._bm25.num_docs

    def query_terms(self, question: str) -> list[str]:
        return analyze_question(question, self.params.stemmer)

    def term_ids(self, terms: tuple[str, ...] | list[str]) -> np.ndarray:
        """Vocabulary id of each term; -1 for a term no document contains."""
        vocab = self._bm25.vocab
        return np.asarray([vocab.get(t, -1) for t in terms], dtype=np.int64)

    def document_frequency(self, ids: np.ndarray) -> np.ndarray:
        """How many documents hold each term id."""
        return self._bm25.document_frequency(ids)

    def idf_of_ids(self, ids: np.ndarray) -> np.ndarray:
        """IDF of each term id (-1, unknown: the highest IDF, as for a term in no document)."""
        return idf(self.document_frequency(ids), self.num_docs, "lucene").astype(np.float32)

    def word_shares(self, words: Sequence[str]) -> list[float]:
        """For each word, the share of documents holding it: its rarest analysed term's, 0.0 when no document
        holds one of its terms, 1.0 for a word that analyses to nothing (a function word names nothing)."""
        out = []
        for word in words:
            ids = self.term_ids(analyze(word, self.params.stemmer, frozenset()))
            if not ids.size:
                out.append(1.0)
            elif (ids < 0).any():
                out.append(0.0)
            else:
                out.append(float(self.document_frequency(ids).min()) / max(self.num_docs, 1))
        return out

    def scores(self, terms: list[str]) -> np.ndarray:
        """BM25 score of every chunk for the given (already analysed) query terms."""
        vocab = self._bm25.vocab
        return self._bm25.scores([vocab[t] for t in terms if t in vocab])
