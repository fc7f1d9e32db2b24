"""`focal compare`: two models' per-example losses on the same examples,
paired, with a bootstrap interval and gates. No I/O, no click.

The baseline's per-example values are kept (28 bytes an example: focal and
CE in float64, so deltas keep every digit; p_t in float32, for display; the
target); the candidate's stream past them. The bootstrap
resamples *blocks*: example i belongs to block ``i mod 2,048``, and each
block keeps its sums (per class too), so memory is O(blocks x classes) and
resampling costs O(resamples x blocks) whatever N is. With N <= 2,048 every
example is its own block: the ordinary paired bootstrap over examples.
"""
from __future__ import annotations

import heapq
import math

import numpy as np

from .errors import InputError
from .reduction import Reduction, ratio

BLOCKS = 2048
MAX_CLASS_INTERVALS = 1000  # per-class intervals up to this many classes


class Pairing:
    """Pairs candidate rows with baseline rows by row index or by id."""

    def __init__(self, *, intersect: bool, threshold: float, top: int,
                 names: tuple[str, str], reduction: Reduction = Reduction()):
        self.by_id, self.intersect = False, intersect  # by id: settled by both sides' rows
        self.threshold, self.top_n, self.names = threshold, top, names
        self.reduction = reduction
        self.k = None
        self.has_ids = None  # decided by the baseline's first rows
        self.display = False  # rows show means (dense, sequences) beside their sums
        self.base: dict[str, list] = {"focal_sum": [], "ce_sum": [], "target": []}
        self.closed = False
        self.reserved = None
        self.ids: dict = {}
        self.rows = 0
        self.candidate_rows = 0  # many files: rows are paired by their place overall
        self.paired = self.dropped = 0
        self.seen = None
        self.sums = np.zeros((len(PARTS), BLOCKS))  # of the paired examples, by block
        self.class_sums = None
        self.harder = self.easier = 0
        self._worse: list = []

    def enable_classes(self, k: int):
        """Per-class intervals (softmax rows; up to MAX_CLASS_INTERVALS classes)."""
        if k <= MAX_CLASS_INTERVALS:
            self.k = k
            self.class_sums = np.zeros((2, k, BLOCKS))  # focal delta, counted

    # -- the baseline pass
    def reserve(self, rows: int | None):
        """The baseline's row count, when its reader knows it up front: its
        columns are then filled in place, with no chunks to join."""
        self.reserved = rows

    def _store(self, key: str, values: np.ndarray, dtype):
        if self.reserved is None:
            self.base[key].append(np.asarray(values, dtype))
            return
        if not isinstance(self.base[key], np.ndarray):
            self.base[key] = np.empty(self.reserved, dtype)
        self.base[key][self.rows:self.rows + len(values)] = values

    def add_baseline(self, chunk: dict):
        n = len(chunk["index"])
        if self.has_ids is None:
            self.has_ids = "id" in chunk
            self.display = "focal_sum" in chunk
            if self.display:
                self.base["focal"] = []
            if self.top_n:
                self.base["p_t"] = []
        if self.rows + n > (self.reserved or np.inf):
            raise InputError(f"has more rows than the {self.reserved:,} it announced",
                             self.names[0])
        self._store("focal_sum", chunk.get("focal_sum", chunk["focal"]), np.float64)
        self._store("ce_sum", chunk.get("ce_sum", chunk["ce"]), np.float64)
        if self.display:
            self._store("focal", chunk["focal"], np.float64)
        if self.top_n:
            self._store("p_t", chunk.get("p_t", np.full(n, np.nan)), np.float32)
        self._store("target", _targets(chunk), np.int64)
        if self.has_ids:
            for i, ident in enumerate(chunk["id"].tolist()):
                if ident in self.ids:
                    raise InputError(f"id {ident!r} appears twice", self.names[0])
                self.ids[ident] = self.rows + i
        self.rows += n

    def _close_baseline(self):
        if self.closed:
            return
        # one column at a time, each chunk list let go as it is joined: the
        # peak is the columns plus one, not twice the columns
        for key in list(self.base):
            chunks = self.base[key]
            if isinstance(chunks, np.ndarray):  # filled in place
                self.base[key] = chunks[:self.rows]
                continue
            self.base[key] = np.concatenate(chunks) if chunks else np.zeros(0)
            chunks.clear()
        self.seen = np.zeros(self.rows, bool)
        self.closed = True

    # -- the candidate pass
    def add_candidate(self, chunk: dict):
        self._close_baseline()
        n = len(chunk["index"])
        self.candidate_rows += n
        if self.paired == 0 and not self.seen.any():  # the first candidate rows
            self.by_id = bool(self.has_ids) and "id" in chunk
        if self.by_id:
            where = np.array([self.ids.get(i, -1) for i in chunk["id"].tolist()], np.int64)
            missing = np.flatnonzero(where < 0)
            if missing.size and not self.intersect:
                raise InputError(f"id {chunk['id'][int(missing[0])]!r} is not in "
                                 f"{self.names[0]} (--ids intersect drops such rows)",
                                 self.names[1])
            self.dropped += int(missing.size)
            keep = where >= 0
            where, chunk = where[keep], {k: v[keep] for k, v in chunk.items()}
            n = len(where)
        else:
            # rows of many files carry their index within a shard: pair by place
            where = np.arange(self.candidate_rows - n, self.candidate_rows) \
                if "shard" in chunk else np.asarray(chunk["index"], np.int64)
            if n and where[-1] >= self.rows:
                raise InputError(f"has more examples than {self.names[0]} "
                                 f"({self.rows})", self.names[1])
        if not n:
            return
        self.seen[where] = True
        target = _targets(chunk)
        base_target = self.base["target"][where]
        differ = np.flatnonzero(base_target != target)
        if differ.size:
            i = int(differ[0])
            raise InputError(f"the targets disagree at index {int(where[i])}: "
                             f"{int(base_target[i])} in {self.names[0]}, {int(target[i])} "
                             f"here", self.names[1])
        c_sum = np.asarray(chunk.get("focal_sum", chunk["focal"]), np.float64)
        b_sum = self.base["focal_sum"][where]
        scored = ~(np.isnan(b_sum) | np.isnan(c_sum))
        parts = (np.where(scored, c_sum - b_sum, 0.0),
                 np.where(scored, np.asarray(chunk.get("ce_sum", chunk["ce"]), np.float64) -
                          self.base["ce_sum"][where], 0.0),
                 np.where(scored, chunk["counted"], 0.0),
                 np.where(scored, chunk.get("positives", 0.0), 0.0),
                 np.asarray(chunk.get("cells", np.zeros(n)), np.float64))  # ignored rows' too
        block = where % BLOCKS
        for row, values in enumerate(parts):
            self.sums[row] += np.bincount(block, values, minlength=BLOCKS)
        if self.class_sums is not None:
            cell = np.where(scored, target, 0) * BLOCKS + block
            for row, values in enumerate((parts[0], parts[2])):
                self.class_sums[row].reshape(-1)[:] += np.bincount(
                    cell, values, minlength=self.k * BLOCKS)
        # what a person reads: each example's own focal loss (a mean for dense rows)
        b_focal = self.base["focal"][where] if self.display else b_sum
        delta = np.where(scored, np.asarray(chunk["focal"], np.float64) - b_focal, 0.0)
        self.paired += int(scored.sum())
        self.harder += int((delta > self.threshold).sum())
        self.easier += int((delta < -self.threshold).sum())
        if self.top_n:
            self._keep_worse(where, delta, scored, chunk, b_focal, self.base["p_t"][where])

    def _keep_worse(self, where, delta, scored, chunk, b_focal, b_pt):
        ranked = np.where(scored, delta, -np.inf)
        if len(ranked) > self.top_n:  # the chunk's top N only, then in order
            head = np.argpartition(-ranked, self.top_n)[:self.top_n]
            order = head[np.lexsort((where[head], -ranked[head]))]
        else:
            order = np.lexsort((where, -ranked))
        for i in order:  # only what got worse: an unchanged row is not 'worse'
            if not scored[i] or delta[i] <= 0 or (len(self._worse) == self.top_n and
                                 delta[i] <= self._worse[0][0]):
                break
            row = {"index": int(where[i])}
            if "shard" in chunk:  # the candidate's shard, and the row within it
                row = {"shard": _plain(chunk["shard"][i]), "index": int(chunk["index"][i])}
            if "id" in chunk:
                row["id"] = _plain(chunk["id"][i])
            if "class" in chunk:
                row["class"] = _plain(chunk["class"][i])
            row.update({"target": _plain(chunk["target"][i]) if "target" in chunk else None,
                        "p_t_baseline": _finite(b_pt[i]),
                        "p_t_candidate": _finite(chunk["p_t"][i]) if "p_t" in chunk
                        else None,
                        "focal_baseline": float(b_focal[i]),
                        "focal_candidate": float(chunk["focal"][i]),
                        "delta": float(delta[i])})
            entry = (float(delta[i]), -int(where[i]), row)
            if len(self._worse) < self.top_n:
                heapq.heappush(self._worse, entry)
            else:
                heapq.heapreplace(self._worse, entry)

    def finish(self):
        self._close_baseline()
        if not self.by_id and not self.seen.all():
            raise InputError(f"has {int(self.seen.sum())} examples but {self.names[0]} has "
                             f"{self.rows}", self.names[1])
        if self.by_id and not self.seen.all():
            if not self.intersect:
                lost = int(np.flatnonzero(~self.seen)[0])
                ident = next(i for i, r in self.ids.items() if r == lost)
                raise InputError(f"id {ident!r} of {self.names[0]} is missing (--ids "
                                 "intersect drops such rows)", self.names[1])
            self.dropped += int((~self.seen).sum())

    def shared_ids(self) -> set:
        """The baseline's ids that the candidate has too."""
        return {ident for ident, row in self.ids.items() if self.seen[row]}

    def worse(self) -> list[dict]:
        return [row for *_, row in sorted(self._worse, key=lambda e: (-e[0], -e[1]))]

    # -- the bootstrap
    def intervals(self, resamples: int, seed: int, level: float):
        """(overall {focal, ce} intervals, per-class focal intervals or None):
        each resample of examples sums every part of the reduction anew,
        numerator and denominator alike (reduction.Reduction)."""
        used = min(self.rows, BLOCKS)
        if resamples <= 0 or used == 0:
            return None, None
        rng = np.random.default_rng(seed)
        picks = rng.integers(0, used, size=(resamples, used))
        counts = np.bincount((picks + used * np.arange(resamples)[:, None]).reshape(-1),
                             minlength=resamples * used).reshape(resamples, used)
        counts = counts.astype(np.float64)
        total = counts @ self.sums[:, :used].T  # (resamples, parts)
        parts = dict(zip(PARTS, total.T))
        den = self.reduction.finish(parts["counted"], parts["positives"], parts["cells"])
        if not self.reduction.finish(*self.sums[2:5].sum(axis=1)) > 0:
            return None, None
        overall = {key: _interval(ratio(parts[key], den), level, resamples)
                   for key in ("focal", "ce")}
        per_class = None
        if self.class_sums is not None:
            num, counted = (counts @ np.ascontiguousarray(self.class_sums[i][:, :used].T)
                            for i in (0, 1))
            den = np.ones_like(counted) if self.reduction.kind == "sum" else counted
            means = ratio(num, den)
            per_class = [_interval(means[:, c], level, resamples) for c in range(self.k)]
        return overall, per_class


