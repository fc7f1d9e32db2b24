"""``--class-names FILE``: names for the classes, so per-class and top rows
show them: a text file (one name per line), a JSON list, or a JSON object
``{name: id}`` such as a tokenizer's ``vocab.json``."""
from __future__ import annotations

from ..errors import InputError
from .jsonfmt import json_error, loads
from .source import locate, open_text, read_errors


class StatedNames(list):
    """Class names whose ids a ``{name: id}`` map states (a tokenizer's
    vocab.json): a name that is a number ('0', '15') is then just a token,
    not a header that could be mistaken for a class index."""

    stated_ids = True


def load_class_names(path: str) -> list[str]:
    src = locate(path, None, None, ("txt", "json", "csv", "tsv"))
    with read_errors(src), open_text(src) as f:
        text = f.read()
    if src.fmt != "json":
        names = text.splitlines()
        while names and not names[-1].strip():
            names.pop()
        return [n.strip() for n in names]
    try:
        doc = loads(text)
    except ValueError as err:
        raise json_error(err, src.name) from None
    if isinstance(doc, list) and all(isinstance(n, str) for n in doc):
        return doc
    if isinstance(doc, dict) and all(isinstance(i, int) and not isinstance(i, bool)
                                     for i in doc.values()):
        names = [None] * len(doc)
        for name, i in doc.items():
            if not 0 <= i < len(doc) or names[i] is not None:
                raise InputError(f"ids must be 0..{len(doc) - 1}, each once (check "
                                 f"{name!r}: {i})", src.name)
            names[i] = name
        return StatedNames(names)
    raise InputError("expected a list of names or an object {name: id}", src.name)
