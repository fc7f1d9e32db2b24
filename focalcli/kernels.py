"""The compiled passes (focalcli/_kernels.c with _passes.c, and _sums.c,
built at install where a C compiler is at hand): :func:`row_top` (the
finiteness check and calibration's top label) and :func:`softmax_read`
(the same, with the target's score, the sum of the other exponentials and
the prior's sums for core.softmax_parts, in one read) over a block;
:func:`group_sums` and :func:`calibration_sums` (a unit's accumulator
sums, for summary.py and calibration.py). Where an extension is missing,
``FOCAL_KERNELS=0`` is set, or a block is not float32/float64 rows in
memory or class by class (a dense map's block), they say None and numpy's
passes run instead, which is what the tests hold the extensions to: the
top label and the unit sums bit for bit, the exponentials' sums within the
precision promised (docs/precision.md)."""
from __future__ import annotations

import os
from typing import NamedTuple

import numpy as np

try:
    from . import _kernels
except ImportError:  # built without a compiler: numpy's passes do the work
    _kernels = None
try:
    from . import _sums
except ImportError:
    _sums = None

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _wanted() -> bool:
    return os.environ.get("FOCAL_KERNELS", "1") != "0"


def enabled() -> bool:
    return _kernels is not None and _wanted()


class Top(NamedTuple):
    """What :func:`row_top` finds in a block, per row."""

    zmax: np.ndarray      # the largest score
    gap: np.ndarray       # how far it is above the target's, float64 (exact)
    top: np.ndarray       # whether the target is the first maximum
    bad: tuple | None     # (row, column) of the first NaN or infinite score


class Laid(NamedTuple):
    """A block as the kernels read it: ``memory`` from its first score,
    rows in memory or, ``class_major``, class c's n scores ``stride``
    scores after class c - 1's."""

    memory: np.ndarray
    class_major: bool
    stride: int


def class_stride(z: np.ndarray) -> int | None:
    """The kernels' reading of ``(n, K)`` scores: 0 for rows in memory, the
    distance in scores from one class's run to the next for a block laid
    class by class (a dense map's, in its copy or in the map itself), or
    None when they do not take them."""
    if not (enabled() and z.ndim == 2 and z.dtype in _FLOATS):
        return None
    if z.flags.c_contiguous:
        return 0
    size, step = z.itemsize, z.strides[1]
    if len(z) < 1 or z.strides[0] != size or step % size or step < len(z) * size:
        return None
    return step // size


def laid(z: np.ndarray) -> Laid | None:
    """How the kernels read ``(n, K)`` scores (see :func:`class_stride`)."""
    stride = class_stride(z)
    if stride is None:
        return None
    n, k = z.shape
    if not stride:
        return Laid(z, False, k)
    # one vector from the block's first score to its last: the classes' runs and what lies
    # between them, which the kernel steps over
    span = np.lib.stride_tricks.as_strided(z[:, 0], shape=((k - 1) * stride + n,),
                                           strides=(z.itemsize,), writeable=False)
    return Laid(span, True, stride)


def row_top(z: np.ndarray, targets: np.ndarray) -> Top | None:
    """One read of ``(n, K)`` scores (see :class:`Top`), or None when the
    kernel does not apply (see the module)."""
    block = laid(z)
    if block is None:
        return None
    n, k = z.shape
    zmax, gap, top = np.empty(n, z.dtype), np.empty(n), np.empty(n, np.uint8)
    bad = _kernels.top(block.memory, np.ascontiguousarray(targets, dtype=np.int64), zmax, gap,
                       top, n, k, block.stride, z.dtype == np.float64, block.class_major)
    return Top(zmax, gap, top.view(bool), None if bad < 0 else divmod(bad, k))


class Sums(NamedTuple):
    """What :func:`softmax_sums` finds in a block, per row (float64)."""

    target: np.ndarray  # the target's score
    rest: np.ndarray    # the sum of the other classes' exponentials
    odds: np.ndarray    # rest * exp(-z_t) = (1 - p_t) / p_t; -1: not the direct form's row
    shifted: int        # how many rows are not the direct form's


class Read(NamedTuple):
    """What :func:`softmax_read` finds in one read of a block."""

    top: Top            # the finiteness check and the top label
    sums: Sums | None   # None: a class-major block beyond the exponential's range, or a
    #                     block with a non-finite score (top.bad says where)


