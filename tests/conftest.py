import json
import os

import numpy as np
import pytest
from click.testing import CliRunner

from focalcli.cli import cli

SAMPLE = os.path.join(os.path.dirname(__file__), "..", "sample_data")


def sample(name: str) -> str:
    return os.path.normpath(os.path.join(SAMPLE, name))


class Run:
    def __init__(self, result):
        self.code = result.exit_code
        self.out = result.stdout
        self.err = result.stderr
        self.exception = result.exception

    def json(self):
        return json.loads(self.out)

    def __repr__(self):
        return f"<exit {self.code}: out={self.out[:200]!r} err={self.err[:300]!r}>"


def focal(*args, input=None) -> Run:
    """Run the CLI in-process, as click's CliRunner does, stdout and stderr apart."""
    runner = CliRunner()
    return Run(runner.invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False))


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def write_npy(path, array):
    np.save(path, array)
    return str(path)
