"""Small learned models stored as JSON: a logistic regression or a boosted tree ensemble.

The answer layer's models (``answers``, ``answerability``) are data: trained by
``bench/train_answers.py`` on the dev sets, written here as JSON (never
pickle), shipped inside the package and evaluated with numpy alone, so a query
needs neither scikit-learn nor LightGBM. A file records the feature names it
was trained on; loading checks them against what the code computes, so a model
and code that disagree fail loudly instead of scoring nonsense.

    {"format": "news-qa-model", "version": 1, "name": ..., "kind": "logistic" | "trees",
     "features": [...], "logistic": {"mean", "scale", "coef", "intercept"} |
     "trees": {"base": float, "trees": [{"feature", "threshold", "left", "right", "value"}, ...]},
     "calibration": {"a": 1.0, "b": 0.0}, "meta": {...}}
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

MODEL_FORMAT = "news-qa-model"
MODEL_VERSION = 1
KINDS = ("logistic", "trees")
RETRAIN = "retrain it with `python -m bench.train_answers` or reinstall the package"


class ModelFileError(RuntimeError):
    """A model file is missing, damaged or made for other features; the message names the file."""


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -40.0, 40.0)))


@dataclass(frozen=True)
class Tree:
    """One regression tree as parallel arrays; ``feature < 0`` marks a leaf holding ``value``."""

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray

    def predict(self, x: np.ndarray) -> np.ndarray:
        node = np.zeros(x.shape[0], dtype=np.int64)
        rows = np.arange(x.shape[0])
        while True:
            feat = self.feature[node]
            inner = feat >= 0
            if not inner.any():
                return self.value[node]
            go_left = x[rows[inner], feat[inner]] <= self.threshold[node[inner]]
            node[inner] = np.where(go_left, self.left[node[inner]], self.right[node[inner]])

    def to_json(self) -> dict[str, list]:
        return {
            "feature": self.feature.tolist(),
            "threshold": self.threshold.tolist(),
            "left": self.left.tolist(),
            "right": self.right.tolist(),
            "value": self.value.tolist(),
        }

    @classmethod
    def from_json(cls, data: dict[str, list]) -> Tree:
        tree = cls(
            np.asarray(data["feature"], dtype=np.int64),
            np.asarray(data["threshold"], dtype=np.float64),
            np.asarray(data["left"], dtype=np.int64),
            np.asarray(data["right"], dtype=np.int64),
            np.asarray(data["value"], dtype=np.float64),
        )
        n = tree.feature.shape[0]
        if not (n and tree.threshold.shape == tree.left.shape == tree.right.shape == tree.value.shape == (n,)):
            raise ValueError("tree arrays differ in length")
        inner = np.flatnonzero(tree.feature >= 0)
        for children in (tree.left[inner], tree.right[inner]):
            if ((children <= inner) | (children >= n)).any():  # children after their parent: every walk ends
                raise ValueError("tree children out of range")
        return tree


@dataclass(frozen=True)
class Forest:
    """All trees evaluated at once by leaf bit masks, with a few numpy operations whatever their depth.

    Leaves are numbered left to right within each tree. A test that fails (the
    row goes right) rules out every leaf of the node's left subtree; OR-ing the
    bits a tree's failed tests clear leaves the reachable leaves unset, and the
    row exits at the leftmost of them (the QuickScorer idea: Lucchese et al.,
    SIGIR 2015). Every tree's tests are padded to the same count with tests
    that never fail, laid out test-major (``(tests, trees)``): the OR over a
    tree's tests is then one reduction over a short axis, several times faster
    than a ``reduceat`` over hundreds of ragged segments. The padding costs
    rows x (the most tests of any tree) x trees: right for LightGBM's trees of one
    leaf budget, not for one deep tree among shallow ones. Masks are as narrow as
    the widest tree allows (8 bits for the shipped answer-sentence trees).
    """

    feature: np.ndarray  # (tests * trees,), test-major: the j-th test of every tree, then the (j+1)-th
    threshold: np.ndarray  # padding tests compare against +inf: they never fail
    clears: np.ndarray  # unsigned, per test: the bits of the leaves its failed test rules out (0 for padding)
    n_trees: int  # trees with internal nodes
    leaf_values: np.ndarray  # trees * width, each tree's leaf values left to right, flat
    width: int  # leaves of the widest tree
    constant: float  # the sum of single-leaf trees

    @classmethod
    def of(cls, trees: tuple[Tree, ...]) -> Forest:
        tests: list[list[tuple[int, float, int]]] = []  # per tree with internal nodes: (feature, threshold, clears)
        values: list[list[float]] = []
        constant = 0.0
        for tree in trees:
            leaves: list[int] = []
            spans: dict[int, tuple[int, int]] = {}  # node -> its leaves [first, last) in left-to-right order

            def visit(node: int, tree: Tree = tree, leaves: list[int] = leaves, spans: dict = spans) -> None:
                first = len(leaves)
                if tree.feature[node] < 0:
                    leaves.append(node)
                else:
                    visit(int(tree.left[node]))
                    visit(int(tree.right[node]))
                spans[node] = (first, len(leaves))

            visit(0)
            if len(leaves) == 1:
                constant += float(tree.value[leaves[0]])
                continue
            if len(leaves) > 64:
                raise ValueError("trees of more than 64 leaves are not supported")
            own = []
            for node in np.flatnonzero(tree.feature >= 0).tolist():
                first, last = spans[int(tree.left[node])]
                own.append((int(tree.feature[node]), float(tree.threshold[node]), ((1 << (last - first)) - 1) << first))
            tests.append(own)
            values.append([float(tree.value[leaf]) for leaf in leaves])
        width = max((len(v) for v in values), default=1)
        bits = next(b for b in (8, 16, 32, 64) if width <= b)
        depth = max((len(t) for t in tests), default=0)
        padded = [[t[j] if j < len(t) else (0, math.inf, 0) for t in tests] for j in range(depth)]
        flat = [test for row in padded for test in row]
        return cls(
            feature=np.asarray([f for f, _, _ in flat], dtype=np.int64),
            threshold=np.asarray([t for _, t, _ in flat], dtype=np.float64),
            clears=np.asarray([c for _, _, c in flat], dtype=f"uint{bits}"),
            n_trees=len(tests),
            leaf_values=np.asarray([v + [0.0] * (width - len(v)) for v in values], dtype=np.float64).ravel(),
            width=width,
            constant=constant,
        )

    @functools.cached_property
    def _leftmost(self) -> np.ndarray | None:
        """Index of the lowest unset bit of every value up to 16 bits (wider masks compute it)."""
        if self.clears.dtype.itemsize > 2:
            return None
        unset = ~np.arange(1 << (8 * self.clears.dtype.itemsize), dtype=np.int64)
        lowest = unset & -unset
        return np.log2(np.maximum(lowest, 1)).astype(np.int64)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Sum of every tree's leaf value for each row of ``x``."""
        if not self.n_trees or not x.shape[0]:
            return np.full(x.shape[0], self.constant)
        failed = np.take(x, self.feature, axis=1) > self.threshold
        cleared = np.bitwise_or.reduce((failed * self.clears).reshape(x.shape[0], -1, self.n_trees), axis=1)
        if self._leftmost is not None:
            leaf = self._leftmost[cleared]
        else:
            survivors = ~cleared.astype(np.uint64)
            leaf = np.log2((survivors & (~survivors + np.uint64(1))).astype(np.float64)).astype(np.int64)
        offsets = np.arange(self.n_trees) * self.width
        return self.leaf_values[leaf + offsets].sum(axis=1) + self.constant


