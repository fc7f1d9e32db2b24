"""What a block of scores must be before it is scored: finite, and
probabilities or log-probabilities where the options say so; and the
scores divided by --temperature, which must not leave the float range."""
from __future__ import annotations

import numpy as np

from . import core, kernels
from .errors import OptionError
from .settings import Settings
from .targets import Where


def check_scores(z, where: Where, lo: int, s: Settings, classes: list[str],
                 finite: bool = False):
    """Scores must be finite (and probabilities, with --probs); ``finite``:
    a pass over the block has found them so already."""
    bad = None if finite else core.first_nonfinite(z)
    if bad is not None:
        i, j = bad
        value = float(z.reshape(len(z), -1)[i, j])
        what = "missing or NaN" if value != value else f"{value!r}, not finite"
        if s.logprobs:
            raise where.error(f"log-probability is {what}" + (
                " (probability 0: its cross-entropy is infinite)" if value == -np.inf
                else ""), lo + i)
        raise where.error(f"score is {what}", lo + i, column=classes[j])
    if s.logprobs:
        high = np.flatnonzero(z.reshape(-1) > core.LOGPROB_SLACK)
        if high.size:
            i = int(high[0])
            raise where.error(f"log-probability {float(z.reshape(-1)[i])!r} is above 0 "
                              f"(beyond rounding, {core.LOGPROB_SLACK:g})", lo + i)
    if s.probs and s.mode == "softmax" and s.arithmetic == "keras":
        # Keras divides each row by its sum: any non-negative row with a sum is fine
        i = core.first_unnormalisable_row(z)
        if i is not None:
            raise where.error("probabilities must be >= 0 with a positive sum, as Keras "
                              "renormalises them", lo + i)
    elif s.probs:
        i = core.first_bad_probability_row(z, s.mode == "softmax")
        if i is not None:
            what = "do not sum to 1" if s.mode == "softmax" else "are not in [0, 1]"
            raise where.error(f"probabilities {what} (are these logits? drop --probs)",
                              lo + i)


def check_block(zb, y, where: Where, lo: int, s: Settings, classes: list[str], top: bool,
                read=None):
    """check_scores; where the top label is wanted, the kernel's one read of
    the block finds it and the non-finite scores together, and what it found
    (kernels.Top) is returned for the top label; else None. ``read``: what
    core.softmax_read found in the block already (the non-finite scores,
    and the top label where it was asked for)."""
    known = read.top if read is not None else kernels.row_top(zb, y) if top else None
    check_scores(zb, where, lo, s, classes, finite=known is not None and known.bad is None)
    return known if top else None


def cooled(scores, t: float, where: Where):
    """Scores divided by --temperature. A temperature so small that a finite
    score leaves the float range is the option's fault, not the input's."""
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        out = np.divide(scores, t, dtype=core.as_float(scores).dtype)
    bad = core.first_nonfinite(out)
    if bad is not None:
        i, j = bad
        value = float(scores.reshape(len(scores), -1)[i, j])
        if np.isfinite(value):
            raise OptionError("--temperature", f"{t:g} takes the score {value:g} of "
                              f"{where.name}, row {where.start + i + 1}, beyond the "
                              f"float range")
    return out
