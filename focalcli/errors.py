"""Errors that carry their place, and the exit codes they map to."""
from __future__ import annotations

import enum


class ExitStatus(enum.IntEnum):
    """Every exit code `focal` uses. A gate (1) is distinct from an error (2, 3)."""

    OK = 0
    GATE_FAILED = 1  # only --fail-above
    BAD_INPUT = 2  # usage errors and bad input
    INTERNAL = 3  # a bug
    INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, as shells report it


class FocalError(Exception):
    """A problem the user can fix; the CLI prints one line and exits 2."""

    exit_status = ExitStatus.BAD_INPUT


class InputError(FocalError):
    """Bad input, located as precisely as we know: file, 1-based row, column."""

    def __init__(self, message: str, file: str | None = None,
                 row: int | None = None, column: str | int | None = None,
                 line: bool = False):
        super().__init__(message)
        self.message = message
        self.file = file
        self.row = row
        self.column = column
        self.unit = "line" if line else "row"

    def located(self, file=None, row_offset: int = 0) -> "InputError":
        """Fill in what an inner layer could not know (its file, its rows' offset)."""
        if self.file is None:
            self.file = file
        if self.row is not None:
            self.row += row_offset
        return self

    def __str__(self) -> str:
        where = [self.file if self.file is not None else None]
        if self.row is not None:
            where.append(f"{self.unit} {self.row}")
        if self.column is not None:
            col = self.column
            where.append(f"column {col!r}" if isinstance(col, str) else f"column {col + 1}")
        place = ", ".join(w for w in where if w)
        return f"{place}: {self.message}" if place else self.message


class OptionError(FocalError):
    """A bad option value, named by its option."""

    def __init__(self, option: str, message: str):
        super().__init__(f"{option}: {message}")
