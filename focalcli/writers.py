"""Per-example rows out, streamed, at full precision.

Files are written to a temporary file beside the target and renamed over it
only when complete, so a failure (or a kill) never leaves a partial file: the
path holds the old file or the new one, whole.
"""
from __future__ import annotations

import contextlib
import errno
import io
import json
import math
import os
import stat

import numpy as np

from .errors import InputError, OptionError

OUTPUT_FORMATS = {".csv": "csv", ".tsv": "tsv", ".json": "json", ".jsonl": "jsonl",
                  ".ndjson": "jsonl", ".npy": "npy", ".parquet": "parquet"}
NUMERIC = ("index", "target", "p_t", "ce", "focal")


def output_format(path: str, allowed=OUTPUT_FORMATS) -> str:
    ext = os.path.splitext(path)[1].lower()
    if ext not in allowed:
        raise OptionError("--output", f"unknown extension {ext or '(none)'!r} for {path}; "
                          f"use one of {', '.join(sorted(set(allowed)))}")
    return allowed[ext]


def json_value(v):
    """A JSON-safe Python value: NaN and infinities become null."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


#: values JSON takes as they are (a vocabulary's 128k class names: no call each)
_PLAIN = (str, int, bool, type(None))


def clean(obj):
    """Recursively make a summary JSON-safe (no NaN, numpy scalars as Python)."""
    if isinstance(obj, dict):
        return {k: v if type(v) in _PLAIN else clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [v if type(v) in _PLAIN else clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return clean(obj.tolist())
    return json_value(obj)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class Committed:
    """A context manager that calls ``commit()`` when its block ends and
    ``abort()`` when the block raises."""

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        if kind is None:
            self.commit()
        else:
            self.abort()


class AtomicFile(Committed):
    """A temporary file beside ``path``, renamed over it by ``commit()``.
    As a context manager: committed when the block ends, removed when it
    raises.

    A symbolic link is written through (the file it points to is replaced,
    the link stays); an existing file keeps its permissions; a FIFO or a
    device (``-o /dev/stdout``, ``-o >(gzip > f)``) is written directly, as
    there is nothing to rename over it."""

    def __init__(self, path: str, refuse: tuple[str, ...] = ()):
        self.path = path
        target = os.path.realpath(path)
        for other in refuse:
            if not isinstance(other, (str, os.PathLike)):
                continue  # an array or a frame in memory is nobody's file
            if other and other != "-" and os.path.exists(other) and \
                    os.path.realpath(other) == target:
                raise OptionError("--output", f"{path} is one of the inputs; refusing to "
                                  "overwrite it")
        try:
            st = os.stat(target)
        except OSError:
            st = None
        self.direct = st is not None and not stat.S_ISREG(st.st_mode)
        self.target, self.tmp = target, None
        try:
            if self.direct:
                if stat.S_ISDIR(st.st_mode):
                    raise IsADirectoryError(errno.EISDIR, "Is a directory")
                self.file = open(target, "wb")
                return
            import tempfile  # here: with random and shutil, 5 ms at every start
            fd, self.tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".focal-",
                                            suffix=os.path.splitext(path)[1] + ".part")
        except OSError as err:
            raise InputError(f"cannot write output: {err.strerror}", path) from None
        # the mode an existing file has, or the one open() would give a new one
        os.fchmod(fd, stat.S_IMODE(st.st_mode) if st else 0o666 & ~_umask())
        self.file = os.fdopen(fd, "w+b")

    def __exit__(self, kind, value, tb):
        super().__exit__(kind, value, tb)
        if isinstance(value, OSError):  # a full disk, a file-size limit: bad output
            raise InputError(f"cannot write output: {value.strerror or value}",
                             self.path) from None

    def commit(self):
        try:
            self.file.flush()
            if not self.direct:
                os.fsync(self.file.fileno())
            self.file.close()
        except OSError as err:
            self.abort()
            raise InputError(f"cannot write output: {err.strerror}", self.path) from None
        if self.direct:
            return
        try:
            os.replace(self.tmp, self.target)
        except OSError as err:
            self.abort()
            raise InputError(f"cannot write output: {err.strerror}", self.path) from None

    def abort(self):
        with contextlib.suppress(OSError):
            self.file.close()
        if self.tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.tmp)


def _columns(chunk: dict, numeric_only: bool) -> list[str]:
    cols = list(chunk)
    if numeric_only:
        cols = [c for c in cols if c in NUMERIC and chunk[c].dtype != object]
    return cols


class RowWriter:
    """Streams row chunks (dicts of equal-length columns) to one format."""

    def __init__(self, stream, fmt: str):
        self.stream, self.fmt = stream, fmt
        self.count = 0
        self._first = True
        self._npy_header_len = 0
        self._parquet = None
        self._text = None
        if fmt in ("csv", "tsv", "json", "jsonl"):
            self._text = stream if isinstance(stream, io.TextIOBase) else io.TextIOWrapper(
                stream, encoding="utf-8", newline="", write_through=False)

    def write(self, chunk: dict):
        n = len(chunk["index"])
        getattr(self, "_write_" + self.fmt)(chunk)
        self.count += n
        self._first = False

    def _records(self, chunk):
        cols = list(chunk)
        lists = [[json_value(v) for v in chunk[c].tolist()] if chunk[c].dtype == object
                 else [None if isinstance(v, float) and v != v else v for v in chunk[c].tolist()]
                 for c in cols]
        return [dict(zip(cols, row)) for row in zip(*lists)]

    def _write_jsonl(self, chunk):
        self._text.write("".join(json.dumps(r) + "\n" for r in self._records(chunk)))

    def _write_json(self, chunk):
        records = self._records(chunk)
        if not records:
            return
        lead = "[\n" if self._first else ",\n"
        self._text.write(lead + ",\n".join(json.dumps(r) for r in records))

    def _write_csv(self, chunk, sep=","):
        import pandas as pd
        pd.DataFrame(chunk).to_csv(self._text, sep=sep, index=False, header=self._first,
                                   na_rep="", lineterminator="\n")

    def _write_tsv(self, chunk):
        self._write_csv(chunk, sep="\t")

    def _npy_dtype(self, chunk):
        return np.dtype([(c, np.int64 if c in ("index", "target") else np.float64)
                         for c in _columns(chunk, True)])

    def _write_npy(self, chunk):
        dtype = self._npy_dtype(chunk)
        if self._first:
            self._dtype = dtype
            self._write_npy_header(0)
        arr = np.empty(len(chunk["index"]), self._dtype)
        for c in self._dtype.names:
            arr[c] = chunk[c]
        self.stream.write(arr.tobytes())

    def _write_npy_header(self, n: int):
        # room for any row count, so the header can be rewritten in place
        header = {"descr": np.lib.format.dtype_to_descr(self._dtype),
                  "fortran_order": False, "shape": (n,)}
        text = repr(header) + " " * 24
        total = len(text) + 11
        text += " " * ((64 - total % 64) % 64) + "\n"
        if self._npy_header_len and len(text) != self._npy_header_len:
            text = text[:-1].rstrip().ljust(self._npy_header_len - 1) + "\n"
        self._npy_header_len = len(text)
        self.stream.write(b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little")
                          + text.encode("latin1"))

    def _write_parquet(self, chunk):
        import pyarrow as pa
        import pyarrow.parquet as pq
        data = {c: (chunk[c].astype(str) if c == "id" else chunk[c]) for c in chunk}
        table = pa.Table.from_pydict(data)
        if self._parquet is None:
            self._parquet = pq.ParquetWriter(self.stream, table.schema)
        self._parquet.write_table(table)

    def close(self):
        if self.fmt == "json":
            self._text.write("[]\n" if self._first else "\n]\n")
        if self.fmt == "npy":
            if self._first:
                self._dtype = np.dtype([(c, np.int64 if c in ("index", "target") else
                                         np.float64) for c in ("index", "p_t", "ce", "focal")])
                self._write_npy_header(0)
            else:
                self.stream.seek(0)
                self._write_npy_header(self.count)
                self.stream.seek(0, os.SEEK_END)
        if self.fmt == "parquet" and self._parquet is not None:
            self._parquet.close()
        if self._text is not None:
            self._text.flush()
            if self._text is not self.stream:
                self._text.detach()


class OutputFile(Committed):
    """``-o FILE``: a RowWriter on an AtomicFile."""

    def __init__(self, path: str, refuse=()):
        self.fmt = output_format(path)
        if self.fmt == "parquet":
            try:
                import pyarrow  # noqa: F401
            except ImportError:
                raise OptionError("--output", "writing Parquet needs pyarrow: "
                                  "pip install 'focalcli[arrow]'") from None
        self.atomic = AtomicFile(path, refuse)
        if self.atomic.direct and self.fmt == "npy":
            self.atomic.abort()
            raise OptionError("--output", f"{path}: .npy rows need a regular file (the "
                              "header is rewritten at the end); use .csv or .jsonl for a "
                              "pipe or device")
        self.writer = RowWriter(self.atomic.file, self.fmt)

    def write(self, chunk):
        try:
            self.writer.write(chunk)
        except OSError as err:
            raise InputError(f"cannot write output: {err.strerror}", self.atomic.path) from None

    def commit(self):
        try:
            self.writer.close()
        except OSError as err:
            self.atomic.abort()
            raise InputError(f"cannot write output: {err.strerror}", self.atomic.path) from None
        self.atomic.commit()

    def abort(self):
        self.atomic.abort()


def write_text_atomic(path: str, text: str, refuse=()):
    """Write a whole text (a summary, a sweep table) atomically."""
    with AtomicFile(path, refuse) as f:
        f.file.write(text.encode("utf-8"))


class StdoutRows(Committed):
    """--per-example on stdout: nothing to commit or undo."""

    def __init__(self, writer):
        self.writer = writer

    def write(self, chunk):
        self.writer.write(chunk)

    def commit(self):
        self.writer.close()

    def abort(self):
        pass


class Tee(Committed):
    """Rows to several sinks at once (``--per-example -o FILE``)."""

    def __init__(self, sinks):
        self.sinks = sinks

    def write(self, chunk):
        for sink in self.sinks:
            sink.write(chunk)

    def commit(self):
        for sink in self.sinks:
            sink.commit()

    def abort(self):
        for sink in self.sinks:
            sink.abort()


class MapFile(Committed):
    """``--map FILE.npy``: per-position values of a dense input, float32 of
    the shape ``(N, d1, ...)``, streamed in position order into an AtomicFile
    (NaN where a position is ignored)."""

    def __init__(self, path: str, shape: tuple[int, ...], refuse=(), key: str = "focal"):
        self.key, self.shape = key, tuple(shape)
        self.atomic = AtomicFile(path, refuse)
        if self.atomic.direct:
            self.atomic.abort()
            raise OptionError("--map", f"{path}: a map needs a regular file")
        header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float32)),
                  "fortran_order": False, "shape": self.shape}
        np.lib.format.write_array_header_2_0(self.atomic.file, header)

    def write(self, chunk: dict):
        try:
            self.atomic.file.write(np.asarray(chunk[self.key], np.float32).tobytes())
        except OSError as err:
            raise InputError(f"cannot write output: {err.strerror}", self.atomic.path) from None

    def commit(self):
        self.atomic.commit()

    def abort(self):
        self.atomic.abort()


def dense_places(dense, start: int, n: int) -> np.ndarray:
    """The flat places of rows start..start+n of a dense input (positions)
    and of their classes, in an array of the predictions' own shape."""
    example, position = np.divmod(np.arange(start, start + n), dense.positions)
    axes = [example[:, None]] + [i[:, None] for i in np.unravel_index(position, dense.spatial)]
    axes.insert(dense.class_axis, np.arange(dense.shape[dense.class_axis])[None, :])
    return np.ravel_multi_index(tuple(axes), dense.shape)


