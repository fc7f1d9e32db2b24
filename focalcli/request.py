"""Typed parts of a command's request, validated once where they are built:
the peers' conventions (sample and class weights, soft targets, smoothing)
and where shards are scored. The command line builds them from its flags,
and a library caller from keywords, through the same constructors, so every
command refuses the same bad value with the same line. No click here."""
from __future__ import annotations

from dataclasses import dataclass

from .errors import OptionError


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
class Conventions:
    """--weights, --soft-targets, --label-smoothing, --weight-col,
    --class-weight, --pos-weight."""

    weights: str | float | None = None   # a file, or one number (as text or a number)
    soft: bool = False
    label_smoothing: float | None = None
    weight_col: str | None = None
    class_weight: tuple[float, ...] | None = None
    pos_weight: tuple[float, ...] | None = None

    @classmethod
    def parse(cls, weights=None, soft=False, label_smoothing=None, weight_col=None,
              class_weight=None, pos_weight=None) -> "Conventions":
        if label_smoothing is not None and not 0 <= label_smoothing < 1:
            raise OptionError("--label-smoothing", f"must be in [0, 1), got "
                              f"{label_smoothing:g}")
        if weight_col and weights is not None:
            raise OptionError("--weight-col", "and --weights both give the sample weights: "
                              "give one")
        return cls(weights, bool(soft), label_smoothing, weight_col,
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
        if (self.soft or self.label_smoothing) and mode != "softmax":
            raise OptionError("--soft-targets/--label-smoothing", "are for softmax targets "
                              "(sigmoid targets are 0/1 per element)")
        if self.weights is not None:
            from .readers.weights import load_weights
            out["weights"] = load_weights(str(self.weights))
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
        from .distributed import wanted
        return wanted(self.workers, self.scheduler)


HERE = Cluster(anywhere=False)  # a command without cluster options (compare)
