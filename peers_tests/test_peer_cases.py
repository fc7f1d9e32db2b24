"""The peers' own focal-loss test cases, reproduced through focal: each test
here names the peer test it reproduces (torchvision's test/test_ops.py
TestFocalLoss, kornia's tests/losses/test_focal_loss.py, MONAI's
tests/losses/test_focal_loss.py, whose expected numbers are MONAI's own;
optax's SigmoidFocalLossTest; fvcore's tests/test_focal_loss.py; Keras'
losses_test.py focal tests, with Keras' own expected numbers; smp's focal tests). The peers' tests
that stay out, and why, are listed in the docs' peer coverage table
(docs/conventions.md)."""
import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from peer_cli import focal_json


def _diverse_pair(rng, shape=(5, 2)):
    """torchvision's _generate_diverse_input_target_pair: logits of small, big
    and random probabilities against all-zero, all-one and random 0/1 targets."""
    ranges = {"small": (0.0, 0.2), "big": (0.8, 1.0), "random": (0.0, 1.0)}
    xs, ys = [], []
    for inp in ("small", "big", "random"):
        for tgt in ("zeros", "ones", "random_binary"):
            p = rng.uniform(*ranges[inp], size=shape).clip(1e-6, 1 - 1e-6)
            xs.append(np.log(p / (1 - p)))
            ys.append(np.zeros(shape) if tgt == "zeros" else np.ones(shape) if tgt == "ones"
                      else rng.integers(0, 2, shape).astype(float))
    return np.concatenate(xs), np.concatenate(ys)


@pytest.mark.parametrize("alpha", [-1.0, 0.0, 0.58, 1.0])
@pytest.mark.parametrize("gamma", [0, 2])
@pytest.mark.parametrize("seed", [0, 1])
def test_torchvision_correct_ratio(tmp_path, alpha, gamma, seed):
    """TestFocalLoss.test_correct_ratio: per element, focal <= CE and
    focal / CE = alpha_t (1 - p_t)^gamma."""
    x, y = _diverse_pair(np.random.default_rng(seed))
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    focal_json("score", tmp_path / "x.npy", tmp_path / "y.npy", "--mode", "sigmoid",
               "--alpha", alpha, "--gamma", gamma, "--per-element", "-o", tmp_path / "e.csv")
    rows = pd.read_csv(tmp_path / "e.csv")
    assert (rows["focal"] <= rows["ce"] * (1 + 1e-15)).all()
    p = 1 / (1 + np.exp(-x.reshape(-1)))
    t = y.reshape(-1)
    p_t = p * t + (1 - p) * (1 - t)
    want = (1 - p_t) ** gamma * (alpha * t + (1 - alpha) * (1 - t) if alpha >= 0 else 1.0)
    np.testing.assert_allclose(rows["focal"] / rows["ce"], want, rtol=1e-10, atol=1e-300)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("seed", [2, 3])
def test_torchvision_equal_ce_loss(tmp_path, reduction, seed):
    """TestFocalLoss.test_equal_ce_loss: alpha -1, gamma 0 is BCE, value and gradient."""
    x, y = _diverse_pair(np.random.default_rng(seed))
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    doc = focal_json("score", tmp_path / "x.npy", tmp_path / "y.npy", "--mode", "sigmoid",
                     "--alpha", -1, "--gamma", 0, "--reduction", reduction, "--grad",
                     tmp_path / "g.npy")
    xt = torch.from_numpy(x).requires_grad_(True)
    ce = F.binary_cross_entropy_with_logits(xt, torch.from_numpy(y), reduction=reduction)
    ce.backward()
    assert doc["focal"] == pytest.approx(ce.item(), rel=1e-12)
    np.testing.assert_allclose(np.load(tmp_path / "g.npy"), xt.grad.numpy(), rtol=1e-10,
                               atol=1e-300)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_kornia_binary_value_same_as_torch_bce_loss(tmp_path, reduction):
    """TestBinaryFocalLossWithLogits.test_value_same_as_torch_bce_loss: soft
    labels in [0, 1), alpha None, gamma 0: BCE with logits."""
    rng = np.random.default_rng(7)
    x, y = rng.random((2, 3, 2)), rng.random((2, 3, 2))
    # kornia's (N, C, *) is C classes per position: (N * *, C) sigmoid rows here
    xr, yr = np.moveaxis(x, 1, -1).reshape(-1, 3), np.moveaxis(y, 1, -1).reshape(-1, 3)
    np.save(tmp_path / "x.npy", xr)
    np.save(tmp_path / "y.npy", yr)
    flags = ["--mode", "sigmoid", "--soft-targets", "--alpha", -1, "--gamma", 0]
    want = F.binary_cross_entropy_with_logits(torch.from_numpy(x), torch.from_numpy(y),
                                              reduction=reduction).numpy()
    if reduction == "none":
        focal_json("score", tmp_path / "x.npy", tmp_path / "y.npy", *flags, "--per-element",
                   "-o", tmp_path / "e.csv")
        got = pd.read_csv(tmp_path / "e.csv")["focal"].to_numpy().reshape(2, 2, 3)
        np.testing.assert_allclose(np.moveaxis(got, -1, 1), want, rtol=1e-12)
    else:
        doc = focal_json("score", tmp_path / "x.npy", tmp_path / "y.npy", *flags,
                         "--reduction", reduction)
        assert doc["focal"] == pytest.approx(float(want), rel=1e-12)


