"""Where an input's bytes come from: paths and standard input (spooled to a
temporary file, so it can be sniffed, mapped and read more than once), the
format (extension, ``--input-format`` or the first bytes), gzip, bounded
lines, and the translation of every way a file can break into one located
:class:`InputError`."""
from __future__ import annotations

import contextlib
import gzip
import io
import itertools
import json
import os
import stat
import sys
import zlib
from dataclasses import dataclass
from typing import Iterator

from ..errors import InputError

BATCH_ROWS = 65536
MAX_LINE = 64 << 20  # longer lines are refused: memory stays bounded on hostile input
EXTENSIONS = {".npy": "npy", ".npz": "npz", ".csv": "csv", ".tsv": "tsv",
              ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl",
              ".parquet": "parquet", ".txt": "txt", ".safetensors": "safetensors",
              ".arrow": "arrow", ".feather": "arrow", ".pt": "pt", ".pth": "pt",
              ".nii": "nifti"}
TEXT_FORMATS = ("csv", "tsv", "json", "jsonl", "txt")
PREDICTION_FORMATS = ("npy", "npz", "csv", "tsv", "json", "jsonl", "parquet", "safetensors",
                      "arrow", "pt", "nifti")
TARGET_FORMATS = ("npy", "csv", "tsv", "txt", "json", "nifti")


def display_name(path: str) -> str:
    return "<stdin>" if path == "-" else path


class Spool:
    """Copies of inputs that can be read only once (standard input, a FIFO,
    a process substitution ``<(...)``) in temporary files, removed on exit
    (the CLI holds one per command as a context resource)."""

    def __init__(self):
        self.paths: dict[str, str] = {}

    def __enter__(self) -> "Spool":
        return self

    def __exit__(self, *exc):
        while self.paths:
            with contextlib.suppress(OSError):
                os.unlink(self.paths.popitem()[1])

    def fetch(self, url: str) -> str:
        """A local copy of the file behind an fsspec URL."""
        if url not in self.paths:
            import tempfile  # here: with random and shutil, 5 ms at every start

            from .remote import download
            fd, self.paths[url] = tempfile.mkstemp(prefix="focal-remote-",
                                                   suffix=os.path.splitext(url)[1])
            os.close(fd)
            download(url, self.paths[url])
        return self.paths[url]

    def copy(self, path: str) -> str:
        """The temporary copy of ``path`` ('-' for standard input)."""
        if path not in self.paths:
            import shutil
            import tempfile
            fd, self.paths[path] = tempfile.mkstemp(prefix="focal-stdin-" if path == "-"
                                                    else "focal-pipe-")
            with os.fdopen(fd, "wb") as out:
                if path == "-":
                    shutil.copyfileobj(sys.stdin.buffer, out, 1 << 20)
                else:
                    with open(path, "rb") as f:
                        shutil.copyfileobj(f, out, 1 << 20)
        return self.paths[path]


@dataclass
class Source:
    """An input to open: what the user named, the file to read, its format."""

    path: str                 # as given ('-' for stdin)
    real: str                 # the file to read (a URL when ``ranged``)
    fmt: str
    compressed: bool = False
    batch_rows: int = BATCH_ROWS
    ranged: bool = False      # a remote .npy, read by byte ranges

    @property
    def name(self) -> str:
        return display_name(self.path)


def locate(path: str, spool: Spool | None, explicit: str | None, allowed,
           batch_rows: int = BATCH_ROWS, ranged: bool = False) -> Source:
    """A checked Source for ``path``: it exists, is a non-empty file, and has
    a format from ``allowed``. A URL is opened through fsspec: a ``.npy`` is
    read in ranges when ``ranged``, anything else is copied to the spool."""
    from .remote import is_url, local_path, require_file
    name = display_name(path)
    if is_url(path):
        require_file(path, name)  # before its extension is judged, or its header
        with read_errors(name):
            fmt, compressed = detect_format(path, path, explicit, allowed)
            if ranged and fmt in ("npy", "safetensors"):
                return Source(path, path, fmt, compressed, batch_rows, ranged=True)
            real = (spool or Spool()).fetch(path)
            if os.path.getsize(real) == 0:
                raise InputError("is empty", name)
        return Source(path, real, fmt, compressed, batch_rows)
    with read_errors(name):
        real = path = local_path(path)
        if path != "-":
            mode = os.stat(path).st_mode  # FileNotFoundError: read_errors words it
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                real = (spool or Spool()).copy(path)  # a pipe: read once, keep a copy
        else:
            real = (spool or Spool()).copy(path)
        fmt, compressed = detect_format(path, real, explicit, allowed)
        if os.path.isdir(real):
            raise IsADirectoryError(real)
        if os.path.getsize(real) == 0:
            raise InputError("is empty", name)
    return Source(path, real, fmt, compressed, batch_rows)


