"""The removal guard: an update that would remove much of the index, or every article of a folder the
index was built from and not given now, is refused unless confirmed (the bot run on another ARTICLES_DIR)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .config import MAX_REMOVED_SHARE, RemovalRefused


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


@dataclass(frozen=True)
class RemovalGuard:
    """The guard an update runs under: the share it refuses to remove, and the removals an admin confirmed."""

    max_share: float = MAX_REMOVED_SHARE
    confirmed: frozenset[str] = frozenset()  # article ids taken down on purpose (``build.takedown``): let through

    def check(
        self,
        before: dict[str, tuple[str, str, str]],
        removed: Sequence[str],
        previous_sources: Sequence[str],
        given: Sequence[Path],
    ) -> None:
        """``check_removals`` over the removals nobody confirmed."""
        unconfirmed = [i for i in removed if i not in self.confirmed]
        check_removals(before, unconfirmed, previous_sources, given, self.max_share)