def softmax_read(z: np.ndarray, targets: np.ndarray, limits: tuple, prior=None,
                 weights=None, top: bool = True) -> Read | None:
    """One read of ``(n, K)`` rows for core.softmax_parts and the checks:
    the target's score, the sum of the other exponentials and the direct
    form's odds (see :class:`Sums`; ``limits`` are the direct form's least
    rest, largest rest and largest |z_t|), and what :func:`row_top` finds
    (``top``: else only the first non-finite score). With ``prior``
    (float64 ``(K,)``) given, each class's probability is added to it over
    the rows the direct form holds, weighed by ``weights`` (a block with a
    non-finite score may leave garbage there: its caller refuses the block,
    and the unit whose prior it is). None when the kernel does not apply
    (see the module)."""
    block = laid(z)
    if block is None:
        return None
    n, k = z.shape
    zt, rest, odds = np.empty(n), np.empty(n), np.empty(n)
    none = np.empty(0)
    zmax, gap, flag = (np.empty(n, z.dtype), np.empty(n), np.empty(n, np.uint8)) if top else \
        (none, none, none)
    w = none if weights is None else np.ascontiguousarray(weights, dtype=np.float64)
    shifted, bad = _kernels.softmax_sums(
        block.memory, np.ascontiguousarray(targets, dtype=np.int64), zt, rest, odds,
        none if prior is None else prior, w, zmax, gap, flag, n, k, block.stride,
        z.dtype == np.float64, prior is not None, weights is not None, top,
        block.class_major, *limits)
    found = Top(zmax, gap, flag.view(bool), None if bad < 0 else divmod(bad, k))
    if bad >= 0 or shifted < 0:
        return Read(found, None)
    return Read(found, Sums(zt, rest, odds, shifted))


def softmax_sums(z: np.ndarray, targets: np.ndarray, limits: tuple, prior=None,
                 weights=None) -> Sums | None:
    """:func:`softmax_read`'s sums alone: None when the kernel does not
    apply or leaves the block to numpy."""
    read = softmax_read(z, targets, limits, prior, weights, top=False)
    return None if read is None else read.sums


def _f64(a) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64).reshape(-1)


def _flags(a) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=bool).reshape(-1).view(np.uint8)


class GroupSums(NamedTuple):
    """A unit's sums by cell (group * 4 + p_t bucket), as
    summary.Accumulator.partial makes them."""

    count: np.ndarray
    wsum: np.ndarray | None
    ce: np.ndarray
    ce2: np.ndarray
    focal: np.ndarray   # (gammas, cells)
    focal2: np.ndarray
    extra: np.ndarray   # (extras, cells)


def group_sums(group, keep, ce, q, pt, weights, chains, extra: list, size: int,
               edges) -> GroupSums | None:
    """One pass over a unit's elements (any shape, all alike): the count,
    summed weights, CE, CE squared, and for each gamma given as core.chain's
    ``(whole, half)`` the focal loss and its square, and each of ``extra``,
    in ``size`` cells, over the elements ``keep`` marks. None where the
    extension is missing or turned off."""
    if _sums is None or not _wanted():
        return None
    n, gammas = ce.size, len(chains)
    out = GroupSums(np.zeros(size), None if weights is None else np.zeros(size), np.zeros(size),
                    np.zeros(size), np.zeros((gammas, size)), np.zeros((gammas, size)),
                    np.zeros((len(extra), size)))
    none = np.empty(0)
    _sums.group_sums(
        np.ascontiguousarray(group, dtype=np.int64).reshape(-1), _flags(keep), _f64(ce), _f64(q),
        _f64(pt), none if weights is None else _f64(weights),
        np.array([w for w, _ in chains], np.int32), np.array([h for _, h in chains], np.uint8),
        np.stack([_f64(v) for v in extra]) if extra else none, _f64(edges), out.count,
        none if weights is None else out.wsum, out.ce, out.ce2, out.focal, out.focal2, out.extra,
        n, size, gammas, len(extra), True, weights is not None)
    return out


def calibration_sums(confidence, correct, keep, edges, upper, bins: int, fine_bins: int):
    """calibration.Calibration.part's sums over the rows ``keep`` marks:
    ``(3, bins + 1)`` and ``(hi - lo, 3)`` of count, confidence and correct
    count per bin, the fine bins only from ``lo`` to ``hi``, the span the
    rows fall in; ``(sums, fine, (lo, hi))``, or None where the extension is
    missing or turned off."""
    if _sums is None or not _wanted():
        return None
    conf, flags = _f64(confidence), _flags(keep)
    lo, hi = _sums.fine_span(conf, flags, conf.size, fine_bins)
    # written, not calloc's: fresh memory read first maps the zero page, and
    # each page's first write then costs a copy and a TLB shootdown on every core
    sums, fine = np.zeros((3, bins + 1)), np.full((hi - lo, 3), 0.0)
    _sums.calibration(conf, _flags(correct), flags, np.ascontiguousarray(edges, dtype=np.float32),
                      np.ascontiguousarray(upper, dtype=np.float32), sums, fine, conf.size, bins,
                      fine_bins, lo, hi - lo, True)
    return sums, fine, (lo, hi)


def drop_pages(mm, start: int, length: int):
    """``mm.madvise(MADV_DONTNEED, start, length)`` with the GIL released
    where the extension is built (mmap's own holds it while the kernel
    unmaps the pages)."""
    if enabled():
        try:
            return _kernels.drop_pages(mm, start, length)
        except NotImplementedError:
            pass
    import mmap
    mm.madvise(mmap.MADV_DONTNEED, start, length)
