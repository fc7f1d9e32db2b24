"""The options the commands share, declared once: the parameter types, the
groups of options (each arriving as one typed request part), and the help
panels they are shown in."""
from __future__ import annotations

import functools

import click

from ..errors import OptionError
from ..peers import PEERS
from ..request import Cluster, Conventions, Reading, Scoring

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
           "class_axis", "logprobs", "logprob_col", "shift", "key")
SCORING = ("mode", "like", "probs", "ignore_index", "reduction", "normalize", "bins",
           "temperature", "threads", "drop_class")
CONVENTIONS = ("weights", "soft_targets", "label_smoothing", "weight_col", "class_weight",
               "pos_weight")


#: the options of every scoring command, first on top (as if stacked with @)
SCORING_OPTIONS = [
    click.option("--input-format", metavar="FMT",
                 help="Format of PREDICTIONS (npy, npz, csv, tsv, json, jsonl, parquet, "
                      "arrow, safetensors, pt, nifti; add .gz for compressed text); "
                      "default: from the extension, or sniffed on stdin."),
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
    click.option("--key", metavar="NAME",
                 help="The tensor holding the predictions in a .safetensors or .pt "
                      "file (default: 'logits')."),
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
    click.option("--drop-class", "drop_class", metavar="CLASS",
                 help="Leave a class (name or index) out of the problem: its score "
                      "column goes (softmax renormalises over the others), its targets "
                      "are ignored (softmax) or background (sigmoid); MONAI's "
                      "include_background=False with --drop-class 0."),
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


def scoring_options(f):
    """The input, mode and ignore options shared by `score`, `sweep` and `compare`,
    arriving as the request's parts: ``reading``, ``scoring`` and ``conventions``."""
    f = _collected(f, CONVENTIONS, "conventions", Conventions.parse)
    f = _collected(f, SCORING, "scoring", Scoring)
    f = _collected(f, READING, "reading", Reading)
    return _decorated(f, SCORING_OPTIONS)


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


def focal_options(f):
    """--gamma and --alpha of the commands that score at one setting (score,
    compare, conventions): one type, one check, one help."""
    return _decorated(f, [
        click.option("--gamma", type=GAMMA, default=2.0, show_default=True,
                     help="Focusing parameter, >= 0 (0 gives cross-entropy)."),
        click.option("--alpha", metavar="VALUE",
                     help="A number; one weight per class (comma list); balanced; "
                          "inverse-freq; effective[:BETA]. Default 1 (softmax), 0.25 "
                          "(sigmoid); a --like preset reads it its own way."),
    ])


def format_option(what: str):
    """--format of a command, saying what it prints."""
    return click.option("--format", "fmt", type=FORMATS, default="table", show_default=True,
                        help=what)


def loss_options(f):
    """--loss and --beta: the relatives reported beside focal loss (score, sweep)."""
    f = click.option("--beta", type=FINITE, default=1.0, show_default=True, metavar="B",
                     help="The beta of --loss fl-star (FL*, sigmoid(gamma x_t + beta)).")(f)
    return click.option(
        "--loss", "loss", multiple=True, metavar="NAME[:PARAM]",
        help="Report a relative beside focal loss (repeatable): poly1:EPS, "
             "poly1-focal:EPS, flsd53, dual-focal[:GAMMA], fl-star[:BETA[,ALPHA]], "
             "varifocal[:ALPHA], quality-focal[:BETA], asymmetric[:GN,GP,CLIP], "
             "focal-tversky[:A,B,G].")(f)
