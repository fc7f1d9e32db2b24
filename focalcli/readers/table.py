"""What every reader returns: a :class:`Table` of :class:`Batch` es, and the
pieces shared by the tabular formats (which column is what, a pandas chunk to
a batch)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np

from ..errors import InputError

BATCH_BYTES = 64 << 20  # a batch of array rows: 65,536 of 80 float32, fewer when wider
#: a batch converted on reading (bfloat16 widened) is new memory: at 16 MB,
#: malloc reuses freed blocks instead of faulting fresh pages in each time
CONVERTED_BATCH_BYTES = 16 << 20
TARGET_NAMES = ("target", "label")
ID_NAMES = ("id",)
LOGPROB_NAMES = ("logprob",)
SEQUENCE_NAMES = ("sequence",)


@dataclass
class Batch:
    """Rows ``start .. start + len(scores)`` of the input (0-based)."""

    start: int
    scores: np.ndarray              # (n, K) or (n,) numbers
    targets: np.ndarray | None      # (n,) indices/names, or (n, K) 0/1
    ids: np.ndarray | None = None
    lines: np.ndarray | None = None  # 1-based line of each row, text formats
    groups: np.ndarray | None = None  # log-probabilities: the sequence of each token
    weights: np.ndarray | None = None  # --weight-col: each row's sample weight


@dataclass
class Table:
    """An opened input: its class names (if it has any), the number of score
    columns, and its batches."""

    name: str
    fmt: str
    batches: Callable[[], Iterator[Batch]]
    width: int
    classes: list[str] | None = None
    has_targets: bool = False
    n_rows: int | None = None
    notes: list[str] = field(default_factory=list)  # said on stderr, not errors
    count_rows: Callable[[], int] | None = None  # when n_rows is unknown: a cheap count
    dense: object = None     # readers.dense.Dense for (N, C, d1, ...) inputs: rows are positions
    probs: bool = False      # the format says its scores are probabilities (nnU-Net)
    logprobs: bool = False   # the score is the target's log-probability (a 'logprob' column)
    group_col: str | None = None  # the column of sequences, for per-sequence rows
    dtype: object = None     # arrays: the scores' dtype
    convert: object = None   # stored values to numbers (bfloat16 bits to float32)
    raw_batches: bool = False  # the scorer converts each block itself (``convert``)
    # memory-mapped input: drop the pages of the rows before N (the table's
    # row numbering), called by the scorer once those rows' units are merged:
    # not behind each batch, which its threads may still be reading (pages
    # dropped under them are faulted in again)
    release_rows: Callable[[int], None] | None = None


@dataclass
class Layout:
    """How a table's columns are used."""

    target_col: str | None = None
    id_col: str | None = None
    class_axis: int = 1      # arrays of rank >= 3: where the classes are
    logprob_col: str | None = None  # log-probability input: the column holding them
    weight_col: str | None = None   # --weight-col: a column of sample weights
    shift: bool = False      # sequences: score position t against the label at t + 1
    key: str | None = None   # safetensors, .pt: the tensor holding the predictions


def split_columns(columns: list[str], layout: Layout, name: str):
    """(target column, id column, score columns) of a table's header."""
    def pick(explicit, defaults, what):
        if explicit is not None:
            if explicit not in columns:
                raise InputError(f"has no {what} column {explicit!r} (columns: "
                                 f"{', '.join(columns[:20])})", name)
            return explicit
        lower = {c.lower(): c for c in columns}
        found = [lower[d] for d in defaults if d in lower]
        if len(found) > 1:
            raise InputError(f"has both {found[0]!r} and {found[1]!r} columns: say which "
                             f"holds the {what}s with --{what}-col", name)
        return found[0] if found else None
    target = pick(layout.target_col, TARGET_NAMES, "target")
    ident = pick(layout.id_col, ID_NAMES, "id")
    weight = pick(layout.weight_col, (), "weight") if layout.weight_col else None
    logprob = pick(layout.logprob_col, LOGPROB_NAMES, "logprob")
    if logprob is not None:  # one score, the target's log-probability; the rest is context
        return target, ident, [logprob]
    scores = [c for c in columns if c not in (target, ident, weight)]
    if not scores:
        raise InputError("has no score columns", name)
    return target, ident, scores


