"""compare's numbers under every reduction: the delta and its bootstrap
interval are ratios of a numerator and a denominator summed over examples,
and each resample rebuilds both. Expected values are the formulas written
out here (softmax and sigmoid focal loss per example, each convention's
denominator) and numpy's resampling over examples."""
import json

import numpy as np
import pytest

from conftest import focal, reference_ce, sample

DIGITS = [sample("digits.npy"), sample("digits_targets.npy")]
CLASS_WEIGHT = np.arange(1.0, 11.0)


def softmax_parts(z, t, gamma=2.0):
    ce = reference_ce(z, t)
    return (1 - np.exp(-ce)) ** gamma * ce, ce


def sigmoid_parts(z, t, gamma=2.0, alpha=0.25):
    """torchvision's sigmoid_focal_loss per element, summed per example;
    ``t`` class indices made one-hot."""
    y = np.eye(z.shape[1])[t]
    p = 1 / (1 + np.exp(-z))
    ce = np.logaddexp(0, -z) * y + np.logaddexp(0, z) * (1 - y)
    p_t = p * y + (1 - p) * (1 - y)
    a_t = alpha * y + (1 - alpha) * (1 - y)
    return (a_t * (1 - p_t) ** gamma * ce).sum(1), ce.sum(1)


def expected(z, t, option):
    """(per-example focal numerators, per-example denominator parts, how the
    parts make the denominator) for one convention."""
    n, k = z.shape
    ones = np.ones(n)
    if option == ["--mode", "sigmoid"]:
        f, ce = sigmoid_parts(z, t)
        return f, ce, k * ones, lambda d: d
    if option == ["--mode", "sigmoid", "--normalize", "positives"]:
        f, ce = sigmoid_parts(z, t)
        return f, ce, ones, lambda d: np.maximum(1, d)
    f, ce = softmax_parts(z, t)
    if option == ["--reduction", "sum"]:
        return f, ce, 0 * ones, lambda d: np.ones_like(d)
    if option == ["--like", "kornia"]:  # class 0 x 0.75, the others x 0.25, over N*K
        a = np.where(t == 0, 0.75, 0.25)
        return a * f, ce, k * ones, lambda d: d
    if option[:1] == ["--class-weight"]:  # PyTorch's weight=: over the targets' weights
        w = CLASS_WEIGHT[t]
        return w * f, w * ce, w, lambda d: d
    if option[:1] == ["--weights"]:
        w = float(option[1])
        return w * f, w * ce, w * ones, lambda d: d
    return f, ce, ones, lambda d: d


OPTIONS = [[], ["--mode", "sigmoid"], ["--reduction", "sum"],
           ["--mode", "sigmoid", "--normalize", "positives"], ["--like", "kornia"],
           ["--class-weight", ",".join(map(str, CLASS_WEIGHT))],
           ["--weights", "10"], ["--weights", "0.01"]]


@pytest.mark.parametrize("option", OPTIONS, ids=lambda o: " ".join(o) or "default")
def test_the_interval_is_on_the_scale_of_the_delta(tmp_path, option):
    z, t = np.load(DIGITS[0]), np.load(DIGITS[1])
    cand = z + np.random.default_rng(1).normal(0, 0.5, z.shape)
    np.save(tmp_path / "cand.npy", cand)
    doc = focal("compare", DIGITS[0], tmp_path / "cand.npy", DIGITS[1], *option,
                "--bootstrap", "400", "--seed", "3", "--format", "json").json()
    fb, ceb, den, finish = expected(z, t, option)
    fc, cec, _, _ = expected(cand, t, option)
    delta = (fc.sum() - fb.sum()) / finish(den.sum())
    assert doc["delta"]["focal"] == pytest.approx(delta, rel=1e-10)
    assert doc["delta"]["ce"] == pytest.approx(
        (cec.sum() - ceb.sum()) / finish(den.sum()), rel=1e-10)
    # N <= 2,048: each example is its own block, resampled with numpy's generator
    picks = np.random.default_rng(3).integers(0, len(t), size=(400, len(t)))
    means = (fc - fb)[picks].sum(1) / finish(den[picks].sum(1))
    low, high = np.quantile(means, [0.025, 0.975])
    assert doc["interval"]["low"] == pytest.approx(low, rel=1e-9)
    assert doc["interval"]["high"] == pytest.approx(high, rel=1e-9)
    assert low < delta < high
    ce_means = (cec - ceb)[picks].sum(1) / finish(den[picks].sum(1))
    assert doc["interval_ce"]["low"] == pytest.approx(np.quantile(ce_means, 0.025), rel=1e-9)
    if option and option[0] == "--class-weight":  # per class: over its own weights
        c = 3
        num = np.where(t[picks] == c, (fc - fb)[picks], 0).sum(1)
        per = num / np.where(t[picks] == c, den[picks], 0).sum(1)
        row = next(r for r in doc["per_class"] if r["index"] == c)
        assert row["interval"]["low"] == pytest.approx(np.quantile(per, 0.025), rel=1e-9)


