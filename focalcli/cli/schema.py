"""`focal schema`."""
from __future__ import annotations

import json

import click

from ..errors import ExitStatus
from ..schemas import KINDS
from .app import cli


@cli.command(name="schema")
@click.argument("kind", type=click.Choice(KINDS))
def schema_command(kind):
    """The JSON Schema (draft 2020-12) of a command's --format json document.

    \b
    A CI job can validate what it parses: keys named here keep their names and types;
    new keys may appear in later versions.

    \b
    Examples:
      focal schema score > score.schema.json
      focal score preds.npy labels.npy --format json > doc.json
      check-jsonschema --schemafile score.schema.json doc.json
    """
    from ..schemas import schema
    click.echo(json.dumps(schema(kind), indent=2))
    return ExitStatus.OK
