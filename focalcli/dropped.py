"""`--drop-class CLASS`: one class out of the problem (MONAI's
``include_background=False`` drops channel 0). Its score column goes, so a
softmax renormalises over the others; a softmax target of that class is
ignored (MONAI's one-hot row of zeros: no loss, and under `--like monai`
still in its N*C denominator, as ignored targets are); a sigmoid row loses
that element, so a target of that class is background. Targets are read
against every class, as the user wrote them, then mapped."""
from __future__ import annotations

import numpy as np

from .errors import InputError, OptionError


class DroppedClass:
    def __init__(self, given: str, classes: list[str], source: str, mode: str):
        if given in classes:
            self.index = classes.index(given)
        else:
            try:
                self.index = int(given)
            except ValueError:
                raise InputError(f"--drop-class {given!r} is neither a class name nor an "
                                 f"index (classes: {', '.join(classes[:10])}"
                                 f"{', ...' if len(classes) > 10 else ''})", source) from None
            if not 0 <= self.index < len(classes):
                raise InputError(f"--drop-class {self.index} is out of range for "
                                 f"{len(classes)} classes", source)
        if len(classes) - 1 < (2 if mode == "softmax" else 1):
            raise OptionError("--drop-class", f"leaves {len(classes) - 1} class to score: "
                              f"{mode} needs {'two' if mode == 'softmax' else 'one'}")
        self.k = len(classes)                          # every class, as the targets say
        self.names = {c: i for i, c in enumerate(classes)}

    def kept(self, classes: list[str]) -> list[str]:
        return [c for i, c in enumerate(classes) if i != self.index]

    def scores(self, scores: np.ndarray) -> np.ndarray:
        return np.delete(scores, self.index, axis=1)

    def softmax(self, labels: np.ndarray, keep: np.ndarray):
        """Class indices of every class as indices of the kept ones; the
        dropped class's targets ignored."""
        keep = keep & (labels != self.index)
        return np.where(labels > self.index, labels - 1, np.where(keep, labels, 0)), keep

    def sigmoid(self, labels: np.ndarray, keep: np.ndarray):
        return (np.delete(labels, self.index, axis=1),
                np.delete(keep, self.index, axis=1))
