"""Peers' conventions that need more than a preset: Keras' renormalised
probabilities, class and positive-class weights, FL*. Expected values are
each peer's formula written out here, with the peer's file named; the
libraries themselves check the same in peers_tests/ (make test-peers)."""
import pandas as pd
import numpy as np
import pytest

from conftest import focal
from focalcli.errors import ExitStatus

# every exactness promise on the compiled passes and on numpy's
pytestmark = pytest.mark.usefixtures("both_paths")


def keras_categorical(p, t, alpha=0.25, gamma=2.0):
    """keras/src/losses/losses.py, categorical_focal_crossentropy (float32):
    y_pred / sum(y_pred), clipped to [1e-7, 1 - 1e-7]; alpha (1 - p)^gamma
    (-log p) on the target, mean over the batch."""
    p = p.astype(np.float32)
    p = p / p.sum(axis=1, keepdims=True)
    p = np.clip(p, np.float32(1e-7), np.float32(1) - np.float32(1e-7))
    pt = p[np.arange(len(t)), t]
    return float(np.mean(np.float32(alpha) * (np.float32(1) - pt) ** np.float32(gamma) *
                         -np.log(pt)))


def test_keras_renormalises_probabilities(tmp_path, rng):
    p = rng.random((300, 6)) * 3          # rows summing to anything but 1
    t = rng.integers(0, 6, 300)
    np.save(tmp_path / "p.npy", p)
    np.save(tmp_path / "t.npy", t)
    r = focal("score", tmp_path / "p.npy", tmp_path / "t.npy", "--probs", "--like", "keras",
              "--format", "json")
    assert r.code == ExitStatus.OK, r
    assert r.json()["focal"] == pytest.approx(keras_categorical(p, t), rel=1e-6)
    # without the preset such rows are still refused (are these logits?)
    r = focal("score", tmp_path / "p.npy", tmp_path / "t.npy", "--probs")
    assert r.code == ExitStatus.BAD_INPUT and "do not sum to 1" in r.err
    p[17, 2] = -0.5
    np.save(tmp_path / "p.npy", p)
    r = focal("score", tmp_path / "p.npy", tmp_path / "t.npy", "--probs", "--like", "keras")
    assert r.code == ExitStatus.BAD_INPUT and "row 18 (index 17)" in r.err


def mp_fl_star(x_t, gamma, beta):
    """FL* of the RetinaNet paper's appendix A, in mpmath: -log(sigmoid(gamma x_t + beta)) / gamma."""
    import mpmath as mp
    with mp.workdps(50):
        y = mp.mpf(gamma) * mp.mpf(float(x_t)) + mp.mpf(beta)
        return float(mp.log(1 + mp.exp(-y)) / gamma)


@pytest.mark.parametrize("gamma, beta", [(2.0, 1.0), (4.0, 0.0), (0.5, -2.0)])
def test_fl_star_sigmoid(tmp_path, rng, gamma, beta):
    """Sigmoid elements: x_t is x for a positive and -x for a negative; the
    logits reach +-30, where 1 - p_t is 1e-13 and FL* keeps its digits."""
    x = rng.normal(scale=6, size=(60, 3))
    x[0] = [30.0, -30.0, 0.0]
    y = (rng.random((60, 3)) < 0.3).astype(int)
    y[0] = [1, 0, 1]
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    losses = focal("score", tmp_path / "x.npy", tmp_path / "y.npy", "--mode", "sigmoid",
                   "--gamma", gamma, "--beta", beta, "--loss", "fl-star",
                   "--format", "json").json()["losses"]
    x_t = np.where(y == 1, x, -x)
    want = np.mean([mp_fl_star(v, gamma, beta) for v in x_t.reshape(-1)])
    whole = {k: losses[0][k] for k in ("name", "value", "ratio_to_ce")}
    assert whole == {"name": f"fl-star:{beta:g}", "value": pytest.approx(want, rel=1e-12),
                     "ratio_to_ce": losses[0]["ratio_to_ce"]}
    # its positive and negative elements' parts, over the same denominator
    assert losses[0]["positives"] + losses[0]["negatives"] == pytest.approx(want, rel=1e-12)
    per_beta = focal("score", tmp_path / "x.npy", tmp_path / "y.npy", "--mode", "sigmoid",
                     "--gamma", gamma, "--loss", f"fl-star:{beta}", "--format",
                     "json").json()["losses"][0]["value"]
    assert per_beta == losses[0]["value"]


