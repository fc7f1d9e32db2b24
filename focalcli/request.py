"""Typed parts of a command's request, validated once where they are built:
the peers' conventions (sample and class weights, soft targets, smoothing)
and where shards are scored. The command line builds them from its flags,
and a library caller from keywords, through the same constructors, so every
command refuses the same bad value with the same line. No click here."""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, fields

from .errors import OptionError

_REQUIRED = object()


def number(value, option: str, *, minimum: float | None = None, maximum: float | None = None,
           integer: bool = False, open_ends: bool = False):
    """A finite number (an int where ``integer``) in range, or the option named."""
    kind = "an integer" if integer else "a finite number"
    try:
        ok = not isinstance(value, (bool, str, bytes)) and (
            float(value) == int(value) if integer else math.isfinite(float(value)))
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise OptionError(option, f"must be {kind}, got {value!r}")
    value = int(value) if integer else float(value)
    low = minimum is not None and (value <= minimum if open_ends else value < minimum)
    high = maximum is not None and (value >= maximum if open_ends else value > maximum)
    if low or high:
        bounds = [f"{'>' if open_ends else '>='} {minimum:g}" if minimum is not None else "",
                  f"{'<' if open_ends else '<='} {maximum:g}" if maximum is not None else ""]
        raise OptionError(option, f"must be {kind} {' and '.join(b for b in bounds if b)}, "
                          f"got {value}")
    return value


def one_of(value, option: str, choices):
    if value not in choices:
        raise OptionError(option, f"{value!r} is not one of "
                          f"{', '.join(repr(c) for c in choices if c is not None)}")
    return value


def _optional(value, check, *args, **kwargs):
    return None if value is None else check(value, *args, **kwargs)


def _weights_list(text, option: str) -> tuple[float, ...] | None:
    """A comma list (or a sequence) of finite weights >= 0."""
    if text is None:
        return None
    try:
        values = tuple(float(v) for v in (text.split(",") if isinstance(text, str) else text))
    except (TypeError, ValueError):
        raise OptionError(option, f"{text!r}: a comma list of numbers, one per "
                          "class") from None
    if not all(v >= 0 and v != float("inf") for v in values):
        raise OptionError(option, f"{text!r}: weights must be finite and >= 0")
    return values


@dataclass(frozen=True)
class Reading:
    """How the inputs are read: --input-format, --targets-format,
    --class-names, --target-col, --id-col, --class-axis, --logprobs,
    --logprob-col, --shift, --key."""

    input_format: str | None = None
    targets_format: str | None = None
    class_names: str | None = None
    target_col: str | None = None
    id_col: str | None = None
    class_axis: int = 1
    logprobs: bool = False
    logprob_col: str | None = None
    shift: bool = False
    key: str | None = None  # .safetensors, .pt: the tensor of predictions

    def __post_init__(self):
        number(self.class_axis, "--class-axis", integer=True)


@dataclass(frozen=True)
class Scoring:
    """How every example is scored and reduced: --mode, --like, --probs,
    --ignore-index, --reduction, --normalize, --bins, --temperature,
    --threads, --drop-class."""

    mode: str | None = None
    like: str | None = None
    probs: bool = False
    ignore_index: int | None = None
    reduction: str = "mean"
    normalize: str = "none"
    bins: int = 15
    temperature: float = 1.0
    threads: int = 0
    drop_class: str | None = None

    def __post_init__(self):
        from .peers import PEERS
        one_of(self.mode, "--mode", (None, "softmax", "sigmoid"))
        one_of(self.like, "--like", (None, *PEERS))
        _optional(self.ignore_index, number, "--ignore-index", integer=True,
                  minimum=-2 ** 63, maximum=2 ** 63 - 1)
        one_of(self.reduction, "--reduction", ("mean", "sum"))
        one_of(self.normalize, "--normalize", ("none", "positives"))
        number(self.bins, "--bins", integer=True, minimum=0, maximum=1000)
        number(self.temperature, "--temperature")
        number(self.threads, "--threads", integer=True, minimum=0, maximum=256)


