"""Train the answer layer's two models and choose the reply thresholds, on the dev sets.

    python -m bench.train_answers [--folds 5] [--no-write] [--no-save]

1. Every dev question (bench/answer_data.py SETS) goes through retrieval and
   grouping; every sentence of the top hits' passages gets its features
   (index/answers.py) and a label: it holds a gold answer and its article is relevant.
2. The answer-sentence model: a hand-weighted baseline (the lexical sentence
   score used for re-ranking), a logistic regression and a LightGBM model, each
   scored out of fold (folds split by gold article, never by question: the
   out-of-corpus twin of a question shares its fold). The logistic model ships
   unless LightGBM beats it by more than a point of answer-line accuracy.
3. With each question's out-of-fold answer sentences, every hit gets its
   answerability features (index/answerability.py) and a label: its passage
   holds the answer. The same two learners, out of fold again.
4. The trade-off curve (answerable questions refused against out-of-corpus
   questions refused, every threshold), its AUC, and the two thresholds
   (``--max-refused``: the share of answerable questions allowed "nothing found";
   ``--max-sure-wrong``: the share of out-of-corpus questions allowed a sure answer).
5. Both models refitted on all the data, written as JSON to index/models/ with
   the thresholds and the out-of-fold figures; the figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import time
import zlib
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np

from bench.answer_data import SETS, Run, answerability_rows, apply_sentence_scores, collect, open_searchers
from bench.common import ROOT, command_line, git_revision, record, table
from index.answer.answerability import ANSWERABILITY_FEATURES, rule_factors
from index.answer.learned import LearnedModel, Tree
from index.answer.matching import topic_weights
from index.answer.selector import CROSS_LANGUAGE_DENSE_WEIGHT, SENTENCE_FEATURES, dense_adjusted
from index.search.rerank import sentence_scores
from index.tools.evaluate import contains_answer

MODELS_DIR = ROOT / "index" / "models"
ANSWERABLE_AR = ("arcd",)
OUT_OF_CORPUS_AR = ("arcd-out-of-corpus", "unanswerable-ar", "unanswerable-ar@snn")


# ------------------------------------------------------------------ learners


def fit_logistic(
    x: np.ndarray, y: np.ndarray, groups: list[int], name: str, features: tuple[str, ...], c: float = 1.0
) -> LearnedModel:
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    clf = LogisticRegression(C=c, max_iter=5000).fit((x - mean) / scale, y)
    params = {"mean": mean, "scale": scale, "coef": clf.coef_[0].astype(np.float64), "intercept": np.float64(clf.intercept_[0])}
    return LearnedModel(name, "logistic", features, logistic=params)


def fit_trees(
    x: np.ndarray, y: np.ndarray, groups: list[int], name: str, features: tuple[str, ...], objective: str = "binary"
) -> LearnedModel:
    """LightGBM: ``binary`` (pointwise) or ``lambdarank`` (ranks the rows of each group, one group per question)."""
    import lightgbm as lgb

    ranking = objective == "lambdarank"
    booster = lgb.train(
        {
            "objective": objective,
            "learning_rate": 0.05,
            "num_leaves": 7 if ranking else 15,
            "min_data_in_leaf": 50,
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "feature_fraction": 0.8,
            "seed": 7,
            "verbose": -1,
            "num_threads": 2,
        },
        lgb.Dataset(x, y, group=groups if ranking else None),
        num_boost_round=300,
    )
    dump = booster.dump_model()
    trees = tuple(_tree_from_lightgbm(t["tree_structure"]) for t in dump["tree_info"])
    return LearnedModel(name, "trees", features, trees=trees)


def _tree_from_lightgbm(root: dict) -> Tree:
    """LightGBM's JSON tree -> parallel arrays in pre-order (children after parents)."""
    feature, threshold, left, right, value = [], [], [], [], []

    def visit(node: dict) -> int:
        i = len(feature)
        feature.append(-1)
        threshold.append(0.0)
        left.append(-1)
        right.append(-1)
        value.append(float(node.get("leaf_value", 0.0)))
        if "split_feature" in node:
            if node.get("decision_type", "<=") != "<=":
                raise ValueError("only numerical <= splits are supported")
            feature[i] = int(node["split_feature"])
            threshold[i] = float(node["threshold"])
            left[i] = visit(node["left_child"])
            right[i] = visit(node["right_child"])
        return i

    visit(root)
    return Tree(*(np.asarray(a) for a in (feature, threshold, left, right, value)))