def test_fl_star_softmax_uses_the_binary_logit_of_p_t(tmp_path, rng):
    from conftest import reference_ce
    z = rng.normal(scale=3, size=(80, 5))
    t = rng.integers(0, 5, 80)
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "t.npy", t)
    value = focal("score", tmp_path / "z.npy", tmp_path / "t.npy", "--loss", "fl-star",
                  "--format", "json").json()["losses"][0]["value"]
    pt = np.exp(-reference_ce(z, t))
    x_t = np.log(pt / (1 - pt))
    assert value == pytest.approx(np.mean([mp_fl_star(v, 2.0, 1.0) for v in x_t]), rel=1e-10)
    r = focal("score", tmp_path / "z.npy", tmp_path / "t.npy", "--loss", "fl-star",
              "--gamma", "0")
    assert r.code == ExitStatus.BAD_INPUT and "gamma > 0" in r.err


def test_class_weight_softmax_is_a_weighted_mean(tmp_path, rng):
    """PyTorch's cross_entropy(weight=w): each example's loss times w[t], the
    mean divided by sum(w[t]); focal loss the same way."""
    from conftest import reference_ce
    z = rng.normal(scale=2, size=(200, 4))
    t = rng.integers(0, 4, 200)
    w = np.array([0.5, 2.0, 1.0, 3.0])
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "t.npy", t)
    args = [tmp_path / "z.npy", tmp_path / "t.npy", "--class-weight", "0.5,2,1,3"]
    doc = focal("score", *args, "--format", "json").json()
    ce = reference_ce(z, t)
    fl = (-np.expm1(-ce)) ** 2 * ce
    assert doc["ce"] == pytest.approx((w[t] * ce).sum() / w[t].sum(), rel=1e-12)
    assert doc["focal"] == pytest.approx((w[t] * fl).sum() / w[t].sum(), rel=1e-12)
    summed = focal("score", *args, "--reduction", "sum", "--format", "json").json()
    assert summed["focal"] == pytest.approx((w[t] * fl).sum(), rel=1e-12)
    rows = focal("score", *args, "--per-example", "--format", "json").json()
    np.testing.assert_allclose([r["focal"] for r in rows], w[t] * fl, rtol=1e-12)
    cell = focal("sweep", *args, "--gammas", "2", "--format", "json").json()["grid"][0]
    assert cell["focal"] == doc["focal"]
    # Keras' class weights come as sample weights, and its mean divides by N
    keras = focal("score", *args, "--like", "keras", "--alpha", "1", "--format", "json").json()
    assert keras["focal"] == pytest.approx((w[t] * fl).mean(), rel=1e-5)


def test_pos_weight_and_class_weight_sigmoid(tmp_path, rng):
    """BCEWithLogitsLoss(weight=w, pos_weight=p), written out:
    -w_k [p_k y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))], mean over the
    N*K elements (not over the weights), and the focal factor on top."""
    x = rng.normal(scale=2, size=(100, 3))
    y = (rng.random((100, 3)) < 0.3).astype(int)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    w, p = np.array([1.0, 0.5, 2.0]), np.array([3.0, 1.0, 0.25])
    doc = focal("score", tmp_path / "x.npy", tmp_path / "y.npy", "--mode", "sigmoid",
                "--alpha", "-1", "--class-weight", "1,0.5,2", "--pos-weight", "3,1,0.25",
                "--format", "json").json()
    log_p, log_not_p = -np.logaddexp(0, -x), -np.logaddexp(0, x)
    scale = w * np.where(y == 1, p, 1.0)
    ce = -np.where(y == 1, log_p, log_not_p)
    q = 1 - np.exp(-ce)
    assert doc["ce"] == pytest.approx((scale * ce).mean(), rel=1e-12)
    assert doc["focal"] == pytest.approx((scale * q ** 2 * ce).mean(), rel=1e-12)


