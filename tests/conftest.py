import json
import os

import numpy as np
import pytest
from click.testing import CliRunner

from focalcli.cli import cli
from focalcli.schemas import KINDS, schema

SAMPLE = os.path.join(os.path.dirname(__file__), "..", "sample_data")


def sample(name: str) -> str:
    return os.path.normpath(os.path.join(SAMPLE, name))


class Run:
    def __init__(self, result, args=()):
        self.code = result.exit_code
        self.out = result.stdout
        self.err = result.stderr
        self.exception = result.exception
        self.args = list(args)

    def json(self):
        """The document on stdout, checked against its command's JSON Schema
        (every summary the suite makes is validated this way)."""
        doc = json.loads(self.out)
        if self.args and self.args[0] in KINDS and not \
                {"--per-example", "--per-element"} & set(self.args):
            validate_document(doc, self.args[0])
        return doc

    def __repr__(self):
        return f"<exit {self.code}: out={self.out[:200]!r} err={self.err[:300]!r}>"


def focal(*args, input=None) -> Run:
    """Run the CLI in-process, as click's CliRunner does, stdout and stderr apart."""
    runner = CliRunner()
    args = [str(a) for a in args]
    return Run(runner.invoke(cli, args, input=input, catch_exceptions=False), args)


def validate_document(doc, kind: str):
    import jsonschema
    jsonschema.Draft202012Validator(schema(kind)).validate(doc)


@pytest.fixture(params=["kernel", "numpy"])
def both_paths(request, monkeypatch):
    """The test on the compiled passes (focalcli/_kernels.c) and on numpy's
    (FOCAL_KERNELS=0): modules of exactness tests use it on every test
    (pytestmark), so each promise is checked on both."""
    monkeypatch.setenv("FOCAL_KERNELS", "1" if request.param == "kernel" else "0")
    return request.param


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def write_npy(path, array):
    np.save(path, array)
    return str(path)


def reference_ce(z, t) -> np.ndarray:
    """Softmax cross-entropy per row, written out: a float64 log-sum-exp
    around the row maximum (fine at the magnitudes the tests use)."""
    z = np.asarray(z, dtype=np.float64)
    t = np.asarray(t)
    m = z.max(1)
    lse = np.log(np.exp(z - m[:, None]).sum(1)) + m
    return lse - z[np.arange(len(t)), t]


def measured(*args):
    """Run `focal ARGS` as a process of its own: (exit code, stderr, peak
    resident memory in MB)."""
    import subprocess
    import sys
    probe = ("import resource, subprocess, sys\n"
             "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL,"
             " stderr=subprocess.PIPE, text=True)\n"
             "sys.stderr.write(r.stderr)\n"
             "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", probe, sys.executable, "-m", "focalcli",
                          *map(str, args)], capture_output=True, text=True, check=True)
    code, peak_kb = out.stdout.split()
    return int(code), out.stderr, int(peak_kb) / 1024


def split_digits(folder, parts: int):
    """The digits sample as shards: folder/p/part-XXXXX.npy (predictions)
    and folder/t/part-XXXXX.npy (targets), ``parts`` of each."""
    z, t = np.load(sample("digits.npy")), np.load(sample("digits_targets.npy"))
    (folder / "p").mkdir()
    (folder / "t").mkdir()
    for i, (a, b) in enumerate(zip(np.array_split(z, parts), np.array_split(t, parts))):
        np.save(folder / "p" / f"part-{i:05d}.npy", a)
        np.save(folder / "t" / f"part-{i:05d}.npy", b)
    return folder / "p", folder / "t"