#: the per-example parts of a reduction that the bootstrap sums by block
PARTS = ("focal", "ce", "counted", "positives", "cells")


def _interval(means: np.ndarray, level: float, resamples: int):
    means = means[np.isfinite(means)]
    if not means.size:
        return None
    low, high = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2])
    return {"low": float(low), "high": float(high), "level": level, "resamples": resamples}


def _targets(chunk: dict) -> np.ndarray:
    """Comparable targets of a chunk of rows (-1 where there are none)."""
    t = chunk.get("target")
    if t is None:
        return np.full(len(chunk["index"]), -1, np.int64)
    if t.dtype == object:  # sigmoid: '1|3'
        return np.asarray([hash(v) for v in t.tolist()], np.int64)
    return np.asarray(t, np.int64)


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v


def _finite(v):
    v = float(v)
    return v if math.isfinite(v) else None


# ---------------------------------------------------------------- the document

def saved_summary(path: str):
    """BASELINE as a summary saved by `focal score --format json`, or None
    when it is predictions."""
    import json
    import os
    if not path.lower().endswith(".json") or not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (ValueError, OSError):
        return None
    if isinstance(doc, dict) and "per_class" in doc and "focal" in doc:
        return doc
    return None


def check_summary(doc, name: str, candidate: dict):
    """A baseline given as a saved summary: ours, scored under the same
    settings (every option that changes a number) and classes."""
    if not isinstance(doc, dict) or not {"focal", "ce", "per_class", "gamma"} <= set(doc):
        raise InputError("is not a summary saved by 'focal score --format json'", name)
    saved = doc.get("settings")
    if not isinstance(saved, dict):
        raise InputError("records no 'settings' (saved by an older focal): its numbers "
                         "cannot be checked against the candidate's; save it again with "
                         "'focal score --format json'", name)
    for key, value in candidate["settings"].items():
        if saved.get(key) != value:
            raise InputError(f"was scored with {key} {saved.get(key)!r}; the candidate "
                             f"with {value!r}", name)
    if doc.get("classes") != candidate.get("classes") or \
            doc.get("class_names") != candidate.get("class_names"):
        raise InputError("has other classes than the candidate", name)


