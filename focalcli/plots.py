"""The pictures: matplotlib figures of the documents (imported lazily, and
the only module that draws), each written atomically."""
from __future__ import annotations

import contextlib
import os

from .errors import OptionError

def require_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise OptionError("--plot", "plotting needs matplotlib: pip install "
                          "'focalcli[plot]'") from None


def _pyplot():
    require_matplotlib()
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot_format(path: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    if ext not in (".png", ".svg"):
        raise OptionError("--plot", f"{path}: use a .png or .svg file")
    return ext[1:]


def save_figure(fig, path: str, refuse=()):
    from .writers import AtomicFile
    with AtomicFile(path, refuse) as f:
        fig.savefig(f.file, format=plot_format(path), dpi=110, bbox_inches="tight")


def sweep_plot(doc: dict, path: str, refuse=()):
    plot_format(path)
    plt = _pyplot()
    import numpy as np
    gammas, alphas = doc["gammas"], doc["alphas"]
    t0 = doc.get("temperatures", [1.0])[0]
    cells = {(c["gamma"], c["alpha_spec"]): c for c in doc["grid"]
             if c.get("temperature", 1.0) == t0}
    grid = np.array([[cells[(g, a)]["focal"] for a in alphas] for g in gammas],
                    dtype=np.float64)  # None (nothing scored) is NaN: an empty cell
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
    im = ax1.imshow(grid, aspect="auto", cmap="viridis", origin="lower")
    ax1.set_xticks(range(len(alphas)), alphas)
    ax1.set_yticks(range(len(gammas)), [f"{g:g}" for g in gammas])
    ax1.set_xlabel("alpha")
    ax1.set_ylabel("gamma")
    ax1.set_title(f"{doc['reduction']} focal loss")
    fig.colorbar(im, ax=ax1)
    first = alphas[0]
    easy = [cells[(g, first)]["easy_share"] or 0 for g in gammas]
    eff = [cells[(g, first)]["effective_examples"] or 0 for g in gammas]
    ax2.plot(gammas, easy, "o-", color="tab:blue", label="easy share of the loss")
    if "gradient_easy_share" in cells[(gammas[0], first)]:
        ax2.plot(gammas, [cells[(g, first)]["gradient_easy_share"] or 0 for g in gammas],
                 "^-", color="tab:green", label="easy share of the gradient")
        ax2.legend(loc="upper right")
    ax2.set_xlabel("gamma")
    ax2.set_ylabel("share of focal loss from easy examples", color="tab:blue")
    ax2.set_ylim(0, 1)
    ax3 = ax2.twinx()
    ax3.plot(gammas, eff, "s--", color="tab:red", label="effective examples")
    ax3.set_ylabel("effective examples the loss rests on", color="tab:red")
    ax3.set_yscale("log")
    ax2.set_title(f"make-up of the loss (alpha {first})")
    fig.tight_layout()
    save_figure(fig, path, refuse)
    plt.close(fig)


def curve_plot(doc: dict, path: str):
    plot_format(path)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    by_gamma: dict = {}
    for r in doc["rows"]:
        by_gamma.setdefault(r["gamma"], []).append((r["p_t"], r["focal"]))
    for g, pts in by_gamma.items():
        xs, ys = zip(*pts)
        ax.plot(xs, ys, label=("CE (gamma = 0)" if g == 0 else f"gamma = {g:g}"))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 5)
    ax.set_xlabel("probability of ground truth class (p_t)")
    ax.set_ylabel("loss")
    ax.set_title(f"Focal loss against p_t (alpha {doc['alpha']:g}), after Lin et al. 2017")
    ax.legend()
    ax.grid(alpha=0.3)
    save_figure(fig, path)
    plt.close(fig)


def reliability_plot(doc: dict, path: str, refuse=()):
    """The reliability diagram of the summary's calibration: accuracy per
    confidence bin against the diagonal, the bins' counts below."""
    cal = doc.get("calibration")
    if not cal:
        raise OptionError("--plot", "draws the reliability diagram, and this input has no "
                          "calibration (--bins 0, or log-probabilities)")
    plt = _pyplot()
    fig, (ax, hist) = plt.subplots(2, 1, figsize=(5.5, 6), sharex=True,
                                   gridspec_kw={"height_ratios": [3, 1]})
    bins = [b for b in cal["bins"] if b["high"] > b["low"]]  # the c = 1 bin is drawn in the last
    last = cal["bins"][-1]
    lows = [b["low"] for b in bins]
    widths = [b["high"] - b["low"] for b in bins]
    counts = [b["count"] for b in bins]
    counts[-1] += last["count"] if last["high"] == last["low"] else 0
    acc = [b["accuracy"] or 0.0 for b in bins]
    conf = [b["confidence"] or 0.0 for b in bins]
    ax.bar(lows, acc, widths, align="edge", color="#3b7dd8", edgecolor="white",
           label="accuracy")
    seen = [i for i, c in enumerate(counts) if c]  # empty bins have no gap to draw
    ax.bar([lows[i] for i in seen], [abs(conf[i] - acc[i]) for i in seen],
           [widths[i] for i in seen], bottom=[min(conf[i], acc[i]) for i in seen],
           align="edge", fill=False, hatch="//", edgecolor="#d8553b",
           label="gap to mean confidence")
    ax.plot([0, 1], [0, 1], color="#444", lw=1, ls="--", label="perfect calibration")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy")
    what = "top label" if doc.get("mode") != "sigmoid" else "per element"
    ax.set_title(f"Reliability ({what}, {cal['n_bins']} bins): ECE {cal['ece']:.4f}, "
                 f"MCE {cal['mce']:.4f}")
    ax.legend(loc="upper left")
    hist.bar(lows, counts, widths, align="edge", color="#888", edgecolor="white")
    hist.set_xlabel("confidence")
    hist.set_ylabel("count")
    save_figure(fig, path, refuse)
    plt.close(fig)


