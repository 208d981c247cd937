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
            target=settings.store_target(),
        )
    except IndexBusy as exc:
        print(f"warning: {exc}; recorded: the next update applies it", file=sys.stderr)
        return 2
    print_problems(built.problems)
    changes = ", ".join(f"{label} {len(ids)}" for label, ids in (("removed", built.removed), ("added", built.added)) if ids)
    print(f"index updated: {built.articles} articles, {built.chunks} passages; {changes or 'no change'} ({built.seconds:.1f} s)")
    return 0


def cmd_remove(args: argparse.Namespace, settings: EngineSettings) -> int:
    from index.build.takedown import find, record_removals
    from index.storage.stores import open_store

    articles_dir = args.articles or settings.articles_dir
    found, unknown = find(open_store(settings.index_dir, settings.store_target()), args.targets)
    for f in found:
        print(f"remove: {f.title or '(no title)'} — {f.source or '?'}, {f.date[:10] or 'no date'}")
        print(f"        id {f.article_id}  {f.url or '(no link)'}  file {f.path}")
    for target in unknown:
        print(f"not in the index: {target} (kept out should it come)")
    if not args.yes:
        if not sys.stdin.isatty():
            print("error: confirm with --yes (no terminal to ask)", file=sys.stderr)
            return 1
        try:
            answer = input(f"Take down {len(found)} article(s) and keep {len(unknown)} link(s) out? [y/N] ")
        except EOFError:
            answer = ""
        if answer.strip().lower() not in ("y", "yes", "نعم"):
            print("nothing changed")
            return 1
    try:
        records = record_removals(articles_dir, found, unknown, _who(args))
    except OSError as exc:
        print(f"error: cannot record the takedown in {articles_dir}: {exc.strerror or exc}", file=sys.stderr)
        return 1
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
    try:
        restored, unknown = record_restores(articles_dir, args.targets, _who(args))
    except OSError as exc:
        print(f"error: cannot record the restore in {articles_dir}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    for t in restored:
        print(f"restored: {t.title or t.url or t.article_id}  (id {t.article_id})")
    for target in unknown:
        print(f"warning: {target} is not taken down", file=sys.stderr)
    if not restored:
        return 1
    if args.no_index:
        return 0
    print("the articles are read again from their files: a full build (minutes on a large index)")
    return _update(args, settings, [])
