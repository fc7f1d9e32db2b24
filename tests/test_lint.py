"""ruff over the whole tree, as part of `make test` (its rules in pyproject.toml)."""
import os
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(__file__), "..")


def test_ruff_finds_nothing():
    run = subprocess.run([sys.executable, "-m", "ruff", "check", "focalcli", "tests",
                          "peers_tests", "benchmarks", "sample_data"],
                         cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
