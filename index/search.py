"""Hybrid retrieval: dense (FAISS) + lexical (BM25) candidates, fused, grouped per article.

For each question: BM25 scores every chunk and FAISS returns the nearest
chunks; the union of both top lists is re-scored as a linear combination of
per-query min-max-normalised scores (``dense_weight`` on the dense side).
Results are grouped per article, near-duplicate articles (one wire story in
several outlets) are collapsed, the answering sentence is highlighted, and a
confidence check says "no answer" instead of returning noise.
"""

from __future__ import annotations

import functools
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .arabic import is_mostly_latin, tokenize
from .embedding import Embedder, is_builtin, load_embedder
from .highlight import Sentence, answer_kind, load_sentences, phrase_coverage, pick_sentences, sentence_scores
from .store import StoredIndex, open_index
from .vectors import search as faiss_search
from .vectors import single_threaded_search

MODES = ("hybrid", "lexical", "dense")
# Passages of one wire story in two outlets embed almost identically; below this they are not compared word by word.
DUPLICATE_COSINE = 0.8


class ModelMismatch(RuntimeError):
    """The index was built with another embedding model than the one configured."""


@dataclass(frozen=True)
class SearchParams:
    """Retrieval knobs; defaults are the values tuned on the dev sets (docs/benchmarks.md)."""

    dense_weight: float = 0.3
    candidates: int = 100
    passages_per_article: int = 1
    collapse_duplicates: bool = True
    duplicate_similarity: float = 0.5
    min_confidence: float = 0.37
    sure_confidence: float = 0.5  # below it (and above min_confidence) results are "closest passages", not an answer
    highlight_sentences: int = 1
    sentence_weight: float = 1.0
    phrase_weight: float = 0.5  # re-rank bonus for question word pairs found side by side (names, set phrases)
    rerank_depth: int = 30
    confidence_weights: tuple[float, float, float] = (0.5, 0.2, 0.3)  # coverage, sentence, cosine
    dense_accept: float = 0.45  # a dense similarity this high is enough on its own (paraphrases share few words)
    year_mismatch_penalty: float = 0.5  # confidence factor when a year the question names is nowhere in the hit


@dataclass
class Passage:
    """One chunk of an article; ``highlights`` are spans into ``text`` of the answering sentence(s)."""

    row: int
    text: str
    start: int
    end: int
    score: float
    highlights: list[tuple[int, int]] = field(default_factory=list)

    @property
    def answer(self) -> str:
        """The best highlighted sentence (the one-line answer), or ``""``."""
        if not self.highlights:
            return ""
        s, e = self.highlights[0]
        return self.text[s:e]


@dataclass
class Hit:
    """One article in the results, with its best passage first."""

    rank: int
    article_id: str
    title: str
    source: str
    url: str
    date: str
    score: float
    passage: Passage
    more: list[Passage] = field(default_factory=list)
    also_in: list[dict[str, str]] = field(default_factory=list)
    confidence: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """The stable JSON shape of ``search --json`` (extra keys may be added, none removed)."""
        return {
            "rank": self.rank,
            "article_id": self.article_id,
            "title": self.title,
            "source": self.source,
            "url": self.url,
            "date": self.date,
            "text": self.passage.text,
            "score": round(float(self.score), 6),
            "confidence": round(float(self.confidence), 4),
            "answer": self.passage.answer,
            "highlights": [list(span) for span in self.passage.highlights],
            "also_in": self.also_in,
            "more": [{"text": p.text, "score": round(float(p.score), 6)} for p in self.more],
        }


@dataclass
class SearchResult:
    question: str
    mode: str
    hits: list[Hit]
    no_answer: bool = False
    confidence: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    signals: dict[str, float] = field(default_factory=dict)
    tentative: bool = False  # answered, but below sure_confidence: shown as the closest passages, not as an answer

    def confident_only(self, threshold: float) -> SearchResult:
        """The same result keeping the top hit and the other hits whose own confidence reaches ``threshold``.

        The bot shows readers only sources that look relevant on their own, not
        the best of the rest.
        """
        kept = [hit for i, hit in enumerate(self.hits) if i == 0 or hit.confidence >= threshold]
        for rank, hit in enumerate(kept, start=1):
            hit.rank = rank
        return SearchResult(
            self.question, self.mode, kept, self.no_answer, self.confidence, self.timings, self.signals, self.tentative
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "results": [h.to_json() for h in self.hits],
            "no_answer": self.no_answer,
            "confidence": round(float(self.confidence), 4),
            "tentative": self.tentative,
            "mode": self.mode,
        }


