"""The sentence analyses of the passages one search reads, fetched from Milvus by id (``lookup.SentenceSource``).

The embedded store maps every passage's analyses as arrays; a Milvus store holds them as a JSON
field of each row, and a search fetches those of its candidates only. Sentence and term indexes
here are local to the search; rows are the index's own.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..analyses import offsets


class FetchedAnalyses:
    """The sentence analyses of the chunks one search reads, fetched by id (more are fetched when asked for)."""

    def __init__(self, fetch: Callable[[list[int]], list[dict[str, Any]]], vocab: dict[str, int]) -> None:
        self._fetch = fetch
        self._vocab = vocab
        self._where: dict[int, tuple[int, int]] = {}  # row -> (first sentence, sentences)
        self._titles: dict[int, np.ndarray] = {}
        self._spans: list[list[int]] = []
        self._cues: list[int] = []
        self._lengths: list[int] = []
        self._terms: list[int] = []
        self.spans = np.zeros((0, 2), dtype=np.int32)
        self.cues = np.zeros(0, dtype=np.uint16)
        self.term_ptr = np.zeros(1, dtype=np.int64)
        self.terms = np.zeros(0, dtype=np.int32)

    def add(self, rows: Sequence[dict[str, Any]]) -> None:
        """Take in fetched chunk rows (``row``, ``article``, ``analysis``, ``terms``, ``title_terms``)."""
        vocab = self._vocab
        for r in rows:
            row = int(r["row"])
            if row in self._where:
                continue
            analysis = r["analysis"] if isinstance(r["analysis"], dict) else json.loads(r["analysis"])
            lengths = [int(n) for n in analysis["lengths"]]
            own = r["terms"].split()[: sum(lengths)]  # the chunk's terms first, then its title's
            self._where[row] = (len(self._cues), len(lengths))
            self._spans.extend(analysis["spans"])
            self._cues.extend(analysis["cues"])
            self._lengths.extend(lengths)
            self._terms.extend(vocab.get(t, -1) for t in own)
            self._terms.extend([-1] * (sum(lengths) - len(own)))  # a terms field cut at Milvus's length limit
            self._titles.setdefault(
                int(r["article"]), np.asarray([vocab.get(t, -1) for t in r["title_terms"].split()], dtype=np.int32)
            )
        self.spans = np.asarray(self._spans, dtype=np.int32).reshape(-1, 2)
        self.cues = np.asarray(self._cues, dtype=np.uint16)
        self.term_ptr = offsets(self._lengths)
        self.terms = np.asarray(self._terms, dtype=np.int32)

    def chunk_sentences(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        missing = [r for r in dict.fromkeys(rows.tolist()) if r not in self._where]
        if missing:
            self.add(self._fetch(missing))
        where = [self._where.get(r, (0, 0)) for r in rows.tolist()]  # a row gone meanwhile: no sentences
        pairs = np.asarray(where, dtype=np.int64).reshape(-1, 2)
        return pairs[:, 0], pairs[:, 1]

    def title_ids(self, article: int) -> np.ndarray:
        return self._titles.get(int(article), np.zeros(0, dtype=np.int32))
