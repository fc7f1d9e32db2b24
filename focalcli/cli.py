"""The `focal` command line: a thin shell over readers, scoring, report,
views, render and writers. No maths and no input parsing here (only the
option values: lists of gammas and alphas)."""
from __future__ import annotations

import contextlib
import functools
import sys


import click

from . import __version__, engine
from .errors import (ExitStatus, FocalError, OptionError, Terminated, printable,
                     terminating_signals)
from .peers import PEERS
from .request import (Cluster, CompareRequest, Conventions, CurveRequest, ExploreRequest,
                      Reading, ScoreRequest, Scoring, SweepRequest)
from .streams import guarded_stdout, silence_stdout

FORMATS = click.Choice(["table", "json", "csv", "markdown"])


class FiniteFloat(click.ParamType):
    """A float that is a real number: 'nan' and 'inf' are refused."""

    name = "float"

    def __init__(self, minimum: float | None = None):
        self.minimum = minimum

    def convert(self, value, param, ctx):
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if number != number or number in (float("inf"), float("-inf")):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        if self.minimum is not None and number < self.minimum:
            raise OptionError(param.opts[0] if param else "value",
                              f"must be a finite number >= {self.minimum:g}, got {number}")
        return number


FINITE = FiniteFloat()
GAMMA = FiniteFloat(minimum=0.0)  # every command's --gamma: one type, one check


class ClassCount(click.ParamType):
    """--classes: a positive number of classes, or 'all'."""

    name = "classes"

    def convert(self, value, param, ctx):
        if value == "all" or isinstance(value, int):
            return value
        try:
            number = int(value)
        except ValueError:
            self.fail(f"{value!r} is neither a number nor 'all'", param, ctx)
        if number < 1:
            self.fail(f"must be at least 1, got {number}", param, ctx)
        return number


CLASSES = ClassCount()


def input_options(f):
    """PREDICTIONS [TARGETS] and the options of every scoring command."""
    f = scoring_options(f)
    f = click.argument("targets", required=False, type=click.Path(allow_dash=True))(f)
    return click.argument("predictions", type=click.Path(allow_dash=True))(f)


def _collected(f, names: tuple[str, ...], into: str, build):
    """``f`` called with the options ``names`` built into one typed value
    ``into`` (a request part, validated in its constructor) instead of one
    parameter each."""
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        kwargs[into] = build(**{n: kwargs.pop(n) for n in names})
        return f(*args, **kwargs)
    return wrapper


READING = ("input_format", "targets_format", "class_names", "target_col", "id_col",
           "class_axis", "logprobs", "logprob_col", "shift")
SCORING = ("mode", "like", "probs", "ignore_index", "reduction", "normalize", "bins",
           "temperature", "threads")
CONVENTIONS = ("weights", "soft_targets", "label_smoothing", "weight_col", "class_weight",
               "pos_weight")


