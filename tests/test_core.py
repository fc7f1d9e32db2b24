"""The core against mpmath (50 digits) and the formulas, in every regime."""
import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from focalcli import focal_loss, focal_loss_batch
from conftest import reference_ce
from focalcli.core import modulate, sigmoid_parts, softmax_parts, softmax_parts_shifted

# every exactness promise on the compiled passes and on numpy's
pytestmark = pytest.mark.usefixtures("both_paths")

mp.mp.dps = 50


def mp_softmax(z, t, gamma, alpha=1.0):
    z = [mp.mpf(float(v)) for v in z]
    m = max(z)
    lse = m + mp.log(mp.fsum(mp.exp(v - m) for v in z))
    ce = lse - z[t]
    pt = mp.exp(-ce)
    return alpha * (1 - pt) ** gamma * ce, ce, pt


def mp_sigmoid(x, y, gamma, alpha):
    s = mp.mpf(float(x)) if y else -mp.mpf(float(x))
    pt = 1 / (1 + mp.exp(-s))  # sigmoid of the signed margin: no 1 - p cancellation
    ce = -mp.log(pt)
    a = 1.0 if alpha < 0 else (alpha if y else 1 - alpha)
    return a * (1 - pt) ** gamma * ce, ce


REGIMES = {
    "ordinary": ([0.3, -1.2, 2.0, 0.7], 2),
    "uniform": ([0.0, 0.0, 0.0], 1),
    "confident": ([36.0, 0.0, -3.0], 0),           # 1 - p_t ~ 2e-16
    "very confident": ([45.0, 10.0, 0.0], 0),      # 1 - p_t ~ 6e-16
    "hopeless": ([46.0, 0.0, -1.0], 1),            # p_t ~ 1e-20
    "far hopeless": ([700.0, 0.0], 1),
    "large logits": ([1000.0, 1001.0, 1002.0], 2),
    "large, target not max": ([1000.0, 1001.0, 1002.0], 0),
    "extreme pair": ([1000.0, 1.0], 0),
    "negative large": ([-1000.0, -1000.5, -999.0], 1),
    "many classes": (list(np.linspace(-5, 5, 80)), 40),
    "all far below zero": ([-400.0, -401.0, -402.0], 1),
    "others underflow": ([30.0, -800.0, -790.0], 0),
    "target beyond exp range": ([-20.0, 300.0, 360.0], 2),
}


@pytest.mark.parametrize("name", REGIMES)
@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0, 5.0])
def test_softmax_matches_mpmath_to_1e12(name, gamma):
    z, t = REGIMES[name]
    got = focal_loss_batch(np.array([z]), [t], gamma)
    want_f, want_ce, want_pt = mp_softmax(z, t, gamma)
    for g, w in ((got.focal[0], want_f), (got.ce[0], want_ce), (got.p_t[0], want_pt)):
        if w == 0:
            assert g == 0
        else:
            assert abs(g - float(w)) <= 1e-12 * abs(float(w)), (name, g, float(w))


@pytest.mark.parametrize("form", [softmax_parts, softmax_parts_shifted])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_both_forms_match_mpmath_in_every_regime(form, dtype):
    # softmax_parts takes the direct form where it is safe and hands the rest
    # to the shifted one; each must be exact on its own, and a block mixing
    # both kinds of rows must put every result back on its own row
    rows = [(z, t) for z, t in REGIMES.values() if len(z) == 3]
    rows += [(list(r), 1) for r in np.random.default_rng(3).normal(0, 3, (20, 3))]
    z = np.array([r for r, _ in rows], dtype=dtype)
    t = np.array([t for _, t in rows])
    ce, q = form(z, t)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for i, (row, target) in enumerate(rows):
        if not np.all(np.isfinite(row)) or np.any(np.abs(np.array(row)) > 3e38):
            continue
        _, want_ce, want_pt = mp_softmax(z[i].astype(np.float64), target, 0.0)
        want_q = 1 - want_pt
        if dtype == np.float32 and float(want_ce) < 1e-30:
            continue  # below what float32 exponentials resolve in the shifted form
        assert abs(ce[i] - float(want_ce)) <= tol * float(want_ce) + 1e-300, (i, row)
        assert abs(q[i] - float(want_q)) <= tol * float(want_q) + 1e-300, (i, row)


