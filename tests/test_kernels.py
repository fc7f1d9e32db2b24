"""The compiled top-label pass (focalcli/_kernels.c) against numpy's passes
it replaces: each row's maximum, torch's first-maximum rule for the target,
and the first NaN or infinite score, on rows full of ties, signed zeros and
non-finite values; and whole runs, reports and refusals alike either way."""
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import focal
from focalcli import kernels

# without a C compiler the install goes on and numpy's passes run: these
# tests then have nothing to compare and skip, saying so
pytestmark = pytest.mark.skipif(
    kernels._kernels is None and not os.environ.get("FOCAL_REQUIRE_KERNEL"),
    reason="focalcli._kernels was not built (no C compiler): numpy's passes run")


def test_the_kernel_is_built():
    # .ci/run sets FOCAL_REQUIRE_KERNEL: there a failed build is a failure
    assert kernels._kernels is not None, "focalcli._kernels did not build: is gcc there?"


def numpy_twin(z, t):
    bad = np.argwhere(~np.isfinite(z))
    if bad.size:
        return None, None, tuple(int(v) for v in bad[0])
    return z.max(axis=1), z.argmax(axis=1) == t, None


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 12), st.integers(1, 70), st.sampled_from([np.float32, np.float64]),
       st.data())
def test_rows_as_numpy_finds_them(n, k, dtype, data):
    values = st.sampled_from([-2.0, -1.0, -0.0, 0.0, 0.5, 1.0, 3.0, 1e30, -1e30])
    z = np.array(data.draw(st.lists(values, min_size=n * k, max_size=n * k)),
                 dtype=dtype).reshape(n, k)
    if data.draw(st.booleans()):
        spot = data.draw(st.integers(0, n * k - 1))
        z.reshape(-1)[spot] = data.draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    t = np.array(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    want_max, want_top, want_bad = numpy_twin(z, t)
    # rows in memory, and class by class as a dense map's block lies
    for layout in (z, np.asfortranarray(z)):
        zmax, _, top, bad = kernels.row_top(layout, t)
        assert bad == want_bad
        if want_bad is None:
            assert np.array_equal(zmax, want_max) and np.array_equal(top, want_top)


def test_long_rows_and_the_last_class(rng):
    z = rng.normal(size=(3, 128_256)).astype(np.float32)
    t = np.array([5, 128_255, 77])
    z[1, 128_255] = 50.0
    z[2, 12] = z[2, 77] = 60.0     # a tie: the earlier class wins
    zmax, _, top, bad = kernels.row_top(z, t)
    assert bad is None and list(top) == [False, True, False]
    assert np.array_equal(zmax, z.max(axis=1))


def test_what_it_does_not_take_goes_to_numpy(monkeypatch):
    z = np.zeros((4, 3), np.float32)
    t = np.zeros(4, np.int64)
    assert kernels.row_top(z[:, :2], t) is None
    assert kernels.row_top(np.asfortranarray(z)[1:3], t[:2]) is None
    assert kernels.row_top(z.astype(np.float16), t) is None
    assert kernels.row_top(z.astype(">f4"), t) is None
    monkeypatch.setenv("FOCAL_KERNELS", "0")
    assert kernels.row_top(z, t) is None


@pytest.mark.parametrize("bad", [None, np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("maps", [False, True])
def test_runs_are_the_same_either_way(tmp_path, rng, monkeypatch, bad, maps):
    if maps:  # segmentation maps: the blocks are class-major
        z = rng.integers(-2, 3, (3, 7, 40, 30)).astype(np.float32)
        t = rng.integers(0, 7, (3, 40, 30))
        if bad is not None:
            z[1, 4, 5, 6] = bad
    else:
        z = rng.integers(-2, 3, (3000, 7)).astype(np.float32)   # ties everywhere
        t = rng.integers(0, 7, 3000)
        if bad is not None:
            z[2345, 4] = bad
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "t.npy", t)
    runs = []
    for flag in ("1", "0"):
        monkeypatch.setenv("FOCAL_KERNELS", flag)
        runs.append(focal("score", tmp_path / "z.npy", tmp_path / "t.npy", "--format", "json"))
    assert runs[0].code == runs[1].code == (0 if bad is None else 2)
    assert runs[0].out == runs[1].out and runs[0].err == runs[1].err
    if bad is None:
        assert runs[0].json()["calibration"]["accuracy"] < 1
    else:
        assert ("example 2 (index 1), position (5, 6), column '4'" if maps else "row 2346 (index 2345), column '4'") in runs[0].err
