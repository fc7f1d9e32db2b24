"""The maths of focal loss, in one place: pure numpy, no I/O.

Focal loss (Lin et al., 2017, "Focal Loss for Dense Object Detection",
arXiv:1708.02002) is cross-entropy times ``alpha_t * (1 - p_t) ** gamma``.

Everything here is written to keep every digit the arithmetic allows:

* cross-entropy is ``log1p(sum_{j != t} exp(z_j) * exp(-z_t))``: the target's
  own term is left out of the sum, so a confident row (``1 - p_t`` ~ 1e-15)
  keeps its digits where ``logsumexp(z) - z_t`` would cancel to nothing, and
  the only pass over the K columns is one ``exp`` (no row maximum). Rows
  outside that form's range (huge logits, everything else underflowing) are
  taken around their maximum instead (:func:`softmax_parts_shifted`).
* ``1 - p_t`` is ``odds / (1 + odds)`` or ``-expm1(-ce)``, never one minus a
  rounded ``p_t``.
* sigmoid mode uses ``softplus`` in its ``log1p(exp(-|x|))`` form.
* float32 input stays float32 inside the exponentials and their row sums (as
  fast as the hardware allows); everything per row, and every result, is
  float64.
"""
from __future__ import annotations

import functools
import threading

import numpy as np

from . import kernels, probabilities

#: probabilities are floored here before the log (the smallest normal float64)
PROB_FLOOR = np.finfo(np.float64).tiny
#: edges of the "where the loss comes from" p_t buckets
BUCKET_EDGES = (0.1, 0.5, 0.9)
BUCKET_LABELS = ("[0, 0.1)", "[0.1, 0.5)", "[0.5, 0.9)", "[0.9, 1]")
#: bucket index from which an example counts as easy (p_t >= 0.5)
EASY_BUCKET = 2

_scratch = threading.local()


def _buffer(shape, dtype) -> np.ndarray:
    """A per-thread scratch array, reused so the hot loop allocates nothing."""
    size = int(np.prod(shape))
    buf = getattr(_scratch, dtype.char, None)
    if buf is None or buf.size < size:
        buf = np.empty(max(size, 1), dtype)
        setattr(_scratch, dtype.char, buf)
    return buf[:size].reshape(shape)


def as_float(a: np.ndarray) -> np.ndarray:
    """float32 and float64 keep their precision, in native byte order (a
    big-endian float32 file computes exactly as a little-endian one);
    anything else computes in float64."""
    if a.dtype.kind == "f" and a.dtype.itemsize in (4, 8):
        return a if a.dtype.isnative else a.astype(a.dtype.newbyteorder("="))
    return a.astype(np.float64)


def _flat(z: np.ndarray) -> np.ndarray:
    """``z`` as one C-ordered vector: take/put on flat positions beat 2-D
    fancy indexing."""
    return z.reshape(-1) if z.flags.c_contiguous else np.ascontiguousarray(z).reshape(-1)


def class_major(z: np.ndarray) -> bool:
    """``(n, K)`` rows stored class by class (Fortran order): a dense map's
    block, ``(C, positions)`` in memory. Elementwise passes and reductions
    across the rows run on contiguous memory there, with no transposing copy."""
    return z.ndim == 2 and z.flags.f_contiguous and not z.flags.c_contiguous


def in_memory(z: np.ndarray) -> np.ndarray:
    """``z`` as one vector in its own memory order (see :func:`cells`)."""
    return z.T.reshape(-1) if class_major(z) else _flat(z)