def scoring_options(f):
    """The input, mode and ignore options shared by `score`, `sweep` and `compare`,
    arriving as the request's parts: ``reading``, ``scoring`` and ``conventions``."""
    f = _collected(f, CONVENTIONS, "conventions", Conventions.parse)
    f = _collected(f, SCORING, "scoring", Scoring)
    f = _collected(f, READING, "reading", Reading)
    decorators = [
        click.option("--input-format", metavar="FMT",
                     help="Format of PREDICTIONS (npy, npz, csv, tsv, json, jsonl, parquet; "
                          "add .gz for compressed text); default: from the extension, or "
                          "sniffed on stdin."),
        click.option("--targets-format", metavar="FMT",
                     help="Format of TARGETS (npy, csv, tsv, txt, json; add .gz for "
                          "compressed text); default: from the extension, or sniffed."),
        click.option("--class-names", metavar="FILE",
                     help="Names of the classes: a text file, one per line, or JSON (a list, "
                          "or {name: id} as a tokenizer's vocab.json)."),
        click.option("--target-col", metavar="NAME",
                     help="Column holding the targets (default: 'target' or 'label')."),
        click.option("--id-col", metavar="NAME",
                     help="Column carried into per-example rows (default: 'id')."),
        click.option("--class-axis", type=int, default=1, show_default=True, metavar="INT",
                     help="Dense arrays (N, C, d1, ...): the axis of the classes; -1 for "
                          "channel-last (N, d1, ..., C). 2-D inputs are (N, K) rows."),
        click.option("--logprobs", is_flag=True,
                     help="The scores are the target's log-probability, one per token "
                          "(a column named 'logprob' is taken as such by itself)."),
        click.option("--logprob-col", metavar="NAME",
                     help="The column holding the log-probabilities (default 'logprob')."),
        click.option("--shift", is_flag=True,
                     help="Causal language models: the logits at position t are scored "
                          "against the label at t + 1 (B, T, V logits, B, T labels)."),
        click.option("--mode", type=click.Choice(["softmax", "sigmoid"]), default=None,
                     help="softmax (default): one class per example. sigmoid: a binary "
                          "decision per class (binary, multi-label, dense detectors)."),
        click.option("--like", type=click.Choice(PEERS),
                     help="Reproduce a library's number: its mode, alpha, reduction and "
                          "arithmetic (see the README)."),
        click.option("--probs", is_flag=True,
                     help="The scores are probabilities, not logits."),
        click.option("--ignore-index", type=click.IntRange(-2 ** 63, 2 ** 63 - 1),
                     metavar="INT",
                     help="Leave targets equal to INT out of every reduction."),
        click.option("--reduction", type=click.Choice(["mean", "sum"]), default="mean",
                     show_default=True,
                     help="mean: over the scored examples (sigmoid: elements); sum: the sum."),
        click.option("--normalize", type=click.Choice(["none", "positives"]), default="none",
                     show_default=True,
                     help="sigmoid: divide the summed loss by the number of positive "
                          "labels (RetinaNet) instead of the N*K elements."),
        click.option("--bins", type=click.IntRange(0, 1000), default=15, show_default=True,
                     metavar="N", help="Calibration bins of equal width (0: no calibration)."),
        click.option("--temperature", type=FINITE, default=1.0, show_default=True,
                     metavar="T", help="Divide the logits by T before everything."),
        click.option("--weights", "weights", metavar="FILE|NUMBER",
              help="Sample weights: one per example (.npy, or .txt/.csv, one per "
                   "line), per position for dense inputs, or one number (Keras' "
                   "sample_weight); 'mean' divides by their sum."),
        click.option("--soft-targets", "soft_targets", is_flag=True,
              help="TARGETS are (N, K) probability rows (soft labels); taken so by "
                   "themselves in softmax mode when TARGETS has one column per class."),
        click.option("--label-smoothing", "label_smoothing", type=FINITE, metavar="EPS",
              help="Smooth the targets to (1 - EPS) y + EPS / K, as Keras and "
                   "PyTorch do (softmax; EPS in [0, 1))."),
        click.option("--weight-col", "weight_col", metavar="NAME",
              help="The column of PREDICTIONS (CSV, TSV, Parquet) holding each row's "
                   "sample weight, as --weights."),
        click.option("--class-weight", "class_weight", metavar="LIST",
              help="One weight per class multiplying its loss, CE and focal alike "
                   "(PyTorch's weight=); softmax 'mean' divides by the summed weights."),
        click.option("--pos-weight", "pos_weight", metavar="LIST",
              help="Sigmoid: one weight per class multiplying its positive elements' "
                   "loss (BCEWithLogitsLoss' pos_weight)."),
        click.option("--threads", type=click.IntRange(0, 256), default=0, metavar="N",
                     help="Threads for the arithmetic (default 0: every core)."),
        click.option("--traceback", is_flag=True, hidden=True),
    ]
    return _decorated(f, decorators)


def _decorated(f, decorators):
    """``f`` under each decorator, the first on top (as if stacked with @)."""
    for d in reversed(decorators):
        f = d(f)
    return f


def cluster_options(f):
    """--workers, --scheduler, --timeout: where the shards are scored, as one
    ``cluster`` (request.Cluster)."""
    f = _collected(f, ("workers", "scheduler", "timeout"), "cluster", Cluster)
    decorators = [
        click.option("--workers", "workers", type=click.IntRange(1, 4096), metavar="N",
              help="Score the shards on an embedded Dask cluster of N worker processes "
                   "(needs focalcli[dask])."),
        click.option("--scheduler", "scheduler", metavar="ADDRESS",
              help="Score the shards on the Dask cluster at ADDRESS (default: "
                   "$DASK_SCHEDULER_ADDRESS; needs focalcli[dask])."),
        click.option("--timeout", "timeout", type=click.FloatRange(0.1, 3600), default=10.0,
              show_default=True, metavar="SECONDS",
              help="How long to wait for the --scheduler to answer."),
    ]
    return _decorated(f, decorators)


class PipeClosed(Exception):
    """The reader of our standard output went away."""


