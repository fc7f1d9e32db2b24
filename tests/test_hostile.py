"""Regressions from a hostile user's day (issue 11): each case gave a wrong
number, exit 3, or a broken promise before its fix. Expected numbers come
from the formula in conftest (reference_ce) or from the same data in a
format that was always read right."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from conftest import focal, reference_ce, sample
from focalcli.errors import ExitStatus

DIGITS = [sample("digits.npy"), sample("digits_targets.npy")]
FOCAL = [sys.executable, "-m", "focalcli"]


@pytest.fixture(scope="module")
def digits():
    return np.load(DIGITS[0]), np.load(DIGITS[1])


def want(z, t, gamma=2.0):
    ce = reference_ce(z, t)
    return ((1 - np.exp(-ce)) ** gamma * ce).mean()


def error_line(r) -> str:
    assert r.code == ExitStatus.BAD_INPUT, r
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), r.err
    return lines[0]


# ---------------------------------------------------------------- silent wrong numbers

def test_pandas_exports_with_numeric_headers(tmp_path, digits):
    # 1: pd.DataFrame(z).to_csv(index=False) writes "0,1,...,9";
    # pd.Series(t).to_csv(index=False) writes "0": both headers, not examples
    z, t = digits
    pd.DataFrame(z).to_csv(tmp_path / "p.csv", index=False)
    pd.Series(t).to_csv(tmp_path / "t.csv", index=False)
    r = focal("score", tmp_path / "p.csv", tmp_path / "t.csv", "--format", "json")
    doc = r.json()
    assert doc["n"] == 579 and doc["classes"] == 10
    assert doc["focal"] == pytest.approx(want(z, t), rel=1e-12)
    assert "its first line '0' is taken as a header" in r.err


def test_a_first_target_of_class_0_is_data(tmp_path, digits):
    # the same file without the header line: '0' is the first example's class
    z, t = digits
    t = t.copy()
    t[0] = 0
    np.save(tmp_path / "z.npy", z)
    (tmp_path / "t.txt").write_text("\n".join(map(str, t)) + "\n")
    doc = focal("score", tmp_path / "z.npy", tmp_path / "t.txt", "--format", "json").json()
    assert doc["n"] == 579 and doc["focal"] == pytest.approx(want(z, t), rel=1e-12)


def test_index_columns_are_left_out(tmp_path, digits):
    # 2: df.to_csv() and R's write.csv write an unnamed row index first
    z, t = digits
    pd.DataFrame(z).to_csv(tmp_path / "p.csv")
    pd.Series(t).to_csv(tmp_path / "t.csv")
    r = focal("score", tmp_path / "p.csv", tmp_path / "t.csv", "--format", "json")
    doc = r.json()
    assert doc["classes"] == 10 and doc["n"] == 579
    assert doc["focal"] == pytest.approx(want(z, t), rel=1e-12)
    assert r.err.count("its first column has no name") == 2


def test_numeric_class_names_must_be_their_position(tmp_path):
    # 3: header 1,2,3: is target 2 the class named '2' or index 2?
    (tmp_path / "p.csv").write_text("id,1,2,3,target\na,1,2,3,1\nb,3,2,1,3\n")
    assert error_line(focal("score", tmp_path / "p.csv")) == (
        f"Error: {tmp_path}/p.csv: class name '1' is a number but not its position 0 "
        "(0-based): a target 1 could mean either; rename the classes (e.g. 'c1')")
    (tmp_path / "q.csv").write_text("0,1,target\n1,2,1\n")  # names that are positions
    assert focal("score", tmp_path / "q.csv").code == ExitStatus.OK


def test_sigmoid_target_matrix_is_aligned_by_name(tmp_path, rng):
    # 4: predictions cat,dog; targets dog,cat
    x = rng.normal(size=(30, 2))
    y = (rng.random((30, 2)) < 0.4).astype(int)
    pd.DataFrame(x, columns=["cat", "dog"]).to_csv(tmp_path / "p.csv", index=False)
    pd.DataFrame(y[:, ::-1], columns=["dog", "cat"]).to_csv(tmp_path / "t.csv", index=False)
    pd.DataFrame(y, columns=["cat", "dog"]).to_csv(tmp_path / "same.csv", index=False)
    args = ["--mode", "sigmoid", "--format", "json"]
    swapped = focal("score", tmp_path / "p.csv", tmp_path / "t.csv", *args).json()
    same = focal("score", tmp_path / "p.csv", tmp_path / "same.csv", *args).json()
    assert swapped["focal"] == same["focal"] and swapped["per_class"] == same["per_class"]
    pd.DataFrame(y, columns=["cat", "eel"]).to_csv(tmp_path / "bad.csv", index=False)
    assert error_line(focal("score", tmp_path / "p.csv", tmp_path / "bad.csv", *args)) == (
        f"Error: {tmp_path}/bad.csv: the header's class names do not match the "
        "predictions' (check 'dog')")


@pytest.mark.parametrize("ext", ["csv", "parquet", "jsonl"])
def test_jsonl_ids_missing_on_some_lines(tmp_path, ext):
    # 5: a missing or null id is an empty id; the column stays
    pytest.importorskip("pyarrow")
    lines = ['{"id": "a", "logits": [1, 2], "target": 0}', '{"logits": [2, 1], "target": 1}',
             '{"id": null, "logits": [0, 0], "target": 1}']
    (tmp_path / "p.jsonl").write_text("\n".join(lines) + "\n")
    out = tmp_path / f"rows.{ext}"
    assert focal("score", tmp_path / "p.jsonl", "-o", out).code == ExitStatus.OK
    rows = pd.read_csv(out, keep_default_na=False) if ext == "csv" else \
        pd.read_parquet(out) if ext == "parquet" else pd.read_json(out, lines=True)
    assert list(rows["id"]) == ["a", "", ""] and len(rows.columns) == 7


def test_reductions_over_nothing(tmp_path):
    # 6: all ignored: no mean; the gate fails rather than passing on 0
    np.save(tmp_path / "z.npy", np.zeros((4, 3)))
    np.save(tmp_path / "t.npy", np.full(4, -100))
    args = [tmp_path / "z.npy", tmp_path / "t.npy", "--ignore-index", "-100"]
    doc = focal("score", *args, "--format", "json").json()
    assert doc["n"] == 0 and doc["focal"] is None and doc["ce"] is None
    r = focal("score", *args, "--fail-above", "0", "--format", "json")
    assert r.code == ExitStatus.GATE_FAILED
    assert r.err.strip() == ("focal: gate failed: no example was scored, so there is no "
                             "focal loss to compare with 0.0")
    assert focal("score", *args).code == ExitStatus.OK  # the table shows '-'


def test_normalize_positives_with_no_positive(tmp_path, rng):
    # 6: torchvision's RetinaNet: sum / max(1, positives)
    x = rng.normal(size=(5, 3))
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", np.zeros((5, 3), int))
    doc = focal("score", tmp_path / "x.npy", tmp_path / "y.npy", "--mode", "sigmoid",
                "--normalize", "positives", "--format", "json").json()
    p = 1 / (1 + np.exp(-x))
    ce = -np.log(1 - p)
    assert doc["focal"] == pytest.approx((0.75 * p ** 2 * ce).sum(), rel=1e-12)
    assert doc["focal"] == doc["focal_sum"]
    r = focal("score", tmp_path / "x.npy", tmp_path / "y.npy", "--mode", "sigmoid",
              "--normalize", "positives", "--reduction", "sum")
    assert error_line(r) == ("Error: --normalize: positives divides the sum; it does not "
                             "combine with --reduction sum")


@pytest.mark.parametrize("args,message", [
    (["score", *DIGITS[:0], "--mode", "sigmoid", "--alpha", "2"],
     "Error: --alpha: sigmoid alpha must be in [0, 1] (or negative for no weighting), got 2"),
    (["curve", "--alpha", "inf"],
     "Error: Invalid value for '--alpha': 'inf' is not a finite number (see 'focal curve "
     "--help')"),
    (["score", "--fail-above", "nan"],
     "Error: Invalid value for '--fail-above': 'nan' is not a finite number (see 'focal "
     "score --help')"),
])
def test_option_values_out_of_their_domain(tmp_path, args, message):
    # 7 and 16
    if args[0] == "score":
        args = ["score", *DIGITS, *args[1:]]
    assert error_line(focal(*args)) == message


def test_float32_underflow_rows_through_the_cli(tmp_path):
    # 8: logits [0, -104] in float32: CE 6.8e-46, not 0
    np.save(tmp_path / "z.npy", np.array([[0, -104], [0, -100]], np.float32))
    np.save(tmp_path / "t.npy", np.array([0, 0]))
    doc = focal("score", tmp_path / "z.npy", tmp_path / "t.npy", "--format", "json").json()
    want_sum = np.log1p(np.exp(-104.0)) + np.log1p(np.exp(-100.0))
    assert doc["ce_sum"] == pytest.approx(want_sum, rel=1e-6)


# ---------------------------------------------------------------- exit 2, never 3

def _write(path, text):
    path.write_text(text)
    return path


BAD_INPUT = {
    "json number too large": ('{"logits": [[1' + "0" * 400 + ', 2]], "targets": [0]}',
                              "p.json", "row 1 (index 0), column 1: 1000000000000000000"
                              "0... is too large for a number"),
    "json target too large": ('{"logits": [[1, 2]], "targets": [1' + "0" * 30 + "]}",
                              "p.json", "row 1 (index 0): target 1000000000000000000"
                              "0... is too large to be a class index"),
    "jsonl line not an object": ("\n".join(['{"logits": [1, 2], "target": 0}'] * 3 + ["5"]),
                                 "p.jsonl", "line 4: expected a row object"),
}


@pytest.mark.parametrize("case", BAD_INPUT)
def test_bad_documents_are_exit_2(tmp_path, case):
    text, name, message = BAD_INPUT[case]
    path = _write(tmp_path / name, text)
    assert error_line(focal("score", path)) == f"Error: {path}, {message}"


def test_text_target_too_large(tmp_path):
    np.save(tmp_path / "z.npy", np.zeros((1, 2)))
    path = _write(tmp_path / "t.txt", "1e23\n")
    assert error_line(focal("score", tmp_path / "z.npy", path)) == (
        f"Error: {path}, row 1 (index 0): target 1e+23 is too large to be a class index")


def _npy_with_header(path, shape: str):
    header = ("{'descr': '<f8', 'fortran_order': False, 'shape': %s, }" % shape).encode()
    header += b" " * (118 - len(header)) + b"\n"
    path.write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header
                     + bytes(48))
    return path


@pytest.mark.parametrize("shape,message", [
    ("(-3, 2)", "not a valid .npy file (shape (-3, 2))"),
    ("(99999999999999999999, 2)", "truncated .npy: 177 bytes, header promises "
                                  "1600000000000000000113"),
])
def test_absurd_npy_shapes(tmp_path, shape, message):
    path = _npy_with_header(tmp_path / "p.npy", shape)
    assert error_line(focal("score", path, DIGITS[1])) == f"Error: {path}: {message}"


def test_arrays_with_nothing_to_score(tmp_path):
    np.save(tmp_path / "p.npy", np.zeros((3, 0)))
    np.save(tmp_path / "t.npy", np.zeros((3, 0)))
    assert error_line(focal("score", tmp_path / "p.npy", tmp_path / "t.npy", "--mode",
                            "sigmoid")) == (f"Error: {tmp_path}/p.npy: has no score "
                                            "columns (shape (3, 0))")
    np.savez(tmp_path / "p.npz", logits=np.zeros((3, 2)), targets=np.array(1))
    assert error_line(focal("score", tmp_path / "p.npz")) == (
        f"Error: {tmp_path}/p.npz: has 3 rows of scores but its targets are a single value")


@pytest.mark.parametrize("args,message", [
    (["curve", "--gammas", "0:1:1e-5000"], "--gammas: '0:1:1e-5000' has more than 10000 "
                                           "values"),
    (["curve", "--gammas", "0:1:1e-999999"], "--gammas: '0:1:1e-999999' has more than "
                                             "10000 values"),
    (["curve", "--gammas", "0:1e9999999:1"], "--gammas: '0:1e9999999:1': numbers out of "
                                             "range"),
    (["score", *DIGITS, "--ignore-index", str(2 ** 64)],
     "Invalid value for '--ignore-index': 18446744073709551616 is not in the range "
     "-9223372036854775808<=x<=9223372036854775807. (see 'focal score --help')"),
])
def test_extreme_option_values(args, message):
    start = time.monotonic()
    assert error_line(focal(*args)) == f"Error: {message}"
    assert time.monotonic() - start < 10  # 1e-999999 took 65 s before failing


def test_full_and_closed_stdout():
    with open("/dev/full", "w") as full:
        r = subprocess.run([*FOCAL, "score", sample("digits.csv")], stdout=full,
                           stderr=subprocess.PIPE, text=True)
    assert r.returncode == ExitStatus.BAD_INPUT
    assert r.stderr.strip() == "Error: cannot write output: No space left on device"
    r = subprocess.run(" ".join(FOCAL + ["score", sample("digits.csv"), ">&-"]), shell=True,
                       stderr=subprocess.PIPE, text=True)
    assert r.returncode == ExitStatus.BAD_INPUT
    assert r.stderr.strip() == ("Error: standard output is closed; nowhere to write the "
                                "results")


def test_unencodable_class_name(tmp_path):
    path = _write(tmp_path / "p.csv", "café,b,target\n1,2,0\n")
    r = subprocess.run([*FOCAL, "score", path], capture_output=True, text=True,
                       env={**os.environ, "PYTHONIOENCODING": "ascii"})
    assert r.returncode == ExitStatus.OK and "caf\\xe9" in r.stdout


def test_full_disk_for_sweep_output(tmp_path):
    # a file-size limit makes the kernel refuse the write, as a full disk does
    code = ("import resource, signal, sys\n"
            "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
            "resource.setrlimit(resource.RLIMIT_FSIZE, (100, 100))\n"
            "from focalcli.entry import run\n"
            "run()")
    out = tmp_path / "grid.json"
    r = subprocess.run([sys.executable, "-c", code, "sweep", *DIGITS, "-o", out],
                       capture_output=True, text=True)
    assert r.returncode == ExitStatus.BAD_INPUT, r.stderr
    assert r.stderr.strip() == f"Error: {out}: cannot write output: File too large"
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------- signals

@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_terminating_signal_cleans_up(tmp_path, sig):
    # 10: a kill while reading stdin and writing -o leaves neither behind
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    out = tmp_path / "rows.csv"
    proc = subprocess.Popen([*FOCAL, "score", "-", "--input-format", "csv", "-o", out],
                            stdin=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            cwd=tmp_path)
    proc.stdin.write(b"a,b,target\n" + b"1,2,0\n" * 1000)
    proc.stdin.flush()
    for _ in range(100):  # wait for the spool to exist
        if any(p.name.startswith("focal-stdin-") for p in tmp_path.iterdir()):
            break
        time.sleep(0.05)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig
    assert err.decode().strip() == f"Terminated ({signal.Signals(sig).name})."
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------- terminal strings

def test_hostile_strings_are_plain_text(tmp_path):
    # 13: escape sequences, rich markup and BERT tokens in names and ids
    names = ["\x1b]0;pwned\x07", "[link=http://evil]x[/link]", "[unused0]", "[/]"]
    df = pd.DataFrame(np.eye(4), columns=names)
    df.insert(0, "id", ["\x1b[2J", "b", "c", "d"])
    df["target"] = range(4)
    path = tmp_path / "run[best].csv"
    df.to_csv(path, index=False)
    r = focal("score", path, "--top", "4")
    assert r.code == ExitStatus.OK, r
    assert "\x1b" not in r.out and "\x07" not in r.out
    for shown in ("\\x1b]0;pwned\\x07", "[link=http://evil]x[/link]", "[unused0]", "[/]",
                  "run[best].csv", "\\x1b[2J"):
        assert shown in r.out, shown


# ---------------------------------------------------------------- -o and the file system

def test_output_through_a_symlink_keeps_the_link(tmp_path):
    # 12
    real = tmp_path / "real.csv"
    real.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    assert focal("score", *DIGITS, "-o", link).code == ExitStatus.OK
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert len(pd.read_csv(real)) == 579


def test_output_keeps_the_mode_of_the_file_it_replaces(tmp_path):
    out = tmp_path / "rows.csv"
    out.write_text("old\n")
    out.chmod(0o600)
    assert focal("score", *DIGITS, "-o", out).code == ExitStatus.OK
    assert (out.stat().st_mode & 0o777) == 0o600 and len(pd.read_csv(out)) == 579


def test_output_into_a_fifo_is_written_directly(tmp_path):
    import threading
    fifo = tmp_path / "rows.jsonl"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()))
    reader.start()
    r = subprocess.run([*FOCAL, "score", *DIGITS, "-o", fifo], capture_output=True)
    reader.join(timeout=60)
    assert r.returncode == ExitStatus.OK, r.stderr
    assert got[0].count(b"\n") == 579 and fifo.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["rows.jsonl"]


# ---------------------------------------------------------------- many classes

def test_a_table_of_many_classes_shows_the_heaviest(tmp_path, rng):
    # 15: 5,000 classes: 20 rows and a line about the rest, not 5,000 rows
    n, k = 400, 5000
    z = rng.normal(size=(n, k)).astype(np.float32)
    t = rng.integers(0, k, n)
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "t.npy", t)
    r = focal("score", tmp_path / "z.npy", tmp_path / "t.npy", "--alpha", "balanced")
    assert r.code == ExitStatus.OK and len(r.out.splitlines()) < 60
    r = focal("score", tmp_path / "z.npy", tmp_path / "t.npy")
    doc = focal("score", tmp_path / "z.npy", tmp_path / "t.npy", "--format", "json").json()
    present = len(set(t.tolist()))
    assert doc["classes_present"] == present and len(doc["per_class"]) == present
    ce = reference_ce(z, t)
    f = (1 - np.exp(-ce)) ** 2 * ce
    per_class = np.bincount(t, f, minlength=k)
    top = np.argsort(-per_class, kind="stable")[:20]
    shown = [line.split()[0] for line in r.out.splitlines()
             if line.split() and line.split()[0].isdigit()][:20]
    assert shown == [str(c) for c in top]
    assert f"{present - 20:,} more classes with examples carry" in r.out
    three = focal("score", tmp_path / "z.npy", tmp_path / "t.npy", "--classes", "3",
                  "--format", "json").json()
    assert [c["index"] for c in three["per_class"]] == top[:3].tolist()
    every = focal("score", tmp_path / "z.npy", tmp_path / "t.npy", "--classes", "all",
                  "--format", "json").json()
    assert len(every["per_class"]) == k


# ---------------------------------------------------------------- smaller promises

def test_per_example_and_output_together(tmp_path):
    out = tmp_path / "rows.csv"
    r = focal("score", sample("digits.csv"), "--per-example", "--format", "csv", "-o", out)
    assert r.code == ExitStatus.OK
    assert r.out.count("\n") == 580 and out.read_text() == r.out
    assert error_line(focal("score", sample("digits.csv"), "--per-example", "--top", "3"))\
        .startswith("Error: --top: lists the highest-loss examples in the summary")


def test_targets_file_beside_a_target_column_is_refused():
    r = focal("score", sample("digits.csv"), DIGITS[1])
    assert error_line(r) == (f"Error: TARGETS: {sample('digits.csv')} has a target column "
                             "already; give TARGETS or the column, not both")


def test_target_and_label_columns_together(tmp_path):
    path = _write(tmp_path / "p.csv", "a,b,target,label\n1,2,0,1\n")
    assert error_line(focal("score", path)) == (
        f"Error: {path}: has both 'target' and 'label' columns: say which holds the "
        "targets with --target-col")
    # said which: the other is what the user made it (here an id)
    r = focal("score", path, "--target-col", "target", "--id-col", "label", "--format", "json")
    assert r.json()["classes"] == 2


def test_a_class_named_background(tmp_path, rng):
    x = rng.normal(size=(4, 2))
    np.save(tmp_path / "x.npy", x)
    (tmp_path / "t.txt").write_text("background\nbackground\ncat\nbackground\n")
    pd.DataFrame(x, columns=["cat", "background"]).to_csv(tmp_path / "p.csv", index=False)
    doc = focal("score", tmp_path / "p.csv", tmp_path / "t.txt", "--mode", "sigmoid",
                "--format", "json").json()
    assert doc["positives"] == 4  # 'background' is a class here, not "no positive"


@pytest.mark.parametrize("cells,message", [
    ("True,False", "'True' is a boolean, not a number"),
])
def test_booleans_are_not_logits(tmp_path, cells, message):
    path = _write(tmp_path / "p.csv", f"a,b,target\n{cells},0\n")
    assert error_line(focal("score", path)) == f"Error: {path}, line 2, column 'a': {message}"


def test_dates_in_parquet_are_not_logits(tmp_path):
    pytest.importorskip("pyarrow")
    pd.DataFrame({"ts": pd.to_datetime(["2020-01-01", "2020-01-02"]), "b": [1.0, 2.0],
                  "target": [0, 1]}).to_parquet(tmp_path / "p.parquet")
    assert error_line(focal("score", tmp_path / "p.parquet")) == (
        f"Error: {tmp_path}/p.parquet, row 1 (index 0), column 'ts': '2020-01-01 00:00:00' is a date, "
        "not a number")


@pytest.mark.parametrize("doc,message", [
    ('{"logits": [[1, 2]], "targets": [0], "targets": [1]}',
     "invalid JSON: key 'targets' appears twice in one object"),
    ('{"logits": [[1, 2]], "targets": [0], "classes": ["a", "a"]}',
     "class name 'a' appears twice"),
])
def test_duplicates_in_json(tmp_path, doc, message):
    path = _write(tmp_path / "p.json", doc)
    assert error_line(focal("score", path)) == f"Error: {path}: {message}" or \
        error_line(focal("score", path)) == f"Error: {path}, {message}"


def test_npz_bytes_class_names(tmp_path):
    np.savez(tmp_path / "p.npz", logits=np.eye(2), targets=np.array([0, 1]),
             classes=np.array([b"cat", b"dog"]))
    assert focal("score", tmp_path / "p.npz", "--format", "json").json()["class_names"] == \
        ["cat", "dog"]


def test_process_substitution_is_read():
    r = subprocess.run(["bash", "-c", " ".join(FOCAL) + f" score <(cat {sample('digits.csv')})"
                        " --format json"], capture_output=True, text=True)
    assert r.returncode == ExitStatus.OK, r.stderr
    assert json.loads(r.stdout)["n"] == 579


def test_targets_format_option(tmp_path):
    t = np.load(DIGITS[1])
    path = _write(tmp_path / "labels", "\n".join(map(str, t)) + "\n")
    assert error_line(focal("score", DIGITS[0], path)).startswith(
        f"Error: {path}: unknown file extension")
    doc = focal("score", DIGITS[0], path, "--targets-format", "txt", "--format", "json").json()
    assert doc["n"] == 579


def test_bare_focal_prints_its_help():
    r = focal()
    assert r.code == ExitStatus.OK and r.err == ""
    assert r.out.startswith("Usage: ") and "Commands:" in r.out


def test_every_option_has_help():
    from focalcli.cli import cli
    commands = cli.every_command()
    assert set(commands) >= {"score", "sweep", "compare", "curve", "explore", "track"}
    for name, cmd in commands.items():
        for p in cmd.params:
            if p.param_type_name == "option" and not p.hidden:
                assert p.help, (name, p.opts)


# ---------------------------------------------------------------- targets people save

def test_bool_string_and_column_targets(tmp_path, rng):
    # 17
    x = rng.normal(size=50)
    y = rng.random(50) < 0.3
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    np.save(tmp_path / "yi.npy", y.astype(int))
    np.save(tmp_path / "ycol.npy", y.astype(int)[:, None])
    args = ["--mode", "sigmoid", "--format", "json"]
    ref = focal("score", tmp_path / "x.npy", tmp_path / "yi.npy", *args).json()
    for name in ("y.npy", "ycol.npy"):
        got = focal("score", tmp_path / "x.npy", tmp_path / name, *args)
        assert got.code == ExitStatus.OK, got
        assert got.json()["focal"] == ref["focal"]
    z, t = np.load(DIGITS[0]), np.load(DIGITS[1])
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven",
                      "eight", "nine"])
    np.save(tmp_path / "names.npy", names[t])
    np.save(tmp_path / "tcol.npy", t[:, None])
    base = focal("score", sample("digits.csv"), "--format", "json").json()["focal"]
    pd.DataFrame(z, columns=names).to_csv(tmp_path / "p.csv", index=False)
    for name in ("names.npy", "tcol.npy"):
        got = focal("score", tmp_path / "p.csv", tmp_path / name, "--format", "json")
        assert got.code == ExitStatus.OK, got
        assert got.json()["focal"] == pytest.approx(base, rel=1e-15)


# ---------------------------------------------------------------- the Python API

@pytest.mark.parametrize("kwargs,message", [
    (dict(targets=[1.5, 0.0]), "target 1.5 is not a whole class index"),
    (dict(gamma=float("nan")), "gamma must be a finite number >= 0, got nan"),
    (dict(alpha=-1.0), "softmax alpha must be >= 0"),
    (dict(alpha=[1.0, 2.0]), "alpha has 2 weights for 3 classes"),
    (dict(targets=[0, 3]), "target 3 is out of range for 3 classes"),
    (dict(logits=[[0.0, float("nan"), 0.0], [0, 0, 0]]), "is not finite"),
    (dict(mode="sigmoid", logits=np.zeros((2, 3)), targets=[[0, 2, 1], [1, 1, 1]]),
     "target 2.0 is not 0 or 1"),
    (dict(mode="sigmoid", logits=np.zeros(2), targets=[1, -1]), "binary target -1"),
])
def test_python_api_checks_like_the_cli(kwargs, message):
    # 18
    from focalcli import focal_loss_batch
    args = dict(logits=np.zeros((2, 3)), targets=[1, 0])
    args.update(kwargs)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("[", r"\[")):
        focal_loss_batch(args.pop("logits"), args.pop("targets"), **args)


# ---------------------------------------------------------------- error positions

def test_error_lines_count_blank_lines(tmp_path):
    # 11: the reported line is the file's line, blank lines included
    path = _write(tmp_path / "p.csv", "a,b,target\n1,2,0\n\n\n3,x,1\n")
    assert error_line(focal("score", path)) == \
        f"Error: {path}, line 5, column 'b': 'x' is not a number"
    path = _write(tmp_path / "q.csv", "a,b,target\r\n1,2,0\r\n\r\n3,4,7\r\n")
    assert error_line(focal("score", path)) == \
        f"Error: {path}, line 4: target 7 is out of range for 2 classes"


@pytest.mark.parametrize("rows_before", [1, 3_000_000])
def test_a_quoted_line_break_is_refused_wherever_it_falls(tmp_path, rows_before):
    # early in the file or past the first 16 MB piece: the same answer
    path = tmp_path / "p.csv"
    with open(path, "w") as f:
        f.write("a,b,target\n" + "1,2,0\n" * rows_before + '"3\n",4,1\n5,6,0\n')
    assert error_line(focal("score", path)) == (
        f"Error: {path}, line {rows_before + 2}: a quoted field holds a line break (not "
        "supported: one row per line)")


def test_rows_are_one_based_and_say_their_index(tmp_path):
    np.save(tmp_path / "t.npy", np.array([0, 0, 10] + [0] * 576))
    assert error_line(focal("score", DIGITS[0], tmp_path / "t.npy")) == (
        f"Error: {tmp_path}/t.npy, row 3 (index 2): target 10 is out of range for 10 classes")


def test_mixed_type_column_says_one_line_and_no_warning(tmp_path):
    # pandas' DtypeWarning used to reach stderr before the error
    path = tmp_path / "p.csv"
    with open(path, "w") as f:
        f.write("a,b,target\n" + "1,2,0\n" * 200_000 + "1,zz,0\n")
    r = subprocess.run([*FOCAL, "score", path], capture_output=True, text=True)
    assert r.returncode == ExitStatus.BAD_INPUT
    assert r.stderr == f"Error: {path}, line 200002, column 'b': 'zz' is not a number\n"


def test_plot_without_matplotlib_fails_before_scoring(tmp_path):
    code = ("import sys; sys.modules['matplotlib'] = None\n"
            "from focalcli.entry import run; run()")
    r = subprocess.run([sys.executable, "-c", code, "sweep", "does-not-exist.npy",
                        "--plot", tmp_path / "s.png"], capture_output=True, text=True)
    # the missing extra is named before the (missing) input is even opened
    assert r.returncode == ExitStatus.BAD_INPUT
    assert r.stderr.strip() == ("Error: --plot: plotting needs matplotlib: pip install "
                                "'focalcli[plot]'")


def test_help_names_the_targets_formats():
    r = focal("score", "--help")
    assert ".txt (one per line)" in r.out and "0/1 matrix" in r.out


def test_a_lone_carriage_return_is_a_line_end_in_error_places():
    # found by `make fuzz`: pandas ends a line at a lone '\r', and the line numbers of
    # error messages counted '\n' alone, so the second row had no line: exit 3
    r = focal("score", "-", "--format", "json", input=b"0\r\x00")
    assert r.code == ExitStatus.BAD_INPUT, r
    assert r.err == "Error: <stdin>, line 2, column '0': '\\x00' is not a number\n"


def test_a_row_no_line_is_known_of_is_named_by_its_number():
    # a guard beside the line count's fix: an error place for a batch row the line
    # numbers do not reach is its row number, not an IndexError (exit 3)
    from focalcli.targets import Where
    where = Where("x.csv", 10, lines=np.array([3, 4]))
    assert str(where.error("bad", 1)) == "x.csv, line 4: bad"
    assert str(where.error("bad", 5)) == "x.csv, row 16 (index 15): bad"
