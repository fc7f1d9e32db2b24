"""The gradient view: exact gradients of CE and focal loss with respect to
the logits, against finite differences in mpmath (and torch autograd where
installed); the summary's shares against the formula written out here."""
import mpmath as mp
import numpy as np
import pytest

from conftest import focal, sample
from focalcli.errors import ExitStatus

DIGITS = [sample("digits.npy"), sample("digits_targets.npy")]


def mp_focal(z, t, gamma):
    z = [v if isinstance(v, mp.mpf) else mp.mpf(float(v)) for v in z]
    m = max(z)
    ce = m + mp.log(mp.fsum(mp.exp(v - m) for v in z)) - z[t]
    return (1 - mp.exp(-ce)) ** gamma * ce


@mp.workdps(50)  # the precision is set here, not for the whole session
def mp_gradient(z, t, gamma):
    eps = mp.mpf("1e-18")
    out = []
    for j in range(len(z)):
        up = [mp.mpf(float(v)) + (eps if i == j else 0) for i, v in enumerate(z)]
        down = [mp.mpf(float(v)) - (eps if i == j else 0) for i, v in enumerate(z)]
        out.append(float((mp_focal(up, t, gamma) - mp_focal(down, t, gamma)) / (2 * eps)))
    return np.array(out)


def formula(z, t, gamma=2.0):
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    onehot = np.eye(z.shape[1])[t]
    pt = p[np.arange(len(t)), t]
    ce = -np.log(pt)
    q = 1 - pt
    h = q ** gamma + gamma * pt * q ** (gamma - 1) * ce
    return p - onehot, h, pt


@pytest.mark.parametrize("gamma", ["2", "0.5", "0"])
def test_full_gradient_against_finite_differences(tmp_path, gamma):
    z, t = np.load(DIGITS[0]), np.load(DIGITS[1])
    out = tmp_path / "g.npy"
    assert focal("score", *DIGITS, "--gamma", gamma, "--reduction", "sum", "--grad",
                 out).code == ExitStatus.OK
    grad = np.load(out)
    assert grad.shape == z.shape and grad.dtype == np.float64
    for i in (0, 4, 530):  # an ordinary row, a confident one, a hopeless one
        want = mp_gradient(z[i], t[i], float(gamma))
        np.testing.assert_allclose(grad[i], want, rtol=1e-9, atol=1e-300)
    mean = tmp_path / "m.npy"
    focal("score", *DIGITS, "--gamma", gamma, "--grad", mean)
    np.testing.assert_allclose(np.load(mean), grad / len(t), rtol=1e-15)


@pytest.mark.torch
def test_full_gradient_against_autograd(tmp_path):
    torch = pytest.importorskip("torch")
    z, t = np.load(DIGITS[0]), np.load(DIGITS[1])
    zt = torch.from_numpy(z).requires_grad_(True)
    ce = torch.nn.functional.cross_entropy(zt, torch.from_numpy(t), reduction="none")
    ((1 - torch.exp(-ce)) ** 2 * ce).mean().backward()
    focal("score", *DIGITS, "--grad", tmp_path / "g.npy")
    np.testing.assert_allclose(np.load(tmp_path / "g.npy"), zt.grad.numpy(), rtol=1e-7,
                               atol=1e-16)


def test_norms_and_shares():
    z, t = np.load(DIGITS[0]), np.load(DIGITS[1])
    doc = focal("score", *DIGITS, "--gradient", "--format", "json").json()["gradient"]
    rows = focal("score", *DIGITS, "--gradient", "--per-example", "--format", "json").json()
    g, h, pt = formula(z, t)
    norm = np.linalg.norm(g, axis=1)
    np.testing.assert_allclose([r["grad_ce"] for r in rows], norm, rtol=1e-10)
    np.testing.assert_allclose([r["grad_focal"] for r in rows], h * norm, rtol=1e-9)
    easy = pt >= 0.5
    assert doc["easy_share_ce"] == pytest.approx(norm[easy].sum() / norm.sum(), rel=1e-9)
    f = h * norm
    assert doc["easy_share_focal"] == pytest.approx(f[easy].sum() / f.sum(), rel=1e-9)
    assert doc["effective_examples_focal"] == pytest.approx(f.sum() ** 2 / (f * f).sum(),
                                                            rel=1e-9)
    # the paper's point, on real predictions: focusing takes the gradient off easy examples
    assert doc["easy_share_focal"] < doc["easy_share_ce"] / 2


