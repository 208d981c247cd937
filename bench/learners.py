"""The learners the answer layer is trained with, and the out-of-fold machinery (``bench.train_answers``).

Logistic regression (scikit-learn) and LightGBM trees, pointwise or ranking, written
out as ``index.answer.learned.LearnedModel`` (JSON, evaluated with numpy at query
time); Platt calibration; folds that keep a gold article's questions together.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

import numpy as np

from bench.answer_data import Run
from index.answer.learned import LearnedModel, Tree

# Runs of external training data are in no fold: every fold trains on them, none is measured on them.
ALWAYS_TRAIN = -1


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


def platt(raw: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Platt scaling fitted on out-of-fold raw scores: (a, b) with P = sigmoid(a * raw + b)."""
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=100.0, max_iter=1000).fit(np.asarray(raw).reshape(-1, 1), y)
    return float(clf.coef_[0][0]), float(clf.intercept_[0])


def calibrated(model: LearnedModel, raw: np.ndarray, y: np.ndarray) -> LearnedModel:
    """``model`` with a Platt calibration fitted on its out-of-fold raw scores, so ``predict`` gives probabilities."""
    return replace(model, calibration=platt(raw, y))


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
