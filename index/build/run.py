"""Build and update an index directory from article files: ``run_build``.

Both do the same honest work: read every article, chunk it, look each chunk up in the embeddings
cache, encode only what is missing, and write a complete new build aside before switching to it.
``update`` (``incremental``) additionally keeps the existing build's model and parameters, reports
what changed, and refuses to remove much of the index without a confirmation (``guard``)."""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.corpus.articles import SUPPORTED_SUFFIXES, load_articles
from index.corpus.records import LoadResult
from index.corpus.removals import DenyList, deny_list
from index.embedding.embedder import BUILTIN_MODEL, Embedder, is_builtin
from index.layout import IndexLayout
from index.manifest import Manifest
from index.progress import bar
from index.storage.cache import BuildCache, CacheDamaged, DiskFull, disk_full, quarantine
from index.storage.carryover import assemble, load_previous
from index.storage.lexical import LexicalIndex
from index.storage.loading import article_summaries, current_manifest
from index.storage.milvus.target import MilvusTarget
from index.storage.milvus.writing import Corpus
from index.storage.store import (
    build_lock,
    cleanup,
    new_build_id,
    removed_on_failure,
    utc_now,
    write_build,
)
from index.storage.vectors import build_index, resolve_type
from index.text.analysis import parse_sentences
from index.text.chunking import embedding_input
from index.text.dates import article_day

from .config import MAX_REMOVED_SHARE, BuildConfig, BuildError, BuildReport, RemovalRefused
from .delta import fingerprints, try_delta
from .guard import RemovalGuard, resolved_sources
from .steps import (
    LazyEmbedder,
    analyse_chunks,
    analysis_stamp,
    chunk_corpus,
    corpus_hash,
    cyclic_gc_paused,
    embed_chunks,
    latin_share,
)

log = logging.getLogger(__name__)


def _previous_articles(index_dir: Path, manifest: Manifest | None) -> dict[str, tuple[str, str, str]]:
    """Article id -> (content hash, title, source file) in the previous build."""
    if manifest is None:
        return {}
    return article_summaries(IndexLayout(index_dir).build(manifest.build_id).root)


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
    confirmed: Collection[str] = (),
    target: MilvusTarget | None = None,
) -> BuildReport:
    """Build (or with ``incremental`` update) the index in ``index_dir`` (in Milvus: ``target``) from ``paths``.

    ``embedder`` lets callers that already hold a model (the bot, tests) skip
    loading it again. ``on_stage`` receives short progress notes ("reading",
    "embedding 120 new chunks"...), used by the bot's /reindex messages. An update
    that would remove much of the index is refused (``check_removals``) unless
    ``allow_removals``; ``confirmed`` article ids (an admin's takedowns) never count against it.
    """
    started = time.perf_counter()
    index_dir = Path(index_dir)
    paths = resolved_sources(paths)
    guard = None if allow_removals or not incremental else RemovalGuard(max_removed_share, frozenset(confirmed))
    note = on_stage or (lambda _msg: None)
    with removed_on_failure(index_dir), build_lock(index_dir), cyclic_gc_paused():  # the lock also guards the cache
        cleanup(index_dir)
        with _destination(index_dir, target, incremental, progress, note) as dest:
            previous = dest.previous
            config = update_config(config, previous) if incremental and previous is not None else config or BuildConfig()
            lazy = LazyEmbedder(config, embedder)
            deny = deny_list(paths)  # the editors' takedowns: never loaded again
            # before reading: a file changed meanwhile is read again next time (the build directory keeps them)
            files_now = fingerprints(paths, config, deny) if dest.write is None else None
            build = functools.partial(
                _build,
                paths,
                index_dir,
                config,
                previous,
                lazy,
                progress,
                use_cache,
                strict,
                note,
                guard,
                files_now,
                deny,
                write=dest.write,
                before=dest.before,
            )
            try:
                try:
                    report = None
                    if incremental and previous is not None and use_cache and dest.write is None:  # only what changed
                        report = try_delta(
                            paths, index_dir, config, previous, lazy, progress, note, guard, strict, files_now, deny
                        )
                    if report is None:
                        if incremental and previous is not None:
                            lazy.warm_up()  # an update usually embeds something: load the model beside the reading
                        report = build()
                except CacheDamaged as exc:  # found damaged in the middle of the work: start a new cache, once
                    aside = quarantine(IndexLayout(index_dir).embeddings_cache)
                    log.warning("the embeddings cache was damaged (%s); moved it to %s and building again without it", exc, aside)
                    report = build()
            except OSError as exc:
                if disk_full(exc):
                    raise DiskFull(f"the disk is full ({exc.filename or index_dir}); free some space and run again") from None
                raise
            finally:
                lazy.close()
        cleanup(index_dir)

    report.seconds = time.perf_counter() - started
    return report


# Where a build goes instead of a new build directory (``index.build.milvus``): given the pipeline's output
# and the new manifest, it writes them and returns where they went.
Writer = Callable[[Corpus, Manifest], str]


@dataclass(frozen=True)
class Destination:
    """Where a build goes: the build it replaces (its manifest, and its articles when not read from a local build)
    and the writer that takes the new one (None: a new build directory in INDEX_DIR)."""

    previous: Manifest | None
    write: Writer | None = None
    before: dict[str, tuple[str, str, str]] | None = None


@contextlib.contextmanager
def _destination(
    index_dir: Path, target: MilvusTarget | None, incremental: bool, progress: bool, note: Callable[[str], None]
) -> Iterator[Destination]:
    """The embedded store's destination, or Milvus's when ``target`` names it (``build.milvus``)."""
    if target is None:
        yield Destination(current_manifest(index_dir))
        return
    from .milvus import milvus_destination

    with milvus_destination(target, incremental, progress, note) as dest:
        yield dest


