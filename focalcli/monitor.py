"""`focalcli.Monitor`: `focal track` from inside a training loop. Each batch
is scored as it comes, by the same engine as a file, and only its sums are
kept (the mergeable accumulators of `score`); ``step`` reduces them to the
checkpoint's figures, so the monitor costs O(classes) per checkpoint and
never holds predictions. Given example ids, it also keeps the per-example
dynamics: a few float64 per example, whatever the number of steps."""
from __future__ import annotations

import numpy as np

from .errors import InputError


class Monitor:
    """``Monitor(**options)``: the options of `focal track` (``gamma``,
    ``alpha``, ``easy_threshold``, ``gamma_schedule``, ``ignore_index``,
    ``output``, ``plot``, ``data_map``, ``tensorboard``, ...). A
    ``gamma_schedule`` needs ``steps``, the number of checkpoints planned:
    checkpoint i is scored at the schedule's gamma for i of ``steps`` as its
    batches arrive."""

    def __init__(self, steps: int | None = None, **options):
        from .api import _library_call, _request
        from .request import TrackRequest, schedule
        with _library_call():
            self.req = _request(TrackRequest, options, checkpoints=None)
            if self.req.gamma_schedule is not None:
                if not isinstance(steps, int) or steps < 1:
                    raise InputError("gamma_schedule: a monitor needs steps=N, the number "
                                     "of checkpoints the schedule spans")
                self._gammas = schedule(self.req.gamma_schedule, steps)
            else:
                self._gammas = None
        self._checkpoints: list[dict] = []
        self._first: dict | None = None
        self._merged = None     # (outcome, summarize) of this checkpoint's batches so far
        self._dynamics = None   # made at the first update: whether ids follow the examples

    @property
    def gamma(self) -> float:
        """The gamma the current checkpoint is scored at."""
        i = len(self._checkpoints)
        if self._gammas is None:
            return self.req.gamma
        if i >= len(self._gammas):
            raise InputError(f"step {i + 1} is past the {len(self._gammas)} steps the gamma "
                             "schedule spans")
        return self._gammas[i]

    def update(self, predictions, targets, ids=None):
        """One batch of this checkpoint: predictions ``(N, K)`` and targets
        ``(N,)`` (arrays, or anything with ``__array__``: tensors on the CPU);
        ``ids`` (``N`` integers >= 0, each example's place in the evaluation
        set) to follow each example across checkpoints. Scored now; only its
        sums are kept."""
        from .api import _library_call
        from .runs import score
        from .runs.track import Dynamics
        with _library_call():
            follow = ids is not None
            if self._dynamics is None:
                from .runs.track import check_outputs
                check_outputs(self.req, follow)
                self._dynamics = Dynamics(self.req.easy_threshold, follow)
                self._dynamics.begin(0)
            elif follow != self._dynamics.follow:
                raise InputError("ids: give them with every update() or with none")
            rows = _Batch(self._dynamics, _ids(ids, predictions))
            outcomes = []
            score.run(self._score_request(predictions, targets), stdout_rows=rows,
                      passes={"row_correct": True}, outcomes=outcomes)
        outcome, summarize = outcomes[0]
        if self._merged is None:
            self._merged = (outcome, summarize)
        else:
            self._merged[0].acc.merge(outcome.acc)

    def _score_request(self, predictions, targets):
        from .request import HERE, ScoreRequest
        r = self.req
        return ScoreRequest(predictions=predictions, targets=targets, reading=r.reading,
                            scoring=r.scoring, conventions=r.conventions, gamma=self.gamma,
                            alpha=r.alpha, cluster=HERE)

    def step(self, name: str | None = None):
        """Close the checkpoint the updates since the last step make up."""
        from .api import _library_call
        from .runs.track import checkpoint
        with _library_call():
            if self._merged is None:
                raise InputError("step() with no update() since the last step: a "
                                 "checkpoint needs predictions")
            i = len(self._checkpoints)
            outcome, summarize = self._merged
            doc = summarize(outcome)
            self._first = self._first or doc
            self._checkpoints.append(checkpoint(doc, self._first, name or f"step_{i}", i,
                                                self.gamma, self._dynamics))
            self._merged = None
            self._dynamics.begin(i + 1)

    def report(self):
        """The track report of the checkpoints closed so far (and the files
        its options ask for: output, plot, data_map, tensorboard)."""
        from .api import _library_call
        from .reports import Report
        from .runs.track import document, finish
        with _library_call():
            if not self._checkpoints:
                raise InputError("report() before any step(): no checkpoint yet")
            doc = document(self.req, list(self._checkpoints), self._dynamics)
            finish(self.req, doc, self._dynamics)
        return Report("track", doc)

    def close(self):
        """Nothing to release: the monitor holds sums only (kept for `with`)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _ids(ids, predictions) -> np.ndarray | None:
    if ids is None:
        return None
    out = np.asarray(ids)
    if out.ndim != 1 or len(out) != len(predictions) or \
            (out.size and (out.dtype.kind not in "iu" or out.min() < 0)):
        raise InputError(f"ids: give one integer >= 0 per prediction row "
                         f"({len(predictions)} here)")
    return out.astype(np.int64)


class _Batch:
    """A batch's rows into the dynamics, their row numbers made example ids."""

    def __init__(self, dynamics, ids: np.ndarray | None):
        self.dynamics, self.ids = dynamics, ids

    def write(self, chunk: dict):
        if self.ids is not None:
            chunk = {**chunk, "index": self.ids[np.asarray(chunk["index"], np.int64)]}
        self.dynamics.write(chunk)

    def close(self):
        pass
