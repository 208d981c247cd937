"""Arabic-aware BM25 over chunks, built with bm25s and saved as JSON + .npy (no pickle)."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .arabic import STEMMERS, analyze_question

BM25_METHODS = ("robertson", "lucene", "atire", "bm25l", "bm25+")
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


class LexicalIndex:
    """A bm25s index whose documents are the chunks, in FAISS row order."""

    def __init__(self, retriever, params: LexicalParams) -> None:
        self._bm25 = retriever
        self.params = params

    @classmethod
    def build(cls, docs_terms: list[list[str]], params: LexicalParams, progress: bool = False) -> LexicalIndex:
        import bm25s

        retriever = bm25s.BM25(method=params.method, k1=params.k1, b=params.b)
        # bm25s needs at least one term per document; an empty chunk gets a filler term.
        corpus = [terms or ["\x00"] for terms in docs_terms]
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        retriever.index(corpus, show_progress=progress)
        return cls(retriever, params)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._bm25.save(str(directory), allow_pickle=False)
        (directory / "analysis.json").write_text(json.dumps(asdict(self.params)), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path, mmap: bool = False) -> LexicalIndex:
        import bm25s

        params = LexicalParams(**json.loads((directory / "analysis.json").read_text(encoding="utf-8")))
        retriever = bm25s.BM25.load(str(directory), mmap=mmap, allow_pickle=False)
        return cls(retriever, params)

    @property
    def vocab(self) -> dict[str, int]:
        """Term -> id; the ids ``analysis.Analyses`` stores."""
        return self._bm25.vocab_dict

    @property
    def num_docs(self) -> int:
        return int(self._bm25.scores["num_docs"])

    def query_terms(self, question: str) -> list[str]:
        return analyze_question(question, self.params.stemmer)

    def idf(self, terms: list[str]) -> dict[str, float]:
        """Inverse document frequency of each term; a term absent from the corpus gets the highest."""
        indptr = self._bm25.scores["indptr"]
        vocab = self._bm25.vocab_dict
        n = self.num_docs
        out: dict[str, float] = {}
        for term in terms:
            tid = vocab.get(term)
            df = int(indptr[tid + 1] - indptr[tid]) if tid is not None and tid + 1 < len(indptr) else 0
            out[term] = float(np.log(1.0 + (n - df + 0.5) / (df + 0.5)))
        return out

    def term_ids(self, terms: tuple[str, ...] | list[str]) -> np.ndarray:
        """Vocabulary id of each term; -1 for a term no document contains."""
        vocab = self._bm25.vocab_dict
        return np.asarray([vocab.get(t, -1) for t in terms], dtype=np.int64)

    def idf_of_ids(self, ids: np.ndarray) -> np.ndarray:
        """IDF of each term id (-1, unknown: the highest IDF, as for a term in no document)."""
        indptr = self._bm25.scores["indptr"]
        df = np.zeros(len(ids), dtype=np.float64)
        known = ids >= 0
        df[known] = indptr[ids[known] + 1] - indptr[ids[known]]
        n = self.num_docs
        return np.log(1.0 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)

    def scores(self, terms: list[str]) -> np.ndarray:
        """BM25 score of every chunk for the given (already analysed) query terms."""
        vocab = self._bm25.vocab_dict
        ids = [vocab[t] for t in terms if t in vocab]
        if not ids:
            return np.zeros(self.num_docs, dtype=np.float32)
        return np.asarray(self._bm25.get_scores_from_ids(ids), dtype=np.float32)
