"""The `focal` command line: a thin shell over the library. Each command
maps its flags to the command's request (request.py), calls its run
(runs/) and shows the document that comes back; app.py maps every outcome
to an exit code, options.py declares the shared options once."""
from .app import cli  # each command's module loads when it is asked for (app.COMMANDS)

__all__ = ["cli"]