def update_config(config: BuildConfig | None, previous: Manifest) -> BuildConfig:
    """An update keeps the build's model and analysis; how it reads and encodes comes from the caller."""
    carried = ("batch_size", "threads", "max_file_bytes", "max_article_chars")
    overrides = {name: getattr(config, name) for name in carried} if config else {}
    # the default (built-in) model means "whatever the index uses"; another model named explicitly must match
    if config and not is_builtin(config.model) and config.model != previous.model:
        raise BuildError(
            f"the index was built with {previous.model!r} but EMBEDDING_MODEL is {config.model!r}; "
            "run `python -m index build` to rebuild it with the new model"
        )
    return BuildConfig.from_manifest(previous, **overrides)


def _build(
    paths: Sequence[str | Path],
    index_dir: Path,
    config: BuildConfig,
    previous: Manifest | None,
    lazy: LazyEmbedder,
    progress: bool,
    use_cache: bool,
    strict: bool,
    note: Callable[[str], None],
    guard: RemovalGuard | None = None,
    files_now: dict[str, Any] | None = None,
    deny: DenyList | None = None,
    write: Writer | None = None,
    before: dict[str, tuple[str, str, str]] | None = None,
) -> BuildReport:
    """The body of ``run_build``, under its lock: read, chunk, embed, analyse, index, write (to ``write`` when
    given, with ``before`` the articles the index it replaces holds)."""
    note("reading articles")
    cache_path = IndexLayout(index_dir).embeddings_cache
    with BuildCache(cache_path) if use_cache else contextlib.nullcontext() as memo:
        loaded: LoadResult = load_articles(paths, config.max_file_bytes, config.max_article_chars, progress, memo, deny)
        if memo is not None:
            memo.forget_files_except(set(loaded.file_names))
    report = BuildReport(
        files=loaded.files, duplicates=loaded.duplicates, superseded=len(loaded.superseded), problems=loaded.problems
    )
    if files_now is not None:  # the copies left out: an update that drops their winner reads everything (build.delta)
        files_now["shadowed"] = sorted(loaded.shadowed)
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

    before = before if before is not None else _previous_articles(index_dir, previous)
    old = {i: h for i, (h, _, _) in before.items()}
    new = {a.id: a.content_hash for a in articles}
    report.added = sorted(set(new) - set(old))
    report.changed = sorted(i for i in new if i in old and old[i] != new[i])
    report.removed = sorted(set(old) - set(new))
    if guard is not None and previous is not None:
        try:
            guard.check(before, report.removed, previous.sources, paths)
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
        local = previous and use_cache and write is None
        lender = load_previous(IndexLayout(index_dir).build(previous.build_id).root, stamp) if local else None
        reused = lender.rows([c.text for c in chunks]) if lender else [-1] * len(chunks)
        fresh = [c for c, row in zip(chunks, reused, strict=True) if row < 0]
        sentences, title_terms = analyse_chunks(cache_path, fresh, titles, config.lexical.stemmer)
        article_idx = {a.id: i for i, a in enumerate(articles)}
        corpus = assemble(
            [article_idx[c.article_id] for c in chunks],
            reused,
            (parse_sentences(data) for data in sentences),
            [title_terms[a.id].split() for a in articles],
            [article_day(a.date) for a in articles],
            lender,
        )
        lexical = LexicalIndex.from_ids(corpus.doc_ids, corpus.doc_of, len(chunks), corpus.vocab, config.lexical)
        analyses = corpus.analyses
        del corpus  # its BM25 documents (two int64 arrays of every term) are in ``lexical`` now
        report.reanalysed = len(fresh)
        vectors, report.encoded = embedded.result()
    del inputs, fresh, reused  # a million passages' texts twice over: not held through indexing and writing
    faiss_index = None
    if write is None:
        note("indexing")
        with bar(total=1, enabled=progress, desc="indexing vectors", unit="index") as shown:
            faiss_index = build_index(vectors, config.faiss_index)
            shown.update()
        del vectors  # FAISS holds its own copy (or codes)
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
    if write is not None:
        final = write(Corpus(articles, chunks, vectors, lexical, analyses), manifest)
    else:
        final = write_build(index_dir, articles, chunks, faiss_index, lexical, analyses, manifest, files_now)

    report.build_id = manifest.build_id
    report.path = str(final)
    report.articles = len(articles)
    report.chunks = len(chunks)
    report.unchanged = previous is not None and previous.corpus_hash == manifest.corpus_hash
    return report


def _dimension(cache: BuildCache, model: str, lazy: LazyEmbedder, previous: Manifest | None) -> int:
    """The model's vector size, known from the previous build or the built-in model without loading it."""
    if previous is not None and previous.model == model:
        return previous.dimension
    if is_builtin(model):
        return 512
    return lazy.get().dimension


def index_is_stale(index_dir: Path | str, articles_dir: Path | str, target: MilvusTarget | None = None) -> bool:
    """True when articles were fetched after the current build was made (or there is no usable build)."""
    from datetime import datetime

    from index.storage.stores import store_manifest
    from index.web.store import WebStore

    manifest = store_manifest(Path(index_dir), target)
    if manifest is None:
        return True
    try:
        built_at = datetime.fromisoformat(manifest.built_at)
    except ValueError:
        return True
    stored_at = WebStore(articles_dir).load().state.get("stored_at", "")
    return bool(stored_at) and datetime.fromisoformat(stored_at) > built_at
