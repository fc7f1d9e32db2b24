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
from focalcli import core, kernels

# without a C compiler the install goes on and numpy's passes run: these
# tests then have nothing to compare and skip, saying so
pytestmark = pytest.mark.skipif(
    (kernels._kernels is None or kernels._sums is None) and
    not os.environ.get("FOCAL_REQUIRE_KERNEL"),
    reason="focalcli._kernels or _sums was not built (no C compiler): numpy's passes run")


def test_the_kernel_is_built():
    # .ci/run sets FOCAL_REQUIRE_KERNEL: there a failed build is a failure
    assert kernels._kernels is not None, "focalcli._kernels did not build: is gcc there?"
    assert kernels._sums is not None, "focalcli._sums did not build: is gcc there?"


def in_a_map(z, gap: int):
    """``(n, K)`` scores as a block of positions in a bigger map's memory:
    each class's n scores in a run, ``gap`` positions of other scores
    between the runs (NaN, which the kernels must step over)."""
    n, k = z.shape
    memory = np.full((k, n + gap), np.nan, z.dtype)
    memory[:, :n] = z.T
    view = memory[:, :n].T
    assert view.strides == (z.itemsize, (n + gap) * z.itemsize)
    return view


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
    rows = np.arange(n)
    # rows in memory, and class by class as a dense map's block lies (copied, or
    # read in the map itself); the top pass alone, and the one read that sums the
    # exponentials too
    for layout in (z, np.asfortranarray(z), in_a_map(z, data.draw(st.integers(0, 5)))):
        for found in (kernels.row_top(layout, t),
                      kernels.softmax_read(layout, t, LIMITS[dtype], np.zeros(k)).top):
            zmax, gap, top, bad = found
            assert bad == want_bad
            if want_bad is None:
                assert np.array_equal(zmax, want_max) and np.array_equal(top, want_top)
                assert np.array_equal(gap, want_max.astype(np.float64) - z[rows, t])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_read_leaves_to_numpy_what_the_top_pass_keeps(dtype):
    """A dense map's block with a score beyond the exponential's range has
    its top label from the one read, its sums from numpy's passes; a block
    with a non-finite score has neither, and says where the first one is."""
    z = np.asfortranarray(np.array([[0.0, 1.0, 2.0], [800.0, -1.0, 3.0]], dtype))
    t = np.array([2, 1])
    read = kernels.softmax_read(z, t, LIMITS[dtype], np.zeros(3))
    assert read.sums is None and read.top.bad is None
    assert list(read.top.top) == [True, False] and list(read.top.zmax) == [2.0, 800.0]
    z[1, 2] = np.nan
    z[1, 0] = np.inf
    read = kernels.softmax_read(z, t, LIMITS[dtype], np.zeros(3))
    assert read.sums is None and read.top.bad == (1, 0)
    assert kernels.softmax_read(np.ascontiguousarray(z), t, LIMITS[dtype]).top.bad == (1, 0)


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
    assert kernels.row_top(np.asfortranarray(z)[::2], t[:2]) is None  # rows apart
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
    assert runs[0].err == runs[1].err
    if bad is None:   # the sums of exponentials may differ in their last digits
        assert_close(runs[0].json(), runs[1].json(), rel=1e-6)
        assert runs[0].json()["calibration"]["accuracy"] < 1
    else:
        assert ("example 2 (index 1), position (5, 6), column '4'" if maps else "row 2346 (index 2345), column '4'") in runs[0].err


def assert_close(a, b, rel):
    """Two documents alike: the same keys and strings, numbers within rel."""
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            assert_close(a[key], b[key], rel)
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_close(x, y, rel)
    elif isinstance(a, float) and isinstance(b, float):
        assert a == pytest.approx(b, rel=rel, abs=1e-12)
    else:
        assert a == b


LIMITS = {np.float32: (1e-28, 1e150, 340.0), np.float64: (1e-150, 1e150, 340.0)}


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 40), st.integers(2, 70), st.sampled_from([np.float32, np.float64]),
       st.data())