def minmax(scores: np.ndarray) -> np.ndarray:
    """Scale to [0, 1] within one query; a constant vector maps to 1 (if positive) or 0."""
    if scores.size == 0:
        return scores
    lo, hi = float(scores.min()), float(scores.max())
    if hi - lo < 1e-12:
        return np.full_like(scores, 1.0 if hi > 0 else 0.0)
    return (scores - lo) / (hi - lo)


def fuse(dense: np.ndarray, lexical: np.ndarray, dense_weight: float) -> np.ndarray:
    """Linear fusion of per-query min-max-normalised scores over the same candidates."""
    return dense_weight * minmax(dense) + (1.0 - dense_weight) * minmax(lexical)


def top_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest scores, best first."""
    k = min(k, scores.shape[0])
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.argsort(-scores[part], kind="stable")]


def shingles(text: str, n: int = 3) -> set[tuple[str, ...]]:
    words = tokenize(text)
    return {tuple(words[i : i + n]) for i in range(max(1, len(words) - n + 1))}


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


class Searcher:
    """Answers questions from one loaded build. Thread-safe for concurrent ``search`` calls."""

    def __init__(self, stored: StoredIndex, embedder: Embedder | None, params: SearchParams | None = None) -> None:
        self.stored = stored
        self.embedder = embedder
        self.params = params or SearchParams()
        if embedder is not None:
            _check_model(stored.manifest, embedder.name, embedder.dimension)

    @classmethod
    def open(
        cls,
        index_dir: str | Path,
        model: str | None = None,
        params: SearchParams | None = None,
        embedder: Embedder | None = None,
        mmap: bool = True,
        threads: int = 1,
    ) -> Searcher:
        """Load the current build and the model named in its manifest.

        ``model`` is what the settings ask for; if it names another model than the
        index was built with, that is an error (mixing models gives nonsense).
        One encoder thread per search: a question is short, and concurrent searches
        already use the cores (more threads per search only contend).
        """
        single_threaded_search()
        stored = open_index(index_dir, mmap=mmap)
        manifest = stored.manifest
        if model and not _same_model(model, manifest["model"]):
            raise ModelMismatch(
                f"the index in {index_dir} was built with {manifest['model']!r} but EMBEDDING_MODEL is {model!r}; "
                "rebuild with `python -m index build` or set EMBEDDING_MODEL to the index's model"
            )
        if embedder is None:
            embedder = load_embedder(
                manifest["model"], manifest.get("query_prompt", ""), manifest.get("passage_prompt", ""), threads=threads
            )
        return cls(stored, embedder, params)

    @property
    def manifest(self) -> dict[str, Any]:
        return self.stored.manifest

    # ------------------------------------------------------------ search

    def encode(self, questions: list[str]) -> np.ndarray:
        if self.embedder is None:
            raise RuntimeError("dense search needs an embedding model")
        return self.embedder.encode_queries(questions)

    def search(
        self,
        question: str,
        k: int = 5,
        mode: str = "hybrid",
        passages_per_article: int | None = None,
        query_vector: np.ndarray | None = None,
    ) -> SearchResult:
        """Top-``k`` articles for ``question``, each with its best passage(s)."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
        timings: dict[str, float] = {}
        question = question.strip()
        terms = self.stored.lexical.query_terms(question)
        if not question or (not terms and mode == "lexical"):
            return SearchResult(question, mode, [], no_answer=True, timings=timings)

        n = self.stored.num_chunks
        c = min(self.params.candidates, n)
        qvec = None
        dense_rows = np.zeros(0, dtype=np.int64)
        dense_top = np.zeros(0, dtype=np.float32)
        if mode != "lexical":
            t = time.perf_counter()
            qvec = query_vector if query_vector is not None else self.encode([question])[0]
            timings["encode"] = time.perf_counter() - t
            t = time.perf_counter()
            scores, rows = faiss_search(self.stored.faiss_index, qvec[None, :], c)
            keep = rows[0] >= 0
            dense_rows, dense_top = rows[0][keep].astype(np.int64), scores[0][keep]
            timings["dense"] = time.perf_counter() - t

        lexical_all = None
        if mode != "dense":
            t = time.perf_counter()
            lexical_all = self.stored.lexical.scores(terms)
            timings["lexical"] = time.perf_counter() - t

        t = time.perf_counter()
        if mode == "dense":
            cand, fused, cosines = dense_rows, dense_top.astype(np.float32), dense_top
        else:
            lex_rows = top_rows(lexical_all, c)
            lex_rows = lex_rows[lexical_all[lex_rows] > 0]
            if mode == "lexical":
                cand, cosines = lex_rows, None
                fused = lexical_all[cand]
            else:
                cand = np.unique(np.concatenate([dense_rows, lex_rows]))
                cosines = self._dense_scores(cand, qvec, dense_rows, dense_top)
                fused = fuse(cosines, lexical_all[cand], self.params.dense_weight)
        order = np.argsort(-fused, kind="stable")
        cand, fused = cand[order], fused[order]
        cosines = cosines[order] if cosines is not None else None
        timings["fusion"] = time.perf_counter() - t

        t = time.perf_counter()
        idf = self.stored.lexical.idf(terms)
        kind = answer_kind(question)
        sentences: dict[int, list] = {}
        analysed: dict[int, list[Sentence]] = {}
        if self.params.sentence_weight > 0 and terms and cand.size:
            cand, fused, cosines, sentences, analysed = self._rerank(cand, fused, cosines, terms, idf, kind)
        timings["rerank"] = time.perf_counter() - t

        t = time.perf_counter()
        hits, title_terms = self._group(cand, fused, k, passages_per_article or self.params.passages_per_article)
        analysed.update(self._sentences([p.row for hit in hits for p in (hit.passage, *hit.more) if p.row not in analysed]))
        for hit in hits:
            topic = set(title_terms.get(hit.article_id, ()))
            for passage in (hit.passage, *hit.more):
                if passage.row not in sentences:
                    sentences[passage.row] = sentence_scores(analysed[passage.row], terms, idf, kind)
                scored = sentence_scores(analysed[passage.row], terms, idf, kind, topic) if topic else sentences[passage.row]
                passage.highlights = pick_sentences(scored, self.params.highlight_sentences)
        signals = self._score_confidence(hits, idf, cand, cosines, analysed, sentences, title_terms, is_mostly_latin(question))
        timings["highlight"] = time.perf_counter() - t
        confidence = hits[0].confidence if hits else 0.0
        no_answer = not hits or confidence < self.params.min_confidence
        tentative = not no_answer and confidence < self.params.sure_confidence
        return SearchResult(question, mode, [] if no_answer else hits, no_answer, confidence, timings, signals, tentative)

    def search_many(self, questions: list[str], k: int = 5, mode: str = "hybrid") -> list[SearchResult]:
        """Answer several questions, encoding them in one batch."""
        vectors = self.encode(questions) if mode != "lexical" and questions else [None] * len(questions)
        return [self.search(q, k, mode, query_vector=v) for q, v in zip(questions, vectors, strict=True)]

    # ------------------------------------------------------------ helpers

    def _sentences(self, rows: list[int]) -> dict[int, list[Sentence]]:
        """Analysed sentences of the given chunks, as the build stored them (no analysis at query time)."""
        return {row: load_sentences(data) for row, data in self.stored.chunk_sentences(rows).items()}

    def _rerank(self, cand, fused, cosines, terms, idf, kind):
        """Re-score the best candidates by their best sentence (and the question's word pairs kept together).

        The passage holding the answer sentence wins.

        Returns the reordered candidates, and the analysed sentences and their scores
        (reused for highlighting).
        """
        depth = min(self.params.rerank_depth, cand.size)
        top = cand[:depth]
        analysed = self._sentences([int(r) for r in top])
        sentences = {int(r): sentence_scores(analysed[int(r)], terms, idf, kind) for r in top}
        best = np.asarray([max((score for _, score in sentences[int(r)]), default=0.0) for r in top], dtype=np.float32)
        rescored = minmax(fused[:depth].astype(np.float32)) + self.params.sentence_weight * best
        if self.params.phrase_weight:
            phrases = np.asarray([phrase_coverage(terms, idf, analysed[int(r)]) for r in top], dtype=np.float32)
            rescored += self.params.phrase_weight * phrases
        order = np.argsort(-rescored, kind="stable")
        fused = np.concatenate([rescored[order], fused[depth:] - float(fused[depth:].max(initial=0)) - 1.0])
        cand = np.concatenate([top[order], cand[depth:]])
        if cosines is not None:
            cosines = np.concatenate([cosines[:depth][order], cosines[depth:]])
        return cand, fused, cosines, sentences, analysed

    def _dense_scores(self, rows: np.ndarray, qvec: np.ndarray, dense_rows: np.ndarray, dense_top: np.ndarray) -> np.ndarray:
        """Cosine of every candidate; those FAISS did not return are computed from stored vectors."""
        known = dict(zip(dense_rows.tolist(), dense_top.tolist(), strict=True))
        missing = [int(r) for r in rows if int(r) not in known]
        if missing:
            vectors = self._stored_vectors(missing)
            if vectors is not None:
                known.update(zip(missing, (vectors @ qvec).tolist(), strict=True))
            else:  # index types that cannot give vectors back: rank them last
                floor = float(dense_top.min()) if dense_top.size else 0.0
                known.update(dict.fromkeys(missing, floor))
        return np.asarray([known[int(r)] for r in rows], dtype=np.float32)

    def _group(self, rows: np.ndarray, scores: np.ndarray, k: int, per_article: int) -> tuple[list[Hit], dict[str, list[str]]]:
        """Walk candidates best-first, one Hit per article with up to ``per_article`` passages.

        Also returns each hit article's analysed title (for the confidence check).
        """
        chunk_article = self.stored.chunk_article
        picked: dict[int, list[tuple[int, float]]] = {}
        for row, score in zip(rows.tolist(), scores.tolist(), strict=True):
            art = int(chunk_article[row])
            if art in picked:
                if len(picked[art]) < per_article:
                    picked[art].append((row, score))
            elif len(picked) < k + 5:  # a few spare articles in case duplicates are collapsed
                picked[art] = [(row, score)]
        if not picked:
            return [], {}
        chunk_rows = self.stored.chunks([r for lst in picked.values() for r, _ in lst])
        articles = self.stored.articles(list(picked))
        hits: list[Hit] = []
        for art, lst in picked.items():
            a = articles[art]
            passages = [Passage(r, chunk_rows[r]["text"], chunk_rows[r]["start"], chunk_rows[r]["end"], float(s)) for r, s in lst]
            hits.append(
                Hit(0, a["id"], a["title"], a["source"], a["url"], a["date"], float(lst[0][1]), passages[0], passages[1:])
            )
        if self.params.collapse_duplicates:
            hits = self._collapse(hits)
        hits = hits[:k]
        for rank, hit in enumerate(hits, start=1):
            hit.rank = rank
        return hits, {articles[art]["id"]: articles[art]["title_terms"].split() for art in picked}

    def _collapse(self, hits: list[Hit]) -> list[Hit]:
        """Merge hits whose best passages are near-identical (the same wire story) into the first.

        Passage vectors pick the pairs worth checking (a copy is very close in
        embedding space); shared word 3-grams confirm them.
        """
        vectors = self._stored_vectors([hit.passage.row for hit in hits])
        similar = vectors @ vectors.T if vectors is not None else None
        sh = functools.cache(lambda i: shingles(hits[i].passage.text))  # only for the pairs that get compared
        kept: list[int] = []
        for i, hit in enumerate(hits):
            for j in kept:
                close = similar is None or similar[i, j] >= DUPLICATE_COSINE
                if close and jaccard(sh(i), sh(j)) >= self.params.duplicate_similarity:
                    hits[j].also_in.append(
                        {"article_id": hit.article_id, "source": hit.source, "title": hit.title, "url": hit.url}
                    )
                    break
            else:
                kept.append(i)
        return [hits[i] for i in kept]

    def _stored_vectors(self, rows: list[int]) -> np.ndarray | None:
        """The indexed vectors of ``rows``; None for index types that cannot give vectors back."""
        try:
            return self.stored.faiss_index.reconstruct_batch(np.asarray(rows, dtype=np.int64))
        except RuntimeError:
            return None

    def _score_confidence(
        self,
        hits: list[Hit],
        idf: dict[str, float],
        rows: np.ndarray,
        cosines: np.ndarray | None,
        analysed: dict[int, list[Sentence]],
        scored: dict[int, list[tuple[tuple[int, int], float]]],
        title_terms: dict[str, list[str]],
        latin_question: bool = False,
    ) -> dict[str, float]:
        """Give every hit a confidence that it is relevant at all; return the top hit's signals.

        Signals: ``coverage`` (IDF-weighted share of the question's terms found in
        the title and passage; terms unknown to the corpus weigh most), ``sentence``
        (the best single sentence's share, so scattered matches count less) and
        ``cosine`` (dense similarity; absent in lexical mode). The confidence is
        their weighted mean with ``confidence_weights`` over the signals present.
        An English question about an Arabic passage (or the reverse) shares no words
        with it, so only the dense similarity counts there. A year the question
        names ("... in 2031?") that is neither in the passage, the title nor the
        article's date marks a hit about another year: its confidence is scaled
        by ``year_mismatch_penalty``.
        """
        total = sum(idf.values()) or 1.0
        years = set(_YEAR.findall(" ".join(idf)))  # "2023" also inside "2023م" / "2023هـ"
        cos_of = dict(zip(rows.tolist(), cosines.tolist(), strict=True)) if cosines is not None else {}
        top_signals: dict[str, float] = {}
        for hit in hits:
            passage_sentences = analysed.get(hit.passage.row, [])
            present = set(title_terms.get(hit.article_id, ())).union(*(s.terms for s in passage_sentences))
            signals = {"coverage": sum(v for t, v in idf.items() if t in present) / total if idf else 0.0}
            signals["sentence"] = min(1.0, max((score for _, score in scored.get(hit.passage.row, [])), default=0.0))
            if hit.passage.row in cos_of:
                signals["cosine"] = float(cos_of[hit.passage.row])
                if is_mostly_latin(hit.passage.text) != latin_question:
                    signals = {"cosine": signals["cosine"]}
            if years and not years <= set(_YEAR.findall(" ".join(present) + " " + (hit.date or ""))):
                signals["year_missing"] = 1.0
            hit.confidence = combine_confidence(signals, self.params)
            if not top_signals:
                top_signals = signals
        return top_signals


