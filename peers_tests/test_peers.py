"""Every --like preset, and the default, against the libraries themselves.

Run by `make test-peers` in .venv-peers (torch 2.13.0 CPU, keras with the
torch backend, kornia). Not part of `make test`."""
import mpmath as mp
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from peer_cli import focal_json

torch.set_default_dtype(torch.float64)
mp.mp.dps = 50


def torchvision_sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2.0):
    """torchvision.ops.sigmoid_focal_loss, as its source has it (torchvision
    itself does not import beside the CPU wheel of torch on this machine)."""
    p = torch.sigmoid(inputs)
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    return loss.mean()


@pytest.mark.parametrize("gamma,alpha", [(2.0, 0.25), (0.5, 0.75), (0.0, -1.0)])
def test_like_torchvision(sigmoid_case, gamma, alpha):
    kind, x, y, files = sigmoid_case
    doc = focal_json("score", *files, "--like", "torchvision", "--gamma", gamma,
                     "--alpha", alpha)
    want = torchvision_sigmoid_focal_loss(torch.from_numpy(x), torch.from_numpy(y).double(),
                                          alpha, gamma).item()
    assert doc["focal"] == pytest.approx(want, rel=1e-12)


def test_default_sigmoid_is_torchvision_with_default_alpha(sigmoid_case):
    kind, x, y, files = sigmoid_case
    doc = focal_json("score", *files, "--mode", "sigmoid")
    want = torchvision_sigmoid_focal_loss(torch.from_numpy(x), torch.from_numpy(y).double())
    assert doc["focal"] == pytest.approx(want.item(), rel=1e-12)


@pytest.mark.parametrize("alpha,gamma", [(0.25, 2.0), (0.5, 0.5), (1.0, 3.0)])
def test_like_kornia(softmax_case, alpha, gamma):
    import kornia
    kind, z, t, files = softmax_case
    doc = focal_json("score", *files, "--like", "kornia", "--alpha", alpha, "--gamma", gamma)
    want = kornia.losses.focal_loss(torch.from_numpy(z), torch.from_numpy(t), alpha=alpha,
                                    gamma=gamma, reduction="mean").item()
    assert doc["focal"] == pytest.approx(want, rel=1e-9)


def test_like_kornia_class_weight(softmax_case):
    """kornia's weight=: each class's loss times its weight, mean over N*C."""
    import kornia
    kind, z, t, files = softmax_case
    w = np.array([1.0, 0.5, 2.0, 0.0, 3.0, 1.5])
    doc = focal_json("score", *files, "--like", "kornia", "--alpha", "0.25",
                     "--class-weight", ",".join(map(str, w)))
    want = kornia.losses.focal_loss(torch.from_numpy(z), torch.from_numpy(t), alpha=0.25,
                                    gamma=2.0, reduction="mean", weight=torch.from_numpy(w))
    assert doc["focal"] == pytest.approx(want.item(), rel=1e-9)


def test_like_kornia_ignore_index_stays_in_the_denominator(softmax_case, tmp_path):
    import kornia
    kind, z, t, files = softmax_case
    t2 = t.copy()
    t2[::5] = -100
    np.save(tmp_path / "t2.npy", t2)
    doc = focal_json("score", files[0], tmp_path / "t2.npy", "--like", "kornia",
                     "--ignore-index", "-100")
    want = kornia.losses.focal_loss(torch.from_numpy(z), torch.from_numpy(t2), alpha=0.25,
                                    reduction="mean", ignore_index=-100).item()
    assert doc["focal"] == pytest.approx(want, rel=1e-9)


@pytest.mark.parametrize("alpha,gamma", [(0.25, 2.0), (1.0, 0.5)])
def test_like_keras_categorical(softmax_case, alpha, gamma):
    import keras
    kind, z, t, files = softmax_case
    doc = focal_json("score", *files, "--like", "keras", "--alpha", alpha, "--gamma", gamma)
    loss = keras.losses.CategoricalFocalCrossentropy(alpha=alpha, gamma=gamma,
                                                     from_logits=True)
    onehot = np.eye(z.shape[1], dtype=np.float32)[t]
    want = float(loss(onehot, z.astype(np.float32)))
    assert doc["focal"] == pytest.approx(want, rel=1e-5)


def test_like_keras_categorical_probabilities(softmax_case, tmp_path):
    import keras
    kind, z, t, files = softmax_case
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    np.save(tmp_path / "p.npy", p)
    doc = focal_json("score", tmp_path / "p.npy", files[1], "--like", "keras", "--probs")
    loss = keras.losses.CategoricalFocalCrossentropy()
    want = float(loss(np.eye(z.shape[1], dtype=np.float32)[t], p.astype(np.float32)))
    assert doc["focal"] == pytest.approx(want, rel=1e-5)


