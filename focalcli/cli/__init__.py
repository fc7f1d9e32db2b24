"""The `focal` command line: a thin shell over the library. Each command
maps its flags to the command's request (request.py), calls its run
(runs/) and shows the document that comes back; app.py maps every outcome
to an exit code, options.py declares the shared options once."""
from . import compare, curve, explore, schema, score, sweep  # noqa: F401  (each registers its command)
from .app import cli

__all__ = ["cli"]