def test_kornia_binary_numeric_stability(tmp_path):
    """TestBinaryFocalLossWithLogits.test_numeric_stability: logits +-100 on
    their right labels lose nothing (alpha 0.25, gamma 2: per element 0)."""
    np.save(tmp_path / "x.npy", np.array([[100.0, -100.0]]))
    np.save(tmp_path / "y.npy", np.array([[1, 0]]))
    focal_json("score", tmp_path / "x.npy", tmp_path / "y.npy", "--mode", "sigmoid",
               "--per-element", "-o", tmp_path / "e.csv")
    np.testing.assert_allclose(pd.read_csv(tmp_path / "e.csv")["focal"], [0.0, 0.0],
                               atol=1e-80)


@pytest.mark.parametrize("gamma", [0.0, 2.0])
@pytest.mark.parametrize("weighted", [False, True])
def test_kornia_ignored_extreme_logits(tmp_path, gamma, weighted):
    """TestFocalLoss.test_ignored_extreme_logits: an ignored row of
    float64's largest logits changes neither the loss nor its gradient."""
    import kornia
    extreme = np.finfo(np.float64).max
    t = np.array([-100, 0])
    flags = ["--like", "kornia", "--ignore-index", -100, "--gamma", gamma, "--reduction",
             "sum"] + (["--class-weight", "0.5,1.5"] if weighted else ["--alpha", "1"])
    docs = []
    for name, z in (("extreme", [[extreme, -extreme], [0.0, 0.0]]),
                    ("safe", [[0.0, 0.0], [0.0, 0.0]])):
        np.save(tmp_path / f"{name}.npy", np.array(z))
        np.save(tmp_path / "t.npy", t)
        docs.append(focal_json("score", tmp_path / f"{name}.npy", tmp_path / "t.npy", *flags,
                               "--grad", tmp_path / f"g_{name}.npy"))
    assert docs[0]["focal"] == docs[1]["focal"]
    np.testing.assert_array_equal(np.load(tmp_path / "g_extreme.npy"),
                                  np.load(tmp_path / "g_safe.npy"))
    weight = torch.tensor([0.5, 1.5], dtype=torch.float64) if weighted else None
    want = kornia.losses.focal_loss(torch.zeros(2, 2, dtype=torch.float64),
                                    torch.from_numpy(t), 0.25 if weighted else 1.0, gamma,
                                    "sum", weight).item()
    assert docs[0]["focal"] == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("ignore_index", [-100, 255])
def test_kornia_all_ignored_extreme_logits(tmp_path, ignore_index):
    """TestFocalLoss.test_all_ignored_extreme_logits: nothing scored sums to
    0, with a zero gradient."""
    extreme = np.finfo(np.float64).max
    np.save(tmp_path / "z.npy", np.array([[extreme, -extreme]]))
    np.save(tmp_path / "t.npy", np.array([ignore_index]))
    doc = focal_json("score", tmp_path / "z.npy", tmp_path / "t.npy", "--like", "kornia",
                     "--ignore-index", ignore_index, "--reduction", "sum", "--grad",
                     tmp_path / "g.npy")
    assert doc["focal"] == 0.0
    np.testing.assert_array_equal(np.load(tmp_path / "g.npy"), np.zeros((1, 2)))