@pytest.mark.parametrize("args, message", [
    (["--class-weight", "1,2"], "--class-weight gives 2 weights for 10 classes"),
    (["--class-weight", "1,-2,1,1,1,1,1,1,1,1"], "--class-weight: '1,-2,1,1,1,1,1,1,1,1': "
     "weights must be finite and >= 0"),
    (["--class-weight", "a,b"], "--class-weight: 'a,b': a comma list of numbers"),
    (["--pos-weight", "1,1,1,1,1,1,1,1,1,1"], "--pos-weight: weighs the positive elements"),
    (["--class-weight", "inf,1,1,1,1,1,1,1,1,1"], "weights must be finite"),
])
def test_weight_refusals(args, message):
    from conftest import sample
    r = focal("score", sample("digits.npy"), sample("digits_targets.npy"), *args)
    assert r.code == ExitStatus.BAD_INPUT and message in r.err and r.err.count("\n") == 1


def test_per_element_rows_are_torchvisions_matrix(tmp_path, rng):
    """torchvision.ops.sigmoid_focal_loss(reduction='none') is an (N, K)
    matrix: ce = BCE, loss = alpha_t (1 - p_t)^gamma ce (torchvision/ops/
    focal_loss.py, written out); --per-element gives it row-major."""
    x = rng.normal(scale=3, size=(40, 3))
    y = (rng.random((40, 3)) < 0.3).astype(int)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    rows = focal("score", tmp_path / "x.npy", tmp_path / "y.npy", "--mode", "sigmoid",
                 "--per-element", "--format", "json").json()
    p = 1 / (1 + np.exp(-x))
    ce = np.logaddexp(0, -x) * y + np.logaddexp(0, x) * (1 - y)
    p_t = p * y + (1 - p) * (1 - y)
    alpha_t = 0.25 * y + 0.75 * (1 - y)
    want = alpha_t * (1 - p_t) ** 2 * ce
    assert [(r["index"], r["class"], r["target"]) for r in rows] == \
        [(i, str(k), int(y[i, k])) for i in range(40) for k in range(3)]
    np.testing.assert_allclose([r["focal"] for r in rows], want.reshape(-1), rtol=1e-12)
    np.testing.assert_allclose([r["p_t"] for r in rows], p_t.reshape(-1), rtol=1e-12)


def test_keras_binary_rows_are_the_mean_over_classes(tmp_path, rng):
    """keras BinaryFocalCrossentropy(reduction=None): per example, the mean over
    the last axis (keras/src/losses/losses.py, binary_focal_crossentropy),
    float32, probabilities clipped to [1e-7, 1 - 1e-7] in the log only."""
    x = rng.normal(scale=2, size=(30, 4))
    y = (rng.random((30, 4)) < 0.4).astype(int)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    rows = focal("score", tmp_path / "x.npy", tmp_path / "y.npy", "--mode", "sigmoid",
                 "--like", "keras", "--per-example", "--format", "json").json()
    p = (1 / (1 + np.exp(-x.astype(np.float32)))).astype(np.float32)
    c = np.clip(p, np.float32(1e-7), np.float32(1 - 1e-7))
    bce = -(y * np.log(c) + (1 - y) * np.log(1 - c))
    p_t = y * p + (1 - y) * (1 - p)
    want = ((1 - p_t) ** 2 * bce).mean(axis=1)
    np.testing.assert_allclose([r["focal"] for r in rows], want, rtol=1e-5)


