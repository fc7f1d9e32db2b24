"""What a user reads: each message says what happened, where, in the
words the rest of the output uses."""
import numpy as np
import pandas as pd
import pytest

from conftest import focal, sample

DIGITS = [sample("digits.npy"), sample("digits_targets.npy")]


def test_a_missing_url_is_no_such_file():
    pytest.importorskip("fsspec")
    for url in ("memory://nowhere/missing.npy", "memory://nowhere/prefix"):
        run = focal("score", url)
        assert run.code == 2 and run.err.strip() == f"Error: {url}: no such file", run


def test_compare_names_class_columns_in_another_order(tmp_path):
    frame = pd.read_csv(sample("digits.csv"))
    names = [c for c in frame.columns if c not in ("id", "label")]
    frame[["id"] + names[::-1] + ["label"]].to_csv(tmp_path / "perm.csv", index=False)
    run = focal("compare", sample("digits.csv"), tmp_path / "perm.csv")
    assert run.code == 2 and "another order" in run.err and "perm.csv" in run.err, run


def test_a_tiny_temperature_is_the_options_fault():
    run = focal("score", *DIGITS, "--temperature", "1e-310")
    assert run.code == 2 and run.err.startswith("Error: --temperature: 1e-310"), run
    assert len(run.err.strip().splitlines()) == 1  # no numpy warning before it


def test_markdown_says_which_way_and_lists_only_what_got_worse(tmp_path):
    z = np.load(DIGITS[0])
    np.save(tmp_path / "better.npy", z * 1.2)  # a little sharper: better
    same = focal("compare", DIGITS[0], DIGITS[0], DIGITS[1], "--format", "markdown")
    assert "(unchanged;" in same.out and "got worse" not in same.out
    doc = focal("compare", DIGITS[0], DIGITS[0], DIGITS[1], "--format", "json").json()
    assert doc["worse"] == []
    better = focal("compare", DIGITS[0], tmp_path / "better.npy", DIGITS[1],
                   "--format", "json").json()
    text = focal("compare", DIGITS[0], tmp_path / "better.npy", DIGITS[1],
                 "--format", "markdown").out
    assert better["delta"]["focal"] < 0
    assert f"better by {abs(better['delta']['focal']):.4g}" in text
    assert all(r["delta"] > 0 for r in better["worse"])
    summed = focal("compare", DIGITS[0], tmp_path / "better.npy", DIGITS[1],
                   "--reduction", "sum").out
    assert "sum focal loss" in summed and "mean focal loss" not in summed


def test_a_garbled_parquet_file_is_named_whole(tmp_path):
    pytest.importorskip("pyarrow")
    (tmp_path / "bad.parquet").write_bytes(b"PAR1" + b"\0" * 20 + b"PAR1")
    run = focal("score", tmp_path / "bad.parquet")
    assert run.code == 2, run
    message = run.err.strip()
    assert message.count("(") == message.count(")"), message


def test_sigmoid_summary_counts_examples_and_elements_apart():
    run = focal("score", sample("detect.npy"), sample("detect_targets.npy"), "--mode",
                "sigmoid")
    doc = focal("score", sample("detect.npy"), sample("detect_targets.npy"), "--mode",
                "sigmoid", "--format", "json").json()
    assert f"examples {doc['n']:,}" in run.out and f"elements {doc['elements']:,}" in run.out
    # the header may wrap with a long path: count over the whole header, not a line
    header = run.out.split("focal loss")[0]
    assert header.count("elements ") == 1, run.out
    assert "top label" not in run.out and "binary decision" in run.out
