"""`make bench`: focal against the PyTorch script a user would write and
against the machine's floor, measured in the same run, interleaved, as
medians and ratios. Nothing here asserts a time: it prints.

    python benchmarks/bench.py [--rounds 5] [--big] [--peers .venv-peers/bin/python]

--big adds the 4 GB (12.5M x 80 float32) input: time (median of 3: the
first run may read from disk, the others from the page cache) and peak memory
of `focal score`, and of streaming per-example rows to .csv, .jsonl and .npy.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import data  # noqa: E402

VENV_PY = os.path.join(ROOT, ".venv", "bin", "python")
FOCAL = os.path.join(ROOT, ".venv", "bin", "focal")

TORCH_SCRIPT = """
import sys, numpy as np, torch, torch.nn.functional as F
torch.set_num_threads(2)
z = torch.from_numpy(np.load(sys.argv[1])); t = torch.from_numpy(np.load(sys.argv[2]))
ce = F.cross_entropy(z, t, reduction="none")
pt = torch.exp(-ce)
focal = (1 - pt) ** 2 * ce
print(focal.mean().item(), ce.mean().item())
"""

TORCH_SEG_SCRIPT = """
import sys, numpy as np, torch, torch.nn.functional as F
torch.set_num_threads(2)
z = torch.from_numpy(np.load(sys.argv[1])); t = torch.from_numpy(np.load(sys.argv[2])).long()
ce = F.cross_entropy(z, t, reduction="none", ignore_index=255)
pt = torch.exp(-ce)
focal = (1 - pt) ** 2 * ce
keep = t != 255
print(focal[keep].mean().item(), ce[keep].mean().item())
"""

FLOOR_SCRIPT = """
import sys, numpy as np
from concurrent.futures import ThreadPoolExecutor
z = np.load(sys.argv[1]); t = np.load(sys.argv[2])
half = len(z) // 2
with ThreadPoolExecutor(2) as pool:
    list(pool.map(lambda s: np.exp(z[s]), [slice(0, half), slice(half, None)]))
