"""TARGETS given as a file of their own: ``.npy`` (memory-mapped), ``.json``
(one document, loaded whole), ``.csv``/``.tsv``/``.txt`` (parsed once, in
chunks, as the predictions are scored). Each pass over the predictions takes
a :meth:`TargetFile.cursor` and reads the targets in step with the rows."""
from __future__ import annotations

from typing import Callable, Iterator

import numpy as np

from ..errors import InputError
from .arrays import load_npy
from .dense import example_rows
from .delimited import INDEX_NOTE, is_number, split_header
from .jsonfmt import json_error, loads, target_list
from .source import (BATCH_ROWS, TARGET_FORMATS, Source, Spool, count_lines, locate,
                     open_text, read_errors, read_line)
from .table import TARGET_NAMES


class TargetFile:
    """A separate TARGETS input: ``chunks()`` yields its values in order, as
    ``(n,)`` indices/names or ``(n, K)`` 0/1 rows."""

    def __init__(self, name: str, chunks: Callable[[], Iterator[np.ndarray]],
                 classes: list[str] | None = None):
        self.name, self.chunks, self.classes = name, chunks, classes
        self.notes: list[str] = []
        self.order = None  # columns of a 0/1 matrix in the predictions' class order
        self.array: np.ndarray | None = None  # when the targets are one array
        self.example_names: list[str] | None = None  # one file per example (masks)

    def settle(self, table):
        """Fit the targets to the predictions once both are open: dense
        predictions read array targets position by position."""
        if table.dense is not None:
            self.affine = getattr(table, "affine", None)  # NIfTI: the predictions' grid
            self.fit_dense(table.dense)
        elif self.array is not None and self.array.ndim > 2:
            raise InputError(f"targets of shape {self.array.shape} need dense predictions "
                             f"(N, C, d1, ...); {table.name} has rows of scores", self.name)

    def fit_dense(self, dense):
        """``(N, d1, ...)`` class indices, or 0/1 of the predictions' own shape
        (sigmoid, multi-label masks), read in the predictions' position order."""
        arr = self.array
        if arr is None:
            raise InputError(f"dense predictions of shape {dense.shape} need TARGETS as an "
                             f"array (.npy) or PNG masks", self.name)
        if arr.shape == dense.target_shape and dense.shift:
            def chunks():  # the labels from position 1: each position's next token
                for i in range(dense.examples):
                    yield np.asarray(arr[i, 1:])
        elif arr.shape == dense.target_shape:
            flat = arr.reshape(-1)

            def chunks():
                for start in range(0, len(flat), 1 << 20):
                    yield np.asarray(flat[start:start + (1 << 20)])
        elif arr.shape == dense.shape and not dense.shift:
            def chunks():
                for i in range(dense.examples):
                    yield np.asarray(example_rows(arr, i, dense.class_axis))
        else:
            raise InputError(f"targets of shape {arr.shape} do not fit predictions of shape "
                             f"{dense.shape}: expected {dense.target_shape} (class indices) "
                             f"or {dense.shape} (0/1 per class)", self.name)
        self.chunks = chunks

    def align(self, classes: list[str] | None) -> list[str] | None:
        """Match the columns of a 0/1 matrix with a header to the predictions'
        class names, by name; returns the class names in force. Without
        names on the predictions, the header's names are taken."""
        self.order = None
        if self.classes is None:
            return classes
        if classes is None:
            return list(self.classes)
        if sorted(self.classes) != sorted(classes):
            missing = [c for c in classes if c not in self.classes] or \
                [c for c in self.classes if c not in classes]
            raise InputError(f"the header's class names do not match the predictions' "
                             f"(check {missing[0]!r})", self.name)
        position = {c: j for j, c in enumerate(self.classes)}
        order = [position[c] for c in classes]
        self.order = None if order == list(range(len(order))) else np.asarray(order)
        return classes

    def mismatch_hint(self, total: int, rows: int) -> str:
        return ""

    @classmethod
    def of_array(cls, array: np.ndarray, name: str) -> "TargetFile":
        def chunks():
            for start in range(0, len(array), BATCH_ROWS):
                yield np.asarray(array[start:start + BATCH_ROWS])
        target = cls(name, chunks)
        target.array = array
        return target

    def cursor(self) -> "TargetCursor":
        return TargetCursor(self)


