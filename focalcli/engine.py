"""The engine of every command, with no click and no rich: the inputs
opened and checked against each other (one file, many files, a cluster),
the presets and option checks every command shares, and the pass over the
data, here or on Dask. The command line (cli.py) and views hand it their
sinks and progress bar; what it finds goes back as outcomes and notes."""
from __future__ import annotations

import numpy as np

from .alpha import AlphaSpec, alpha_in_force
from .errors import OptionError
from .peers import resolve
from .request import HERE, Cluster, Conventions, Reading


class Silent:
    """No progress bar (the library's default; the CLI passes its own)."""

    def __init__(self, total=None, enabled=False):
        pass

    def __call__(self, done):
        pass

    def close(self):
        pass


def open_inputs(predictions, targets, reading: Reading = Reading(),
                conventions: Conventions = Conventions(), cluster: Cluster = HERE, *,
                spool, names=("<predictions>", "<targets>")):
    """Open both inputs; a standard-input spool lives as long as the command.
    Many files (a glob, a directory, @list) open their first shard here, for
    what the command checks before the pass; the pass opens each shard.
    Arrays and frames (the Python API) are tables in memory, called ``names``
    in messages and ``null`` in documents."""
    from .readers import Layout, open_predictions, open_targets
    from .readers.memory import in_memory, predictions_table, targets_file
    from .shards import is_many
    r = reading
    if isinstance(predictions, str) and predictions == "-" and isinstance(targets, str) and \
            targets == "-":
        raise OptionError("TARGETS", "only one of PREDICTIONS and TARGETS can be '-'")
    weight_col = conventions.weight_col
    layout = Layout(r.target_col, r.id_col, class_axis=r.class_axis, shift=r.shift,
                    logprob_col=r.logprob_col, weight_col=weight_col, key=r.key)
    shards = None
    if in_memory(predictions):
        table = predictions_table(predictions, layout, names[0])
    else:
        predictions = str(predictions)
        targets = targets if in_memory(targets) or targets is None else str(targets)
        if is_many(predictions) or cluster.address() is not None:
            if in_memory(targets):
                raise OptionError("TARGETS", f"{predictions} is read as shards: give the "
                                  "targets as files too")
            shards = shard_list(predictions, targets, r.input_format, r.targets_format)
            predictions, targets = shards[0]
        table = open_predictions(predictions, r.input_format, layout, spool=spool)
    if weight_col and table.fmt not in ("csv", "tsv", "parquet", "dataframe"):
        raise OptionError("--weight-col", f"is for CSV, TSV and Parquet tables; give the "
                          f"weights of {table.name} with --weights FILE")
    table.logprobs = table.logprobs or r.logprobs
    if table.logprobs and table.dense is not None:
        raise OptionError("--logprobs", f"is one log-probability per token; {table.name} "
                          "holds arrays of logits")
    if r.shift and table.dense is None:
        raise OptionError("--shift", f"is for sequences of logits (B, T, V); {table.name} "
                          "has rows of scores")
    if r.class_names:
        from .readers.vocab import load_class_names
        names_found = load_class_names(r.class_names) if not in_memory(r.class_names) \
            else [str(c) for c in r.class_names]
        if not table.logprobs and len(names_found) != table.width:  # logprobs: the vocabulary
            raise OptionError("--class-names", f"{_said(r.class_names)} has "
                              f"{len(names_found):,} names for {table.width:,} classes")
        table.classes = names_found
    target_file = None
    if in_memory(targets):
        target_file = targets_file(targets, names[1])
    elif targets is not None:
        target_file = open_targets(str(targets), spool, r.targets_format)
    if target_file is not None and table.has_targets:
        raise OptionError("TARGETS", f"{table.name} has a target column already; give "
                          "TARGETS or the column, not both")
    if target_file is not None:
        target_file.settle(table)
    for source in (table, target_file):
        for remark in getattr(source, "notes", ()):
            note(f"{source.name}: {remark}")
    sources = {"predictions": None if in_memory(predictions) else table.name,
               "targets": target_file.name if target_file and not in_memory(targets)
               else None}
    if shards is not None:
        table.shards, table.cluster = shards, cluster
        table.open_options = dict(input_format=r.input_format,
                                  targets_format=r.targets_format, layout=layout,
                                  class_names=table.classes if r.class_names else None)
        sources.update(predictions=shards.spec[0], targets=shards.spec[1],
                       shards=len(shards))
    return table, target_file, sources


def open_request(req, *, spool):
    """A request's inputs opened (``open_inputs``), with whether its scores are
    probabilities (the option, or the format saying so) and its sources
    naming the --like in force: (table, targets, sources, probs)."""
    table, target_file, sources = open_inputs(req.predictions, req.targets, req.reading,
                                              req.conventions, req.cluster, spool=spool)
    sources["like"] = req.scoring.like
    return table, target_file, sources, req.scoring.probs or table.probs


