"""Train the answer layer's models and choose the reply thresholds, out of fold on the dev sets.

    python -m bench.train_answers [--folds 5] [--no-external] [--no-write] [--no-save]

1. Every question of the dev sets and of the external training sets (bench/answer_data.py,
   bench/external.py) goes through retrieval and grouping; every sentence of the top hits'
   passages gets its features and a label (it holds a gold answer, in a relevant article).
2. Folds by gold article (an out-of-corpus twin shares its question's fold; unanswerable
   questions spread by id). External questions are in no fold: every fold trains on them,
   none is measured on them. Every figure below is out of fold, on dev questions only.
3. Twice, without and with the external data ("variants"):
   a. the answer-sentence model: a hand-weighted baseline, logistic regression, LightGBM and
      LightGBM ranking; the simplest within half a point of the best ARCD answer line ships;
   b. for questions in another script (English about Arabic news), how much the sentences'
      similarity to the question counts, chosen inside the folds too;
   c. the learned head over the question's and each hit's passage vectors (index/answer/head.py);
   d. answerability over every hit (with the head's score as a feature), logistic and LightGBM;
   e. the coverage–precision curve of the sure band: at each threshold, the share of answerable
      ARCD questions answered as sure, the share of those whose 💡 line holds the answer, and
      the share of out-of-corpus questions answered as sure.
4. The operating point, on dev: "nothing found" below the threshold refusing at most
   ``--max-refused`` of answerable ARCD; sure from the one giving at most ``--max-sure-wrong``
   of out-of-corpus questions a sure answer. English (another script) gets its own pair.
5. The variant with more answerable ARCD questions sure and right at that point ships, refitted
   on all its data, as JSON in index/models/ with the thresholds and these figures.
"""

from __future__ import annotations

import argparse
import os
import time
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import numpy as np

from bench.answer_data import (
    DEV,
    EXTERNAL_TRAINING,
    Run,
    answerability_rows,
    apply_sentence_scores,
    collect,
    open_searchers,
    sets_for,
)
from bench.common import ROOT, command_line, git_revision, record, table
from bench.learners import (
    ALWAYS_TRAIN,
    LEARNERS,
    SENTENCE_LEARNERS,
    assign_folds,
    calibrated,
    fit_logistic,
    out_of_fold,
    platt,
    roc_auc,
)
from index.answer.answerability import ANSWERABILITY_FEATURES, rule_factors
from index.answer.head import head_features
from index.answer.learned import LearnedModel, sigmoid
from index.answer.matching import topic_weights
from index.answer.selector import CROSS_LANGUAGE_DENSE_WEIGHT, SENTENCE_FEATURES, dense_adjusted
from index.search.rerank import sentence_scores
from index.tools.evaluate import contains_answer

MODELS_DIR = ROOT / "index" / "models"
# Two kinds of Arabic dev data: ARCD (Wikipedia questions; out of corpus over news) and news questions
# about SaudiNewsNet (out of corpus over the news without their article and its copies).
KINDS = {
    "ARCD": (("arcd",), ("arcd-out-of-corpus", "unanswerable-ar", "unanswerable-ar@snn")),
    "news": (("arabic-news",), ("arabic-news-out-of-corpus",)),
}
ANSWERABLE_AR = tuple(n for answerable, _ in KINDS.values() for n in answerable)
OUT_OF_CORPUS_AR = tuple(n for _, negatives in KINDS.values() for n in negatives)
ANSWERABLE_EN = ("english", "english-tuning")
OUT_OF_CORPUS_EN = ("unanswerable-en",)
# Weights tried for the sentences' similarity to a question in another script (index.answer.selector.dense_adjusted).
DENSE_WEIGHTS = (0.0, 4.0, 8.0, 16.0, 32.0, 64.0)
CURVE = (0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)


# ------------------------------------------------------------------ measures


def answer_line(run: Run, hits) -> bool:
    """The top hit is relevant and its answer sentence holds a gold answer."""
    if not hits or not hits[0].passage.highlights:
        return False
    s, e = hits[0].passage.highlights[0]
    return run.relevant(hits[0]) and contains_answer(hits[0].passage.text[s:e], run.question["answers"])


