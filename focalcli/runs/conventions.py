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

ARITHMETIC = {"keras": "float32 arithmetic, probabilities clipped to [1e-7, 1 - 1e-7]"}
ALPHA_WORDS = {"kornia": "class 0 weighted 1 - alpha, the others alpha",
               "-1.0": "no alpha weighting"}


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


def _row(like, doc: dict) -> dict:
    alpha = ALPHA_WORDS.get(doc["alpha_spec"].split(":")[0], f"alpha {doc['alpha_spec']}"
                            + (" for positives, 1 - alpha for negatives"
                               if doc["mode"] == "sigmoid" else " for every class"
                               if "," not in doc["alpha_spec"] else " per class"))
    if doc["alpha_spec"].startswith("kornia"):
        alpha = f"alpha {doc['alpha_spec'].split(':')[1]}: " + ALPHA_WORDS["kornia"]
    what = (f"{doc['mode']}" + (" (an independent binary decision per class)"
                                 if doc["mode"] == "sigmoid" else "")
            + f"; {alpha}; {_divides(doc)}"
            + (f"; {ARITHMETIC[like]}" if like in ARITHMETIC else ""))
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
