"""The examples in docstrings run."""
import doctest

import focalcli.core


def test_core_doctests():
    result = doctest.testmod(focalcli.core)
    assert result.attempted >= 1 and result.failed == 0, result