def cells(z: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """The positions of ``z[rows, cols]`` in :func:`in_memory`'s vector."""
    n, k = z.shape
    return cols * n + rows if class_major(z) else rows * k + cols


def row_sums(a: np.ndarray) -> np.ndarray:
    """Row sums as a matrix-vector product: one BLAS pass, several times
    faster than ``a.sum(axis=1)``; within K ulps, like any summation."""
    return a @ _ones(a.shape[1], a.dtype)


@functools.lru_cache(maxsize=8)
def _ones(k: int, dtype) -> np.ndarray:
    """A read-only vector of ones, made once: a 128k vocabulary's is 0.5 MB."""
    ones = np.ones(k, dtype)
    ones.flags.writeable = False
    return ones


# The direct form below is used for a row when its sum of exponentials is a
# normal number well above the underflow range (so flushed terms cannot
# matter) and exp(-z_t) is representable; the quotient then stays inside
# float64's normal range. Anything else takes the max-shifted form.
_DIRECT_REST_MIN = {np.dtype(np.float32): 1e-28, np.dtype(np.float64): 1e-150}
_DIRECT_REST_MAX = 1e150
_DIRECT_TARGET_MAX = 340.0


def softmax_read(logits: np.ndarray, targets: np.ndarray, prob_sums: tuple | None = None,
                 top: bool = True):
    """The compiled pass's one read of a block (kernels.Read: the
    finiteness check, the top label where ``top`` asks for it, and
    softmax_parts' sums), the prior's sums added as :func:`softmax_parts`
    adds them; None where the kernel does not apply."""
    z = as_float(logits)
    prior, rows = prob_sums if prob_sums is not None else (None, None)
    return kernels.softmax_read(z, targets, _limits(z), prior, rows, top=top)


def _limits(z: np.ndarray) -> tuple:
    """The direct form's (least rest, largest rest, largest |z_t|)."""
    return _DIRECT_REST_MIN[z.dtype], _DIRECT_REST_MAX, _DIRECT_TARGET_MAX


def softmax_parts(logits: np.ndarray, targets: np.ndarray, grad_norm: np.ndarray | None = None,
                  prob_sums: tuple | None = None, read: kernels.Read | None = None):
    """Cross-entropy and ``1 - p_t`` per row of ``(n, K)`` logits.

    ``targets`` must be valid class indices. Returns float64 ``(ce, q)``.
    ``ce = log1p(sum_{j != t} exp(z_j) * exp(-z_t))``: the target's own term is
    left out of the sum (one scatter), so no digit cancels in any regime, and
    the only pass over the block is one ``exp``, with no row maximum to find
    or subtract. Rows this cannot hold (logits beyond about +-80 in float32,
    +-340 in float64, or every other class underflowing) go through
    :func:`softmax_parts_shifted`, which is exact everywhere but slower.

    With ``grad_norm`` (a float64 array of n) it also writes the L2 norm of
    the CE gradient ``p - e_t`` from the same exponentials (see
    :func:`softmax_gradient`): the gradient view then costs one more pass
    over the block, not four. With ``prob_sums`` (``(out, rows)``: a float64
    ``(K,)`` array and each row's weight, 0 for an unscored one) it adds the
    column sums of the softmax probabilities to ``out``, also from the same
    exponentials (one matrix-vector product). ``read``: what
    :func:`softmax_read` found in the block already, with these
    ``prob_sums`` (its sums, or numpy's passes where it left them).
    """
    z = as_float(logits)
    limits = _limits(z)
    # the compiled pass: one read for the target, the sum and the prior's
    # sums (not with the gradient, which reads the exponentials themselves)
    if read is not None:
        found = read.sums
    else:
        found = None if grad_norm is not None else \
            kernels.softmax_sums(z, targets, limits, *(prob_sums or ()))
    if found is not None:  # (the kernels and probabilities.redone take the rows' weights as given)
        return _from_odds(z, targets, found, prob_sums)
    if prob_sums is not None:  # the rows' weights as numbers, once for numpy's passes below
        prob_sums = (prob_sums[0], np.asarray(prob_sums[1], dtype=np.float64))
    zt, e, rest = _exponentials(z, targets)
    direct = (rest >= limits[0]) & (rest <= limits[1]) & (np.abs(zt) <= limits[2])
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        shift = np.exp(-zt)
        odds = rest * shift            # (1 - p_t) / p_t
        ce, q = np.log1p(odds), odds / (1.0 + odds)
        if grad_norm is not None or prob_sums is not None:
            shift /= 1.0 + odds        # p_j / e_j off the target: exp(-z_t) p_t
    if not direct.all():
        redo = np.flatnonzero(~direct)
        ce[redo], q[redo] = softmax_parts_shifted(z[redo], targets[redo])
    if grad_norm is not None:
        _fused_gradient_norm(z, targets, e, rest, shift, q, direct, grad_norm)
    if prob_sums is not None:
        probabilities.fused_sums(z, targets, e, shift, q, direct, *prob_sums)
    return ce, q


def _from_odds(z, targets, found: kernels.Sums, prob_sums):
    """softmax_parts from the compiled pass: its odds (the direct form's
    ``(1 - p_t) / p_t``, and its prior's sums over those rows), the rows it
    could not hold taken around their maximum."""
    odds = found.odds
    with np.errstate(divide="ignore", invalid="ignore"):  # -1 marks the rows redone
        ce, q = np.log1p(odds), odds / (1.0 + odds)
    if found.shifted:
        redo = np.flatnonzero(odds < 0)
        ce[redo], q[redo] = softmax_parts_shifted(z[redo], targets[redo])
        if prob_sums is not None:
            probabilities.redone(z, redo, *prob_sums)
    return ce, q


def _exponentials(z: np.ndarray, targets: np.ndarray):
    """numpy's passes for softmax_parts: the target's score, the block's
    exponentials with the target's zeroed, and their row sums (float64)."""
    n, k = z.shape
    at = cells(z, np.arange(n), targets)
    zt = in_memory(z).take(at).astype(np.float64, copy=False)
    e = _buffer((k, n), z.dtype).T if class_major(z) else _buffer(z.shape, z.dtype)
    with np.errstate(over="ignore", under="ignore"):  # such rows are redone
        np.exp(z, out=e)
    in_memory(e).put(at, 0.0)
    return zt, e, row_sums(e).astype(np.float64, copy=False)


#: the float32/float64 squares below are summed in the input's precision: a
#: sum of squares under this (times K) may have lost terms to underflow
_SQUARES_MIN = {np.dtype(np.float32): 1e-30, np.dtype(np.float64): 1e-290}
_SQUARES_MAX = {np.dtype(np.float32): 1e36, np.dtype(np.float64): 1e300}


def _fused_gradient_norm(z, targets, e, rest, scale, q, direct, out):
    """``sqrt(q^2 + sum_{j != t} p_j^2)`` from softmax_parts' exponentials
    (target column already zeroed): ``p_j = e_j * scale`` with ``scale =
    exp(-z_t) * p_t``, so the sum of squares is ``scale^2 * sum e_j^2``.
    Rows whose squares could overflow or underflow in the input's precision
    take :func:`softmax_gradient`."""
    k = z.shape[1]
    s2 = np.einsum("ij,ij->i", e, e).astype(np.float64)
    ok = direct & (rest <= _SQUARES_MAX[z.dtype] ** 0.5) & (s2 >= k * _SQUARES_MIN[z.dtype])
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        others = np.sqrt(s2) * scale
    out[:] = np.hypot(q, others)
    if not ok.all():
        redo = np.flatnonzero(~ok)
        out[redo] = softmax_gradient(z[redo], targets[redo], q[redo])[0]


def softmax_gradient_probs(probs: np.ndarray, targets: np.ndarray, q: np.ndarray,
                           full: bool = False):
    """As :func:`softmax_gradient` for probabilities: the gradient with
    respect to the logits behind them (``log p`` up to a constant) is the
    same ``p - e_t``."""
    p = np.array(probs, dtype=np.float64)
    n, k = p.shape
    at = np.arange(0, n * k, k) + targets
    p.reshape(-1).put(at, 0.0)
    norm = np.hypot(q, np.sqrt(np.einsum("ij,ij->i", p, p)))
    if not full:
        return norm, None
    p.reshape(-1).put(at, -q)
    return norm, p


def softmax_parts_shifted(logits: np.ndarray, targets: np.ndarray):
    """As :func:`softmax_parts`, around each row's maximum: exact for any
    finite logits. ``ce = (m - z_t) + log1p(sum_{j != argmax} exp(z_j - m))``:
    both terms are non-negative, and when the target is the maximum the first
    is zero and the second keeps all its digits. Always in float64: the rows
    that come here are those whose terms float32 would take into its
    subnormal range or flush to zero (logits ``[0, -104]``: CE 6.8e-46)."""
    z = np.asarray(logits, dtype=np.float64)
    m, log_rest = around_max(z)
    zt = _flat(z).take(np.arange(0, z.size, z.shape[1]) + targets)
    ce = (m - zt) + log_rest
    return ce, -np.expm1(-ce)


def around_max(z: np.ndarray):
    """Each float64 row's maximum ``m`` and ``log1p(sum_{j != argmax} exp(z_j - m))``:
    then ``-log p_j = (m - z_j) + log1p(...)``, two non-negative terms."""
    n, k = z.shape
    top = np.arange(0, n * k, k) + z.argmax(axis=1)
    m = _flat(z).take(top)
    with np.errstate(over="ignore"):  # -max - max is -inf: its exp is the 0 it should be
        e = np.subtract(z, m[:, None])
    np.exp(e, out=e)
    e.reshape(-1).put(top, 0.0)        # the maximum's own term, exp(0) = 1, goes to log1p
    return m, np.log1p(row_sums(e))


def softmax_parts_probs(probs: np.ndarray, targets: np.ndarray):
    """Cross-entropy and ``1 - p_t`` from probabilities (floored before the log)."""
    pt = probs[np.arange(probs.shape[0]), targets].astype(np.float64)
    return parts_from_pt(pt, 1.0 - pt)


#: log-probabilities up to this far above 0 are rounding and read as 0
LOGPROB_SLACK = 1e-12


def logprob_parts(logprob: np.ndarray):
    """CE and ``1 - p_t`` from the target's log-probability alone:
    ``ce = -logprob`` and ``1 - p_t = -expm1(logprob)``, so a token with
    logprob -1e-12 keeps every digit (``1 - exp`` would keep four)."""
    lp = np.minimum(np.asarray(logprob, dtype=np.float64).reshape(-1), 0.0)
    return -lp, -np.expm1(lp)


def softmax_gradient(logits: np.ndarray, targets: np.ndarray, q: np.ndarray,
                     full: bool = False):
    """The gradient of CE with respect to the logits, ``p - e_t``, per row:
    its L2 norm ``sqrt(q**2 + sum_{j != t} p_j**2)`` (the target's column
    zeroed before the sum, so a confident row keeps its digits), and with
    ``full`` the rows themselves. The focal gradient is this times
    :func:`focal_gradient_factor`."""
    z = as_float(logits)  # float32 stays float32 inside the exp, as in softmax_parts
    n, k = z.shape
    with np.errstate(over="ignore"):  # logits a float range apart: exp(-inf) is 0
        e = np.exp(z - z.max(axis=1, keepdims=True))
    total = row_sums(e)
    p = e / total[:, None]
    others = p.copy()
    others.reshape(-1)[np.arange(0, n * k, k) + targets] = 0.0
    norm = np.hypot(q, np.sqrt(np.einsum("ij,ij->i", others, others).astype(np.float64)))
    if not full:
        return norm, None
    p = p.astype(np.float64)
    grad = p
    grad[np.arange(n), targets] = -q  # p_t - 1, without the rounding of p_t
    return norm, grad


def focal_gradient_factor(ce: np.ndarray, q: np.ndarray, gamma: float) -> np.ndarray:
    """``h`` with d FL / dz = h * (p - e_t): ``q**gamma + gamma * p_t *
    q**(gamma - 1) * ce``, written ``q**gamma * (1 + gamma * p_t * ce / q)``
    so that q = 0 gives 0 (ce / q -> 1) for any gamma, never NaN."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(q > 0, ce / np.where(q > 0, q, 1.0), 1.0)
    return next(factors(q, (gamma,))) * (1.0 + gamma * (1.0 - q) * ratio)


def binary_confidence(q: np.ndarray, labels: np.ndarray):
    """Sigmoid elements in torchmetrics' binary form: the confidence is the
    positive-class probability and the "accuracy" the label itself (the
    reliability of p as a frequency of positives)."""
    return np.where(labels, 1.0 - q, q), labels.astype(bool)


def parts_from_pt(pt: np.ndarray, q: np.ndarray):
    """CE and ``1 - p_t`` from a probability and its exact complement."""
    # -log1p(-q) keeps the digits of a p_t near 1; -log(p_t) those of a small p_t
    with np.errstate(divide="ignore"):
        ce = np.where(pt < 0.5, -np.log(np.maximum(pt, PROB_FLOOR)), -np.log1p(-q))
    return ce, q


_FLOAT32_EXP_NORMAL = 87.0  # exp(-87.3) is float32's smallest normal number


def sigmoid_parts(logits: np.ndarray, labels: np.ndarray):
    """Binary cross-entropy with logits and ``1 - p_t``, element by element.

    ``labels`` is boolean (True for a positive). With ``s = x`` for positives
    and ``-x`` for negatives, ``ce = softplus(-s) = log1p(exp(-|s|)) + max(-s, 0)``
    and ``1 - p_t = sigmoid(-s)``, both without cancellation for any finite x.
    """
    x = as_float(logits)
    s = np.where(labels, x, -x)
    a = np.abs(s)
    with np.errstate(under="ignore"):
        e64 = np.exp(-a).astype(np.float64, copy=False)
    if x.dtype == np.float32:
        # exp(-|s|) leaves float32's normal range past |s| ~ 87: those in float64
        far = a > _FLOAT32_EXP_NORMAL
        if far.any():
            e64[far] = np.exp(-a[far].astype(np.float64))
    ce = np.log1p(e64) + np.maximum(-s, 0).astype(np.float64, copy=False)
    q = np.where(s >= 0, e64, 1.0) / (1.0 + e64)
    return ce, q


def sigmoid_parts_probs(probs: np.ndarray, labels: np.ndarray):
    """As :func:`sigmoid_parts`, from probabilities of the positive class."""
    p = probs.astype(np.float64, copy=False)
    return parts_from_pt(np.where(labels, p, 1.0 - p), np.where(labels, 1.0 - p, p))


MAX_CHAIN_POWER = 16


def chain(gamma) -> tuple[int, bool] | None:
    """``(whole, half)`` of a gamma :func:`factors` takes as a product of
    ``q`` (the compiled sums, kernels.group_sums, take the same), or None
    for ``np.power``'s."""
    whole, half = divmod(float(gamma), 1.0)
    if half not in (0.0, 0.5) or whole > MAX_CHAIN_POWER:
        return None
    return int(whole), bool(half)


def factors(q: np.ndarray, gammas):
    """``(1 - p_t) ** gamma`` for each gamma, in order.

    Integer and half-integer gammas up to 16 use one canonical product,
    ``q*q*...*q`` (times ``sqrt(q)`` for a half), so a sweep over 0:5:0.5
    costs one multiplication per gamma and gives the very bits a single
    gamma gives. Other gammas use ``np.power``. ``0 ** gamma`` is 0 for
    gamma > 0 and 1 for gamma = 0: no NaN for any gamma >= 0.
    """
    ints = [None, q]  # q ** 0 made only when asked for: a block of ones is a pass
    root = None
    for gamma in gammas:
        link = chain(gamma)
        if link is None:
            yield np.power(q, gamma)
            continue
        whole, half = link
        if whole == 0 and ints[0] is None:
            ints[0] = np.ones_like(q)
        while len(ints) <= whole:
            ints.append(ints[-1] * q)
        if half:
            root = np.sqrt(q) if root is None else root
            yield ints[int(whole)] * root
        else:
            yield ints[int(whole)]


def modulate(ce: np.ndarray, q: np.ndarray, gamma: float) -> np.ndarray:
    """Unweighted focal loss ``(1 - p_t) ** gamma * ce``."""
    return next(factors(q, (gamma,))) * ce


def pt_histogram(pt: np.ndarray, bins: int) -> np.ndarray:
    """Counts of p_t in ``bins`` equal bins over [0, 1] (1 in the last)."""
    index = (pt * bins).astype(np.intp)
    np.clip(index, 0, bins - 1, out=index)
    return np.bincount(index, minlength=bins)


def bucket_of(pt: np.ndarray) -> np.ndarray:
    """Index of the p_t bucket: [0, 0.1), [0.1, 0.5), [0.5, 0.9), [0.9, 1]
    (three comparisons: several times faster than searchsorted here)."""
    index = (pt >= BUCKET_EDGES[0]).astype(np.intp)
    for edge in BUCKET_EDGES[1:]:
        index += pt >= edge
    return index


def first_bad_probability_row(probs: np.ndarray, softmax: bool, atol: float = 1e-3):
    """Row index of the first row that is not a probability distribution, or None."""
    bad = ~((probs >= 0) & (probs <= 1))
    bad = bad.any(axis=1) if bad.ndim == 2 else bad
    if softmax:
        bad |= np.abs(probs.sum(axis=1, dtype=np.float64) - 1.0) > atol
    hits = np.flatnonzero(bad)
    return int(hits[0]) if hits.size else None


def first_unnormalisable_row(probs: np.ndarray):
    """Row index of the first row with a negative entry or a zero sum (what
    renormalising cannot turn into a distribution), or None."""
    bad = (probs < 0).any(axis=1) | ~(probs.sum(axis=1, dtype=np.float64) > 0)
    hits = np.flatnonzero(bad)
    return int(hits[0]) if hits.size else None


def first_nonfinite(scores: np.ndarray):
    """(row, column) of the first NaN or infinite score, or None.

    A row sum is finite when every entry is (NaN and inf propagate through it),
    so the common, clean case costs one cheap pass; an overflowing sum of
    finite values only sends us to the exact check."""
    flat = scores.reshape(scores.shape[0], -1)
    with np.errstate(over="ignore", invalid="ignore"):  # inf - inf is the signal
        sums = row_sums(flat)
    if np.isfinite(sums).all():
        return None
    bad = np.argwhere(~np.isfinite(flat))
    if not bad.size:
        return None
    return int(bad[0, 0]), int(bad[0, 1])


# Keras computes in float32 on probabilities clipped to [epsilon, 1 - epsilon];
# `--like keras` reproduces that arithmetic, digits lost included.
KERAS_EPSILON = np.float32(1e-7)


def keras_softmax_parts(scores: np.ndarray, targets: np.ndarray, probs: bool = False):
    """keras.losses.CategoricalFocalCrossentropy's CE and ``1 - p_t`` (float32)."""
    x = scores.astype(np.float32)
    if not probs:
        x = np.exp(x - x.max(axis=1, keepdims=True))
        x /= x.sum(axis=1, keepdims=True)
    x = x / x.sum(axis=1, keepdims=True)
    pt = np.clip(x[np.arange(len(x)), targets], KERAS_EPSILON, np.float32(1) - KERAS_EPSILON)
    return (-np.log(pt)).astype(np.float64), (np.float32(1) - pt).astype(np.float64)


def keras_sigmoid_parts(scores: np.ndarray, labels: np.ndarray, probs: bool = False):
    """keras.losses.BinaryFocalCrossentropy's BCE and ``1 - p_t`` (float32):
    BCE of the clipped probability, the focal factor of the unclipped one."""
    x = scores.astype(np.float32)
    with np.errstate(over="ignore"):  # exp(-x) = inf gives p = 0, as in Keras
        p = x if probs else np.float32(1) / (np.float32(1) + np.exp(-x))
    clipped = np.clip(p, KERAS_EPSILON, np.float32(1) - KERAS_EPSILON)
    ce = -np.where(labels, np.log(clipped), np.log(np.float32(1) - clipped))
    q = np.where(labels, np.float32(1) - p, p)
    return ce.astype(np.float64), q.astype(np.float64)


def sigmoid_alpha_t(labels: np.ndarray, alpha) -> np.ndarray | float:
    """torchvision's ``alpha_t``: alpha for positives, 1 - alpha for negatives;
    a negative scalar alpha means no weighting. ``alpha`` may be per class."""
    a = np.asarray(alpha, dtype=np.float64)
    if a.ndim == 0 and a < 0:
        return 1.0
    return np.where(labels, a, 1.0 - a)
