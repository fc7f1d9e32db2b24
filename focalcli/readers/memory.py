"""Inputs the Python API is handed in memory: numpy arrays, pandas
DataFrames and Series, and anything with ``__array__`` (a CPU torch tensor).
They become the same :class:`Table` and :class:`TargetFile` the file readers
make, so every check and every number is the files' own."""
from __future__ import annotations

import os

import numpy as np

from ..errors import InputError
from .arrays import array_table, check_dtype
from .dense import dense_table
from .source import BATCH_ROWS
from .table import Layout, Table, frame_batch, logprob_layout, split_columns
from .target_files import TargetFile


def in_memory(value) -> bool:
    """Not a path (nor ``-``): an array, a frame, a tensor, a list."""
    return value is not None and not isinstance(value, (str, bytes, os.PathLike))


def _frame_module(value):
    module = type(value).__module__.split(".")[0]
    return module if module == "pandas" else None


def _array(value, name: str, kinds: str = "biuf") -> np.ndarray:
    try:
        arr = np.asarray(value)
    except Exception as err:  # a tensor on a GPU, a ragged list, ...
        raise InputError(f"cannot be read as an array ({type(err).__name__}: {err})",
                         name) from None
    check_dtype(arr.dtype, name, kinds)
    return arr


def predictions_table(value, layout: Layout, name: str) -> Table:
    """A Table over predictions held in memory."""
    if _frame_module(value) and hasattr(value, "columns"):
        return _frame_table(value, layout, name)
    arr = _array(value, name)
    if arr.ndim >= 3:
        return dense_table(arr, name, "array", layout.class_axis, shift=layout.shift)
    return array_table(arr, None, name, "array")


def _frame_table(df, layout: Layout, name: str) -> Table:
    columns = [str(c) for c in df.columns]
    if len(set(columns)) != len(columns):
        dup = next(c for c in columns if columns.count(c) > 1)
        raise InputError(f"column {dup!r} appears twice", name)
    df = df.set_axis(columns, axis=1)
    target, ident, scores = split_columns(columns, layout, name)
    logprobs, group = logprob_layout(columns, scores, layout)
    named = not all(c == str(i) for i, c in enumerate(scores))  # a RangeIndex is no names

    def batches():
        for start in range(0, len(df), BATCH_ROWS):
            yield frame_batch(df.iloc[start:start + BATCH_ROWS], start, target, ident, scores,
                              name, None, group, layout.weight_col)
    table = Table(name, "dataframe", batches, len(scores),
                  scores if named and not logprobs else None, target is not None, len(df))
    table.logprobs, table.group_col = logprobs, group
    return table


def targets_file(value, name: str) -> TargetFile:
    """TARGETS held in memory: class indices or names, (N, K) 0/1 rows or
    distributions, dense label maps; a DataFrame's columns name its classes."""
    classes = None
    if _frame_module(value) and hasattr(value, "columns"):
        classes = [str(c) for c in value.columns]
        if all(c == str(i) for i, c in enumerate(classes)):
            classes = None
    arr = _array(value, name, kinds="biufUSO")
    if arr.dtype.kind == "O":
        if not all(isinstance(v, str) for v in arr.reshape(-1)):
            raise InputError("targets must be class indices or class names", name)
        arr = arr.astype(str)
    if arr.ndim == 0:
        raise InputError("targets must be an array, got a single value", name)
    target = TargetFile.of_array(arr, name)
    target.classes = classes
    return target
