"""`focal explore`: the numbers of one HTML page, and the page itself.

Every number in the page is computed here from the pass's accumulator by
the same functions `score` and `sweep` use (report._cell, one per grid
cell), so the page shows exactly what `focal score --gamma G --alpha A`
prints. The page holds aggregates per cell, a p_t histogram and a bounded
set of examples: its size does not grow with N.
"""
from __future__ import annotations

import json
import math
from importlib import resources

import numpy as np

from . import __version__, core
from .report import cell_figures, cell_losses, count_fields, outcome_alpha

HIST_BINS = 50          # bars of the p_t histogram under the curve
SHOWN_CLASSES = 20      # per-class rows a cell lists; the rest are summed into one
HARDEST = 10            # hardest examples listed per cell
PER_CLASS_MAX = 1000    # beyond this many classes, candidates are kept overall, not per class


class Hardest:
    """An ``on_rows`` sink keeping the rows that can be among the HARDEST at
    some grid cell, in bounded memory.

    For softmax example rows the focal loss ``alpha_t (1 - p_t)^gamma CE`` is
    increasing in CE for a fixed class (both factors fall as p_t rises), so
    the hardest rows of a class are its hardest by CE at every gamma; the
    top of any cell is among the HARDEST highest-CE rows of each class (or
    overall, when alpha is one number for every class). Other rows (sigmoid
    examples, images of a dense input, sequences) are sums over their
    elements, which no per-row number orders for every gamma: they are kept
    and listed by CE."""

    def __init__(self, per_class: bool, n: int = HARDEST):
        self.per_class, self.n = per_class, n
        self.rows: dict | None = None
        self.exact = False  # the rows are softmax examples: focal loss per row is known
        self.floor = np.full(0, -np.inf)  # per class: the CE a row must beat

    def add(self, chunk: dict):
        ce = np.nan_to_num(np.asarray(chunk["ce"], dtype=np.float64), nan=-np.inf)
        exact = "p_t" in chunk and "class" in chunk
        group = np.asarray(chunk["target"], dtype=np.int64) if exact and self.per_class \
            else np.zeros(len(ce), np.int64)
        if len(group) and group.max() >= len(self.floor):
            self.floor = np.concatenate([self.floor, np.full(group.max() + 1 - len(self.floor),
                                                             -np.inf)])
        keep = np.flatnonzero((ce > self.floor[np.maximum(group, 0)]) & (ce > -np.inf))
        if not len(keep):
            return
        new = {k: np.asarray(v)[keep] for k, v in chunk.items() if np.ndim(v) == 1}
        new["_group"] = group[keep]
        rows = new if self.rows is None else \
            {k: np.concatenate([self.rows[k], new[k]]) for k in self.rows}
        # per group: highest CE first, the earlier row first among equals
        order = np.lexsort((rows["index"], -np.nan_to_num(rows["ce"], nan=-np.inf),
                            rows["_group"]))
        g = rows["_group"][order]
        starts = np.r_[0, np.flatnonzero(np.diff(g)) + 1]
        rank = np.arange(len(g)) - np.repeat(starts, np.diff(np.r_[starts, len(g)]))
        order = order[rank < self.n]
        self.rows = {k: v[order] for k, v in rows.items()}
        # a group holding n rows admits only a row beating its last (lowest) CE
        g, ce_kept = self.rows["_group"], self.rows["ce"]
        last = np.flatnonzero(np.r_[g[1:] != g[:-1], True])
        full = np.bincount(g, minlength=len(self.floor))[g[last]] >= self.n
        self.floor[:] = -np.inf
        self.floor[g[last][full]] = ce_kept[last][full]
        self.exact = exact

    def empty(self) -> "Hardest":
        return Hardest(self.per_class, self.n)

    def merge(self, other: "Hardest"):
        """Another shard's candidates (merged in shard order)."""
        if other.rows is not None:
            self.add({k: v for k, v in other.rows.items() if k != "_group"})

    def listing(self, gamma: float, alpha) -> tuple[list[dict], bool]:
        """The HARDEST rows at (gamma, alpha), and whether their focal loss
        is known per row (softmax example rows)."""
        if self.rows is None:
            return [], False
        r = self.rows
        ce = r["ce"].astype(np.float64)
        if self.exact:
            a = np.asarray(alpha, dtype=np.float64)
            weight = a[r["target"]] if a.ndim else float(a)
            # 1 - p_t from p_t: a row's CE may carry its --class-weight
            focal = weight * core.modulate(ce, 1.0 - r["p_t"].astype(np.float64), gamma)
            order = np.lexsort((r["index"], -focal))[:self.n]
        else:
            focal = None
            order = np.lexsort((r["index"], -ce))[:self.n]
        out = []
        for i in order:
            row = {"shard": _text(r["shard"][i]) if "shard" in r else None,
                   "index": int(r["index"][i]),
                   "id": _text(r["id"][i]) if "id" in r else None,
                   "class": _text(r["class"][i]) if "class" in r else
                   _text(r["worst_class"][i]) if "worst_class" in r else
                   _text(r["target"][i]) if "target" in r else None,
                   "p_t": _num(r["p_t"][i]) if "p_t" in r else None,
                   "ce": _num(ce[i]),
                   "focal": _num(focal[i]) if focal is not None else None}
            out.append(row)
        return out, focal is not None