def check_columns(names, base_names: list[str], name: str, base: str):
    """The candidate's class columns, before its rows are paired: the same
    classes in another order would otherwise pass for targets that differ."""
    if names is None or list(names) == list(base_names):
        return
    if sorted(names) == sorted(base_names):
        raise InputError(f"has the class columns of {base} in another order "
                         f"({', '.join(names[:5])}... where {base} has "
                         f"{', '.join(base_names[:5])}...): put them in the same order", name)
    raise InputError(f"has {len(names)} classes {list(names[:5])}... where {base} has "
                     f"{len(base_names)} {list(base_names[:5])}...", name)


def _delta(base, cand):
    if base is None or cand is None:
        return None, None
    d = cand - base
    return d, (d / base if base else None)


def build(baseline: dict, candidate: dict, pairing: Pairing | None, *, resamples: int,
          seed: int, level: float) -> dict:
    """The comparison document (its keys are in the README)."""
    overall, per_class_iv = (None, None) if pairing is None else \
        pairing.intervals(resamples, seed, level)
    delta = {}
    for key in ("focal", "ce"):
        d, rel = _delta(baseline[key], candidate[key])
        delta[key], delta[f"{key}_rel"] = d, rel
    base_rows = {r["class"]: r for r in baseline["per_class"]}
    per_class = []
    for row in candidate["per_class"]:
        b = base_rows.get(row["class"], {})
        d, rel = _delta(b.get("focal"), row["focal"])
        iv = None
        if per_class_iv is not None and row["index"] < len(per_class_iv):
            iv = per_class_iv[row["index"]]
        per_class.append({"class": row["class"], "index": row["index"], "count": row["count"],
                          "baseline": b.get("focal"), "candidate": row["focal"],
                          "delta": d, "delta_rel": rel,
                          "baseline_ce": b.get("ce"), "candidate_ce": row["ce"],
                          "interval": iv})
    doc = {"baseline": baseline, "candidate": candidate, "delta": delta,
           "interval": overall["focal"] if overall else None,
           "interval_ce": overall["ce"] if overall else None,
           "per_class": per_class,
           "buckets": [{"p_t": b["p_t"], "baseline_focal_share": b["focal_share"],
                        "candidate_focal_share": c["focal_share"],
                        "baseline_count": b["count"], "candidate_count": c["count"]}
                       for b, c in zip(baseline["buckets"], candidate["buckets"])],
           "paired": pairing is not None}
    if pairing is not None:
        doc["movement"] = {"harder": pairing.harder, "easier": pairing.easier,
                           "threshold": pairing.threshold, "paired": pairing.paired,
                           "dropped": pairing.dropped}
        doc["worse"] = pairing.worse()
    else:
        doc["worse"] = []
    return doc


