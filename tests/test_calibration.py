"""Calibration of the top label: ECE, MCE, adaptive ECE and accuracy against
torchmetrics' rule written out here (its _binning_bucketize, 1.9: float32
linspace edges, a float32 confidence in bin i when edge[i] <= c < edge[i + 1],
exactly 1 in a bin of its own), and
--temperature against dividing the logits by hand."""
import numpy as np
import pytest

from conftest import focal, sample
from focalcli.errors import ExitStatus

DIGITS = [sample("digits.npy"), sample("digits_targets.npy")]

# every test on the compiled top label and on numpy's (conftest.both_paths)
pytestmark = pytest.mark.usefixtures("both_paths")


def written_out(conf, correct, n_bins=15):
    edges = np.linspace(0, 1, n_bins + 1, dtype=np.float32)
    index = np.searchsorted(edges, conf.astype(np.float32), side="right") - 1
    count = np.bincount(index, minlength=n_bins + 1)
    with np.errstate(invalid="ignore"):
        acc = np.nan_to_num(np.bincount(index, correct, minlength=n_bins + 1) / count)
        mean = np.nan_to_num(np.bincount(index, conf, minlength=n_bins + 1) / count)
    gap = np.abs(acc - mean)
    return (gap * count).sum() / len(conf), gap.max()


def adaptive(conf, correct, n_bins=15):
    order = np.argsort(conf)
    total = 0.0
    for part in np.array_split(order, n_bins):
        total += abs(correct[part].sum() - conf[part].sum())
    return total / len(conf)


def softmax_conf(z, t):
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    return p.max(1), (p.argmax(1) == t).astype(float)


@pytest.mark.parametrize("bins", [15, 10])
def test_softmax_ece_and_mce(bins):
    z, t = np.load(DIGITS[0]), np.load(DIGITS[1])
    doc = focal("score", *DIGITS, "--bins", bins, "--format", "json").json()["calibration"]
    conf, correct = softmax_conf(z, t)
    ece, mce = written_out(conf, correct, bins)
    assert doc["ece"] == pytest.approx(ece, rel=1e-12)
    assert doc["mce"] == pytest.approx(mce, rel=1e-12)
    assert doc["accuracy"] == pytest.approx(correct.mean(), rel=1e-15)
    assert doc["adaptive_ece"] == pytest.approx(adaptive(conf, correct, bins), abs=2e-3)
    assert doc["n_bins"] == bins and sum(b["count"] for b in doc["bins"]) == len(t)


def test_temperature_divides_the_logits(tmp_path):
    z = np.load(DIGITS[0])
    np.save(tmp_path / "cool.npy", z / 2.5)
    a = focal("score", *DIGITS, "--temperature", "2.5", "--format", "json").json()
    b = focal("score", tmp_path / "cool.npy", DIGITS[1], "--format", "json").json()
    assert a["focal"] == pytest.approx(b["focal"], rel=1e-14)
    assert a["calibration"]["ece"] == pytest.approx(b["calibration"]["ece"], rel=1e-12)
    r = focal("score", *DIGITS, "--temperature", "0")
    assert r.code == ExitStatus.BAD_INPUT and "--temperature: must be > 0" in r.err


def test_sigmoid_is_the_binary_form(tmp_path, rng):
    x = rng.normal(scale=2, size=(400, 3))
    y = (rng.random((400, 3)) < 0.3).astype(int)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    doc = focal("score", tmp_path / "x.npy", tmp_path / "y.npy", "--mode", "sigmoid",
                "--format", "json").json()["calibration"]
    p = (1 / (1 + np.exp(-x))).reshape(-1)
    correct = y.reshape(-1).astype(float)  # the binary form: the label's frequency
    ece, mce = written_out(p, correct)
    assert doc["ece"] == pytest.approx(ece, rel=1e-12)
    assert doc["mce"] == pytest.approx(mce, rel=1e-12)


def test_bins_zero_and_logprobs_have_no_calibration(tmp_path):
    assert "calibration" not in focal("score", *DIGITS, "--bins", "0", "--format",
                                      "json").json()
    (tmp_path / "lp.csv").write_text("logprob\n-0.1\n-2\n")
    assert "calibration" not in focal("score", tmp_path / "lp.csv", "--format", "json").json()


def test_the_table_shows_a_reliability_summary():
    r = focal("score", *DIGITS)
    assert "Calibration (top label, 15 bins)" in r.out and "ECE" in r.out


