"""Learned models as JSON files (index.learned): round trips, and clear errors for bad files."""

import json

import numpy as np
import pytest

from index.answer.learned import LearnedModel, ModelFileError, Tree
from index.search.searcher import AnswerModels

FEATURES = ("a", "b", "c")


def logistic() -> LearnedModel:
    params = {
        "mean": np.array([0.5, 1.0, 0.0]),
        "scale": np.array([2.0, 1.0, 1.0]),
        "coef": np.array([1.0, -2.0, 0.5]),
        "intercept": np.float64(0.25),
    }
    return LearnedModel("test", "logistic", FEATURES, logistic=params, meta={"thresholds": {"min": 0.1, "sure": 0.6}})


def trees() -> LearnedModel:
    # tree 1: a <= 0.5 ? 1.0 : (b <= 2 ? -1.0 : 3.0); tree 2: a leaf
    t1 = Tree(
        np.array([0, -1, 1, -1, -1]),
        np.array([0.5, 0, 2.0, 0, 0]),
        np.array([1, -1, 3, -1, -1]),
        np.array([2, -1, 4, -1, -1]),
        np.array([0, 1.0, 0, -1.0, 3.0]),
    )
    t2 = Tree(np.array([-1]), np.array([0.0]), np.array([-1]), np.array([-1]), np.array([0.5]))
    return LearnedModel("test", "trees", FEATURES, trees=(t1, t2), base=0.1, calibration=(2.0, -1.0))


def test_logistic_scores_by_hand():
    x = np.array([[2.5, 1.0, 4.0]])
    z = (1.0 * 1.0) + (-2.0 * 0.0) + 0.5 * 4.0 + 0.25
    assert logistic().predict(x)[0] == pytest.approx(1 / (1 + np.exp(-z)))


def test_trees_walk_to_the_right_leaves():
    x = np.array([[0.2, 9.0, 0.0], [0.9, 1.0, 0.0], [0.9, 5.0, 0.0]])
    raw = trees().raw(x)
    np.testing.assert_allclose(raw, [0.1 + 1.0 + 0.5, 0.1 - 1.0 + 0.5, 0.1 + 3.0 + 0.5])
    np.testing.assert_allclose(trees().predict(x), 1 / (1 + np.exp(-(2.0 * raw - 1.0))))
    single = sum(t.predict(x) for t in trees().trees) + 0.1  # the flat forest equals tree by tree
    np.testing.assert_allclose(raw, single)


@pytest.mark.parametrize("make", [logistic, trees])
def test_round_trip_gives_identical_predictions(tmp_path, make):
    model = make()
    path = tmp_path / "m.json"
    model.save(path)
    loaded = LearnedModel.load(path, FEATURES)
    x = np.random.default_rng(0).normal(size=(50, 3))
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.meta == model.meta and "pickle" not in path.read_text()


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ModelFileError, match=r"m\.json is missing"):
        LearnedModel.load(tmp_path / "m.json")


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: "{not json",
        lambda d: json.dumps({**d, "format": "other"}),
        lambda d: json.dumps({**d, "kind": "forest"}),
        lambda d: json.dumps({**d, "logistic": {**d["logistic"], "coef": [1.0]}}),
        lambda d: json.dumps({**d, "logistic": {**d["logistic"], "scale": [0.0, 1.0, 1.0]}}),
        lambda d: json.dumps({k: v for k, v in d.items() if k != "calibration"}),
        lambda d: json.dumps([1, 2, 3]),
        lambda d: json.dumps({**d, "calibration": {"a": float("nan"), "b": 0.0}}).replace("NaN", "NaN"),
    ],
)
def test_damaged_file_is_an_error_naming_it(tmp_path, damage):
    path = tmp_path / "model.json"
    path.write_text(damage(logistic().to_json()), encoding="utf-8")
    with pytest.raises(ModelFileError, match=r"model\.json is damaged"):
        LearnedModel.load(path, FEATURES)


def test_tree_whose_children_loop_is_rejected(tmp_path):
    data = trees().to_json()
    data["trees"]["trees"][0]["left"][0] = 0  # the root pointing at itself would never end
    path = tmp_path / "loop.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ModelFileError, match="damaged"):
        LearnedModel.load(path, FEATURES)


def test_model_for_other_features_is_refused(tmp_path):
    path = tmp_path / "m.json"
    logistic().save(path)
    with pytest.raises(ModelFileError, match=r"other features.*missing \['d'\]"):
        LearnedModel.load(path, ("a", "b", "c", "d"))


