"""`focal sweep` and `focal curve`: every cell equals `score`, lists parse
exactly, curve values against the formula, plots are real images."""
import builtins
import io
import math

import numpy as np
import pandas as pd
import pytest

from conftest import focal, sample, reference_ce
from focalcli.errors import ExitStatus
from focalcli.errors import OptionError
from focalcli.lists import parse_list

DIGITS = [sample("digits.npy"), sample("digits_targets.npy")]


@pytest.mark.parametrize("extra", [[], ["--mode", "sigmoid"], ["--reduction", "sum"],
                                   ["--mode", "sigmoid", "--normalize", "positives"]])
def test_every_cell_equals_score(extra, tmp_path, rng):
    if "sigmoid" in extra:
        x = rng.normal(size=(300, 3))
        y = (rng.random((300, 3)) < 0.1).astype(int)
        np.save(tmp_path / "x.npy", x)
        np.save(tmp_path / "y.npy", y)
        inputs, alphas = [tmp_path / "x.npy", tmp_path / "y.npy"], "0.1,0.25,-1,balanced"
    else:
        inputs, alphas = DIGITS, "0.25,1,balanced,effective:0.99,1/2/3/4/5/6/7/8/9/10"
    doc = focal("sweep", *inputs, *extra, "--gammas", "0,0.5,2,3.7", "--alphas", alphas,
                "--format", "json").json()
    assert len(doc["grid"]) == 4 * len(alphas.split(","))
    for cell in doc["grid"]:
        alpha = cell["alpha_spec"].replace("/", ",")
        one = focal("score", *inputs, *extra, "--gamma", repr(cell["gamma"]), "--alpha",
                    alpha, "--format", "json").json()
        assert cell["focal"] == pytest.approx(one["focal"], rel=1e-13), cell
        assert cell["ce"] == one["ce"]
        assert cell["ratio"] == pytest.approx(one["ratio"], rel=1e-13)
        assert cell["easy_share"] == pytest.approx(one["easy_share"], rel=1e-12)
        assert cell["effective_examples"] == pytest.approx(
            one["effective_examples"]["focal"], rel=1e-12)


def test_cell_make_up_against_formula():
    z, t = np.load(DIGITS[0]), np.load(DIGITS[1])
    ce = reference_ce(z, t)
    pt = np.exp(-ce)
    doc = focal("sweep", *DIGITS, "--gammas", "0,1,3", "--alphas", "0.5",
                "--format", "json").json()
    for cell in doc["grid"]:
        f = 0.5 * (1 - pt) ** cell["gamma"] * ce
        assert cell["focal"] == pytest.approx(f.mean(), rel=1e-12)
        assert cell["easy_share"] == pytest.approx(f[pt >= 0.5].sum() / f.sum(), rel=1e-12)
        assert cell["effective_examples"] == pytest.approx(f.sum() ** 2 / (f * f).sum(),
                                                           rel=1e-12)
        assert cell["effective_examples_ce"] == pytest.approx(ce.sum() ** 2 / (ce * ce).sum(),
                                                              rel=1e-12)


def test_sweep_outputs(tmp_path):
    r = focal("sweep", *DIGITS, "--gammas", "0:1:0.5", "--alphas", "0.25,1", "-o",
              tmp_path / "grid.csv", "--format", "csv")
    assert r.code == ExitStatus.OK, r
    df = pd.read_csv(tmp_path / "grid.csv")
    assert list(df["gamma"]) == [0.0, 0.0, 0.5, 0.5, 1.0, 1.0]
    assert df.equals(pd.read_csv(io.StringIO(r.out)))
    table = focal("sweep", *DIGITS, "--gammas", "0,2", "--alphas", "0.25,1")
    assert "rows gamma, columns alpha" in table.out and "effective examples" in table.out


@pytest.mark.parametrize("text,values", [
    ("0:5:0.5", [i / 2 for i in range(11)]),
    ("0:0.3:0.1", [0.0, 0.1, 0.2, 0.3]),
    ("0.1:0.7:0.3", [0.1, 0.4, 0.7]),
    ("0,0.5,1,2,5", [0.0, 0.5, 1.0, 2.0, 5.0]),
    ("2,0:1:1,2", [2.0, 0.0, 1.0]),
])
def test_lists(text, values):
    assert parse_list(text, "--gammas") == values
    assert all(repr(v) == repr(float(str(v))) for v in parse_list(text, "--gammas"))


def test_no_drift_in_output():
    doc = focal("sweep", *DIGITS, "--gammas", "0:1:0.1", "--format", "json").json()
    assert [c["gamma"] for c in doc["grid"]] == [i / 10 for i in range(11)]
    assert 0.30000000000000004 not in [c["gamma"] for c in doc["grid"]]


