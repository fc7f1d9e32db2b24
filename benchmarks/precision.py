"""The largest relative error of focal loss, CE and p_t against a 50-digit
mpmath reference, over the regimes of tests/test_core.py and random rows, in
float64 and float32. Prints; the tests assert the bounds (1e-12, 1e-5).

    python benchmarks/precision.py
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from test_core import REGIMES, mp_softmax  # noqa: E402

from focalcli import focal_loss_batch  # noqa: E402


def main():
    rng = np.random.default_rng(1)
    rows = [(np.array(z, float), t) for z, t in REGIMES.values()]
    rows += [(rng.normal(0, 4, 10), int(rng.integers(10))) for _ in range(200)]
    for dtype in (np.float64, np.float32):
        worst = 0.0
        for z, t in rows:
            z = z.astype(dtype)
            if not np.isfinite(z).all():
                continue
            got = focal_loss_batch(z[None, :], [t], 2.0)
            want = mp_softmax(z.astype(np.float64), t, 2.0)
            for g, w in zip((got.focal[0], got.ce[0], got.p_t[0]), map(float, want)):
                if w:
                    worst = max(worst, abs(g - w) / abs(w))
        print(f"{np.dtype(dtype).name}: largest relative error {worst:.2e} "
              f"over {len(rows)} rows (focal, ce, p_t; gamma 2)")


if __name__ == "__main__":
    main()
