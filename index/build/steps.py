"""The steps of a build, each one job: read and chunk the corpus, analyse the chunks, embed them, all
through the build cache (so an update only computes what is new), and what the manifest records of them."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict
from functools import partial
from pathlib import Path

import numpy as np

from index.corpus.records import Article
from index.embedding.embedder import Embedder, is_builtin, load_embedder
from index.progress import bar
from index.storage.cache import BuildCache
from index.storage.lexical import ANALYZER_VERSION
from index.text.analysis import analyse_passage, dump_sentences
from index.text.arabic import analyze, is_mostly_latin
from index.text.chunking import CHUNKER_VERSION, Chunk, ChunkParams, chunk_article, chunks_from_spans
from index.text.cues import LEXICON_DIGEST

from .config import BuildConfig

log = logging.getLogger(__name__)


# The script of a passage shows in its opening: judging the first characters keeps an update cheap.
LATIN_SAMPLE_CHARS = 300
LATIN_SAMPLE = 1000
ANALYSIS_BATCH = 20_000  # chunks analysed (or read from the cache) per batch


class LazyEmbedder:
    """Loads the model on first use, so a build whose chunks are all cached never pays for it."""

    def __init__(self, config: BuildConfig, embedder: Embedder | None) -> None:
        self.config = config
        self._embedder = embedder
        self._owned = embedder is None  # only models this build loaded are closed by it
        self.calls = 0

    def get(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(
                self.config.model,
                self.config.query_prompt,
                self.config.passage_prompt,
                self.config.batch_size,
                self.config.threads,
                light=True,  # builds never need torch for the built-in model
            )
        return self._embedder

    def warm_up(self) -> None:
        """Load the built-in model in the background when this build loads its own (see FastBuiltinModel)."""
        if self._owned and is_builtin(self.config.model):
            self.get().model.warm_up()

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        return self.get().encode_passages(texts)

    def close(self) -> None:
        """Stop encoder worker processes, if this build started any."""
        if self._owned and self._embedder is not None and hasattr(self._embedder.model, "close"):
            self._embedder.model.close()

    def prompts(self) -> tuple[str, str]:
        """Query and passage prompts, without loading the model when they are already known."""
        q, p = self.config.query_prompt, self.config.passage_prompt
        if q is not None and p is not None:
            return q, p
        if is_builtin(self.config.model) and self._embedder is None:
            return q or "", p or ""
        embedder = self.get()
        return embedder.query_prompt, embedder.passage_prompt


def chunk_corpus(
    articles: Sequence[Article], params: ChunkParams, progress: bool = False, cache_path: Path | None = None
) -> list[Chunk]:
    """Every article's chunks; with ``cache_path``, texts chunked by an earlier build are not cut again.

    The cache keeps an ``update`` from re-splitting a whole corpus to add one article.
    """
    chunks: list[Chunk] = []
    if cache_path is None:
        for article in bar(articles, enabled=progress, desc="chunking", unit="article"):
            chunks.extend(chunk_article(article.id, article.text, params))
        return chunks

    def spans(text: str) -> str:
        return json.dumps([[c.start, c.end] for c in chunk_article("", text, params)])

    namespace = "chunks " + json.dumps({**asdict(params), "version": CHUNKER_VERSION}, sort_keys=True)
    with BuildCache(cache_path) as cache:
        stored = cache.derived(namespace, [a.text for a in articles], spans)
    for article, data in zip(articles, stored, strict=True):
        chunks.extend(chunks_from_spans(article.id, article.text, json.loads(data)))
    return chunks


def analysis_stamp(stemmer: str) -> str:
    """Everything a chunk's analysis depends on besides its text; recorded in the manifest and the cache keys."""
    return json.dumps({"stemmer": stemmer, "analyzer": ANALYZER_VERSION, "cues": LEXICON_DIGEST}, sort_keys=True)


def analyse_chunks(
    cache_path: Path, chunks: Sequence[Chunk], titles: dict[str, str], stemmer: str, batch: int = ANALYSIS_BATCH
) -> tuple[Iterator[str], dict[str, str]]:
    """Each chunk's analysed sentences (yielded in order, a batch at a time) and each article's analysed title,
    through the build cache; the batches keep a million passages' analyses from being held at once."""
    analysis = analysis_stamp(stemmer)
    analyze_fn = partial(analyze, stemmer=stemmer)
    with BuildCache(cache_path) as cache:
        title_terms = cache.derived(f"title {analysis}", list(titles.values()), lambda t: " ".join(analyze_fn(t)))

    def sentences() -> Iterator[str]:
        with BuildCache(cache_path) as cache:
            for start in range(0, len(chunks), batch):
                yield from cache.derived(
                    f"sentences {analysis}",
                    [c.text for c in chunks[start : start + batch]],
                    lambda t: dump_sentences(analyse_passage(t, analyze_fn)),
                )

    return sentences(), dict(zip(titles, title_terms, strict=True))


def latin_share(chunks: Sequence[Chunk]) -> float:
    """Share of passages in Latin script, judged on the openings of at most ``LATIN_SAMPLE`` evenly spread ones.

    Only whether it is above one half matters (questions in the other script are answered
    dense-first), so a sample keeps an ``update`` from reading the whole corpus again.
    """
    step = max(1, len(chunks) // LATIN_SAMPLE)
    sample = chunks[::step]
    return round(sum(is_mostly_latin(c.text[:LATIN_SAMPLE_CHARS]) for c in sample) / len(sample), 4) if sample else 0.0


def embed_chunks(
    cache_path: Path,
    model: str,
    inputs: list[str],
    prompt: str,
    dim: int,
    encode: Callable[[list[str]], np.ndarray],
    progress: bool,
) -> tuple[np.ndarray, int]:
    """Every chunk's vector through the build cache (its own connection: it runs beside the analysis)."""
    with BuildCache(cache_path) as cache:
        return cache.embed(model, inputs, prompt, dim, encode, progress=progress)


def corpus_hash(articles: Sequence[Article]) -> str:
    return corpus_hash_of((a.id, a.content_hash) for a in articles)


def corpus_hash_of(pairs: Iterable[tuple[str, str]]) -> str:
    """One hash of a corpus's (article id, content hash) pairs, whatever their order."""
    digest = hashlib.sha256()
    for article_id, content in sorted(pairs):
        digest.update(f"{article_id}\x00{content}\n".encode())
    return digest.hexdigest()[:32]


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector for a build run from the command line: it allocates millions of small
    acyclic objects (terms, sentences), and the collector kept rescanning the growing heap (~7% of an
    ``update``). Reference counting still frees everything; the collector resumes as it was. Not in a
    worker thread (the bot's /reindex): the pause would be process-wide."""
    if threading.current_thread() is not threading.main_thread():
        yield  # inside the bot (a worker thread): its other threads keep their collector
        return
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