class FocalGroup(click.Group):
    """Maps every outcome to one exit code and at most one line on stderr
    (click's own handling would print usage blocks and tracebacks)."""

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
        try:
            with terminating_signals(), guarded_stdout():
                rv = super().main(args=args, prog_name=prog_name or "focal",
                                  standalone_mode=False, **extra)
                sys.stdout.flush()
            for note in engine.NOTES:
                click.echo(f"focal: note: {printable(note)}", err=True)
            return int(rv or 0)
        except click.exceptions.NoArgsIsHelpError as err:  # bare `focal`: its help, exit 0
            click.echo(err.ctx.get_help())
            return ExitStatus.OK
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
    Examples:
      focal score preds.npy labels.csv --gamma 2
      focal sweep preds.npy labels.csv --gammas 0:5:0.5 --alphas 0.25,0.5,1
      focal curve --gammas 0,0.5,1,2,5
      python predict.py | focal score - --input-format csv --format json | jq .focal

    Exit codes: 0 ok, 1 a gate failed (--fail-above, compare), 2 usage error or bad input,
    3 internal error (a bug).
    """


@cli.command()
@input_options
@cluster_options
@click.option("--gamma", type=GAMMA, default=2.0, show_default=True,
              help="Focusing parameter, >= 0 (0 gives cross-entropy).")
@click.option("--alpha", metavar="VALUE",
              help="A number; one weight per class (comma list); balanced; inverse-freq; "
                   "effective[:BETA]. Default 1 (softmax), 0.25 (sigmoid).")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True,
              help="Summary format on stdout (also of --per-example rows).")
@click.option("--per-example", is_flag=True, help="Print one row per example instead.")
@click.option("--per-element", is_flag=True,
              help="Sigmoid: rows per (example, class) element instead of per example "
                   "(torchvision's reduction='none'); on stdout, or to -o FILE.")
@click.option("-o", "--output", metavar="FILE", type=click.Path(dir_okay=False),
              help="Write per-example rows to FILE (.csv .tsv .json .jsonl .npy .parquet).")
@click.option("--top", type=click.IntRange(0), default=0, metavar="N",
              help="Also show the N highest-loss examples.")
@click.option("--map", "map", metavar="FILE",
              help="Dense inputs: the per-position focal loss, float32 (N, d1, ...) with NaN "
                   "where ignored (.npy); or a picture of the --top examples' maps (.png/.svg).")
@click.option("--gradient", is_flag=True,
              help="The gradient view: how much of the gradient norm easy examples carry "
                   "under CE and focal loss; per-example grad_ce and grad_focal.")
@click.option("--grad", "grad", metavar="FILE.npy",
              help="Write the full gradient of the reduced focal loss with respect to the "
                   "logits, the input's shape (implies --gradient).")
@click.option("--loss", "loss", multiple=True, metavar="NAME[:PARAM]",
              help="Report a relative beside focal loss: poly1:EPS, poly1-focal:EPS, flsd53, "
                   "dual-focal[:GAMMA], fl-star[:BETA] (repeatable).")
@click.option("--beta", type=FINITE, default=1.0, show_default=True, metavar="B",
              help="The beta of --loss fl-star (FL*, sigmoid(gamma x_t + beta)).")
@click.option("--ohem", metavar="K|FRACTION",
              help="What online hard example mining would keep: the K (or FRACTION) "
                   "hardest examples by CE.")
@click.option("--ohem-ratio", metavar="P:N",
              help="OHEM keeping every positive and the hardest negatives, N per P.")
@click.option("--background", metavar="CLASS",
              help="The background class of --ohem-ratio in softmax mode (name or index).")
@click.option("--classes", "classes", type=CLASSES, metavar="N|all",
              help="Per-class rows to list: the N with the most focal loss, or all "
                   "(default: a table shows 20, JSON every class with examples).")
@click.option("--plot", metavar="FILE",
              help="Draw the reliability diagram (calibration) to FILE (.png or .svg).")
@click.option("--fail-above", type=FINITE, metavar="X",
              help="Exit 1 when the reduced focal loss is above X (or nothing was scored).")
def score(fmt, per_example, traceback, **options):
    """Focal loss beside cross-entropy, per example and reduced.

    PREDICTIONS holds logits (or probabilities with --probs), one row per example:
    .npy, .npz, .csv, .tsv, .json, .jsonl, .parquet (.gz for text), or - for stdin.
    TARGETS holds the class of each example (an index or a class name), unless
    PREDICTIONS has a target column: .npy, .csv, .tsv, .txt (one per line), .json;
    for --mode sigmoid also a 0/1 matrix with one column per class.

    \b
    Examples:
      focal score preds.npy labels.csv --gamma 2
      focal score sample_data/digits.csv --alpha balanced --top 5
      focal score preds.npy labels.npy --format json | jq .per_class
      focal score dets.npy dets_targets.npy --mode sigmoid --normalize positives
      focal score preds.csv -o per_example.jsonl --fail-above 0.3
    """
    from .render import Progress, TextRows
    from .runs import score as job
    from .writers import RowWriter
    if options["per_element"] and not (options["top"] or options["ohem"] or
                                       options["ohem_ratio"]):
        per_example = per_example or not options["output"]
    req = ScoreRequest(per_example=per_example, **options)
    stdout_rows = None
    if per_example:
        stdout_rows = RowWriter(sys.stdout, fmt) if fmt != "table" else TextRows()
    doc = job.run(req, stdout_rows=stdout_rows, progress=Progress)
    _say_warnings()
    if not per_example:
        _print_doc(doc, "score", fmt, classes=req.classes)
    failed = job.gate(doc, req.fail_above)
    if failed:
        click.echo(f"focal: gate failed: {failed}", err=True)
        return ExitStatus.GATE_FAILED
    return ExitStatus.OK


def _say_warnings():
    for text in engine.WARNINGS:
        click.echo(f"focal: warning: {printable(text)}", err=True)
    engine.WARNINGS.clear()


def _print_doc(doc, kind, fmt, **table_options):
    """A document on stdout: a table for people, or its JSON/CSV view."""
    from . import render
    from .views import text
    if fmt == "table":
        getattr(render, kind + "_table")(doc, **table_options)
    else:
        click.echo(text(doc, kind, fmt), nl=False)


@cli.command()
@input_options
@cluster_options
@click.option("--gammas", default="0:5:0.5", show_default=True, metavar="LIST",
              help="Gammas: a comma list or START:STOP:STEP (STOP included).")
@click.option("--alphas", default=None, metavar="LIST",
              help="Alphas: numbers, ranges, balanced, inverse-freq, effective[:BETA]; "
                   "a per-class list as one item with '/' between weights. "
                   "Default 1 (softmax), 0.25 (sigmoid).")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True,
              help="The grid on stdout: a table, JSON or CSV.")
@click.option("-o", "--output", metavar="FILE", type=click.Path(dir_okay=False),
              help="Write the grid to FILE (.json or .csv).")
@click.option("--plot", metavar="FILE", help="Draw the grid to FILE (.png or .svg).")
@click.option("--temperatures", metavar="LIST",
              help="A temperature axis (comma list or START:STOP:STEP): one pass each, with "
                   "the ECE per cell.")
@click.option("--gradient", is_flag=True,
              help="Add the easy examples' share of the gradient norm per gamma.")
def sweep(fmt, traceback, **options):
    """The same scoring over a grid of gamma and alpha, reading the input once.

    \b
    Examples:
      focal sweep preds.npy labels.csv --gammas 0:5:0.5 --alphas 0.25,0.5,1
      focal sweep sample_data/digits.npy sample_data/digits_targets.npy --alphas 1,balanced
      focal sweep dets.npy t.npy --mode sigmoid --alphas 0.1:0.9:0.2 --plot sweep.png
    """
    from .render import Progress
    from .runs import sweep as job
    doc = job.run(SweepRequest(**options), progress=Progress)
    _say_warnings()
    _print_doc(doc, "sweep", fmt)
    return ExitStatus.OK


@cli.command()
@input_options
@cluster_options
@click.option("--gammas", default="0:5:0.1", show_default=True, metavar="LIST",
              help="Gammas of the slider: a comma list or START:STOP:STEP (STOP included).")
@click.option("--alphas", default=None, metavar="LIST",
              help="Alphas of the menu, as in sweep. Default 1 (softmax), 0.25 (sigmoid).")
@click.option("--gamma", "gamma", type=GAMMA, default=None, metavar="G",
              help="The gamma the page opens at (default 2, or the nearest in the grid).")
@click.option("-o", "--output", metavar="FILE.html", required=True,
              type=click.Path(dir_okay=False), help="The page to write (.html).")
def explore(traceback, **options):
    """The focal loss explorer on your own predictions: one self-contained HTML
    page with gamma and alpha controls, offline, reading the input once.

    \b
    Examples:
      focal explore preds.npy labels.npy -o explorer.html
      focal explore sample_data/digits.csv -o digits.html --alphas 1,0.5,balanced
      focal explore dets.npy t.npy --mode sigmoid --alphas 0.1:0.9:0.2 -o dets.html
    """
    from .readers import display_name
    from .render import Progress
    from .runs import explore as job
    req = ExploreRequest(**options)
    job.run(req, progress=Progress)
    _say_warnings()
    click.echo(f"wrote {display_name(req.output)}: open it in a browser (it needs no "
               "network)", err=True)
    return ExitStatus.OK


@cli.command()
@click.argument("baseline", type=click.Path(allow_dash=True))
@click.argument("candidate", type=click.Path(allow_dash=True))
@click.argument("targets", required=False, type=click.Path(allow_dash=True))
@scoring_options
@click.option("--gamma", type=GAMMA, default=2.0, show_default=True,
              help="Focusing parameter, >= 0.")
@click.option("--alpha", metavar="VALUE",
              help="As in score: a number, one weight per class, or a strategy.")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True,
              help="table, json, csv (per class), or markdown (a pull-request comment).")
@click.option("--top", type=click.IntRange(0), default=10, show_default=True, metavar="N",
              help="The N examples that got worse most.")
@click.option("--bootstrap", "bootstrap", type=click.IntRange(0, 100_000), default=1000,
              show_default=True, metavar="B", help="Paired bootstrap resamples (0: none).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the bootstrap: the same seed gives the same interval.")
@click.option("--level", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=0.95, show_default=True, help="Level of the interval.")
@click.option("--threshold", type=click.FloatRange(0), default=1e-3, show_default=True,
              help="A per-example focal loss change beyond this is 'harder' or 'easier'.")
@click.option("--ids", "ids", type=click.Choice(["exact", "intersect"]), default="exact",
              show_default=True,
              help="With ids on both sides: every id in both (exact), or drop and count "
                   "the ids in one only (intersect).")
@click.option("--max-increase", type=FINITE, metavar="X",
              help="Gate: exit 1 when the mean loss rises by more than X.")
@click.option("--max-rel-increase", type=FINITE, metavar="PCT",
              help="Gate: exit 1 when the mean loss rises by more than PCT percent.")
@click.option("--per-class", is_flag=True, help="Apply the gates to every class too.")
@click.option("--metric", type=click.Choice(["focal", "ce"]), default="focal",
              show_default=True, help="The loss the gates look at.")
@click.option("--significant", is_flag=True,
              help="A gate fails only when the interval excludes zero too.")
def compare(fmt, traceback, **options):
    """Did the candidate model get worse than the baseline, where, and is it real?

    BASELINE and CANDIDATE are two models' predictions on the same examples (any
    format score reads), paired by row, or by id when both have ids. BASELINE may
    be a summary saved with `focal score --format json` (aggregates only).

    \b
    Examples:
      focal compare base.npy cand.npy labels.npy
      focal compare base.npy cand.npy labels.npy --max-rel-increase 2 --significant
      focal compare baseline.json cand.csv --format markdown > comment.md
    """
    from .render import Progress
    from .runs import compare as job
    doc = job.run(CompareRequest(**options), progress=Progress)
    _say_warnings()
    _print_doc(doc, "compare", fmt)
    for failure in doc["gates"]["failures"]:
        click.echo(f"focal: gate failed: {failure['gate']} on {printable(failure['where'])}: "
                   f"{failure['metric']} {failure['value']!r} > {failure['limit']!r}",
                   err=True)
    return ExitStatus.OK if doc["gates"]["passed"] else ExitStatus.GATE_FAILED


@cli.command()
@click.option("--gammas", default="0,0.5,1,2,5", show_default=True, metavar="LIST",
              help="Gammas: a comma list or START:STOP:STEP.")
@click.option("--alpha", type=FINITE, default=1.0, show_default=True,
              help="Weight of the loss (a number >= 0).")
@click.option("--pt", "pt", default="0.1,0.5,0.9", show_default=True, metavar="LIST",
              help="Values of p_t, in (0, 1].")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True,
              help="The rows on stdout: a table, JSON or CSV.")
@click.option("--plot", metavar="FILE",
              help="Draw loss against p_t, one line per gamma (.png or .svg), as in "
                   "Figure 1 of Lin et al. 2017.")
@click.option("--traceback", is_flag=True, hidden=True)
def curve(fmt, traceback, **options):
    """Focal loss against p_t, with no input file.

    \b
    Examples:
      focal curve
      focal curve --gammas 0:5:1 --pt 0.01,0.1,0.5,0.9,0.99 --format csv
      focal curve --plot figure1.png
    """
    from .runs import curve as job
    _print_doc(job.run(CurveRequest(**options)), "curve", fmt)
    return ExitStatus.OK
