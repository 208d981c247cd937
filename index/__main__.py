"""Admin command line: ``python -m index {build,update,fetch,stats,search,eval,report} --help``.

Settings come from the environment and ``.env`` (see ``index.settings``); flags
override them for one run.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from index.storage.vectors import INDEX_TYPES

from .settings import EngineSettings, load_settings

EXAMPLES = """examples:
  python -m index build --articles samples/articles --index var/index
  python -m index update --articles var/articles
  python -m index search "من هو أمين حركة النجباء في العراق؟"
  echo "متى افتتح المعرض؟" | python -m index search --json
  python -m index eval questions.jsonl --compare
  python -m index fetch https://example.org/feed.xml https://example.org/news/1.html
  python -m index fetch --quiet            # the FEEDS setting; for cron
  python -m index report --log var/questions.jsonl --days 7 --chart report.png
"""

FETCH_EPILOG = """A SOURCE is told apart by its content, not its name: an article page is extracted and stored;
an RSS/Atom/JSON feed or a sitemap gives links to fetch (a sitemap index gives sitemaps); a local
text file lists sources, one per line. Links already stored are not downloaded again unless the
feed or sitemap says they changed, so a re-run on an unchanged feed downloads only the feed.

Each article is appended to ARTICLES_DIR/web/<host>.jsonl; then the index is updated
incrementally (only new or changed passages are embedded).

exit status: 0 all fetched, 2 some URLs failed (the rest were stored and indexed), 1 error.

examples:
  python -m index fetch https://example.org/rss.xml
  python -m index fetch https://example.org/sitemap_index.xml --max-pages 100
  python -m index fetch links.txt --no-index
  */30 * * * * cd /opt/news-qa-bot && .venv/bin/python -m index fetch --quiet