def test_confident_row_keeps_digits_where_lse_minus_zt_loses_them():
    # ce = 1e-15-ish; lse - z_t in float64 would give 0 or a wrong digit
    z, t = [36.0, 0.0, 0.0], 0
    got = focal_loss_batch(np.array([z]), [t], 0.0).ce[0]
    naive = float(np.log(np.exp(z).sum()) - z[t])
    want = float(mp_softmax(z, t, 0.0)[1])
    assert abs(got - want) <= 1e-15 * want
    assert abs(naive - want) > 0.1 * want  # the peer-style form is off by > 10%


def test_float32_stays_within_1e5(rng):
    z = rng.normal(scale=4, size=(300, 12)).astype(np.float32)
    t = rng.integers(0, 12, 300)
    got = focal_loss_batch(z, t, 2.0)
    for i in range(0, 300, 17):
        wf, wce, _ = mp_softmax(z[i].astype(np.float64), t[i], 2.0)
        assert abs(got.ce[i] - float(wce)) <= 1e-5 * float(wce) + 1e-12
        assert abs(got.focal[i] - float(wf)) <= 1e-5 * float(wf) + 1e-12
    assert got.focal.dtype == np.float64


def test_single_example_examples():
    assert isinstance(focal_loss([0, 0, 0], 1, 2.0), float)
    assert focal_loss([0.0, 0.0, 0.0], 1, gamma=2.0) == pytest.approx(
        (2 / 3) ** 2 * math.log(3), rel=1e-15)
    assert math.isfinite(focal_loss([1000, 1001, 1002], 0))
    ce = math.log(math.exp(0) + math.exp(1) + math.exp(2))  # shift by 1000
    assert focal_loss([1000, 1001, 1002], 0, gamma=0) == pytest.approx(ce, rel=1e-14)


def test_gamma_zero_is_alpha_weighted_ce():
    z, t = [0.5, 2.0, -1.0], 2
    ce = -math.log(math.exp(-1.0) / sum(math.exp(v) for v in z))
    assert focal_loss(z, t, gamma=0, alpha=0.3) == pytest.approx(0.3 * ce, rel=1e-14)


def test_confident_far_below_ce_hard_about_ce():
    easy = focal_loss([6.0, 0.0, 0.0], 0, 2.0)
    easy_ce = focal_loss([6.0, 0.0, 0.0], 0, 0.0)
    hard = focal_loss([0.0, 6.0, 0.0], 0, 2.0)
    hard_ce = focal_loss([0.0, 6.0, 0.0], 0, 0.0)
    assert easy < 1e-4 * easy_ce
    assert hard == pytest.approx(hard_ce, rel=0.01)


@pytest.mark.parametrize("gamma", [0.1, 0.5, 0.9, 1.0, 2.0])
def test_no_nan_when_pt_is_exactly_one(gamma):
    # keras-retinanet #706, Kornia #918, optax #1267: 0 ** gamma must be 0, not NaN
    got = focal_loss_batch(np.array([[800.0, 0.0]]), [0], gamma)
    assert got.p_t[0] == 1.0
    assert got.focal[0] == 0.0
    probs = focal_loss_batch(np.array([[1.0, 0.0]]), [0], gamma, probs=True)
    assert probs.focal[0] == 0.0 and not np.isnan(probs.focal).any()


def test_per_class_alpha():
    z = np.array([[0.0, 1.0], [1.0, 0.0]])
    got = focal_loss_batch(z, [0, 1], 2.0, alpha=[0.25, 4.0]).focal
    base = focal_loss_batch(z, [0, 1], 2.0).focal
    np.testing.assert_allclose(got, base * [0.25, 4.0], rtol=1e-15)


