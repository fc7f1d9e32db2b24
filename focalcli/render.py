"""What a person sees in a terminal: rich tables (the only modules that
import rich: this one and plain.py, which writes the same bytes to a pipe
without it), the progress bar, rows for a person. The pictures are in
plots.py, the machine views of the same documents in views.py."""
from __future__ import annotations

import math
import os
import sys
import time

from . import plain
from .errors import printable
from .reduction import reduction_words


def _fmt(v, digits=4) -> str:
    """A value as console markup: numbers rounded for display, and text from
    the input (class names, ids, file names) as plain, printable text."""
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}g}"
    return _safe(str(v))


def _safe(text: str) -> str:
    """User text inside rich markup: '[...]' shown as written (BERT's
    '[unused0]', a file 'run[best].csv'), control characters escaped."""
    return plain.escape(printable(text))


def _pct(v) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def console(stream=None):
    stream = stream or sys.stdout
    if plain.usable(stream):  # what rich would write there, without rich
        return plain.Console(stream)
    from rich.console import Console
    # rich turns colour off for pipes and honours NO_COLOR itself
    return Console(file=stream, highlight=False, soft_wrap=False, emoji=False,
                   width=None if stream.isatty() else plain.WIDTH)


def _table(title: str, columns: list[str], right_from: int = 1):
    # the title is printed on its own line: a rich title wraps to the table
    table = plain.Grid(title)
    for i, col in enumerate(columns):
        table.add_column(col, justify="right" if i >= right_from else "left")
    return table


def _show(out, table):
    out.print(f"[bold]{table.focal_title}[/bold]")
    out.print(table)


def score_table(doc: dict, stream=None, classes=None):
    from .report import table_classes
    out = console(stream)
    shown = table_classes(doc, classes)
    alpha = doc["alpha"]
    alpha_text = doc["alpha_spec"] if isinstance(alpha, list) else _fmt(alpha)
    sources = _safe(doc["predictions"] + (f" + {doc['targets']}" if doc.get("targets")
                                          else ""))
    out.print(f"[bold]focal score[/bold]  {sources}")
    counted = f"positions {doc['n']:,} in {doc['examples']:,} examples" \
        if doc["unit"] == "position" else f"examples {doc['n']:,}" \
        if doc["unit"] == "element" else f"{doc['unit']}s {doc['n']:,}"
    head = (f"{counted}   ignored {doc['ignored']:,}   classes {doc['classes']}"
            f"   mode {doc['mode']}   gamma {_fmt(doc['gamma'])}   alpha {alpha_text}")
    if doc["mode"] == "sigmoid":
        head += f"   elements {doc['elements']:,}   positives {doc['positives']:,}"
    out.print(head)
    if isinstance(alpha, list):
        more = f" (and {len(alpha) - len(shown):,} more in the JSON)" \
            if len(shown) < len(alpha) else ""
        out.print("alpha per class: " + ", ".join(
            f"{_fmt(c['class'])}={alpha[c['index']]:.4g}" for c in shown) + more)
    red = reduction_words(doc)
    out.print()
    out.print(f"[bold]{red} focal loss[/bold] [cyan]{_fmt(doc['focal'], 6)}[/cyan]   "
              f"[bold]cross-entropy[/bold] {_fmt(doc['ce'], 6)}   "
              f"[bold]focal / CE[/bold] {_fmt(doc['ratio'])}")
    eff = doc["effective_examples"]
    out.print(f"the loss rests on ~{_fmt(eff['focal'], 3)} effective {doc['unit']}s "
              f"(CE: ~{_fmt(eff['ce'], 3)}); easy ones (p_t >= 0.5) carry "
              f"{_pct(doc['easy_share'])} of it")
    out.print()
    unit = f"per {doc['unit']}"
    if doc["mode"] == "sigmoid":
        unit = "per element"
    cols = ["class", "count"] + (["positives"] if doc["mode"] == "sigmoid" else []) + \
        [f"focal ({doc['reduction']})", f"CE ({doc['reduction']})", "share of focal"]
    heading = f"Per class ({unit})"
    if len(shown) < doc["classes"]:
        heading += (f": the {len(shown):,} with the most focal loss, of {doc['classes']:,} "
                    f"({doc['classes_present']:,} with examples)")
    table = _table(heading, cols)
    for row in shown:
        extra = [f"{row['positives']:,}"] if doc["mode"] == "sigmoid" else []
        table.add_row(_fmt(row["class"]), f"{row['count']:,}", *extra, _fmt(row["focal"]),
                      _fmt(row["ce"]), _pct(row["share"]))
    _show(out, table)
    if len(shown) < doc["classes_present"]:
        rest = sum(r["share"] or 0.0 for r in doc["per_class"]) - \
            sum(r["share"] or 0.0 for r in shown)
        out.print(f"... {doc['classes_present'] - len(shown):,} more classes with examples "
                  f"carry {_pct(max(rest, 0.0))} of the focal loss: --classes all or "
                  f"--classes N shows them")
    out.print()
    table = _table(f"Where the loss comes from ({unit})",
                   ["p_t", "count", "share of CE", "share of focal"])
    for b in doc["buckets"]:
        table.add_row(b["p_t"], f"{b['count']:,}", _pct(b["ce_share"]),
                      _pct(b["focal_share"]))
    _show(out, table)
    _score_extras(out, doc)


