"""The relatives detection and segmentation train with today, reported
beside focal loss from the same pass (``--loss``):

varifocal[:ALPHA]          Varifocal loss (VarifocalNet, Zhang et al. 2021;
                           mmdetection's ``varifocal_loss``, iou_weighted):
                           ``BCE(x, y) * (y if y > 0 else ALPHA p^gamma)``,
                           ALPHA 0.75, gamma from --gamma. Sigmoid.
quality-focal[:BETA]       Quality focal loss (GFL, Li et al. 2020;
                           mmdetection's ``quality_focal_loss_tensor_target``):
                           ``BCE(x, y) * |y - p|^BETA``, BETA 2. Sigmoid.
asymmetric[:GN,GP,CLIP]    Asymmetric loss (ASL, Ridnik et al. 2021; timm's
                           ``AsymmetricLossMultiLabel``, eps 1e-8): positives
                           ``-log p (1 - p)^GP``, negatives
                           ``-log(1 - p_m) p_m^GN`` with ``p_m = max(p - CLIP, 0)``;
                           4, 1, 0.05. Sigmoid, 0/1 targets.
focal-tversky[:A,B,G]      Focal Tversky loss (Abraham & Khan 2019; smp's
                           ``TverskyLoss`` over the whole input: multiclass
                           in softmax mode, binary/multilabel in sigmoid):
                           per class ``1 - TP / (TP + A FP + B FN)`` from the
                           summed probabilities, classes without targets 0,
                           the mean over the classes to the power G;
                           0.5, 0.5, 1.

The per-element ones are sums by (group, p_t bucket) like every relative;
in sigmoid mode a group is one class's positives or negatives, so their
positive and negative parts are reported apart at no cost. Focal Tversky is
a ratio of sums: it is read off the accumulator (each class's summed p_t and
summed probability), not summed per element.
"""
from __future__ import annotations

import math

import numpy as np

from . import core
from .errors import OptionError

#: name: (default parameters, mode; None: either)
RELATIVES = {"varifocal": ((0.75,), "sigmoid"), "quality-focal": ((2.0,), "sigmoid"),
             "asymmetric": ((4.0, 1.0, 0.05), "sigmoid"),
             "focal-tversky": ((0.5, 0.5, 1.0), None)}
#: timm's clamp of the probabilities before the log
ASL_EPS = 1e-8
#: smp's clamp of the Tversky denominator
TVERSKY_EPS = 1e-7


def parse(name: str, arg: str) -> tuple:
    defaults, _ = RELATIVES[name]
    values = list(defaults)
    if arg:
        given = arg.split(",")
        if len(given) > len(defaults):
            raise OptionError("--loss", f"{name} takes at most {len(defaults)} parameters, "
                              f"got {arg!r}")
        try:
            values[:len(given)] = [float(v) for v in given]
        except ValueError:
            raise OptionError("--loss", f"{name}:{arg}: give numbers") from None
    if not all(math.isfinite(v) and v >= 0 for v in values):
        raise OptionError("--loss", f"{name}:{arg}: the parameters must be finite and >= 0")
    if name == "asymmetric" and values[2] >= 1:
        raise OptionError("--loss", "asymmetric's CLIP must be below 1")
    return tuple(values)


def check_mode(name: str, mode: str):
    want = RELATIVES[name][1]
    if want is not None and mode != want:
        raise OptionError("--loss", f"{name} is of the {want} form: use --mode {want}")


def sigmoid_terms(name: str, param: tuple, ce, y, p, omp, gamma: float) -> np.ndarray:
    """Per element, from the BCE ``ce`` of target ``y`` (0/1 or soft), the
    probability ``p`` and ``1 - p`` (each exact: no ``1 - p`` is formed).
    Positives (``y > 0``; quality focal's ``y = 1``) read only ``1 - p`` and
    negatives only ``p``."""
    if name == "varifocal":
        (alpha,) = param
        weight = _power(p, gamma) * alpha      # in place after the power: a pass each
        np.copyto(weight, y, where=np.asarray(y) > 0)
        weight *= ce
        return weight
    if name == "quality-focal":
        (beta,) = param
        gap = np.where(y >= 1, omp, np.abs(y - p))  # 1 - p exact where y is 1
        out = _power(gap, beta)
        out *= ce
        return out
    gn, gp, clip = param  # asymmetric, on 0/1 targets
    cap = -math.log(ASL_EPS)
    if clip > 0:
        # in place: a negative has only p exact (its 1 - p_t), so log1p(-p_m)
        out = np.subtract(p, clip, dtype=np.result_type(p, np.float32))
        np.maximum(out, 0.0, out=out)
        weight = _power(out, gn)
        np.negative(out, out=out)
        np.log1p(out, out=out)
        out *= weight
        np.negative(out, out=out)
    else:
        out = np.minimum(ce, cap) * _power(p, gn)
    # the positives, few where ASL is used, computed where they are
    at = np.flatnonzero(np.asarray(y, bool))
    flat = out.reshape(-1)
    flat[at] = np.minimum(ce.reshape(-1)[at], cap) * _power(omp.reshape(-1)[at], gp)
    return out


def _power(x: np.ndarray, exponent: float) -> np.ndarray:
    """``x ** exponent`` as the focal factor is taken (a chain of products for
    whole and half exponents: faster than pow, and 0 ** 0 is 1); a whole
    exponent's chain in one new array (each product a new block is a pass of
    page faults)."""
    whole, half = divmod(float(exponent), 1.0)
    if half or not 1 <= whole <= core.MAX_CHAIN_POWER:
        return next(core.factors(x, (exponent,)))
    out = x.copy() if whole == 1 else np.multiply(x, x)  # never x itself: callers write
    for _ in range(int(whole) - 2):
        out *= x
    return out


def tversky(acc, param: tuple) -> float | None:
    """smp's TverskyLoss from the sums: per class TP = the summed p_t of its
    targets (sigmoid: of its positive elements), FP = its summed probability
    less TP, FN = its count of targets less TP."""
    a, b, g = param
    if acc.prob_sum is None or "tversky_tp" not in acc.extra:
        return None
    counts = acc.positives()
    sums = acc.extra["tversky_tp"]
    tp = sums[1::2].sum(axis=1) if acc.sigmoid else acc.by_class(sums)
    fp = np.maximum(acc.prob_sum - tp, 0.0)
    fn = np.maximum(counts - tp, 0.0)
    score = tp / np.maximum(tp + a * fp + b * fn, TVERSKY_EPS)
    loss = np.where(counts > 0, 1.0 - score, 0.0)
    return float(loss.mean() ** g)


def parts(acc, key: str, scale, denominator) -> dict | None:
    """A sigmoid relative's positive and negative parts (each over the same
    denominator as the whole, so they add up to it)."""
    if not acc.sigmoid or not denominator:
        return None
    sums = scale * acc.extra[key]
    return {"positives": float(sums[1::2].sum()) / denominator,
            "negatives": float(sums[0::2].sum()) / denominator}
