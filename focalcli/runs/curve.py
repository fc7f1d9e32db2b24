"""`focal curve`: focal loss against p_t, with no input."""
from __future__ import annotations

from ..errors import OptionError
from ..lists import parse_list
from ..request import CurveRequest


def run(req: CurveRequest) -> dict:
    from ..report import curve_rows
    gamma_list = parse_list(req.gammas, "--gammas", minimum=0.0)
    pt_list = parse_list(req.pt, "--pt")
    if any(not 0 < p <= 1 for p in pt_list):
        raise OptionError("--pt", "every p_t must be in (0, 1]")
    doc = curve_rows(gamma_list, pt_list, req.alpha)
    if req.plot:
        from ..plots import curve_plot
        dense = [i / 400 for i in range(1, 401)]
        curve_plot(curve_rows(gamma_list, dense, req.alpha), req.plot)
    return doc