def test_like_keras_renormalises_probabilities(softmax_case, tmp_path):
    """Keras divides each row of probabilities by its sum; so does --like keras."""
    import keras
    kind, z, t, files = softmax_case
    p = np.random.default_rng(3).random(z.shape) * 4
    np.save(tmp_path / "p.npy", p)
    doc = focal_json("score", tmp_path / "p.npy", files[1], "--like", "keras", "--probs")
    loss = keras.losses.CategoricalFocalCrossentropy()
    want = float(loss(np.eye(z.shape[1], dtype=np.float32)[t], p.astype(np.float32)))
    assert doc["focal"] == pytest.approx(want, rel=1e-5)


def test_like_keras_sample_weight(softmax_case, tmp_path):
    """sample_weight: each example's loss times its weight, divided by N."""
    import keras
    kind, z, t, files = softmax_case
    w = np.random.default_rng(4).random(len(t)) * 2
    np.save(tmp_path / "w.npy", w)
    doc = focal_json("score", *files, "--like", "keras", "--weights", tmp_path / "w.npy")
    loss = keras.losses.CategoricalFocalCrossentropy(from_logits=True)
    want = float(loss(np.eye(z.shape[1], dtype=np.float32)[t], z.astype(np.float32),
                      sample_weight=w.astype(np.float32)))
    assert doc["focal"] == pytest.approx(want, rel=1e-5)