def test_sample_weights_softmax(tmp_path, rng):
    """--weights: each example's loss times its weight; the mean divides by
    the summed weights (with --class-weight too: by sum w_i v[t_i]); Keras
    (sample_weight, sum_over_batch_size) divides by N."""
    from conftest import reference_ce
    z = rng.normal(scale=2, size=(150, 4))
    t = rng.integers(0, 4, 150)
    w = rng.random(150) * 3
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "t.npy", t)
    np.save(tmp_path / "w.npy", w)
    (tmp_path / "w.txt").write_text("weight\n" + "\n".join(repr(float(v)) for v in w) + "\n")
    ce = reference_ce(z, t)
    fl = (-np.expm1(-ce)) ** 2 * ce
    base = [tmp_path / "z.npy", tmp_path / "t.npy"]
    for source in ("w.npy", "w.txt"):
        doc = focal("score", *base, "--weights", tmp_path / source, "--format", "json").json()
        assert doc["focal"] == pytest.approx((w * fl).sum() / w.sum(), rel=1e-12)
        assert doc["ce"] == pytest.approx((w * ce).sum() / w.sum(), rel=1e-12)
        assert doc["n"] == 150
    rows = focal("score", *base, "--weights", tmp_path / "w.npy", "--per-example",
                 "--format", "json").json()
    np.testing.assert_allclose([r["focal"] for r in rows], w * fl, rtol=1e-12)
    np.testing.assert_allclose([r["p_t"] for r in rows], np.exp(-ce), rtol=1e-12)
    v = np.array([1.0, 2.0, 0.5, 1.0])
    both = focal("score", *base, "--weights", tmp_path / "w.npy", "--class-weight", "1,2,0.5,1",
                 "--format", "json").json()
    assert both["focal"] == pytest.approx((v[t] * w * fl).sum() / (v[t] * w).sum(), rel=1e-12)
    keras = focal("score", *base, "--weights", tmp_path / "w.npy", "--like", "keras",
                  "--format", "json").json()
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    per = np.array([keras_categorical(p[i:i + 1], t[i:i + 1]) for i in range(150)])
    assert keras["focal"] == pytest.approx((w * per).mean(), rel=1e-5)
    scalar = focal("score", *base, "--weights", "3", "--like", "keras", "--format",
                   "json").json()
    assert scalar["focal"] == pytest.approx(3 * per.mean(), rel=1e-5)


def test_sample_weights_sigmoid_and_dense(tmp_path, rng):
    x = rng.normal(scale=2, size=(50, 3))
    y = (rng.random((50, 3)) < 0.3).astype(int)
    w = rng.random(50)
    for name, a in (("x", x), ("y", y), ("w", w)):
        np.save(tmp_path / f"{name}.npy", a)
    doc = focal("score", tmp_path / "x.npy", tmp_path / "y.npy", "--mode", "sigmoid",
                "--alpha", "-1", "--weights", tmp_path / "w.npy", "--format", "json").json()
    ce = np.logaddexp(0, -x) * y + np.logaddexp(0, x) * (1 - y)
    fl = (-np.expm1(-ce)) ** 2 * ce
    assert doc["focal"] == pytest.approx((w[:, None] * fl).sum() / (3 * w.sum()), rel=1e-12)
    # a dense input: one weight per pixel, ignored pixels out of both sums
    z = rng.normal(size=(2, 3, 4, 5))
    t = rng.integers(0, 3, (2, 4, 5))
    t[0, 0, :2] = 255
    wp = rng.random((2, 4, 5))
    for name, a in (("dz", z), ("dt", t), ("dw", wp)):
        np.save(tmp_path / f"{name}.npy", a)
    doc = focal("score", tmp_path / "dz.npy", tmp_path / "dt.npy", "--ignore-index", "255",
                "--weights", tmp_path / "dw.npy", "--format", "json").json()
    zz = np.moveaxis(z, 1, -1).reshape(-1, 3)
    tt, ww = t.reshape(-1), wp.reshape(-1)
    keep = tt != 255
    from conftest import reference_ce
    dce = reference_ce(zz[keep], tt[keep])
    dfl = (-np.expm1(-dce)) ** 2 * dce
    assert doc["focal"] == pytest.approx((ww[keep] * dfl).sum() / ww[keep].sum(), rel=1e-12)


def test_sample_weight_refusals(tmp_path):
    from conftest import sample
    digits = [sample("digits.npy"), sample("digits_targets.npy")]
    np.save(tmp_path / "short.npy", np.ones(100))
    np.save(tmp_path / "long.npy", np.ones(600))
    bad = np.ones(579)
    bad[41] = -1
    np.save(tmp_path / "neg.npy", bad)
    (tmp_path / "w.txt").write_text("1\n2\nmany\n")
    for args, message in (
            (["--weights", tmp_path / "short.npy"], "--weights has 100 weights"),
            (["--weights", tmp_path / "long.npy"], "--weights has 600 weights for 579"),
            (["--weights", tmp_path / "neg.npy"], "neg.npy, row 42 (index 41): weight -1.0"),
            (["--weights", tmp_path / "w.txt"], "w.txt, row 3 (index 2): 'many' is not a"),
            (["--weights", "-2"], "--weights: '-2': a weight must be finite and >= 0"),
            (["--weights", "nan"], "--weights: 'nan': a weight must be finite")):
        r = focal("score", *digits, *args)
        assert r.code == ExitStatus.BAD_INPUT and message in r.err, (args, r.err)
        assert r.err.count("\n") == 1


