"""Per-example rows of a pass: each row's values (focal, CE, p_t and what
it adds to each reduction's parts), handed to the caller's sink, folded into
examples for dense and sequence inputs, and the --top heap. The Scorer's
half that speaks rows; its state (settings, classes, alpha, sinks) is the
Scorer's."""
from __future__ import annotations

import heapq

import numpy as np

from . import core
from .readers import Batch

#: the row columns (Settings.row_sums) that sum when rows fold into examples
SUM_COLUMNS = ("counted", "positives", "cells", "ce_sum", "focal_sum")


class RowEmitter:
    """Mixed into scoring.Scorer."""

    def _unit_rows(self, y, m, ce, q, pt, exact_ce, soft_focal, weights, extra,
                   gradient: bool, correct=None):
        """A unit's row columns, when anything takes rows (None otherwise).
        ``exact_ce``: CE before sample weights, for softmax's exact p_t;
        ``extra``: the unit's sums beyond CE and focal loss (the gradient's,
        when ``gradient``, and the relatives'); ``correct``: whether each top
        label is the target (rows carry it for track)."""
        if self.on_rows is None and not self.top_n and self.on_positions is None:
            return None
        exact_pt = np.exp(-exact_ce) if self.s.mode == "softmax" and not self.s.probs and \
            soft_focal is None and self.s.arithmetic == "exact" else pt
        cols = self._row_values(y, m, ce, q, exact_pt,
                                None if soft_focal is None else soft_focal[0], weights)
        if gradient:
            cols.update(self._gradient_columns(y, m, extra))
        if extra and self.dense is None and self.examples is None:
            cols.update(self._relative_columns(y, m, extra))
        if correct is not None and self.s.row_correct:
            cols["correct"] = np.where(m, correct, False)
        return cols

    def _relative_columns(self, y, m, extra) -> dict:
        """Each relative (--loss) per row, or per element with --per-element,
        class weights applied as in the summary: a column named by its label
        (``fl-star_0_0.25`` for ``fl-star:0,0.25``). Focal Tversky is a ratio
        of sums and has no row."""
        scale = self.unit_scale(y)
        cols = {}
        for key, values in extra.items():
            if not key.startswith("loss:") or key.startswith("loss:focal-tversky"):
                continue
            v = values if scale is None else values * scale
            name = key[5:].replace(":", "_").replace(",", "_")
            if self.s.mode == "softmax" or self.s.per_element:
                cols[name] = np.where(m, v, np.nan)
            else:
                cols[name] = np.where(m.any(axis=1), (v * m).sum(axis=1), np.nan)
        return cols

    def _gradient_columns(self, y, m, extra):
        """Per example: the L2 norms of the CE and focal gradients (alpha applied)."""
        g_ce, g_f = extra["grad_ce"], extra["grad_focal:0"]
        scale = self.unit_scale(y)
        if scale is not None:
            g_ce, g_f = g_ce * scale, g_f * scale
        if self.s.mode == "softmax":
            a = np.asarray(self.alpha, dtype=np.float64)
            g_f = g_f * (a[y] if a.ndim else float(a))
            return {"grad_ce": np.where(m, g_ce, np.nan), "grad_focal": np.where(m, g_f, np.nan)}
        g_f = g_f * core.sigmoid_alpha_t(y, self.alpha)
        if self.s.per_element:  # |d loss / d x| of each element
            return {"grad_ce": np.where(m, g_ce, np.nan), "grad_focal": np.where(m, g_f, np.nan)}
        scored = m.any(axis=1)
        return {"grad_ce": np.where(scored, np.sqrt((g_ce * g_ce * m).sum(axis=1)), np.nan),
                "grad_focal": np.where(scored, np.sqrt((g_f * g_f * m).sum(axis=1)), np.nan)}

    def _full_gradient(self, start, grad, ce, q, y, m, weights=None):
        """--grad: each row's focal gradient, alpha applied, 0 where ignored
        (called on a worker thread: the sink writes rows at their offset).
        ``grad`` is CE's, ``p - y``: softmax rows times each row's factor,
        sigmoid elements times each element's."""
        h = core.focal_gradient_factor(ce, q, self.s.gammas[0])
        if self.s.mode == "softmax":
            a = np.asarray(self.alpha, dtype=np.float64)
            h = h * (a[y] if a.ndim else float(a))
        else:
            h = h * core.sigmoid_alpha_t(y, self.alpha)
        scale = self.unit_scale(y)
        if scale is not None:
            h = h * scale
        if weights is not None:
            h = h * weights
        if h.ndim == 1:  # a softmax row's factor on each of its classes
            h, m = h[:, None], m[:, None]
        self.on_gradient(start, np.where(m, h * grad, 0.0))

    def _row_values(self, y, m, ce, q, pt, focal=None, weights=None):
        focal = core.modulate(ce, q, self.s.gammas[0]) if focal is None else focal.copy()
        scale = self.unit_scale(y)
        if scale is not None:  # as PyTorch's reduction='none' with weight=
            ce, focal = ce * scale, focal * scale
        if self.s.mode == "softmax":
            a = np.asarray(self.alpha, dtype=np.float64)
            focal *= a[y] if a.ndim else float(a)
        else:
            focal *= core.sigmoid_alpha_t(y, self.alpha)
        if self.s.mode == "softmax" or self.s.per_element:
            cols = {"p_t": np.where(m, pt, np.nan), "ce": np.where(m, ce, np.nan),
                    "focal": np.where(m, focal, np.nan)}
            if self.s.row_sums:
                cols.update(self._row_sums(y, m, scale, weights, rows=False))
            return cols
        scored = m.any(axis=1)
        cols = {"ce": np.where(scored, (ce * m).sum(axis=1), np.nan),
                "focal": np.where(scored, (focal * m).sum(axis=1), np.nan)}
        if self.s.row_sums:
            cols.update(self._row_sums(y, m, scale, weights, rows=True))
        if self.s.arithmetic == "keras":
            # Keras' binary reduction=None is the mean over the classes, not the sum
            if self.s.row_sums:
                cols["ce_sum"], cols["focal_sum"] = cols["ce"], cols["focal"]
            elements = np.maximum(m.sum(axis=1), 1)
            cols["ce"], cols["focal"] = cols["ce"] / elements, cols["focal"] / elements
        if self.dense is not None:
            cols["class_focal"] = np.where(m, focal, np.nan)
        return cols

    def _row_sums(self, y, m, scale, weights, rows: bool) -> dict:
        """What each row adds to the parts of a reduction's denominator
        (reduction.Reduction): its counted weight, its positive labels and
        its (example, class) cells, ignored ones included."""
        counted = np.where(m, self.acc.unit_counted(scale, weights), 0.0)
        if self.s.mode == "softmax":
            return {"counted": counted, "cells": np.full(len(y), float(self.k))}
        positives = (m & (y > 0)).astype(float)
        if not rows:  # --per-element: each element is its own row
            return {"counted": counted, "positives": positives, "cells": np.ones(y.shape)}
        return {"counted": counted.sum(axis=1), "positives": positives.sum(axis=1),
                "cells": np.full(len(y), float(self.k))}

    def _emit(self, batch: Batch, lo: int, hi: int, labels, keep, cols: dict):
        if self.dense is not None:
            return self._emit_positions(batch, lo, hi, labels, cols)
        if self.examples is not None and batch.groups is not None:  # per sequence
            return self.examples.add(batch.groups[lo:hi], cols["ce"], cols["focal"],
                                     labels[lo:hi], cols.get("counted"))
        out = {"index": np.arange(batch.start + lo, batch.start + hi)}
        if batch.ids is not None:
            out["id"] = batch.ids[lo:hi]
        y, m = labels[lo:hi], keep[lo:hi]
        if self.s.per_element:
            return self._emit_elements(out, y, cols)
        if self.s.mode == "softmax":
            out["target"] = np.where(m, y, self.s.ignore_index if self.s.ignore_index
                                     is not None else -1)
            out["class"] = np.where(m, np.asarray(self.classes, dtype=object)[y], None)
        elif self.k == 1:
            out["target"] = np.where(m[:, 0], y[:, 0].astype(np.int64),
                                     self.s.ignore_index if self.s.ignore_index is not None
                                     else -1)
        else:
            out["target"] = np.array(["|".join(map(str, np.flatnonzero(r))) for r in y],
                                     dtype=object)
        out.update(cols)
        self._emit_rows(out)

    def _emit_elements(self, out: dict, y, cols: dict):
        """--per-element: the (N, K) elements as rows, example by example (the
        order of torchvision's reduction='none' matrix, read row-major)."""
        n, k = y.shape
        rows = {"index": np.repeat(out["index"], k)}
        if "id" in out:
            rows["id"] = np.repeat(out["id"], k)
        rows["class"] = np.tile(np.asarray(self.classes, dtype=object), n)
        rows["target"] = y.reshape(-1).astype(np.int64)
        rows.update({name: v.reshape(-1) for name, v in cols.items()})  # (n, K) each
        self._emit_rows(rows)

    def _emit_positions(self, batch: Batch, lo: int, hi: int, labels, cols: dict):
        """Dense: per-position values to --map, and into per-example rows."""
        index = np.arange(batch.start + lo, batch.start + hi)
        if self.on_positions is not None:
            self.on_positions({"index": index, "ce": cols["ce"], "focal": cols["focal"],
                               "class_focal": cols.get("class_focal")})
        if self.examples is not None:
            per_class = cols.get("class_focal", labels[lo:hi])
            self.examples.add(index, cols["ce"], cols["focal"], per_class,
                              {k: cols[k] for k in SUM_COLUMNS if k in cols})

    def _emit_rows(self, out: dict):
        if self.on_rows is not None:
            self.on_rows(out)
        if self.top_n:
            self._keep_top(out)

    def _keep_top(self, out: dict):
        """A bounded min-heap of (focal, -index): ties keep the earlier row."""
        focal = out["focal"]
        order = np.argsort(-np.nan_to_num(focal, nan=-np.inf), kind="stable")[:self.top_n]
        for i in order:
            if np.isnan(focal[i]):
                break
            entry = (float(focal[i]), -int(out["index"][i]))
            if len(self._top) == self.top_n and entry <= self._top[0][:2]:
                break
            row = {k: _plain(v[i]) for k, v in out.items()}
            if len(self._top) < self.top_n:
                heapq.heappush(self._top, entry + (row,))
            else:
                heapq.heapreplace(self._top, entry + (row,))


def _plain(v):
    if isinstance(v, np.generic):
        return v.item()
    return v
