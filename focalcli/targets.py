"""Targets as the user wrote them (indices, names, 0/1 matrices) to what the
core needs, with every bad value reported at its place."""
from __future__ import annotations

import math

import numpy as np

from .errors import InputError

BACKGROUND = "background"


class Where:
    """Turns a position inside a batch into an error location: a line of a
    text file, a row of a table, or an example's position in a dense array
    (in its own mask file when there is one per example)."""

    def __init__(self, name: str, start: int, lines=None, dense=None, names=None):
        self.name, self.start, self.lines = name, start, lines
        self.dense, self.names = dense, names

    def error(self, message: str, i: int, column=None) -> InputError:
        if self.dense is not None:
            row = self.start + i
            if self.names is not None:
                example, position = divmod(row, self.dense.positions)
                pixel = tuple(int(v) for v in np.unravel_index(position, self.dense.spatial))
                return InputError(message, self.names[example], place=f"pixel {pixel}",
                                  column=column)
            return InputError(message, self.name, place=self.dense.place(row), column=column)
        return InputError(message, self.name, column=column,
                          **InputError.row_of(i, self.start, self.lines))


def to_indices(raw: np.ndarray, names: dict[str, int], where: Where) -> np.ndarray:
    """Class indices from ints, integral floats, names or numeric strings."""
    kind = raw.dtype.kind
    if kind == "b":
        return raw.astype(np.int64)
    if kind == "S":  # bytes saved by numpy: names in ASCII
        raw = np.char.decode(raw, "utf-8", "replace")
    if kind == "u" and raw.dtype.itemsize == 8:
        big = np.flatnonzero(raw > _INDEX_MAX)
        if big.size:
            raise where.error(_too_large(raw[int(big[0])]), int(big[0]))
    if kind in "iu":
        return raw.astype(np.int64, copy=False)
    if kind == "f":
        with np.errstate(invalid="ignore"):
            bad = np.flatnonzero(~np.isfinite(raw) | (raw != np.floor(raw))
                                 | (np.abs(raw) > _INDEX_MAX))
        if bad.size:
            i = int(bad[0])
            v = float(raw[i])
            raise where.error(_too_large(v) if np.isfinite(v) and v == int(v)
                              else _not_whole(v), i)
        return raw.astype(np.int64)
    cache: dict = {}
    out = np.empty(raw.shape[0], np.int64)
    for i, v in enumerate(raw):
        try:
            out[i] = cache[v]
        except (KeyError, TypeError):
            out[i] = cache[v] = _one_index(v, names, where, i)
    return out


_INDEX_MAX = 2 ** 62  # far beyond any class count, and exact in int64 and float64


def _too_large(v) -> str:
    text = repr(v) if not isinstance(v, int) or abs(v) < 10 ** 20 else f"{str(v)[:20]}..."
    return f"target {text} is too large to be a class index"


def _not_whole(v: float) -> str:
    return "missing target" if v != v else f"target {v!r} is not a whole class index"


def _one_index(v, names, where: Where, i: int) -> int:
    if isinstance(v, bool) or v is None:
        raise where.error(f"target {v!r} is not a class", i)
    if isinstance(v, (int, np.integer)):
        return _index(int(v), where, i)
    if isinstance(v, (float, np.floating)):
        if math.isfinite(v) and v == int(v):
            return _index(int(v), where, i)
        raise where.error(_not_whole(float(v)), i)
    text = str(v).strip()
    if text in names:
        return names[text]
    try:
        return _index(int(text), where, i)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        raise where.error(f"unknown class name {text[:40]!r}", i) from None
    if math.isfinite(number) and number == int(number):
        return _index(int(number), where, i)
    raise where.error(f"target {text!r} is not a whole class index", i)


def _index(v: int, where: Where, i: int) -> int:
    if abs(v) > _INDEX_MAX:
        raise where.error(_too_large(v), i)
    return v


def _column(raw: np.ndarray) -> np.ndarray:
    """An ``(n, 1)`` column of targets (a one-column array saved as 2-D) is a list."""
    return raw[:, 0] if raw.ndim == 2 and raw.shape[1] == 1 else raw


def softmax_targets(raw, names, k: int, ignore_index, where: Where):
    """(indices with ignored rows set to 0, mask of scored rows)."""
    raw = _column(raw)
    if raw.ndim != 1:
        raise where.error(f"softmax targets must be one class per example, got shape "
                          f"{raw.shape}; a 0/1 matrix needs --mode sigmoid", 0)
    t = to_indices(raw, names, where)
    keep = np.ones(t.shape, bool) if ignore_index is None else t != ignore_index
    # read unsigned, a negative index is beyond every class: one comparison for both ends
    outside = t.view(np.uint64) >= k
    outside &= keep
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        if t[i] < 0:
            raise where.error(f"negative target {t[i]} (use --ignore-index {t[i]} to "
                              f"leave such rows out)", i)
        raise where.error(f"target {t[i]} is out of range for {k} classes", i)
    if ignore_index is not None:
        return np.where(keep, t, 0), keep
    # the caller's own array (int64 targets) is never handed on to be written in
    return (t.copy() if np.may_share_memory(t, raw) else t), keep