def test_like_keras_binary_per_example_rows(sigmoid_case):
    """reduction=None: one loss per example, the mean over its classes."""
    import keras
    kind, x, y, files = sigmoid_case
    rows = focal_json("score", *files, "--like", "keras", "--mode", "sigmoid", "--per-example")
    loss = keras.losses.BinaryFocalCrossentropy(from_logits=True, reduction=None)
    want = np.asarray(loss(y.astype(np.float32), x.astype(np.float32)))
    np.testing.assert_allclose([r["focal"] for r in rows], want, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("balancing", [False, True])
def test_like_keras_binary(sigmoid_case, balancing):
    import keras
    kind, x, y, files = sigmoid_case
    extra = ["--alpha", "0.25"] if balancing else []
    doc = focal_json("score", *files, "--like", "keras", "--mode", "sigmoid", *extra)
    loss = keras.losses.BinaryFocalCrossentropy(apply_class_balancing=balancing, alpha=0.25,
                                                from_logits=True)
    want = float(loss(y.astype(np.float32), x.astype(np.float32)))
    assert doc["focal"] == pytest.approx(want, rel=1e-5)


def _torch_focal(z, t, gamma=2.0):
    ce = F.cross_entropy(torch.from_numpy(z), torch.from_numpy(t), reduction="none")
    pt = torch.exp(-ce)
    return ((1 - pt) ** gamma * ce), ce


def test_default_against_torch_cross_entropy(softmax_case):
    kind, z, t, files = softmax_case
    doc = focal_json("score", *files)
    focal, ce = _torch_focal(z, t)
    assert doc["ce"] == pytest.approx(ce.mean().item(), rel=1e-12)
    assert doc["focal"] == pytest.approx(focal.mean().item(), rel=1e-12)


def test_class_weight_against_torch_cross_entropy(softmax_case):
    """F.cross_entropy(weight=w): per example times w[t], the mean divided by
    the summed weights; the focal factor on top, as a weighted mean too."""
    kind, z, t, files = softmax_case
    w = np.array([0.5, 2.0, 1.0, 3.0, 0.0, 1.5])
    doc = focal_json("score", *files, "--class-weight", ",".join(map(str, w)))
    wt = torch.from_numpy(w)
    ce = F.cross_entropy(torch.from_numpy(z), torch.from_numpy(t), weight=wt)
    assert doc["ce"] == pytest.approx(ce.item(), rel=1e-12)
    focal, _ = _torch_focal(z, t)
    want = (wt[torch.from_numpy(t)] * focal).sum() / wt[torch.from_numpy(t)].sum()
    assert doc["focal"] == pytest.approx(want.item(), rel=1e-12)


def test_soft_targets_and_smoothing_against_torch(softmax_case, tmp_path):
    """F.cross_entropy with probability targets, and with label_smoothing."""
    kind, z, t, files = softmax_case
    y = np.random.default_rng(8).dirichlet(np.ones(z.shape[1]), len(t))
    np.save(tmp_path / "y.npy", y)
    doc = focal_json("score", files[0], tmp_path / "y.npy", "--gamma", "0")
    want = F.cross_entropy(torch.from_numpy(z), torch.from_numpy(y)).item()
    assert doc["ce"] == pytest.approx(want, rel=1e-12)
    doc = focal_json("score", *files, "--label-smoothing", "0.1")
    want = F.cross_entropy(torch.from_numpy(z), torch.from_numpy(t), label_smoothing=0.1)
    assert doc["ce"] == pytest.approx(want.item(), rel=1e-12)


@pytest.mark.parametrize("smoothing", ["0", "0.1"])
def test_soft_targets_and_smoothing_against_keras(softmax_case, tmp_path, smoothing):
    """CategoricalFocalCrossentropy on soft labels, with its label_smoothing:
    --like keras clips every probability to [1e-7, 1 - 1e-7] as Keras does
    (float32 in Keras: agreement to its digits, extreme rows included)."""
    import keras
    kind, z, t, files = softmax_case
    y = np.random.default_rng(9).dirichlet(np.ones(z.shape[1]), len(t))
    np.save(tmp_path / "y.npy", y)
    doc = focal_json("score", files[0], tmp_path / "y.npy", "--like", "keras",
                     "--label-smoothing", smoothing)
    loss = keras.losses.CategoricalFocalCrossentropy(from_logits=True,
                                                     label_smoothing=float(smoothing))
    want = float(loss(y.astype(np.float32), z.astype(np.float32)))
    assert doc["focal"] == pytest.approx(want, rel=1e-5)


@pytest.mark.parametrize("scale", [1.0, 5.0])
def test_keras_label_smoothing_on_class_targets(softmax_case, tmp_path, scale):
    """Hard targets smoothed by Keras' label_smoothing, on logits and on 5x
    logits (where the clip binds on the smoothed classes' tiny p_j)."""
    import keras
    kind, z, t, files = softmax_case
    np.save(tmp_path / "z5.npy", z * scale)
    doc = focal_json("score", tmp_path / "z5.npy", files[1], "--like", "keras",
                     "--label-smoothing", "0.1")
    loss = keras.losses.CategoricalFocalCrossentropy(from_logits=True, label_smoothing=0.1)
    y = np.eye(z.shape[1], dtype=np.float32)[t]
    want = float(loss(y, (z * scale).astype(np.float32)))
    assert doc["focal"] == pytest.approx(want, rel=1e-5)


def test_class_weight_with_smoothing_and_soft_targets_against_torch(softmax_case, tmp_path):
    """--class-weight is F.cross_entropy's weight=: each class term times w_j,
    with label_smoothing (the mean over the targets' weights) and with
    probability targets (the mean over N)."""
    kind, z, t, files = softmax_case
    w = np.array([0.5, 2.0, 1.0, 3.0, 0.25, 1.5])
    weights = ["--class-weight", ",".join(map(str, w)), "--gamma", "0"]
    zt, wt = torch.from_numpy(z), torch.from_numpy(w)
    doc = focal_json("score", *files, "--label-smoothing", "0.1", *weights)
    want = F.cross_entropy(zt, torch.from_numpy(t), weight=wt, label_smoothing=0.1).item()
    assert doc["ce"] == pytest.approx(want, rel=1e-12)
    assert doc["focal"] == pytest.approx(want, rel=1e-12)
    y = np.random.default_rng(8).dirichlet(np.ones(z.shape[1]), len(t))
    np.save(tmp_path / "y.npy", y)
    doc = focal_json("score", files[0], tmp_path / "y.npy", *weights)
    want = F.cross_entropy(zt, torch.from_numpy(y), weight=wt).item()
    assert doc["ce"] == pytest.approx(want, rel=1e-12)


def test_pos_weight_against_bce_with_logits(sigmoid_case):
    """BCEWithLogitsLoss(weight=w, pos_weight=p): the mean over elements."""
    kind, x, y, files = sigmoid_case
    w, p = np.array([1.0, 0.5, 2.0, 1.0, 0.25]), np.array([3.0, 1.0, 0.5, 10.0, 1.0])
    doc = focal_json("score", *files, "--mode", "sigmoid", "--alpha", "-1", "--gamma", "0",
                     "--class-weight", ",".join(map(str, w)),
                     "--pos-weight", ",".join(map(str, p)))
    loss = torch.nn.BCEWithLogitsLoss(weight=torch.from_numpy(w), pos_weight=torch.from_numpy(p))
    want = loss(torch.from_numpy(x), torch.from_numpy(y).double()).item()
    assert doc["ce"] == pytest.approx(want, rel=1e-12)
    assert doc["focal"] == pytest.approx(want, rel=1e-12)


def test_per_example_where_torch_loses_digits(tmp_path):
    """On confident rows torch's lse - z_t cancels; focal keeps mpmath's digits."""
    z = np.array([[36.0, 0.0, 0.0], [20.0, 1.0, -3.0], [40.0, 39.0, 0.0]])
    t = np.array([0, 0, 0])
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "t.npy", t)
    out = tmp_path / "rows.json"
    focal_json("score", tmp_path / "z.npy", tmp_path / "t.npy", "-o", out)
    import json
    rows = json.loads(out.read_text())
    _, torch_ce = _torch_focal(z, t)
    worst_torch = 0.0
    for i, row in enumerate(rows):
        zz = [mp.mpf(v) for v in z[i]]
        truth = float(mp.log(mp.fsum(mp.exp(v - zz[0]) for v in zz)))
        assert row["ce"] == pytest.approx(truth, rel=1e-13)
        worst_torch = max(worst_torch, abs(torch_ce[i].item() - truth) / truth)
    assert worst_torch > 0.01  # the documented gap: torch is off by more than 1%


