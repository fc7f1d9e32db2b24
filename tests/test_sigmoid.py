"""--mode sigmoid: torchvision's formula, stable; binary, multi-label,
one-hot from indices with background; both normalisations."""
import numpy as np
import pytest

from conftest import focal, sample
from focalcli.errors import ExitStatus


def tv_formula(x, y, gamma=2.0, alpha=0.25):
    """torchvision.ops.sigmoid_focal_loss, written out in float64 (fine for
    moderate logits)."""
    p = 1 / (1 + np.exp(-x))
    ce = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    pt = p * y + (1 - p) * (1 - y)
    loss = ce * (1 - pt) ** gamma
    if alpha >= 0:
        loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
    return loss, ce


@pytest.fixture
def multilabel(tmp_path, rng):
    x = rng.normal(scale=3, size=(500, 4))
    y = (rng.random((500, 4)) < 0.2).astype(np.int64)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    return tmp_path, x, y


def test_multilabel_matrix(multilabel):
    d, x, y = multilabel
    doc = focal("score", d / "x.npy", d / "y.npy", "--mode", "sigmoid", "--format",
                "json").json()
    loss, ce = tv_formula(x, y)
    assert doc["alpha"] == 0.25
    assert doc["elements"] == 2000 and doc["positives"] == y.sum()
    assert doc["focal"] == pytest.approx(loss.mean(), rel=1e-12)  # mean over N*K
    assert doc["ce"] == pytest.approx(ce.mean(), rel=1e-12)
    for k, row in enumerate(doc["per_class"]):
        assert row["positives"] == y[:, k].sum()
        assert row["focal"] == pytest.approx(loss[:, k].mean(), rel=1e-12)
    pos = focal("score", d / "x.npy", d / "y.npy", "--mode", "sigmoid", "--normalize",
                "positives", "--format", "json").json()
    assert pos["focal"] == pytest.approx(loss.sum() / y.sum(), rel=1e-12)
    rows = focal("score", d / "x.npy", d / "y.npy", "--mode", "sigmoid", "--per-example",
                 "--format", "json").json()
    assert rows[3]["focal"] == pytest.approx(loss[3].sum(), rel=1e-12)
    assert rows[3]["target"] == "|".join(str(k) for k in np.flatnonzero(y[3]))


def test_csv_target_matrix(multilabel, tmp_path):
    d, x, y = multilabel
    header = "cat,dog,car,tree\n"
    (tmp_path / "y.csv").write_text(header + "\n".join(",".join(map(str, r)) for r in y))
    a = focal("score", d / "x.npy", tmp_path / "y.csv", "--mode", "sigmoid", "--format",
              "json").json()
    b = focal("score", d / "x.npy", d / "y.npy", "--mode", "sigmoid", "--format",
              "json").json()
    assert a["focal"] == b["focal"]


def test_no_alpha_weighting_with_negative_alpha(multilabel):
    d, x, y = multilabel
    doc = focal("score", d / "x.npy", d / "y.npy", "--mode", "sigmoid", "--alpha", "-1",
                "--gamma", "0", "--format", "json").json()
    assert doc["focal"] == pytest.approx(doc["ce"], rel=1e-14)


def test_binary_one_score_per_example():
    x = np.load(sample("detect.npy")).astype(np.float64)
    y = np.load(sample("detect_targets.npy"))
    doc = focal("score", sample("detect.npy"), sample("detect_targets.npy"), "--mode",
                "sigmoid", "--format", "json").json()
    loss, _ = tv_formula(x, y)
    assert doc["classes"] == 1 and doc["positives"] == 16
    assert doc["focal"] == pytest.approx(loss.mean(), rel=1e-5)  # float32 input


def test_indices_are_one_hot_and_k_is_background(tmp_path, rng):
    x = rng.normal(size=(6, 3))
    t = np.array([0, 2, 3, 1, 3, 0])  # 3 = background: no positive class
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "t.npy", t)
    y = np.zeros((6, 3))
    for i, c in enumerate(t):
        if c < 3:
            y[i, c] = 1
    doc = focal("score", tmp_path / "x.npy", tmp_path / "t.npy", "--mode", "sigmoid",
                "--format", "json").json()
    assert doc["focal"] == pytest.approx(tv_formula(x, y)[0].mean(), rel=1e-12)
    assert doc["positives"] == 4


