"""Mergeable accumulators and the figures read off them.

A batch becomes a :class:`Accumulator` of sums indexed by (group, p_t bucket):
count, sum of CE, sum of CE squared, and, for each gamma, the sum of the
*unweighted* focal loss and of its square. Accumulators merge by addition, so
they can be built per block, per thread or per worker.

The summary's alpha enters only here, at the end (per-example rows weigh
each row as it is scored): every alpha in use is constant within a
group (softmax: group = target class; sigmoid: ``2k`` = negatives and ``2k+1``
= positives of class k), so the weighted sums are ``sum_g w_g S_g`` and
``sum_g w_g**2 Q_g``. That is why one pass serves every alpha of a sweep, and
why class-balancing strategies need no second pass.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import core, kernels
from .reduction import Reduction

N_BUCKETS = len(core.BUCKET_LABELS)


@dataclass
class Accumulator:
    """Sums over scored units, by (group, p_t bucket). The group layout is
    this class's own business: softmax, group = target class; sigmoid,
    ``2k`` = negatives and ``2k + 1`` = positives of class k. Nothing outside
    reads the arrays by group: use the methods."""

    gammas: tuple[float, ...]
    n_classes: int
    mode: str = "softmax"
    count: np.ndarray = None
    ce: np.ndarray = None
    ce2: np.ndarray = None
    focal: np.ndarray = None   # (len(gammas), groups, buckets)
    focal2: np.ndarray = None
    ignored: int = 0           # examples with nothing scored
    ignored_elements: int = 0  # sigmoid: single elements left out
    examples: int = 0          # rows seen, ignored or not
    calibration: object = None  # calibration.Calibration, when it is asked for
    extra: dict = field(default_factory=dict)  # more sums by (group, bucket): gradients
    pt_hist: np.ndarray | None = None  # counts of p_t in equal bins, when asked for
    # --class-weight / --pos-weight: a weight per group on CE and focal loss alike,
    # and whether 'mean' divides by the summed weights (PyTorch CE) or counts
    scale: np.ndarray | None = None
    weighted_mean: bool = False
    wsum: np.ndarray | None = None  # --weights: the summed weights by (group, bucket)
    scale_mean: bool = False  # sigmoid 'mean' over the summed class weights (--like smp)
    # the model's probability of each class summed over the scored units (the
    # prior); None where the input gives no probabilities (log-probabilities)
    prob_sum: np.ndarray | None = None

    def __post_init__(self):
        shape = (self.n_groups, N_BUCKETS)
        for name in ("count", "ce", "ce2"):
            if getattr(self, name) is None:
                setattr(self, name, np.zeros(shape))
        for name in ("focal", "focal2"):
            if getattr(self, name) is None:
                setattr(self, name, np.zeros((len(self.gammas),) + shape))

    @property
    def sigmoid(self) -> bool:
        return self.mode == "sigmoid"

    @property
    def n_groups(self) -> int:
        return 2 * self.n_classes if self.sigmoid else self.n_classes

    def add(self, labels: np.ndarray, keep: np.ndarray, ce: np.ndarray, q: np.ndarray,
            pt: np.ndarray):
        """Add rows: softmax ``labels`` are ``(n,)`` class indices, sigmoid
        ``(n, K)`` booleans; ``keep`` marks what is scored (same shape), and
        ``ce``, ``q`` (``1 - p_t``), ``pt`` are per unit, ignored ones included."""
        self.merge(self.partial(labels, keep, ce, q, pt))

    def partial(self, labels, keep, ce, q, pt, extra: dict | None = None,
                weights=None, focal: list | None = None, split=None) -> "Partial":
        """The sums of some rows, as :meth:`add` would add them, held apart
        (a worker's unit). Only the cells the rows touch are kept when there
        are many classes: a unit of 16 rows over a 256,000-token vocabulary
        must not cost 40 MB of zeros.

        ``split``: sigmoid soft targets ``y`` (``labels``: the positives).
        CE and focal loss go ``y`` of them to the class's positives' group and
        ``1 - y`` to its negatives', so the alpha applied per group at the end
        is ``alpha_t = alpha y + (1 - alpha)(1 - y)`` exactly. Counts and
        squares stay with the element's own group (the effective number of
        elements takes its group's alpha)."""
        part = Partial(self.n_classes, examples=len(labels))
        if self.sigmoid:
            group = 2 * np.arange(self.n_classes) + labels
            part.ignored_elements = int((~keep).sum())
            part.ignored = int((~keep.any(axis=1)).sum())
            kept = keep.size - part.ignored_elements
        else:
            group = labels
            part.ignored = int((~keep).sum())
            kept = keep.size - part.ignored
        extra = extra or {}
        if weights is not None:
            weights = np.broadcast_to(weights, keep.shape)
        size = self.n_groups * N_BUCKETS
        if split is None and focal is None and size <= max(COMPACT_CELLS, 4 * kept) and \
                self._compiled(part, group, keep, ce, q, pt, extra, weights, size):
            return part
        pick = (lambda a: a.reshape(-1)) if keep.all() else (lambda a: a[keep])
        group, ce, q, pt = pick(group), pick(ce), pick(q), pick(pt)
        extra = {k: pick(v) for k, v in extra.items()}
        weights = None if weights is None else pick(weights)
        focal = None if focal is None else [pick(f) for f in focal]
        cell = group * N_BUCKETS + core.bucket_of(pt)
        if split is None and size > max(COMPACT_CELLS, 4 * len(cell)):
            # sparse: few rows, many classes
            part.cells, cell = np.unique(cell, return_inverse=True)
            size = len(part.cells)

        def sums(weights=None):
            return np.bincount(cell, weights, minlength=size)

        if split is not None:
            y, positive = pick(split), pick(np.broadcast_to(labels, keep.shape))
            pos_cell = cell + N_BUCKETS * ~positive   # the class's positives' group
            neg_cell = cell - N_BUCKETS * positive

            def shared(values):
                return np.bincount(pos_cell, values * y, minlength=size) + \
                    np.bincount(neg_cell, values * (1.0 - y), minlength=size)
        else:
            shared = sums
        part.count = sums()
        part.wsum = None if weights is None else sums(weights)
        with np.errstate(over="ignore"):  # absurd logits (~1e308): caught in figures()
            part.ce, part.ce2 = shared(ce), sums(ce * ce)
            part.focal, part.focal2 = [], []
            # per gamma: the factor times CE, or given whole (soft targets)
            for f in focal if focal is not None else \
                    (factor * ce for factor in core.factors(q, self.gammas)):
                part.focal.append(shared(f))
                part.focal2.append(sums(f * f))
            part.extra = {k: sums(v) for k, v in extra.items()}
        return part

    def _compiled(self, part, group, keep, ce, q, pt, extra: dict, weights, size) -> bool:
        """:meth:`partial`'s dense sums from the compiled pass, the same
        bits in one read (kernels.group_sums), where it is built and every
        gamma is core.factors' product of q; False to leave them to numpy."""
        chains = [core.chain(g) for g in self.gammas]
        if None in chains:
            return False
        done = kernels.group_sums(np.broadcast_to(group, keep.shape), keep, ce, q, pt, weights,
                                  chains, list(extra.values()), size, core.BUCKET_EDGES)
        if done is None:
            return False
        part.count, part.wsum, part.ce, part.ce2 = done.count, done.wsum, done.ce, done.ce2
        part.focal, part.focal2 = list(done.focal), list(done.focal2)
        part.extra = dict(zip(extra, done.extra))
        return True

    def grow(self, n_classes: int):
        """Room for more classes (log-probability input learns its classes
        as it reads); new classes start at zero."""
        if n_classes <= self.n_classes:
            return
        more = (2 if self.sigmoid else 1) * (n_classes - self.n_classes)
        for name in ("count", "ce", "ce2", "focal", "focal2"):
            a = getattr(self, name)
            pad = [(0, 0)] * a.ndim
            pad[-2] = (0, more)
            setattr(self, name, np.pad(a, pad))
        self.extra = {k: np.pad(v, [(0, more), (0, 0)]) for k, v in self.extra.items()}
        if self.wsum is not None:
            self.wsum = np.pad(self.wsum, [(0, more), (0, 0)])
        if self.prob_sum is not None:
            self.prob_sum = np.pad(self.prob_sum, (0, n_classes - self.n_classes))
        self.n_classes = n_classes

    def merge(self, other: "Accumulator | Partial") -> "Accumulator":
        self.grow(other.n_classes)
        if isinstance(other, Partial):
            self._merge_counts(other)
            with np.errstate(over="ignore"):
                for name, sums in other.extra.items():
                    if name not in self.extra:
                        self.extra[name] = np.zeros((self.n_groups, N_BUCKETS))
                    other.add_to(self.extra[name], sums)
                for name in ("count", "ce", "ce2"):
                    other.add_to(getattr(self, name), getattr(other, name))
                if other.wsum is not None:
                    if self.wsum is None:
                        self.wsum = np.zeros((self.n_groups, N_BUCKETS))
                    other.add_to(self.wsum, other.wsum)
                for i in range(len(self.gammas)):
                    other.add_to(self.focal[i], other.focal[i])
                    other.add_to(self.focal2[i], other.focal2[i])
            self.ignored += other.ignored
            self.ignored_elements += other.ignored_elements
            self.examples += other.examples
            return self
        other.grow(self.n_classes)
        for name in ("count", "ce", "ce2", "focal", "focal2"):
            getattr(self, name).__iadd__(getattr(other, name))
        # a whole accumulator (a shard's): its calibration, histogram and extra sums too
        self._merge_counts(other)
        if other.wsum is not None:
            self.wsum = other.wsum.copy() if self.wsum is None else self.wsum + other.wsum
        for name, sums in other.extra.items():
            if name in self.extra:
                self.extra[name] += sums
            else:
                self.extra[name] = sums.copy()
        self.ignored += other.ignored
        self.ignored_elements += other.ignored_elements
        self.examples += other.examples
        return self

    def _merge_counts(self, other):
        """The calibration sums, the p_t histogram and the probability sums,
        when both sides keep them."""
        if other.calibration is not None and self.calibration is not None:
            self.calibration.merge(other.calibration)
        if other.prob_sum is not None:
            if self.prob_sum is None:
                self.prob_sum = other.prob_sum.copy()
            else:
                self.prob_sum += other.prob_sum
        if other.pt_hist is not None:
            self.pt_hist = other.pt_hist.copy() if self.pt_hist is None else \
                self.pt_hist + other.pt_hist

    # -- reading it
    def by_class(self, a: np.ndarray) -> np.ndarray:
        """Fold ``(groups, ...)`` sums into ``(K,)`` per-class totals."""
        if self.sigmoid:
            return a.reshape(self.n_classes, -1).sum(axis=1)
        return a.reshape(self.n_groups, -1).sum(axis=1)

    def class_counts(self) -> np.ndarray:
        """Scored units per class: examples of that target (softmax), or
        scored elements of that class (sigmoid)."""
        return self.by_class(self.count)

    def positives(self) -> np.ndarray:
        """Positive labels per class (softmax: the examples of each class)."""
        if self.sigmoid:
            return self.count[1::2].sum(axis=1)
        return self.class_counts()

    def scored(self) -> int:
        """Scored units: examples (softmax) or elements (sigmoid)."""
        return int(self.count.sum())

    def group_scale(self) -> np.ndarray:
        """The --class-weight/--pos-weight weight of each group (1 without them)."""
        return np.ones(self.n_groups) if self.scale is None else self.scale

    def _scale_counted(self) -> bool:
        """Whether a 'mean' counts each unit by its --class-weight/--pos-weight:
        softmax (PyTorch's cross_entropy(weight=) divides by the summed weights
        of the targets), with --weights in either mode, and sigmoid under
        smp's class_weights (sum_c w_c L_c / sum_c w_c); not sigmoid otherwise
        (BCEWithLogitsLoss(weight=) divides by N*K)."""
        return self.scale is not None and self.weighted_mean and (
            self.wsum is not None or not self.sigmoid or self.scale_mean)

    def counted(self) -> np.ndarray:
        """What a mean divides by, per (group, bucket): the scored units, or
        their weights under a weighted mean (see :meth:`unit_counted`)."""
        base = self.wsum if self.wsum is not None and self.weighted_mean else self.count
        return self.scale[:, None] * base if self._scale_counted() else base

    def unit_counted(self, unit_scale, weights):
        """What each unit adds to :meth:`counted` (a number or an array like
        the units): the per-example mirror that compare's bootstrap sums."""
        if not self.weighted_mean:
            return 1.0
        w = 1.0 if weights is None else weights
        scaled = self.scale is not None and (weights is not None or not self.sigmoid or
                                             self.scale_mean)
        return w * unit_scale if scaled else w

    def group_weights(self, alpha) -> np.ndarray:
        """Weight of each group under ``alpha`` (a number or ``(K,)``):
        softmax ``alpha[class]``; sigmoid ``1 - alpha_k`` for negatives and
        ``alpha_k`` for positives, and all 1 for a negative number."""
        a = np.broadcast_to(np.asarray(alpha, dtype=np.float64), (self.n_classes,))
        if not self.sigmoid:
            return a.copy()
        if np.ndim(alpha) == 0 and alpha < 0:
            return np.ones(self.n_groups)
        return np.stack([1.0 - a, a], axis=1).reshape(-1)


COMPACT_CELLS = 1 << 16  # beyond this many (group, bucket) cells a partial keeps only its own


@dataclass
class Partial:
    """Sums of some rows (see :meth:`Accumulator.partial`): dense over every
    cell, or over ``cells`` only."""

    n_classes: int
    examples: int = 0
    ignored: int = 0
    ignored_elements: int = 0
    cells: np.ndarray | None = None
    count: np.ndarray = None
    ce: np.ndarray = None
    ce2: np.ndarray = None
    focal: list = None
    focal2: list = None
    calibration: object = None
    extra: dict = field(default_factory=dict)
    pt_hist: np.ndarray | None = None
    wsum: np.ndarray | None = None
    prob_sum: np.ndarray | None = None

    def add_to(self, target: np.ndarray, sums: np.ndarray):
        flat = target.reshape(-1)
        if self.cells is None:
            flat[:sums.size] += sums
        else:
            flat[self.cells] += sums


@dataclass
class Figures:
    """What one (gamma, alpha) cell says about the scored predictions."""

    focal: float | None
    ce: float | None
    ratio: float | None
    focal_sum: float
    ce_sum: float
    denominator: float
    easy_share: float | None
    effective_focal: float | None
    effective_ce: float | None
    per_class: list = field(default_factory=list)
    buckets: list = field(default_factory=list)


def gradient_figures(acc: Accumulator, alpha, gamma_index: int = 0) -> dict | None:
    """What the focusing does to the gradient: the share of the summed
    gradient norm carried by easy examples (p_t >= 0.5) and by each p_t
    bucket and class, under CE and under focal loss (alpha applied), and the
    effective number of examples by gradient norm."""
    if "grad_ce" not in acc.extra:
        return None
    v = acc.group_scale()[:, None]
    w = acc.group_weights(alpha)[:, None] * v
    g_ce, g_ce2 = v * acc.extra["grad_ce"], (v * v) * acc.extra["grad_ce2"]
    g_f = w * acc.extra[f"grad_focal:{gamma_index}"]
    g_f2 = (w * w) * acc.extra[f"grad_focal2:{gamma_index}"]
    total_ce, total_f = float(g_ce.sum()), float(g_f.sum())
    buckets = [{"p_t": label, "ce_share": _share(float(g_ce[:, b].sum()), total_ce),
                "focal_share": _share(float(g_f[:, b].sum()), total_f)}
               for b, label in enumerate(core.BUCKET_LABELS)]
    by_ce, by_f = acc.by_class(g_ce), acc.by_class(g_f)
    per_class = [{"index": c, "ce_share": _share(float(by_ce[c]), total_ce),
                  "focal_share": _share(float(by_f[c]), total_f)}
                 for c in np.flatnonzero(acc.class_counts()).tolist()]
    return {"easy_share_ce": _share(float(g_ce[:, core.EASY_BUCKET:].sum()), total_ce),
            "easy_share_focal": _share(float(g_f[:, core.EASY_BUCKET:].sum()), total_f),
            "effective_examples_ce": _effective(total_ce, float(g_ce2.sum())),
            "effective_examples_focal": _effective(total_f, float(g_f2.sum())),
            "norm_ce": total_ce, "norm_focal": total_f,
            "buckets": buckets, "per_class": per_class}


def _ratio(a: float, b: float):
    return a / b if b else None


def _share(part: float, total: float):
    """A part's share of a total, in [0, 1]: the part and the total are sums
    taken in different orders, so a whole can come out an ulp above 1."""
    if not total:
        return None
    return min(max(part / total, 0.0), 1.0)


def _effective(total: float, squares: float):
    """``(sum l)^2 / sum l^2``: how many examples the loss effectively rests on."""
    if not 0 < squares < np.inf:
        return None
    return total / squares * total


def figures(acc: Accumulator, gamma_index: int, alpha, *, reduction: str = "mean",
            normalize: str | None = None, classes: str = "all") -> Figures:
    """Reduce an accumulator for one gamma under ``alpha`` (the alpha in
    force: a number or one weight per class). ``classes``: the per-class rows
    to build: 'all', 'present' (those with a scored unit) or 'none' (a sweep
    cell; a vocabulary of 128k classes makes that a matter of seconds)."""
    v = acc.group_scale()[:, None]
    w = acc.group_weights(alpha)[:, None] * v
    with np.errstate(over="ignore", invalid="ignore"):
        f = w * acc.focal[gamma_index]
        f2 = (w * w) * acc.focal2[gamma_index]
        ce_w, ce2_w = v * acc.ce, (v * v) * acc.ce2
        focal_sum, ce_sum = float(f.sum()), float(ce_w.sum())
    if not (np.isfinite(focal_sum) and np.isfinite(ce_sum)):
        raise OverflowError("the summed loss overflows float64")
    red = Reduction(reduction, normalize)
    denominator = red.denominator(acc)
    # a mean over nothing does not exist (None); a sum over nothing is 0
    focal = focal_sum / denominator if denominator else None
    ce = ce_sum / denominator if denominator else None

    by_bucket = [
        {"p_t": label, "low": low, "high": high,
         "count": int(acc.count[:, b].sum()),
         "ce_share": _share(float(ce_w[:, b].sum()), ce_sum),
         "focal_share": _share(float(f[:, b].sum()), focal_sum)}
        for b, (label, low, high) in enumerate(zip(
            core.BUCKET_LABELS, (0.0,) + core.BUCKET_EDGES, core.BUCKET_EDGES + (1.0,)))
    ]
    counts = acc.class_counts()
    positives = acc.positives() if acc.sigmoid else None
    class_focal, class_ce = acc.by_class(f), acc.by_class(ce_w)
    class_div = red.class_denominators(acc)
    per_class = []
    wanted = range(counts.size) if classes == "all" else \
        np.flatnonzero(counts).tolist() if classes == "present" else ()
    for c in wanted:
        n_c = float(counts[c])
        div = float(class_div[c])
        row = {"index": c, "count": int(n_c), "denominator": div,
               "focal": float(class_focal[c] / div) if div else None,
               "ce": float(class_ce[c] / div) if div else None,
               "share": _share(float(class_focal[c]), focal_sum)}
        if positives is not None:
            row["positives"] = int(positives[c])
        per_class.append(row)
    return Figures(
        focal=focal, ce=ce, ratio=_ratio(focal_sum, ce_sum),
        focal_sum=focal_sum, ce_sum=ce_sum, denominator=denominator,
        easy_share=_share(float(f[:, core.EASY_BUCKET:].sum()), focal_sum),
        effective_focal=_effective(focal_sum, float(f2.sum())),
        effective_ce=_effective(ce_sum, float(ce2_w.sum())),
        per_class=per_class, buckets=by_bucket,
    )

