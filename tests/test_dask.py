"""Shards on real Dask clusters and real object storage, all on 127.0.0.1: a
LocalCluster shared by the session, `dask scheduler` and `dask worker`
processes (one of which is killed mid-run), and a moto S3 server. The
numbers must be the same bits as in this process, whoever scored what."""
import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import focal, sample, split_digits
from focalcli.errors import ExitStatus

distributed = pytest.importorskip("distributed")

BIN = os.path.dirname(sys.executable)
DIGITS = [sample("digits.npy"), sample("digits_targets.npy")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=":0") as c:
        yield c.scheduler_address


@pytest.fixture
def shards(tmp_path):
    return list(split_digits(tmp_path, 6))


def doc(*args):
    r = focal(*args, "--format", "json")
    assert r.code == ExitStatus.OK, r
    return r.json()


def test_same_bits_on_a_cluster(cluster, shards):
    here = doc("score", *shards, "--top", "5", "--gradient")
    there = doc("score", *shards, "--top", "5", "--gradient", "--scheduler", cluster)
    for key in ("focal", "ce", "ratio", "per_class", "buckets", "calibration", "gradient",
                "top", "n"):
        assert there[key] == here[key], key
    grid = doc("sweep", *shards, "--gammas", "0:3:1", "--alphas", "1,balanced")["grid"]
    assert doc("sweep", *shards, "--gammas", "0:3:1", "--alphas", "1,balanced",
               "--scheduler", cluster)["grid"] == grid


def test_track_on_a_cluster_is_track_here(cluster, tmp_path):
    """A checkpoint is a shard: scored on the workers, its rows come back
    whole, and the dynamics are those of the run here."""
    z = np.load(DIGITS[0])
    rng = np.random.default_rng(6)
    (tmp_path / "ckpt").mkdir()
    for epoch, scale in [(1, 0.3), (2, 0.6), (3, 1.0)]:
        np.save(tmp_path / "ckpt" / f"epoch_{epoch}.npy", z * scale + rng.normal(0, 1, z.shape))
    here = doc("track", tmp_path / "ckpt", DIGITS[1], "-o", tmp_path / "here.csv")
    there = doc("track", tmp_path / "ckpt", DIGITS[1], "-o", tmp_path / "there.csv",
                "--scheduler", cluster)
    assert there == here
    assert (tmp_path / "there.csv").read_text() == (tmp_path / "here.csv").read_text()


def test_scheduler_from_the_environment(cluster, shards, monkeypatch):
    here = doc("score", *shards, "--top", "2")
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster)
    assert doc("score", *shards, "--top", "2") == here
    r = focal("score", *shards, "--per-example")  # proof that it went to the cluster
    assert r.code == ExitStatus.BAD_INPUT and "per-example rows" in r.err


def test_embedded_cluster_and_explore(shards, tmp_path):
    here = doc("score", *shards)
    assert doc("score", *shards, "--workers", "2")["focal"] == here["focal"]
    pages = []
    for extra in ([], ["--workers", "2"]):
        out = tmp_path / f"page{len(pages)}.html"
        assert focal("explore", *shards, "-o", out, *extra).code == ExitStatus.OK
        text = out.read_text()
        pages.append(json.loads(text[text.index('id="data">') + 10:text.index("</script>")]))
    assert pages[0]["cells"] == pages[1]["cells"]


def test_refusals(cluster, shards, tmp_path):
    r = focal("score", *shards, "--scheduler", cluster, "-o", tmp_path / "rows.csv")
    assert r.code == ExitStatus.BAD_INPUT and "per-example rows" in r.err
    assert not (tmp_path / "rows.csv").exists()
    r = focal("score", *shards, "--scheduler", cluster, "--workers", "2")
    assert r.code == ExitStatus.BAD_INPUT and r.err.startswith("Error: --workers:")
    z = np.load(shards[0] / "part-00004.npy")
    z[3, 1] = np.inf
    np.save(shards[0] / "part-00004.npy", z)
    r = focal("score", *shards, "--scheduler", cluster)
    assert r.code == ExitStatus.BAD_INPUT
    assert "part-00004.npy, row 4 (index 3)" in r.err and r.err.count("\n") == 1


def test_unreachable_scheduler_is_a_bounded_wait():
    address = f"tcp://127.0.0.1:{free_port()}"
    start = time.monotonic()
    r = focal("score", *DIGITS, "--scheduler", address, "--timeout", "1")
    assert r.code == ExitStatus.BAD_INPUT
    assert r.err.startswith("Error: --scheduler:") and address in r.err
    assert time.monotonic() - start < 15