@dataclass(frozen=True)
class Conventions:
    """--weights, --soft-targets, --label-smoothing, --weight-col,
    --class-weight, --pos-weight."""

    weights: object = None   # a file, one number (as text or a number), or an array
    soft: bool = False
    label_smoothing: float | None = None
    weight_col: str | None = None
    class_weight: tuple[float, ...] | None = None
    pos_weight: tuple[float, ...] | None = None

    @classmethod
    def parse(cls, weights=None, soft_targets=False, label_smoothing=None, weight_col=None,
              class_weight=None, pos_weight=None) -> "Conventions":
        if label_smoothing is not None:
            label_smoothing = number(label_smoothing, "--label-smoothing")
        if label_smoothing is not None and not 0 <= label_smoothing < 1:
            raise OptionError("--label-smoothing", f"must be in [0, 1), got "
                              f"{label_smoothing:g}")
        if weight_col and weights is not None:
            raise OptionError("--weight-col", "and --weights both give the sample weights: "
                              "give one")
        return cls(weights, bool(soft_targets), label_smoothing, weight_col,
                   _weights_list(class_weight, "--class-weight"),
                   _weights_list(pos_weight, "--pos-weight"))

    def settings(self, mode: str) -> dict:
        """The scoring.Settings fields these set in ``mode``. A file of
        weights is loaded here: call it once per command."""
        out = {}
        if self.class_weight is not None:
            out["class_weight"] = self.class_weight
        if self.pos_weight is not None:
            if mode != "sigmoid":
                raise OptionError("--pos-weight", "weighs the positive elements of sigmoid "
                                  "mode; use --mode sigmoid (or --class-weight in softmax "
                                  "mode)")
            out["pos_weight"] = self.pos_weight
        if self.label_smoothing is not None:
            out["label_smoothing"] = self.label_smoothing
        if self.soft:
            out["soft"] = True
        if (self.soft or self.label_smoothing) and self.pos_weight is not None:
            raise OptionError("--pos-weight", "weighs the positive term of each element; "
                              "with soft or smoothed sigmoid targets give --alpha instead "
                              "(alpha_t = alpha y + (1 - alpha)(1 - y))")
        if self.weights is not None:
            from .readers.weights import load_weights
            out["weights"] = load_weights(self.weights)
        return out


@dataclass(frozen=True)
class Cluster:
    """--workers N (an embedded Dask cluster), --scheduler ADDRESS (an
    existing one, or $DASK_SCHEDULER_ADDRESS), --timeout SECONDS."""

    workers: int | None = None
    scheduler: str | None = None
    timeout: float = 10.0
    anywhere: bool = True  # False: this process, whatever the environment says

    def address(self) -> str | None:
        """The scheduler to use, ``"local"`` for an embedded cluster, or None
        to score in this process."""
        if not self.anywhere:
            return None
        scheduler = self.scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
        if self.workers and scheduler:
            raise OptionError("--workers", "starts a cluster of its own; --scheduler joins "
                              "one: give one of them")
        return scheduler or ("local" if self.workers else None)


HERE = Cluster(anywhere=False)  # a command without cluster options (compare)


def _set(request, name: str, value):
    object.__setattr__(request, name, value)  # a frozen request keeps the checked value


def _focal_values(request):
    """--gamma and --alpha, as every command that scores at one setting takes them."""
    _set(request, "gamma", number(request.gamma, "--gamma", minimum=0))
    _set(request, "alpha", _text(request.alpha))


def _loss_values(request):
    """--loss (one name or several) and --beta, as score, sweep and explore take them."""
    _set(request, "beta", number(request.beta, "--beta"))
    loss = request.loss
    _set(request, "loss", (loss,) if isinstance(loss, str) else tuple(loss))


def _classes(value):
    if value is None or value == "all":
        return value
    return number(value, "--classes", integer=True, minimum=1)


