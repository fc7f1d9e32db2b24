"""Dense predictions (N, C, d1, ...): every position is a scored unit. The
expected values are the formula written out here (per-position softmax CE
over the class axis, F.cross_entropy's mean over non-ignored positions), and
the peers' formulas from their own source files."""
import subprocess
import sys

import numpy as np
import pytest

from conftest import focal, measured, reference_ce
from focalcli.errors import ExitStatus

PIL = pytest.importorskip("PIL.Image")


def per_position(z, t, axis=1):
    """CE and focal (gamma 2) per position: classes moved last, rows flattened."""
    rows = np.moveaxis(z, axis, -1).reshape(-1, z.shape[axis])
    ce = reference_ce(rows, t.reshape(-1))
    return ce, (1 - np.exp(-ce)) ** 2 * ce


@pytest.fixture
def seg(tmp_path, rng):
    z = rng.normal(scale=2, size=(3, 4, 6, 5))
    t = rng.integers(0, 4, (3, 6, 5))
    t[0, :2, :] = 255
    t[2, 5, 4] = 255
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "t.npy", t)
    return tmp_path, z, t


def test_mean_over_scored_positions(seg):
    d, z, t = seg
    doc = focal("score", d / "z.npy", d / "t.npy", "--ignore-index", "255",
                "--format", "json").json()
    keep = t.reshape(-1) != 255
    ce, f = per_position(z, np.where(t == 255, 0, t))
    assert doc["unit"] == "position" and doc["examples"] == 3
    assert doc["n"] == keep.sum() and doc["ignored"] == (~keep).sum()
    assert doc["focal"] == pytest.approx(f[keep].mean(), rel=1e-12)
    assert doc["ce"] == pytest.approx(ce[keep].mean(), rel=1e-12)
    labels = t.reshape(-1)[keep]
    for c, row in enumerate(doc["per_class"]):
        assert row["count"] == (labels == c).sum()
        assert row["focal"] == pytest.approx(f[keep][labels == c].mean(), rel=1e-12)
    total = focal("score", d / "z.npy", d / "t.npy", "--ignore-index", "255",
                  "--reduction", "sum", "--format", "json").json()
    assert total["focal"] == pytest.approx(f[keep].sum(), rel=1e-12)


def test_channel_last_and_volumes(seg, rng):
    d, z, t = seg
    np.save(d / "last.npy", np.moveaxis(z, 1, -1))
    a = focal("score", d / "z.npy", d / "t.npy", "--ignore-index", "255", "--format", "json")
    b = focal("score", d / "last.npy", d / "t.npy", "--ignore-index", "255",
              "--class-axis", "-1", "--format", "json")
    assert a.json()["focal"] == b.json()["focal"]
    v = rng.normal(size=(2, 3, 4, 5, 6))  # (N, C, D, H, W)
    vt = rng.integers(0, 3, (2, 4, 5, 6))
    np.save(d / "v.npy", v)
    np.save(d / "vt.npy", vt)
    doc = focal("score", d / "v.npy", d / "vt.npy", "--format", "json").json()
    assert doc["n"] == 240 and doc["focal"] == pytest.approx(per_position(v, vt)[1].mean(),
                                                              rel=1e-12)


@pytest.mark.torch
def test_against_torch_cross_entropy(seg):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    d, z, t = seg
    ce = F.cross_entropy(torch.from_numpy(z), torch.from_numpy(t), ignore_index=255,
                         reduction="none")
    keep = torch.from_numpy(t) != 255
    pt = torch.exp(-ce)
    want = ((1 - pt) ** 2 * ce)[keep].mean().item()
    doc = focal("score", d / "z.npy", d / "t.npy", "--ignore-index", "255",
                "--format", "json").json()
    assert doc["focal"] == pytest.approx(want, rel=1e-12)


def test_sigmoid_masks_of_the_logits_shape(seg, rng):
    d, z, _ = seg
    y = (rng.random(z.shape) < 0.3).astype(int)
    np.save(d / "y.npy", y)
    doc = focal("score", d / "z.npy", d / "y.npy", "--mode", "sigmoid", "--alpha", "0.25",
                "--format", "json").json()
    p = 1 / (1 + np.exp(-z))
    ce = -np.log(np.where(y == 1, p, 1 - p))
    pt = np.where(y == 1, p, 1 - p)
    loss = np.where(y == 1, 0.25, 0.75) * (1 - pt) ** 2 * ce
    assert doc["elements"] == z.size and doc["positives"] == y.sum()
    assert doc["focal"] == pytest.approx(loss.mean(), rel=1e-12)


