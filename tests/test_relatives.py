"""Sigmoid soft targets and the relatives (varifocal, quality focal,
asymmetric, focal Tversky). Every expected value is the peer's formula
written out here in float64 (the peers themselves run in make test-peers):
mmdetection's mmdet/models/losses/varifocal_loss.py and gfocal_loss.py,
timm's timm/loss/asymmetric_loss.py, smp's losses/tversky.py and
_functional.soft_tversky_score."""
import numpy as np
import pytest

import focalcli
from conftest import focal, validate_document


def sigmoid(x):
    return 0.5 * (1 + np.tanh(0.5 * x))


def bce(x, y):
    """BCE with logits, soft y: y softplus(-x) + (1 - y) softplus(x)."""
    return y * np.logaddexp(0, -x) + (1 - y) * np.logaddexp(0, x)


@pytest.fixture(scope="module")
def detections():
    """Anchors x classes: IoU-aware quality targets on the positives."""
    rng = np.random.default_rng(11)
    x = rng.normal(-1, 3, (400, 5))
    positive = rng.random((400, 5)) < 0.15
    iou = np.where(positive, rng.uniform(0.1, 1.0, (400, 5)), 0.0)
    iou[0, 0], iou[1, 1] = 1.0, 0.0
    x[2, 2] = 40.0   # confident: 1 - p ~ 4e-18
    x[3, 3] = -40.0
    return x, iou


@pytest.mark.parametrize("gamma, alpha", [(2.0, 0.25), (0.5, 0.75), (0.0, -1), (3.0, 0.5)])
def test_sigmoid_soft_targets_are_the_mixed_formula(detections, gamma, alpha):
    x, y = detections
    doc = focalcli.score(x, y, mode="sigmoid", soft_targets=True, gamma=gamma,
                         alpha=alpha).to_dict()
    validate_document(doc, "score")
    p = sigmoid(x)
    pt = p * y + (1 - p) * (1 - y)
    at = 1.0 if alpha < 0 else alpha * y + (1 - alpha) * (1 - y)
    ce = bce(x, y)
    assert doc["ce"] == pytest.approx(ce.mean(), rel=1e-12)
    assert doc["focal"] == pytest.approx((at * (1 - pt) ** gamma * ce).mean(), rel=1e-12)
    assert doc["positives"] == int((y > 0).sum())


def test_soft_targets_of_zeros_and_ones_are_the_hard_scores(detections):
    x, y = detections
    hard = (y > 0).astype(np.int64)
    soft = focalcli.score(x, hard.astype(float), mode="sigmoid", soft_targets=True,
                          normalize="positives").to_dict()
    plain = focalcli.score(x, hard, mode="sigmoid", normalize="positives").to_dict()
    for key in ("focal", "ce", "ratio", "easy_share"):
        assert soft[key] == pytest.approx(plain[key], rel=1e-13)


def test_sigmoid_label_smoothing_is_keras_binary_form(detections, tmp_path):
    x, y = detections
    hard = (y > 0).astype(np.int64)
    hard[5, :] = -1  # ignored elements stay out
    doc = focalcli.score(x, hard, mode="sigmoid", label_smoothing=0.1, ignore_index=-1,
                         reduction="sum").to_dict()
    keep = hard != -1
    ys = hard * 0.9 + 0.05
    p = sigmoid(x)
    pt = p * ys + (1 - p) * (1 - ys)
    at = 0.25 * ys + 0.75 * (1 - ys)
    want = (at * (1 - pt) ** 2 * bce(x, ys))[keep].sum()
    assert doc["focal"] == pytest.approx(want, rel=1e-12)
    assert doc["ignored_elements"] == 5


def test_soft_targets_from_probabilities(detections):
    x, y = detections
    p = sigmoid(x[4:])  # not the saturated rows: a probability of 1.0 is exactly 1
    doc = focalcli.score(p, y[4:], mode="sigmoid", soft_targets=True, probs=True).to_dict()
    yy = y[4:]
    ce = -(yy * np.log(p) + (1 - yy) * np.log1p(-p))
    pt = p * yy + (1 - p) * (1 - yy)
    at = 0.25 * yy + 0.75 * (1 - yy)
    assert doc["focal"] == pytest.approx((at * (1 - pt) ** 2 * ce).mean(), rel=1e-10)


def test_calibration_and_prior_under_soft_targets_read_p(detections):
    x, y = detections
    doc = focalcli.score(x, y, mode="sigmoid", soft_targets=True).to_dict()
    p = sigmoid(x)
    for c, row in enumerate(doc["prior"]):
        assert row["mean_probability"] == pytest.approx(p[:, c].mean(), rel=1e-12)
        assert row["rate"] == pytest.approx((y[:, c] > 0).mean(), rel=1e-15)
    assert doc["calibration"]["confidence"] == pytest.approx(p.mean(), rel=1e-12)


def _loss(doc, prefix):
    return next(r for r in doc["losses"] if r["name"].startswith(prefix))


