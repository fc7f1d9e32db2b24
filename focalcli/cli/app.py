"""The `focal` group: every outcome mapped to one exit code and at most one
line on stderr, and what each command does with a document it gets back
(a view on stdout, the warnings and notes on stderr)."""
from __future__ import annotations

import contextlib
import importlib
import sys

import click

from .. import __version__, engine
from ..errors import ExitStatus, FocalError, Terminated, printable, terminating_signals
from ..streams import guarded_stdout, silence_stdout
from .help import Command, RichHelp

class PipeClosed(Exception):
    """The reader of our standard output went away."""


#: each command's module (focalcli/cli/NAME.py), imported when the command
#: is asked for: `focal score` does not load what the others need
COMMANDS = ("compare", "conventions", "curve", "explore", "schema", "score", "sweep", "track")


class FocalGroup(RichHelp, click.Group):
    """Maps every outcome to one exit code and at most one line on stderr
    (click's own handling would print usage blocks and tracebacks)."""

    command_class = Command

    def list_commands(self, ctx):
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx, name):
        if name in COMMANDS and name not in self.commands:
            importlib.import_module(f"{__package__}.{name}")  # it registers itself
        return super().get_command(ctx, name)

    def every_command(self) -> dict:
        """Every command by name, each module loaded (the group's help lists them)."""
        return {name: self.get_command(None, name) for name in self.list_commands(None)}

    def main(self, args=None, prog_name=None, standalone_mode=True, **extra):
        args = sys.argv[1:] if args is None else list(args)
        code = self._run(args, prog_name, extra)
        if standalone_mode:
            sys.exit(code)
        return code

    def invoke(self, ctx):
        # click turns a broken pipe inside a command into sys.exit(1), the
        # code of a failed gate; hand it to _run as what it is
        try:
            return super().invoke(ctx)
        except BrokenPipeError as err:
            raise PipeClosed() from err

    def _run(self, args, prog_name, extra) -> int:
        engine.NOTES.clear()
        if sys.stdout is None:  # started with standard output closed (>&-)
            click.echo("Error: standard output is closed; nowhere to write the results",
                       err=True)
            return ExitStatus.BAD_INPUT
        for stream in (sys.stdout, sys.stderr):
            # a terminal or locale that cannot show a class name gets \xe9, not a crash
            with contextlib.suppress(AttributeError, ValueError):
                stream.reconfigure(errors="backslashreplace")
        if not args:  # bare `focal`: its help, exit 0
            args = ["--help"]
        try:
            with terminating_signals(), guarded_stdout():
                rv = super().main(args=args, prog_name=prog_name or "focal",
                                  standalone_mode=False, **extra)
                sys.stdout.flush()
            for note in engine.NOTES:
                click.echo(f"focal: note: {printable(note)}", err=True)
            return int(rv or 0)
        except Terminated as err:
            click.echo(f"Terminated ({err.name}).", err=True)
            return 128 + err.signum
        except click.exceptions.UsageError as err:
            cmd = err.ctx.command.name if err.ctx and err.ctx.command else None
            hint = f" (see 'focal {cmd} --help')" if cmd and cmd != "cli" else ""
            click.echo(f"Error: {err.format_message()}{hint}", err=True)
            return ExitStatus.BAD_INPUT
        except FocalError as err:
            # one line, even when a library's message has several
            click.echo("Error: " + printable(" ".join(str(err).split())), err=True)
            return err.exit_status
        except (click.exceptions.Abort, KeyboardInterrupt):
            click.echo("Aborted.", err=True)
            return ExitStatus.INTERRUPTED
        except (BrokenPipeError, PipeClosed):
            # the reader of our output went away (| head): not an error of ours
            silence_stdout()
            return ExitStatus.OK
        except OSError as err:
            # reading is wrapped in InputError where it happens: what is left
            # is writing, to a full disk or device (> /dev/full)
            silence_stdout()
            click.echo(f"Error: cannot write output: {err.strerror or err}", err=True)
            return ExitStatus.BAD_INPUT
        except Exception as err:  # a bug: one line, the traceback only on request
            if "--traceback" in args:
                import traceback
                traceback.print_exc()
            click.echo(f"focal: internal error (a bug, please report it): "
                       f"{type(err).__name__}: {err}", err=True)
            return ExitStatus.INTERNAL


@click.group(cls=FocalGroup, context_settings={"help_option_names": ["-h", "--help"],
                                               "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="focal")
@click.option("--traceback", is_flag=True, help="Show the traceback of an internal error.")
def cli(traceback):
    """What focal loss does to your model's predictions.

    \b
    Exit codes: 0 ok, 1 a gate failed (--fail-above, compare), 2 usage error or bad input,
    3 internal error (a bug). The same commands are a Python library: focalcli.score(...).

    \b
    Examples:
      focal score preds.npy labels.csv --gamma 2
      focal sweep preds.npy labels.csv --gammas 0:5:0.5 --alphas 0.25,0.5,1
      focal curve --gammas 0,0.5,1,2,5
      python predict.py | focal score - --input-format csv --format json | jq .focal
    """


def say_warnings():
    for text in engine.WARNINGS:
        click.echo(f"focal: warning: {printable(text)}", err=True)
    engine.WARNINGS.clear()


def print_doc(doc, kind, fmt, **table_options):
    """A document on stdout: a table for people, or its JSON/CSV view."""
    from .. import render
    from ..views import text
    if fmt == "table":
        render.TABLES[kind](doc, **table_options)
    else:
        click.echo(text(doc, kind, fmt), nl=False)
