"""`focal compare`: did the candidate get worse than the baseline, where,
and is it more than noise? Both sides scored through the same engine,
paired by row or id; the bootstrap resamples each reduction's own parts."""
from __future__ import annotations

from .. import engine
from ..errors import InputError
from ..readers import Spool
from ..request import HERE, CompareRequest


def name_of(value, default: str) -> str:
    """A side's name in messages: its path as shown, or ``default`` for an
    array in memory."""
    from ..readers import display_name
    from ..readers.memory import in_memory
    return default if in_memory(value) else display_name(str(value))


def run(req: CompareRequest, *, progress=None) -> dict:
    """The compare document, gates included (``doc["gates"]["passed"]``)."""
    with Spool() as spool:
        return _run(req, progress, spool)


def _run(req: CompareRequest, progress, spool) -> dict:
    from .. import comparison as cmp
    from ..reduction import Reduction
    from ..report import score_summary
    from .score import settings_doc
    sc = req.scoring
    preset = engine.preset(sc.like, sc.mode, req.alpha, sc.normalize, sc.reduction)
    mode, spec, normalize = preset.mode, preset.alpha, preset.normalize
    base_name = name_of(req.baseline, "<baseline>") if not isinstance(req.baseline, dict) \
        else str(req.baseline.get("predictions") or "<baseline>")
    cand_name = name_of(req.candidate, "<candidate>")
    # a summary: saved by `focal score --format json`, or (the Python API) a score report's dict
    saved = req.baseline if isinstance(req.baseline, dict) else \
        cmp.saved_summary(req.baseline) if isinstance(req.baseline, str) else None
    parsed = req.conventions.settings(mode)

    def side(path, name, on_rows, only=None, reserve=None, classes=None):
        table, target_file, sources = engine.open_inputs(
            path, req.targets, req.reading, req.conventions, HERE, spool=spool,
            names=(name, "<targets>"))
        if classes is not None:
            cmp.check_columns(table.classes, classes, name, base_name)
        if reserve is not None:  # rows of one file, as many as it says
            reserve(table.n_rows if table.dense is None and not table.logprobs and
                    getattr(table, "shards", None) is None else None)
        settings = engine.pass_settings(sc, preset, table, target_file,
                                        sc.probs or table.probs, (req.gamma,), [spec], parsed,
                                        row_sums=on_rows is not None, only_ids=only)
        row_alpha = engine.row_alpha(spec, table, target_file, settings, mode,
                                     on_rows is not None, progress=progress)
        outcome = engine.score_pass(table, target_file, settings, row_alpha, on_rows,
                                    progress=progress)
        sources["like"] = sc.like
        return outcome, score_summary(outcome, spec=spec, mode=mode, gamma=req.gamma,
                                      reduction=sc.reduction, normalize=normalize,
                                      sources=sources, classes="all",
                                      settings=settings_doc(settings, spec, sc, normalize,
                                                            req.conventions))

    pairing = None
    if saved is None:
        pairing = cmp.Pairing(intersect=req.ids == "intersect", threshold=req.threshold,
                              top=req.top, names=(base_name, cand_name),
                              reduction=Reduction(sc.reduction, normalize))
        base_outcome, base_doc = side(req.baseline, base_name, pairing.add_baseline,
                                      reserve=pairing.reserve)
        if mode == "softmax" and base_outcome.dense is None:
            pairing.enable_classes(base_outcome.n_classes)
        # --ids intersect: each side's figures are over the shared ids only
        shared = pairing.ids if pairing.intersect and pairing.has_ids else None
        cand_outcome, cand_doc = side(req.candidate, cand_name, pairing.add_candidate, shared,
                                      classes=base_outcome.classes)
        pairing.finish()
        if pairing.by_id and pairing.dropped and not pairing.seen.all():
            _, base_doc = side(req.baseline, base_name, None, pairing.shared_ids())
    else:
        cand_outcome, cand_doc = side(req.candidate, cand_name, None)
        cmp.check_summary(saved, base_name, cand_doc)
        base_doc = saved
    if (base_doc["classes"], base_doc["class_names"]) != \
            (cand_doc["classes"], cand_doc["class_names"]):
        raise InputError(f"has {cand_doc['classes']} classes "
                         f"{cand_doc['class_names'][:5]}... where {base_name} has "
                         f"{base_doc['classes']} {base_doc['class_names'][:5]}...", cand_name)
    doc = cmp.build(base_doc, cand_doc, pairing, resamples=req.bootstrap, seed=req.seed,
                    level=req.level)
    doc["gates"] = cmp.gates(doc, max_increase=req.max_increase,
                             max_rel_increase=req.max_rel_increase, per_class=req.per_class,
                             metric=req.metric, significant=req.significant)
    return doc
