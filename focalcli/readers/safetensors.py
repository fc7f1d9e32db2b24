"""``.safetensors`` (Hugging Face): an 8-byte little-endian header length, a
JSON header naming each tensor's dtype, shape and byte range, then the raw
bytes. Read with numpy's memory map, so a file is streamed as a ``.npy`` is
and never loaded whole; bfloat16, which numpy cannot name, is widened to
float32 exactly (a bfloat16 is the top half of a float32's bits), batch by
batch. The format is small and documented
(https://huggingface.co/docs/safetensors), so we parse it ourselves: the
``safetensors`` package reads bfloat16 into numpy only through ml_dtypes or
torch, and does not stream."""
from __future__ import annotations

import json
import math
import os

import numpy as np

from ..errors import InputError
from .table import Layout, Table

HEADER_MAX = 100 << 20  # the format's own limit on the JSON header
DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2", "I64": "<i8",
          "I32": "<i4", "I16": "<i2", "I8": "i1", "U64": "<u8", "U32": "<u4", "U16": "<u2",
          "U8": "u1", "BOOL": "?"}
PREDICTION_KEYS = ("logits", "scores", "probabilities")


def widen_bf16(bits: np.ndarray) -> np.ndarray:
    """bfloat16 bit patterns (uint16) to the float32 values they are, exactly:
    one copy into the wider integers, shifted in place."""
    out = np.empty(np.shape(bits), np.uint32)
    np.copyto(out, bits)
    out <<= 16
    return out.view(np.float32)



def _local_bytes(path: str):
    def read(start: int, end: int) -> bytes:
        with open(path, "rb") as f:
            f.seek(start)
            return f.read(end - start)
    return read, os.path.getsize(path)


def read_header(path: str, name: str, ranged: bool = False) -> tuple[dict, int]:
    """(the tensors' entries, the offset of the data) of a safetensors file,
    local or (``ranged``) behind an fsspec URL: two small reads either way."""
    if ranged:
        from .remote import read_bytes, remote_size
        size = remote_size(path, name)

        def read(start, end):
            return read_bytes(path, name, start, end)
    else:
        read, size = _local_bytes(path)
    head = read(0, 8)
    if len(head) < 8:
        raise InputError("not a valid .safetensors file (shorter than its header)", name)
    n = int.from_bytes(head, "little")
    if not 2 <= n <= min(HEADER_MAX, size - 8):
        raise InputError(f"not a valid .safetensors file (a header of {n:,} bytes in a "
                         f"file of {size:,})", name)
    try:
        header = json.loads(read(8, 8 + n).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise InputError("not a valid .safetensors file (its header is not JSON)",
                         name) from None
    if not isinstance(header, dict):
        raise InputError("not a valid .safetensors file (its header is not an object)", name)
    header.pop("__metadata__", None)
    start = 8 + n
    for key, entry in header.items():
        _check_entry(key, entry, size - start, name)
    return header, start


def _check_entry(key: str, entry, data_bytes: int, name: str):
    if not isinstance(entry, dict) or not {"dtype", "shape", "data_offsets"} <= set(entry):
        raise InputError(f"not a valid .safetensors file (tensor {key!r} has no dtype, "
                         "shape and offsets)", name)
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if dtype not in DTYPES:
        raise InputError(f"tensor {key!r} has dtype {dtype}; expected numbers", name)
    if not (isinstance(shape, list) and all(isinstance(d, int) and d >= 0 for d in shape)
            and isinstance(offsets, list) and len(offsets) == 2
            and all(isinstance(o, int) for o in offsets)):
        raise InputError(f"not a valid .safetensors file (tensor {key!r}: shape {shape}, "
                         f"offsets {offsets})", name)
    begin, end = offsets
    itemsize = np.dtype(DTYPES[dtype]).itemsize
    if not 0 <= begin <= end or end - begin != math.prod(shape) * itemsize:
        raise InputError(f"not a valid .safetensors file (tensor {key!r}: {end - begin} "
                         f"bytes for shape {shape} of {dtype})", name)
    if end > data_bytes:
        raise InputError(f"truncated .safetensors: tensor {key!r} ends at byte {end:,} of "
                         f"{data_bytes:,}", name)


def tensor(path: str, header: dict, start: int, key: str, name: str, ranged: bool = False):
    """(a memory map of tensor ``key`` in its stored dtype, or its rows read
    by byte range from a URL; a widening for each batch or None)."""
    entry = header[key]
    dtype = np.dtype(DTYPES[entry["dtype"]])
    shape = tuple(entry["shape"])
    begin, _ = entry["data_offsets"]
    if math.prod(shape) == 0:
        array = np.zeros(shape, dtype)
    elif ranged:
        if len(shape) not in (1, 2):
            raise InputError(f"remote .safetensors inputs are (N, K) or (N,) rows; tensor "
                             f"{key!r} is {shape}: copy it locally for dense inputs", name)
        from .remote import RangedArray
        array = RangedArray(path, name, (start + begin, shape, dtype))
    else:
        array = np.memmap(path, dtype=dtype, mode="r", offset=start + begin, shape=shape)
    return array, (widen_bf16 if entry["dtype"] == "BF16" else None)


def pick_key(header: dict, wanted: str | None, name: str) -> str:
    if wanted is not None:
        if wanted not in header:
            raise InputError(f"has no tensor {wanted!r} (tensors: "
                             f"{', '.join(sorted(header)) or 'none'})", name)
        return wanted
    found = next((k for k in PREDICTION_KEYS if k in header), None)
    if found is None:
        if len(header) == 1:
            return next(iter(header))
        raise InputError(f"has no tensor 'logits' (tensors: "
                         f"{', '.join(sorted(header)) or 'none'}): name one with --key", name)
    return found


def read_safetensors(src, layout: Layout) -> Table:
    from .arrays import array_table
    from .dense import dense_table
    name = src.name
    header, start = read_header(src.real, name, src.ranged)
    key = pick_key(header, layout.key, name)
    scores, widen = tensor(src.real, header, start, key, name, src.ranged)
    if header[key]["dtype"] == "BOOL":
        raise InputError(f"tensor {key!r} holds booleans, not scores", name)
    targets = None
    if "targets" in header and key != "targets":
        targets, target_widen = tensor(src.real, header, start, "targets", name, src.ranged)
        targets = np.asarray(targets[:len(targets)]) if src.ranged else targets
        if target_widen is not None:
            raise InputError("tensor 'targets' is bfloat16: targets are class indices or "
                             "0/1", name)
    if scores.ndim >= 3:
        if targets is not None:
            raise InputError("dense 'logits' with 'targets' in one .safetensors: give the "
                             "targets as TARGETS", name)
        table = dense_table(scores, name, "safetensors", layout.class_axis,
                            shift=layout.shift, convert=widen, release=True)
    else:  # pages read are released once scored, as for .npy
        table = array_table(scores, targets, name, "safetensors", convert=widen,
                            batch_rows=src.batch_rows, release=not src.ranged)
    if widen is not None:
        table.dtype = np.dtype(np.float32)
    return table