def test_soft_targets_and_label_smoothing(tmp_path, rng):
    """Soft targets y (N, K): CE = -sum_j y_j log p_j (PyTorch's cross_entropy
    with probability targets) and focal loss sum_j y_j (1 - p_j)^gamma
    (-log p_j) (Keras' categorical focal crossentropy, keras/src/losses/
    losses.py); label smoothing turns y into (1 - eps) y + eps / K."""
    import mpmath as mp
    z = rng.normal(scale=2, size=(60, 4))
    z[0] = [40.0, 0.0, -3.0, 1.0]             # confident: -log p of the top keeps digits
    y = rng.dirichlet(np.ones(4), 60)
    y[0] = [1.0, 0.0, 0.0, 0.0]
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "y.npy", y)

    @mp.workdps(40)
    def want(zs, ys, gamma=2.0):
        ce_total, fl_total = mp.mpf(0), mp.mpf(0)
        for zr, yr in zip(zs, ys):
            lse = mp.log(mp.fsum(mp.exp(mp.mpf(float(v))) for v in zr))
            for zj, yj in zip(zr, yr):
                if yj:
                    nlp = lse - mp.mpf(float(zj))
                    ce_total += mp.mpf(float(yj)) * nlp
                    fl_total += mp.mpf(float(yj)) * (1 - mp.exp(-nlp)) ** gamma * nlp
        return float(ce_total / len(zs)), float(fl_total / len(zs))

    ce, fl = want(z, y)
    for extra in ([], ["--soft-targets"]):
        doc = focal("score", tmp_path / "z.npy", tmp_path / "y.npy", *extra,
                    "--format", "json").json()
        assert doc["ce"] == pytest.approx(ce, rel=1e-13)
        assert doc["focal"] == pytest.approx(fl, rel=1e-13)
    np.savetxt(tmp_path / "y.csv", y, delimiter=",", fmt="%.17g")
    (tmp_path / "y.json").write_text(__import__("json").dumps({"targets": y.tolist()}))
    for other in ("y.csv", "y.json"):
        doc = focal("score", tmp_path / "z.npy", tmp_path / other, "--format", "json").json()
        assert doc["focal"] == pytest.approx(fl, rel=1e-13), other
    row0 = focal("score", tmp_path / "z.npy", tmp_path / "y.npy", "--per-example",
                 "--format", "json").json()[0]
    assert row0["ce"] == pytest.approx(float(mp.log(1 + mp.exp(-40) + mp.exp(-43) +
                                                    mp.exp(-39))), rel=1e-13)
    t = rng.integers(0, 4, 60)
    np.save(tmp_path / "t.npy", t)
    smooth = np.full((60, 4), 0.1 / 4)
    smooth[np.arange(60), t] += 0.9
    ce, fl = want(z, smooth)
    doc = focal("score", tmp_path / "z.npy", tmp_path / "t.npy", "--label-smoothing", "0.1",
                "--format", "json").json()
    assert doc["ce"] == pytest.approx(ce, rel=1e-13)
    assert doc["focal"] == pytest.approx(fl, rel=1e-13)
    sweep = focal("sweep", tmp_path / "z.npy", tmp_path / "t.npy", "--label-smoothing", "0.1",
                  "--gammas", "2", "--format", "json").json()["grid"][0]
    assert sweep["focal"] == doc["focal"]


