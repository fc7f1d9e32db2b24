"""`focal conventions`."""
from __future__ import annotations


from ..errors import ExitStatus
from ..request import ConventionsRequest
from .app import cli, print_doc, say_warnings
from .options import cluster_options, focal_options, format_option, input_options


@cli.command()
@input_options
@cluster_options
@focal_options
@format_option("table, json, csv (a row per convention), or markdown.")
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
