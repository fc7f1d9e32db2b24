"""Peers' conventions that need more than a preset: Keras' renormalised
probabilities, class and positive-class weights, FL*. Expected values are
each peer's formula written out here, with the peer's file named; the
libraries themselves check the same in peers_tests/ (make test-peers)."""
import numpy as np
import pytest

from conftest import focal
from focalcli.errors import ExitStatus


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
    assert losses == [{"name": f"fl-star:{beta:g}", "value": pytest.approx(want, rel=1e-12),
                       "ratio_to_ce": losses[0]["ratio_to_ce"]}]
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
