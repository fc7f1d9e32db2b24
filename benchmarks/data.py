"""Generate the benchmark inputs into bench-data/ (kept out of git).

Logits are drawn so that the model is mostly right and confident, with a
tail of hard examples, like a trained classifier: a target logit of
N(4, 2) against N(0, 1.5) for the other classes.
"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "bench-data")
K = 80


def _rows(rng, n, k=K):
    z = rng.normal(0.0, 1.5, size=(n, k)).astype(np.float32)
    t = rng.integers(0, k, n)
    z[np.arange(n), t] += rng.normal(4.0, 2.0, size=n).astype(np.float32)
    return z, t


def _paths(name: str) -> tuple[str, str]:
    """Where an input ``name`` and its targets live (the folder made)."""
    os.makedirs(DATA, exist_ok=True)
    return os.path.join(DATA, f"{name}.npy"), os.path.join(DATA, f"{name}_t.npy")


def npy(name: str, n: int, chunk: int = 500_000) -> tuple[str, str]:
    """``name.npy`` (n x 80 float32) and ``name_t.npy`` (int64), written in chunks."""
    zp, tp = _paths(name)
    if os.path.exists(zp) and os.path.exists(tp):
        return zp, tp
    rng = np.random.default_rng(n)
    z = np.lib.format.open_memmap(zp + ".part", "w+", np.float32, (n, K))
    t = np.lib.format.open_memmap(tp + ".part", "w+", np.int64, (n,))
    for lo in range(0, n, chunk):
        hi = min(lo + chunk, n)
        z[lo:hi], t[lo:hi] = _rows(rng, hi - lo)
    z.flush(), t.flush()
    del z, t
    os.replace(zp + ".part", zp)
    os.replace(tp + ".part", tp)
    return zp, tp


def csv(name: str, n: int) -> str:
    """A CSV with a header of class names and a target column."""
    path = os.path.join(DATA, f"{name}.csv")
    if os.path.exists(path):
        return path
    os.makedirs(DATA, exist_ok=True)
    rng = np.random.default_rng(n + 1)
    z, t = _rows(rng, n)
    with open(path + ".part", "w") as f:
        f.write(",".join(f"c{i}" for i in range(K)) + ",target\n")
        for lo in range(0, n, 10_000):
            block = np.column_stack([z[lo:lo + 10_000].astype(np.float64), t[lo:lo + 10_000]])
            np.savetxt(f, block, fmt=["%.7g"] * K + ["%d"], delimiter=",")
    os.replace(path + ".part", path)
    return path


if __name__ == "__main__":
    for arg in sys.argv[1:] or ["1m"]:
        if arg == "1m":
            print(npy("z1m", 1_000_000))
        elif arg == "big":
            print(npy("z12m", 12_500_000))
        elif arg == "csv":
            print(csv("z200k", 200_000))


def seg(name: str, n: int, c: int, h: int, w: int) -> tuple[str, str]:
    """``name.npy`` (n, c, h, w) float32 segmentation logits, mostly right
    on blobs of classes, and ``name_t.npy`` (n, h, w) uint8 label maps with
    a border of 255 (ignored), as VOC's masks have."""
    zp, tp = _paths(name)
    if os.path.exists(zp) and os.path.exists(tp):
        return zp, tp
    rng = np.random.default_rng(n * c)
    z = np.lib.format.open_memmap(zp + ".part", "w+", np.float32, (n, c, h, w))
    t = np.lib.format.open_memmap(tp + ".part", "w+", np.uint8, (n, h, w))
    yy, xx = np.mgrid[0:h, 0:w]
    for i in range(n):
        centres = rng.integers(0, min(h, w), (c, 2))
        d = np.stack([(yy - cy) ** 2 + (xx - cx) ** 2 for cy, cx in centres])
        label = d.argmin(0).astype(np.uint8)
        logits = rng.normal(0.0, 1.5, size=(c, h, w)).astype(np.float32)
        np.put_along_axis(logits, label[None].astype(np.int64),
                          np.take_along_axis(logits, label[None].astype(np.int64), 0) + 4, 0)
        label[:3], label[-3:], label[:, :3], label[:, -3:] = 255, 255, 255, 255
        z[i], t[i] = logits, label
    z.flush(), t.flush()
    del z, t
    os.replace(zp + ".part", zp)
    os.replace(tp + ".part", tp)
    return zp, tp


def vocab(name: str, n: int, v: int) -> tuple[str, str]:
    """``name.npy``: (n, v) float32 logits over a vocabulary, ``name_t.npy`` targets."""
    zp, tp = _paths(name)
    if os.path.exists(zp) and os.path.exists(tp):
        return zp, tp
    rng = np.random.default_rng(v)
    z = np.lib.format.open_memmap(zp + ".part", "w+", np.float32, (n, v))
    for lo in range(0, n, 64):
        z[lo:lo + 64] = rng.standard_normal((min(64, n - lo), v), dtype=np.float32) * 2
    t = rng.integers(0, v, n)
    z.flush()
    del z
    np.save(tp, t)
    os.replace(zp + ".part", zp)
    return zp, tp


def logprobs(name: str, n: int, v: int = 32000) -> str:
    """``name.parquet``: n tokens' log-probabilities (float32, as vLLM gives
    them) and target token ids (int32), in row groups of 1M."""
    path = os.path.join(DATA, f"{name}.parquet")
    if os.path.exists(path):
        return path
    import pyarrow as pa
    import pyarrow.parquet as pq
    os.makedirs(DATA, exist_ok=True)
    rng = np.random.default_rng(n)
    schema = pa.schema([("logprob", pa.float32()), ("target", pa.int32())])
    with pq.ParquetWriter(path + ".part", schema) as w:
        for lo in range(0, n, 1 << 20):
            m = min(1 << 20, n - lo)
            lp = -rng.exponential(1.5, m).astype(np.float32)
            w.write_table(pa.table({"logprob": lp, "target": rng.integers(0, v, m,
                                                                          dtype=np.int32)}))
    os.replace(path + ".part", path)
    return path