class TargetCursor:
    """The targets of one pass, handed out in consecutive runs of rows."""

    def __init__(self, source: TargetFile):
        self.source, self.chunks = source, source.chunks()
        self.buffer: list[np.ndarray] = []
        self.buffered = 0
        self.position = 0  # rows handed out

    def _fill(self, n: int) -> bool:
        while self.buffered < n:
            part = next(self.chunks, None)
            if part is None:
                return False
            if len(part):
                self.buffer.append(part)
                self.buffered += len(part)
        return True

    def take(self, start: int, n: int, pred_name: str) -> np.ndarray:
        assert start == self.position, (start, self.position)
        if not self._fill(n):
            raise InputError(f"has {self.position + self.buffered} targets but {pred_name} "
                             f"has more rows (at least {start + n})", self.source.name)
        joined = self.buffer[0] if len(self.buffer) == 1 else np.concatenate(self.buffer)
        out, rest = joined[:n], joined[n:]
        self.buffer = [rest] if len(rest) else []
        self.buffered = len(rest)
        self.position += n
        order = self.source.order
        return out if order is None or out.ndim != 2 else out[:, order]

    def check_end(self, rows: int, pred_name: str):
        total = self.position + self.buffered + sum(len(p) for p in self.chunks)
        if total != rows:
            raise InputError(f"has {total} targets but {pred_name} has {rows} rows"
                             + self.source.mismatch_hint(total, rows), self.source.name)


def open_targets(path: str, spool: Spool | None = None,
                 fmt: str | None = None) -> TargetFile:
    """TARGETS: ``(N,)`` class indices or names, or an ``(N, K)`` 0/1 matrix."""
    from .nifti import is_volume_source, open_volumes
    if fmt in (None, "nifti") and is_volume_source(path):
        return open_volumes(path)
    if is_mask_source(path, fmt):
        return open_masks(path)
    src = locate(path, spool, fmt, TARGET_FORMATS)
    name = src.name
    with read_errors(src):
        if src.fmt == "npy":
            arr = load_npy(src.real, name, kinds="biufUS")
            if arr.ndim == 0:
                raise InputError("targets must be an array, got a single value", name)
            return TargetFile.of_array(arr, name)
        if src.fmt == "json":
            with open_text(src) as f:
                try:
                    doc = loads(f.read())
                except ValueError as err:
                    raise json_error(err, name) from None
            if isinstance(doc, dict):
                doc = doc.get("targets")
            if not doc:
                raise InputError("expected a non-empty list of targets", name)
            return TargetFile.of_array(target_list(doc, name), name)
        return TextTargets(src)


