"""PyTorch's ``torch.save`` files (``.pt``, ``.pth``): a tensor, or a dict of
tensors (``logits``, ``targets``, or ``--key``). Loaded with
``torch.load(weights_only=True, mmap=True)``: a pickle of anything but
tensors and plain containers is refused, never executed, and a large file is
memory-mapped. torch is the user's own (the ``torch`` extra pins nothing)."""
from __future__ import annotations

import numpy as np

from ..errors import InputError
from .table import Layout, Table

PREDICTION_KEYS = ("logits", "scores", "probabilities", "preds", "predictions")


def _torch(name: str):
    try:
        import torch
    except ImportError:
        raise InputError("reading .pt needs PyTorch: pip install 'focalcli[torch]' (or "
                         "save the tensors with safetensors or numpy)", name) from None
    return torch


def load(path: str, name: str):
    torch = _torch(name)
    try:
        return torch, torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as err:  # UnpicklingError, RuntimeError, zip errors, ...
        said = " ".join(str(err).split())
        if "weights_only" in said or "Unsupported global" in said or "GLOBAL" in said:
            raise InputError("holds Python objects beyond tensors (a pickle); refusing to "
                             "load it (torch.load weights_only=True)", name) from None
        raise InputError(f"not a valid PyTorch file ({said[:200]})", name) from None


def as_numpy(torch, value, what: str, name: str) -> np.ndarray:
    if not isinstance(value, torch.Tensor):
        raise InputError(f"{what} is a {type(value).__name__}, not a tensor", name)
    value = value.detach()
    if value.dtype == torch.bfloat16:  # numpy has no bfloat16: float32 holds it exactly
        value = value.float()
    if value.is_complex() or value.dtype == torch.bool and what != "'targets'":
        raise InputError(f"{what} has dtype {value.dtype}; expected numbers", name)
    return value.numpy()


def read_pt(src, layout: Layout) -> Table:
    from .arrays import array_table
    from .dense import dense_table
    name = src.name
    torch, obj = load(src.real, name)
    targets = None
    if isinstance(obj, dict):
        keys = [str(k) for k in obj]
        key = layout.key or next((k for k in PREDICTION_KEYS if k in obj), None)
        if key is None or key not in obj:
            raise InputError(f"has no tensor {key or 'logits'!r} (keys: "
                             f"{', '.join(keys[:20]) or 'none'})"
                             + ("" if layout.key else ": name one with --key"), name)
        scores = as_numpy(torch, obj[key], repr(key), name)
        if "targets" in obj and key != "targets":
            targets = as_numpy(torch, obj["targets"], "'targets'", name)
    else:
        if layout.key:
            raise InputError(f"holds one tensor, not a dict: drop --key {layout.key}", name)
        scores = as_numpy(torch, obj, "the file", name)
    if scores.ndim >= 3:
        if targets is not None:
            raise InputError("dense 'logits' with 'targets' in one .pt: give the targets "
                             "as TARGETS", name)
        return dense_table(scores, name, "pt", layout.class_axis, shift=layout.shift)
    table = array_table(scores, targets, name, "pt", batch_rows=src.batch_rows)
    table.dtype = scores.dtype
    return table
