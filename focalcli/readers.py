"""Input formats. Every reader yields :class:`Batch` es of rows, so no input has
to be in memory at once (``.json`` and ``.npz`` are the exceptions: their
formats have no rows to stream, so they load whole).

Errors are :class:`InputError` s naming the file and, where there is one, the
line (text formats) or row (arrays) and the column.
"""
from __future__ import annotations

import contextlib
import gzip
import io
import itertools
import json
import mmap
import os
import shutil
import sys
import tempfile
import warnings
import zlib
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from .errors import InputError

BATCH_ROWS = 65536
MAX_LINE = 64 << 20  # longer lines are refused: memory stays bounded on hostile input
TARGET_NAMES = ("target", "label")
ID_NAMES = ("id",)
EXTENSIONS = {".npy": "npy", ".npz": "npz", ".csv": "csv", ".tsv": "tsv",
              ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl",
              ".parquet": "parquet", ".txt": "txt"}
TEXT_FORMATS = ("csv", "tsv", "json", "jsonl", "txt")
PREDICTION_FORMATS = ("npy", "npz", "csv", "tsv", "json", "jsonl", "parquet")


@dataclass
class Batch:
    """Rows ``start .. start + len(scores)`` of the input (0-based)."""

    start: int
    scores: np.ndarray              # (n, K) or (n,) numbers
    targets: np.ndarray | None      # (n,) indices/names, or (n, K) 0/1
    ids: np.ndarray | None = None
    lines: np.ndarray | None = None  # 1-based line of each row, text formats


@dataclass
class Table:
    """An opened input: its class names (if it has any) and its batches."""

    name: str
    fmt: str
    batches: Callable[[], Iterator[Batch]]
    classes: list[str] | None = None
    has_targets: bool = False
    n_rows: int | None = None


@dataclass
class Layout:
    """How a table's columns are used."""

    target_col: str | None = None
    id_col: str | None = None


# ---------------------------------------------------------------- sources

def display_name(path: str) -> str:
    return "<stdin>" if path == "-" else path


def spool_stdin() -> str:
    """Copy standard input to a temporary file, so it can be sniffed, mapped
    and read more than once. The caller removes it (see :func:`cleanup`)."""
    fd, path = tempfile.mkstemp(prefix="focal-stdin-")
    with os.fdopen(fd, "wb") as out:
        shutil.copyfileobj(sys.stdin.buffer, out, 1 << 20)
    _spooled.append(path)
    return path


_spooled: list[str] = []


def cleanup():
    while _spooled:
        with contextlib.suppress(OSError):
            os.unlink(_spooled.pop())


def detect_format(path: str, real_path: str, explicit: str | None,
                  allowed=PREDICTION_FORMATS) -> tuple[str, bool]:
    """(format, gzip-compressed) from ``--input-format``, the extension, or,
    for standard input, the first bytes."""
    name = display_name(path)
    compressed = path.lower().endswith(".gz")
    if explicit:
        fmt = explicit.lower().lstrip(".")
        if fmt.endswith(".gz"):
            fmt, compressed = fmt[:-3], True
    elif path == "-":
        fmt, compressed = sniff(real_path)
    else:
        stem = path[:-3] if compressed else path
        ext = os.path.splitext(stem)[1].lower()
        if ext not in EXTENSIONS:
            raise InputError(f"unknown file extension {ext or '(none)'!r}; use one of "
                             f"{', '.join(sorted(EXTENSIONS))} or --input-format", name)
        fmt = EXTENSIONS[ext]
    if fmt not in allowed:
        raise InputError(f"format {fmt!r} is not supported here; use one of "
                         f"{', '.join(allowed)}", name)
    if compressed and fmt not in TEXT_FORMATS:
        raise InputError(f".gz is only for text formats, not {fmt}", name)
    return fmt, compressed


def sniff(path: str) -> tuple[str, bool]:
    with open(path, "rb") as f:
        head = f.read(4096)
    if head[:2] == b"\x1f\x8b":
        try:
            with gzip.open(path, "rb") as g:
                inner = g.read(4096)
        except (OSError, EOFError, zlib.error):
            raise InputError("corrupt or truncated gzip data", "<stdin>") from None
        return _sniff_bytes(inner), True
    return _sniff_bytes(head), False


