"""Streaming: the same totals, bit for bit, whatever the batch size, thread
count or input format; accumulators merge by addition."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import focal, reference_ce
from focalcli.readers import Layout, open_predictions
from focalcli.readers import TargetFile
from focalcli.scoring import Scorer, Settings
from focalcli.summary import Accumulator

# every exactness promise on the compiled passes and on numpy's
pytestmark = pytest.mark.usefixtures("both_paths")


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    d = tmp_path_factory.mktemp("big")
    rng = np.random.default_rng(7)
    z = (rng.normal(size=(30_001, 7)) * 3).astype(np.float32)
    t = rng.integers(0, 7, 30_001)
    np.save(d / "z.npy", z)
    np.save(d / "t.npy", t)
    with open(d / "z.jsonl", "w") as f:
        for row, target in zip(z.astype(np.float64).tolist(), t.tolist()):
            f.write('{"logits": %s, "target": %d}\n' % (row, target))
    return d, z, t


def totals(path, targets, batch_rows, threads, gammas=(2.0, 0.5)):
    table = open_predictions(str(path), layout=Layout(), batch_rows=batch_rows)
    tf = TargetFile.of_array(np.load(targets), str(targets)) if targets else None
    out = Scorer(table, Settings(gammas=gammas, threads=threads), tf).run()
    return out.acc


@pytest.mark.parametrize("batch_rows,threads", [(65536, 1), (4096, 2), (1000, 2), (7, 3),
                                                (30_001, 4)])
def test_identical_whatever_batch_and_threads(big, batch_rows, threads):
    d, z, t = big
    ref = totals(d / "z.npy", d / "t.npy", 65536, 1)
    got = totals(d / "z.npy", d / "t.npy", batch_rows, threads)
    for name in ("count", "ce", "ce2", "focal", "focal2"):
        assert np.array_equal(getattr(ref, name), getattr(got, name)), name


def test_jsonl_matches_the_formula_and_npy(big):
    d, z, t = big
    ref = totals(d / "z.npy", d / "t.npy", 65536, 2)
    got = totals(d / "z.jsonl", None, 999, 2)
    # the jsonl holds the float32 values as float64: the core then works in
    # float64, so compare to the formula rather than bit-for-bit to float32
    z64 = z.astype(np.float64)
    ce = reference_ce(z64, t)
    assert got.ce.sum() == pytest.approx(ce.sum(), rel=1e-12)
    assert ref.ce.sum() == pytest.approx(ce.sum(), rel=1e-6)


def test_cli_threads_flag_gives_identical_json(big):
    d, _, _ = big
    one = focal("score", d / "z.npy", d / "t.npy", "--threads", "1", "--format", "json")
    two = focal("score", d / "z.npy", d / "t.npy", "--threads", "2", "--format", "json")
    assert one.out == two.out


@pytest.mark.parametrize("batch_rows,block_rows,threads", [(65536, 4096, 1), (1000, 64, 2),
                                                             (333, 64, 3)])
def test_top_merges_across_units_and_batches(big, batch_rows, block_rows, threads):
    # blocks of 64 rows make units of 1,024: the 30,001 rows span 30 units,
    # several of them in flight at once, and batches that do not align with them
    d, z, t = big
    table = open_predictions(str(d / "z.npy"), batch_rows=batch_rows)
    out = Scorer(table, Settings(threads=threads, block_rows=block_rows),
                 TargetFile.of_array(t, "t"), top=9).run()
    ce = reference_ce(z, t)
    focal_loss = (1 - np.exp(-ce)) ** 2 * ce
    want = np.argsort(-focal_loss, kind="stable")[:9]
    assert [r["index"] for r in out.top] == want.tolist()
    assert [r["focal"] for r in out.top] == pytest.approx(focal_loss[want], rel=1e-5)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 50), min_size=1, max_size=6), st.integers(0, 2**31))
def test_accumulators_merge_by_addition(sizes, seed):
    rng = np.random.default_rng(seed)
    parts, whole = [], Accumulator((0.0, 2.0), 3)
    all_g, all_ce, all_q = [], [], []
    for n in sizes:
        g = rng.integers(0, 3, n)
        ce = rng.exponential(size=n)
        q = -np.expm1(-ce)
        acc = Accumulator((0.0, 2.0), 3)
        acc.add(g, np.ones(n, bool), ce, q, 1 - q)
        parts.append(acc)
        all_g.append(g), all_ce.append(ce), all_q.append(q)
    g = np.concatenate(all_g)
    whole.add(g, np.ones(g.size, bool), np.concatenate(all_ce), np.concatenate(all_q),
              1 - np.concatenate(all_q))
    merged = Accumulator((0.0, 2.0), 3)
    for p in parts:
        merged.merge(p)
    np.testing.assert_allclose(merged.focal, whole.focal, rtol=1e-12)
    np.testing.assert_array_equal(merged.count, whole.count)
    # gamma 0 is CE
    np.testing.assert_allclose(merged.focal[0], merged.ce, rtol=1e-12)
