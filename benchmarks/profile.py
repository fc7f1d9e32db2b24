"""Where `focal score`'s time goes, per 1M rows of the bench input, on one
thread: each step of the softmax core timed alone on cache-sized blocks, then
the whole scorer. Prints; asserts nothing.

    python benchmarks/profile.py        (after `make bench` made bench-data/)
"""
import os
import statistics
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
from focalcli.runtime import keep_freed_memory  # noqa: E402

keep_freed_memory()
import numpy as np  # noqa: E402

import focalcli  # noqa: E402
from focalcli import core, kernels  # noqa: E402
from focalcli.readers import array_table  # noqa: E402
from focalcli.readers import TargetFile  # noqa: E402
from focalcli.scoring import Scorer, Settings  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import data  # noqa: E402

BLOCK = 4096


def per_million(fn, blocks, rows, repeat=15):
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for zb, tb in blocks:
            fn(zb, tb)
        runs.append((time.perf_counter() - start) * 1000 * 1_000_000 / rows)
    return statistics.median(runs)


def numpy_only(fn, *args):
    os.environ["FOCAL_KERNELS"] = "0"
    try:
        return fn(*args)
    finally:
        os.environ["FOCAL_KERNELS"] = "1"


def main():
    zp, tp = data.npy("z1m", 1_000_000)
    z, t = np.load(zp)[:BLOCK * 32].copy(), np.load(tp)[:BLOCK * 32].copy()
    blocks = [(z[i:i + BLOCK], t[i:i + BLOCK]) for i in range(0, len(z), BLOCK)]
    e = np.empty((BLOCK, z.shape[1]), z.dtype)
    at = np.arange(0, BLOCK * z.shape[1], z.shape[1])
    prior, keep = np.zeros(z.shape[1]), np.ones(BLOCK)
    steps = {
        "np.exp (the floor)": lambda zb, tb: np.exp(zb, out=e),
        "finiteness check": lambda zb, tb: core.first_nonfinite(zb),
        "row sums (BLAS)": lambda zb, tb: core.row_sums(zb),
        "target take + put": lambda zb, tb: e.reshape(-1).put(at + tb, zb.reshape(-1)
                                                              .take(at + tb)),
        "row argmax (calibration's top label)": lambda zb, tb: zb.argmax(axis=1),
        "row max (not used: slower)": lambda zb, tb: zb.max(axis=1),
        "kernel: check + top label, one read": kernels.row_top,
        "kernel: the same, with sums and prior": lambda zb, tb: core.softmax_read(
            zb, tb, (prior, keep)),
        "softmax_parts, whole (with the compiled sums)": core.softmax_parts,
        "softmax_parts, numpy's passes": lambda zb, tb: numpy_only(core.softmax_parts, zb, tb),
    }
    print(f"one thread, ms per 1M x {z.shape[1]} float32 rows, blocks of {BLOCK}:")
    for name, fn in steps.items():
        print(f"  {name:38} {per_million(fn, blocks, len(z)):7.1f}")
    scorer("1M x 80 float32", np.load(zp), np.load(tp))
    zp, tp = data.vocab("lm2k", 2048, 128256)
    scorer("2,048 x 128,256 float32", np.load(zp), np.load(tp))
    zp, tp = data.seg("seg16", 16, 21, 512, 512)
    scorer("16 x 21 x 512 x 512 float32 maps, --ignore-index 255", np.load(zp), np.load(tp),
           dense=True)


def scorer(what, z, t, dense=False):
    """The whole scorer on arrays in memory, in ms, with and without the
    compiled passes (a dense map's through the library's in-memory input)."""
    print(f"the whole scorer on {what} (arrays in memory, medians of 7), ms:")
    for threads, bins, kernel in ((1, 15, "1"), (1, 15, "0"), (2, 15, "1"), (2, 15, "0"),
                                  (1, 0, "1"), (2, 0, "1")):
        os.environ["FOCAL_KERNELS"] = kernel

        def run():
            if dense:
                focalcli.score(z, t, ignore_index=255, threads=threads, bins=bins)
                return
            Scorer(array_table(z, None, "z", "npy"), Settings(threads=threads, bins=bins),
                   TargetFile.of_array(t, "t")).run()
        run()
        runs = []
        for _ in range(7):
            start = time.perf_counter()
            run()
            runs.append(time.perf_counter() - start)
        print(f"  {threads} thread(s), --bins {bins:<2}"
              f"{', numpy passes only' if kernel == '0' else '':20}: "
              f"{statistics.median(runs) * 1000:7.1f}")


if __name__ == "__main__":
    main()