def test_per_example_rows_are_images(seg):
    d, z, t = seg
    r = focal("score", d / "z.npy", d / "t.npy", "--ignore-index", "255", "--per-example",
              "--format", "json")
    rows = r.json()
    ce, f = per_position(z, np.where(t == 255, 0, t))
    keep = (t != 255).reshape(3, -1)
    f, ce = f.reshape(3, -1), ce.reshape(3, -1)
    labels = np.where(t == 255, 0, t).reshape(3, -1)
    for i, row in enumerate(rows):
        assert row["index"] == i and row["positions"] == keep[i].sum()
        assert row["ignored"] == (~keep[i]).sum()
        assert row["focal"] == pytest.approx(f[i][keep[i]].mean(), rel=1e-12)
        assert row["ce"] == pytest.approx(ce[i][keep[i]].mean(), rel=1e-12)
        by_class = np.bincount(labels[i][keep[i]], f[i][keep[i]], minlength=4)
        assert row["worst_class"] == str(int(np.argmax(by_class)))
    top = focal("score", d / "z.npy", d / "t.npy", "--ignore-index", "255", "--top", "2",
                "--format", "json").json()["top"]
    means = [f[i][keep[i]].mean() for i in range(3)]
    assert [row["index"] for row in top] == list(np.argsort(means)[::-1][:2])


def test_focal_map(seg):
    d, z, t = seg
    out = d / "map.npy"
    assert focal("score", d / "z.npy", d / "t.npy", "--ignore-index", "255", "--map",
                 out).code == ExitStatus.OK
    got = np.load(out)
    _, f = per_position(z, np.where(t == 255, 0, t))
    want = np.where(t == 255, np.nan, f.reshape(t.shape)).astype(np.float32)
    assert got.dtype == np.float32 and got.shape == t.shape
    np.testing.assert_array_equal(np.isnan(got), t == 255)
    np.testing.assert_allclose(got[t != 255], want[t != 255], rtol=1e-6)
    picture = d / "map.png"
    assert focal("score", d / "z.npy", d / "t.npy", "--ignore-index", "255", "--top", "2",
                 "--map", picture).code == ExitStatus.OK
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in d.iterdir() if p.name.startswith(".focal")) == []


def test_map_needs_dense_input(tmp_path):
    from conftest import sample
    r = focal("score", sample("digits.npy"), sample("digits_targets.npy"), "--map",
              tmp_path / "m.npy")
    assert r.code == ExitStatus.BAD_INPUT
    assert r.err.strip().startswith("Error: --map: needs dense predictions")


def _palette_png(path, mask, palette=True):
    image = PIL.fromarray(mask.astype(np.uint8), mode="L")
    if palette:
        image = image.convert("P")
        image.putpalette([v for i in range(256) for v in (i, 255 - i, (7 * i) % 256)])
    image.save(path)


@pytest.mark.parametrize("palette", [True, False])
def test_png_masks(seg, palette):
    d, z, t = seg
    masks = d / "masks"
    masks.mkdir()
    for i in (2, 0, 1):  # written out of order: matched in sorted file-name order
        _palette_png(masks / f"img_{i:03d}.png", t[i], palette)
    args = ["--ignore-index", "255", "--format", "json"]
    want = focal("score", d / "z.npy", d / "t.npy", *args).json()
    for targets in (masks, str(masks / "*.png")):
        doc = focal("score", d / "z.npy", targets, *args).json()
        assert doc["focal"] == want["focal"] and doc["n"] == want["n"]
    rows = focal("score", d / "z.npy", masks, "--ignore-index", "255", "--per-example",
                 "--format", "json").json()
    assert [r["id"] for r in rows] == ["img_000.png", "img_001.png", "img_002.png"]
    one = focal("score", d / "z.npy", masks / "img_000.png", *args)
    assert one.code == ExitStatus.BAD_INPUT
    assert "has 1 masks for 3 predicted examples" in one.err