def hand_scores(run: Run) -> np.ndarray:
    """The hand-weighted baseline: the re-ranker's lexical sentence score (title words weighing less)."""
    out = []
    for hit in run.hits:
        _, in_title = run.matcher.titles([hit.article_idx])
        weight, total = topic_weights(run.matcher, in_title[0])
        matches = run.matcher.match([passage.row for passage in (hit.passage, *hit.more)])
        out.extend((sentence_scores(run.matcher, matches, weight, float(total)) - 10.0 * (hit.rank - 1)).tolist())
    return np.asarray(out)


def selector_figures(runs: list[Run], scores: list[np.ndarray], depth: int) -> dict[str, float]:
    lines = arts = 0
    for run, p in zip(runs, scores, strict=True):
        hits = apply_sentence_scores(run, p, depth)
        lines += answer_line(run, hits)
        arts += bool(hits) and run.relevant(hits[0])
    n = len(runs) or 1
    return {"answer_line": lines / n, "article_hit@1": arts / n}


def coverage_precision(
    top: np.ndarray, right: np.ndarray, out_of_corpus: np.ndarray, threshold: float
) -> tuple[float, float, float]:
    """At a sure threshold: share of answerable answered sure, share of those right, share of out-of-corpus sure."""
    sure = top >= threshold
    return (
        float(sure.mean()),
        float(right[sure].mean()) if sure.any() else float("nan"),
        float((out_of_corpus >= threshold).mean()),
    )


# ------------------------------------------------------------------ one variant


@dataclass
class Variant:
    """Everything one training variant measured out of fold, and what the final fit needs."""

    name: str
    trainable: list[bool]  # which runs the models may learn from
    sel_kind: str = ""
    sel_table: list[list[object]] = field(default_factory=list)
    dense_weight: float = 0.0
    dense_rows: list[list[object]] = field(default_factory=list)
    nested_line: float = 0.0
    calibrated_raw: np.ndarray | None = None  # out-of-fold selector scores of the answerable dev runs, for calibration
    hit_rows: list[np.ndarray] = field(default_factory=list)
    hit_labels: list[np.ndarray] = field(default_factory=list)
    head_x: list[np.ndarray] = field(default_factory=list)
    tops_right: list[bool] = field(default_factory=list)  # the answer line right (any band), per run
    from_copy: list[bool] = field(default_factory=list)  # out of corpus, but the top passage holds the answer (a copy)
    points: dict[str, dict[str, float]] = field(default_factory=dict)
    ans_kind: str = ""
    top: dict[str, np.ndarray] = field(default_factory=dict)
    without_head: dict[str, float] = field(default_factory=dict)
    head_auc: dict[str, float] = field(default_factory=dict)