def _score_extras(out, doc: dict):
    """The optional blocks of a score table: relatives, OHEM, gradient,
    calibration, the top examples."""
    if doc.get("losses"):
        out.print()
        out.print("[bold]Relatives[/bold]  " + "   ".join(
            f"{_safe(r['name'])} {_fmt(r['value'])}" + (
                f" (positives {_fmt(r['positives'])}, negatives {_fmt(r['negatives'])})"
                if "positives" in r else "") for r in doc["losses"]))
    if doc.get("ohem"):
        o = doc["ohem"]
        out.print()
        out.print(f"[bold]OHEM[/bold] ({_safe(o['rule'])})  keeps {o['keep']:,} {doc['unit']}s "
                  f"(CE {_fmt(o['ce'])}), discards {o['discarded']:,} "
                  f"({_pct(o['discarded_share'])}), which carry "
                  f"{_pct(o['discarded_focal_share'])} of the focal loss")
    if doc.get("gradient"):
        g = doc["gradient"]
        out.print()
        out.print(f"[bold]Gradient[/bold]  easy {doc['unit']}s (p_t >= 0.5) carry "
                  f"{_pct(g['easy_share_ce'])} of the CE gradient norm and "
                  f"{_pct(g['easy_share_focal'])} of focal loss's; it rests on "
                  f"~{_fmt(g['effective_examples_focal'], 3)} {doc['unit']}s "
                  f"(CE: ~{_fmt(g['effective_examples_ce'], 3)})")
    _prior(out, doc)
    if doc.get("calibration"):
        out.print()
        _calibration(out, doc["calibration"], doc["mode"])
    if doc.get("top"):
        out.print()
        first = doc["top"][0]
        keys = [k for k in first if not (k == "target" and "class" in first)]
        table = _table(f"Top {len(doc['top'])} by focal loss", keys)
        for row in doc["top"]:
            table.add_row(*(_fmt(row[k], 6) for k in keys))
        _show(out, table)


def _prior(out, doc: dict):
    """The class whose mean probability is furthest (by ratio) from its rate:
    a head not initialised to the prior shows there first."""
    rows = [r for r in doc.get("prior", ()) if r["rate"] and r["mean_probability"]]
    if not rows:
        return
    worst = max(rows, key=lambda r: abs(math.log(r["mean_probability"] / r["rate"])))
    out.print()
    out.print(f"[bold]Prior[/bold]  furthest from its rate: class {_fmt(worst['class'])}, "
              f"mean probability {_fmt(worst['mean_probability'])} for a rate of "
              f"{_fmt(worst['rate'])} (the bias for that rate: {_fmt(worst['bias'])}); "
              f"every class in the JSON's prior")


