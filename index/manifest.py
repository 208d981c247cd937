"""The build manifest: what one build holds and how it was made, as a typed record.

Written once per build as ``manifest.json`` (the same keys since format 4), read by the
storage, the searcher, the next update, the bot's /stats and the benchmarks. Every build
written so far is read, including those written before newer keys existed: a missing key
takes the value that build was made with (e.g. no ``latin_share``: an Arabic corpus).
Keys this version does not know are kept and written back.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from index.storage.lexical import LexicalParams
from index.text.chunking import ChunkParams

FORMAT_VERSION = 4  # 4: per-chunk analyses moved from meta.sqlite (JSON) to analysis/*.npy arrays


class ManifestError(ValueError):
    """A manifest that lacks what every build has, or holds values of the wrong kind."""


@dataclass(frozen=True)
class Manifest:
    build_id: str
    built_at: str
    model: str
    dimension: int
    articles: int
    chunks: int
    chunking: ChunkParams = field(default_factory=ChunkParams)
    lexical: LexicalParams = field(default_factory=LexicalParams)
    query_prompt: str = ""
    passage_prompt: str = ""
    index_titles: bool = True
    embed_max_words: int = 0
    faiss_index: str = "flat"
    faiss_index_setting: str = "auto"
    latin_share: float = 0.0  # share of passages in Latin script (questions in the other script go dense-first)
    analysis: str = ""  # what the stored sentence analyses depend on; the next update reuses them when it matches
    corpus_hash: str = ""
    sources: list[str] = field(default_factory=list)  # the article paths it was built from, resolved
    sizes_bytes: dict[str, int] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    # A build of parts (storage.parts): the builds whose files hold its rows, in order (the last is itself),
    # and each one's rows and articles. Empty for a build that is all in its own directory.
    parts: list[str] = field(default_factory=list)
    part_rows: list[int] = field(default_factory=list)
    part_articles: list[int] = field(default_factory=list)
    vocabulary: int = 0  # a build of parts: terms known to all its parts (ids 0 .. vocabulary - 1)
    extra: dict[str, Any] = field(default_factory=dict)  # keys this version does not know, kept as they were

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        """A manifest as ``manifest.json`` holds it; ``ManifestError`` when a required key is missing or unusable."""
        if not isinstance(data, dict):
            raise ManifestError("not a JSON object")
        known = {f.name for f in fields(cls)} - {"extra"}
        values = {k: v for k, v in data.items() if k in known}
        try:
            values["chunking"] = ChunkParams(**data.get("chunking", {}))
            values["lexical"] = LexicalParams(**data.get("lexical", {}))
            for name in ("dimension", "articles", "chunks"):
                values[name] = int(values[name])
            manifest = cls(**values, extra={k: v for k, v in data.items() if k not in known})
        except (KeyError, TypeError, ValueError) as exc:
            raise ManifestError(f"{type(exc).__name__}: {exc}") from None
        if manifest.query_prompt is None or manifest.passage_prompt is None:  # written as null by older builds
            manifest = manifest.replace(query_prompt=manifest.query_prompt or "", passage_prompt=manifest.passage_prompt or "")
        return manifest

    def to_json(self) -> dict[str, Any]:
        """The keys ``manifest.json`` has always had, in their order, then any kept from a newer version."""
        data = asdict(self)
        extra = data.pop("extra")
        order = [
            "build_id", "built_at", "model", "dimension", "query_prompt", "passage_prompt", "chunking", "lexical",
            "index_titles", "embed_max_words", "faiss_index", "faiss_index_setting", "articles", "chunks", "latin_share",
            "analysis", "corpus_hash", "sources", "sizes_bytes", "format_version",
        ]  # fmt: skip
        parted = ["parts", "part_rows", "part_articles", "vocabulary"] if self.parts else []  # written by builds of parts only
        return {**{k: data[k] for k in order + parted}, **extra}

    def dumps(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False, indent=2)

    def replace(self, **changes: Any) -> Manifest:
        from dataclasses import replace

        return replace(self, **changes)