def train_variant(name: str, runs: list[Run], fold: list[int], trainable: list[bool], searcher_of, args) -> Variant:
    v = Variant(name, trainable)
    dev = [fold[i] != ALWAYS_TRAIN for i in range(len(runs))]
    answerable = [i for i, r in enumerate(runs) if r.answerable and (dev[i] or trainable[i])]
    # ---- a. answer sentence
    rows, labels = [runs[i].x for i in answerable], [runs[i].labels for i in answerable]
    folds_, mask = [fold[i] for i in answerable], [trainable[i] for i in answerable]
    measured = defaultdict(list)
    for pos, i in enumerate(answerable):
        if dev[i]:
            measured[runs[i].set].append(pos)
    candidates = {"hand weights": [hand_scores(runs[i]) for i in answerable]}
    for kind, fit in SENTENCE_LEARNERS.items():
        candidates[kind] = out_of_fold(
            rows, labels, folds_, args.folds, fit, "answer_sentence", SENTENCE_FEATURES, mask, raw=True
        )
    figs = {}
    for kind, scores in candidates.items():
        for set_name, positions in measured.items():
            chosen = [runs[answerable[p]] for p in positions]
            f = selector_figures(chosen, [scores[p] for p in positions], args.depth)
            kept = selector_figures(chosen, [scores[p] for p in positions], 1)
            figs[(kind, set_name)] = f
            v.sel_table.append([kind, set_name, kept["answer_line"], f["answer_line"], f["article_hit@1"]])
    best = max(figs[(k, "arcd")]["answer_line"] for k in SENTENCE_LEARNERS)
    v.sel_kind = next(k for k in SENTENCE_LEARNERS if figs[(k, "arcd")]["answer_line"] >= best - 0.005)
    raw_all = out_of_fold(
        [r.x for r in runs],
        [r.labels for r in runs],
        fold,
        args.folds,
        SENTENCE_LEARNERS[v.sel_kind],
        "answer_sentence",
        SENTENCE_FEATURES,
        trainable=[r.answerable and t for r, t in zip(runs, trainable, strict=True)],
        raw=True,
    )
    # ---- b. questions in another script: the weight of the sentences' similarity, chosen inside the folds too
    cross = [i for i, r in enumerate(runs) if r.answerable and r.cosines is not None and dev[i]]

    def english_line(indices: list[int], weight: float) -> float:
        adjusted = [dense_adjusted(raw_all[i], runs[i].cosines, weight) for i in indices]
        return selector_figures([runs[i] for i in indices], adjusted, args.depth)["answer_line"]

    def best_weight(indices: list[int]) -> float:
        lines = {w: english_line(indices, w) for w in DENSE_WEIGHTS}
        return max(DENSE_WEIGHTS, key=lambda w: (lines[w], -w))

    weight_of_fold = {}
    if cross:
        v.dense_rows = [[w, english_line(cross, w)] for w in DENSE_WEIGHTS]
        v.dense_weight = best_weight(cross)
        weight_of_fold = {f: best_weight([i for i in cross if fold[i] != f]) for f in range(args.folds)}
        in_fold = {f: [i for i in cross if fold[i] == f] for f in range(args.folds)}
        v.nested_line = sum(english_line(in_fold[f], weight_of_fold[f]) * len(in_fold[f]) for f in range(args.folds)) / len(cross)
    raw_all = [
        dense_adjusted(r_, run.cosines, weight_of_fold.get(f, v.dense_weight)) if run.cosines is not None else r_
        for r_, run, f in zip(raw_all, runs, fold, strict=True)
    ]
    dev_answerable = [i for i in answerable if dev[i]]
    v.calibrated_raw = np.concatenate([raw_all[i] for i in dev_answerable])
    a, b = platt(v.calibrated_raw, np.concatenate([runs[i].labels for i in dev_answerable]))
    # ---- c. the head, d. answerability
    hits_of = []
    for i, run in enumerate(runs):
        hits = apply_sentence_scores(run, sigmoid(a * raw_all[i] + b), args.depth)
        hits_of.append(hits)
        v.tops_right.append(answer_line(run, hits))
        v.from_copy.append(bool(run.copies and hits and run.hit_answers(hits[0])))
        v.head_x.append(run.head_rows(hits, searcher_of[run.set]))
        v.hit_labels.append(np.asarray([run.hit_answers(h) for h in hits], dtype=np.float64))
    dimension = max((x.shape[1] for x in v.head_x if x.size), default=0)
    head_oof = out_of_fold(
        [x if x.shape[1] == dimension else np.zeros((len(x), dimension)) for x in v.head_x],
        v.hit_labels,
        fold,
        args.folds,
        fit_logistic,
        "answer_head",
        head_features(dimension),
        trainable,
        raw=True,
    )
    for i, run in enumerate(runs):
        x, _ = answerability_rows(run, hits_of[i], searcher_of[run.set], head_oof[i] if len(hits_of[i]) else None)
        v.hit_rows.append(x)
    sets = [r.set for r in runs]
    top_head = _tops(head_oof, sets, v.from_copy)
    v.head_auc = {
        "ar": roc_auc(_cat(top_head, ANSWERABLE_AR), _cat(top_head, OUT_OF_CORPUS_AR)),
        "en": roc_auc(_cat(top_head, ANSWERABLE_EN), _cat(top_head, OUT_OF_CORPUS_EN)),
    }
    scores = {}
    for kind, fit in LEARNERS.items():
        probs = out_of_fold(v.hit_rows, v.hit_labels, fold, args.folds, fit, "answerability", ANSWERABILITY_FEATURES, trainable)
        scores[kind] = [p * rule_factors(x) for p, x in zip(probs, v.hit_rows, strict=True)]
        v.points[kind] = operating_point(_tops(scores[kind], sets, v.from_copy), v.tops_right, sets, args)
    v.ans_kind = max(
        v.points, key=lambda k: (v.points[k]["out_of_corpus_refused"] + v.points[k]["answerable_sure_right"], k == "logistic")
    )
    v.top = _tops(scores[v.ans_kind], sets, v.from_copy)
    # the same learner without the head's column: what the head adds
    no_head = [x.copy() for x in v.hit_rows]
    for x in no_head:
        x[:, ANSWERABILITY_FEATURES.index("head")] = 0.0
    probs = out_of_fold(
        no_head, v.hit_labels, fold, args.folds, LEARNERS[v.ans_kind], "answerability", ANSWERABILITY_FEATURES, trainable
    )
    v.without_head = operating_point(
        _tops([p * rule_factors(x) for p, x in zip(probs, no_head, strict=True)], sets, v.from_copy), v.tops_right, sets, args
    )
    return v


