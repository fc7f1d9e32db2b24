"""The documents as text for machines: JSON and CSV, one function per
document. (Tables for people are in render.py; both read the same dicts.)"""
from __future__ import annotations

import csv
import io
import json

from .writers import clean

GRID_COLUMNS = ["gamma", "alpha_spec", "alpha", "focal", "ce", "ratio", "easy_share",
                "effective_examples", "effective_examples_ce"]
CURVE_COLUMNS = ["p_t", "gamma", "ce", "focal", "factor"]
SCORE_COLUMNS = ["class", "count", "focal", "ce", "share"]


def dumps(doc: dict) -> str:
    """Indented for people; compact when the document is large (a summary of
    a million classes would spend longer indenting than scoring)."""
    doc = clean(doc)
    big = len(doc.get("per_class", ())) > 1000 or len(doc.get("grid", ())) > 1000
    return json.dumps(doc, indent=None if big else 2) + "\n"


def csv_text(rows: list[dict], columns: list[str] | None = None, sep=",") -> str:
    """Rows of dicts as CSV at full precision (repr of every float)."""
    rows = clean(rows)
    buf = io.StringIO()
    columns = columns or (list(rows[0]) if rows else [])
    w = csv.writer(buf, delimiter=sep, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow(["" if r.get(c) is None else
                    (repr(r[c]) if isinstance(r[c], float) else
                     ";".join(repr(x) for x in r[c]) if isinstance(r[c], list) else r[c])
                    for c in columns])
    return buf.getvalue()


def score_csv(doc: dict) -> str:
    """The summary as CSV: one row per class, then an 'all' row."""
    rows = [{c: r[c] for c in SCORE_COLUMNS} for r in doc["per_class"]]
    rows.append({"class": "all", "count": doc["n"], "focal": doc["focal"], "ce": doc["ce"],
                 "share": 1.0 if doc["focal_sum"] else None})
    return csv_text(rows, SCORE_COLUMNS)


_CSV = {"score": score_csv,
        "sweep": lambda doc: csv_text(doc["grid"], GRID_COLUMNS),
        "curve": lambda doc: csv_text(doc["rows"], CURVE_COLUMNS)}


def text(doc: dict, kind: str, fmt: str) -> str:
    """``doc`` (a ``kind`` of document: score, sweep, curve) as ``fmt`` text."""
    if fmt == "json":
        return dumps(doc)
    if fmt == "csv":
        return _CSV[kind](doc)
    raise ValueError(f"no {fmt} view of a {kind} document")
