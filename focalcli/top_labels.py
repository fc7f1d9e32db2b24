"""Calibration's top label over a scoring unit. Where the compiled pass ran
(kernels.row_top), each block leaves its rows' maximum, target score and
whether the target is the first maximum, and the confidences are computed
once for the whole unit; elsewhere each block computes its own
(core.top_label): the block loop then holds no per-row arithmetic of its own."""
from __future__ import annotations

from typing import Callable

import numpy as np

from . import core


class TopLabels:
    def __init__(self, n: int, probs: bool):
        self.probs = probs
        self.confidence = np.empty(n)
        self.correct = np.empty(n, bool)
        self.found = np.zeros(n, bool)   # rows the kernel found
        self.zmax = self.zt = None

    def block(self, rows: slice, known, compute: Callable):
        """One block's rows: from ``known`` (kernels.Top), or ``compute()``'s
        ``(confidence, correct)``."""
        if known is None:
            self.confidence[rows], self.correct[rows] = compute()
            return
        if self.zmax is None:
            self.zmax, self.zt = np.empty(len(self.found)), np.empty(len(self.found))
        self.zmax[rows], self.zt[rows], self.correct[rows] = known.zmax, known.target, known.top
        self.found[rows] = True

    def finish(self, ce: np.ndarray):
        """(confidence, correct) of every row of the unit."""
        if self.zmax is not None:
            at = slice(None) if self.found.all() else self.found
            self.confidence[at] = core.top_label_known(ce[at], self.zmax[at], self.zt[at],
                                                       self.probs)
        return self.confidence, self.correct
