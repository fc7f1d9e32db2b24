"""The `focal` command line: a thin shell over readers, scoring, report,
views, render and writers. No maths and no input parsing here (only the
option values: lists of gammas and alphas)."""
from __future__ import annotations

import contextlib
import functools
import os
import sys

import numpy as np

import click

from . import __version__, engine
from .alpha import AlphaSpec, parse_alpha
from .errors import (ExitStatus, FocalError, InputError, OptionError, Terminated, printable,
                     terminating_signals)
from .lists import parse_list
from .peers import PEERS, resolve
from .request import Cluster, Conventions
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


def scoring_options(f):
    """The input, mode and ignore options shared by `score`, `sweep` and `compare`;
    the peers' conventions arrive as one ``conventions`` (request.Conventions)."""
    f = _collected(f, ("weights", "soft", "label_smoothing", "weight_col", "class_weight",
                       "pos_weight"), "conventions", Conventions.parse)
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
        click.option("--soft-targets", "soft", is_flag=True,
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


def _open_inputs(*args, **kwargs):
    """engine.open_inputs, its spool living as long as the command."""
    from .readers import Spool
    spool = click.get_current_context().with_resource(Spool())
    return engine.open_inputs(*args, spool=spool, **kwargs)


def _score_pass(*args, **kwargs):
    """engine.score_pass with a progress bar on stderr (where it is a terminal)."""
    from .render import Progress
    return engine.score_pass(*args, progress=Progress, **kwargs)


def _row_alpha(*args):
    from .render import Progress
    return engine.row_alpha(*args, progress=Progress)


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


def _grad_sink(path, table, mode, probs, preset, refuse):
    """--grad FILE.npy: softmax logits in rows (N, K)."""
    if not path:
        return contextlib.nullcontext()
    if mode != "softmax" or probs or table.dense is not None or table.logprobs or \
            preset.arithmetic != "exact" or preset.normalize is not None:
        raise OptionError("--grad", "writes the gradient of softmax focal loss with "
                          "respect to (N, K) logits")
    if not path.lower().endswith(".npy"):
        raise OptionError("--grad", f"{path}: the gradient is written as .npy")
    if table.n_rows is None:
        raise OptionError("--grad", f"needs an input whose row count is known up front "
                          f"(.npy, .npz, .json, .parquet), not {table.fmt}")
    from .writers import GradFile
    dtype = np.float32 if table.dtype == np.float32 else np.float64
    return GradFile(path, (table.n_rows, table.width), dtype, refuse)


def _map_sink(path, table, target_file, refuse):
    """--map: per-position values of a dense input to a .npy, or a picture."""
    if not path:
        return contextlib.nullcontext()
    if table.dense is None:
        raise OptionError("--map", f"needs dense predictions (N, C, d1, ...); {table.name} "
                          "has rows of scores")
    ext = os.path.splitext(path)[1].lower()
    if ext == ".npy":
        from .writers import MapFile
        return MapFile(path, table.dense.target_shape, refuse)
    from .render import MapPlot
    names = [os.path.basename(n) for n in target_file.example_names] \
        if target_file is not None and target_file.example_names else None
    return MapPlot(path, table.dense, names, refuse)


def _emit(text: str, output: str | None, refuse=()):
    from .writers import write_text_atomic
    if output:
        write_text_atomic(output, text, refuse)
    else:
        click.echo(text, nl=False)


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
@click.option("--map", "map_path", metavar="FILE",
              help="Dense inputs: the per-position focal loss, float32 (N, d1, ...) with NaN "
                   "where ignored (.npy); or a picture of the --top examples' maps (.png/.svg).")
@click.option("--gradient", is_flag=True,
              help="The gradient view: how much of the gradient norm easy examples carry "
                   "under CE and focal loss; per-example grad_ce and grad_focal.")
@click.option("--grad", "grad_path", metavar="FILE.npy",
              help="Write the full gradient of the reduced focal loss with respect to the "
                   "logits, the input's shape (implies --gradient).")
@click.option("--loss", "losses", multiple=True, metavar="NAME[:PARAM]",
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
def score(predictions, targets, input_format, targets_format, class_names, target_col, id_col,
          class_axis, logprobs, logprob_col, shift, mode, like, probs,
          ignore_index, reduction, normalize, bins, temperature, threads, traceback, gamma,
          alpha, fmt, per_example, per_element, output, top, map_path, gradient, grad_path,
          losses, beta, ohem, ohem_ratio, background, classes, plot, fail_above,
          conventions, cluster):
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
    from .report import score_summary
    from .scoring import Settings
    if per_element:
        if top or ohem or ohem_ratio:
            raise OptionError("--per-element", "lists elements; --top and --ohem rank "
                              "examples: drop one of them")
        per_example = per_example or not output
    if per_example and top:
        raise OptionError("--top", "lists the highest-loss examples in the summary, which "
                          "--per-example replaces; drop one of them")
    if plot:
        from .render import plot_format, require_matplotlib
        plot_format(plot)
        require_matplotlib()  # before the pass, not after it
        if bins == 0:
            raise OptionError("--plot", "draws the calibration, which --bins 0 turns off")
    preset = engine.preset(like, mode, alpha, normalize, reduction)
    mode, spec, normalize = preset.mode, preset.alpha, preset.normalize
    table, target_file, sources = _open_inputs(predictions, targets, input_format,
                                               targets_format, target_col, id_col,
                                               class_axis, class_names, shift, logprobs,
                                               logprob_col, conventions, cluster)
    probs = probs or table.probs
    sources["like"] = like
    settings = Settings(mode=mode, probs=probs, ignore_index=ignore_index, gammas=(gamma,),
                        **preset.settings(), threads=threads, bins=bins,
                        temperature=engine.temperature(temperature, probs, table),
                        gradient=gradient or bool(grad_path),
                        losses=tuple(engine.losses(losses, gamma, mode, beta)),
                        logprobs=engine.logprob_mode(table, target_file, mode, probs, like,
                                               [spec]),
                        per_element=per_element,
                        **conventions.settings(mode))
    if per_element and (mode != "sigmoid" or table.dense is not None):
        raise OptionError("--per-element", "is for sigmoid rows (N, K): softmax rows are "
                          "per example already, and dense inputs have --map")
    alpha = _row_alpha(spec, table, target_file, settings, mode,
                       per_example or output or top or ohem or ohem_ratio)
    refuse = (predictions, targets)
    mining = engine.ohem(ohem, ohem_ratio, background, mode, table)
    with _row_sink(per_example, output, fmt, refuse) as sink, \
            _map_sink(map_path, table, target_file, refuse) as positions, \
            _grad_sink(grad_path, table, mode, probs, preset, refuse) as grads:
        on_rows = sink.write if sink else None
        if mining is not None:
            on_rows = engine.both(on_rows, lambda chunk: mining.add(chunk, mining.background_index))
        outcome = _score_pass(table, target_file, settings, alpha,
                              on_rows, top, rows_on_stdout=per_example,
                              on_positions=positions.write if positions else None,
                              on_gradient=grads.write if grads else None)
        doc = score_summary(outcome, spec=spec, mode=mode, gamma=gamma, reduction=reduction,
                            normalize=normalize, sources=sources, classes=classes,
                            settings=_settings_doc(settings, spec, reduction, normalize, like,
                                                   conventions))
        if mining is not None:
            doc["ohem"] = mining.figures()
        if grads is not None:
            from .reduction import Reduction
            grads.divide_by = Reduction(reduction, normalize).denominator(outcome.acc) or 1.0
        if positions is not None and hasattr(positions, "pick"):
            positions.pick = [row["index"] for row in outcome.top]
    _warn_absent(spec, outcome, mode)
    if top:
        doc["top"] = outcome.top
    if plot:
        from .render import reliability_plot
        reliability_plot(doc, plot, refuse)
    if not per_example:
        _print_doc(doc, "score", fmt, classes=classes)
    return _gate(doc, fail_above)


def _settings_doc(settings, spec, reduction, normalize, like, conventions) -> dict:
    from .report import settings_doc
    return settings_doc(settings, spec=spec, reduction=reduction, normalize=normalize,
                        like=like, weight_col=conventions.weight_col)


def _gate(doc, fail_above) -> ExitStatus:
    """--fail-above: a value that does not exist (nothing scored) fails too."""
    if fail_above is None:
        return ExitStatus.OK
    if doc["n"] == 0 or doc["focal"] is None:
        click.echo("focal: gate failed: no example was scored, so there is no focal loss "
                   f"to compare with {fail_above!r}", err=True)
        return ExitStatus.GATE_FAILED
    if doc["focal"] > fail_above:
        click.echo(f"focal: gate failed: {doc['reduction']} focal loss {doc['focal']!r} is "
                   f"above {fail_above!r}", err=True)
        return ExitStatus.GATE_FAILED
    return ExitStatus.OK


def _row_sink(per_example, output, fmt, inputs):
    """Where per-example rows go: -o FILE, stdout (--per-example), or both."""
    from .render import TextRows
    from .writers import OutputFile, RowWriter, StdoutRows, Tee
    sinks = []
    if output:
        sinks.append(OutputFile(output, refuse=inputs))
    if per_example:
        sinks.append(StdoutRows(RowWriter(sys.stdout, fmt) if fmt != "table" else TextRows()))
    if not sinks:
        return contextlib.nullcontext()
    return sinks[0] if len(sinks) == 1 else Tee(sinks)


def _warn_absent(spec, outcome, mode):
    from .report import absent_classes
    if spec.data_dependent:
        missing = absent_classes(outcome, mode)
        if missing:
            what = "positive" if mode == "sigmoid" else "example"
            click.echo(f"focal: warning: no {what} of class "
                       f"{printable(', '.join(missing[:10]))}; "
                       f"--alpha {spec.kind} weighs it as if it had one", err=True)


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
def sweep(predictions, targets, input_format, targets_format, class_names, target_col, id_col,
          class_axis, logprobs, logprob_col, shift, mode, like, probs,
          ignore_index, reduction, normalize, bins, temperature, threads, traceback, gammas,
          alphas, fmt, output, plot, temperatures, gradient, conventions, cluster):
    """The same scoring over a grid of gamma and alpha, reading the input once.

    \b
    Examples:
      focal sweep preds.npy labels.csv --gammas 0:5:0.5 --alphas 0.25,0.5,1
      focal sweep sample_data/digits.npy sample_data/digits_targets.npy --alphas 1,balanced
      focal sweep dets.npy t.npy --mode sigmoid --alphas 0.1:0.9:0.2 --plot sweep.png
    """
    from .render import plot_format, require_matplotlib, sweep_plot
    from .report import sweep_grid
    from .scoring import Settings
    preset, gamma_list, specs = _grid(like, mode, normalize, reduction, gammas, alphas)
    mode, normalize = preset.mode, preset.normalize
    out_fmt = _grid_format(output) if output else None
    if plot:
        plot_format(plot)
        require_matplotlib()  # before the pass, not after it
    table, target_file, sources = _open_inputs(predictions, targets, input_format,
                                               targets_format, target_col, id_col,
                                               class_axis, class_names, shift, logprobs,
                                               logprob_col, conventions, cluster)
    probs = probs or table.probs
    sources["like"] = like
    temps = parse_list(temperatures, "--temperatures") if temperatures else [temperature]
    logprob_mode = engine.logprob_mode(table, target_file, mode, probs, like, specs)
    parsed = conventions.settings(mode)
    outcomes = []
    for t in temps:  # a temperature changes every logit: one pass each
        settings = Settings(mode=mode, probs=probs, ignore_index=ignore_index,
                            gammas=tuple(gamma_list), **preset.settings(),
                            threads=threads, bins=bins if temperatures else 0,
                            temperature=engine.temperature(t, probs, table), gradient=gradient,
                            logprobs=logprob_mode, **parsed)
        outcomes.append(_score_pass(table, target_file, settings))
    for spec in specs:
        _warn_absent(spec, outcomes[0], mode)
    doc = sweep_grid(outcomes, specs=specs, gammas=gamma_list, mode=mode, reduction=reduction,
                     normalize=normalize, sources=sources, temperatures=temps)
    if plot:
        sweep_plot(doc, plot, refuse=(predictions, targets))
    if output:
        from .views import text
        _emit(text(doc, "sweep", out_fmt), output, (predictions, targets))
    _print_doc(doc, "sweep", fmt)
    return ExitStatus.OK


def _grid(like, mode, normalize, reduction, gammas, alphas):
    """The preset in force, the gammas and the alpha specs of a grid."""
    preset = engine.preset(like, mode, None, normalize, reduction)
    gamma_list = parse_list(gammas, "--gammas", minimum=0.0)
    specs = _alpha_items(alphas, preset.mode) if alphas else [preset.alpha]
    if like:
        specs = [resolve(like, preset.mode, s.label() if s.kind != "kornia" else repr(s.value),
                         None).alpha for s in specs]
    return preset, gamma_list, specs


@cli.command()
@input_options
@cluster_options
@click.option("--gammas", default="0:5:0.1", show_default=True, metavar="LIST",
              help="Gammas of the slider: a comma list or START:STOP:STEP (STOP included).")
@click.option("--alphas", default=None, metavar="LIST",
              help="Alphas of the menu, as in sweep. Default 1 (softmax), 0.25 (sigmoid).")
@click.option("--gamma", "start_gamma", type=GAMMA, default=None, metavar="G",
              help="The gamma the page opens at (default 2, or the nearest in the grid).")
@click.option("-o", "--output", metavar="FILE.html", required=True,
              type=click.Path(dir_okay=False), help="The page to write (.html).")
def explore(predictions, targets, input_format, targets_format, class_names, target_col,
            id_col, class_axis, logprobs, logprob_col, shift, mode, like, probs,
            ignore_index, reduction, normalize, bins, temperature, threads, traceback,
            gammas, alphas, start_gamma, output, conventions, cluster):
    """The focal loss explorer on your own predictions: one self-contained HTML
    page with gamma and alpha controls, offline, reading the input once.

    \b
    Examples:
      focal explore preds.npy labels.npy -o explorer.html
      focal explore sample_data/digits.csv -o digits.html --alphas 1,0.5,balanced
      focal explore dets.npy t.npy --mode sigmoid --alphas 0.1:0.9:0.2 -o dets.html
    """
    from .explore import HIST_BINS, PER_CLASS_MAX, Hardest, html, page_data
    from .scoring import Settings
    from .writers import write_text_atomic
    if not output.lower().endswith(".html"):
        raise OptionError("--output", f"{output}: the explorer is written as .html")
    preset, gamma_list, specs = _grid(like, mode, normalize, reduction, gammas, alphas)
    mode, normalize = preset.mode, preset.normalize
    table, target_file, sources = _open_inputs(predictions, targets, input_format,
                                               targets_format, target_col, id_col,
                                               class_axis, class_names, shift, logprobs,
                                               logprob_col, conventions, cluster)
    probs = probs or table.probs
    sources["like"] = like
    settings = Settings(mode=mode, probs=probs, ignore_index=ignore_index,
                        gammas=tuple(gamma_list), **preset.settings(),
                        threads=threads, bins=bins,
                        temperature=engine.temperature(temperature, probs, table),
                        logprobs=engine.logprob_mode(table, target_file, mode, probs, like, specs),
                        pt_bins=HIST_BINS,
                        **conventions.settings(mode))
    # per class only where alphas differ between classes and the classes are few
    per_class = any(s.kind != "number" for s in specs) and not table.logprobs and \
        (table.width or 0) <= PER_CLASS_MAX
    hardest = Hardest(per_class)
    outcome = _score_pass(table, target_file, settings, collector=hardest)
    for spec in specs:
        _warn_absent(spec, outcome, mode)
    doc = page_data(outcome, specs=specs, gammas=gamma_list, mode=mode, reduction=reduction,
                    normalize=normalize, sources=sources, hardest=hardest,
                    default_gamma=start_gamma)
    write_text_atomic(output, html(doc), (predictions, targets))
    click.echo(f"wrote {_display(output)}: open it in a browser (it needs no network)",
               err=True)
    return ExitStatus.OK


def _grid_format(path):
    ext = os.path.splitext(path)[1].lower()
    if ext not in (".json", ".csv"):
        raise OptionError("--output", f"{path}: the grid is written as .json or .csv")
    return ext[1:]


def _alpha_items(text, mode) -> list[AlphaSpec]:
    specs, seen = [], set()
    for item in text.split(","):
        item = item.strip()
        if not item:
            raise OptionError("--alphas", f"empty item in {text!r}")
        if "/" in item:
            found = [parse_alpha(item.replace("/", ","), mode, "--alphas")]
        elif item.split(":")[0] in ("balanced", "inverse-freq", "effective"):
            found = [parse_alpha(item, mode, "--alphas")]
        else:
            found = [parse_alpha(repr(v), mode, "--alphas")
                     for v in parse_list(item, "--alphas")]
        for spec in found:
            if spec.label() not in seen:
                seen.add(spec.label())
                specs.append(spec)
    return specs


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
@click.option("--bootstrap", "resamples", type=click.IntRange(0, 100_000), default=1000,
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
def compare(baseline, candidate, targets, input_format, targets_format, class_names,
            target_col, id_col, class_axis, logprobs, logprob_col, shift, mode, like, probs,
            ignore_index, reduction, normalize, bins, temperature, threads, traceback, gamma,
            alpha, fmt, top, resamples, seed, level, threshold, ids, max_increase,
            max_rel_increase, per_class, metric, significant, conventions):
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
    from . import compare as cmp
    from .reduction import Reduction
    from .report import score_summary
    from .scoring import Settings
    preset = engine.preset(like, mode, alpha, normalize, reduction)
    mode, spec, normalize = preset.mode, preset.alpha, preset.normalize
    opened = dict(input_format=input_format, targets_format=targets_format,
                  target_col=target_col, id_col=id_col, class_axis=class_axis,
                  class_names=class_names, shift=shift, logprobs=logprobs,
                  logprob_col=logprob_col, conventions=conventions)
    saved = cmp.saved_summary(baseline)
    parsed = conventions.settings(mode)

    def side(path, on_rows, only=None, reserve=None, classes=None):
        table, target_file, sources = _open_inputs(path, targets, **opened)
        if classes is not None:
            cmp.check_columns(table.classes, classes, _display(path), _display(baseline))
        if reserve is not None:  # rows of one file, as many as it says
            reserve(table.n_rows if table.dense is None and not table.logprobs and
                    getattr(table, "shards", None) is None else None)
        settings = Settings(mode=mode, probs=probs or table.probs, ignore_index=ignore_index,
                            gammas=(gamma,), **preset.settings(), threads=threads,
                            bins=bins, row_sums=on_rows is not None, only_ids=only,
                            temperature=engine.temperature(temperature, probs or table.probs,
                                                           table),
                            logprobs=engine.logprob_mode(table, target_file, mode, probs, like,
                                                   [spec]),
                            **parsed)
        row_alpha = _row_alpha(spec, table, target_file, settings, mode, on_rows is not None)
        outcome = _score_pass(table, target_file, settings, row_alpha, on_rows)
        sources["like"] = like
        return outcome, score_summary(outcome, spec=spec, mode=mode, gamma=gamma,
                                      reduction=reduction, normalize=normalize,
                                      sources=sources, classes="all",
                                      settings=_settings_doc(settings, spec, reduction,
                                                             normalize, like, conventions))

    pairing = None
    if saved is None:
        pairing = cmp.Pairing(intersect=ids == "intersect", threshold=threshold, top=top,
                              names=(_display(baseline), _display(candidate)),
                              reduction=Reduction(reduction, normalize))
        base_outcome, base_doc = side(baseline, pairing.add_baseline, reserve=pairing.reserve)
        if mode == "softmax" and base_outcome.dense is None:
            pairing.enable_classes(base_outcome.n_classes)
        # --ids intersect: each side's figures are over the shared ids only
        shared = pairing.ids if pairing.intersect and pairing.has_ids else None
        cand_outcome, cand_doc = side(candidate, pairing.add_candidate, shared,
                                      classes=base_outcome.classes)
        pairing.finish()
        if pairing.by_id and pairing.dropped and not pairing.seen.all():
            _, base_doc = side(baseline, None, pairing.shared_ids())
    else:
        cand_outcome, cand_doc = side(candidate, None)
        cmp.check_summary(saved, _display(baseline), cand_doc)
        base_doc = saved
    if (base_doc["classes"], base_doc["class_names"]) != \
            (cand_doc["classes"], cand_doc["class_names"]):
        raise InputError(f"has {cand_doc['classes']} classes "
                         f"{cand_doc['class_names'][:5]}... where {_display(baseline)} has "
                         f"{base_doc['classes']} {base_doc['class_names'][:5]}...",
                         _display(candidate))
    doc = cmp.build(base_doc, cand_doc, pairing, resamples=resamples, seed=seed, level=level)
    doc["gates"] = cmp.gates(doc, max_increase=max_increase,
                             max_rel_increase=max_rel_increase, per_class=per_class,
                             metric=metric, significant=significant)
    _print_doc(doc, "compare", fmt)
    for failure in doc["gates"]["failures"]:
        click.echo(f"focal: gate failed: {failure['gate']} on {printable(failure['where'])}: "
                   f"{failure['metric']} {failure['value']!r} > {failure['limit']!r}",
                   err=True)
    return ExitStatus.OK if doc["gates"]["passed"] else ExitStatus.GATE_FAILED


def _display(path: str) -> str:
    from .readers import display_name
    return display_name(path)


@cli.command()
@click.option("--gammas", default="0,0.5,1,2,5", show_default=True, metavar="LIST",
              help="Gammas: a comma list or START:STOP:STEP.")
@click.option("--alpha", type=FINITE, default=1.0, show_default=True,
              help="Weight of the loss (a number >= 0).")
@click.option("--pt", "pts", default="0.1,0.5,0.9", show_default=True, metavar="LIST",
              help="Values of p_t, in (0, 1].")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True,
              help="The rows on stdout: a table, JSON or CSV.")
@click.option("--plot", metavar="FILE",
              help="Draw loss against p_t, one line per gamma (.png or .svg), as in "
                   "Figure 1 of Lin et al. 2017.")
@click.option("--traceback", is_flag=True, hidden=True)
def curve(gammas, alpha, pts, fmt, plot, traceback):
    """Focal loss against p_t, with no input file.

    \b
    Examples:
      focal curve
      focal curve --gammas 0:5:1 --pt 0.01,0.1,0.5,0.9,0.99 --format csv
      focal curve --plot figure1.png
    """
    from .render import curve_plot
    from .report import curve_rows
    gamma_list = parse_list(gammas, "--gammas", minimum=0.0)
    pt_list = parse_list(pts, "--pt")
    if any(not 0 < p <= 1 for p in pt_list):
        raise OptionError("--pt", "every p_t must be in (0, 1]")
    if alpha < 0 or alpha != alpha:
        raise OptionError("--alpha", f"must be >= 0, got {alpha}")
    doc = curve_rows(gamma_list, pt_list, alpha)
    if plot:
        dense = [i / 400 for i in range(1, 401)]
        curve_plot(curve_rows(gamma_list, dense, alpha), plot)
    _print_doc(doc, "curve", fmt)
    return ExitStatus.OK


