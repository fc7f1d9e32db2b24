"""`focal track`: training dynamics across checkpoints. Each checkpoint's
predictions are scored as `focal score` scores them (at the scheduled gamma);
per example, a few float64 accumulate over the checkpoints, whatever their
number (never a checkpoint matrix): the mean and spread of p_t (dataset
cartography, Swayamdipta et al. 2020), how often the top label is right,
forgetting events (Toneva et al. 2019) and the checkpoint from which the
example stays learned."""
from __future__ import annotations

import dataclasses
import os
import re

import numpy as np

from ..errors import InputError, OptionError
from ..request import HERE, ScoreRequest, TrackRequest, schedule
from . import score


def checkpoint_files(spec) -> list[str]:
    """The checkpoints' files, ordered by the number in each name (epoch_2
    before epoch_10); a list file keeps its order."""
    from ..shards import expand, is_many
    spec = str(spec)
    if not is_many(spec):
        return [spec]
    files = expand(spec, "checkpoint")
    if spec.startswith("@"):
        return files
    return sorted(files, key=lambda f: (number_in_name(f) is None, number_in_name(f) or 0,
                                        os.path.basename(f)))


def step_of(path: str, i: int) -> int:
    """A checkpoint's step: the number in its name, else its place."""
    number = number_in_name(path)
    return i if number is None else number


def number_in_name(path: str) -> int | None:
    found = re.findall(r"\d+", os.path.basename(path))
    return int(found[-1]) if found else None


def _example_rows(chunk: dict):
    """Rows track can follow: one per example, with its p_t and whether its
    top label is right (softmax rows; not elements, positions or tokens)."""
    if "correct" not in chunk or "p_t" not in chunk:
        raise OptionError("track", "follows the examples of softmax (N, K) rows; these "
                          "predictions are scored per element or per position")


class Dynamics:
    """The per-example state across checkpoints, fed one checkpoint's rows at a
    time (a row sink of the score run), and each checkpoint's hard/easy sums."""

    def __init__(self, threshold: float, follow: bool = True):
        self.threshold = threshold
        self.follow = follow  # the per-example state; without it, the hard/easy sums only
        self.n = 0
        self.state = {k: np.zeros(0) for k in ("seen", "mean", "m2", "right", "forgot")}
        self.prev = np.zeros(0, bool)
        self.streak = np.zeros(0, np.int64)   # the checkpoint the current run of right began
        self.ever = np.zeros(0, bool)
        self.target = np.zeros(0, np.int64)
        self.checkpoint = 0

    def begin(self, i: int):
        self.checkpoint, self.sums = i, np.zeros(4)  # hard focal, hard n, easy focal, easy n

    def _grow(self, n: int):
        if n <= self.n:
            return
        more = n - self.n
        for k, v in self.state.items():
            self.state[k] = np.concatenate([v, np.zeros(more)])
        self.prev = np.concatenate([self.prev, np.zeros(more, bool)])
        self.ever = np.concatenate([self.ever, np.zeros(more, bool)])
        self.streak = np.concatenate([self.streak, np.full(more, -1, np.int64)])
        self.target = np.concatenate([self.target, np.full(more, -1, np.int64)])
        self.n = n

    def write(self, chunk: dict):
        _example_rows(chunk)
        pt, focal = chunk["p_t"], chunk["focal"]
        scored = ~np.isnan(pt)
        pt, focal = pt[scored], focal[scored]
        hard = pt <= self.threshold
        self.sums += [focal[hard].sum(), hard.sum(), focal[~hard].sum(), (~hard).sum()]
        if self.follow:
            self._follow(chunk, scored, pt)

    def _follow(self, chunk: dict, scored: np.ndarray, pt: np.ndarray):
        index = chunk["index"]
        self._grow(int(index.max()) + 1 if len(index) else 0)
        idx = index[scored]
        right = np.asarray(chunk["correct"], bool)[scored]
        self.target[idx] = chunk["target"][scored]
        s = self.state
        s["seen"][idx] += 1  # Welford's running mean and sum of squares of p_t
        delta = pt - s["mean"][idx]
        s["mean"][idx] += delta / s["seen"][idx]
        s["m2"][idx] += delta * (pt - s["mean"][idx])
        s["right"][idx] += right
        s["forgot"][idx] += self.prev[idx] & ~right
        self.streak[idx] = np.where(right, np.where(self.prev[idx], self.streak[idx],
                                                    self.checkpoint), -1)
        self.prev[idx], self.ever[idx] = right, self.ever[idx] | right

    def close(self):
        pass

    def hard_easy_ratio(self):
        """Mean focal loss of the hard examples over that of the easy ones."""
        hard_f, hard_n, easy_f, easy_n = self.sums
        if not hard_n or not easy_n or not easy_f:
            return None
        return float((hard_f / hard_n) / (easy_f / easy_n))

    def rows(self) -> dict:
        s = self.state
        seen = s["seen"]
        with np.errstate(invalid="ignore", divide="ignore"):
            return {"index": np.arange(self.n), "target": self.target,
                    "confidence": np.where(seen > 0, s["mean"], np.nan),
                    "variability": np.where(seen > 0, np.sqrt(s["m2"] / seen), np.nan),
                    "correctness": np.where(seen > 0, s["right"] / seen, np.nan),
                    "forgetting": s["forgot"].astype(np.int64),
                    "first_learned": np.where(self.prev, self.streak, -1)}

    def counts(self) -> dict:
        return {"learned": int(self.prev.sum()), "forgotten": int((self.state["forgot"] > 0)
                                                                  .sum()),
                "never_learned": int((~self.ever & (self.state["seen"] > 0)).sum())}


