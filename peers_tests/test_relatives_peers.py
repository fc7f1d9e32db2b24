"""Sigmoid soft targets and the relatives against the peers that install
here: Keras' BinaryFocalCrossentropy (soft labels, label smoothing), timm's
AsymmetricLossMultiLabel and smp's TverskyLoss (each library's own file,
loaded without its package root, whose imports need torchvision), and
torchvision's sigmoid_focal_loss as its source has it. mmdetection does not
install beside this torch: its varifocal and quality focal formulas are
written out in tests/test_relatives.py, cited by file."""
import importlib.util
import sys
import types

import numpy as np
import pytest
import torch

from peer_cli import focal_json
from test_peers import _smp_focal_loss, torchvision_sigmoid_focal_loss


def _own_file(package: str, relative: str, name: str):
    """A module of ``package`` loaded from its file, the package root unrun."""
    if package not in sys.modules:
        spec = importlib.util.find_spec(package)
        if spec is None:
            pytest.skip(f"{package} is not installed")
        pkg = types.ModuleType(package)
        pkg.__path__ = list(spec.submodule_search_locations)
        sys.modules[package] = pkg
    path = f"{sys.modules[package].__path__[0]}/{relative}"
    module_spec = importlib.util.spec_from_file_location(f"{package}.{name}", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


@pytest.fixture
def quality(tmp_path):
    rng = np.random.default_rng(21)
    x = rng.normal(-1, 3, (300, 6))
    y = np.where(rng.random((300, 6)) < 0.2, rng.uniform(0.05, 1, (300, 6)), 0.0)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    return x, y, [tmp_path / "x.npy", tmp_path / "y.npy"]


@pytest.mark.parametrize("gamma, alpha", [(2.0, 0.25), (1.5, 0.6), (0.0, -1.0)])
def test_soft_targets_are_torchvisions(quality, gamma, alpha):
    x, y, files = quality
    doc = focal_json("score", *files, "--mode", "sigmoid", "--soft-targets", "--gamma", gamma,
                     "--alpha", alpha)
    want = torchvision_sigmoid_focal_loss(torch.from_numpy(x), torch.from_numpy(y), alpha,
                                          gamma).item()
    assert doc["focal"] == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_soft_targets_are_keras_binary_focal(quality, smoothing):
    import keras
    x, y, files = quality
    doc = focal_json("score", *files, "--mode", "sigmoid", "--soft-targets",
                     "--label-smoothing", smoothing)
    loss = keras.losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.25,
                                                gamma=2.0, from_logits=True,
                                                label_smoothing=smoothing)
    # Keras averages over the last axis, then over the rows: the mean over N*K
    want = float(loss(y.astype(np.float32), x.astype(np.float32)))
    assert doc["focal"] == pytest.approx(want, rel=1e-5)


@pytest.mark.parametrize("param, kwargs", [("", {}), (":2,0,0", dict(gamma_neg=2, gamma_pos=0,
                                                                      clip=0)),
                                           (":3,2,0.2", dict(gamma_neg=3, gamma_pos=2,
                                                             clip=0.2))])
def test_asymmetric_is_timms(quality, tmp_path, param, kwargs):
    asl = _own_file("timm", "loss/asymmetric_loss.py", "asymmetric_loss")
    x, y, _ = quality
    t = (y > 0).astype(np.int64)
    np.save(tmp_path / "t.npy", t)
    doc = focal_json("score", tmp_path / "x.npy", tmp_path / "t.npy", "--mode", "sigmoid",
                     "--loss", f"asymmetric{param}")
    row = doc["losses"][0]
    loss = asl.AsymmetricLossMultiLabel(reduction="mean", **kwargs)
    want = loss(torch.from_numpy(x), torch.from_numpy(t).double()).item()  # float32 inside
    assert row["value"] == pytest.approx(want, rel=1e-5)
    per = asl.AsymmetricLossMultiLabel(reduction="none", **kwargs)(
        torch.from_numpy(x), torch.from_numpy(t).double()).double().numpy()
    assert row["positives"] == pytest.approx(per[t == 1].sum() / t.size, rel=1e-5)


@pytest.mark.parametrize("abg", [(0.5, 0.5, 1.0), (0.3, 0.7, 0.75)])
@pytest.mark.parametrize("ignore", [None, 255])
def test_focal_tversky_is_smps(dense_case, tmp_path, abg, ignore):
    _smp_focal_loss()  # the package's losses, its root unrun
    from segmentation_models_pytorch.losses import TverskyLoss
    z, t, files = dense_case
    t = t.copy()
    extra = []
    if ignore is not None:
        t[0, :3] = ignore
        np.save(tmp_path / "t_ignore.npy", t)
        files = [files[0], tmp_path / "t_ignore.npy"]
        extra = ["--ignore-index", ignore]
    a, b, g = abg
    doc = focal_json("score", *files, *extra, "--loss", f"focal-tversky:{a},{b},{g}")
    loss = TverskyLoss("multiclass", alpha=a, beta=b, gamma=g, ignore_index=ignore)
    want = loss(torch.from_numpy(z), torch.from_numpy(t)).item()
    assert doc["losses"][0]["value"] == pytest.approx(want, rel=1e-9)
