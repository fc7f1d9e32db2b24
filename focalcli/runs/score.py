"""`focal score`: focal loss beside cross-entropy, per example and reduced."""
from __future__ import annotations

import contextlib
import os

import numpy as np

from .. import engine
from ..errors import OptionError
from ..readers import Spool
from ..request import ScoreRequest


def run(req: ScoreRequest, *, stdout_rows=None, progress=None, passes=None,
        collector=None, outcomes: list | None = None) -> dict:
    """The summary document. ``stdout_rows``: a sink for per-example rows on
    the caller's screen (the CLI's --per-example, or another run's collector);
    ``progress``: a bar; ``passes``: Settings fields another run asks of the
    pass (track: each row's top-label correctness); ``collector``: a mergeable
    row sink that also works on a cluster (engine.score_pass); ``outcomes``:
    a list that receives ``(outcome, summarize)``, the pass's accumulators and
    the function that makes this document of them (or of them merged with
    others: the Monitor's batches)."""
    with Spool() as spool:
        return _run(req, stdout_rows, progress, spool, passes or {}, collector, outcomes)


def _run(req: ScoreRequest, stdout_rows, progress, spool, passes: dict, collector,
         outcomes) -> dict:
    from ..report import score_summary
    sc = req.scoring
    if req.plot:
        from ..plots import plot_format, require_matplotlib
        plot_format(req.plot)
        require_matplotlib()  # before the pass, not after it
    preset = engine.preset(sc.like, sc.mode, req.alpha, sc.normalize, sc.reduction)
    mode, spec, normalize = preset.mode, preset.alpha, preset.normalize
    table, target_file, sources, probs = engine.open_request(req, spool=spool)
    settings = engine.pass_settings(
        sc, preset, table, target_file, probs, (req.gamma,), [spec],
        req.conventions.settings(mode), gradient=req.gradient or bool(req.grad),
        losses=tuple(engine.losses(req.loss, req.gamma, mode, req.beta)),
        per_element=req.per_element and table.dense is None, **passes)
    if req.per_element and (mode != "sigmoid" or (table.dense is not None and not req.map)):
        raise OptionError("--per-element", "is for sigmoid elements: rows (N, K), or a "
                          "dense input's --map FILE.npy of its (N, C, d1, ...) elements")
    rows_wanted = stdout_rows is not None or req.output or req.top or req.ohem or req.ohem_ratio
    alpha = engine.row_alpha(spec, table, target_file, settings, mode, rows_wanted,
                             progress=progress)
    refuse = (req.predictions, req.targets)
    mining = engine.ohem(req.ohem, req.ohem_ratio, req.background, mode, table)
    with _row_sink(req.output, stdout_rows, refuse) as sink, \
            _map_sink(req.map, table, target_file, refuse,
                      req.per_element) as positions, \
            _grad_sink(req.grad, table, mode, probs, preset, refuse,
                       sc.drop_class) as grads:
        on_rows = sink.write if sink else None
        if mining is not None:
            on_rows = engine.both(on_rows,
                                  lambda chunk: mining.add(chunk, mining.background_index))
        outcome = engine.score_pass(table, target_file, settings, alpha, on_rows, req.top,
                                    rows_on_stdout=stdout_rows is not None,
                                    on_positions=positions.write if positions else None,
                                    on_gradient=grads.write if grads else None,
                                    collector=collector, progress=progress)
        def summarize(outcome):
            return score_summary(outcome, spec=spec, mode=mode, gamma=req.gamma,
                                 reduction=sc.reduction, normalize=normalize,
                                 sources=sources, classes=req.classes,
                                 settings=settings_doc(settings, spec, sc, normalize,
                                                       req.conventions))
        doc = summarize(outcome)
        if outcomes is not None:
            outcomes.append((outcome, summarize))
        if mining is not None:
            doc["ohem"] = mining.figures()
        if grads is not None:
            from ..reduction import Reduction
            grads.divide_by = Reduction(sc.reduction, normalize).denominator(outcome.acc) or 1.0
        if positions is not None and hasattr(positions, "pick"):
            positions.pick = [row["index"] for row in outcome.top]
    engine.warn_absent(spec, outcome, mode)
    if req.top:
        doc["top"] = outcome.top
    if req.plot:
        from ..plots import reliability_plot
        reliability_plot(doc, req.plot, refuse)
    return doc


def settings_doc(settings, spec, scoring, normalize, conventions) -> dict:
    from ..report import settings_doc
    return settings_doc(settings, spec=spec, reduction=scoring.reduction, normalize=normalize,
                        like=scoring.like, weight_col=conventions.weight_col)


def gate(doc: dict, fail_above) -> str | None:
    """--fail-above: why the gate failed (a value that does not exist, as
    when nothing was scored, fails too), or None when it passed."""
    if fail_above is None:
        return None
    if doc["n"] == 0 or doc["focal"] is None:
        return ("no example was scored, so there is no focal loss to compare with "
                f"{fail_above!r}")
    if doc["focal"] > fail_above:
        return f"{doc['reduction']} focal loss {doc['focal']!r} is above {fail_above!r}"
    return None


def _row_sink(output, stdout_rows, refuse):
    """Where per-example rows go: -o FILE, the caller's screen, or both."""
    from ..writers import OutputFile, StdoutRows, Tee
    sinks = []
    if output:
        sinks.append(OutputFile(output, refuse=refuse))
    if stdout_rows is not None:
        sinks.append(StdoutRows(stdout_rows))
    if not sinks:
        return contextlib.nullcontext()
    return sinks[0] if len(sinks) == 1 else Tee(sinks)


def _grad_sink(path, table, mode, probs, preset, refuse, drop_class=None):
    """--grad FILE.npy: the gradient with respect to the logits, in their shape."""
    if not path:
        return contextlib.nullcontext()
    dense = table.dense
    if probs or table.logprobs or preset.arithmetic != "exact" or drop_class is not None \
            or (dense is not None and dense.shift):
        raise OptionError("--grad", "writes the gradient of focal loss with respect to "
                          "logits: (N, K) rows, sigmoid or softmax, or a dense input's "
                          "(N, C, d1, ...)")
    if not str(path).lower().endswith(".npy"):
        raise OptionError("--grad", f"{path}: the gradient is written as .npy")
    if table.n_rows is None:
        raise OptionError("--grad", f"needs an input whose row count is known up front "
                          f"(.npy, .npz, .json, .parquet), not {table.fmt}")
    from ..writers import GradFile
    dtype = np.float32 if table.dtype == np.float32 else np.float64
    shape = dense.shape if dense is not None else (table.n_rows, table.width)
    return GradFile(path, shape, dtype, refuse, dense)


def _map_sink(path, table, target_file, refuse, per_element=False):
    """--map: per-position values of a dense input to a .npy, or a picture;
    with --per-element (sigmoid) each element's, in the predictions' shape."""
    if not path:
        return contextlib.nullcontext()
    if table.dense is None:
        raise OptionError("--map", f"needs dense predictions (N, C, d1, ...); {table.name} "
                          "has rows of scores")
    if per_element:
        if os.path.splitext(path)[1].lower() != ".npy":
            raise OptionError("--map", f"{path}: the elements' map is written as .npy")
        from ..writers import ElementMapFile
        return ElementMapFile(path, table.dense, refuse)
    if os.path.splitext(path)[1].lower() == ".npy":
        from ..writers import MapFile
        return MapFile(path, table.dense.target_shape, refuse)
    from ..plots import MapPlot
    names = [os.path.basename(n) for n in target_file.example_names] \
        if target_file is not None and target_file.example_names else None
    return MapPlot(path, table.dense, names, refuse)