def test_sigmoid_gradient_per_element(tmp_path, rng):
    x = rng.normal(scale=2, size=(50, 3))
    y = (rng.random((50, 3)) < 0.3).astype(int)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    rows = focal("score", tmp_path / "x.npy", tmp_path / "y.npy", "--mode", "sigmoid",
                 "--alpha", "-1", "--gradient", "--per-example", "--format", "json").json()
    p = 1 / (1 + np.exp(-x))
    grad_ce = p - y  # d BCE / dx
    pt = np.where(y == 1, p, 1 - p)
    q, ce = 1 - pt, -np.log(pt)
    h = q ** 2 + 2 * pt * q * ce
    np.testing.assert_allclose([r["grad_ce"] for r in rows], np.linalg.norm(grad_ce, axis=1),
                               rtol=1e-10)
    np.testing.assert_allclose([r["grad_focal"] for r in rows],
                               np.linalg.norm(h * grad_ce, axis=1), rtol=1e-9)


def sigmoid_formula(x, y, gamma, alpha):
    """d/dx of alpha_t (1 - p_t)^gamma BCE: h (p - y) alpha_t, h as softmax's."""
    p = 1 / (1 + np.exp(-x))
    pt = np.where(y == 1, p, 1 - p)
    q = 1 - pt
    ce = -np.log(pt)
    h = q ** gamma + gamma * pt * q ** (gamma - 1) * ce
    at = 1.0 if alpha < 0 else np.where(y == 1, alpha, 1 - alpha)
    return at * h * (p - y)


@pytest.mark.parametrize("gamma, alpha", [(2.0, 0.25), (0.5, -1.0), (3.0, 0.6)])
def test_sigmoid_grad_in_the_logits_shape(tmp_path, rng, gamma, alpha):
    x = rng.normal(0, 3, (60, 5))
    y = (rng.random((60, 5)) < 0.3).astype(np.int64)
    y[0, 0] = y[3, 4] = -1
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    run = focal("score", tmp_path / "x.npy", tmp_path / "y.npy", "--mode", "sigmoid",
                "--ignore-index", "-1", "--gamma", gamma, "--alpha", alpha,
                "--pos-weight", "1,2,1,1,3", "--grad", tmp_path / "g.npy")
    assert run.code == ExitStatus.OK, run
    keep = y != -1
    want = sigmoid_formula(x, np.clip(y, 0, 1), gamma, alpha) * \
        np.where(y == 1, [1, 2, 1, 1, 3], 1) * keep / keep.sum()
    np.testing.assert_allclose(np.load(tmp_path / "g.npy"), want, rtol=1e-10, atol=1e-300)


@pytest.mark.parametrize("axis", [1, -1])
def test_dense_grad_in_the_logits_shape(tmp_path, rng, axis):
    z = rng.normal(0, 2, (2, 3, 4, 5)).astype(np.float32)  # (N, C, H, W)
    t = rng.integers(0, 3, (2, 4, 5))
    t[0, 0] = 255
    if axis == -1:
        z = np.moveaxis(z, 1, -1).copy()                     # (N, H, W, C)
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "t.npy", t)
    run = focal("score", tmp_path / "z.npy", tmp_path / "t.npy", "--ignore-index", "255",
                "--class-axis", axis, "--grad", tmp_path / "g.npy")
    assert run.code == ExitStatus.OK, run
    grad = np.load(tmp_path / "g.npy")
    assert grad.shape == z.shape and grad.dtype == np.float32
    rows = (z if axis == -1 else np.moveaxis(z, 1, -1)).reshape(-1, 3).astype(np.float64)
    flat = t.reshape(-1)
    keep = flat != 255
    g, h, _ = formula(rows, np.where(keep, flat, 0))
    want = (h[:, None] * g * keep[:, None] / keep.sum()).reshape(2, 4, 5, 3)
    got = grad if axis == -1 else np.moveaxis(grad, 1, -1)
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-9)


