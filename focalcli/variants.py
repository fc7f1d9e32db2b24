"""Relatives of focal loss, reported beside it from the same pass (``--loss``),
and what online hard example mining would keep (``--ohem``).

poly1:EPS        PolyLoss (Leng et al. 2022): CE + eps (1 - p_t)
poly1-focal:EPS  its focal form: FL + eps (1 - p_t)^(gamma + 1)
flsd53           sample-dependent focal loss (Mukhoti et al. 2020, their code):
                 gamma 5 where p_t < 0.2, else 3
dual-focal[:G]   dual focal loss (Tao et al. 2023): -(1 - p_t + p_j)^G log p_t,
                 p_j the largest probability of another class (G: --gamma)
fl-star[:BETA[,ALPHA]]  FL* (Lin et al. 2017, appendix A): -log(sigmoid(gamma x_t +
                 beta)) / gamma, x_t the target's logit, log(p_t / (1 - p_t)) (BETA:
                 --beta, 1); with ALPHA times alpha_t (fvcore's
                 sigmoid_focal_loss_star: alpha for positives, 1 - alpha for negatives;
                 softmax: alpha)

and the detection and segmentation relatives of relatives.py (varifocal,
quality-focal, asymmetric, focal-tversky).
"""
from __future__ import annotations

import math

import numpy as np

from . import core, relatives
from .errors import OptionError
from .relatives import RELATIVES

NAMES = ("poly1", "poly1-focal", "flsd53", "dual-focal", "fl-star") + tuple(RELATIVES)


def parse_loss(text: str, gamma: float, beta: float = 1.0) -> tuple[str, object]:
    name, _, arg = text.partition(":")
    if name not in NAMES:
        raise OptionError("--loss", f"{text!r}: use one of {', '.join(NAMES)}")
    if name in RELATIVES:
        return name, relatives.parse(name, arg)
    if name == "flsd53":
        if arg:
            raise OptionError("--loss", "flsd53 takes no parameter")
        return name, None
    if name == "fl-star" and not gamma > 0:
        raise OptionError("--loss", "fl-star divides by gamma: give --gamma > 0")
    if name == "fl-star" and "," in arg:  # fl-star:BETA,ALPHA: fvcore's alpha_t on top
        return name, _fl_star_with_alpha(text, arg)
    default = 1.0 if name.startswith("poly1") else beta if name == "fl-star" else gamma
    try:
        value = float(arg) if arg else default
    except ValueError:
        raise OptionError("--loss", f"{text!r}: {arg!r} is not a number") from None
    if not math.isfinite(value) or (name == "dual-focal" and value < 0):
        raise OptionError("--loss", f"{text!r}: the parameter must be finite"
                          + (" and >= 0" if name == "dual-focal" else ""))
    return name, value


def _fl_star_with_alpha(text: str, arg: str) -> tuple[float, float]:
    try:
        beta, alpha = (float(v) for v in arg.split(","))
    except ValueError:
        raise OptionError("--loss", f"{text!r}: write fl-star:BETA,ALPHA") from None
    if not (math.isfinite(beta) and math.isfinite(alpha) and alpha <= 1):
        raise OptionError("--loss", f"{text!r}: BETA finite, ALPHA at most 1 (negative: "
                          "no alpha)")
    return beta, alpha


def label(name: str, param) -> str:
    if isinstance(param, tuple):
        return f"{name}:" + ",".join(f"{v:g}" for v in param)
    return name if param is None else f"{name}:{param:g}"


def terms(name: str, param, ce: np.ndarray, q: np.ndarray, gamma: float,
          max_other: np.ndarray | None = None) -> np.ndarray:
    """Per unit, from CE and 1 - p_t (the same exact parts as focal loss)."""
    if name == "poly1":
        return ce + param * q
    if name == "poly1-focal":
        return core.modulate(ce, q, gamma) + param * next(core.factors(q, (gamma + 1,)))
    if name == "flsd53":
        pt = 1.0 - q
        return np.where(pt < 0.2, core.modulate(ce, q, 5.0), core.modulate(ce, q, 3.0))
    if name == "fl-star":
        return fl_star(ce, q, gamma, param[0] if isinstance(param, tuple) else param)
    return np.power(np.clip(q + max_other, 0.0, None), param) * ce  # dual-focal


