"""Memory stays bounded by bytes, not rows: wide rows (vocabularies),
Fortran-order arrays and wide JSONL. Each runs `focal` in a process of its
own and reads its peak resident memory; the inputs are several times larger
than the bound, so holding them would fail."""
import numpy as np

from conftest import measured
from focalcli.errors import ExitStatus


def _ok(*args):
    code, err, peak = measured(*args, "--format", "json")
    assert code == ExitStatus.OK, err
    return peak


def test_wide_npy_is_scored_in_bounded_memory(tmp_path):
    # 4,096 x 65,536 float32: 1 GB. Batches sized by bytes, pages released behind
    n, k = 4096, 65536
    z = np.lib.format.open_memmap(tmp_path / "z.npy", mode="w+", dtype=np.float32,
                                  shape=(n, k))
    rng = np.random.default_rng(0)
    for lo in range(0, n, 256):
        z[lo:lo + 256] = rng.standard_normal((256, k), dtype=np.float32)
    z.flush()
    del z
    np.save(tmp_path / "t.npy", rng.integers(0, k, n))
    peak = _ok("score", tmp_path / "z.npy", tmp_path / "t.npy")
    assert peak < 400, peak


def test_fortran_order_pages_are_released(tmp_path):
    # 2M x 16 float32 in Fortran order (128 MB): its rows are spread over every
    # column, and used to stay mapped to the end
    rng = np.random.default_rng(1)
    z = rng.standard_normal((2_000_000, 16), dtype=np.float32)
    t = rng.integers(0, 16, len(z))
    np.save(tmp_path / "c.npy", z)
    np.save(tmp_path / "f.npy", np.asfortranarray(z))
    np.save(tmp_path / "t.npy", t)
    c_peak = _ok("score", tmp_path / "c.npy", tmp_path / "t.npy")
    f_peak = _ok("score", tmp_path / "f.npy", tmp_path / "t.npy")
    assert f_peak < c_peak + 64, (c_peak, f_peak)


def test_wide_jsonl_batches_are_bounded_by_bytes(tmp_path):
    # 2,000 lines of 5,000 logits (~60 MB of text, ~500 MB as Python floats)
    logits = ", ".join(["0.123456789"] * 5000)
    with open(tmp_path / "p.jsonl", "w") as f:
        for i in range(2000):
            f.write('{"logits": [%s], "target": %d}\n' % (logits, i % 5000))
    peak = _ok("score", tmp_path / "p.jsonl")
    assert peak < 400, peak


def test_compare_keeps_a_few_numbers_per_example(tmp_path):
    # 6M examples of 2 classes: the baseline's focal and CE sums (float64) and
    # target (int64) are what the pairing needs: 24 bytes an example, ~145 MB
    n = 6_000_000
    rng = np.random.default_rng(0)
    z = rng.standard_normal((n, 2), dtype=np.float32)
    np.save(tmp_path / "a.npy", z)
    np.save(tmp_path / "b.npy", z + np.float32(0.1))
    np.save(tmp_path / "t.npy", rng.integers(0, 2, n).astype(np.int8))
    del z
    alone = _ok("score", tmp_path / "a.npy", tmp_path / "t.npy")
    peak = _ok("compare", tmp_path / "a.npy", tmp_path / "b.npy", tmp_path / "t.npy",
               "--bootstrap", "0", "--top", "0", "--bins", "0")
    assert (peak - alone) * 2 ** 20 / n < 32, (peak, alone)
