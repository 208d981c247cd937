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

import hashlib
import json
import logging
import sqlite3
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.layout import BuildFiles
from index.manifest import Manifest
from index.text.analysis import SentenceInfo

from .analyses import Analyses, offsets, ranges
from .bm25 import VOCAB
from .lexical import terms_by_id
from .loading import load_build
from .store import IndexCorrupt

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PreviousTerms:
    """The parts of a finished build an update can reuse: its analyses, its vocabulary and its chunks' texts."""

    analyses: Analyses
    vocab: dict[str, int]  # term -> id in ``analyses``
    names: list[str]  # id -> term
    row_of_text: dict[bytes, int]  # a chunk text's digest (``text_digest``) -> a row holding it

    def rows(self, texts: Sequence[str]) -> list[int]:
        """For each text, a previous chunk row with that very text, or -1."""
        get = self.row_of_text.get
        return [get(text_digest(t), -1) for t in texts]


def text_digest(text: str) -> bytes:
    """16 bytes standing for a chunk's text: a million passages' texts are not held to find the unchanged ones."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def load_previous(build_dir: Path, stamp: str) -> PreviousTerms | None:
    """What ``build_dir`` can lend a new build analysed as ``stamp`` describes; None if nothing (logged why)."""
    files = BuildFiles(build_dir)
    try:
        manifest = Manifest.from_json(json.loads(files.manifest.read_text(encoding="utf-8")))
        if manifest.analysis != stamp:
            return None  # analysed otherwise (or before the stamp was recorded)
        if manifest.parts:
            return _from_parts(build_dir)
        analyses = Analyses.load(files.analysis, mmap=True)
        vocab = json.loads((files.bm25 / VOCAB).read_text(encoding="utf-8"))
        names = terms_by_id(vocab)
        db = sqlite3.connect(f"file:{files.meta}?mode=ro", uri=True)
        try:
            texts = [(row, text_digest(text)) for row, text in db.execute("SELECT row, text FROM chunks ORDER BY row")]
        finally:
            db.close()
        problem = analyses.check(chunks=len(texts), articles=manifest.articles)
        if problem or [row for row, _ in texts] != list(range(len(texts))):
            raise ValueError(f"analysis arrays and chunks disagree ({problem or 'rows'})")
        if analyses.terms.size and int(analyses.terms.max()) >= len(names):
            raise ValueError("analysis term ids beyond the vocabulary")
    except (OSError, ValueError, KeyError, TypeError, sqlite3.Error) as exc:  # ManifestError is a ValueError
        log.warning("not reusing the previous build's analyses (%s: %s)", type(exc).__name__, exc)
        return None
    row_of_text: dict[bytes, int] = {}
    for row, digest in texts:
        row_of_text.setdefault(digest, row)
    return PreviousTerms(analyses, vocab, names, row_of_text)


def _from_parts(build_dir: Path) -> PreviousTerms | None:
    """A build of parts lends its joined analyses, its global vocabulary and its live chunks' texts."""
    try:
        stored = load_build(build_dir, mmap=True)
    except IndexCorrupt as exc:
        log.warning("not reusing the previous build's analyses (%s)", exc)
        return None
    vocab = dict(stored.lexical.vocab)
    names = terms_by_id(vocab)
    row_of_text: dict[bytes, int] = {}
    for row, text in stored.db().execute("SELECT row, text FROM chunks ORDER BY row"):
        row_of_text.setdefault(text_digest(text), row)
    return PreviousTerms(stored.analyses, vocab, names, row_of_text)


@dataclass(frozen=True)
class CorpusTerms:
    """A build's analyses and its BM25 documents (each chunk: its title's terms and its own, as ids of ``vocab``)."""

    analyses: Analyses
    vocab: dict[str, int]
    doc_ids: np.ndarray  # term ids of all documents
    doc_of: np.ndarray  # the document (chunk row) of each


