"""Parquet, read by row groups (needs pyarrow: the ``arrow`` extra)."""
from __future__ import annotations

from ..errors import InputError
from .arrays import BATCH_BYTES
from .source import Source
from .table import Layout, Table, frame_batch, logprob_layout, mark_logprobs, split_columns


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
        raise InputError(f"not a valid Parquet file ({str(err)[:80]})", name) from None
    columns = list(pf.schema_arrow.names)
    target, ident, scores = split_columns(columns, layout, name)
    logprobs, group = logprob_layout(columns, scores, layout)

    # rows per batch bounded by bytes: 8 bytes a cell, 64 MB a batch (narrow
    # tables such as log-probabilities read up to 1M rows at a time)
    needed = [c for c in columns if c in (target, ident, group) or c in scores]
    cap = src.batch_rows if not logprobs else 1 << 20
    rows = max(1, min(cap, BATCH_BYTES // (8 * max(1, len(needed)))))

    def batches():
        start = 0
        try:
            for rb in pf.iter_batches(batch_size=rows, columns=needed):
                df = rb.to_pandas()
                yield frame_batch(df, start, target, ident, scores, name, None, group)
                start += len(df)
        except InputError:
            raise
        except Exception as err:
            raise InputError(f"corrupt Parquet data ({str(err)[:80]})", name) from None
    table = Table(name, "parquet", batches, len(scores), None if logprobs else scores,
                  target is not None, pf.metadata.num_rows)
    return mark_logprobs(table, columns, scores, layout)
