"""`focal compare`."""
from __future__ import annotations

import click

from ..errors import ExitStatus, printable
from ..request import CompareRequest
from .app import cli, print_doc, say_warnings
from .options import FINITE, focal_options, format_option, scoring_options


@cli.command()
@click.argument("baseline", type=click.Path(allow_dash=True))
@click.argument("candidate", type=click.Path(allow_dash=True))
@click.argument("targets", required=False, type=click.Path(allow_dash=True))
@scoring_options
@focal_options
@format_option("table, json, csv (per class), or markdown (a pull-request comment).")
@click.option("--top", type=click.IntRange(0), default=10, show_default=True, metavar="N",
              help="The N examples that got worse most.")
@click.option("--bootstrap", "bootstrap", type=click.IntRange(0, 100_000), default=1000,
              show_default=True, metavar="B", help="Paired bootstrap resamples (0: none).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the bootstrap: the same seed gives the same interval.")
@click.option("--level", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=0.95, show_default=True, help="Level of the interval.")
@click.option("--threshold", type=click.FloatRange(0), default=1e-3, show_default=True,
              help="A per-example focal loss change beyond this is 'harder' or 'easier'.")
@click.option("--ids", "ids", type=click.Choice(["exact", "intersect"]), default="exact",
              show_default=True,
              help="With ids on both sides: every id in both (exact), or drop and count "
                   "the ids in one only (intersect).")
@click.option("--max-increase", type=FINITE, metavar="X",
              help="Gate: exit 1 when the mean loss rises by more than X.")
@click.option("--max-rel-increase", type=FINITE, metavar="PCT",
              help="Gate: exit 1 when the mean loss rises by more than PCT percent.")
@click.option("--per-class", is_flag=True, help="Apply the gates to every class too.")
@click.option("--metric", type=click.Choice(["focal", "ce"]), default="focal",
              show_default=True, help="The loss the gates look at.")
@click.option("--significant", is_flag=True,
              help="A gate fails only when the interval excludes zero too.")
def compare(fmt, traceback, **options):
    """Did the candidate model get worse than the baseline, where, and is it real?

    \b
    BASELINE and CANDIDATE are two models' predictions on the same examples (any
    format score reads), paired by row, or by id when both have ids. BASELINE may
    be a summary saved with `focal score --format json` (aggregates only).

    \b
    Examples:
      focal compare base.npy cand.npy labels.npy
      focal compare base.npy cand.npy labels.npy --max-rel-increase 2 --significant
      focal compare baseline.json cand.csv --format markdown > comment.md
    """
    from ..render import Progress
    from ..runs import compare as job
    doc = job.run(CompareRequest(**options), progress=Progress)
    say_warnings()
    print_doc(doc, "compare", fmt)
    for failure in doc["gates"]["failures"]:
        click.echo(f"focal: gate failed: {failure['gate']} on {printable(failure['where'])}: "
                   f"{failure['metric']} {failure['value']!r} > {failure['limit']!r}",
                   err=True)
    return ExitStatus.OK if doc["gates"]["passed"] else ExitStatus.GATE_FAILED