#: soft target rows must sum to 1 within this
SOFT_SUM_TOLERANCE = 1e-6


def is_soft_matrix(raw, k: int) -> bool:
    """Softmax TARGETS of one column per class are distributions (soft
    labels): a class index per row is the only other softmax form."""
    return raw is not None and np.ndim(raw) == 2 and raw.shape[1] == k and k > 1


def class_name(names: dict, j: int) -> str:
    """A target column by its class name, as a bad score is named."""
    return next((c for c, index in names.items() if index == j), str(j))


def soft_targets(raw, names, k: int, ignore_index, where: Where, smoothing: float = 0.0):
    """(most likely class per row, mask of scored rows, ``(n, K)`` target
    distributions): an ``(n, K)`` matrix of probabilities as it is, or class
    indices one-hot; then label smoothing, ``(1 - eps) y + eps / K`` (as
    Keras and PyTorch apply it)."""
    if is_soft_matrix(raw, k):
        y = np.asarray(raw, dtype=np.float64)
        bad = np.argwhere(~((y >= 0) & (y <= 1)))
        if bad.size:
            i, j = (int(v) for v in bad[0])
            raise where.error(f"soft target {float(y[i, j])!r} is not a probability in "
                              "[0, 1]", i, column=class_name(names, j))
        off = np.flatnonzero(np.abs(y.sum(axis=1) - 1.0) > SOFT_SUM_TOLERANCE)
        if off.size:
            i = int(off[0])
            raise where.error(f"soft targets sum to {float(y[i].sum())!r}, not 1 (within "
                              f"{SOFT_SUM_TOLERANCE:g})", i)
        keep = np.ones(len(y), bool)
    else:
        t, keep = softmax_targets(raw, names, k, ignore_index, where)
        y = np.zeros((len(t), k))
        y[np.arange(len(t)), t] = 1.0
    if smoothing:
        y = (1.0 - smoothing) * y + smoothing / k
    return y.argmax(axis=1), keep, y


def sigmoid_targets(raw, names, k: int, ignore_index, where: Where):
    """(labels, mask of scored elements), both ``(n, k)`` booleans.

    A 0/1 matrix is taken as it is (ignore_index marks single elements); a 0/1
    vector with one score per example is binary; otherwise a vector of class
    indices is one-hot encoded, index ``k`` (or the name 'background') meaning
    no positive class."""
    if k == 1 or (raw.ndim == 2 and raw.shape[1] == 1 and k != 1):
        raw = _column(raw)
    if raw.ndim == 2:
        if raw.shape[1] != k:
            raise where.error(f"target matrix has {raw.shape[1]} columns for {k} classes", 0)
        values = raw.astype(np.float64)
        valid = np.ones(values.shape, bool) if ignore_index is None else values != ignore_index
        bad = np.argwhere(valid & (values != 0) & (values != 1))
        if bad.size:
            i, j = (int(x) for x in bad[0])
            raise where.error(f"target {float(values[i, j])!r} is not 0 or 1", i, column=j)
        return values == 1, valid
    if k == 1:
        t = to_indices(raw, {}, where)
        valid = np.ones(t.shape, bool) if ignore_index is None else t != ignore_index
        bad = np.flatnonzero(valid & (t != 0) & (t != 1))
        if bad.size:
            i = int(bad[0])
            raise where.error(f"binary target {t[i]} is not 0 or 1", i)
        return (t == 1)[:, None], valid[:, None]
    if BACKGROUND not in names:  # a class of that name is that class
        names = {**names, BACKGROUND: k}
    t = to_indices(raw, names, where)
    keep = np.ones(t.shape, bool) if ignore_index is None else t != ignore_index
    bad = np.flatnonzero(keep & ((t < 0) | (t > k)))
    if bad.size:
        i = int(bad[0])
        raise where.error(f"target {t[i]} is out of range for {k} classes "
                          f"({k} means background)", i)
    labels = np.zeros((t.size, k), bool)
    fg = np.flatnonzero(keep & (t < k))
    labels[fg, t[fg]] = True
    return labels, np.repeat(keep[:, None], k, axis=1)


