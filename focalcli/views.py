"""The documents as text for machines: JSON and CSV, one function per
document. (Tables for people are in render.py; both read the same dicts.)"""
from __future__ import annotations

import csv
import io
import json

from .reduction import reduction_words
from .writers import clean

GRID_COLUMNS = ["gamma", "alpha_spec", "alpha", "focal", "ce", "ratio", "easy_share",
                "effective_examples", "effective_examples_ce"]
CURVE_COLUMNS = ["p_t", "gamma", "ce", "focal", "factor"]
SCORE_COLUMNS = ["class", "count", "focal", "ce", "share"]
TRACK_COLUMNS = ["step", "name", "gamma", "n", "focal", "ce", "ratio", "easy_share",
                 "hard_easy_ratio", "accuracy", "ece"]
CONVENTION_COLUMNS = ["like", "focal", "ce", "reduction", "mode", "alpha_spec", "differs"]


def dumps(doc: dict) -> str:
    """Indented for people; compact when the document is large (a summary of
    a million classes would spend longer indenting than scoring)."""
    doc = clean(doc)
    big = len(doc.get("per_class", ())) > 1000 or len(doc.get("grid", ())) > 1000 or \
        len(doc.get("candidate", {}).get("per_class", ())) > 1000
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


def sweep_csv(doc: dict) -> str:
    """A row per cell; each relative (--loss) a column named by its label."""
    grid = doc["grid"]
    columns = GRID_COLUMNS + [c for c in ("temperature", "ece", "gradient_easy_share",
                                          "gradient_easy_share_ce") if grid and c in grid[0]]
    if grid and "losses" in grid[0]:
        grid = [{**c, **{r["name"]: r["value"] for r in c["losses"]}} for c in grid]
        columns += [r["name"] for r in doc["grid"][0]["losses"]]
    return csv_text(grid, columns)


def score_csv(doc: dict) -> str:
    """The summary as CSV: one row per class, then an 'all' row."""
    rows = [{c: r[c] for c in SCORE_COLUMNS} for r in doc["per_class"]]
    rows.append({"class": "all", "count": doc["n"], "focal": doc["focal"], "ce": doc["ce"],
                 "share": 1.0 if doc["focal_sum"] else None})
    return csv_text(rows, SCORE_COLUMNS)


def text(doc: dict, kind: str, fmt: str) -> str:
    """``doc`` (a ``kind`` of document: score, sweep, curve, compare) as
    ``fmt`` text: json, csv or markdown."""
    if fmt == "json":
        return dumps(doc)
    views = {("score", "csv"): score_csv,
             ("sweep", "csv"): sweep_csv,
             ("curve", "csv"): lambda d: csv_text(d["rows"], CURVE_COLUMNS),
             ("compare", "csv"): compare_csv,
             ("score", "markdown"): score_markdown,
             ("sweep", "markdown"): sweep_markdown,
             ("compare", "markdown"): compare_markdown,
             ("conventions", "markdown"): conventions_markdown,
             ("conventions", "csv"): lambda d: csv_text(d["conventions"], CONVENTION_COLUMNS),
             ("track", "csv"): lambda d: csv_text(d["checkpoints"], TRACK_COLUMNS),
             ("track", "markdown"): track_markdown}
    if (kind, fmt) not in views:
        raise ValueError(f"no {fmt} view of a {kind} document")
    return views[(kind, fmt)](doc)


# ---------------------------------------------------------------- Markdown

def md_number(v, digits: int = 6) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.{digits}g}"
    return str(v)


def _md_pct(v) -> str:
    return "–" if v is None else f"{100 * v:.1f}%"


def _md_cell(v) -> str:
    """Text from the input in a table cell: pipes and line breaks escaped."""
    return str(v).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def md_table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def score_markdown(doc: dict) -> str:
    red = "sum / positives" if doc.get("normalize") == "positives" else doc["reduction"]
    out = [f"**focal score** `{_md_cell(doc['predictions'])}`: {red} focal loss "
           f"**{md_number(doc['focal'])}**, cross-entropy {md_number(doc['ce'])}, "
           f"focal / CE {md_number(doc['ratio'], 4)} ({doc['n']:,} {doc['unit']}s, "
           f"gamma {doc['gamma']:g}, alpha {doc['alpha_spec']})\n",
           md_table(["class", "count", "focal", "CE", "share of focal"],
                    [[r["class"], f"{r['count']:,}", md_number(r["focal"], 4),
                      md_number(r["ce"], 4), _md_pct(r["share"])]
                     for r in doc["per_class"]]),
           md_table(["p_t", "count", "share of CE", "share of focal"],
                    [[b["p_t"], f"{b['count']:,}", _md_pct(b["ce_share"]),
                      _md_pct(b["focal_share"])] for b in doc["buckets"]])]
    return "\n".join(out)


def sweep_markdown(doc: dict) -> str:
    cells = {(c["gamma"], c["alpha_spec"]): c for c in doc["grid"]}
    rows = [[f"{g:g}"] + [md_number(cells[(g, a)]["focal"], 4) for a in doc["alphas"]]
            for g in doc["gammas"]]
    return (f"**focal sweep** `{_md_cell(doc['predictions'])}`: {doc['reduction']} focal loss, "
            f"rows gamma, columns alpha\n\n" + md_table(["gamma"] + doc["alphas"], rows))