# ---------------------------------------------------------------- dense (N, C, H, W)

def test_dense_default_is_cross_entropy_with_ignore_index(dense_case, tmp_path):
    z, t, files = dense_case
    t = t.copy()
    t[0, :2] = 255
    np.save(tmp_path / "ti.npy", t)
    doc = focal_json("score", files[0], tmp_path / "ti.npy", "--ignore-index", 255)
    zt, tt = torch.from_numpy(z), torch.from_numpy(t)
    ce = F.cross_entropy(zt, tt, ignore_index=255, reduction="none")
    want = ((1 - torch.exp(-ce)) ** 2 * ce)[tt != 255].mean().item()
    assert doc["ce"] == pytest.approx(F.cross_entropy(zt, tt, ignore_index=255).item(),
                                      rel=1e-12)
    assert doc["focal"] == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("alpha", [0.25, 0.8])
def test_dense_like_kornia(dense_case, alpha):
    import kornia
    z, t, files = dense_case
    doc = focal_json("score", *files, "--like", "kornia", "--alpha", alpha)
    want = kornia.losses.focal_loss(torch.from_numpy(z), torch.from_numpy(t), alpha=alpha,
                                    gamma=2.0, reduction="mean").item()
    assert doc["focal"] == pytest.approx(want, rel=1e-9)


def _smp_focal_loss():
    """segmentation_models_pytorch.losses.FocalLoss, the library's own file,
    loaded without the package root (whose encoders need timm and
    torchvision, which do not install beside this torch)."""
    import importlib.util
    import sys
    import types
    if "segmentation_models_pytorch" not in sys.modules:
        spec = importlib.util.find_spec("segmentation_models_pytorch")
        if spec is None:
            pytest.skip("segmentation_models_pytorch is not installed")
        pkg = types.ModuleType("segmentation_models_pytorch")
        pkg.__path__ = list(spec.submodule_search_locations)
        sys.modules["segmentation_models_pytorch"] = pkg
    from segmentation_models_pytorch.losses import FocalLoss
    return FocalLoss


@pytest.mark.parametrize("ignore", [None, 255])
def test_dense_like_smp(dense_case, tmp_path, ignore):
    FocalLoss = _smp_focal_loss()
    z, t, files = dense_case
    t = t.copy()
    extra = []
    if ignore is not None:
        t[1, 2:4] = ignore
        extra = ["--ignore-index", ignore]
    np.save(tmp_path / "ts.npy", t)
    doc = focal_json("score", files[0], tmp_path / "ts.npy", "--like", "smp", *extra)
    want = FocalLoss("multiclass", ignore_index=ignore)(torch.from_numpy(z),
                                                        torch.from_numpy(t)).item()
    assert doc["focal"] == pytest.approx(want, rel=1e-9)


def test_dense_like_smp_class_weights(dense_case):
    """smp 0.6: sum_c w_c L_c / sum_c w_c; its own scale-invariance case."""
    FocalLoss = _smp_focal_loss()
    z, t, files = dense_case
    for w in ([1.0, 2.0, 0.5, 1.0], [10.0, 20.0, 5.0, 10.0]):
        doc = focal_json("score", *files, "--like", "smp",
                         "--class-weight", ",".join(map(str, w)))
        want = FocalLoss("multiclass", class_weights=w)(torch.from_numpy(z),
                                                        torch.from_numpy(t)).item()
        assert doc["focal"] == pytest.approx(want, rel=1e-6)


