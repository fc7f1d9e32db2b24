"""JSON (one document, loaded whole: the format has no rows to stream) and
JSONL (one row object per line, streamed)."""
from __future__ import annotations

import itertools
import json

import numpy as np

from ..errors import InputError
from .arrays import array_table
from .source import Source, numbered_lines, open_text, read_errors
from .table import (Batch, Layout, Table, logprob_layout, mark_logprobs, split_columns,
                    where as _where)


def _reject_constant(token: str):
    raise ValueError(f"{token} is not a number JSON allows")


# one decoder for every line: json.loads with options builds a new one per call,
# which made JSONL twice as slow as the same rows in one JSON document
def _unique_keys(pairs):
    out = dict(pairs)
    if len(out) != len(pairs):
        seen = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise ValueError(f"key {dup!r} appears twice in one object")
    return out


_DECODER = json.JSONDecoder(parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
BATCH_BYTES = 16 << 20  # a JSONL batch: at most this much text (Python lists are ~8x it)


def loads(text: str):
    return _DECODER.decode(text)


def json_error(err: ValueError, name: str, line: int | None = None) -> InputError:
    """Locate a JSON syntax error: line and column in the file."""
    if isinstance(err, json.JSONDecodeError):
        row = err.lineno if line is None else line
        return InputError(f"invalid JSON: {err.msg}", name, row=row, line=True,
                          column=err.colno - 1)
    return InputError(f"invalid JSON: {err}", name, row=line, line=line is not None)


_FLOAT_MAX = int(np.finfo(np.float64).max)
_NUMBER_TYPES = {int, float}


def _plain_numbers(rows: list) -> np.ndarray | None:
    """The common case at C speed: every row a list of the same length, every
    value an int or a float (bools and strings excluded by type). None sends
    the caller to the row-by-row check, which says where the problem is."""
    if not rows:
        return None
    if type(rows[0]) is list:
        if len(set(map(len, rows))) != 1 or not set(map(type, rows)) <= {list}:
            return None
        values = itertools.chain.from_iterable(rows)
    else:
        values = rows
    if not set(map(type, values)) <= _NUMBER_TYPES:
        return None
    try:
        return np.asarray(rows, dtype=np.float64)
    except (OverflowError, ValueError):
        return None


def number_matrix(rows, name: str, what: str, first_line=None) -> np.ndarray:
    """A list of equal-length lists of numbers (or a list of numbers, one per
    row), checked row by row."""
    if not isinstance(rows, list):
        raise InputError(f"{what} must be a list", name)
    fast = _plain_numbers(rows)
    if fast is not None:
        return fast
    width = None
    for i, row in enumerate(rows):
        items = row if isinstance(row, list) else [row]
        if width is None:
            width = len(items)
        if len(items) != width:
            raise InputError(f"ragged {what}: {len(items)} values where the first row "
                             f"has {width}", name, **_where(i, first_line))
        for j, v in enumerate(items):
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise InputError(f"{json.dumps(v)[:40]} is not a number", name,
                                 **_where(i, first_line), column=j)
            if isinstance(v, int) and not -_FLOAT_MAX <= v <= _FLOAT_MAX:
                raise InputError(f"{str(v)[:20]}... is too large for a number", name,
                                 **_where(i, first_line), column=j)
    if not rows:
        raise InputError(f"{what} is empty", name)
    return np.asarray(rows, dtype=np.float64)


def _rows_batch(objs: list, start: int, layout: Layout, name: str, first_line,
                state: dict) -> Batch:
    """Row objects (as in a table, or ``{"logits": [...], "target": t}``) to a
    Batch. Which of the two forms, and whether there are ids, is settled by
    the first row of the input and holds for every batch."""
    for i, o in enumerate(objs):
        if not isinstance(o, dict):
            raise InputError("expected a row object", name, **_where(start + i, first_line))
    id_key = layout.id_col or "id"
    if state.setdefault("logits_form", "logits" in objs[0]):
        for i, o in enumerate(objs):
            if "logits" not in o:
                raise InputError("expected an object with \"logits\"", name,
                                 **_where(start + i, first_line))
        scores = number_matrix([o["logits"] for o in objs], name, "logits",
                                None if first_line is None else first_line + start)
        tkey = layout.target_col or "target"
        targets = [o.get(tkey, o.get("label")) for o in objs]
        has_t = state.setdefault("has_targets", targets[0] is not None)
        if has_t and any(t is None for t in targets):
            i = next(i for i, t in enumerate(targets) if t is None)
            raise InputError(f"missing {tkey!r}", name, **_where(start + i, first_line))
        has_ids = state.setdefault("has_ids", id_key in objs[0])
        return Batch(start, scores, np.asarray(targets, dtype=object) if has_t else None,
                     _ids([o.get(id_key) for o in objs]) if has_ids else None)
    if "columns" not in state:
        keys = list(objs[0].keys())
        state["columns"] = keys
        state["split"] = split_columns(keys, layout, name)
        state["group"] = logprob_layout(keys, state["split"][2], layout)[1]
    keys = state["columns"]
    target, ident, scores = state["split"]
    matrix = []
    for i, o in enumerate(objs):
        if o.keys() != set(keys):
            missing = [k for k in keys if k not in o] or [k for k in o if k not in keys]
            raise InputError(f"row has different keys from the first (check {missing[0]!r})",
                             name, **_where(start + i, first_line))
        matrix.append([o[c] for c in scores])
    arr = number_matrix(matrix, name, "scores",
                         None if first_line is None else first_line + start)
    group = state["group"]
    return Batch(start, arr,
                 np.asarray([o[target] for o in objs], dtype=object) if target else None,
                 _ids([o[ident] for o in objs]) if ident else None,
                 groups=_ids([o[group] for o in objs]) if group else None)


def _ids(values: list) -> np.ndarray:
    """Ids as text; a missing or null id is empty, so every row keeps the column."""
    return np.asarray(["" if v is None else v if isinstance(v, str) else json.dumps(v)
                       for v in values], dtype=object)


def read_json(src: Source, layout: Layout) -> Table:
    name = src.name
    with read_errors(src), open_text(src) as f:
        try:
            doc = loads(f.read())
        except ValueError as err:
            raise json_error(err, name) from None
    if isinstance(doc, dict):
        if "logits" not in doc:
            raise InputError("a JSON object needs a \"logits\" key", name)
        scores = number_matrix(doc["logits"], name, "logits")
        if scores.shape[1:] == (1,) and not isinstance(doc["logits"][0], list):
            scores = scores[:, 0]
        targets = doc.get("targets")
        if targets is not None:
            targets = target_list(targets, name)
        classes = doc.get("classes")
        if classes is not None and not (isinstance(classes, list)
                                        and all(isinstance(c, str) for c in classes)):
            raise InputError("\"classes\" must be a list of strings", name)
        return array_table(scores, targets, name, "json", classes)
    if not isinstance(doc, list) or not doc:
        raise InputError("expected a non-empty array or an object with \"logits\"", name)
    if isinstance(doc[0], dict):
        state: dict = {}
        batch = _rows_batch(doc, 0, layout, name, None, state)
        classes = state["split"][2] if "split" in state else None
        return array_table(batch.scores, batch.targets, name, "json", classes)
    scores = number_matrix(doc, name, "scores")
    if not isinstance(doc[0], list):
        scores = scores[:, 0]
    return array_table(scores, None, name, "json")


def target_list(values, name: str) -> np.ndarray:
    if not isinstance(values, list):
        raise InputError("targets must be a list", name)
    if values and isinstance(values[0], list):
        return number_matrix(values, name, "targets")
    for i, v in enumerate(values):
        if isinstance(v, (list, dict)) or v is None or isinstance(v, bool):
            raise InputError(f"target {json.dumps(v)[:40]} is not a class", name, row=i + 1)
    return np.asarray(values, dtype=object)


def read_jsonl(src: Source, layout: Layout) -> Table:
    name = src.name
    # one cheap look at the first row tells whether there are class names/targets
    with read_errors(src), open_text(src) as f:
        number, first = next(((n, line) for n, line in numbered_lines(f, name)
                              if line.strip()), (0, None))
    if first is None:
        raise InputError("is empty", name)
    try:
        head = loads(first)
    except ValueError as err:
        raise json_error(err, name, number) from None
    if not isinstance(head, dict):
        raise InputError("each line must be a JSON object", name, row=1, line=True)
    classes = None
    has_targets = (layout.target_col or "target") in head or "label" in head
    if "logits" not in head:
        target, _, classes = split_columns(list(head.keys()), layout, name)
        has_targets = target is not None
        logprobs, _ = logprob_layout(list(head.keys()), classes, layout)

    def batches():
        state: dict = {}
        start, objs, lines, size = 0, [], [], 0
        decode, append = _DECODER.decode, objs.append
        with read_errors(src), open_text(src) as f:
            for lineno, line in numbered_lines(f, name):
                if line.isspace():
                    continue
                try:
                    append(decode(line.rstrip("\r\n")))
                except ValueError as err:
                    raise json_error(err, name, lineno) from None
                lines.append(lineno)
                size += len(line)
                if len(objs) == src.batch_rows or size >= BATCH_BYTES:
                    yield _jsonl_batch(objs, lines, start, layout, name, state)
                    start += len(objs)
                    objs, lines, size = [], [], 0
                    append = objs.append
            if objs:
                yield _jsonl_batch(objs, lines, start, layout, name, state)
    width = len(classes) if classes is not None else _width(head.get("logits"))
    table = Table(name, "jsonl", batches, width, classes, has_targets)
    if "logits" not in head:
        mark_logprobs(table, list(head.keys()), classes, layout)
        if table.logprobs:
            table.classes = None
    return table


def _width(logits) -> int:
    return len(logits) if isinstance(logits, list) else 1


def _jsonl_batch(objs, lines, start, layout, name, state) -> Batch:
    try:
        batch = _rows_batch(objs, 0, layout, name, 1, state)
    except InputError as err:
        if err.row is not None:  # a position within this batch: map it to its line
            err.row = lines[err.row - 1]
        raise
    batch.start = start
    batch.lines = np.asarray(lines)
    return batch
