"""CSV and TSV (``.gz`` too): newline-aligned pieces parsed by pandas' C
tokenizer two at a time, so memory is bounded by the pieces in flight."""
from __future__ import annotations

import io
import re
import warnings
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator

import numpy as np

from ..errors import InputError
from .source import (MAX_LINE, Source, count_lines, open_binary, open_text, read_errors,
                     read_line)
from .table import (Batch, Layout, Table, frame_batch, logprob_layout, mark_logprobs,
                    split_columns)


def is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


PIECE_BYTES = 16 << 20
PIECES_IN_FLIGHT = 3
NA_VALUES = ["", "nan", "NaN", "NAN", "-nan", "null", "NULL", "NA", "N/A"]


ROW_INDEX = "\0row index"  # an unnamed first column: the index pandas and R write
INDEX_NOTE = ("its first column has no name (a row index, as pandas' to_csv and R's "
              "write.csv write it): left out")


def is_header(fields: list[str]) -> bool:
    """A first line is a header when any field is not a number, or when it
    is exactly ``0,1,...,K-1``: the header pandas writes for unnamed columns
    (``pd.DataFrame(z).to_csv(index=False)``), never a plausible row of logits."""
    if not all(is_number(v) for v in fields):
        return True
    return len(fields) >= 2 and fields == [str(i) for i in range(len(fields))]


def split_header(line: str, sep: str, name: str) -> list[str]:
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


def _header(src: Source, sep: str) -> tuple[list[str], bool, list[str]]:
    """(the column names, whether the first line is a header, notes): a
    headerless file's columns are named by position; pandas' unnamed index
    column is named so and noted."""
    name = src.name
    with read_errors(src), open_text(src) as f:
        first = read_line(f, name, 1).rstrip("\r\n")
    if not first.strip():
        raise InputError("is empty", name)
    fields = [c.strip() for c in split_header(first, sep, name)]
    if not is_header(fields):
        return [str(i) for i in range(len(fields))], False, []
    columns, notes = fields, []
    if len(set(columns)) != len(columns):
        dup = next(c for c in columns if columns.count(c) > 1)
        raise InputError(f"column {dup!r} appears twice in the header", name, row=1,
                         line=True)
    if columns[0] == "" and len(columns) > 1:
        columns[0] = ROW_INDEX
        notes.append(INDEX_NOTE)
    return columns, True, notes


def _parse_options(pd, sep: str, columns: list[str], ident: str | None) -> dict:
    """pandas' read_csv options for every piece: exact floats, our NA words,
    ids as text, pandas' own index column left out."""
    options = dict(sep=sep, header=None, names=columns, engine="c", encoding="utf-8",
                   dtype={ident: object} if ident else None, keep_default_na=False,
                   na_values=NA_VALUES, **_exact_floats(pd))
    if ROW_INDEX in columns:
        options["usecols"] = [c for c in columns if c != ROW_INDEX]
    return options


