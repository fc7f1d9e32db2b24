"""focal through its CLI, for the peer suite. (Not in conftest.py: run
together with tests/, two conftest modules would collide on import.)"""
import json

from click.testing import CliRunner

from focalcli.cli import cli


def focal_json(*args) -> dict:
    result = CliRunner().invoke(cli, [str(a) for a in args] + ["--format", "json"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)
