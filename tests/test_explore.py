"""`focal explore` without a browser: the page's data against `focal score`
for the same setting, the hardest examples against a sort written here, the
p_t histogram against numpy's, a bounded size, self-containment, and bad
input. The page in a real browser: test_explore_browser.py."""
import json
import os
import re

import numpy as np
import pytest

from conftest import focal, reference_ce, sample
from focalcli.errors import ExitStatus

DIGITS = [sample("digits.npy"), sample("digits_targets.npy")]


def page_data(path) -> dict:
    text = open(path, encoding="utf-8").read()
    found = re.search(r'<script type="application/json" id="data">(.*?)</script>', text, re.S)
    return json.loads(found.group(1))


def explore(tmp_path, *args, name="page.html"):
    out = tmp_path / name
    r = focal("explore", *args, "-o", out)
    assert r.code == ExitStatus.OK, r
    return out, page_data(out)


def test_cells_are_the_numbers_of_score(tmp_path):
    out, doc = explore(tmp_path, *DIGITS, "--alphas", "1,0.25,balanced")
    assert doc["gammas"] == [round(0.1 * i, 1) for i in range(51)]
    assert doc["alphas"] == ["1.0", "0.25", "balanced"]
    for gi, gamma in [(0, 0.0), (5, 0.5), (20, 2.0), (37, 3.7), (50, 5.0)]:
        for ai, alpha in enumerate(doc["alphas"]):
            want = focal("score", *DIGITS, "--gamma", gamma, "--alpha", alpha,
                         "--format", "json").json()
            cell = doc["cells"][gi][ai]
            for key in ("focal", "ce", "ratio", "easy_share"):
                assert cell[key] == want[key], (gamma, alpha, key)
            assert cell["effective"] == want["effective_examples"]["focal"]
            assert cell["effective_ce"] == want["effective_examples"]["ce"]
            assert [b[2] for b in cell["buckets"]] == [b["focal_share"] for b in want["buckets"]]
            shown = {row[0]: row for row in cell["classes"]}
            for row in want["per_class"]:
                assert shown[row["class"]][2] == row["focal"]


@pytest.mark.parametrize("alpha", ["0.25", "balanced", "2/1/1/1/1/1/1/1/1/5"])
def test_hardest_examples_against_a_sort(tmp_path, alpha):
    """The hardest at each cell are exactly the top of a sort by
    alpha_t (1 - p_t)^gamma CE written out here, whatever the alpha."""
    z, t = np.load(DIGITS[0]), np.load(DIGITS[1])
    out, doc = explore(tmp_path, *DIGITS, "--alphas", alpha)
    ce = reference_ce(z, t)
    weights = np.asarray(doc["alpha_values"][0], dtype=float)
    alpha_t = weights[t] if weights.ndim else float(weights)
    for gi in (0, 10, 20, 50):
        gamma = doc["gammas"][gi]
        want = alpha_t * (-np.expm1(-ce)) ** gamma * ce
        order = np.lexsort((np.arange(len(t)), -want))[:10]
        got = doc["cells"][gi][0]["hardest"]
        assert [r["index"] for r in got] == order.tolist()
        np.testing.assert_allclose([r["focal"] for r in got], want[order], rtol=1e-12)
        np.testing.assert_allclose([r["p_t"] for r in got], np.exp(-ce[order]), rtol=1e-12)


def test_histogram_of_p_t(tmp_path):
    z, t = np.load(DIGITS[0]), np.load(DIGITS[1])
    pt = np.exp(-reference_ce(z, t))
    _, doc = explore(tmp_path, *DIGITS, "--gammas", "0,2")
    want, _ = np.histogram(pt, bins=50, range=(0, 1))
    assert doc["hist"] == want.tolist()
    assert doc["start"] == 1  # gamma 2 opens the page


