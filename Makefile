# `make reproduce`: set up, train every run, compute FID, draw every figure.
# `make test`: set up, lint, run the test suite.
# Both create .venv on first use; nothing else on the machine is touched.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: reproduce test venv lint clean

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-build-isolation --no-deps -e .
	touch $(STAMP)

lint: venv
	$(PY) -m ruff check vae_keras scripts tests benchmarks

test: venv lint
	$(PY) -m pytest -q

reproduce: venv
	$(PY) scripts/train_mnist.py --latent-dim 2
	$(PY) scripts/train_mnist.py --latent-dim 8
	@echo "Runs are in runs/; weights, histories and configs per run directory."

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
