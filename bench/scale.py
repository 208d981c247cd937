"""Scale benchmark: which FAISS index type serves 1M chunks of 512-d embeddings on a 2-core machine?

The project's vectors are L2-normalised float32 (dimension 512) searched by inner
product (= cosine). Exact search (IndexFlatIP) costs 2 KB per chunk, so at 1M
chunks it needs 2 GB and scans all of it per question. This script builds each
candidate index type over synthetic vectors and measures what matters to the bot:

- build time (train + add), serialized size and RSS growth of the process;
- single-query latency (one query at a time, k=10, p50/p95), like the bot asks;
- recall@10 against exact flat search, while sweeping the main search knob
  (efSearch for HNSW, nprobe for IVF).

Target at 1M chunks: p50 <= 10 ms, recall@10 >= 0.95, index <= 1.2 GB (10^9 bytes).

Two data sets, both generated deterministically in chunks:

- ``uniform``: i.i.d. Gaussian vectors normalised, i.e. random unit vectors. This has
  no structure at all and is the worst case for every approximate index.
- ``clustered``: a proxy for real sentence embeddings: vectors = topic centre + noise,
  normalised, with skewed topic sizes and a decaying noise spectrum, so that
  neighbours are much closer than random pairs (see ``ClusterModel``). Its parameters
  were chosen so that top-1/top-10 cosines and random-pair cosines resemble those of
  the project's real index (the section text prints both).

It also measures flat latency at growing sizes on one data set, the basis of the
``FAISS_INDEX=auto`` threshold (exact below it, approximate above it).

Run from the repository root (debug at small sizes first; the 1M run takes one to two hours):

    python -m bench.scale --n 100000 --no-write
    python -m bench.scale                              # 1,000,000 vectors, both data sets
    python -m bench.scale --datasets clustered --types flat ivf-sq8 --no-write
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import faiss
import numpy as np
import psutil

from bench.common import record, summary_ms, table

DIM = 512
K = 10
TARGET_P50_MS = 10.0
TARGET_RECALL = 0.95
TARGET_BYTES = 1.2e9
GEN_CHUNK = 50_000  # vectors generated (and added) per step: bounds the temporaries
ADD_CHUNK = 50_000
SLOW_QUERY_S = 0.02  # above this per query, time fewer queries
FEW_QUERIES = 200
STOP_RECALL = 0.99  # a sweep stops once it gets here: larger knob values only cost time
STOP_P50_MS = 5 * TARGET_P50_MS  # ...or once it is this slow
K_WIDE = 100  # the bot asks FAISS for SEARCH_CANDIDATES=100 candidates; checked on the chosen settings
QT_8BIT = faiss.ScalarQuantizer.QT_8bit
IP = faiss.METRIC_INNER_PRODUCT

T0 = time.perf_counter()


def log(msg: str) -> None:
    """Progress to stderr with the elapsed time, so a long run can be followed."""
    print(f"[{time.perf_counter() - T0:8.1f}s] {msg}", file=sys.stderr, flush=True)


def rss() -> int:
    return psutil.Process().memory_info().rss


def serialized_bytes(index: faiss.Index) -> int:
    """Size of the index as the project stores it (write_index); written to a temp file to avoid a 2 GB copy in RAM."""
    with tempfile.TemporaryDirectory(prefix="scale-bench-") as tmp:
        path = os.path.join(tmp, "index.faiss")
        faiss.write_index(index, path)
        return os.path.getsize(path)


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class ClusterModel:
    """Topic centres plus anisotropic noise: a cheap stand-in for the structure of real text embeddings.

    Real embeddings have most variance in a few dozen directions and many
    near-duplicate neighbours; isotropic 512-d noise would make every cluster a small
    copy of the uniform worst case. So centres and noise both have a power-law
    spectrum (variance of the i-th direction ~ 1/i) in random rotated bases, and the
    topic sizes are log-normal (a few big topics, many small ones).
    """

    centres: np.ndarray  # (C, dim) unit vectors
    weights: np.ndarray  # (C,) topic probabilities
    noise_scale: np.ndarray  # (dim,) per-direction standard deviation
    noise_basis: np.ndarray  # (dim, dim) orthogonal

    @staticmethod
    def spectrum(dim: int, decay: float, norm: float) -> np.ndarray:
        """Per-direction std so that variance ~ i^-decay and the expected squared norm is ``norm``^2."""
        s = np.arange(1, dim + 1, dtype=np.float64) ** (-decay / 2)
        return (s * norm / np.sqrt((s**2).sum())).astype(np.float32)

    @classmethod
    def make(cls, seed: int, dim: int, n_centres: int, noise: float, decay: float) -> ClusterModel:
        rng = np.random.default_rng([seed, 100])
        rotation = np.linalg.qr(rng.standard_normal((dim, dim)))[0].astype(np.float32)
        centres = (rng.standard_normal((n_centres, dim), dtype=np.float32) * cls.spectrum(dim, decay, 1.0)) @ rotation
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
        sizes = rng.lognormal(0.0, 1.0, n_centres)
        basis = np.linalg.qr(rng.standard_normal((dim, dim)))[0].astype(np.float32)
        return cls(centres, sizes / sizes.sum(), cls.spectrum(dim, decay, noise), basis)

    def sample(self, rng: np.random.Generator, m: int) -> np.ndarray:
        labels = rng.choice(len(self.centres), size=m, p=self.weights)
        x = self.centres[labels]
        x += (rng.standard_normal((m, self.centres.shape[1]), dtype=np.float32) * self.noise_scale) @ self.noise_basis
        return x


def generate(model: ClusterModel | None, n: int, dim: int, seed: int, stream: int) -> np.ndarray:
    """``n`` unit vectors, chunk by chunk into one float32 array (no float64 copy of the whole set).

    Each chunk has its own seed, so a smaller ``--n`` gives a prefix of the larger set.
    """
    out = np.empty((n, dim), dtype=np.float32)
    for i, start in enumerate(range(0, n, GEN_CHUNK)):
        stop = min(n, start + GEN_CHUNK)
        rng = np.random.default_rng([seed, stream, i])
        x = rng.standard_normal((stop - start, dim), dtype=np.float32) if model is None else model.sample(rng, stop - start)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        out[start:stop] = x
    return out


def ground_truth(flat: faiss.Index, xq: np.ndarray, batch: int = 250) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-K_WIDE per query, in batches (FAISS uses BLAS for batches, far faster than one by one).

    The first K columns are the reference for recall@10; all K_WIDE for the bot's 100 candidates.
    """
    dist = np.empty((len(xq), K_WIDE), dtype=np.float32)
    ids = np.empty((len(xq), K_WIDE), dtype=np.int64)
    for start in range(0, len(xq), batch):
        dist[start : start + batch], ids[start : start + batch] = flat.search(xq[start : start + batch], K_WIDE)
    return dist, ids


