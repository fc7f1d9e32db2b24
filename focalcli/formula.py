"""The formula as a library function: :func:`focal_loss` for one example
and :func:`focal_loss_batch` for arrays, checking their input as the command
line does. The arithmetic is core.py's."""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .core import (as_float, first_bad_probability_row, first_nonfinite, modulate,
                   sigmoid_alpha_t, sigmoid_parts, sigmoid_parts_probs,
                   softmax_parts, softmax_parts_probs)
from .soft import soft_parts


class FocalTerms(NamedTuple):
    """Per-example (softmax) or per-element (sigmoid) results, float64."""

    focal: np.ndarray
    ce: np.ndarray
    p_t: np.ndarray


def focal_loss_batch(logits, targets, gamma: float = 2.0, alpha=1.0, *,
                     mode: str = "softmax", probs: bool = False,
                     ignore_index: int | None = None, weight=None, pos_weight=None,
                     sample_weight=None, label_smoothing: float = 0.0) -> FocalTerms:
    """Focal loss, cross-entropy and p_t for a whole batch.

    softmax: ``logits`` is ``(N, K)``, ``targets`` ``(N,)`` class indices;
    the results are ``(N,)``. ``alpha`` is a number or one weight per class
    (``alpha_t = alpha[target]``). Rows whose target equals ``ignore_index``
    get NaN.

    sigmoid: ``logits`` is ``(N, K)`` or ``(N,)`` and ``targets`` a 0/1 array of
    the same shape; the results are per element. ``alpha_t`` is ``alpha`` for
    positives and ``1 - alpha`` for negatives (a negative alpha: no weighting).

    Soft targets: softmax ``targets`` of shape ``(N, K)`` are distributions
    (rows in [0, 1] summing to 1); ``label_smoothing`` EPS turns any targets
    into ``(1 - EPS) y + EPS / K``. Then CE is ``-sum_j y_j log p_j``, the
    focal loss ``sum_j y_j (1 - p_j)^gamma (-log p_j)`` (Keras), and p_t and
    alpha are those of each row's most likely target class.

    Weights multiply the results, CE and focal loss alike (PyTorch's
    ``reduction='none'``): ``weight`` one per class, ``pos_weight`` one per
    class on sigmoid positives, ``sample_weight`` one per row (sigmoid: per
    row or per element).

    Inputs are checked as the command line checks them (bad ones raise
    ``ValueError``; :class:`focalcli.errors.InputError` is one): gamma finite
    and >= 0, finite scores, whole in-range targets (sigmoid: 0/1), alpha
    finite with one weight per class, >= 0 (sigmoid: in [0, 1], or a negative
    number for no weighting), weights finite and >= 0 of the right length.
    """
    from .targets import Where, sigmoid_targets, softmax_targets
    gamma, scores, t = _checked_inputs(logits, targets, gamma, mode, probs, label_smoothing)
    where = Where("targets", 0)
    k = scores.shape[1] if scores.ndim == 2 else 1
    a = _checked_alpha(alpha, k, mode)
    if mode == "sigmoid":
        matrix = t.reshape(len(t), -1)
        labels, keep = sigmoid_targets(matrix, {}, matrix.shape[1], ignore_index, where)
        labels, keep = labels.reshape(t.shape), keep.reshape(t.shape)
        ce, q = (sigmoid_parts_probs if probs else sigmoid_parts)(scores, labels)
        alpha_t = sigmoid_alpha_t(labels, a)
        focal = alpha_t * modulate(ce, q, gamma)
        pt = 1.0 - q
    elif t.ndim == 2 or label_smoothing:
        from .targets import soft_targets
        if not 0 <= label_smoothing < 1:
            raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
        safe_t, keep, y = soft_targets(t, {}, k, ignore_index, where, label_smoothing)
        ce, q, (focal,) = soft_parts(scores, y, (gamma,), probs)
        focal = focal * (a[safe_t] if a.ndim else float(a))
        labels, pt = safe_t, 1.0 - q
    else:
        safe_t, keep = softmax_targets(t, {}, k, ignore_index, where)
        ce, q = (softmax_parts_probs if probs else softmax_parts)(scores, safe_t)
        alpha_t = a[safe_t] if a.ndim else float(a)
        focal = alpha_t * modulate(ce, q, gamma)
        labels, pt = safe_t, (np.exp(-ce) if not probs else 1.0 - q)
    scale = _weights_of(labels, k, mode, weight, pos_weight, sample_weight, ce.shape)
    if scale is not None:
        focal, ce = focal * scale, ce * scale
    for arr in (focal, ce, pt):
        arr[~keep] = np.nan
    return FocalTerms(focal, ce, pt)