def test_varifocal_and_quality_focal(detections):
    x, y = detections
    doc = focalcli.score(x, y, mode="sigmoid", soft_targets=True, gamma=2,
                         loss=["varifocal", "quality-focal:1.5"]).to_dict()
    p = sigmoid(x)
    ce = bce(x, y)
    # mmdet varifocal_loss: target * (target > 0) + alpha * |p - target|^gamma * (target <= 0)
    vfl = ce * np.where(y > 0, y, 0.75 * np.abs(p - y) ** 2)
    # mmdet quality_focal_loss_tensor_target: BCE(pred, 0) p^beta, then BCE(pred, y) |y - p|^beta
    qfl = ce * np.abs(y - p) ** 1.5
    for name, want in (("varifocal:0.75", vfl), ("quality-focal:1.5", qfl)):
        row = _loss(doc, name)
        assert row["name"] == name
        assert row["value"] == pytest.approx(want.mean(), rel=1e-12)
        assert row["positives"] == pytest.approx(want[y > 0].sum() / y.size, rel=1e-12)
        assert row["negatives"] == pytest.approx(want[y == 0].sum() / y.size, rel=1e-12)
        assert row["ratio_to_ce"] == pytest.approx(want.mean() / ce.mean(), rel=1e-12)
    validate_document(doc, "score")


@pytest.mark.parametrize("param, gn, gp, clip", [("", 4, 1, 0.05), (":2,0,0", 2, 0, 0.0),
                                                  (":3,2,0.2", 3, 2, 0.2),
                                                  (":1,1,0.1", 1, 1, 0.1)])
def test_asymmetric_is_timms(detections, param, gn, gp, clip):
    x, y = detections
    t = (y > 0).astype(np.int64)
    doc = focalcli.score(x, t, mode="sigmoid", loss=[f"asymmetric{param}"],
                         reduction="sum").to_dict()
    p = sigmoid(x)
    xs_neg = np.minimum(1 - p + clip, 1) if clip else 1 - p
    los_pos = t * np.log(np.maximum(p, 1e-8))
    los_neg = (1 - t) * np.log(np.maximum(xs_neg, 1e-8))
    pt = p * t + xs_neg * (1 - t)
    w = (1 - pt) ** (gp * t + gn * (1 - t))
    want = -(los_pos + los_neg) * w
    row = doc["losses"][0]
    assert row["value"] == pytest.approx(want.sum(), rel=1e-10)
    assert row["positives"] == pytest.approx(want[t == 1].sum(), rel=1e-10)
    assert row["negatives"] == pytest.approx(want[t == 0].sum(), rel=1e-10)


def smp_tversky(z, t, a, b, g, ignore=None):
    """smp TverskyLoss(mode='multiclass', from_logits=True): soft_tversky_score
    over dims (0, 2), absent classes masked, mean over classes ** gamma."""
    n, k = z.shape[:2]
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p = np.moveaxis(p.reshape(n, k, -1), 1, 0).reshape(k, -1)
    t = t.reshape(-1)
    mask = np.ones(t.shape) if ignore is None else (t != ignore).astype(float)
    onehot = np.stack([(t == c) for c in range(k)]).astype(float) * mask
    return _tversky_over_classes(p * mask, onehot, a, b, g)


def _tversky_over_classes(p, y, a, b, g):
    """smp's soft_tversky_score per class (rows of ``p`` and targets ``y``,
    masked already), classes without targets 0, the mean ** gamma."""
    tp = (p * y).sum(axis=1)
    fp = (p * (1 - y)).sum(axis=1)
    fn = ((1 - p) * y).sum(axis=1)
    score = tp / np.maximum(tp + a * fp + b * fn, 1e-7)
    loss = (1 - score) * (y.sum(axis=1) > 0)
    return loss.mean() ** g


@pytest.mark.parametrize("param, abg", [("", (0.5, 0.5, 1.0)), (":0.3,0.7,0.75", (0.3, 0.7, 0.75))])
def test_focal_tversky_is_smps_over_the_whole_input(tmp_path, param, abg):
    rng = np.random.default_rng(12)
    z = rng.normal(0, 2, (3, 4, 9, 7)).astype(np.float32)
    t = rng.integers(0, 3, (3, 9, 7))  # class 3 absent
    t[0, :2] = 255
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "t.npy", t)
    doc = focal("score", tmp_path / "z.npy", tmp_path / "t.npy", "--ignore-index", "255",
                "--loss", f"focal-tversky{param}", "--format", "json").json()
    row = doc["losses"][0]
    want = smp_tversky(z.astype(np.float64), t, *abg, ignore=255)
    assert row["value"] == pytest.approx(want, rel=1e-5)  # float32 input, summed in float32
    assert "positives" not in row


def test_focal_tversky_on_rows(tmp_path):
    rng = np.random.default_rng(13)
    z = rng.normal(0, 2, (500, 6))
    t = rng.integers(0, 6, 500)
    doc = focalcli.score(z, t, loss=["focal-tversky:0.7,0.3,1.3333"]).to_dict()
    want = smp_tversky(z[:, :, None], t[:, None], 0.7, 0.3, 1.3333)
    assert doc["losses"][0]["value"] == pytest.approx(want, rel=1e-12)


