"""The JSON Schemas (draft 2020-12) of the documents `--format json` prints:
what a CI job parsing them may rely on. Keys the contract names are required
with their types and ranges, ``null`` where a value can be missing (nothing
scored, one side of a ratio empty); further keys may be added in later
versions (``additionalProperties`` stays open), never removed or retyped.
`focal schema KIND` prints one; the test suite validates every document it
makes against its schema."""
from __future__ import annotations

from .peers import PEERS

DRAFT = "https://json-schema.org/draft/2020-12/schema"
KINDS = ("score", "sweep", "compare", "curve", "conventions", "track")

# -- building blocks
INT0 = {"type": "integer", "minimum": 0}
NUM = {"type": "number"}
NUM0 = {"type": "number", "minimum": 0}
SHARE = {"type": "number", "minimum": 0, "maximum": 1}


def nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


def obj(required: dict, optional: dict | None = None, **extra) -> dict:
    return {"type": "object", "required": list(required),
            "properties": {**required, **(optional or {})}, **extra}


def array(items: dict, **extra) -> dict:
    return {"type": "array", "items": items, **extra}


TEXT_OR_NULL = {"type": ["string", "null"]}
MODE = {"enum": ["softmax", "sigmoid"]}
REDUCTION = {"enum": ["mean", "sum"]}
NORMALIZE = {"enum": [None, "positives", "classes"]}
ALPHA = {"anyOf": [NUM, array(NUM)]}
INTERVAL = obj({"low": NUM, "high": NUM, "level": {"type": "number", "exclusiveMinimum": 0,
                                                    "exclusiveMaximum": 1},
                "resamples": INT0})

SETTINGS = obj({
    "gamma": NUM0, "alpha": {"type": "string"}, "mode": MODE, "probs": {"type": "boolean"},
    "ignore_index": nullable({"type": "integer"}), "reduction": REDUCTION,
    "normalize": NORMALIZE, "like": TEXT_OR_NULL, "label_smoothing": NUM0,
    "soft_targets": {"type": "boolean"}, "temperature": {"type": "number",
                                                          "exclusiveMinimum": 0},
    "weights": {}, "class_weight": nullable(array(NUM0)),
    "pos_weight": nullable(array(NUM0))})

PER_CLASS = obj({"class": {"type": "string"}, "index": INT0, "count": INT0,
                 "focal": nullable(NUM0), "ce": nullable(NUM0), "share": nullable(SHARE)},
                {"positives": INT0, "denominator": nullable(NUM0)})

BUCKET = obj({"p_t": {"type": "string"}, "low": SHARE, "high": SHARE, "count": INT0,
              "ce_share": nullable(SHARE), "focal_share": nullable(SHARE)})

CALIBRATION = obj({
    "ece": SHARE, "mce": SHARE, "accuracy": SHARE, "confidence": SHARE,
    "n_bins": {"type": "integer", "minimum": 1},
    "bins": array(obj({"low": SHARE, "high": SHARE, "count": INT0,
                       "confidence": nullable(SHARE), "accuracy": nullable(SHARE)}))},
    {"adaptive_ece": nullable(SHARE)})

PRIOR = obj({"class": {"type": "string"}, "index": INT0, "rate": nullable(SHARE),
             "mean_probability": nullable(SHARE), "bias": nullable(NUM)})

SOURCES = {"predictions": TEXT_OR_NULL, "targets": TEXT_OR_NULL, "like": TEXT_OR_NULL}
COUNTS = {"n": INT0, "ignored": INT0, "classes": {"type": "integer", "minimum": 1},
          "class_names": array({"type": "string"}), "mode": MODE}


def score() -> dict:
    doc = obj({
        **SOURCES, **COUNTS,
        "unit": {"enum": ["example", "element", "position", "token"]},
        "gamma": NUM0, "alpha": ALPHA, "alpha_spec": {"type": "string"},
        "reduction": REDUCTION, "normalize": NORMALIZE, "settings": SETTINGS,
        "focal": nullable(NUM0), "ce": nullable(NUM0), "ratio": nullable(NUM0),
        "focal_sum": NUM0, "ce_sum": NUM0, "easy_share": nullable(SHARE),
        "effective_examples": obj({"focal": nullable(NUM0), "ce": nullable(NUM0)}),
        "classes_present": INT0, "per_class": array(PER_CLASS), "prior": array(PRIOR),
        "buckets": array(BUCKET, minItems=4, maxItems=4)},
        {"calibration": nullable(CALIBRATION), "elements": INT0, "positives": INT0,
         "examples": INT0,
         "top": array({"type": "object", "required": ["index", "focal", "ce"]}),
         "gradient": {"type": "object"}, "ohem": {"type": "object"},
         "losses": array(obj({"name": {"type": "string"}, "value": nullable(NUM)}))})
    # sigmoid documents count their elements and positive labels apart
    doc["allOf"] = [{"if": {"properties": {"mode": {"const": "sigmoid"}}},
                     "then": {"required": ["elements", "positives"]}}]
    return doc


