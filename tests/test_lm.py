"""Language-model scale: token sequences with --shift, log-probabilities
alone, class names from a vocabulary. Expected values: the formula written
out here (Hugging Face's causal-LM loss: logits[:, :-1] against labels[:, 1:],
-100 ignored), torch where installed, and the logits path on the same data."""
import json

import mpmath as mp
import numpy as np
import pandas as pd
import pytest

from conftest import focal, reference_ce
from focalcli.errors import ExitStatus

# every exactness promise on the compiled passes and on numpy's
pytestmark = pytest.mark.usefixtures("both_paths")


@pytest.fixture
def lm(tmp_path, rng):
    b, t, v = 3, 9, 13
    z = rng.normal(scale=2, size=(b, t, v))
    y = rng.integers(0, v, (b, t))
    y[0, 4] = -100
    y[2, -1] = -100
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "y.npy", y)
    return tmp_path, z, y


def shifted(z, y):
    rows, labels = z[:, :-1].reshape(-1, z.shape[-1]), y[:, 1:].reshape(-1)
    keep = labels != -100
    ce = reference_ce(rows[keep], labels[keep])
    return ce, (1 - np.exp(-ce)) ** 2 * ce


def test_shift_scores_each_position_against_the_next_label(lm):
    d, z, y = lm
    doc = focal("score", d / "z.npy", d / "y.npy", "--class-axis", "-1", "--shift",
                "--ignore-index", "-100", "--format", "json").json()
    ce, f = shifted(z, y)
    assert doc["n"] == len(ce) and doc["examples"] == 3 and doc["positions"] == 8
    assert doc["ignored"] == 2 and doc["ce"] == pytest.approx(ce.mean(), rel=1e-12)
    assert doc["focal"] == pytest.approx(f.mean(), rel=1e-12)
    rows = focal("score", d / "z.npy", d / "y.npy", "--class-axis", "-1", "--shift",
                 "--ignore-index", "-100", "--per-example", "--format", "json").json()
    for i, row in enumerate(rows):
        ce_i, f_i = shifted(z[i:i + 1], y[i:i + 1])
        assert row["tokens"] == len(ce_i)
        assert row["focal"] == pytest.approx(f_i.mean(), rel=1e-12)


@pytest.mark.torch
def test_shift_against_torch(lm):
    torch = pytest.importorskip("torch")
    d, z, y = lm
    logits, labels = torch.from_numpy(z), torch.from_numpy(y)
    want = torch.nn.functional.cross_entropy(
        logits[:, :-1].reshape(-1, z.shape[-1]), labels[:, 1:].reshape(-1),
        ignore_index=-100).item()
    doc = focal("score", d / "z.npy", d / "y.npy", "--class-axis", "-1", "--shift",
                "--ignore-index", "-100", "--format", "json").json()
    assert doc["ce"] == pytest.approx(want, rel=1e-12)


def test_shift_needs_sequences(lm, tmp_path):
    from conftest import sample
    r = focal("score", sample("digits.npy"), sample("digits_targets.npy"), "--shift")
    assert r.code == ExitStatus.BAD_INPUT and "--shift: is for sequences" in r.err
    np.save(tmp_path / "img.npy", np.zeros((2, 3, 4, 5)))
    r = focal("score", tmp_path / "img.npy", tmp_path / "y.npy", "--shift")
    assert r.code == ExitStatus.BAD_INPUT and "--shift is for sequences" in r.err


def _logprob_files(d, z, t, seq=None):
    lse = np.log(np.exp(z - z.max(1, keepdims=True)).sum(1)) + z.max(1)
    lp = z[np.arange(len(t)), t] - lse
    frame = pd.DataFrame({"logprob": lp, "target": t})
    if seq is not None:
        frame["sequence"] = seq
    frame.to_parquet(d / "lp.parquet")
    frame.to_csv(d / "lp.csv", index=False)
    with open(d / "lp.jsonl", "w") as f:  # json.dumps: every digit (to_json keeps 10)
        for row in frame.to_dict("records"):
            f.write(json.dumps({k: (v.item() if hasattr(v, "item") else v)
                                for k, v in row.items()}) + "\n")
    np.save(d / "lp.npy", lp)
    np.save(d / "t.npy", t)
    return lp


@pytest.mark.parametrize("form", ["lp.parquet", "lp.csv", "lp.jsonl", "lp.npy"])
def test_logprobs_equal_the_logits_path(tmp_path, rng, form):
    pytest.importorskip("pyarrow")
    z = rng.normal(scale=3, size=(300, 17))
    t = rng.integers(0, 17, 300)
    _logprob_files(tmp_path, z, t)
    np.save(tmp_path / "z.npy", z)
    ref = focal("score", tmp_path / "z.npy", tmp_path / "t.npy", "--format", "json").json()
    args = [tmp_path / form] + ([tmp_path / "t.npy", "--logprobs"] if form == "lp.npy" else [])
    doc = focal("score", *args, "--format", "json").json()
    assert doc["unit"] == "token" and doc["n"] == 300
    for key in ("focal", "ce", "easy_share"):
        assert doc[key] == pytest.approx(ref[key], rel=1e-12), key
    assert doc["effective_examples"]["focal"] == pytest.approx(
        ref["effective_examples"]["focal"], rel=1e-12)
    for a, b in zip(doc["per_class"], ref["per_class"]):
        assert a["count"] == b["count"] and a["focal"] == pytest.approx(b["focal"], rel=1e-12)
    grid = focal("sweep", *args, "--gammas", "0:3:1", "--alphas", "1,balanced",
                 "--format", "json").json()["grid"]
    ref_grid = focal("sweep", tmp_path / "z.npy", tmp_path / "t.npy", "--gammas", "0:3:1",
                     "--alphas", "1,balanced", "--format", "json").json()["grid"]
    for a, b in zip(grid, ref_grid):
        assert a["focal"] == pytest.approx(b["focal"], rel=1e-12)


