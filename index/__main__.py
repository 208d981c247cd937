"""Admin command line: ``python -m index {build,update,fetch,stats,search,eval,report} --help``.

Settings come from the environment and ``.env`` (see ``index.settings``); flags
override them for one run.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from index.storage.vectors import INDEX_TYPES

from .settings import load_settings
from .tools import commands

EXAMPLES = """examples:
  python -m index build --articles samples/articles --index var/index
  python -m index update --articles var/articles
  python -m index search "من هو أمين حركة النجباء في العراق؟"
  echo "متى افتتح المعرض؟" | python -m index search --json
  python -m index eval questions.jsonl --compare
  python -m index fetch https://example.org/feed.xml https://example.org/news/1.html
  python -m index fetch --quiet            # the FEEDS setting; for cron
  python -m index report --log var/questions.jsonl --days 7 --chart report.png
  python -m index remove --by "the desk" https://example.org/news/1.html   # a takedown; `restore` undoes it
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
    _add_store_flags(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")


def _add_store_flags(p: argparse.ArgumentParser) -> None:
    """--index and --store: where the index is."""
    p.add_argument("--index", type=Path, help="index directory (default: the INDEX_DIR setting, var/index unless set)")
    p.add_argument(
        "--store",
        metavar="URI",
        help="where the index lives: milvus://HOST:PORT/NAME, or 'embedded' for INDEX_DIR (default: the INDEX_STORE "
        "setting); with Milvus, --index holds only the embeddings cache",
    )


def _add_takedown_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--articles", type=Path, metavar="DIR", help="articles directory (default: ARTICLES_DIR)")
    p.add_argument("--by", metavar="NAME", help="who does it, for the record (default: your login name)")
    p.add_argument("--no-index", action="store_true", help="record it but leave the index as it is")


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
        "remove",
        help="take articles down: out of the index, and kept out",
        description="Show the articles that ID (an article id), URL (an article's link) or a t.me post link name, "
        "ask to confirm, record the takedown in ARTICLES_DIR/.removed.jsonl (who and when) and update the index. "
        "A later fetch, upload, channel edit or build from scratch does not bring them back; `restore` does.",
    )
    _add_common(p)
    p.add_argument("targets", nargs="+", metavar="ID|URL", help="article id, article link or t.me post link")
    _add_takedown_flags(p)
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    p = sub.add_parser(
        "restore",
        help="undo a takedown (with no ID|URL: list the articles taken down)",
        description="Record that the takedowns of ID|URL are undone and update the index, which reads the articles "
        "again from their files. With no ID|URL: list the takedowns in force, newest first, with who and when.",
    )
    _add_common(p)
    p.add_argument("targets", nargs="*", metavar="ID|URL", help="article id or link, as it was removed")
    _add_takedown_flags(p)

    p = sub.add_parser(
        "sources",
        help="each feed, sitemap, channel and folder: last sync, last error, articles, gaps",
        description="List every source the index reads (FEEDS too, synced or not) with its last good sync, its last "
        "error, its article count and newest article's date, and how many of its articles have no link or no date.",
    )
    _add_desk_flags(p, "source")
    _add_store_flags(p)  # to count each source's articles in the index

    p = sub.add_parser(
        "pins",
        help="the desk's pins and blocks: list, undo, block a source",
        description="List the passages editors pinned as the answers to questions (made in Telegram from a reader's "
        "👎) and the blocked domains and channels (left out of answers and of fetching); undo them, or block a source.",
    )
    p.add_argument("--articles", type=Path, metavar="DIR", help="articles directory (default: ARTICLES_DIR)")
    p.add_argument("--unpin", action="append", metavar="N|QUESTION", help="lift pin N of the list, or the pin of QUESTION")
    p.add_argument("--block", action="append", metavar="DOMAIN|@CHANNEL", help="keep a domain or channel out")
    p.add_argument("--unblock", action="append", metavar="DOMAIN|@CHANNEL", help="lift a block")
    p.add_argument("--by", help="who, for the log (default: 'command line')")
    _add_desk_flags(p, "pin and block", articles=False)

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
    p.add_argument(
        "--after",
        metavar="PREVIOUS",
        help="the question asked just before: a follow-up («ومتى حدث ذلك؟») is understood in its context",
    )
    p.add_argument(
        "--conversation",
        action="store_true",
        help="the questions (from stdin) are one conversation: each may follow up the one before; a line /new starts afresh",
    )

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


def _add_desk_flags(p: argparse.ArgumentParser, each: str, articles: bool = True) -> None:
    """The flags of the commands that read only the articles folder: --articles, --json, -v."""
    if articles:
        p.add_argument("--articles", type=Path, metavar="DIR", help="articles directory (default: ARTICLES_DIR)")
    p.add_argument("--json", action="store_true", help=f"print one JSON object per {each}")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")


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
            return commands.cmd_report(args, settings)
        if args.command == "pins":
            from index.tools.pins import cmd_pins

            return cmd_pins(args, settings)
        if getattr(args, "index", None):
            settings.index_dir = args.index
        if getattr(args, "store", None):
            settings.index_store = "" if args.store == "embedded" else args.store.strip()
            settings.store_target()  # a wrong address is a ValueError saying what is wrong
        if args.command == "sources":
            return commands.cmd_sources(args, settings)
        if args.command in ("build", "update"):
            return commands.cmd_build(args, settings, incremental=args.command == "update")
        if args.command == "fetch":
            return commands.cmd_fetch(args, settings)
        if args.command in ("remove", "restore"):
            from index.tools import takedowns

            return takedowns.cmd_remove(args, settings) if args.command == "remove" else takedowns.cmd_restore(args, settings)
        if args.command == "stats":
            return commands.cmd_stats(args, settings)
        if args.command == "search":
            return commands.cmd_search(args, settings)
        return commands.cmd_eval(args, settings)
    except BuildError as exc:
        commands.print_problems(exc.problems)
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