def _tops(scores: list[np.ndarray], sets: list[str], skip: list[bool] | None = None) -> dict[str, np.ndarray]:
    """Each set's top-hit scores (0 for a run without hits), leaving out the ``skip`` runs (answered from a copy)."""
    out: dict[str, list[float]] = defaultdict(list)
    for i, (s, name) in enumerate(zip(scores, sets, strict=True)):
        if skip is None or not skip[i]:
            out[name].append(float(s[0]) if len(s) else 0.0)
    return {name: np.asarray(v) for name, v in out.items()}


def _cat(top: dict[str, np.ndarray], names: tuple[str, ...]) -> np.ndarray:
    return np.concatenate([top[n] for n in names if n in top] or [np.zeros(0)])


def operating_point(top: dict[str, np.ndarray], right: list[bool], sets: list[str], args) -> dict[str, float]:
    """The two thresholds (chosen on dev) and what they give, overall and per kind of data (``KINDS``).

    "Nothing found" below the score refusing ``max_refused`` of answerable Arabic questions; sure from
    the score that gives at most ``max_sure_wrong`` of *each* kind's out-of-corpus questions a sure answer.
    """
    pos, neg = _cat(top, ANSWERABLE_AR), _cat(top, OUT_OF_CORPUS_AR)
    right_by = {name: np.asarray([r for r, s_ in zip(right, sets, strict=True) if s_ == name]) for name in ANSWERABLE_AR}
    right_ar = np.concatenate([right_by[n] for n in ANSWERABLE_AR if n in top] or [np.zeros(0, dtype=bool)])
    minimum = float(np.quantile(pos, args.max_refused))
    sure = minimum
    for _, (_, negatives) in KINDS.items():
        if _cat(top, negatives).size:
            sure = max(sure, float(np.quantile(_cat(top, negatives), 1.0 - args.max_sure_wrong)))
    out = {
        "auc": roc_auc(pos, neg),
        "min": minimum,
        "sure": sure,
        "out_of_corpus_refused": float(np.mean(neg < minimum)),
        "answerable_sure_right": float(np.mean(right_ar & (pos >= sure))),
    }
    for kind, (answerable, negatives) in KINDS.items():
        kind_pos, kind_neg = _cat(top, answerable), _cat(top, negatives)
        if not kind_pos.size:
            continue
        kind_right = np.concatenate([right_by[n] for n in answerable if n in top])
        coverage, precision, wrong = coverage_precision(kind_pos, kind_right, kind_neg, sure)
        out |= {
            f"{kind}.auc": roc_auc(kind_pos, kind_neg),
            f"{kind}.coverage": coverage,
            f"{kind}.precision": precision,
            f"{kind}.nothing": float(np.mean(kind_pos < minimum)),
            f"{kind}.out_of_corpus_sure": wrong,
            f"{kind}.out_of_corpus_refused": float(np.mean(kind_neg < minimum)) if kind_neg.size else float("nan"),
        }
    return out