def test_bad_masks(seg):
    d, z, t = seg
    masks = d / "masks"
    masks.mkdir()
    bad = t.copy()
    bad[1, 3, 2] = 9
    for i in range(3):
        _palette_png(masks / f"m{i}.png", bad[i])
    r = focal("score", d / "z.npy", masks, "--ignore-index", "255")
    assert r.err.strip() == (f"Error: {masks}/m1.png, pixel (3, 2): target 9 is out of "
                             "range for 4 classes")
    PIL.fromarray(np.zeros((6, 5, 3), np.uint8)).save(masks / "m1.png")
    r = focal("score", d / "z.npy", masks, "--ignore-index", "255")
    assert r.err.strip() == (f"Error: {masks}/m1.png: is a RGB image, not a label mask (a "
                             "palette or grey PNG, one class index per pixel)")


def test_missing_pillow_is_named(seg):
    d, _, t = seg
    _palette_png(d / "m.png", t[0])
    code = "import sys; sys.modules['PIL'] = None\nfrom focalcli.entry import run; run()"
    r = subprocess.run([sys.executable, "-c", code, "score", d / "z.npy", d / "m.png"],
                       capture_output=True, text=True)
    assert r.returncode == ExitStatus.BAD_INPUT
    assert r.stderr.strip() == (f"Error: {d}/m.png: reading PNG masks needs Pillow: pip "
                                "install 'focalcli[image]'")


@pytest.mark.parametrize("args,message", [
    (["--class-axis", "4"], "--class-axis 4 is out of range for an array of shape "
                            "(3, 4, 6, 5) (the first axis holds the examples)"),
])
def test_bad_geometry(seg, args, message):
    d, _, _ = seg
    r = focal("score", d / "z.npy", d / "t.npy", *args)
    assert r.code == ExitStatus.BAD_INPUT and r.err.strip() == f"Error: {d}/z.npy: {message}"


def test_spatial_mismatch(seg):
    d, _, _ = seg
    np.save(d / "t2.npy", np.zeros((3, 6, 4), int))
    r = focal("score", d / "z.npy", d / "t2.npy")
    assert r.err.strip() == (f"Error: {d}/t2.npy: targets of shape (3, 6, 4) do not fit "
                             "predictions of shape (3, 4, 6, 5): expected (3, 6, 5) (class "
                             "indices) or (3, 4, 6, 5) (0/1 per class)")


def test_nnunet_probabilities(tmp_path, rng):
    z = rng.normal(size=(3, 4, 5))
    p = np.exp(z) / np.exp(z).sum(0)
    t = rng.integers(0, 3, (4, 5))
    np.savez(tmp_path / "case.npz", probabilities=p)
    np.save(tmp_path / "t.npy", t[None])
    doc = focal("score", tmp_path / "case.npz", tmp_path / "t.npy", "--format", "json").json()
    pt = np.take_along_axis(p, t[None], 0)[0]
    ce = -np.log(pt)
    assert doc["examples"] == 1
    assert doc["focal"] == pytest.approx(((1 - pt) ** 2 * ce).mean(), rel=1e-12)


def test_sweep_and_strategies_count_pixels(seg):
    d, z, t = seg
    doc = focal("score", d / "z.npy", d / "t.npy", "--ignore-index", "255", "--alpha",
                "balanced", "--format", "json").json()
    labels = t[t != 255]
    n_c = np.bincount(labels, minlength=4)
    assert doc["alpha"] == pytest.approx(list(labels.size / (4 * n_c)), rel=1e-15)
    grid = focal("sweep", d / "z.npy", d / "t.npy", "--ignore-index", "255", "--gammas",
                 "2", "--alphas", "balanced", "--format", "json").json()["grid"]
    assert grid[0]["focal"] == pytest.approx(doc["focal"], rel=1e-15)


# ---------------------------------------------------------------- peers' conventions

def test_like_kornia_counts_every_cell(seg):
    # kornia/losses/focal.py: mean over N*C*positions, ignored positions included
    d, z, t = seg
    doc = focal("score", d / "z.npy", d / "t.npy", "--ignore-index", "255", "--like",
                "kornia", "--format", "json").json()
    keep = t.reshape(-1) != 255
    _, f = per_position(z, np.where(t == 255, 0, t))
    labels = np.where(t == 255, 0, t).reshape(-1)
    w = np.where(labels == 0, 0.75, 0.25)
    assert doc["focal"] == pytest.approx((w * f)[keep].sum() / (z.size), rel=1e-12)


