# Every target builds what it needs into .venv itself: a fresh clone needs only python3.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check
# focalcli itself as a path entry, as a regular install costs a process nothing: the
# default editable finder imports pathlib and urllib at every start (~15 ms a command)
EDITABLE := --config-settings editable_mode=compat -e

.PHONY: demo test docs pictures bench bench-floor bench-formats bench-relatives bench-shards fuzz test-peers clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: pyproject.toml setup.py focalcli/_kernels.c focalcli/_passes.c focalcli/_passes.h focalcli/_sums.c | $(BIN)/python
	$(PIP) $(EDITABLE) '.[image]'
	touch $@

$(VENV)/.dev: pyproject.toml setup.py focalcli/_kernels.c focalcli/_passes.c focalcli/_passes.h focalcli/_sums.c | $(BIN)/python
	$(PIP) $(EDITABLE) '.[dev]'
	touch $@ $(VENV)/.runtime

demo: $(VENV)/.runtime
	$(BIN)/focal score sample_data/digits.csv --top 5
	$(BIN)/focal score sample_data/detect.npy sample_data/detect_targets.npy --mode sigmoid --normalize positives
	$(BIN)/focal score sample_data/seg_logits.npy sample_data/seg_masks --ignore-index 255 --class-names sample_data/seg_classes.txt --top 2
	$(BIN)/focal curve
	$(BIN)/focal explore sample_data/digits.npy sample_data/digits_targets.npy --alphas 1,0.25,balanced -o digits-explorer.html
	@echo "the digits explorer: file://$(CURDIR)/digits-explorer.html (open it in a browser; it needs no network)"

# both cores (pytest-xdist); `make test PYTEST_ARGS=-n0` runs in one process
PYTEST_ARGS ?= -n 2
test: $(VENV)/.dev
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

$(VENV)/.docs: pyproject.toml | $(BIN)/python
	$(PIP) $(EDITABLE) '.[docs]'
	touch $@

# the site into site/ (git-ignored); --strict: a warning (a broken link) fails the build
docs: $(VENV)/.docs
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet
	@echo "the site: file://$(CURDIR)/site/index.html"

# the docs' pictures, from the sample data by the commands the pages show
pictures: $(VENV)/.dev
	$(BIN)/python docs/make_pictures.py

clean:
	rm -rf $(VENV) site .venv-peers .pytest_cache .hypothesis build *.egg-info bench-data digits-explorer.html

# PyTorch, Keras (torch backend) and Kornia in their own venv: torch==2.13.0 is
# the CPU wheel on this machine's disk; pinning it keeps pip from pulling a
# newer (multi-GB) build.
PEERS := .venv-peers
$(PEERS)/.installed: pyproject.toml
	$(PYTHON) -m venv $(PEERS)
	$(PEERS)/bin/python -m pip install --quiet --disable-pip-version-check torch==2.13.0
	$(PEERS)/bin/python -m pip install --quiet --disable-pip-version-check torch==2.13.0 keras kornia $(EDITABLE) '.[dev]'
	# MONAI, segmentation_models_pytorch and torchmetrics need only torch and numpy for their
	# losses; --no-deps keeps pip from touching torch (smp's encoders would
	# pull torchvision and timm, which do not install beside this torch; timm
	# itself comes without them, and its loss file is loaded on its own)
	$(PEERS)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps monai segmentation-models-pytorch torchmetrics lightning-utilities timm
	touch $@

test-peers: $(PEERS)/.installed
	KERAS_BACKEND=torch $(PEERS)/bin/python -m pytest -q -p no:cacheprovider peers_tests tests/test_torch.py
	$(PEERS)/bin/python -m pytest -q -p no:cacheprovider -m torch tests/test_dense.py tests/test_lm.py tests/test_gradient.py tests/test_api.py tests/test_formats.py

bench: $(VENV)/.dev $(PEERS)/.installed
	$(BIN)/python benchmarks/bench.py $(BENCH_ARGS)
	$(BIN)/python benchmarks/shards.py

# .safetensors against .npy (1M x 80 float32; a 1 GB bfloat16 LM): medians, ratios, memory
bench-formats: $(VENV)/.dev
	$(BIN)/python benchmarks/formats.py $(BENCH_ARGS)

# what each relative (--loss) and sigmoid soft targets add to score on 1M x 80
bench-floor: $(VENV)/.dev
	$(BIN)/python benchmarks/floor.py $(BENCH_ARGS)

bench-relatives: $(VENV)/.dev
	cd benchmarks && ../$(BIN)/python relatives.py $(BENCH_ARGS)

# only the shards: in-process, --workers 2 and --scheduler on 64 shards
bench-shards: $(VENV)/.dev
	$(BIN)/python benchmarks/shards.py $(BENCH_ARGS)

fuzz: $(VENV)/.dev
	FOCAL_FUZZ_EXAMPLES=$${FOCAL_FUZZ_EXAMPLES:-3000} $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_fuzz.py -s