def compare_markdown(doc: dict, classes: int = 10) -> str:
    """A pull-request comment: the verdict, the overall table, the classes
    that moved most, and the examples that got worse most."""
    gates, d = doc["gates"], doc["delta"]
    iv = doc["interval"]
    if gates["active"]:
        verdict = "✅ **passed**" if gates["passed"] else "❌ **failed**: " + "; ".join(
            f"{f['gate']} on {f['where']} ({f['metric']} {md_number(f['value'], 4)} > "
            f"{md_number(f['limit'], 4)})" for f in gates["failures"])
    else:
        verdict = "no gates set"
    delta = d["focal"] or 0.0
    change = f"worse by {md_number(delta, 4)}" if delta > 0 else \
        f"better by {md_number(-delta, 4)}" if delta < 0 else "unchanged"
    noise = "" if iv is None else (
        f"; {int(100 * iv['level'])}% interval [{md_number(iv['low'], 4)}, "
        f"{md_number(iv['high'], 4)}]" + (", more than noise" if iv["low"] > 0 or
                                            iv["high"] < 0 else ", within noise"))
    out = [f"### focal compare: {verdict}\n",
           f"{reduction_words(doc['baseline']).capitalize()} focal loss "
           f"{md_number(doc['baseline']['focal'], 6)} → "
           f"{md_number(doc['candidate']['focal'], 6)} ({change}{noise}).\n",
           md_table(["", "baseline", "candidate", "delta", "relative"],
                    [["focal", md_number(doc["baseline"]["focal"]),
                      md_number(doc["candidate"]["focal"]), md_number(d["focal"], 4),
                      _md_pct(d["focal_rel"])],
                     ["CE", md_number(doc["baseline"]["ce"]),
                      md_number(doc["candidate"]["ce"]), md_number(d["ce"], 4),
                      _md_pct(d["ce_rel"])]])]
    moved = sorted((r for r in doc["per_class"] if r["delta"] is not None),
                   key=lambda r: -abs(r["delta"]))[:classes]
    if moved:
        out.append(f"**Classes that moved most** (of {len(doc['per_class'])})\n")
        out.append(md_table(["class", "count", "baseline", "candidate", "delta", "interval"],
                            [[r["class"], f"{r['count']:,}", md_number(r["baseline"], 4),
                              md_number(r["candidate"], 4), md_number(r["delta"], 4),
                              "–" if r["interval"] is None else
                              f"[{md_number(r['interval']['low'], 3)}, "
                              f"{md_number(r['interval']['high'], 3)}]"] for r in moved]))
    if doc.get("worse"):
        out.append(f"**Examples that got worse most** (of {doc['movement']['harder']:,} "
                   f"harder, {doc['movement']['easier']:,} easier)\n")
        keys = [k for k in ("index", "id", "class") if k in doc["worse"][0]]
        out.append(md_table(keys + ["p_t before", "p_t after", "focal before", "focal after"],
                            [[r[k] for k in keys] + [md_number(r["p_t_baseline"], 4),
                                                     md_number(r["p_t_candidate"], 4),
                                                     md_number(r["focal_baseline"], 4),
                                                     md_number(r["focal_candidate"], 4)]
                             for r in doc["worse"]]))
    return "\n".join(out)


def compare_csv(doc: dict) -> str:
    cols = ["class", "count", "baseline", "candidate", "delta", "delta_rel", "low", "high"]
    rows = [{**{c: r.get(c) for c in cols},
             "low": r["interval"]["low"] if r["interval"] else None,
             "high": r["interval"]["high"] if r["interval"] else None}
            for r in doc["per_class"]]
    iv = doc["interval"]
    rows.append({"class": "all", "count": doc["candidate"]["n"],
                 "baseline": doc["baseline"]["focal"], "candidate": doc["candidate"]["focal"],
                 "delta": doc["delta"]["focal"], "delta_rel": doc["delta"]["focal_rel"],
                 "low": iv["low"] if iv else None, "high": iv["high"] if iv else None})
    return csv_text(rows, cols)


def conventions_markdown(doc: dict) -> str:
    out = [f"**focal conventions** `{_md_cell(doc['predictions'])}`: the same predictions "
           f"under each library's convention (gamma {doc['gamma']:g})\n",
           md_table(["like", "focal", "CE", "reduction", "what sets it apart"],
                    [[r["like"] or "focal", md_number(r["focal"]), md_number(r["ce"]),
                      r["reduction"], r["differs"]] for r in doc["conventions"]])]
    if doc["refused"]:
        out.append("Not taking this input: " + "; ".join(
            f"`--like {r['like']}` ({_md_cell(r['why'])})" for r in doc["refused"]) + "\n")
    return "\n".join(out)


def track_markdown(doc: dict) -> str:
    e = doc["examples"]
    return (f"**focal track** `{_md_cell(doc['predictions'])}`: {len(doc['checkpoints'])} "
            f"checkpoints\n\n"
            + md_table(["step", "checkpoint", "gamma", "focal", "CE", "easy share",
                        "hard/easy", "accuracy", "ECE"],
                       [[c["step"], c["name"], md_number(c["gamma"]), md_number(c["focal"]),
                         md_number(c["ce"]), _md_pct(c["easy_share"]),
                         md_number(c["hard_easy_ratio"], 3), _md_pct(c["accuracy"]),
                         md_number(c["ece"], 4)] for c in doc["checkpoints"]])
            + f"\nExamples: {e['learned']:,} learned, {e['forgotten']:,} forgotten at least "
              f"once, {e['never_learned']:,} never learned.\n")
