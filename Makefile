# Every target builds what it needs into .venv itself: a fresh clone needs only python3.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: demo test bench fuzz test-peers clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(PIP) -e .
	touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(PIP) -e '.[dev]'
	touch $@ $(VENV)/.runtime

demo: $(VENV)/.runtime
	$(BIN)/focal score sample_data/digits.csv --top 5
	$(BIN)/focal score sample_data/detect.npy sample_data/detect_targets.npy --mode sigmoid --normalize positives
	$(BIN)/focal curve

test: $(VENV)/.dev
	$(BIN)/python -m pytest -q -p no:cacheprovider

clean:
	rm -rf $(VENV) .venv-peers .pytest_cache .hypothesis build *.egg-info bench-data
