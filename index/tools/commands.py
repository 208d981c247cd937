"""The admin command line's commands (``python -m index COMMAND``): each one reads its arguments and settings,
does the work through the engine, and prints what an admin needs; ``index/__main__.py`` parses and dispatches."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from index.settings import EngineSettings

if TYPE_CHECKING:
    from index.storage.lookup import IndexStore

LISTED = 10  # articles listed by name per kind of change in an update's report


def cmd_report(args: argparse.Namespace, settings: EngineSettings) -> int:
    from dataclasses import asdict

    from index.questionlog import read_log
    from index.tools.report import build_report, daily_chart_png, format_text

    path = args.log or settings.question_log
    if path is None:
        print("error: no question log: pass --log FILE or set QUESTION_LOG", file=sys.stderr)
        return 1
    try:
        records, bad = read_log(path)
    except OSError as exc:  # missing, a directory, no permission...: one line, as for every expected failure
        print(f"error: cannot read the question log {path}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    if bad:
        print(f"warning: {bad} unreadable line(s) in {path} skipped", file=sys.stderr)
    report = build_report(records, days=args.days)
    print(json.dumps(asdict(report), ensure_ascii=False, indent=2) if args.json else format_text(report))
    if args.chart:
        if not report.chart_worthy:
            print(f"no chart: fewer than 3 days of data ({len(report.days)})", file=sys.stderr)
        else:
            try:
                args.chart.write_bytes(daily_chart_png(report))
            except OSError as exc:
                print(f"error: cannot write the chart to {args.chart}: {exc.strerror or exc}", file=sys.stderr)
                return 1
            print(f"chart written to {args.chart}", file=sys.stderr)
    return 0


def _progress(args: argparse.Namespace) -> bool:
    """Progress bars on stderr unless --quiet (also when stderr is a log file: admins read those too)."""
    return not args.quiet


def print_problems(problems: Iterable[object]) -> None:
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)


def cmd_build(args: argparse.Namespace, settings: EngineSettings, incremental: bool) -> int:
    from dataclasses import replace

    from index.build import run_build

    config = settings.build_config()
    if not incremental:
        chunking = config.chunking
        if args.chunk_words:
            chunking = replace(
                chunking, target_words=args.chunk_words, max_words=max(chunking.max_words, int(args.chunk_words * 4 / 3))
            )
        if args.overlap_words is not None:
            chunking = replace(chunking, overlap_words=args.overlap_words)
        config = replace(
            config,
            model=args.model or config.model,
            faiss_index=args.faiss_index or config.faiss_index,
            chunking=chunking,
            index_titles=config.index_titles and not args.no_titles,
        )
    paths = args.articles or [settings.articles_dir]
    report = run_build(
        paths,
        settings.index_dir,
        config,
        incremental=incremental,
        progress=_progress(args),
        use_cache=not getattr(args, "no_cache", False),
        strict=args.strict,
        allow_removals=getattr(args, "allow_removals", False),
        max_removed_share=settings.max_removed_share,
        target=settings.store_target(),
    )
    print_problems(report.problems)
    verb = "updated" if incremental else "built"
    print(f"{verb} {report.path}")
    print(
        f"  {report.articles} articles ({report.duplicates} duplicates skipped) from {report.files} files, "
        f"{report.chunks} chunks, {report.encoded} newly embedded"
    )
    if report.superseded:
        print(f"  {report.superseded} article(s) also in a later file: the later copy is indexed (files are read in path order)")
    print(f"  {report.seconds:.1f} s, {report.chunks_per_second:.0f} chunks/s")
    if incremental:
        if report.from_scratch:
            print(f"  no usable index in {settings.store_target() or settings.index_dir} before: this update was a full build")
        for label, ids in (("added", report.added), ("changed", report.changed), ("removed", report.removed)):
            print(f"  {label}: {len(ids)}")
            if report.from_scratch and label == "added":
                continue  # every article: the count says it
            for article_id in ids[:LISTED]:
                print(f"    {report.describe(article_id)}")
            if len(ids) > LISTED:
                print(f"    … and {len(ids) - LISTED} more")
    if report.problems:
        print(f"  {len(report.problems)} problem(s) reported above; those files or lines were skipped")
    return 0


def cmd_fetch(args: argparse.Namespace, settings: EngineSettings) -> int:
    from index.build import index_is_stale, run_build
    from index.storage.store import IndexBusy
    from index.web.harvest import harvest
    from index.web.store import StoreBusy

    articles_dir = args.articles or settings.articles_dir
    sources = args.sources or settings.feeds
    if not sources:
        print("error: no SOURCE given and the FEEDS setting is empty", file=sys.stderr)
        return 1
    try:
        report = harvest(
            sources,
            articles_dir,
            settings.fetch_config(),
            max_pages=args.max_pages or settings.fetch_max_pages,
            progress=_progress(args),
            budget=settings.fetch_budget_seconds,
            recheck_days=0 if args.sources else settings.fetch_recheck_days,  # the FEEDS refresh re-checks recent pages
        )
    except StoreBusy as exc:
        print(f"error: {exc}; try again later", file=sys.stderr)
        return 1
    print(
        f"fetched {len(sources)} source(s) in {report.seconds:.1f} s ({report.requests} requests): {report.summary()}",
        flush=True,
    )
    if not args.quiet:
        for label, items in (("added", report.added), ("changed", report.changed)):
            for outcome in items[:10]:
                print(f"  {label}: {outcome.title}  <{outcome.url}>")
            if len(items) > 10:
                print(f"  … and {len(items) - 10} more {label}")
    if report.failed:
        print(f"failed ({len(report.failed)}):", file=sys.stderr)
        for outcome in report.failed:
            print(f"  {outcome.url} — {outcome.reason}", file=sys.stderr)
    status = 2 if report.failed else 0
    if args.no_index:
        return status
    if not report.stored and not index_is_stale(settings.index_dir, articles_dir, settings.store_target()):
        print("index already up to date: nothing embedded")
        return status
    try:
        built = run_build(
            [articles_dir],
            settings.index_dir,
            settings.build_config(),
            incremental=True,
            progress=_progress(args),
            allow_removals=args.allow_removals,
            max_removed_share=settings.max_removed_share,
            target=settings.store_target(),
        )
    except IndexBusy as exc:
        print(f"warning: {exc}; the articles are stored and the next fetch or update indexes them", file=sys.stderr)
        return 2
    print_problems(built.problems)
    print(
        f"index updated: {built.articles} articles, {built.chunks} passages, {built.encoded} newly embedded "
        f"({built.seconds:.1f} s)"
    )
    return status


def cmd_sources(args: argparse.Namespace, settings: EngineSettings) -> int:
    from dataclasses import asdict

    from index.tools.sources import format_lines, source_lines

    lines = source_lines(args.articles or settings.articles_dir, settings.feeds, _held_articles(settings))
    if args.json:
        for line in lines:
            print(json.dumps(asdict(line), ensure_ascii=False))
    else:
        print(format_lines(lines))
    return 0


def _held_articles(settings: EngineSettings) -> set[str] | None:
    """The article ids the index holds, or None when there is no index to read (said on stderr if it is unreachable)."""
    from index.storage.store import IndexNotFound, StoreError
    from index.storage.stores import open_store

    try:
        return set(open_store(settings.index_dir, settings.store_target(), mmap=True).article_hashes())
    except IndexNotFound:
        return None
    except StoreError as exc:
        print(f"warning: {exc}; the counts in the index are left out", file=sys.stderr)
        return None


def cmd_stats(args: argparse.Namespace, settings: EngineSettings) -> int:
    from dataclasses import asdict

    from index.layout import IndexLayout
    from index.storage.store import current_build_id, list_builds
    from index.storage.stores import open_store

    target = settings.store_target()
    stored = open_store(settings.index_dir, target)
    m = stored.manifest
    cache = IndexLayout(settings.index_dir).embeddings_cache
    info = {
        "engine": stored.engine,
        "index_dir": str(settings.index_dir),
        "store": str(target) if target else str(settings.index_dir),
        "build": m.build_id,
        "current": current_build_id(settings.index_dir) if target is None else m.build_id,
        "built_at": m.built_at,
        "articles": m.articles,
        "chunks": m.chunks,
        "model": m.model,
        "dimension": m.dimension,
        "faiss_index": m.faiss_index if target is None else "",
        "chunking": asdict(m.chunking),
        "lexical": asdict(m.lexical),
        "sizes_bytes": m.sizes_bytes if target is None else {},
        "cache_bytes": cache.stat().st_size if cache.exists() else 0,
        "builds_kept": list_builds(settings.index_dir) if target is None else [],
        "articles_dir": str(settings.articles_dir),
        "against_articles": against_articles(stored, settings),
    }
    if args.json:
        print(json.dumps(info, ensure_ascii=False))
        return 0
    print(f"engine     {info['engine']}: {info['store']} (build {info['build']})")
    print(f"built at   {info['built_at']}")
    print(f"articles   {info['articles']}")
    print(f"chunks     {info['chunks']}")
    vectors = f"FAISS {info['faiss_index']}" if target is None else "Milvus"
    print(f"model      {info['model']} ({info['dimension']}-d, {vectors})")
    print(f"chunking   {info['chunking']['target_words']} words target, {info['chunking']['overlap_words']} overlap")
    print(
        f"bm25       {info['lexical']['method']} k1={info['lexical']['k1']} b={info['lexical']['b']} "
        f"stemmer={info['lexical']['stemmer']} titles={m.index_titles}"
    )
    if target is None:
        total = sum(info["sizes_bytes"].values())
        print(f"on disk    {_mb(total)} in this build:")
        for name, size in info["sizes_bytes"].items():
            print(f"  {name:<14} {_mb(size)}")
    print(f"cache      {_mb(info['cache_bytes'])} (embeddings cache in {settings.index_dir})")
    if target is None:
        print(f"builds     {', '.join(info['builds_kept'])}")
    check = info["against_articles"]
    if check is None:
        print(f"articles   no articles folder at {settings.articles_dir} to check against")
    else:
        same = not (check["missing"] or check["extra"] or check["changed"])
        print(
            f"check      against {settings.articles_dir}: "
            + (
                "the index holds every article, as it is now"
                if same
                else f"{check['missing']} not in the index, {check['changed']} changed since, {check['extra']} no longer there "
                "(run `python -m index update`)"
            )
        )
    return 0


def against_articles(stored: IndexStore, settings: EngineSettings) -> dict[str, int] | None:
    """The index's articles compared with the articles folder (as an update would read it): how many are missing
    from it, changed since, or gone from the folder; None without a folder."""
    from index.corpus.articles import load_articles
    from index.corpus.removals import deny_list

    folder = settings.articles_dir
    if not folder.is_dir():
        return None
    loaded = load_articles([folder], deny=deny_list([folder]))
    now = {a.id: a.content_hash for a in loaded.articles}
    held = stored.article_hashes()
    return {
        "missing": sum(i not in held for i in now),
        "changed": sum(i in held and held[i] != h for i, h in now.items()),
        "extra": sum(i not in now for i in held),
    }


def _mb(n: int) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 100_000 else f"{n / 1e3:.1f} kB"


def _read_questions(args: argparse.Namespace) -> Iterable[str]:
    if args.question:
        yield " ".join(args.question)
        return
    for line in sys.stdin:
        if line.strip():
            yield line.strip()


def cmd_search(args: argparse.Namespace, settings: EngineSettings) -> int:
    from index.search.searcher import Searcher
    from index.tools.render_text import format_result

    searcher = Searcher.open(
        settings.index_dir,
        _explicit_model(settings),
        settings.search_params(),
        models=settings.answer_models(),
        store=settings.store_target(),
    )
    previous = searcher.understand(args.after) if args.after else None
    reader = settings.reader()  # None without LLM_BASE_URL: the output is exactly as before
    if reader is not None and reader.check():
        print(f"warning: the language-model reader is off: {reader.problem}", file=sys.stderr)
    for question in _read_questions(args):
        if args.conversation and question.strip().lower() == "/new":  # a new conversation starts
            previous = None
            continue
        understood = searcher.understand(question, previous)
        result = searcher.search(understood, k=args.k, mode=args.mode, passages_per_article=args.passages)
        if args.conversation:
            previous = understood.answered(result)
        read = None
        if reader is not None:
            from index.answer.claims import name_like_in

            read = reader.read(result.question, result, result.lang, name_like_in(searcher.stored.lexical))
        if args.json:
            out = result.to_json()
            if read is not None:
                out["reader"] = read.to_json()
            print(json.dumps(out, ensure_ascii=False), flush=True)
        else:
            if read is not None and read.shown:
                print(f"🤖 {read.answer}\n   ({read.model}, written from the cited sources and checked against them)")
            elif read is not None:
                print(f"(reader: {read.fallback})")
            print(format_result(result, color=sys.stdout.isatty(), full=args.full), flush=True)
    return 0


def cmd_eval(args: argparse.Namespace, settings: EngineSettings) -> int:
    from dataclasses import replace

    from index.search.searcher import Searcher
    from index.tools.evaluate import evaluate, format_table, load_questions

    params = settings.search_params()
    if args.dense_weight is not None:
        params = replace(params, dense_weight=args.dense_weight)
    if args.no_refusal:
        params = replace(params, min_confidence=0.0)
    questions = load_questions(args.questions)[: args.limit]
    store = settings.store_target()
    searcher = Searcher.open(settings.index_dir, _explicit_model(settings), params, models=settings.answer_models(), store=store)
    modes = ("lexical", "dense", "hybrid") if args.compare else (args.mode,)
    rows = [evaluate(searcher, questions, k=args.k, mode=mode, progress=_progress(args)) for mode in modes]
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
    else:
        print(format_table(rows, title=f"{args.questions} — {len(questions)} questions, index {store or settings.index_dir}"))
    return 0


def _explicit_model(settings: EngineSettings) -> str | None:
    """The model the user asked for explicitly (env/.env), to check against the index's."""
    return settings.embedding_model if "embedding_model" in settings.model_fields_set else None
