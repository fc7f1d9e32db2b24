"""The summary's `prior`: each class's rate among the scored targets, the
model's mean probability for it and the bias that predicts the rate
(RetinaNet's prior initialisation). Expected values are the formulas
written out here in float64."""
import math

import numpy as np
import pytest

import focalcli
from conftest import focal, validate_document

# every exactness promise on the compiled passes and on numpy's
pytestmark = pytest.mark.usefixtures("both_paths")


def softmax(z):
    z = np.asarray(z, np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def expected_softmax(p, t, keep):
    k = p.shape[1]
    rate = np.bincount(t[keep], minlength=k) / keep.sum()
    mean = p[keep].mean(axis=0)
    return rate, mean, [math.log(r) if r else None for r in rate]


def check(prior, rate, mean, bias, tol):
    assert [r["index"] for r in prior] == list(range(len(rate)))
    for row, r, m, b in zip(prior, rate, mean, bias):
        assert row["rate"] == pytest.approx(r, rel=1e-15, abs=0)
        assert row["mean_probability"] == pytest.approx(m, rel=tol, abs=1e-300)
        assert (row["bias"] is None) if b is None else row["bias"] == pytest.approx(b, 1e-15)


@pytest.fixture(scope="module")
def logits():
    rng = np.random.default_rng(3)
    z = rng.normal(0, 3, (3000, 7))
    t = rng.choice(7, 3000, p=[0.5, 0.2, 0.1, 0.1, 0.05, 0.05, 0.0])
    t[:40] = -100               # ignored rows
    z[41] = [900, -900, 0, 5, 1, 2, 3]  # rows the direct form cannot hold
    z[42] = -800
    return z, t


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_softmax_prior_is_the_formula(logits, dtype, tol):
    z, t = logits
    z = z.astype(dtype)
    doc = focalcli.score(z, t, ignore_index=-100).to_dict()
    keep = t != -100
    rate, mean, bias = expected_softmax(softmax(z), t, keep)
    check(doc["prior"], rate, mean, bias, tol)
    assert doc["prior"][6]["rate"] == 0 and doc["prior"][6]["bias"] is None
    validate_document(doc, "score")


def test_prior_on_other_paths_probabilities_and_smoothing(logits):
    z, t = logits
    keep = t != -100
    p = softmax(z)
    rate, mean, bias = expected_softmax(p, t, keep)
    check(focalcli.score(p, t, ignore_index=-100, probs=True).to_dict()["prior"],
          rate, mean, bias, 1e-12)
    # label smoothing takes the soft path (whole rows): the rate is still the labels'
    check(focalcli.score(z, t, ignore_index=-100, label_smoothing=0.1).to_dict()["prior"],
          rate, mean, bias, 1e-12)
    # with the gradient view the sums come from the same fused exponentials
    check(focalcli.score(z, t, ignore_index=-100, gradient=True).to_dict()["prior"],
          rate, mean, bias, 1e-12)


def test_sigmoid_prior_per_class_over_its_elements():
    rng = np.random.default_rng(4)
    x = rng.normal(-2, 2, (500, 4))
    y = (rng.random((500, 4)) < [0.01, 0.2, 0.5, 1.0]).astype(np.int64)
    y[:5, 0] = -1  # single elements left out
    doc = focalcli.score(x, y, mode="sigmoid", ignore_index=-1).to_dict()
    p = 1 / (1 + np.exp(-x))
    keep = y != -1
    for c, row in enumerate(doc["prior"]):
        rate = (y[:, c][keep[:, c]] == 1).mean()
        assert row["rate"] == pytest.approx(rate, rel=1e-15)
        assert row["mean_probability"] == pytest.approx(p[keep[:, c], c].mean(), rel=1e-12)
        expected = None if rate in (0, 1) else math.log(rate / (1 - rate))
        assert row["bias"] == (None if expected is None else pytest.approx(expected, 1e-12))
    assert doc["prior"][3]["rate"] == 1 and doc["prior"][3]["bias"] is None


def test_dense_prior_over_scored_positions(tmp_path):
    rng = np.random.default_rng(5)
    z = rng.normal(0, 2, (3, 4, 6, 5)).astype(np.float32)
    t = rng.integers(0, 4, (3, 6, 5))
    t[0, :2] = 255
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "t.npy", t)
    doc = focal("score", tmp_path / "z.npy", tmp_path / "t.npy", "--ignore-index", "255",
                "--format", "json").json()
    p = softmax(np.moveaxis(z, 1, -1).reshape(-1, 4))
    flat = t.reshape(-1)
    keep = flat != 255
    rate, mean, bias = expected_softmax(p, np.where(keep, flat, 0), keep)
    check(doc["prior"], rate, mean, bias, 1e-6)


def test_log_probabilities_have_no_mean_probability(tmp_path):
    path = tmp_path / "lp.csv"
    path.write_text("logprob,target\n-0.1,a\n-2.0,b\n-0.5,a\n")
    doc = focal("score", path, "--format", "json").json()
    assert [(r["class"], r["rate"], r["mean_probability"]) for r in doc["prior"]] == \
        [("a", pytest.approx(2 / 3), None), ("b", pytest.approx(1 / 3), None)]


def test_table_names_the_class_furthest_from_its_rate(logits, tmp_path):
    z, t = logits
    z = z.copy()
    z[:, 5] += 6  # a head that gives a 5% class most of the probability
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "t.npy", t)
    out = focal("score", tmp_path / "z.npy", tmp_path / "t.npy", "--ignore-index", "-100").out
    assert "Prior furthest from its rate: class 5," in " ".join(out.split())
