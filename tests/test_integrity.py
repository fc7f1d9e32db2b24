"""A process killed (SIGKILL) while writing -o leaves the old file or the
complete new one at that path, never a partial one."""
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from focalcli.errors import ExitStatus


@pytest.mark.parametrize("ext", ["csv", "jsonl", "npy"])
def test_sigkill_mid_write_never_leaves_a_partial_file(tmp_path, ext):
    rng = np.random.default_rng(1)
    n = 2_000_000 if ext == "npy" else 300_000  # .npy rows write fast: more of them
    np.save(tmp_path / "z.npy", rng.normal(size=(n, 4)).astype(np.float32))
    np.save(tmp_path / "t.npy", rng.integers(0, 4, n))
    out = tmp_path / f"rows.{ext}"
    old = b"the old file\n"
    cmd = [sys.executable, "-m", "focalcli", "score", str(tmp_path / "z.npy"),
           str(tmp_path / "t.npy"), "-o", str(out)]
    seen_partial_tmp = False
    for delay in (0.0, 0.05, 0.1, 0.2, 0.4, 0.8):
        out.write_bytes(old)
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # wait until the temporary output exists (however slow the machine),
        # then let the writing run a little before the kill
        deadline = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < deadline and not any(
                p.name.startswith(".focal-") for p in tmp_path.iterdir()):
            time.sleep(0.01)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        data = out.read_bytes()
        if data != old:  # the rename happened: the new file must be whole
            assert_complete(out, ext, n)
        seen_partial_tmp |= any(p.name.startswith(".focal-") for p in tmp_path.iterdir())
        for p in tmp_path.iterdir():
            if p.name.startswith(".focal-"):
                p.unlink()
    # at least one kill landed mid-write (a temporary file was left beside it)
    assert seen_partial_tmp
    proc = subprocess.run(cmd, capture_output=True)
    assert proc.returncode == ExitStatus.OK
    assert_complete(out, ext, n)


def assert_complete(path, ext, n):
    if ext == "csv":
        assert len(pd.read_csv(path)) == n
    elif ext == "jsonl":
        assert path.read_bytes().count(b"\n") == n
    else:
        assert len(np.load(path)) == n
