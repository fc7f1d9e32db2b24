"""`focal schema`: each command's JSON Schema is a valid draft 2020-12
schema, every document the suite makes validates against it (conftest's
Run.json), and a document with a key moved, retyped or out of range fails."""
import copy
import json

import jsonschema
import numpy as np
import pytest

from conftest import focal, sample, validate_document

DIGITS = [sample("digits.npy"), sample("digits_targets.npy")]
DETECT = [sample("detect.npy"), sample("detect_targets.npy")]


@pytest.mark.parametrize("kind", ["score", "sweep", "compare", "curve", "conventions",
                                  "track"])
def test_the_schema_is_a_draft_2020_12_schema(kind):
    run = focal("schema", kind)
    assert run.code == 0
    schema = json.loads(run.out)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_an_unknown_kind_is_a_usage_error():
    assert focal("schema", "nope").code == 2


def _score():
    return focal("score", *DIGITS, "--format", "json").json()


@pytest.mark.parametrize("mutate", [
    lambda d: d.pop("focal"),                                 # a key moved
    lambda d: d.update(n="579"),                              # retyped
    lambda d: d["per_class"][0].update(share=1.5),            # out of range
    lambda d: d["buckets"].pop(),                             # four buckets, always
    lambda d: d.update(mode="multiclass"),                    # not a mode
    lambda d: d["calibration"].update(ece=-0.1),
])
def test_a_mutated_score_document_fails(mutate):
    doc = _score()
    validate_document(doc, "score")
    broken = copy.deepcopy(doc)
    mutate(broken)
    with pytest.raises(jsonschema.ValidationError):
        validate_document(broken, "score")


def test_sigmoid_documents_must_count_elements_and_positives():
    doc = focal("score", *DETECT, "--mode", "sigmoid", "--format", "json").json()
    del doc["positives"]
    with pytest.raises(jsonschema.ValidationError, match="positives"):
        validate_document(doc, "score")


def test_mutated_sweep_compare_and_curve_documents_fail(tmp_path):
    z = np.load(DIGITS[0])
    np.save(tmp_path / "cand.npy", z + 0.1)
    docs = {"sweep": focal("sweep", *DIGITS, "--format", "json").json(),
            "compare": focal("compare", DIGITS[0], tmp_path / "cand.npy", DIGITS[1],
                             "--format", "json").json(),
            "curve": focal("curve", "--format", "json").json()}
    mutations = {"sweep": lambda d: d["grid"][0].update(gamma=-1),
                 "compare": lambda d: d["gates"].update(passed="yes"),
                 "curve": lambda d: d["rows"][0].update(p_t=0)}
    for kind, doc in docs.items():
        mutations[kind](doc)
        with pytest.raises(jsonschema.ValidationError):
            validate_document(doc, kind)


def test_the_python_api_documents_validate():
    import focalcli
    z, t = np.load(DIGITS[0]), np.load(DIGITS[1])
    validate_document(focalcli.score(z, t).to_dict(), "score")
    validate_document(focalcli.compare(z, z + 0.1, t, bootstrap=50).to_dict(), "compare")


def test_the_track_schema_is_the_contracts_document():
    """`focal track` is to come; its schema is the contract's document, so a
    document shaped as the contract says validates and one missing a key fails."""
    checkpoint = {"name": "epoch_1.npy", "step": 1, "gamma": 2.0, "n": 579, "focal": 0.2,
                  "ce": 0.4, "ratio": 0.5, "easy_share": 0.1, "hard_easy_ratio": None,
                  "accuracy": 0.9, "ece": 0.05, "per_class": []}
    doc = {"checkpoints": [checkpoint],
           "examples": {"learned": 500, "forgotten": 12, "never_learned": 67}}
    validate_document(doc, "track")
    del doc["examples"]["forgotten"]
    with pytest.raises(jsonschema.ValidationError):
        validate_document(doc, "track")
