"""`focal curve`."""
from __future__ import annotations

import click

from ..errors import ExitStatus
from ..request import CurveRequest
from .app import cli, print_doc
from .options import FINITE, format_option


@cli.command()
@click.option("--gammas", default="0,0.5,1,2,5", show_default=True, metavar="LIST",
              help="Gammas: a comma list or START:STOP:STEP.")
@click.option("--alpha", type=FINITE, default=1.0, show_default=True,
              help="Weight of the loss (a number >= 0).")
@click.option("--pt", "pt", default="0.1,0.5,0.9", show_default=True, metavar="LIST",
              help="Values of p_t, in (0, 1].")
@format_option("The rows on stdout: a table, JSON or CSV.")
@click.option("--plot", metavar="FILE",
              help="Draw loss against p_t, one line per gamma (.png or .svg), as in "
                   "Figure 1 of Lin et al. 2017.")
@click.option("--traceback", is_flag=True, hidden=True)
def curve(fmt, traceback, **options):
    """Focal loss against p_t, with no input file.

    \b
    The numbers behind Figure 1 of Lin et al. 2017: at each p_t, cross-entropy,
    focal loss and how many times smaller focal loss is.

    \b
    Examples:
      focal curve
      focal curve --gammas 0:5:1 --pt 0.01,0.1,0.5,0.9,0.99 --format csv
      focal curve --plot figure1.png
    """
    from ..runs import curve as job
    print_doc(job.run(CurveRequest(**options)), "curve", fmt)
    return ExitStatus.OK
