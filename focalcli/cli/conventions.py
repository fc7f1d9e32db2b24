"""`focal conventions`."""
from __future__ import annotations

import click

from ..errors import ExitStatus
from ..request import ConventionsRequest
from .app import cli, print_doc, say_warnings
from .options import FORMATS, GAMMA, cluster_options, input_options


@cli.command()
@input_options
@cluster_options
@click.option("--gamma", type=GAMMA, default=2.0, show_default=True,
              help="Focusing parameter, >= 0, for every convention.")
@click.option("--alpha", metavar="VALUE",
              help="As in score; each preset reads it its own way (default: each one's).")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True,
              help="table, json, csv (a row per convention), or markdown.")
def conventions(fmt, traceback, **options):
    """The same predictions under focal's convention and every library's.

    \b
    One row per --like preset that takes the input (torchvision, kornia, keras, smp,
    monai, and focal's own): its focal loss and CE, what its mean divides by, what
    its alpha means; each row is what `focal score --like X` prints. The answer to
    "why does my number differ from kornia's".

    \b
    Examples:
      focal conventions sample_data/digits.npy sample_data/digits_targets.npy
      focal conventions dets.npy dets_targets.npy --format markdown
    """
    from ..render import Progress
    from ..runs import conventions as job
    doc = job.run(ConventionsRequest(**options), progress=Progress)
    say_warnings()
    print_doc(doc, "conventions", fmt)
    return ExitStatus.OK
