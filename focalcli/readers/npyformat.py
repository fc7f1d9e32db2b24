"""The checks every ``.npy`` reader makes, local or remote: a dtype of
numbers (never a pickle), and numpy's many parse failures as one line."""
from __future__ import annotations

import contextlib
import warnings

import numpy as np

from ..errors import InputError


def check_dtype(dtype: np.dtype, name: str, kinds: str = "biuf"):
    if dtype.hasobject:
        raise InputError("holds Python objects (a pickle); refusing to load it", name)
    if dtype.kind not in kinds:
        raise InputError(f"has dtype {dtype}; expected numbers", name)


@contextlib.contextmanager
def numpy_format_errors(name: str, what: str):
    """numpy's .npy/.npz parsers fail on garbage in many ways (ValueError,
    SyntaxError, tokenize errors, zip errors, ...) and warn about header quirks
    on stderr; turn all of it into one located InputError and no warnings."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    except (InputError, MemoryError):
        raise
    except OSError as err:
        if err.errno is not None:  # a real I/O error: read_errors words it
            raise
        raise InputError(f"not a valid {what} file (corrupt or truncated)", name) from None
    except ValueError as err:
        if "allow_pickle" in str(err) or "Object arrays" in str(err):
            raise InputError("holds Python objects (a pickle); refusing to load it",
                             name) from None
        raise InputError(f"not a valid {what} file ({err})", name) from None
    except Exception:
        raise InputError(f"not a valid {what} file (corrupt or truncated)", name) from None