def _sigmoid_terms(z, y):
    p = 1 / (1 + np.exp(-z))
    pt = np.where(y, p, 1 - p)
    return (1 - pt) ** 2 * -np.log(pt)


def test_like_smp_averages_per_class_means(seg):
    # segmentation_models_pytorch/losses/focal.py (0.6), mode="multiclass": for
    # each class a sigmoid focal loss of (y == c), no alpha, mean over the
    # non-ignored positions; the classes' losses averaged
    d, z, t = seg
    doc = focal("score", d / "z.npy", d / "t.npy", "--ignore-index", "255", "--like", "smp",
                "--format", "json").json()
    keep = t != 255
    want = np.mean([_sigmoid_terms(z[:, c], t == c)[keep].mean() for c in range(4)])
    assert doc["focal"] == pytest.approx(want, rel=1e-12)


def test_like_monai(seg, rng):
    # monai/losses/focal_loss.py: sigmoid (use_softmax=False), no alpha, mean over
    # every element of (B, N, *spatial); to_onehot_y for class-index targets
    d, z, _ = seg
    t = rng.integers(0, 4, (3, 6, 5))
    np.save(d / "full.npy", t)
    doc = focal("score", d / "z.npy", d / "full.npy", "--like", "monai",
                "--format", "json").json()
    onehot = np.stack([t == c for c in range(4)], axis=1)
    assert doc["focal"] == pytest.approx(_sigmoid_terms(z, onehot).mean(), rel=1e-12)
    # use_softmax=True: the softmax form, mean over B*N*spatial
    soft = focal("score", d / "z.npy", d / "full.npy", "--like", "monai", "--mode",
                 "softmax", "--format", "json").json()
    _, f = per_position(z, t)
    assert soft["focal"] == pytest.approx(f.sum() / z.size, rel=1e-12)


def test_dense_memory_is_bounded(tmp_path):
    # 48 x 21 x 512 x 512 float32: 1 GB, scored in bounded memory
    n, c, h, w = 48, 21, 512, 512
    z = np.lib.format.open_memmap(tmp_path / "z.npy", mode="w+", dtype=np.float32,
                                  shape=(n, c, h, w))
    rng = np.random.default_rng(0)
    for i in range(n):
        z[i] = rng.standard_normal((c, h, w), dtype=np.float32)
    z.flush()
    del z
    np.save(tmp_path / "t.npy", rng.integers(0, c, (n, h, w)).astype(np.uint8))
    code, err, peak = measured("score", tmp_path / "z.npy", tmp_path / "t.npy",
                               "--format", "json")
    assert code == ExitStatus.OK, err
    assert peak < 400, peak


def test_per_element_map_of_dense_sigmoid(tmp_path):
    """--map FILE.npy --per-element: each element's focal loss in the
    predictions' shape (MONAI's reduction='none'), NaN where ignored."""
    rng = np.random.default_rng(31)
    z = rng.normal(0, 2, (2, 3, 4, 5))
    t = (rng.random((2, 3, 4, 5)) < 0.3).astype(np.int64)
    t[0, 1, 0, 0] = -1
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "t.npy", t)
    run = focal("score", tmp_path / "z.npy", tmp_path / "t.npy", "--mode", "sigmoid",
                "--ignore-index", "-1", "--map", tmp_path / "e.npy", "--per-element",
                "--format", "json")
    assert run.code == 0, run
    got = np.load(tmp_path / "e.npy")
    p = 1 / (1 + np.exp(-z))
    pt = np.where(t == 1, p, 1 - p)
    want = np.where(t == 1, 0.25, 0.75) * (1 - pt) ** 2 * -np.log(pt)
    assert got.shape == z.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, np.where(t == -1, np.nan, want), rtol=2e-6, atol=1e-30)
    assert run.json()["focal"] == pytest.approx(want[t != -1].mean(), rel=1e-12)
    bad = focal("score", tmp_path / "z.npy", tmp_path / "t.npy", "--per-element")
    assert bad.code == 2 and "--per-element: is for sigmoid elements" in bad.err
