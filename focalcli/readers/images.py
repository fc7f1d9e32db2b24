"""Label masks as PNG images (Pascal VOC, Cityscapes, mmsegmentation): a
palette PNG gives its indices, a grey PNG its values. Needs Pillow (the
``image`` extra)."""
from __future__ import annotations

import glob
import os
import warnings

import numpy as np

from ..errors import InputError


def pillow(name: str):
    try:
        from PIL import Image
    except ImportError:
        raise InputError("reading PNG masks needs Pillow: pip install 'focalcli[image]'",
                         name) from None
    return Image


def example_files(path: str, accepts, what: str) -> list[str]:
    """One file per example: ``path`` itself, a directory's files that
    ``accepts`` takes, or a glob's files, in sorted file-name order (the
    order they are matched to the predictions)."""
    if os.path.isdir(path):
        files = [os.path.join(path, f) for f in os.listdir(path) if accepts(f)]
    elif any(c in path for c in "*?["):
        files = [f for f in glob.glob(path) if os.path.isfile(f)]
    elif os.path.exists(path):
        files = [path]
    else:
        raise InputError("no such file", path)
    if not files:
        raise InputError(f"holds no {what}", path)
    return sorted(files, key=os.path.basename)


def mask_files(path: str) -> list[str]:
    """The PNG masks of ``path`` (a .png, a directory, or a glob)."""
    return example_files(path, lambda f: f.lower().endswith(".png"), ".png masks")


def read_mask(path: str) -> np.ndarray:
    """One mask as an ``(H, W)`` integer array."""
    Image = pillow(path)
    try:
        with warnings.catch_warnings():
            # between Pillow's limit and twice it: a large mask, not a bomb
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(path)
        with im:
            if im.format != "PNG":
                raise InputError(f"is a {im.format} image, not a PNG", path)
            mode = im.mode
            if mode in ("P", "L", "I", "I;16", "1"):
                return np.asarray(im).astype(np.int64)
    except InputError:
        raise
    except Image.DecompressionBombError as err:
        raise InputError(f"refused: {err}", path) from None
    except (OSError, ValueError, SyntaxError) as err:
        raise InputError(f"not a valid PNG ({err})", path) from None
    raise InputError(f"is a {mode} image, not a label mask (a palette or grey PNG, one "
                     f"class index per pixel)", path)
