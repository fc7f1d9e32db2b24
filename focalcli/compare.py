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

BLOCKS = 2048
MAX_CLASS_INTERVALS = 1000  # per-class intervals up to this many classes


class Pairing:
    """Pairs candidate rows with baseline rows by row index or by id."""

    def __init__(self, *, intersect: bool, threshold: float, top: int,
                 names: tuple[str, str]):
        self.by_id, self.intersect = False, intersect  # by id: settled by both sides' rows
        self.threshold, self.top_n, self.names = threshold, top, names
        self.k = None
        self.has_ids = None  # decided by the baseline's first rows
        self.base: dict[str, list] = {"focal": [], "ce": [], "p_t": [], "target": [],
                                      "weight": []}
        self.ids: dict = {}
        self.rows = 0
        self.candidate_rows = 0  # many files: rows are paired by their place overall
        self.paired = self.dropped = 0
        self.seen = None
        self.sums = np.zeros((3, BLOCKS))  # focal, ce, weight of the paired examples
        self.class_sums = None
        self.harder = self.easier = 0
        self._worse: list = []

    def enable_classes(self, k: int):
        """Per-class intervals (softmax rows; up to MAX_CLASS_INTERVALS classes)."""
        if k <= MAX_CLASS_INTERVALS:
            self.k = k
            self.class_sums = np.zeros((3, k, BLOCKS))

    # -- the baseline pass
    def add_baseline(self, chunk: dict):
        n = len(chunk["index"])
        if self.has_ids is None:
            self.has_ids = "id" in chunk
        for key, dtype in (("focal", np.float64), ("ce", np.float64), ("p_t", np.float32)):
            self.base[key].append(np.asarray(chunk.get(key, np.full(n, np.nan)), dtype))
        self.base["target"].append(_targets(chunk))
        self.base["weight"].append(_weights(chunk))
        if self.has_ids:
            for i, ident in enumerate(chunk["id"].tolist()):
                if ident in self.ids:
                    raise InputError(f"id {ident!r} appears twice", self.names[0])
                self.ids[ident] = self.rows + i
        self.rows += n

    def _close_baseline(self):
        if isinstance(self.base["focal"], list):
            self.base = {k: np.concatenate(v) if v else np.zeros(0) for k, v in
                         self.base.items()}
            self.seen = np.zeros(self.rows, bool)

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
        weight = _weights(chunk)
        b_focal = self.base["focal"][where].astype(np.float64)
        b_ce = self.base["ce"][where].astype(np.float64)
        c_focal = np.asarray(chunk["focal"], np.float64)
        c_ce = np.asarray(chunk["ce"], np.float64)
        scored = ~(np.isnan(b_focal) | np.isnan(c_focal))
        d_focal = np.where(scored, c_focal - b_focal, 0.0)
        d_ce = np.where(scored, c_ce - b_ce, 0.0)
        w = np.where(scored, weight, 0.0)
        block = where % BLOCKS
        for row, values in enumerate((d_focal * w, d_ce * w, w)):
            self.sums[row] += np.bincount(block, values, minlength=BLOCKS)
            if self.class_sums is not None:
                cell = np.where(scored, target, 0) * BLOCKS + block
                self.class_sums[row].reshape(-1)[:] += np.bincount(
                    cell, values, minlength=self.k * BLOCKS)
        self.paired += int(scored.sum())
        self.harder += int((d_focal > self.threshold).sum())
        self.easier += int((d_focal < -self.threshold).sum())
        if self.top_n:
            self._keep_worse(where, d_focal, scored, chunk, b_focal,
                             self.base["p_t"][where])

    def _keep_worse(self, where, delta, scored, chunk, b_focal, b_pt):
        ranked = np.where(scored, delta, -np.inf)
        if len(ranked) > self.top_n:  # the chunk's top N only, then in order
            head = np.argpartition(-ranked, self.top_n)[:self.top_n]
            order = head[np.lexsort((where[head], -ranked[head]))]
        else:
            order = np.lexsort((where, -ranked))
        for i in order:
            if not scored[i] or (len(self._worse) == self.top_n and
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

    def worse(self) -> list[dict]:
        return [row for *_, row in sorted(self._worse, key=lambda e: (-e[0], -e[1]))]

    # -- the bootstrap
    def intervals(self, resamples: int, seed: int, level: float):
        """(overall {focal, ce} intervals, per-class focal intervals or None)."""
        used = min(self.rows, BLOCKS)
        if resamples <= 0 or used == 0 or self.sums[2].sum() == 0:
            return None, None
        rng = np.random.default_rng(seed)
        picks = rng.integers(0, used, size=(resamples, used))
        counts = np.bincount((picks + used * np.arange(resamples)[:, None]).reshape(-1),
                             minlength=resamples * used).reshape(resamples, used)
        counts = counts.astype(np.float64)
        sums = self.sums[:, :used]
        overall = {}
        for row, key in ((0, "focal"), (1, "ce")):
            with np.errstate(invalid="ignore", divide="ignore"):
                means = (counts @ sums[row]) / (counts @ sums[2])
            overall[key] = _interval(means, level, resamples)
        per_class = None
        if self.class_sums is not None:
            with np.errstate(invalid="ignore", divide="ignore"):
                means = (counts @ np.ascontiguousarray(self.class_sums[0][:, :used].T)) / \
                    (counts @ np.ascontiguousarray(self.class_sums[2][:, :used].T))
            per_class = [_interval(means[:, c], level, resamples) for c in range(self.k)]
        return overall, per_class


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


def _weights(chunk: dict) -> np.ndarray:
    """What each row's value is a mean over: 1 example, or its scored
    positions (dense) or tokens (sequences)."""
    for key in ("positions", "tokens"):
        if key in chunk:
            return np.asarray(chunk[key], np.float64)
    return np.ones(len(chunk["index"]))


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


SETTINGS = ("mode", "gamma", "alpha_spec", "reduction", "normalize", "classes")


def check_summary(doc, name: str, candidate: dict):
    """A baseline given as a saved summary: ours, with the same settings."""
    if not isinstance(doc, dict) or not {"focal", "ce", "per_class", "gamma"} <= set(doc):
        raise InputError("is not a summary saved by 'focal score --format json'", name)
    for key in SETTINGS:
        if doc.get(key) != candidate.get(key):
            raise InputError(f"was scored with {key} {doc.get(key)!r}; the candidate with "
                             f"{candidate.get(key)!r}", name)
    if doc.get("class_names") != candidate.get("class_names"):
        raise InputError("has other class names than the candidate", name)


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
