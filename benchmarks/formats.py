"""`make bench-formats`: .safetensors against .npy holding the same numbers,
whole `focal score` processes, interleaved, medians and ratios, with each
process's peak resident memory. Nothing here asserts a time: it prints.

    python benchmarks/formats.py [--rounds 5] [--lm-gb 1]

1M x 80 float32 logits (.npy and .safetensors), and a language model's
bfloat16 logits (B, 512, 128,256) of --lm-gb GB against the .npy of their
exact float32 widening (twice the bytes)."""
import argparse
import os
import statistics
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOCAL = os.path.join(ROOT, ".venv", "bin", "focal")
DATA = os.path.join(ROOT, "bench-data", "formats")


# a small launcher: a child forked from this (large) process would count its
# parent's pages in its peak
LAUNCH = ("import resource, subprocess, sys, time\n"
          "t = time.perf_counter()\n"
          "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)\n"
          "print(time.perf_counter() - t, "
          "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)\n")


def process(cmd, env=None) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one process, through the launcher."""
    out = subprocess.run([sys.executable, "-c", LAUNCH, *cmd], capture_output=True,
                         text=True, check=True, env=env).stdout.split()
    return float(out[0]), float(out[1])


def timed(args) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one focal process."""
    return process([FOCAL, *args, "--format", "json"])


def make(lm_gb: float):
    import ml_dtypes
    from safetensors.numpy import save_file
    os.makedirs(DATA, exist_ok=True)
    rng = np.random.default_rng(0)
    if not os.path.exists(os.path.join(DATA, "wide.safetensors")):
        z = rng.normal(size=(1_000_000, 80)).astype(np.float32)
        np.save(os.path.join(DATA, "wide.npy"), z)
        np.save(os.path.join(DATA, "wide_t.npy"), rng.integers(0, 80, len(z)))
        save_file({"logits": z}, os.path.join(DATA, "wide.safetensors"))
    vocab, seq = 128_256, 512
    batch = max(1, int(lm_gb * 2**30 / (2 * vocab * seq)))
    name = f"lm{batch}"
    if not os.path.exists(os.path.join(DATA, f"{name}.safetensors")):
        logits = np.empty((batch, seq, vocab), ml_dtypes.bfloat16)
        for b in range(batch):
            logits[b] = rng.normal(scale=2, size=(seq, vocab)).astype(ml_dtypes.bfloat16)
        save_file({"logits": logits}, os.path.join(DATA, f"{name}.safetensors"))
        np.save(os.path.join(DATA, f"{name}.npy"), logits.astype(np.float32))
        np.save(os.path.join(DATA, f"{name}_t.npy"), rng.integers(0, vocab, (batch, seq)))
        del logits
    return name, batch, seq, vocab


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--lm-gb", type=float, default=1.0)
    a = ap.parse_args()
    name, batch, seq, vocab = make(a.lm_gb)

    def d(f):
        return os.path.join(DATA, f)
    lm = ["--class-axis", "-1"]
    cases = {
        "1M x 80 float32": ([d("wide.npy"), d("wide_t.npy")],
                            [d("wide.safetensors"), d("wide_t.npy")]),
        f"{batch} x {seq} x {vocab:,} bf16 LM": (
            [d(f"{name}.npy"), d(f"{name}_t.npy"), *lm],
            [d(f"{name}.safetensors"), d(f"{name}_t.npy"), *lm]),
    }
    print(f"{'input':<30}{'npy s':>9}{'st s':>9}{'ratio':>8}{'npy MB':>9}{'st MB':>8}")
    for label, (npy, st) in cases.items():
        runs = {"npy": [], "st": []}
        for _ in range(a.rounds):
            runs["npy"].append(timed(["score", *npy]))
            runs["st"].append(timed(["score", *st]))
        med = {k: statistics.median(t for t, _ in v) for k, v in runs.items()}
        mem = {k: max(m for _, m in v) for k, v in runs.items()}
        print(f"{label:<30}{med['npy']:>9.3f}{med['st']:>9.3f}{med['st'] / med['npy']:>8.3f}"
              f"{mem['npy']:>9.0f}{mem['st']:>8.0f}")
    print(f"({a.rounds} rounds, interleaved; {os.cpu_count()} cores; python "
          f"{sys.version.split()[0]}; RSS is each process's peak)")


if __name__ == "__main__":
    main()