def pass_settings(scoring, preset, table, target_file, probs: bool, gammas, specs,
                  conventions: dict, temperature_value: float | None = None, **fields):
    """The Settings of a pass from a request's scoring options: one place for
    what every command sets the same way (mode, probabilities, ignored
    targets, gammas, the preset's arithmetic, threads, bins, the checked
    temperature and log-probability mode, the conventions' fields).
    ``conventions``: ``Conventions.settings(mode)``, made once per command (it
    loads a file of weights); ``fields``: what the command sets beside."""
    from .scoring import Settings
    t = scoring.temperature if temperature_value is None else temperature_value
    fields.setdefault("bins", scoring.bins)
    if any(name == "focal-tversky" for name, _ in fields.get("losses", ())) and \
            ({"weights", "class_weight"} & set(conventions) or conventions.get("soft") or
             conventions.get("label_smoothing")):
        raise OptionError("--loss", "focal-tversky is smp's, on class-index targets with no "
                          "weights: drop --weights, --class-weight, soft or smoothed targets")
    if scoring.drop_class is not None:
        fields["drop_class"] = scoring.drop_class
    return Settings(mode=preset.mode, probs=probs, ignore_index=scoring.ignore_index,
                    gammas=tuple(gammas), **preset.settings(), threads=scoring.threads,
                    temperature=temperature(t, probs, table),
                    logprobs=logprob_mode(table, target_file, preset.mode, probs, scoring.like,
                                          specs),
                    **conventions, **fields)


def _said(value) -> str:
    return "the list" if not isinstance(value, str) else value


class ShardList(list):
    """(predictions, targets) pairs, and the specs that named them."""
    spec: tuple = (None, None)


def shard_list(predictions, targets, input_format, targets_format) -> ShardList:
    from .shards import expand, is_many, pair
    if predictions == "-":
        raise OptionError("--workers/--scheduler", "standard input cannot be sent to a "
                          "cluster: give a file, a glob, a directory or @list.txt")
    preds = expand(predictions, "prediction", input_format) if is_many(predictions) \
        else [predictions]
    if targets is not None and len(preds) > 1 and not is_many(targets):
        raise OptionError("TARGETS", f"{predictions} names {len(preds)} files: give TARGETS "
                          "as many files too (a glob, a directory or @list.txt), paired in "
                          "sorted order")
    target_files = None
    if targets is not None:
        target_files = expand(targets, "target", targets_format, targets=True) \
            if is_many(targets) else [targets]
    out = ShardList(pair(preds, target_files, predictions))
    out.spec = (predictions, targets)
    return out


NOTES: list[str] = []
WARNINGS: list[str] = []


def note(text: str):
    """A remark on stderr once the command has succeeded (on bad input the
    one error line is all that is said)."""
    NOTES.append(text)


def warn(text: str):
    """A warning: the numbers stand, but one of them may not mean what the
    user thinks (said after the run, as the notes are)."""
    WARNINGS.append(text)


def warn_absent(spec: AlphaSpec, outcome, mode: str):
    """A class-balancing alpha weighs classes that have no example."""
    from .report import absent_classes
    if spec.data_dependent:
        missing = absent_classes(outcome, mode)
        if missing:
            what = "positive" if mode == "sigmoid" else "example"
            warn(f"no {what} of class {', '.join(missing[:10])}; --alpha {spec.kind} "
                 "weighs it as if it had one")


def preset(like, mode, alpha, normalize, reduction):
    normalize = None if normalize == "none" else normalize
    preset = resolve(like, mode, alpha, normalize)
    if preset.normalize == "positives" and reduction == "sum":
        raise OptionError("--normalize", "positives divides the sum; it does not combine "
                          "with --reduction sum")
    if preset.normalize == "positives" and preset.mode != "sigmoid":
        raise OptionError("--normalize", "positives applies to --mode sigmoid only")
    return preset


def temperature(t: float, probs: bool, table) -> float:
    if t <= 0:
        raise OptionError("--temperature", f"must be > 0, got {t}")
    if t != 1.0 and (probs or table.logprobs):
        raise OptionError("--temperature", "divides logits; the scores here are "
                          + ("log-probabilities" if table.logprobs else "probabilities"))
    return t


def logprob_mode(table, target_file, mode, probs, like, specs) -> bool:
    """Log-probability input, and the options that cannot apply to it."""
    if not table.logprobs:
        return False
    if mode != "softmax" or probs or like:
        raise OptionError("--logprobs", "log-probabilities are of the softmax form: drop "
                          + ("--mode sigmoid" if mode != "softmax" else
                             "--probs" if probs else "--like"))
    if any(s.data_dependent for s in specs) and target_file is None and \
            not table.has_targets:
        raise OptionError("--alpha", "a class-balancing alpha needs the tokens' targets "
                          "(a 'target' column or TARGETS)")
    return True


