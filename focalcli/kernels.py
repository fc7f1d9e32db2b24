"""The compiled pass (focalcli/_kernels.c, built at install where a C
compiler is at hand) behind two functions: :func:`row_top` (the finiteness
check and calibration's top label) and :func:`softmax_sums` (the target's
score, the sum of the other exponentials and the prior's sums, for
core.softmax_parts). Where the extension is missing, ``FOCAL_KERNELS=0`` is
set, or a block is not float32/float64 rows in memory or class by class (a
dense map's block), they say None and numpy's passes run instead, which is
what the tests hold the extension to: the top label bit for bit, the sums
within the precision promised (docs/precision.md)."""
from __future__ import annotations

import os
from typing import NamedTuple

import numpy as np

try:
    from . import _kernels
except ImportError:  # built without a compiler: numpy's passes do the work
    _kernels = None

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def enabled() -> bool:
    return _kernels is not None and os.environ.get("FOCAL_KERNELS", "1") != "0"


class Top(NamedTuple):
    """What :func:`row_top` finds in a block, per row."""

    zmax: np.ndarray      # the largest score
    target: np.ndarray    # the target's score
    top: np.ndarray       # whether the target is the first maximum
    bad: tuple | None     # (row, column) of the first NaN or infinite score


def _layout(z: np.ndarray) -> bool | None:
    """Whether ``(n, K)`` scores are class-major (a dense map's block: its
    transpose is C-ordered) or rows in memory (False); None when the kernel
    does not take them."""
    if not (enabled() and z.ndim == 2 and z.dtype in _FLOATS):
        return None
    if z.flags.c_contiguous:
        return False
    return True if z.T.flags.c_contiguous else None


def row_top(z: np.ndarray, targets: np.ndarray) -> Top | None:
    """One read of ``(n, K)`` scores (see :class:`Top`), or None when the
    kernel does not apply (see the module)."""
    class_major = _layout(z)
    if class_major is None:
        return None
    n, k = z.shape
    zmax, target, top = np.empty(n, z.dtype), np.empty(n, z.dtype), np.empty(n, np.uint8)
    bad = _kernels.top(z.T if class_major else z, np.ascontiguousarray(targets, dtype=np.int64),
                       zmax, target, top, n, k, z.dtype == np.float64, class_major)
    return Top(zmax, target, top.view(bool), None if bad < 0 else divmod(bad, k))


def softmax_sums(z: np.ndarray, targets: np.ndarray, limits: tuple, prior=None, weights=None):
    """One read of ``(n, K)`` rows for core.softmax_parts: each row's target
    score and ``rest``, the sum of the other classes' exponentials (float64),
    with ``prior`` (float64 ``(K,)``) given, each class's probability off
    the target added to it over the rows the direct form holds, weighed by
    ``weights``. ``limits``: that form's (least rest, largest rest, largest
    |z_t|). None when the kernel does not apply (see the module)."""
    class_major = _layout(z)
    if class_major is None:
        return None
    n, k = z.shape
    zt, rest = np.empty(n), np.empty(n)
    none = np.empty(0)
    w = none if weights is None else np.ascontiguousarray(weights, dtype=np.float64)
    # a class-major block with a score beyond the exponential's range: numpy's
    done = _kernels.softmax_sums(z.T if class_major else z,
                                 np.ascontiguousarray(targets, dtype=np.int64), zt, rest,
                                 none if prior is None else prior, w, n, k,
                                 z.dtype == np.float64, prior is not None,
                                 weights is not None, class_major, *limits)
    return (zt, rest) if done else None
