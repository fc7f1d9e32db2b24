"""`focal explore`: the explorer page on the user's own predictions, one
self-contained HTML file written from one pass over the input."""
from __future__ import annotations

import dataclasses
import os

from .. import engine
from ..readers import Spool
from ..request import ExploreRequest
from .sweep import grid


def run(req: ExploreRequest, *, progress=None) -> dict:
    """Writes the page to ``req.output``; returns the page's data. With
    ``checkpoints``, PREDICTIONS name one file per checkpoint (ordered as
    track orders them): a page of data each, and a slider between them."""
    from ..explorer import html
    from ..writers import write_text_atomic
    if req.checkpoints:
        from .track import checkpoint_files, step_of
        files = checkpoint_files(req.predictions)
        pages = []
        for i, path in enumerate(files):
            page = _page(dataclasses.replace(req, predictions=path), progress)
            page.update(checkpoint=os.path.basename(path), step=step_of(path, i))
            pages.append(page)
        doc = {"predictions": str(req.predictions), "checkpoints": pages}
        refuse = (*files, req.targets)
    else:
        doc, refuse = _page(req, progress), (req.predictions, req.targets)
    write_text_atomic(req.output, html(doc), refuse)
    return doc


def _page(req: ExploreRequest, progress) -> dict:
    """The page's data for one input, from one pass."""
    from ..explorer import HIST_BINS, PER_CLASS_MAX, Hardest, page_data
    sc = req.scoring
    preset, gamma_list, specs = grid(sc, req.gammas, req.alphas)
    mode, normalize = preset.mode, preset.normalize
    with Spool() as spool:
        table, target_file, sources, probs = engine.open_request(req, spool=spool)
        settings = engine.pass_settings(
            sc, preset, table, target_file, probs, gamma_list, specs,
            req.conventions.settings(mode), pt_bins=HIST_BINS,
            **engine.grid_losses(req.loss, gamma_list, mode, req.beta))
        # per class only where alphas differ between classes and the classes are few
        per_class = any(s.kind != "number" for s in specs) and not table.logprobs and \
            (table.width or 0) <= PER_CLASS_MAX
        hardest = Hardest(per_class)
        outcome = engine.score_pass(table, target_file, settings, collector=hardest,
                                    progress=progress)
    for spec in specs:
        engine.warn_absent(spec, outcome, mode)
    return page_data(outcome, specs=specs, gammas=gamma_list, mode=mode,
                     reduction=sc.reduction, normalize=normalize, sources=sources,
                     hardest=hardest, default_gamma=req.gamma)