def _text(value):
    """A list option (gammas, alphas, per-class weights, ...) as the command
    line writes it: Python lists and numbers become that text."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)
    return ",".join(_text(v).replace(",", "/") for v in list(value))


@dataclass(frozen=True)
class Inputs:
    """What every scoring command reads, and how, and where it is scored."""

    reading: Reading = field(default_factory=Reading)
    scoring: Scoring = field(default_factory=Scoring)
    conventions: Conventions = field(default_factory=Conventions)
    cluster: Cluster = field(default_factory=Cluster)


@dataclass(frozen=True)
class ScoreRequest(Inputs):
    predictions: object = _REQUIRED
    targets: object = None
    gamma: float = 2.0
    alpha: str | None = None
    per_example: bool = False
    per_element: bool = False
    output: str | None = None
    top: int = 0
    map: str | None = None
    gradient: bool = False
    grad: str | None = None
    loss: tuple = ()
    beta: float = 1.0
    ohem: str | None = None
    ohem_ratio: str | None = None
    background: str | None = None
    classes: int | str | None = None
    plot: str | None = None
    fail_above: float | None = None

    def __post_init__(self):
        _focal_values(self)
        _set(self, "top", number(self.top, "--top", integer=True, minimum=0))
        _loss_values(self)
        _set(self, "ohem", _text(self.ohem))
        _set(self, "classes", _classes(self.classes))
        _set(self, "fail_above", _optional(self.fail_above, number, "--fail-above"))
        if self.per_element and (self.top or self.ohem or self.ohem_ratio):
            raise OptionError("--per-element", "lists elements; --top and --ohem rank "
                              "examples: drop one of them")
        if self.per_example and self.top:
            raise OptionError("--top", "lists the highest-loss examples in the summary, "
                              "which --per-example replaces; drop one of them")
        if self.plot and self.scoring.bins == 0:
            raise OptionError("--plot", "draws the calibration, which --bins 0 turns off")


@dataclass(frozen=True)
class SweepRequest(Inputs):
    predictions: object = _REQUIRED
    targets: object = None
    gammas: str = "0:5:0.5"
    alphas: str | None = None
    output: str | None = None
    plot: str | None = None
    temperatures: str | None = None
    gradient: bool = False
    loss: tuple = ()
    beta: float = 1.0

    def __post_init__(self):
        for name in ("gammas", "alphas", "temperatures"):
            _set(self, name, _text(getattr(self, name)))
        _loss_values(self)


@dataclass(frozen=True)
class ExploreRequest(Inputs):
    predictions: object = _REQUIRED
    targets: object = None
    gammas: str = "0:5:0.1"
    alphas: str | None = None
    gamma: float | None = None  # the gamma the page opens at
    output: str = _REQUIRED
    checkpoints: bool = False   # PREDICTIONS: one file per checkpoint, a slider between them
    loss: tuple = ()            # relatives shown beside focal loss at each gamma
    beta: float = 1.0

    def __post_init__(self):
        for name in ("gammas", "alphas"):
            _set(self, name, _text(getattr(self, name)))
        _set(self, "gamma", _optional(self.gamma, number, "--gamma", minimum=0))
        if not str(self.output).lower().endswith(".html"):
            raise OptionError("--output", f"{self.output}: the explorer is written as .html")
        _loss_values(self)


@dataclass(frozen=True)
class CompareRequest(Inputs):
    baseline: object = _REQUIRED
    candidate: object = _REQUIRED
    targets: object = None
    gamma: float = 2.0
    alpha: str | None = None
    top: int = 10
    bootstrap: int = 1000
    seed: int = 0
    level: float = 0.95
    threshold: float = 1e-3
    ids: str = "exact"
    max_increase: float | None = None
    max_rel_increase: float | None = None
    per_class: bool = False
    metric: str = "focal"
    significant: bool = False

    def __post_init__(self):
        _focal_values(self)
        _set(self, "top", number(self.top, "--top", integer=True, minimum=0))
        _set(self, "bootstrap", number(self.bootstrap, "--bootstrap", integer=True,
                                       minimum=0, maximum=100_000))
        _set(self, "seed", number(self.seed, "--seed", integer=True))
        _set(self, "level", number(self.level, "--level", minimum=0, maximum=1,
                                   open_ends=True))
        _set(self, "threshold", number(self.threshold, "--threshold", minimum=0))
        one_of(self.ids, "--ids", ("exact", "intersect"))
        one_of(self.metric, "--metric", ("focal", "ce"))
        for name in ("max_increase", "max_rel_increase"):
            _set(self, name, _optional(getattr(self, name), number,
                                       "--" + name.replace("_", "-")))


@dataclass(frozen=True)
class ConventionsRequest(Inputs):
    """focal conventions: the score options every preset shares."""

    predictions: object = _REQUIRED
    targets: object = None
    gamma: float = 2.0
    alpha: str | None = None

    def __post_init__(self):
        _focal_values(self)


@dataclass(frozen=True)
class TrackRequest(Inputs):
    """focal track: one prediction file per checkpoint."""

    checkpoints: object = _REQUIRED
    targets: object = None
    gamma: float = 2.0
    alpha: str | None = None
    easy_threshold: float = 0.7
    gamma_schedule: str | None = None
    output: str | None = None
    plot: str | None = None
    data_map: str | None = None
    tensorboard: str | None = None

    def __post_init__(self):
        _focal_values(self)
        _set(self, "easy_threshold", number(self.easy_threshold, "--easy-threshold",
                                            minimum=0, maximum=1))
        if self.gamma_schedule is not None:
            schedule(self.gamma_schedule, 2)  # checked now, applied per checkpoint


def schedule(text: str, n: int) -> list[float]:
    """--gamma-schedule linear:G0:G1: checkpoint i of n at G0 + (G1 - G0) i / (n - 1)."""
    parts = str(text).split(":")
    try:
        if parts[0] != "linear" or len(parts) != 3:
            raise ValueError
        g0, g1 = (number(float(v), "--gamma-schedule", minimum=0) for v in parts[1:])
    except ValueError:
        raise OptionError("--gamma-schedule", f"{text!r}: give linear:G0:G1 (gammas >= 0)") \
            from None
    return [g0 + (g1 - g0) * i / (n - 1) if n > 1 else g0 for i in range(n)]


@dataclass(frozen=True)
class CurveRequest:
    gammas: str = "0,0.5,1,2,5"
    alpha: float = 1.0
    pt: str = "0.1,0.5,0.9"
    plot: str | None = None

    def __post_init__(self):
        _set(self, "gammas", _text(self.gammas))
        _set(self, "pt", _text(self.pt))
        _set(self, "alpha", number(self.alpha, "--alpha", minimum=0))


def missing(request) -> list[str]:
    """The fields a request was built without and cannot do without."""
    return [f.name for f in fields(request) if getattr(request, f.name) is _REQUIRED]