class GradFile(Committed):
    """``--grad FILE.npy``: the full gradient of the reduced focal loss with
    respect to the logits, in their shape (``(N, K)`` rows, or a dense
    input's ``(N, C, d1, ...)``), float64 (float32 for float32 input).
    Rows are written at their offsets (workers finish out of order); with a
    mean reduction they are divided by the scored count once it is known."""

    def __init__(self, path: str, shape: tuple[int, ...], dtype, refuse=(), dense=None,
                 option: str = "--grad", what: str = "the gradient"):
        self.shape, self.dtype, self.dense = tuple(shape), np.dtype(dtype), dense
        self.atomic = AtomicFile(path, refuse)
        if self.atomic.direct:
            self.atomic.abort()
            raise OptionError(option, f"{path}: {what} needs a regular file")
        header = {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False,
                  "shape": self.shape}
        np.lib.format.write_array_header_2_0(self.atomic.file, header)
        self.atomic.file.flush()
        self.offset = self.atomic.file.tell()
        self.row_bytes = int(np.prod(self.shape[1:])) * self.dtype.itemsize
        self.atomic.file.truncate(self.offset + self.shape[0] * self.row_bytes)
        self.divide_by = 1.0
        self.values = None if dense is None else np.memmap(
            self.atomic.tmp, self.dtype, "r+", self.offset, (int(np.prod(self.shape)),))

    def write(self, start: int, rows: np.ndarray):
        if self.dense is not None:  # rows are positions: each class at its own stride
            self.values[dense_places(self.dense, start, len(rows))] = rows
            return
        try:
            os.pwrite(self.atomic.file.fileno(), np.ascontiguousarray(rows, self.dtype).tobytes(),
                      self.offset + start * self.row_bytes)
        except OSError as err:
            raise InputError(f"cannot write output: {err.strerror}", self.atomic.path) from None

    def commit(self):
        if self.values is not None:
            self.values.flush()
            self.values = None
        self.atomic.file.flush()
        if self.divide_by != 1.0:
            grad = np.lib.format.open_memmap(self.atomic.tmp, mode="r+")
            for lo in range(0, len(grad), 65536):
                grad[lo:lo + 65536] /= self.divide_by
            grad.flush()
            del grad
        self.atomic.commit()

    def abort(self):
        self.values = None
        self.atomic.abort()


class ElementMapFile(Committed):
    """``--map FILE.npy --per-element``: each sigmoid element's focal loss of
    a dense input, float32 in the predictions' shape ``(N, C, d1, ...)``
    (MONAI's reduction='none'), NaN where ignored: a GradFile's dense layout,
    fed the rows' per-element column."""

    def __init__(self, path: str, dense, refuse=()):
        self.file = GradFile(path, dense.shape, np.float32, refuse, dense, "--map", "a map")

    def write(self, chunk: dict):
        index = chunk["index"]
        if len(index):
            self.file.write(int(index[0]), chunk["class_focal"])

    def commit(self):
        self.file.commit()

    def abort(self):
        self.file.abort()