def test_ignore_index_gives_nan():
    got = focal_loss_batch(np.zeros((3, 2)), [0, -100, 1], ignore_index=-100)
    assert np.isnan(got.focal[1]) and np.isfinite(got.focal[[0, 2]]).all()


def test_probs_floor_keeps_it_finite():
    got = focal_loss_batch(np.array([[1.0, 0.0]]), [1], 2.0, probs=True)
    assert math.isfinite(got.ce[0]) and got.ce[0] > 700


@pytest.mark.parametrize("x", [-800.0, -40.0, -3.0, -1e-8, 0.0, 1e-8, 3.0, 40.0, 800.0])
@pytest.mark.parametrize("y", [0, 1])
def test_sigmoid_matches_mpmath(x, y):
    for gamma, alpha in ((2.0, 0.25), (0.0, -1.0), (0.5, 0.75)):
        got = focal_loss_batch(np.array([x]), [y], gamma, alpha, mode="sigmoid")
        wf, wce = mp_sigmoid(x, y, gamma, alpha)
        assert got.ce[0] == pytest.approx(float(wce), rel=1e-13, abs=0)
        if wf == 0:
            assert got.focal[0] == 0
        else:
            assert got.focal[0] == pytest.approx(float(wf), rel=1e-12)


def test_sigmoid_probs_formula():
    p = np.array([0.9, 1e-20, 0.3, 1.0])
    y = np.array([1, 0, 0, 1])
    got = focal_loss_batch(p, y, 2.0, 0.25, mode="sigmoid", probs=True)
    q = np.where(y == 1, 1 - p, p)  # 1 - p_t without cancellation
    want_ce = np.array([-math.log(0.9), 1e-20, -math.log(0.7), 0.0])
    np.testing.assert_allclose(got.ce, want_ce, rtol=1e-12)
    at = np.where(y == 1, 0.25, 0.75)
    np.testing.assert_allclose(got.focal, at * q ** 2 * want_ce, rtol=1e-12)


# ---------------------------------------------------------------- properties

logit_rows = arrays(np.float64, st.tuples(st.integers(1, 20), st.integers(2, 9)),
                    elements=st.floats(-60, 60, allow_nan=False))