def test_kornia_gradcheck(tmp_path):
    """TestFocalLoss.test_gradcheck: the gradient of focal_loss (alpha 0.25,
    gamma 2, ignored targets) on (2, 3, 3, 2) maps, against kornia's autograd."""
    import kornia
    rng = np.random.default_rng(9)
    z = rng.random((2, 3, 3, 2))
    t = rng.integers(0, 3, (2, 3, 2))
    t[rng.random((2, 3, 2)) > 0.8] = -100
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "t.npy", t)
    focal_json("score", tmp_path / "z.npy", tmp_path / "t.npy", "--like", "kornia",
               "--ignore-index", -100, "--grad", tmp_path / "g.npy")
    zt = torch.from_numpy(z).requires_grad_(True)
    kornia.losses.focal_loss(zt, torch.from_numpy(t), 0.25, 2.0, "mean").backward()
    np.testing.assert_allclose(np.load(tmp_path / "g.npy"), zt.grad.numpy(), rtol=1e-9,
                               atol=1e-18)


# -- MONAI's tests/losses/test_focal_loss.py: its expected values are its own
MONAI_INPUT = np.array([[[[1.0, 1.0], [0.5, 0.0]], [[1.0, 1.0], [0.5, 0.0]],
                         [[1.0, 1.0], [0.5, 0.0]]]])   # (1, 3, 2, 2)
MONAI_TARGET = np.array([[[0, 1], [2, 0]]])             # (1, 2, 2)
MONAI_NONE = np.array([[[[0.02266, 0.70187], [0.37741, 0.17329]],
                        [[0.70187, 0.02266], [0.37741, 0.17329]],
                        [[0.70187, 0.70187], [0.06757, 0.17329]]]])
MONAI_WEIGHTED_NONE = np.array([[[[0.01133, 0.35093], [0.18871, 0.08664]],
                                 [[0.07019, 0.00227], [0.03774, 0.01733]],
                                 [[0.14037, 0.14037], [0.01352, 0.03466]]]])


def _monai_files(tmp_path, target):
    np.save(tmp_path / "z.npy", MONAI_INPUT)
    np.save(tmp_path / "t.npy", target)
    return [tmp_path / "z.npy", tmp_path / "t.npy", "--like", "monai"]


@pytest.mark.parametrize("flags, want", [
    ([], 0.34959), (["--drop-class", "0"], 0.36498), (["--alpha", "0.8"], 0.08423),
    (["--mode", "softmax"], 0.16276), (["--mode", "softmax", "--alpha", "0.8"], 0.08138)])
@pytest.mark.parametrize("onehot", [False, True])
def test_monai_result(tmp_path, flags, want, onehot):
    """TestFocalLoss.test_result, the cases with one number (to_onehot_y
    True, or False with a one-hot target), at MONAI's tolerance 1e-4."""
    target = np.moveaxis(np.eye(3)[MONAI_TARGET], -1, 1) if onehot else MONAI_TARGET
    if onehot and "softmax" in flags:
        pytest.skip("a one-hot (N, C, H, W) target is sigmoid's form here")
    doc = focal_json("score", *_monai_files(tmp_path, target), *flags)
    assert doc["focal"] == pytest.approx(want, rel=1e-4, abs=1e-4)


@pytest.mark.parametrize("weight, want", [(None, MONAI_NONE),
                                          ("0.5,0.1,0.2", MONAI_WEIGHTED_NONE)])
def test_monai_result_none(tmp_path, weight, want):
    """TestFocalLoss.test_result, reduction='none' (with and without weight)."""
    extra = ["--class-weight", weight] if weight else []
    focal_json("score", *_monai_files(tmp_path, MONAI_TARGET), *extra, "--map",
               tmp_path / "e.npy", "--per-element")
    np.testing.assert_allclose(np.load(tmp_path / "e.npy"), want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("shape, onehot_target", [((128, 10, 8, 4), False),
                                                  ((128, 10, 8, 4), True),
                                                  ((128, 10), True)])
def test_monai_consistency_with_cross_entropy(tmp_path, shape, onehot_target):
    """test_consistency_with_cross_entropy_2d, _2d_onehot_label and
    _classification: gamma 0 is BCE with logits (one of their 100 rounds)."""
    rng = np.random.default_rng(12)
    x = rng.random(shape)
    k = shape[1]
    if onehot_target:
        idx = rng.integers(0, k, (shape[0],) + shape[2:])
        y = np.moveaxis(np.eye(k)[idx], -1, 1)
        target = idx
    else:
        y = target = rng.integers(0, 2, shape).astype(float)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "t.npy", target)
    doc = focal_json("score", tmp_path / "x.npy", tmp_path / "t.npy", "--like", "monai",
                     "--gamma", 0)
    want = F.binary_cross_entropy_with_logits(torch.from_numpy(x), torch.from_numpy(y))
    assert doc["focal"] == pytest.approx(want.item(), rel=1e-12)
    differs = focal_json("score", tmp_path / "x.npy", tmp_path / "t.npy", "--like", "monai",
                         "--gamma", 0.1)  # test_consistency_with_cross_entropy_classification_01
    assert abs(differs["focal"] - want.item()) > 1e-3


