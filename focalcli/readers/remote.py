"""Inputs behind fsspec URLs (``s3://``, ``gs://``, ``az://``, ``https://``,
``memory://``, ...): a ``.npy`` is read in byte ranges, a batch at a time,
never downloaded whole; any other format is copied to a temporary file first
(its reader needs to seek, sniff or map it). Credentials come from wherever
fsspec's backend looks (environment, config files) and are never printed.

fsspec is an optional dependency (``focalcli[dask]``; ``focalcli[cloud]``
adds the object-storage backends)."""
from __future__ import annotations

import contextlib
import math
import re

import numpy as np

from ..errors import InputError, OptionError
from .npyformat import check_dtype, numpy_format_errors

_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


def is_url(path: str) -> bool:
    """An fsspec URL other than ``file://`` (which is a plain path)."""
    return bool(_URL.match(path)) and not path.startswith("file://")


def local_path(path: str) -> str:
    return path[len("file://"):] if path.startswith("file://") else path


@contextlib.contextmanager
def remote_errors(name: str):
    """Storage fails in its own ways (no credentials, no such bucket, a
    refused connection, botocore's and aiohttp's exceptions): one located
    line each, never a traceback. Secrets are not in these messages."""
    try:
        yield
    except (InputError, OptionError):
        raise
    except FileNotFoundError:
        raise InputError("no such file", name) from None
    except PermissionError:
        raise InputError("permission denied (check the credentials)", name) from None
    except Exception as err:  # noqa: BLE001 - every backend raises its own
        text = str(err).splitlines()[0] if str(err) else ""
        raise InputError(f"cannot read from storage: {type(err).__name__}"
                         + (f": {text[:200]}" if text else ""), name) from None


def fsspec_module():
    try:
        import fsspec
    except ImportError:
        raise OptionError("PREDICTIONS", "URLs need fsspec: pip install 'focalcli[dask]' "
                          "(and 'focalcli[cloud]' for s3://, gs://, az://)") from None
    return fsspec


def filesystem(url: str):
    """(filesystem, path within it) for ``url``; a missing backend names the
    package that provides it."""
    fsspec = fsspec_module()
    try:
        fs, path = fsspec.core.url_to_fs(url)  # no glob expansion here: shards.py does it
    except ImportError as err:
        raise InputError(f"no fsspec backend for this URL ({err}); for object storage: "
                         "pip install 'focalcli[cloud]'", url) from None
    except ValueError as err:
        raise InputError(f"not a URL fsspec can open ({err})", url) from None
    return fs, path


def require_file(url: str, name: str):
    """A URL that names no object is "no such file", as a local path is."""
    fs, path = filesystem(url)
    with remote_errors(name):
        if not fs.isfile(path):
            raise InputError("no such file", name)


def download(url: str, into: str):
    """Copy ``url`` to the local file ``into``."""
    fs, path = filesystem(url)
    with remote_errors(url), fs.open(path, "rb") as src, open(into, "wb") as out:
        while piece := src.read(1 << 22):
            out.write(piece)


class RangedArray:
    """The rows of a remote C-order ``.npy``, read by byte range on slicing:
    ``a[lo:hi]`` fetches just those rows. Enough of the ndarray interface
    for :func:`readers.arrays.array_table`."""

    def __init__(self, url: str, name: str, layout: tuple | None = None):
        """``layout``: (offset, shape, dtype) of rows known from another
        header (a safetensors tensor); None reads the ``.npy`` header."""
        self.fs, self.path = filesystem(url)
        self.name = name
        if layout is not None:
            self.offset, shape, self.dtype = layout
            self.shape = tuple(shape)
            self.row_bytes = self.dtype.itemsize * math.prod(self.shape[1:])
            return
        with remote_errors(name), numpy_format_errors(name, ".npy"), \
                self.fs.open(self.path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                np.lib.format.read_array_header_2_0
            self.shape, fortran, self.dtype = read(f)
            self.offset = f.tell()
        check_dtype(self.dtype, name)
        if fortran and len(self.shape) > 1:
            raise InputError("a Fortran-order .npy cannot be read by rows from storage; "
                             "save it in C order (np.ascontiguousarray)", name)
        if len(self.shape) not in (1, 2):
            raise InputError(f"remote .npy inputs are (N, K) or (N,) rows; this one is "
                             f"{self.shape}: copy it locally for dense inputs", name)
        with remote_errors(name):
            size = self.fs.size(self.path)
        self.row_bytes = self.dtype.itemsize * math.prod(self.shape[1:])
        need = self.offset + self.shape[0] * self.row_bytes
        if size < need:
            raise InputError(f"truncated .npy: {size} bytes, header promises {need}", name)

    ndim = property(lambda self: len(self.shape))
    itemsize = property(lambda self: self.dtype.itemsize)

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, rows: slice) -> np.ndarray:
        lo, hi, _ = rows.indices(self.shape[0])
        start = self.offset + lo * self.row_bytes
        with remote_errors(self.name):
            data = self.fs.cat_file(self.path, start=start,
                                    end=start + (hi - lo) * self.row_bytes)
        return np.frombuffer(data, self.dtype).reshape((hi - lo,) + tuple(self.shape[1:]))


def read_bytes(url: str, name: str, start: int, end: int) -> bytes:
    """Bytes ``start .. end`` of a remote file (one ranged request)."""
    fs, path = filesystem(url)
    with remote_errors(name):
        return fs.cat_file(path, start=start, end=end)


def remote_size(url: str, name: str) -> int:
    fs, path = filesystem(url)
    with remote_errors(name):
        return fs.size(path)
