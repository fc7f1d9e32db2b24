"""Many files as one input, in this process: globs, directories, @lists and
fsspec URLs; shards paired with target shards; the numbers against the same
rows in one file (the sums are merged per shard, so equal to 1e-14, not
bit for bit) and against the formula; rows and --top naming the shard; bad
shards and mismatched pairs refused with the shard named."""
import json

import numpy as np
import pytest

from conftest import focal, reference_ce, sample, split_digits
from focalcli.errors import ExitStatus

DIGITS = [sample("digits.npy"), sample("digits_targets.npy")]


@pytest.fixture
def shards(tmp_path):
    """The digits sample in 4 shards of predictions and 4 of targets."""
    split_digits(tmp_path, 4)
    return tmp_path


def summary(*args):
    r = focal("score", *args, "--format", "json")
    assert r.code == ExitStatus.OK, r
    return r.json()


def test_glob_directory_and_list_are_one_input(shards):
    z, t = np.load(DIGITS[0]), np.load(DIGITS[1])
    ce = reference_ce(z, t)
    want = ((-np.expm1(-ce)) ** 2 * ce).mean()
    (shards / "p.txt").write_text("\n".join(str(p) for p in sorted((shards / "p").iterdir())))
    (shards / "t.txt").write_text("# targets, one per line\n" + "\n".join(
        str(p) for p in sorted((shards / "t").iterdir())))
    docs = [summary(f"{shards}/p/*.npy", f"{shards}/t/*.npy"),
            summary(shards / "p", shards / "t"),
            summary(f"@{shards}/p.txt", f"@{shards}/t.txt")]
    single = summary(*DIGITS)
    for doc in docs:
        assert doc["shards"] == 4 and doc["n"] == len(t)
        assert doc["focal"] == pytest.approx(want, rel=1e-13)
        assert doc["focal"] == pytest.approx(single["focal"], rel=1e-14)
        assert doc["calibration"]["ece"] == pytest.approx(single["calibration"]["ece"],
                                                          rel=1e-12)
        assert [c["count"] for c in doc["per_class"]] == \
            [c["count"] for c in single["per_class"]]
    assert docs[0]["focal"] == docs[1]["focal"] == docs[2]["focal"]


def test_rows_and_top_name_the_shard(shards, tmp_path):
    z, t = np.load(DIGITS[0]), np.load(DIGITS[1])
    ce = reference_ce(z, t)
    out = tmp_path / "rows.jsonl"
    assert focal("score", shards / "p", shards / "t", "-o", out).code == ExitStatus.OK
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    sizes = [len(a) for a in np.array_split(t, 4)]
    want = [(f"part-{i:05d}.npy", j) for i, n in enumerate(sizes) for j in range(n)]
    assert [(r["shard"], r["index"]) for r in rows] == want
    np.testing.assert_allclose([r["ce"] for r in rows], ce, rtol=1e-12)
    top = summary(shards / "p", shards / "t", "--top", "3")["top"]
    hardest = np.argsort(-ce, kind="stable")[:3]
    starts = np.cumsum([0] + sizes)
    for row, i in zip(top, hardest):
        shard = int(np.searchsorted(starts, i, side="right")) - 1
        assert (row["shard"], row["index"]) == (f"part-{shard:05d}.npy", i - starts[shard])


def test_sweep_and_explore_take_shards(shards, tmp_path):
    grid = focal("sweep", shards / "p", shards / "t", "--gammas", "0,2", "--format",
                 "json").json()["grid"]
    single = focal("sweep", *DIGITS, "--gammas", "0,2", "--format", "json").json()["grid"]
    assert [c["focal"] for c in grid] == pytest.approx([c["focal"] for c in single],
                                                       rel=1e-14)
    out = tmp_path / "e.html"
    assert focal("explore", shards / "p", shards / "t", "-o", out).code == ExitStatus.OK
    assert "part-00003.npy" in out.read_text()  # the hardest digit is in the last shard


def test_memory_urls(shards):
    """fsspec URLs wherever a path goes (memory:// is fsspec's in-process store)."""
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    for kind in ("p", "t"):
        for f in sorted((shards / kind).iterdir()):
            fs.pipe(f"/focal-test/{kind}/{f.name}", f.read_bytes())
    try:
        doc = summary("memory://focal-test/p/*.npy", "memory://focal-test/t/*.npy")
        assert doc["focal"] == summary(shards / "p", shards / "t")["focal"]
        one = summary("memory://focal-test/p/part-00002.npy",
                      "memory://focal-test/t/part-00002.npy")
        assert one["focal"] == summary(shards / "p" / "part-00002.npy",
                                       shards / "t" / "part-00002.npy")["focal"]
        r = focal("score", "memory://focal-test/p/nothing-*.npy")
        assert r.code == ExitStatus.BAD_INPUT and "matches no prediction files" in r.err
    finally:
        fs.rm("/focal-test", recursive=True)


