"""What decides a build's content and what a build reports: ``BuildConfig``, ``BuildReport``, the build's errors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from index.corpus.records import DEFAULT_MAX_ARTICLE_CHARS, DEFAULT_MAX_FILE_BYTES, Problem
from index.embedding.embedder import BUILTIN_MODEL
from index.manifest import Manifest
from index.storage.lexical import LexicalParams
from index.text.chunking import ChunkParams


class BuildError(RuntimeError):
    """The build could not produce an index (nothing to index, model mismatch...)."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


class RemovalRefused(BuildError):
    """An update would remove more of the index than it may without a confirmation; nothing was changed.

    ``removed`` and ``total`` count articles; ``folders`` are folders the index was built from that
    this update was not given and whose every article it would remove.
    """

    def __init__(self, message: str, removed: dict[str, str], total: int, folders: list[str], problems: Sequence[Problem] = ()):
        super().__init__(message, problems)
        self.removed = removed  # article id -> title, of every article the update would remove
        self.total = total
        self.folders = folders


# An update that would remove more than this share of the index's articles needs a confirmation.
MAX_REMOVED_SHARE = 0.5


@dataclass(frozen=True)
class BuildConfig:
    """Everything that decides what a build contains; written to its manifest."""

    model: str = BUILTIN_MODEL
    query_prompt: str | None = None
    passage_prompt: str | None = None
    chunking: ChunkParams = field(default_factory=ChunkParams)
    lexical: LexicalParams = field(default_factory=LexicalParams)
    index_titles: bool = True
    embed_max_words: int = 128
    faiss_index: str = "auto"
    batch_size: int = 64
    threads: int = 2
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_article_chars: int = DEFAULT_MAX_ARTICLE_CHARS

    @classmethod
    def from_manifest(cls, manifest: Manifest, **overrides: Any) -> BuildConfig:
        """The configuration an existing build was made with (so an update stays consistent)."""
        config = cls(
            model=manifest.model,
            query_prompt=manifest.query_prompt,
            passage_prompt=manifest.passage_prompt,
            chunking=manifest.chunking,
            lexical=manifest.lexical,
            index_titles=manifest.index_titles,
            embed_max_words=manifest.embed_max_words,
            faiss_index=manifest.faiss_index_setting,
        )
        return cls(**{**config.__dict__, **overrides})


@dataclass
class BuildReport:
    """What a build or update did, for the CLI and the bot to tell the admin."""

    build_id: str = ""
    path: str = ""
    articles: int = 0
    chunks: int = 0
    encoded: int = 0
    reanalysed: int = 0  # chunks not carried over from the previous build (analysed, or read from the cache)
    files: int = 0
    duplicates: int = 0
    superseded: int = 0  # articles a later file holds again (its copy is the one indexed)
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    # article id -> (title, source file) for the added, changed and removed ones, for people to read
    described: dict[str, tuple[str, str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    unchanged: bool = False
    from_scratch: bool = False  # no usable previous build: an update was a full build
    parts: int = 0  # an update that wrote only what changed (build.delta): the parts the build now has

    def describe(self, article_id: str) -> str:
        """``title (file) [id]`` for the report lines."""
        title, path = self.described.get(article_id, ("", ""))
        return f"{title or '(untitled)'} ({path or '?'}) [{article_id}]"

    @property
    def chunks_per_second(self) -> float:
        return self.chunks / self.seconds if self.seconds else 0.0