def run(req: TrackRequest, *, progress=None) -> dict:
    check_outputs(req)
    files = checkpoint_files(req.checkpoints)
    gammas = schedule(req.gamma_schedule, len(files)) if req.gamma_schedule else \
        [req.gamma] * len(files)
    dynamics = Dynamics(req.easy_threshold)
    checkpoints, first = [], None
    for i, (path, gamma) in enumerate(zip(files, gammas)):
        dynamics.begin(i)
        doc = _score_checkpoint(req, path, gamma, dynamics, progress)
        first = first or doc
        checkpoints.append(checkpoint(doc, first, path, i, gamma, dynamics))
    doc = document(req, checkpoints, dynamics)
    finish(req, doc, dynamics, tuple(files))
    return doc


def check_outputs(req: TrackRequest, follow: bool = True):
    """What the outputs need, said before the passes, not after them."""
    if req.scoring.bins == 0:
        raise OptionError("--bins", "track follows each example's top label, which "
                          "calibration finds: drop --bins 0")
    for path in (req.plot, req.data_map):
        if path:
            from ..plots import plot_format, require_matplotlib
            plot_format(path)
            require_matplotlib()
    if req.tensorboard:
        _tensorboardx()
    if not follow and (req.output or req.data_map):
        raise OptionError("output" if req.output else "data_map", "the per-example dynamics "
                          "need each example's id: pass ids= to update()")


def checkpoint(doc: dict, first: dict, name: str, i: int, gamma: float,
               dynamics: Dynamics) -> dict:
    """A checkpoint's entry, once its score document is made: it must score
    examples of softmax rows, the same examples and classes as the first."""
    if doc["mode"] != "softmax" or doc["unit"] != "example":
        raise InputError("track follows examples of (N, K) softmax rows; this is "
                         f"{doc['mode']} with rows per {doc['unit']}", name)
    _same_series(doc, first, name)
    return _checkpoint(doc, name, i, gamma, dynamics)


def document(req: TrackRequest, checkpoints: list[dict], dynamics: Dynamics) -> dict:
    return {"predictions": None if req.checkpoints is None else str(req.checkpoints),
            "targets": None if req.targets is None else str(req.targets),
            "easy_threshold": req.easy_threshold, "gamma_schedule": req.gamma_schedule,
            "checkpoints": checkpoints,
            "examples": dynamics.counts() if dynamics.follow else None}


def finish(req: TrackRequest, doc: dict, dynamics: Dynamics, refuse: tuple = ()):
    """The files a track run writes beside its document."""
    if req.output:
        from ..writers import OutputFile
        with OutputFile(req.output, refuse=refuse) as out:
            out.write(_plain_rows(dynamics.rows()))
    if req.plot:
        from ..plots import track_plot
        track_plot(doc, req.plot, refuse)
    if req.data_map:
        from ..plots import data_map
        data_map(dynamics.rows(), req.data_map, refuse)
    if req.tensorboard:
        write_tensorboard(doc, req.tensorboard)


