"""The console script. Runs before numpy is imported, to keep BLAS to one
thread: `focal` parallelises over blocks itself (--threads), and BLAS threads
inside each block would oversubscribe the cores."""
import os
import sys


def run():
    if sys.argv[1:] == ["--version"]:  # the common case, without numpy (135 ms)
        from . import __version__
        print(f"focal, version {__version__}")
        return
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    from .runtime import keep_freed_memory
    keep_freed_memory()
    from .cli import cli
    cli.main(prog_name="focal")