def sigmoid_soft_targets(raw, names, k: int, ignore_index, where: Where,
                         soft: bool, smoothing: float = 0.0):
    """(positives, mask of scored elements, soft targets ``y`` in [0, 1]),
    all ``(n, k)``. ``soft``: TARGETS are an ``(N, K)`` matrix of values in
    [0, 1] (IoU-aware quality targets, soft labels); else 0/1 targets as
    :func:`sigmoid_targets` reads them. Then label smoothing,
    ``(1 - eps) y + eps / 2`` (Keras' binary form). An element is a positive
    when its given target is above 0, before smoothing (a quality target's
    positive anchor, whatever its IoU)."""
    if soft:
        if raw.ndim == 1 and k == 1:
            raw = raw[:, None]
        if raw.ndim != 2 or raw.shape[1] != k:
            raise where.error(f"--soft-targets in sigmoid mode are a matrix of {k} columns "
                              f"(one per class), got shape {raw.shape[1:]}", 0)
        try:
            y = raw.astype(np.float64)
        except (TypeError, ValueError):
            raise where.error("soft targets must be numbers in [0, 1]", 0) from None
        keep = np.ones(y.shape, bool) if ignore_index is None else y != ignore_index
        bad = np.argwhere(keep & ~((y >= 0) & (y <= 1)))
        if bad.size:
            i, j = (int(x) for x in bad[0])
            raise where.error(f"soft target {float(y[i, j])!r} is not in [0, 1]", i,
                              column=class_name(names, j))
        y = np.where(keep, y, 0.0)
    else:
        labels, keep = sigmoid_targets(raw, names, k, ignore_index, where)
        y = labels.astype(np.float64)
    positive = y > 0
    if smoothing:
        y = y * (1.0 - smoothing) + 0.5 * smoothing
    return positive, keep, y


class GrowingClasses:
    """Classes learned from the targets as they are read (log-probability
    input without --class-names): integer targets are token ids (the class
    count grows to the largest id + 1), strings are tokens (each new one is
    the next class). One kind per input."""

    def __init__(self):
        self.names: list[str] = []
        self.index: dict[str, int] = {}
        self.kind: str | None = None

    def indices(self, raw: np.ndarray, ignore_index, where: Where):
        """(class indices with ignored rows set to 0, mask of scored rows)."""
        raw = np.asarray(raw)
        numeric = raw.dtype.kind in "iub" or (raw.dtype.kind == "f") or (
            raw.dtype.kind == "O" and all(isinstance(v, (int, np.integer)) and
                                          not isinstance(v, bool) for v in raw[:1000]))
        kind = "ids" if numeric else "tokens"
        if self.kind not in (None, kind):
            raise where.error(f"targets mix token ids and token strings (these are {kind})", 0)
        self.kind = kind
        if numeric:
            t = to_indices(raw, {}, where)
            keep = np.ones(t.shape, bool) if ignore_index is None else t != ignore_index
            bad = np.flatnonzero(keep & (t < 0))
            if bad.size:
                i = int(bad[0])
                raise where.error(f"negative token id {t[i]} (use --ignore-index {t[i]} to "
                                  f"leave such tokens out)", i)
            top = int(t[keep].max()) + 1 if keep.any() else 0
            self.names.extend(str(i) for i in range(len(self.names), top))
            return np.where(keep, t, 0), keep
        import pandas as pd
        codes, uniques = pd.factorize(pd.Series(raw, dtype=object).map(str))
        lookup = np.empty(len(uniques), np.int64)
        for j, token in enumerate(uniques):
            if token not in self.index:
                self.index[token] = len(self.names)
                self.names.append(token)
            lookup[j] = self.index[token]
        keep = np.ones(len(raw), bool)
        if ignore_index is not None:
            keep = np.asarray([str(v) != str(ignore_index) for v in uniques])[codes]
        return np.where(keep, lookup[codes], 0), keep


def check_class_names(classes: list[str], name: str, stated_ids: bool = False):
    """Class names must be unique, and a name that is a whole number must be
    its own 0-based position: targets are matched to names first and read as
    indices otherwise, and '2' must not mean one class as a name and another
    as an index (headers of 1-based labels or 1-5 ratings). A ``{name: id}``
    map (``stated_ids``) says each name's id itself: the rule is not for it."""
    seen = set()
    for i, c in enumerate(classes):
        if c in seen:
            raise InputError(f"class name {c!r} appears twice", name)
        seen.add(c)
        if stated_ids:
            continue
        try:
            number = int(c)
        except ValueError:
            continue
        if number != i:
            raise InputError(f"class name {c!r} is a number but not its position {i} "
                             f"(0-based): a target {c} could mean either; rename the "
                             f"classes (e.g. 'c{c}')", name)
