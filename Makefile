# vireid: `make demo` runs the whole pipeline on a CPU; `make test` runs the test suite.
# Real data: make captions / train / eval DATASET=sysu ROOT=/data/SYSU-MM01 [METHOD=eees]
PYTHON  ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
LOCK    ?=
VERIFIED := requirements/verified.txt
# One stamp per install mode (resolved, or the constraints file), so switching reinstalls.
STAMP   := $(VENV)/.vireid-installed$(if $(LOCK),-$(notdir $(VERIFIED)),-resolved)
VIREID  := $(BIN)/vireid

DATASET ?= sysu
ROOT    ?=
TRIAL   ?=
METHOD  ?= eees
MODEL   ?= llava-hf/llava-1.5-7b-hf
CAPTIONS ?= llava
QUANT   ?= 4bit
BATCH   ?= 16
DEVICE  ?= cpu
RUN     ?=
FORCE   ?=
SIZE    ?= short
VAL_IDS ?=

RUN_OPTS := --dataset $(DATASET) --root "$(ROOT)" $(if $(TRIAL),--trial $(TRIAL)) $(if $(RUN),--run "$(RUN)") $(if $(FORCE),--force)

.PHONY: setup lock golden test demo pretrain captions train eval all bench reproduce clean-demo help

help:
	@echo "make demo      whole pipeline on a synthetic benchmark, CPU, minutes (runs/demo)"
	@echo "make pretrain  the tiny CLIP prior of the tiny presets (synthetic web, cached under VIREID_CACHE)"
	@echo "make test      install into .venv if needed, run the test suite [LOCK=1: the verified versions]"
	@echo "make lock      write $(VERIFIED) from .venv (after make test passed)"
	@echo "make golden    re-record tests/golden/golden_runs.json under the installed versions"
	@echo "make captions  DATASET=sysu ROOT=DIR [MODEL=... QUANT=4bit BATCH=16 CAPTIONS=llava|reference|FILE]"
	@echo "make train     DATASET=sysu ROOT=DIR METHOD=eees [TRIAL=t for regdb] [VAL_IDS=n, same for captions]"
	@echo "make eval      DATASET=sysu ROOT=DIR METHOD=eees [DEVICE=cuda]"
	@echo "make all       captions + train + eval;  make bench [SIZE=short|full]"
	@echo "make reproduce TABLE=3|4|methods DATASET=sysu ROOT=DIR [SCALE=full|tiny SEEDS=N RECIPE=authors|paper OUT=DIR SHARD=I/N]"

setup: $(STAMP)

$(STAMP): pyproject.toml $(if $(LOCK),$(VERIFIED))
	$(PYTHON) -m venv $(VENV)
	rm -f $(VENV)/.vireid-installed-*
	$(BIN)/pip install -q -U pip
	$(BIN)/pip install -e '.[test]' $(if $(LOCK),-c $(VERIFIED))
	$(BIN)/python -c "import torch, torchvision, open_clip, transformers; print('torch', torch.__version__, 'torchvision', torchvision.__version__, 'open_clip', open_clip.__version__)"
	touch $(STAMP)

test: setup
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(BIN)/python -m pytest -q $(PYTEST_ARGS)

lock: setup
	$(BIN)/python requirements/lock.py

golden: setup
	HF_HUB_OFFLINE=1 $(BIN)/python -m tests.golden.runs

demo: setup
	HF_HUB_OFFLINE=1 $(VIREID) pipeline demo $(if $(FORCE),--force)

pretrain: setup
	HF_HUB_OFFLINE=1 $(VIREID) pretrain $(if $(FORCE),--force)

captions: setup
	$(VIREID) pipeline captions $(RUN_OPTS) $(if $(VAL_IDS),--val-ids $(VAL_IDS)) --captions "$(CAPTIONS)" --model "$(MODEL)" --quantization $(QUANT) --batch-size $(BATCH)

train: setup
	$(VIREID) pipeline train $(RUN_OPTS) $(if $(VAL_IDS),--val-ids $(VAL_IDS)) --method $(METHOD) --captions "$(CAPTIONS)"

eval: setup
	$(VIREID) pipeline eval $(RUN_OPTS) --method $(METHOD) --device $(DEVICE)

all: captions train eval

# make reproduce TABLE=3 DATASET=sysu ROOT=/data/SYSU-MM01 [SCALE=full|tiny SEEDS=N RECIPE=authors|paper OUT=runs/reproduce-table3 SHARD=1/2]
# SEEDS unset: vireid's default for the scale (`vireid reproduce --help` states it).
TABLE ?= 3
SCALE ?= full
SEEDS ?=
SHARD ?=
RECIPE ?= authors
OUT ?= runs/reproduce-table$(TABLE)-$(DATASET)
reproduce: setup
	$(VIREID) reproduce --table $(TABLE) --dataset $(DATASET) --root "$(ROOT)" --scale $(SCALE) $(if $(SEEDS),--seeds $(SEEDS)) $(if $(SHARD),--shard $(SHARD)) --recipe $(RECIPE) --out "$(OUT)"

bench: setup
	HF_HUB_OFFLINE=1 $(BIN)/python bench/run.py --size $(SIZE)

clean-demo:
	rm -rf runs/demo
