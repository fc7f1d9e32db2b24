"""Shards on a Dask cluster: ``--workers N`` starts an embedded
``LocalCluster`` of N worker processes, ``--scheduler ADDRESS`` (or
``DASK_SCHEDULER_ADDRESS``) joins an existing one. Each shard is one task;
workers open their shard themselves (from storage, by URL) and send back
only its accumulator (a few KB), which the client merges in shard order.
A worker that dies mid-task is replaced by Dask, which runs the task again:
the result is the same bits.

Needs the ``dask`` extra: ``pip install 'focalcli[dask]'``."""
from __future__ import annotations

import contextlib
import os
import warnings

from .errors import InputError, OptionError
from .shards import Job, score_shard

EXTRA = "pip install 'focalcli[dask]'"


def _distributed():
    try:
        import distributed
    except ImportError:
        raise OptionError("--workers/--scheduler", f"running on Dask needs the dask extra: "
                          f"{EXTRA}") from None
    return distributed


@contextlib.contextmanager
def client(address: str, workers: int | None, timeout: float):
    """A Dask client for the run: an embedded cluster, or the scheduler at
    ``address`` (exit 2 naming it when it does not answer within timeout)."""
    distributed = _distributed()
    import dask
    import logging
    # the cluster's own chatter (ports, nannies, closing) is not ours to print
    for name in ("distributed", "tornado"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    with dask.config.set({"distributed.comm.timeouts.connect": f"{timeout}s"}):
        if address == "local":
            # the workers are processes of their own, configured from the environment
            # when they import distributed: quiet there too (a cancelled task's
            # WARNING on SIGTERM is not news), unless the user set a level
            os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "error")
            with warnings.catch_warnings():
                # "port 8787 in use, serving on another": the cluster is ours alone
                warnings.simplefilter("ignore")
                cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1,
                                                   processes=True, host="127.0.0.1",
                                                   dashboard_address=":0")
            with cluster, distributed.Client(cluster) as c:
                yield c
            return
        try:
            c = distributed.Client(address, timeout=timeout)
        except (OSError, TimeoutError, ValueError) as err:
            raise OptionError("--scheduler", f"no Dask scheduler answered at {address} "
                              f"within {timeout:g} s ({type(err).__name__})") from None
        with c:
            yield c


def run(c, jobs: list[Job], merger, progress=None):
    """Score every shard on the cluster, each result to ``merger`` as it
    comes (the merger keeps shard order). The first shard with bad input
    stops the run."""
    distributed = _distributed()
    futures = [c.submit(score_shard, job, key=f"focal-shard-{job.index}-{os.getpid()}-"
                        f"{id(jobs)}", pure=False) for job in jobs]
    try:
        for done, future in enumerate(distributed.as_completed(futures), 1):
            try:
                result = future.result()
            except distributed.KilledWorker:
                job = jobs[futures.index(future)]
                raise OptionError("--workers/--scheduler", f"workers died each time they "
                                  f"scored {job.predictions} (out of memory?)") from None
            if result.error:
                raise InputError(result.error)
            merger.add(result)
            future.release()  # the worker may forget it: the merger has it
            if progress:
                progress(done)
    finally:
        for f in futures:
            f.cancel()
