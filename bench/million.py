"""The whole index at scale: corpora of 100,000, 300,000 and 1,000,000 passages built, updated, searched and served.

The corpus is made from the real articles of ../shared/data (2,000 SaudiNewsNet articles and ARCD's
155): each is kept once as it is (so the dev questions still have their answers), and the rest of
the corpus is made of variants of them, written to JSONL files of 500 articles.

How a variant differs from its source, so that neither the loader's duplicate check (identical
bodies) nor the query-time wire-copy collapse (passage cosine >= 0.8 and word 3-gram Jaccard >= 0.5)
treats it as a copy: it has a fresh id and link, a date shifted by whole days, and a body in which
each sentence of the source is kept with probability 0.55 (its digits redrawn with probability 0.5)
and otherwise replaced by a random sentence of another article, and two more sentences of other
articles are put in (so that a one-sentence article is not its own copy); sentences are regrouped
into paragraphs of two to four.

Vectors are synthetic, because encoding a million passages takes hours here: chunk j of a variant
gets the real vector of its source's chunk (j mod n) plus Gaussian noise, scaled so that its cosine
with that vector is the median cosine between a real passage and its nearest real neighbour
(measured on the base index each run). They are written into the index directory's embeddings cache
under the exact keys the build computes, so the build finds every vector cached and encodes nothing;
chunking, analysis, BM25, SQLite and FAISS all run as in any build.

At each size, in new processes as an admin would run them: the build (wall, peak RSS), disk use,
cold ``index search``, three updates that add one article and three that remove one (each a new
part beside the base), the bot from start to first answer then 1,000 more questions (RSS, PSS),
and in this process query latency (1,000 ARCD questions, whole search with the answer layer) and
the dev questions as a quality check.

    python -m bench.million [--sizes 100000 300000 1000000] [--work DIR] [--keep] [--no-write]
    python -m bench.million --from-log run1.log run2.log     # the report (and docs/benchmarks/scale.png) again
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import shutil
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.coldstart import bot_first_answer, timed
from bench.common import (
    ARCD_ARTICLES,
    ARCD_QUESTIONS,
    ROOT,
    SNN_ARTICLES,
    build_index_cli,
    need,
    read_jsonl,
    record,
    summary_ms,
    table,
)
from index.corpus.articles import load_articles
from index.layout import IndexLayout
from index.search.searcher import Searcher
from index.storage.cache import BuildCache, text_key
from index.storage.loading import open_index
from index.storage.store import current_build_id
from index.text.chunking import chunk_article, embedding_input
from index.text.sentences import sentences
from index.tools.evaluate import evaluate, load_questions

NEWS_QUESTIONS = ROOT / "bench" / "data" / "arabic_news.jsonl"
PER_FILE = 500
KEEP_SENTENCE = 0.55
QUESTION = "من هو أمين حركة النجباء في العراق؟"
DIGITS = re.compile(r"\d+")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


@dataclass
class Source:
    """The real articles and their real passage vectors, from an index built (and encoded) over them."""

    records: list[dict]
    rows_of: dict[str, np.ndarray]  # article id -> its chunk rows, in order
    vectors: np.ndarray
    noise: float  # standard deviation per dimension of the noise added to a variant's vectors
    neighbour_cosine: float
    pool: list[str] = field(default_factory=list)  # every sentence of every article

    @property
    def passages_per_article(self) -> float:
        return len(self.vectors) / len(self.records)


def load_source(work: Path) -> Source:
    """Build (once) the index of the real articles and read its vectors; measure the spread between neighbours."""
    import faiss

    base = work / "base"
    if current_build_id(base) is None:
        log("encoding the real articles (once)")
        build_index_cli(base, [need(SNN_ARTICLES), need(ARCD_ARTICLES)])
    stored = open_index(base)
    flat = stored.flat if stored.flat is not None else stored.faiss_index.reconstruct_n(0, stored.num_chunks)
    vectors = np.ascontiguousarray(flat, dtype=np.float32)
    ids = stored.article_ids
    arts = stored.chunk_article
    rows_of = {ids[a]: np.flatnonzero(arts == a) for a in range(len(ids))}
    records = [r for path in (SNN_ARTICLES, ARCD_ARTICLES) for r in read_jsonl(path) if r["id"] in rows_of]
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    sample = np.random.default_rng(0).choice(len(vectors), size=min(3000, len(vectors)), replace=False)
    sims, _ = flat.search(vectors[sample], 6)
    nearest = [float(next((s for s in row[1:] if s < 0.98), row[-1])) for row in sims]  # skip the passage itself and copies
    cosine = statistics.median(nearest)
    dim = vectors.shape[1]
    noise = math.sqrt((1.0 / cosine**2 - 1.0) / dim)  # E|v + n|^2 = 1 + dim * s^2, so cos(v, v + n) ~ 1 / sqrt(that)
    pool = [s for r in records for s in sentences(r["text"]) if len(s.split()) >= 4]
    return Source(records, rows_of, vectors, noise, cosine, pool)


def variant(record: dict, copy: int, rng: random.Random, pool: list[str]) -> dict:
    """Copy ``copy`` of an article: a fresh id, link and date, and a body mixed with other articles' sentences."""
    mixed = []
    for sentence in sentences(record["text"]):
        if rng.random() < KEEP_SENTENCE:
            if rng.random() < 0.5:
                sentence = DIGITS.sub(lambda m: str(rng.randrange(10 ** len(m.group()))), sentence)
            mixed.append(sentence)
        else:
            mixed.append(rng.choice(pool))
    # two more sentences of other articles: a short article (one sentence, kept) would otherwise be its own
    # copy, and the loader would index it once
    mixed.insert(rng.randrange(len(mixed) + 1), rng.choice(pool))
    mixed.append(rng.choice(pool))
    paragraphs, i = [], 0
    while i < len(mixed):
        step = rng.randint(2, 4)
        paragraphs.append(" ".join(mixed[i : i + step]))
        i += step
    date = record.get("date") or "2015-07-21"
    day = np.datetime64(date[:10]) - np.timedelta64(copy % 3000, "D")
    return {
        **record,
        "id": f"v{copy}-{record['id']}",
        "url": f"https://variants.example/{copy}/{record['id']}",
        "date": f"{day}{date[10:]}",
        "text": "\n".join(paragraphs),
    }


