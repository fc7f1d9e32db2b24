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
    # the modules' objects live as long as the process: the collector went
    # through them 50-odd times while they were made (10-15 ms of a 180 ms
    # run) and in every full collection after; made, they are set aside
    import gc
    gc.disable()
    from .runtime import keep_freed_memory
    keep_freed_memory()
    from .cli import cli
    from .cli.app import COMMANDS
    if sys.argv[1:2] and sys.argv[1] in COMMANDS:
        try:
            cli.get_command(None, sys.argv[1])  # the command's modules
        except Exception:  # noqa: BLE001 - loaded again below, where errors are reported
            pass
    gc.freeze()
    gc.enable()
    cli.main(prog_name="focal")
