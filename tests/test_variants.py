"""--loss relatives of focal loss against their formulas written out here,
and --ohem against a sort in the test."""
import math

import numpy as np
import pytest

from conftest import focal, reference_ce, sample
from focalcli.errors import ExitStatus

DIGITS = [sample("digits.npy"), sample("digits_targets.npy")]


@pytest.fixture(scope="module")
def parts():
    z, t = np.load(DIGITS[0]), np.load(DIGITS[1])
    ce = reference_ce(z, t)
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    pt = p[np.arange(len(t)), t]
    other = p.copy()
    other[np.arange(len(t)), t] = 0
    return ce, pt, other.max(1)


def test_each_variant(parts):
    ce, pt, pj = parts
    q = 1 - pt
    doc = focal("score", *DIGITS, "--loss", "poly1:2", "--loss", "poly1-focal:0.5",
                "--loss", "flsd53", "--loss", "dual-focal", "--format", "json").json()
    got = {row["name"]: row["value"] for row in doc["losses"]}
    want = {"poly1:2": (ce + 2 * q).mean(),                        # Leng et al. 2022
            "poly1-focal:0.5": (q ** 2 * ce + 0.5 * q ** 3).mean(),
            "flsd53": (np.where(pt < 0.2, q ** 5, q ** 3) * ce).mean(),  # Mukhoti et al.
            "dual-focal:2": ((q + pj) ** 2 * ce).mean()}            # Tao et al. 2023
    for name, value in want.items():
        assert got[name] == pytest.approx(value, rel=1e-12), name
    sweep_like = focal("score", *DIGITS, "--loss", "poly1:0", "--format", "json").json()
    assert sweep_like["losses"][0]["value"] == pytest.approx(sweep_like["ce"], rel=1e-14)


@pytest.mark.parametrize("keep", ["0.25", "100"])
def test_ohem_keeps_the_hardest(parts, keep):
    ce, pt, _ = parts
    doc = focal("score", *DIGITS, "--ohem", keep, "--format", "json").json()["ohem"]
    focal_loss = (1 - pt) ** 2 * ce
    k = math.ceil(float(keep) * len(ce)) if float(keep) < 1 else int(keep)
    order = np.argsort(-ce, kind="stable")
    kept = order[:k]
    rest = order[k:]
    assert doc["keep"] == k and doc["discarded"] == len(ce) - k
    assert doc["ce"] == pytest.approx(ce[kept].mean(), rel=1e-12)
    assert doc["discarded_focal_share"] == pytest.approx(
        focal_loss[rest].sum() / focal_loss.sum(), rel=1e-9)


def test_ohem_ratio_keeps_positives_and_hard_negatives(tmp_path, rng):
    x = rng.normal(size=400) - 2
    y = (rng.random(400) < 0.05).astype(int)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    doc = focal("score", tmp_path / "x.npy", tmp_path / "y.npy", "--mode", "sigmoid",
                "--ohem-ratio", "1:3", "--format", "json").json()["ohem"]
    p = 1 / (1 + np.exp(-x))
    ce = -np.log(np.where(y == 1, p, 1 - p))
    negatives = np.flatnonzero(y == 0)
    hard = negatives[np.argsort(-ce[negatives], kind="stable")][:3 * y.sum()]
    kept = np.r_[np.flatnonzero(y == 1), hard]
    assert doc["keep"] == len(kept) == 4 * y.sum()
    assert doc["ce"] == pytest.approx(ce[kept].mean(), rel=1e-12)


@pytest.mark.parametrize("args,message", [
    (["--loss", "bogus"], "--loss: 'bogus': use one of poly1, poly1-focal, flsd53, dual-focal, "
     "fl-star, varifocal, quality-focal, asymmetric, focal-tversky"),
    (["--ohem", "0"], "--ohem: a count K >= 1 or a fraction in (0, 1)"),
    (["--ohem-ratio", "1:3"], "--ohem-ratio: softmax needs --background CLASS (the "
                              "negatives' class)"),
    (["--ohem", "5", "--ohem-ratio", "1:3"], "--ohem: give --ohem or --ohem-ratio, not both"),
])
def test_bad_options(args, message):
    r = focal("score", *DIGITS, *args)
    assert r.code == ExitStatus.BAD_INPUT and r.err.strip() == f"Error: {message}"
