"""What a reduced loss divides by: the one owner of that fact.

Every reduced figure is a ratio ``sum of the loss / D``. ``D`` is built from
three sums over examples: the *counted* weight of the scored units (1 each,
or their sample and class weights under a weighted mean: see
``Accumulator.unit_counted``), the positive labels (sigmoid), and the
``(example, class)`` cells, ignored ones included (Kornia's N*C). Score,
sweep and explore read ``D`` off an accumulator; compare's bootstrap
resamples examples and rebuilds ``D`` from the same three per-example parts,
so its interval is on the scale of its delta whatever the reduction.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Reduction:
    kind: str = "mean"             # 'mean' or 'sum'
    normalize: str | None = None   # None, 'positives' (RetinaNet) or 'classes' (Kornia)

    def finish(self, counted, positives, cells):
        """``D`` from the summed parts (numbers, or arrays of resamples)."""
        if self.kind == "sum":
            return np.ones_like(np.asarray(counted, dtype=np.float64))
        if self.normalize == "positives":
            # torchvision's RetinaNet head: sum / max(1, foreground), so a batch
            # with no positive is its plain sum rather than a division by zero
            return np.maximum(1.0, positives)
        if self.normalize == "classes":
            return np.asarray(cells, dtype=np.float64)
        return np.asarray(counted, dtype=np.float64)

    def denominator(self, acc) -> float:
        """``D`` of a whole accumulator."""
        positives = float(acc.positives().sum()) if acc.sigmoid else 0.0
        return float(self.finish(float(acc.counted().sum()), positives,
                                 float(acc.examples * acc.n_classes)))

    def class_denominators(self, acc) -> np.ndarray:
        """Per class: a mean over that class's counted units (or 1 for a sum)."""
        counted = acc.by_class(acc.counted())
        return np.ones_like(counted) if self.kind == "sum" else counted

    def describe(self) -> str:
        """In words, for tables and the conventions."""
        if self.kind == "sum":
            return "sum"
        return {"positives": "sum / positives", "classes": "mean over N*K cells"}.get(
            self.normalize, "mean")


def reduction_words(doc: dict) -> str:
    """A document's reduction in words ('mean', 'sum / positives', ...)."""
    return Reduction(doc.get("reduction", "mean"), doc.get("normalize")).describe()


def ratio(num, den):
    """``num / den`` where ``den`` is positive, else None (arrays: NaN)."""
    if np.ndim(den) == 0:
        return float(num) / float(den) if den else None
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