def _sniff_bytes(head: bytes) -> str:
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    if head.startswith(b"PK"):
        return "npz"
    if head.startswith(b"PAR1"):
        return "parquet"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"["):
        return "json"
    if text.startswith(b"{"):
        # one complete object on the first line is JSONL, unless it is the
        # {"logits": [[...]]} document written on one line
        try:
            first = json.loads(text.split(b"\n", 1)[0])
        except ValueError:
            return "json"
        logits = first.get("logits") if isinstance(first, dict) else None
        return "json" if logits and isinstance(logits[0], list) else "jsonl"
    first_line = text.split(b"\n", 1)[0]
    return "tsv" if b"\t" in first_line and b"," not in first_line else "csv"


def read_line(f, name: str, number: int):
    """One line of at most MAX_LINE characters, or an InputError."""
    line = f.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE and not line.endswith("\n"):
        raise InputError(f"line is longer than {MAX_LINE >> 20} MB", name, row=number,
                         line=True)
    return line


def numbered_lines(f, name: str) -> Iterator[tuple[int, str]]:
    """(1-based number, line) for every line, each at most MAX_LINE long."""
    for number in itertools.count(1):
        line = read_line(f, name, number)
        if not line:
            return
        yield number, line


def open_text(path: str, compressed: bool) -> io.TextIOBase:
    raw = gzip.open(path, "rb") if compressed else open(path, "rb")
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


@contextlib.contextmanager
def read_errors(name: str):
    """Turn the many ways a file can be broken into one located InputError."""
    try:
        yield
    except InputError as err:
        raise err.located(name)
    except (EOFError, zlib.error, gzip.BadGzipFile):
        raise InputError("corrupt or truncated gzip data", name) from None
    except UnicodeDecodeError as err:
        raise InputError(f"not valid UTF-8 text (byte {err.start})", name) from None
    except MemoryError:
        raise InputError("too large to read (out of memory)", name) from None
    except RecursionError:
        raise InputError("too deeply nested", name) from None
    except FileNotFoundError:
        raise InputError("no such file", name) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", name) from None
    except PermissionError:
        raise InputError("permission denied", name) from None
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror or err}", name) from None


# ---------------------------------------------------------------- arrays

def _check_npy_dtype(dtype: np.dtype, name: str):
    if dtype.hasobject:
        raise InputError("holds Python objects (a pickle); refusing to load it", name)
    if dtype.kind not in "biuf":
        raise InputError(f"has dtype {dtype}; expected numbers", name)


