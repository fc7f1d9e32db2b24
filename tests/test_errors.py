"""Every kind of bad input: exit 2, one line naming the file (and row/column),
no traceback, no output file left behind."""
import gzip
import os

import numpy as np
import pytest

from conftest import focal, sample
from focalcli.errors import ExitStatus

DIGITS = [sample("digits.npy"), sample("digits_targets.npy")]


def one_line_error(r, expected: str):
    assert r.code == ExitStatus.BAD_INPUT, r
    lines = r.err.strip().splitlines()
    assert len(lines) == 1, r.err
    assert "Traceback" not in r.err
    assert lines[0] == expected, lines[0]


CSV_CASES = {
    "non-numeric cell": ("a,b,target\n1,2,0\n3,x,1\n",
                         "Error: {f}, line 3, column 'b': 'x' is not a number"),
    "target out of range": ("a,b,target\n1,2,0\n3,4,2\n",
                            "Error: {f}, line 3: target 2 is out of range for 2 classes"),
    "negative target": ("a,b,target\n1,2,-1\n",
                        "Error: {f}, line 2: negative target -1 (use --ignore-index -1 to "
                        "leave such rows out)"),
    "fractional target": ("a,b,target\n1,2,0\n3,4,1.5\n",
                          "Error: {f}, line 3: target 1.5 is not a whole class index"),
    "unknown class name": ("a,b,target\n1,2,zebra\n",
                           "Error: {f}, line 2: unknown class name 'zebra'"),
    "NaN score": ("a,b,target\n1,nan,0\n", "Error: {f}, line 2, column 'b': score is "
                  "missing or NaN"),
    "infinite score": ("a,b,target\n1,2,0\n-inf,2,0\n",
                       "Error: {f}, line 3, column 'a': score is -inf, not finite"),
    "empty cell": ("a,b,target\n1,,0\n", "Error: {f}, line 2, column 'b': score is "
                   "missing or NaN"),
    "header only": ("a,b,target\n", "Error: {f}: has a header but no rows"),
    "empty file": ("", "Error: {f}: is empty"),
    "ragged row": ("a,b,target\n1,2,0\n3,4,1,5\n",
                   "Error: {f}: malformed CSV: Expected 3 fields in line 3, saw 4"),
    "missing target": ("a,b,target\n1,2,0\n3,4\n", "Error: {f}, line 3: missing target"),
    "one class": ("a,target\n1,0\n", "Error: {f}: softmax needs at least two class scores "
                  "per row; for one binary score per example use --mode sigmoid"),
    "no targets": ("a,b\n1,2\n", "Error: {f}: no targets: give a TARGETS file, or a "
                   "'target' or 'label' column (--target-col)"),
}


@pytest.mark.parametrize("case", CSV_CASES)
def test_bad_csv(tmp_path, case):
    text, expected = CSV_CASES[case]
    path = tmp_path / "bad.csv"
    path.write_text(text)
    one_line_error(focal("score", path), expected.format(f=path))


@pytest.mark.parametrize("case", ["non-numeric cell", "target out of range"])
def test_bad_csv_on_stdin_names_stdin(case):
    text, expected = CSV_CASES[case]
    one_line_error(focal("score", "-", "--input-format", "csv", input=text),
                   expected.format(f="<stdin>"))


JSON_CASES = {
    "ragged": ("bad.json", "[[1,2],[3]]",
               "Error: {f}, row 2 (index 1): ragged scores: 1 values where the first row has 2"),
    "broken": ("bad.json", "[[1,2],\n[3,", "Error: {f}, line 2, column 4: invalid JSON: "
               "Expecting value"),
    "string score": ("bad.json", '{"logits": [[1, "a"]], "targets": [0]}',
                     "Error: {f}, row 1 (index 0), column 2: \"a\" is not a number"),
    "NaN literal": ("bad.json", '{"logits": [[1, NaN]], "targets": [0]}',
                    "Error: {f}: invalid JSON: NaN is not a number JSON allows"),
    "bad jsonl line": ("bad.jsonl", '{"logits":[1,2],"target":0}\n{"logits":[1,2]\n',
                       "Error: {f}, line 2, column 16: invalid JSON: Expecting ',' "
                       "delimiter"),
    "jsonl missing target": ("bad.jsonl", '{"logits":[1,2],"target":0}\n{"logits":[1,2]}\n',
                             "Error: {f}, line 2: missing 'target'"),
    "jsonl keys differ": ("bad.jsonl", '{"a":1,"b":2,"target":0}\n{"a":1,"c":2,"target":0}\n',
                          "Error: {f}, line 2: row has different keys from the first "
                          "(check 'b')"),
    "deep nesting": ("bad.json", "[" * 100000 + "]" * 100000,
                     "Error: {f}: too deeply nested"),
}


