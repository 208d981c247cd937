"""Build and update an index directory from article files.

Both commands do the same honest work: read every article, chunk it, look each
chunk up in the embeddings cache, encode only what is missing, and write a
complete new build aside before switching to it. ``update`` additionally keeps
the existing build's model and parameters and reports what changed.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from index.corpus.articles import SUPPORTED_SUFFIXES, load_articles
from index.corpus.records import DEFAULT_MAX_ARTICLE_CHARS, DEFAULT_MAX_FILE_BYTES, Article, LoadResult, Problem
from index.embedding.embedder import BUILTIN_MODEL, Embedder, is_builtin, load_embedder
from index.layout import IndexLayout
from index.manifest import Manifest
from index.search.recency import article_day
from index.storage.cache import BuildCache, CacheDamaged, DiskFull, disk_full, quarantine
from index.storage.carryover import assemble, load_previous
from index.storage.lexical import ANALYZER_VERSION, LexicalIndex, LexicalParams
from index.storage.store import (
    IndexCorrupt,
    article_summaries,
    build_lock,
    cleanup,
    current_build_id,
    current_manifest,
    new_build_id,
    read_manifest,
    removed_on_failure,
    utc_now,
    write_build,
)
from index.storage.vectors import build_index, resolve_type
from index.text.analysis import analyse_passage, dump_sentences, parse_sentences
from index.text.arabic import analyze, is_mostly_latin
from index.text.chunking import CHUNKER_VERSION, Chunk, ChunkParams, chunk_article, chunks_from_spans, embedding_input
from index.text.cues import LEXICON_DIGEST

from .progress import bar

log = logging.getLogger(__name__)
# The script of a passage shows in its opening: judging the first characters keeps an update cheap.
LATIN_SAMPLE_CHARS = 300
LATIN_SAMPLE = 1000


class BuildError(RuntimeError):
    """The build could not produce an index (nothing to index, model mismatch...)."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


class RemovalRefused(BuildError):
    """An update would remove more of the index than it may without a confirmation; nothing was changed.

    ``removed`` and ``total`` count articles; ``folders`` are folders the index was built from that
    this update was not given and whose every article it would remove.
    """

    def __init__(self, message: str, removed: dict[str, str], total: int, folders: list[str], problems: Sequence[Problem] = ()):
        super().__init__(message, problems)
        self.removed = removed  # article id -> title, of every article the update would remove
        self.total = total
        self.folders = folders


# An update that would remove more than this share of the index's articles needs a confirmation.
MAX_REMOVED_SHARE = 0.5


@dataclass(frozen=True)
class BuildConfig:
    """Everything that decides what a build contains; written to its manifest."""

    model: str = BUILTIN_MODEL
    query_prompt: str | None = None
    passage_prompt: str | None = None
    chunking: ChunkParams = field(default_factory=ChunkParams)
    lexical: LexicalParams = field(default_factory=LexicalParams)
    index_titles: bool = True
    embed_max_words: int = 128
    faiss_index: str = "auto"
    batch_size: int = 64
    threads: int = 2
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_article_chars: int = DEFAULT_MAX_ARTICLE_CHARS

    @classmethod
    def from_manifest(cls, manifest: Manifest, **overrides: Any) -> BuildConfig:
        """The configuration an existing build was made with (so an update stays consistent)."""
        config = cls(
            model=manifest.model,
            query_prompt=manifest.query_prompt,
            passage_prompt=manifest.passage_prompt,
            chunking=manifest.chunking,
            lexical=manifest.lexical,
            index_titles=manifest.index_titles,
            embed_max_words=manifest.embed_max_words,
            faiss_index=manifest.faiss_index_setting,
        )
        return cls(**{**config.__dict__, **overrides})


