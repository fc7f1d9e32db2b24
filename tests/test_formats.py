"""The formats predictions are saved in: .safetensors (written here by the
safetensors library itself; bfloat16 by ml_dtypes), Arrow IPC / Feather
(pyarrow), NIfTI (nibabel), .pt (torch, in make test-peers). Each gives the
same document as the same numbers through .npy or CSV; bad files are one
line and exit 2; a missing extra is named."""
import subprocess
import sys

import numpy as np
import pytest

from conftest import focal, sample

DIGITS = [sample("digits.npy"), sample("digits_targets.npy")]


def same(doc_a: dict, doc_b: dict):
    """Two documents alike but for the inputs' names."""
    for d in (doc_a, doc_b):
        d.pop("predictions"), d.pop("targets")
    assert doc_a == doc_b


def score(*args):
    return focal("score", *args, "--format", "json").json()


def error(*args) -> str:
    run = focal("score", *args)
    assert run.code == 2, run
    assert len(run.err.strip().splitlines()) == 1, run.err
    return run.err.strip()


@pytest.fixture(scope="module")
def digits():
    return np.load(DIGITS[0]), np.load(DIGITS[1])


# -------------------------------------------------------------- safetensors

def test_safetensors_with_targets_inside_is_the_npy(tmp_path, digits):
    from safetensors.numpy import save_file
    z, t = digits
    save_file({"logits": z, "targets": t}, str(tmp_path / "d.safetensors"))
    same(score(tmp_path / "d.safetensors"), score(*DIGITS))
    save_file({"out": z}, str(tmp_path / "k.safetensors"))
    same(score(tmp_path / "k.safetensors", DIGITS[1], "--key", "out"), score(*DIGITS))


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_half_precision_is_read_exactly(tmp_path, digits, dtype):
    import ml_dtypes
    from safetensors.numpy import save_file
    z, t = digits
    half = z.astype(ml_dtypes.bfloat16 if dtype == "bfloat16" else np.float16)
    save_file({"logits": half}, str(tmp_path / "h.safetensors"))
    # numpy cannot name bfloat16: it is read as its exact float32 widening; a
    # float16 is what a float16 .npy is
    np.save(tmp_path / "wide.npy", half.astype(np.float32) if dtype == "bfloat16" else half)
    same(score(tmp_path / "h.safetensors", DIGITS[1]), score(tmp_path / "wide.npy", DIGITS[1]))


def test_bfloat16_language_model_logits(tmp_path):
    import ml_dtypes
    from safetensors.numpy import save_file
    rng = np.random.default_rng(3)
    logits = (rng.normal(size=(3, 17, 50)) * 3).astype(ml_dtypes.bfloat16)
    labels = rng.integers(0, 50, (3, 17))
    labels[2, 10:] = -100
    save_file({"logits": logits}, str(tmp_path / "lm.safetensors"))
    np.save(tmp_path / "lm.npy", logits.astype(np.float32))
    np.save(tmp_path / "labels.npy", labels)
    args = ["--class-axis", "-1", "--shift", "--ignore-index", "-100"]
    same(score(tmp_path / "lm.safetensors", tmp_path / "labels.npy", *args),
         score(tmp_path / "lm.npy", tmp_path / "labels.npy", *args))