def write_corpus(source: Source, passages: int, folder: Path, seed: int = 0) -> int:
    """Write enough articles for about ``passages`` passages (counted by text length: the real articles' characters
    per passage); returns how many articles."""
    folder.mkdir(parents=True)
    rng = random.Random(seed)
    per_passage = sum(len(r["text"]) for r in source.records) / len(source.vectors)
    wanted = passages * per_passage
    out = list(source.records[: math.ceil(passages / source.passages_per_article)])
    written = sum(len(r["text"]) for r in out)
    copy = 0
    while written < wanted:
        copy += 1
        order = list(range(len(source.records)))
        rng.shuffle(order)
        for i in order:
            out.append(variant(source.records[i], copy, rng, source.pool))
            written += len(out[-1]["text"])
            if written >= wanted:
                break
    for n in range(0, len(out), PER_FILE):
        with open(folder / f"part-{n // PER_FILE:05d}.jsonl", "w", encoding="utf-8") as f:
            f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in out[n : n + PER_FILE])
    return len(out)


def fill_cache(source: Source, base: Path, folder: Path, index: Path) -> int:
    """Put a synthetic vector for every passage the build will cut into ``index``'s embeddings cache."""
    m = open_index(base).manifest
    loaded = load_articles([folder])
    rng = np.random.default_rng(1)
    dim = source.vectors.shape[1]
    total = 0
    with BuildCache(IndexLayout(index).embeddings_cache) as cache:
        batch: dict[str, np.ndarray] = {}
        for article in loaded.articles:
            origin = article.id.split("-", 1)[1] if article.id.startswith("v") and "-" in article.id else article.id
            rows = source.rows_of[origin]
            title = article.title if m.index_titles else ""
            for j, chunk in enumerate(chunk_article(article.id, article.text, m.chunking)):
                vector = source.vectors[rows[j % len(rows)]]
                if origin != article.id:
                    vector = vector + rng.normal(0.0, source.noise, dim).astype(np.float32)
                    vector /= np.linalg.norm(vector)
                key = text_key(embedding_input(title, chunk.text, m.embed_max_words), m.passage_prompt)
                batch[key] = vector
                total += 1
            if len(batch) >= 20000:
                cache.put_many(m.model, batch)
                batch = {}
        cache.put_many(m.model, batch)
    return total


def disk_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