def test_monai_consistency_no_reduction(tmp_path):
    """test_consistency_with_cross_entropy_2d_no_reduction: per element."""
    rng = np.random.default_rng(13)
    x = rng.random((16, 10, 8, 4))
    y = rng.integers(0, 2, x.shape).astype(float)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    focal_json("score", tmp_path / "x.npy", tmp_path / "y.npy", "--like", "monai", "--gamma",
               0, "--map", tmp_path / "e.npy", "--per-element")
    want = F.binary_cross_entropy_with_logits(torch.from_numpy(x), torch.from_numpy(y),
                                              reduction="none").numpy()
    np.testing.assert_allclose(np.load(tmp_path / "e.npy"), want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("target, k", [
    ([[0, 0, 0, 0], [0, 1, 1, 0], [0, 1, 1, 0], [0, 0, 0, 0]], 2),      # test_bin_seg_2d
    ([[0, 0, 0, 0]] * 4, 2),                                          # test_empty_class_2d
    ([[0, 0, 0, 0], [0, 1, 2, 0], [0, 3, 4, 0], [0, 0, 0, 0]], 6),    # test_multi_class_seg_2d
    ([[[0, 0, 0, 0], [0, 1, 1, 0], [0, 1, 1, 0], [0, 0, 0, 0]]] * 3, 2)])  # test_bin_seg_3d
@pytest.mark.parametrize("softmax", [False, True])
@pytest.mark.parametrize("alpha", [None, "0.5"])
def test_monai_very_good_predictions_cost_nothing(tmp_path, target, k, softmax, alpha):
    """The segmentation cases: +-50 (or +-500) on the right class: ~0."""
    t = np.array(target)[None]
    z = np.moveaxis(np.eye(k)[t], -1, 1) * 1000 - 500
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "t.npy", t)
    flags = (["--mode", "softmax"] if softmax else []) + (["--alpha", alpha] if alpha else [])
    doc = focal_json("score", tmp_path / "z.npy", tmp_path / "t.npy", "--like", "monai",
                     *flags)
    assert doc["focal"] == pytest.approx(0.0, abs=1e-3)


def test_monai_foreground(tmp_path):
    """test_foreground: 0/1 matrices, with and without the background channel."""
    background, foreground = np.ones((1, 1, 5, 5)), np.zeros((1, 1, 5, 5))
    target = np.concatenate((background, foreground), axis=1)
    x = target.copy()
    target[:, 0, 2, 2], target[:, 1, 2, 2] = 0, 1
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "t.npy", target)
    both = focal_json("score", tmp_path / "x.npy", tmp_path / "t.npy", "--like", "monai")
    fg = focal_json("score", tmp_path / "x.npy", tmp_path / "t.npy", "--like", "monai",
                    "--drop-class", "0")
    assert both["focal"] == pytest.approx(0.1116, abs=5e-4)
    assert fg["focal"] == pytest.approx(0.1733, abs=5e-4)


def test_monai_ill_shape_and_class_weight(tmp_path):
    """test_ill_opts, test_ill_shape and test_ill_class_weight: refused (exit 2 here)."""
    from click.testing import CliRunner

    from focalcli.cli import cli
    np.save(tmp_path / "x.npy", np.ones((1, 4, 3, 3)))
    np.save(tmp_path / "t.npy", np.ones((1, 4, 3, 3)))
    np.save(tmp_path / "bad.npy", np.ones((1, 3)))
    for args in ([tmp_path / "x.npy", tmp_path / "t.npy", "--reduction", "unknown"],
                 [tmp_path / "x.npy", tmp_path / "bad.npy"],
                 [tmp_path / "x.npy", tmp_path / "t.npy", "--class-weight", "1,1,2"],
                 [tmp_path / "x.npy", tmp_path / "t.npy", "--drop-class", "0",
                  "--class-weight", "1,1,1,1"],
                 [tmp_path / "x.npy", tmp_path / "t.npy", "--drop-class", "0",
                  "--class-weight", "1,1,-1"]):
        result = CliRunner().invoke(cli, ["score", *map(str, args), "--like", "monai"])
        assert result.exit_code == 2, (args, result.stderr)


