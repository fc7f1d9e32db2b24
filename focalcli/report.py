"""The documents `focal` prints: plain dicts built from accumulators (no I/O).

Their keys are the JSON keys of the contract (README, "Summary JSON"); the
tables, CSVs and JSON text are views of the same dicts (views.py, render.py),
so every output shows the same numbers.
"""
from __future__ import annotations

import numpy as np

from . import core
from .alpha import AlphaSpec, alpha_in_force
from .errors import InputError
from .scoring import Outcome, Settings
from .summary import figures, gradient_figures


def outcome_alpha(spec: AlphaSpec, outcome: Outcome, mode: str):
    """The alpha in force for a scored outcome (strategies use its counts)."""
    return alpha_in_force(spec, outcome.n_classes, mode, outcome.acc)


def absent_classes(outcome: Outcome, mode: str) -> list[str]:
    counts = outcome.acc.positives()
    return [outcome.classes[i] for i in np.flatnonzero(counts == 0)]


def cell_figures(outcome: Outcome, gamma_index: int, alpha, reduction, normalize,
          classes: str = "all"):
    try:
        return figures(outcome.acc, gamma_index, alpha, reduction=reduction,
                       normalize=normalize, classes=classes)
    except OverflowError as err:
        raise InputError(f"scores too large: {err}", outcome.source) from None


def count_fields(outcome: Outcome, mode: str) -> dict:
    acc = outcome.acc
    out = {"n": acc.examples - acc.ignored, "ignored": acc.ignored,
           "classes": outcome.n_classes, "class_names": outcome.classes, "mode": mode}
    if outcome.dense is not None:  # every position is a scored unit
        out["examples"] = outcome.dense.examples
        out["positions"] = outcome.dense.positions
    if mode == "sigmoid":
        out["elements"] = acc.scored()
        out["positives"] = int(acc.positives().sum())
        out["ignored_elements"] = acc.ignored_elements
    return out


TABLE_CLASSES = 20     # rows of the per-class table unless --classes says otherwise
FULL_JSON_CLASSES = 1000  # beyond this, JSON lists only the classes that have examples


def heaviest(rows: list[dict], n: int) -> list[dict]:
    """The n classes (with examples) carrying the most focal loss, heaviest first."""
    ranked = [r for r in rows if r["count"]]
    ranked.sort(key=lambda r: (-(r["share"] or 0.0), r["index"]))
    return ranked[:n]


def pick_classes(rows: list[dict], choice) -> list[dict]:
    """``--classes``: 'all' lists every class; N the N heaviest; by default
    every class, or every class with examples when there are over 1,000."""
    if choice == "all":
        return rows
    if choice is None:
        return rows if len(rows) <= FULL_JSON_CLASSES else [r for r in rows if r["count"]]
    return heaviest(rows, choice)


def table_classes(doc: dict, choice) -> list[dict]:
    """The per-class rows a table shows: all of them when there are few,
    the TABLE_CLASSES heaviest otherwise (or as --classes says)."""
    rows = doc["per_class"]
    if choice is None and len(rows) > TABLE_CLASSES:
        return heaviest(rows, TABLE_CLASSES)
    return rows


def settings_doc(s: Settings, *, spec: AlphaSpec, reduction: str, normalize: str | None,
                 like: str | None, weight_col: str | None = None) -> dict:
    """Every option that changes a number, as the summary records it, so
    that compare can refuse a saved baseline scored under other settings.
    A file of weights is recorded by a digest of its values: the same
    weights under another name are the same setting."""
    weights = s.weights
    if isinstance(weights, np.ndarray):
        import hashlib  # here: 4 ms at every start, for the runs that weigh by a file
        digest = hashlib.sha256(np.ascontiguousarray(weights, np.float64).tobytes())
        weights = f"{weights.size} weights, sha256 {digest.hexdigest()[:16]}"
    elif weights is not None:
        weights = float(weights)
    elif weight_col is not None:
        weights = f"column {weight_col}"
    return {"gamma": s.gammas[0], "alpha": spec.label(), "mode": s.mode, "probs": s.probs,
            "logprobs": s.logprobs, "ignore_index": s.ignore_index, "reduction": reduction,
            "normalize": normalize, "like": like, "weights": weights,
            "class_weight": None if s.class_weight is None else list(s.class_weight),
            "pos_weight": None if s.pos_weight is None else list(s.pos_weight),
            "label_smoothing": s.label_smoothing, "soft_targets": s.soft,
            "temperature": s.temperature}


