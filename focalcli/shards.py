"""Many files as one input: a glob, a directory, ``@list.txt``, or the same
behind an fsspec URL. Each shard of predictions (with its shard of targets)
is scored on its own into a mergeable :class:`summary.Accumulator`; the
accumulators are merged in shard order, never in completion order, so the
numbers are the same bits however many workers score the shards, in this
process or on a Dask cluster (distributed.py)."""
from __future__ import annotations

import glob
import os
from dataclasses import dataclass

from .errors import InputError, OptionError
from .readers.remote import filesystem, is_url, local_path, remote_errors
from .readers.source import EXTENSIONS, PREDICTION_FORMATS, TARGET_FORMATS

GLOB_CHARS = "*?["


def is_many(spec: str | None) -> bool:
    """Does ``spec`` name several files (a list file, a glob, a directory)?"""
    if not spec or spec == "-":
        return False
    if not is_url(spec) and os.path.exists(local_path(spec)):
        return os.path.isdir(local_path(spec))  # a file named 'run[best].csv' is that file
    if spec.startswith("@"):
        return True
    if any(c in spec for c in GLOB_CHARS):
        return True
    if is_url(spec):
        fs, path = filesystem(spec)
        with remote_errors(spec):
            return fs.isdir(path)
    return False


def expand(spec: str, what: str, fmt: str | None = None, targets: bool = False) -> list[str]:
    """The files ``spec`` names, in sorted name order (a list file keeps its
    own order). A directory gives its files of the input's format, searched
    recursively (a Parquet dataset's hive partitions included)."""
    allowed = TARGET_FORMATS if targets else PREDICTION_FORMATS
    if spec.startswith("@"):
        listing = spec[1:]
        try:
            with _open(listing) as f:
                files = [line.strip() for line in f.read().decode("utf-8").splitlines()]
        except (OSError, UnicodeDecodeError) as err:
            raise InputError(f"cannot read the list of files ({err})", listing) from None
        files = [f for f in files if f and not f.startswith("#")]
        if not files:
            raise InputError("lists no files", listing)
        return files
    if any(c in spec for c in GLOB_CHARS):
        files = _glob(spec)
    else:
        files = [f for f in _walk(spec) if _format_of(f) in allowed]
        if fmt is None:
            kinds = sorted({_format_of(f) for f in files})
            if len(kinds) > 1:
                raise InputError(f"holds files of several formats ({', '.join(kinds)}); "
                                 f"use a glob or --input-format", spec)
        else:
            files = [f for f in files if _format_of(f) == fmt.lower().lstrip(".")]
    if not files:
        raise InputError(f"matches no {what} files", spec)
    return sorted(files, key=_sort_key)


def _format_of(path: str) -> str | None:
    if path.lower().endswith(".nii.gz"):
        return "nifti"
    stem = path[:-3] if path.lower().endswith(".gz") else path
    return EXTENSIONS.get(os.path.splitext(stem)[1].lower())


def _sort_key(path: str):
    return path.rstrip("/")


def _open(path: str):
    if is_url(path):
        fs, inner = filesystem(path)
        return fs.open(inner, "rb")
    return open(local_path(path), "rb")


def _glob(spec: str) -> list[str]:
    if is_url(spec):
        fs, inner = filesystem(spec)
        protocol = spec.split("://", 1)[0]
        with remote_errors(spec):
            return [f"{protocol}://{p}" for p in fs.glob(inner) if fs.isfile(p)]
    return [f for f in glob.glob(local_path(spec), recursive=True) if os.path.isfile(f)]


def _walk(spec: str) -> list[str]:
    if is_url(spec):
        fs, inner = filesystem(spec)
        protocol = spec.split("://", 1)[0]
        with remote_errors(spec):
            return [f"{protocol}://{p}" for p in fs.find(inner)]
    out = []
    for root, dirs, files in os.walk(local_path(spec)):
        dirs[:] = [d for d in dirs if not d.startswith((".", "_"))]
        out += [os.path.join(root, f) for f in files if not f.startswith((".", "_"))]
    return out


def shard_name(path: str) -> str:
    """What per-example rows call a shard: its file name (with the
    partition directories of a dataset, which can repeat a file name)."""
    return path.rstrip("/").rsplit("/", 1)[-1]


def pair(predictions: list[str], targets: list[str] | None, spec: str):
    """Shards of predictions with shards of targets, in sorted order."""
    if targets is None:
        return [(p, None) for p in predictions]
    if len(targets) != len(predictions):
        raise InputError(f"{len(predictions)} prediction shards but {len(targets)} target "
                         "shards: they are paired in sorted order", spec)
    return list(zip(predictions, targets))


@dataclass
class Job:
    """One shard to score: everything a worker needs, and nothing that
    cannot travel (paths, options, settings; no open files)."""

    index: int
    predictions: str
    targets: str | None
    open_options: dict
    settings: object
    alpha: object = 1.0
    top: int = 0
    collector: object = None   # a mergeable row sink that travels back (explore's Hardest)


