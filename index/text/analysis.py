"""Each passage's sentences, analysed once at build time, stored as flat numpy arrays.

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

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .cues import sentence_cues
from .sentences import split_sentences


@dataclass(frozen=True)
class SentenceInfo:
    """One analysed sentence (build side): its span in the passage, its BM25 terms, its cue bits."""

    span: tuple[int, int]
    terms: tuple[str, ...]
    cues: int


def analyse_passage(passage: str, analyze: Callable[[str], list[str]]) -> list[SentenceInfo]:
    """Split and analyse a passage; the result serves every question."""
    out = []
    for start, end in split_sentences(passage):
        sentence = passage[start:end]
        out.append(SentenceInfo((start, end), tuple(analyze(sentence)), sentence_cues(sentence)))
    return out


def dump_sentences(sentences: Sequence[SentenceInfo]) -> str:
    """Compact JSON for the build cache: ``[[start, end, "term term ...", cues], ...]``."""
    return json.dumps([[s.span[0], s.span[1], " ".join(s.terms), s.cues] for s in sentences])


def parse_sentences(data: str) -> list[SentenceInfo]:
    return [SentenceInfo((a, b), tuple(terms.split()), int(cues)) for a, b, terms, cues in json.loads(data)]