def score_summary(outcome: Outcome, *, spec: AlphaSpec, mode: str, gamma: float,
                  reduction: str, normalize: str | None, sources: dict,
                  classes=None, settings: dict | None = None) -> dict:
    alpha = outcome_alpha(spec, outcome, mode)
    listed = "all" if classes == "all" or outcome.n_classes <= FULL_JSON_CLASSES \
        else "present"
    fig = cell_figures(outcome, 0, alpha, reduction, normalize, listed)
    for row in fig.per_class:
        row["class"] = outcome.classes[row["index"]]
    present = int(np.count_nonzero(outcome.acc.class_counts()))
    doc = {**sources, **count_fields(outcome, mode),
           "unit": "position" if outcome.dense is not None else
                   "token" if outcome.tokens else
                   "element" if mode == "sigmoid" else "example",
           "gamma": gamma,
           "alpha": alpha.tolist() if isinstance(alpha, np.ndarray) else alpha,
           "alpha_spec": spec.label(),
           "reduction": reduction, "normalize": normalize,
           **({"settings": settings} if settings is not None else {}),
           "focal": fig.focal, "ce": fig.ce, "ratio": fig.ratio,
           "focal_sum": fig.focal_sum, "ce_sum": fig.ce_sum,
           "easy_share": fig.easy_share,
           "effective_examples": {"focal": fig.effective_focal, "ce": fig.effective_ce},
           "classes_present": present,
           "per_class": pick_classes([{"class": r.pop("class"), **r} for r in fig.per_class],
                                     classes),
           "buckets": fig.buckets}
    doc["prior"] = prior_rows(outcome, mode, [r["index"] for r in doc["per_class"]])
    if outcome.acc.calibration is not None:
        doc["calibration"] = outcome.acc.calibration.figures()
    losses = loss_rows(outcome.acc, fig)
    if losses:
        doc["losses"] = losses
    gradient = gradient_figures(outcome.acc, alpha)
    if gradient is not None:
        for row in gradient["per_class"]:
            row["class"] = outcome.classes[row["index"]]
        doc["gradient"] = gradient
    return doc


def loss_rows(acc, fig, at: int | None = None) -> list[dict]:
    """The relatives (--loss), reduced as focal loss is (over its denominator),
    but focal Tversky, a ratio of sums; a sigmoid relative's positive and
    negative parts apart. ``at``: a sweep's gamma index (its keys "loss:X@i")."""
    from . import relatives
    scale = acc.group_scale()[:, None]
    rows = []
    for key, sums in acc.extra.items():
        name, _, index = key[5:].partition("@")
        if not key.startswith("loss:") or index != ("" if at is None else str(at)):
            continue
        if name.startswith("focal-tversky:"):
            param = tuple(float(v) for v in name.partition(":")[2].split(","))
            row = {"name": name, "value": relatives.tversky(acc, param)}
        else:
            row = {"name": name, "value": float((scale * sums).sum()) / fig.denominator
                   if fig.denominator else None}
            parts = relatives.parts(acc, key, scale, fig.denominator)
            if parts is not None:
                row.update(parts)
        row["ratio_to_ce"] = row["value"] / fig.ce if row["value"] is not None and \
            fig.ce else None
        rows.append(row)
    return rows


def cell_losses(acc, fig, gi: int) -> list[dict]:
    """A grid cell's relatives at its gamma (index ``gi``), every relative of
    the pass in every cell: null where one has no value (FL* at gamma 0)."""
    names = dict.fromkeys(key[5:].partition("@")[0] for key in acc.extra
                          if key.startswith("loss:"))
    found = {r["name"]: r["value"] for r in loss_rows(acc, fig, gi)}
    return [{"name": n, "value": found.get(n)} for n in names]