@pytest.mark.torch
def test_sigmoid_and_dense_grad_against_autograd(tmp_path, rng):
    """torchvision's sigmoid_focal_loss as its source has it, and the dense
    softmax form over F.cross_entropy's (N, C, H, W), differentiated by torch."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = rng.normal(0, 3, (40, 4))
    y = (rng.random((40, 4)) < 0.3).astype(np.float64)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    focal("score", tmp_path / "x.npy", tmp_path / "y.npy", "--like", "torchvision", "--grad",
          tmp_path / "gs.npy")
    xt, yt = torch.from_numpy(x).requires_grad_(True), torch.from_numpy(y)
    p = torch.sigmoid(xt)
    ce = F.binary_cross_entropy_with_logits(xt, yt, reduction="none")
    p_t = p * yt + (1 - p) * (1 - yt)
    ((0.25 * yt + 0.75 * (1 - yt)) * ce * (1 - p_t) ** 2).mean().backward()
    np.testing.assert_allclose(np.load(tmp_path / "gs.npy"), xt.grad.numpy(), rtol=1e-7,
                               atol=1e-16)
    z = rng.normal(0, 2, (2, 3, 4, 5))
    t = rng.integers(0, 3, (2, 4, 5))
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "t.npy", t)
    focal("score", tmp_path / "z.npy", tmp_path / "t.npy", "--grad", tmp_path / "gd.npy")
    zt = torch.from_numpy(z).requires_grad_(True)
    ce = F.cross_entropy(zt, torch.from_numpy(t), reduction="none")
    ((1 - torch.exp(-ce)) ** 2 * ce).mean().backward()
    np.testing.assert_allclose(np.load(tmp_path / "gd.npy"), zt.grad.numpy(), rtol=1e-7,
                               atol=1e-16)


def test_grad_under_other_denominators_and_extreme_ignored_rows(tmp_path, rng):
    """--normalize positives divides the gradient as it divides the loss;
    an ignored row of float64's largest logits changes nothing (kornia's own
    test_ignored_extreme_logits case)."""
    x = rng.normal(0, 3, (30, 4))
    y = (rng.random((30, 4)) < 0.2).astype(np.int64)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    run = focal("score", tmp_path / "x.npy", tmp_path / "y.npy", "--mode", "sigmoid",
                "--normalize", "positives", "--grad", tmp_path / "g.npy")
    assert run.code == ExitStatus.OK, run
    want = sigmoid_formula(x, y, 2.0, 0.25) / max(1, y.sum())
    np.testing.assert_allclose(np.load(tmp_path / "g.npy"), want, rtol=1e-10, atol=1e-300)
    extreme = np.finfo(np.float64).max
    t = np.array([-100, 0, 1])
    np.save(tmp_path / "t.npy", t)
    grads = []
    for name, first in (("e", [extreme, -extreme]), ("s", [0.0, 0.0])):
        np.save(tmp_path / f"{name}.npy", np.array([first, [0.3, -0.2], [1.0, 2.0]]))
        run = focal("score", tmp_path / f"{name}.npy", tmp_path / "t.npy", "--like", "kornia",
                    "--ignore-index", "-100", "--grad", tmp_path / f"g{name}.npy",
                    "--format", "json")
        assert run.code == ExitStatus.OK, run
        grads.append((run.json()["focal"], np.load(tmp_path / f"g{name}.npy")))
    assert grads[0][0] == grads[1][0]
    np.testing.assert_array_equal(grads[0][1], grads[1][1])


def test_grad_refusals(tmp_path):
    r = focal("score", *DIGITS, "--probs", "--grad", tmp_path / "g.npy")
    assert r.code == ExitStatus.BAD_INPUT and r.err.startswith("Error: --grad:")
    assert focal("score", *DIGITS, "--grad", tmp_path / "g.csv").code == ExitStatus.BAD_INPUT
    assert not (tmp_path / "g.npy").exists()


@mp.workdps(60)
def mp_ce_gradient_norm(z, t):
    z = [mp.mpf(float(v)) for v in z]
    total = mp.fsum(mp.exp(v) for v in z)
    p = [mp.exp(v) / total for v in z]
    return float(mp.sqrt(mp.fsum((pj - (1 if j == t else 0)) ** 2 for j, pj in enumerate(p))))


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-6)])
def test_norm_keeps_its_digits_in_every_regime(tmp_path, dtype, rtol):
    """The norm comes from the loss's own exponentials; rows where their
    squares would overflow or underflow take the shifted form. Either way
    the norm is the mpmath one."""
    z = np.array([[3.0, 0.5, -1.0, 0.0],        # ordinary
                  [40.0, 0.0, -3.0, 1.0],       # confident: 1 - p_t ~ 1e-17
                  [-5.0, 8.0, 2.0, 0.0],        # hopeless
                  [85.0, 84.0, 0.0, -2.0],      # beyond float32's exp
                  [-60.0, -61.0, -70.0, -75.0],  # everything small
                  [50.0, 49.0, 48.0, 0.0]],     # squares beyond float32's range
                 dtype=dtype)
    t = np.array([0, 0, 0, 1, 2, 3])
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "t.npy", t)
    rows = focal("score", tmp_path / "z.npy", tmp_path / "t.npy", "--gradient",
                 "--per-example", "--format", "json").json()
    for row, zi, ti in zip(rows, z, t):
        assert row["grad_ce"] == pytest.approx(mp_ce_gradient_norm(zi, ti), rel=rtol)


def test_probabilities_give_the_gradient_of_their_logits(tmp_path):
    """d/dz of the loss is p - e_t whether the file holds logits or their
    softmax (the logits are log p up to a constant per row)."""
    z = np.load(DIGITS[0])
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    np.save(tmp_path / "p.npy", p)
    want = focal("score", *DIGITS, "--gradient", "--per-example", "--format", "json").json()
    got = focal("score", tmp_path / "p.npy", DIGITS[1], "--probs", "--gradient",
                "--per-example", "--format", "json").json()
    np.testing.assert_allclose([r["grad_ce"] for r in got], [r["grad_ce"] for r in want],
                               rtol=1e-9)
    np.testing.assert_allclose([r["grad_focal"] for r in got],
                               [r["grad_focal"] for r in want], rtol=1e-9)