@contextlib.contextmanager
def _numpy_format_errors(name: str, what: str):
    """numpy's .npy/.npz parsers fail on garbage in many ways (ValueError,
    SyntaxError, tokenize errors, zip errors, ...) and warn about header quirks
    on stderr; turn all of it into one located InputError and no warnings."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    except (InputError, MemoryError):
        raise
    except OSError as err:
        if err.errno is not None:  # a real I/O error: read_errors words it
            raise
        raise InputError(f"not a valid {what} file (corrupt or truncated)", name) from None
    except ValueError as err:
        if "allow_pickle" in str(err) or "Object arrays" in str(err):
            raise InputError("holds Python objects (a pickle); refusing to load it",
                             name) from None
        raise InputError(f"not a valid {what} file ({err})", name) from None
    except Exception:
        raise InputError(f"not a valid {what} file (corrupt or truncated)", name) from None


def load_npy(path: str, name: str) -> np.ndarray:
    """Memory-map a ``.npy`` safely: never unpickles, checks the size."""
    with _numpy_format_errors(name, ".npy"), open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise InputError(f"unsupported .npy version {version}", name)
        offset = f.tell()
        size = os.fstat(f.fileno()).st_size
    _check_npy_dtype(dtype, name)
    need = offset + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if size < need:
        raise InputError(f"truncated .npy: {size} bytes, header promises {need}", name)
    if int(np.prod(shape)) == 0:
        return np.zeros(shape, dtype)
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape,
                     order="F" if fortran else "C")


def _release(arr: np.ndarray, upto_row: int):
    """Drop mapped pages we are done with, so resident memory stays bounded
    on files larger than RAM (the page cache keeps them if memory allows)."""
    mm = getattr(arr, "_mmap", None)
    if mm is None or not hasattr(mm, "madvise"):
        return
    start = arr.offset % mmap.ALLOCATIONGRANULARITY
    end = start + upto_row * (arr.strides[0] if arr.ndim else 0)
    end -= end % mmap.PAGESIZE
    if end > 0:
        with contextlib.suppress(OSError, ValueError):
            mm.madvise(mmap.MADV_DONTNEED, 0, end)


def array_table(scores: np.ndarray, targets, name: str, fmt: str,
                classes=None, release=False, batch_rows=BATCH_ROWS) -> Table:
    if scores.ndim not in (1, 2):
        raise InputError(f"expected a 1-D or 2-D array of scores, got {scores.ndim}-D "
                         f"with shape {scores.shape}", name)
    n = scores.shape[0]
    if targets is not None and len(targets) != n:
        raise InputError(f"has {n} rows of scores but {len(targets)} targets", name)

    def batches():
        for start in range(0, n, batch_rows):
            stop = min(start + batch_rows, n)
            yield Batch(start, np.asarray(scores[start:stop]),
                        None if targets is None else np.asarray(targets[start:stop]))
            if release:
                _release(scores, stop)
    return Table(name, fmt, batches, classes, targets is not None, n)


def read_npz(path: str, name: str) -> Table:
    with _numpy_format_errors(name, ".npz"), np.load(path, allow_pickle=False) as z:
        keys = set(z.files)
        key = "logits" if "logits" in keys else ("scores" if "scores" in keys else None)
        if key is None:
            raise InputError(f"has no array 'logits' (found: {', '.join(sorted(keys))})", name)
        scores = z[key]
        targets = z["targets"] if "targets" in keys else None
        classes = [str(c) for c in z["classes"]] if "classes" in keys else None
    _check_npy_dtype(scores.dtype, name)
    return array_table(scores, targets, name, "npz", classes)


# ---------------------------------------------------------------- tables

def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def split_columns(columns: list[str], layout: Layout, name: str):
    """(target column, id column, score columns) of a table's header."""
    def pick(explicit, defaults, what):
        if explicit is not None:
            if explicit not in columns:
                raise InputError(f"has no {what} column {explicit!r} (columns: "
                                 f"{', '.join(columns[:20])})", name)
            return explicit
        lower = {c.lower(): c for c in columns}
        return next((lower[d] for d in defaults if d in lower), None)
    target = pick(layout.target_col, TARGET_NAMES, "target")
    ident = pick(layout.id_col, ID_NAMES, "id")
    scores = [c for c in columns if c not in (target, ident)]
    if not scores:
        raise InputError("has no score columns", name)
    return target, ident, scores


def frame_batch(df, start: int, target: str | None, ident: str | None,
                scores: list[str], name: str, first_line: int | None) -> Batch:
    """A pandas chunk to a Batch; every score cell must be a number."""
    values = df[scores]
    bad = [c for c, dt in values.dtypes.items() if dt.kind not in "biuf"]
    if bad:
        import pandas as pd
        for col in scores:
            if values[col].dtype.kind in "biuf":
                continue
            as_num = pd.to_numeric(values[col], errors="coerce")
            wrong = np.flatnonzero(as_num.isna().to_numpy() & values[col].notna().to_numpy())
            if wrong.size:
                i = int(wrong[0])
                raise InputError(f"{str(values[col].iloc[i])[:40]!r} is not a number",
                                 name, **_where(start + i, first_line), column=col)
        values = values.apply(pd.to_numeric, errors="coerce")
    array = values.to_numpy(dtype=np.float64 if values.dtypes.nunique() != 1
                            or values.dtypes.iloc[0].kind not in "f" else None)
    array = np.ascontiguousarray(array)  # pandas hands back columns; the core reads rows
    lines = None if first_line is None else first_line + start + np.arange(len(df))
    return Batch(start, array,
                 df[target].to_numpy() if target else None,
                 df[ident].to_numpy() if ident else None, lines)


def _where(row0: int, first_line: int | None) -> dict:
    """Error position: ``line`` for text formats, ``row`` (1-based) otherwise."""
    if first_line is None:
        return {"row": row0 + 1}
    return {"row": first_line + row0, "line": True}


