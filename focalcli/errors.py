"""Errors that carry their place, and the exit codes they map to."""
from __future__ import annotations

import contextlib
import enum
import re
import signal


class ExitStatus(enum.IntEnum):
    """Every exit code `focal` uses. A gate (1) is distinct from an error (2, 3)."""

    OK = 0
    GATE_FAILED = 1  # only a gate: score --fail-above, compare --max-increase ...
    BAD_INPUT = 2  # usage errors and bad input
    INTERNAL = 3  # a bug
    INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, as shells report it


class FocalError(Exception):
    """A problem the user can fix; the CLI prints one line and exits 2."""

    exit_status = ExitStatus.BAD_INPUT


class InputError(FocalError, ValueError):
    """Bad input, located as precisely as we know: file, 1-based row, column.
    A ValueError too, so the Python API's callers catch what they expect."""

    def __init__(self, message: str, file: str | None = None,
                 row: int | None = None, column: str | int | None = None,
                 line: bool = False, place: str | None = None):
        super().__init__(message)
        self.message = message
        self.file = file
        self.row = row
        self.column = column
        self.unit = "line" if line else "row"
        self.place = place  # a position said in words (dense inputs), instead of a row

    @staticmethod
    def row_of(i: int, start: int, lines=None) -> dict:
        """Where row ``i`` of a batch starting at row ``start`` is, as
        keywords of InputError: its line in a text file where ``lines``
        tells it, else its row number (a row no line is known of)."""
        if lines is None or i >= len(lines):
            return {"row": start + i + 1}
        return {"row": int(lines[i]), "line": True}

    def located(self, file=None, row_offset: int = 0) -> "InputError":
        """Fill in what an inner layer could not know (its file, its rows' offset)."""
        if self.file is None:
            self.file = file
        if self.row is not None:
            self.row += row_offset
        return self

    def __str__(self) -> str:
        where = [self.file if self.file is not None else None]
        if self.place is not None:
            where.append(self.place)
        elif self.row is not None:
            # rows count from 1 in messages, and from 0 in `index`: say both
            where.append(f"line {self.row}" if self.unit == "line" else
                         f"row {self.row} (index {self.row - 1})")
        if self.column is not None:
            col = self.column
            where.append(f"column {col!r}" if isinstance(col, str) else f"column {col + 1}")
        place = ", ".join(w for w in where if w)
        return f"{place}: {self.message}" if place else self.message


class OptionError(FocalError):
    """A bad option value, named by its option."""

    def __init__(self, option: str, message: str):
        super().__init__(f"{option}: {message}")


class Terminated(BaseException):
    """SIGTERM or SIGHUP, raised in the main thread so that every context
    manager on the way out (temporary outputs, the stdin spool) cleans up,
    as it does for Ctrl-C. A BaseException: no ``except Exception`` stops it."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum
        self.name = signal.Signals(signum).name


def _terminate(signum, frame):
    raise Terminated(signum)


@contextlib.contextmanager
def terminating_signals():
    """Turn SIGTERM and SIGHUP into :class:`Terminated` while the block runs
    (only in the main thread, where Python delivers signals)."""
    import threading
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    wanted = [getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n)]
    previous = {s: signal.signal(s, _terminate) for s in wanted}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """User text (file names, class names, ids) safe for a terminal: control
    characters (escape sequences, carriage returns, ...) shown as ``\\x1b``."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
