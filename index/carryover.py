"""The corpus's terms, assembled from fresh analyses and from what the build being replaced already holds.

Every build needs, for each chunk, its sentences (spans, answer cues, terms) as
arrays (``analysis.Analyses``) and, for BM25, its terms plus its article title's
terms as ids of one sorted vocabulary. An ``update`` used to read every chunk's
analysis back from the build cache as text and turn half a million terms into
Python strings again (0.5-0.8 s of a 2,000-article update). A chunk whose text is
unchanged has the same analysis, so its rows are copied from the previous build's
arrays; only its term ids are renumbered into the new vocabulary. The previous
build is used only when it records the same analysis (stemmer, analyser version,
cue lexicons); the result is byte for byte what analysing everything gives
(tests/test_carryover.py).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .analysis import Analyses, SentenceInfo
from .bm25 import VOCAB

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PreviousTerms:
    """The parts of a finished build an update can reuse: its analyses, its vocabulary and its chunks' texts."""

    analyses: Analyses
    vocab: dict[str, int]  # term -> id in ``analyses``
    names: list[str]  # id -> term
    row_of_text: dict[str, int]  # chunk text -> a row holding it

    def rows(self, texts: Sequence[str]) -> list[int]:
        """For each text, a previous chunk row with that very text, or -1."""
        get = self.row_of_text.get
        return [get(t, -1) for t in texts]


