"""`focal conventions`: each row is what `focal score --like X` says, the
presets that refuse the input are listed with their reason, and the
document validates against its schema."""
import numpy as np
import pytest

import focalcli
from conftest import focal, sample

DIGITS = [sample("digits.npy"), sample("digits_targets.npy")]
DETECT = [sample("detect.npy"), sample("detect_targets.npy")]


@pytest.mark.parametrize("inputs, extra", [(DIGITS, []), (DIGITS, ["--gamma", "0.5"]),
                                           (DETECT, ["--mode", "sigmoid"])])
def test_each_row_is_score_like_x(inputs, extra):
    doc = focal("conventions", *inputs, *extra, "--format", "json").json()
    rows = {r["like"]: r for r in doc["conventions"]}
    assert None in rows and len(rows) + len(doc["refused"]) == 7
    for like, row in rows.items():
        flags = ["--like", like] if like else []
        want = focal("score", *inputs, *extra, *flags, "--format", "json").json()
        assert (row["focal"], row["ce"]) == (want["focal"], want["ce"]), like
    for r in doc["refused"]:
        run = focal("score", *inputs, *extra, "--like", r["like"])
        assert run.code == 2 and r["why"] in run.err


def test_what_sets_each_apart_is_said():
    doc = focal("conventions", *DIGITS, "--format", "json").json()
    rows = {r["like"]: r for r in doc["conventions"]}
    assert "mean over N*K cells (579 x 10)" in rows["kornia"]["differs"]
    assert "5,790 elements" in rows["torchvision"]["differs"]
    assert "float32 arithmetic" in rows["keras"]["differs"]
    assert "not the mean's denominator" in rows["mmpretrain"]["differs"]
    table = focal("conventions", *DIGITS)
    assert table.code == 0 and "kornia" in table.out and "monai" in table.out
    md = focal("conventions", *DETECT, "--mode", "sigmoid", "--format", "markdown").out
    assert "`--like kornia`" in md and md.count("\n| ") >= 5


def test_the_api_and_bad_input():
    z, t = np.load(DIGITS[0]), np.load(DIGITS[1])
    report = focalcli.conventions(z, t)
    cli = focal("conventions", *DIGITS, "--format", "json").json()
    assert [r["focal"] for r in report["conventions"]] == [r["focal"] for r in cli["conventions"]]
    assert report.to_frame()["like"].tolist()[1:] == ["torchvision", "kornia", "keras", "smp",
                                                      "monai", "mmpretrain"]
    run = focal("conventions", DETECT[0], DETECT[1])  # focal's own refuses: the input's fault
    assert run.code == 2 and "--mode sigmoid" in run.err
