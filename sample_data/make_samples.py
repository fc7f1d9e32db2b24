"""Make the bundled sample data from scikit-learn's digits (a real public data
set that scikit-learn ships, so nothing is downloaded).

    pip install scikit-learn && python sample_data/make_samples.py

digits.*      an imbalanced 10-class problem: out-of-fold logits of a logistic
              regression, the same numbers as .npy, .csv (class names, ids,
              label names) and .json.
detect.*      a detection-like binary set, about 1 positive in 1000: every
              digit image and its eight 1-pixel shifts, "is it an 8?", with
              most 8s dropped; logits of a logistic regression as float32.
"""
import json
import os

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict

HERE = os.path.dirname(os.path.abspath(__file__))
NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def imbalanced_digits(rng):
    x, y = load_digits(return_X_y=True)
    keep = []
    for c in range(10):
        idx = np.flatnonzero(y == c)
        n = max(8, int(len(idx) * 0.7 ** c))  # 127 of class 0 down to 8 of class 9
        keep.extend(rng.choice(idx, n, replace=False))
    keep = np.sort(np.array(keep))
    return x[keep] / 16.0, y[keep]


def make_digits(rng):
    x, y = imbalanced_digits(rng)
    model = LogisticRegression(C=0.5, max_iter=5000)
    logits = cross_val_predict(model, x, y, cv=5, method="decision_function")
    logits = np.round(logits, 4)  # short text files; the .npy holds the same numbers
    np.save(os.path.join(HERE, "digits.npy"), logits)
    np.save(os.path.join(HERE, "digits_targets.npy"), y.astype(np.int64))
    with open(os.path.join(HERE, "digits.csv"), "w") as f:
        f.write("id," + ",".join(NAMES) + ",label\n")
        for i, (row, t) in enumerate(zip(logits, y)):
            f.write(f"img{i:04d}," + ",".join(repr(float(v)) for v in row)
                    + f",{NAMES[t]}\n")
    with open(os.path.join(HERE, "digits.json"), "w") as f:
        json.dump({"classes": NAMES, "logits": logits.tolist(), "targets": y.tolist()}, f)
    return len(y), np.bincount(y)


def make_detection(rng):
    x, y = load_digits(return_X_y=True)
    images = x.reshape(-1, 8, 8)
    shifted = [np.roll(np.roll(images, dy, axis=1), dx, axis=2)
               for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    x9 = np.concatenate(shifted).reshape(-1, 64) / 16.0
    y9 = np.tile(y, 9) == 8
    pos = np.flatnonzero(y9)
    drop = rng.choice(pos, len(pos) - 16, replace=False)
    keep = np.setdiff1d(np.arange(len(y9)), drop)
    x9, y9 = x9[keep], y9[keep]
    model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=5000)
    logits = cross_val_predict(model, x9, y9, cv=4, method="decision_function")
    np.save(os.path.join(HERE, "detect.npy"), logits.astype(np.float32))
    np.save(os.path.join(HERE, "detect_targets.npy"), y9.astype(np.uint8))
    return len(y9), int(y9.sum())


if __name__ == "__main__":
    rng = np.random.default_rng(2017)
    n, counts = make_digits(rng)
    print(f"digits: {n} examples, per class {counts.tolist()}")
    n, pos = make_detection(rng)
    print(f"detect: {n} examples, {pos} positives")
