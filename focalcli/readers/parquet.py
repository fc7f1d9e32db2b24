"""Parquet, read by row groups (needs pyarrow: the ``arrow`` extra)."""
from __future__ import annotations

import numpy as np

from ..errors import InputError
from .source import Source
from .table import (BATCH_BYTES, Batch, Layout, Table, frame_batch, logprob_layout,
                    mark_logprobs, split_columns, weight_values)


def read_parquet(src: Source, layout: Layout) -> Table:
    name = src.name
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError("reading Parquet needs pyarrow: pip install 'focalcli[arrow]'",
                         name) from None
    try:
        pf = pq.ParquetFile(src.real)
    except Exception as err:  # pyarrow raises its own ArrowInvalid/OSError kinds
        raise InputError(f"not a valid Parquet file ({_said(err)})", name) from None
    columns = list(pf.schema_arrow.names)
    target, ident, scores = split_columns(columns, layout, name)
    logprobs, group = logprob_layout(columns, scores, layout)

    # rows per batch bounded by bytes: 8 bytes a cell, 64 MB a batch (narrow
    # tables such as log-probabilities read up to 1M rows at a time)
    needed = [c for c in columns if c in (target, ident, group, layout.weight_col)
              or c in scores]
    cap = src.batch_rows if not logprobs else 1 << 20
    rows = max(1, min(cap, BATCH_BYTES // (8 * max(1, len(needed)))))

    def batches():
        start = 0
        try:
            for rb in _record_batches(pf, rows, needed):
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
            raise InputError(f"corrupt Parquet data ({_said(err)})", name) from None
    table = Table(name, "parquet", batches, len(scores), None if logprobs else scores,
                  target is not None, pf.metadata.num_rows)
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
