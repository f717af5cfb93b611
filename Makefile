# Build, check and test the RNN chapter. `make help` lists the targets.
#
# One environment per tab, each created on first use from its exact pins:
#   .venv          Python 3.11, requirements.txt: the build tools (d2lbook,
#                  build/*.py, the tests) and the MXNet tab's kernel
#   .venv-pytorch  Python 3.11, build/pins-pytorch.txt: the PyTorch tab's
#                  kernel (torch 2.13.0, numpy 2, no mxnet)
#   .venv-jax      Python 3.12, build/pins-jax.txt: the JAX tab's kernel
#                  (jax, flax, optax; no mxnet, no torch); tests/env_jax
#                  checks the JAX helpers in it.
# Each kernel is registered in .venv as rnn-book-<tab>, the name that
# build/evaluate.py asks Jupyter for.
# For an NVIDIA GPU, ask for a CUDA build of MXNet 1.9.1, e.g.
#     make html MXNET=mxnet-cu112==1.9.1
# (not exercised by our CI, which has no GPU).

MXNET ?= mxnet==1.9.1
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
KERNELS := $(VENV)/share/jupyter/kernels
VENV_PYTORCH := .venv-pytorch
VENV_JAX := .venv-jax
# Every environment with its kernel registered: what `make venv` makes.
ENVS := $(foreach tab,mxnet pytorch jax,$(KERNELS)/rnn-book-$(tab)/kernel.json)
# d2lbook calls sphinx-build and pandoc by name.
export PATH := $(BIN):$(PATH)

# The pinned toolchain is resolved for Python 3.11 (mxnet 1.9.1 needs <=3.11,
# the Jupyter packages of requirements.txt need >=3.11).
PYTHON ?= $(shell for p in python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && \
	$$p -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
	2>/dev/null && { echo $$p; break; }; done)
# JAX 0.12 and Flax 0.12 need Python 3.12 or newer; the pins are resolved
# for 3.12 (pyenv's is found when python3.12 is not on PATH).
PYTHON_JAX ?= $(shell for p in python3.12 \
	$${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12*/bin/python3.12; do \
	$$p -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' \
	2>/dev/null && { echo $$p; break; }; done)

.PHONY: help venv browser html eval lib check-lib figures test lab \
	robustness bench clean

help:  ## list the targets
	@echo 'make <target>, where <target> is one of:'
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | \
		sed -E 's/^([a-z-]+):.*## (.*)/  \1\t\2/' | expand -t 14

venv: $(ENVS)  ## create .venv, .venv-pytorch and .venv-jax from their pins

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

# A tab's environment: $(1) the folder, $(2) its Python, $(3) its pins.
define tab_env
	@test -n "$(2)" || { echo 'error: no Python for $(1) (needs' \
		'$(if $(filter $(VENV_JAX),$(1)),3.12,3.11));' \
		'run make PYTHON$(if $(filter $(VENV_JAX),$(1)),_JAX)=/path/to/python' >&2; exit 1; }
	test -x $(1)/bin/python || $(2) -m venv $(1)
	$(1)/bin/python -m pip install --quiet -r $(3)
	$(1)/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
endef

$(VENV_PYTORCH)/.installed: build/pins-pytorch.txt
	$(call tab_env,$(VENV_PYTORCH),$(PYTHON),$<)
	$(VENV_PYTORCH)/bin/python -c 'import torch, numpy; \
		from importlib.util import find_spec; assert not find_spec("mxnet")'
	touch $@

$(VENV_JAX)/.installed: build/pins-jax.txt
	$(call tab_env,$(VENV_JAX),$(PYTHON_JAX),$<)
	$(VENV_JAX)/bin/python -c 'import jax, flax.nnx, optax; \
		from importlib.util import find_spec; \
		assert not find_spec("mxnet") and not find_spec("torch")'
	touch $@

# The kernels, registered in .venv, where Jupyter looks for them (each
# installer warns that its own environment does not look there: true, and
# not where build/evaluate.py looks).
$(KERNELS)/rnn-book-mxnet/kernel.json: $(STAMP)
	$(PY) -m ipykernel install --prefix $(CURDIR)/$(VENV) \
		--name rnn-book-mxnet --display-name 'Python 3 (rnn-book MXNet)'
$(KERNELS)/rnn-book-pytorch/kernel.json: $(STAMP) $(VENV_PYTORCH)/.installed
	$(VENV_PYTORCH)/bin/python -m ipykernel install \
		--prefix $(CURDIR)/$(VENV) \
		--name rnn-book-pytorch --display-name 'Python 3 (rnn-book PyTorch)'
$(KERNELS)/rnn-book-jax/kernel.json: $(STAMP) $(VENV_JAX)/.installed
	$(VENV_JAX)/bin/python -m ipykernel install --prefix $(CURDIR)/$(VENV) \
		--name rnn-book-jax --display-name 'Python 3 (rnn-book JAX)'

browser:  ## install Debian's chromium for the HTML tests (needs root)
	@command -v chromium >/dev/null 2>&1 || { \
	  test "$$(id -u)" = 0 || { echo 'error: the HTML tests need' \
	    'chromium: sudo apt-get install chromium' >&2; exit 1; }; \
	  apt-get update -qq && apt-get install -y -qq chromium; }

lib: $(STAMP)  ## regenerate gluonbook/ (all three tabs) from the #@save cells
	$(PY) build/make_lib.py

check-lib: $(STAMP)  ## fail if gluonbook/ differs from the chapter
	$(PY) build/make_lib.py --check

figures:  ## redraw the structure figures img/*.svg
	$(PY) build/make_figures.py

eval: check-lib $(ENVS)  ## run the sections that changed, all three tabs, into _build/eval*
	$(PY) build/evaluate.py

html: eval  ## build the HTML book (all three tabs) into _build/html
	$(BIN)/d2lbook build html --tab all
	$(PY) build/finish_html.py
	@echo 'open _build/html/index.html'

test: html browser  ## check-lib, evaluate, build, then check outputs, library, HTML
	$(PY) -m pytest tests
	$(VENV_PYTORCH)/bin/python -m pytest tests/env_pytorch
	$(VENV_JAX)/bin/python -m pytest tests/env_jax

LAB_PORT ?= 8888
# Jupyter refuses to start as root (as in a container) unless told to.
lab: html  ## JupyterLab on the readers' notebooks (mxnet/, pytorch/, jax/), LAB_PORT 8888
	$(BIN)/jupyter lab --no-browser --ip=127.0.0.1 --port=$(LAB_PORT) \
		--ServerApp.root_dir=$(CURDIR)/_build/notebooks \
		$(if $(filter 0,$(shell id -u)),--allow-root)

SEEDS ?= 0 1 2
PROFILES ?= isa allthreads busy
robustness: check-lib $(ENVS)  ## rebuild with SEEDS, and seed 0 on emulated PROFILES; check claims
	$(PY) build/robustness.py --seeds $(SEEDS) --profiles $(PROFILES)

bench: $(STAMP) $(ENVS)  ## training throughput of every model, all three frameworks
	$(PY) build/bench.py

clean:  ## remove everything built (keeps the environments)
	rm -rf _build
