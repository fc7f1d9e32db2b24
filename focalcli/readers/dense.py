"""Dense predictions: ``(N, C, d1, ..., dk)`` arrays (segmentation maps,
volumes, token sequences), with the classes on any axis. Each position is a
scored unit: a batch is a run of one example's positions as rows of its C
scores, a view into the (memory-mapped) array, so the scorer sees the same
``(rows, K)`` batches as for a table and knows each row's example from
``Dense.positions``."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .table import Batch, Table, rows_per_batch



@dataclass
class Dense:
    """The geometry of a dense input."""

    shape: tuple[int, ...]    # the predictions' full shape
    class_axis: int           # normalised: 1 .. ndim-1
    examples: int             # N
    spatial: tuple[int, ...]  # d1, ..., dk: the scored positions of one example
    shift: bool = False       # causal LM: position t is scored against label t + 1

    @property
    def positions(self) -> int:
        return math.prod(self.spatial)

    @property
    def sequences(self) -> bool:
        return len(self.spatial) == 1

    @property
    def target_shape(self) -> tuple[int, ...]:
        """The shape of class-index targets: one label per position (and,
        with shift, the labels of the whole sequence, the first one unused)."""
        return (self.examples, self.spatial[0] + 1) if self.shift else \
            (self.examples, *self.spatial)

    def place(self, row: int) -> str:
        """Where absolute row ``row`` is: its example and its position."""
        example, position = divmod(row, self.positions)
        index = tuple(int(i) for i in np.unravel_index(position, self.spatial))
        where = f"example {example + 1} (index {example}), position " \
                f"{index[0] if self.sequences else index}"
        return where + (f" (its label is at {index[0] + 1})" if self.shift else "")


def geometry(shape: tuple[int, ...], class_axis: int, name: str) -> Dense:
    ndim = len(shape)
    axis = class_axis + ndim if class_axis < 0 else class_axis
    if not 1 <= axis < ndim:
        raise InputError(f"--class-axis {class_axis} is out of range for an array of shape "
                         f"{shape} (the first axis holds the examples)", name)
    spatial = tuple(d for i, d in enumerate(shape) if i not in (0, axis))
    return Dense(tuple(shape), axis, shape[0], spatial)


def example_rows(array: np.ndarray, i: int, axis: int) -> np.ndarray:
    """Example ``i`` of an array whose classes are on ``axis``, as
    ``(positions, C)`` rows (a view where the layout allows one)."""
    part = np.moveaxis(array[i], axis - 1, -1)
    return part.reshape(-1, part.shape[-1])


def dense_table(scores: np.ndarray, name: str, fmt: str, class_axis: int,
                classes=None, release: bool = False, shift: bool = False, convert=None) -> Table:
    """A Table over ``(N, C, d1, ...)`` scores, one example's positions at a
    time; ``convert`` turns each batch's stored values into numbers."""
    dense = geometry(scores.shape, class_axis, name)
    if shift:
        if not dense.sequences:
            raise InputError(f"--shift is for sequences (B, T, V) or (B, V, T); shape "
                             f"{scores.shape} has positions {dense.spatial}", name)
        if dense.spatial[0] < 2:
            raise InputError("--shift needs sequences of at least 2 positions", name)
        dense.spatial, dense.shift = (dense.spatial[0] - 1,), True
    k = scores.shape[dense.class_axis]
    if k == 0 or dense.positions == 0:
        raise InputError(f"has nothing to score (shape {scores.shape})", name)
    def batches():
        converting = convert is not None and not table.raw_batches  # else the scorer does
        step = rows_per_batch(k, scores.itemsize, converting)
        p = dense.positions
        for i in range(dense.examples):
            rows = example_rows(scores, i, dense.class_axis)[:p]  # shift: not the last
            for lo in range(0, p, step):
                part = np.asarray(rows[lo:lo + step])
                yield Batch(i * p + lo, convert(part) if converting else part, None)
    table = Table(name, fmt, batches, k, classes, False, dense.examples * dense.positions)
    table.dense, table.convert, table.dtype = dense, convert, scores.dtype
    if release:  # rows are positions: the examples wholly done
        from .arrays import Releaser
        table.release_rows = Releaser(scores, dense.positions)
    return table
