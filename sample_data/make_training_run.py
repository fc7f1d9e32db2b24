"""Make the bundled training run: a softmax regression on scikit-learn's
digits (the imbalanced subset of make_samples.py), trained with focal loss
(gamma 2) by mini-batch SGD for twelve epochs, its held-out logits saved
before training and after every epoch.

    pip install scikit-learn && python sample_data/make_training_run.py

training/epoch_00.npy ... epoch_12.npy   held-out logits (N, 10) float32
training_targets.npy                     their classes (beside the folder,
                                         which holds checkpoints only)

The bias starts at zero, not at the classes' prior, so the first checkpoint
shows what `prior` reports for a head not initialised to the class rates.
"""
import os

import numpy as np

from make_samples import HERE, imbalanced_digits

OUT = os.path.join(HERE, "training")
EPOCHS, BATCH, LR, GAMMA = 12, 32, 0.5, 2.0


def focal_gradient(z: np.ndarray, t: np.ndarray, gamma: float) -> np.ndarray:
    """d/dz of the mean of -(1 - p_t)^gamma log p_t over the rows."""
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    rows = np.arange(len(t))
    pt = p[rows, t]
    # dL/dp_t, then dp_t/dz_j = p_t (1[j = t] - p_j)
    dl_dpt = gamma * (1 - pt) ** (gamma - 1) * np.log(pt) - (1 - pt) ** gamma / pt
    onehot = np.zeros_like(p)
    onehot[rows, t] = 1.0
    return (dl_dpt * pt)[:, None] * (onehot - p) / len(t)


def main():
    rng = np.random.default_rng(7)
    x, y = imbalanced_digits(rng)
    order = rng.permutation(len(y))
    held = order[: int(0.4 * len(y))]
    train = order[int(0.4 * len(y)):]
    w, b = np.zeros((x.shape[1], 10)), np.zeros(10)
    os.makedirs(OUT, exist_ok=True)
    np.save(os.path.join(HERE, "training_targets.npy"), y[held].astype(np.int64))

    def save(epoch):
        logits = np.round(x[held] @ w + b, 4).astype(np.float32)
        np.save(os.path.join(OUT, f"epoch_{epoch:02d}.npy"), logits)
        return (logits.argmax(axis=1) == y[held]).mean()

    save(0)
    for epoch in range(1, EPOCHS + 1):
        for lo in range(0, len(train), BATCH):
            idx = train[lo:lo + BATCH]
            g = focal_gradient(x[idx] @ w + b, y[idx], GAMMA)
            w -= LR * x[idx].T @ g
            b -= LR * g.sum(axis=0)
        rng.shuffle(train)
        print(f"epoch {epoch:2d}: held-out accuracy {save(epoch):.3f}")


if __name__ == "__main__":
    main()