def prior_rows(outcome: Outcome, mode: str, indices: list[int]) -> list[dict]:
    """Per class: its rate among the scored targets, the model's mean
    probability for it, and the bias that predicts that rate at zero
    evidence (RetinaNet's prior initialisation: sigmoid ``log(r / (1 - r))``,
    softmax ``log(r)``; null where the rate is 0, or 1 under sigmoid)."""
    acc = outcome.acc
    counts = acc.class_counts()
    if mode == "sigmoid":  # each class its own binary problem over its elements
        hits, over = acc.positives(), counts
    else:
        hits, over = counts, np.full(counts.shape, counts.sum())
    rows = []
    for c in indices:
        n = float(over[c])
        rate = float(hits[c]) / n if n else None
        mean = min(max(float(acc.prob_sum[c]) / n, 0.0), 1.0) \
            if n and acc.prob_sum is not None else None  # summed in float32: an ulp over 1
        if rate is None or rate == 0 or (mode == "sigmoid" and rate == 1):
            bias = None
        else:
            bias = float(np.log(rate / (1.0 - rate)) if mode == "sigmoid" else np.log(rate))
        rows.append({"class": outcome.classes[c], "index": c, "rate": rate,
                     "mean_probability": mean, "bias": bias})
    return rows


def sweep_grid(outcomes, *, specs: list[AlphaSpec], gammas, mode: str,
               reduction: str, normalize: str | None, sources: dict,
               temperatures=(1.0,)) -> dict:
    """The grid of cells; ``outcomes`` one pass per temperature (or one
    outcome: a single pass at temperature 1)."""
    if isinstance(outcomes, Outcome):
        outcomes = [outcomes]
    grid = []
    for temperature, outcome in zip(temperatures, outcomes):
        calibration = outcome.acc.calibration.figures() \
            if outcome.acc.calibration is not None else None
        grid += _cells(outcome, specs, gammas, mode, reduction, normalize, temperature,
                       calibration)
    outcome = outcomes[0]
    doc = {**sources, **count_fields(outcome, mode), "reduction": reduction,
           "normalize": normalize, "gammas": list(gammas),
           "alphas": [s.label() for s in specs], "grid": grid}
    if len(temperatures) > 1 or temperatures[0] != 1.0:
        doc["temperatures"] = list(temperatures)
    return doc


def _cells(outcome, specs, gammas, mode, reduction, normalize, temperature, calibration):
    grid = []
    for gi, gamma in enumerate(gammas):
        for spec in specs:
            alpha = outcome_alpha(spec, outcome, mode)
            fig = cell_figures(outcome, gi, alpha, reduction, normalize, "none")
            gradient = gradient_figures(outcome.acc, alpha, gi)
            cell = {}
            if temperature != 1.0 or calibration is not None:
                cell["temperature"] = temperature
            if calibration is not None:
                cell["ece"] = calibration["ece"]
            if gradient is not None:
                cell["gradient_easy_share"] = gradient["easy_share_focal"]
                cell["gradient_easy_share_ce"] = gradient["easy_share_ce"]
            losses = cell_losses(outcome.acc, fig, gi)
            if losses:
                cell["losses"] = losses
            grid.append({
                "gamma": gamma,
                "alpha": alpha.tolist() if isinstance(alpha, np.ndarray) else alpha,
                "alpha_spec": spec.label(),
                "focal": fig.focal, "ce": fig.ce, "ratio": fig.ratio,
                "easy_share": fig.easy_share,
                "effective_examples": fig.effective_focal,
                "effective_examples_ce": fig.effective_ce,
                **cell,
            })
    return grid


def curve_rows(gammas, pts, alpha: float) -> dict:
    """CE and focal loss at given p_t, through the same core as everything else."""
    pt = np.asarray(pts, dtype=np.float64)
    ce, q = core.parts_from_pt(pt, 1.0 - pt)
    rows = []
    for i, p in enumerate(pts):
        for gamma in gammas:
            focal = alpha * float(core.modulate(ce[i:i + 1], q[i:i + 1], gamma)[0])
            rows.append({"p_t": p, "gamma": gamma, "ce": float(ce[i]), "focal": focal,
                         "factor": float(ce[i]) / focal if focal else None})
    return {"alpha": alpha, "gammas": list(gammas), "p_t": list(pts), "rows": rows}
