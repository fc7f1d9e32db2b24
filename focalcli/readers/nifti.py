"""NIfTI volumes (``.nii``, ``.nii.gz``), as medical segmentation saves them
(MONAI, nnU-Net): probability or logit volumes ``(X, Y, Z, C)`` as
PREDICTIONS (one file is one example; ``--class-axis -1``), label volumes
``(X, Y, Z)`` as TARGETS (a file, a directory or a glob, one volume per
example, in sorted name order). Predictions and masks must share their
shape and their affine (the voxel-to-world map): a mask resampled to another
grid would be scored against the wrong voxels. Needs nibabel (the
``medical`` extra); a ``.nii`` is memory-mapped."""
from __future__ import annotations

import os

import numpy as np

from ..errors import InputError
from .table import Layout, Table

SUFFIXES = (".nii", ".nii.gz")


def is_nifti(path: str) -> bool:
    return str(path).lower().endswith(SUFFIXES)


def _nibabel(name: str):
    try:
        import nibabel
    except ImportError:
        raise InputError("reading NIfTI needs nibabel: pip install 'focalcli[medical]'",
                         name) from None
    return nibabel


def load(path: str, name: str):
    """(the volume's data, a memory map where the file allows; its affine)."""
    nib = _nibabel(name)
    try:
        image = nib.load(path)
        data = np.asanyarray(image.dataobj)
    except FileNotFoundError:
        raise InputError("no such file", name) from None
    except Exception as err:  # nibabel's ImageFileError, gzip and EOF errors, ...
        said = " ".join(str(err).split())[:200]
        raise InputError(f"not a valid NIfTI file ({said or type(err).__name__})",
                         name) from None
    if data.dtype.kind not in "biuf":
        raise InputError(f"has dtype {data.dtype}; expected numbers", name)
    return data, np.asarray(image.affine, dtype=np.float64)


def read_nifti(src, layout: Layout) -> Table:
    from .dense import dense_table
    volume, affine = load(src.real, src.name)
    if volume.ndim < 3:
        raise InputError(f"predictions are a volume with a class axis, (X, Y, Z, C); this "
                         f"one has shape {volume.shape}", src.name)
    table = dense_table(volume[None], src.name, "nifti", layout.class_axis)
    table.affine = affine
    return table


def volume_files(path: str) -> list[str]:
    from .images import example_files
    return example_files(path, is_nifti, "NIfTI volumes (.nii, .nii.gz)")


def is_volume_source(path: str) -> bool:
    """TARGETS as NIfTI label volumes: a file, a directory of them, a glob."""
    if is_nifti(path):
        return True
    if os.path.isdir(path):
        return any(is_nifti(f) for f in os.listdir(path))
    return any(c in path for c in "*?[") and path.lower().endswith((".nii", ".gz", "*"))


def open_volumes(path: str):
    """Label volumes as a TargetFile read position by position."""
    from .target_files import TargetFile
    _nibabel(path)  # the missing extra is said before anything else
    files = volume_files(path)
    target = TargetFile(path, lambda: iter(()))
    target.example_names = files
    target.fit_dense = lambda dense: _fit(target, dense)
    return target


def _fit(target, dense):
    files = target.example_names
    if len(files) != dense.examples:
        raise InputError(f"has {len(files)} label volumes for {dense.examples} predicted "
                         "examples", target.name)
    affine = getattr(target, "affine", None)

    def chunks():
        for f in files:
            labels, mask_affine = load(f, f)
            if labels.shape != dense.spatial:
                raise InputError(f"a label volume of shape {labels.shape} for predictions "
                                 f"of {dense.spatial}", f)
            if affine is not None and not np.allclose(mask_affine, affine, atol=1e-4):
                raise InputError("its affine differs from the predictions' (another voxel "
                                 "grid: resample one onto the other)", f)
            if labels.dtype.kind == "f":
                if not np.array_equal(labels, np.round(labels)):
                    raise InputError("label volumes hold whole class indices, not "
                                     "fractions", f)
                labels = labels.astype(np.int64)
            yield np.asarray(labels).reshape(-1)
    target.chunks = chunks