def test_sweep_temperature_axis_and_gradient_share(tmp_path):
    z, t = np.load(DIGITS[0]), np.load(DIGITS[1])
    doc = focal("sweep", *DIGITS, "--gammas", "0,2", "--alphas", "1", "--temperatures",
                "0.5,2", "--gradient", "--format", "json").json()
    assert doc["temperatures"] == [0.5, 2.0] and len(doc["grid"]) == 4
    for cell in doc["grid"]:
        one = focal("score", *DIGITS, "--gamma", cell["gamma"], "--temperature",
                    cell["temperature"], "--gradient", "--format", "json").json()
        assert cell["focal"] == pytest.approx(one["focal"], rel=1e-14)
        assert cell["ece"] == pytest.approx(one["calibration"]["ece"], rel=1e-14)
        assert cell["gradient_easy_share"] == pytest.approx(
            one["gradient"]["easy_share_focal"], rel=1e-12)
    conf, correct = softmax_conf(z / 0.5, t)
    ece, _ = written_out(conf, correct)
    assert doc["grid"][0]["ece"] == pytest.approx(ece, rel=1e-12)


def test_ties_go_to_the_first_maximum_and_probabilities_agree(tmp_path, rng):
    """torch's argmax (and torchmetrics) give a tie to the first class: a
    target tied with an earlier class is wrong, with a later one right. The
    same predictions as probabilities give the same figures."""
    z = rng.normal(scale=3, size=(400, 5))
    t = rng.integers(0, 5, 400)
    z[:50, 1] = z[:50, 3] = z[:50].max(1) + 1    # classes 1 and 3 tie on top
    t[:25], t[25:50] = 1, 3
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "t.npy", t)
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    np.save(tmp_path / "p.npy", p)
    conf, correct = softmax_conf(z, t)
    assert correct[:25].all() and not correct[25:50].any()
    ece, mce = written_out(conf, correct)
    for args in ([tmp_path / "z.npy"], [tmp_path / "p.npy", "--probs"]):
        doc = focal("score", args[0], tmp_path / "t.npy", *args[1:],
                    "--format", "json").json()["calibration"]
        assert doc["accuracy"] == pytest.approx(correct.mean(), rel=1e-15)
        assert doc["ece"] == pytest.approx(ece, rel=1e-9)
        assert doc["mce"] == pytest.approx(mce, rel=1e-9)


@pytest.mark.parametrize("n_bins", [1, 7, 15, 100])
def test_bins_follow_searchsorted_on_every_float32_near_an_edge(n_bins):
    """The bin rule is torchmetrics' bucketize; the arithmetic that finds it
    must agree on each edge, a float32 either side of it, and a sweep of
    every 97th float32 in [0, 1]."""
    from focalcli.calibration import Calibration
    edges = np.linspace(0, 1, n_bins + 1, dtype=np.float32)
    c = np.concatenate([edges, np.nextafter(edges, np.float32(-1)),
                        np.nextafter(edges, np.float32(2)),
                        np.arange(0, 0x3F800001, 97, dtype=np.uint32).view(np.float32)])
    c = c[(c >= 0) & (c <= 1)]
    want = np.searchsorted(edges, c, side="right") - 1
    np.testing.assert_array_equal(Calibration(n_bins).bin_of(c), want)


def test_reliability_plot(tmp_path):
    pytest.importorskip("matplotlib")
    png, svg = tmp_path / "r.png", tmp_path / "r.svg"
    assert focal("score", *DIGITS, "--plot", png).code == ExitStatus.OK
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert focal("score", *DIGITS, "--plot", svg, "--format", "json").code == ExitStatus.OK
    ece = focal("score", *DIGITS, "--format", "json").json()["calibration"]["ece"]
    assert f"ECE {ece:.4f}" in svg.read_text()
    for bad in (["--plot", tmp_path / "r.txt"], ["--plot", png, "--bins", "0"]):
        r = focal("score", *DIGITS, *bad)
        assert r.code == ExitStatus.BAD_INPUT and r.err.startswith("Error: --plot:")


