"""Against PyTorch, where it is installed (`make test-peers` installs it);
skips cleanly without it."""
import numpy as np
import pytest

from conftest import focal, sample

torch = pytest.importorskip("torch")
F = torch.nn.functional
pytestmark = pytest.mark.torch


def test_score_matches_torch_cross_entropy_focal():
    z = np.load(sample("digits.npy"))
    t = np.load(sample("digits_targets.npy"))
    ce = F.cross_entropy(torch.from_numpy(z), torch.from_numpy(t), reduction="none")
    pt = torch.exp(-ce)
    for gamma in (0.0, 0.5, 2.0):
        doc = focal("score", sample("digits.npy"), sample("digits_targets.npy"), "--gamma",
                    gamma, "--format", "json").json()
        assert doc["ce"] == pytest.approx(ce.mean().item(), rel=1e-12)
        assert doc["focal"] == pytest.approx(((1 - pt) ** gamma * ce).mean().item(), rel=1e-12)


def test_ignore_index_matches_torch(tmp_path):
    rng = np.random.default_rng(3)
    z = rng.normal(size=(200, 4))
    t = rng.integers(0, 4, 200)
    t[::7] = -100
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "t.npy", t)
    doc = focal("score", tmp_path / "z.npy", tmp_path / "t.npy", "--ignore-index", "-100",
                "--gamma", "0", "--format", "json").json()
    want = F.cross_entropy(torch.from_numpy(z), torch.from_numpy(t), ignore_index=-100)
    assert doc["ce"] == pytest.approx(want.item(), rel=1e-12)