def test_a_confident_token_keeps_its_digits(tmp_path):
    pd.DataFrame({"logprob": [-1e-12, -1e-300, -0.5]}).to_csv(tmp_path / "lp.csv",
                                                             index=False)
    doc = focal("score", tmp_path / "lp.csv", "--reduction", "sum", "--format",
                "json").json()
    mp.mp.dps = 50
    want = sum((-mp.expm1(mp.mpf(v))) ** 2 * -mp.mpf(v) for v in (-1e-12, -1e-300, -0.5))
    assert doc["focal"] == pytest.approx(float(want), rel=1e-15)
    assert doc["classes"] == 1 and doc["per_class"][0]["class"] == "all"


@pytest.mark.parametrize("value,message", [
    ("0.5", "log-probability 0.5 is above 0 (beyond rounding, 1e-12)"),
    ("nan", "log-probability is missing or NaN"),
    ("-inf", "log-probability is -inf, not finite (probability 0: its cross-entropy is "
             "infinite)"),
])
def test_bad_logprobs(tmp_path, value, message):
    (tmp_path / "lp.csv").write_text(f"logprob\n-0.1\n{value}\n")
    r = focal("score", tmp_path / "lp.csv")
    assert r.code == ExitStatus.BAD_INPUT
    assert r.err.strip() == f"Error: {tmp_path}/lp.csv, line 3: {message}"


def test_rounding_above_zero_is_zero(tmp_path):
    (tmp_path / "lp.csv").write_text("logprob\n1e-13\n-0.25\n")
    doc = focal("score", tmp_path / "lp.csv", "--reduction", "sum", "--format", "json").json()
    assert doc["ce"] == 0.25


def test_strategies_need_targets(tmp_path):
    (tmp_path / "lp.csv").write_text("logprob\n-0.1\n-2\n")
    r = focal("score", tmp_path / "lp.csv", "--alpha", "balanced")
    assert r.err.strip() == ("Error: --alpha: a class-balancing alpha needs the tokens' "
                             "targets (a 'target' column or TARGETS)")


def test_per_sequence_rows_and_top(tmp_path, rng):
    pytest.importorskip("pyarrow")
    z = rng.normal(scale=3, size=(60, 7))
    t = rng.integers(0, 7, 60)
    seq = np.repeat(["a", "b", "c", "d"], 15)
    lp = _logprob_files(tmp_path, z, t, seq)
    rows = focal("score", tmp_path / "lp.parquet", "--per-example", "--format", "json").json()
    f = (-np.expm1(lp)) ** 2 * -lp
    assert [r["sequence"] for r in rows] == ["a", "b", "c", "d"]
    for i, row in enumerate(rows):
        assert row["tokens"] == 15
        assert row["focal"] == pytest.approx(f[i * 15:(i + 1) * 15].mean(), rel=1e-12)
    top = focal("score", tmp_path / "lp.parquet", "--top", "2", "--format", "json").json()
    means = f.reshape(4, 15).mean(1)
    assert [r["sequence"] for r in top["top"]] == [["a", "b", "c", "d"][i]
                                                   for i in np.argsort(-means)[:2]]


def test_token_strings_become_classes(tmp_path):
    pd.DataFrame({"logprob": [-0.1, -2.0, -0.3], "target": ["the", "cat", "the"]}).to_csv(
        tmp_path / "lp.csv", index=False)
    doc = focal("score", tmp_path / "lp.csv", "--format", "json").json()
    assert doc["class_names"] == ["the", "cat"]
    assert [c["count"] for c in doc["per_class"]] == [2, 1]


@pytest.mark.parametrize("kind", ["txt", "json-list", "vocab"])
def test_class_names_from_a_vocabulary(tmp_path, kind):
    from conftest import sample
    names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    if kind == "txt":
        path = tmp_path / "names.txt"
        path.write_text("\n".join(names) + "\n")
    elif kind == "json-list":
        path = tmp_path / "names.json"
        path.write_text(json.dumps(names))
    else:
        path = tmp_path / "vocab.json"
        path.write_text(json.dumps({n: i for i, n in reversed(list(enumerate(names)))}))
    doc = focal("score", sample("digits.npy"), sample("digits_targets.npy"), "--class-names",
                path, "--top", "1", "--format", "json").json()
    assert doc["class_names"] == names
    assert doc["top"][0]["class"] in names
    short = tmp_path / "short.txt"
    short.write_text("a\nb\n")
    r = focal("score", sample("digits.npy"), sample("digits_targets.npy"), "--class-names",
              short)
    assert r.err.strip() == f"Error: --class-names: {short} has 2 names for 10 classes"
