"""Column sums of the model's class probabilities over the scored units:
what the summary's prior (each class's mean probability beside its rate)
is read from. The softmax sums reuse the loss's own exponentials where the
loss computes them (core.softmax_parts), so the prior costs one
matrix-vector product per block, not another pass of ``exp``."""
from __future__ import annotations

import numpy as np


def fused_sums(z, targets, e, scale, q, direct, out, rows):
    """From softmax_parts' exponentials ``e`` (target column zeroed): off the
    target ``p_j = e_j / S = e_j * scale`` (``S = exp(z_t) + rest`` at most
    1e28 for a direct row, so ``scale = exp(-z_t) p_t`` fits the input's
    precision); on it
    ``p_t = 1 - q``. The rows the direct form cannot hold (their ``e`` may
    hold inf) are summed from :func:`softmax_probabilities`. ``rows``
    weighs each row: 1 scored, 0 not."""
    rows = np.asarray(rows, dtype=np.float64)
    whole = bool(direct.all())
    on = rows if whole else np.where(direct, rows, 0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        inv = on * scale
    inv = (inv if whole else np.where(direct, inv, 0.0)).astype(e.dtype)
    if whole:
        out += e.T @ inv
    else:
        ok = np.flatnonzero(direct)
        out += e[ok].T @ inv[ok]
    target_and_redone(z, targets, q, direct, out, rows)


def target_and_redone(z, targets, q, direct, out, rows):
    """The prior's sums beyond the direct rows' other classes (which
    fused_sums added): each direct row's ``p_t = 1 - q`` on its target, and
    every class of the rows the direct form cannot hold."""
    rows = np.asarray(rows, dtype=np.float64)
    on = np.where(direct, rows, 0.0)
    if 16 * len(targets) < z.shape[1]:  # a few long rows: no K-long count per block
        np.add.at(out, targets, (1.0 - q) * on)
    else:
        out += np.bincount(targets, (1.0 - q) * on, minlength=z.shape[1])
    redone(z, np.flatnonzero(~direct), out, rows)


def redone(z, redo, out, rows):
    """The prior's sums over the rows ``redo`` the direct form cannot hold,
    from :func:`softmax_probabilities` (the compiled pass summed the others)."""
    rows = np.asarray(rows, dtype=np.float64)
    redo = redo[rows[redo] != 0]
    if redo.size:
        out += softmax_probabilities(z[redo]).T @ rows[redo]


def softmax_probabilities(logits: np.ndarray) -> np.ndarray:
    """The softmax of each row in float64, around the row's maximum."""
    z = np.asarray(logits, dtype=np.float64)
    with np.errstate(over="ignore"):  # logits a float range apart: exp(-inf) is 0
        e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def class_sums(scores: np.ndarray, rows: np.ndarray, probs: bool) -> np.ndarray:
    """Column sums of each row's class probabilities (the softmax of logits,
    or given probabilities renormalised as Keras does), rows weighed by
    ``rows``: the paths that do not go through core.softmax_parts."""
    if probs:
        p = np.asarray(scores, dtype=np.float64)
        p = p / p.sum(axis=1, keepdims=True)
    else:
        p = softmax_probabilities(scores)
    return p.T @ np.asarray(rows, dtype=np.float64)


def sigmoid_sums(q: np.ndarray, positive: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Per class, the summed probability of its scored elements: a
    negative's is ``q`` (``1 - p_t``), a positive's ``1 - q``; so the column
    sums of ``q`` (one matrix-vector product) less ``2q - 1`` over the
    positives, which are few where sigmoid focal loss is used."""
    k = q.shape[1]
    qm = q if keep.all() else np.where(keep, q, 0.0)
    total = np.ones(len(qm)) @ qm
    pos = np.flatnonzero(positive & keep)
    total -= np.bincount(pos % k, 2.0 * qm.reshape(-1)[pos] - 1.0, minlength=k)
    return total