def test_rows_like_smp_class_weights(softmax_case, tmp_path):
    FocalLoss = _smp_focal_loss()
    kind, z, t, files = softmax_case
    w = [0.5, 2.0, 1.0, 3.0, 0.25, 1.5]
    doc = focal_json("score", *files, "--like", "smp", "--class-weight", ",".join(map(str, w)))
    want = FocalLoss("multiclass", class_weights=w)(torch.from_numpy(z),
                                                    torch.from_numpy(t)).item()
    assert doc["focal"] == pytest.approx(want, rel=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dense_like_smp_probabilities(dense_case, tmp_path, dtype):
    """from_logits=False: smp takes log(clamp(p)) as the sigmoid logit."""
    FocalLoss = _smp_focal_loss()
    z, t, files = dense_case
    p = torch.softmax(torch.from_numpy(z), dim=1).numpy().astype(dtype)
    np.save(tmp_path / "p.npy", p)
    doc = focal_json("score", tmp_path / "p.npy", files[1], "--like", "smp", "--probs")
    want = FocalLoss("multiclass", from_logits=False)(torch.from_numpy(p),
                                                      torch.from_numpy(t)).item()
    assert doc["focal"] == pytest.approx(want, rel=1e-6 if dtype == np.float32 else 1e-9)


def test_dense_like_monai(dense_case):
    from monai.losses import FocalLoss
    z, t, files = dense_case
    target = torch.from_numpy(t)[:, None]
    doc = focal_json("score", *files, "--like", "monai")
    want = FocalLoss(to_onehot_y=True)(torch.from_numpy(z), target).item()
    assert doc["focal"] == pytest.approx(want, rel=1e-6)  # MONAI computes in float32
    soft = focal_json("score", *files, "--like", "monai", "--mode", "softmax")
    want = FocalLoss(to_onehot_y=True, use_softmax=True)(torch.from_numpy(z), target).item()
    assert soft["focal"] == pytest.approx(want, rel=1e-6)


def test_dense_like_monai_per_element(dense_case, tmp_path):
    """reduction='none': --map FILE.npy --per-element, in MONAI's shape."""
    from monai.losses import FocalLoss
    z, t, files = dense_case
    focal_json("score", *files, "--like", "monai", "--map", tmp_path / "e.npy",
               "--per-element")
    want = FocalLoss(to_onehot_y=True, reduction="none")(torch.from_numpy(z),
                                                        torch.from_numpy(t)[:, None])
    np.testing.assert_allclose(np.load(tmp_path / "e.npy"), want.numpy(), rtol=1e-5,
                               atol=1e-7)


def test_dense_like_monai_without_background(dense_case):
    """include_background=False: --drop-class 0."""
    from monai.losses import FocalLoss
    z, t, files = dense_case
    target = torch.from_numpy(t)[:, None]
    for flags, kwargs in (([], {}), (["--mode", "softmax"], {"use_softmax": True})):
        doc = focal_json("score", *files, "--like", "monai", "--drop-class", "0", *flags)
        want = FocalLoss(to_onehot_y=True, include_background=False, **kwargs)(
            torch.from_numpy(z), target).item()
        assert doc["focal"] == pytest.approx(want, rel=1e-6), flags


@pytest.mark.parametrize("bins", [15, 7])
def test_calibration_against_torchmetrics(softmax_case, bins):
    from torchmetrics.functional.classification import (multiclass_calibration_error)
    kind, z, t, files = softmax_case
    doc = focal_json("score", *files, "--bins", bins)["calibration"]
    p = torch.softmax(torch.from_numpy(z), 1)
    k = z.shape[1]
    want = multiclass_calibration_error(p, torch.from_numpy(t), num_classes=k, n_bins=bins)
    assert doc["ece"] == pytest.approx(want.item(), rel=1e-6)
    mce = multiclass_calibration_error(p, torch.from_numpy(t), num_classes=k, n_bins=bins,
                                       norm="max")
    assert doc["mce"] == pytest.approx(mce.item(), rel=1e-6)


def test_binary_calibration_against_torchmetrics(sigmoid_case):
    from torchmetrics.functional.classification import binary_calibration_error
    kind, x, y, files = sigmoid_case
    doc = focal_json("score", *files, "--mode", "sigmoid")["calibration"]
    want = binary_calibration_error(torch.sigmoid(torch.from_numpy(x)).reshape(-1),
                                    torch.from_numpy(y).reshape(-1).long(), n_bins=15)
    assert doc["ece"] == pytest.approx(want.item(), rel=1e-6)
