"""focal: what focal loss does to a model's predictions.

The public API is the core: :func:`focal_loss` for one example and
:func:`focal_loss_batch` for arrays. The `focal` command uses the same functions.
"""
from .core import FocalTerms, focal_loss, focal_loss_batch

__version__ = "0.1.0"
__all__ = ["focal_loss", "focal_loss_batch", "FocalTerms", "__version__"]