def test_sums_of_exponentials_against_float64(n, k, dtype, data):
    """The compiled sum of the other classes' exponentials: within 1e-6
    (float32 input) or 1e-14 (float64) of the sum in float64 wherever the
    direct form takes it; rows beyond its exponential's range (a score over
    88, or a tiny sum beside flushed terms) must fail the direct form, which
    sends them to the exact path (odds -1, counted); the direct rows' odds
    as rest * exp(-z_t) in float64; the prior's sums as the softmax's."""
    scale = data.draw(st.sampled_from([1.0, 10.0, 40.0, 120.0, 400.0]))
    z = (np.array(data.draw(st.lists(st.floats(-1, 1), min_size=n * k, max_size=n * k)))
         .reshape(n, k) * scale).astype(dtype)
    t = np.array(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    # rows weighed 0 (unscored), a half or 1: the prior adds each row's by its weight,
    # a group of eight rows at a time
    prior = np.zeros(k)
    w = np.array(data.draw(st.lists(st.sampled_from([0.0, 0.5, 1.0]), min_size=n, max_size=n)))
    zt, rest, odds, shifted = kernels.softmax_sums(z, t, LIMITS[dtype], prior, w)
    # a dense map's class-major block: the same sums, class by class
    # (a block with a score beyond its exponential's range is left to numpy)
    prior_cm, prior_map = np.zeros(k), np.zeros(k)
    cm = np.asfortranarray(z)
    found = kernels.softmax_sums(cm, t, LIMITS[dtype], prior_cm, w)
    # the same block read where it lies in a map, with other scores between its classes
    in_map = kernels.softmax_sums(in_a_map(z, data.draw(st.integers(0, 3))), t, LIMITS[dtype],
                                  prior_map, w)
    assert (in_map is None) == (found is None) or cm.flags.c_contiguous
    if in_map is not None and found is not None and not cm.flags.c_contiguous:
        for mine, theirs in zip(in_map, found):
            assert np.array_equal(mine, theirs)
        assert np.array_equal(prior_map, prior_cm)
    in_range = (-87 <= z).all() and (z <= 88).all() if dtype == np.float32 else \
        (-708 <= z).all() and (z <= 709).all()
    if not cm.flags.c_contiguous:  # (one row or one class is both layouts)
        assert (found is not None) == bool(in_range)
    if found is not None:  # the same exponential, each loop compiled its own way
        same = 1e-6 if dtype == np.float32 else 1e-13
        assert np.array_equal(found.target, zt) and found.shifted == shifted
        np.testing.assert_allclose(found.rest, rest, rtol=same)
        np.testing.assert_allclose(found.odds, odds, rtol=same)
        np.testing.assert_allclose(prior_cm, prior, rtol=same, atol=1e-300)
    rows = np.arange(n)
    assert np.array_equal(zt, z[rows, t].astype(np.float64))
    z64 = z.astype(np.float64)
    others = np.exp(z64)
    others[rows, t] = 0
    want = others.sum(axis=1)
    lo, hi, zmax = LIMITS[dtype]
    direct = (rest >= lo) & (rest <= hi) & (np.abs(zt) <= zmax)
    tol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(rest[direct], want[direct], rtol=tol)
    assert shifted == (~direct).sum() and (odds[~direct] == -1).all()
    np.testing.assert_allclose(odds[direct], want[direct] * np.exp(-zt[direct]), rtol=tol)
    high = 88 if dtype == np.float32 else 709
    beyond = (np.where(np.arange(k) == t[:, None], -np.inf, z64) > high).any(axis=1)
    assert not (direct & beyond).any()
    # the softmax in x87 long double: its subtraction z - max loses no digit
    zl = z.astype(np.longdouble)
    p = np.exp(zl - zl.max(axis=1, keepdims=True))
    p = (p / p.sum(axis=1, keepdims=True)).astype(np.float64)
    # a float32 term under exp(-87) is flushed: in a direct row it held less
    # than 1e-16 of the row (a smaller sum beside it fails the direct form)
    np.testing.assert_allclose(prior, (w[:, None] * p)[direct].sum(axis=0), rtol=tol,
                               atol=n * 1e-16 if dtype == np.float32 else 1e-300)


GAMMAS = st.lists(st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 16.5]), min_size=1,
                  max_size=4)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 300), st.integers(1, 6), GAMMAS, st.booleans(), st.integers(0, 2),
       st.data())
