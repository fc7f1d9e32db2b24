"""The program as a process: a closed pipe, an interrupt, --version."""
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import sample
from focalcli.errors import ExitStatus

FOCAL = [sys.executable, "-m", "focalcli"]


def test_closed_pipe_is_not_an_error():
    # `focal score ... --per-example | head -1`: the reader goes away early
    proc = subprocess.Popen([*FOCAL, "score", sample("digits.csv"), "--per-example",
                             "--format", "csv"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == ExitStatus.OK
    assert first.startswith(b"index,")
    assert err == b""


def test_interrupt_exits_130_with_one_line():
    # focal waits on standard input that never ends; Ctrl-C stops it
    proc = subprocess.Popen([*FOCAL, "score", "-", "--input-format", "csv"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdin.write(b"a,b,target\n")
    proc.stdin.flush()
    time.sleep(1.5)  # past start-up, inside the read
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == ExitStatus.INTERRUPTED == 130
    assert out == b""
    assert err.decode().strip().splitlines() == ["Aborted."]


def test_version_does_not_import_numpy():
    code = ("import sys, runpy; sys.argv = ['focal', '--version']\n"
            "from focalcli.entry import run\n"
            "try:\n    run()\nexcept SystemExit:\n    pass\n"
            "print('numpy' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={**os.environ})
    lines = r.stdout.split()
    assert lines[-1] == "False", r.stdout
    assert lines[0] == "focal," and lines[1] == "version"


@pytest.mark.parametrize("args, code", [
    (["score", sample("digits.csv")], ExitStatus.OK),
    (["score", sample("digits.csv"), "--fail-above", "10"], ExitStatus.OK),
    (["score", sample("digits.csv"), "--fail-above", "0.01"], ExitStatus.GATE_FAILED),
    (["sweep", sample("digits.csv")], ExitStatus.OK),
    (["curve"], ExitStatus.OK),
    (["compare", sample("digits.npy"), sample("digits.npy"), sample("digits_targets.npy")],
     ExitStatus.OK),
    (["score", sample("digits.csv"), "--format", "markdown"], ExitStatus.OK),
], ids=["score", "passing-gate", "failing-gate", "sweep", "curve", "compare", "markdown"])
def test_tables_into_a_closed_pipe_keep_their_exit_code(args, code):
    # the reader is gone before the first byte: every write meets EPIPE, and the
    # command still ends with its own code (a gate's 1 only when the gate fails)
    proc = subprocess.Popen([*FOCAL, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == code, err
    assert "internal error" not in err and "Traceback" not in err