def test_soft_target_refusals(tmp_path, rng):
    z = rng.normal(size=(10, 3))
    np.save(tmp_path / "z.npy", z)
    y = rng.dirichlet(np.ones(3), 10)
    y[4] *= 1.01
    np.save(tmp_path / "y.npy", y)
    r = focal("score", tmp_path / "z.npy", tmp_path / "y.npy")
    assert r.code == ExitStatus.BAD_INPUT and "row 5 (index 4): soft targets sum to" in r.err
    y[4] /= 1.01
    y[6] = [1.2, -0.2, 0.0]
    np.save(tmp_path / "y.npy", y)
    r = focal("score", tmp_path / "z.npy", tmp_path / "y.npy")
    assert r.code == ExitStatus.BAD_INPUT and "row 7 (index 6), column '0': soft target 1.2" \
        in r.err
    y[6] = [1.0, 0.0, 0.0]
    np.save(tmp_path / "y.npy", y)
    for args, message in ((["--label-smoothing", "1"], "--label-smoothing: must be in [0, 1)"),
                          (["--label-smoothing", "-0.1"], "must be in [0, 1)"),
                          (["--gradient"], "--gradient, --grad and --loss are for class-index"),
                          (["--mode", "sigmoid", "--soft-targets", "--pos-weight", "2,2,2"],
                           "--pos-weight: weighs the positive term of each element")):
        r = focal("score", tmp_path / "z.npy", tmp_path / "y.npy", *args)
        assert r.code == ExitStatus.BAD_INPUT and message in r.err, (args, r.err)


def test_python_api_takes_the_conventions(rng):
    """focal_loss_batch with weights, soft targets and smoothing: per row, as
    PyTorch's reduction='none' (formulas written out)."""
    from conftest import reference_ce
    from focalcli import focal_loss_batch
    z = rng.normal(scale=2, size=(30, 4))
    t = rng.integers(0, 4, 30)
    ce = reference_ce(z, t)
    fl = (-np.expm1(-ce)) ** 2 * ce
    w, sw = np.array([1.0, 2.0, 0.5, 3.0]), rng.random(30)
    terms = focal_loss_batch(z, t, weight=w, sample_weight=sw)
    np.testing.assert_allclose(terms.focal, w[t] * sw * fl, rtol=1e-12)
    np.testing.assert_allclose(terms.ce, w[t] * sw * ce, rtol=1e-12)
    y = np.full((30, 4), 0.05 / 4)
    y[np.arange(30), t] += 0.95
    logp = z - np.log(np.exp(z).sum(1, keepdims=True))
    smoothed = focal_loss_batch(z, t, label_smoothing=0.05)
    np.testing.assert_allclose(smoothed.ce, -(y * logp).sum(1), rtol=1e-12)
    np.testing.assert_allclose(smoothed.focal, (y * (1 - np.exp(logp)) ** 2 * -logp).sum(1),
                               rtol=1e-12)
    np.testing.assert_allclose(focal_loss_batch(z, y).focal, smoothed.focal, rtol=1e-15)
    x = rng.normal(size=(20, 3))
    lab = (rng.random((20, 3)) < 0.4).astype(int)
    pw = np.array([2.0, 1.0, 0.5])
    bce = focal_loss_batch(x, lab, gamma=0, alpha=-1, mode="sigmoid", pos_weight=pw).ce
    want = -(pw * lab * -np.logaddexp(0, -x) + (1 - lab) * -np.logaddexp(0, x))
    np.testing.assert_allclose(bce, want, rtol=1e-12)
    for kwargs in ({"weight": [1, 2]}, {"weight": [1, -1, 1, 1]}, {"pos_weight": [1] * 4},
                   {"sample_weight": np.ones(7)}, {"label_smoothing": 1.0}):
        with pytest.raises(ValueError):
            focal_loss_batch(z, t, **kwargs)