def test_mismatched_and_bad_shards(shards):
    z = np.load(shards / "p" / "part-00002.npy")
    z[7, 3] = np.nan
    np.save(shards / "p" / "part-00002.npy", z)
    r = focal("score", shards / "p", shards / "t")
    assert r.code == ExitStatus.BAD_INPUT
    assert "p/part-00002.npy, row 8 (index 7)" in r.err and r.err.count("\n") == 1
    t1 = shards / "t" / "part-00001.npy"
    np.save(t1, np.load(t1)[:-1])
    r = focal("score", shards / "p", shards / "t")
    assert r.code == ExitStatus.BAD_INPUT
    assert "t/part-00001.npy" in r.err and "p/part-00001.npy" in r.err
    (shards / "t" / "part-00003.npy").unlink()
    r = focal("score", shards / "p", shards / "t")
    assert r.code == ExitStatus.BAD_INPUT and "4 prediction shards but 3 target shards" in r.err


def test_compare_pairs_shards_by_their_place(shards, tmp_path):
    """A candidate in shards against a baseline in shards (or in one file):
    rows are paired by their place overall, and the worse rows name the
    candidate's shard."""
    z, t = np.load(DIGITS[0]), np.load(DIGITS[1])
    (tmp_path / "c").mkdir()
    for i, part in enumerate(np.array_split(z * 0.7, 4)):  # a less confident candidate
        np.save(tmp_path / "c" / f"part-{i:05d}.npy", part)
    np.save(tmp_path / "c.npy", z * 0.7)
    args = ["--top", "3", "--format", "json"]
    sharded = focal("compare", shards / "p", tmp_path / "c", shards / "t", *args).json()
    single = focal("compare", DIGITS[0], tmp_path / "c.npy", DIGITS[1], *args).json()
    assert sharded["delta"]["focal"] == pytest.approx(single["delta"]["focal"], rel=1e-12)
    assert sharded["interval"]["low"] == pytest.approx(single["interval"]["low"], rel=1e-9)
    sizes = [len(a) for a in np.array_split(t, 4)]
    starts = np.cumsum([0] + sizes)
    for got, want in zip(sharded["worse"], single["worse"]):
        shard = int(np.searchsorted(starts, want["index"], side="right")) - 1
        assert (got["shard"], got["index"]) == (f"part-{shard:05d}.npy",
                                                want["index"] - starts[shard])
        assert got["delta"] == pytest.approx(want["delta"], rel=1e-12)


def test_what_takes_one_file_says_so(shards, tmp_path):
    r = focal("score", shards / "p", shards / "t", "--grad", tmp_path / "g.npy")
    assert r.code == ExitStatus.BAD_INPUT and "--map/--grad" in r.err
    r = focal("score", f"{shards}/p/*.npy", DIGITS[1])
    assert r.code == ExitStatus.BAD_INPUT and "TARGETS" in r.err


def test_a_parquet_dataset_is_one_input(tmp_path):
    """A hive-partitioned Parquet dataset (pyarrow's write_to_dataset) is read
    as its files: the same examples as one file."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    z, t = np.load(DIGITS[0]), np.load(DIGITS[1])
    columns = {f"c{j}": z[:, j] for j in range(z.shape[1])}
    columns.update(target=t, split=np.where(np.arange(len(t)) % 3 == 0, "val", "test"))
    pq.write_to_dataset(pa.table(columns), tmp_path / "ds", partition_cols=["split"])
    doc = summary(tmp_path / "ds")
    single = summary(*DIGITS)
    assert doc["n"] == single["n"] and doc["shards"] >= 2
    assert doc["focal"] == pytest.approx(single["focal"], rel=1e-13)


def test_without_the_dask_extra(shards, monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    r = focal("score", shards / "p", shards / "t", "--workers", "2")
    assert r.code == ExitStatus.BAD_INPUT and "pip install 'focalcli[dask]'" in r.err


def test_weights_file_is_for_one_input(shards, tmp_path):
    np.save(tmp_path / "w.npy", np.ones(579))
    r = focal("score", shards / "p", shards / "t", "--weights", tmp_path / "w.npy")
    assert r.code == ExitStatus.BAD_INPUT and r.err.startswith("Error: --weights:")
    assert summary(shards / "p", shards / "t", "--weights", "2")["focal"] == \
        pytest.approx(summary(shards / "p", shards / "t")["focal"], rel=1e-15)