def test_huge_logits_lose_no_digits(tmp_path):
    x = np.array([[800.0, -800.0, 40.0, -40.0]])
    y = np.array([[1, 0, 0, 1]])
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    doc = focal("score", tmp_path / "x.npy", tmp_path / "y.npy", "--mode", "sigmoid",
                "--reduction", "sum", "--gamma", "0", "--alpha", "-1", "--format",
                "json").json()
    # ce: ~0, ~0, 40 + log1p(e^-40), 40 + log1p(e^-40)
    want = 2 * (40 + np.log1p(np.exp(-40))) + 2 * np.exp(-800.0)
    assert doc["ce"] == pytest.approx(want, rel=1e-15)


def test_probabilities(tmp_path):
    p = np.array([[0.9, 0.2], [0.01, 0.5]])
    y = np.array([[1, 0], [0, 1]])
    np.save(tmp_path / "p.npy", p)
    np.save(tmp_path / "y.npy", y)
    doc = focal("score", tmp_path / "p.npy", tmp_path / "y.npy", "--mode", "sigmoid",
                "--probs", "--format", "json").json()
    x = np.log(p / (1 - p))
    assert doc["focal"] == pytest.approx(tv_formula(x, y)[0].mean(), rel=1e-12)


@pytest.mark.parametrize("targets,message", [
    (np.array([[0, 2], [1, 0]]), "row 1 (index 0), column 2: target 2.0 is not 0 or 1"),
    (np.array([[0, 1, 0], [1, 0, 0]]), "row 1 (index 0): target matrix has 3 columns for 2 classes"),
    (np.array([0, 5]), "row 2 (index 1): target 5 is out of range for 2 classes (2 means background)"),
])
def test_bad_sigmoid_targets(tmp_path, targets, message):
    np.save(tmp_path / "x.npy", np.zeros((2, 2)))
    np.save(tmp_path / "t.npy", targets)
    r = focal("score", tmp_path / "x.npy", tmp_path / "t.npy", "--mode", "sigmoid")
    assert r.code == ExitStatus.BAD_INPUT
    assert r.err.strip() == f"Error: {tmp_path}/t.npy, {message}"


def test_sigmoid_alpha_list_length_and_range(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((2, 2)))
    np.save(tmp_path / "t.npy", np.array([[0, 1], [1, 0]]))
    r = focal("score", tmp_path / "x.npy", tmp_path / "t.npy", "--mode", "sigmoid",
              "--alpha", "0.1,0.2,0.3")
    assert r.code == ExitStatus.BAD_INPUT and r.err.strip() == "Error: --alpha: has 3 weights for 2 classes"
    doc = focal("score", tmp_path / "x.npy", tmp_path / "t.npy", "--mode", "sigmoid",
                "--alpha", "0.1,0.9", "--reduction", "sum", "--format", "json").json()
    ce = np.log(2)
    # class 0: one positive (0.1) one negative (0.9); class 1 likewise with 0.9 / 0.1
    want = (0.1 + 0.9 + 0.9 + 0.1) * 0.25 * ce
    assert doc["focal"] == pytest.approx(want, rel=1e-14)


def test_strategy_weighs_each_class_by_its_own_scored_elements(tmp_path, rng):
    # class 0: half of its elements ignored; class 1: untouched, 10 positives
    x = rng.normal(size=(100, 2))
    y = np.zeros((100, 2), np.int64)
    y[:20, 0] = 1
    y[50:, 0] = -1
    y[:10, 1] = 1
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    doc = focal("score", tmp_path / "x.npy", tmp_path / "y.npy", "--mode", "sigmoid",
                "--alpha", "balanced", "--ignore-index", "-1", "--format", "json").json()
    # balanced, sigmoid: 1 - n_k / (scored elements of class k)
    assert doc["alpha"] == pytest.approx([1 - 20 / 50, 1 - 10 / 100], rel=1e-15)
    assert doc["ignored_elements"] == 50
    scored = np.ones((100, 2), bool)
    scored[50:, 0] = False
    loss, _ = tv_formula(x, (y == 1).astype(float), alpha=-1)
    a = np.array(doc["alpha"])
    w = np.where(y == 1, a, 1 - a)
    assert doc["focal"] == pytest.approx((w * loss)[scored].mean(), rel=1e-12)
