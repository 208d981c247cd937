"""The engine: article files and web pages in, attributed answers out. It knows nothing of Telegram.

What ``bot/`` and ``bench/`` use, importable from here (each name is loaded on first use, PEP 562,
so importing one light module does not load the engine):

- answering: ``Searcher``, ``SearchParams``, ``AnswerModels``, ``SearchResult``, ``Hit``, ``Passage``
- building and updating: ``run_build``, ``BuildConfig``, ``BuildReport``, ``BuildError``, ``RemovalRefused``
- fetching: ``harvest``, ``HarvestReport``
- settings and the index directory: ``EngineSettings``, ``load_settings``, ``IndexLayout``, ``Manifest``

The folders, lowest first (each imports only from those below it; tests/test_layers.py checks):
``text/`` Arabic text, ``corpus/`` article files, ``embedding/`` encoders, ``storage/`` the build
directory, ``web/`` fetching, ``answer/`` reading the hits, ``search/`` the stages in order,
``tools/`` report, evaluation and plain-text views; ``build`` runs build and update.
"""

from __future__ import annotations

import importlib
import sys
import types
import warnings
from collections.abc import Callable
from importlib.abc import Loader, MetaPathFinder
from importlib.machinery import ModuleSpec
from typing import Any


def lazy_exports(package: str, names: dict[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A package's ``__getattr__`` and ``__dir__`` (PEP 562) giving each public name from its submodule on first use.

    ``names`` maps a public name to the module (relative to ``package``) that defines it.
    """

    def __getattr__(name: str) -> Any:
        where = names.get(name)
        if where is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(where, package), name)
        setattr(sys.modules[package], name, value)  # the next lookup is a plain attribute
        return value

    def __dir__() -> list[str]:
        return sorted(names)

    return __getattr__, __dir__


__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "Searcher": ".search",
        "SearchParams": ".search",
        "AnswerModels": ".search",
        "SearchResult": ".results",
        "Hit": ".results",
        "Passage": ".results",
        "run_build": ".build",
        "BuildConfig": ".build",
        "BuildReport": ".build",
        "BuildError": ".build",
        "RemovalRefused": ".build",
        "harvest": ".web",
        "HarvestReport": ".web",
        "EngineSettings": ".settings",
        "load_settings": ".settings",
        "IndexLayout": ".layout",
        "Manifest": ".manifest",
    },
)
__all__ = sorted(__dir__())


# ------------------------------------------------------------------ module paths from before the folders (2026-12)

# Old module -> its new home, importable for one release with a DeprecationWarning. index.search and
# index.embedding are packages now and export what those modules did; index.use_module is a real module
# (its path is saved inside models).
MOVED = {
    "arabic": ("text.arabic",),
    "sentences": ("text.sentences",),
    "chunking": ("text.chunking",),
    "cues": ("text.cues",),
    "analysis": ("text.analysis", "storage.analyses"),
    "use_encoder": ("embedding.encoder",),
    "use_prepared": ("embedding.prepared",),
    "articles": ("corpus.articles",),
    "pagedump": ("corpus.pagedump",),
    "telegram_export": ("corpus.telegram",),
    "outlets": ("corpus.outlets",),
    "uploads": ("corpus.uploads",),
    "urls": ("corpus.urls",),
    "fetch": ("web.client",),
    "feeds": ("web.feeds",),
    "webpages": ("web.pages",),
    "webstore": ("web.store",),
    "harvest": ("web.harvest",),
    "store": ("storage.store",),
    "bm25": ("storage.bm25",),
    "vectors": ("storage.vectors",),
    "lexical": ("storage.lexical",),
    "cache": ("storage.cache",),
    "carryover": ("storage.carryover",),
    "retrieval": ("search.retrieval",),
    "rerank": ("search.rerank",),
    "grouping": ("search.grouping",),
    "recency": ("search.recency",),
    "matching": ("answer.matching",),
    "answers": ("answer.selector",),
    "answerability": ("answer.answerability",),
    "learned": ("answer.learned",),
    "report": ("tools.report",),
    "evaluate": ("tools.evaluate",),
    "render_text": ("tools.render_text",),
    "builder": ("build",),
}


class _MovedLoader(Loader):
    def __init__(self, old: str, new: tuple[str, ...]) -> None:
        self.old, self.new = old, new

    def create_module(self, spec: ModuleSpec) -> types.ModuleType:
        warnings.warn(
            f"{self.old} moved to {', '.join(f'{__name__}.{n}' for n in self.new)}; the old path goes in the next release",
            DeprecationWarning,
            stacklevel=3,
        )
        homes = [importlib.import_module(f"{__name__}.{n}") for n in self.new]
        if len(homes) == 1:
            return homes[0]
        module = types.ModuleType(self.old)  # a module split in two: one namespace with both halves
        for home in homes:
            module.__dict__.update({k: v for k, v in vars(home).items() if not k.startswith("__")})
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        pass


class _MovedFinder(MetaPathFinder):
    def find_spec(self, fullname: str, path: object = None, target: object = None) -> ModuleSpec | None:
        package, _, leaf = fullname.rpartition(".")
        if package != __name__ or leaf not in MOVED:
            return None
        return ModuleSpec(fullname, _MovedLoader(fullname, MOVED[leaf]))


if not any(isinstance(f, _MovedFinder) for f in sys.meta_path):
    sys.meta_path.append(_MovedFinder())