def _calibration(out, cal: dict, mode: str = "softmax"):
    """A compact reliability diagram: accuracy against confidence per bin."""
    what = "top label" if mode == "softmax" else "each element's binary decision"
    out.print(f"[bold]Calibration ({what}, {cal['n_bins']} bins)[/bold]  ECE "
              f"{_fmt(cal['ece'])}   MCE {_fmt(cal['mce'])}   adaptive ECE "
              f"{_fmt(cal['adaptive_ece'])}   accuracy {_pct(cal['accuracy'])}   mean "
              f"confidence {_pct(cal['confidence'])}")
    table = _table("", ["confidence", "count", "mean conf.", "accuracy", "gap",
                        "accuracy (#) and mean confidence (|)"])
    table.columns[-1].justify = "left"
    width = 24
    for b in cal["bins"]:
        if not b["count"]:
            continue
        bar = "#" * int(round(width * b["accuracy"]))
        mark = int(round(width * b["confidence"]))
        line = (bar + " " * width)[:width]
        line = line[:mark] + "|" + line[mark + 1:] if mark < width else line + "|"
        span = "1" if b["low"] == b["high"] else f"[{b['low']:.2f}, {b['high']:.2f})"
        table.add_row(span, f"{b['count']:,}",
                      _fmt(b["confidence"], 3), _fmt(b["accuracy"], 3),
                      _fmt(b["accuracy"] - b["confidence"], 2), _safe(line))
    out.print(table)


def sweep_table(doc: dict, stream=None):
    from rich.table import Table
    from rich.text import Text
    out = console(stream)
    out.print(f"[bold]focal sweep[/bold]  {_safe(doc['predictions'])}   examples {doc['n']:,}   "
              f"mode {doc['mode']}   reduction {doc['reduction']}")
    alphas = doc["alphas"]
    temperatures = doc.get("temperatures", [1.0])
    cells = {(c.get("temperature", 1.0), c["gamma"], c["alpha_spec"]): c for c in doc["grid"]}
    values = [c["focal"] for c in doc["grid"] if c["focal"] is not None]
    lo, hi = (min(values), max(values)) if values else (0.0, 0.0)
    for t in temperatures:
        title = "" if t == 1.0 and len(temperatures) == 1 else f", temperature {t:g}"
        out.print(f"[bold]{doc['reduction']} focal loss[/bold] (rows gamma, columns alpha"
                  f"{title})")
        heat = Table(box=None, header_style="bold")
        heat.add_column("gamma", justify="right")
        for a in alphas:
            heat.add_column(_safe(a), justify="right")
        for g in doc["gammas"]:
            row = []
            for a in alphas:
                v = cells[(t, g, a)]["focal"]
                shade = 0 if hi == lo or v is None else (v - lo) / (hi - lo)
                row.append(Text(_fmt(v), style=f"on {_heat_colour(shade)}"))
            heat.add_row(_fmt(g), *row)
        out.print(heat)
        out.print()
    first, t0 = alphas[0], temperatures[0]
    columns = ["gamma", "focal / CE", "easy share", "effective examples", "effective (CE)"]
    gradient = "gradient_easy_share" in doc["grid"][0]
    if gradient:
        columns += ["easy share of gradient", "(CE)"]
    relatives = [r["name"] for r in doc["grid"][0].get("losses", ())]
    columns += relatives
    table = _table(f"Make-up of the loss by gamma (alpha {first})", columns, right_from=0)
    for g in doc["gammas"]:
        c = cells[(t0, g, first)]
        extra = [_pct(c["gradient_easy_share"]), _pct(c["gradient_easy_share_ce"])] \
            if gradient else []
        extra += [_fmt(r["value"]) for r in c.get("losses", ())]
        table.add_row(_fmt(g), _fmt(c["ratio"]), _pct(c["easy_share"]),
                      _fmt(c["effective_examples"], 5), _fmt(c["effective_examples_ce"], 5),
                      *extra)
    _show(out, table)
    if "ece" in doc["grid"][0]:
        out.print()
        table = _table(f"Calibration by temperature (gamma {_fmt(doc['gammas'][0])}, alpha "
                       f"{first})", ["temperature", "ECE", "focal", "CE"], right_from=0)
        for t in temperatures:
            c = cells[(t, doc["gammas"][0], first)]
            table.add_row(_fmt(t), _fmt(c["ece"]), _fmt(c["focal"]), _fmt(c["ce"]))
        _show(out, table)


