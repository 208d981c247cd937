"""Sentence-transformers models: the built-in offline encoder, or any model by name or path.

The built-in default is Google's Universal Sentence Encoder multilingual v3
(Arabic among its 16 languages; see ``use_module``), so no download is ever
needed. Searches and builds run it through a numpy encoder (``use_encoder``, no
torch: the same vectors as its sentence-transformers module ``use_module``); every
other model is a ``SentenceTransformer``. Either sits behind one ``Embedder``.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

from . import BUILTIN_MODEL

log = logging.getLogger(__name__)

_BUILTIN_ALIASES = {BUILTIN_MODEL, "builtin", "use-multilingual-v3", "usem3"}

# Models trained with instruction prefixes, when their config does not say so.
_KNOWN_PROMPTS: dict[str, tuple[str, str]] = {
    "e5": ("query: ", "passage: "),
    "bge-small-en": ("Represent this sentence for searching relevant passages: ", ""),
    "bge-base-en": ("Represent this sentence for searching relevant passages: ", ""),
    "bge-large-en": ("Represent this sentence for searching relevant passages: ", ""),
}


class ModelLoadError(RuntimeError):
    """The configured embedding model could not be loaded; the message names the setting."""


def is_builtin(name: str) -> bool:
    return name.strip().lower() in _BUILTIN_ALIASES


def load_model(name: str, threads: int = 2, device: str = "cpu") -> SentenceTransformer:
    """Return a ``SentenceTransformer`` for the built-in model or a model name / local path.

    Raises ``ModelLoadError`` with a message that names ``EMBEDDING_MODEL`` when
    the model cannot be found or loaded (no network, a typo in a path...).
    """
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:  # pragma: no cover - broken install
        raise ModelLoadError(f"sentence-transformers is not installed ({exc}); reinstall the project") from exc

    try:
        if is_builtin(name):
            from .module import USEMultilingual

            return SentenceTransformer(modules=[USEMultilingual(threads=threads)], device=device)
        if not os.path.isdir(name):
            log.info("loading %s from the Hugging Face cache or hub", name)
        return SentenceTransformer(name, device=device, trust_remote_code=_only_our_modules(name))
    except Exception as exc:
        raise ModelLoadError(
            f"could not load the embedding model {name!r}: {type(exc).__name__}: {str(exc)[:300]}\n"
            f"Set EMBEDDING_MODEL (or --model) to '{BUILTIN_MODEL}' (works offline), to a local "
            "sentence-transformers directory, or to a Hugging Face model name on a machine that can download it."
        ) from exc


def _only_our_modules(path: str) -> bool:
    """True for a saved model whose custom modules are all this project's (e.g. a saved built-in).

    Such a directory may be loaded with ``trust_remote_code`` because the code it
    names is already installed here; anything else keeps the safe default.
    """
    try:
        with open(os.path.join(path, "modules.json"), encoding="utf-8") as f:
            types = [entry["type"] for entry in json.load(f)]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    # Exact class paths only: a prefix such as "index." would let a folder ship its own index.py
    # and have it run; a Transformer module could pull code in through its config's auto_map.
    ours = {"index.use_module.USEMultilingual"}
    from sentence_transformers.models import Dense, Normalize, Pooling

    harmless = {f"sentence_transformers.models.{c.__name__}" for c in (Normalize, Pooling, Dense)}  # names older versions wrote
    harmless |= {f"{c.__module__}.{c.__qualname__}" for c in (Normalize, Pooling, Dense)}
    return bool(types) and any(t in ours for t in types) and all(t in ours or t in harmless for t in types)


@dataclass
class Embedder:
    """A loaded model plus the prompts used for questions and passages."""

    name: str
    model: Any
    query_prompt: str = ""
    passage_prompt: str = ""
    batch_size: int = 64

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    def _encode(self, texts: list[str], prompt: str, progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            prompt=prompt or None,
            batch_size=self.batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Embed passages: ``(n, dim)`` float32, L2-normalised."""
        return self._encode(texts, self.passage_prompt, progress)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embed questions: ``(n, dim)`` float32, L2-normalised."""
        return self._encode(texts, self.query_prompt, False)


def default_prompts(name: str, model: Any) -> tuple[str, str]:
    """Query and passage prompts: from the model's own config, else known conventions, else none."""
    prompts = getattr(model, "prompts", None) or {}
    query = prompts.get("query")
    passage = prompts.get("passage", prompts.get("document"))
    if query is not None or passage is not None:
        return query or "", passage or ""
    lowered = name.lower()
    for fragment, pair in _KNOWN_PROMPTS.items():
        if fragment in lowered:
            return pair
    return "", ""


def load_embedder(
    name: str,
    query_prompt: str | None = None,
    passage_prompt: str | None = None,
    batch_size: int = 64,
    threads: int = 2,
    light: bool = False,
) -> Embedder:
    """Load a model and settle its prompts (explicit settings win over the model's defaults).

    ``light``: for the built-in model, skip sentence-transformers and torch and call
    the same encoder directly — identical vectors, 3-4 s and ~300 MB less per process.
    Builds and searches use it; ``load_model`` still gives the built-in model as a
    ``SentenceTransformer`` for code that wants one.
    """
    if light and is_builtin(name):
        from .encoder import FastBuiltinModel

        model = FastBuiltinModel(workers=threads)
    else:
        model = load_model(name, threads=threads)
    q_default, p_default = default_prompts(name, model)
    return Embedder(
        name=BUILTIN_MODEL if is_builtin(name) else name,
        model=model,
        query_prompt=q_default if query_prompt is None else query_prompt,
        passage_prompt=p_default if passage_prompt is None else passage_prompt,
        batch_size=batch_size,
    )
