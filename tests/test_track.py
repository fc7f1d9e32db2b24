"""`focal track`: per-checkpoint figures equal `focal score` at the
scheduled gamma, and the per-example dynamics equal the formulas written
out here over the whole checkpoint matrix (which track itself never holds)."""
import numpy as np
import pandas as pd
import pytest

import focalcli
from conftest import validate_document, focal, sample

TARGETS = sample("digits_targets.npy")
SCALES = {1: 0.2, 2: 0.5, 3: 0.8, 10: 1.0}  # epoch number -> how sharp the logits are


@pytest.fixture
def checkpoints(tmp_path):
    z = np.load(sample("digits.npy"))
    rng = np.random.default_rng(4)
    folder = tmp_path / "ckpt"
    folder.mkdir()
    logits = {}
    for epoch, scale in SCALES.items():
        logits[epoch] = z * scale + rng.normal(0, 1.0, z.shape)
        np.save(folder / f"epoch_{epoch}.npy", logits[epoch])
    return folder, [logits[e] for e in sorted(SCALES)]  # epoch_2 before epoch_10


def written_out(series, t, gammas, threshold=0.7):
    pts, rights, checkpoints = [], [], []
    for z, gamma in zip(series, gammas):
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        pt = p[np.arange(len(t)), t]
        fl = (1 - pt) ** gamma * -np.log(pt)
        hard = pt <= threshold
        checkpoints.append({"focal": fl.mean(), "hard_easy": fl[hard].mean() / fl[~hard].mean(),
                            "accuracy": (p.argmax(axis=1) == t).mean()})
        pts.append(pt)
        rights.append(p.argmax(axis=1) == t)
    pts, rights = np.array(pts), np.array(rights)
    forgetting = (rights[:-1] & ~rights[1:]).sum(axis=0)
    first = []
    for r in rights.T:
        wrong = np.flatnonzero(~r)
        first.append(None if r[-1] == 0 else (0 if not len(wrong) else int(wrong[-1]) + 1))
    return checkpoints, {"confidence": pts.mean(axis=0), "variability": pts.std(axis=0),
                         "correctness": rights.mean(axis=0), "forgetting": forgetting,
                         "first_learned": first, "never": int((~rights.any(axis=0)).sum()),
                         "forgotten": int((forgetting > 0).sum())}


