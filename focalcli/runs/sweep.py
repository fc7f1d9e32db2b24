"""`focal sweep`: the same scoring over a grid of gamma and alpha (and of
temperature), reading the input once per temperature."""
from __future__ import annotations

import os

from .. import engine
from ..alpha import AlphaSpec, parse_alpha
from ..errors import OptionError
from ..lists import parse_list
from ..peers import resolve
from ..readers import Spool
from ..request import SweepRequest


def run(req: SweepRequest, *, progress=None) -> dict:
    from ..report import sweep_grid
    sc = req.scoring
    preset, gamma_list, specs = grid(sc, req.gammas, req.alphas)
    mode, normalize = preset.mode, preset.normalize
    out_fmt = grid_format(req.output) if req.output else None
    if req.plot:
        from ..plots import plot_format, require_matplotlib
        plot_format(req.plot)
        require_matplotlib()  # before the pass, not after it
    with Spool() as spool:
        table, target_file, sources, probs = engine.open_request(req, spool=spool)
        temps = parse_list(req.temperatures, "--temperatures") if req.temperatures \
            else [sc.temperature]
        parsed = req.conventions.settings(mode)
        relatives = engine.grid_losses(req.loss, gamma_list, mode, req.beta)
        outcomes = []
        for t in temps:  # a temperature changes every logit: one pass each
            settings = engine.pass_settings(
                sc, preset, table, target_file, probs, gamma_list, specs, parsed, t,
                gradient=req.gradient, bins=sc.bins if req.temperatures else 0, **relatives)
            outcomes.append(engine.score_pass(table, target_file, settings,
                                              progress=progress))
    for spec in specs:
        engine.warn_absent(spec, outcomes[0], mode)
    doc = sweep_grid(outcomes, specs=specs, gammas=gamma_list, mode=mode,
                     reduction=sc.reduction, normalize=normalize, sources=sources,
                     temperatures=temps)
    refuse = (req.predictions, req.targets)
    if req.plot:
        from ..plots import sweep_plot
        sweep_plot(doc, req.plot, refuse=refuse)
    if req.output:
        from ..views import text
        from ..writers import write_text_atomic
        write_text_atomic(req.output, text(doc, "sweep", out_fmt), refuse)
    return doc


def grid(scoring, gammas: str, alphas: str | None):
    """The preset in force, the gammas and the alpha specs of a grid."""
    sc = scoring
    preset = engine.preset(sc.like, sc.mode, None, sc.normalize, sc.reduction)
    gamma_list = parse_list(gammas, "--gammas", minimum=0.0)
    specs = alpha_items(alphas, preset.mode) if alphas else [preset.alpha]
    if sc.like:
        specs = [resolve(sc.like, preset.mode,
                         s.label() if s.kind != "kornia" else repr(s.value), None).alpha
                 for s in specs]
    return preset, gamma_list, specs


def grid_format(path) -> str:
    ext = os.path.splitext(str(path))[1].lower()
    if ext not in (".json", ".csv"):
        raise OptionError("--output", f"{path}: the grid is written as .json or .csv")
    return ext[1:]


def alpha_items(text: str, mode: str) -> list[AlphaSpec]:
    specs, seen = [], set()
    for item in text.split(","):
        item = item.strip()
        if not item:
            raise OptionError("--alphas", f"empty item in {text!r}")
        if "/" in item:
            found = [parse_alpha(item.replace("/", ","), mode, "--alphas")]
        elif item.split(":")[0] in ("balanced", "inverse-freq", "effective"):
            found = [parse_alpha(item, mode, "--alphas")]
        else:
            found = [parse_alpha(repr(v), mode, "--alphas")
                     for v in parse_list(item, "--alphas")]
        for spec in found:
            if spec.label() not in seen:
                seen.add(spec.label())
                specs.append(spec)
    return specs