"""

PANDAS_SCRIPT = "import sys, pandas; pandas.read_csv(sys.argv[1])"


# Time the tool as installed: with bytecode. (Some shells set
# PYTHONDONTWRITEBYTECODE, which makes every run recompile focalcli: ~40 ms.)
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run(cmd) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr.read().decode()}")
    return wall, usage.ru_maxrss / 1024


def interleaved(commands: dict, rounds: int) -> dict:
    """Run each command once per round, in turn, so load on this shared
    machine hits them alike; keep every time and the peak memory."""
    times = {k: [] for k in commands}
    rss = {k: 0.0 for k in commands}
    for _ in range(rounds):
        for name, cmd in commands.items():
            wall, peak = run(cmd)
            times[name].append(wall)
            rss[name] = max(rss[name], peak)
    return {k: {"median_s": statistics.median(v), "runs_s": v, "peak_mb": rss[k]}
            for k, v in times.items()}


def inproc(python, kind, z, t, repeat=7):
    out = subprocess.run([python, os.path.join(HERE, "inproc.py"), kind, z, t, str(repeat)],
                         capture_output=True, text=True, check=True, env=ENV)
    return json.loads(out.stdout)["median_ms"]


def peers_python(explicit):
    candidates = [explicit] if explicit else [os.path.join(ROOT, ".venv-peers", "bin", "python")]
    for py in candidates:
        if py and os.path.exists(py) and subprocess.run(
                [py, "-c", "import torch"], capture_output=True).returncode == 0:
            return py
    return None


class Report:
    def __init__(self):
        self.rows = []

    def add(self, what, focal, reference, ref_name, goal, unit="s"):
        ratio = focal / reference if reference else None
        met = None if goal is None or ratio is None else ratio <= goal
        self.rows.append((what, focal, reference, ref_name, ratio, goal, met, unit))

    def print(self):
        print()
        print(f"{'what':46} {'focal':>10} {'reference':>10}  {'ratio':>6}  {'goal':>6}  met")
        for what, f, r, ref, ratio, goal, met, unit in self.rows:
            fmt = (lambda v: "-" if v is None else f"{v:.3f}{unit}") if unit == "s" else \
                (lambda v: "-" if v is None else f"{v:.0f}{unit}")
            print(f"{what:46} {fmt(f):>10} {fmt(r):>10}  "
                  f"{'-' if ratio is None else f'{ratio:.2f}':>6}  "
                  f"{'-' if goal is None else f'{goal:g}':>6}  "
                  f"{'-' if met is None else ('yes' if met else 'NO')}   ({ref})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--big", action="store_true")
    ap.add_argument("--peers", help="a Python with torch installed")
    args = ap.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {platform.platform()}")
    subprocess.run([VENV_PY, "-m", "compileall", "-q", os.path.join(ROOT, "focalcli")],
                   check=True, env=ENV)
    z, t = data.npy("z1m", 1_000_000)
    csv = data.csv("z200k", 200_000)
    peers = peers_python(args.peers)
    if peers is None:
        print("PyTorch not found (make bench builds .venv-peers): PyTorch rows skipped")
    report = Report()

    score = [FOCAL, "score", z, t, "--format", "json"]
    commands = {"score": score,
                "sweep": [FOCAL, "sweep", z, t, "--gammas", "0:5:0.5",
                          "--alphas", "0.25,0.5,0.75,1", "--format", "json"],
                "score_bare": score + ["--bins", "0"],
                "score_gradient": score + ["--gradient"],
                "floor": [VENV_PY, "-c", FLOOR_SCRIPT, z, t],
                "csv": [FOCAL, "score", csv, "--format", "json"],
                "read_csv": [VENV_PY, "-c", PANDAS_SCRIPT, csv],
                "tiny": [FOCAL, "score", os.path.join(ROOT, "sample_data", "digits.npy"),
                         os.path.join(ROOT, "sample_data", "digits_targets.npy")]}
    if peers:
        commands["torch"] = [peers, "-c", TORCH_SCRIPT, z, t]
    res = interleaved(commands, args.rounds)
    med = {k: v["median_s"] for k, v in res.items()}

    if peers:
        report.add("score 1M x 80 npy vs PyTorch script (process)", med["score"],
                   med["torch"], "PyTorch script", 0.3)
    report.add("score 1M x 80 npy vs floor process", med["score"], med["floor"],
               "load + np.exp, 2 cores", None)
    core = inproc(VENV_PY, "focal", z, t) / 1000
    floor = inproc(VENV_PY, "floor", z, t) / 1000
    if peers:
        torch_core = inproc(peers, "torch", z, t) / 1000
        report.add("core in one process vs PyTorch F.cross_entropy", core, torch_core,
                   "torch, 2 threads", 0.8)
    report.add("core in one process vs floor", core, floor, "np.exp, 2 cores", 1.5)
    report.add("sweep 44 cells vs one score (process)", med["sweep"], med["score"],
               "focal score", 1.2)
    report.add("score (with ECE) vs score --bins 0", med["score"], med["score_bare"],
               "focal score --bins 0", None)
    report.add("score --gradient (gradient view + ECE) vs score --bins 0",
               med["score_gradient"], med["score_bare"], "focal score --bins 0", 1.25)
    report.add("score 200k x 80 CSV vs pandas.read_csv", med["csv"], med["read_csv"],
               "read_csv process", 1.2)
    report.add("score on the tiny sample data", med["tiny"], 0.35, "0.35 s budget", 1.0)

    # dense: 64 x 21 x 512 x 512 float32 (1.4 GB), per-pixel focal loss
    zs, ts = data.seg("seg64", 64, 21, 512, 512)
    seg = {"seg": [FOCAL, "score", zs, ts, "--ignore-index", "255", "--format", "json"]}
    if peers:
        seg["seg_torch"] = [peers, "-c", TORCH_SEG_SCRIPT, zs, ts]
    seg_res = interleaved(seg, 3)
    med.update({k: v["median_s"] for k, v in seg_res.items()})
    if peers:
        report.add("score 64x21x512x512 dense vs PyTorch script", med["seg"],
                   med["seg_torch"], "PyTorch script", 0.5)
    report.add("score 64x21x512x512 dense: peak memory", seg_res["seg"]["peak_mb"], 400,
               "400 MB budget", 1.0, "MB")

    # language models: 2,048 x 128,256 float32 logits (1 GB), and 50M log-probabilities
    zv, tv = data.vocab("lm2k", 2048, 128256)
    lp = data.logprobs("lp50m", 50_000_000)
    lm = {"lm": [FOCAL, "score", zv, tv, "--format", "json"],
          "lp": [FOCAL, "score", lp, "--format", "json"],
          "lp_sweep": [FOCAL, "sweep", lp, "--gammas", "0:5:0.5", "--alphas",
                       "0.25,0.5,0.75,1", "--format", "json"],
          "read_table": [VENV_PY, "-c", "import sys, pyarrow.parquet as pq; "
                                        "pq.read_table(sys.argv[1])", lp]}
    if peers:
        lm["lm_torch"] = [peers, "-c", TORCH_SCRIPT, zv, tv]
    lm_res = interleaved(lm, 3)
    med.update({k: v["median_s"] for k, v in lm_res.items()})
    if peers:
        report.add("score 2048x128256 logits vs PyTorch script", med["lm"], med["lm_torch"],
                   "PyTorch script", 0.5)
    report.add("score 2048x128256 logits: peak memory", lm_res["lm"]["peak_mb"], 400,
               "400 MB budget", 1.0, "MB")
    report.add("score 50M logprobs Parquet vs read_table", med["lp"], med["read_table"],
               "pyarrow read_table", 2.0)
    report.add("sweep 44 cells on 50M logprobs vs one score", med["lp_sweep"], med["lp"],
               "focal score", 1.2)

    if args.big:
        zb, tb = data.npy("z12m", 12_500_000)
        big = interleaved({"big": [FOCAL, "score", zb, tb, "--format", "json"]}, 3)["big"]
        wall, peak = big["median_s"], big["peak_mb"]
        report.add("score 4 GB npy: time vs 13 x the 1M time", wall, 13 * med["score"],
                   "13 x score 1M", 1.0)
        report.add("score 4 GB npy: peak memory", peak, 400, "400 MB budget", 1.0, "MB")
        out_dir = tempfile.mkdtemp(dir=os.path.dirname(zb))
        for ext in ("npy", "csv", "jsonl"):
            out = os.path.join(out_dir, f"rows.{ext}")
            wall, peak = run([FOCAL, "score", zb, tb, "--format", "json", "-o", out])
            os.unlink(out)
            report.add(f"score 4 GB npy -o .{ext}: peak memory ({wall:.0f} s)", peak, 400,
                       "400 MB budget", 1.0, "MB")
        os.rmdir(out_dir)

    report.print()
    print()
    print("medians of", args.rounds, "interleaved runs (s):",
          ", ".join(f"{k} {v:.3f}" for k, v in med.items()))
    print(f"peak memory (MB): score 1M {res['score']['peak_mb']:.0f}"
          + (f", PyTorch script {res['torch']['peak_mb']:.0f}" if peers else ""))


if __name__ == "__main__":
    main()