@dataclass(frozen=True)
class LearnedModel:
    """A binary classifier over named features, giving probabilities."""

    name: str
    kind: str
    features: tuple[str, ...]
    logistic: dict[str, np.ndarray] = field(default_factory=dict)
    trees: tuple[Tree, ...] = ()
    base: float = 0.0
    calibration: tuple[float, float] = (1.0, 0.0)
    meta: dict[str, Any] = field(default_factory=dict)

    def raw(self, x: np.ndarray) -> np.ndarray:
        """The model's score before the sigmoid, one per row of ``x`` (n, len(features))."""
        x = np.asarray(x, dtype=np.float64).reshape(-1, len(self.features))
        if self.kind == "logistic":
            z = (x - self.logistic["mean"]) / self.logistic["scale"]
            return z @ self.logistic["coef"] + float(self.logistic["intercept"])
        return self.base + self.forest.predict(x) if self.trees else np.full(x.shape[0], self.base)

    @functools.cached_property
    def forest(self) -> Forest:
        """The trees flattened for fast evaluation (built on first use)."""
        return Forest.of(self.trees)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Calibrated probabilities, one per row of ``x``."""
        return self.probability(self.raw(x))

    def probability(self, raw: np.ndarray) -> np.ndarray:
        """Raw scores (``raw``, perhaps adjusted) made calibrated probabilities."""
        a, b = self.calibration
        return sigmoid(a * np.asarray(raw) + b)

    # ---------------------------------------------------------------- files

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "format": MODEL_FORMAT,
            "version": MODEL_VERSION,
            "name": self.name,
            "kind": self.kind,
            "features": list(self.features),
            "calibration": {"a": self.calibration[0], "b": self.calibration[1]},
            "meta": self.meta,
        }
        if self.kind == "logistic":
            data["logistic"] = {k: np.asarray(v).tolist() for k, v in self.logistic.items()}
        else:
            data["trees"] = {"base": self.base, "trees": [t.to_json() for t in self.trees]}
        return data

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LearnedModel:
        """Parse and validate; ``ValueError``/``KeyError``/``TypeError`` on anything malformed."""
        if data.get("format") != MODEL_FORMAT or data.get("version") != MODEL_VERSION:
            raise ValueError(f"not a {MODEL_FORMAT} v{MODEL_VERSION} file")
        kind = data["kind"]
        if kind not in KINDS:
            raise ValueError(f"unknown model kind {kind!r}")
        features = tuple(str(f) for f in data["features"])
        calibration = (float(data["calibration"]["a"]), float(data["calibration"]["b"]))
        model = cls(data["name"], kind, features, calibration=calibration, meta=dict(data.get("meta", {})))
        if kind == "logistic":
            params = {k: np.asarray(data["logistic"][k], dtype=np.float64) for k in ("mean", "scale", "coef")}
            if any(v.shape != (len(features),) for v in params.values()) or (params["scale"] <= 0).any():
                raise ValueError("logistic parameters do not match the features")
            params["intercept"] = np.float64(data["logistic"]["intercept"])
            model = cls(model.name, kind, features, logistic=params, calibration=calibration, meta=model.meta)
        else:
            trees = tuple(Tree.from_json(t) for t in data["trees"]["trees"])
            if any((t.feature >= len(features)).any() for t in trees):
                raise ValueError("a tree splits on a feature the model does not list")
            model = cls(
                model.name,
                kind,
                features,
                trees=trees,
                base=float(data["trees"]["base"]),
                calibration=calibration,
                meta=model.meta,
            )
        values = [*calibration, model.base] + [float(v) for v in model.logistic.values() if np.ndim(v) == 0]
        if not all(math.isfinite(v) for v in values) or not all(
            np.isfinite(np.asarray(v)).all() for v in model.logistic.values()
        ):
            raise ValueError("non-finite parameters")
        return model

    @classmethod
    def load(cls, path: str | Path, features: tuple[str, ...] | None = None) -> LearnedModel:
        """Read a model file; ``ModelFileError`` naming the file when it is missing, damaged or made for other features."""
        path = Path(path)
        try:
            model = cls.from_json(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise ModelFileError(f"model file {path} is missing; {RETRAIN}") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ModelFileError(f"model file {path} is damaged ({type(exc).__name__}: {exc}); {RETRAIN}") from None
        if features is not None and model.features != tuple(features):
            missing = sorted(set(features) - set(model.features))
            extra = sorted(set(model.features) - set(features))
            raise ModelFileError(
                f"model file {path} was trained on other features than this code computes "
                f"(missing {missing or 'none'}, unexpected {extra or 'none'}); {RETRAIN}"
            )
        return model
