"""Soft targets: a distribution over the classes per softmax row (soft or
smoothed labels), or a value in [0, 1] per sigmoid element (IoU-aware
quality targets, soft labels). The same exact parts as the hard forms in
core.py, weighed by the targets."""
from __future__ import annotations

import numpy as np

from . import core


def soft_parts(logits: np.ndarray, y: np.ndarray, gammas, probs: bool = False,
               class_weight: np.ndarray | None = None):
    """Soft targets: ``y`` is a distribution over the K classes per row.
    Returns CE ``-sum_j y_j log p_j``, for each gamma the focal loss
    ``sum_j y_j (1 - p_j)^gamma (-log p_j)`` (Keras' categorical focal
    crossentropy on soft or smoothed labels, before alpha), and
    ``1 - p_c`` for c = the row's most likely target class.

    ``-log p_j = (m - z_j) + log1p(sum_{i != argmax} exp(z_i - m))``: both
    terms are non-negative, so no digit cancels (m the row's maximum), and
    ``1 - p_j = -expm1(log p_j)``. Always in float64. ``class_weight``:
    each class's term times ``w_j`` (PyTorch's ``weight=`` on soft targets)."""
    if probs:
        p = np.clip(np.asarray(logits, dtype=np.float64), core.PROB_FLOOR, None)
        nlp = -np.log(p)
    else:
        z = np.asarray(logits, dtype=np.float64)
        m, log_rest = core.around_max(z)
        nlp = (m[:, None] - z) + log_rest[:, None]
    q_all = -np.expm1(-nlp)
    with np.errstate(invalid="ignore"):
        terms = np.where(y > 0, y * nlp, 0.0)  # a zero weight on an infinite -log p is 0
    return _soft_sums(terms, q_all, y, gammas, class_weight)


def _soft_sums(terms, q_all, y, gammas, class_weight):
    """CE, ``1 - p_c`` of the most likely target class and each gamma's focal
    loss from the per-class terms ``y_j (-log p_j)``."""
    if class_weight is not None:
        terms = terms * np.asarray(class_weight, dtype=terms.dtype)
    ce = terms.sum(axis=1, dtype=np.float64)
    # one chain of products for every gamma, as the accumulator takes them
    focal = [(factor * terms).sum(axis=1, dtype=np.float64)
             for factor in core.factors(q_all, gammas)]
    c = y.argmax(axis=1)
    return ce, q_all[np.arange(len(c)), c].astype(np.float64), focal


def keras_soft_parts(scores: np.ndarray, y: np.ndarray, gammas, probs: bool = False,
                     class_weight: np.ndarray | None = None):
    """keras.losses.CategoricalFocalCrossentropy on soft or smoothed labels,
    in float32 as Keras: softmax (or the probabilities renormalised), every
    probability clipped to [1e-7, 1 - 1e-7], then ``sum_j y_j (1 - p_j)^gamma
    (-log p_j)`` over the clipped ``p_j``."""
    x = scores.astype(np.float32)
    if not probs:
        x = np.exp(x - x.max(axis=1, keepdims=True))
    x = x / x.sum(axis=1, keepdims=True)
    p = np.clip(x, core.KERAS_EPSILON, np.float32(1) - core.KERAS_EPSILON)
    terms = y.astype(np.float32) * -np.log(p)
    return _soft_sums(terms, np.float32(1) - p, y, gammas, class_weight)


def sigmoid_sides(x: np.ndarray):
    """``-log p``, ``-log(1 - p)``, ``p`` and ``1 - p`` of sigmoid logits,
    each without cancellation, from one ``exp(-|x|)`` in float64:
    ``-log p = log1p(e) + max(-x, 0)`` and ``p = 1 / (1 + e)`` for x >= 0,
    ``e / (1 + e)`` below."""
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))
    soft = np.log1p(e)
    up = x >= 0
    inv = 1.0 / (1.0 + e)
    p = np.where(up, inv, e * inv)
    omp = np.where(up, e * inv, inv)
    return soft + np.maximum(-x, 0.0), soft + np.maximum(x, 0.0), p, omp


def sigmoid_soft_parts(scores: np.ndarray, y: np.ndarray, gammas, probs: bool = False):
    """BCE, ``1 - p_t``, each gamma's unweighted focal loss and ``(p, 1 - p)``
    per element under soft targets ``y`` in [0, 1] (torchvision's, Keras',
    optax's form): ``ce = y softplus(-x) + (1 - y) softplus(x)`` and
    ``1 - p_t = y sigmoid(-x) + (1 - y) sigmoid(x)``: sums of non-negative
    terms, so no digit cancels; y in {0, 1} gives core.sigmoid_parts."""
    if probs:
        p = np.asarray(scores, dtype=np.float64)
        omp = 1.0 - p
        nlp, nlomp = core.parts_from_pt(p, omp)[0], core.parts_from_pt(omp, p)[0]
    else:
        nlp, nlomp, p, omp = sigmoid_sides(scores)
    with np.errstate(invalid="ignore"):  # 0 * inf where y is 0 or 1 exactly
        ce = np.where(y > 0, y * nlp, 0.0) + np.where(y < 1, (1 - y) * nlomp, 0.0)
    q = y * omp + (1 - y) * p
    return ce, q, [factor * ce for factor in core.factors(q, gammas)], (p, omp)
