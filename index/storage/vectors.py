"""FAISS vector indexes: inner product over L2-normalised vectors (= cosine similarity).

Index types are chosen by name. ``flat`` is exact and ``auto`` uses it up to
50,000 chunks (exact search stays within 10 ms there); above that the
approximate types trade a little recall for speed and memory (see docs/benchmarks.md).
"""

from __future__ import annotations

import numpy as np

INDEX_TYPES = ("auto", "flat", "hnsw", "hnsw-sq8", "ivf-sq8", "ivf-pq")
# bench/scale.py (docs/benchmarks.md): exact search stays within 10 ms p50 up to about
# 50,000 vectors on 2 cores; above that "auto" uses HNSW over 8-bit scalar-quantised
# vectors, which at 1M chunks answered in 0.65 ms p50 at recall@10 0.98 in 784 MB.
AUTO_FLAT_MAX = 50_000
AUTO_LARGE_TYPE = "hnsw-sq8"
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
# 128, not 64: search asks for 100 candidates and FAISS does not raise efSearch to k.
HNSW_EF_SEARCH = 128


def resolve_type(kind: str, n: int) -> str:
    """Turn ``auto`` into a concrete index type for ``n`` vectors."""
    if kind not in INDEX_TYPES:
        raise ValueError(f"unknown FAISS index type {kind!r}; choose one of {', '.join(INDEX_TYPES)}")
    if kind == "auto":
        return "flat" if n <= AUTO_FLAT_MAX else AUTO_LARGE_TYPE
    return kind


def build_index(vectors: np.ndarray, kind: str = "auto"):
    """Build a FAISS index over ``vectors`` (n, dim) float32; row i gets id i."""
    import faiss

    n, dim = vectors.shape
    kind = resolve_type(kind, n)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if kind == "flat" or n < 1000:
        index = faiss.IndexFlatIP(dim)
    elif kind in ("hnsw", "hnsw-sq8"):
        if kind == "hnsw":
            index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        else:  # the 8-bit quantiser learns each dimension's range first
            index = faiss.IndexHNSWSQ(dim, faiss.ScalarQuantizer.QT_8bit, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.train(vectors[np.random.default_rng(0).choice(n, size=min(n, 100_000), replace=False)])
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
    else:
        nlist = max(16, min(65536, int(4 * np.sqrt(n))))
        quantizer = faiss.IndexFlatIP(dim)
        if kind == "ivf-sq8":
            index = faiss.IndexIVFScalarQuantizer(
                quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
            )
        else:
            m = next(m for m in (64, 32, 16, 8, 4, 2, 1) if dim % m == 0)
            index = faiss.IndexIVFPQ(quantizer, dim, nlist, m, 8, faiss.METRIC_INNER_PRODUCT)
        sample = vectors[np.random.default_rng(0).choice(n, size=min(n, 50 * nlist), replace=False)]
        index.train(sample)
        index.nprobe = max(16, nlist // 64)
    index.add(vectors)
    if hasattr(index, "make_direct_map"):
        index.make_direct_map()  # lets search compute exact scores of lexical-only candidates
    return index


def save_index(index, path: str) -> None:
    import faiss

    faiss.write_index(index, path)


def load_index(path: str, mmap: bool = False):
    """Read an index; with ``mmap`` the vectors are mapped from the file, not copied.

    Mapped pages live in the page cache and are shared by every process that maps
    the same build (several bot processes hold one copy). Builds are never changed
    in place, so mapping them is safe. ``IO_FLAG_MMAP_IFC`` maps the codes of flat
    and HNSW indexes, ``IO_FLAG_MMAP`` the inverted lists of IVF indexes.
    """
    import faiss

    if not mmap:
        return _tuned(faiss.read_index(path))
    for flags in (getattr(faiss, "IO_FLAG_MMAP_IFC", 0), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY):
        if not flags:
            continue
        try:
            return _tuned(faiss.read_index(path, flags))
        except RuntimeError:
            continue
    return _tuned(faiss.read_index(path))  # index types FAISS cannot map are read into memory


def _tuned(index):
    """Search-time knobs are not all kept in the file; set them on every load."""
    import faiss

    hnsw = getattr(faiss.downcast_index(index), "hnsw", None)
    if hnsw is not None:
        hnsw.efSearch = max(hnsw.efSearch, HNSW_EF_SEARCH)
    return index


def single_threaded_search() -> None:
    """One FAISS thread per query: the bot runs searches in parallel already, and on a busy
    2-core machine a query split over 2 threads was 2-3x slower (bench/scale.py)."""
    import faiss

    faiss.omp_set_num_threads(1)


def flat_vectors(index) -> np.ndarray | None:
    """An exact inner-product index's vectors as an aligned ``(n, dim)`` float32 matrix; None for other types.

    For one question, a matrix-vector product over them and a partial sort took a
    quarter of FAISS's own flat search with k=100 (0.25 against 1.0 ms over 4,836
    chunks), and gives every chunk's cosine at once. A memory-mapped FAISS file holds
    the vectors at an unaligned offset, where numpy falls back to a loop ten times
    slower, so those are copied once; an index in memory is viewed, not copied (the
    view lives as long as its holder keeps ``index``).
    """
    import faiss

    flat = faiss.downcast_index(index)
    if not isinstance(flat, faiss.IndexFlat) or flat.metric_type != faiss.METRIC_INNER_PRODUCT:
        return None
    n, dim = int(flat.ntotal), int(flat.d)
    if n == 0:
        return np.zeros((0, dim), dtype=np.float32)
    view = faiss.rev_swig_ptr(flat.get_xb(), n * dim).reshape(n, dim)
    return view if view.ctypes.data % 64 == 0 else np.array(view)


def top_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest scores, best first."""
    k = min(k, scores.shape[0])
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.argsort(-scores[part], kind="stable")]


def search(index, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` (scores, row ids) per query; ids are -1 where fewer than k exist."""
    k = max(1, min(k, index.ntotal))
    return index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
