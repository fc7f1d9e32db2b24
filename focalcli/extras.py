"""A unit's sums beyond CE and focal loss, and what they need of a block:
the gradient norms (--gradient) and the relatives (--loss), each summed by
(group, p_t bucket) as the accumulator sums everything."""
from __future__ import annotations

import numpy as np

from . import core, relatives, variants
from .settings import Settings


def relative_inputs(s: Settings, zb, y, ce) -> dict:
    """What the relatives asked for need of a block beyond CE and 1 - p_t:
    dual focal the largest other probability. (The sigmoid relatives read
    ``p`` and ``1 - p`` off 1 - p_t for 0/1 targets, and soft targets' pass
    gives them.)"""
    out = {}
    if any(name == "dual-focal" for name, _ in s.losses):
        out["max_other"] = variants.max_other_probability(zb, y, ce)
    return out


def unit_extras(s: Settings, ce, q, w, grad_norm=None, side=None) -> dict | None:
    """The unit's sums beyond CE and focal loss: each gamma's gradient norms
    (``grad_norm``: softmax's per row, or |d BCE / dx| per element) and the
    relatives (--loss), every one times the sample weights ``w``. ``side``:
    the relatives' other inputs (:func:`relative_inputs`, and sigmoid's
    targets ``y``)."""
    extra = None
    if grad_norm is not None:
        g_ce = grad_norm * w
        extra = {"grad_ce": g_ce, "grad_ce2": g_ce * g_ce}
        for i, gamma in enumerate(s.gammas):  # a sweep: each gamma's gradient
            g_focal = core.focal_gradient_factor(ce, q, gamma) * grad_norm * w
            extra[f"grad_focal:{i}"] = g_focal
            extra[f"grad_focal2:{i}"] = g_focal * g_focal
    side = side or {}
    # a sweep: each relative at every gamma of the grid, keyed "loss:X@i"
    at = list(enumerate(s.gammas)) if s.losses_per_gamma else [(None, s.gammas[0])]
    for name, param in s.losses:
        extra = extra or {}
        base = "loss:" + variants.label(name, param)
        for i, gamma in at:
            values = _relative(name, param, ce, q, w, side, gamma, extra)
            if values is not None:
                extra[base if i is None else f"{base}@{i}"] = values
    return extra


def _relative(name, param, ce, q, w, side, gamma, extra):
    """One relative's per-unit values at ``gamma``, times the sample weights
    (None where it does not exist: FL* at gamma 0)."""
    def weighed(values):  # no sample weights: no copy of the values
        return values if np.ndim(w) == 0 and w == 1.0 else w * values
    if name == "focal-tversky":  # a ratio of sums: each class's summed p_t
        extra["tversky_tp"] = weighed(1.0 - q)
        return np.zeros_like(q)
    if name in relatives.RELATIVES:
        # 0/1 targets: a negative's p and a positive's 1 - p are both its
        # 1 - p_t, and each side reads only its own
        return weighed(relatives.sigmoid_terms(name, param, ce, side["y"], side.get("p", q),
                                               side.get("omp", q), gamma))
    if name == "fl-star" and not gamma > 0:
        return None
    values = weighed(variants.terms(name, param, ce, q, gamma, side.get("max_other")))
    if name == "fl-star" and isinstance(param, tuple) and param[1] >= 0:
        alpha = param[1]  # fvcore's alpha_t: y is sigmoid's targets, else alpha
        values = values * (core.sigmoid_alpha_t(side["y"], alpha) if "y" in side else alpha)
    return values
