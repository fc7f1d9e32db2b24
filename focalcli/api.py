"""The Python API: each command as a function. Keywords are the long
options (``--ignore-index`` is ``ignore_index``), taking Python values;
inputs are paths (globs, directories, ``@list``, URLs, as on the command
line), numpy arrays, pandas DataFrames and Series, or anything with
``__array__``. Each builds the command's request through the same
constructors as the CLI, runs the same engine, and returns a
:class:`~focalcli.reports.Report`. Bad input raises :class:`InputError`
with the CLI's one-line message."""
from __future__ import annotations

import contextlib
import difflib
import os
import warnings
from dataclasses import fields

from . import engine
from .errors import FocalError, InputError
from .reports import Report
from .request import (Cluster, CompareRequest, Conventions, ConventionsRequest, CurveRequest,
                      ExploreRequest, Reading, ScoreRequest, Scoring, SweepRequest,
                      TrackRequest)

_CONVENTIONS = ("weights", "soft_targets", "label_smoothing", "weight_col", "class_weight",
                "pos_weight")
_CLUSTER = ("workers", "scheduler", "timeout")
_CLI_ONLY = {"per_example": "the rows go to a file here: output='rows.csv'",
             "format": "a report has to_dict(), to_json(), to_markdown() and to_frame()"}


class UnknownOption(InputError, TypeError):
    """A keyword that is no option of the command: an InputError as every
    refusal is, and the TypeError Python raises for an unexpected keyword."""


class FocalWarning(UserWarning):
    """What the CLI says on stderr after a run (a class-balancing alpha for an
    absent class, an index column taken for one)."""


@contextlib.contextmanager
def _library_call():
    """The engine's notes as warnings, and every refusal as an InputError."""
    engine.NOTES.clear()
    engine.WARNINGS.clear()
    try:
        yield
    except InputError:
        raise
    except FocalError as err:  # an option's error: the CLI's words, a ValueError
        raise InputError(str(err)) from None
    for text in engine.WARNINGS + engine.NOTES:
        warnings.warn(text, FocalWarning, stacklevel=4)
    engine.NOTES.clear()
    engine.WARNINGS.clear()


def _request(cls, options: dict, **given):
    """``cls`` from keyword options: the parts (reading, scoring, conventions,
    cluster) gathered from their own keywords, the rest the request's."""
    for name, why in _CLI_ONLY.items():
        if name in options:
            raise UnknownOption(f"{name}= is a command-line option; {why}")
    own = {f.name for f in fields(cls)} - {"reading", "scoring", "conventions", "cluster"}
    parts = {"reading": {f.name for f in fields(Reading)},
             "scoring": {f.name for f in fields(Scoring)},
             "conventions": set(_CONVENTIONS), "cluster": set(_CLUSTER)}
    known = own.union(*parts.values()) if cls is not CurveRequest else own
    unknown = sorted(set(options) - known)
    if unknown:
        close = difflib.get_close_matches(unknown[0], sorted(known), 1)
        raise UnknownOption(f"unknown option {unknown[0]!r}"
                        + (f"; did you mean {close[0]!r}?" if close else ""))
    args = {k: v for k, v in options.items() if k in own}
    if cls is not CurveRequest:
        picked = {part: {k: v for k, v in options.items() if k in names}
                  for part, names in parts.items()}
        args.update(reading=Reading(**picked["reading"]), scoring=Scoring(**picked["scoring"]),
                    conventions=Conventions.parse(**picked["conventions"]),
                    cluster=Cluster(**picked["cluster"]))
    return cls(**args, **given)


def _path(value):
    return os.fspath(value) if isinstance(value, os.PathLike) else value


def score(predictions, targets=None, **options) -> Report:
    """Focal loss beside cross-entropy, reduced and per class (``focal score``):
    ``focalcli.score(logits, labels, gamma=2, alpha="balanced")["focal"]``."""
    from .runs import score as job
    with _library_call():
        if options.get("per_element") and not options.get("output") and \
                not options.get("map"):
            raise InputError("per_element: the elements' rows are written to a file: "
                             "give output='elements.csv' (or a dense input's "
                             "map='elements.npy')")
        req = _request(ScoreRequest, options, predictions=_path(predictions),
                       targets=_path(targets))
        return Report("score", job.run(req))


def sweep(predictions, targets=None, **options) -> Report:
    """The grid of gamma and alpha (``focal sweep``); ``gammas`` and ``alphas``
    take lists (an alpha per class is a list inside the list)."""
    from .runs import sweep as job
    with _library_call():
        req = _request(SweepRequest, options, predictions=_path(predictions),
                       targets=_path(targets))
        return Report("sweep", job.run(req))


def compare(baseline, candidate, targets=None, **options) -> Report:
    """Did ``candidate`` get worse than ``baseline`` (``focal compare``)? The
    baseline may be predictions, or a saved summary (a path, or a score
    report). ``report.passed`` says whether the gates passed."""
    from .runs import compare as job
    if isinstance(baseline, Report):
        baseline = baseline.to_dict()
    with _library_call():
        req = _request(CompareRequest, options, baseline=_path(baseline),
                       candidate=_path(candidate), targets=_path(targets))
        return Report("compare", job.run(req))


def curve(**options) -> Report:
    """Focal loss against p_t, with no input (``focal curve``)."""
    from .runs import curve as job
    with _library_call():
        return Report("curve", job.run(_request(CurveRequest, options)))


def explore(predictions, targets=None, output=None, **options) -> Report:
    """Write the explorer page to ``output`` (an .html path) and return its data."""
    from .runs import explore as job
    with _library_call():
        if output is None:
            raise InputError("output: the explorer is a page: give output='explorer.html'")
        req = _request(ExploreRequest, options, predictions=_path(predictions),
                       targets=_path(targets), output=os.fspath(output))
        return Report("explore", job.run(req))


def conventions(predictions, targets=None, **options) -> Report:
    """The same predictions under focal's convention and every ``like`` preset
    that takes them (``focal conventions``); ``to_frame()`` has a row each."""
    from .runs import conventions as job
    with _library_call():
        req = _request(ConventionsRequest, options, predictions=_path(predictions),
                       targets=_path(targets))
        return Report("conventions", job.run(req))


def track(checkpoints, targets=None, **options) -> Report:
    """Training dynamics across checkpoints (``focal track``): a glob, a
    directory or ``@list`` of prediction files; ``to_frame()`` has a row per
    checkpoint; ``output=`` writes the per-example dynamics."""
    from .runs import track as job
    with _library_call():
        req = _request(TrackRequest, options, checkpoints=_path(checkpoints),
                       targets=_path(targets))
        return Report("track", job.run(req))
