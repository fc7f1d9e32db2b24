"""Calibration's top label of a block: its confidence (the top class's
probability) and whether it is the target, from numpy's passes
(:func:`top_label`) or from what the compiled pass found
(:func:`top_label_known`)."""
from __future__ import annotations

import numpy as np

from .core import cells, class_major, in_memory, softmax_parts, softmax_parts_probs


def block_top_label(z, y, ce, q, probs: bool, soft: bool, known=None):
    """Calibration's top label and its confidence for a scored block, from
    what the compiled pass found (``known``) where it ran. Soft targets' CE
    and 1 - p_t are the distribution's, not the top label's: the target's
    own (the most likely class) are taken for them."""
    if known is not None and not soft:
        return top_label_known(ce, known, probs)
    if soft:
        ce, q = (softmax_parts_probs if probs else softmax_parts)(z, y)
    # a block that owns its data is block_copy's own copy: scratch
    return top_label(z, y, ce, q, probs, scratch=z.flags.owndata)


def top_label(logits: np.ndarray, targets: np.ndarray, ce: np.ndarray, q: np.ndarray,
              probs: bool = False, scratch: bool = False):
    """Confidence of the top label and whether it is the target, per row
    (the first maximum wins ties, as torch's argmax). A row with
    ``p_t > 1/2`` has the target on top and its confidence is ``p_t``
    (``exp(-ce)``), so only the other rows need the row's argmax; their
    confidence is ``exp((z_max - z_t) - ce)``, with no second
    exponential over the row. Rows or class-major blocks alike; a
    class-major block that is ``scratch`` (the caller's own copy) is written
    in and restored, else copied first. :func:`top_label_known` does the
    same from what kernels.row_top found."""
    z = logits.reshape(len(logits), -1)
    n, k = z.shape
    correct = np.ones(n, bool)
    if probs:
        confidence = in_memory(z).take(cells(z, np.arange(n), targets)).astype(np.float64)
    else:
        confidence = np.exp(-ce)
    # a margin for rounding, and for probability rows that sum to 1 within 1e-6
    hard = np.flatnonzero(q >= 0.49)
    if not len(hard):
        return confidence, correct
    mem = in_memory(z)
    at = cells(z, hard, targets[hard])
    zt = mem.take(at).astype(np.float64)
    if class_major(z):
        # a max across the rows is one vectorised pass here (an argmax along
        # them is not, nor is gathering rows): the largest other class's
        # score, with the targets' cells at -inf while it is taken (a
        # private copy: see scratch), so a tie with the target is an
        # equality and only those rows need the first-maximum rule
        if not scratch:
            z = np.array(z, order="F")
            mem = in_memory(z)
        saved = mem.take(at)
        mem.put(at, -np.inf)
        others = z.max(axis=1)[hard].astype(np.float64)
        mem.put(at, saved)
        top = zt > others
        tied = np.flatnonzero(zt == others)
        if tied.size:
            top[tied] = z[hard[tied]].argmax(axis=1) == targets[hard[tied]]
        zmax = np.maximum(zt, others)
    else:
        # rows in memory: numpy's row argmax is twice as fast as its row max,
        # and it is the first maximum, the tie rule itself
        at = z.argmax(axis=1)[hard] if 2 * len(hard) > n else z[hard].argmax(axis=1)
        zmax = mem.take(cells(z, hard, at)).astype(np.float64)
        top = at == targets[hard]
    correct[hard] = top
    confidence[hard] = zmax if probs else np.exp((zmax - zt) - ce[hard])
    return confidence, correct


def top_label_known(ce: np.ndarray, known, probs: bool = False):
    """:func:`top_label` from what kernels.row_top found: the confidence is
    ``exp((z_max - z_t) - ce)``, which is ``exp(-ce)`` (``p_t``) where the
    target is on top, or the largest probability itself."""
    if probs:
        return known.zmax.astype(np.float64), known.top
    return np.exp(known.gap - ce), known.top