def fl_star(ce: np.ndarray, q: np.ndarray, gamma: float, beta: float) -> np.ndarray:
    """``softplus(-(gamma x_t + beta)) / gamma`` with the target's logit
    ``x_t = log(p_t / (1 - p_t)) = -ce - log(q)``, from the exact parts
    (sigmoid: x_t is the logit itself; softmax: the binary logit of p_t).
    p_t = 1 (q = 0) is x_t = inf and a loss of 0."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        y = -(gamma * (-ce - np.log(q)) + beta)
        soft = np.maximum(y, 0.0) + np.log1p(np.exp(-np.abs(y)))
    return np.where(q > 0, soft, 0.0) / gamma


def max_other_probability(logits: np.ndarray, targets: np.ndarray, ce: np.ndarray):
    """The largest probability of a class other than the target:
    ``p_t * exp(z_j - z_t)``, with p_t = exp(-ce)."""
    z = np.array(logits, dtype=np.float64)
    rows = np.arange(len(z))
    zt = z[rows, targets].copy()
    z[rows, targets] = -np.inf
    return np.exp(z.max(axis=1) - zt - ce)


class Ohem:
    """Online hard example mining on the same predictions: the K hardest
    examples by CE (or all positives and the hardest negatives at a ratio),
    what they would train on, and how much of the focal loss the discarded
    examples carry. Keeps each scored example's CE and focal loss."""

    def __init__(self, keep: str | None, ratio: str | None, background: str | None):
        self.keep_text, self.ratio_text, self.background = keep, ratio, background
        self.ce, self.focal, self.positive = [], [], []
        self.binary = False  # one sigmoid score per example: positives are target 1
        if keep is not None:
            try:
                value = float(keep)
            except ValueError:
                raise OptionError("--ohem", f"{keep!r} is not a number") from None
            if not (value >= 1 and value == int(value)) and not 0 < value < 1:
                raise OptionError("--ohem", "a count K >= 1 or a fraction in (0, 1)")
            self.keep_value = value
        if ratio is not None:
            pos, _, neg = ratio.partition(":")
            try:
                self.ratio = float(neg) / float(pos)
            except (ValueError, ZeroDivisionError):
                raise OptionError("--ohem-ratio", f"{ratio!r}: write P:N, e.g. 1:3") from None
            if not self.ratio > 0:
                raise OptionError("--ohem-ratio", "N / P must be > 0")

    def add(self, chunk: dict, background_index):
        scored = ~np.isnan(chunk["focal"])
        self.ce.append(np.asarray(chunk["ce"], np.float64)[scored])
        self.focal.append(np.asarray(chunk["focal"], np.float64)[scored])
        target = chunk.get("target")
        if isinstance(target, np.ndarray) and target.dtype == object:  # sigmoid '1|3'
            positive = np.asarray([bool(v) for v in target.tolist()])
        elif self.binary:
            positive = np.asarray(target) == 1
        elif background_index is not None:
            positive = np.asarray(target) != background_index
        else:
            positive = np.ones(len(scored), bool)
        self.positive.append(positive[scored])

    def figures(self) -> dict | None:
        ce, focal = np.concatenate(self.ce or [np.zeros(0)]), np.concatenate(
            self.focal or [np.zeros(0)])
        positive = np.concatenate(self.positive or [np.zeros(0, bool)])
        n = len(ce)
        if not n:
            return None
        order = np.argsort(-ce, kind="stable")
        if self.ratio_text is not None:
            negatives = np.flatnonzero(~positive)
            hardest = negatives[np.argsort(-ce[negatives], kind="stable")]
            budget = int(round(self.ratio * positive.sum()))
            kept = np.concatenate([np.flatnonzero(positive), hardest[:budget]])
        else:
            k = int(self.keep_value) if self.keep_value >= 1 else \
                math.ceil(self.keep_value * n)
            kept = order[:min(k, n)]
        mask = np.zeros(n, bool)
        mask[kept] = True
        total_focal = focal.sum()
        return {"keep": int(mask.sum()), "ce": float(ce[mask].mean()) if mask.any() else None,
                "discarded": int(n - mask.sum()), "discarded_share": float(1 - mask.mean()),
                "discarded_focal_share": float(focal[~mask].sum() / total_focal)
                if total_focal else None,
                "rule": f"ratio {self.ratio_text}" if self.ratio_text else
                f"hardest {self.keep_text}"}