# ------------------------------------------------------------------ main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--depth", type=int, default=3, help="hits whose answer sentences compete for first place")
    parser.add_argument("--max-refused", type=float, default=0.03, help="answerable Arabic questions allowed 'nothing found'")
    parser.add_argument(
        "--max-refused-cross", type=float, default=0.10, help="answerable English questions allowed 'nothing found'"
    )
    parser.add_argument("--max-sure-wrong", type=float, default=0.01, help="out-of-corpus questions allowed a sure answer")
    parser.add_argument(
        "--min-precision-cross", type=float, default=0.8, help="English dev 💡 lines right when sure, at least (out of fold)"
    )
    parser.add_argument("--no-external", action="store_true", help="leave out the external training data (bench/external.py)")
    parser.add_argument("--limit", type=int, help="only the first N questions of each set (quick runs)")
    parser.add_argument("--chunk-words", type=int, help="try another chunk size (its own indexes; models not saved)")
    parser.add_argument("--no-write", action="store_true", help="do not write docs/benchmarks")
    parser.add_argument("--no-save", action="store_true", help="do not overwrite the models in index/models/")
    args = parser.parse_args()
    os.environ.setdefault("TQDM_DISABLE", "1")
    started = time.perf_counter()
    sets = sets_for(DEV) if args.no_external else sets_for(DEV, EXTERNAL_TRAINING)
    searchers = open_searchers(chunk_words=args.chunk_words, sets=sets)
    args.no_save = args.no_save or bool(args.chunk_words)
    runs = collect(searchers, sets, limit=args.limit)
    searcher_of = {spec.name: searchers[spec.index] for spec in sets}
    external = {spec.name for spec in sets if spec.role == EXTERNAL_TRAINING}
    fold_of = assign_folds([r for r in runs if r.answerable and r.set not in external], args.folds)
    fold = [ALWAYS_TRAIN if r.set in external else fold_of.get(r.group, zlib.crc32(r.qid.encode()) % args.folds) for r in runs]
    print(f"{len(runs)} question runs, {sum(len(r.refs) for r in runs)} sentence rows ({time.perf_counter() - started:.0f} s)")

    variants = [train_variant("dev sets only", runs, fold, [r.set not in external for r in runs], searcher_of, args)]
    if external:
        variants.append(train_variant("dev + external", runs, fold, [True] * len(runs), searcher_of, args))
    chosen = max(variants, key=lambda v: v.points[v.ans_kind]["answerable_sure_right"])
    print(f"chosen: {chosen.name} ({time.perf_counter() - started:.0f} s)")
    models, meta = fit_final(chosen, runs, fold, args)
    if not args.no_save:
        MODELS_DIR.mkdir(parents=True, exist_ok=True)
        for name, model in models.items():
            model.save(MODELS_DIR / f"{name}.json")
        print(f"wrote {', '.join(f'{n}.json' for n in models)} in {MODELS_DIR}")
    report(variants, chosen, runs, fold, meta, args, time.perf_counter() - started)


def english_precision_floor(v: Variant, runs: list[Run], args) -> float:
    """The lowest sure threshold at which the English dev questions' 💡 lines are right at least
    ``--min-precision-cross`` of the time (out of fold); 1.0 when none is (no English answer is sure)."""
    sets = [r.set for r in runs]
    pos = _cat(v.top, ANSWERABLE_EN)
    right = np.asarray([r for r, s_ in zip(v.tops_right, sets, strict=True) if s_ in ANSWERABLE_EN])
    for t in np.unique(pos):
        sure = pos >= t
        if sure.sum() >= 10 and right[sure].mean() >= args.min_precision_cross:
            return float(t)
    return 1.0