def test_bad_safetensors_files(tmp_path, digits):
    from safetensors.numpy import save_file
    z, t = digits
    good = tmp_path / "good.safetensors"
    save_file({"logits": z}, str(good))
    data = good.read_bytes()
    cases = {
        "garbled.safetensors": (b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}......", "not JSON"),
        "huge.safetensors": (b"\xff" * 8 + b"{}", "header of"),
        "truncated.safetensors": (data[:len(data) // 2], "truncated .safetensors"),
        "tiny.safetensors": (b"\x01\x02", "shorter than its header"),
    }
    for name, (content, words) in cases.items():
        (tmp_path / name).write_bytes(content)
        line = error(tmp_path / name, DIGITS[1])
        assert line.startswith(f"Error: {tmp_path / name}: ") and words in line, line
    import json
    header = json.dumps({"logits": {"dtype": "STR", "shape": [2], "data_offsets": [0, 2]}})
    (tmp_path / "text.safetensors").write_bytes(len(header).to_bytes(8, "little")
                                                + header.encode() + b"ab")
    assert "tensor 'logits' has dtype STR; expected numbers" in \
        error(tmp_path / "text.safetensors", DIGITS[1])
    save_file({"other": z, "more": z}, str(tmp_path / "nologits.safetensors"))
    assert "has no tensor 'logits' (tensors: more, other): name one with --key" in \
        error(tmp_path / "nologits.safetensors", DIGITS[1])
    assert "has no tensor 'x'" in error(good, DIGITS[1], "--key", "x")


# -------------------------------------------------------------- Arrow IPC

@pytest.mark.parametrize("kind", ["feather", "arrow-file", "arrow-stream"])
def test_arrow_ipc_is_the_csv(tmp_path, kind):
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.feather as feather
    import pyarrow.ipc as ipc
    table = pacsv.read_csv(sample("digits.csv"))
    path = tmp_path / ("d.feather" if kind == "feather" else "d.arrow")
    if kind == "feather":
        feather.write_feather(table, str(path), chunksize=100)
    else:
        opener = ipc.new_file if kind == "arrow-file" else ipc.new_stream
        with pa.OSFile(str(path), "wb") as sink, opener(sink, table.schema) as writer:
            for rb in table.to_batches(max_chunksize=128):
                writer.write_batch(rb)
    same(score(path, "--top", "3"), score(sample("digits.csv"), "--top", "3"))


def test_bad_arrow_file(tmp_path):
    (tmp_path / "bad.arrow").write_bytes(b"ARROW1" + b"\x00" * 40)
    assert "not a valid Arrow IPC file" in error(tmp_path / "bad.arrow")


# -------------------------------------------------------------- NIfTI

@pytest.fixture
def volumes(tmp_path):
    import nibabel as nib
    rng = np.random.default_rng(5)
    affine = np.diag([0.8, 0.8, 2.5, 1.0])
    out = {"preds": [], "masks": []}
    for i in range(2):
        vol = rng.normal(size=(9, 7, 5, 3)).astype(np.float32)
        lab = rng.integers(0, 3, (9, 7, 5)).astype(np.uint8)
        (tmp_path / "preds").mkdir(exist_ok=True)
        (tmp_path / "masks").mkdir(exist_ok=True)
        nib.save(nib.Nifti1Image(vol, affine), str(tmp_path / "preds" / f"case{i}.nii.gz"))
        nib.save(nib.Nifti1Image(lab, affine), str(tmp_path / "masks" / f"case{i}.nii.gz"))
        out["preds"].append(vol)
        out["masks"].append(lab)
    np.save(tmp_path / "preds.npy", np.stack(out["preds"]))
    np.save(tmp_path / "masks.npy", np.stack(out["masks"]))
    return tmp_path


def test_nifti_volumes_are_the_npy(volumes):
    one = score(volumes / "preds" / "case0.nii.gz", volumes / "masks" / "case0.nii.gz",
                "--class-axis", "-1")
    np.save(volumes / "p0.npy", np.load(volumes / "preds.npy")[:1])
    np.save(volumes / "m0.npy", np.load(volumes / "masks.npy")[:1])
    same(one, score(volumes / "p0.npy", volumes / "m0.npy", "--class-axis", "-1"))
    # a directory of cases against a directory of masks: one volume per example
    many = score(volumes / "preds", volumes / "masks", "--class-axis", "-1")
    whole = score(volumes / "preds.npy", volumes / "masks.npy", "--class-axis", "-1")
    assert (many["n"], many["focal"], many["ce"]) == (whole["n"], pytest.approx(
        whole["focal"], rel=1e-12), pytest.approx(whole["ce"], rel=1e-12))


def test_nifti_grids_must_agree(volumes):
    import nibabel as nib
    lab = np.zeros((9, 7, 5), np.uint8)
    nib.save(nib.Nifti1Image(lab, np.eye(4)), str(volumes / "moved.nii.gz"))
    assert "its affine differs from the predictions'" in error(
        volumes / "preds" / "case0.nii.gz", volumes / "moved.nii.gz", "--class-axis", "-1")
    nib.save(nib.Nifti1Image(lab[:8], np.diag([0.8, 0.8, 2.5, 1.0])),
             str(volumes / "small.nii.gz"))
    assert "a label volume of shape (8, 7, 5) for predictions of (9, 7, 5)" in error(
        volumes / "preds" / "case0.nii.gz", volumes / "small.nii.gz", "--class-axis", "-1")
    (volumes / "broken.nii.gz").write_bytes(b"\x1f\x8b not a volume")
    assert "not a valid NIfTI file" in error(volumes / "broken.nii.gz", "--class-axis", "-1")


# -------------------------------------------------------------- .pt

def test_a_missing_torch_is_named(tmp_path):
    (tmp_path / "p.pt").write_bytes(b"PK\x03\x04 not read")
    code = ("import sys; sys.modules['torch'] = None\n"
            "from focalcli.entry import run\n"
            f"sys.argv = ['focal', 'score', {str(tmp_path / 'p.pt')!r}]; run()")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 2
    assert run.stderr.strip() == (f"Error: {tmp_path / 'p.pt'}: reading .pt needs PyTorch: "
                                  "pip install 'focalcli[torch]' (or save the tensors with "
                                  "safetensors or numpy)")


@pytest.mark.torch
def test_pt_files(tmp_path, digits):
    torch = pytest.importorskip("torch")
    z, t = digits
    torch.save(torch.from_numpy(z), tmp_path / "t.pt")
    same(score(tmp_path / "t.pt", DIGITS[1]), score(*DIGITS))
    torch.save({"logits": torch.from_numpy(z), "targets": torch.from_numpy(t)},
               tmp_path / "d.pth")
    same(score(tmp_path / "d.pth"), score(*DIGITS))
    half = torch.from_numpy(z).to(torch.bfloat16)
    torch.save({"out": half}, tmp_path / "b.pt")
    np.save(tmp_path / "wide.npy", half.float().numpy())
    same(score(tmp_path / "b.pt", DIGITS[1], "--key", "out"),
         score(tmp_path / "wide.npy", DIGITS[1]))


class Payload:  # what a pickle could smuggle in
    def __reduce__(self):
        return (print, ("executed",))


@pytest.mark.torch
def test_pt_pickles_are_refused_never_run(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"logits": torch.zeros(2, 3), "extra": Payload()}, tmp_path / "evil.pt")
    run = focal("score", tmp_path / "evil.pt")
    assert run.code == 2 and "executed" not in run.out
    assert "refusing to load it" in run.err
