"""How a pass cuts its input: blocks of a power of two rows (sized to a
core's cache and fixed for a given K, so no sum depends on threads or batch
sizes), units of blocks scored together, batches re-cut on block bounds."""
from __future__ import annotations

from typing import Iterator

import numpy as np

from . import kernels
from .errors import InputError
from .readers import Batch

# narrow rows (a segmentation map's 21 classes) take long blocks: each numpy
# call over a block then does enough work to amortise its Python overhead,
# which the threads share under the GIL
MAX_BLOCK_ROWS = 16384
UNIT_BLOCKS = 16  # blocks accumulated together: fewer, larger numpy calls
MAX_UNIT_ROWS = 1 << 16  # what a unit keeps per row (a dozen float64) stays bounded
BLOCK_ELEMENTS = 1 << 19  # ~2 MB of float32: fits a core's cache beside its buffer
UNIT_ELEMENTS = 6 << 20  # a unit's scores: at most 24 MB of float32, however wide the rows
LOGPROB_UNIT = 1 << 18  # tokens per unit when the scores are log-probabilities
UNIT_BYTES_WAITING = 8 << 20  # beyond this a unit's scores: one unit waits, not one a thread


def block_rows_for(k: int) -> int:
    """Rows per block for K classes: a power of two (so blocks tile batches),
    fixed for a given K so results never depend on threads or batch sizes."""
    rows = MAX_BLOCK_ROWS
    while rows > 1 and rows * k > BLOCK_ELEMENTS:
        rows //= 2
    return rows


def unit_blocks_for(block_rows: int, k: int) -> int:
    """Blocks per unit: UNIT_BLOCKS, fewer when rows are so wide (a language
    model's vocabulary) that a unit would pass UNIT_ELEMENTS."""
    blocks = max(1, min(UNIT_BLOCKS, UNIT_ELEMENTS // max(1, block_rows * k),
                        MAX_UNIT_ROWS // block_rows))
    return 1 << (blocks.bit_length() - 1)  # a power of two, as batches are


def block_copy(part: np.ndarray, as_laid: bool, convert=None) -> np.ndarray:
    """The block every pass over it reads (``convert``: stored values to
    numbers, bfloat16 widened in cache). A dense map's block is ``(C,
    positions)`` in memory: with ``as_laid`` the compiled passes read it
    where it lies (they write nothing), and where they do not run it is
    copied so (one run per class, class-major rows for core), not transposed
    element by element (ten times the cost); anything else is one contiguous
    copy. A block that owns its data is the caller's, which
    top_labels.top_label may write in."""
    if convert is not None:
        return convert(part)
    if as_laid and part.ndim == 2 and part.shape[1] > 1 and part.strides[0] == part.itemsize:
        return part if kernels.class_stride(part) else np.array(part, order="F")
    return np.ascontiguousarray(part)


def aligned(batches: Iterator[Batch], block: int) -> Iterator[Batch]:
    """Re-cut batches so each starts on a multiple of ``block`` rows; only the
    rows that complete a block are ever copied."""
    carry: Batch | None = None
    for b in batches:
        if carry is not None:
            need = block - len(carry.scores)
            carry = _concat(carry, _slice(b, 0, min(need, len(b.scores))))
            b = _slice(b, min(need, len(b.scores)), len(b.scores))
            if len(carry.scores) < block:
                continue
            yield carry
            carry = None
        cut = len(b.scores) - (len(b.scores) % block)
        if cut:
            yield _slice(b, 0, cut)
        if cut < len(b.scores):
            carry = _slice(b, cut, len(b.scores))
    if carry is not None:
        yield carry


def _slice(b: Batch, lo: int, hi: int) -> Batch:
    pick = lambda a: None if a is None else a[lo:hi]  # noqa: E731
    return Batch(b.start + lo, b.scores[lo:hi], pick(b.targets), pick(b.ids), pick(b.lines),
                 pick(b.groups), pick(b.weights))


def _concat(a: Batch, b: Batch) -> Batch:
    def join(x, y):
        return None if x is None or y is None else np.concatenate([x, y])
    if a.scores.shape[1:] != b.scores.shape[1:]:
        raise InputError(f"rows have {b.scores.shape[1:]} scores after rows with "
                         f"{a.scores.shape[1:]}")
    return Batch(a.start, np.concatenate([a.scores, b.scores]), join(a.targets, b.targets),
                 join(a.ids, b.ids), join(a.lines, b.lines), join(a.groups, b.groups),
                 join(a.weights, b.weights))
