"""Every input format gives the same numbers; stdin works sniffed or named."""
import gzip
import json

import numpy as np
import pandas as pd
import pytest

from conftest import focal, measured, reference_ce, sample
from focalcli.errors import ExitStatus

NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def reference():
    """The summary's mean focal loss and CE, computed here from the .npy with
    the formula written out (float64 log-sum-exp, fine at these magnitudes)."""
    z = np.load(sample("digits.npy"))
    t = np.load(sample("digits_targets.npy"))
    ce = reference_ce(z, t)
    focal = (1 - np.exp(-ce)) ** 2 * ce
    return focal.mean(), ce.mean()


@pytest.fixture(scope="module")
def variants(tmp_path_factory):
    d = tmp_path_factory.mktemp("formats")
    z = np.load(sample("digits.npy"))
    t = np.load(sample("digits_targets.npy"))
    df = pd.read_csv(sample("digits.csv"))
    files = {
        "npy": [sample("digits.npy"), sample("digits_targets.npy")],
        "csv": [sample("digits.csv")],
        "json-object": [sample("digits.json")],
    }
    np.savez(d / "d.npz", logits=z, targets=t)
    files["npz"] = [d / "d.npz"]
    df.to_csv(d / "d.tsv", sep="\t", index=False)
    files["tsv"] = [d / "d.tsv"]
    with gzip.open(d / "d.csv.gz", "wt") as f:
        df.to_csv(f, index=False)
    files["csv.gz"] = [d / "d.csv.gz"]
    (d / "rows.json").write_text(df.to_json(orient="records"))
    files["json-rows"] = [d / "rows.json"]
    (d / "arr.json").write_text(json.dumps(z.tolist()))
    (d / "t.json").write_text(json.dumps(t.tolist()))
    files["json-array"] = [d / "arr.json", d / "t.json"]
    (d / "rows.jsonl").write_text(df.to_json(orient="records", lines=True))
    files["jsonl-rows"] = [d / "rows.jsonl"]
    with open(d / "l.jsonl", "w") as f:
        for row, target in zip(z.tolist(), t.tolist()):
            f.write(json.dumps({"logits": row, "target": target}) + "\n")
    files["jsonl-logits"] = [d / "l.jsonl"]
    with gzip.open(d / "l.jsonl.gz", "wt") as f:
        f.write((d / "l.jsonl").read_text())
    files["jsonl.gz"] = [d / "l.jsonl.gz"]
    np.savetxt(d / "t.txt", t, fmt="%d")
    files["npy+txt"] = [sample("digits.npy"), d / "t.txt"]
    (d / "names.csv").write_text("label\n" + "\n".join(NAMES[i] for i in t) + "\n")
    files["npy+names.csv"] = [sample("digits.npy"), d / "names.csv"]
    pytest.importorskip("pyarrow")
    df.to_parquet(d / "d.parquet")
    files["parquet"] = [d / "d.parquet"]
    return files


