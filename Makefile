# vireid: `make demo` runs the whole pipeline on a CPU; `make test` runs the test suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.vireid-installed

.PHONY: setup test

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip
	$(BIN)/pip install -e '.[test]'
	$(BIN)/python -c "import torch, torchvision, open_clip, transformers; print('torch', torch.__version__, 'torchvision', torchvision.__version__, 'open_clip', open_clip.__version__)"
	touch $(STAMP)

test: setup
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(BIN)/python -m pytest -q
