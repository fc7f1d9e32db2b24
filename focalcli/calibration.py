"""Calibration of the top label, as mergeable sums: expected and maximum
calibration error over equal-width bins (torchmetrics' rule), adaptive
(equal-mass) ECE, accuracy.

Bins follow torchmetrics' ``_binning_bucketize`` (1.9): edges
``linspace(0, 1, n + 1)`` in float32, and a confidence c, taken in float32
as torchmetrics takes it, in bin i when ``edge[i] <= c < edge[i + 1]``
(``bucketize(c, edges, right=True) - 1``), so a confidence of exactly 1 has
a bin of its own; ECE is ``sum |acc_i - conf_i| * n_i / n`` and MCE the
largest ``|acc_i - conf_i|`` over all bins (an empty bin counts 0, as there).
Adaptive ECE uses bins of equal counts over a 65,536-bin histogram of the confidences (resolution
1.5e-5), so it too merges by addition.
"""
from __future__ import annotations

import numpy as np

from . import kernels

FINE = 1 << 16


class Calibration:
    def __init__(self, n_bins: int = 15):
        self.n_bins = n_bins
        self.edges = np.linspace(0, 1, n_bins + 1, dtype=np.float32)
        self.upper = np.append(self.edges[1:], np.float32(np.inf))  # bin i ends here
        self.sums = np.zeros((3, n_bins + 1))   # count, confidence, correct (+ c = 1)
        # each fine bin's three sums side by side, as the compiled pass writes a unit's:
        # a unit merges in one contiguous add
        self.fine = np.full((FINE, 3), 0.0)  # written now: see kernels.calibration_sums
        self.fine_cells = None  # the fine bins a unit's part holds (indices or a span), or all

    def part(self, confidence: np.ndarray, correct: np.ndarray,
             keep: np.ndarray | None = None) -> "Calibration":
        """The sums of some units (a worker's unit): those ``keep`` marks,
        or all."""
        out = Calibration.__new__(Calibration)
        out.n_bins, out.edges, out.upper = self.n_bins, self.edges, self.upper
        out.fine_cells = None
        kept = confidence.size if keep is None else int(np.count_nonzero(keep))
        if 16 * kept >= FINE:  # the compiled pass where the fine bins are all kept
            done = kernels.calibration_sums(confidence, correct, np.ones(confidence.shape, bool)
                                            if keep is None else keep, self.edges, self.upper,
                                            self.n_bins, FINE)
            if done is not None:
                out.sums, out.fine, (lo, hi) = done
                out.fine_cells = slice(lo, hi)  # the span of fine bins the unit uses
                return out
        if keep is not None:
            confidence, correct = confidence[keep], correct[keep]
        index = self.bin_of(confidence.astype(np.float32))
        fine = (confidence * FINE).astype(np.intp)
        np.minimum(fine, FINE - 1, out=fine)
        out.sums = _sums(index, self.n_bins + 1, confidence, correct)
        # a unit of a few long rows (a 128k vocabulary's) keeps only the fine
        # bins it touches: 65,536 zeros a unit cost more than its rows
        out.fine_cells, size = None, FINE
        if 16 * len(fine) < FINE:
            out.fine_cells, fine = np.unique(fine, return_inverse=True)
            size = len(out.fine_cells)
        out.fine = _sums(fine, size, confidence, correct).T
        return out

    def bin_of(self, c32: np.ndarray) -> np.ndarray:
        """``searchsorted(edges, c32, side="right") - 1`` for confidences in
        [0, 1], at a third of its cost: ``c * n`` in float32 is the bin or
        one beside it, and one comparison with each neighbouring edge settles
        it (checked against searchsorted over every 97th float32 in [0, 1])."""
        n = self.n_bins
        i = (c32 * np.float32(n)).astype(np.intp)
        np.minimum(i, n, out=i)
        i -= c32 < self.edges[i]
        i += c32 >= self.upper[i]
        return i

    def merge(self, other: "Calibration"):
        self.sums += other.sums
        if other.fine_cells is None:
            self.fine += other.fine
        else:
            self.fine[other.fine_cells] += other.fine

    def figures(self) -> dict | None:
        count, conf, right = self.sums
        n = count.sum()
        if not n:
            return None
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_conf = np.nan_to_num(conf / count)
            accuracy = np.nan_to_num(right / count)
        gap = np.abs(accuracy - mean_conf)
        lows = list(self.edges[:-1]) + [1.0]
        highs = list(self.edges[1:]) + [1.0]
        bins = [{"low": float(lo), "high": float(hi), "count": int(c),
                 "confidence": float(mc) if c else None, "accuracy": float(a) if c else None}
                for lo, hi, c, mc, a in zip(lows, highs, count, mean_conf, accuracy)]
        return {"ece": float((gap * count).sum() / n), "mce": float(gap.max()),
                "adaptive_ece": self._adaptive(n), "accuracy": float(right.sum() / n),
                "confidence": float(conf.sum() / n), "n_bins": self.n_bins, "bins": bins}

    def _adaptive(self, n: float) -> float:
        """ECE over n_bins bins holding equal numbers of units."""
        count, conf, right = self.fine.T
        cumulative = np.cumsum(count)
        cuts = np.searchsorted(cumulative, n * np.arange(1, self.n_bins) / self.n_bins)
        total = 0.0
        for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, FINE]):
            c = count[lo:hi].sum()
            if c:
                total += abs(right[lo:hi].sum() - conf[lo:hi].sum())
        return float(total / n)


def _sums(index: np.ndarray, size: int, confidence: np.ndarray, correct: np.ndarray):
    """(count, confidence, correct) per bin: the counts and the correct
    counts from one count of (bin, correct) pairs, the confidences summed."""
    pairs = np.bincount(2 * index + correct, minlength=2 * size)
    out = np.empty((3, size))
    np.add(pairs[0::2], pairs[1::2], out=out[0])
    out[1] = np.bincount(index, confidence, minlength=size)
    out[2] = pairs[1::2]
    return out