def _wait_port(port, proc, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


@pytest.fixture
def processes(tmp_path):
    """`dask scheduler` and `dask worker` (two worker processes, each under a
    nanny that restarts it) as the user would start them."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    log = open(tmp_path / "dask.log", "w")
    procs = [subprocess.Popen([os.path.join(BIN, "dask"), "scheduler", "--host", "127.0.0.1",
                               "--port", str(port), "--no-dashboard"],
                              stdout=log, stderr=log)]
    try:
        _wait_port(port, procs[0])
        procs.append(subprocess.Popen([os.path.join(BIN, "dask"), "worker", address,
                                       "--nworkers", "2", "--nthreads", "1",
                                       "--no-dashboard", "--host", "127.0.0.1"],
                                      stdout=log, stderr=log))
        with distributed.Client(address, timeout=30) as c:
            c.wait_for_workers(2, timeout=60)
            yield address, c
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
        log.close()


def test_a_worker_killed_mid_run_changes_nothing(processes, tmp_path, rng):
    """24 CSV shards; once a worker is busy with one, it is killed (SIGKILL).
    Dask runs its task again elsewhere: the result is the same bits."""
    address, c = processes
    _csv_shards(tmp_path / "p", rng)
    here = doc("score", tmp_path / "p", "--top", "3")
    pids = c.run(os.getpid)
    run = subprocess.Popen([os.path.join(BIN, "focal"), "score", str(tmp_path / "p"),
                            "--top", "3", "--format", "json", "--scheduler", address],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = None
    deadline = time.monotonic() + 60
    while killed is None and time.monotonic() < deadline and run.poll() is None:
        busy = [w for w, tasks in c.processing().items() if tasks and w in pids]
        if busy:
            killed = pids[busy[0]]
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.02)
    out, err = run.communicate(timeout=120)
    assert killed is not None, "the run ended before a worker was busy"
    assert run.returncode == 0, err
    there = json.loads(out)
    for key in ("focal", "ce", "per_class", "calibration", "top", "n"):
        assert there[key] == here[key], key


def _csv_shards(folder, rng, shards=24, rows=20_000):
    """CSV shards: slow enough to parse that a run on them can be caught busy."""
    folder.mkdir()
    for i in range(shards):
        z = rng.normal(size=(rows, 10))
        t = rng.integers(0, 10, len(z))
        np.savetxt(folder / f"part-{i:03d}.csv", np.column_stack([z, t]), delimiter=",",
                   fmt=["%.6f"] * 10 + ["%d"], header="a,b,c,d,e,f,g,h,i,j,target",
                   comments="")


def _children(process):
    import psutil
    try:
        return process.children(recursive=True)
    except psutil.Error:
        return []


def _named_python(process) -> bool:
    import psutil
    try:
        return "python" in process.name()
    except psutil.Error:
        return False


def _cpu(process) -> float:
    import psutil
    try:
        return process.cpu_percent(0.2)
    except psutil.Error:
        return 0.0


def test_sigterm_on_an_embedded_cluster_says_one_line(tmp_path, rng):
    """SIGTERM while the workers are busy: 'Terminated', and none of the
    workers' own WARNING lines about their cancelled tasks."""
    import psutil
    # work enough that the run is still scoring when the signal comes, however
    # fast the machine: a run that has finished would be signalled while it exits
    _csv_shards(tmp_path / "p", rng, shards=64)
    run = subprocess.Popen([os.path.join(BIN, "focal"), "score", str(tmp_path / "p"),
                            "--workers", "2", "--format", "json"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    me = psutil.Process(run.pid)
    deadline = time.monotonic() + 60
    busy = False
    while not busy and time.monotonic() < deadline and run.poll() is None:
        # the workers are the nannies' children: busy once they use the CPU (a
        # child may come and go between the listing and the look: it is not busy)
        workers = [p for p in _children(me) if _named_python(p)]
        busy = sum(_cpu(p) > 25 for p in workers) >= 1 and len(workers) >= 2
    assert busy, "the run ended before its workers were busy"
    time.sleep(0.2)
    assert run.poll() is None, "the run ended before it could be signalled"
    run.send_signal(signal.SIGTERM)
    out, err = run.communicate(timeout=120)
    assert run.returncode == 128 + signal.SIGTERM
    assert err.strip().splitlines() == ["Terminated (SIGTERM)."], err


@pytest.fixture
def s3(tmp_path):
    """A moto S3 server on 127.0.0.1 and the environment that points at it."""
    port = free_port()
    log = open(tmp_path / "moto.log", "w")
    proc = subprocess.Popen([os.path.join(BIN, "moto_server"), "-H", "127.0.0.1", "-p",
                             str(port)], stdout=log, stderr=log)
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_DEFAULT_REGION="us-east-1", AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}")
    try:
        _wait_port(port, proc)
        yield env
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()


def test_s3_shards_read_by_workers(s3, shards):
    import boto3
    client = boto3.client("s3", endpoint_url=s3["AWS_ENDPOINT_URL"],
                          aws_access_key_id="testing", aws_secret_access_key="testing",
                          region_name="us-east-1")
    client.create_bucket(Bucket="evals")
    for kind, folder in zip(("p", "t"), shards):
        for f in sorted(folder.iterdir()):
            client.put_object(Bucket="evals", Key=f"run1/{kind}/{f.name}", Body=f.read_bytes())
    here = doc("score", *shards, "--top", "3")
    for extra in ([], ["--workers", "2"]):
        r = subprocess.run([os.path.join(BIN, "focal"), "score", "s3://evals/run1/p/*.npy",
                            "s3://evals/run1/t/", "--top", "3", "--format", "json", *extra],
                           env=s3, capture_output=True, text=True, timeout=180)
        assert r.returncode == 0, r.stderr
        there = json.loads(r.stdout)
        assert there["focal"] == here["focal"] and there["top"] == here["top"]
        assert "testing" not in r.stderr
    r = subprocess.run([os.path.join(BIN, "focal"), "score", "s3://evals/nothing/*.npy"],
                       env=s3, capture_output=True, text=True, timeout=60)
    assert r.returncode == ExitStatus.BAD_INPUT and "matches no prediction files" in r.stderr


def test_s3_safetensors_shards_read_by_byte_range(s3, shards, tmp_path):
    """.safetensors in object storage are read as .npy are: by byte range,
    shard by shard, here and on workers (written by the safetensors library;
    bfloat16 widened exactly)."""
    import boto3
    import ml_dtypes
    from safetensors.numpy import save_file
    client = boto3.client("s3", endpoint_url=s3["AWS_ENDPOINT_URL"],
                          aws_access_key_id="testing", aws_secret_access_key="testing",
                          region_name="us-east-1")
    client.create_bucket(Bucket="evals")
    (tmp_path / "wide").mkdir()
    for f in sorted(shards[0].iterdir()):
        half = np.load(f).astype(ml_dtypes.bfloat16)
        local = tmp_path / f.name.replace(".npy", ".safetensors")
        save_file({"logits": half}, str(local))
        np.save(tmp_path / "wide" / f.name, half.astype(np.float32))
        client.put_object(Bucket="evals", Key=f"st/p/{local.name}", Body=local.read_bytes())
    for f in sorted(shards[1].iterdir()):
        client.put_object(Bucket="evals", Key=f"st/t/{f.name}", Body=f.read_bytes())
    here = doc("score", tmp_path / "wide", shards[1], "--top", "3")
    for extra in ([], ["--workers", "2"]):
        r = subprocess.run([os.path.join(BIN, "focal"), "score", "s3://evals/st/p/*.safetensors",
                            "s3://evals/st/t/", "--top", "3", "--format", "json", *extra],
                           env=s3, capture_output=True, text=True, timeout=180)
        assert r.returncode == 0, r.stderr
        there = json.loads(r.stdout)
        assert there["focal"] == here["focal"]
        assert [{**row, "shard": row["shard"].replace(".safetensors", ".npy")}
                for row in there["top"]] == here["top"]


def test_unreachable_storage_is_one_line(tmp_path):
    pytest.importorskip("s3fs")
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="not-printed",
               AWS_DEFAULT_REGION="us-east-1",
               AWS_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}", AWS_MAX_ATTEMPTS="1")
    r = subprocess.run([os.path.join(BIN, "focal"), "score", "s3://evals/p/*.npy"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == ExitStatus.BAD_INPUT
    assert r.stderr.startswith("Error: s3://evals/p/*.npy: cannot read from storage")
    assert r.stderr.count("\n") == 1 and "not-printed" not in r.stderr
