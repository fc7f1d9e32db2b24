"""In-process timings on one array, one measurement kind per call, printed as
JSON (median and all runs, in ms). Called by bench.py with the right Python:
``.venv`` for focal and the numpy floor, ``.venv-peers`` for PyTorch.

    python benchmarks/inproc.py focal|floor|torch LOGITS.npy TARGETS.npy [REPEAT]
"""
import json
import os
import statistics
import sys
import time



def focal_core(z, t):
    """The whole scoring pipeline on an in-memory array: blocks, threads,
    accumulators (what `focal score` does after reading)."""
    from focalcli.readers import array_table
    from focalcli.readers import TargetFile
    from focalcli.scoring import Scorer, Settings
    table = array_table(z, None, "bench", "npy")
    targets = TargetFile.of_array(t, "targets")
    return lambda: Scorer(table, Settings(threads=2), targets).run()


def floor(z, t):
    """The machine's floor: one np.exp over the logits, both cores, each on
    its own cache-sized chunks."""
    from concurrent.futures import ThreadPoolExecutor
    pool = ThreadPoolExecutor(2)
    step = 4096
    bufs = {}

    def chunk(lo):
        import threading
        buf = bufs.setdefault(threading.get_ident(), np.empty((step, z.shape[1]), z.dtype))
        part = z[lo:lo + step]
        np.exp(part, out=buf[:len(part)])

    return lambda: list(pool.map(chunk, range(0, len(z), step)))


def torch_core(z, t):
    """The focal loss a PyTorch user writes, on 2 threads."""
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(2)
    zt, tt = torch.from_numpy(z), torch.from_numpy(t)

    def run():
        ce = F.cross_entropy(zt, tt, reduction="none")
        pt = torch.exp(-ce)
        return ((1 - pt) ** 2 * ce).mean().item()
    return run


KINDS = {"focal": focal_core, "floor": floor, "torch": torch_core}

if __name__ == "__main__":
    kind, zpath, tpath = sys.argv[1:4]
    if kind == "focal":  # as the focal CLI runs: BLAS on one thread, focal's pool on both
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        from focalcli.runtime import keep_freed_memory
        keep_freed_memory()
    repeat = int(sys.argv[4]) if len(sys.argv) > 4 else 7
    import numpy as np
    z = np.load(zpath)
    t = np.load(tpath)
    fn = KINDS[kind](z, t)
    fn()  # warm up: page in, allocate buffers, start threads
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - start) * 1000)
    print(json.dumps({"median_ms": statistics.median(runs), "runs_ms": runs}))
