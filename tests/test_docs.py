"""The examples in docstrings run."""
import doctest

import focalcli.core
import focalcli.formula


def test_formula_doctests():
    results = [doctest.testmod(m) for m in (focalcli.core, focalcli.formula)]
    assert sum(r.attempted for r in results) >= 1, results
    assert all(r.failed == 0 for r in results), results
