"""`focal compare`: pairing by row and by id, the bootstrap interval against
numpy resampling written out here (and a known-variance case), every gate
passing and failing, Markdown through a real parser, a saved summary as the
baseline, and the bad input."""
import json

import numpy as np
import pandas as pd
import pytest
from markdown_it import MarkdownIt

from conftest import focal, reference_ce, sample
from focalcli.errors import ExitStatus

DIGITS = [sample("digits.npy"), sample("digits_targets.npy")]


def per_example(z, t, gamma=2.0):
    ce = reference_ce(z, t)
    return (1 - np.exp(-ce)) ** gamma * ce, ce


@pytest.fixture
def pair(tmp_path):
    z, t = np.load(DIGITS[0]), np.load(DIGITS[1])
    rng = np.random.default_rng(1)
    cand = z + rng.normal(0, 0.5, z.shape)
    np.save(tmp_path / "cand.npy", cand)
    return tmp_path, z, cand, t


def test_deltas_and_the_interval_by_row(pair):
    d, z, cand, t = pair
    doc = focal("compare", DIGITS[0], d / "cand.npy", DIGITS[1], "--bootstrap", "500",
                "--seed", "7", "--format", "json").json()
    fb, _ = per_example(z, t)
    fc, _ = per_example(cand, t)
    delta = fc - fb
    assert doc["delta"]["focal"] == pytest.approx(delta.mean(), rel=1e-12)
    assert doc["delta"]["focal_rel"] == pytest.approx(delta.mean() / fb.mean(), rel=1e-12)
    # the paired bootstrap over examples (N <= 2,048: each example is a block)
    rng = np.random.default_rng(7)
    picks = rng.integers(0, len(t), size=(500, len(t)))
    means = delta[picks].mean(axis=1)
    low, high = np.quantile(means, [0.025, 0.975])
    assert doc["interval"]["low"] == pytest.approx(low, rel=1e-9)
    assert doc["interval"]["high"] == pytest.approx(high, rel=1e-9)
    assert doc["interval"]["resamples"] == 500 and doc["interval"]["level"] == 0.95
    for row in doc["per_class"]:
        c = row["index"]
        assert row["delta"] == pytest.approx(delta[t == c].mean(), rel=1e-12)
        m = (picks_class := np.where(t[picks] == c, delta[picks], 0.0)).sum(1) / \
            (t[picks] == c).sum(1)
        del picks_class
        assert row["interval"]["low"] == pytest.approx(np.quantile(m, 0.025), rel=1e-9)
    assert doc["movement"]["harder"] == (delta > 1e-3).sum()
    assert doc["movement"]["easier"] == (delta < -1e-3).sum()
    worst = np.argsort(-delta, kind="stable")[:10]
    assert [r["index"] for r in doc["worse"]] == worst.tolist()
    again = focal("compare", DIGITS[0], d / "cand.npy", DIGITS[1], "--bootstrap", "500",
                  "--seed", "7", "--format", "json").json()
    assert again["interval"] == doc["interval"]  # the same seed, the same interval


def test_block_bootstrap_has_the_known_variance(tmp_path):
    # 200,000 examples whose focal loss moves by N(0.05, 0.3): the 95% interval
    # of the mean change is 0.05 +- 1.96 * sd / sqrt(N), near enough
    rng = np.random.default_rng(3)
    n = 200_000
    z = rng.normal(size=(n, 2))
    t = np.zeros(n, dtype=int)
    fb, _ = per_example(z, t)
    np.save(tmp_path / "a.npy", z)
    np.save(tmp_path / "t.npy", t)
    # move the target logit so that each focal loss changes by a random amount
    z2 = z.copy()
    z2[:, 0] -= rng.normal(0.1, 0.6, n)
    np.save(tmp_path / "b.npy", z2)
    fc, _ = per_example(z2, t)
    delta = fc - fb
    doc = focal("compare", tmp_path / "a.npy", tmp_path / "b.npy", tmp_path / "t.npy",
                "--format", "json").json()
    half = 1.96 * delta.std() / np.sqrt(n)
    iv = doc["interval"]
    assert iv["low"] < delta.mean() < iv["high"]
    assert (iv["high"] - iv["low"]) / 2 == pytest.approx(half, rel=0.15)


def test_pairing_by_id_in_any_order(tmp_path):
    df = pd.read_csv(sample("digits.csv"))
    rng = np.random.default_rng(0)
    cand = df.copy()
    score_cols = [c for c in df.columns if c not in ("id", "label")]
    cand[score_cols] += rng.normal(0, 0.5, cand[score_cols].shape)
    cand.to_csv(tmp_path / "cand_rows.csv", index=False)
    cand.sample(frac=1, random_state=1).to_csv(tmp_path / "cand_shuffled.csv", index=False)
    by_row = focal("compare", sample("digits.csv"), tmp_path / "cand_rows.csv",
                   "--format", "json").json()
    by_id = focal("compare", sample("digits.csv"), tmp_path / "cand_shuffled.csv",
                  "--format", "json").json()
    assert by_id["delta"]["focal"] == pytest.approx(by_row["delta"]["focal"], rel=1e-12)
    assert [r["id"] for r in by_id["worse"]] == [r["id"] for r in by_row["worse"]]
    cand.iloc[:-3].to_csv(tmp_path / "fewer.csv", index=False)
    r = focal("compare", sample("digits.csv"), tmp_path / "fewer.csv")
    assert r.code == ExitStatus.BAD_INPUT and "is missing (--ids intersect" in r.err
    doc = focal("compare", sample("digits.csv"), tmp_path / "fewer.csv", "--ids",
                "intersect", "--format", "json").json()
    assert doc["movement"]["dropped"] == 3 and doc["movement"]["paired"] == 576


