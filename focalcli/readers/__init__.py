"""Input formats. Every reader takes a :class:`Source` and a :class:`Layout`
and returns a :class:`Table` that yields :class:`Batch` es of rows, so no
input has to be in memory at once (``.json`` and ``.npz`` load whole: their
formats have no rows to stream). TARGETS files live in ``target_files``.

A new format is one module with a reader of that signature and one entry in
:data:`READERS`."""
from __future__ import annotations

from .arrays import array_table, read_npy, read_npz
from .delimited import read_csv
from .jsonfmt import read_json, read_jsonl
from .parquet import read_arrow, read_parquet
from .nifti import read_nifti
from .safetensors import read_safetensors
from .torchfile import read_pt
from .source import BATCH_ROWS, PREDICTION_FORMATS, Source, Spool, display_name, locate
from .table import Batch, Layout, Table
from .target_files import TargetFile, open_targets

READERS = {"npy": read_npy, "npz": read_npz, "csv": read_csv, "tsv": read_csv,
           "json": read_json, "jsonl": read_jsonl, "parquet": read_parquet,
           "safetensors": read_safetensors, "arrow": read_arrow, "pt": read_pt,
           "nifti": read_nifti}

__all__ = ["Batch", "Layout", "Table", "Source", "Spool", "TargetFile", "READERS",
           "array_table", "display_name", "open_predictions", "open_targets"]


def open_predictions(path: str, input_format: str | None = None,
                     layout: Layout | None = None, batch_rows: int = BATCH_ROWS,
                     spool: Spool | None = None) -> Table:
    """Open PREDICTIONS (a path or ``-``) as a Table of batches."""
    src = locate(path, spool, input_format, PREDICTION_FORMATS, batch_rows, ranged=True)
    from .source import read_errors
    with read_errors(src):
        return READERS[src.fmt](src, layout or Layout())