# -- optax's losses/_classification_test.py, SigmoidFocalLossTest: its
# expectations are relations to BCE, taken here from torch's BCE with logits
OPTAX_YS = np.array([[2.0, 0.1, -2.0], [0.3, -0.1, 1.2]])
OPTAX_TS = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])


def _optax_elements(tmp_path, ys, ts, *flags):
    """Per-element focal and CE of sigmoid scores, as optax's loss returns them."""
    np.save(tmp_path / "y.npy", np.atleast_2d(ys))
    np.save(tmp_path / "t.npy", np.atleast_2d(ts))
    focal_json("score", tmp_path / "y.npy", tmp_path / "t.npy", "--mode", "sigmoid", *flags,
               "--per-element", "-o", tmp_path / "e.csv")
    rows = pd.read_csv(tmp_path / "e.csv")
    shape = np.atleast_2d(ys).shape
    return rows["focal"].to_numpy().reshape(shape), rows["ce"].to_numpy().reshape(shape)


def _bce(ys, ts):
    return F.binary_cross_entropy_with_logits(torch.from_numpy(np.asarray(ys, float)),
                                              torch.from_numpy(np.asarray(ts, float)),
                                              reduction="none").numpy()


@pytest.mark.parametrize("ys, ts", [(OPTAX_YS, OPTAX_TS),
                                    (np.array([[-1.0, 0.0, 1.0], [2.0, -2.0, 0.5]]),
                                     np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]]))])
def test_optax_focal_equals_ce(tmp_path, ys, ts):
    """test_focal_equals_ce and test_focal_gamma_zero_matches_binary_cross_entropy."""
    focal, _ = _optax_elements(tmp_path, ys, ts, "--gamma", 0, "--alpha", -1)
    np.testing.assert_allclose(focal, _bce(ys, ts), rtol=1e-12)


def test_optax_scale(tmp_path):
    """test_scale: focal / CE is (1 - p_t)^gamma."""
    focal, ce = _optax_elements(tmp_path, OPTAX_YS, OPTAX_TS, "--gamma", 2, "--alpha", -1)
    p = 1 / (1 + np.exp(-OPTAX_YS))
    p_t = p * OPTAX_TS + (1 - p) * (1 - OPTAX_TS)
    np.testing.assert_allclose(focal / ce, (1 - p_t) ** 2, rtol=1e-12)


@pytest.mark.parametrize("probs, alpha, factor", [([0.9, 0.98, 0.3, 0.99], "0.5", 2.0),
                                                  ([0.1, 0.02, 0.09, 0.15], "-1", 1.0)])
def test_optax_large_and_small_logits(tmp_path, probs, alpha, factor):
    """test_large_logit_fl_less_than_ce (alpha 0.5) and
    test_small_logit_fl_less_than_ce: CE / focal = factor / (1 - p)^2."""
    p = np.array(probs)
    ys = np.log(p / (1 - p))
    focal, ce = _optax_elements(tmp_path, ys, np.ones(4), "--gamma", 2, "--alpha", alpha)
    np.testing.assert_allclose((ce / focal).ravel(), factor / (1 - p) ** 2, rtol=1e-10)


def test_optax_alpha_one_and_zero(tmp_path):
    """test_alpha_one (gamma 0: BCE times t), test_ignore_positive (alpha 0:
    positives cost 0) and test_ignore_negative (alpha 1: negatives cost 0)."""
    focal, _ = _optax_elements(tmp_path, OPTAX_YS, OPTAX_TS, "--gamma", 0, "--alpha", 1)
    np.testing.assert_allclose(focal, _bce(OPTAX_YS, OPTAX_TS) * OPTAX_TS, rtol=1e-12)
    focal, ce = _optax_elements(tmp_path, OPTAX_YS, OPTAX_TS, "--alpha", 0)
    assert (ce[OPTAX_TS == 1] > 0).all() and (focal[OPTAX_TS == 1] == 0).all()
    focal, ce = _optax_elements(tmp_path, OPTAX_YS, OPTAX_TS, "--alpha", 1)
    assert (ce[OPTAX_TS == 0] > 0).all() and (focal[OPTAX_TS == 0] == 0).all()


# -- fvcore's tests/test_focal_loss.py (TestFocalLoss, TestFocalLossStar):
# inputs are logits of the probabilities it lists; FL* is --loss fl-star:0,ALPHA
def _logit(p):
    p = np.asarray(p, dtype=np.float64)
    return np.log(p / (1 - p))


