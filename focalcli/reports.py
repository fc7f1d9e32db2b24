"""What the Python API returns: a command's document with its views, for a
notebook (``_repr_html_``), a script (``to_dict``, ``to_frame``) and a pull
request (``to_markdown``). The document is the CLI's ``--format json``
object; the report only renders it."""
from __future__ import annotations

import html
import json


class Report:
    """One command's document. ``kind``: score, sweep, compare, curve or explore."""

    def __init__(self, kind: str, doc: dict):
        self.kind, self._doc = kind, doc

    def to_dict(self) -> dict:
        """The document as ``focal KIND --format json`` prints it (NaN as null)."""
        return json.loads(self.to_json())

    def to_json(self) -> str:
        from .views import dumps
        return dumps(self._doc)

    def to_markdown(self) -> str:
        from .views import md_number, md_table, text
        if self.kind in ("score", "sweep", "compare", "conventions", "track"):
            return text(self._doc, self.kind, "markdown")
        frame = self.to_frame()
        return f"**focal {self.kind}**: {self.headline()}\n\n" + md_table(
            [str(c) for c in frame.columns],
            [[md_number(v) for v in row] for row in frame.astype(object).values.tolist()])

    def to_frame(self):
        """A pandas DataFrame: per class (score, compare), the grid (sweep),
        the rows (curve), the page's cells (explore)."""
        import pandas as pd
        doc = self.to_dict()
        if self.kind == "explore":  # cells[gamma][alpha]
            return pd.DataFrame([{"gamma": g, "alpha": a, **_flat(cell)}
                                 for g, row in zip(doc["gammas"], doc["cells"])
                                 for a, cell in zip(doc["alphas"], row)])
        key = {"score": "per_class", "compare": "per_class", "sweep": "grid",
               "curve": "rows", "conventions": "conventions",
               "track": "checkpoints"}[self.kind]
        return pd.DataFrame([_flat(row) for row in doc[key]])

    @property
    def passed(self) -> bool:
        """compare: did every gate pass (True when none was set)."""
        return bool(self._doc.get("gates", {}).get("passed", True))

    def __getitem__(self, key):
        return self.to_dict()[key]

    def headline(self) -> str:
        d = self._doc
        if self.kind == "score":
            return (f"{d['reduction']} focal loss {_num(d['focal'])}, cross-entropy "
                    f"{_num(d['ce'])}, focal / CE {_num(d['ratio'])} over {d['n']:,} "
                    f"{d['unit']}s (gamma {d['gamma']:g}, alpha {d['alpha_spec']})")
        if self.kind == "compare":
            return (f"focal loss {_num(d['baseline']['focal'])} -> "
                    f"{_num(d['candidate']['focal'])}, delta {_num(d['delta']['focal'])}; "
                    f"gates {'passed' if self.passed else 'failed'}")
        if self.kind == "track":
            return (f"{len(d['checkpoints'])} checkpoints, focal "
                    + " -> ".join(_num(c["focal"]) for c in d["checkpoints"][:6]))
        if self.kind == "conventions":
            return ", ".join(f"{r['like'] or 'focal'} {_num(r['focal'])}"
                             for r in d["conventions"])
        if self.kind in ("sweep", "explore"):
            return (f"{len(d['gammas'])} gammas x {len(d['alphas'])} alphas over "
                    f"{d.get('n', 0):,} {d.get('unit', 'example')}s")
        return f"focal loss against p_t for gammas {', '.join(f'{g:g}' for g in _gammas(d))}"

    def __repr__(self) -> str:
        return f"<focal {self.kind}: {self.headline()}>"

    def _repr_html_(self) -> str:
        frame = self.to_frame()
        return (f"<div><p><b>focal {self.kind}</b>: {html.escape(self.headline())}</p>"
                + frame.to_html(index=False, na_rep="–", float_format=lambda v: f"{v:.6g}")
                + "</div>")


def _flat(row: dict) -> dict:
    """A row's scalars; an interval as its two ends."""
    out = {k: v for k, v in row.items() if not isinstance(v, (list, dict))}
    if "interval" in row:
        out["low"], out["high"] = (row["interval"] or {}).get("low"), \
            (row["interval"] or {}).get("high")
    return out


def _num(v) -> str:
    return "null" if v is None else f"{v:.6g}"


def _gammas(doc: dict) -> list[float]:
    return sorted({r["gamma"] for r in doc["rows"]})
