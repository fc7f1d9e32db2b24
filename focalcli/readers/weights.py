"""--weights: sample weights, one number for everything (Keras'
``sample_weight`` scalar), or one per scored row: a ``.npy`` of shape (N,),
(N, K) for sigmoid elements, or (N, d1, ...) for the positions of a dense
input (memory-mapped), or a text file with one number per line."""
from __future__ import annotations

import math

import numpy as np

from ..errors import InputError, OptionError


def load_weights(text):
    """A number, a file's path, or (the Python API) an array of weights."""
    if not isinstance(text, (str, int, float)) or isinstance(text, bool):
        w = np.asarray(text)
        if w.ndim == 0 or w.dtype.kind not in "biuf":
            raise OptionError("--weights", "an array of weights must be numbers, one per "
                              "example")
        _check(w, "<weights>")
        return w
    text = str(text)
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is not None:
        if not (math.isfinite(value) and value >= 0):
            raise OptionError("--weights", f"{text!r}: a weight must be finite and >= 0")
        return value
    if text.lower().endswith(".npy"):
        from .arrays import load_npy
        w = load_npy(text, text, kinds="biuf")
        if w.ndim == 0:
            raise InputError("holds a single value: give it as --weights NUMBER", text)
    else:
        w = _text_weights(text)
    _check(w, text)
    return w


def _text_weights(path: str) -> np.ndarray:
    import pandas as pd
    try:
        frame = pd.read_csv(path, header=None, comment="#", skip_blank_lines=True,
                            dtype=str)
    except FileNotFoundError:
        raise InputError("no such file", path) from None
    except (OSError, ValueError, pd.errors.ParserError) as err:
        raise InputError(f"cannot read weights ({err})", path) from None
    if frame.shape[1] != 1:
        raise InputError(f"weights are one number per line, found {frame.shape[1]} columns",
                         path)
    values = pd.to_numeric(frame[0], errors="coerce").to_numpy(dtype=np.float64)
    if len(values) and np.isnan(values[0]) and not np.isnan(values[1:]).any():
        values = values[1:]  # a header line
    bad = np.flatnonzero(np.isnan(values))
    if bad.size:
        raise InputError(f"{frame[0].iloc[int(bad[0])]!r} is not a number", path,
                         row=int(bad[0]) + 1)
    return values


def _check(w: np.ndarray, name: str):
    flat = w.reshape(-1)
    per_row = flat.size // len(w) if len(w) else 1  # weights in one row (dense: positions)
    for lo in range(0, len(flat), 1 << 22):  # in pieces: a memory-mapped file stays mapped
        piece = np.asarray(flat[lo:lo + (1 << 22)], dtype=np.float64)
        bad = np.flatnonzero(~(np.isfinite(piece) & (piece >= 0)))
        if bad.size:
            i = lo + int(bad[0])
            raise InputError(f"weight {float(flat[i])!r} is not a finite number >= 0", name,
                             row=i // per_row + 1)
