"""Standard output as every command writes it: one guard for a reader that
goes away (``focal score ... | head -1``).

rich turns a broken pipe into ``SystemExit(1)``, the code of a failed gate,
and click into an exception that ends the command before its gate is
decided. The guard takes the broken pipe where the bytes are written: the
rest of the output goes nowhere, and the command finishes as it would have,
so its exit code is its own (0, or 1 for a gate that failed).
"""
from __future__ import annotations

import contextlib
import io
import os
import sys


def silence_stdout():
    """Point stdout at /dev/null, so the interpreter's last flush at exit
    does not fail again on a pipe or device that refused our output."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


class PipeGuard(io.TextIOBase):
    """A text stream over ``stream`` that drops what is written once the
    reader has gone. Everything else is the stream's own. (A TextIOBase, so
    writers take it for the text stream it is.)"""

    def __init__(self, stream):
        super().__init__()
        self._stream = stream
        self.closed_by_reader = False

    @property
    def encoding(self):
        return self._stream.encoding

    @property
    def errors(self):
        return self._stream.errors

    def fileno(self):
        return self._stream.fileno()

    def isatty(self):
        return self._stream.isatty()

    def writable(self):
        return True

    def write(self, text):
        if self.closed_by_reader:
            return len(text)
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._gone()
            return len(text)

    def flush(self):
        if self.closed_by_reader:
            return
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._gone()

    def _gone(self):
        self.closed_by_reader = True
        silence_stdout()

    def __getattr__(self, name):
        return getattr(self._stream, name)


@contextlib.contextmanager
def guarded_stdout():
    """sys.stdout behind a PipeGuard for the length of a command."""
    real = sys.stdout
    sys.stdout = PipeGuard(real)
    try:
        yield sys.stdout
    finally:
        sys.stdout = real
