"""The console script. Runs before numpy is imported, to keep BLAS to one
thread: `focal` parallelises over blocks itself (--threads), and BLAS threads
inside each block would oversubscribe the cores."""
import os


def run():
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    from .cli import cli
    cli.main(prog_name="focal")