def fit_final(v: Variant, runs: list[Run], fold: list[int], args) -> tuple[dict[str, LearnedModel], dict]:
    """The chosen variant's models refitted on all its data, with their thresholds and figures."""
    use = [i for i, r in enumerate(runs) if v.trainable[i]]
    sel_use = [i for i in use if runs[i].answerable]
    sel = SENTENCE_LEARNERS[v.sel_kind](
        np.vstack([runs[i].x for i in sel_use]),
        np.concatenate([runs[i].labels for i in sel_use]),
        [len(runs[i].x) for i in sel_use],
        "answer_sentence",
        SENTENCE_FEATURES,
    )
    dev_answerable = [i for i, r in enumerate(runs) if r.answerable and fold[i] != ALWAYS_TRAIN]
    sel = calibrated(sel, v.calibrated_raw, np.concatenate([runs[i].labels for i in dev_answerable]))
    dimension = max(x.shape[1] for x in v.head_x if x.size)
    head_use = [i for i in use if v.head_x[i].size]
    head = fit_logistic(
        np.vstack([v.head_x[i] for i in head_use]),
        np.concatenate([v.hit_labels[i] for i in head_use]),
        [],
        "answer_head",
        head_features(dimension),
    )
    ans = LEARNERS[v.ans_kind](
        np.vstack([v.hit_rows[i] for i in use if len(v.hit_rows[i])]),
        np.concatenate([v.hit_labels[i] for i in use if len(v.hit_rows[i])]),
        [],
        "answerability",
        ANSWERABILITY_FEATURES,
    )
    point = v.points[v.ans_kind]
    low_en = (
        float(np.quantile(_cat(v.top, ANSWERABLE_EN), args.max_refused_cross))
        if _cat(v.top, ANSWERABLE_EN).size
        else point["min"]
    )
    neg_en = _cat(v.top, OUT_OF_CORPUS_EN)
    cross = None
    if neg_en.size:
        sure_en = max(float(np.quantile(neg_en, 1.0 - args.max_sure_wrong)), low_en, english_precision_floor(v, runs, args))
        cross = (low_en, sure_en)
    trained = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "commit": git_revision(),
        "command": command_line(),
        "variant": v.name,
        "sets": {name: len(values) for name, values in v.top.items()},
    }
    meta = {
        "answer_sentence": {**trained, "learner": v.sel_kind, CROSS_LANGUAGE_DENSE_WEIGHT: v.dense_weight},
        "answer_head": {**trained, "oof_auc": v.head_auc},
        "answerability": {
            **trained,
            "learner": v.ans_kind,
            "oof": v.points,
            "thresholds": {"min": round(point["min"], 4), "sure": round(point["sure"], 4)},
            **({"thresholds_cross_language": {"min": round(cross[0], 4), "sure": round(cross[1], 4)}} if cross else {}),
        },
    }
    models = {"answer_sentence": sel, "answer_head": head, "answerability": ans}
    return {name: replace(model, meta=meta[name]) for name, model in models.items()}, meta


def _point_row(variant: str, learner: str, p: dict[str, float]) -> list[object]:
    cells: list[object] = [variant, learner, f"{p['auc']:.3f}"]
    for kind in KINDS:
        if f"{kind}.coverage" in p:
            cells += [f"{p[f'{kind}.coverage']:.1%}", f"{p[f'{kind}.precision']:.3f}", f"{p[f'{kind}.out_of_corpus_sure']:.1%}"]
        else:
            cells += ["—"] * 3
    return cells


