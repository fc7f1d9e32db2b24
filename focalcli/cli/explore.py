"""`focal explore`."""
from __future__ import annotations

import click

from ..errors import ExitStatus
from ..request import ExploreRequest
from .app import cli, say_warnings
from .options import GAMMA, cluster_options, input_options, loss_options


@cli.command()
@input_options
@cluster_options
@click.option("--gammas", default="0:5:0.1", show_default=True, metavar="LIST",
              help="Gammas of the slider: a comma list or START:STOP:STEP (STOP included).")
@click.option("--alphas", default=None, metavar="LIST",
              help="Alphas of the menu, as in sweep. Default 1 (softmax), 0.25 (sigmoid).")
@click.option("--gamma", "gamma", type=GAMMA, default=None, metavar="G",
              help="The gamma the page opens at (default 2, or the nearest in the grid).")
@click.option("-o", "--output", metavar="FILE.html", required=True,
              type=click.Path(dir_okay=False), help="The page to write (.html).")
@click.option("--checkpoints", is_flag=True,
              help="PREDICTIONS (a glob, a directory, @list) are one file per checkpoint, "
                   "ordered as focal track orders them: the page gains a checkpoint slider.")
@loss_options
def explore(traceback, **options):
    """The focal loss explorer on your own predictions: one self-contained HTML
    page with gamma and alpha controls, offline, reading the input once.

    \b
    The page holds every (gamma, alpha) cell of the grid and the hardest examples;
    it needs no network and no server.

    \b
    Examples:
      focal explore preds.npy labels.npy -o explorer.html
      focal explore sample_data/digits.csv -o digits.html --alphas 1,0.5,balanced
      focal explore dets.npy t.npy --mode sigmoid --alphas 0.1:0.9:0.2 -o dets.html
    """
    from ..readers import display_name
    from ..render import Progress
    from ..runs import explore as job
    req = ExploreRequest(**options)
    job.run(req, progress=Progress)
    say_warnings()
    click.echo(f"wrote {display_name(req.output)}: open it in a browser (it needs no "
               "network)", err=True)
    return ExitStatus.OK
