"""`focal track`."""
from __future__ import annotations

import click

from ..errors import ExitStatus
from ..request import TrackRequest
from .app import cli, print_doc, say_warnings
from .options import FINITE, cluster_options, focal_options, format_option, scoring_options


@cli.command()
@click.argument("checkpoints", type=click.Path(allow_dash=False))
@click.argument("targets", required=False, type=click.Path(allow_dash=True))
@scoring_options
@cluster_options
@focal_options
@click.option("--easy-threshold", type=FINITE, default=0.7, show_default=True, metavar="P",
              help="Examples with p_t above P are easy: hard_easy_ratio is the mean focal "
                   "loss of the others over theirs.")
@click.option("--gamma-schedule", metavar="linear:G0:G1",
              help="Score checkpoint i of n at G0 + (G1 - G0) i / (n - 1), as a gamma "
                   "schedule would have weighed it.")
@click.option("-o", "--output", metavar="FILE", type=click.Path(dir_okay=False),
              help="Per-example dynamics (confidence, variability, correctness, "
                   "forgetting, first_learned): .csv .tsv .json .jsonl .npy .parquet.")
@click.option("--plot", metavar="FILE",
              help="Draw the series (focal and CE, easy share, hard/easy ratio, ECE) against "
                   "the step (.png or .svg).")
@click.option("--data-map", metavar="FILE",
              help="Draw each example's confidence against its variability, coloured by "
                   "correctness (dataset cartography; .png or .svg).")
@click.option("--tensorboard", metavar="DIR",
              help="Write the series as TensorBoard scalars (focal/focal, focal/ece, ...) "
                   "at each checkpoint's step (needs focalcli[tensorboard]).")
@format_option("table, json, csv (a row per checkpoint), or markdown.")
def track(fmt, traceback, **options):
    """Training dynamics across checkpoints: is the model learning the hard examples?

    \b
    CHECKPOINTS is a glob, a directory or @list.txt of prediction files, one per
    checkpoint, ordered by the number in each name (epoch_2 before epoch_10; a list
    keeps its order); TARGETS are shared by all. Per checkpoint: focal, CE, the easy
    share, the hard/easy ratio, accuracy, ECE. Per example, streamed over the
    checkpoints: mean p_t (confidence), its spread (variability), correctness,
    forgetting events and the checkpoint from which it stays learned.

    \b
    Examples:
      focal track 'ckpt/epoch_*.npy' labels.npy
      focal track runs/ labels.npy --gamma-schedule linear:2:0.5 -o dynamics.csv
    """
    from ..render import Progress
    from ..runs import track as job
    doc = job.run(TrackRequest(**options), progress=Progress)
    say_warnings()
    print_doc(doc, "track", fmt)
    return ExitStatus.OK