def smp_tversky_multilabel(x, t, a, b, g, ignore=None):
    """smp TverskyLoss(mode='multilabel', from_logits=True): sigmoid
    probabilities, soft_tversky_score per class over dims (0, 2), classes
    without positives masked, mean over classes ** gamma."""
    p = 1 / (1 + np.exp(-x))
    mask = np.ones(t.shape) if ignore is None else (t != ignore).astype(float)
    return _tversky_over_classes((p * mask).T, ((t == 1) * mask).T, a, b, g)


@pytest.mark.parametrize("abg", [(0.5, 0.5, 1.0), (0.3, 0.7, 0.75)])
@pytest.mark.parametrize("ignore", [None, 255])
def test_focal_tversky_sigmoid_is_smps_multilabel(abg, ignore):
    rng = np.random.default_rng(14)
    x = rng.normal(-1, 2, (400, 5))
    t = (rng.random((400, 5)) < 0.2).astype(np.int64)
    t[:, 4] = 0  # a class without positives counts 0
    if ignore is not None:
        t[:30, 1] = ignore
    a, b, g = abg
    doc = focalcli.score(x, t, mode="sigmoid", ignore_index=ignore,
                         loss=[f"focal-tversky:{a},{b},{g}"]).to_dict()
    want = smp_tversky_multilabel(x, t, a, b, g, ignore)
    assert doc["losses"][0]["value"] == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("args, message", [
    (["--loss", "varifocal"], "--loss: varifocal is of the sigmoid form: use --mode sigmoid"),
    (["--loss", "focal-tversky", "--mode", "sigmoid", "--soft-targets"], "focal-tversky is smp's"),
    (["--loss", "asymmetric:1,2,3,4"], "asymmetric takes at most 3 parameters"),
    (["--loss", "asymmetric:1,2,1.5"], "asymmetric's CLIP must be below 1"),
    (["--loss", "quality-focal:x"], "quality-focal:x: give numbers"),
    (["--loss", "varifocal:-1", "--mode", "sigmoid"], "must be finite and >= 0"),
    (["--loss", "focal-tversky", "--weights", "2"], "focal-tversky is smp's"),
])
def test_relative_refusals(tmp_path, args, message):
    np.save(tmp_path / "z.npy", np.zeros((4, 3)))
    np.save(tmp_path / "t.npy", np.array([0, 1, 2, 1]))
    run = focal("score", tmp_path / "z.npy", tmp_path / "t.npy", *args)
    assert run.code == 2 and message in run.err, run


def test_soft_target_refusals(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((4, 3)))
    y = np.full((4, 3), 0.5)
    y[2, 1] = 1.5
    np.save(tmp_path / "y.npy", y)
    run = focal("score", tmp_path / "x.npy", tmp_path / "y.npy", "--mode", "sigmoid",
                "--soft-targets")
    assert run.code == 2 and "y.npy, row 3 (index 2), column '1': soft target 1.5 is not in " \
        "[0, 1]" in run.err, run
    np.save(tmp_path / "y.npy", np.full((4, 2), 0.5))
    run = focal("score", tmp_path / "x.npy", tmp_path / "y.npy", "--mode", "sigmoid",
                "--soft-targets")
    assert run.code == 2 and "a matrix of 3 columns" in run.err, run
    np.save(tmp_path / "y.npy", np.full((4, 3), 0.5))
    run = focal("score", tmp_path / "x.npy", tmp_path / "y.npy", "--mode", "sigmoid",
                "--soft-targets", "--loss", "asymmetric")
    assert run.code == 2 and "--loss asymmetric are for 0/1" in run.err, run


def test_sweep_gives_each_relative_at_every_gamma(detections, tmp_path):
    """A sweep cell's relative is what score says at that gamma (FL* has no
    value at gamma 0: it divides by gamma)."""
    x, y = detections
    t = (y > 0).astype(np.int64)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "t.npy", t)
    files = [tmp_path / "x.npy", tmp_path / "t.npy"]
    losses = ["--loss", "varifocal", "--loss", "fl-star:0.5", "--loss", "asymmetric"]
    doc = focal("sweep", *files, "--mode", "sigmoid", "--gammas", "0,1.5,3", *losses,
                "--format", "json").json()
    for cell in doc["grid"]:
        got = {r["name"]: r["value"] for r in cell["losses"]}
        if cell["gamma"] == 0:
            assert got["fl-star:0.5"] is None
            got.pop("fl-star:0.5")
            one = focal("score", *files, "--mode", "sigmoid", "--gamma", "0", "--loss",
                        "varifocal", "--loss", "asymmetric", "--format", "json").json()
        else:
            one = focal("score", *files, "--mode", "sigmoid", "--gamma", cell["gamma"],
                        *losses, "--format", "json").json()
        want = {r["name"]: r["value"] for r in one["losses"]}
        assert got == pytest.approx(want, rel=1e-13)
    csv = focal("sweep", *files, "--mode", "sigmoid", "--gammas", "1,2", *losses,
                "--format", "csv").out
    assert csv.splitlines()[0].endswith(',varifocal:0.75,fl-star:0.5,"asymmetric:4,1,0.05"')
