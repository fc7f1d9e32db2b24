"""Every example in the README and the docs runs, on the bundled sample data,
so none can rot. The fences say what a block is:

- ```python: executed, top to bottom, in a sandbox directory;
- ```sh: every command runs in the sandbox and must exit 0 (``make`` lines
  are the suite itself and are not re-run; ``pip install`` lines neither);
- ```console: ``$ `` lines run; the output printed under them must be what
  the command prints (each shown line, spacing aside; ``...`` elides);
- anything else (```text, ```yaml, output samples) is not run.

The sandbox holds the sample data under the names the examples use
(preds.npy, labels.csv, dets.npy, base.npy, cand.npy, predict.py, ...)."""
import glob
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), ".."))
BIN = os.path.dirname(sys.executable)
PAGES = [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs",
                                                                          "*.md")))
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.S | re.M)


def blocks(kinds):
    for page in PAGES:
        text = open(page, encoding="utf-8").read()
        for m in FENCE.finditer(text):
            if m.group(1) in kinds:
                line = text[:m.start()].count("\n") + 1
                yield pytest.param(m.group(1), m.group(2),
                                   id=f"{os.path.relpath(page, ROOT)}:{line}")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    box = tmp_path_factory.mktemp("docs")
    os.symlink(os.path.join(ROOT, "sample_data"), box / "sample_data")
    z = np.load(os.path.join(ROOT, "sample_data", "digits.npy"))
    t = np.load(os.path.join(ROOT, "sample_data", "digits_targets.npy"))
    for name in ("preds.npy", "base.npy"):
        np.save(box / name, z)
    np.save(box / "labels.npy", t)
    (box / "labels.csv").write_text("\n".join(map(str, t)) + "\n")
    np.save(box / "cand.npy", z + np.random.default_rng(1).normal(0, 0.5, z.shape))
    for name in ("detect.npy", "detect_targets.npy"):
        shutil.copy(os.path.join(ROOT, "sample_data", name),
                    box / name.replace("detect", "dets"))
    for folder, array in (("preds", z), ("labels", t)):  # shards, and lists of them
        (box / folder).mkdir()
        for i, part in enumerate(np.array_split(array, 3)):
            np.save(box / folder / f"part-{i}.npy", part)
    (box / "shards.txt").write_text("".join(f"preds/part-{i}.npy\n" for i in range(3)))
    (box / "label-shards.txt").write_text("".join(f"labels/part-{i}.npy\n"
                                                  for i in range(3)))
    rng = np.random.default_rng(0)  # a language model's (B, T, V) logits, -100 for padding
    np.save(box / "lm_logits.npy", rng.normal(size=(2, 12, 40)).astype(np.float32))
    labels = rng.integers(0, 40, (2, 12))
    labels[1, 9:] = -100
    np.save(box / "lm_labels.npy", labels)
    (box / "vocab.json").write_text(json.dumps({f"tok{i}": i for i in range(40)}))
    (box / "ckpt").mkdir()  # checkpoints of a training run (focal track)
    for epoch, scale in [(1, 0.2), (2, 0.5), (10, 1.0)]:
        np.save(box / "ckpt" / f"epoch_{epoch}.npy", z * scale + rng.normal(0, 1, z.shape))
    # the model behind `python predict.py | focal score - ...`
    (box / "predict.py").write_text(
        "import sys\n"
        f"sys.stdout.write(open({os.path.join(ROOT, 'sample_data', 'digits.csv')!r}).read())\n")
    return box


def _env():
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""),
               COLUMNS="100", NO_COLOR="1")
    env.pop("FORCE_COLOR", None)
    return env


def _commands(body: str, prompt: bool):
    """(command, the output lines shown under it) pairs; ``\\`` continues a line."""
    out, current, shown = [], None, []
    lines = body.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        is_command = line.startswith("$ ") if prompt else bool(line.strip()) and \
            not line.lstrip().startswith("#")
        if is_command:
            if current is not None:
                out.append((current, shown))
            command = line[2:] if prompt else line
            while command.rstrip().endswith("\\") and i + 1 < len(lines):
                i += 1
                command = command.rstrip()[:-1] + " " + lines[i].strip()
            current, shown = command, []
        elif current is not None and prompt:
            shown.append(line)
        i += 1
    if current is not None:
        out.append((current, shown))
    return out


def _skipped(command: str) -> bool:
    words = command.split()
    return not words or words[0] == "make" or words[:2] == ["pip", "install"]


def _run(command: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=cwd, env=_env(),
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("kind, body", list(blocks({"sh"})))
def test_sh_blocks_run(kind, body, sandbox):
    for command, _ in _commands(body, prompt=False):
        if _skipped(command):
            continue
        run = _run(command, sandbox)
        # 1 is a gate's verdict (compare, --fail-above), not an error
        assert run.returncode in (0, 1) and "Error" not in run.stderr, \
            f"{command}\n{run.stderr[-2000:]}"


def _words(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("kind, body", list(blocks({"console"})))
def test_console_blocks_print_what_they_show(kind, body, sandbox):
    for command, shown in _commands(body, prompt=True):
        run = _run(command, sandbox)
        assert run.returncode in (0, 1), f"{command}\n{run.stderr[-2000:]}"
        printed = _words(run.stdout + "\n" + run.stderr)
        for line in shown:
            if line.strip() and "..." not in line:
                assert _words(line) in printed, f"{command}: {line!r} not in\n{printed}"


@pytest.mark.parametrize("kind, body", list(blocks({"python"})))
def test_python_blocks_run(kind, body, sandbox, monkeypatch):
    monkeypatch.chdir(sandbox)
    exec(compile(body, "<docs>", "exec"), {"__name__": "__docs__"})