def logprob_layout(columns: list[str], scores: list[str], layout: Layout):
    """(is this log-probability input, its sequence column or None)."""
    is_logprob = layout.logprob_col is not None or (
        len(scores) == 1 and scores[0].lower() in LOGPROB_NAMES)
    if not is_logprob:
        return False, None
    lower = {c.lower(): c for c in columns}
    found = next((lower[n] for n in SEQUENCE_NAMES if n in lower), None)
    return True, (found if found not in scores else None)


def mark_logprobs(table: "Table", columns: list[str], scores: list[str], layout: Layout):
    table.logprobs, table.group_col = logprob_layout(columns, scores, layout)
    return table


def rows_per_batch(row_values: int, itemsize: int, converted: bool,
                   cap: int | None = None) -> int:
    """Rows in a batch of arrays, a power of two: BATCH_BYTES of the stored
    values, or, when each batch is converted on reading (its float32 is new
    memory), CONVERTED_BATCH_BYTES of float32; at most ``cap``."""
    budget = CONVERTED_BATCH_BYTES // (4 * row_values) if converted else \
        BATCH_BYTES // (itemsize * row_values)
    return power_of_two_below(max(1, budget if cap is None else min(cap, budget)))


def power_of_two_below(n: int) -> int:
    """Batches of a power of two rows tile the scorer's units (also powers
    of two) exactly: no unit is stitched from two batches, which copies it."""
    return 1 << max(0, int(n).bit_length() - 1)


def where(row0: int, first_line: int | None) -> dict:
    """Error position: ``line`` for text formats, ``row`` (1-based) otherwise."""
    if first_line is None:
        return {"row": row0 + 1}
    return {"row": first_line + row0, "line": True}


def frame_batch(df, start: int, target: str | None, ident: str | None,
                scores: list[str], name: str, lines: np.ndarray | None,
                group: str | None = None, weight: str | None = None) -> Batch:
    """A pandas chunk to a Batch; every score cell must be a number.
    ``lines``: the line of each row in a text file (None: rows of a table)."""
    def at(i: int) -> dict:
        return InputError.row_of(i, start, lines)

    values = df[scores]
    bad = [c for c, dt in values.dtypes.items() if dt.kind not in "iuf"]
    if bad:
        import pandas as pd
        for col in scores:
            kind = values[col].dtype.kind
            if kind in "iuf":
                continue
            if kind in "bMm" and len(values):  # True/False, dates: not scores
                what = {"b": "a boolean", "M": "a date", "m": "a duration"}[kind]
                raise InputError(f"{str(values[col].iloc[0])[:40]!r} is {what}, not a number",
                                 name, **at(0), column=col)
            as_num = pd.to_numeric(values[col], errors="coerce")
            wrong = np.flatnonzero(as_num.isna().to_numpy() & values[col].notna().to_numpy())
            if wrong.size:
                i = int(wrong[0])
                raise InputError(f"{str(values[col].iloc[i])[:40]!r} is not a number",
                                 name, **at(i), column=col)
        values = values.apply(pd.to_numeric, errors="coerce")
    array = values.to_numpy(dtype=np.float64 if values.dtypes.nunique() != 1
                            or values.dtypes.iloc[0].kind not in "f" else None)
    array = np.ascontiguousarray(array)  # pandas hands back columns; the core reads rows
    return Batch(start, array,
                 df[target].to_numpy() if target else None,
                 df[ident].to_numpy() if ident else None, lines,
                 df[group].to_numpy() if group else None,
                 weight_values(df, weight, name, at) if weight else None)


def weight_values(df, weight: str, name: str, at) -> np.ndarray:
    """--weight-col: numbers, finite and >= 0, or the row and column named."""
    import pandas as pd
    column = df[weight]
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~(np.isfinite(values) & (values >= 0)))
    if bad.size:
        i = int(bad[0])
        raise InputError(f"weight {str(column.iloc[i])[:40]!r} is not a finite number >= 0",
                         name, **at(i), column=weight)
    return values