@dataclass
class Size:
    """Every figure measured at one corpus size."""

    passages: int = 0
    articles: int = 0
    faiss: str = ""
    build_s: float = 0.0
    build_rss: float = 0.0
    disk_build: float = 0.0
    disk_cache: float = 0.0
    search_s: float = 0.0
    search_rss: float = 0.0
    add_s: list[float] = field(default_factory=list)
    add_rss: float = 0.0
    remove_s: list[float] = field(default_factory=list)
    p50: float = 0.0
    p99: float = 0.0
    merge_s: float = 0.0
    merge_rss: float = 0.0
    p50_parts: float = 0.0
    p99_parts: float = 0.0
    bot_first: float = 0.0
    bot_peak: float = 0.0
    bot_rss: float = 0.0
    bot_pss: float = 0.0
    quality: dict[str, dict] = field(default_factory=dict)


def query_latency(index: Path, questions: list[str]) -> tuple[float, float]:
    """p50 and p99 ms of the whole search (answer layer included), one question at a time, in this process."""
    searcher = Searcher.open(index)
    searcher.search(questions[0])
    times = []
    for q in questions:
        t = time.perf_counter()
        searcher.search(q, k=5)
        times.append(time.perf_counter() - t)
    s = summary_ms(times)
    return s["p50"], s["p99"]


def quality(index: Path) -> dict[str, dict]:
    """The dev questions with the shipped settings: ranking and the reply bands (no refusals turned off)."""
    searcher = Searcher.open(index)
    out = {}
    for name, path in (("ARCD", ARCD_QUESTIONS), ("Arabic news", NEWS_QUESTIONS)):
        questions = load_questions(need(path))
        out[name] = evaluate(searcher, questions, k=5)
    return out


def measure(source: Source, work: Path, passages: int, questions: list[str], bot_questions: int) -> Size:
    size = Size()
    corpus, index = work / f"articles-{passages}", work / f"index-{passages}"
    for path in (corpus, index):
        shutil.rmtree(path, ignore_errors=True)
    size.articles = write_corpus(source, passages, corpus)
    log(f"{passages}: {size.articles} articles written; filling the embeddings cache")
    size.passages = fill_cache(source, work / "base", corpus, index)
    log(f"{passages}: {size.passages} vectors cached; building")
    py = sys.executable
    size.build_s, size.build_rss = timed(
        [py, "-m", "index", "build", "--quiet", "--index", str(index), "--articles", str(corpus)]
    )
    manifest = open_index(index).manifest
    size.faiss = manifest.faiss_index
    layout = IndexLayout(index)
    size.disk_build = disk_mb(layout.build(manifest.build_id).root)
    size.disk_cache = disk_mb(layout.cache_dir)
    log(f"{passages}: built in {size.build_s:.0f} s; cold searches")
    search = [py, "-m", "index", "search", "--index", str(index), QUESTION]
    timed(search)  # the files in the page cache, as on a running server
    runs = [timed(search) for _ in range(3)]
    size.search_s = statistics.median(r[0] for r in runs)
    size.search_rss = statistics.median(r[1] for r in runs)
    log(f"{passages}: query latency")
    size.p50, size.p99 = query_latency(index, questions)
    log(f"{passages}: quality")
    size.quality = quality(index)
    log(f"{passages}: the bot")
    first, _, steady, pss, peak = asyncio.run(bot_first_answer(index, questions, more=bot_questions))
    size.bot_first, size.bot_rss, size.bot_pss, size.bot_peak = first, steady, pss, peak
    log(f"{passages}: updates")
    update = [py, "-m", "index", "update", "--quiet", "--index", str(index), "--articles", str(corpus)]
    rng = random.Random(7)
    adds = []
    for n in range(3):
        extra = variant(source.records[rng.randrange(len(source.records))], 10_000 + n, rng, source.pool)
        (corpus / f"new-{n}.jsonl").write_text(json.dumps(extra, ensure_ascii=False) + "\n", encoding="utf-8")
        adds.append(timed(update))
    size.add_s = [a[0] for a in adds]
    size.add_rss = statistics.median(a[1] for a in adds)
    for n in range(3):
        path = corpus / f"part-{n:05d}.jsonl"
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        path.write_text("".join(lines[1:]), encoding="utf-8")
        size.remove_s.append(timed(update)[0])
    log(f"{passages}: query latency over the base and its parts")
    size.p50_parts, size.p99_parts = query_latency(index, questions)
    log(f"{passages}: a merge of the parts into a new base (a full build over the same files, everything cached)")
    size.merge_s, size.merge_rss = timed(
        [py, "-m", "index", "build", "--quiet", "--index", str(index), "--articles", str(corpus)]
    )
    return size