@pytest.mark.parametrize("case", JSON_CASES)
def test_bad_json(tmp_path, case):
    name, text, expected = JSON_CASES[case]
    path = tmp_path / name
    path.write_text(text)
    extra = [sample("digits_targets.npy")] if case in ("ragged", "broken") else []
    one_line_error(focal("score", path, *extra), expected.format(f=path))


def test_unknown_extension(tmp_path):
    path = tmp_path / "p.xyz"
    path.write_text("1,2")
    one_line_error(focal("score", path), f"Error: {path}: unknown file extension '.xyz'; "
                   "use one of .arrow, .csv, .feather, .json, .jsonl, .ndjson, .nii, .npy, "
                   ".npz, .parquet, .pt, .pth, .safetensors, .tsv, .txt or --input-format")


def test_missing_file(tmp_path):
    one_line_error(focal("score", tmp_path / "nope.npy"), f"Error: {tmp_path}/nope.npy: "
                   "no such file")


def test_pickled_npy_is_refused_never_loaded(tmp_path):
    marker = tmp_path / "pwned"
    payload = np.array([_Evil(str(marker))], dtype=object)
    np.save(tmp_path / "evil.npy", payload, allow_pickle=True)
    one_line_error(focal("score", tmp_path / "evil.npy", sample("digits_targets.npy")),
                   f"Error: {tmp_path}/evil.npy: holds Python objects (a pickle); refusing "
                   "to load it")
    assert not marker.exists()


class _Evil:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_dense_predictions_with_row_targets(tmp_path):
    # a 3-D array is dense (N, C, d1): targets of one value per row do not fit
    np.save(tmp_path / "r3.npy", np.zeros((2, 2, 2)))
    one_line_error(focal("score", tmp_path / "r3.npy", sample("digits_targets.npy")),
                   f"Error: {sample('digits_targets.npy')}: targets of shape (579,) do not "
                   "fit predictions of shape (2, 2, 2): expected (2, 2) (class indices) or "
                   "(2, 2, 2) (0/1 per class)")


def test_mismatched_lengths(tmp_path):
    np.save(tmp_path / "t.npy", np.zeros(578, dtype=int))
    np.save(tmp_path / "t_long.npy", np.zeros(600, dtype=int))
    one_line_error(focal("score", sample("digits.npy"), tmp_path / "t.npy"),
                   f"Error: {tmp_path}/t.npy: has 578 targets but {DIGITS[0]} has more rows "
                   "(at least 579)")
    one_line_error(focal("score", sample("digits.npy"), tmp_path / "t_long.npy"),
                   f"Error: {tmp_path}/t_long.npy: has 600 targets but {DIGITS[0]} has 579 "
                   "rows")


def test_fractional_targets_in_npy(tmp_path):
    np.save(tmp_path / "t.npy", np.full(579, 0.5))
    one_line_error(focal("score", sample("digits.npy"), tmp_path / "t.npy"),
                   f"Error: {tmp_path}/t.npy, row 1 (index 0): target 0.5 is not a whole class index")


def test_truncated_npy(tmp_path):
    data = open(sample("digits.npy"), "rb").read()
    (tmp_path / "cut.npy").write_bytes(data[:1000])
    one_line_error(focal("score", tmp_path / "cut.npy", DIGITS[1]),
                   f"Error: {tmp_path}/cut.npy: truncated .npy: 1000 bytes, header promises "
                   "46448")


@pytest.mark.parametrize("header", [b"{'descr': '<f8', 'fortran_order': False, 'shape': (",
                                    b"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3),"
                                    b" 'x': 1L}"])
def test_garbled_npy_header(tmp_path, header):
    # an unclosed bracket (a tokenizer error inside numpy) and a Python 2 long
    # literal (numpy warns on stderr before failing): both one clean line
    blob = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header
    (tmp_path / "bad.npy").write_bytes(blob + bytes(48))
    r = focal("score", tmp_path / "bad.npy", DIGITS[1])
    assert r.code == ExitStatus.BAD_INPUT and len(r.err.strip().splitlines()) == 1, r
    # the parenthesis carries numpy's own words, which vary by version
    assert r.err.startswith(f"Error: {tmp_path}/bad.npy: not a valid .npy file ("), r.err