def fit_ranker(x: np.ndarray, y: np.ndarray, groups: list[int], name: str, features: tuple[str, ...]) -> LearnedModel:
    return fit_trees(x, y, groups, name, features, objective="lambdarank")


LEARNERS = {"logistic": fit_logistic, "lightgbm": fit_trees}
# The answer sentence is one choice among a question's sentences: a ranking objective may serve it better.
SENTENCE_LEARNERS = {**LEARNERS, "lightgbm-rank": fit_ranker}
# Weights tried for the sentences' similarity to a question in another script (index.answer.selector.dense_adjusted).
DENSE_WEIGHTS = (0.0, 4.0, 8.0, 16.0, 32.0, 64.0)


def calibrated(model: LearnedModel, raw: np.ndarray, y: np.ndarray) -> LearnedModel:
    """``model`` with a Platt calibration fitted on its out-of-fold raw scores, so ``predict`` gives probabilities."""
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=100.0, max_iter=1000).fit(raw.reshape(-1, 1), y)
    return replace(model, calibration=(float(clf.coef_[0][0]), float(clf.intercept_[0])))


# ------------------------------------------------------------------ folds


def assign_folds(runs: list[Run], folds: int) -> dict[str, int]:
    """Fold of each gold article, balanced by question count; unanswerable questions spread by their id."""
    sizes: dict[str, int] = defaultdict(int)
    for run in runs:
        sizes[run.group] += 1
    load = [0] * folds
    fold_of: dict[str, int] = {}
    for group in sorted(sizes, key=lambda g: (-sizes[g], g)):
        f = min(range(folds), key=lambda i: (load[i], i))
        fold_of[group] = f
        load[f] += sizes[group]
    return fold_of


def out_of_fold(
    rows: list[np.ndarray],
    labels: list[np.ndarray],
    fold: list[int],
    folds: int,
    fit,
    name: str,
    features,
    trainable: list[bool] | None = None,
    raw: bool = False,
) -> list[np.ndarray]:
    """Each block of rows (one block per question) predicted by a model trained on the other folds (on the
    ``trainable`` blocks only); ``raw``: the scores before the sigmoid."""
    out: list[np.ndarray] = [np.zeros(len(r)) for r in rows]
    trainable = trainable or [True] * len(rows)
    for f in range(folds):
        train = [i for i, g in enumerate(fold) if g != f and len(rows[i]) and trainable[i]]
        test = [i for i, g in enumerate(fold) if g == f and len(rows[i])]
        x, y = np.vstack([rows[i] for i in train]), np.concatenate([labels[i] for i in train])
        model = fit(x, y, [len(rows[i]) for i in train], name, features)
        for i in test:
            out[i] = model.raw(rows[i]) if raw else model.predict(rows[i])
    return out


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


