"""The Python API: the commands as functions, their reports equal to the
CLI's JSON, in-memory inputs read as files are, and the CLI's refusals as
InputError. Expected numbers come from the formula written out here, or
from the command line run on the same data as files."""
import json
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import focalcli
from conftest import focal, sample

DIGITS = sample("digits.npy"), sample("digits_targets.npy")


def _without_names(doc: dict) -> dict:
    """The documents' input names: a path on the CLI, null in memory."""
    doc = dict(doc)
    for key in ("predictions", "targets"):
        doc.pop(key, None)
    return doc


def _cli_json(*args) -> dict:
    return focal(*args, "--format", "json").json()


@pytest.fixture(scope="module")
def digits():
    return np.load(DIGITS[0]), np.load(DIGITS[1])


def written_out(z, t, gamma, alpha=1.0):
    """Softmax focal loss, the formula by hand in float64 (log-sum-exp)."""
    z = np.asarray(z, np.float64)
    m = z.max(axis=1, keepdims=True)
    logp = z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))
    lpt = logp[np.arange(len(t)), t]
    return float(np.mean(-alpha * (1 - np.exp(lpt)) ** gamma * lpt)), float(np.mean(-lpt))


@pytest.mark.parametrize("options, flags", [
    ({}, []),
    ({"gamma": 0.5, "alpha": "balanced"}, ["--gamma", "0.5", "--alpha", "balanced"]),
    ({"alpha": [0.5] * 10, "ignore_index": 3, "top": 4},
     ["--alpha", ",".join(["0.5"] * 10), "--ignore-index", "3", "--top", "4"]),
    ({"like": "keras", "label_smoothing": 0.1}, ["--like", "keras", "--label-smoothing", "0.1"]),
    ({"mode": "sigmoid", "normalize": "positives", "class_weight": list(range(1, 11))},
     ["--mode", "sigmoid", "--normalize", "positives", "--class-weight",
      ",".join(str(i) for i in range(1, 11))]),
])
def test_score_report_is_the_cli_document(digits, options, flags):
    cli = _cli_json("score", *DIGITS, *flags)
    from_arrays = focalcli.score(*digits, **options).to_dict()
    from_paths = focalcli.score(*DIGITS, **options).to_dict()
    assert from_paths == cli
    assert _without_names(from_arrays) == _without_names(cli)
    assert from_arrays["predictions"] is None and from_arrays["targets"] is None


def test_score_matches_the_formula(digits):
    z, t = digits
    expected_focal, expected_ce = written_out(z, t, gamma=2.0)
    report = focalcli.score(z, t, gamma=2)
    assert report["focal"] == pytest.approx(expected_focal, rel=1e-12)
    assert report["ce"] == pytest.approx(expected_ce, rel=1e-12)


def test_dataframes_series_lists_and_array_likes(digits):
    z, t = digits
    expected = focalcli.score(z, t)["focal"]
    frame = pd.DataFrame(z, columns=[f"c{i}" for i in range(z.shape[1])])
    assert focalcli.score(frame.assign(label=t))["focal"] == expected
    assert focalcli.score(frame, pd.Series(t))["focal"] == expected
    assert focalcli.score(z.tolist(), t.tolist())["focal"] == expected
    report = focalcli.score(frame, t)
    assert [r["class"] for r in report["per_class"]][:2] == ["c0", "c1"]

    class Tensorish:  # what a CPU tensor offers numpy
        def __init__(self, a):
            self.a = a

        def __array__(self, dtype=None, copy=None):
            return self.a

    assert focalcli.score(Tensorish(z), Tensorish(t))["focal"] == expected


@pytest.mark.torch
def test_torch_tensors(digits):
    torch = pytest.importorskip("torch")
    z, t = digits
    got = focalcli.score(torch.from_numpy(z), torch.from_numpy(t))
    assert got["focal"] == focalcli.score(z, t)["focal"]


def test_sweep_compare_curve_equal_the_cli(digits, tmp_path):
    z, t = digits
    sweep = focalcli.sweep(*DIGITS, gammas=[0, 1, 2], alphas=[1, "balanced", [0.5] * 10])
    assert sweep.to_dict() == _cli_json("sweep", *DIGITS, "--gammas", "0,1,2", "--alphas",
                                        "1,balanced," + "/".join(["0.5"] * 10))
    assert list(sweep.to_frame()["gamma"]) == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    cand = z + np.random.default_rng(1).normal(0, 0.5, z.shape)
    np.save(tmp_path / "cand.npy", cand)
    compared = focalcli.compare(z, cand, t, bootstrap=200, max_increase=0.001)
    cli = _cli_json("compare", DIGITS[0], tmp_path / "cand.npy", DIGITS[1], "--bootstrap",
                    "200", "--max-increase", "0.001")
    for side in ("baseline", "candidate"):
        assert _without_names(compared[side]) == _without_names(cli[side])
    assert compared["delta"] == cli["delta"] and compared["interval"] == cli["interval"]
    assert compared.passed is False and cli["gates"]["passed"] is False
    curve = focalcli.curve(gammas=[0, 2], pt=[0.5])
    assert curve.to_dict() == _cli_json("curve", "--gammas", "0,2", "--pt", "0.5")
    assert curve.to_frame()["focal"].tolist() == [np.log(2), 0.25 * np.log(2)]


