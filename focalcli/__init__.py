"""focal: what focal loss does to a model's predictions.

The library first: :func:`score`, :func:`sweep`, :func:`compare`,
:func:`curve` and :func:`explore` are the commands as functions, returning
reports (``to_dict()`` is the command's JSON document); :func:`focal_loss`
and :func:`focal_loss_batch` are the formula itself. The `focal` command
is a shell over the same functions. Names load lazily, so importing the
package costs nothing, and `focal --version` (answered in entry.py) never
imports numpy.
"""
__version__ = "0.2.0"
__all__ = ["score", "sweep", "compare", "curve", "explore", "conventions", "track", "Monitor",
           "Report",
           "InputError",
           "FocalWarning", "focal_loss", "focal_loss_batch", "FocalTerms", "__version__"]

_HOMES = {"focal_loss": "formula", "focal_loss_batch": "formula", "FocalTerms": "formula",
          "score": "api", "sweep": "api", "compare": "api", "curve": "api",
          "explore": "api", "conventions": "api", "track": "api", "FocalWarning": "api",
          "Report": "reports", "Monitor": "monitor",
          "InputError": "errors"}


def __getattr__(name):
    if name in _HOMES:
        import importlib
        return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'focalcli' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_HOMES))
