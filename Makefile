# Build, check and test the RNN chapter. `make help` lists the targets.
#
# Everything runs in .venv, created from requirements.txt on first use.
# For an NVIDIA GPU, ask for a CUDA build of MXNet 1.9.1, e.g.
#     make html MXNET=mxnet-cu112==1.9.1
# (not exercised by our CI, which has no GPU).

MXNET ?= mxnet==1.9.1
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
# d2lbook calls sphinx-build and pandoc by name.
export PATH := $(BIN):$(PATH)

# The pinned toolchain is resolved for Python 3.11 (mxnet 1.9.1 needs <=3.11,
# the Jupyter packages of requirements.txt need >=3.11).
PYTHON ?= $(shell for p in python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && \
	$$p -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
	2>/dev/null && { echo $$p; break; }; done)

.PHONY: help venv browser html eval lib check-lib figures test lab \
	robustness bench clean

help:  ## list the targets
	@echo 'make <target>, where <target> is one of:'
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | \
		sed -E 's/^([a-z-]+):.*## (.*)/  \1\t\2/' | expand -t 14

venv: $(STAMP)  ## create .venv from requirements.txt

$(STAMP): requirements.txt
	@test -n "$(PYTHON)" || { echo 'error: Python 3.11 not found on PATH;' \
		'install it (e.g. apt-get install python3.11-venv) or run' \
		'make PYTHON=/path/to/python3.11' >&2; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	grep -v '^mxnet==' requirements.txt > $(VENV)/requirements.txt
	$(PY) -m pip install --quiet -r $(VENV)/requirements.txt '$(MXNET)'
	ln -sf $$($(PY) -c 'import os, pypandoc; print(os.path.join( \
		os.path.dirname(pypandoc.__file__), "files", "pandoc"))') $(BIN)/pandoc
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	$(PY) -c 'import mxnet, torch, d2lbook, pkg_resources'
	touch $@

browser:  ## install Debian's chromium for the HTML tests (needs root)
	@command -v chromium >/dev/null 2>&1 || { \
	  test "$$(id -u)" = 0 || { echo 'error: the HTML tests need' \
	    'chromium: sudo apt-get install chromium' >&2; exit 1; }; \
	  apt-get update -qq && apt-get install -y -qq chromium; }

lib: $(STAMP)  ## regenerate gluonbook/ (both tabs) from the #@save cells
	$(PY) build/make_lib.py

check-lib: $(STAMP)  ## fail if gluonbook/ differs from the chapter
	$(PY) build/make_lib.py --check

figures:  ## redraw the structure figures img/*.svg
	$(PY) build/make_figures.py

eval: check-lib  ## run the sections that changed, both tabs, into _build/eval*
	$(PY) build/evaluate.py

html: eval  ## build the HTML book (both tabs) into _build/html
	$(BIN)/d2lbook build html --tab all
	$(PY) build/finish_html.py
	@echo 'open _build/html/index.html'

test: html browser  ## check-lib, evaluate, build, then check outputs, library, HTML
	$(PY) -m pytest tests

LAB_PORT ?= 8888
# Jupyter refuses to start as root (as in a container) unless told to.
lab: html  ## JupyterLab on the readers' notebooks (mxnet/, pytorch/), LAB_PORT 8888
	$(BIN)/jupyter lab --no-browser --ip=127.0.0.1 --port=$(LAB_PORT) \
		--ServerApp.root_dir=$(CURDIR)/_build/notebooks \
		$(if $(filter 0,$(shell id -u)),--allow-root)

SEEDS ?= 0 1 2
PROFILES ?= isa allthreads busy
robustness: check-lib  ## rebuild with SEEDS, and seed 0 on emulated PROFILES; check claims
	$(PY) build/robustness.py --seeds $(SEEDS) --profiles $(PROFILES)

bench: $(STAMP)  ## training throughput of every model, both frameworks
	$(PY) build/bench.py

clean:  ## remove everything built (keeps .venv)
	rm -rf _build