@settings(max_examples=150, deadline=None)
@given(logit_rows, st.data())
def test_properties(z, data):
    n, k = z.shape
    t = np.array(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    gamma = data.draw(st.floats(0, 6))
    alpha = data.draw(st.floats(0.01, 4))
    shift = data.draw(st.floats(-500, 500))
    base = focal_loss_batch(z, t, gamma, alpha)
    # shift invariance
    moved = focal_loss_batch(z + shift, t, gamma, alpha)
    np.testing.assert_allclose(moved.ce, base.ce, rtol=1e-9, atol=1e-9 * (1 + abs(shift)))
    # gamma = 0 is alpha-weighted CE; focal <= alpha * CE
    np.testing.assert_allclose(focal_loss_batch(z, t, 0.0, alpha).focal, alpha * base.ce,
                               rtol=1e-14)
    assert (base.focal <= alpha * base.ce * (1 + 1e-12)).all()
    # alpha linearity
    np.testing.assert_allclose(focal_loss_batch(z, t, gamma, 2 * alpha).focal, 2 * base.focal,
                               rtol=1e-14)
    # ratio to CE is alpha (1 - p_t)^gamma, with 1 - p_t written without cancellation
    np.testing.assert_allclose(base.focal, alpha * (-np.expm1(-base.ce)) ** gamma * base.ce,
                               rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(base.p_t, np.exp(-base.ce), rtol=1e-15)
    # permuting classes with the targets changes nothing
    perm = np.array(data.draw(st.permutations(range(k))))
    inv = np.argsort(perm)
    permuted = focal_loss_batch(z[:, perm], inv[t], gamma, alpha)
    np.testing.assert_allclose(permuted.focal, base.focal, rtol=1e-12, atol=1e-300)
    # batched equals one by one (to a few ulps: BLAS may sum one row and many
    # rows in a different order)
    for i in range(n):
        assert focal_loss(z[i], t[i], gamma, alpha) == pytest.approx(base.focal[i],
                                                                     rel=1e-14, abs=0)


@settings(max_examples=100, deadline=None)
@given(arrays(np.float64, st.integers(1, 30), elements=st.floats(-700, 700)),
       st.data())
def test_sigmoid_k2_one_vs_rest_is_its_definition(x, data):
    y = np.array(data.draw(st.lists(st.integers(0, 1), min_size=len(x), max_size=len(x))))
    got = focal_loss_batch(x, y, 2.0, -1, mode="sigmoid")
    # binary sigmoid == softmax over logits (0, x) with class 1 as positive
    soft = focal_loss_batch(np.stack([np.zeros_like(x), x], axis=1), y, 2.0)
    np.testing.assert_allclose(got.ce, soft.ce, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(got.focal, soft.focal, rtol=1e-9, atol=1e-300)


def test_modulate_every_kind_of_gamma(rng):
    ce = rng.random(50)
    q = rng.random(50)
    q[:3] = [0.0, 1.0, 1e-300]
    for gamma in (0, 1, 2, 3, 0.5, 2.5, 4.5, 16, 16.5, 17, 0.3, 7.25):
        np.testing.assert_allclose(modulate(ce, q, gamma), q ** gamma * ce, rtol=4e-15)


def test_parts_match_the_formulas(rng):
    z = rng.normal(size=(64, 5))
    t = rng.integers(0, 5, 64)
    ce, q = softmax_parts(z, t)
    np.testing.assert_allclose(ce, reference_ce(z, t), rtol=1e-12)
    y = rng.random((64, 5)) < 0.3
    ce, q = sigmoid_parts(z, y)
    p = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(ce, -np.log(np.where(y, p, 1 - p)), rtol=1e-12)
    np.testing.assert_allclose(q, np.where(y, 1 - p, p), rtol=1e-12)


@pytest.mark.parametrize("other", [-88.0, -100.0, -104.0, -150.0, -300.0])
def test_float32_rows_in_the_underflow_range_keep_their_digits(other):
    # exp(-100) is subnormal in float32 and exp(-104) is zero: such rows must
    # still be within 1e-5 of the truth (they were 1.7% off and 0)
    z = np.array([[0.0, other]], np.float32)
    got = focal_loss_batch(z, [0], 2.0)
    # written as log1p so that 50 digits suffice (lse - z_t would need 130)
    want_ce = mp.log1p(mp.exp(other))
    want_f = (-mp.expm1(-want_ce)) ** 2 * want_ce
    assert abs(got.ce[0] - float(want_ce)) <= 1e-5 * float(want_ce)
    assert abs(got.focal[0] - float(want_f)) <= 1e-5 * float(want_f)


@pytest.mark.parametrize("x", [88.0, 100.0, 104.0, 150.0])
def test_float32_sigmoid_in_the_underflow_range(x):
    ce, q = sigmoid_parts(np.array([x], np.float32), np.array([True]))
    want = mp.log1p(mp.exp(-x))
    assert abs(ce[0] - float(want)) <= 1e-5 * float(want)


def test_big_endian_float32_is_float32(rng):
    z = rng.normal(scale=4, size=(50, 6)).astype(np.float32)
    t = rng.integers(0, 6, 50)
    little = focal_loss_batch(z, t)
    big = focal_loss_batch(z.astype(">f4"), t)
    wide = focal_loss_batch(z.astype(np.float64), t)
    assert np.array_equal(little.ce, big.ce) and np.array_equal(little.focal, big.focal)
    assert not np.array_equal(little.ce, wide.ce)  # float32 arithmetic, not float64
