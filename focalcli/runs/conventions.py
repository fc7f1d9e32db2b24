"""`focal conventions`: the same predictions under focal's own convention and
every --like preset that takes them, side by side, with what sets each
apart: the answer to "why does my number differ from kornia's". Each row is
the run of `focal score --like X` (one pass each), so each `focal` is that
command's."""
from __future__ import annotations

import dataclasses

from ..errors import FocalError
from ..peers import PEERS
from ..reduction import reduction_words
from ..request import ConventionsRequest, ScoreRequest
from . import score

# what else sets a preset apart, beside its mode, alpha and denominator
BESIDES = {"keras": "float32 arithmetic, probabilities clipped to [1e-7, 1 - 1e-7]",
           "mmpretrain": "sample weights multiply the loss, not the mean's denominator"}


def run(req: ConventionsRequest, *, progress=None) -> dict:
    rows, refused, first = [], [], None
    for like in (None, *PEERS):
        given = {f.name: getattr(req, f.name) for f in dataclasses.fields(ConventionsRequest)}
        given["scoring"] = dataclasses.replace(req.scoring, like=like, bins=0)
        one = ScoreRequest(**given)
        try:
            doc = score.run(one, progress=progress)
        except FocalError as err:
            if like is None:
                raise  # focal's own refuses: the input is bad, whatever the preset
            refused.append({"like": like, "why": " ".join(str(err).split())})
            continue
        first = first or doc
        rows.append(_row(like, doc))
    return {"predictions": first["predictions"], "targets": first["targets"],
            "n": first["n"], "classes": first["classes"], "gamma": req.gamma,
            "conventions": rows, "refused": refused}


def _alpha_words(doc: dict) -> str:
    """What the alpha in force means, in words."""
    spec = doc["alpha_spec"]
    if spec.startswith("kornia:"):
        return f"alpha {spec.split(':')[1]}: class 0 weighted 1 - alpha, the others alpha"
    if spec == "-1.0":
        return "no alpha weighting"
    if doc["mode"] == "sigmoid":
        return f"alpha {spec} for positives, 1 - alpha for negatives"
    return f"alpha {spec} " + ("per class" if "," in spec else "for every class")


def _row(like, doc: dict) -> dict:
    what = (f"{doc['mode']}" + (" (an independent binary decision per class)"
                                 if doc["mode"] == "sigmoid" else "")
            + f"; {_alpha_words(doc)}; {_divides(doc)}"
            + (f"; {BESIDES[like]}" if like in BESIDES else ""))
    return {"like": like, "focal": doc["focal"], "ce": doc["ce"], "mode": doc["mode"],
            "alpha_spec": doc["alpha_spec"], "reduction": reduction_words(doc),
            "unit": doc["unit"], "n": doc["n"], "differs": what}


def _divides(doc: dict) -> str:
    """What the reduced number is over, in words, with the counts."""
    words = reduction_words(doc)
    if words == "mean over N*K cells":
        return f"the mean over N*K cells ({doc['n']:,} x {doc['classes']})"
    if words.startswith("sum"):
        return f"the {words}"
    count = doc.get("elements") if doc["mode"] == "sigmoid" else doc["n"]
    unit = "element" if doc["mode"] == "sigmoid" else doc["unit"]
    return f"the mean over {count:,} {unit}s"
