"""Hostile input: every reader fed random bytes and truncated, bit-flipped
and spliced valid files. The outcome is always exit 0 with a valid summary or
exit 2 with one line; never a traceback (exit 3), never a partial output file.

`make test` runs a bounded number of examples; `make fuzz` (or
FOCAL_FUZZ_EXAMPLES=N) runs more and prints the counts."""
import gzip
import io
import json
import os
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import focal, measured
from focalcli.errors import ExitStatus

EXAMPLES = int(os.environ.get("FOCAL_FUZZ_EXAMPLES", "60"))
COUNTS: Counter = Counter()


def _seeds() -> dict:
    rng = np.random.default_rng(0)
    z = np.round(rng.normal(size=(40, 3)), 3)
    t = rng.integers(0, 3, 40)
    df = pd.DataFrame(z, columns=["cat", "dog", "eel"])
    df.insert(0, "id", [f"r{i}" for i in range(40)])
    df["label"] = [["cat", "dog", "eel"][i] for i in t]
    npy, npz = io.BytesIO(), io.BytesIO()
    np.save(npy, z)
    np.savez(npz, logits=z, targets=t)
    csv = df.to_csv(index=False).encode()
    seeds = {
        "csv": csv,
        "tsv": df.to_csv(index=False, sep="\t").encode(),
        "csv.gz": gzip.compress(csv),
        "json": json.dumps({"logits": z.tolist(), "targets": t.tolist()}).encode(),
        "jsonl": "".join(json.dumps({"logits": r, "target": int(c)}) + "\n"
                         for r, c in zip(z.tolist(), t)).encode(),
        "npy": npy.getvalue(),
        "npz": npz.getvalue(),
    }
    try:
        buf = io.BytesIO()
        df.to_parquet(buf)
        seeds["parquet"] = buf.getvalue()
    except ImportError:
        pass
    return seeds


SEEDS = _seeds()
TARGETS = np.random.default_rng(0).integers(0, 3, 40)


def mutate(data: bytes, draw) -> bytes:
    kind = draw(st.sampled_from(["truncate", "flip", "splice", "random", "repeat"]))
    if kind == "truncate":
        return data[:draw(st.integers(0, len(data)))]
    if kind == "flip":
        out = bytearray(data)
        for _ in range(draw(st.integers(1, 8))):
            i = draw(st.integers(0, len(out) - 1))
            out[i] ^= 1 << draw(st.integers(0, 7))
        return bytes(out)
    if kind == "splice":
        i = draw(st.integers(0, len(data)))
        return data[:i] + draw(st.binary(min_size=1, max_size=40)) + data[i:]
    if kind == "repeat":
        i = draw(st.integers(0, len(data)))
        return data[:i] + data[i:i + 200] * draw(st.integers(2, 50)) + data[i:]
    return draw(st.binary(max_size=600))


def check(result, out_dir):
    assert result.code in (ExitStatus.OK, ExitStatus.BAD_INPUT), result
    assert "Traceback" not in result.err
    if result.code == ExitStatus.BAD_INPUT:
        lines = result.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), result.err
    else:
        doc = json.loads(result.out)
        assert doc["n"] >= 1 and all(np.isfinite([doc["focal"], doc["ce"]]))
    # only the input (and a complete output, on success) may be there
    leftovers = [f for f in os.listdir(out_dir) if f.startswith(".focal-")]
    assert not leftovers, leftovers


@pytest.mark.parametrize("fmt", sorted(SEEDS))
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_mutated_inputs(tmp_path, fmt, data):
    blob = mutate(SEEDS[fmt], data.draw)
    path = tmp_path / f"in.{fmt}"
    path.write_bytes(blob)
    extra = []
    if fmt in ("npy", "json", "jsonl") and data.draw(st.booleans()):
        np.save(tmp_path / "t.npy", TARGETS)
        extra = [tmp_path / "t.npy"]
    out = tmp_path / "rows.csv"
    r = focal("score", path, *extra, "-o", out, "--format", "json")
    check(r, tmp_path)
    COUNTS["tried"] += 1
    COUNTS["rejected cleanly" if r.code == ExitStatus.BAD_INPUT else "scored"] += 1
    if r.code == ExitStatus.OK:
        assert out.exists()
    else:
        assert not out.exists()
    out.unlink(missing_ok=True)


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(blob=st.binary(max_size=800))
def test_random_bytes_on_stdin(blob, tmp_path):
    r = focal("score", "-", "--format", "json", input=blob)
    check(r, tmp_path)
    COUNTS["tried"] += 1
    COUNTS["rejected cleanly" if r.code == ExitStatus.BAD_INPUT else "scored"] += 1


SPELLINGS = ["inf", "-inf", "+inf", "Inf", "INF", "infinity", "-Infinity", "nan", "NaN",
             "NAN", "-nan", "1e999", "-1e999", "", "null", "NA", "N/A", "1,234", "0x10",
             "1_000", " 1.5", "1.5 ", "'1.5'", "1.5.1", "--1", "1e", "١٢"]


@pytest.mark.parametrize("value", SPELLINGS)
def test_number_spellings(tmp_path, value):
    path = tmp_path / "p.csv"
    cell = f'"{value}"' if "," in value else value
    path.write_text(f"a,b,target\n1,{cell},0\n2,3,1\n")
    r = focal("score", path, "--format", "json")
    check(r, tmp_path)
    if r.code == ExitStatus.OK:  # only ordinary finite numbers may be scored
        assert value.strip() in ("1.5",)