@dataclass
class Result:
    index: int
    outcome: object = None
    collector: object = None
    error: str | None = None    # an InputError's one line, from wherever it was scored


def score_shard(job: Job, on_rows=None) -> Result:
    """Score one shard (on a Dask worker, or here). Bad input comes back as
    its message: exceptions of ours need not unpickle on the client."""
    from .readers import Spool
    from .scoring import Scorer
    settings = _worker_settings(job.settings)
    try:
        with Spool() as spool:
            table, target_file = open_shard(job.predictions, job.targets, spool,
                                            **job.open_options)
            sink = on_rows
            if job.collector is not None:
                sink = with_shard(job.collector.add, shard_name(job.predictions))
            outcome = Scorer(table, settings, target_file, alpha=job.alpha,
                             on_rows=sink, top=job.top).run()
        return Result(job.index, outcome, job.collector)
    except (InputError, OptionError) as err:
        return Result(job.index, error=str(err))


def _worker_settings(settings):
    """On a Dask worker: as many threads as the worker was given (not every
    core: other workers share the machine; the sums do not depend on it), and
    glibc told to keep freed blocks."""
    if settings.threads:
        return settings
    try:
        from distributed import get_worker
        nthreads = get_worker().state.nthreads
    except (ImportError, ValueError, AttributeError):
        return settings
    # as the `focal` command does for itself; dask's nanny sets
    # MALLOC_TRIM_THRESHOLD_=65536, under which a shard takes ~1.4 x as long
    from .runtime import keep_freed_memory
    keep_freed_memory()
    import dataclasses
    return dataclasses.replace(settings, threads=nthreads)


def open_shard(predictions, targets, spool, *, input_format=None, targets_format=None,
               layout=None, class_names=None):
    from .readers import open_predictions, open_targets
    table = open_predictions(predictions, input_format, layout, spool=spool)
    if class_names is not None:
        table.classes = list(class_names)
    target_file = open_targets(targets, spool, targets_format) if targets else None
    if target_file is not None:
        if table.has_targets:
            raise InputError(f"{table.name} has a target column already; give TARGETS or "
                             "the column, not both")
        target_file.settle(table)
    return table, target_file


class Merger:
    """Shards' outcomes merged into one, strictly in shard order (the same
    bits whichever worker scored which shard, and when). A result that
    arrives early waits for those before it, so the client holds one
    accumulator and the few results that came out of order."""

    def __init__(self, jobs: list[Job], top: int = 0, collector=None):
        self.jobs, self.top, self.collector = jobs, top, collector
        self.waiting: dict[int, Result] = {}
        self.next = 0
        self.first = None
        self.rows: list[dict] = []

    def add(self, result: Result):
        self.waiting[result.index] = result
        while self.next in self.waiting:
            self._merge(self.jobs[self.next], self.waiting.pop(self.next))
            self.next += 1

    def _merge(self, job: Job, result: Result):
        import dataclasses
        out = result.outcome
        if self.first is None:
            self.first = out
        else:
            first = self.first
            if out.classes != first.classes and not out.tokens:
                raise InputError(f"has classes {_short(out.classes)} where the first shard "
                                 f"has {_short(first.classes)}", job.predictions)
            first.acc.merge(out.acc)
            if first.dense is not None:
                if out.dense is None or out.dense.spatial != first.dense.spatial:
                    raise InputError(f"has examples of shape "
                                     f"{getattr(out.dense, 'spatial', '?')} where the first "
                                     f"shard has {first.dense.spatial}", job.predictions)
                first.dense = dataclasses.replace(
                    first.dense, examples=first.dense.examples + out.dense.examples)
        self.rows += [{"shard": shard_name(job.predictions), **row} for row in out.top]
        self.rows = sorted(self.rows, key=lambda r: -r["focal"])[:self.top]  # stable
        if self.collector is not None and result.collector is not None:
            self.collector.merge(result.collector)

    def outcome(self):
        first = self.first
        first.top = self.rows
        first.source = self.jobs[0].predictions
        return first


def _short(names: list) -> str:
    shown = ", ".join(map(str, names[:5]))
    return f"[{shown}{', ...' if len(names) > 5 else ''}] ({len(names)})"


def with_shard(on_rows, name: str):
    """Per-example rows of a shard carry its file name; ``index`` is the
    row within the shard."""
    import numpy as np

    def write(chunk: dict):
        n = len(next(iter(chunk.values())))
        on_rows({"shard": np.full(n, name, dtype=object), **chunk})
    return write


def run_here(jobs: list[Job], merger: Merger, on_rows=None, progress=None):
    """Score the shards in this process, one after another (each on every
    core), stopping at the first bad one."""
    for done, job in enumerate(jobs, 1):
        sink = with_shard(on_rows, shard_name(job.predictions)) if on_rows else None
        result = score_shard(job, sink)
        if result.error:
            raise InputError(result.error)
        merger.add(result)
        if progress:
            progress(done)