# --------------------------------------------------------------------------- measuring


@dataclass
class Timing:
    queries: int
    p50_ms: float
    p95_ms: float
    recall: float  # recall@10: the exact top-10 found among the first 10 returned
    load: float  # 1-minute load average when timed: the machine is shared
    recall_wide: float = math.nan  # with k=K_WIDE: the exact top-100 found among the 100 returned


def recall_at(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean fraction of the exact top-k (truth's width) found in the returned top-k."""
    hits = [len(np.intersect1d(f, t)) for f, t in zip(found, truth, strict=True)]
    return float(np.mean(hits)) / truth.shape[1]


def time_queries(index: faiss.Index, xq: np.ndarray, gt: np.ndarray, k: int = K, max_queries: int | None = None) -> Timing:
    """One query per call, like the bot. Slow settings are timed on fewer queries to bound the run time."""
    warm = min(10, len(xq))
    t = time.perf_counter()
    for i in range(warm):
        index.search(xq[i : i + 1], k)
    per_query = (time.perf_counter() - t) / max(1, warm)
    nq = len(xq) if per_query < SLOW_QUERY_S else min(len(xq), FEW_QUERIES)
    if max_queries is not None:
        nq = min(nq, max_queries)
    found = np.empty((nq, k), dtype=np.int64)
    seconds: list[float] = []
    for i in range(nq):
        q = xq[i : i + 1]
        t = time.perf_counter()
        _, found[i : i + 1] = index.search(q, k)
        seconds.append(time.perf_counter() - t)
    s = summary_ms(seconds)
    recall = recall_at(found[:, :K], gt[:nq, :K])
    wide = recall_at(found, gt[:nq, :k]) if k > K else math.nan
    return Timing(nq, s["p50"], s["p95"], recall, os.getloadavg()[0], wide)


# --------------------------------------------------------------------------- index types


class BuildTooSlow(RuntimeError):
    """An HNSW build that would exceed the time budget; carries the measured rate for the report."""

    def __init__(self, done: int, seconds: float, projected: float) -> None:
        super().__init__(f"{done} vectors in {seconds:.0f}s ({done / seconds:.0f}/s), projected {projected / 60:.0f} min")
        self.rate = done / seconds
        self.projected = projected


@dataclass
class Built:
    index: faiss.Index
    set_knob: Callable[[int], None]
    train_s: float = 0.0
    add_s: float = 0.0
    note: str = ""


@dataclass
class Candidate:
    """One index type with fixed build parameters; ``knob_values`` are swept at search time."""

    family: str
    params: str
    knob: str
    knob_values: list[int]
    build: Callable[[np.ndarray], Built]


def add_in_chunks(index: faiss.Index, xb: np.ndarray, label: str, budget_s: float | None = None) -> float:
    """Add with progress lines; with a budget, give up early when the projected time is far too long."""
    t = time.perf_counter()
    for start in range(0, len(xb), ADD_CHUNK):
        index.add(xb[start : start + ADD_CHUNK])
        done = min(len(xb), start + ADD_CHUNK)
        elapsed = time.perf_counter() - t
        if done == len(xb) or (done // ADD_CHUNK) % 4 == 0:
            log(f"  {label}: added {done:,}/{len(xb):,} ({done / elapsed:,.0f}/s)")
        if budget_s is not None and done < len(xb):
            # HNSW insertion slows down as the graph grows; 1.2 is a rough allowance for that
            projected = elapsed / done * len(xb) * 1.2
            if elapsed > budget_s or (done >= len(xb) // 10 and projected > budget_s):
                raise BuildTooSlow(done, elapsed, projected)
    return time.perf_counter() - t


def train_sample(xb: np.ndarray, size: int, seed: int) -> np.ndarray:
    if size >= len(xb):
        return xb
    rows = np.sort(np.random.default_rng([seed, 200]).choice(len(xb), size=size, replace=False))
    return xb[rows]


def flat_candidate() -> Candidate:
    def build(xb: np.ndarray) -> Built:
        index = faiss.IndexFlatIP(xb.shape[1])
        return Built(index, lambda _v: None, add_s=add_in_chunks(index, xb, "flat"))

    return Candidate("flat (IndexFlatIP)", "exact", "-", [0], build)


def hnsw_candidate(sq8: bool, m: int, ef_construction: int, budget_s: float, seed: int) -> Candidate:
    def build(xb: np.ndarray) -> Built:
        dim = xb.shape[1]
        index = faiss.IndexHNSWSQ(dim, QT_8BIT, m, IP) if sq8 else faiss.IndexHNSWFlat(dim, m, IP)
        index.hnsw.efConstruction = ef_construction
        t = time.perf_counter()
        if sq8:
            index.train(train_sample(xb, 200_000, seed))
        train_s = time.perf_counter() - t

        def set_ef(v: int) -> None:
            index.hnsw.efSearch = v

        return Built(index, set_ef, train_s, add_in_chunks(index, xb, name, budget_s))

    name = "HNSW-SQ8 (IndexHNSWSQ)" if sq8 else "HNSW-flat (IndexHNSWFlat)"
    return Candidate(name, f"M={m}, efC={ef_construction}", "efSearch", [16, 32, 64, 128, 256, 512, 1024, 2048], build)


class Coarse:
    """Coarse k-means centroids, trained once per data set and shared by the IVF variants (same nlist).

    Spherical k-means: centroids are re-normalised, so inner-product assignment equals
    nearest-centroid assignment for unit vectors. The training time is added to the
    build time of every variant that uses it, so build times stay honest.
    """

    def __init__(self, nlist: int, seed: int) -> None:
        self.nlist = nlist
        self.seed = seed
        self.centroids: np.ndarray | None = None
        self.train_s = 0.0

    def get(self, xb: np.ndarray) -> np.ndarray:
        if self.centroids is None:
            sample = train_sample(xb, min(len(xb), 40 * self.nlist), self.seed)
            log(f"  coarse k-means: nlist={self.nlist} on {len(sample):,} vectors")
            t = time.perf_counter()
            kmeans = faiss.Kmeans(xb.shape[1], self.nlist, niter=20, spherical=True, seed=self.seed, verbose=False)
            kmeans.train(sample)
            self.train_s = time.perf_counter() - t
            self.centroids = kmeans.centroids
            log(f"  coarse k-means done in {self.train_s:.0f}s")
        return self.centroids

    def quantizer(self, xb: np.ndarray) -> faiss.IndexFlatIP:
        q = faiss.IndexFlatIP(xb.shape[1])
        q.add(self.get(xb))
        return q


def nprobe_values(nlist: int) -> list[int]:
    return [v for v in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384) if v <= nlist]


def ivf_candidate(kind: str, coarse: Coarse, pq_m: int, k_factor: int, seed: int) -> Candidate:
    """kind: ``sq8`` (8-bit scalar codes), ``pq`` (product codes) or ``pq+sq8`` (PQ candidates re-ranked by SQ8 codes)."""

    def build(xb: np.ndarray) -> Built:
        dim = xb.shape[1]
        quantizer = coarse.quantizer(xb)
        t = time.perf_counter()
        if kind == "sq8":
            ivf = faiss.IndexIVFScalarQuantizer(quantizer, dim, coarse.nlist, QT_8BIT, IP)
        else:
            ivf = faiss.IndexIVFPQ(quantizer, dim, coarse.nlist, pq_m, 8, IP)
        index: faiss.Index = ivf
        if kind == "pq+sq8":
            index = faiss.IndexRefine(ivf, faiss.IndexScalarQuantizer(dim, QT_8BIT, IP))
            index.k_factor = k_factor
        index.train(train_sample(xb, 100_000, seed))  # the coarse quantizer is already trained: codes only
        train_s = time.perf_counter() - t + coarse.train_s

        def set_nprobe(v: int) -> None:
            ivf.nprobe = v

        return Built(index, set_nprobe, train_s, add_in_chunks(index, xb, name))

    name = {
        "sq8": "IVF-SQ8 (IndexIVFScalarQuantizer)",
        "pq": "IVF-PQ (IndexIVFPQ)",
        "pq+sq8": "IVF-PQ + SQ8 re-rank (IndexRefine)",
    }[kind]
    params = f"nlist={coarse.nlist}"
    if kind != "sq8":
        params += f", PQ{pq_m}x8"
    if kind == "pq+sq8":
        params += f", k_factor={k_factor}"
    return Candidate(name, params, "nprobe", nprobe_values(coarse.nlist), build)


# --------------------------------------------------------------------------- run


@dataclass
class Row:
    dataset: str
    family: str
    params: str
    build_s: float
    size_bytes: int
    rss_bytes: int
    knob: str
    timing: Timing | None
    note: str = ""

    def meets(self) -> bool:
        t = self.timing
        return t is not None and t.p50_ms <= TARGET_P50_MS and t.recall >= TARGET_RECALL and 0 < self.size_bytes <= TARGET_BYTES


@dataclass
class Chosen:
    """Per data set and type: the cheapest swept setting with recall >= target, re-timed at k=100."""

    row: Row
    wide: Timing | None = None


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    chosen: list[Chosen] = field(default_factory=list)
    data_notes: list[str] = field(default_factory=list)
    threshold: list[tuple[int, Timing, Timing]] = field(default_factory=list)  # size, 1 thread, 2 threads


def run_candidate(cand: Candidate, dataset: str, xb: np.ndarray, xq: np.ndarray, gt: np.ndarray, results: Results) -> None:
    """Build one index, sweep its knob, record rows; the index is freed before the next one is built."""
    log(f"[{dataset}] build {cand.family} {cand.params}")
    gc.collect()
    rss0 = rss()
    try:
        built = cand.build(xb)
    except BuildTooSlow as e:
        log(f"  gave up: {e}")
        results.rows.append(Row(dataset, cand.family, cand.params, 0.0, 0, 0, "-", None, f"build too slow: {e}"))
        gc.collect()
        return
    build_s = built.train_s + built.add_s
    gc.collect()
    grown = rss() - rss0
    size = serialized_bytes(built.index)
    log(f"  built in {build_s:.0f}s (train {built.train_s:.0f}s), {size / 1e6:,.0f} MB serialized, RSS +{grown / 1e6:,.0f} MB")
    swept: list[Row] = []
    for value in cand.knob_values:
        built.set_knob(value)
        timing = time_queries(built.index, xq, gt)
        knob = "-" if cand.knob == "-" else f"{cand.knob}={value}"
        row = Row(dataset, cand.family, cand.params, build_s, size, grown, knob, timing)
        swept.append(row)
        log(
            f"  {knob}: p50 {timing.p50_ms:.2f} ms, p95 {timing.p95_ms:.2f} ms, recall@10 {timing.recall:.3f} ({timing.queries} q)"
        )
        if timing.recall >= STOP_RECALL or timing.p50_ms > STOP_P50_MS:
            break
    results.rows.extend(swept)
    good = [r for r in swept if r.timing is not None and r.timing.recall >= TARGET_RECALL]
    if good:
        best = good[0]  # knob values ascend, so the first one reaching the target is the cheapest
        built.set_knob(cand.knob_values[swept.index(best)])
        wide = time_queries(built.index, xq, gt, k=K_WIDE, max_queries=FEW_QUERIES)
        log(
            f"  chosen {best.knob} at k={K_WIDE}: p50 {wide.p50_ms:.2f} ms, recall@10 {wide.recall:.3f}, recall@100 {wide.recall_wide:.3f}"
        )
        results.chosen.append(Chosen(best, wide))
    else:
        results.chosen.append(Chosen(Row(dataset, cand.family, cand.params, build_s, size, grown, "none reaches 0.95", None)))
    del built
    gc.collect()


def flat_threshold(xb: np.ndarray, xq: np.ndarray, gt_full: np.ndarray, sizes: list[int], threads: int, results: Results) -> None:
    """Flat single-query latency at growing prefixes of the data set, with 1 and 2 FAISS threads.

    Flat is the one type that splits a single query over threads, which helps on an idle
    machine and hurts badly when another process holds the other core, so both are
    shown. Recall is 1 by construction and not measured.
    """
    for n in sizes:
        index = faiss.IndexFlatIP(xb.shape[1])
        index.add(xb[:n])
        timings = []
        for t in (1, 2):
            faiss.omp_set_num_threads(t)
            timings.append(time_queries(index, xq, gt_full, max_queries=FEW_QUERIES))
        faiss.omp_set_num_threads(threads)
        one, two = timings
        log(f"  flat at {n:,}: p50 {one.p50_ms:.2f} ms (1 thread), {two.p50_ms:.2f} ms (2 threads)")
        results.threshold.append((n, one, two))
        del index
        gc.collect()


def describe_data(name: str, xb: np.ndarray, gt_dist: np.ndarray, seed: int) -> str:
    """Cosines that tell how much structure the data has: neighbours vs random pairs."""
    rng = np.random.default_rng([seed, 300])
    a = xb[rng.choice(len(xb), 1000, replace=False)]
    b = xb[rng.choice(len(xb), 1000, replace=False)]
    rand = a @ b.T
    return (
        f"{name}: mean cosine of query to its exact top-1 {gt_dist[:, 0].mean():.3f}, to its 10th {gt_dist[:, K - 1].mean():.3f}; "
        f"random pairs {rand.mean():.3f} ± {rand.std():.3f}"
    )


def make_candidate(kind: str, args: argparse.Namespace, coarse: Coarse) -> Candidate:
    budget = args.hnsw_budget_min * 60
    if kind == "flat":
        return flat_candidate()
    if kind in ("hnsw", "hnsw-sq8"):
        return hnsw_candidate(kind == "hnsw-sq8", args.hnsw_m, args.ef_construction, budget, args.seed)
    return ivf_candidate(
        {"ivf-sq8": "sq8", "ivf-pq": "pq", "ivf-pq-sq8": "pq+sq8"}[kind], coarse, args.pq_m, args.k_factor, args.seed
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="database vectors (default 1,000,000)")
    parser.add_argument("--dim", type=int, default=DIM)
    parser.add_argument("--queries", type=int, default=1000, help="query vectors (slow settings use the first 200)")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--datasets", nargs="+", default=["clustered", "uniform"], choices=("uniform", "clustered"))
    types = ("flat", "hnsw", "hnsw-sq8", "ivf-sq8", "ivf-pq", "ivf-pq-sq8")
    parser.add_argument("--types", nargs="+", default=list(types), choices=types)
    parser.add_argument("--centres", type=int, default=5000, help="clustered: number of topic centres")
    parser.add_argument("--noise", type=float, default=1.0, help="clustered: expected noise norm (centres have norm 1)")
    parser.add_argument("--decay", type=float, default=1.0, help="clustered: variance of the i-th direction ~ i^-decay")
    parser.add_argument("--hnsw-m", type=int, default=32)
    parser.add_argument("--ef-construction", type=int, default=80)
    parser.add_argument("--hnsw-budget-min", type=float, default=25.0, help="give up on an HNSW build projected past this")
    parser.add_argument("--nlist", type=int, default=0, help="IVF lists (default: power of two near 4*sqrt(n))")
    parser.add_argument("--pq-m", type=int, default=64, help="IVF-PQ sub-quantizers (bytes per vector)")
    parser.add_argument("--k-factor", type=int, default=16, help="IVF-PQ+SQ8: candidates re-ranked = k_factor * k")
    parser.add_argument("--threshold-sizes", default="20000,50000,100000,200000,500000,1000000")
    parser.add_argument("--threshold-dataset", default="clustered", choices=("uniform", "clustered", "none"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-write", action="store_true", help="print only; do not append to docs/benchmarks.md")
    args = parser.parse_args()

    faiss.omp_set_num_threads(args.threads)
    load_start = os.getloadavg()
    nlist = args.nlist or 2 ** round(math.log2(4 * math.sqrt(args.n)))
    sizes = [s for s in (int(v) for v in args.threshold_sizes.split(",") if v) if s <= args.n]
    results = Results()
    log(f"n={args.n:,} dim={args.dim} queries={args.queries} nlist={nlist} threads={args.threads} load {load_start}")

    for name in args.datasets:
        model = ClusterModel.make(args.seed, args.dim, args.centres, args.noise, args.decay) if name == "clustered" else None
        t = time.perf_counter()
        xb = generate(model, args.n, args.dim, args.seed, stream=0)
        xq = generate(model, args.queries, args.dim, args.seed, stream=1)
        log(f"[{name}] generated {args.n:,} + {args.queries} vectors in {time.perf_counter() - t:.0f}s")

        flat = faiss.IndexFlatIP(args.dim)
        flat.add(xb)
        t = time.perf_counter()
        gt_dist, gt = ground_truth(flat, xq)
        log(f"[{name}] ground truth in {time.perf_counter() - t:.0f}s")
        results.data_notes.append(describe_data(name, xb, gt_dist, args.seed))
        del flat
        gc.collect()

        coarse = Coarse(nlist, args.seed)
        for kind in types:
            if kind in args.types:
                run_candidate(make_candidate(kind, args, coarse), name, xb, xq, gt, results)

        if name == args.threshold_dataset and sizes:
            log(f"[{name}] flat latency at sizes {sizes}")
            flat_threshold(xb, xq, gt, sizes, args.threads, results)
        del xb, xq
        gc.collect()

    load_end = os.getloadavg()
    total_s = time.perf_counter() - T0
    body = report(args, nlist, results, load_start, load_end, total_s)
    record(f"Scale: FAISS index types at {args.n:,} vectors", body, write=not args.no_write)


def fmt_mb(b: int) -> str:
    return f"{b / 1e6:,.0f}" if b else "-"


def report(
    args: argparse.Namespace,
    nlist: int,
    results: Results,
    load_start: tuple[float, float, float],
    load_end: tuple[float, float, float],
    total_s: float,
) -> str:
    """The Markdown section: setup, full sweep table, cheapest setting per type, flat threshold."""
    lines = [
        f"{args.n:,} synthetic unit vectors of dimension {args.dim}, inner product; {args.queries} queries drawn from the same "
        f"distribution (fresh points, not database copies); ground truth = exact IndexFlatIP top-{K}. "
        f"Latency = one query per `search` call, k={K}, {args.threads} FAISS threads (only flat splits one query over "
        f"threads; HNSW and IVF use one); load = 1-minute load average when the row was timed; rows marked with fewer queries were "
        f"timed on the first {FEW_QUERIES} because each query took > {SLOW_QUERY_S * 1000:.0f} ms. "
        f"Size = `faiss.write_index` bytes (MB = 10^6 B); RSS + = process RSS growth during the build. "
        f"Sweeps stop at recall ≥ {STOP_RECALL} or p50 > {STOP_P50_MS:.0f} ms. "
        f"Target: p50 ≤ {TARGET_P50_MS:.0f} ms, recall@10 ≥ {TARGET_RECALL}, size ≤ {TARGET_BYTES / 1e9:.1f} GB.",
        "",
        f"- uniform = i.i.d. Gaussian, normalised. clustered = {args.centres} topic centres (log-normal sizes) + noise of "
        f"expected norm {args.noise}, centre and noise spectra with variance ~ i^-{args.decay} in random bases, normalised; "
        f"seed {args.seed}.",
        *(f"- {note}" for note in results.data_notes),
        "- for comparison, the project's real index (7,442 chunks of ARCD + SaudiNewsNet, use-multilingual-v3): "
        "top-1 0.695 (other chunks), 10th 0.516, random pairs 0.126 ± 0.098 (measured once by hand while choosing the proxy).",
        f"- load average at start {', '.join(f'{v:.2f}' for v in load_start)}; at end {', '.join(f'{v:.2f}' for v in load_end)} "
        f"(shared machine); total runtime {total_s / 60:.1f} min.",
        "",
    ]
    headers = ["data", "index", "build params", "build s", "size MB", "RSS + MB", "search", "queries", "p50 ms", "p95 ms"]
    headers += ["recall@10", "load", "meets target"]
    rows: list[list[object]] = []
    for r in results.rows:
        t = r.timing
        if t is None:
            rows.append([r.dataset, r.family, r.params, "-", "-", "-", "-", "-", "-", "-", "-", "-", r.note])
            continue
        sized = [f"{r.build_s:.0f}", fmt_mb(r.size_bytes), fmt_mb(r.rss_bytes)]
        timed = [f"{t.p50_ms:.2f}", f"{t.p95_ms:.2f}", f"{t.recall:.3f}", f"{t.load:.2f}", "yes" if r.meets() else "no"]
        rows.append([r.dataset, r.family, r.params, *sized, r.knob, t.queries, *timed])
    lines += ["All settings:", "", table(headers, rows), ""]

    headers = ["data", "index", "build params", "cheapest setting with recall@10 ≥ 0.95", "p50 ms", "p95 ms", "recall@10"]
    headers += ["size MB", "build s", f"p50 ms at k={K_WIDE}", f"recall@{K_WIDE} at k={K_WIDE}", "meets target"]
    rows = []
    for c in results.chosen:
        r, t, w = c.row, c.row.timing, c.wide
        if t is None:
            rows.append(
                [r.dataset, r.family, r.params, r.knob, "-", "-", "-", fmt_mb(r.size_bytes), f"{r.build_s:.0f}", "-", "-", "no"]
            )
            continue
        timed = [f"{t.p50_ms:.2f}", f"{t.p95_ms:.2f}", f"{t.recall:.3f}"]
        rest = [fmt_mb(r.size_bytes), f"{r.build_s:.0f}", f"{w.p50_ms:.2f}" if w else "-", f"{w.recall_wide:.3f}" if w else "-"]
        rest.append("yes" if r.meets() else "no")
        rows.append([r.dataset, r.family, r.params, r.knob, *timed, *rest])
    lines += ["Cheapest setting per type:", "", table(headers, rows), ""]
    for name in args.datasets:
        ok = [r for r in results.rows if r.dataset == name and r.meets()]
        if ok:
            best = min(ok, key=lambda r: r.timing.p50_ms if r.timing else math.inf)
            lines.append(f"- {name}: fastest setting meeting the target: {best.family} {best.params}, {best.knob}.")
        else:
            lines.append(f"- {name}: no measured setting meets the whole target.")
    lines.append("")

    if results.threshold:
        rows = [
            [f"{n:,}", f"{a.p50_ms:.2f}", f"{a.p95_ms:.2f}", f"{b.p50_ms:.2f}", f"{b.p95_ms:.2f}", a.queries, f"{b.load:.2f}"]
            for n, a, b in results.threshold
        ]
        lines += [f"Exact flat latency by size ({args.threshold_dataset}, k={K}, one query at a time):", ""]
        headers = ["vectors", "p50 ms, 1 thread", "p95 ms, 1 thread", "p50 ms, 2 threads", "p95 ms, 2 threads", "queries", "load"]
        lines += [table(headers, rows), ""]
        for label, pick in (("1 thread", 0), ("2 threads", 1)):
            points = [(n, (one, two)[pick].p50_ms) for n, one, two in results.threshold]
            under = [n for n, ms in points if ms <= TARGET_P50_MS]
            if not under:
                lines.append(f"- {label}: flat p50 exceeds {TARGET_P50_MS:.0f} ms at every measured size.")
                continue
            text = f"- {label}: largest measured size with flat p50 ≤ {TARGET_P50_MS:.0f} ms: {max(under):,} vectors"
            over = [(n, ms) for n, ms in points if n > max(under)]
            if over:
                n0, ms0 = next((n, ms) for n, ms in points if n == max(under))
                n1, ms1 = min(over)
                est = n0 + (TARGET_P50_MS - ms0) * (n1 - n0) / (ms1 - ms0)
                text += f" (linear interpolation to {n1:,}: about {est:,.0f})"
            lines.append(text + ".")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