@pytest.mark.parametrize("args,passes", [
    (["--max-increase", "0.1"], True),
    (["--max-increase", "0.01"], False),
    (["--max-rel-increase", "30"], True),
    (["--max-rel-increase", "10"], False),
    (["--max-rel-increase", "12", "--metric", "ce"], True),
    (["--max-rel-increase", "10", "--metric", "ce"], False),
    (["--max-increase", "0.1", "--per-class"], False),
    (["--max-increase", "0.1", "--per-class", "--significant"], False),
    (["--max-increase", "0.5", "--per-class"], True),
])
def test_gates(pair, args, passes):
    d = pair[0]
    r = focal("compare", DIGITS[0], d / "cand.npy", DIGITS[1], *args, "--format", "json")
    doc = r.json()
    assert doc["gates"]["passed"] is passes
    assert r.code == (ExitStatus.OK if passes else ExitStatus.GATE_FAILED)
    failures = doc["gates"]["failures"]
    assert len(r.err.strip().splitlines()) == len(failures)
    for f in failures:
        assert f["value"] > f["limit"]
        assert f"focal: gate failed: {f['gate']} on {f['where']}" in r.err


def test_significant_spares_changes_within_noise(pair):
    d = pair[0]
    # class 8 rose by 0.22 with an interval that contains zero: spared
    plain = focal("compare", DIGITS[0], d / "cand.npy", DIGITS[1], "--max-increase", "0.2",
                  "--per-class", "--format", "json").json()
    sig = focal("compare", DIGITS[0], d / "cand.npy", DIGITS[1], "--max-increase", "0.2",
                "--per-class", "--significant", "--format", "json").json()
    row = next(r for r in plain["per_class"] if r["class"] == "8")
    assert row["delta"] > 0.2 and row["interval"]["low"] < 0
    assert any(f["where"] == "class 8" for f in plain["gates"]["failures"])
    assert not any(f["where"] == "class 8" for f in sig["gates"]["failures"])


def _tables(text: str) -> list:
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    return [t for t in tokens if t.type == "table_open"], tokens


def test_markdown_is_a_pull_request_comment(pair):
    d = pair[0]
    r = focal("compare", DIGITS[0], d / "cand.npy", DIGITS[1], "--max-rel-increase", "5",
              "--format", "markdown", "--top", "3")
    assert r.code == ExitStatus.GATE_FAILED
    tables, tokens = _tables(r.out)
    assert len(tables) == 3  # overall, classes that moved most, worse examples
    assert r.out.splitlines()[0].startswith("### focal compare: ❌ **failed**")
    heads = [t.content for t in tokens if t.type == "inline"]
    assert "baseline" in heads and "focal after" in heads
    for cmd in (["score", *DIGITS], ["sweep", *DIGITS, "--gammas", "0,2"]):
        tables, _ = _tables(focal(*cmd, "--format", "markdown").out)
        assert tables


def test_a_saved_summary_as_the_baseline(pair, tmp_path):
    d = pair[0]
    (tmp_path / "base.json").write_text(focal("score", *DIGITS, "--format", "json").out)
    doc = focal("compare", tmp_path / "base.json", d / "cand.npy", DIGITS[1],
                "--format", "json").json()
    full = focal("compare", DIGITS[0], d / "cand.npy", DIGITS[1], "--format", "json").json()
    assert doc["paired"] is False and doc["interval"] is None and doc["worse"] == []
    assert doc["delta"]["focal"] == pytest.approx(full["delta"]["focal"], rel=1e-12)
    (tmp_path / "g1.json").write_text(focal("score", *DIGITS, "--gamma", "1",
                                            "--format", "json").out)
    r = focal("compare", tmp_path / "g1.json", d / "cand.npy", DIGITS[1])
    assert r.code == ExitStatus.BAD_INPUT and r.err.strip() == (
        f"Error: {tmp_path}/g1.json: was scored with gamma 1.0; the candidate with 2.0")
    (tmp_path / "other.json").write_text(json.dumps({"focal": 1, "per_class": []}))
    r = focal("compare", tmp_path / "other.json", d / "cand.npy", DIGITS[1])
    assert r.code == ExitStatus.BAD_INPUT
    assert "is not a summary saved by 'focal score --format json'" in r.err


def test_bad_pairs(pair, tmp_path):
    d, z, cand, t = pair
    np.save(tmp_path / "short.npy", cand[:-1])
    r = focal("compare", DIGITS[0], tmp_path / "short.npy", DIGITS[1])
    assert r.code == ExitStatus.BAD_INPUT
    np.save(tmp_path / "wide.npy", np.hstack([cand, cand[:, :1]]))
    r = focal("compare", DIGITS[0], tmp_path / "wide.npy", DIGITS[1])
    assert r.code == ExitStatus.BAD_INPUT and "classes" in r.err
    df = pd.read_csv(sample("digits.csv"))
    df.loc[5, "label"] = "zero" if df.loc[5, "label"] != "zero" else "one"
    df.to_csv(tmp_path / "relabelled.csv", index=False)
    r = focal("compare", sample("digits.csv"), tmp_path / "relabelled.csv")
    assert r.code == ExitStatus.BAD_INPUT
    assert "the targets disagree at index 5" in r.err
