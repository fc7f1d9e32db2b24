"""Class-balancing alphas against their formulas, on an imbalanced sample
with an absent class."""
import math

import numpy as np
import pytest

from conftest import focal, reference_ce
from focalcli.errors import ExitStatus


@pytest.fixture
def imbalanced(tmp_path, rng):
    counts = [60, 25, 10, 5, 0]  # class 4 is absent
    t = np.repeat(np.arange(5), counts)
    z = rng.normal(size=(len(t), 5))
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "t.npy", t)
    return tmp_path, z, t, np.array(counts)


def per_class_focal(z, t):
    ce = reference_ce(z, t)
    return (1 - np.exp(-ce)) ** 2 * ce


def check(d, z, t, strategy, weights):
    r = focal("score", d / "z.npy", d / "t.npy", "--alpha", strategy, "--format", "json")
    assert r.code == ExitStatus.OK, r
    doc = r.json()
    assert doc["alpha"] == pytest.approx(list(weights), rel=1e-13)
    f = per_class_focal(z, t) * np.asarray(weights)[t]
    assert doc["focal"] == pytest.approx(f.mean(), rel=1e-12)
    return r


def test_balanced(imbalanced):
    d, z, t, counts = imbalanced
    n, k = len(t), 5
    weights = [n / (k * max(c, 1)) for c in counts]  # absent: as if it had one
    r = check(d, z, t, "balanced", weights)
    assert r.err.strip() == ("focal: warning: no example of class 4; --alpha balanced "
                             "weighs it as if it had one")


def test_inverse_freq(imbalanced):
    d, z, t, counts = imbalanced
    n = len(t)
    weights = [min(max(1 - max(c, 1) / n, 0.1), 0.9) for c in counts]
    check(d, z, t, "inverse-freq", weights)


@pytest.mark.parametrize("beta", [None, 0.9, 0.99])
def test_effective_number(imbalanced, beta):
    d, z, t, counts = imbalanced
    b = 0.999 if beta is None else beta
    raw = [(1 - b) / (1 - b ** max(c, 1)) for c in counts]
    weights = [w * 5 / sum(raw) for w in raw]
    check(d, z, t, "effective" if beta is None else f"effective:{beta}", weights)
    assert sum(weights) == pytest.approx(5)


def test_strategy_with_per_example_rows_uses_the_same_weights(imbalanced):
    d, z, t, counts = imbalanced
    doc = focal("score", d / "z.npy", d / "t.npy", "--alpha", "balanced", "--format",
                "json").json()
    rows = focal("score", d / "z.npy", d / "t.npy", "--alpha", "balanced", "--per-example",
                 "--format", "json").json()
    assert math.fsum(r["focal"] for r in rows) / len(rows) == pytest.approx(doc["focal"],
                                                                            rel=1e-12)


def test_sigmoid_strategies(tmp_path, rng):
    y = (rng.random((400, 3)) < [0.5, 0.1, 0.01]).astype(int)
    x = rng.normal(size=(400, 3))
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    pos = y.sum(0)
    n = 400
    want = {
        "balanced": (n - pos) / n,
        "inverse-freq": np.clip(1 - pos / n, 0.1, 0.9),
        "effective:0.99": [(1 - 0.99) / (1 - 0.99 ** p) / ((1 - 0.99) / (1 - 0.99 ** p)
                                                          + (1 - 0.99) / (1 - 0.99 ** (n - p)))
                           for p in pos],
    }
    for strategy, alpha in want.items():
        doc = focal("score", tmp_path / "x.npy", tmp_path / "y.npy", "--mode", "sigmoid",
                    "--alpha", strategy, "--format", "json").json()
        assert doc["alpha"] == pytest.approx(list(alpha), rel=1e-12)
        a = np.asarray(alpha)
        p = 1 / (1 + np.exp(-x))
        ce = -(y * np.log(p) + (1 - y) * np.log(1 - p))
        pt = np.where(y == 1, p, 1 - p)
        loss = np.where(y == 1, a, 1 - a) * (1 - pt) ** 2 * ce
        assert doc["focal"] == pytest.approx(loss.mean(), rel=1e-12)