def test_corrupt_gzip(tmp_path):
    blob = gzip.compress(open(sample("digits.csv"), "rb").read())
    (tmp_path / "cut.csv.gz").write_bytes(blob[: len(blob) // 2])
    one_line_error(focal("score", tmp_path / "cut.csv.gz"),
                   f"Error: {tmp_path}/cut.csv.gz: corrupt or truncated gzip data")


def test_probabilities_that_do_not_sum_to_one(tmp_path):
    np.save(tmp_path / "p.npy", np.array([[0.5, 0.5], [0.5, 0.6]]))
    np.save(tmp_path / "t.npy", np.array([0, 1]))
    one_line_error(focal("score", tmp_path / "p.npy", tmp_path / "t.npy", "--probs"),
                   f"Error: {tmp_path}/p.npy, row 2 (index 1): probabilities do not sum to 1 (are these "
                   "logits? drop --probs)")


@pytest.mark.parametrize("args,expected", [
    (["--gamma", "-1"], "Error: --gamma: must be a finite number >= 0, got -1.0"),
    (["--gamma", "abc"], "Error: Invalid value for '--gamma': 'abc' is not a number "
                         "(see 'focal score --help')"),
    (["--alpha", "1,2"], "Error: --alpha: has 2 weights for 10 classes"),
    (["--alpha", "abc"], "Error: --alpha: 'abc' is not a number"),
    (["--alpha", "-0.5"], "Error: --alpha: must be >= 0 in softmax mode, got -0.5"),
    (["--alpha", "effective:2"], "Error: --alpha: effective beta must be in [0, 1), got 2"),
    (["--normalize", "positives"], "Error: --normalize: positives applies to --mode "
                                   "sigmoid only"),
    (["-o", "out.xyz"], "Error: --output: unknown extension '.xyz' for out.xyz; use one of "
                        ".csv, .json, .jsonl, .ndjson, .npy, .parquet, .tsv"),
])
def test_bad_options(args, expected):
    one_line_error(focal("score", *DIGITS, *args), expected)


def test_unknown_option_is_one_line():
    r = focal("score", *DIGITS, "--bogus")
    assert r.code == ExitStatus.BAD_INPUT and len(r.err.strip().splitlines()) == 1
    assert "--bogus" in r.err and r.err.strip().endswith("(see 'focal score --help')")


def test_unwritable_output(tmp_path):
    out = tmp_path / "missing-dir" / "out.csv"
    one_line_error(focal("score", *DIGITS, "-o", out),
                   f"Error: {out}: cannot write output: No such file or directory")


def test_output_naming_an_input_is_refused(tmp_path):
    one_line_error(focal("score", *DIGITS, "-o", DIGITS[0]),
                   f"Error: --output: {DIGITS[0]} is one of the inputs; refusing to "
                   "overwrite it")


def test_bad_input_leaves_no_output_file(tmp_path):
    # the error is found after rows were already written to the temporary file
    z = np.zeros((200_000, 2))
    z[150_000, 1] = np.nan
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "t.npy", np.zeros(200_000, dtype=int))
    out = tmp_path / "rows.csv"
    r = focal("score", tmp_path / "z.npy", tmp_path / "t.npy", "-o", out)
    one_line_error(r, f"Error: {tmp_path}/z.npy, row 150001 (index 150000), column '1': score is missing "
                   "or NaN")
    assert os.listdir(tmp_path) == sorted(["z.npy", "t.npy"]) or \
        sorted(os.listdir(tmp_path)) == ["t.npy", "z.npy"]


def test_internal_error_is_exit_3_one_line(monkeypatch):
    import focalcli.scoring as scoring

    def boom(*a, **k):
        raise RuntimeError("kaboom")
    monkeypatch.setattr(scoring.Scorer, "run", boom)
    r = focal("score", *DIGITS)
    assert r.code == ExitStatus.INTERNAL
    assert r.err.strip() == "focal: internal error (a bug, please report it): " \
                            "RuntimeError: kaboom"
    r = focal("score", *DIGITS, "--traceback")
    assert r.code == ExitStatus.INTERNAL and "Traceback" in r.err
