"""More peers' own test cases, reproduced through focal: mmcv's
tests/test_ops/test_focal_loss.py (mmcv's expected numbers), KerasCV's
keras_cv/losses/focal_test.py and numerical_tests/focal_loss_numerical_test.py,
mmdetection's tests/test_models/test_losses/test_loss.py (its quality focal
test) and smp's Tversky tests in tests/test_losses.py (smp's expected numbers).
None of these peers' packages is imported: mmcv and mmdetection need their
compiled ops and mmengine, KerasCV TensorFlow; each expected value is the
peer test's own number or the formula its test compares against, written
out here. The tests that stay out, and why: docs/conventions.md."""
import numpy as np
import pytest

from peer_cli import focal_json

# -- mmcv's tests/test_ops/test_focal_loss.py: alpha 0.25, gamma 2, 'mean'
MMCV_INPUTS = [
    ([[1., 0], [0, 1.]], [0, 1]),
    ([[1., 0, -1.], [0, 1., 2.]], [2, 1]),
    ([[1e-6, 2e-6, 3e-6], [4e-6, 5e-5, 6e-4], [7e-3, 8e-2, 9e-1]], [1, 2, 0]),
]
MMCV_SOFTMAX = [(0.00566451, [[-0.00657264, 0.00657264], [0.00657264, -0.00657264]]),
                (0.34956908, [[0.10165970, 0.03739851, -0.13905823],
                              [0.01227554, -0.10298023, 0.09070466]]),
                (0.15754992, [[0.02590877, -0.05181759, 0.02590882],
                              [0.02589641, 0.02589760, -0.05179400],
                              [-0.07307514, 0.02234372, 0.05073142]])]
MMCV_SIGMOID = [(0.13562961, [[-0.00657264, 0.11185755], [0.11185755, -0.00657264]]),
                (1.10251057, [[0.28808805, 0.11185755, -0.09602935],
                              [0.11185755, -0.00657264, 0.40376765]]),
                (0.42287254, [[0.07457182, -0.02485716, 0.07457201],
                              [0.07457211, 0.07457669, -0.02483728],
                              [-0.02462499, 0.08277918, 0.18050370]])]
#: mmcv's softmax focal loss is -alpha (1 - p)^gamma log p: one alpha for every class
MMCV_SOFTMAX_FLAGS = ["--alpha", 0.25, "--gamma", 2]
#: mmcv's sigmoid 'mean' is the sum over the (N, K) elements divided by N
MMCV_SIGMOID_FLAGS = ["--mode", "sigmoid", "--alpha", 0.25, "--gamma", 2, "--reduction", "sum"]


def _save(tmp_path, x, t):
    np.save(tmp_path / "x.npy", np.asarray(x, dtype=np.float64))
    np.save(tmp_path / "t.npy", np.asarray(t))
    return [tmp_path / "x.npy", tmp_path / "t.npy"]


def _mmcv_case(tmp_path, x, t, flags):
    doc = focal_json("score", *_save(tmp_path, x, t), *flags, "--grad", tmp_path / "g.npy")
    per_n = len(t) if "sigmoid" in flags else 1
    return doc["focal"] / per_n, np.load(tmp_path / "g.npy") / per_n


