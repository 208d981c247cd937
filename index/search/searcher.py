"""Answer a question from one loaded build: the stages, in order.

    question  -> analysed once (``question``): terms, what it asks for, years, script
    retrieval -> BM25 over every chunk + FAISS nearest, fused linearly (``retrieval``)
    rerank    -> the top passages re-scored by their best sentence and word pairs (``rerank``)
    grouping  -> one hit per article, wire copies collapsed (``grouping``)
    answers   -> each passage's answer sentence, by a learned model (``answers``)
    answerability -> the probability that each hit answers; the top hit's picks the reply (``answerability``)

``Searcher`` holds the build, the encoder and the two learned models, and is
safe for concurrent ``search`` calls.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from index.answer.answerability import ANSWERABILITY_FEATURES, answer_probabilities
from index.answer.head import head_scores
from index.answer.learned import RETRAIN, LearnedModel, ModelFileError
from index.answer.matching import Matcher
from index.answer.ordering import lead_with_best_answer, rerank_hits
from index.answer.restating import recent_lead
from index.answer.selector import SENTENCE_FEATURES, SentenceRef, choose_answers, sentence_cosines
from index.embedding.embedder import Embedder, is_builtin, load_embedder
from index.manifest import Manifest
from index.question import Question, analyse_question
from index.results import Hit, Passage, SearchResult, banded
from index.storage.lookup import IndexStore
from index.storage.milvus.target import MilvusTarget
from index.storage.stores import open_store
from index.storage.vectors import single_threaded_search
from index.text.arabic import is_mostly_latin

from .followup import FOLLOWUP_BONUS, Understood, understand
from .grouping import COPY_DAYS, group
from .names import NameIndex, name_terms
from .recency import (
    RECENCY_DEPTH,
    RECENCY_MARGIN,
    RECENT_CANDIDATES,
    RECENT_DAYS,
    TIE_MARGIN,
    UNKNOWN_DAY,
    WINDOW_BONUS,
    newer_first_among_ties,
    time_window,
    window_bonus,
)
from .rerank import rerank
from .retrieval import MODES, Candidates, retrieve

__all__ = ["MODES", "AnswerModels", "Hit", "ModelMismatch", "Passage", "SearchParams", "SearchResult", "Searcher"]

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"


class ModelMismatch(RuntimeError):
    """The index was built with another embedding model than the one configured."""


@dataclass(frozen=True)
class SearchParams:
    """Retrieval and reply knobs; defaults are the values chosen on the dev sets (docs/benchmarks.md)."""

    dense_weight: float = 0.3
    candidates: int = 100
    passages_per_article: int = 1  # passages returned per article
    answer_passages: int = 2  # passages per article the answer sentence is chosen from (the best one leads)
    collapse_duplicates: bool = True
    duplicate_similarity: float = 0.5
    copy_days: int | None = COPY_DAYS  # wire copies are at most this many days apart (None: any dates)
    min_confidence: float | None = None  # answer probability below it: "nothing found" (None: the model's threshold)
    sure_confidence: float | None = None  # below it: "no sure answer" and the closest passages (None: the model's)
    sentence_weight: float = 1.0
    phrase_weight: float = 0.5  # re-rank bonus for question word pairs found side by side (names, set phrases)
    rerank_depth: int = 30
    cross_dense_weight: float = 0.8  # dense weight for a question in another script than the corpus (English about Arabic)
    answer_depth: int = 3  # the best answer sentence among this many top hits puts its hit first
    window_bonus: float = WINDOW_BONUS  # re-rank bonus for articles in the time window a question names (0: off)
    tie_margin: float = TIE_MARGIN  # hits this close in score go newer first (0: off)
    followup_bonus: float = FOLLOWUP_BONUS  # re-rank bonus, for a follow-up, for the article the previous reply led with
    # news about now, for questions that name no time (docs/answers.md, "News about now"):
    recent_days: int = RECENT_DAYS  # articles this close to the archive's newest day are "recent"
    recent_candidates: int = RECENT_CANDIDATES  # passages of recent articles added to the candidates (0: off)
    recency_margin: float = RECENCY_MARGIN  # a newer answer this close to the first one's leads (0: off)
    recency_depth: int = RECENCY_DEPTH  # ... among this many top hits


@dataclass(frozen=True)
class AnswerModels:
    """The learned models of the answer layer: the answer sentence, answerability, and the head over the vectors."""

    sentence: LearnedModel
    answerability: LearnedModel
    head: LearnedModel | None = None  # optional: without it the "head" feature is 0

    @classmethod
    def load(cls, directory: str | Path = MODELS_DIR) -> AnswerModels:
        """Load them from ``directory``; ``learned.ModelFileError`` (naming the file) when one is missing or damaged
        (the head may be absent)."""
        directory = Path(directory)
        head_file = directory / "answer_head.json"
        models = cls(
            LearnedModel.load(directory / "answer_sentence.json", SENTENCE_FEATURES),
            LearnedModel.load(directory / "answerability.json", ANSWERABILITY_FEATURES),
            LearnedModel.load(head_file) if head_file.exists() else None,
        )
        try:
            models.thresholds()
            models.thresholds(cross_language=True)
        except (KeyError, TypeError, ValueError):
            raise ModelFileError(
                f"model file {directory / 'answerability.json'} has no reply thresholds (meta.thresholds.min/sure); {RETRAIN}"
            ) from None
        return models

    def thresholds(self, cross_language: bool = False) -> tuple[float, float]:
        """The answerability model's thresholds chosen on the dev curves: ("nothing found" below, sure from).

        A question in another script than the corpus has its own pair when the model
        carries one: its probabilities run lower (no shared words), and so do its thresholds.
        """
        meta = self.answerability.meta
        chosen = meta.get("thresholds_cross_language", meta["thresholds"]) if cross_language else meta["thresholds"]
        low, high = float(chosen["min"]), float(chosen["sure"])
        if not 0.0 <= low <= high <= 1.0:
            raise ValueError("thresholds out of order")
        return low, high


class Searcher:
    """Answers questions from one loaded build. Thread-safe for concurrent ``search`` calls."""

    def __init__(
        self,
        stored: IndexStore,
        embedder: Embedder | None,
        params: SearchParams | None = None,
        models: AnswerModels | None = None,
    ) -> None:
        self.stored = stored
        self.embedder = embedder
        self.params = params or SearchParams()
        self.models = models or AnswerModels.load()
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
        models: AnswerModels | None = None,
        store: MilvusTarget | None = None,
    ) -> Searcher:
        """Load the current build (in Milvus when ``store`` names it) and the model named in its manifest.

        ``model`` is what the settings ask for; if it names another model than the
        index was built with, that is an error (mixing models gives nonsense).
        One encoder thread per search: a question is short, and concurrent searches
        already use the cores (more threads per search only contend).
        """
        single_threaded_search()
        stored = open_store(index_dir, store, mmap=mmap)
        manifest = stored.manifest
        if model and not _same_model(model, manifest.model):
            raise ModelMismatch(
                f"the index in {store or index_dir} was built with {manifest.model!r} but EMBEDDING_MODEL is {model!r}; "
                "rebuild with `python -m index build` or set EMBEDDING_MODEL to the index's model"
            )
        models = models or AnswerModels.load()
        if embedder is None:  # the built-in model without torch: the same vectors (tests/test_embedding.py), 4 s less start-up
            embedder = load_embedder(
                manifest.model,
                manifest.query_prompt,
                manifest.passage_prompt,
                threads=threads,
                light=True,
            )
        return cls(stored, embedder, params, models)

    @property
    def manifest(self) -> Manifest:
        return self.stored.manifest

    def bands(self, cross_language: bool = False) -> tuple[float, float]:
        """(below it "nothing found", from it an answer line): MIN_CONFIDENCE / SURE_CONFIDENCE, else the model's."""
        low, high = self.models.thresholds(cross_language)
        given_low, given_high = self.params.min_confidence, self.params.sure_confidence
        low = low if given_low is None else given_low
        high = high if given_high is None else given_high
        return low, max(high, low)

    @property
    def min_confidence(self) -> float:
        """Answer probability below which the reply to a question in the corpus's script is "nothing found"."""
        return self.bands()[0]

    @property
    def sure_confidence(self) -> float:
        """Answer probability from which the reply to a question in the corpus's script has an answer line."""
        return self.bands()[1]

    # ------------------------------------------------------------ stages

    def encode(self, questions: list[str]) -> np.ndarray:
        if self.embedder is None:
            raise RuntimeError("dense search needs an embedding model")
        return self.embedder.encode_queries(questions)

    def _query_vector(self, text: str, mode: str, given: np.ndarray | None, timings: dict[str, float]) -> np.ndarray | None:
        """The question's vector: ``given``, else encoded (and timed) unless the search is lexical."""
        if given is not None or mode == "lexical":
            return given
        t = time.perf_counter()
        vector = self.encode([text])[0]
        timings["encode"] = time.perf_counter() - t
        return vector

    def similarity(
        self, matcher: Matcher, query_vector: np.ndarray | None
    ) -> Callable[[Sequence[SentenceRef]], np.ndarray] | None:
        """For a question in another script than the corpus: each competing sentence's cosine to it (else None)."""
        if not matcher.q.cross_language or query_vector is None or self.embedder is None:
            return None
        return partial(
            sentence_cosines, query_vector=query_vector, encode=self.embedder.encode_passages, depth=self.params.answer_depth
        )

    def understand(self, question: str, previous: Understood | None = None) -> Understood:
        """``question`` as searched after ``previous`` in the same conversation (``followup.understand``)."""
        return understand(question, previous, self.stored.lexical.word_shares, self.manifest.latin_share > 0.5)

    def analyse(self, question: str, carried: tuple[str, ...] = ()) -> Matcher:
        """The question (with the words a follow-up carries) analysed against this build, with the matcher every
        later stage reads it through."""
        corpus_latin = self.manifest.latin_share > 0.5
        spelled = tuple(name_terms(question, self.names)) if is_mostly_latin(question) and not corpus_latin else ()
        q = analyse_question(question, self.stored.lexical, corpus_latin, carried, spelled)
        return Matcher(q, self.stored.analyses)

    @functools.cached_property
    def names(self) -> NameIndex:
        """The build's vocabulary by consonant skeleton, for the names in Latin-script questions."""
        return NameIndex(self.stored.lexical)

    def candidates(
        self,
        matcher: Matcher,
        mode: str = "hybrid",
        query_vector: np.ndarray | None = None,
        timings: dict[str, float] | None = None,
        prefer: Sequence[int] = (),
    ) -> Candidates:
        """Retrieval, fusion and re-ranking: chunk rows best first (``prefer``: article indexes a follow-up leans on)."""
        q = matcher.q
        timings = timings if timings is not None else {}
        qvec = self._query_vector(q.text, mode, query_vector, timings)
        p = self.params
        # a question in another script shares few words with the corpus: the dense side leads
        weight = p.cross_dense_weight if q.cross_language else p.dense_weight
        window = time_window(q.text)
        newest = self.stored.newest_day
        recent = about_now(q) and not len(prefer) and newest != UNKNOWN_DAY and p.recent_days >= 0
        since = newest - p.recent_days if recent else None
        cands = retrieve(self.stored, q.terms, qvec, mode, p.candidates, weight, timings, since, p.recent_candidates)
        t = time.perf_counter()
        cands = rerank(cands, matcher, p.rerank_depth, p.sentence_weight, p.phrase_weight)
        if window is not None and cands.rows.size and newest != UNKNOWN_DAY and p.window_bonus > 0:
            cands = cands.rescored(cands.scores + window_bonus(cands.days, newest, window, p.window_bonus))
        if len(prefer) and cands.rows.size and p.followup_bonus > 0:
            cands = cands.rescored(cands.scores + p.followup_bonus * np.isin(cands.articles, np.asarray(prefer)))
        timings["rerank"] = time.perf_counter() - t
        return cands

    @property
    def newest_day(self) -> int:
        """The newest article's day: where "today" and "yesterday" are measured from."""
        return self.stored.newest_day

    def hits(self, cands: Candidates, k: int, passages_per_article: int | None = None) -> list[Hit]:
        """One hit per article, best first, duplicates collapsed; each with the passages its answer is chosen from."""
        p = self.params
        per_article = max(passages_per_article or p.passages_per_article, p.answer_passages)
        hits = group(self.stored, cands, k, per_article, p.collapse_duplicates, p.duplicate_similarity, p.copy_days)
        days = cands.day_of
        order = newer_first_among_ties([h.score for h in hits], [days[h.article_idx] for h in hits], p.tie_margin)
        return rerank_hits(hits, order)

    def answer(
        self, matcher: Matcher, hits: list[Hit], cands: Candidates, query_vector: np.ndarray | None = None
    ) -> tuple[list[Hit], dict[str, float]]:
        """Choose each hit's answer sentence, put the hit with the likeliest one first, and score answerability.

        A question in another script than the corpus (with its vector) also has the competing
        sentences embedded: their similarity to it leads the choice (``answers.dense_adjusted``).
        """
        if matcher.q.followup:  # the follow-up's own words pick its sentence; the carried ones found the article
            matcher = matcher.reweighted(matcher.q.carried_weighing())
        choose_answers(matcher, hits, self.models.sentence, self.similarity(matcher, query_vector))
        hits = lead_with_best_answer(hits, self.params.answer_depth)
        if about_now(matcher.q) and self.params.recency_margin > 0:
            hits = self.lead_with_recent(matcher, hits, cands.day_of)
        bm25 = dict(zip(cands.rows.tolist(), cands.bm25.tolist(), strict=True))
        k1 = self.manifest.lexical.k1
        head = self.head_scores(hits, query_vector)
        signals = answer_probabilities(matcher, hits, bm25, self.models.answerability, k1, head)
        return hits, signals

    def lead_with_recent(self, matcher: Matcher, hits: list[Hit], day_of: dict[int, int]) -> list[Hit]:
        """News about now: among the top ``recency_depth`` hits, a newer one that restates the first one's answer
        leads (``answer.restating``)."""
        p = self.params
        top = hits[: p.recency_depth]
        days = [day_of.get(h.article_idx, UNKNOWN_DAY) for h in top]
        lead = recent_lead(matcher, top, self.models.sentence, days, p.recency_margin)
        return rerank_hits(hits, [lead, *(i for i in range(len(hits)) if i != lead)]) if lead else hits

    def head_scores(self, hits: Sequence[Hit], query_vector: np.ndarray | None) -> np.ndarray | None:
        """The learned head's score of each hit's passage, from the vectors the index holds (None: no head)."""
        if self.models.head is None or query_vector is None or not hits:
            return None
        return head_scores(self.models.head, query_vector, self.stored.vectors([h.passage.row for h in hits]))

    # ------------------------------------------------------------ search

    def search(
        self,
        question: str | Understood,
        k: int = 5,
        mode: str = "hybrid",
        passages_per_article: int | None = None,
        query_vector: np.ndarray | None = None,
    ) -> SearchResult:
        """Top-``k`` articles for ``question``, each with its best passage(s), the answer sentence and the reply band.

        ``question`` may be an ``Understood`` (a follow-up with the words carried from the question before it):
        its text is searched and the result says how it was understood.
        """
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
        understood = question if isinstance(question, Understood) else Understood(question)
        timings: dict[str, float] = {}
        matcher = self.analyse(understood.asked, understood.carried)
        q = matcher.q
        lang = "en" if q.latin else "ar"
        if not q.text or (not q.terms and mode == "lexical"):
            return SearchResult(q.text, mode, [], no_answer=True, timings=timings, lang=lang)
        query_vector = self._query_vector(q.text, mode, query_vector, timings)
        prefer = self.stored.article_index(understood.about) if understood.followup else []
        cands = self.candidates(matcher, mode, query_vector, timings, prefer)
        t = time.perf_counter()
        hits = self.hits(cands, k, passages_per_article)
        timings["group"] = time.perf_counter() - t
        t = time.perf_counter()
        hits, signals = self.answer(matcher, hits, cands, query_vector)
        keep = (passages_per_article or self.params.passages_per_article) - 1
        for hit in hits:
            del hit.more[keep:]
        timings["answer"] = time.perf_counter() - t
        low, high = self.bands(q.cross_language)
        hits, confidence, no_answer, tentative = banded(hits, low, high)
        understood_as = understood.shown if understood.followup else None
        return SearchResult(
            q.text,
            mode,
            hits,
            no_answer,
            confidence,
            timings,
            signals,
            tentative,
            lang,
            low,
            understood_as,
            cross_language=q.cross_language,
        )


def about_now(q: Question) -> bool:
    """Does news about now apply: the question names no time (no window word, no year) and follows no earlier one?

    A named time keeps its own handling (the window bonus, the year features); a follow-up leans on
    the article the previous reply led with.
    """
    return time_window(q.text) is None and not q.years and not q.followup


def _same_model(a: str, b: str) -> bool:
    return a == b or (is_builtin(a) and is_builtin(b))


def _check_model(manifest: Manifest, name: str, dimension: int) -> None:
    if not _same_model(name, manifest.model):
        raise ModelMismatch(f"the index was built with {manifest.model!r}, not {name!r}; rebuild the index or load its model")
    if dimension != manifest.dimension:
        raise ModelMismatch(f"the model gives {dimension}-d vectors but the index holds {manifest.dimension}-d ones")