def read_csv(src: Source, layout: Layout) -> Table:
    """CSV/TSV in newline-aligned pieces of PIECE_BYTES parsed two at a time
    (pandas' C tokenizer releases the GIL). Batches are pieces, whatever the
    caller's batch size: the scorer's results do not depend on it."""
    import pandas as pd
    # a column of mixed types is found and located by frame_batch; pandas'
    # warning about it would be a second line on stderr (low_memory=False
    # silences it too, at 30% of the parse time)
    warnings.filterwarnings("ignore", category=pd.errors.DtypeWarning)
    name, fmt = src.name, src.fmt
    sep = "\t" if fmt == "tsv" else ","
    columns, has_header, notes = _header(src, sep)
    target, ident, scores = split_columns([c for c in columns if c != ROW_INDEX], layout,
                                          name)
    _, group = logprob_layout(columns, scores, layout)
    first_line = 2 if has_header else 1
    options = _parse_options(pd, sep, columns, ident)

    wide = _wide_parser(columns, target, ident, scores, sep, options) \
        if len(scores) >= WIDE_COLUMNS and not layout.weight_col else None

    def parse(piece: bytes):
        """On a worker thread: text to a Batch whose rows and lines count
        from 0 and 1 within the piece (the caller shifts them)."""
        if wide is not None:
            batch = wide(piece)
            if batch is not None:
                return batch, None
        try:
            df = pd.read_csv(io.BytesIO(piece), **options)
            if not len(df):
                return None, None
            return frame_batch(df, 0, target, ident, scores, name,
                               line_numbers(piece, len(df)), group, layout.weight_col), None
        except pd.errors.ParserError as err:
            return None, _parser_message(err)
        except pd.errors.EmptyDataError:
            return None, None
        except InputError as err:
            return None, err

    def batches():
        start = 0
        with read_errors(src), ThreadPoolExecutor(2) as pool, open_binary(src) as raw:
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
    table = Table(name, fmt, batches, len(scores), scores if has_header else None,
                  target is not None, notes=notes,
                  count_rows=lambda: count_lines(src) - (1 if has_header else 0))
    if mark_logprobs(table, columns, scores, layout).logprobs:
        table.classes = None  # the one score column is not a class
    return table


def _line_count(piece: bytes) -> int:
    return piece.count(b"\n") + (0 if piece.endswith(b"\n") else 1)


def line_numbers(piece: bytes, rows: int) -> np.ndarray:
    """The 1-based line (within the piece) of each of its ``rows`` parsed rows.
    One row per line, unless there are blank lines (skipped) or a quoted field
    holding a line break, which is refused wherever it falls: splitting the
    file into pieces at line ends could not keep it whole."""
    if _line_count(piece) == rows:
        return 1 + np.arange(rows)
    numbers = []
    # a lone carriage return ends a line for pandas too (old Mac line ends)
    for number, line in enumerate(piece.splitlines(), 1):
        if line.count(b'"') % 2:
            raise InputError("a quoted field holds a line break (not supported: one row "
                             "per line)", row=number, line=True)
        if line:
            numbers.append(number)
    return np.asarray(numbers)


WIDE_COLUMNS = 1024  # from here on pandas' per-column cost dominates a piece


def _wide_parser(columns, target, ident, scores, sep, options):
    """For tables of thousands of score columns (vocabularies): numpy's
    loadtxt parses the scores straight into one array, 5x faster than
    pandas (300 x 50,000: 0.15 s a piece against 0.72), exactly, with the
    same spellings refused; pandas reads only the target and id columns.
    Any problem (a bad cell, an empty one, blank lines) returns None and the
    piece goes through pandas, which says where the problem is."""
    import pandas as pd
    position = {c: i for i, c in enumerate(columns)}
    score_at = [position[c] for c in scores]
    others = [c for c in (target, ident) if c]
    meta_options = {**options, "usecols": others}

    def parse(piece: bytes):
        try:
            array = np.loadtxt(io.BytesIO(piece), delimiter=sep, usecols=score_at,
                               quotechar='"', dtype=np.float64, encoding="utf-8", ndmin=2)
            meta = pd.read_csv(io.BytesIO(piece), **meta_options) if others else None
        except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError):
            return None
        if meta is not None and len(meta) != len(array):
            return None
        if _line_count(piece) != len(array):  # blank lines: the general path numbers them
            return None
        lines = 1 + np.arange(len(array))
        return Batch(0, array, meta[target].to_numpy() if target else None,
                     meta[ident].to_numpy() if ident else None, lines)
    return parse


def _offset_lines(message: str, offset: int) -> str:
    """pandas counts lines from the start of the piece it was given."""
    return re.sub(r"line (\d+)", lambda m: f"line {int(m.group(1)) + offset}", message)


def _exact_floats(pd) -> dict:
    # pandas 3 parses floats exactly by default (and deprecates the option);
    # pandas 2 needs it asked for
    return {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}


def _parser_message(err) -> str:
    text = str(err).strip().splitlines()[-1]
    return text.replace("Error tokenizing data. C error: ", "")

