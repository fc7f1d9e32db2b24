"""render.py's lines and tables written as rich writes them to a pipe or a
file (no colour, 100 columns), without importing rich: rich's import and
layout cost a command 60-80 ms, more than scoring a million rows costs
beyond reading them. Whatever rich would lay out differently (a line wider
than the page, wide or control characters, tabs, a table that must shrink,
markup beyond a few plain styles) goes to rich itself, so the bytes are
rich's either way; tests/test_plain.py holds the two paths to one output."""
from __future__ import annotations

import builtins
import os
import re
import sys

#: rich's console markup: a tag opens with a letter, '#', '/' or '@'
_TAGS = re.compile(r"((\\*)\[([a-z#/@][^[]*?)])")
#: the styles render.py writes, which change nothing on a stream without colour
_STYLES = {"bold", "cyan", "bold red", "red", "green", "dim"}
WIDTH = 100  # render.console's width off a terminal


def markup_text(markup: str) -> str | None:
    """The text rich shows for ``markup``, or None where the markup holds a
    tag this module does not know (rich then renders it)."""
    if "[" not in markup:
        return markup
    parts, position = [], 0
    for match in _TAGS.finditer(markup):
        whole, escapes, tag = match.groups()
        start, end = match.span()
        if start > position:
            parts.append(markup[position:start])
        position = end
        if escapes:
            backslashes, escaped = divmod(len(escapes), 2)
            parts.append("\\" * backslashes)
            if escaped:  # an escaped '[': the tag's text is plain
                parts.append(whole[len(escapes):])
                continue
        name = tag[1:].strip() if tag.startswith("/") else tag
        if "=" in tag or (name and name not in _STYLES):
            return None
    parts.append(markup[position:])
    return "".join(p.replace("\\[", "[") for p in parts)


def _plain_line(text: str | None, width: int = WIDTH) -> bool:
    """A line rich writes as it is: printable ASCII within the page."""
    return text is not None and len(text) <= width and text.isascii() and \
        text.isprintable()


_WORD = re.compile(r"\s*\S+\s*")


def wrapped(text: str | None, width: int = WIDTH) -> list[str] | None:
    """Printable ASCII text in lines as rich wraps it: a word (with the
    spaces after it) goes on to the next line where it does not fit, and
    a line loses the spaces that stick out of the page. None for what rich
    would fold (a word wider than the page) or lay out by cells."""
    if text is None or not (text.isascii() and text.isprintable()):
        return None
    if len(text) <= width:
        return [text]
    lines, start, offset = [], 0, 0
    for word in _WORD.finditer(text):
        size = len(word.group().rstrip())
        if size > width:
            return None
        if width - offset >= size:
            offset += len(word.group())
        elif offset and word.start():
            lines.append(text[start:word.start()])
            start, offset = word.start(), len(word.group())
    lines.append(text[start:])
    return [line[:max(width, len(line.rstrip()))] for line in lines]


class Column:
    def __init__(self, header: str, justify: str):
        self.header, self.justify = header, justify


class Grid:
    """A borderless table (render.py's only kind): rich renders it through
    ``__rich__``, the plain console by itself."""

    def __init__(self, title: str = ""):
        self.focal_title = title
        self.columns: list[Column] = []
        self.rows: list[tuple[str, ...]] = []

    def add_column(self, header: str, justify: str = "left"):
        self.columns.append(Column(header, justify))

    def add_row(self, *cells: str):
        self.rows.append(cells)

    def __rich__(self):
        from rich.table import Table
        table = Table(box=None, pad_edge=False, header_style="bold")
        for c in self.columns:
            # fold rather than cut a value on a narrow terminal: digits never become '...'
            table.add_column(c.header, justify=c.justify, overflow="fold")
        for row in self.rows:
            table.add_row(*row)
        return table

    def lines(self, width: int = WIDTH) -> list[str] | None:
        """The table's lines with two spaces between columns, or None where
        rich would fold or shrink it."""
        texts = [[markup_text(c.header) for c in self.columns]]
        texts += [[markup_text(cell) for cell in row] for row in self.rows]
        if any(len(row) != len(self.columns) or not all(_plain_line(t) for t in row)
               for row in texts):
            return None
        widths = [max(len(row[i]) for row in texts) for i in range(len(self.columns))]
        if sum(widths) + 2 * (len(widths) - 1) > width:
            return None
        justs = [c.justify for c in self.columns]
        if any(j not in ("left", "right") for j in justs):
            return None
        # a right-justified cell loses its trailing spaces, as rich's does
        return ["  ".join(t.rstrip().rjust(w) if j == "right" else t.ljust(w)
                          for t, w, j in zip(row, widths, justs)) for row in texts]


def usable(stream) -> bool:
    """Whether rich would write plain text to ``stream``: not a terminal,
    no setting that forces colour, not a notebook or IDLE."""
    env = os.environ
    if any(env.get(v) is not None for v in ("FORCE_COLOR", "TTY_COMPATIBLE",
                                             "TTY_INTERACTIVE")):
        return False
    if hasattr(builtins, "get_ipython") or \
            getattr(sys.stdin, "__module__", "").startswith("idlelib"):
        return False
    try:
        return not stream.isatty()
    except (AttributeError, ValueError):
        return False


class Console:
    """The part of rich's Console render.py uses, writing plain text
    itself where rich's would be the same, and handing the rest to rich."""

    def __init__(self, stream):
        self.file = stream
        self.encoding = (getattr(stream, "encoding", None) or "utf-8").lower()
        self._rich = None

    def print(self, *objects):
        if not objects:
            self.file.write("\n")
            return
        lines = None
        if len(objects) == 1 and isinstance(objects[0], str):
            lines = wrapped(markup_text(objects[0]))
        elif len(objects) == 1 and isinstance(objects[0], Grid):
            lines = objects[0].lines()
        if lines is None:
            self.rich().print(*objects)
        else:
            self.file.write("".join(line + "\n" for line in lines))

    def rich(self):
        if self._rich is None:
            from rich.console import Console as Rich
            self._rich = Rich(file=self.file, highlight=False, soft_wrap=False, emoji=False,
                              width=WIDTH)
        return self._rich


def escape(text: str) -> str:
    """rich.markup.escape: the text's tag-like '[...]' shown as written."""
    text = re.sub(r"(\\*)(\[[a-z#/@][^[]*?])",
                  lambda m: f"{m.group(1)}{m.group(1)}\\{m.group(2)}", text)
    if text.endswith("\\") and not text.endswith("\\\\"):
        return text + "\\"
    return text