def load_previous(build_dir: Path, stamp: str) -> PreviousTerms | None:
    """What ``build_dir`` can lend a new build analysed as ``stamp`` describes; None if nothing (logged why)."""
    try:
        manifest = json.loads((build_dir / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("analysis") != stamp:
            return None  # analysed otherwise (or before the stamp was recorded)
        analyses = Analyses.load(build_dir / "analysis", mmap=True)
        vocab = json.loads((build_dir / "bm25" / VOCAB).read_text(encoding="utf-8"))
        names = [""] * len(vocab)
        for term, i in vocab.items():
            names[i] = term
        db = sqlite3.connect(f"file:{build_dir / 'meta.sqlite'}?mode=ro", uri=True)
        try:
            texts = db.execute("SELECT row, text FROM chunks ORDER BY row").fetchall()
        finally:
            db.close()
        problem = analyses.check(chunks=len(texts), articles=int(manifest["articles"]))
        if problem or [row for row, _ in texts] != list(range(len(texts))):
            raise ValueError(f"analysis arrays and chunks disagree ({problem or 'rows'})")
        if analyses.terms.size and int(analyses.terms.max()) >= len(names):
            raise ValueError("analysis term ids beyond the vocabulary")
    except (OSError, ValueError, KeyError, TypeError, sqlite3.Error) as exc:
        log.warning("not reusing the previous build's analyses (%s: %s)", type(exc).__name__, exc)
        return None
    row_of_text: dict[str, int] = {}
    for row, text in texts:
        row_of_text.setdefault(text, row)
    return PreviousTerms(analyses, vocab, names, row_of_text)


@dataclass(frozen=True)
class CorpusTerms:
    """A build's analyses and its BM25 documents (title terms + chunk terms, as ids of ``vocab``)."""

    analyses: Analyses
    vocab: dict[str, int]
    doc_ids: np.ndarray  # all documents' term ids, document after document
    doc_lengths: np.ndarray


def _ptr(lengths: np.ndarray) -> np.ndarray:
    ptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=ptr[1:])
    return ptr


def assemble(
    chunk_article: Sequence[int],
    reused: Sequence[int],
    fresh: Sequence[Sequence[SentenceInfo]],
    titles: Sequence[Sequence[str]],
    article_days: Sequence[int],
    previous: PreviousTerms | None = None,
) -> CorpusTerms:
    """The corpus's terms from each chunk's previous row (``reused[c]`` >= 0) or fresh analysis (in order, for -1).

    ``titles`` are each article's analysed title terms. The BM25 vocabulary is every
    term of every document (chunk terms, and the titles of articles with chunks),
    sorted; a title term outside it is left out of the analyses, as no chunk holds it.
    """
    # "global" ids: the previous build's ids first, then any new term
    lookup: dict[str, int] = dict(previous.vocab) if previous else {}
    names: list[str] = list(previous.names) if previous else []
    new_terms = {t for sentences in fresh for s in sentences for t in s.terms} | {t for title in titles for t in title}
    for term in sorted(new_terms - lookup.keys()):
        lookup[term] = len(names)
        names.append(term)

    old = previous.analyses if previous else None
    spans, cues, term_counts, terms, sentences_per_chunk = [], [], [], [], []
    pending = iter(fresh)
    for row in reused:
        if row >= 0 and old is not None:
            first, last = int(old.chunk_ptr[row]), int(old.chunk_ptr[row + 1])
            bounds = old.term_ptr[first : last + 1]
            spans.append(old.spans[first:last])
            cues.append(old.cues[first:last])
            term_counts.append(np.diff(bounds))
            terms.append(old.terms[bounds[0] : bounds[-1]].astype(np.int64))
        else:
            chunk = next(pending)
            first, last = 0, len(chunk)
            spans.append(np.asarray([s.span for s in chunk], dtype=np.int32).reshape(-1, 2))
            cues.append(np.asarray([s.cues for s in chunk], dtype=np.uint16))
            term_counts.append(np.asarray([len(s.terms) for s in chunk], dtype=np.int64))
            terms.append(np.fromiter((lookup[t] for s in chunk for t in s.terms), dtype=np.int64))
        sentences_per_chunk.append(last - first)

    chunk_terms = np.concatenate(terms) if terms else np.zeros(0, dtype=np.int64)
    title_ids = [np.fromiter(map(lookup.__getitem__, title), dtype=np.int64, count=len(title)) for title in titles]
    owners = np.asarray(chunk_article, dtype=np.int64)
    in_documents = [chunk_terms, *(title_ids[a] for a in np.unique(owners).tolist())]
    used = np.unique(np.concatenate(in_documents))
    ranked = sorted(used.tolist(), key=names.__getitem__)
    remap = np.full(len(names), -1, dtype=np.int64)
    remap[ranked] = np.arange(len(ranked))
    vocab = {names[g]: i for i, g in enumerate(ranked)}

    term_counts_all = np.concatenate(term_counts) if term_counts else np.zeros(0, dtype=np.int64)
    term_ptr = _ptr(term_counts_all)
    chunk_ptr = _ptr(np.asarray(sentences_per_chunk, dtype=np.int64))
    new_terms_ids = remap[chunk_terms]
    title_new = [remap[ids] for ids in title_ids]
    title_kept = [ids[ids >= 0] for ids in title_new]
    analyses = Analyses(
        chunk_article=owners.astype(np.int32),
        article_day=np.asarray(article_days, dtype=np.int32),
        chunk_ptr=chunk_ptr,
        spans=np.concatenate(spans).astype(np.int32) if spans else np.zeros((0, 2), dtype=np.int32),
        cues=np.concatenate(cues).astype(np.uint16) if cues else np.zeros(0, dtype=np.uint16),
        term_ptr=term_ptr,
        terms=new_terms_ids.astype(np.int32),
        title_ptr=_ptr(np.asarray([len(ids) for ids in title_kept], dtype=np.int64)),
        title_terms=np.concatenate(title_kept).astype(np.int32) if title_kept else np.zeros(0, dtype=np.int32),
    )
    # BM25 document c: its article's title terms, then its own
    chunk_bounds = term_ptr[chunk_ptr]
    pieces: list[np.ndarray] = []
    lengths = np.zeros(len(owners), dtype=np.int64)
    for c, article in enumerate(owners.tolist()):
        own = new_terms_ids[chunk_bounds[c] : chunk_bounds[c + 1]]
        pieces += [title_new[article], own]
        lengths[c] = len(title_new[article]) + len(own)
    doc_ids = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64)
    return CorpusTerms(analyses, vocab, doc_ids, lengths)
