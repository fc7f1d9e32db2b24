"""Parquet (by row groups) and Arrow IPC / Feather (by record batches), through
pyarrow (the ``arrow`` extra): both become the same table of columns."""
from __future__ import annotations

import numpy as np

from ..errors import InputError
from .source import Source
from .table import (BATCH_BYTES, Batch, Layout, Table, frame_batch, logprob_layout,
                    mark_logprobs, split_columns, weight_values)


def read_parquet(src: Source, layout: Layout) -> Table:
    name = src.name
    pq = _pyarrow(name, "Parquet", "parquet")
    try:
        pf = pq.ParquetFile(src.real)
    except Exception as err:  # pyarrow raises its own ArrowInvalid/OSError kinds
        raise InputError(f"not a valid Parquet file ({_said(err)})", name) from None
    return arrow_table(src, layout, "parquet", list(pf.schema_arrow.names),
                       pf.metadata.num_rows,
                       lambda rows, needed: _record_batches(pf, rows, needed))


def read_arrow(src: Source, layout: Layout) -> Table:
    """Arrow IPC files (``.arrow``, Feather v2 ``.feather``), memory-mapped and
    read record batch by record batch; the IPC stream format too."""
    name = src.name
    pa = _pyarrow(name, "Arrow IPC", "")
    import pyarrow.ipc as ipc

    def opened():
        source = pa.memory_map(src.real, "r")
        try:
            return ipc.open_file(source)
        except pa.ArrowInvalid:
            return ipc.open_stream(pa.memory_map(src.real, "r"))
    try:
        reader = opened()
        schema = reader.schema
        n_rows = sum(reader.get_batch(i).num_rows for i in range(reader.num_record_batches)) \
            if hasattr(reader, "num_record_batches") else None
    except Exception as err:
        raise InputError(f"not a valid Arrow IPC file ({_said(err)})", name) from None

    def record_batches(rows, needed):
        r = opened()
        parts = (r.get_batch(i) for i in range(r.num_record_batches)) \
            if hasattr(r, "num_record_batches") else iter(r)
        for rb in parts:
            rb = rb.select(needed)
            for lo in range(0, rb.num_rows, rows):
                yield rb.slice(lo, rows)
    return arrow_table(src, layout, "arrow", list(schema.names), n_rows, record_batches)


def _pyarrow(name: str, what: str, module: str):
    try:
        import pyarrow as pa
        if module:
            import pyarrow.parquet as pq
            return pq
        return pa
    except ImportError:
        raise InputError(f"reading {what} needs pyarrow: pip install 'focalcli[arrow]'",
                         name) from None


def arrow_table(src: Source, layout: Layout, fmt: str, columns: list[str], n_rows,
                record_batches) -> Table:
    """A Table over an Arrow source: ``record_batches(rows, columns)`` yields
    record batches of at most ``rows`` rows holding ``columns``."""
    name = src.name
    target, ident, scores = split_columns(columns, layout, name)
    logprobs, group = logprob_layout(columns, scores, layout)

    # rows per batch bounded by bytes: 8 bytes a cell, 64 MB a batch (narrow
    # tables such as log-probabilities read up to 1M rows at a time)
    needed = [c for c in columns if c in (target, ident, group, layout.weight_col)
              or c in scores]
    cap = src.batch_rows if not logprobs else 1 << 20
    rows = max(1, min(cap, BATCH_BYTES // (8 * max(1, len(needed)))))
    what = "Parquet" if fmt == "parquet" else "Arrow IPC"

    def batches():
        start = 0
        try:
            for rb in record_batches(rows, needed):
                if logprobs:
                    batch = _logprob_batch(rb, start, target, ident, scores[0], group, name)
                    if layout.weight_col:
                        batch.weights = weight_values(
                            rb.select([layout.weight_col]).to_pandas(), layout.weight_col,
                            name, lambda i, s=start: {"row": s + i + 1})
                    yield batch
                    start += rb.num_rows
                    continue
                df = rb.to_pandas()
                yield frame_batch(df, start, target, ident, scores, name, None, group,
                                  layout.weight_col)
                start += len(df)
        except InputError:
            raise
        except Exception as err:
            raise InputError(f"corrupt {what} data ({_said(err)})", name) from None
    table = Table(name, fmt, batches, len(scores), None if logprobs else scores,
                  target is not None, n_rows)
    return mark_logprobs(table, columns, scores, layout)


def _logprob_batch(rb, start, target, ident, logprob, group, name) -> Batch:
    """Log-probability rows straight from Arrow (no pandas frame: at 50M
    tokens that conversion was a third of the time)."""
    import pyarrow as pa

    def column(c, text=False):
        array = rb.column(c)
        if text:
            return np.asarray(array.cast(pa.string()).to_pylist(), dtype=object)
        return array.to_numpy(zero_copy_only=False)
    scores = column(logprob)
    if scores.dtype.kind not in "iuf":
        raise InputError(f"column {logprob!r} holds {rb.schema.field(logprob).type}, not "
                         "numbers", name)
    targets = None
    if target:
        kind = rb.schema.field(target).type
        targets = column(target, not (pa.types.is_integer(kind) or pa.types.is_floating(kind)))
    return Batch(start, scores, targets, column(ident, True) if ident else None,
                 groups=column(group, True) if group else None)


ROW_GROUP_BYTES = 256 << 20  # row groups up to this size are read whole, on threads


def _record_batches(pf, rows: int, columns: list[str]):
    """The file's record batches of at most ``rows`` rows. A row group of
    moderate size is read whole, decoded on pyarrow's threads (2.4 times
    faster than iter_batches on 50M log-probabilities, and less memory);
    a huge one is streamed."""
    for i in range(pf.metadata.num_row_groups):
        if pf.metadata.row_group(i).total_byte_size > ROW_GROUP_BYTES:
            yield from pf.iter_batches(batch_size=rows, columns=columns, row_groups=[i])
            continue
        table = pf.read_row_group(i, columns=columns)
        for rb in table.to_batches(max_chunksize=rows):
            yield rb


def _said(err: Exception, limit: int = 200) -> str:
    """pyarrow's first line, whole; a long one cut at a word, with '...'."""
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " ..."