def _heat_colour(x: float) -> str:
    """Dark blue (low) to dark red (high), readable under white text."""
    r = int(40 + 160 * x)
    b = int(200 - 160 * x)
    return f"rgb({r},40,{b})"


def curve_table(doc: dict, stream=None):
    out = console(stream)
    gammas = doc["gammas"]
    table = _table(f"Focal loss against p_t (alpha {_fmt(doc['alpha'])}); "
                   "x = how many times smaller than CE", ["p_t", "CE"] + [
                       f"gamma {_fmt(g)}" for g in gammas], right_from=0)
    by_pt: dict = {}
    for r in doc["rows"]:
        by_pt.setdefault(r["p_t"], []).append(r)
    for pt, rows in by_pt.items():
        cells = [f"{_fmt(r['focal'])} (x{_fmt(r['factor'], 3)})" for r in rows]
        table.add_row(_fmt(pt), _fmt(rows[0]["ce"]), *cells)
    _show(out, table)


class Progress:
    """A progress bar on stderr, only on a terminal and only once the work
    has taken more than a second."""

    def __init__(self, total: int | None, enabled: bool = True):
        self.total, self.bar, self.task = total, None, None
        self.start = time.monotonic()
        self.enabled = enabled and sys.stderr.isatty() and not os.environ.get("CI")

    def __call__(self, rows: int):
        if not self.enabled or time.monotonic() - self.start < 1.0:
            return
        if self.bar is None:
            from rich.console import Console
            from rich.progress import Progress as Bar
            self.bar = Bar(console=Console(file=sys.stderr), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("scoring", total=self.total)
        self.bar.update(self.task, completed=rows)

    def close(self):
        if self.bar is not None:
            self.bar.stop()


class TextRows:
    """Per-example rows for a person: aligned columns, rounded for display."""

    def __init__(self):
        self.first = True

    def write(self, chunk):
        cols = list(chunk)
        lines = []
        if self.first:
            lines.append(" ".join(f"{c:>12}" for c in cols))
            self.first = False
        values = [chunk[c].tolist() for c in cols]
        for row in zip(*values):
            lines.append(" ".join(f"{v:>12.6g}" if isinstance(v, float) else
                                  f"{printable(str(v)):>12}" for v in row))
        sys.stdout.write("\n".join(lines) + "\n")

    def close(self):
        sys.stdout.flush()


def compare_table(doc: dict, stream=None, classes: int = 10):
    out = console(stream)
    b, c, d = doc["baseline"], doc["candidate"], doc["delta"]
    out.print(f"[bold]focal compare[/bold]  {_safe(b['predictions'])} -> "
              f"{_safe(c['predictions'])}")
    iv = doc["interval"]
    noise = "" if iv is None else (
        f"   {int(100 * iv['level'])}% interval [{_fmt(iv['low'], 4)}, "
        f"{_fmt(iv['high'], 4)}] ({iv['resamples']} resamples)")
    red = reduction_words(b)
    out.print(f"{red} focal loss {_fmt(b['focal'], 6)} -> {_fmt(c['focal'], 6)}   delta "
              f"[bold]{_fmt(d['focal'], 4)}[/bold] ({_pct(d['focal_rel'])}){noise}")
    out.print(f"{'cross-entropy':<{len(red) + 11}} {_fmt(b['ce'], 6)} -> "
              f"{_fmt(c['ce'], 6)}   delta "
              f"{_fmt(d['ce'], 4)} ({_pct(d['ce_rel'])})")
    if doc.get("movement"):
        m = doc["movement"]
        out.print(f"{m['paired']:,} examples paired: {m['harder']:,} harder, {m['easier']:,} "
                  f"easier by more than {m['threshold']:g}"
                  + (f"; {m['dropped']:,} not in both, dropped" if m["dropped"] else ""))
    out.print()
    moved = sorted((r for r in doc["per_class"] if r["delta"] is not None),
                   key=lambda r: -abs(r["delta"]))[:classes]
    table = _table(f"Classes that moved most (of {len(doc['per_class'])})",
                   ["class", "count", "baseline", "candidate", "delta", "interval"])
    for r in moved:
        iv = r["interval"]
        table.add_row(_fmt(r["class"]), f"{r['count']:,}", _fmt(r["baseline"]),
                      _fmt(r["candidate"]), _fmt(r["delta"]),
                      "-" if iv is None else f"[{_fmt(iv['low'], 3)}, {_fmt(iv['high'], 3)}]")
    _show(out, table)
    if doc.get("worse"):
        out.print()
        keys = [k for k in ("index", "id", "class") if k in doc["worse"][0]]
        table = _table(f"Top {len(doc['worse'])} examples that got worse",
                       keys + ["p_t before", "p_t after", "focal before", "focal after"])
        for r in doc["worse"]:
            table.add_row(*(_fmt(r[k]) for k in keys), _fmt(r["p_t_baseline"]),
                          _fmt(r["p_t_candidate"]), _fmt(r["focal_baseline"]),
                          _fmt(r["focal_candidate"]))
        _show(out, table)
    gates = doc["gates"]
    if gates["active"]:
        out.print()
        out.print("[bold]gates passed[/bold]" if gates["passed"] else
                  f"[bold red]{len(gates['failures'])} gate(s) failed[/bold red]")


def conventions_table(doc: dict, stream=None):
    out = console(stream)
    out.print(f"[bold]focal conventions[/bold]  {_safe(doc['predictions'] or '')}"
              f"   {doc['n']:,} examples   gamma {_fmt(doc['gamma'])}")
    table = _table("The same predictions under each library's convention",
                   ["like", "focal", "CE", "reduction", "what sets it apart"])
    for column in table.columns[3:]:  # words read from the left
        column.justify = "left"
    for r in doc["conventions"]:
        table.add_row(_safe(r["like"] or "focal"), _fmt(r["focal"], 6), _fmt(r["ce"], 6),
                      _safe(r["reduction"]), _safe(r["differs"]))
    _show(out, table)
    for r in doc["refused"]:
        out.print(f"--like {_safe(r['like'])} does not take this input: {_safe(r['why'])}")


def _spark(values) -> str:
    """A series as a line of block characters (None: a gap)."""
    marks = "▁▂▃▄▅▆▇█"
    real = [v for v in values if v is not None]
    if not real:
        return ""
    lo, hi = min(real), max(real)
    return "".join(" " if v is None else marks[0 if hi == lo else
                                               int((v - lo) / (hi - lo) * (len(marks) - 1))]
                   for v in values)


def track_table(doc: dict, stream=None):
    out = console(stream)
    points = doc["checkpoints"]
    out.print(f"[bold]focal track[/bold]  {_safe(doc['predictions'])}   "
              f"{len(points)} checkpoints   easy: p_t > {_fmt(doc['easy_threshold'])}")
    table = _table("Per checkpoint", ["step", "checkpoint", "gamma", "focal", "CE",
                                      "easy share", "hard/easy", "accuracy", "ECE"])
    for c in points:
        table.add_row(str(c["step"]), _safe(c["name"]), _fmt(c["gamma"]), _fmt(c["focal"]),
                      _fmt(c["ce"]), _pct(c["easy_share"]), _fmt(c["hard_easy_ratio"], 3),
                      _pct(c["accuracy"]), _fmt(c["ece"]))
    _show(out, table)
    if out.encoding.lower().startswith("utf") and len(points) > 1:
        for key, label in (("focal", "focal"), ("accuracy", "accuracy"), ("ece", "ECE")):
            out.print(f"{label:>9}  {_spark([c[key] for c in points])}")
    e = doc["examples"]
    out.print(f"examples: {e['learned']:,} learned (right from some checkpoint on), "
              f"{e['forgotten']:,} forgotten at least once, {e['never_learned']:,} never "
              "learned")


# the table of each kind of document: an explicit registry, not a lookup by name
TABLES = {"score": score_table, "sweep": sweep_table, "curve": curve_table,
          "compare": compare_table, "conventions": conventions_table, "track": track_table}
