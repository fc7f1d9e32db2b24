"""`focalcli.Monitor`: `focal track` from inside a training loop. Each
evaluation's batches go to disk with ``update`` (a temporary folder the
monitor owns: it holds one batch in memory, never a checkpoint), ``step``
closes a checkpoint (its batches joined into one ``.npy``), and ``report``
runs `focal track` on the checkpoints so far: the same report, by the same
code, as the files would give."""
from __future__ import annotations

import os
import tempfile

import numpy as np

from .errors import InputError


class Monitor:
    """``Monitor(**options)``: the options of `focal track` (``gamma``,
    ``alpha``, ``easy_threshold``, ``gamma_schedule``, ``ignore_index``, ...)."""

    def __init__(self, **options):
        self.options = options
        self._folder = tempfile.TemporaryDirectory(prefix="focal-monitor-")
        self._scores: list[tuple] = []  # (file, shape, dtype) of this checkpoint's batches
        self._targets: list[np.ndarray] = []
        self._files: list[str] = []
        self._first_targets: np.ndarray | None = None

    def update(self, predictions, targets):
        """One batch of this checkpoint's predictions (N, K) and targets (N,)
        (arrays, or tensors on the CPU). Written to disk at once: the monitor
        holds a batch in memory, never a checkpoint."""
        scores, labels = np.asarray(predictions), np.asarray(targets)
        if len(scores) != len(labels):
            raise InputError(f"a batch of {len(scores)} predictions with {len(labels)} "
                             "targets")
        if self._scores and scores.shape[1:] != self._scores[0][1][1:]:
            raise InputError(f"a batch of shape {scores.shape} after batches of "
                             f"{self._scores[0][1]}")
        path = os.path.join(self._folder.name, f"batch_{len(self._scores):06d}.npy")
        np.save(path, scores)
        self._scores.append((path, scores.shape, scores.dtype))
        self._targets.append(labels)

    def step(self, name: str | None = None):
        """Close the checkpoint the updates since the last step make up."""
        if not self._scores:
            raise InputError("step() with no update() since the last step: a checkpoint "
                             "needs predictions")
        labels = np.concatenate(self._targets)
        if self._first_targets is None:
            self._first_targets = labels
            np.save(os.path.join(self._folder.name, "targets.npy"), labels)
        elif not np.array_equal(labels, self._first_targets):
            raise InputError("this checkpoint's targets differ from the first one's: track "
                             "follows the same examples in the same order")
        stem = f"{len(self._files):06d}_{name or f'step_{len(self._files)}'}"
        path = os.path.join(self._folder.name, f"{stem}.npy")
        self._join(path)
        self._files.append(path)

    def _join(self, path: str):
        """The batches' files as one .npy, copied a batch at a time."""
        rows = sum(shape[0] for _, shape, _ in self._scores)
        first_shape, dtype = self._scores[0][1], np.result_type(*[d for _, _, d in
                                                                  self._scores])
        out = np.lib.format.open_memmap(path, mode="w+", dtype=dtype,
                                        shape=(rows, *first_shape[1:]))
        at = 0
        for batch, shape, _ in self._scores:
            out[at:at + shape[0]] = np.load(batch)
            at += shape[0]
            os.unlink(batch)
        out.flush()
        del out
        self._scores, self._targets = [], []

    def report(self):
        """The track report of the checkpoints closed so far."""
        from .api import track
        if not self._files:
            raise InputError("report() before any step(): no checkpoint yet")
        listing = os.path.join(self._folder.name, "checkpoints.txt")
        with open(listing, "w", encoding="utf-8") as f:
            f.write("\n".join(self._files) + "\n")
        return track(f"@{listing}", os.path.join(self._folder.name, "targets.npy"),
                     **self.options)

    def close(self):
        self._folder.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
