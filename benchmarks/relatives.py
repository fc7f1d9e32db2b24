"""`make bench-relatives`: what each relative (--loss) adds to `focal score`
on 1M x 80 float32, whole processes, interleaved, medians and ratios against
the same command without it. Nothing here asserts a time: it prints.

    python benchmarks/relatives.py [--rounds 5]

Softmax rows (focal-tversky and, for scale, poly1) and the same logits as
sigmoid elements with 5% positives (varifocal, quality-focal, asymmetric;
and soft IoU-like targets, whose relatives need p and 1 - p apart)."""
import argparse
import os
import statistics

import numpy as np

from formats import DATA, timed

SOFTMAX = ["wide.npy", "wide_t.npy"]
SIGMOID = ["wide.npy", "multi.npy", "--mode", "sigmoid"]
SOFT = ["wide.npy", "iou.npy", "--mode", "sigmoid", "--soft-targets"]
# name: (the run it is measured against, its arguments)
RUNS = {
    "softmax": ("softmax", SOFTMAX),
    "softmax --loss focal-tversky": ("softmax", SOFTMAX + ["--loss", "focal-tversky"]),
    "softmax --loss poly1": ("softmax", SOFTMAX + ["--loss", "poly1"]),
    "sigmoid": ("sigmoid", SIGMOID),
    "sigmoid --loss varifocal": ("sigmoid", SIGMOID + ["--loss", "varifocal"]),
    "sigmoid --loss quality-focal": ("sigmoid", SIGMOID + ["--loss", "quality-focal"]),
    "sigmoid --loss asymmetric": ("sigmoid", SIGMOID + ["--loss", "asymmetric"]),
    "sigmoid --soft-targets": ("sigmoid", SOFT),
    "sigmoid --soft-targets --loss varifocal": ("sigmoid --soft-targets",
                                                SOFT + ["--loss", "varifocal"]),
}


def make():
    os.makedirs(DATA, exist_ok=True)
    rng = np.random.default_rng(0)
    if not os.path.exists(os.path.join(DATA, "wide.npy")):
        np.save(os.path.join(DATA, "wide.npy"),
                rng.normal(size=(1_000_000, 80)).astype(np.float32))
        np.save(os.path.join(DATA, "wide_t.npy"), rng.integers(0, 80, 1_000_000))
    if not os.path.exists(os.path.join(DATA, "iou.npy")):
        positive = rng.random((1_000_000, 80)) < 0.05
        np.save(os.path.join(DATA, "multi.npy"), positive.astype(np.int8))
        iou = np.where(positive, rng.uniform(0.3, 1.0, positive.shape), 0.0)
        np.save(os.path.join(DATA, "iou.npy"), iou.astype(np.float32))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    make()
    times = {name: [] for name in RUNS}
    for _ in range(rounds):
        for name, (_, args) in RUNS.items():
            times[name].append(timed(["score"] + [os.path.join(DATA, a) if a.endswith(".npy") else a
                                      for a in args])[0])
    medians = {name: statistics.median(t) for name, t in times.items()}
    print(f"{'run':42} {'median s':>9} {'vs base':>8}   ({rounds} rounds, interleaved)")
    for name, (base, _) in RUNS.items():
        print(f"{name:42} {medians[name]:9.3f} {medians[name] / medians[base]:8.2f}")

if __name__ == "__main__":
    main()
