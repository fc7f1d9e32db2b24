"""Three conventions that gave wrong numbers, against their formulas written
out here: Keras' clip on soft and smoothed labels, smp's class_weights and
from_logits=False, and --class-weight on soft targets as PyTorch's weight=
(each class term times w_j). The peers themselves check the same in
`make test-peers`."""
import json

import numpy as np
import pytest

from conftest import focal, sample

DIGITS = [sample("digits.npy"), sample("digits_targets.npy")]
EPS = np.float32(1e-7)


def _json(*args):
    run = focal(*args, "--format", "json")
    assert run.code == 0, run
    return run.json()


def keras_categorical_focal(z, y, gamma=2.0, alpha=0.25, smoothing=0.0):
    """keras.losses.CategoricalFocalCrossentropy(from_logits=True), written
    out from its documentation, in float32: softmax, the clip to
    [1e-7, 1 - 1e-7], then alpha (1 - p)^gamma (-y log p) summed per row."""
    z = z.astype(np.float32)
    y = y.astype(np.float32) * np.float32(1 - smoothing) + np.float32(smoothing / y.shape[1])
    e = np.exp(z - z.max(1, keepdims=True))
    p = np.clip(e / e.sum(1, keepdims=True), EPS, 1 - EPS)
    return float(np.mean(np.sum(alpha * (1 - p) ** gamma * -y * np.log(p), axis=1)))


@pytest.mark.parametrize("scale", [1.0, 5.0])
def test_like_keras_clips_smoothed_labels(tmp_path, scale):
    z, t = np.load(DIGITS[0]), np.load(DIGITS[1])
    np.save(tmp_path / "z.npy", z * scale)
    doc = _json("score", tmp_path / "z.npy", DIGITS[1], "--like", "keras",
                "--label-smoothing", "0.1")
    want = keras_categorical_focal(z * scale, np.eye(10)[t], smoothing=0.1)
    assert doc["focal"] == pytest.approx(want, rel=1e-5)


def test_like_keras_clips_soft_targets(tmp_path):
    z = np.load(DIGITS[0]) * 5
    y = np.random.default_rng(2).dirichlet(np.ones(10) * 0.3, len(z))
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "y.npy", y)
    doc = _json("score", tmp_path / "z.npy", tmp_path / "y.npy", "--like", "keras")
    assert doc["focal"] == pytest.approx(keras_categorical_focal(z, y), rel=1e-5)


def _smp_class_losses(x, t, gamma=2.0):
    """smp's multiclass FocalLoss before the class reduction: for each class
    the mean over positions of the one-vs-rest sigmoid focal loss."""
    y = np.eye(x.shape[1])[t]
    p = 1 / (1 + np.exp(-x))
    ce = np.logaddexp(0, -x) * y + np.logaddexp(0, x) * (1 - y)
    p_t = p * y + (1 - p) * (1 - y)
    return ((1 - p_t) ** gamma * ce).mean(0)


def test_like_smp_class_weight_divides_by_the_summed_weights():
    z, t = np.load(DIGITS[0]), np.load(DIGITS[1])
    w = np.arange(1.0, 11.0)
    losses = _smp_class_losses(z, t)
    for scale in (1.0, 10.0):
        doc = _json("score", *DIGITS, "--like", "smp",
                    "--class-weight", ",".join(map(str, w * scale)))
        assert doc["focal"] == pytest.approx((w * losses).sum() / w.sum(), rel=1e-12)


def test_like_smp_probabilities_are_its_logits(tmp_path):
    z, t = np.load(DIGITS[0]), np.load(DIGITS[1])
    e = np.exp(z - z.max(1, keepdims=True))
    p = e / e.sum(1, keepdims=True)
    np.save(tmp_path / "p.npy", p)
    doc = _json("score", tmp_path / "p.npy", DIGITS[1], "--like", "smp", "--probs")
    x = np.log(np.clip(p, 1e-7, 1 - 1e-7))  # smp's from_logits=False, multiclass
    assert doc["focal"] == pytest.approx(_smp_class_losses(x, t).mean(), rel=1e-12)


