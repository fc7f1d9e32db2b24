import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


def _extreme(rng, n, k):
    """Confident rows (1 - p_t ~ 1e-15), hopeless rows (p_t ~ 1e-20),
    logits in the thousands, and ties."""
    z = rng.normal(size=(n, k))
    t = rng.integers(0, k, n)
    rows = np.arange(n)
    z[rows[::4], t[::4]] += 36.0
    z[rows[1::4], (t[1::4] + 1) % k] += 46.0
    z[2::4] += 1000.0
    z[3::8] = 0.0
    return z, t


@pytest.fixture(params=["random", "extreme"])
def softmax_case(request, tmp_path):
    rng = np.random.default_rng(5)
    n, k = 512, 6
    if request.param == "random":
        z, t = rng.normal(scale=3, size=(n, k)), rng.integers(0, k, n)
    else:
        z, t = _extreme(rng, n, k)
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "t.npy", t)
    return request.param, z, t, [tmp_path / "z.npy", tmp_path / "t.npy"]


@pytest.fixture(params=["random", "extreme"])
def sigmoid_case(request, tmp_path):
    rng = np.random.default_rng(6)
    n, k = 400, 5
    x = rng.normal(scale=3, size=(n, k))
    if request.param == "extreme":
        x[::3] *= 300.0
    y = (rng.random((n, k)) < 0.2).astype(np.int64)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    return request.param, x, y, [tmp_path / "x.npy", tmp_path / "y.npy"]


@pytest.fixture
def dense_case(tmp_path):
    rng = np.random.default_rng(11)
    z = rng.normal(scale=2, size=(2, 4, 6, 5))
    t = rng.integers(0, 4, (2, 6, 5))
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "t.npy", t)
    return z, t, [tmp_path / "z.npy", tmp_path / "t.npy"]