def gates(doc: dict, *, max_increase, max_rel_increase, per_class: bool, metric: str,
          significant: bool) -> dict:
    """Evaluate the gates: every failure with its gate, value and limit."""
    failures = []

    def check(where: str, delta, rel, interval):
        if significant and (interval is None or interval["low"] <= 0):
            return  # not shown to be an increase: the gate holds
        if max_increase is not None and delta is not None and delta > max_increase:
            failures.append({"gate": "max-increase", "where": where, "metric": metric,
                             "value": delta, "limit": max_increase})
        if max_rel_increase is not None and rel is not None and \
                100 * rel > max_rel_increase:
            failures.append({"gate": "max-rel-increase", "where": where, "metric": metric,
                             "value": 100 * rel, "limit": max_rel_increase})

    active = max_increase is not None or max_rel_increase is not None
    if active:
        interval = doc["interval"] if metric == "focal" else doc["interval_ce"]
        check("all", doc["delta"][metric], doc["delta"][f"{metric}_rel"], interval)
        if per_class:
            for row in doc["per_class"]:
                if metric == "focal":
                    d, rel, iv = row["delta"], row["delta_rel"], row["interval"]
                else:
                    d, rel = _delta(row["baseline_ce"], row["candidate_ce"])
                    iv = None
                check(f"class {row['class']}", d, rel, iv)
    return {"passed": not failures, "active": active, "significant": significant,
            "failures": failures}