def _fvcore(tmp_path, probs, targets, *flags, star=None):
    """Per-element (focal or FL*, CE) of fvcore's inputs."""
    column = "focal" if star is None else f"fl-star_0_{star:g}"
    extra = [] if star is None else ["--loss", f"fl-star:0,{star}"]
    np.save(tmp_path / "x.npy", np.atleast_2d(_logit(probs)))
    np.save(tmp_path / "t.npy", np.atleast_2d(targets))
    focal_json("score", tmp_path / "x.npy", tmp_path / "t.npy", "--mode", "sigmoid", *flags,
               *extra, "--per-element", "-o", tmp_path / "e.csv")
    rows = pd.read_csv(tmp_path / "e.csv")
    return rows[column].to_numpy(), rows["ce"].to_numpy()


FV_MIXED = ([0.05, 0.12, 0.89, 0.79], [1, 1, 0, 0])
FV_MULTI = ([[0.95, 0.55, 0.12, 0.05], [0.09, 0.95, 0.36, 0.11],
             [0.06, 0.12, 0.56, 0.07], [0.09, 0.15, 0.25, 0.45]], np.eye(4))
FV_MEAN = ([[0.05, 0.9], [0.52, 0.45], [0.89, 0.8], [0.39, 0.5]],
           [[1, 0], [1, 0], [1, 1], [0, 1]])


@pytest.mark.parametrize("star", [None, -1])
@pytest.mark.parametrize("probs, targets", [FV_MIXED, FV_MULTI, FV_MEAN,
                                            ([0.95, 0.90, 0.98, 0.99], [1, 1, 1, 1])])
def test_fvcore_equals_ce(tmp_path, star, probs, targets):
    """test_(mean_|sum_)focal_loss(_star)_equals_ce_loss(_multi_class):
    gamma 0 (FL) or 1 (FL*), no alpha: BCE, per element, mean and sum."""
    gamma = 0 if star is None else 1
    focal, ce = _fvcore(tmp_path, probs, targets, "--gamma", gamma, "--alpha", -1, star=star)
    want = _bce(np.atleast_2d(_logit(probs)), np.atleast_2d(targets)).reshape(-1)
    np.testing.assert_allclose(focal, want, rtol=1e-12)