def test_weights_scale_neither_the_delta_nor_its_interval(tmp_path):
    z = np.load(DIGITS[0])
    np.save(tmp_path / "cand.npy", z * 0.8)
    docs = [focal("compare", DIGITS[0], tmp_path / "cand.npy", DIGITS[1], *w,
                  "--format", "json").json() for w in ([], ["--weights", "10"],
                                                      ["--weights", "0.01"])]
    for doc in docs[1:]:
        assert doc["delta"]["focal"] == pytest.approx(docs[0]["delta"]["focal"], rel=1e-12)
        assert doc["interval"]["low"] == pytest.approx(docs[0]["interval"]["low"], rel=1e-9)
        assert doc["interval"]["high"] == pytest.approx(docs[0]["interval"]["high"],
                                                        rel=1e-9)


def _table(path, z, t, ids):
    cols = {"id": ids, **{f"c{j}": z[:, j] for j in range(z.shape[1])}, "target": t}
    import pandas as pd
    pd.DataFrame(cols).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("short", ["baseline", "candidate"])
def test_ids_intersect_scores_both_sides_over_the_shared_ids(tmp_path, short):
    z, t = np.load(DIGITS[0]), np.load(DIGITS[1])
    cand = z + np.random.default_rng(5).normal(0, 0.5, z.shape)
    ids = np.arange(len(t)) * 7
    gone = np.array([3, 50, 51, 200, 400])
    rest = np.setdiff1d(np.arange(len(t)), gone)
    sides = {"baseline": (z, rest), "candidate": (cand, np.arange(len(t)))}
    if short == "candidate":
        sides = {"baseline": (z, np.arange(len(t))), "candidate": (cand, rest)}
    paths = [_table(tmp_path / f"{name}.csv", a[rows], t[rows], ids[rows])
             for name, (a, rows) in sides.items()]
    doc = focal("compare", *paths, "--ids", "intersect", "--format", "json").json()
    fb, _ = softmax_parts(z[rest], t[rest])
    fc, _ = softmax_parts(cand[rest], t[rest])
    assert doc["movement"]["paired"] == len(rest) and doc["movement"]["dropped"] == 5
    assert doc["baseline"]["n"] == doc["candidate"]["n"] == len(rest)
    assert doc["baseline"]["focal"] == pytest.approx(fb.mean(), rel=1e-12)
    assert doc["candidate"]["focal"] == pytest.approx(fc.mean(), rel=1e-12)
    assert doc["delta"]["focal"] == pytest.approx((fc - fb).mean(), rel=1e-10)
    counts = {r["class"]: r["count"] for r in doc["candidate"]["per_class"]}
    assert sum(counts.values()) == len(rest)


def test_compare_refuses_what_score_refuses(tmp_path):
    for command in (["score", DIGITS[0], DIGITS[1]],
                    ["compare", DIGITS[0], DIGITS[0], DIGITS[1]]):
        run = focal(*command, "--gamma", "-1")
        assert run.code == 2 and "--gamma" in run.err, run


def test_a_saved_summary_scored_otherwise_is_refused(tmp_path):
    z, t = np.load(DIGITS[0]), np.load(DIGITS[1])
    np.save(tmp_path / "cand.npy", z)
    np.savetxt(tmp_path / "w.txt", np.linspace(0.5, 2, len(t)))
    for option, setting in ((["--label-smoothing", "0.1"], "label_smoothing"),
                            (["--weights", "2"], "weights"),
                            (["--weights", tmp_path / "w.txt"], "weights"),
                            (["--class-weight", "1,1,1,1,1,1,1,1,1,2"], "class_weight"),
                            (["--temperature", "2"], "temperature"),
                            (["--ignore-index", "3"], "ignore_index"),
                            (["--gamma", "1"], "gamma")):
        saved = focal("score", *DIGITS, *option, "--format", "json")
        assert saved.code == 0, saved
        (tmp_path / "base.json").write_text(saved.out)
        assert setting in saved.json()["settings"]
        run = focal("compare", tmp_path / "base.json", tmp_path / "cand.npy", DIGITS[1])
        assert run.code == 2 and setting in run.err, (option, run)
        # scored the same way, it is taken
        same = focal("compare", tmp_path / "base.json", tmp_path / "cand.npy", DIGITS[1],
                     *option, "--format", "json")
        assert same.code == 0, (option, same)
        assert same.json()["delta"]["focal"] == pytest.approx(0.0, abs=1e-12)
    # other weights of the same length: the file's content is what counts
    np.savetxt(tmp_path / "w2.txt", np.linspace(2, 0.5, len(t)))
    (tmp_path / "base.json").write_text(
        focal("score", *DIGITS, "--weights", tmp_path / "w.txt", "--format", "json").out)
    run = focal("compare", tmp_path / "base.json", tmp_path / "cand.npy", DIGITS[1],
                "--weights", tmp_path / "w2.txt")
    assert run.code == 2 and "weights" in run.err


def test_a_summary_without_settings_is_refused(tmp_path):
    doc = focal("score", *DIGITS, "--format", "json").json()
    del doc["settings"]
    (tmp_path / "old.json").write_text(json.dumps(doc))
    run = focal("compare", tmp_path / "old.json", DIGITS[0], DIGITS[1])
    assert run.code == 2 and "settings" in run.err