def test_weight_column(tmp_path, rng):
    """--weight-col: the weights as a column of the predictions' table (CSV,
    Parquet), the same as --weights; bad cells named by row and column."""
    import pandas as pd
    from conftest import reference_ce
    z = rng.normal(scale=2, size=(120, 3))
    t = rng.integers(0, 3, 120)
    w = rng.random(120) * 2
    frame = pd.DataFrame(z, columns=["a", "b", "c"]).assign(target=t, w=w)
    frame.to_csv(tmp_path / "p.csv", index=False)
    frame.to_parquet(tmp_path / "p.parquet")
    ce = reference_ce(z, t)
    fl = (-np.expm1(-ce)) ** 2 * ce
    for name in ("p.csv", "p.parquet"):
        doc = focal("score", tmp_path / name, "--weight-col", "w", "--format", "json").json()
        assert doc["focal"] == pytest.approx((w * fl).sum() / w.sum(), rel=1e-12), name
        assert doc["classes"] == 3  # the weight column is not a class
    frame.loc[37, "w"] = -1.0
    frame.to_csv(tmp_path / "bad.csv", index=False)
    r = focal("score", tmp_path / "bad.csv", "--weight-col", "w")
    assert r.code == ExitStatus.BAD_INPUT and "line 39, column 'w': weight '-1.0'" in r.err
    r = focal("score", tmp_path / "p.csv", "--weight-col", "nope")
    assert r.code == ExitStatus.BAD_INPUT and "has no weight column 'nope'" in r.err
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "t.npy", t)
    r = focal("score", tmp_path / "z.npy", tmp_path / "t.npy", "--weight-col", "w")
    assert r.code == ExitStatus.BAD_INPUT and r.err.startswith("Error: --weight-col:")
    r = focal("score", tmp_path / "p.csv", "--weight-col", "w", "--weights", "2")
    assert r.code == ExitStatus.BAD_INPUT and "give one" in r.err


@pytest.mark.parametrize("weighted", [False, True])
def test_like_mmpretrain(tmp_path, rng, weighted):
    """mmpretrain/models/losses/focal_loss.py (sigmoid_focal_loss with
    weight_reduce_loss), written out: the one-hot sigmoid form, alpha 0.25,
    sample weights on each row's elements, the mean over N*K."""
    x = rng.normal(0, 2, (120, 5))
    t = rng.integers(0, 5, 120)
    w = rng.random(120) * 2
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "t.npy", t)
    np.save(tmp_path / "w.npy", w)
    extra = ["--weights", tmp_path / "w.npy"] if weighted else []
    doc = focal("score", tmp_path / "x.npy", tmp_path / "t.npy", "--like", "mmpretrain",
                *extra, "--format", "json").json()
    y = np.eye(5)[t]
    p = 1 / (1 + np.exp(-x))
    pt = (1 - p) * y + p * (1 - y)           # mmpretrain's "pt" is 1 - p_t
    loss = -(y * np.log(p) + (1 - y) * np.log1p(-p)) * (0.25 * y + 0.75 * (1 - y)) * pt ** 2
    if weighted:
        loss = loss * w[:, None]
    assert doc["focal"] == pytest.approx(loss.mean(), rel=1e-12)
    assert doc["like"] == "mmpretrain" and doc["mode"] == "sigmoid"
    run = focal("score", tmp_path / "x.npy", tmp_path / "t.npy", "--like", "mmpretrain",
                "--mode", "softmax")
    assert run.code == 2 and "mmpretrain's FocalLoss is the sigmoid form" in run.err


@pytest.mark.parametrize("mode", ["sigmoid", "softmax"])
def test_drop_class_is_monai_include_background_false(tmp_path, rng, mode):
    """monai/losses/focal_loss.py with include_background=False, written out:
    channel 0 leaves input and one-hot target; sigmoid per element, or the
    softmax over the other channels (a background pixel's one-hot row is all
    zeros: no loss, still in the mean over B*(C-1)*spatial)."""
    z = rng.normal(0, 2, (2, 4, 5, 6))
    t = rng.integers(0, 4, (2, 5, 6))
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "t.npy", t)
    flags = ["--mode", "softmax"] if mode == "softmax" else []
    doc = focal("score", tmp_path / "z.npy", tmp_path / "t.npy", "--like", "monai", *flags,
                "--drop-class", "0", "--format", "json").json()
    x = np.moveaxis(z, 1, -1)[..., 1:]                     # (N, H, W, C - 1)
    y = np.eye(4)[t][..., 1:]
    if mode == "sigmoid":
        p = 1 / (1 + np.exp(-x))
        pt = np.where(y == 1, p, 1 - p)
        loss = -(1 - pt) ** 2 * np.log(pt)
    else:
        logp = x - x.max(-1, keepdims=True)
        logp = logp - np.log(np.exp(logp).sum(-1, keepdims=True))
        loss = -(1 - np.exp(logp)) ** 2 * logp * y
    assert doc["focal"] == pytest.approx(loss.mean(), rel=1e-12)
    assert doc["class_names"] == ["1", "2", "3"]