def test_sigmoid_and_dense_inputs(tmp_path):
    det = [sample("detect.npy"), sample("detect_targets.npy"), "--mode", "sigmoid"]
    _, doc = explore(tmp_path, *det, "--gammas", "0:3:1", "--alphas", "0.25,0.5")
    assert doc["unit"] == "element" and not doc["hardest_exact"]
    for gi, gamma in enumerate(doc["gammas"]):
        for ai, alpha in enumerate(doc["alphas"]):
            want = focal("score", *det, "--gamma", gamma, "--alpha", alpha,
                         "--format", "json").json()
            assert doc["cells"][gi][ai]["focal"] == want["focal"]
    rows = focal("score", *det, "--per-example", "--format", "json").json()
    hardest = sorted(rows, key=lambda r: (-r["ce"], r["index"]))[:10]
    assert [r["index"] for r in doc["cells"][0][0]["hardest"]] == \
        [r["index"] for r in hardest]
    seg = [sample("seg_logits.npy"), sample("seg_masks"), "--ignore-index", "255"]
    _, doc = explore(tmp_path, *seg, "--gammas", "0,2", name="seg.html")
    want = focal("score", *seg, "--format", "json").json()
    assert doc["unit"] == "position" and doc["n"] == want["n"]
    assert doc["cells"][1][0]["focal"] == want["focal"]
    assert doc["cells"][1][0]["hardest"][0]["id"].endswith(".png")


def test_self_contained_and_safe(tmp_path):
    """No request leaves the page: no src, href, url() or @import; an
    input's strings cannot close the script element or become markup."""
    hostile = '</script><script>alert(1)</script><b onmouseover=x>&amp;'
    z = np.load(DIGITS[0])
    np.save(tmp_path / "z.npy", z)
    names = tmp_path / "names.json"
    names.write_text(json.dumps([hostile + str(i) for i in range(10)]))
    out, doc = explore(tmp_path, tmp_path / "z.npy", DIGITS[1], "--class-names", names)
    text = out.read_text()
    assert not re.search(r"\b(src|href)\s*=|url\(|@import|https?://", text.replace(
        "http://www.w3.org/2000/svg", ""))
    assert "alert(1)</script>" not in text and "<b onmouseover" not in text
    assert {row[0] for row in doc["cells"][0][0]["classes"]} == \
        {hostile + str(i) for i in range(10)}


def test_size_is_bounded_whatever_n(tmp_path, rng):
    sizes = []
    for n in (2_000, 200_000):
        z = rng.normal(size=(n, 80)).astype(np.float32)
        np.save(tmp_path / f"z{n}.npy", z)
        np.save(tmp_path / f"t{n}.npy", rng.integers(0, 80, n))
        out, _ = explore(tmp_path, tmp_path / f"z{n}.npy", tmp_path / f"t{n}.npy",
                         name=f"p{n}.html")
        sizes.append(os.path.getsize(out))
    assert sizes[1] < 600_000
    assert abs(sizes[1] - sizes[0]) < 0.1 * sizes[0]


def test_bad_input_and_no_half_written_page(tmp_path):
    r = focal("explore", *DIGITS)
    assert r.code == ExitStatus.BAD_INPUT and "'-o'" in r.err
    r = focal("explore", *DIGITS, "-o", tmp_path / "page.txt")
    assert r.code == ExitStatus.BAD_INPUT and r.err.startswith("Error: --output:")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,target\n" + "0.1,0.2,0\n" * 100 + "0.3,oops,1\n")
    out = tmp_path / "page.html"
    out.write_text("the old page")
    r = focal("explore", bad, "-o", out)
    assert r.code == ExitStatus.BAD_INPUT and "bad.csv" in r.err and "line 102" in r.err
    assert out.read_text() == "the old page"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".focal-")] == []
    r = focal("explore", *DIGITS, "--gammas", "-1,2", "-o", out)
    assert r.code == ExitStatus.BAD_INPUT and "--gammas" in r.err