PIECE_BYTES = 16 << 20
PIECES_IN_FLIGHT = 3
NA_VALUES = ["", "nan", "NaN", "NAN", "-nan", "null", "NULL", "NA", "N/A"]


def _split_header(line: str, sep: str, name: str) -> list[str]:
    import csv
    csv.field_size_limit(MAX_LINE)
    try:
        return next(csv.reader([line], delimiter=sep))
    except csv.Error as err:
        raise InputError(f"malformed header: {err}", name, row=1, line=True) from None


def _pieces(raw, name: str, size: int = PIECE_BYTES) -> Iterator[bytes]:
    """Newline-aligned pieces of a binary stream (a row never straddles two).
    Fields holding newlines are not supported; they fail to parse loudly."""
    while True:
        piece = raw.read(size)
        if not piece:
            return
        if not piece.endswith(b"\n"):
            rest = raw.readline(MAX_LINE + 1)
            if len(rest) > MAX_LINE and not rest.endswith(b"\n"):
                raise InputError(f"a line is longer than {MAX_LINE >> 20} MB", name)
            piece += rest
        if not piece.isspace():
            yield piece


def read_csv(path: str, name: str, fmt: str, compressed: bool, layout: Layout) -> Table:
    """CSV/TSV in newline-aligned pieces of PIECE_BYTES parsed two at a time
    (pandas' C tokenizer releases the GIL), with memory bounded by the pieces
    in flight. Batches are pieces, whatever the caller's batch size: the
    scorer's results do not depend on it."""
    import pandas as pd
    sep = "\t" if fmt == "tsv" else ","
    with read_errors(name), open_text(path, compressed) as f:
        first = read_line(f, name, 1).rstrip("\r\n")
    if not first.strip():
        raise InputError("is empty", name)
    fields = _split_header(first, sep, name)
    has_header = not all(_is_number(v) for v in fields)
    if has_header:
        columns = [c.strip() for c in fields]
        if len(set(columns)) != len(columns):
            dup = next(c for c in columns if columns.count(c) > 1)
            raise InputError(f"column {dup!r} appears twice in the header", name, row=1,
                             line=True)
    else:
        columns = [str(i) for i in range(len(fields))]
    target, ident, scores = split_columns(columns, layout, name)
    first_line = 2 if has_header else 1
    options = dict(sep=sep, header=None, names=columns, engine="c", encoding="utf-8",
                   dtype={ident: object} if ident else None, keep_default_na=False,
                   na_values=NA_VALUES, **_exact_floats(pd))

    def parse(piece: bytes):
        """On a worker thread: text to a Batch whose rows and lines count
        from 0 and 1 within the piece (the caller shifts them)."""
        try:
            df = pd.read_csv(io.BytesIO(piece), **options)
            return (frame_batch(df, 0, target, ident, scores, name, 1) if len(df) else None), None
        except pd.errors.ParserError as err:
            return None, _parser_message(err)
        except pd.errors.EmptyDataError:
            return None, None
        except InputError as err:
            return None, err

    def batches():
        from collections import deque
        from concurrent.futures import ThreadPoolExecutor
        start = 0
        with read_errors(name), ThreadPoolExecutor(2) as pool:
            raw = gzip.open(path, "rb") if compressed else open(path, "rb")
            with raw:
                if has_header:
                    raw.readline(MAX_LINE + 1)
                elif raw.read(3) != b"\xef\xbb\xbf":
                    raw.seek(0)
                pending = deque()
                pieces = _pieces(raw, name)
                while True:
                    while len(pending) < PIECES_IN_FLIGHT:
                        piece = next(pieces, None)
                        if piece is None:
                            break
                        pending.append(pool.submit(parse, piece))
                    if not pending:
                        break
                    batch, problem = pending.popleft().result()
                    shift = first_line - 1 + start
                    if isinstance(problem, InputError):
                        problem.row += shift
                        raise problem
                    if problem is not None:
                        raise InputError(f"malformed {fmt.upper()}: "
                                         f"{_offset_lines(problem, shift)}", name)
                    if batch is not None:
                        batch.start = start
                        batch.lines += shift
                        yield batch
                        start += len(batch.scores)
        if start == 0:
            raise InputError("has a header but no rows", name)
    return Table(name, fmt, batches, scores if has_header else None, target is not None)