def test_drop_class_by_name_and_refusals(tmp_path, rng):
    z = rng.normal(0, 2, (30, 4))
    t = np.array(["bg", "cat", "dog", "owl"])[rng.integers(0, 4, 30)]
    np.save(tmp_path / "z.npy", z)
    (tmp_path / "t.txt").write_text("\n".join(t) + "\n")
    (tmp_path / "names.txt").write_text("bg\ncat\ndog\nowl\n")
    base = ["score", tmp_path / "z.npy", tmp_path / "t.txt", "--class-names",
            tmp_path / "names.txt"]
    doc = focal(*base, "--drop-class", "bg", "--format", "json").json()
    keep = t != "bg"
    x = z[keep][:, 1:]
    idx = np.searchsorted(["cat", "dog", "owl"], t[keep])
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    lpt = logp[np.arange(len(idx)), idx]
    assert doc["focal"] == pytest.approx(np.mean(-(1 - np.exp(lpt)) ** 2 * lpt), rel=1e-12)
    assert (doc["n"], doc["ignored"]) == (int(keep.sum()), int((~keep).sum()))
    for flag, message in ((["--drop-class", "eel"], "--drop-class 'eel' is neither a class"),
                          (["--drop-class", "7"], "--drop-class 7 is out of range"),
                          (["--drop-class", "0", "--label-smoothing", "0.1"],
                           "--drop-class: is for class-index or 0/1 targets")):
        run = focal(*base, *flag)
        assert run.code == 2 and message in run.err, run


@pytest.mark.parametrize("alpha", [0.25, -1.0])
def test_fl_star_with_alpha_per_element_is_fvcores(tmp_path, rng, alpha):
    """fvcore/nn/focal_loss.py sigmoid_focal_loss_star, written out:
    -logsigmoid(gamma x (2y - 1)) / gamma, times alpha_t when alpha >= 0;
    reduction 'none' per element, 'mean' over N*K."""
    x = rng.normal(0, 4, (40, 3))
    y = (rng.random((40, 3)) < 0.3).astype(int)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    gamma = 1.5
    run = focal("score", tmp_path / "x.npy", tmp_path / "y.npy", "--mode", "sigmoid",
                "--gamma", gamma, "--loss", f"fl-star:0,{alpha}", "--per-element",
                "-o", tmp_path / "e.csv", "--format", "json")
    assert run.code == 0, run
    want = np.logaddexp(0, -gamma * x * (2 * y - 1)) / gamma
    if alpha >= 0:
        want = want * (alpha * y + (1 - alpha) * (1 - y))
    doc = focal("score", tmp_path / "x.npy", tmp_path / "y.npy", "--mode", "sigmoid",
                "--gamma", gamma, "--loss", f"fl-star:0,{alpha}", "--format", "json").json()
    assert doc["losses"][0]["value"] == pytest.approx(want.mean(), rel=1e-12)
    rows = pd.read_csv(tmp_path / "e.csv")
    np.testing.assert_allclose(rows[f"fl-star_0_{alpha:g}"], want.reshape(-1), rtol=1e-12)
    bad = focal("score", tmp_path / "x.npy", tmp_path / "y.npy", "--mode", "sigmoid",
                "--loss", "fl-star:0,2")
    assert bad.code == 2 and "ALPHA at most 1" in bad.err


def test_like_monai_refuses_an_alpha_list_in_sigmoid_mode(tmp_path, rng):
    """MONAI 1.6 weighs only the positives by a per-class alpha (negatives 1):
    refused rather than scored as focal's 1 - alpha_c on the negatives."""
    np.save(tmp_path / "z.npy", rng.normal(size=(6, 3)))
    np.save(tmp_path / "t.npy", np.array([0, 1, 2, 0, 1, 2]))
    run = focal("score", tmp_path / "z.npy", tmp_path / "t.npy", "--like", "monai",
                "--alpha", "0.1,0.5,2")
    assert run.code == 2 and "MONAI weighs only the positives" in run.err
