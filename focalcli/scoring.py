"""One pass over an input: batches in, accumulators and per-example rows out.

Units of ``UNIT_BLOCKS`` cache-sized blocks, aligned on absolute row numbers,
are scored on a small thread pool (numpy releases the GIL in the heavy
passes), several in flight across batches, and merged in order, so every sum
is the same whatever the batch size or thread count.
"""
from __future__ import annotations

import dataclasses
import itertools
import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import numpy as np

from . import core, extras, probabilities
from .blocks import (LOGPROB_UNIT, UNIT_BYTES_WAITING, aligned, block_copy, block_rows_for,
                     unit_blocks_for)
from .errors import InputError, OptionError
from .peers import smp_logits
from .readers import Batch, Table, TargetFile
from .rows import RowEmitter
from .score_checks import check_block, cooled
from .settings import Outcome, Settings
from .soft import keras_soft_parts, sigmoid_soft_parts, soft_parts
from .summary import Accumulator
from .top_labels import block_top_label
from .targets import (GrowingClasses, Where, check_class_names, is_soft_matrix,
                      sigmoid_soft_targets, sigmoid_targets,
                      soft_targets, softmax_targets)

class Scorer(RowEmitter):
    """Scores a Table: ``run()`` returns an Outcome; per-example rows go to
    ``on_rows`` as they are made (a dict of equal-length columns)."""

    def __init__(self, table: Table, settings: Settings, targets: TargetFile | None = None,
                 alpha=1.0, on_rows: Callable[[dict], None] | None = None, top: int = 0,
                 on_progress: Callable[[int], None] | None = None,
                 on_positions: Callable[[dict], None] | None = None,
                 on_gradient: Callable[[int, np.ndarray], None] | None = None):
        self.smp_probs = settings.probs and settings.probs_to_logits == "smp"
        if self.smp_probs:  # scored as the logits smp makes of them
            settings = dataclasses.replace(settings, probs=False)
        self.table, self.s, self.targets = table, settings, targets
        self.alpha = alpha  # the alpha in force, for per-example rows
        self.on_rows, self.top_n = on_rows, top
        self.on_positions = on_positions  # dense: per-position ce and focal (--map)
        self.on_gradient = on_gradient    # --grad: rows of the full gradient, by offset
        self.dense = table.dense
        # stored values converted on reading (bfloat16): widened block by block on
        # the scoring threads, in cache, unless something reads the whole batch first
        self.convert = table.convert if table.convert is not None and \
            settings.temperature == 1.0 and not self.smp_probs and not settings.logprobs \
            else None
        table.raw_batches = self.convert is not None
        self.on_progress = on_progress
        self._top: list = []
        self.k = None
        self.names: dict[str, int] = {}
        self.dropped = None  # --drop-class (dropped.DroppedClass)

    # -- setup on the first batch
    def _start(self, batch: Batch):
        if self.s.logprobs:
            return self._start_logprobs(batch)
        scores = batch.scores
        if self.s.mode == "softmax":
            if scores.ndim != 2 or scores.shape[1] < 2:
                raise InputError("softmax needs at least two class scores per row; "
                                 "for one binary score per example use --mode sigmoid",
                                 self.table.name)
        self.k = 1 if scores.ndim == 1 else scores.shape[1]
        classes = self.table.classes
        if self.targets is not None:
            classes = self.targets.align(classes)
        if classes is not None and len(classes) != self.k:
            raise InputError(f"has {len(classes)} class names for {self.k} score columns",
                             self.table.name)
        if classes:  # names made here (0 .. K-1) need no check: 128k of them cost 0.1 s
            check_class_names(list(classes), self.table.name,
                              getattr(self.table.classes, "stated_ids", False))
        self.classes = list(classes) if classes else [str(i) for i in range(self.k)]
        # a target names a made-up class by its index, which targets.to_indices
        # reads without a lookup table (building one for 128k classes: 40 ms)
        self.names = {c: i for i, c in enumerate(self.classes)} if classes else {}
        if self.s.drop_class is not None:
            from .dropped import DroppedClass
            self.dropped = DroppedClass(str(self.s.drop_class), self.classes, self.table.name,
                                        self.s.mode)
            self.classes = self.dropped.kept(self.classes)
            self.names = {c: i for i, c in enumerate(self.classes)}
            self.k -= 1
        if self.targets is None and not self.table.has_targets:
            raise InputError("no targets: give a TARGETS file, or a 'target' or 'label' "
                             "column (--target-col)", self.table.name)
        self._start_rows()

    def _start_logprobs(self, batch: Batch):
        """Log-probability input: one score per token. Its classes are the
        --class-names given, or learned as the targets are read (token ids or
        token strings); with no targets at all, one class of every token."""
        scores = batch.scores
        if self.s.drop_class is not None:
            raise OptionError("--drop-class", "needs a score per class, not the target's "
                              "log-probability")
        if scores.ndim == 2 and scores.shape[1] != 1:
            raise InputError(f"log-probabilities are one number per token, got rows of "
                             f"{scores.shape[1]}", self.table.name)
        self.has_targets = self.targets is not None or self.table.has_targets
        names = self.table.classes
        self.vocab = None if names or not self.has_targets else GrowingClasses()
        self.classes = list(names) if names else ([] if self.has_targets else ["all"])
        check_class_names(self.classes, self.table.name, getattr(names, "stated_ids", False))
        self.names = {c: i for i, c in enumerate(self.classes)}
        self.k = max(1, len(self.classes))
        self._start_rows()

    def _start_rows(self):
        self.acc = Accumulator(tuple(self.s.gammas), self.k, self.s.mode)
        self.scale = self._group_scale()
        self.acc.scale = self.scale
        self.soft_weight = None  # --class-weight on soft rows: inside each row
        self.acc.weighted_mean = self.s.arithmetic == "exact" and not self.s.count_mean
        self.acc.scale_mean = self.s.scale_mean
        if self.s.bins and not self.s.logprobs and self.s.arithmetic == "exact":
            from .calibration import Calibration
            self.acc.calibration = Calibration(self.s.bins)
        self.examples = None
        if self.s.logprobs and self.table.group_col and \
                (self.on_rows is not None or self.top_n):
            from .dense_rows import SequenceRows
            self.examples = SequenceRows(self.classes, self._emit_rows)
        if self.dense is not None and (self.on_rows is not None or self.top_n):
            from .dense_rows import ExampleRows
            names = self.targets.example_names if self.targets is not None else None
            self.examples = ExampleRows(self.dense.positions, self.classes,
                                        [os.path.basename(n) for n in names] if names
                                        else None, self._emit_rows,
                                        "tokens" if self.dense.sequences else "positions")

    def _group_scale(self):
        """--class-weight and --pos-weight as one weight per accumulator group
        (softmax: the class; sigmoid: negatives 2k, positives 2k + 1)."""
        cw, pw = self.s.class_weight, self.s.pos_weight
        if cw is None and pw is None:
            return None
        if self.s.logprobs and getattr(self, "vocab", None) is not None:
            raise InputError("--class-weight needs the classes up front: give "
                             "--class-names with log-probabilities", self.table.name)
        for option, weights in (("--class-weight", cw), ("--pos-weight", pw)):
            if weights is not None and len(weights) != self.k:
                raise InputError(f"{option} gives {len(weights)} weights for {self.k} "
                                 "classes", self.table.name)
        per_class = np.asarray(cw if cw is not None else [1.0] * self.k, dtype=np.float64)
        if self.s.mode == "softmax":
            return per_class
        positive = np.asarray(pw if pw is not None else [1.0] * self.k, dtype=np.float64)
        return np.stack([per_class, per_class * positive], axis=1).reshape(-1)

    def unit_scale(self, y):
        """Each unit's weight under --class-weight/--pos-weight, or None."""
        if self.scale is None:
            return None
        if self.s.mode == "softmax":
            return self.scale[y]
        group = 2 * np.arange(self.k) + y.astype(np.int64)
        return self.scale[group]

    def run(self) -> Outcome:
        threads = self.s.threads or os.cpu_count() or 1
        rows = 0
        batches = self.table.batches()
        first = next(batches, None)
        if first is None:
            raise InputError("has no rows", self.table.name)
        self._start(first)
        self.cursor = self.targets.cursor() if self.targets is not None else None
        block = self.s.block_rows or block_rows_for(self.k)
        unit = block * unit_blocks_for(block, self.k)
        if self.s.logprobs and not self.s.block_rows:
            # one number per token and no exp over classes: large units
            block, unit = LOGPROB_UNIT, LOGPROB_UNIT
        pending: deque = deque()
        # units submitted ahead; a waiting unit's pages stay mapped until it is merged
        in_flight = threads + 1 if unit * self.k * 4 > UNIT_BYTES_WAITING else 2 * threads
        release = self.table.release_rows  # pages dropped once their units are merged

        def finish_oldest():
            (batch, lo, hi, labels, keep), future = pending.popleft()
            acc, cols = future.result()
            self.acc.merge(acc)
            if cols is not None:
                self._emit(batch, lo, hi, labels, keep, cols)
            if release is not None:
                release(batch.start + hi)

        with ThreadPoolExecutor(max_workers=threads) as pool:
            for batch in aligned(itertools.chain([first], batches), unit):
                scores, labels, keep, where, soft, counts = self._prepare(batch)
                weights = self._batch_weights(batch, labels.shape)
                outside = self._outside(batch)
                if outside is not None:
                    keep = keep & ~(outside if keep.ndim == 1 else outside[:, None])
                for lo in range(0, len(scores), unit):
                    hi = min(lo + unit, len(scores))
                    future = pool.submit(self._unit, scores, labels, keep, where, lo, hi, block,
                                         None if weights is None else weights[lo:hi],
                                         None if soft is None else soft[lo:hi],
                                         0 if outside is None else int(outside[lo:hi].sum()),
                                         None if counts is None else counts[lo:hi])
                    pending.append(((batch, lo, hi, labels, keep), future))
                    while len(pending) > in_flight:
                        finish_oldest()
                rows += len(scores)
                if self.on_progress:
                    self.on_progress(rows)
            while pending:
                finish_oldest()
        if self.examples is not None:
            self.examples.close()
        if self.cursor is not None:
            self.cursor.check_end(rows, self.table.name)
        w = self.s.weights
        given = None if not isinstance(w, np.ndarray) else \
            w.size if self.dense is not None else len(w)
        if given is not None and given != rows:
            raise InputError(f"--weights has {given:,} weights for {rows:,} scored rows of "
                             f"{self.table.name}")
        top = [row for *_, row in sorted(self._top, key=lambda x: (-x[0], -x[1]))]
        return Outcome(self.acc, self.k, self.classes, top, self.table.name, self.dense,
                       self.s.logprobs)

    # -- per batch: targets and validity
    def _prepare(self, batch: Batch):
        """(scores, labels, mask of scored units, error place, soft target
        rows or None, what each row counts for in a weighted mean beside its
        sample weight, or None) of a batch."""
        if self.s.logprobs:
            return self._prepare_logprobs(batch) + (None, None)
        scores = batch.scores
        # targets are read against every class; a dropped one goes after
        names, k = (self.names, self.k) if self.dropped is None else \
            (self.dropped.names, self.dropped.k)
        if (scores.shape[1] if scores.ndim == 2 else 1) != k or scores.ndim > 2:
            raise Where(self.table.name, batch.start, batch.lines).error(
                f"has {scores.shape[1:]} scores where earlier rows have {k}", 0)
        where = Where(self.table.name, batch.start, batch.lines, self.dense)
        if self.convert is None and not np.issubdtype(scores.dtype, np.floating):
            scores = scores.astype(np.float64)
        if self.s.temperature != 1.0:
            scores = cooled(scores, self.s.temperature, where)
        if self.targets is not None:
            raw = self.cursor.take(batch.start, len(scores), self.table.name)
            twhere = Where(self.targets.name, batch.start, dense=self.dense,
                           names=self.targets.example_names)
        else:
            raw, twhere = batch.targets, where
        if self.smp_probs:  # class indices: smp's multiclass mode; 0/1 rows: multilabel
            scores = smp_logits(scores, multiclass=np.ndim(raw) < 2 and k > 1)
        soft = counts = None
        if self.s.mode == "softmax" and (self.s.soft or self.s.label_smoothing or
                                         is_soft_matrix(raw, k)):
            if self.s.gradient or self.s.losses:
                raise InputError("--gradient, --grad and --loss are for class-index targets, "
                                 "not soft or smoothed ones", self.targets.name
                                 if self.targets is not None else self.table.name)
            labels, keep, soft = soft_targets(
                raw, names, k, self.s.ignore_index, twhere, self.s.label_smoothing)
            if self.scale is not None:
                # --class-weight weighs each class's term (PyTorch's weight=) inside the
                # row, not the row by one class: the accumulator must not scale again
                self.soft_weight, self.scale, self.acc.scale = self.scale, None, None
            if self.soft_weight is not None and np.ndim(raw) < 2:
                # smoothed class indices: PyTorch's mean is over the targets' weights;
                # probability targets' over N
                counts = self.soft_weight[labels]
        elif self.s.mode == "softmax":
            labels, keep = softmax_targets(raw, names, k, self.s.ignore_index, twhere)
        else:
            if self.s.soft or self.s.label_smoothing:
                if self.s.gradient or any(n == "asymmetric" for n, _ in self.s.losses):
                    raise InputError("--gradient, --grad and --loss asymmetric are for 0/1 "
                                     "sigmoid targets, not soft or smoothed ones",
                                     self.table.name)
                labels, keep, soft = sigmoid_soft_targets(
                    raw, names, k, self.s.ignore_index, twhere, self.s.soft,
                    self.s.label_smoothing)
            else:
                labels, keep = sigmoid_targets(raw, names, k, self.s.ignore_index,
                                               twhere)
            if scores.ndim == 1:
                scores = scores[:, None]
        if self.dropped is not None:
            if soft is not None:
                raise OptionError("--drop-class", "is for class-index or 0/1 targets, not "
                                  "soft or smoothed ones")
            scores = self.dropped.scores(scores)
            labels, keep = (self.dropped.softmax if self.s.mode == "softmax" else
                            self.dropped.sigmoid)(labels, keep)
        return scores, labels, keep, where, soft, counts

    def _prepare_logprobs(self, batch: Batch):
        scores = np.asarray(batch.scores, dtype=np.float64).reshape(-1, 1)
        where = Where(self.table.name, batch.start, batch.lines)
        if self.targets is not None:
            raw = self.cursor.take(batch.start, len(scores), self.table.name)
            twhere = Where(self.targets.name, batch.start)
        else:
            raw, twhere = batch.targets, where
        if raw is None:
            labels = np.zeros(len(scores), np.int64)
            keep = np.ones(len(scores), bool)
        elif self.vocab is not None:
            labels, keep = self.vocab.indices(raw, self.s.ignore_index, twhere)
            self.classes[:] = self.vocab.names
            self.k = max(1, len(self.classes))
            self.acc.grow(self.k)
        else:
            labels, keep = softmax_targets(raw, self.names, self.k, self.s.ignore_index,
                                           twhere)
        return scores, labels, keep, where

    def _outside(self, batch: Batch):
        """Rows whose id is not in ``only_ids`` (compare --ids intersect), or None."""
        if self.s.only_ids is None or batch.ids is None:
            return None  # no ids: paired by row, nothing to leave out
        only = self.s.only_ids
        return np.fromiter((i not in only for i in batch.ids.tolist()), bool, len(batch.ids))

    def _batch_weights(self, batch: Batch, shape):
        """The batch's sample weights (--weight-col, or the rows of --weights),
        shaped like the labels (a sigmoid row's weight is its elements')."""
        w = self.s.weights
        if batch.weights is not None:
            w = np.asarray(batch.weights, dtype=np.float64)
            return np.broadcast_to(w[:, None], shape) if len(shape) == 2 else w
        if w is None:
            return None
        start, n = batch.start, shape[0]
        if not isinstance(w, np.ndarray):
            return np.full(shape, float(w))
        if self.dense is not None:  # (N, d1, ...) per position: the rows are positions
            if self.dense.shift:
                raise InputError("--weights per position do not combine with --shift",
                                 self.table.name)
            w = w.reshape(-1)
        elif w.ndim == 2 and w.shape[1] == 1 and len(shape) == 1:
            w = w[:, 0]
        if start + n > len(w):
            raise InputError(f"--weights has {len(w):,} weights, and the predictions have "
                             f"more rows (at least {start + n:,})", self.table.name)
        part = np.asarray(w[start:start + n], dtype=np.float64)
        if part.ndim == 1 and len(shape) == 2:
            part = np.broadcast_to(part[:, None], shape)
        if part.shape != tuple(shape):
            raise InputError(f"--weights has rows of shape {part.shape[1:]} for labels of "
                             f"shape {tuple(shape[1:])}", self.table.name)
        return part

    # -- per unit, on a worker thread
    def _unit(self, scores, labels, keep, where, lo, hi, block, weights=None, soft=None,
              outside: int = 0, counts=None):
        """Score rows lo..hi block by block (cache-sized), then accumulate the
        whole unit at once. Units sit on absolute row multiples, so the sums
        are the same whatever the thread count or batch sizes."""
        z, y, m = scores[lo:hi], labels[lo:hi], keep[lo:hi]
        softmax = self.s.mode == "softmax"
        parts = self._parts()
        ce, q = np.empty(y.shape), np.empty(y.shape)
        calibrate = self.acc.calibration is not None
        if calibrate:
            confidence, correct = np.empty(y.shape), np.empty(y.shape, bool)
        gradient = self.s.gradient and not self.s.logprobs
        grad_norm = np.empty(y.shape) if gradient and softmax else None
        # the norm from the loss's own exponentials, unless --grad wants the rows
        fused_gradient = gradient and softmax and parts is core.softmax_parts and \
            self.on_gradient is None
        soft_focal = None if soft is None else [np.empty(y.shape) for _ in self.s.gammas]
        side = {}  # per-unit inputs of the relatives beyond CE and 1 - p_t
        # the prior: each class's probability summed over the scored rows
        prob_sum = np.zeros(self.k) if softmax and not self.s.logprobs else None
        # one compiled read for the checks and the loss; a map's blocks as they lie (see blocks)
        one_read = softmax and parts is core.softmax_parts and soft is None and not fused_gradient
        as_laid = one_read and not gradient and all(n != "dual-focal" for n, _ in self.s.losses)
        for b in range(0, hi - lo, block):
            zb, rows = block_copy(z[b:b + block], as_laid, self.convert), slice(b, b + block)
            read = core.softmax_read(zb, y[rows], (prob_sum, m[rows]), calibrate) \
                if one_read else None
            known = check_block(zb, y[rows], where, lo + b, self.s, self.classes,
                                calibrate and softmax, read)
            ce[rows], q[rows], focal_b, pair = self._block_parts(
                zb, y[rows], m[rows], None if soft is None else soft[rows],
                grad_norm[rows] if fused_gradient else None, prob_sum, read)
            for i, f in enumerate(focal_b or ()):
                soft_focal[i][rows] = f
            for key, v in zip(("p", "omp"), pair or ()):  # soft sigmoid: p and 1 - p
                side.setdefault(key, np.empty(y.shape))[rows] = v
            if calibrate and softmax:
                confidence[rows], correct[rows] = block_top_label(
                    zb, y[rows], ce[rows], q[rows], self.s.probs, soft is not None, known)
            for key, v in extras.relative_inputs(self.s, zb, y[rows], ce[rows]).items():
                side.setdefault(key, np.empty(y.shape))[rows] = v
            if gradient and softmax and not fused_gradient:
                gradient_of = core.softmax_gradient_probs if self.s.probs else \
                    core.softmax_gradient
                grad_norm[rows], full = gradient_of(zb, y[rows], q[rows],
                                                    full=self.on_gradient is not None)
                if full is not None:
                    self._full_gradient(lo + b, full, ce[rows], q[rows], y[rows], m[rows],
                                        None if weights is None else weights[rows])
        if not softmax and self.on_gradient is not None:  # d BCE / dx = p - y
            self._full_gradient(lo, np.where(y, -q, q), ce, q, y, m, weights)
        if not softmax:
            # calibration and the prior read p off 1 - p_t of the element's label
            q_label = q if soft is None else np.where(y, side["omp"], side["p"])
            prob_sum = probabilities.sigmoid_sums(q_label, y, m)
            if calibrate:
                confidence, correct = core.binary_confidence(q_label, y)
        # p_t for the buckets: 1 - q is within an ulp of exp(-ce) near every edge
        pt = 1.0 - q
        # --weights: every loss, gradient and relative of a unit times its weight
        w = 1.0 if weights is None else weights
        if not softmax:
            side["y"] = y if soft is None else soft
        extra = extras.unit_extras(self.s, ce, q, w, (grad_norm if softmax else q)
                                   if gradient else None, side)
        exact_ce = ce
        if weights is not None:
            ce = ce * weights
            soft_focal = None if soft_focal is None else [f * weights for f in soft_focal]
        # what each unit counts for in a weighted mean: its sample weight, and
        # under smoothed class targets with --class-weight its target's weight
        if counts is not None:
            weights = counts if weights is None else weights * counts
        acc = self.acc.partial(y, m, ce, q, pt, extra, weights, soft_focal,
                               split=None if softmax or soft is None else soft)
        self._unit_counts(acc, outside, pt[m], prob_sum,
                          (confidence, correct, m) if calibrate else None)
        return acc, self._unit_rows(y, m, ce, q, pt, exact_ce, soft_focal, weights, extra,
                                    gradient, correct if calibrate and softmax else None)

    def _block_parts(self, zb, y, m, soft, grad_norm, prob_sum, read=None):
        """CE and 1 - p_t of a block, soft targets' focal terms and soft
        sigmoid targets' ``(p, 1 - p)`` (else None); the prior's probability
        sums added to ``prob_sum`` (``read``: core.softmax_read's, which added
        them), and the fused gradient norm written to ``grad_norm`` when it
        is given."""
        parts = self._parts()
        if soft is not None and self.s.mode == "sigmoid":
            return sigmoid_soft_parts(zb, soft, self.s.gammas, self.s.probs)
        if soft is not None:
            soft_of = keras_soft_parts if self.s.arithmetic == "keras" else \
                soft_parts
            ce, q, focal = soft_of(zb, soft, self.s.gammas, self.s.probs, self.soft_weight)
        elif parts is core.softmax_parts:  # the sums from the loss's own exponentials
            ce, q = core.softmax_parts(zb, y, grad_norm, prob_sums=(prob_sum, m), read=read)
            return ce, q, None, None
        else:
            (ce, q), focal = parts(zb, y), None
        if prob_sum is not None:
            prob_sum += probabilities.class_sums(zb, m, self.s.probs)
        return ce, q, focal, None

    def _unit_counts(self, acc, outside: int, pt_scored, prob_sum, calibration):
        """A unit's sums beyond the losses: rows left out by id (not examples
        at all, not ignored ones), calibration, the p_t histogram, the prior."""
        if outside:
            acc.examples -= outside
            acc.ignored -= outside
            acc.ignored_elements -= outside * (0 if self.s.mode == "softmax" else self.k)
        if calibration is not None:
            acc.calibration = self.acc.calibration.part(*calibration)
        if self.s.pt_bins:
            acc.pt_hist = core.pt_histogram(pt_scored, self.s.pt_bins)
        acc.prob_sum = prob_sum

    def _parts(self):
        """The core function that turns a block into (CE, 1 - p_t)."""
        if self.s.logprobs:
            return lambda z, y: core.logprob_parts(z)
        if self.s.arithmetic == "keras":
            keras = core.keras_softmax_parts if self.s.mode == "softmax" else \
                core.keras_sigmoid_parts
            return lambda z, y: keras(z, y, self.s.probs)
        if self.s.mode == "softmax":
            return core.softmax_parts_probs if self.s.probs else core.softmax_parts
        return core.sigmoid_parts_probs if self.s.probs else core.sigmoid_parts