def _log_softmax(z):
    m = z.max(1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(1, keepdims=True))


def test_class_weight_weighs_each_term_of_smoothed_targets():
    """F.cross_entropy(weight=w, label_smoothing=eps): (1 - eps) w_t (-log p_t)
    + eps / K sum_j w_j (-log p_j), over sum w_t; focal the same with each
    term times (1 - p_j)^gamma."""
    z, t = np.load(DIGITS[0]), np.load(DIGITS[1])
    w = np.linspace(0.5, 3.0, 10)
    y = 0.9 * np.eye(10)[t] + 0.1 / 10
    lp = _log_softmax(z)
    for gamma in (0.0, 2.0):
        doc = _json("score", *DIGITS, "--label-smoothing", "0.1", "--gamma", gamma,
                    "--class-weight", ",".join(map(str, w)))
        terms = w * y * -lp
        assert doc["ce"] == pytest.approx(terms.sum() / w[t].sum(), rel=1e-12)
        focal = ((1 - np.exp(lp)) ** gamma * terms).sum() / w[t].sum()
        assert doc["focal"] == pytest.approx(focal, rel=1e-12)


def test_class_weight_on_probability_targets_is_a_mean_over_n(tmp_path):
    z = np.load(DIGITS[0])
    y = np.random.default_rng(4).dirichlet(np.ones(10), len(z))
    np.save(tmp_path / "y.npy", y)
    w = np.linspace(0.5, 3.0, 10)
    doc = _json("score", DIGITS[0], tmp_path / "y.npy", "--gamma", "0",
                "--class-weight", ",".join(map(str, w)))
    assert doc["ce"] == pytest.approx((w * y * -_log_softmax(z)).sum(1).mean(), rel=1e-12)


def test_vocabulary_with_digit_tokens_and_logprobs(tmp_path):
    """A GPT-2 style vocab.json (digit tokens at other ids) names the classes
    of log-probability input; its size is the vocabulary's, not the table's."""
    vocab = {"<eos>": 0, "the": 1, "0": 2, "1": 3, "cat": 4, "15": 5}
    (tmp_path / "vocab.json").write_text(json.dumps(vocab))
    lp = np.array([-0.1, -2.0, -0.3, -1.5, -0.05])
    t = np.array([1, 2, 4, 2, 5])
    (tmp_path / "lp.csv").write_text("logprob,target\n" + "".join(
        f"{float(a)!r},{b}\n" for a, b in zip(lp, t)))
    doc = _json("score", tmp_path / "lp.csv", "--class-names", tmp_path / "vocab.json")
    focal_rows = (-np.expm1(lp)) ** 2 * -lp
    assert doc["focal"] == pytest.approx(focal_rows.mean(), rel=1e-12)
    by_name = {r["class"]: r for r in doc["per_class"]}
    assert by_name["0"]["count"] == 2 and by_name["15"]["count"] == 1
    assert by_name["0"]["focal"] == pytest.approx(focal_rows[[1, 3]].mean(), rel=1e-12)
    # rows of scores: the same map's digit names are its own, by id
    (tmp_path / "v10.json").write_text(json.dumps({str(9 - i): i for i in range(10)}))
    doc = _json("score", *DIGITS, "--class-names", tmp_path / "v10.json")
    assert doc["class_names"] == [str(9 - i) for i in range(10)]


def test_a_decompression_bomb_mask_is_bad_input(tmp_path):
    from PIL import Image
    Image.new("L", (4000, 4000)).save(tmp_path / "big.png")
    np.save(tmp_path / "z.npy", np.zeros((1, 2, 4000, 4000), np.float32))
    limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = 1_000_000  # 16M pixels is then past twice the limit
    try:
        run = focal("score", tmp_path / "z.npy", tmp_path / "big.png")
    finally:
        Image.MAX_IMAGE_PIXELS = limit
    assert run.code == 2, run
    assert "big.png" in run.err and len(run.err.strip().splitlines()) == 1