_YEAR = re.compile(r"(?<!\d)(?:1[89]|20)\d\d(?!\d)")
CONFIDENCE_SIGNALS = ("coverage", "sentence", "cosine")


def combine_confidence(signals: dict[str, float], params: SearchParams) -> float:
    """One hit's confidence from its signals: the weighted mean of those present, then the two overrides.

    A dense similarity of at least ``dense_accept`` is enough on its own; a year
    the question names but the hit lacks (``year_missing``) scales it down.
    """
    present = [
        (w, signals[name]) for w, name in zip(params.confidence_weights, CONFIDENCE_SIGNALS, strict=True) if name in signals
    ]
    norm = sum(w for w, _ in present) or 1.0
    confidence = sum(w * value for w, value in present) / norm
    if signals.get("cosine", 0.0) >= params.dense_accept:
        confidence = max(confidence, signals["cosine"])
    if signals.get("year_missing"):
        confidence *= params.year_mismatch_penalty
    return confidence


def _same_model(a: str, b: str) -> bool:
    return a == b or (is_builtin(a) and is_builtin(b))


def _check_model(manifest: dict[str, Any], name: str, dimension: int) -> None:
    if not _same_model(name, manifest["model"]):
        raise ModelMismatch(f"the index was built with {manifest['model']!r}, not {name!r}; rebuild the index or load its model")
    if dimension != int(manifest["dimension"]):
        raise ModelMismatch(f"the model gives {dimension}-d vectors but the index holds {manifest['dimension']}-d ones")