@dataclass
class BuildReport:
    """What a build or update did, for the CLI and the bot to tell the admin."""

    build_id: str = ""
    path: str = ""
    articles: int = 0
    chunks: int = 0
    encoded: int = 0
    reanalysed: int = 0  # chunks not carried over from the previous build (analysed, or read from the cache)
    files: int = 0
    duplicates: int = 0
    superseded: int = 0  # articles a later file holds again (its copy is the one indexed)
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    # article id -> (title, source file) for the added, changed and removed ones, for people to read
    described: dict[str, tuple[str, str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    unchanged: bool = False
    from_scratch: bool = False  # no usable previous build: an update was a full build

    def describe(self, article_id: str) -> str:
        """``title (file) [id]`` for the report lines."""
        title, path = self.described.get(article_id, ("", ""))
        return f"{title or '(untitled)'} ({path or '?'}) [{article_id}]"

    @property
    def chunks_per_second(self) -> float:
        return self.chunks / self.seconds if self.seconds else 0.0


class _LazyEmbedder:
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
    cache_path: Path, chunks: Sequence[Chunk], titles: dict[str, str], stemmer: str
) -> tuple[list[str], dict[str, str]]:
    """Each chunk's analysed sentences and each article's analysed title, through the build cache."""
    analysis = analysis_stamp(stemmer)
    analyze_fn = partial(analyze, stemmer=stemmer)
    with BuildCache(cache_path) as cache:
        sentences = cache.derived(
            f"sentences {analysis}", [c.text for c in chunks], lambda t: dump_sentences(analyse_passage(t, analyze_fn))
        )
        title_terms = cache.derived(f"title {analysis}", list(titles.values()), lambda t: " ".join(analyze_fn(t)))
    return sentences, dict(zip(titles, title_terms, strict=True))


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
    digest = hashlib.sha256()
    for a in sorted(articles, key=lambda a: a.id):
        digest.update(f"{a.id}\x00{a.content_hash}\n".encode())
    return digest.hexdigest()[:32]


def _previous_manifest(index_dir: Path) -> Manifest | None:
    build_id = current_build_id(index_dir)
    if not build_id:
        return None
    try:
        return read_manifest(IndexLayout(index_dir).build(build_id).root)
    except IndexCorrupt as exc:
        log.warning("not reusing the current build: %s", exc)
        return None


def resolved_sources(paths: Sequence[str | Path]) -> list[Path]:
    """The article paths as absolute, symlink-free paths: what a build records, and what its next update compares."""
    return [Path(p).expanduser().resolve() for p in paths]


def covers(roots: Sequence[Path], folder: Path) -> bool:
    """Whether ``folder`` is one of ``roots`` or inside one of them."""
    return any(folder == root or root in folder.parents for root in roots)


def _in_folder(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def check_removals(
    before: dict[str, tuple[str, str, str]],
    removed: Sequence[str],
    previous_sources: Sequence[str],
    given: Sequence[Path],
    max_share: float = MAX_REMOVED_SHARE,
) -> None:
    """Refuse (``RemovalRefused``) an update that removes more than ``max_share`` of the index, or every article of a
    folder the index was built from that this update was not given (the bot run on another ARTICLES_DIR than the
    one the index was built from). A deliberate removal passes ``allow_removals`` to ``run_build`` instead."""
    if not removed or not before:
        return
    gone = set(removed)
    folders = []
    for source in previous_sources:
        folder = Path(source).expanduser().resolve()
        if covers(given, folder):
            continue
        held = [i for i, (_, _, path) in before.items() if _in_folder(path, source)]
        if held and all(i in gone for i in held):
            folders.append(str(folder))
    share = len(removed) / len(before)
    if share <= max_share and not folders:
        return
    why = f"it would remove {len(removed)} of the index's {len(before)} articles ({share:.0%}"
    why += f", more than {max_share:.0%})" if share > max_share else ")"
    if folders:
        why += f", among them every article read from {', '.join(folders)}, which it was not given"
    raise RemovalRefused(
        f"update refused: {why}. Nothing was changed. If that is what you want, run it again with --allow-removals "
        "(an admin in the bot: the confirm button); to keep those articles, give the folder(s) the index was built from "
        f"({', '.join(previous_sources) or '?'}) with --articles",
        {i: before[i][1] for i in removed},
        len(before),
        folders,
    )


def _previous_articles(index_dir: Path, manifest: Manifest | None) -> dict[str, tuple[str, str, str]]:
    """Article id -> (content hash, title, source file) in the previous build."""
    if manifest is None:
        return {}
    return article_summaries(IndexLayout(index_dir).build(manifest.build_id).root)


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


def run_build(
    paths: Sequence[str | Path],
    index_dir: str | Path,
    config: BuildConfig | None = None,
    *,
    incremental: bool = False,
    embedder: Embedder | None = None,
    progress: bool = True,
    use_cache: bool = True,
    strict: bool = False,
    on_stage: Callable[[str], None] | None = None,
    allow_removals: bool = False,
    max_removed_share: float = MAX_REMOVED_SHARE,
) -> BuildReport:
    """Build (or with ``incremental`` update) the index in ``index_dir`` from ``paths``.

    ``embedder`` lets callers that already hold a model (the bot, tests) skip
    loading it again. ``on_stage`` receives short progress notes ("reading",
    "embedding 120 new chunks"...), used by the bot's /reindex messages. An update
    that would remove much of the index is refused (``check_removals``) unless
    ``allow_removals``.
    """
    started = time.perf_counter()
    index_dir = Path(index_dir)
    paths = resolved_sources(paths)
    guard = None if allow_removals or not incremental else max_removed_share
    note = on_stage or (lambda _msg: None)
    with removed_on_failure(index_dir), build_lock(index_dir), cyclic_gc_paused():
        cleanup(index_dir)
        previous = _previous_manifest(index_dir)
        if incremental and previous is not None:
            # an update keeps the build's model and analysis; how it reads and encodes comes from the caller
            carried = ("batch_size", "threads", "max_file_bytes", "max_article_chars")
            overrides = {name: getattr(config, name) for name in carried} if config else {}
            # the default (built-in) model means "whatever the index uses"; another model named explicitly must match
            if config and not is_builtin(config.model) and config.model != previous.model:
                raise BuildError(
                    f"the index was built with {previous.model!r} but EMBEDDING_MODEL is {config.model!r}; "
                    "run `python -m index build` to rebuild it with the new model"
                )
            config = BuildConfig.from_manifest(previous, **overrides)
        config = config or BuildConfig()
        lazy = _LazyEmbedder(config, embedder)
        try:
            if incremental and previous is not None:
                lazy.warm_up()  # an update usually embeds something: load the model beside the reading
            try:
                report = _build(paths, index_dir, config, previous, lazy, progress, use_cache, strict, note, guard)
            except CacheDamaged as exc:  # found damaged in the middle of the work: start a new cache, once
                aside = quarantine(IndexLayout(index_dir).embeddings_cache)
                log.warning("the embeddings cache was damaged (%s); moved it to %s and building again without it", exc, aside)
                report = _build(paths, index_dir, config, previous, lazy, progress, use_cache, strict, note, guard)
        except OSError as exc:
            if disk_full(exc):
                raise DiskFull(f"the disk is full ({exc.filename or index_dir}); free some space and run again") from None
            raise
        finally:
            lazy.close()
        cleanup(index_dir)

    report.seconds = time.perf_counter() - started
    return report


def _build(
    paths: Sequence[str | Path],
    index_dir: Path,
    config: BuildConfig,
    previous: Manifest | None,
    lazy: _LazyEmbedder,
    progress: bool,
    use_cache: bool,
    strict: bool,
    note: Callable[[str], None],
    guard: float | None = None,
) -> BuildReport:
    """The body of ``run_build``, under its lock: read, chunk, embed, analyse, index, write."""
    note("reading articles")
    cache_path = IndexLayout(index_dir).embeddings_cache
    with BuildCache(cache_path) if use_cache else contextlib.nullcontext() as memo:
        loaded: LoadResult = load_articles(paths, config.max_file_bytes, config.max_article_chars, progress, memo)
        if memo is not None:
            memo.forget_files_except(set(loaded.file_names))
    report = BuildReport(
        files=loaded.files, duplicates=loaded.duplicates, superseded=len(loaded.superseded), problems=loaded.problems
    )
    articles = loaded.articles
    if not articles:
        raise BuildError(
            f"no articles could be loaded from {', '.join(map(str, paths))} "
            f"(accepted file types: {' '.join(SUPPORTED_SUFFIXES)})",
            loaded.problems,
        )
    if strict and loaded.problems:
        raise BuildError(
            f"{len(loaded.problems)} input problem(s) and --strict is set; the index was not changed", loaded.problems
        )

    before = _previous_articles(index_dir, previous)
    old = {i: h for i, (h, _, _) in before.items()}
    new = {a.id: a.content_hash for a in articles}
    report.added = sorted(set(new) - set(old))
    report.changed = sorted(i for i in new if i in old and old[i] != new[i])
    report.removed = sorted(set(old) - set(new))
    if guard is not None and previous is not None:
        try:
            check_removals(before, report.removed, previous.sources, paths, guard)
        except RemovalRefused as refused:
            refused.problems = loaded.problems
            raise
    report.from_scratch = previous is None
    shown = set(report.added) | set(report.changed)
    report.described = {a.id: (a.title, a.path) for a in articles if a.id in shown}
    report.described.update({i: before[i][1:] for i in report.removed})

    note("chunking")
    chunks = chunk_corpus(articles, config.chunking, progress, cache_path if use_cache else None)
    if not chunks:
        raise BuildError("the articles produced no text chunks")
    titles = {a.id: a.title if config.index_titles else "" for a in articles}
    inputs = [embedding_input(titles[c.article_id], c.text, config.embed_max_words) for c in chunks]

    query_prompt, passage_prompt = lazy.prompts()
    model_name = BUILTIN_MODEL if is_builtin(config.model) else config.model
    with BuildCache(cache_path) as cache:
        if not use_cache:
            cache.prune(model_name, set())
        dim = _dimension(cache, model_name, lazy, previous)
    # The encoder works (in worker processes for the built-in model) while this thread analyses the
    # text and builds BM25: an update of a few articles waits for the model to load, a full build for
    # the encoding, and neither waits for the other part.
    with ThreadPoolExecutor(1, thread_name_prefix="embed") as background:
        note(f"embedding {len(chunks)} chunks")
        embedded = background.submit(embed_chunks, cache_path, model_name, inputs, passage_prompt, dim, lazy.encode, progress)
        stamp = analysis_stamp(config.lexical.stemmer)
        # chunks whose text the build being replaced already analysed are copied from its arrays
        lender = load_previous(IndexLayout(index_dir).build(previous.build_id).root, stamp) if previous and use_cache else None
        reused = lender.rows([c.text for c in chunks]) if lender else [-1] * len(chunks)
        fresh = [c for c, row in zip(chunks, reused, strict=True) if row < 0]
        sentences, title_terms = analyse_chunks(cache_path, fresh, titles, config.lexical.stemmer)
        article_idx = {a.id: i for i, a in enumerate(articles)}
        corpus = assemble(
            [article_idx[c.article_id] for c in chunks],
            reused,
            [parse_sentences(data) for data in sentences],
            [title_terms[a.id].split() for a in articles],
            [article_day(a.date) for a in articles],
            lender,
        )
        lexical = LexicalIndex.from_ids(corpus.doc_ids, corpus.doc_of, len(chunks), corpus.vocab, config.lexical)
        analyses = corpus.analyses
        report.reanalysed = len(fresh)
        vectors, report.encoded = embedded.result()
    note("indexing")

    with bar(total=1, enabled=progress, desc="indexing vectors", unit="index") as shown:
        faiss_index = build_index(vectors, config.faiss_index)
        shown.update()
    now = utc_now()
    manifest = Manifest(
        build_id=new_build_id(index_dir),
        built_at=now.isoformat(),
        model=model_name,
        dimension=int(dim),
        query_prompt=query_prompt,
        passage_prompt=passage_prompt,
        chunking=config.chunking,
        lexical=config.lexical,
        index_titles=config.index_titles,
        embed_max_words=config.embed_max_words,
        faiss_index=resolve_type(config.faiss_index, len(chunks)),
        faiss_index_setting=config.faiss_index,
        articles=len(articles),
        chunks=len(chunks),
        # share of passages in Latin script: questions in the other script are answered dense-first
        latin_share=latin_share(chunks),
        analysis=stamp,  # lets the next update reuse this build's analyses (storage.carryover)
        corpus_hash=corpus_hash(articles),
        sources=[str(p) for p in paths],
    )
    note("writing")
    final = write_build(index_dir, articles, chunks, faiss_index, lexical, analyses, manifest)

    report.build_id = manifest.build_id
    report.path = str(final)
    report.articles = len(articles)
    report.chunks = len(chunks)
    report.unchanged = previous is not None and previous.corpus_hash == manifest.corpus_hash
    return report


def _dimension(cache: BuildCache, model: str, lazy: _LazyEmbedder, previous: Manifest | None) -> int:
    """The model's vector size, known from the previous build or the built-in model without loading it."""
    if previous is not None and previous.model == model:
        return previous.dimension
    if is_builtin(model):
        return 512
    return lazy.get().dimension


def index_is_stale(index_dir: Path | str, articles_dir: Path | str) -> bool:
    """True when articles were fetched after the current build was made (or there is no usable build)."""
    from datetime import datetime

    from index.web.store import WebStore

    manifest = current_manifest(Path(index_dir))
    if manifest is None:
        return True
    try:
        built_at = datetime.fromisoformat(manifest.built_at)
    except ValueError:
        return True
    stored_at = WebStore(articles_dir).load().state.get("stored_at", "")
    return bool(stored_at) and datetime.fromisoformat(stored_at) > built_at