def assemble(
    chunk_article: Sequence[int],
    reused: Sequence[int],
    fresh: Iterable[Sequence[SentenceInfo]],
    titles: Sequence[Sequence[str]],
    article_days: Sequence[int],
    previous: PreviousTerms | None = None,
) -> CorpusTerms:
    """The corpus's terms from each chunk's previous row (``reused[c]`` >= 0) or fresh analysis (in order, for -1).

    ``titles`` are each article's analysed title terms. The BM25 vocabulary is every
    term of every document (chunk terms, and the titles of articles with chunks),
    sorted; a title term outside it is left out of the analyses, as no chunk holds it.
    The fresh chunks are laid out like the previous build's arrays, after them, so every
    chunk is a slice of one source and all of them are gathered at once.
    """
    # "global" ids: the previous build's ids first, then each new term as it first appears (the final
    # vocabulary is sorted by name below, so the order of these ids never shows)
    lookup: dict[str, int] = dict(previous.vocab) if previous else {}
    names: list[str] = list(previous.names) if previous else []
    fresh_rows = _FreshRows(lookup, names)
    for chunk in fresh:  # consumed one chunk at a time: a million passages' analyses never sit in memory as objects
        fresh_rows.add(chunk)
    for title in titles:
        for t in title:
            if t not in lookup:
                lookup[t] = len(names)
                names.append(t)

    old = previous.analyses if previous else Analyses.from_sentences([], [], [], {})
    spans = np.concatenate([old.spans, fresh_rows.spans()])
    cues = np.concatenate([old.cues, np.asarray(fresh_rows.cues, dtype=np.uint16)])
    terms = np.concatenate([old.terms, np.asarray(fresh_rows.terms, dtype=np.int32)])
    term_ptr = np.concatenate([old.term_ptr[:-1], old.term_ptr[-1] + offsets(fresh_rows.term_counts)])
    chunk_ptr = np.concatenate([old.chunk_ptr[:-1], old.chunk_ptr[-1] + offsets(fresh_rows.sentence_counts)])
    source = np.asarray(reused, dtype=np.int64)
    source[source < 0] = old.num_chunks + np.arange(len(fresh_rows.sentence_counts))  # the fresh chunks' rows in the source

    per_chunk = chunk_ptr[source + 1] - chunk_ptr[source]
    taken = ranges(chunk_ptr[source], per_chunk)  # the source sentences, in the new chunk order
    per_sentence = term_ptr[taken + 1] - term_ptr[taken]
    chunk_terms = terms[ranges(term_ptr[taken], per_sentence)].astype(np.int64)

    title_len = np.asarray([len(title) for title in titles], dtype=np.int64)
    title_ids = np.fromiter((lookup[t] for title in titles for t in title), dtype=np.int64, count=int(title_len.sum()))
    title_ptr = offsets(title_len)
    owners = np.asarray(chunk_article, dtype=np.int64)
    with_chunks = np.flatnonzero(np.bincount(owners, minlength=len(titles)))
    in_documents = np.zeros(len(names), dtype=bool)  # a mask, not np.unique: linear in the corpus, no sort
    in_documents[chunk_terms] = True
    in_documents[title_ids[ranges(title_ptr[with_chunks], title_len[with_chunks])]] = True
    ranked = sorted(np.flatnonzero(in_documents).tolist(), key=names.__getitem__)
    remap = np.full(len(names), -1, dtype=np.int64)
    remap[ranked] = np.arange(len(ranked))
    vocab = {names[g]: i for i, g in enumerate(ranked)}

    chunk_terms = remap[chunk_terms]
    titled = remap[title_ids]
    kept = titled >= 0
    new_term_ptr = offsets(per_sentence)
    analyses = Analyses(
        chunk_article=owners.astype(np.int32),
        article_day=np.asarray(article_days, dtype=np.int32),
        chunk_ptr=offsets(per_chunk),
        spans=spans[taken],
        cues=cues[taken],
        term_ptr=new_term_ptr,
        terms=chunk_terms.astype(np.int32),
        title_ptr=offsets(np.bincount(np.repeat(np.arange(len(titles)), title_len)[kept], minlength=len(titles))),
        title_terms=titled[kept].astype(np.int32),
    )
    # BM25 document c: its own terms and its article's title terms
    rows = np.arange(len(owners))
    own_count = new_term_ptr[analyses.chunk_ptr[1:]] - new_term_ptr[analyses.chunk_ptr[:-1]]
    title_of_chunk = titled[ranges(title_ptr[owners], title_len[owners])]
    doc_ids = np.concatenate([chunk_terms, title_of_chunk])
    doc_of = np.concatenate([np.repeat(rows, own_count), np.repeat(rows, title_len[owners])])
    return CorpusTerms(analyses, vocab, doc_ids, doc_of)


class _FreshRows:
    """Fresh sentences as growing typed arrays (a few bytes a term instead of a Python object each)."""

    def __init__(self, lookup: dict[str, int], names: list[str]) -> None:
        self.lookup, self.names = lookup, names
        self.starts, self.ends, self.cues, self.terms = array("i"), array("i"), array("H"), array("i")
        self.term_counts: list[int] = []
        self.sentence_counts: list[int] = []

    def add(self, chunk: Sequence[SentenceInfo]) -> None:
        lookup, names = self.lookup, self.names
        for sentence in chunk:
            self.starts.append(sentence.span[0])
            self.ends.append(sentence.span[1])
            self.cues.append(sentence.cues)
            for t in sentence.terms:
                i = lookup.get(t)
                if i is None:
                    i = lookup[t] = len(names)
                    names.append(t)
                self.terms.append(i)
            self.term_counts.append(len(sentence.terms))
        self.sentence_counts.append(len(chunk))

    def spans(self) -> np.ndarray:
        return np.stack([np.asarray(self.starts, dtype=np.int32), np.asarray(self.ends, dtype=np.int32)], axis=1)