def track_plot(doc: dict, path: str, refuse=()):
    """focal track --plot: the series against the checkpoints' steps."""
    plot_format(path)
    plt = _pyplot()
    points = doc["checkpoints"]
    steps = [c["step"] for c in points]

    def series(key):
        return [float("nan") if c[key] is None else c[key] for c in points]
    fig, axes = plt.subplots(1, 4, figsize=(15, 3.6))
    panels = [("loss", [("focal", "focal loss"), ("ce", "cross-entropy")]),
              ("easy share of focal loss", [("easy_share", None)]),
              (f"hard/easy ratio (p_t <= {doc['easy_threshold']:g})",
               [("hard_easy_ratio", None)]),
              ("ECE of the top label", [("ece", None)])]
    for ax, (title, keys) in zip(axes, panels):
        for key, label in keys:
            ax.plot(steps, series(key), marker="o", label=label)
        if len(keys) > 1:
            ax.legend()
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("checkpoint step")
    fig.tight_layout()
    save_figure(fig, path, refuse)
    plt.close(fig)


def data_map(rows: dict, path: str, refuse=()):
    """focal track --data-map: each example by its mean p_t (confidence)
    against its spread (variability), coloured by correctness, as dataset
    cartography draws it (Swayamdipta et al., 2020)."""
    plot_format(path)
    plt = _pyplot()
    import numpy as np
    seen = ~np.isnan(rows["confidence"])
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    dots = ax.scatter(rows["variability"][seen], rows["confidence"][seen], s=8,
                      c=rows["correctness"][seen], cmap="coolwarm_r", vmin=0, vmax=1)
    fig.colorbar(dots, ax=ax, label="correctness")
    ax.set_xlabel("variability (std of p_t over the checkpoints)")
    ax.set_ylabel("confidence (mean p_t)")
    ax.set_ylim(0, 1)
    ax.set_xlim(0, max(0.5, float(np.nanmax(rows["variability"])) if seen.any() else 0.5))
    for x, y, words in ((0.02, 0.9, "easy to learn"), (0.02, 0.08, "hard to learn"),
                        (0.32, 0.5, "ambiguous")):
        ax.text(x, y, words, fontsize=9,
                color="#444")
    ax.set_title("data map")
    save_figure(fig, path, refuse)
    plt.close(fig)


class MapPlot:
    """``--map FILE.png``: the focal-loss map of a few examples beside their
    CE maps. The per-position values go to two temporary .npy maps beside
    FILE while scoring; the drawing reads back only the examples it shows."""

    def __init__(self, path: str, dense, names=None, refuse=()):
        import tempfile
        from .writers import MapFile
        plot_format(path)
        require_matplotlib()
        self.path, self.dense, self.names, self.refuse = path, dense, names, refuse
        self.pick: list[int] = []  # the examples to draw (--top); default the first four
        folder = os.path.dirname(os.path.abspath(path))
        self.tmp = []
        for _ in range(2):
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".focal-map-", suffix=".npy")
            os.close(fd)
            self.tmp.append(tmp)
        self.maps = [MapFile(t, dense.target_shape, key=k) for t, k in
                     zip(self.tmp, ("focal", "ce"))]

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        try:
            for m in self.maps:
                m.commit() if kind is None else m.abort()
            if kind is None:
                self._draw()
        finally:
            for t in self.tmp:
                with contextlib.suppress(OSError):
                    os.unlink(t)

    def write(self, chunk):
        for m in self.maps:
            m.write(chunk)

    def _draw(self):
        import numpy as np
        plt = _pyplot()
        focal, ce = (np.load(t, mmap_mode="r") for t in self.tmp)
        show = (self.pick or list(range(self.dense.examples)))[:4]
        fig, axes = plt.subplots(2, len(show), figsize=(3.2 * len(show), 6.2), squeeze=False)
        for col, e in enumerate(show):
            label = self.names[e] if self.names else f"index {e}"  # as the rows count
            for row, (values, what) in enumerate(((focal, "focal loss"), (ce, "CE"))):
                image = np.asarray(values[e], dtype=np.float64)
                image = image.reshape(image.shape[0], -1) if image.ndim != 2 else image
                ax = axes[row][col]
                shown = ax.imshow(image, cmap="magma")
                ax.set_title(f"{label}: {what}", fontsize=9)
                ax.set_xticks([])
                ax.set_yticks([])
                fig.colorbar(shown, ax=ax, fraction=0.046)
        fig.suptitle("where the loss lives (per position)")
        fig.tight_layout()
        save_figure(fig, self.path, self.refuse)
        plt.close(fig)