SERIES = ("focal", "ce", "ratio", "easy_share", "hard_easy_ratio", "accuracy", "ece", "gamma")


def _tensorboardx():
    try:
        import tensorboardX
    except ImportError:
        raise OptionError("--tensorboard", "writing TensorBoard events needs tensorboardX: "
                          "pip install 'focalcli[tensorboard]'") from None
    return tensorboardX


def write_tensorboard(doc: dict, folder: str):
    """The series as TensorBoard scalars (``focal/<key>`` at each checkpoint's
    step), written by tensorboardX: the trackers users already have read it."""
    writer = _tensorboardx().SummaryWriter(logdir=str(folder))
    try:
        for c in doc["checkpoints"]:
            for key in SERIES:
                if c.get(key) is not None:
                    writer.add_scalar(f"focal/{key}", c[key], global_step=c["step"])
    finally:
        writer.close()


def _same_series(doc: dict, first: dict, path: str):
    """A checkpoint must score the same examples and classes as the first."""
    rows, first_rows = doc["n"] + doc["ignored"], first["n"] + first["ignored"]
    if rows != first_rows:
        raise InputError(f"has {rows:,} examples where the first checkpoint has "
                         f"{first_rows:,}", path)
    if (doc["classes"], doc["class_names"]) != (first["classes"], first["class_names"]):
        raise InputError(f"has {doc['classes']} classes where the first checkpoint has "
                         f"{first['classes']}: track follows one model's classes", path)


def _score_checkpoint(req: TrackRequest, path: str, gamma: float, dynamics: Dynamics,
                      progress) -> dict:
    """One checkpoint through score's engine: here, its rows fed to the
    dynamics as they come; on a cluster (a checkpoint is a shard), its rows
    gathered on the worker and handed back whole."""
    one = ScoreRequest(predictions=path, targets=req.targets, reading=req.reading,
                       scoring=req.scoring, conventions=req.conventions, gamma=gamma,
                       alpha=req.alpha, cluster=req.cluster)
    passes = {"row_correct": True}
    if req.cluster.address() is None:
        return score.run(dataclasses.replace(one, cluster=HERE), stdout_rows=dynamics,
                         progress=progress, passes=passes)
    rows = Rows()
    doc = score.run(one, progress=progress, passes=passes, collector=rows)
    dynamics.write(rows.joined())
    return doc


class Rows:
    """A checkpoint's rows (index, target, p_t, focal, correct), gathered on a
    worker and merged back in shard order (engine.score_pass's collector)."""

    KEYS = ("index", "target", "p_t", "focal", "correct")

    def __init__(self):
        self.parts: list[dict] = []

    def add(self, chunk: dict):
        _example_rows(chunk)
        self.parts.append({k: np.asarray(chunk[k]) for k in self.KEYS})

    def empty(self) -> "Rows":
        return Rows()

    def merge(self, other: "Rows"):
        self.parts.extend(other.parts)

    def joined(self) -> dict:
        if not self.parts:
            return {k: np.zeros(0) for k in self.KEYS}
        return {k: np.concatenate([p[k] for p in self.parts]) for k in self.KEYS}


def _checkpoint(doc: dict, path: str, i: int, gamma: float, dynamics: Dynamics) -> dict:
    cal = doc.get("calibration") or {}
    return {"name": os.path.basename(path), "step": step_of(path, i), "gamma": gamma,
            "n": doc["n"], "ignored": doc["ignored"],
            "focal": doc["focal"], "ce": doc["ce"], "ratio": doc["ratio"],
            "easy_share": doc["easy_share"], "hard_easy_ratio": dynamics.hard_easy_ratio(),
            "accuracy": cal.get("accuracy"), "ece": cal.get("ece"),
            "per_class": doc["per_class"], "prior": doc["prior"]}


def _plain_rows(rows: dict) -> dict:
    """first_learned: null where the example is not learned at the end."""
    out = dict(rows)
    out["first_learned"] = np.array([None if v < 0 else int(v) for v in rows["first_learned"]],
                                    dtype=object)
    return out