def test_compare_against_a_score_report(digits):
    z, t = digits
    baseline = focalcli.score(z, t)
    assert focalcli.compare(baseline, z, t)["delta"]["focal"] == 0.0
    with pytest.raises(focalcli.InputError, match="was scored with gamma 2.0; the "
                                                  "candidate with 1.0"):
        focalcli.compare(baseline, z, t, gamma=1)


def test_explore_writes_the_page(digits, tmp_path):
    page = tmp_path / "explorer.html"
    report = focalcli.explore(*digits, output=page, gammas=[0, 2])
    assert page.read_text().startswith("<!DOCTYPE html>")
    assert report.to_frame()[["gamma", "alpha"]].values.tolist() == [[0, "1.0"], [2, "1.0"]]


@pytest.mark.parametrize("command, options, flags", [
    ("score", {"gamma": -1}, ["--gamma", "-1"]),
    ("score", {"mode": "sigmoid", "label_smoothing": 0.1, "pos_weight": [2] * 10},
     ["--mode", "sigmoid", "--label-smoothing", "0.1", "--pos-weight", ",".join(["2"] * 10)]),
    ("sweep", {"gammas": "2:1:0.5"}, ["--gammas", "2:1:0.5"]),
    ("compare", {"gamma": -1}, ["--gamma", "-1"]),
])
def test_bad_options_raise_the_cli_line(digits, command, options, flags):
    z, t = digits
    paths, arrays = ((DIGITS[0], *DIGITS), (z, z, t)) if command == "compare" else \
        (DIGITS, (z, t))
    run = focal(command, *paths, *flags)
    assert run.code == 2
    with pytest.raises(focalcli.InputError) as caught:
        getattr(focalcli, command)(*arrays, **options)
    assert isinstance(caught.value, ValueError)
    assert run.err.strip() == f"Error: {caught.value}"


def test_bad_input_names_the_array(digits):
    z, t = digits
    with pytest.raises(focalcli.InputError, match=r"<targets>: has 578 targets"):
        focalcli.score(z, t[:-1])
    bad = z.copy()
    bad[7, 3] = np.nan
    with pytest.raises(focalcli.InputError, match=r"<predictions>.*row 8"):
        focalcli.score(bad, t)
    with pytest.raises(TypeError, match="did you mean 'gamma'"):
        focalcli.score(z, t, gamm=2)
    with pytest.raises(focalcli.InputError, match="unknown option 'gamm'"):
        focalcli.score(z, t, gamm=2)


def test_warnings_are_python_warnings(digits):
    z, t = digits
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        focalcli.score(z[t != 3], t[t != 3], alpha="balanced")
    assert any(issubclass(w.category, focalcli.FocalWarning) and "class 3" in str(w.message)
               for w in seen)


def test_views_of_a_report(digits):
    report = focalcli.score(*digits)
    assert json.loads(report.to_json()) == report.to_dict()
    frame = report.to_frame()
    assert len(frame) == 10 and frame["count"].sum() == report["n"]
    html = report._repr_html_()
    assert "<table" in html and f"{report['focal']:.6g}" in html
    assert report.to_markdown().startswith("**focal score**")
    assert repr(report).startswith("<focal score: mean focal loss")


def test_the_library_runs_without_click_and_rich(tmp_path):
    script = tmp_path / "no_cli.py"
    script.write_text(
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('click', 'rich'):\n"
        "            raise ImportError(name + ' is blocked')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import numpy as np, focalcli\n"
        f"z, t = np.load({DIGITS[0]!r}), np.load({DIGITS[1]!r})\n"
        "print(focalcli.score(z, t, top=2)['focal'])\n"
        "print(focalcli.sweep(z, t, gammas=[0, 2])['grid'][1]['focal'])\n"
        "print(focalcli.compare(z, z, t, bootstrap=10)['delta']['focal'])\n"
        "print(focalcli.curve(pt=[0.5])['rows'][0]['ce'])\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split()
    assert float(lines[0]) == float(lines[1]) and float(lines[2]) == 0.0

