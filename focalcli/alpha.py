"""What ``--alpha`` means: a number, one weight per class, or a class-balancing
strategy computed from the class counts of the targets being scored.

Weights are applied to the accumulated sums at the end (see summary.py), so a
strategy that needs the counts never needs a second pass for the summary.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import OptionError

STRATEGIES = ("balanced", "inverse-freq", "effective")
DEFAULT_BETA = 0.999


@dataclass(frozen=True)
class AlphaSpec:
    """A parsed ``--alpha``: ``kind`` is 'number', 'list' or a strategy name."""

    kind: str
    value: float | tuple[float, ...] | None = None
    beta: float = DEFAULT_BETA
    option: str = "--alpha"  # named in errors found once the class count is known

    @property
    def data_dependent(self) -> bool:
        return self.kind in STRATEGIES

    def label(self) -> str:
        if self.kind == "kornia":
            return f"kornia:{self.value!r}"
        if self.kind == "number":
            return repr(self.value)
        if self.kind == "list":
            return ",".join(repr(v) for v in self.value)
        if self.kind == "effective":
            return f"effective:{self.beta!r}"
        return self.kind


def default_alpha(mode: str) -> AlphaSpec:
    return AlphaSpec("number", 0.25 if mode == "sigmoid" else 1.0)


def _number(text: str, option: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise OptionError(option, f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise OptionError(option, f"{text!r} is not a finite number")
    return value


def parse_alpha(text: str | None, mode: str, option: str = "--alpha") -> AlphaSpec:
    """Parse one alpha: ``0.25``, ``1,2,0.5``, ``balanced``, ``effective:0.99``."""
    if text is None:
        return default_alpha(mode)
    text = text.strip()
    name, _, arg = text.partition(":")
    if name in STRATEGIES:
        if name != "effective" and arg:
            raise OptionError(option, f"{name!r} takes no argument")
        beta = DEFAULT_BETA
        if arg:
            beta = _number(arg, option)
            if not 0 <= beta < 1:
                raise OptionError(option, f"effective beta must be in [0, 1), got {arg}")
        return AlphaSpec(name, None, beta, option)
    if "," in text:
        values = tuple(_number(v.strip(), option) for v in text.split(","))
        if any(v < 0 for v in values):
            raise OptionError(option, "per-class weights must be >= 0")
        return AlphaSpec("list", values, option=option)
    value = _number(text, option)
    if value < 0 and mode != "sigmoid":
        raise OptionError(option, f"must be >= 0 in softmax mode, got {text}")
    if value > 1 and mode == "sigmoid":
        raise OptionError(option, f"sigmoid alpha must be in [0, 1] (or negative for no "
                          f"weighting), got {text}")
    return AlphaSpec("number", value, option=option)


def strategy_weights(spec: AlphaSpec, counts: np.ndarray, total, mode: str) -> np.ndarray:
    """Per-class weights of a strategy, from per-class counts.

    softmax: ``counts`` are examples per class, ``total`` the examples scored.
    sigmoid: ``counts`` are positives per class, ``total`` the scored
    elements of each class (ignored elements left out, class by class); each
    class is a binary problem and the weight is the positives' alpha
    (negatives get ``1 - alpha``), the positive share of the two classes'
    weights under the same strategy.

    A class with no example (or no positive) is weighted as if it had one:
    the limit every strategy reaches smoothly, and never a division by zero.
    """
    n_c = np.maximum(np.asarray(counts, dtype=np.float64), 1.0)
    n = np.maximum(np.asarray(total, dtype=np.float64), 1.0)
    k = n_c.size
    if mode == "sigmoid":
        n_neg = np.maximum(n - n_c, 1.0)
        if spec.kind == "balanced":
            return n_neg / (n_c + n_neg)
        if spec.kind == "inverse-freq":
            return np.clip(1.0 - n_c / n, 0.1, 0.9)
        w_pos = _effective(n_c, spec.beta)
        w_neg = _effective(n_neg, spec.beta)
        return w_pos / (w_pos + w_neg)
    if spec.kind == "balanced":
        return n / (k * n_c)
    if spec.kind == "inverse-freq":
        return np.clip(1.0 - n_c / n, 0.1, 0.9)
    w = _effective(n_c, spec.beta)
    return w * (k / w.sum())


def _effective(n_c: np.ndarray, beta: float) -> np.ndarray:
    """Cui et al. 2019: ``(1 - beta) / (1 - beta**n)``; beta = 0 gives 1."""
    if beta == 0:
        return np.ones_like(n_c)
    return -np.expm1(np.log(beta)) / -np.expm1(n_c * np.log(beta))


def alpha_in_force(spec: AlphaSpec, n_classes: int, mode: str, acc=None):
    """The alpha actually used: a float, or a ``(K,)`` array of per-class
    weights. Strategies need the accumulator of the scored targets (their
    class counts); the other kinds need only the class count."""
    if not spec.data_dependent:
        return class_alpha(spec, n_classes, mode)
    if acc is None:
        raise ValueError("a class-balancing alpha needs the class counts")
    if mode == "sigmoid":
        return strategy_weights(spec, acc.positives(), acc.class_counts(), mode)
    return strategy_weights(spec, acc.class_counts(), acc.scored(), mode)


def class_alpha(spec: AlphaSpec, n_classes: int, mode="softmax"):
    """A number, a checked per-class list, or Kornia's class-0 split."""
    if spec.kind == "number":
        return float(spec.value)
    if spec.kind == "kornia":  # class 0 (background) 1 - alpha, every other class alpha
        return np.array([1.0 - spec.value] + [spec.value] * (n_classes - 1))
    if len(spec.value) != n_classes:
        raise OptionError(spec.option, f"has {len(spec.value)} weights for "
                          f"{n_classes} classes")
    values = np.asarray(spec.value, dtype=np.float64)
    if mode == "sigmoid" and (values > 1).any():
        raise OptionError(spec.option, "sigmoid per-class alphas must be in [0, 1]")
    return values
