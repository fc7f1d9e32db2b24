"""``.npy`` (memory-mapped, streamed, pages released once scored) and
``.npz`` (loaded whole). Never unpickles."""
from __future__ import annotations

import contextlib
import math
import mmap
import os

import numpy as np

from .. import kernels
from ..errors import InputError
from .npyformat import check_dtype, numpy_format_errors
from .source import BATCH_ROWS, Source
from .dense import dense_table
from .table import Batch, Layout, Table, rows_per_batch


def load_npy(path: str, name: str, kinds: str = "biuf") -> np.ndarray:
    """Memory-map a ``.npy`` safely: never unpickles, checks the size.
    ``kinds``: the dtype kinds accepted (targets may also be strings)."""
    with numpy_format_errors(name, ".npy"), open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise InputError(f"unsupported .npy version {version}", name)
        offset = f.tell()
        size = os.fstat(f.fileno()).st_size
    check_dtype(dtype, name, kinds)
    if not all(isinstance(d, int) and d >= 0 for d in shape):
        raise InputError(f"not a valid .npy file (shape {shape})", name)
    count = math.prod(shape)  # Python ints: an absurd shape cannot overflow
    need = offset + count * dtype.itemsize
    if size < need:
        raise InputError(f"truncated .npy: {size} bytes, header promises {need}", name)
    if count == 0:
        return np.zeros(shape, dtype)
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape,
                     order="F" if fortran else "C")


def release_pages(arr: np.ndarray, upto_row: int, from_row: int = 0):
    """Drop mapped pages we are done with, so resident memory stays bounded
    on files larger than RAM (the page cache keeps them if memory allows).
    C order: the rows ``from_row`` .. ``upto_row`` are one range; Fortran
    order: they are a piece of every column. Pages are cut on the same
    boundaries from one call to the next, so a caller that goes on from its
    last ``upto_row`` drops every page once."""
    mm = getattr(arr, "_mmap", None)
    if mm is None or not hasattr(mm, "madvise") or arr.ndim == 0 or upto_row <= from_row:
        return
    start = arr.offset % mmap.ALLOCATIONGRANULARITY
    if arr.ndim == 2 and arr.flags.f_contiguous and not arr.flags.c_contiguous:
        step, ranges = arr.itemsize, [start + j * arr.strides[1] for j in range(arr.shape[1])]
    else:
        step, ranges = arr.strides[0], [start]
    for base in ranges:
        lo, hi = base + from_row * step, base + upto_row * step
        # whole pages only (the first call keeps the header's page)
        first = (lo if from_row else lo + mmap.PAGESIZE - 1) // mmap.PAGESIZE * mmap.PAGESIZE
        end = hi // mmap.PAGESIZE * mmap.PAGESIZE
        if end > first:
            with contextlib.suppress(OSError, ValueError):
                kernels.drop_pages(mm, first, end - first)


class Releaser:
    """A table's ``release_rows``: drops the pages of the rows done since
    its last call (``per``: table rows per array row, a dense map's
    positions per example)."""

    def __init__(self, arr: np.ndarray, per: int = 1):
        self.arr, self.per, self.done = arr, per, 0

    def __call__(self, upto: int):
        upto = upto // self.per
        if upto > self.done:
            release_pages(self.arr, upto, self.done)
            self.done = upto


def array_table(scores: np.ndarray, targets, name: str, fmt: str,
                classes=None, release=False, batch_rows=BATCH_ROWS, convert=None) -> Table:
    """A Table over an (N, K) or (N,) array read in batches; ``convert``
    turns each batch's stored values into numbers (bfloat16 bits)."""
    if scores.ndim not in (1, 2):
        raise InputError(f"expected a 1-D or 2-D array of scores, got {scores.ndim}-D "
                         f"with shape {scores.shape}", name)
    n = scores.shape[0]
    if scores.ndim == 2 and scores.shape[1] == 0:
        raise InputError(f"has no score columns (shape {scores.shape})", name)
    if targets is not None and (np.ndim(targets) == 0 or len(targets) != n):
        if np.ndim(targets) == 0:
            raise InputError(f"has {n} rows of scores but its targets are a single value",
                             name)
        raise InputError(f"has {n} rows of scores but {len(targets)} targets", name)

    width = 1 if scores.ndim == 1 else scores.shape[1]

    def batches():
        converting = convert is not None and not table.raw_batches
        step = rows_per_batch(width, scores.itemsize, converting, batch_rows)
        for start in range(0, n, step):
            stop = min(start + step, n)
            part = np.asarray(scores[start:stop])
            yield Batch(start, convert(part) if converting else part,
                        None if targets is None else np.asarray(targets[start:stop]))
    table = Table(name, fmt, batches, width, classes, targets is not None, n)
    table.dtype, table.convert = scores.dtype, convert
    if release:
        table.release_rows = Releaser(scores)
    return table


def read_npy(src: Source, layout: Layout) -> Table:
    if src.ranged:
        from .remote import RangedArray
        return array_table(RangedArray(src.real, src.name), None, src.name, "npy",
                           batch_rows=src.batch_rows)
    arr = load_npy(src.real, src.name)
    if arr.ndim >= 3:
        return dense_table(arr, src.name, "npy", layout.class_axis, release=True,
                           shift=layout.shift)
    return array_table(arr, None, src.name, "npy", release=True, batch_rows=src.batch_rows)


def read_npz(src: Source, layout: Layout) -> Table:
    name = src.name
    with numpy_format_errors(name, ".npz"), np.load(src.real, allow_pickle=False) as z:
        keys = set(z.files)
        key = "logits" if "logits" in keys else ("scores" if "scores" in keys else None)
        if key is None and "probabilities" not in keys:
            raise InputError(f"has no array 'logits' (found: {', '.join(sorted(keys))})", name)
        if key is None and "probabilities" in keys:
            # nnU-Net's --save_probabilities: one case, (C, *spatial) probabilities
            probs = z["probabilities"]
            check_dtype(probs.dtype, name)
            if probs.ndim < 2:
                raise InputError(f"'probabilities' must be (C, *spatial), got shape "
                                 f"{probs.shape}", name)
            table = dense_table(probs[None], name, "npz", 1)
            table.probs = True
            return table
        scores = z[key]
        targets = z["targets"] if "targets" in keys else None
        classes = [c.decode("utf-8", "replace") if isinstance(c, bytes) else str(c)
                   for c in z["classes"].reshape(-1)] if "classes" in keys else None
    check_dtype(scores.dtype, name)
    if scores.ndim >= 3:
        if targets is not None:
            raise InputError("dense 'logits' with 'targets' in one .npz: give the targets "
                             "as TARGETS", name)
        return dense_table(scores, name, "npz", layout.class_axis, classes,
                           shift=layout.shift)
    return array_table(scores, targets, name, "npz", classes, batch_rows=src.batch_rows)
