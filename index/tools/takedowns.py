"""The command line's ``remove`` and ``restore``: take articles down (and keep them down), or put them back.

python -m index remove [--articles DIR] [--index DIR] [--by NAME] [--yes] ID|URL...
python -m index restore [--articles DIR] [--index DIR] [--by NAME] [ID|URL...]   # none: list the removals
"""

from __future__ import annotations

import argparse
import getpass
import sys

from index.settings import EngineSettings

from .commands import print_problems


def _who(args: argparse.Namespace) -> str:
    if args.by:
        return args.by
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name (a container's numeric user)
        return "cli"


def _update(args: argparse.Namespace, settings: EngineSettings, confirmed: list[str]) -> int:
    """Update the index from the articles folder, the takedowns' articles let through the removal guard."""
    from index.build import run_build
    from index.storage.store import IndexBusy

    try:
        built = run_build(
            [args.articles or settings.articles_dir],
            settings.index_dir,
            settings.build_config(),
            incremental=True,
            progress=not args.quiet,
            max_removed_share=settings.max_removed_share,
            confirmed=confirmed,
        )
    except IndexBusy as exc:
        print(f"warning: {exc}; recorded: the next update applies it", file=sys.stderr)
        return 2
    print_problems(built.problems)
    print(
        f"index updated: {built.articles} articles, {built.chunks} passages; removed {len(built.removed)}, "
        f"added back {len(built.added)} ({built.seconds:.1f} s)"
    )
    return 0


def cmd_remove(args: argparse.Namespace, settings: EngineSettings) -> int:
    from index.build.takedown import find, record_removals

    articles_dir = args.articles or settings.articles_dir
    found, unknown = find(settings.index_dir, args.targets)
    for f in found:
        print(f"remove: {f.title or '(no title)'} — {f.source or '?'}, {f.date[:10] or 'no date'}")
        print(f"        id {f.article_id}  {f.url or '(no link)'}  file {f.path}")
    for target in unknown:
        print(f"not in the index: {target} (kept out should it come)")
    if not args.yes:
        if not sys.stdin.isatty():
            print("error: confirm with --yes (no terminal to ask)", file=sys.stderr)
            return 1
        answer = input(f"Take down {len(found)} article(s) and keep {len(unknown)} link(s) out? [y/N] ")
        if answer.strip().lower() not in ("y", "yes", "نعم"):
            print("nothing changed")
            return 1
    records = record_removals(articles_dir, found, unknown, _who(args))
    print(f"recorded {len(records)} takedown(s) in {articles_dir}")
    if args.no_index:
        return 0
    return _update(args, settings, [f.article_id for f in found])


def cmd_restore(args: argparse.Namespace, settings: EngineSettings) -> int:
    from index.build.takedown import record_restores, standing

    articles_dir = args.articles or settings.articles_dir
    if not args.targets:
        current = standing(articles_dir)
        if not current:
            print(f"no articles are taken down in {articles_dir}")
        for t in current:
            print(f"{t.at}  {t.by or '?'}  {t.article_id}  {t.title or t.url or ''}")
        return 0
    restored, unknown = record_restores(articles_dir, args.targets, _who(args))
    for t in restored:
        print(f"restored: {t.title or t.url or t.article_id}  (id {t.article_id})")
    for target in unknown:
        print(f"warning: {target} is not taken down", file=sys.stderr)
    if not restored:
        return 1
    if args.no_index:
        return 0
    return _update(args, settings, [])
