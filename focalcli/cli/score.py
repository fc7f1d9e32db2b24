"""`focal score`."""
from __future__ import annotations

import sys

import click

from ..errors import ExitStatus
from ..request import ScoreRequest
from .app import cli, print_doc, say_warnings
from .options import (CLASSES, FINITE, cluster_options, focal_options, format_option,
                      input_options, loss_options)


@cli.command()
@input_options
@cluster_options
@focal_options
@format_option("Summary format on stdout (also of --per-example rows).")
@click.option("--per-example", is_flag=True, help="Print one row per example instead.")
@click.option("--per-element", is_flag=True,
              help="Sigmoid: rows per (example, class) element instead of per example "
                   "(torchvision's reduction='none'); on stdout, or to -o FILE.")
@click.option("-o", "--output", metavar="FILE", type=click.Path(dir_okay=False),
              help="Write per-example rows to FILE (.csv .tsv .json .jsonl .npy .parquet).")
@click.option("--top", type=click.IntRange(0), default=0, metavar="N",
              help="Also show the N highest-loss examples.")
@click.option("--map", "map", metavar="FILE",
              help="Dense inputs: the per-position focal loss, float32 (N, d1, ...) with NaN "
                   "where ignored (.npy); or a picture of the --top examples' maps (.png/.svg).")
@click.option("--gradient", is_flag=True,
              help="The gradient view: how much of the gradient norm easy examples carry "
                   "under CE and focal loss; per-example grad_ce and grad_focal.")
@click.option("--grad", "grad", metavar="FILE.npy",
              help="Write the full gradient of the reduced focal loss with respect to the "
                   "logits, the input's shape (implies --gradient).")
@loss_options
@click.option("--ohem", metavar="K|FRACTION",
              help="What online hard example mining would keep: the K (or FRACTION) "
                   "hardest examples by CE.")
@click.option("--ohem-ratio", metavar="P:N",
              help="OHEM keeping every positive and the hardest negatives, N per P.")
@click.option("--background", metavar="CLASS",
              help="The background class of --ohem-ratio in softmax mode (name or index).")
@click.option("--classes", "classes", type=CLASSES, metavar="N|all",
              help="Per-class rows to list: the N with the most focal loss, or all "
                   "(default: a table shows 20, JSON every class with examples).")
@click.option("--plot", metavar="FILE",
              help="Draw the reliability diagram (calibration) to FILE (.png or .svg).")
@click.option("--fail-above", type=FINITE, metavar="X",
              help="Exit 1 when the reduced focal loss is above X (or nothing was scored).")
def score(fmt, per_example, traceback, **options):
    """Focal loss beside cross-entropy, per example and reduced.

    \b
    PREDICTIONS holds logits (or probabilities with --probs), one row per example:
    .npy, .npz, .csv, .tsv, .json, .jsonl, .parquet (.gz for text), or - for stdin.
    TARGETS holds the class of each example (an index or a class name), unless
    PREDICTIONS has a target column: .npy, .csv, .tsv, .txt (one per line), .json;
    for --mode sigmoid also a 0/1 matrix with one column per class.

    \b
    Examples:
      focal score preds.npy labels.csv --gamma 2
      focal score sample_data/digits.csv --alpha balanced --top 5
      focal score preds.npy labels.npy --format json | jq .per_class
      focal score dets.npy dets_targets.npy --mode sigmoid --normalize positives
      focal score preds.csv -o per_example.jsonl --fail-above 0.3
    """
    from ..render import Progress, TextRows
    from ..runs import score as job
    from ..writers import RowWriter
    if options["per_element"] and not (options["top"] or options["ohem"] or
                                       options["ohem_ratio"] or options["map"]):
        per_example = per_example or not options["output"]
    req = ScoreRequest(per_example=per_example, **options)
    stdout_rows = None
    if per_example:
        stdout_rows = RowWriter(sys.stdout, fmt) if fmt != "table" else TextRows()
    doc = job.run(req, stdout_rows=stdout_rows, progress=Progress)
    say_warnings()
    if not per_example:
        print_doc(doc, "score", fmt, classes=req.classes)
    failed = job.gate(doc, req.fail_above)
    if failed:
        click.echo(f"focal: gate failed: {failed}", err=True)
        return ExitStatus.GATE_FAILED
    return ExitStatus.OK
