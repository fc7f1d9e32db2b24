"""focal: what focal loss does to a model's predictions.

The public API is the core: :func:`focal_loss` for one example and
:func:`focal_loss_batch` for arrays. The `focal` command uses the same
functions. Names load lazily, so importing the package costs nothing, and
`focal --version` (answered in entry.py) never imports numpy.
"""
__version__ = "0.1.0"
__all__ = ["focal_loss", "focal_loss_batch", "FocalTerms", "__version__"]


def __getattr__(name):
    if name in ("focal_loss", "focal_loss_batch", "FocalTerms"):
        from . import core
        return getattr(core, name)
    raise AttributeError(f"module 'focalcli' has no attribute {name!r}")