def test_unit_sums_are_bincounts_bit_for_bit(n, k, gammas, weighted, extras, data):
    """The compiled unit sums (summary.Accumulator.partial's) against the
    bincounts written out here: the same float64 terms in the same order, so
    equal to the last bit, with ignored rows, weights and extra sums."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31)))
    group = rng.integers(0, k, n)
    keep = rng.random(n) < data.draw(st.sampled_from([0.0, 0.5, 1.0]))
    q = rng.random(n) ** data.draw(st.sampled_from([1, 8]))
    q[rng.random(n) < 0.1] = 0.0
    pt = 1.0 - q
    ce = -np.log1p(-q) * rng.choice([1.0, 1e150], n)  # squares overflow to inf, as numpy's
    w = rng.random(n) if weighted else None
    extra = [rng.normal(size=n) for _ in range(extras)]
    chains = [core.chain(g) for g in gammas]
    got = kernels.group_sums(group, keep, ce, q, pt, w, chains, extra, 4 * k, core.BUCKET_EDGES)
    cell = (group * 4 + np.searchsorted(core.BUCKET_EDGES, pt, side="right"))[keep]

    def bins(values=None):
        return np.bincount(cell, None if values is None else values[keep], minlength=4 * k)

    with np.errstate(over="ignore"):
        assert np.array_equal(got.count, bins())
        assert np.array_equal(got.ce, bins(ce)) and np.array_equal(got.ce2, bins(ce * ce))
        for i, g in enumerate(gammas):
            whole, half = divmod(g, 1.0)
            factor = q.copy() if whole >= 1 else np.ones(n)
            for _ in range(int(whole) - 1):
                factor = factor * q
            f = (factor * np.sqrt(q) if half else factor) * ce
            assert np.array_equal(got.focal[i], bins(f)), g
            assert np.array_equal(got.focal2[i], bins(f * f)), g
    assert (got.wsum is None) == (w is None)
    if w is not None:
        assert np.array_equal(got.wsum, bins(w))
    for mine, values in zip(got.extra, extra):
        assert np.array_equal(mine, bins(values))


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 400), st.sampled_from([1, 2, 10, 15, 100]), st.data())
def test_calibration_sums_are_bincounts_bit_for_bit(n, bins, data):
    """Calibration's compiled sums: torchmetrics' bins (the confidence in
    float32, searchsorted over float32 edges, 1.0 in a bin of its own) and
    the fine bins, against searchsorted and bincount here."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31)))
    conf = rng.random(n)
    edges = np.linspace(0, 1, bins + 1, dtype=np.float32)
    # confidences on and beside every edge, and 1
    at = rng.integers(0, bins + 1, n)
    near = rng.random(n) < 0.5
    conf[near] = np.nextafter(edges[at[near]].astype(np.float64), rng.choice([0.0, 2.0], near.sum()))
    conf = np.clip(conf, 0.0, 1.0)
    conf[rng.random(n) < 0.05] = 1.0
    correct = rng.random(n) < 0.7
    keep = rng.random(n) < 0.8
    upper = np.append(edges[1:], np.float32(np.inf))
    sums, part, (lo, hi) = kernels.calibration_sums(conf, correct, keep, edges, upper, bins,
                                                    1 << 16)
    fine = np.zeros((3, 1 << 16))
    fine[:, lo:hi] = part.T
    c, r = conf[keep], correct[keep]
    index = np.searchsorted(edges, c.astype(np.float32), side="right") - 1  # 1.0: bin `bins`
    want = [np.bincount(index, minlength=bins + 1), np.bincount(index, c, minlength=bins + 1),
            np.bincount(index, r.astype(float), minlength=bins + 1)]
    assert np.array_equal(sums, np.array(want, dtype=float))
    f = np.minimum((c * 65536).astype(np.intp), 65535)
    want = [np.bincount(f, minlength=65536), np.bincount(f, c, minlength=65536),
            np.bincount(f, r.astype(float), minlength=65536)]
    assert np.array_equal(fine, np.array(want, dtype=float))
    # the span is the one the scored rows fall in, no wider
    assert (lo, hi) == ((f.min(), f.max() + 1) if f.size else (0, 0))


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads Linux's RSS")
def test_dropped_pages_leave_the_resident_set(tmp_path):
    """kernels.drop_pages (the readers' release, with the GIL released) takes
    a memory map's pages out of the process as mmap's madvise does."""
    import mmap

    def resident_mb():
        return int(open("/proc/self/statm").read().split()[1]) * mmap.PAGESIZE / 2**20

    path = tmp_path / "big.bin"
    path.write_bytes(np.random.default_rng(0).bytes(64 << 20))
    with open(path, "rb") as f:
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        view = np.frombuffer(mm, np.uint8)
        assert view.sum(dtype=np.int64) > 0
        touched = resident_mb()
        kernels.drop_pages(mm, 0, len(mm))
        assert resident_mb() < touched - 48
        with pytest.raises(ValueError):
            kernels.drop_pages(mm, mmap.PAGESIZE, len(mm))
        del view
        mm.close()