@pytest.mark.parametrize("extra", [["--soft-targets"], ["--label-smoothing", "0.2"]])
def test_soft_and_smoothed_targets_calibrate_the_top_label(tmp_path, rng, extra):
    """Calibration is of the top label, whatever the targets: its confidence
    is the largest softmax probability, and it is right when it is the most
    likely target class (soft CE is not the top label's -log p)."""
    z = rng.normal(scale=2, size=(300, 4))
    y = rng.dirichlet(np.ones(4), 300)
    if extra[0] == "--label-smoothing":
        y = np.eye(4)[y.argmax(axis=1)]
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "y.npy", y)
    doc = focal("score", tmp_path / "z.npy", tmp_path / "y.npy", *extra,
                "--format", "json").json()
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    cal = doc["calibration"]
    assert cal["confidence"] == pytest.approx(p.max(axis=1).mean(), rel=1e-12)
    assert cal["accuracy"] == pytest.approx((p.argmax(axis=1) == y.argmax(axis=1)).mean())
    assert 0 <= cal["ece"] <= 1


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dense_maps_calibrate_as_their_rows_with_ties(tmp_path, rng, dtype):
    """A dense map's blocks are scored class by class as they lie in memory
    (no transposing copy): its calibration, with ties on top, the prior and
    the losses must be those of the same positions written as (N, K) rows."""
    z = rng.normal(scale=2, size=(3, 6, 40, 30)).astype(dtype)
    t = rng.integers(0, 6, (3, 40, 30))
    z[0, 2, :5] = z[0, 4, :5] = z[0].max(axis=0)[:5] + 1   # classes 2 and 4 tie on top
    t[0, :2, :5], t[0, 2:5, :5] = 2, 4
    t[1, :3] = 255
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "t.npy", t)
    rows = np.moveaxis(z, 1, -1).reshape(-1, 6)
    flat_t = t.reshape(-1)
    np.save(tmp_path / "rows.npy", rows)
    np.save(tmp_path / "rows_t.npy", flat_t)
    keep = flat_t != 255
    conf, correct = softmax_conf(rows[keep].astype(np.float64), flat_t[keep])
    ece, mce = written_out(conf, correct)
    dense = focal("score", tmp_path / "z.npy", tmp_path / "t.npy", "--ignore-index", "255",
                  "--format", "json").json()
    flat = focal("score", tmp_path / "rows.npy", tmp_path / "rows_t.npy", "--ignore-index",
                 "255", "--format", "json").json()
    cal = dense["calibration"]
    assert cal["accuracy"] == pytest.approx(correct.mean(), rel=1e-15)
    assert cal["ece"] == pytest.approx(ece, rel=1e-6 if dtype == np.float32 else 1e-9)
    assert cal["mce"] == pytest.approx(mce, rel=1e-6 if dtype == np.float32 else 1e-9)
    # float32 row sums are summed in another order class by class: float32's digits
    for key in ("focal", "ce"):
        assert dense[key] == pytest.approx(flat[key], rel=1e-6 if dtype == np.float32
                                           else 1e-12)
    kept = rows[keep].astype(np.float64)
    p = np.exp(kept - kept.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    assert [c["mean_probability"] for c in dense["prior"]] == pytest.approx(
        p.mean(axis=0), rel=1e-5 if dtype == np.float32 else 1e-12)


def adaptive_over_fine_bins(conf, correct, n_bins=15, fine=1 << 16):
    """The documented rule: bins of equal counts cut from a 65,536-bin
    histogram of the confidences."""
    index = np.minimum((conf * fine).astype(np.int64), fine - 1)
    count = np.bincount(index, minlength=fine)
    cuts = np.searchsorted(np.cumsum(count), len(conf) * np.arange(1, n_bins) / n_bins)
    total = 0.0
    for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, fine]):
        inside = (index >= lo) & (index < hi)
        total += abs(correct[inside].sum() - conf[inside].sum())
    return total / len(conf)


@pytest.mark.parametrize("rows", [300, 9000])
def test_adaptive_ece_whatever_the_unit_size(tmp_path, rng, rows):
    """Units of few rows keep only the fine bins they touch, long units all
    65,536: both sum to the rule over the whole input."""
    z = rng.normal(0, 2, (rows, 6))
    t = rng.integers(0, 6, rows)
    z[np.arange(rows), t] += 2.0
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "t.npy", t)
    doc = focal("score", tmp_path / "z.npy", tmp_path / "t.npy", "--threads", 2,
                "--format", "json").json()["calibration"]
    conf, correct = softmax_conf(z, t)
    assert doc["adaptive_ece"] == pytest.approx(adaptive_over_fine_bins(conf, correct),
                                                rel=1e-9)
