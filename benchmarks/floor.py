"""`make bench-floor`: `focal score` against the machine's floor, a numpy
process that memory-maps the same files and reads every value once (a
float64 sum in pieces of 64k rows), measured in the same run, interleaved,
whole processes, medians and ratios, with peak memory. Nothing here asserts
a time: it prints.

    python benchmarks/floor.py [--rounds 5] [--only NAME] [--baseline DIR]

--baseline DIR adds a column: the same command run from another checkout's
focalcli (a `git worktree` of an older commit), interleaved with the rest.

Inputs (made into bench-data/ on the first run): 1M x 80 float32 rows with
class targets (default options, and --bins 0), 2,048 x 128,256 float32
language-model logits (1 GB), 16 x 21 x 512 x 512 float32 segmentation maps
with uint8 masks (--ignore-index 255)."""
import argparse
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import data  # noqa: E402
from bench import ENV  # noqa: E402
from formats import FOCAL, process  # noqa: E402

# Both files memory-mapped and every value read once, in pieces of about 64k
# rows of 80 float32 (20 MB): what any scorer must at least do.
FLOOR = """
import sys, numpy as np
total = 0.0
for path in sys.argv[1:]:
    a = np.load(path, mmap_mode="r")
    flat = a.reshape(len(a), -1)
    step = max(1, (1 << 22) // flat.shape[1])
    for lo in range(0, len(flat), step):
        total += flat[lo:lo + step].sum(dtype=np.float64)
print(total)
"""

def cases():
    z, t = data.npy("z1m", 1_000_000)
    zv, tv = data.vocab("lm2k", 2048, 128256)
    zs, ts = data.seg("seg16", 16, 21, 512, 512)
    return {
        "1M x 80 float32, default options": ([z, t], []),
        "1M x 80 float32, --bins 0": ([z, t], ["--bins", "0"]),
        "2,048 x 128,256 float32 (1 GB)": ([zv, tv], []),
        "16 x 21 x 512 x 512 float32 maps, --ignore-index 255": (
            [zs, ts], ["--ignore-index", "255"]),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", help="run the cases whose name contains this")
    parser.add_argument("--baseline", help="another checkout whose focalcli to time beside")
    args = parser.parse_args()
    chosen = {k: v for k, v in cases().items() if not args.only or args.only in k}
    python = os.path.join(os.path.dirname(FOCAL), "python")
    focal_t = {k: [] for k in chosen}
    floor_t = {k: [] for k in chosen}
    base_t = {k: [] for k in chosen}
    peak = {k: 0.0 for k in chosen}
    base_peak = {k: 0.0 for k in chosen}
    # PYTHONSAFEPATH: `python -m` would put the working directory (this
    # checkout) first on sys.path, ahead of the baseline's
    base_env = dict(ENV, PYTHONPATH=os.path.abspath(args.baseline or "."), PYTHONSAFEPATH="1")
    for _ in range(args.rounds):
        for name, (files, options) in chosen.items():
            command = ["score", *files, *options, "--format", "json"]
            wall, rss = process([FOCAL, *command], ENV)  # ENV: Python may cache bytecode
            focal_t[name].append(wall)
            peak[name] = max(peak[name], rss)
            floor_t[name].append(process([python, "-c", FLOOR, *files], ENV)[0])
            if args.baseline:
                wall, rss = process([python, "-m", "focalcli", *command], base_env)
                base_t[name].append(wall)
                base_peak[name] = max(base_peak[name], rss)
    extra = f" {'baseline':>9} {'ratio':>6} {'peak MB':>8}" if args.baseline else ""
    print(f"{'input':54} {'focal':>8} {'floor':>8} {'ratio':>6} {'peak MB':>8}{extra}"
          f"   ({args.rounds} rounds, interleaved, medians)")
    for name in chosen:
        f, r = statistics.median(focal_t[name]), statistics.median(floor_t[name])
        line = f"{name:54} {f:7.3f}s {r:7.3f}s {f / r:6.2f} {peak[name]:8.0f}"
        if args.baseline:
            b = statistics.median(base_t[name])
            line += f" {b:8.3f}s {b / r:6.2f} {base_peak[name]:8.0f}"
        print(line)


if __name__ == "__main__":
    main()