def test_fvcore_focal_gradient_equals_ce(tmp_path):
    """test_focal_loss_equals_ce_loss: gamma 0, alpha -1: BCE's gradient."""
    x = _logit([[0.95, 0.90, 0.98, 0.99]])
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "t.npy", np.ones((1, 4)))
    focal_json("score", tmp_path / "x.npy", tmp_path / "t.npy", "--mode", "sigmoid",
               "--gamma", 0, "--alpha", -1, "--grad", tmp_path / "g.npy")
    xt = torch.from_numpy(x).requires_grad_(True)
    F.binary_cross_entropy_with_logits(xt, torch.ones(1, 4, dtype=torch.float64)).backward()
    np.testing.assert_allclose(np.load(tmp_path / "g.npy"), xt.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("probs, alpha, factor", [
    (np.random.default_rng(42).random(5), -1, 1.0),        # test_easy_ex_focal_loss_less...
    ([0.95, 0.90, 0.6, 0.3], 0.5, 2.0),                    # ..._weighted_less_than_ce_loss
    ([0.05, 0.12, 0.09, 0.17], -1, 1.0)])                  # test_hard_ex_focal_loss_similar
def test_fvcore_ratio_to_ce(tmp_path, probs, alpha, factor):
    """CE / FL = factor / (1 - p_t)^2 (gamma 2), positives."""
    focal, ce = _fvcore(tmp_path, probs, np.ones(len(probs)), "--alpha", alpha)
    np.testing.assert_allclose(ce / focal, factor / (1 - np.asarray(probs)) ** 2, rtol=1e-10)


@pytest.mark.parametrize("star", [None, 0, 1])
def test_fvcore_alpha_ignores_a_side(tmp_path, star):
    """test_negatives_ignored / test_positives_ignored (FL and FL*, gamma 3 for
    FL*): alpha 1 zeroes the negatives, alpha 0 the positives."""
    probs, targets = FV_MIXED
    t = np.asarray(targets)
    for alpha, side in ((1, 0), (0, 1)):
        if star is None:
            focal, ce = _fvcore(tmp_path, probs, targets, "--alpha", alpha)
        else:
            focal, ce = _fvcore(tmp_path, probs, targets, "--gamma", 3, star=alpha)
        assert (ce[t == side] > 0).all() and (focal[t == side] == 0).all()


def test_fvcore_star_shapes(tmp_path):
    """test_easy_ex_focal_loss_star_less_than_ce_loss (gamma 3: CE / FL* > 10),
    test_focal_loss_star_positive_weights (alpha 0.5 halves it) and
    test_hard_ex_focal_loss_star_similar_to_ce_loss (gamma 2: about 1)."""
    star, ce = _fvcore(tmp_path, [0.75, 0.8, 0.12, 0.05], [1, 1, 0, 0], "--gamma", 3,
                       star=-1)
    assert (ce / star > 10).all()
    probs = np.random.default_rng(42).random(5)
    whole, _ = _fvcore(tmp_path, probs, np.ones(5), "--gamma", 2, star=-1)
    half, _ = _fvcore(tmp_path, probs, np.ones(5), "--gamma", 2, star=0.5)
    np.testing.assert_allclose(whole / half, 2.0, rtol=1e-12)
    star, ce = _fvcore(tmp_path, [0.05, 0.12, 0.91, 0.85], [1, 1, 0, 0], "--gamma", 2,
                       star=-1)
    np.testing.assert_allclose(ce / star, 1.0, atol=0.1)


# -- Keras' keras/src/losses/losses_test.py, BinaryFocalCrossentropyTest and
# CategoricalFocalCrossentropyTest: the expected numbers are Keras' own
def _keras(tmp_path, scores, targets, *flags, weights=None):
    np.save(tmp_path / "z.npy", np.asarray(scores, dtype=np.float32))
    np.save(tmp_path / "t.npy", np.asarray(targets))
    extra = []
    if weights is not None:
        if np.ndim(weights):
            np.save(tmp_path / "w.npy", np.asarray(weights, dtype=np.float64).reshape(-1))
            extra = ["--weights", tmp_path / "w.npy"]
        else:
            extra = ["--weights", weights]
    return focal_json("score", tmp_path / "z.npy", tmp_path / "t.npy", "--like", "keras",
                      *flags, *extra)["focal"]


KB_TRUE, KB_PROBS = [[1, 0], [1, 0]], [[0.9, 0.8], [0.7, 0.2]]
KB_LOGIT_TRUE = [[1, 1, 0], [0, 1, 0]]
KB_LOGITS = [[1.5, -2.7, 2.9], [-3.8, 1.2, -4.5]]
BINARY = ["--mode", "sigmoid", "--alpha", "-1"]


@pytest.mark.parametrize("weights, probs_want, logits_want", [
    (None, 0.268, 0.799),                       # test_unweighted
    (1.23, 0.3296, None), (3.21, None, 2.565),  # test_scalar_weighted
    ([1.2, 3.4], 0.34415, 0.95977)])            # test_sample_weighted
def test_keras_binary_focal(tmp_path, weights, probs_want, logits_want):
    if probs_want is not None:
        got = _keras(tmp_path, KB_PROBS, KB_TRUE, *BINARY, "--probs", "--gamma", 2,
                     weights=weights)
        assert got == pytest.approx(probs_want, abs=5e-4)
    if logits_want is not None:
        got = _keras(tmp_path, KB_LOGITS, KB_LOGIT_TRUE, *BINARY, "--gamma", 3,
                     weights=weights)
        assert got == pytest.approx(logits_want, abs=5e-4)


def test_keras_binary_all_correct_and_no_reduction(tmp_path):
    """test_all_correct_unweighted (probabilities 0/1, logits +-100) and
    test_no_reduction (a loss per example: the mean over its classes)."""
    eye = np.eye(3)
    assert _keras(tmp_path, eye, eye, *BINARY, "--probs", "--gamma", 1.5) == \
        pytest.approx(0.0, abs=5e-4)
    assert _keras(tmp_path, eye * 200 - 100, eye, *BINARY, "--gamma", 2) == \
        pytest.approx(0.0, abs=5e-4)
    np.save(tmp_path / "z.npy", np.asarray(KB_PROBS, dtype=np.float32))
    np.save(tmp_path / "t.npy", np.asarray(KB_TRUE))
    focal_json("score", tmp_path / "z.npy", tmp_path / "t.npy", "--like", "keras", *BINARY,
               "--probs", "-o", tmp_path / "rows.csv")
    rows = pd.read_csv(tmp_path / "rows.csv")
    np.testing.assert_allclose(rows["focal"], [0.515547, 0.020513], rtol=1e-6, atol=1e-6)


KC_TRUE = [0, 1, 2]
KC_PROBS = [[0.9, 0.05, 0.05], [0.5, 0.89, 0.6], [0.05, 0.01, 0.94]]
KC_LOGITS = [[8.0, 1.0, 1.0], [0.0, 9.0, 1.0], [2.0, 3.0, 5.0]]


@pytest.mark.parametrize("weights, probs_want, logits_want, places", [
    (None, 0.02059, 0.000345, 5e-4),             # test_unweighted
    (2.3, 0.047368, 0.000794, 5e-5),             # test_scalar_weighted
    ([1.2, 3.4, 5.6], 0.06987, 0.001933, 5e-4)])  # test_sample_weighted
def test_keras_categorical_focal(tmp_path, weights, probs_want, logits_want, places):
    got = _keras(tmp_path, KC_PROBS, KC_TRUE, "--probs", weights=weights)
    assert got == pytest.approx(probs_want, abs=5e-4)
    got = _keras(tmp_path, KC_LOGITS, KC_TRUE, weights=weights)
    assert got == pytest.approx(logits_want, abs=places)


def test_keras_categorical_all_correct_no_reduction_and_smoothing(tmp_path):
    """test_all_correct_unweighted, test_no_reduction, test_label_smoothing."""
    eye = np.eye(3)
    assert _keras(tmp_path, eye, KC_TRUE, "--probs") == pytest.approx(0.0, abs=5e-4)
    assert _keras(tmp_path, eye * 10, KC_TRUE) == pytest.approx(0.0, abs=5e-4)
    np.save(tmp_path / "z.npy", np.asarray(KC_LOGITS, dtype=np.float32))
    np.save(tmp_path / "t.npy", np.asarray(KC_TRUE))
    focal_json("score", tmp_path / "z.npy", tmp_path / "t.npy", "--like", "keras", "-o",
               tmp_path / "rows.csv")
    np.testing.assert_allclose(pd.read_csv(tmp_path / "rows.csv")["focal"],
                               [1.5096224e-09, 2.4136547e-11, 1.0360638e-03],
                               rtol=1e-6, atol=1e-6)
    assert _keras(tmp_path, [[4.9, -0.5, 2.05]], [0], "--label-smoothing", 0.1) == \
        pytest.approx(0.06685, abs=5e-4)


# -- smp's tests/test_losses.py, its focal-loss tests
@pytest.mark.parametrize("flags, good, bad, target", [
    (["--mode", "sigmoid"], [[10.0, -10.0, 10.0]], [[-1.0, 2.0, 0.0]], [[1, 0, 1]]),
    ([], [[0, 10, 0], [10, 0, 0], [0, 0, 10]], [[0, -10, 0], [0, 10, 0], [0, 0, 10]],
     [1, 0, 2])])
def test_smp_good_predictions_cost_less(tmp_path, flags, good, bad, target):
    """test_focal_loss_with_logits and test_softmax_focal_loss_with_logits."""
    np.save(tmp_path / "t.npy", np.array(target))
    losses = []
    for name, z in (("good", good), ("bad", bad)):
        np.save(tmp_path / f"{name}.npy", np.array(z, dtype=np.float64))
        losses.append(focal_json("score", tmp_path / f"{name}.npy", tmp_path / "t.npy",
                                 *flags)["focal"])
    assert losses[0] < losses[1]


def test_smp_focal_class_weights_uniform_and_scale_invariant(tmp_path):
    """test_focal_class_weights_uniform_equivalent_to_no_weights and
    test_focal_class_weights_scale_invariant (smp 0.6: sum_c w_c L_c / sum_c w_c)."""
    rng = np.random.default_rng(0)
    np.save(tmp_path / "z.npy", rng.normal(size=(2, 3, 4, 4)))
    np.save(tmp_path / "t.npy", rng.integers(0, 3, (2, 4, 4)))
    files = [tmp_path / "z.npy", tmp_path / "t.npy", "--like", "smp"]
    plain = focal_json("score", *files)["focal"]
    assert focal_json("score", *files, "--class-weight", "1,1,1")["focal"] == \
        pytest.approx(plain, rel=1e-12)
    assert focal_json("score", *files, "--class-weight", "1,2,0.5")["focal"] == \
        pytest.approx(focal_json("score", *files, "--class-weight", "10,20,5")["focal"],
                      rel=1e-12)