def _offset_lines(message: str, offset: int) -> str:
    """pandas counts lines from the start of the piece it was given."""
    import re
    return re.sub(r"line (\d+)", lambda m: f"line {int(m.group(1)) + offset}", message)


def _exact_floats(pd) -> dict:
    # pandas 3 parses floats exactly by default (and deprecates the option);
    # pandas 2 needs it asked for
    return {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}


def _parser_message(err) -> str:
    text = str(err).strip().splitlines()[-1]
    return text.replace("Error tokenizing data. C error: ", "")


def read_parquet(path: str, name: str, layout: Layout, batch_rows=BATCH_ROWS) -> Table:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError("reading Parquet needs pyarrow: pip install 'focalcli[arrow]'",
                         name) from None
    try:
        pf = pq.ParquetFile(path)
    except Exception as err:  # pyarrow raises its own ArrowInvalid/OSError kinds
        raise InputError(f"not a valid Parquet file ({str(err)[:80]})", name) from None
    columns = list(pf.schema_arrow.names)
    target, ident, scores = split_columns(columns, layout, name)

    def batches():
        start = 0
        try:
            for rb in pf.iter_batches(batch_size=batch_rows):
                df = rb.to_pandas()
                yield frame_batch(df, start, target, ident, scores, name, None)
                start += len(df)
        except InputError:
            raise
        except Exception as err:
            raise InputError(f"corrupt Parquet data ({str(err)[:80]})", name) from None
    return Table(name, "parquet", batches, scores, target is not None, pf.metadata.num_rows)


# ---------------------------------------------------------------- JSON

def _reject_constant(token: str):
    raise ValueError(f"{token} is not a number JSON allows")


def _loads(text: str):
    return json.loads(text, parse_constant=_reject_constant)


def json_error(err: ValueError, name: str, line: int | None = None) -> InputError:
    """Locate a JSON syntax error: line and column in the file."""
    if isinstance(err, json.JSONDecodeError):
        row = err.lineno if line is None else line
        return InputError(f"invalid JSON: {err.msg}", name, row=row, line=True,
                          column=err.colno - 1)
    return InputError(f"invalid JSON: {err}", name, row=line, line=line is not None)


def _number_matrix(rows, name: str, what: str, first_line=None) -> np.ndarray:
    """A list of equal-length lists of numbers, checked row by row."""
    if not isinstance(rows, list):
        raise InputError(f"{what} must be a list", name)
    width = None
    for i, row in enumerate(rows):
        items = row if isinstance(row, list) else [row]
        if width is None:
            width = len(items)
        if len(items) != width:
            raise InputError(f"ragged {what}: {len(items)} values where the first row "
                             f"has {width}", name, **_where(i, first_line))
        for j, v in enumerate(items):
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise InputError(f"{json.dumps(v)[:40]} is not a number", name,
                                 **_where(i, first_line), column=j)
    if not rows:
        raise InputError(f"{what} is empty", name)
    return np.asarray(rows, dtype=np.float64)


def _rows_batch(objs: list, start: int, layout: Layout, name: str, first_line,
                state: dict) -> Batch:
    """Row objects (as in a table, or ``{"logits": [...], "target": t}``) to a Batch."""
    if "logits" in objs[0]:
        for i, o in enumerate(objs):
            if not isinstance(o, dict) or "logits" not in o:
                raise InputError("expected an object with \"logits\"", name,
                                 **_where(start + i, first_line))
        scores = _number_matrix([o["logits"] for o in objs], name, "logits",
                                None if first_line is None else first_line + start)
        tkey = layout.target_col or "target"
        targets = [o.get(tkey, o.get("label")) for o in objs]
        has_t = state.setdefault("has_targets", targets[0] is not None)
        if has_t and any(t is None for t in targets):
            i = next(i for i, t in enumerate(targets) if t is None)
            raise InputError(f"missing {tkey!r}", name, **_where(start + i, first_line))
        ids = [o.get(layout.id_col or "id") for o in objs]
        return Batch(start, scores, np.asarray(targets, dtype=object) if has_t else None,
                     np.asarray(ids, dtype=object) if ids[0] is not None else None)
    if "columns" not in state:
        keys = list(objs[0].keys())
        state["columns"] = keys
        state["split"] = split_columns(keys, layout, name)
    keys = state["columns"]
    target, ident, scores = state["split"]
    matrix = []
    for i, o in enumerate(objs):
        if not isinstance(o, dict):
            raise InputError("expected a row object", name, **_where(start + i, first_line))
        if o.keys() != set(keys):
            missing = [k for k in keys if k not in o] or [k for k in o if k not in keys]
            raise InputError(f"row has different keys from the first (check {missing[0]!r})",
                             name, **_where(start + i, first_line))
        matrix.append([o[c] for c in scores])
    arr = _number_matrix(matrix, name, "scores",
                         None if first_line is None else first_line + start)
    return Batch(start, arr,
                 np.asarray([o[target] for o in objs], dtype=object) if target else None,
                 np.asarray([o[ident] for o in objs], dtype=object) if ident else None)