@pytest.mark.parametrize("schedule", [None, "linear:2:0.5"])
def test_checkpoints_and_dynamics(tmp_path, checkpoints, schedule):
    folder, series = checkpoints
    t = np.load(TARGETS)
    gammas = [2.0] * 4 if schedule is None else [2.0, 1.5, 1.0, 0.5]
    extra = [] if schedule is None else ["--gamma-schedule", schedule]
    doc = focal("track", folder, TARGETS, *extra, "-o", tmp_path / "dyn.csv",
                "--format", "json").json()
    want, per_example = written_out(series, t, gammas)
    assert [c["name"] for c in doc["checkpoints"]] == \
        ["epoch_1.npy", "epoch_2.npy", "epoch_3.npy", "epoch_10.npy"]
    assert [c["step"] for c in doc["checkpoints"]] == [1, 2, 3, 10]
    for c, w, gamma, epoch in zip(doc["checkpoints"], want, gammas, sorted(SCALES)):
        assert c["gamma"] == pytest.approx(gamma)
        assert c["focal"] == pytest.approx(w["focal"], rel=1e-12)
        assert c["hard_easy_ratio"] == pytest.approx(w["hard_easy"], rel=1e-10)
        assert c["accuracy"] == pytest.approx(w["accuracy"])
        same = focal("score", folder / f"epoch_{epoch}.npy", TARGETS, "--gamma", gamma,
                     "--format", "json").json()
        assert c["focal"] == same["focal"] and c["ece"] == same["calibration"]["ece"]
    rows = pd.read_csv(tmp_path / "dyn.csv")
    for key in ("confidence", "variability", "correctness"):
        np.testing.assert_allclose(rows[key], per_example[key], rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(rows["forgetting"], per_example["forgetting"])
    got_first = [None if np.isnan(v) else int(v) for v in rows["first_learned"]]
    assert got_first == per_example["first_learned"]
    e = doc["examples"]
    assert e["never_learned"] == per_example["never"]
    assert e["forgotten"] == per_example["forgotten"]
    assert e["learned"] == sum(v is not None for v in per_example["first_learned"])


def test_a_list_keeps_its_order_and_the_api(tmp_path, checkpoints):
    folder, _ = checkpoints
    listing = tmp_path / "order.txt"
    listing.write_text("\n".join(str(folder / f"epoch_{e}.npy") for e in (10, 1)) + "\n")
    doc = focal("track", f"@{listing}", TARGETS, "--format", "json").json()
    assert [c["name"] for c in doc["checkpoints"]] == ["epoch_10.npy", "epoch_1.npy"]
    report = focalcli.track(str(folder / "epoch_*.npy"), TARGETS)
    assert len(report.to_frame()) == 4 and report["examples"]["learned"] > 0
    table = focal("track", folder, TARGETS)
    assert table.code == 0 and "epoch_10.npy" in table.out and "forgotten" in table.out


def test_what_track_refuses(tmp_path, checkpoints):
    folder, _ = checkpoints
    run = focal("track", folder, TARGETS, "--bins", "0")
    assert run.code == 2 and "--bins" in run.err
    run = focal("track", folder, TARGETS, "--gamma-schedule", "cosine:2:1")
    assert run.code == 2 and "linear:G0:G1" in run.err
    np.save(folder / "epoch_11.npy", np.zeros((5, 10)))
    run = focal("track", folder, TARGETS)
    assert run.code == 2 and "epoch_11.npy" in run.err
    (folder / "epoch_11.npy").unlink()
    t = np.load(TARGETS)
    np.save(folder / "epoch_12.npy", np.zeros((len(t), 12)))  # another model's classes
    run = focal("track", folder, TARGETS)
    assert run.code == 2 and "epoch_12.npy: has 12 classes where the first checkpoint has " \
        "10" in run.err
    run = focal("track", tmp_path / "none_*.npy", TARGETS)
    assert run.code == 2 and "matches no checkpoint files" in run.err
    run = focal("track", sample("detect.npy"), sample("detect_targets.npy"), "--mode",
                "sigmoid")
    assert run.code == 2 and "softmax" in run.err


def test_the_monitor_reports_what_track_says_of_the_same_checkpoints(checkpoints, tmp_path):
    folder, series = checkpoints
    t = np.load(TARGETS)
    order = np.random.default_rng(0).permutation(len(t))  # a shuffled evaluation loader
    with focalcli.Monitor(steps=len(series), gamma_schedule="linear:2:1", easy_threshold=0.6,
                          output=tmp_path / "monitor.csv") as monitor:
        for epoch, z in zip(sorted(SCALES), series):
            for lo in range(0, len(z), 128):  # an evaluation loop's batches
                ids = order[lo:lo + 128]
                monitor.update(z[ids], t[ids], ids=ids)
            monitor.step(f"epoch_{epoch}")
        report = monitor.report().to_dict()
    validate_document(report, "track")
    files = focalcli.track(folder, TARGETS, gamma_schedule="linear:2:1", easy_threshold=0.6,
                           output=tmp_path / "files.csv").to_dict()
    assert [c["name"] for c in report["checkpoints"]] == \
        [f"epoch_{e}" for e in sorted(SCALES)]
    # the same sums taken in another order: equal to the last digits or so
    assert _close(report["checkpoints"], files["checkpoints"], skip={"name"})
    assert report["examples"] == files["examples"]
    mine, theirs = pd.read_csv(tmp_path / "monitor.csv"), pd.read_csv(tmp_path / "files.csv")
    pd.testing.assert_frame_equal(mine, theirs, rtol=1e-12)  # row sums taken per batch


def _close(a, b, skip=frozenset()) -> bool:
    """Equal documents, numbers within 1e-12 relative."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k], skip) for k in a if k not in skip)
    if isinstance(a, list):
        return len(a) == len(b) and all(_close(x, y, skip) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return a == pytest.approx(b, rel=1e-12, abs=1e-15)
    return a == b


def test_a_monitor_without_ids_keeps_sums_only(checkpoints):
    import tracemalloc
    _, series = checkpoints
    t = np.load(TARGETS)
    with focalcli.Monitor(gamma=2) as monitor:
        for z in series:
            for lo in range(0, len(z), 100):
                monitor.update(z[lo:lo + 100], t[lo:lo + 100])
            monitor.step()
        report = monitor.report().to_dict()
    assert report["examples"] is None and len(report["checkpoints"]) == len(series)
    validate_document(report, "track")
    with pytest.raises(focalcli.InputError, match="ids="):
        focalcli.Monitor(output="rows.csv").update(series[0], t)
    # a large evaluation set, made batch by batch: the monitor must not keep it
    rng = np.random.default_rng(1)
    monitor = focalcli.Monitor()
    tracemalloc.start()
    for _ in range(600):
        monitor.update(rng.normal(0, 1, (1000, 10)), rng.integers(0, 10, 1000))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    monitor.step()
    assert monitor.report()["checkpoints"][0]["n"] == 600_000
    assert peak < 16e6  # 600 batches of 80 kB: 48 MB if the monitor kept them


def test_monitor_refusals():
    with pytest.raises(focalcli.InputError, match="before any step"):
        focalcli.Monitor().report()
    with pytest.raises(focalcli.InputError, match="steps=N"):
        focalcli.Monitor(gamma_schedule="linear:2:0")
    monitor = focalcli.Monitor(steps=1, gamma_schedule="linear:2:0")
    monitor.update(np.zeros((2, 3)), [0, 1])
    monitor.step()
    with pytest.raises(focalcli.InputError, match="past the 1 steps"):
        monitor.update(np.zeros((2, 3)), [0, 1])
    with pytest.raises(focalcli.InputError, match="one integer >= 0 per prediction row"):
        focalcli.Monitor().update(np.zeros((2, 3)), [0, 1], ids=[0])
    with pytest.raises(focalcli.InputError, match="step\\(\\) with no update"):
        focalcli.Monitor().step()


def test_the_pictures(tmp_path, checkpoints):
    folder, _ = checkpoints
    run = focal("track", folder, TARGETS, "--plot", tmp_path / "series.png", "--data-map",
                tmp_path / "map.svg")
    assert run.code == 0, run
    assert (tmp_path / "series.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in (tmp_path / "map.svg").read_bytes()[:400]
    run = focal("track", folder, TARGETS, "--data-map", tmp_path / "map.jpg")
    assert run.code == 2 and "use a .png or .svg file" in run.err


def test_tensorboard_events_read_back_by_tensorboard(tmp_path, checkpoints):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    folder, _ = checkpoints
    doc = focal("track", folder, TARGETS, "--tensorboard", tmp_path / "tb",
                "--format", "json").json()
    events = EventAccumulator(str(tmp_path / "tb"))
    events.Reload()
    for key in ("focal", "ce", "accuracy", "ece", "hard_easy_ratio"):
        scalars = events.Scalars(f"focal/{key}")
        assert [s.step for s in scalars] == [c["step"] for c in doc["checkpoints"]]
        # TensorBoard keeps float32
        assert [s.value for s in scalars] == pytest.approx(
            [c[key] for c in doc["checkpoints"]], rel=1e-6)


def test_a_missing_tensorboardx_is_named(tmp_path, checkpoints):
    import subprocess
    import sys
    folder, _ = checkpoints
    code = ("import sys; sys.modules['tensorboardX'] = None\n"
            "from focalcli.entry import run\n"
            f"sys.argv = ['focal', 'track', {str(folder)!r}, {TARGETS!r}, '--tensorboard', "
            f"{str(tmp_path / 'tb')!r}]; run()")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 2 and "focalcli[tensorboard]" in run.stderr
