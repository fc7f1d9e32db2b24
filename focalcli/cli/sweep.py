"""`focal sweep`."""
from __future__ import annotations

import click

from ..errors import ExitStatus
from ..request import SweepRequest
from .app import cli, print_doc, say_warnings
from .options import cluster_options, format_option, input_options, loss_options


@cli.command()
@input_options
@cluster_options
@click.option("--gammas", default="0:5:0.5", show_default=True, metavar="LIST",
              help="Gammas: a comma list or START:STOP:STEP (STOP included).")
@click.option("--alphas", default=None, metavar="LIST",
              help="Alphas: numbers, ranges, balanced, inverse-freq, effective[:BETA]; "
                   "a per-class list as one item with '/' between weights. "
                   "Default 1 (softmax), 0.25 (sigmoid).")
@format_option("The grid on stdout: a table, JSON or CSV.")
@click.option("-o", "--output", metavar="FILE", type=click.Path(dir_okay=False),
              help="Write the grid to FILE (.json or .csv).")
@click.option("--plot", metavar="FILE", help="Draw the grid to FILE (.png or .svg).")
@click.option("--temperatures", metavar="LIST",
              help="A temperature axis (comma list or START:STOP:STEP): one pass each, with "
                   "the ECE per cell.")
@click.option("--gradient", is_flag=True,
              help="Add the easy examples' share of the gradient norm per gamma.")
@loss_options
def sweep(fmt, traceback, **options):
    """The same scoring over a grid of gamma and alpha, reading the input once.

    \b
    Every cell comes from the same pass (one per temperature): focal loss, CE,
    their ratio, the easy examples' share and the effective number of examples.

    \b
    Examples:
      focal sweep preds.npy labels.csv --gammas 0:5:0.5 --alphas 0.25,0.5,1
      focal sweep sample_data/digits.npy sample_data/digits_targets.npy --alphas 1,balanced
      focal sweep dets.npy t.npy --mode sigmoid --alphas 0.1:0.9:0.2 --plot sweep.png
    """
    from ..render import Progress
    from ..runs import sweep as job
    doc = job.run(SweepRequest(**options), progress=Progress)
    say_warnings()
    print_doc(doc, "sweep", fmt)
    return ExitStatus.OK
