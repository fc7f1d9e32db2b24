"""`focal score` end to end through click's CliRunner: the summary's numbers
against formulas written here, outputs that round-trip, exit codes."""
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from conftest import focal, sample, reference_ce
from focalcli.errors import ExitStatus

DIGITS = [sample("digits.npy"), sample("digits_targets.npy")]


def formula(z, t, gamma=2.0, alpha=None):
    """Per-example CE, p_t and focal loss, written out."""
    ce = reference_ce(z, t)
    pt = np.exp(-ce)
    a = 1.0 if alpha is None else np.asarray(alpha)[t]
    return ce, pt, a * (1 - pt) ** gamma * ce


@pytest.fixture(scope="module")
def digits():
    return np.load(DIGITS[0]), np.load(DIGITS[1])


def test_summary_numbers(digits):
    z, t = digits
    doc = focal("score", *DIGITS, "--gamma", "1.5", "--format", "json").json()
    ce, pt, f = formula(z, t, 1.5)
    assert doc["gamma"] == 1.5 and doc["alpha"] == 1.0 and doc["mode"] == "softmax"
    assert doc["reduction"] == "mean" and doc["ignored"] == 0 and doc["n"] == 579
    assert doc["focal"] == pytest.approx(f.mean(), rel=1e-12)
    assert doc["ce"] == pytest.approx(ce.mean(), rel=1e-12)
    assert doc["ratio"] == pytest.approx(f.sum() / ce.sum(), rel=1e-12)
    assert doc["effective_examples"]["focal"] == pytest.approx(f.sum() ** 2 / (f ** 2).sum())
    assert doc["effective_examples"]["ce"] == pytest.approx(ce.sum() ** 2 / (ce ** 2).sum())
    for c, row in enumerate(doc["per_class"]):
        sel = t == c
        assert row["count"] == sel.sum()
        assert row["focal"] == pytest.approx(f[sel].mean(), rel=1e-12)
        assert row["ce"] == pytest.approx(ce[sel].mean(), rel=1e-12)
        assert row["share"] == pytest.approx(f[sel].sum() / f.sum(), rel=1e-12)
    edges = [(0, 0.1), (0.1, 0.5), (0.5, 0.9), (0.9, 1.01)]
    for b, (lo, hi) in zip(doc["buckets"], edges):
        sel = (pt >= lo) & (pt < hi)
        assert b["count"] == sel.sum()
        assert b["ce_share"] == pytest.approx(ce[sel].sum() / ce.sum(), rel=1e-12)
        assert b["focal_share"] == pytest.approx(f[sel].sum() / f.sum(), rel=1e-12)
    assert doc["easy_share"] == pytest.approx(f[pt >= 0.5].sum() / f.sum(), rel=1e-12)


def test_sum_reduction_and_per_class_alpha(digits):
    z, t = digits
    alpha = [0.5 + 0.1 * i for i in range(10)]
    doc = focal("score", *DIGITS, "--reduction", "sum", "--alpha", ",".join(map(str, alpha)),
                "--format", "json").json()
    ce, _, f = formula(z, t, 2.0, alpha)
    assert doc["focal"] == pytest.approx(f.sum(), rel=1e-12)
    assert doc["ce"] == pytest.approx(ce.sum(), rel=1e-12)  # CE carries no alpha
    assert doc["alpha"] == alpha


def test_scalar_alpha_only_scales_in_softmax():
    a = focal("score", *DIGITS, "--format", "json").json()
    b = focal("score", *DIGITS, "--alpha", "0.25", "--format", "json").json()
    assert b["focal"] == pytest.approx(0.25 * a["focal"], rel=1e-14)
    assert b["ratio"] == pytest.approx(0.25 * a["ratio"], rel=1e-14)
    assert [r["share"] for r in a["per_class"]] == pytest.approx(
        [r["share"] for r in b["per_class"]], rel=1e-12)


def test_ignore_index(tmp_path, digits):
    z, t = digits
    t2 = t.copy()
    t2[::3] = -100
    np.save(tmp_path / "t.npy", t2)
    doc = focal("score", DIGITS[0], tmp_path / "t.npy", "--ignore-index", "-100",
                "--format", "json").json()
    keep = t2 != -100
    _, _, f = formula(z[keep], t[keep])
    assert doc["ignored"] == (~keep).sum() and doc["n"] == keep.sum()
    assert doc["focal"] == pytest.approx(f.mean(), rel=1e-12)
    rows = focal("score", DIGITS[0], tmp_path / "t.npy", "--ignore-index", "-100",
                 "--per-example", "--format", "json").json()
    assert rows[0]["focal"] is None and rows[0]["ce"] is None and rows[0]["target"] == -100
    assert rows[1]["focal"] == pytest.approx(formula(z[1:2], t[1:2])[2][0], rel=1e-13)


