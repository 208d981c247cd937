"""``python -m index pins``: the desk's pins and blocks listed, undone, or (blocks) added from the command line.

Pins are made in Telegram, from a reader's 👎 (the admin picks the passage); here they are listed
and undone. Blocks can be added here too: ``--block example.com`` or ``--block @channel``.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from index.corpus.desk import Block, Pin, block_target, read_desk, record
from index.settings import EngineSettings


def cmd_pins(args: argparse.Namespace, settings: EngineSettings) -> int:
    folder = args.articles or settings.articles_dir
    desk = read_desk(folder)
    by = args.by or "command line"
    changes: list[Pin | Block] = []
    pins = list(desk.pins.values())
    for wanted in args.unpin or []:
        pin = pins[int(wanted) - 1] if wanted.isdigit() and 0 < int(wanted) <= len(pins) else desk.pin_for(wanted)
        if pin is None:
            print(f"no pin numbered or asking {wanted!r}; see python -m index pins", file=sys.stderr)
            return 1
        changes.append(Pin(pin.key, pin.question, pin.article_id, by=by, undone=True))
    try:
        blocked = [block_target(t) for t in args.block or []]
        unblocked = [block_target(t) for t in args.unblock or []]
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    missing = [t for t in unblocked if t not in desk.blocks]
    if missing:
        print(f"not blocked: {', '.join(missing)}", file=sys.stderr)
        return 1
    changes += [Block(t, by) for t in blocked] + [Block(t, by, undone=True) for t in unblocked]
    if changes:
        record(folder, changes)
        for change in changes:
            what = f"pin of {change.question!r}" if isinstance(change, Pin) else change.target
            print(f"{'lifted' if change.undone else 'blocked'}: {what}")
        desk = read_desk(folder)
    if args.json:
        for pin in desk.pins.values():
            print(json.dumps({"kind": "pin", **asdict(pin)}, ensure_ascii=False))
        for block in desk.blocks.values():
            print(json.dumps({"kind": "block", **asdict(block)}, ensure_ascii=False))
        return 0
    if not changes:
        print(format_desk(desk))
    return 0


def format_desk(desk) -> str:
    """The pins (numbered, as --unpin takes them) and the blocks, one per line."""
    lines = [f"pins ({len(desk.pins)}):"]
    lines += [
        f"  {n}. {p.question!r} -> {p.title or p.article_id} [{p.article_id}] — {p.by or '?'}, {p.at[:16].replace('T', ' ')}"
        for n, p in enumerate(desk.pins.values(), start=1)
    ] or ["  (none)"]
    lines.append(f"blocks ({len(desk.blocks)}):")
    lines += [f"  {b.target} — {b.by or '?'}, {b.at[:16].replace('T', ' ')}" for b in desk.blocks.values()] or ["  (none)"]
    return "\n".join(lines)