def losses(texts, gamma, mode, beta=1.0):
    from . import relatives
    from .relatives import RELATIVES
    from .variants import parse_loss
    out = []
    for text in texts:
        name, param = parse_loss(text, gamma, beta)
        if name == "dual-focal" and mode != "softmax":
            raise OptionError("--loss", "dual-focal is of the softmax form")
        if name in RELATIVES:
            relatives.check_mode(name, mode)
        out.append((name, param))
    return out


def grid_losses(texts, gammas, mode, beta) -> dict:
    """The Settings fields of a grid's relatives (sweep, explore): each one at
    every gamma of the grid."""
    return {"losses": tuple(losses(texts, max(gammas), mode, beta)), "losses_per_gamma": True}


def ohem(keep, ratio, background, mode, table):
    if keep is None and ratio is None:
        if background is not None:
            raise OptionError("--background", "is for --ohem-ratio")
        return None
    if keep is not None and ratio is not None:
        raise OptionError("--ohem", "give --ohem or --ohem-ratio, not both")
    if table.dense is not None or table.logprobs:
        raise OptionError("--ohem", "mines examples of (N, K) rows")
    from .variants import Ohem
    mining = Ohem(keep, ratio, background)
    mining.background_index = None
    mining.binary = mode == "sigmoid" and table.width == 1
    if ratio is not None and mode == "softmax":
        if background is None:
            raise OptionError("--ohem-ratio", "softmax needs --background CLASS (the "
                              "negatives' class)")
        names = table.classes or [str(i) for i in range(table.width)]
        if background not in names:
            raise OptionError("--background", f"{background!r} is not a class")
        mining.background_index = names.index(background)
    return mining


def both(first, second):
    if first is None:
        return second

    def both(chunk):
        first(chunk)
        second(chunk)
    return both


def score_pass(table, target_file, settings, alpha=1.0, on_rows=None, top=0,
               rows_on_stdout=False, on_positions=None, on_gradient=None, collector=None,
               progress=None):
    """One pass over the input. ``collector``: a mergeable row sink (with
    ``add``, ``empty`` and ``merge``) that also works on a cluster.
    ``progress``: a bar's class (``(total, enabled=)``, called with the rows
    done, then ``close()``), the caller's view; none by default."""
    from .scoring import Scorer
    Progress = progress or Silent
    if getattr(table, "shards", None) is not None:
        return sharded_pass(table, settings, alpha, on_rows, top, rows_on_stdout,
                            on_positions, on_gradient, collector, Progress)
    if collector is not None:
        on_rows = both(on_rows, collector.add)
    # no bar when rows go to a terminal: it would draw among them
    progress = Progress(None if rows_on_stdout else table.n_rows, enabled=not rows_on_stdout)
    try:
        return Scorer(table, settings, target_file, alpha=alpha, on_rows=on_rows,
                      top=top, on_progress=progress, on_positions=on_positions,
                      on_gradient=on_gradient).run()
    finally:
        progress.close()


def sharded_pass(table, settings, alpha, on_rows, top, rows_on_stdout, on_positions,
                 on_gradient, collector, Progress):
    """Each shard scored on its own (here, or as a task on a Dask cluster),
    the accumulators merged in shard order. On a cluster nothing per example
    comes back but ``--top`` and a ``collector`` (a small mergeable sink)."""
    from . import distributed, shards
    if on_positions is not None or on_gradient is not None:
        raise OptionError("--map/--grad", "write one array for one input file; they do not "
                          "take many files")
    if isinstance(settings.weights, np.ndarray):
        raise OptionError("--weights", "a file of weights is for one input file; with many "
                          "files give one number, or none")
    address, workers, timeout = table.cluster.address(), table.cluster.workers, \
        table.cluster.timeout
    if address is not None and on_rows is not None:
        raise OptionError("--workers/--scheduler", "per-example rows (--per-example, -o) "
                          "stay on one machine: drop the cluster option, or use --top")
    jobs = [shards.Job(i, p, t, table.open_options, settings, alpha, top)
            for i, (p, t) in enumerate(table.shards)]
    progress = Progress(len(jobs), enabled=not rows_on_stdout)
    try:
        if address is None:
            merger = shards.Merger(jobs, top)
            sink = both(on_rows, collector.add) if collector is not None else on_rows
            shards.run_here(jobs, merger, sink, progress)
        else:
            merger = shards.Merger(jobs, top, collector)
            for job in jobs:
                job.collector = collector.empty() if collector is not None else None
            with distributed.client(address, workers, timeout) as c:
                distributed.run(c, jobs, merger, progress)
    finally:
        progress.close()
    return merger.outcome()


def row_alpha(spec: AlphaSpec, table, target_file, settings, mode, need_rows, progress=None):
    """The alpha that per-example rows are weighted with. A strategy needs
    the class counts first: one counting pass, only when rows are asked for
    (the summary applies alpha at the end, from the same counts)."""
    if not spec.data_dependent:
        return alpha_in_force(spec, table.width, mode)
    if not need_rows:
        return 1.0
    counted = score_pass(table, target_file, settings, progress=progress)
    return alpha_in_force(spec, counted.n_classes, mode, counted.acc)