def test_shipped_models_load_and_carry_thresholds():
    models = AnswerModels.load()
    low, high = models.thresholds()
    assert 0 < low < high < 1
    assert models.sentence.meta["learner"] and models.answerability.meta["oof"]


def test_answerability_model_without_thresholds_is_an_error(tmp_path):
    from index.search.searcher import MODELS_DIR

    (tmp_path / "answer_sentence.json").write_text((MODELS_DIR / "answer_sentence.json").read_text())
    data = json.loads((MODELS_DIR / "answerability.json").read_text())
    del data["meta"]["thresholds"]
    (tmp_path / "answerability.json").write_text(json.dumps(data))
    with pytest.raises(ModelFileError, match=r"answerability\.json has no reply thresholds"):
        AnswerModels.load(tmp_path)


def test_the_flat_forest_equals_walking_each_shipped_tree():
    models = AnswerModels.load()
    for model in (models.sentence, models.answerability):
        if model.kind != "trees":
            continue
        x = np.random.default_rng(1).normal(size=(200, len(model.features)))
        walked = model.base + sum(tree.predict(x) for tree in model.trees)
        np.testing.assert_allclose(model.raw(x), walked, rtol=0, atol=1e-9)


def random_tree(leaves: int, features: int, rng: np.random.Generator) -> Tree:
    """A random binary tree with ``leaves`` leaves, children numbered after their parent."""
    feature, threshold, left, right, value = [-1], [0.0], [-1], [-1], [0.0]
    open_leaves = [0]
    while len(open_leaves) < leaves:
        node = open_leaves.pop(int(rng.integers(len(open_leaves))))
        feature[node], threshold[node] = int(rng.integers(features)), float(rng.normal())
        left[node], right[node] = len(feature), len(feature) + 1
        for _ in range(2):
            open_leaves.append(len(feature))
            feature.append(-1), threshold.append(0.0), left.append(-1), right.append(-1), value.append(float(rng.normal()))
    return Tree(*(np.asarray(a) for a in (feature, threshold, left, right, value)))


@pytest.mark.parametrize("leaves", [2, 8, 9, 16, 17, 33, 64])
def test_the_flat_forest_equals_walking_trees_of_every_width(leaves):
    """Masks are 8, 16, 32 or 64 bits wide by the widest tree: each width walks to the same leaves."""
    rng = np.random.default_rng(leaves)
    forest = (*(random_tree(int(rng.integers(1, leaves + 1)), 3, rng) for _ in range(20)), random_tree(leaves, 3, rng))
    model = LearnedModel("test", "trees", FEATURES, trees=forest, base=0.2)
    x = rng.normal(size=(100, 3))
    walked = 0.2 + sum(tree.predict(x) for tree in forest)
    np.testing.assert_allclose(model.raw(x), walked, rtol=0, atol=1e-9)


def test_cli_with_a_damaged_model_file_says_which_file_and_stops(tmp_path, built_index):
    """Never a silent fallback: a broken model stops the search with one line naming the file."""
    import os
    import subprocess
    import sys

    from index.search.searcher import MODELS_DIR
    from tests.support.corpus import ROOT

    (tmp_path / "answer_sentence.json").write_text((MODELS_DIR / "answer_sentence.json").read_text())
    (tmp_path / "answerability.json").write_text('{"format": "news-qa-model", "version": 1, "kind": ')
    env = {**os.environ, "ANSWER_MODELS_DIR": str(tmp_path), "INDEX_DIR": str(built_index)}
    done = subprocess.run(
        [sys.executable, "-m", "index", "search", "فيضان النيل"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"model file {tmp_path / 'answerability.json'} is damaged" in done.stderr


def test_forests_without_rows_or_without_splits():
    """No rows, only single-leaf trees, no trees at all: the base (and constants) for each row, never an error."""
    rng = np.random.default_rng(5)
    split = random_tree(4, 3, rng)
    leaf = Tree.from_json({"feature": [-1], "threshold": [0.0], "left": [-1], "right": [-1], "value": [0.25]})
    for trees, expected in (((split, leaf), None), ((leaf, leaf), 0.1 + 0.5), ((), 0.1)):
        model = LearnedModel("test", "trees", FEATURES, trees=trees, base=0.1)
        assert model.raw(np.zeros((0, len(FEATURES)))).shape == (0,)
        x = rng.normal(size=(3, len(FEATURES)))
        want = 0.1 + sum(t.predict(x) for t in trees) if expected is None else np.full(3, expected)
        np.testing.assert_allclose(model.raw(x), want)