@pytest.mark.parametrize("case", range(3))
def test_mmcv_softmax(tmp_path, case):
    """Testfocalloss.test_softmax: mmcv's loss and gradient of softmax_focal_loss."""
    (x, t), (want, want_grad) = MMCV_INPUTS[case], MMCV_SOFTMAX[case]
    loss, grad = _mmcv_case(tmp_path, x, t, MMCV_SOFTMAX_FLAGS)
    assert loss == pytest.approx(want, rel=1e-6)   # mmcv printed 8 digits of float32
    np.testing.assert_allclose(grad, want_grad, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("case", range(3))
def test_mmcv_sigmoid(tmp_path, case):
    """Testfocalloss.test_sigmoid: mmcv's loss and gradient of sigmoid_focal_loss
    (class-index targets, one-hot over the K columns)."""
    (x, t), (want, want_grad) = MMCV_INPUTS[case], MMCV_SIGMOID[case]
    loss, grad = _mmcv_case(tmp_path, x, t, MMCV_SIGMOID_FLAGS)
    assert loss == pytest.approx(want, rel=1e-6)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("flags", [MMCV_SOFTMAX_FLAGS, MMCV_SIGMOID_FLAGS],
                         ids=["test_grad_softmax", "test_grad_sigmoid"])
@pytest.mark.parametrize("case", range(3))
def test_mmcv_gradcheck(tmp_path, flags, case):
    """test_grad_softmax / test_grad_sigmoid: torch's gradcheck, the analytic
    gradient against central differences of the loss (here in float64)."""
    x, t = MMCV_INPUTS[case]
    x = np.asarray(x)
    _, grad = _mmcv_case(tmp_path, x, t, flags)
    h = 1e-6
    numeric = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[i] = h
        up, _ = _mmcv_case(tmp_path, x + step, t, flags)
        down, _ = _mmcv_case(tmp_path, x - step, t, flags)
        numeric[i] = (up - down) / (2 * h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


# -- KerasCV's keras_cv/losses: FocalLoss (alpha 0.25, gamma 2)
def _model_garden_focal_loss(y_true, y_pred, alpha=0.25, gamma=2.0):
    """The TF Model Garden focal loss KerasCV's numerical test compares with."""
    cross_entropy = np.logaddexp(0, y_pred) - y_true * y_pred
    probs = 1 / (1 + np.exp(-y_pred))
    probs_gt = np.where(y_true == 1, probs, 1 - probs)
    loss = (1 - probs_gt) ** gamma * cross_entropy
    return np.where(y_true == 1, alpha * loss, (1 - alpha) * loss)


@pytest.mark.parametrize("draw", range(10))
def test_kerascv_model_garden_implementation_has_same_outputs(tmp_path, draw):
    """FocalLossModelGardenComparisonTest: FocalLoss(from_logits=True,
    reduction='sum') on one-hot (200, 10) targets and uniform logits."""
    rng = np.random.default_rng(draw)
    y_true = np.eye(10)[rng.integers(0, 10, 200)]
    y_pred = rng.random((200, 10)).astype(np.float32)
    doc = focal_json("score", *_save(tmp_path, y_pred, y_true.astype(np.int64)),
                     "--mode", "sigmoid", "--alpha", 0.25, "--reduction", "sum")
    want = _model_garden_focal_loss(y_true, y_pred.astype(np.float64)).sum()
    assert doc["focal"] == pytest.approx(want, rel=1e-6)  # float32 logits, float32 sums


# -- mmdetection's tests/test_models/test_losses/test_loss.py
def _qfl_label_score_form(pred, label, score, beta=2.0, activated=False):
    """mmdetection's quality_focal_loss with a (label, score) target
    (models/losses/gfocal_loss.py), per element before the reduction:
    negatives BCE(x, 0) sigma^beta, the labelled column BCE(x, score) |score -
    sigma|^beta."""
    p = pred if activated else 1 / (1 + np.exp(-pred))

    def bce(y):
        if activated:
            return -(y * np.log(p) + (1 - y) * np.log1p(-p))
        return np.logaddexp(0, pred) - y * pred
    loss = bce(0.0) * p ** beta
    rows = np.arange(len(label))
    target = np.zeros_like(p)
    target[rows, label] = score
    labelled = bce(target) * np.abs(target - p) ** beta
    loss[rows, label] = labelled[rows, label]
    return loss


@pytest.mark.parametrize("activated", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_mmdet_QualityFocalLoss_Loss(tmp_path, activated, seed):
    """test_QualityFocalLoss_Loss: the (label, score) form equals the
    one-hot-times-score tensor form, with and without activated inputs."""
    rng = np.random.default_rng(seed)
    pred = rng.random((4, 5))
    label = np.array([0, 1, 2, 0])
    score = rng.random(4)
    target = np.eye(5)[label] * score[:, None]
    flags = ["--probs"] if activated else []
    doc = focal_json("score", *_save(tmp_path, pred, target), "--mode", "sigmoid",
                     "--soft-targets", "--loss", "quality-focal", *flags)
    want = _qfl_label_score_form(pred, label, score, activated=activated).mean()
    assert doc["losses"][0]["value"] == pytest.approx(want, rel=1e-12)


# -- smp's tests/test_losses.py, its Tversky tests (smp's expected numbers)
SMP_TVERSKY_BINARY = [  # y_pred, y_true, expected loss (TverskyLoss binary, alpha = beta = 0.5)
    ([1.0, 1.0, 1.0], [1, 1, 1], 0.0), ([1.0, 0.0, 1.0], [1, 0, 1], 0.0),
    ([0.0, 0.0, 0.0], [0, 0, 0], 0.0), ([1.0, 1.0, 1.0], [0, 0, 0], 0.0),
    ([1.0, 0.0, 1.0], [0, 1, 0], 1.0), ([0.0, 0.0, 0.0], [1, 1, 1], 1.0)]
SMP_TVERSKY_SCORE = [  # y_true, y_pred, expected score (soft_tversky_score, 0.5, 0.5)
    ([1, 1, 1, 1], [1, 1, 1, 1], 1.0), ([0, 1, 1, 0], [0, 1, 1, 0], 1.0),
    ([1, 1, 1, 1], [1, 1, 0, 0], 2.0 / 3.0)]


def _tversky(tmp_path, y_pred, y_true):
    """Binary mode over the whole input: one sigmoid class, probabilities."""
    x = np.asarray(y_pred, dtype=np.float64)[:, None]
    t = np.asarray(y_true)[:, None]
    doc = focal_json("score", *_save(tmp_path, x, t), "--mode", "sigmoid", "--probs",
                     "--loss", "focal-tversky:0.5,0.5,1")
    return doc["losses"][0]["value"]


@pytest.mark.parametrize("y_pred, y_true, want", SMP_TVERSKY_BINARY)
def test_smp_tversky_loss_binary(tmp_path, y_pred, y_true, want):
    """test_tversky_loss_binary: TverskyLoss(BINARY_MODE, from_logits=False),
    ideal and worst cases (a class without targets costs 0)."""
    assert _tversky(tmp_path, y_pred, y_true) == pytest.approx(want, abs=1e-5)


@pytest.mark.parametrize("y_true, y_pred, want", SMP_TVERSKY_SCORE)
def test_smp_soft_tversky_score(tmp_path, y_true, y_pred, want):
    """test_soft_tversky_score: the Tversky index is 1 - the loss at gamma 1."""
    assert 1.0 - _tversky(tmp_path, y_pred, y_true) == pytest.approx(want, abs=1e-5)
