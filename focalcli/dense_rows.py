"""Per-example rows of dense inputs: the positions of one example (an image,
a volume, a sequence) fold into one row, as the positions arrive in order,
unit after unit. An example is emitted once its last position is in.
Tokens given as log-probabilities fold the same way, by their sequence."""
from __future__ import annotations

from typing import Callable

import numpy as np


class ExampleRows:
    """Folds position rows (``index``, ``ce``, ``focal`` per position, NaN
    where ignored, and the focal loss per class) into example rows: index,
    id, positions (scored), ignored, ce and focal (means over the scored
    positions) and worst_class (the class holding most of its focal loss)."""

    def __init__(self, positions: int, classes: list[str], names: list[str] | None,
                 emit: Callable[[dict], None], unit: str = "positions"):
        self.p, self.classes, self.names, self.emit = positions, classes, names, emit
        self.unit = unit  # the column of scored units: positions, or tokens of sequences
        self.k = len(classes)
        self.open: dict[int, list] = {}  # example -> [scored, ignored, ce, focal, per class]

    def add(self, index: np.ndarray, ce: np.ndarray, focal: np.ndarray,
            class_focal: np.ndarray, sums: dict | None = None):
        """``class_focal``: ``(n, K)`` focal loss of each position's classes,
        or ``(n,)`` class indices whose focal loss is ``focal`` (softmax).
        ``sums``: more per-position columns, each summed into its example's
        row (what a position adds to a reduction, for compare); the row then
        carries ``ce_sum`` and ``focal_sum`` too, unless given."""
        example = index // self.p
        scored = ~np.isnan(focal)
        cut = np.flatnonzero(np.diff(example)) + 1
        for lo, hi in zip(np.r_[0, cut], np.r_[cut, len(example)]):
            e = int(example[lo])
            entry = self.open.setdefault(e, [0, 0, 0.0, 0.0, np.zeros(self.k), {}])
            s = scored[lo:hi]
            entry[0] += int(s.sum())
            entry[1] += int((~s).sum())
            entry[2] += float(ce[lo:hi][s].sum())
            entry[3] += float(focal[lo:hi][s].sum())
            for name, values in (sums or {}).items():
                entry[5][name] = entry[5].get(name, 0.0) + float(np.nansum(values[lo:hi]))
            if class_focal.ndim == 1:
                entry[4] += np.bincount(class_focal[lo:hi][s], focal[lo:hi][s],
                                        minlength=self.k)
            else:
                entry[4] += np.nansum(class_focal[lo:hi], axis=0)
        last = int(example[-1]) if len(example) else -1
        complete = [e for e in self.open if e < last or
                    (e == last and index[-1] % self.p == self.p - 1)]
        self._flush(sorted(complete))

    def close(self):
        self._flush(sorted(self.open))

    def _flush(self, done: list[int]):
        if not done:
            return
        rows = [self.open.pop(e) for e in done]
        scored = np.array([r[0] for r in rows])
        with np.errstate(invalid="ignore", divide="ignore"):
            ce = np.array([r[2] for r in rows]) / scored
            focal = np.array([r[3] for r in rows]) / scored
        worst = [self.classes[int(np.argmax(r[4]))] if r[0] and r[4].any() else None
                 for r in rows]
        out = {"index": np.asarray(done)}
        if self.names is not None:
            out["id"] = np.asarray([self.names[e] for e in done], dtype=object)
        out.update({self.unit: scored, "ignored": np.array([r[1] for r in rows]),
                    "ce": np.where(scored > 0, ce, np.nan),
                    "focal": np.where(scored > 0, focal, np.nan),
                    "worst_class": np.asarray(worst, dtype=object)})
        if rows[0][5]:
            out.update({"ce_sum": np.array([r[2] for r in rows]),
                        "focal_sum": np.array([r[3] for r in rows])})
            out.update({name: np.array([r[5][name] for r in rows]) for name in rows[0][5]})
        self.emit(out)


class SequenceRows:
    """Tokens of log-probability input folded by their ``sequence`` value:
    one row per sequence (in order of first appearance) with tokens,
    ignored, ce, focal (means over its scored tokens) and worst_class."""

    def __init__(self, classes: list[str], emit: Callable[[dict], None]):
        self.classes, self.emit = classes, emit  # classes may grow as tokens are read
        self.rows: dict = {}
        self.counted = False

    def add(self, sequence: np.ndarray, ce: np.ndarray, focal: np.ndarray,
            labels: np.ndarray, counted: np.ndarray | None = None):
        """``counted``: what each token adds to the reduction's denominator
        (compare), summed per sequence; the rows then carry their sums."""
        import pandas as pd
        codes, uniques = pd.factorize(pd.Series(sequence, dtype=object), sort=False)
        scored = ~np.isnan(focal)
        n = len(uniques)
        self.counted = counted is not None
        sums = [np.bincount(codes, w, minlength=n) for w in
                (scored.astype(float), (~scored).astype(float),
                 np.where(scored, ce, 0.0), np.where(scored, focal, 0.0),
                 np.zeros(len(codes)) if counted is None else counted)]
        entries = [self.rows.setdefault(key, [0, 0, 0.0, 0.0, {}, 0.0]) for key in uniques]
        for j, entry in enumerate(entries):
            for slot in (0, 1, 2, 3, 5):
                entry[slot] += sums[slot if slot < 4 else 4][j]
        # focal loss per (sequence, class), for each sequence's worst class
        width = int(labels.max()) + 1 if len(labels) else 1
        pair = codes[scored].astype(np.int64) * width + labels[scored]
        keys, inverse = np.unique(pair, return_inverse=True)
        totals = np.bincount(inverse, focal[scored])
        for key, total in zip(keys.tolist(), totals.tolist()):
            per_class = entries[key // width][4]
            per_class[key % width] = per_class.get(key % width, 0.0) + total

    def close(self):
        keys = list(self.rows)
        rows = [self.rows.pop(k) for k in keys]
        scored = np.array([r[0] for r in rows], dtype=np.int64)
        with np.errstate(invalid="ignore", divide="ignore"):
            ce = np.array([r[2] for r in rows]) / scored
            focal = np.array([r[3] for r in rows]) / scored
        worst = [self.classes[max(r[4], key=r[4].get)] if r[4] else None for r in rows]
        out = {"index": np.arange(len(keys)),
               "sequence": np.asarray([str(k) for k in keys], dtype=object),
               "tokens": scored, "ignored": np.array([int(r[1]) for r in rows]),
               "ce": np.where(scored > 0, ce, np.nan),
               "focal": np.where(scored > 0, focal, np.nan),
               "worst_class": np.asarray(worst, dtype=object)}
        if self.counted:
            out.update({"ce_sum": np.array([r[2] for r in rows]),
                        "focal_sum": np.array([r[3] for r in rows]),
                        "counted": np.array([r[5] for r in rows])})
        self.emit(out)
