"""Every path under INDEX_DIR and ARTICLES_DIR, named in one place.

    INDEX_DIR/
      CURRENT                   the live build's id; replaced, never written in place (storage.store)
      CURRENT.tmp-<tag>         the next CURRENT, being written
      builds/<id>/              one finished build: manifest.json, vectors.faiss, meta.sqlite, bm25/, analysis/,
                                files.json; a build of parts (storage.parts) holds only what it added, lists
                                the earlier builds it stands on, and the rows it deleted (deleted_*.npy)
      builds/.tmp-<id>/         a build being written (never read; removed when stale)
      cache/embeddings.sqlite   the build cache shared by builds (storage.cache)
      .lock                     held while a build or update runs

    ARTICLES_DIR/
      uploads/    admins' files, named by upload time (corpus.uploads)
      web/        fetched pages, one JSONL per host (web.store)
      telegram/   channel posts, one JSONL per channel (corpus.telegram)
      pasted/     page text pasted to the bot's /add

Only this module and ``index.storage`` spell the names of the files inside INDEX_DIR
(tests/test_layers.py checks); everything else asks these records.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

_SCRATCH = ".tmp-"


@dataclass(frozen=True)
class BuildFiles:
    """The files of one build directory."""

    root: Path

    @property
    def build_id(self) -> str:
        return self.root.name.removeprefix(_SCRATCH)

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"

    @property
    def vectors(self) -> Path:
        return self.root / "vectors.faiss"

    @property
    def meta(self) -> Path:
        return self.root / "meta.sqlite"

    @property
    def bm25(self) -> Path:
        return self.root / "bm25"

    @property
    def analysis(self) -> Path:
        return self.root / "analysis"

    @property
    def deleted_rows(self) -> Path:
        """A build of parts: the rows of earlier parts it no longer holds (removed or replaced articles)."""
        return self.root / "deleted_rows.npy"

    @property
    def deleted_articles(self) -> Path:
        return self.root / "deleted_articles.npy"

    @property
    def files(self) -> Path:
        """The article files the build was made from, with their sizes and times: what the next update compares."""
        return self.root / "files.json"


@dataclass(frozen=True)
class IndexLayout:
    """INDEX_DIR: its builds, the pointer to the live one, the build cache and the build lock."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    @property
    def current(self) -> Path:
        return self.root / "CURRENT"

    def next_current(self, tag: str) -> Path:
        """Where the next CURRENT is written before it replaces the old one."""
        return self.root / f"CURRENT.tmp-{tag}"

    def stray_currents(self) -> list[Path]:
        """Next-CURRENT files a killed process left behind."""
        return list(self.root.glob("CURRENT.tmp-*"))

    @property
    def builds(self) -> Path:
        return self.root / "builds"

    def build(self, build_id: str) -> BuildFiles:
        return BuildFiles(self.builds / build_id)

    def scratch(self, build_id: str) -> BuildFiles:
        """Where build ``build_id`` is written before it is renamed into place."""
        return BuildFiles(self.builds / f"{_SCRATCH}{build_id}")

    def scratches(self) -> list[Path]:
        return list(self.builds.glob(f"{_SCRATCH}*")) if self.builds.is_dir() else []

    @staticmethod
    def is_finished(name: str) -> bool:
        """Whether a directory name under builds/ is a finished build (not a scratch one, nothing hidden)."""
        return not name.startswith(".")

    @property
    def cache_dir(self) -> Path:
        return self.root / "cache"

    @property
    def embeddings_cache(self) -> Path:
        return self.cache_dir / "embeddings.sqlite"

    @property
    def lock(self) -> Path:
        return self.root / ".lock"


@dataclass(frozen=True)
class ArticlesLayout:
    """ARTICLES_DIR: the folders the bot and the fetcher write article files into (any other file is read too)."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    @property
    def uploads(self) -> Path:
        return self.root / "uploads"

    @property
    def web(self) -> Path:
        return self.root / "web"

    @property
    def telegram(self) -> Path:
        return self.root / "telegram"

    @property
    def pasted(self) -> Path:
        return self.root / "pasted"