def detect_format(path: str, real_path: str, explicit: str | None,
                  allowed=PREDICTION_FORMATS) -> tuple[str, bool]:
    """(format, gzip-compressed) from ``--input-format``, the extension, or,
    for standard input, the first bytes."""
    name = display_name(path)
    compressed = path.lower().endswith(".gz") and not path.lower().endswith(".nii.gz")
    if explicit:
        fmt = explicit.lower().lstrip(".")
        if fmt.endswith(".gz"):
            fmt, compressed = fmt[:-3], True
    elif path == "-" or (real_path != path and not os.path.splitext(path)[1]):
        fmt, compressed = sniff(real_path, name)  # stdin, or a pipe with no extension
    else:
        stem = path[:-3] if compressed or path.lower().endswith(".nii.gz") else path
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


def sniff(path: str, name: str = "<stdin>") -> tuple[str, bool]:
    with open(path, "rb") as f:
        head = f.read(4096)
    if head[:2] == b"\x1f\x8b":
        try:
            with gzip.open(path, "rb") as g:
                inner = g.read(4096)
        except (OSError, EOFError, zlib.error):
            raise InputError("corrupt or truncated gzip data", name) from None
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
        return "json" if logits and isinstance(logits, list) and \
            isinstance(logits[0], list) else "jsonl"
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


def count_lines(src: Source) -> int:
    """Lines holding anything but white space (what the parsers count as rows)."""
    count, tail = 0, b""
    with read_errors(src), open_binary(src) as f:
        while piece := f.read(1 << 24):
            piece = tail + piece
            cut = piece.rfind(b"\n") + 1
            whole, tail = piece[:cut], piece[cut:]
            count += sum(1 for line in whole.split(b"\n") if line.strip())
    return count + (1 if tail.strip() else 0)


def open_binary(src: Source):
    return gzip.open(src.real, "rb") if src.compressed else open(src.real, "rb")


def open_text(src: Source) -> io.TextIOBase:
    return io.TextIOWrapper(open_binary(src), encoding="utf-8-sig", newline="")


def first_bad_utf8(src: Source) -> tuple[int, int] | None:
    """(1-based line, 0-based byte within it) of the first byte that is not
    UTF-8 text. Decoders report offsets inside their own buffers; this reads
    the file again, in pieces, to give the file's own position."""
    import codecs
    decoder = codecs.getincrementaldecoder("utf-8")()
    line, line_start, offset = 1, 0, 0
    with open_binary(src) as f:
        while piece := f.read(1 << 20):
            try:
                decoder.decode(piece)
            except UnicodeDecodeError as err:
                bad = err.start
                line += piece.count(b"\n", 0, bad)
                last = piece.rfind(b"\n", 0, bad)
                column = bad - last - 1 if last >= 0 else offset + bad - line_start
                return line, column
            line += piece.count(b"\n")
            last = piece.rfind(b"\n")
            if last >= 0:
                line_start = offset + last + 1
            offset += len(piece)
    return None


@contextlib.contextmanager
def read_errors(where: "Source | str"):
    """Turn the many ways a file can be broken into one located InputError
    (given the Source, a decoding error names its line in the file)."""
    name = where.name if isinstance(where, Source) else where
    try:
        yield
    except InputError as err:
        raise err.located(name)
    except (EOFError, zlib.error, gzip.BadGzipFile):
        raise InputError("corrupt or truncated gzip data", name) from None
    except UnicodeDecodeError:
        place = first_bad_utf8(where) if isinstance(where, Source) else None
        if place is None:
            raise InputError("not valid UTF-8 text", name) from None
        raise InputError(f"not valid UTF-8 text (byte {place[1] + 1} of the line)", name,
                         row=place[0], line=True) from None
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