FORMATS = ["npy", "csv", "json-object", "npz", "tsv", "csv.gz", "json-rows", "json-array",
           "jsonl-rows", "jsonl-logits", "jsonl.gz", "npy+txt", "parquet"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_gives_identical_numbers(variants, fmt):
    r = focal("score", *variants[fmt], "--format", "json")
    assert r.code == ExitStatus.OK, r
    doc = r.json()
    want_focal, want_ce = reference()
    assert doc["n"] == 579 and doc["classes"] == 10
    assert doc["focal"] == pytest.approx(want_focal, rel=1e-13)
    assert doc["ce"] == pytest.approx(want_ce, rel=1e-13)
    # and bit for bit the same as the .npy
    base = focal("score", *variants["npy"], "--format", "json").json()
    assert (doc["focal"], doc["ce"]) == (base["focal"], base["ce"])


def test_target_names_map_through_the_class_names(variants):
    # names.csv holds class names; they only mean something with named classes
    a = focal("score", sample("digits.csv"), "--format", "json").json()
    assert [c["class"] for c in a["per_class"]] == NAMES
    r = focal("score", *variants["npy+names.csv"])
    assert r.code == ExitStatus.BAD_INPUT and "unknown class name 'zero'" in r.err


@pytest.mark.parametrize("fmt", ["npy", "csv", "json-object", "jsonl-logits", "csv.gz",
                                 "parquet", "npz"])
def test_stdin_is_sniffed(variants, fmt):
    path = variants[fmt][0]
    with open(path, "rb") as f:
        data = f.read()
    extra = [str(p) for p in variants[fmt][1:]]
    r = focal("score", "-", *extra, "--format", "json", input=data)
    assert r.code == ExitStatus.OK, r
    assert r.json()["focal"] == pytest.approx(reference()[0], rel=1e-13)
    assert r.json()["predictions"] == "<stdin>"


def test_stdin_with_explicit_format(variants):
    data = open(variants["tsv"][0], "rb").read()
    r = focal("score", "-", "--input-format", "tsv", "--format", "json", input=data)
    assert r.code == ExitStatus.OK, r
    assert r.json()["focal"] == pytest.approx(reference()[0], rel=1e-13)


def test_headerless_csv_and_target_file(tmp_path):
    (tmp_path / "p.csv").write_text("0,0,0\n1,2,3\n")
    (tmp_path / "t.csv").write_text("1\n2\n")
    doc = focal("score", tmp_path / "p.csv", tmp_path / "t.csv", "--format", "json").json()
    ce0, ce1 = np.log(3), np.log(np.exp([1, 2, 3]).sum()) - 3
    want = ((1 - np.exp(-ce0)) ** 2 * ce0 + (1 - np.exp(-ce1)) ** 2 * ce1) / 2
    assert doc["focal"] == pytest.approx(want, rel=1e-14)
    assert doc["class_names"] == ["0", "1", "2"]


def test_target_and_id_columns_by_name(tmp_path):
    (tmp_path / "p.csv").write_text("key,a,b,y\nk1,0,1,b\nk2,2,0,a\n")
    r = focal("score", tmp_path / "p.csv", "--target-col", "y", "--id-col", "key",
              "--per-example", "--format", "json")
    rows = r.json()
    assert [row["id"] for row in rows] == ["k1", "k2"]
    assert [row["target"] for row in rows] == [1, 0]
    r = focal("score", tmp_path / "p.csv", "--target-col", "nope")
    assert r.code == ExitStatus.BAD_INPUT and "has no target column 'nope'" in r.err


def test_bom_crlf_and_quoted_numbers(tmp_path):
    (tmp_path / "p.csv").write_bytes(b'\xef\xbb\xbfa,b,target\r\n"1.5",2,0\r\n3,"4",1\r\n')
    doc = focal("score", tmp_path / "p.csv", "--format", "json").json()
    assert doc["n"] == 2 and doc["class_names"] == ["a", "b"]


def test_float32_npy_and_int_targets(tmp_path, rng):
    z = rng.normal(size=(100, 4)).astype(np.float32)
    t = rng.integers(0, 4, 100).astype(np.int32)
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "t.npy", t)
    doc = focal("score", tmp_path / "z.npy", tmp_path / "t.npy", "--format", "json").json()
    z64 = z.astype(np.float64)
    ce = np.log(np.exp(z64).sum(1)) - z64[np.arange(100), t]
    assert doc["ce"] == pytest.approx(ce.mean(), rel=1e-6)


def test_text_targets_stream_within_the_memory_bound(tmp_path):
    rng = np.random.default_rng(3)
    peaks = {}
    for n in (100_000, 1_000_000):
        z = rng.normal(size=(n, 2)).astype(np.float32)
        t = rng.integers(0, 2, n)
        np.save(tmp_path / f"z{n}.npy", z)
        (tmp_path / f"t{n}.csv").write_text("target\n" + "\n".join(map(str, t)) + "\n")
        args = [tmp_path / f"z{n}.npy", tmp_path / f"t{n}.csv", "--format", "json"]
        doc = focal("score", *args).json()
        assert doc["n"] == n
        assert doc["ce"] == pytest.approx(reference_ce(z, t).mean(), rel=1e-6)  # float32
        code, _, peaks[n] = measured("score", *args)
        assert code == ExitStatus.OK
    # parsed in chunks as the rows are scored: ten times the labels, the same memory
    # (loading them whole as text took 236 MB for 1M labels)
    assert peaks[1_000_000] - peaks[100_000] < 25, peaks
    assert peaks[1_000_000] < 200, peaks