class TextTargets(TargetFile):
    """One target per line (``.txt``, one-column CSV, or the ``target``/
    ``label`` column of a CSV), or a 0/1 matrix with one column per class.
    An unnamed first column is a row index (pandas, R) and is left out."""

    def __init__(self, src: Source):
        super().__init__(src.name, self._chunks)
        self.src = src
        self.sep = "\t" if src.fmt == "tsv" else ","
        with read_errors(src), open_text(src) as f:
            first = read_line(f, src.name, 1).rstrip("\r\n")
        fields = [c.strip() for c in split_header(first, self.sep, src.name)] \
            if first.strip() else []
        index = len(fields) > 1 and fields[0] == ""
        if index:
            self.notes.append(INDEX_NOTE)
        named = fields[1:] if index else fields
        lower = [h.lower() for h in named]
        column = next((lower.index(t) for t in TARGET_NAMES if t in lower), None)
        self.header = index or (bool(named) and not all(is_number(v) for v in named)
                                and (column is not None or len(named) > 1))
        # else a lone non-number is a class name, not a header
        if self.header and column is None and len(named) == 1:
            column = 0
        self.classes = named if self.header and column is None else None
        offset = 1 if index else 0
        self.usecols = [column + offset] if column is not None else \
            (list(range(offset, len(fields))) if index else None)
        # pandas writes '0' as the header of an unnamed Series; so does a file
        # whose first target is class 0. settle() tells them apart by counting.
        self.maybe_header = not self.header and fields == ["0"]

    def settle(self, table):
        """With the number of prediction rows (when it can be known), decide
        whether a first line '0' is a header: it is when the file has one
        line more."""
        if not self.maybe_header:
            return
        rows = table.n_rows if table.n_rows is not None else \
            (table.count_rows() if table.count_rows else None)
        if rows is None:
            return
        if count_lines(self.src) == rows + 1:
            self.header, self.maybe_header = True, False
            self.notes.append("its first line '0' is taken as a header (pandas writes "
                              "it for an unnamed Series): the file has one line more "
                              "than the predictions have rows")

    def mismatch_hint(self, total: int, rows: int) -> str:
        if self.maybe_header and total == rows + 1:
            return (" (its first line '0' may be a header, as pandas writes for an unnamed "
                    "Series: name it 'target' or remove it)")
        return ""

    def _chunks(self):
        import pandas as pd
        src, name = self.src, self.name
        first_line = 2 if self.header else 1
        options = dict(sep=self.sep, header=None, skiprows=1 if self.header else 0,
                       engine="c", encoding="utf-8-sig", keep_default_na=False,
                       na_values=[""], chunksize=BATCH_ROWS, skip_blank_lines=True,
                       skipinitialspace=True, usecols=self.usecols, low_memory=False)
        width, row = None, 0
        with read_errors(src):
            try:
                reader = pd.read_csv(src.real, compression="gzip" if src.compressed
                                     else None, **options)
                for df in reader:
                    if width is None:
                        width = df.shape[1]
                    if df.shape[1] != width:
                        raise InputError(f"has {df.shape[1]} columns where the first row "
                                         f"has {width}", name, row=first_line + row, line=True)
                    yield _chunk_values(df, name, first_line + row)
                    row += len(df)
            except pd.errors.EmptyDataError:
                pass
            except pd.errors.ParserError as err:
                raise InputError(f"malformed {src.fmt.upper()}: "
                                 f"{str(err).strip().splitlines()[-1]}", name) from None
        if row == 0:
            raise InputError("has no targets", name)


def _chunk_values(df, name: str, first_line: int) -> np.ndarray:
    if df.shape[1] == 1:
        col = df.iloc[:, 0]
        if col.dtype.kind == "O":
            col = col.str.strip()
        return col.to_numpy()
    try:
        return df.to_numpy(dtype=np.float64)
    except ValueError:
        import pandas as pd
        for j in range(df.shape[1]):
            wrong = pd.to_numeric(df.iloc[:, j], errors="coerce").isna().to_numpy()
            if wrong.any():
                i = int(np.flatnonzero(wrong)[0])
                raise InputError(f"{str(df.iloc[i, j])[:40]!r} is not 0 or 1", name,
                                 row=first_line + i, line=True, column=j) from None
        raise


def is_mask_source(path: str, fmt: str | None) -> bool:
    """A .png, a directory, or a glob: label masks as images."""
    import os
    if fmt == "png" or path.lower().endswith(".png"):
        return True
    if path == "-" or fmt is not None:
        return False
    if os.path.isdir(path):
        return any(f.lower().endswith(".png") for f in os.listdir(path))
    return any(c in path for c in "*?[") and path.lower().endswith((".png", "*"))


def open_masks(path: str) -> TargetFile:
    from .images import mask_files, pillow, read_mask
    pillow(path)  # the missing extra is said before anything else
    files = mask_files(path)

    def chunks():
        for f in files:
            yield read_mask(f).reshape(-1)
    target = TargetFile(path, chunks)
    target.example_names = files
    target.fit_dense = lambda dense: _check_masks(target, dense)
    return target


def _check_masks(target: TargetFile, dense):
    from .images import read_mask
    files = target.example_names
    if len(files) != dense.examples:
        raise InputError(f"has {len(files)} masks for {dense.examples} predicted examples",
                         target.name)
    if len(dense.spatial) != 2:
        raise InputError(f"PNG masks are 2-D, predictions have positions of shape "
                         f"{dense.spatial}", target.name)

    def chunks():
        for f in files:
            mask = read_mask(f)
            if mask.shape != dense.spatial:
                raise InputError(f"mask of shape {mask.shape} for predictions of "
                                 f"{dense.spatial}", f)
            yield mask.reshape(-1)
    target.chunks = chunks