def read_json(path: str, name: str, compressed: bool, layout: Layout) -> Table:
    with read_errors(name), open_text(path, compressed) as f:
        try:
            doc = _loads(f.read())
        except ValueError as err:
            raise json_error(err, name) from None
    if isinstance(doc, dict):
        if "logits" not in doc:
            raise InputError("a JSON object needs a \"logits\" key", name)
        scores = _number_matrix(doc["logits"], name, "logits")
        if scores.shape[1:] == (1,) and not isinstance(doc["logits"][0], list):
            scores = scores[:, 0]
        targets = doc.get("targets")
        if targets is not None:
            targets = _target_list(targets, name)
        classes = doc.get("classes")
        if classes is not None and not (isinstance(classes, list)
                                        and all(isinstance(c, str) for c in classes)):
            raise InputError("\"classes\" must be a list of strings", name)
        return array_table(scores, targets, name, "json", classes)
    if not isinstance(doc, list) or not doc:
        raise InputError("expected a non-empty array or an object with \"logits\"", name)
    if isinstance(doc[0], dict):
        state: dict = {}
        batch = _rows_batch(doc, 0, layout, name, None, state)
        classes = state["split"][2] if "split" in state else None
        return array_table(batch.scores, batch.targets, name, "json", classes)
    scores = _number_matrix(doc, name, "scores")
    if not isinstance(doc[0], list):
        scores = scores[:, 0]
    return array_table(scores, None, name, "json")


def _target_list(values, name: str) -> np.ndarray:
    if not isinstance(values, list):
        raise InputError("targets must be a list", name)
    if values and isinstance(values[0], list):
        return _number_matrix(values, name, "targets")
    for i, v in enumerate(values):
        if isinstance(v, (list, dict)) or v is None or isinstance(v, bool):
            raise InputError(f"target {json.dumps(v)[:40]} is not a class", name, row=i + 1)
    return np.asarray(values, dtype=object)


def read_jsonl(path: str, name: str, compressed: bool, layout: Layout,
               batch_rows=BATCH_ROWS) -> Table:
    # one cheap look at the first row tells whether there are class names/targets
    with read_errors(name), open_text(path, compressed) as f:
        number, first = next(((n, line) for n, line in numbered_lines(f, name)
                              if line.strip()), (0, None))
    if first is None:
        raise InputError("is empty", name)
    try:
        head = _loads(first)
    except ValueError as err:
        raise json_error(err, name, number) from None
    if not isinstance(head, dict):
        raise InputError("each line must be a JSON object", name, row=1, line=True)
    classes = None
    has_targets = (layout.target_col or "target") in head or "label" in head
    if "logits" not in head:
        target, _, classes = split_columns(list(head.keys()), layout, name)
        has_targets = target is not None

    def batches():
        state: dict = {}
        start, objs, lines = 0, [], []
        with read_errors(name), open_text(path, compressed) as f:
            for lineno, line in numbered_lines(f, name):
                if not line.strip():
                    continue
                try:
                    objs.append(_loads(line.rstrip("\r\n")))
                except ValueError as err:
                    raise json_error(err, name, lineno) from None
                lines.append(lineno)
                if len(objs) == batch_rows:
                    yield _jsonl_batch(objs, lines, start, layout, name, state)
                    start += len(objs)
                    objs, lines = [], []
            if objs:
                yield _jsonl_batch(objs, lines, start, layout, name, state)
    return Table(name, "jsonl", batches, classes, has_targets)