@pytest.mark.parametrize("option,text,message", [
    ("--gammas", "0,x,1", "Error: --gammas: 'x' is not a number or START:STOP:STEP"),
    ("--gammas", "0:1", "Error: --gammas: '0:1': a range is START:STOP:STEP"),
    ("--gammas", "0:1:0", "Error: --gammas: '0:1:0': STEP must be > 0"),
    ("--gammas", "1:0:0.5", "Error: --gammas: '1:0:0.5': STOP is below START"),
    ("--gammas", "-1,2", "Error: --gammas: '-1' must be >= 0"),
    ("--gammas", "0,,1", "Error: --gammas: empty item in '0,,1'"),
    ("--gammas", "nan", "Error: --gammas: 'nan' is not a finite number"),
    ("--alphas", "0.5,foo", "Error: --alphas: 'foo' is not a number or START:STOP:STEP"),
    ("--alphas", "1/2", "Error: --alphas: has 2 weights for 10 classes"),
])
def test_bad_lists(option, text, message):
    r = focal("sweep", *DIGITS, option, text)
    assert r.code == ExitStatus.BAD_INPUT and r.err.strip() == message, r


def test_curve_values_against_formula():
    doc = focal("curve", "--format", "json").json()
    assert [(r["p_t"], r["gamma"]) for r in doc["rows"]] == [
        (p, g) for p in (0.1, 0.5, 0.9) for g in (0.0, 0.5, 1.0, 2.0, 5.0)]
    for r in doc["rows"]:
        ce = -math.log(r["p_t"])
        assert r["ce"] == pytest.approx(ce, rel=1e-15)
        assert r["focal"] == pytest.approx((1 - r["p_t"]) ** r["gamma"] * ce, rel=1e-14)
        assert r["factor"] == pytest.approx(1 / (1 - r["p_t"]) ** r["gamma"], rel=1e-13)
    seed = {r["p_t"]: r["focal"] for r in doc["rows"] if r["gamma"] == 2.0}
    assert (round(seed[0.9], 5), round(seed[0.5], 3), round(seed[0.1], 3)) == \
        (0.00105, 0.173, 1.865)
    alpha = focal("curve", "--alpha", "0.25", "--gammas", "2", "--pt", "1", "--format",
                  "json").json()
    assert alpha["rows"] == [{"p_t": 1.0, "gamma": 2.0, "ce": 0.0, "focal": 0.0,
                              "factor": None}]


def test_curve_bad_pt():
    r = focal("curve", "--pt", "0,0.5")
    assert r.code == ExitStatus.BAD_INPUT and r.err.strip() == "Error: --pt: every p_t must be in (0, 1]"


def test_curve_csv_and_table():
    r = focal("curve", "--format", "csv")
    df = pd.read_csv(io.StringIO(r.out))
    assert list(df.columns) == ["p_t", "gamma", "ce", "focal", "factor"] and len(df) == 15
    assert "gamma 2" in focal("curve").out


@pytest.mark.parametrize("ext,magic", [("png", b"\x89PNG\r\n\x1a\n"), ("svg", b"<?xml")])
def test_plots_are_real_images(tmp_path, ext, magic):
    pytest.importorskip("matplotlib")
    for args in (["curve"], ["sweep", *DIGITS, "--alphas", "0.5,1,balanced"]):
        out = tmp_path / f"plot.{ext}"
        r = focal(*args, "--plot", out)
        assert r.code == ExitStatus.OK, r
        data = out.read_bytes()
        assert data.startswith(magic) and len(data) > 10_000
        if ext == "png":  # width and height from the IHDR chunk
            w, h = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
            assert w > 400 and h > 300
        else:
            assert b"<svg" in data[:2000] and data.rstrip().endswith(b"</svg>")
        out.unlink()


def test_plot_without_matplotlib_names_the_extra(monkeypatch, tmp_path):
    real_import = builtins.__import__

    def no_matplotlib(name, *a, **k):
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real_import(name, *a, **k)
    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    r = focal("curve", "--plot", tmp_path / "c.png")
    assert r.code == ExitStatus.BAD_INPUT
    assert r.err.strip() == ("Error: --plot: plotting needs matplotlib: pip install "
                             "'focalcli[plot]'")
    assert not (tmp_path / "c.png").exists()


def test_plot_bad_extension():
    r = focal("curve", "--plot", "c.jpg")
    assert r.code == ExitStatus.BAD_INPUT and r.err.strip() == "Error: --plot: c.jpg: use a .png or .svg file"


def test_option_error_text():
    assert str(OptionError("--x", "bad")) == "--x: bad"