def roc_auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """P(a random answerable question scores above a random out-of-corpus one); ties count half."""
    if not len(pos) or not len(neg):
        return float("nan")
    scores = np.concatenate([pos, neg])
    ranks = np.empty(len(scores))
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    i = 0
    while i < len(scores):  # average ranks of ties
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def curve_rows(top: dict[str, np.ndarray], thresholds: list[float]) -> list[list[object]]:
    """Per threshold: the share of each set's questions whose top hit falls below it ("nothing found")."""
    return [[f"{t:.2f}", *(f"{np.mean(top[name] < t):.1%}" if len(top[name]) else "—" for name in top)] for t in thresholds]


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
    parser.add_argument("--limit", type=int, help="only the first N questions of each set (quick runs)")
    parser.add_argument("--chunk-words", type=int, help="try another chunk size (its own dev indexes; models not saved)")
    parser.add_argument("--no-write", action="store_true", help="do not append to docs/benchmarks.md")
    parser.add_argument("--no-save", action="store_true", help="do not overwrite the models in index/models/")
    args = parser.parse_args()
    os.environ.setdefault("TQDM_DISABLE", "1")
    started = time.perf_counter()

    searchers = open_searchers(chunk_words=args.chunk_words)
    if args.chunk_words:
        args.no_save = True
    runs = collect(searchers, limit=args.limit)
    searcher_of = {spec.name: searchers[spec.index] for spec in SETS}
    fold_of = assign_folds([r for r in runs if r.answerable], args.folds)
    # unanswerable questions spread by a stable hash of their id (Python's hash() changes with every process)
    fold = [fold_of.get(r.group, zlib.crc32(r.qid.encode()) % args.folds) for r in runs]
    answerable = [i for i, r in enumerate(runs) if r.answerable]
    print(f"{len(runs)} question runs, {sum(len(r.refs) for r in runs)} sentence rows ({time.perf_counter() - started:.0f} s)")

    # ---- 2. answer sentence
    sel_rows = [runs[i].x for i in answerable]
    sel_labels = [runs[i].labels for i in answerable]
    sel_fold = [fold[i] for i in answerable]
    by_set = defaultdict(list)
    for pos, i in enumerate(answerable):
        by_set[runs[i].set].append(pos)
    candidates = {"hand weights": [hand_scores(runs[i]) for i in answerable]}
    for kind, fit in SENTENCE_LEARNERS.items():
        candidates[kind] = out_of_fold(
            sel_rows, sel_labels, sel_fold, args.folds, fit, "answer_sentence", SENTENCE_FEATURES, raw=True
        )
    sel_table, sel_figs = [], {}
    for kind, scores in candidates.items():
        for set_name, positions in by_set.items():
            figs = selector_figures([runs[answerable[p]] for p in positions], [scores[p] for p in positions], args.depth)
            kept = selector_figures([runs[answerable[p]] for p in positions], [scores[p] for p in positions], 1)
            sel_figs[(kind, set_name)] = figs
            sel_table.append([kind, set_name, kept["answer_line"], figs["answer_line"], figs["article_hit@1"]])
    # the simplest learner within half a point of the best answer line on ARCD
    best_line = max(sel_figs[(k, "arcd")]["answer_line"] for k in SENTENCE_LEARNERS)
    sel_kind = next(k for k in SENTENCE_LEARNERS if sel_figs[(k, "arcd")]["answer_line"] >= best_line - 0.005)
    print(
        table(["model", "set", "answer line (no reorder)", f"answer line (best of top {args.depth})", "article-hit@1"], sel_table)
    )

    # out-of-fold selector scores for every run (unanswerable ones too), from the chosen learner, made probabilities
    raw_all = out_of_fold(
        [r.x for r in runs],
        [r.labels for r in runs],
        fold,
        args.folds,
        SENTENCE_LEARNERS[sel_kind],
        "answer_sentence",
        SENTENCE_FEATURES,
        trainable=[r.answerable for r in runs],
        raw=True,
    )
    # questions in another script: how much the sentences' similarity to the question counts. The weight is chosen
    # inside the folds too (on the other folds' English questions), so the English figures stay out of fold.
    cross_runs = [i for i, r in enumerate(runs) if r.answerable and r.cosines is not None]

    def english_line(indices: list[int], weight: float) -> float:
        adjusted = [dense_adjusted(raw_all[i], runs[i].cosines, weight) for i in indices]
        return selector_figures([runs[i] for i in indices], adjusted, args.depth)["answer_line"]

    def best_weight(indices: list[int]) -> float:
        lines = {w: english_line(indices, w) for w in DENSE_WEIGHTS}
        return max(DENSE_WEIGHTS, key=lambda w: (lines[w], -w))  # ties: the smaller weight

    dense_rows, dense_weight, weight_of_fold, nested_line = [], 0.0, {}, 0.0
    if cross_runs:
        dense_rows = [[w, english_line(cross_runs, w)] for w in DENSE_WEIGHTS]
        dense_weight = best_weight(cross_runs)  # shipped
        weight_of_fold = {f: best_weight([i for i in cross_runs if fold[i] != f]) for f in range(args.folds)}
        in_fold = {f: [i for i in cross_runs if fold[i] == f] for f in range(args.folds)}
        nested = [[f, weight_of_fold[f], english_line(in_fold[f], weight_of_fold[f])] for f in range(args.folds)]
        nested_line = sum(line * len(in_fold[f]) for f, _, line in nested) / len(cross_runs)
        print(table(["cross-language dense weight", "English answer line (all questions)"], dense_rows))
        print(table(["fold", "weight chosen on the other folds", "English answer line in the fold"], nested))
        print(f"English answer line with the weight chosen out of fold: {nested_line:.3f}")
    raw_all = [
        dense_adjusted(r_, run.cosines, weight_of_fold.get(f, dense_weight)) if run.cosines is not None else r_
        for r_, run, f in zip(raw_all, runs, fold, strict=True)
    ]
    final_sel = SENTENCE_LEARNERS[sel_kind](
        np.vstack(sel_rows), np.concatenate(sel_labels), [len(r) for r in sel_rows], "answer_sentence", SENTENCE_FEATURES
    )
    final_sel = calibrated(
        final_sel, np.concatenate([raw_all[i] for i in answerable]), np.concatenate([runs[i].labels for i in answerable])
    )
    sel_all = [final_sel.probability(r) for r in raw_all]

    # ---- 3. answerability
    hit_rows, hit_labels, tops = [], [], []
    for run, p in zip(runs, sel_all, strict=True):
        hits = apply_sentence_scores(run, p, args.depth)
        x, y = answerability_rows(run, hits, searcher_of[run.set])
        hit_rows.append(x)
        hit_labels.append(y)
        tops.append(answer_line(run, hits))
    # the probabilities as the searcher gives them: the model's, then the rules (index/answerability.py)
    ans_scores = {
        kind: [
            p * rule_factors(x)
            for p, x in zip(
                out_of_fold(hit_rows, hit_labels, fold, args.folds, fit, "answerability", ANSWERABILITY_FEATURES),
                hit_rows,
                strict=True,
            )
        ]
        for kind, fit in LEARNERS.items()
    }
    set_names = [spec.name for spec in SETS if any(r.set == spec.name for r in runs)]

    def top_probs(scores: list[np.ndarray]) -> dict[str, np.ndarray]:
        out = {name: [] for name in set_names}
        for run, s in zip(runs, scores, strict=True):
            out[run.set].append(float(s[0]) if len(s) else 0.0)
        return {name: np.asarray(v) for name, v in out.items()}

    def operating_point(top: dict[str, np.ndarray]) -> dict[str, float]:
        """The two thresholds and what they give: out-of-corpus refused, answerable answered sure and right."""
        pos = np.concatenate([top[n] for n in ANSWERABLE_AR if n in top])
        neg = np.concatenate([top[n] for n in OUT_OF_CORPUS_AR if n in top])
        right = np.asarray([t for run, t in zip(runs, tops, strict=True) if run.set in ANSWERABLE_AR])
        minimum = float(np.quantile(pos, args.max_refused))
        sure = max(float(np.quantile(neg, 1.0 - args.max_sure_wrong)), minimum)
        return {
            "auc": roc_auc(pos, neg),
            "min": minimum,
            "sure": sure,
            "out_of_corpus_refused": float(np.mean(neg < minimum)),
            "answerable_sure_right": float(np.mean(right & (pos >= sure))),
        }

    points = {kind: operating_point(top_probs(scores)) for kind, scores in ans_scores.items()}
    # the learner that refuses more out-of-corpus questions plus answers more questions sure and right
    ans_kind = max(
        points, key=lambda k: (points[k]["out_of_corpus_refused"] + points[k]["answerable_sure_right"], k == "logistic")
    )
    top = top_probs(ans_scores[ans_kind])
    minimum, sure = points[ans_kind]["min"], points[ans_kind]["sure"]
    thresholds = sorted({*(round(t, 2) for t in np.linspace(0.0, 1.0, 21)), round(minimum, 3), round(sure, 3)})
    print(f"answerability operating points: {points}")
    # questions in another script than the corpus: their own pair of thresholds, on the English curves
    cross = None
    if len(top.get("english", [])) and len(top.get("unanswerable-en", [])):
        low = float(np.quantile(top["english"], args.max_refused_cross))
        cross = (low, max(float(np.quantile(top["unanswerable-en"], 1.0 - args.max_sure_wrong)), low))

    # ---- bands with the chosen thresholds, per set
    band_rows = []
    for name in set_names:
        p = top[name]
        low, high = cross if cross and name in ("english", "unanswerable-en") else (minimum, sure)
        lines = np.asarray([t for run, t in zip(runs, tops, strict=True) if run.set == name])
        row = [
            name,
            len(p),
            f"{np.mean(p < low):.1%}",
            f"{np.mean((p >= low) & (p < high)):.1%}",
            f"{np.mean(p >= high):.1%}",
        ]
        row.append(f"{np.mean(lines & (p >= high)):.1%}" if any(r.answerable for r in runs if r.set == name) else "—")
        band_rows.append(row)

    # ---- 5. final models on everything
    final_ans = LEARNERS[ans_kind](
        np.vstack(hit_rows), np.concatenate(hit_labels), [len(r) for r in hit_rows], "answerability", ANSWERABILITY_FEATURES
    )
    trained = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "commit": git_revision(),
        "command": command_line(),
        "sets": {name: len(top[name]) for name in set_names},
    }
    sel_meta = {
        **trained,
        "learner": sel_kind,
        "oof": {f"{k}/{s}": v for (k, s), v in sel_figs.items()},
        CROSS_LANGUAGE_DENSE_WEIGHT: dense_weight,
    }
    ans_meta = {
        **trained,
        "learner": ans_kind,
        "oof": points,
        "thresholds": {"min": round(minimum, 4), "sure": round(sure, 4)},
        **({"thresholds_cross_language": {"min": round(cross[0], 4), "sure": round(cross[1], 4)}} if cross else {}),
    }
    final_sel = replace(final_sel, meta=sel_meta)
    final_ans = replace(final_ans, meta=ans_meta)
    if not args.no_save:
        MODELS_DIR.mkdir(parents=True, exist_ok=True)
        final_sel.save(MODELS_DIR / "answer_sentence.json")
        final_ans.save(MODELS_DIR / "answerability.json")
        print(f"wrote {MODELS_DIR / 'answer_sentence.json'} and {MODELS_DIR / 'answerability.json'}")

    body = (
        f"Sets: {', '.join(f'{n} ({len(top[n])})' for n in set_names)}. Folds: {args.folds}, split by gold article "
        "(a question's out-of-corpus twin shares its fold; unanswerable questions spread by id). All figures below are "
        "out of fold.\n\n**Answer sentence** (the top hit's answer sentence holds a gold answer and the hit is a relevant "
        f"article; gate off). Shipped learner: **{sel_kind}**.\n\n"
        + table(
            ["model", "set", "answer line, retrieval order", f"answer line, best of top {args.depth}", "article-hit@1"], sel_table
        )
        + (
            "\n\nQuestions in another script than the corpus (English about Arabic news) also have the competing "
            "sentences embedded; the selector's score is lowered by the weight times how much less similar to the "
            f"question each sentence is than the most similar one (`index/answers.py: dense_adjusted`). Shipped weight: "
            f"**{dense_weight:g}** (chosen on all the English questions). With the weight chosen inside the folds as "
            f"well, the English answer line is **{nested_line:.3f}** out of fold (the row for weight 0 is the selector "
            "alone).\n\n" + table(["weight", f"English answer line, best of top {args.depth}"], dense_rows)
            if dense_rows
            else ""
        )
        + "\n\n**Answerability** (the top hit's probability), each learner at its two thresholds:\n\n"
        + table(
            [
                "learner",
                "ROC AUC answerable vs out-of-corpus",
                "nothing found below",
                "out-of-corpus refused",
                "sure from",
                "answerable sure and right",
            ],
            [
                [k, p["auc"], p["min"], f"{p['out_of_corpus_refused']:.1%}", p["sure"], f"{p['answerable_sure_right']:.1%}"]
                for k, p in points.items()
            ],
        )
        + f'\n\nShipped learner: **{ans_kind}** (the larger sum of the last two shares). Thresholds: "nothing found" below **{minimum:.3f}** (at most '
        f"{args.max_refused:.0%} of answerable ARCD), a sure answer from **{sure:.3f}** (at most {args.max_sure_wrong:.0%} "
        "of out-of-corpus questions)."
        + (
            f" Questions in another script than the corpus (English about Arabic news) have their own thresholds, "
            f'chosen on the English sets: "nothing found" below **{cross[0]:.3f}** (at most {args.max_refused_cross:.0%} '
            f"of the answerable English questions), sure from **{cross[1]:.3f}**."
            if cross
            else ""
        )
        + "\n\n"
        + table(["set", "questions", "nothing found", "no sure answer", "sure", "sure and answer line right"], band_rows)
        + "\n\nThe trade-off: share of each set's questions told \"nothing found\" at every threshold on the top hit's probability.\n\n"
        + table(["threshold", *set_names], curve_rows(top, thresholds))
        + f"\n\n{time.perf_counter() - started:.0f} s in all."
    )
    record("Answer layer: training (out of fold)", body, write=not args.no_write)


if __name__ == "__main__":
    main()
