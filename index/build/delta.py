"""An update that writes only what changed: a new part beside the build it updates (``storage.parts``).

A full build reads every article file, and an update used to as well: at a million
passages that is minutes for one new article. This update compares the article files
with those the current build was made from (``files.json``: size and modification
time), reads only the new and changed ones, and writes their new or changed articles
as a small part; the rows of changed and removed articles are marked deleted. Nothing
already written is touched, a killed update leaves the previous build serving, and the
result scores exactly as a full build of the same articles (tests/test_parts.py; equal scores may
come in another order, as a part's rows follow the base's).

A ninth part (``MAX_PARTS``) is not written: every change since the base becomes one
part over it instead, at the cost of those changes. It gives way to a full build
(``None``) whenever the shortcut could differ from one: no previous build of this kind,
other source folders, an article id or body also found in an unchanged file (the
loader's duplicate rules would then decide differently), or parts grown past
``MERGE_SHARE`` of the base: the full build is then the merge, and starts a new base.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from index.corpus.articles import display_path, iter_files, load_articles, loader_version
from index.corpus.records import Article, LoadResult
from index.corpus.removals import DenyList
from index.layout import IndexLayout
from index.manifest import Manifest
from index.storage.cache import BuildCache
from index.storage.carryover import assemble
from index.storage.lexical import LexicalIndex
from index.storage.loading import StoredIndex, load_build, open_meta, read_files
from index.storage.parts import MAX_PARTS
from index.storage.store import IndexCorrupt, PartPlacement, new_build_id, read_manifest, utc_now, write_build
from index.storage.vectors import build_index, resolve_type
from index.text.analysis import parse_sentences
from index.text.chunking import embedding_input
from index.text.dates import article_day

from .config import BuildConfig, BuildReport, RemovalRefused
from .guard import RemovalGuard
from .steps import (
    LazyEmbedder,
    analyse_chunks,
    analysis_stamp,
    chunk_corpus,
    corpus_hash_of,
    embed_chunks,
    latin_share,
)

log = logging.getLogger(__name__)

# Parts beyond this share of the base's rows are merged into a new base by a full build.
MERGE_SHARE = 0.25


def fingerprints(paths: Sequence[Path], config: BuildConfig, deny: DenyList) -> dict[str, Any]:
    """Every file under ``paths`` (as the loader walks them) with its size and modification time; what they were read
    under (limits, the analysis, the loader's code: an update after a change of any reads everything again); and the
    standing takedowns."""
    files: dict[str, list[int]] = {}
    for path in iter_files(paths, LoadResult()):
        try:
            stat = path.stat()
        except OSError:
            continue
        files[display_path(path)] = [stat.st_size, stat.st_mtime_ns]
    read_under = [config.max_file_bytes, config.max_article_chars, analysis_stamp(config.lexical.stemmer), loader_version()]
    return {"limits": read_under, "files": files, "denied": deny.fingerprint()}


def _since(
    build_dir: Path, files_now: dict[str, Any]
) -> tuple[dict[str, Any] | None, tuple[list[str], list[str]], set[tuple[str, ...]]] | None:
    """What the build in ``build_dir`` read, and the file changes and new takedowns since; None when only a full
    build can tell."""
    recorded = read_files(build_dir)
    changes, denials = _changes(recorded, files_now), _new_denials(recorded, files_now)
    if changes is None or denials is None:
        return None
    return recorded, changes, denials


def try_delta(
    paths: Sequence[Path],
    index_dir: Path,
    config: BuildConfig,
    previous: Manifest,
    lazy: LazyEmbedder,
    progress: bool,
    note: Callable[[str], None],
    guard: RemovalGuard | None,
    strict: bool,
    files_now: dict[str, Any],
    deny: DenyList,
) -> BuildReport | None:
    """Update by adding a part, when that gives what a full build would; None when a full build must run."""
    layout = IndexLayout(index_dir)
    previous_dir = layout.build(previous.build_id).root
    if previous.sources != [str(p) for p in paths]:
        return None
    since = _since(previous_dir, files_now)
    if since is None:
        return None
    recorded, changes, denials = since
    if not any(changes) and not denials:
        report = BuildReport(build_id=previous.build_id, path=str(previous_dir), unchanged=True)
        report.articles, report.chunks = previous.articles, previous.chunks
        report.files = len(files_now["files"])
        return report
    against, against_dir = previous, previous_dir
    parts = previous.parts or [previous.build_id]
    if len(parts) + 1 > MAX_PARTS:
        # compaction: every change since the base becomes one part over it, at the cost of those changes only
        against_dir = layout.build(parts[0]).root
        try:
            against = read_manifest(against_dir)
        except IndexCorrupt:
            return None
        since = _since(against_dir, files_now)
        if since is None:
            return None
        recorded, changes, denials = since
        note(f"merging {len(parts) - 1} parts into one")
    changed, gone = changes
    try:
        stored = load_build(against_dir, mmap=True)
    except Exception as exc:  # any trouble with the old build: the full build decides
        log.warning("updating with a full build: the current build cannot lend its parts (%s)", exc)
        return None
    if any(p is None for p in _counts(stored)):
        return None  # a part made before term counts were kept
    try:
        before = _articles(against_dir)
        shown = before if against is previous else _articles(previous_dir)
    except (sqlite3.Error, OSError) as exc:
        log.warning("updating with a full build: the current build's articles cannot be read (%s)", exc)
        return None
    note("reading articles")
    cache_path = layout.embeddings_cache
    with BuildCache(cache_path) as memo:
        # names as recorded -> the files; they differ only for names with bytes that are not UTF-8 (written \\xNN)
        real = {display_path(p): p for p in iter_files(paths, LoadResult())} if any("\\" in f for f in changed) else {}
        loaded = load_articles(
            [real.get(f, Path(f)) for f in changed], config.max_file_bytes, config.max_article_chars, progress, memo, deny
        )
    if strict and loaded.problems:
        return None  # the full build reports them and refuses
    touched = set(changed) | set(gone)
    old_here = {i for i, known in before.items() if known.path in touched}
    if denials:  # taken down wherever the build before read them (a file may have been renamed since)
        old_here |= {i for i, known in before.items() if deny.blocks(i, known.url)}
    elsewhere_bodies = {known.body_key for i, known in before.items() if i not in old_here}
    new = {a.id: a for a in loaded.articles}
    if any(i in before and i not in old_here for i in new) or any(a.body_key in elsewhere_bodies for a in new.values()):
        return None  # an id or a body also in an unchanged file: the loader's rules across files decide
    report = BuildReport(files=len(files_now["files"]), duplicates=loaded.duplicates, superseded=len(loaded.superseded))
    report.problems = loaded.problems
    # what the admin is told, and what the guard weighs: the change from the build serving now
    live = {i: k.content_hash for i, k in before.items() if i not in old_here} | {i: a.content_hash for i, a in new.items()}
    report.added = sorted(set(live) - set(shown))
    report.changed = sorted(i for i in live if i in shown and shown[i].content_hash != live[i])
    report.removed = sorted(set(shown) - set(live))
    if guard is not None:
        summaries = {i: (k.content_hash, k.title, k.path) for i, k in shown.items()}
        try:
            guard.check(summaries, report.removed, previous.sources, paths)
        except RemovalRefused as refused:
            refused.problems = loaded.problems
            raise
    report.described = {i: (new[i].title, new[i].path) for i in report.added + report.changed}
    report.described.update({i: (shown[i].title, shown[i].path) for i in report.removed})
    # what the part holds: the change from the build it is written over
    fresh = [new[i] for i in sorted(new) if i not in before or before[i].content_hash != new[i].content_hash]
    dropped = {i for i in old_here if i not in new or before[i].content_hash != new[i].content_hash}
    if not fresh and not dropped and against is previous:  # e.g. a taken-down post edited: nothing the index holds
        report.build_id, report.path, report.unchanged = previous.build_id, str(previous_dir), True
        report.articles, report.chunks = previous.articles, previous.chunks
        return report
    shadowed = set((recorded or {}).get("shadowed", [])) | loaded.shadowed
    if any(i in shadowed or f"body:{before[i].body_key}" in shadowed for i in dropped):
        return None  # a copy another file holds was left out for this one: a full build brings it back
    files_now["shadowed"] = sorted(shadowed)
    in_parts = sum(against.part_articles[1:]) if against.parts else 0
    base = against.part_articles[0] if against.parts else against.articles
    deleted = int(stored.deleted_ids[1].size) if stored.deleted_ids else 0
    if in_parts + len(fresh) + deleted + len(dropped) > MERGE_SHARE * max(base, 1):
        return None  # the parts (and the rows they delete) have grown: merge them into a new base with a full build
    if resolve_type(against.faiss_index_setting, against.chunks + 20 * len(fresh)) != against.faiss_index:
        return None  # grown past the size where a build would index the vectors otherwise
    gone_articles = np.asarray(sorted(before[i].idx for i in dropped), dtype=np.int64)
    return _write_part(index_dir, config, against, stored, fresh, gone_articles, before, lazy, progress, note, report, files_now)


def _changes(recorded: dict[str, Any] | None, files_now: dict[str, Any]) -> tuple[list[str], list[str]] | None:
    """The files changed (or new) and gone since ``recorded``; None when they were read under other limits."""
    if not recorded or recorded.get("limits") != files_now["limits"]:
        return None
    before_files, now_files = recorded.get("files", {}), files_now["files"]
    changed = sorted(f for f, stamp in now_files.items() if before_files.get(f) != stamp)
    return changed, sorted(set(before_files) - set(now_files))


def _counts(stored: StoredIndex) -> list[np.ndarray | None]:
    lexical = stored.lexical
    bm25s = getattr(lexical, "parts", None) or [lexical.bm25]
    return [b.tf for b in bm25s]


class _Known(NamedTuple):
    """What an update needs of an article the build before holds."""

    content_hash: str
    title: str
    path: str
    body_key: str
    idx: int
    url: str


def _articles(build_dir: Path) -> dict[str, _Known]:
    db = open_meta(build_dir)
    try:
        rows = db.execute("SELECT id, content_hash, title, path, body_key, idx, url FROM articles").fetchall()
    finally:
        db.close()
    return {row[0]: _Known(*row[1:]) for row in rows}


def _new_denials(recorded: dict[str, Any] | None, files_now: dict[str, Any]) -> set[tuple[str, ...]] | None:
    """The takedowns made since ``recorded`` (id, URL, file); None when one was undone: a restored article may have
    moved to any file, so a full build brings it back."""
    then = {tuple(t) for t in (recorded or {}).get("denied", [])}
    now = {tuple(t) for t in files_now["denied"]}
    return None if then - now else now - then


def _write_part(
    index_dir: Path,
    config: BuildConfig,
    previous: Manifest,
    stored: StoredIndex,
    fresh: list[Article],
    gone_articles: np.ndarray,
    before: dict[str, _Known],
    lazy: LazyEmbedder,
    progress: bool,
    note: Callable[[str], None],
    report: BuildReport,
    files_now: dict[str, Any],
) -> BuildReport:
    """Chunk, embed and analyse ``fresh``; write them as a new part; delete the rows of ``gone_articles``."""
    layout = IndexLayout(index_dir)
    cache_path = layout.embeddings_cache
    note("chunking")
    chunks = chunk_corpus(fresh, config.chunking, progress, cache_path)
    titles = {a.id: a.title if config.index_titles else "" for a in fresh}
    inputs = [embedding_input(titles[c.article_id], c.text, config.embed_max_words) for c in chunks]
    note(f"embedding {len(chunks)} chunks")
    _, passage_prompt = lazy.prompts()
    vectors, report.encoded = embed_chunks(
        cache_path, previous.model, inputs, passage_prompt, previous.dimension, lazy.encode, progress
    )
    sentences, title_terms = analyse_chunks(cache_path, chunks, titles, config.lexical.stemmer)
    local = {a.id: i for i, a in enumerate(fresh)}
    corpus = assemble(
        [local[c.article_id] for c in chunks],
        [-1] * len(chunks),
        (parse_sentences(data) for data in sentences),
        [title_terms[a.id].split() for a in fresh],
        [article_day(a.date) for a in fresh],
    )
    # this part's terms as global ids: the earlier parts' first, its new terms after them
    known = stored.lexical.vocab
    vocabulary = previous.vocabulary or len(known)
    added = sorted(t for t in corpus.vocab if t not in known)
    additions = {t: vocabulary + n for n, t in enumerate(added)}
    remap = np.zeros(len(corpus.vocab), dtype=np.int64)
    for term, i in corpus.vocab.items():
        remap[i] = additions[term] if term in additions else known[term]
    analyses = replace(
        corpus.analyses,
        terms=remap[corpus.analyses.terms].astype(np.int32),
        title_terms=remap[corpus.analyses.title_terms].astype(np.int32),
    )
    bm25 = LexicalIndex.from_ids(
        remap[corpus.doc_ids], corpus.doc_of, len(chunks), additions, config.lexical, vocab_offset=vocabulary
    )
    rows_before, articles_before = (
        sum(previous.part_rows or [previous.chunks]),
        sum(previous.part_articles or [previous.articles]),
    )
    deleted_rows_before = stored.deleted_ids[0] if stored.deleted_ids else np.zeros(0, dtype=np.int64)
    deleted_articles_before = stored.deleted_ids[1] if stored.deleted_ids else np.zeros(0, dtype=np.int64)
    gone_rows = np.flatnonzero(np.isin(stored.analyses.chunk_article, gone_articles))
    deleted_rows = np.union1d(deleted_rows_before, gone_rows)
    deleted_articles = np.union1d(deleted_articles_before, gone_articles)
    note("indexing")
    faiss_index = build_index(vectors, "flat")
    gone = set(gone_articles.tolist())
    live = {i: k.content_hash for i, k in before.items() if k.idx not in gone}
    live.update({a.id: a.content_hash for a in fresh})
    build_id = new_build_id(index_dir)
    manifest = previous.replace(
        build_id=build_id,
        built_at=utc_now().isoformat(),
        articles=len(live),
        chunks=rows_before + len(chunks) - int(deleted_rows.size),
        parts=[*(previous.parts or [previous.build_id]), build_id],
        part_rows=[*(previous.part_rows or [previous.chunks]), len(chunks)],
        part_articles=[*(previous.part_articles or [previous.articles]), len(fresh)],
        vocabulary=vocabulary + len(added),
        latin_share=_mixed_share(previous, chunks, rows_before),
        corpus_hash=corpus_hash_of(live.items()),
    )
    note("writing")
    placement = PartPlacement(rows_before, articles_before, deleted_rows, deleted_articles)
    final = write_build(index_dir, fresh, chunks, faiss_index, bm25, analyses, manifest, files_now, placement)
    report.build_id, report.path = build_id, str(final)
    report.articles, report.chunks = manifest.articles, manifest.chunks
    report.reanalysed = len(chunks)
    report.parts = len(manifest.parts)
    return report


def _mixed_share(previous: Manifest, chunks: list, rows_before: int) -> float:
    """The Latin-script share of the whole, from the previous share and the new part's."""
    if not chunks:
        return previous.latin_share
    return (previous.latin_share * rows_before + latin_share(chunks) * len(chunks)) / (rows_before + len(chunks))
