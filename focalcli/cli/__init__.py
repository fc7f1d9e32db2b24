"""The `focal` command line: a thin shell over the library. Each command
maps its flags to the command's request (request.py), calls its run
(runs/) and shows the document that comes back; app.py maps every outcome
to an exit code, options.py declares the shared options once."""
from . import (compare, conventions, curve, explore, schema, score,  # noqa: F401
               sweep, track)  # each registers its command
from .app import cli

__all__ = ["cli"]