def report(sizes: list[Size], source: Source, questions: int, bot_questions: int) -> tuple[str, dict[str, str]]:
    rows = [
        [
            f"{s.passages:,}",
            f"{s.articles:,}",
            s.faiss,
            f"{s.build_s / 60:.1f}",
            f"{s.build_rss / 1024:.1f}",
            f"{s.disk_build / 1024:.2f}",
            f"{s.disk_cache / 1024:.2f}",
        ]
        for s in sizes
    ]
    served = [
        [
            f"{s.passages:,}",
            f"{s.p50:.1f} / {s.p99:.1f}",
            f"{s.p50_parts:.1f} / {s.p99_parts:.1f}",
            f"{s.search_s:.2f} ({s.search_rss:.0f} MB)",
            f"{s.bot_first:.2f}",
            f"{s.bot_peak / 1024:.2f}",
            f"{s.bot_rss / 1024:.2f} / {s.bot_pss / 1024:.2f}",
        ]
        for s in sizes
    ]
    updates = [
        [
            f"{s.passages:,}",
            " · ".join(f"{t:.2f}" for t in s.add_s),
            f"{statistics.median(s.add_s):.2f}",
            f"{s.add_rss:.0f}",
            " · ".join(f"{t:.2f}" for t in s.remove_s),
            f"{statistics.median(s.remove_s):.2f}",
            f"{s.merge_s:.1f} ({s.merge_rss / 1024:.1f} GB)",
        ]
        for s in sizes
    ]
    checks = []
    for s in sizes:
        for name, q in s.quality.items():
            checks.append(
                [
                    f"{s.passages:,}",
                    name,
                    q["questions"],
                    f"{q['article_hit@1']:.3f}",
                    f"{q['answer_hit@5']:.3f}",
                    f"{q['no_answer'] / q['questions']:.1%}",
                ]
            )
    body = (
        f"Corpus: the {len(source.records):,} real articles once each, and variants of them (see the script's "
        f"docstring); synthetic vectors with cosine {source.neighbour_cosine:.3f} to their source passage (the median "
        f"cosine between a real passage and its nearest neighbour). Default settings (FAISS `auto`).\n\n"
        "**Build and disk** (build: `index build`, every vector in the cache, nothing encoded):\n\n"
        + table(["passages", "articles", "FAISS", "build min", "peak RSS GB", "build dir GB", "cache GB"], rows)
        + f"\n\n**Serving**: query p50 / p99 ms over {questions:,} ARCD questions in one process (whole search, "
        "answer layer included), then over the same questions after the six updates below (base + 6 parts); cold "
        f"`index search` (median of 3, page cache warm); the bot from process start to its first answer, its peak RSS, "
        f"and RSS / PSS after {bot_questions:,} more questions.\n\n"
        + table(
            [
                "passages",
                "query p50 / p99 ms",
                "with 6 parts",
                "cold search s",
                "bot first answer s",
                "bot peak GB",
                "bot steady RSS / PSS GB",
            ],
            served,
        )
        + "\n\n**Updates** (`index update`, a new process each, model load and encoding of the new article "
        "included): three that add one article, then three that remove one (each from a file of 500); then the "
        "merge that a ninth part or parts past a quarter of the base set off: a full build over the same files, its "
        "vectors, chunk spans and analyses in the cache.\n\n"
        + table(["passages", "add one, s", "median", "peak RSS MB", "remove one, s", "median", "merge s (peak RSS)"], updates)
        + "\n\n**Quality check** with the shipped settings (k=5; the variants compete with the real articles, so "
        "scores fall with size):\n\n"
        + table(["passages", "questions", "n", "article-hit@1", "answer-hit@5", "nothing found"], checks)
        + "\n\n![The whole index against its size](scale.png)"
    )
    figures: dict[str, str] = {}
    largest = max(sizes, key=lambda s: s.passages)
    smallest = min(sizes, key=lambda s: s.passages)
    if largest.passages >= 900_000:
        add = statistics.median(largest.add_s)
        figures = {
            "1M passages: query p50 / p99, steady bot RSS": (
                f"{largest.p50:.1f} / {largest.p99:.1f} ms, {largest.bot_rss / 1024:.2f} GB"
            ),
            "1M passages: add one article (÷ at 100k), cold search, build": (
                f"{add:.1f} s ({add / statistics.median(smallest.add_s):.2f}×), {largest.search_s:.2f} s, "
                f"{largest.build_s / 60:.0f} min"
            ),
        }
    return body, figures