"""


def int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number of ``minimum`` or more (``--k 0`` would silently answer nothing)."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number of {minimum} or more, got {value!r}") from None
        if number < minimum:
            raise argparse.ArgumentTypeError(f"must be {minimum} or more, got {number}")
        return number

    return parse


positive_int = int_at_least(1)
non_negative_int = int_at_least(0)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index", type=Path, help="index directory (default: the INDEX_DIR setting, var/index unless set)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")


def _add_build_flags(p: argparse.ArgumentParser, full: bool) -> None:
    p.add_argument(
        "--articles", nargs="+", type=Path, metavar="PATH", help="article files or directories (default: ARTICLES_DIR)"
    )
    p.add_argument("--strict", action="store_true", help="fail (and keep the old index) if any file has a problem")
    if not full:
        _add_allow_removals(p)
    if full:
        p.add_argument("--model", help="embedding model (default: EMBEDDING_MODEL)")
        p.add_argument("--faiss-index", choices=INDEX_TYPES, help="vector index type")
        p.add_argument("--chunk-words", type=positive_int, help="target words per chunk (default: CHUNK_TARGET_WORDS)")
        p.add_argument("--overlap-words", type=non_negative_int, help="words shared by neighbouring chunks")
        p.add_argument("--no-titles", action="store_true", help="leave article titles out of the passages (BM25 and embeddings)")
        p.add_argument("--no-cache", action="store_true", help="re-embed every chunk instead of using the cache")


def _add_allow_removals(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--allow-removals",
        action="store_true",
        help="let the update remove more than MAX_REMOVED_SHARE of the index, or every article of a folder the index "
        "was built from that is not given now (refused otherwise: the index was probably built from another folder)",
    )


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m index",
        description="Build, update, inspect and query the news-article index used by the bot.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "build",
        help="full rebuild from article files",
        description="Read every article, chunk, embed and write a new index, then switch to it atomically.",
    )
    _add_common(p)
    _add_build_flags(p, full=True)

    p = sub.add_parser(
        "update",
        help="incremental update (only new or changed chunks are embedded)",
        description="Re-read the articles and write a new build with the existing index's model and parameters; "
        "unchanged chunks come from the embeddings cache. Lists the articles added, changed and removed (title, file, id). "
        "With no usable index yet it does a full build, and says so.",
    )
    _add_common(p)
    _add_build_flags(p, full=False)

    p = sub.add_parser(
        "fetch",
        help="fetch article links, feeds and sitemaps into ARTICLES_DIR/web and update the index",
        description="Download articles from the web (politely: robots.txt, at most 2 requests at once per host), "
        "store them as JSONL under ARTICLES_DIR/web/ and update the index. With no SOURCE: the FEEDS setting.",
        epilog=FETCH_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_common(p)
    p.add_argument("sources", nargs="*", metavar="SOURCE", help="article URL, RSS/Atom feed, sitemap (index), or a file of URLs")
    p.add_argument("--articles", type=Path, metavar="DIR", help="articles directory (default: ARTICLES_DIR)")
    p.add_argument(
        "--max-pages", type=positive_int, metavar="N", help="most pages downloaded in this run (default: FETCH_MAX_PAGES)"
    )
    p.add_argument("--no-index", action="store_true", help="store the articles but leave the index as it is")
    _add_allow_removals(p)

    p = sub.add_parser(
        "stats", help="what is in the index", description="Articles, chunks, model, dimension, build time and sizes on disk."
    )
    _add_common(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser(
        "search",
        help="answer questions from the command line",
        description="Answer QUESTION, or with no QUESTION one question per line from standard input (model loaded once).",
    )
    _add_common(p)
    p.add_argument("question", nargs="*", metavar="QUESTION", help="the question (omit to read questions from stdin)")
    p.add_argument("--k", type=positive_int, default=5, help="articles to return (default: 5)")
    p.add_argument("--mode", choices=("hybrid", "lexical", "dense"), default="hybrid", help="retriever (default: hybrid)")
    p.add_argument("--passages", type=positive_int, default=1, help="passages per article (default: 1)")
    p.add_argument("--json", action="store_true", help='one JSON object per question: {"question", "results": [...]}')
    p.add_argument("--full", action="store_true", help="show whole passages instead of the compact snippets")

    p = sub.add_parser(
        "eval",
        help="measure retrieval quality on a questions file",
        description="Article-hit@1/@5, MRR@10, answer-hit@1/@5, no-answer count and latency over a JSONL "
        'questions file ({"qid", "question", "answers", "relevant_article_ids"}).',
    )
    _add_common(p)
    p.add_argument("questions", type=Path, help="questions JSONL file")
    p.add_argument("--k", type=positive_int, default=10, help="results per question (default: 10)")
    p.add_argument("--mode", choices=("hybrid", "lexical", "dense"), default="hybrid")
    p.add_argument("--compare", action="store_true", help="evaluate all three modes side by side")
    p.add_argument("--limit", type=positive_int, help="only the first N questions")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.add_argument("--dense-weight", type=float, help="override DENSE_WEIGHT for this run")
    p.add_argument("--no-refusal", action="store_true", help="never answer 'no answer' (measure ranking alone)")

    p = sub.add_parser(
        "report",
        help="the editor's report over the question log",
        description="Questions per day, share answered / no sure answer / nothing found, the most frequent "
        "unanswered questions grouped by similarity (coverage gaps), the most 👎'd answers, latency p50/p95.",
    )
    p.add_argument("--log", type=Path, help="question log JSONL (default: the QUESTION_LOG setting)")
    p.add_argument("--days", type=positive_int, metavar="N", help="only the last N days (default: all)")
    p.add_argument("--chart", type=Path, metavar="PNG", help="also draw the daily counts (needs 3+ days of data)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return parser


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


def _print_problems(problems: Iterable[object]) -> None:
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)


LISTED = 10  # articles listed by name per kind of change in an update's report


def cmd_build(args: argparse.Namespace, settings: EngineSettings, incremental: bool) -> int:
    from dataclasses import replace

    from .build import run_build

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
    )
    _print_problems(report.problems)
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
            print(f"  no usable index in {settings.index_dir} before: this update was a full build")
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
    from index.build import index_is_stale
    from index.storage.store import IndexBusy
    from index.web.harvest import harvest
    from index.web.store import StoreBusy

    from .build import run_build

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
    if not report.stored and not index_is_stale(settings.index_dir, articles_dir):
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
        )
    except IndexBusy as exc:
        print(f"warning: {exc}; the articles are stored and the next fetch or update indexes them", file=sys.stderr)
        return 2
    _print_problems(built.problems)
    print(
        f"index updated: {built.articles} articles, {built.chunks} passages, {built.encoded} newly embedded "
        f"({built.seconds:.1f} s)"
    )
    return status


def cmd_stats(args: argparse.Namespace, settings: EngineSettings) -> int:
    from dataclasses import asdict

    from index.layout import IndexLayout
    from index.storage.store import current_build_id, list_builds, open_index

    stored = open_index(settings.index_dir)
    m = stored.manifest
    cache = IndexLayout(settings.index_dir).embeddings_cache
    info = {
        "index_dir": str(settings.index_dir),
        "build": m.build_id,
        "current": current_build_id(settings.index_dir),
        "built_at": m.built_at,
        "articles": m.articles,
        "chunks": m.chunks,
        "model": m.model,
        "dimension": m.dimension,
        "faiss_index": m.faiss_index,
        "chunking": asdict(m.chunking),
        "lexical": asdict(m.lexical),
        "sizes_bytes": m.sizes_bytes,
        "cache_bytes": cache.stat().st_size if cache.exists() else 0,
        "builds_kept": list_builds(settings.index_dir),
    }
    if args.json:
        print(json.dumps(info, ensure_ascii=False))
        return 0
    total = sum(info["sizes_bytes"].values())
    print(f"index      {info['index_dir']} (build {info['build']})")
    print(f"built at   {info['built_at']}")
    print(f"articles   {info['articles']}")
    print(f"chunks     {info['chunks']}")
    print(f"model      {info['model']} ({info['dimension']}-d, FAISS {info['faiss_index']})")
    print(f"chunking   {info['chunking']['target_words']} words target, {info['chunking']['overlap_words']} overlap")
    print(
        f"bm25       {info['lexical']['method']} k1={info['lexical']['k1']} b={info['lexical']['b']} "
        f"stemmer={info['lexical']['stemmer']} titles={m.index_titles}"
    )
    print(f"on disk    {_mb(total)} in this build:")
    for name, size in info["sizes_bytes"].items():
        print(f"  {name:<14} {_mb(size)}")
    print(f"cache      {_mb(info['cache_bytes'])} (embeddings cache)")
    print(f"builds     {', '.join(info['builds_kept'])}")
    return 0


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
        settings.index_dir, _explicit_model(settings), settings.search_params(), models=settings.answer_models()
    )
    for question in _read_questions(args):
        result = searcher.search(question, k=args.k, mode=args.mode, passages_per_article=args.passages)
        if args.json:
            print(json.dumps(result.to_json(), ensure_ascii=False), flush=True)
        else:
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
    searcher = Searcher.open(settings.index_dir, _explicit_model(settings), params, models=settings.answer_models())
    modes = ("lexical", "dense", "hybrid") if args.compare else (args.mode,)
    rows = [evaluate(searcher, questions, k=args.k, mode=mode, progress=_progress(args)) for mode in modes]
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
    else:
        print(format_table(rows, title=f"{args.questions} — {len(questions)} questions, index {settings.index_dir}"))
    return 0


def _explicit_model(settings: EngineSettings) -> str | None:
    """The model the user asked for explicitly (env/.env), to check against the index's."""
    return settings.embedding_model if "embedding_model" in settings.model_fields_set else None


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # faiss's loader reports each CPU variant it tries at INFO, ModuleNotFoundError included: not an error
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)
    from index.answer.learned import ModelFileError
    from index.embedding.embedder import ModelLoadError
    from index.search.searcher import ModelMismatch
    from index.storage.store import StoreError

    from .build import BuildError

    try:
        settings = load_settings()
        if args.command == "report":
            return cmd_report(args, settings)
        if args.index:
            settings.index_dir = args.index
        if args.command in ("build", "update"):
            return cmd_build(args, settings, incremental=args.command == "update")
        if args.command == "fetch":
            return cmd_fetch(args, settings)
        if args.command == "stats":
            return cmd_stats(args, settings)
        if args.command == "search":
            return cmd_search(args, settings)
        return cmd_eval(args, settings)
    except BuildError as exc:
        _print_problems(exc.problems)
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (StoreError, ModelLoadError, ModelMismatch, ModelFileError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; the previous index is untouched", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
