"""plain.py writes what rich writes off a terminal, without importing rich.
rich itself is the reference: every output here is compared byte for byte
with rich's console (TTY_COMPATIBLE=0 makes render.py take rich's path and
keeps rich from colouring)."""
import io
import os
import subprocess
import sys

import pytest
from hypothesis import assume, given, settings, strategies as st
from rich.console import Console as Rich
from rich.errors import MarkupError
from rich.markup import escape as rich_escape

from focalcli import plain
from conftest import focal, sample

TEXT = st.lists(st.sampled_from(list("ab z09[]/\\#@=.-_") +
                                ["[bold]", "[/bold]", "[/]", "[cyan]", "[red]x[/red]",
                                 "\t", "\n", "é", "字", "\x07"]),
                max_size=30).map("".join)
WORDS = st.lists(st.text(alphabet="abc[]\\", min_size=0, max_size=30), max_size=40)


def rich_out(*objects) -> str:
    buf = io.StringIO()
    Rich(file=buf, highlight=False, soft_wrap=False, emoji=False,
         width=plain.WIDTH).print(*objects)
    return buf.getvalue()


def plain_out(*objects) -> str:
    buf = io.StringIO()
    plain.Console(buf).print(*objects)
    return buf.getvalue()


def same(*objects):
    try:
        expected = rich_out(*objects)
    except MarkupError:  # rich refuses it (an unmatched closing tag): render.py never writes it
        assume(False)
    assert plain_out(*objects) == expected


@settings(max_examples=400, deadline=None)
@given(TEXT)
def test_markup_lines_as_rich_writes_them(text):
    same(text)


@settings(max_examples=300, deadline=None)
@given(WORDS, st.sampled_from([" ", "  ", "   "]))
def test_long_lines_wrap_where_rich_wraps_them(words, gap):
    same(gap.join(words))


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_escape_is_richs(text):
    assert plain.escape(text) == rich_escape(text)
    same(plain.escape(text))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["left", "right"]), min_size=1, max_size=6),
       st.lists(st.lists(TEXT, min_size=6, max_size=6), max_size=5), st.integers(1, 30))
def test_tables_as_rich_lays_them_out(justify, rows, wide):
    grid = plain.Grid()
    for i, j in enumerate(justify):
        grid.add_column(f"col{i}" + "x" * (wide if i == 0 else 0), j)
    for row in rows:
        grid.add_row(*row[:len(justify)])
    same(grid)


def test_no_arguments_is_a_blank_line():
    same()


COMMANDS = [
    ["score", sample("digits.npy"), sample("digits_targets.npy")],
    ["score", sample("digits.csv"), "--top", "5", "--gradient", "--ohem", "0.7",
     "--loss", "focal-tversky", "--alpha", "balanced"],
    ["score", sample("detect.npy"), sample("detect_targets.npy"), "--mode", "sigmoid",
     "--loss", "asymmetric", "--top", "3"],
    ["score", sample("detect.npy"), sample("detect_targets.npy"), "--mode", "sigmoid"],
    ["score", sample("seg_logits.npy"), sample("seg_masks"), "--ignore-index", "255"],
    ["sweep", sample("digits.npy"), sample("digits_targets.npy"), "--gammas", "0,1,2"],
    ["curve", "--gammas", "0,0.5,2"],
    ["compare", sample("digits.npy"), sample("digits.npy"), sample("digits_targets.npy")],
    ["conventions", sample("digits.npy"), sample("digits_targets.npy")],
    ["track", sample("training"), sample("training_targets.npy")],
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:2])[-40:])
def test_every_table_reads_as_richs(args, monkeypatch):
    run = focal(*args)
    assert run.code in (0, 1), run
    monkeypatch.setenv("TTY_COMPATIBLE", "0")
    assert focal(*args).out == run.out


def test_user_text_in_the_tables(tmp_path, monkeypatch):
    """Class names with markup, backslashes and width: rich's bytes either way."""
    names = ["[unused0]", "a\\", "[bold]x[/bold]", "wide" * 30, "字", "c\\[d]"]
    lines = [",".join(names + ["label"])]
    for i in range(12):
        scores = [str((i * 7 + j * 3) % 5 - 2.0) for j in range(len(names))]
        lines.append(",".join(scores + [names[i % len(names)]]))
    path = tmp_path / "odd [names].csv"
    path.write_text("\n".join(lines) + "\n")
    run = focal("score", path, "--top", "3")
    assert run.code == 0, run
    monkeypatch.setenv("TTY_COMPATIBLE", "0")
    assert focal("score", path, "--top", "3").out == run.out


def test_score_to_a_pipe_does_not_load_rich():
    """The point of plain.py: the default score table costs no rich import."""
    code = ("import sys, runpy; sys.argv = ['focal', 'score', %r, %r]\n"
            "try: runpy.run_module('focalcli', run_name='__main__')\n"
            "except SystemExit: pass\n"
            "sys.stderr.write(str(sorted(m for m in sys.modules if m.startswith('rich'))))"
            % (sample("digits.npy"), sample("digits_targets.npy")))
    env = {k: v for k, v in os.environ.items()
           if k not in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, check=True)
    assert "mean focal loss" in done.stdout
    assert done.stderr == "[]"
