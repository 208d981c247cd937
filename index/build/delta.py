"""An update that writes only what changed: a new part beside the build it updates (``storage.parts``).

A full build reads every article file, and an update used to as well: at a million
passages that is minutes for one new article. This update compares the article files
with those the current build was made from (``files.json``: size and modification
time), reads only the new and changed ones, and writes their new or changed articles
as a small part; the rows of changed and removed articles are marked deleted. Nothing
already written is touched, a killed update leaves the previous build serving, and the
result ranks exactly as a full build of the same articles (tests/test_parts.py).

A ninth part (``MAX_PARTS``) is not written: every change since the base becomes one
part over it instead, at the cost of those changes. It gives way to a full build
(``None``) whenever the shortcut could differ from one: no previous build of this kind,
other source folders, an article id or body also found in an unchanged file (the
loader's duplicate rules would then decide differently), or parts grown past
``MERGE_SHARE`` of the base: the full build is then the merge, and starts a new base.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from index.corpus.articles import display_path, iter_files, load_articles
from index.corpus.records import Article, LoadResult
from index.layout import IndexLayout
from index.manifest import Manifest
from index.storage.cache import BuildCache
from index.storage.carryover import assemble
from index.storage.lexical import LexicalIndex
from index.storage.loading import StoredIndex, load_build, open_meta, read_files
from index.storage.parts import MAX_PARTS
from index.storage.store import IndexCorrupt, PartPlacement, new_build_id, read_manifest, utc_now, write_build
from index.storage.vectors import build_index
from index.text.analysis import parse_sentences
from index.text.chunking import embedding_input
from index.text.dates import article_day

from .config import BuildConfig, BuildReport, RemovalRefused
from .guard import check_removals
from .steps import LazyEmbedder, analyse_chunks, chunk_corpus, corpus_hash_of, embed_chunks, latin_share

log = logging.getLogger(__name__)

# Parts beyond this share of the base's rows are merged into a new base by a full build.
MERGE_SHARE = 0.25


def fingerprints(paths: Sequence[Path], config: BuildConfig) -> dict[str, Any]:
    """Every file under ``paths`` (as the loader walks them) with its size and modification time, and the limits it
    was read under (other limits read the same files differently)."""
    files: dict[str, list[int]] = {}
    for path in iter_files(paths, LoadResult()):
        try:
            stat = path.stat()
        except OSError:
            continue
        files[display_path(path)] = [stat.st_size, stat.st_mtime_ns]
    return {"limits": [config.max_file_bytes, config.max_article_chars], "files": files}


def try_delta(
    paths: Sequence[Path],
    index_dir: Path,
    config: BuildConfig,
    previous: Manifest,
    lazy: LazyEmbedder,
    progress: bool,
    note: Callable[[str], None],
    guard: float | None,
    strict: bool,
    files_now: dict[str, Any],
) -> BuildReport | None:
    """Update by adding a part, when that gives what a full build would; None when a full build must run."""
    layout = IndexLayout(index_dir)
    previous_dir = layout.build(previous.build_id).root
    if previous.sources != [str(p) for p in paths]:
        return None
    changes = _changes(read_files(previous_dir), files_now)
    if changes is None:
        return None
    if not any(changes):
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
        changes = _changes(read_files(against_dir), files_now)
        if changes is None:
            return None
        note(f"merging {len(parts) - 1} parts into one")
    changed, gone = changes
    try:
        stored = load_build(against_dir, mmap=True)
    except Exception as exc:  # any trouble with the old build: the full build decides
        log.warning("updating with a full build: the current build cannot lend its parts (%s)", exc)
        return None
    if any(p is None for p in _counts(stored)):
        return None  # a part made before term counts were kept
    note("reading articles")
    cache_path = layout.embeddings_cache
    with BuildCache(cache_path) as memo:
        loaded = load_articles([Path(f) for f in changed], config.max_file_bytes, config.max_article_chars, progress, memo)
    if strict and loaded.problems:
        return None  # the full build reports them and refuses
    before = _articles(against_dir)  # id -> (hash, title, path, body_key, idx)
    touched = set(changed) | set(gone)
    old_here = {i for i, (_, _, path, _, _) in before.items() if path in touched}
    elsewhere_bodies = {body for i, (_, _, _, body, _) in before.items() if i not in old_here}
    new = {a.id: a for a in loaded.articles}
    if any(i in before and i not in old_here for i in new) or any(a.body_key in elsewhere_bodies for a in new.values()):
        return None  # an id or a body also in an unchanged file: the loader's rules across files decide
    report = BuildReport(files=len(files_now["files"]), duplicates=loaded.duplicates, superseded=len(loaded.superseded))
    report.problems = loaded.problems
    # what the admin is told, and what the guard weighs: the change from the build serving now
    shown = before if against is previous else _articles(previous_dir)
    live = {i: h for i, (h, *_) in before.items() if i not in old_here} | {i: a.content_hash for i, a in new.items()}
    report.added = sorted(set(live) - set(shown))
    report.changed = sorted(i for i in live if i in shown and shown[i][0] != live[i])
    report.removed = sorted(set(shown) - set(live))
    if guard is not None:
        summaries = {i: (h, title, path) for i, (h, title, path, _, _) in shown.items()}
        try:
            check_removals(summaries, report.removed, previous.sources, paths, guard)
        except RemovalRefused as refused:
            refused.problems = loaded.problems
            raise
    report.described = {i: (new[i].title, new[i].path) for i in report.added + report.changed}
    report.described.update({i: (shown[i][1], shown[i][2]) for i in report.removed})
    # what the part holds: the change from the build it is written over
    fresh = [new[i] for i in sorted(new) if i not in before or before[i][0] != new[i].content_hash]
    in_parts = sum(against.part_articles[1:]) if against.parts else 0
    base = against.part_articles[0] if against.parts else against.articles
    if in_parts + len(fresh) > MERGE_SHARE * max(base, 1):
        return None  # the parts have grown: merge them into a new base with a full build
    dropped = {i for i in old_here if i not in new or before[i][0] != new[i].content_hash}
    gone_articles = np.asarray(sorted(before[i][4] for i in dropped), dtype=np.int64)
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


def _articles(build_dir: Path) -> dict[str, tuple[str, str, str, str, int]]:
    db = open_meta(build_dir)
    try:
        rows = db.execute("SELECT id, content_hash, title, path, body_key, idx FROM articles").fetchall()
    finally:
        db.close()
    return {i: (h, title, path, body, idx) for i, h, title, path, body, idx in rows}


def _write_part(
    index_dir: Path,
    config: BuildConfig,
    previous: Manifest,
    stored: StoredIndex,
    fresh: list[Article],
    gone_articles: np.ndarray,
    before: dict[str, tuple[str, str, str, str, int]],
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
    live = {i: h for i, (h, _, _, _, idx) in before.items() if idx not in gone}
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
