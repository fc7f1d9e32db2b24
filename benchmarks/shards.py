"""`make bench` (second part): 64 shards scored in this process, on an
embedded Dask cluster (--workers 2) and on a `dask scheduler` + `dask worker`
pair (--scheduler), on this machine. Prints medians and ratios; asserts
nothing.

    python benchmarks/shards.py [--rounds 3] [--rows 1000000]

The 64 shards of ROWS x 80 float32 are hard links to one file (so 64 x 1M x
80 costs 320 MB of disk, not 20 GB, and every run reads from the page
cache: this measures the engine, not the disk). 64 tiny shards (1,000 rows)
measure the cost of a shard itself: the task overhead.
"""
import argparse
import os
import pickle
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import data  # noqa: E402

BIN = os.path.join(ROOT, ".venv", "bin")
FOCAL = os.path.join(BIN, "focal")
SHARDS = 64


def linked_shards(name: str, rows: int) -> tuple[str, str]:
    """bench-data/NAME/{p,t}/part-XXXXX.npy: SHARDS hard links to one input."""
    z, t = data.npy(f"z{rows}", rows)
    root = os.path.join(data.DATA, name)
    for kind, source in (("p", z), ("t", t)):
        os.makedirs(os.path.join(root, kind), exist_ok=True)
        for i in range(SHARDS):
            link = os.path.join(root, kind, f"part-{i:05d}.npy")
            if not os.path.exists(link):
                os.link(source, link)
    return os.path.join(root, "p"), os.path.join(root, "t")


def timed(cmd) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_cluster():
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs = [subprocess.Popen([os.path.join(BIN, "dask"), "scheduler", "--host", "127.0.0.1",
                               "--port", str(port), "--no-dashboard"], **quiet)]
    time.sleep(2)
    procs.append(subprocess.Popen([os.path.join(BIN, "dask"), "worker", address, "--nworkers",
                                   "2", "--nthreads", "1", "--no-dashboard"], **quiet))
    import distributed
    with distributed.Client(address, timeout=30) as c:
        c.wait_for_workers(2, timeout=60)
    return address, procs


def accumulator_bytes(p: str, t: str) -> int:
    """What travels back from a worker for one shard: its pickled result."""
    sys.path.insert(0, ROOT)
    from focalcli.readers import Layout
    from focalcli.scoring import Settings
    from focalcli.shards import Job, score_shard
    job = Job(0, os.path.join(p, "part-00000.npy"), os.path.join(t, "part-00000.npy"),
              dict(layout=Layout()), Settings())
    return len(pickle.dumps(score_shard(job)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    big = linked_shards(f"shards64x{args.rows}", args.rows)
    tiny = linked_shards("shards64x1000", 1000)
    address, procs = start_cluster()
    try:
        runs = {}
        for label, shards in (("big", big), ("tiny", tiny)):
            base = [FOCAL, "score", *shards, "--format", "json"]
            modes = {"in-process": base, "--workers 2": base + ["--workers", "2"],
                     "--scheduler": base + ["--scheduler", address]}
            for _ in range(args.rounds):  # interleaved: load on the machine hits all alike
                for mode, cmd in modes.items():
                    runs.setdefault((label, mode), []).append(timed(cmd))
        one = [timed([FOCAL, "score", os.path.join(big[0], "part-00000.npy"),
                      os.path.join(big[1], "part-00000.npy"), "--format", "json"])
               for _ in range(args.rounds)]
    finally:
        for p in procs:
            p.terminate()
    med = {k: statistics.median(v) for k, v in runs.items()}
    print(f"{SHARDS} shards of {args.rows:,} x 80 float32 (hard links to one file), "
          f"medians of {args.rounds}:")
    print(f"{'':14}{'time':>10}{'vs in-process':>16}")
    for mode in ("in-process", "--workers 2", "--scheduler"):
        t = med[("big", mode)]
        print(f"{mode:14}{t:>9.2f}s{t / med[('big', 'in-process')]:>15.2f}x")
    print(f"one shard alone: {statistics.median(one):.3f} s (a process: start-up included)")
    print(f"\n{SHARDS} shards of 1,000 x 80: the cost of a shard")
    for mode in ("in-process", "--workers 2", "--scheduler"):
        t = med[("tiny", mode)]
        print(f"{mode:14}{t:>9.2f}s  {1000 * t / SHARDS:>7.1f} ms a shard")
    print(f"\nbytes a worker sends back per shard (pickled result): "
          f"{accumulator_bytes(*big):,}")


if __name__ == "__main__":
    main()
