"""Progress bars that cost nothing when switched off.

tqdm takes ~0.1 s to import (its version lookup reads package metadata), a
twentieth of a quiet ``update``; a disabled bar is this module's stand-in, so
quiet runs, the bot and the tests never import it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any


class _Off:
    """What a disabled tqdm bar does: pass the iterable through, accept updates, show nothing."""

    def __init__(self, iterable: Iterable[Any] | None) -> None:
        self._iterable = iterable if iterable is not None else ()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._iterable)

    def __enter__(self) -> _Off:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def update(self, _n: float = 1) -> None:
        return None

    def close(self) -> None:
        return None


def bar(iterable: Iterable[Any] | None = None, *, enabled: bool, **options: Any) -> Any:
    """A tqdm progress bar over ``iterable`` (or counted with ``update``) when ``enabled``, else a silent stand-in."""
    if not enabled:
        return _Off(iterable)
    from tqdm.auto import tqdm

    return tqdm(iterable, **options)