def report(variants: list[Variant], chosen: Variant, runs: list[Run], fold: list[int], meta: dict, args, seconds: float) -> None:
    thresholds = meta["answerability"]["thresholds"]
    cross = meta["answerability"].get("thresholds_cross_language", thresholds)
    sets = [r.set for r in runs]
    curve_rows, point_rows, band_rows = [], [], []
    for v in variants:
        for t in (*CURVE, v.points[v.ans_kind]["sure"]):
            cells: list[object] = [v.name, f"{t:.3f}"]
            for answerable, negatives in KINDS.values():
                pos, neg = _cat(v.top, answerable), _cat(v.top, negatives)
                right = np.asarray([r for r, s_ in zip(v.tops_right, sets, strict=True) if s_ in answerable])
                c, p, w = coverage_precision(pos, right, neg, t) if pos.size else (float("nan"),) * 3
                cells += [f"{c:.1%}", f"{p:.3f}", f"{w:.1%}"]
            curve_rows.append(cells)
        point_rows += [_point_row(v.name, kind, p) for kind, p in v.points.items()]
        point_rows.append(_point_row(v.name, f"{v.ans_kind}, head left out", v.without_head))
    measured = {r.set for r, f in zip(runs, fold, strict=True) if f != ALWAYS_TRAIN}
    for name, p in chosen.top.items():
        if name not in measured:
            continue
        low, high = (
            (cross["min"], cross["sure"])
            if name in (*ANSWERABLE_EN, *OUT_OF_CORPUS_EN)
            else (thresholds["min"], thresholds["sure"])
        )
        lines = np.asarray([t for t, s in zip(chosen.tops_right, sets, strict=True) if s == name])
        answerable = name in (*ANSWERABLE_AR, *ANSWERABLE_EN)
        sure = p >= high
        band_rows.append(
            [name, len(p), f"{np.mean(p < low):.1%}", f"{np.mean((p >= low) & ~sure):.1%}", f"{sure.mean():.1%}"]
            + ([f"{lines[sure].mean():.3f}" if sure.any() else "—"] if answerable else ["—"])
        )
    point = chosen.points[chosen.ans_kind]
    kind_headers = [h for k in KINDS for h in [f"{k}: answerable sure", f"{k}: 💡 right among them", f"{k}: out of corpus sure"]]
    body = (
        f"Dev sets and the external training data (bench/external.py) as in `bench/answer_data.py`; {args.folds} folds by gold "
        "article; external questions train every fold and are never measured. **All figures are out of fold, on dev "
        f"questions.** Shipped: **{chosen.name}** (selector {chosen.sel_kind}, answerability {chosen.ans_kind}).\n\n"
        "**Answer sentence** (the top hit's answer sentence holds a gold answer and the hit is relevant; gate off):\n\n"
        + table(
            [
                "variant",
                "model",
                "set",
                "answer line, retrieval order",
                f"answer line, best of top {args.depth}",
                "article-hit@1",
            ],
            [[v.name, *row] for v in variants for row in v.sel_table],
        )
        + "\n\nEnglish about Arabic news: the sentences' similarity to the question, by weight (the shipped variant; "
        f"weight chosen inside the folds: English answer line {chosen.nested_line:.3f}; shipped weight {chosen.dense_weight:g}):\n\n"
        + table(["weight", "English answer line"], chosen.dense_rows)
        + "\n\n**The learned head** over the question's and the top passage's vectors alone, ROC AUC of the top hit's score "
        + "; ".join(
            f"{v.name}: Arabic answerable vs out of corpus {v.head_auc['ar']:.3f}, English {v.head_auc['en']:.3f}"
            for v in variants
        )
        + ".\n\n**Answerability**, each learner at its operating point (sure: at most "
        f"{args.max_sure_wrong:.0%} of each kind's out-of-corpus questions sure; nothing found: at most {args.max_refused:.0%} of "
        "answerable Arabic questions):\n\n"
        + table(
            [
                "variant",
                "learner",
                "ROC AUC",
                *kind_headers,
            ],
            point_rows,
        )
        + "\n\n**Coverage–precision of the sure band** at each threshold (the last row of each variant is its operating point):\n\n"
        + table(["variant", "sure from", *kind_headers], curve_rows)
        + f"\n\nThresholds shipped: nothing found below **{thresholds['min']:.3f}**, sure from **{thresholds['sure']:.3f}**; "
        f"English (another script): **{cross['min']:.3f}** / **{cross['sure']:.3f}** (at most {args.max_refused_cross:.0%} of answerable "
        "English nothing found).\n\n"
        + table(["set", "questions", "nothing found", "no sure answer", "sure", "💡 right when sure"], band_rows)
        + "".join(
            f"\n\n{name}: {n} questions left out above, answered from another outlet's copy of the story "
            "(the top passage holds the gold answer)."
            for name, n in Counter(s_ for s_, c in zip(sets, chosen.from_copy, strict=True) if c).items()
        )
        + f"\n\n{seconds:.0f} s in all."
    )
    figures = {
        "answerable ARCD: sure / 💡 right when sure / nothing found (out of fold)": (
            f"{point.get('ARCD.coverage', float('nan')):.1%} / {point.get('ARCD.precision', float('nan')):.3f} / "
            f"{point.get('ARCD.nothing', float('nan')):.1%}"
        ),
        "Arabic news (dev): sure / 💡 right when sure / nothing found (out of fold)": (
            f"{point.get('news.coverage', float('nan')):.1%} / {point.get('news.precision', float('nan')):.3f} / "
            f"{point.get('news.nothing', float('nan')):.1%}"
        ),
        "out of corpus: sure / nothing found (out of fold)": (
            f"ARCD {point.get('ARCD.out_of_corpus_sure', float('nan')):.1%} / {point.get('ARCD.out_of_corpus_refused', float('nan')):.1%}; "
            f"news {point.get('news.out_of_corpus_sure', float('nan')):.1%} / {point.get('news.out_of_corpus_refused', float('nan')):.1%}"
        ),
        "answerable vs out of corpus, AUC (out of fold)": f"{point['auc']:.3f} (without the head {chosen.without_head['auc']:.3f})",
    }
    record("Answer layer: training (out of fold)", body, write=not args.no_write, figures=figures)


if __name__ == "__main__":
    main()