def _checked_inputs(logits, targets, gamma, mode: str, probs: bool, label_smoothing):
    """(gamma, scores, targets) once they are what focal_loss_batch takes."""
    gamma = float(gamma)
    if not (math.isfinite(gamma) and gamma >= 0):
        raise ValueError(f"gamma must be a finite number >= 0, got {gamma}")
    if mode not in ("softmax", "sigmoid"):
        raise ValueError(f"unknown mode {mode!r}")
    scores = as_float(np.asarray(logits))
    t = np.asarray(targets)
    if mode == "softmax":
        if scores.ndim != 2 or scores.shape[1] < 2:
            raise ValueError(f"softmax logits must be (N, K) with K >= 2, got shape "
                             f"{scores.shape}")
        if t.shape not in (scores.shape[:1], scores.shape):
            raise ValueError(f"targets must have shape {scores.shape[:1]} (class indices) "
                             f"or {scores.shape} (distributions), got {t.shape}")
    elif label_smoothing:
        raise ValueError("label_smoothing is for softmax targets")
    elif t.shape != scores.shape:
        raise ValueError(f"sigmoid targets must have the logits' shape {scores.shape}, "
                         f"got {t.shape}")
    bad = first_nonfinite(scores.reshape(len(scores), -1)) if scores.size else None
    if bad is not None:
        raise ValueError(f"logits row {bad[0]}, column {bad[1]} is not finite")
    if probs and scores.size:
        row = first_bad_probability_row(scores, mode == "softmax")
        if row is not None:
            raise ValueError(f"row {row} is not a probability distribution")
    return gamma, scores, t


def _weights_of(labels, k: int, mode: str, weight, pos_weight, sample_weight, shape):
    """The product of the per-class, positive-class and per-row weights for
    each result (None without any), each checked."""
    def checked(w, name, size=None):
        w = np.asarray(w, dtype=np.float64)
        if size is not None and w.shape != (size,):
            raise ValueError(f"{name} must have one weight per class ({size}), got shape "
                             f"{w.shape}")
        if not (np.isfinite(w).all() and (w >= 0).all()):
            raise ValueError(f"{name} must be finite and >= 0")
        return w
    scale = None
    if weight is not None:
        w = checked(weight, "weight", k)
        scale = w[labels] if mode == "softmax" else np.broadcast_to(w, shape)
    if pos_weight is not None:
        if mode != "sigmoid":
            raise ValueError("pos_weight is for sigmoid mode")
        pw = checked(pos_weight, "pos_weight", k)
        part = np.where(labels, np.broadcast_to(pw, shape), 1.0)
        scale = part if scale is None else scale * part
    if sample_weight is not None:
        sw = checked(sample_weight, "sample_weight")
        if sw.ndim == 1 and len(shape) == 2:
            sw = sw[:, None]
        try:
            sw = np.broadcast_to(sw, shape)
        except ValueError:
            raise ValueError(f"sample_weight of shape {np.shape(sample_weight)} does not fit "
                             f"results of shape {shape}") from None
        scale = sw if scale is None else scale * sw
    return scale


def _checked_alpha(alpha, k: int, mode: str) -> np.ndarray:
    a = np.asarray(alpha, dtype=np.float64)
    if a.ndim > 1 or (a.ndim == 1 and a.size != k):
        raise ValueError(f"alpha has {a.size} weights for {k} classes")
    if not np.isfinite(a).all():
        raise ValueError("alpha must be finite")
    if mode == "softmax" and (a < 0).any():
        raise ValueError("softmax alpha must be >= 0")
    if mode == "sigmoid" and ((a > 1).any() or (a.ndim == 1 and (a < 0).any())):
        raise ValueError("sigmoid alpha must be in [0, 1] (or one negative number: "
                         "no weighting)")
    return a


def focal_loss(logits, target: int, gamma: float = 2.0, alpha=1.0) -> float:
    """Softmax focal loss of one example: ``-alpha_t (1 - p_t)**gamma log p_t``.

    >>> round(focal_loss([0.0, 0.0, 0.0], 1, gamma=2.0), 6)
    0.488272
    """
    z = np.asarray(logits, dtype=np.float64).reshape(1, -1)
    return float(focal_loss_batch(z, [int(target)], gamma, alpha).focal[0])