def sweep() -> dict:
    cell = obj({"gamma": NUM0, "alpha": ALPHA, "alpha_spec": {"type": "string"},
                "focal": nullable(NUM0), "ce": nullable(NUM0), "ratio": nullable(NUM0),
                "easy_share": nullable(SHARE), "effective_examples": nullable(NUM0),
                "effective_examples_ce": nullable(NUM0)},
               {"temperature": {"type": "number", "exclusiveMinimum": 0},
                "ece": nullable(SHARE), "gradient_easy_share": nullable(SHARE),
                "gradient_easy_share_ce": nullable(SHARE),
                "losses": array(obj({"name": {"type": "string"}, "value": nullable(NUM)}))})
    return obj({**SOURCES, **COUNTS, "reduction": REDUCTION, "normalize": NORMALIZE,
                "gammas": array(NUM0, minItems=1), "alphas": array({"type": "string"},
                                                                   minItems=1),
                "grid": array(cell, minItems=1)},
               {"temperatures": array({"type": "number", "exclusiveMinimum": 0})})


def curve() -> dict:
    row = obj({"p_t": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
               "gamma": NUM0, "ce": NUM0, "focal": NUM0, "factor": nullable(NUM0)})
    return obj({"alpha": NUM0, "gammas": array(NUM0, minItems=1),
                "p_t": array(NUM, minItems=1), "rows": array(row, minItems=1)})


def compare() -> dict:
    side = score()
    side.pop("allOf")
    per_class = obj({"class": {"type": "string"}, "index": INT0, "count": INT0,
                     "baseline": nullable(NUM0), "candidate": nullable(NUM0),
                     "delta": nullable(NUM), "delta_rel": nullable(NUM),
                     "interval": nullable(INTERVAL)})
    failure = obj({"gate": {"type": "string"}, "where": {"type": "string"},
                   "metric": {"enum": ["focal", "ce"]}, "value": NUM, "limit": NUM})
    return obj({
        "baseline": side, "candidate": side,
        "delta": obj({"focal": nullable(NUM), "focal_rel": nullable(NUM),
                      "ce": nullable(NUM), "ce_rel": nullable(NUM)}),
        "interval": nullable(INTERVAL), "per_class": array(per_class),
        "paired": {"type": "boolean"},
        "gates": obj({"passed": {"type": "boolean"}, "active": {"type": "boolean"},
                      "significant": {"type": "boolean"}, "failures": array(failure)})},
        {"interval_ce": nullable(INTERVAL), "buckets": array({"type": "object"}),
         "movement": nullable(obj({"harder": INT0, "easier": INT0, "threshold": NUM0,
                                   "paired": INT0, "dropped": INT0})),
         "worse": array({"type": "object", "required": ["index", "delta"]})})


def conventions() -> dict:
    row = obj({"like": {"enum": [None, *PEERS]},
               "focal": nullable(NUM0), "ce": nullable(NUM0),
               "reduction": {"type": "string"}, "differs": {"type": "string"}},
              {"mode": MODE, "alpha_spec": {"type": "string"}, "unit": {"type": "string"},
               "n": INT0})
    return obj({"predictions": TEXT_OR_NULL, "targets": TEXT_OR_NULL, "n": INT0,
                "gamma": NUM0, "conventions": array(row, minItems=1),
                "refused": array(obj({"like": {"type": "string"},
                                      "why": {"type": "string"}}))})


def track() -> dict:
    """`focal track` (the contract's document; the command itself is to come):
    one object per checkpoint, and the examples' learning events."""
    checkpoint = obj({
        "name": {"type": "string"}, "step": {"type": "integer"}, "gamma": NUM0,
        "n": INT0, "focal": nullable(NUM0), "ce": nullable(NUM0), "ratio": nullable(NUM0),
        "easy_share": nullable(SHARE), "hard_easy_ratio": nullable(NUM0),
        "accuracy": nullable(SHARE), "ece": nullable(SHARE), "per_class": array(PER_CLASS)},
        {"prior": array(PRIOR)})
    return obj({"checkpoints": array(checkpoint, minItems=1),
                "examples": nullable(obj({"learned": INT0, "forgotten": INT0,
                                          "never_learned": INT0}))})


def schema(kind: str) -> dict:
    """The schema of ``focal KIND --format json``."""
    build = {"score": score, "sweep": sweep, "compare": compare, "curve": curve,
             "conventions": conventions, "track": track}[kind]
    return {"$schema": DRAFT, "$id": f"https://focalcli.dev/schemas/{kind}.json",
            "title": f"focal {kind} --format json", **build()}