def _num(v) -> float | None:
    v = float(v)
    return v if math.isfinite(v) else None


def _text(v) -> str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return str(v.item() if isinstance(v, np.generic) else v)


def _classes(per_class: list[dict], names: list[str], reduction: str) -> list[list]:
    """The SHOWN_CLASSES classes with the most focal loss, then one row
    summing the rest: [name, count, focal, ce, share] (focal and CE are each
    class's mean, or sum under --reduction sum, as in `score`)."""
    rows = sorted((r for r in per_class if r["count"]),
                  key=lambda r: (-(r["share"] or 0.0), r["index"]))
    shown = [[names[r["index"]], int(r["count"]), _num_or_none(r["focal"]),
              _num_or_none(r["ce"]), _num_or_none(r["share"])] for r in rows[:SHOWN_CLASSES]]
    rest = rows[SHOWN_CLASSES:]
    if rest:
        count = sum(r["count"] for r in rest)
        def mean(key):  # the rest's own ratio: each class's sum over its denominator
            div = sum(r["denominator"] for r in rest)
            total = sum((r[key] or 0.0) * r["denominator"] for r in rest)
            return total if reduction == "sum" else total / div if div else None
        shown.append([f"{len(rest)} more classes", int(count), mean("focal"), mean("ce"),
                      sum(r["share"] or 0.0 for r in rest)])
    return shown


def _num_or_none(v):
    return None if v is None else _num(v)


def page_data(outcome, *, specs, gammas, mode: str, reduction: str, normalize,
              sources: dict, hardest: Hardest, default_gamma: float | None = None) -> dict:
    """Everything the page shows, one entry per (gamma, alpha) cell."""
    names = list(outcome.classes)
    listed = "all" if outcome.n_classes <= PER_CLASS_MAX else "present"
    alphas = [outcome_alpha(spec, outcome, mode) for spec in specs]
    cells, exact = [], True
    for gi, gamma in enumerate(gammas):
        row = []
        for spec, alpha in zip(specs, alphas):
            fig = cell_figures(outcome, gi, alpha, reduction, normalize, listed)
            examples, exact = hardest.listing(gamma, alpha)
            row.append({
                "focal": _num_or_none(fig.focal), "ce": _num_or_none(fig.ce),
                "ratio": _num_or_none(fig.ratio),
                "easy_share": _num_or_none(fig.easy_share),
                "effective": _num_or_none(fig.effective_focal),
                "effective_ce": _num_or_none(fig.effective_ce),
                "buckets": [[b["count"], _num_or_none(b["ce_share"]),
                             _num_or_none(b["focal_share"])] for b in fig.buckets],
                "classes": _classes(fig.per_class, names, reduction),
                "hardest": examples,
                "losses": [[r["name"], _num_or_none(r["value"])]
                           for r in cell_losses(outcome.acc, fig, gi)],
            })
        cells.append(row)
    hist = outcome.acc.pt_hist
    counts = count_fields(outcome, mode)
    counts.pop("class_names", None)
    doc = {**sources, **counts, "version": __version__,
           "unit": "position" if outcome.dense is not None else
                   "token" if outcome.tokens else
                   "element" if mode == "sigmoid" else "example",
           "reduction": reduction, "normalize": normalize,
           "gammas": list(gammas), "alphas": [s.label() for s in specs],
           "alpha_values": [a.tolist() if isinstance(a, np.ndarray) else a for a in alphas],
           "buckets": list(core.BUCKET_LABELS),
           "hist": hist.tolist() if hist is not None else [0] * HIST_BINS,
           "hardest_exact": exact, "cells": cells,
           "start": _start(gammas, default_gamma)}
    if outcome.acc.calibration is not None:
        cal = outcome.acc.calibration.figures()
        if cal:
            doc["calibration"] = {k: cal[k] for k in ("ece", "mce", "accuracy", "n_bins")}
    return doc


def _start(gammas, wanted) -> int:
    """The gamma the page opens at: the one asked for, else 2 (the paper's),
    else the nearest to it."""
    target = 2.0 if wanted is None else wanted
    return int(np.argmin([abs(g - target) for g in gammas]))


def html(doc: dict) -> str:
    """The page: the template with the data inlined as JSON. Every '<', '>'
    and '&' in the data is escaped, so no input string (a class name, an id)
    can close the script element or be read as markup."""
    data = json.dumps(doc, allow_nan=False, separators=(",", ":"))
    data = data.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    template = resources.files("focalcli").joinpath("explore.html").read_text("utf-8")
    title = "focal explore: " + str(doc.get("predictions") or "")
    title = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return template.replace("__TITLE__", title).replace("__DATA__", data)