CHART = ROOT / "docs" / "benchmarks" / "scale.png"


def chart(sizes: list[Size], target: Path = CHART) -> None:
    """Four panels against the number of passages (log scale): build, query, memory, updates."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    x = [s.passages for s in sizes]
    figure = Figure(figsize=(11, 7), dpi=100)
    panels = figure.subplots(2, 2)
    lines = [
        (
            panels[0][0],
            "build, minutes (1 h target)",
            [("build", [s.build_s / 60 for s in sizes]), ("merge (a full build, all cached)", [s.merge_s / 60 for s in sizes])],
        ),
        (
            panels[0][1],
            "query, ms (p50 ≤ 25, p99 ≤ 100 at 1M)",
            [("p50", [s.p50 for s in sizes]), ("p99", [s.p99 for s in sizes]), ("p50, 6 parts", [s.p50_parts for s in sizes])],
        ),
        (
            panels[1][0],
            "memory, GB (bot ≤ 3 at 1M)",
            [
                ("build peak", [s.build_rss / 1024 for s in sizes]),
                ("bot steady RSS", [s.bot_rss / 1024 for s in sizes]),
                ("bot PSS", [s.bot_pss / 1024 for s in sizes]),
            ],
        ),
        (
            panels[1][1],
            "seconds (add ≤ 10 at 1M)",
            [
                ("add one article", [statistics.median(s.add_s) for s in sizes]),
                ("remove one", [statistics.median(s.remove_s) for s in sizes]),
                ("cold search", [s.search_s for s in sizes]),
                ("bot first answer", [s.bot_first for s in sizes]),
            ],
        ),
    ]
    for ax, title, series in lines:
        for label, ys in series:
            ax.plot(x, ys, marker="o", label=label)
        ax.set_xscale("log")
        ax.set_title(title, fontsize="medium")
        ax.set_xlabel("passages")
        ax.legend(fontsize="small")
        ax.grid(alpha=0.3)
    figure.tight_layout()
    target.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(target, format="png")


def from_log(paths: list[Path]) -> list[Size]:
    """The sizes measured by earlier runs, from the JSON lines they printed (the last of each size wins)."""
    found: dict[int, Size] = {}
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("{") and '"passages"' in line:
                size = Size(**json.loads(line))
                found[size.passages] = size
    return [found[n] for n in sorted(found)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "million", help="where corpora and indexes go")
    parser.add_argument("--questions", type=int, default=1000, help="ARCD questions timed in process")
    parser.add_argument("--bot-questions", type=int, default=1000, help="questions the bot answers before its RSS is read")
    parser.add_argument("--keep", action="store_true", help="keep each size's corpus and index")
    parser.add_argument("--from-log", type=Path, nargs="+", metavar="LOG", help="report the sizes earlier runs printed")
    parser.add_argument("--note", default="", help="a sentence put under the tables (e.g. where the sizes were measured)")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    source = load_source(args.work)
    if args.from_log:
        sizes = from_log(args.from_log)
        body, figures = report(sizes, source, args.questions, args.bot_questions)
        body += f"\n\n{args.note}" if args.note else ""
        if not args.no_write:
            chart(sizes)
        record("The whole index at scale", body, write=not args.no_write, figures=figures or None)
        return
    log(
        f"{len(source.records)} real articles, {len(source.vectors)} passages; neighbour cosine "
        f"{source.neighbour_cosine:.3f} -> noise {source.noise:.4f}"
    )
    questions = [q["question"] for q in load_questions(need(ARCD_QUESTIONS))][: args.questions]
    sizes = []
    for passages in sorted(args.sizes):
        sizes.append(measure(source, args.work, passages, questions, args.bot_questions))
        print(json.dumps(sizes[-1].__dict__, ensure_ascii=False, default=str), flush=True)
        if not args.keep:
            for name in (f"articles-{passages}", f"index-{passages}"):
                shutil.rmtree(args.work / name, ignore_errors=True)
    body, figures = report(sizes, source, len(questions), args.bot_questions)
    if not args.no_write:
        chart(sizes)
    record("The whole index at scale", body, write=not args.no_write, figures=figures or None)


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