def _jsonl_batch(objs, lines, start, layout, name, state) -> Batch:
    try:
        batch = _rows_batch(objs, 0, layout, name, 1, state)
    except InputError as err:
        if err.row is not None:  # a position within this batch: map it to its line
            err.row = lines[err.row - 1]
        raise
    batch.start = start
    batch.lines = np.asarray(lines)
    return batch


# ---------------------------------------------------------------- entry points

def open_predictions(path: str, input_format: str | None = None,
                     layout: Layout | None = None, batch_rows: int = BATCH_ROWS) -> Table:
    """Open PREDICTIONS (a path or ``-``) as a Table of batches."""
    layout = layout or Layout()
    name = display_name(path)
    real = spool_stdin() if path == "-" else path
    with read_errors(name):
        if path != "-" and not os.path.exists(real):
            raise FileNotFoundError(real)
        fmt, compressed = detect_format(path, real, input_format)
        if os.path.isdir(real):
            raise IsADirectoryError(real)
        if os.path.getsize(real) == 0:
            raise InputError("is empty", name)
        if fmt == "npy":
            arr = load_npy(real, name)
            return array_table(arr, None, name, "npy", release=True, batch_rows=batch_rows)
        if fmt == "npz":
            return read_npz(real, name)
        if fmt in ("csv", "tsv"):
            return read_csv(real, name, fmt, compressed, layout)
        if fmt == "json":
            return read_json(real, name, compressed, layout)
        if fmt == "jsonl":
            return read_jsonl(real, name, compressed, layout, batch_rows)
        return read_parquet(real, name, layout, batch_rows)


def load_targets(path: str) -> tuple[np.ndarray, str]:
    """TARGETS as one array: ``(N,)`` indices or names, or an ``(N, K)`` 0/1
    matrix. ``.npy`` stays memory-mapped."""
    name = display_name(path)
    real = spool_stdin() if path == "-" else path
    with read_errors(name):
        if path != "-" and not os.path.exists(real):
            raise FileNotFoundError(real)
        fmt, compressed = detect_format(path, real, None,
                                        allowed=("npy", "csv", "tsv", "txt", "json"))
        if os.path.getsize(real) == 0:
            raise InputError("is empty", name)
        if fmt == "npy":
            arr = load_npy(real, name)
            if arr.ndim not in (1, 2):
                raise InputError(f"targets must be 1-D or 2-D, got shape {arr.shape}", name)
            return arr, name
        if fmt == "json":
            with open_text(real, compressed) as f:
                try:
                    doc = _loads(f.read())
                except ValueError as err:
                    raise json_error(err, name) from None
            if isinstance(doc, dict):
                doc = doc.get("targets")
            if not doc:
                raise InputError("expected a non-empty list of targets", name)
            return _target_list(doc, name), name
        return _read_target_text(real, name, fmt, compressed), name


def _read_target_text(path: str, name: str, fmt: str, compressed: bool) -> np.ndarray:
    import csv
    sep = "\t" if fmt == "tsv" else ","
    with open_text(path, compressed) as f:
        rows = [r for r in csv.reader(f, delimiter=sep)]
    rows = [[c.strip() for c in r] for r in rows]
    first_line = 1
    while rows and not any(rows[-1]):
        rows.pop()
    if rows and not all(_is_number(v) for v in rows[0]):
        header = [h.lower() for h in rows[0]]
        col = next((header.index(t) for t in TARGET_NAMES if t in header), None)
        if col is not None:
            rows, first_line = [r[col:col + 1] for r in rows[1:]], 2
        elif len(rows[0]) > 1:  # a 0/1 matrix with class names as header
            rows, first_line = rows[1:], 2
    if not rows:
        raise InputError("has no targets", name)
    width = len(rows[0])
    for i, r in enumerate(rows):
        if len(r) != width:
            raise InputError(f"has {len(r)} columns where the first row has {width}",
                             name, row=first_line + i, line=True)
    if width == 1:
        return np.asarray([r[0] for r in rows], dtype=object)
    try:
        return np.asarray(rows, dtype=np.float64)
    except ValueError:
        for i, r in enumerate(rows):
            for j, v in enumerate(r):
                if not _is_number(v):
                    raise InputError(f"{v[:40]!r} is not 0 or 1", name,
                                     row=first_line + i, line=True, column=j) from None
        raise
