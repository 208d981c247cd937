"""Open the index a setting names: a local build directory (the embedded store) or a Milvus collection."""

from __future__ import annotations

from pathlib import Path

from index.manifest import Manifest

from .loading import current_manifest, open_index
from .lookup import IndexStore
from .milvus.target import MilvusTarget
from .store import StoreError, current_build_id


def open_store(index_dir: str | Path, target: MilvusTarget | None = None, mmap: bool = False) -> IndexStore:
    """The current build: in Milvus when ``target`` is given (``INDEX_STORE``), else in ``index_dir``."""
    if target is not None:
        from .milvus.reading import MilvusIndex

        return MilvusIndex.open(target)
    return open_index(index_dir, mmap=mmap)


def store_manifest(index_dir: Path, target: MilvusTarget | None = None) -> Manifest | None:
    """The current build's manifest, or None when there is none (or it cannot be read)."""
    if target is None:
        return current_manifest(index_dir)
    from .milvus.reading import current_manifest as milvus_manifest

    return milvus_manifest(target)


def store_build_id(index_dir: Path, target: MilvusTarget | None = None, served: IndexStore | None = None) -> str | None:
    """The id of the build readers should serve now (None: none, or the store cannot say right now); ``served``,
    the index being served, is asked over its own connection when it is that Milvus index."""
    if target is None:
        return current_build_id(index_dir)
    from .milvus.reading import current_build_id as milvus_build_id

    try:
        if served is not None and getattr(served, "target", None) == target:
            return served.current_build_id()  # type: ignore[attr-defined]
        return milvus_build_id(target)
    except StoreError:  # unreachable for now: the next poll asks again
        return None