@pytest.mark.parametrize("ext", ["csv", "tsv", "json", "jsonl", "npy", "parquet"])
def test_per_example_output_round_trips(tmp_path, digits, ext):
    if ext == "parquet":
        pytest.importorskip("pyarrow")
    z, t = digits
    out = tmp_path / f"rows.{ext}"
    r = focal("score", sample("digits.csv"), "-o", out, "--format", "json")
    assert r.code == ExitStatus.OK, r
    if ext in ("csv", "tsv"):
        rows = pd.read_csv(out, sep="\t" if ext == "tsv" else ",")
    elif ext == "json":
        rows = pd.DataFrame(json.loads(out.read_text()))
    elif ext == "jsonl":
        rows = pd.DataFrame([json.loads(line) for line in out.read_text().splitlines()])
    elif ext == "npy":
        rows = pd.DataFrame(np.load(out))
    else:
        rows = pd.read_parquet(out)
    ce, pt, f = formula(z, t)
    assert list(rows["index"]) == list(range(579))
    assert (rows["target"].to_numpy() == t).all()
    # full precision: equal to the last bit to what the core computes
    from focalcli import focal_loss_batch
    exact = focal_loss_batch(z, t, 2.0)
    assert (rows["focal"].to_numpy() == exact.focal).all()
    assert (rows["ce"].to_numpy() == exact.ce).all()
    np.testing.assert_allclose(rows["focal"], f, rtol=1e-12)
    if ext != "npy":
        assert rows["id"][0] == "img0000"


def test_per_example_on_stdout(digits):
    z, t = digits
    r = focal("score", *DIGITS, "--per-example", "--format", "csv")
    rows = pd.read_csv(__import__("io").StringIO(r.out))
    assert len(rows) == 579
    np.testing.assert_allclose(rows["p_t"], formula(z, t)[1], rtol=1e-12)
    table = focal("score", *DIGITS, "--per-example")
    assert table.code == ExitStatus.OK and len(table.out.strip().splitlines()) == 580


def test_top(digits):
    z, t = digits
    doc = focal("score", *DIGITS, "--top", "4", "--format", "json").json()
    _, _, f = formula(z, t)
    order = np.argsort(-f)[:4]
    assert [r["index"] for r in doc["top"]] == list(order)
    assert [r["focal"] for r in doc["top"]] == pytest.approx(f[order], rel=1e-12)
    table = focal("score", *DIGITS, "--top", "4")
    assert "Top 4 by focal loss" in table.out


def test_fail_above_gate():
    doc = focal("score", *DIGITS, "--format", "json").json()
    passed = focal("score", *DIGITS, "--fail-above", repr(doc["focal"] * 1.001))
    assert passed.code == ExitStatus.OK
    failed = focal("score", *DIGITS, "--fail-above", repr(doc["focal"] * 0.999))
    assert failed.code == ExitStatus.GATE_FAILED
    assert failed.err.startswith("focal: gate failed: mean focal loss")
    assert "Per class" in failed.out  # the summary is still printed


def test_table_summary_shows_the_pieces():
    r = focal("score", sample("digits.csv"))
    assert r.code == ExitStatus.OK
    for text in ("examples 579", "ignored 0", "classes 10", "gamma 2", "alpha 1",
                 "mean focal loss", "cross-entropy", "focal / CE", "Per class",
                 "share of focal", "Where the loss comes from", "[0.9, 1]", "zero"):
        assert text in r.out, text
    assert "\x1b[" not in r.out  # no colour when not a terminal


def test_csv_summary():
    r = focal("score", *DIGITS, "--format", "csv")
    df = pd.read_csv(__import__("io").StringIO(r.out))
    doc = focal("score", *DIGITS, "--format", "json").json()
    assert list(df.columns) == ["class", "count", "focal", "ce", "share"]
    assert df.iloc[-1]["focal"] == doc["focal"]


def test_help_and_version():
    from focalcli import __version__
    assert focal("--version").out.strip() == f"focal, version {__version__}"
    for cmd in ([], ["score"], ["sweep"], ["curve"]):
        r = focal(*cmd, "--help")
        assert r.code == ExitStatus.OK and "focal " in r.out and "Examples" in r.out


def test_python_dash_m_is_the_same_program():
    r = subprocess.run([sys.executable, "-m", "focalcli", "score", *DIGITS, "--format",
                        "json"], capture_output=True, text=True)
    assert r.returncode == ExitStatus.OK
    assert json.loads(r.stdout)["focal"] == focal("score", *DIGITS, "--format",
                                                  "json").json()["focal"]


def test_output_replaces_existing_file_whole(tmp_path):
    out = tmp_path / "rows.csv"
    out.write_text("old\n")
    assert focal("score", *DIGITS, "-o", out).code == ExitStatus.OK
    assert out.read_text().startswith("index,target,class,p_t,ce,focal\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rows.csv"]


def test_a_command_that_scores_does_not_load_the_help_formatter():
    # rich-click (and rich) cost a start ~25 ms: only --help and tables load them
    code = ("import sys\nfrom focalcli.cli import cli\n"
            f"cli.main(['score', {DIGITS[0]!r}, {DIGITS[1]!r}, '--format', 'json'], "
            "standalone_mode=False)\n"
            "assert 'rich_click' not in sys.modules and 'rich' not in sys.modules, "
            "sorted(m for m in sys.modules if m.startswith('rich'))\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    help_run = focal("score", "--help")
    assert "Input:" in help_run.out and "Conventions:" in help_run.out