def test_a_million_columns(tmp_path):
    # a million in `make fuzz`; 100k in `make test` (pandas parses 1M columns in ~30 s)
    path = tmp_path / "wide.csv"
    k = 1_000_000 if EXAMPLES > 60 else 100_000
    path.write_text(",".join("0" for _ in range(k)) + ",0\n", encoding="ascii")
    r = focal("score", path, "--target-col", str(k), "--format", "json")
    check(r, tmp_path)
    assert r.code == ExitStatus.OK and r.json()["classes"] == k


def test_huge_line_is_bounded(tmp_path):
    # 120 MB on one line: refused at 64 MB, without holding the whole line
    path = tmp_path / "long.jsonl"
    path.write_bytes(b'{"logits": [' + b"1," * (60 << 20) + b"1]}\n")
    r = focal("score", path, "--format", "json")
    check(r, tmp_path)
    assert r.err.strip() == f"Error: {path}, line 1: line is longer than 64 MB"
    code, err, peak = measured("score", path)
    assert code == ExitStatus.BAD_INPUT and err == r.err
    assert peak < 400, peak  # the line is read up to the limit, never whole


def test_gzip_bomb_is_streamed(tmp_path):
    # 256 MB of zeros in 250 kB: one line, no newline; must fail fast and small
    path = tmp_path / "bomb.csv.gz"
    with gzip.open(path, "wb", compresslevel=1) as f:
        chunk = b"0" * (1 << 24)
        for _ in range(16):
            f.write(chunk)
    r = focal("score", path, "--format", "json")
    check(r, tmp_path)
    assert r.code == ExitStatus.BAD_INPUT


def test_invalid_utf8_and_bom(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"\xef\xbb\xbfa,b,target\n1,2,0\n\xff\xfe,3,1\n")
    r = focal("score", path, "--format", "json")
    check(r, tmp_path)
    want = f"Error: {path}, line 3: not valid UTF-8 text (byte 1 of the line)"
    assert r.err.strip() == want, r.err
    path.write_bytes(b"\xef\xbb\xbfa,b,target\r\n1,2,0\r\n3,4,1\r\n")
    r = focal("score", path, "--format", "json")
    assert r.code == ExitStatus.OK and r.json()["class_names"] == ["a", "b"]


NUMBERISH = st.one_of(
    st.sampled_from(SPELLINGS + ["0", "-0", "1e308", "1e309", "-1e-400", "1e-5000",
                                 "9" * 30, "-" + "9" * 400, "0:1:1e-999999", "0:1e9999999:1",
                                 "1:0:1", "0:1:0", "0:1:-1", "a:b:c", "0.5/2", "all",
                                 "balanced", "effective:2", "effective:-1", "inverse-freq:3",
                                 "1,2,3,4,5,6,7,8,9,10", "1/2/3", "", ",", "∞", "\x1b[2J"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-2 ** 70, 2 ** 70).map(str),
    st.text(max_size=12),
)
OPTIONS = {"score": ["--gamma", "--alpha", "--ignore-index", "--fail-above", "--top",
                     "--classes", "--threads", "--reduction", "--normalize", "--mode"],
           "sweep": ["--gammas", "--alphas", "--ignore-index", "--threads"],
           "curve": ["--gammas", "--alpha", "--pt"]}


def check_exit(result):
    """Any command: exit 0 or 1 (a gate), or 2 with one line; never 3."""
    assert result.code in (ExitStatus.OK, ExitStatus.GATE_FAILED, ExitStatus.BAD_INPUT), result
    assert "Traceback" not in result.err
    if result.code == ExitStatus.BAD_INPUT:
        lines = result.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), result.err


@settings(max_examples=EXAMPLES * 3, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(command=st.sampled_from(sorted(OPTIONS)), data=st.data())
def test_option_values(command, data):
    # no option value may produce exit 3: the "a property"
    option = data.draw(st.sampled_from(OPTIONS[command]))
    value = data.draw(NUMBERISH)
    inputs = [] if command == "curve" else ["sample_data/digits.npy",
                                            "sample_data/digits_targets.npy"]
    inputs = [os.path.join(os.path.dirname(__file__), "..", p) for p in inputs]
    r = focal(command, *inputs, option, value, "--format", "json")
    check_exit(r)
    COUNTS["options tried"] += 1


JSON_NUMBERS = st.one_of(
    st.integers(-10 ** 400, 10 ** 400).map(str),
    st.sampled_from(["1e308", "1e309", "-1e999", "1e-400", "-0", "0.0", "5e-324",
                     "1.7976931348623157e308", "123456789012345678901234567890", "1E5",
                     "-0.0e-0", "true", "null", '"1"', "[]", "{}"]),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
)


@settings(max_examples=EXAMPLES * 2, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_json_numbers(tmp_path, data):
    logits = [[data.draw(JSON_NUMBERS) for _ in range(3)] for _ in range(3)]
    targets = [data.draw(st.one_of(JSON_NUMBERS, st.sampled_from(["0", "1", "2"])))
               for _ in range(3)]
    text = '{"logits": [%s], "targets": [%s]}' % (
        ", ".join("[" + ", ".join(r) + "]" for r in logits), ", ".join(targets))
    path = tmp_path / "p.json"
    path.write_text(text)
    jsonl = tmp_path / "p.jsonl"
    jsonl.write_text("".join('{"logits": [%s], "target": %s}\n' % (", ".join(r), t)
                             for r, t in zip(logits, targets)))
    for p in (path, jsonl):
        r = focal("score", p, "--format", "json")
        check(r, tmp_path)
        COUNTS["JSON numbers tried"] += 1


def teardown_module(module):
    if COUNTS:
        print(f"\nfuzz: {COUNTS['tried']} inputs tried, {COUNTS['rejected cleanly']} rejected "
              f"cleanly, {COUNTS['scored']} scored; {COUNTS['options tried']} option values "
              f"and {COUNTS['JSON numbers tried']} JSON-number documents tried; 0 exit-3")
