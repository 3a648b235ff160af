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
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-build-isolation --no-deps -e .
	touch $(STAMP)

lint: venv
	$(PY) -m ruff check vae_keras scripts tests benchmarks

test: venv lint
	$(PY) -m pytest -q -n auto

reproduce: venv
	$(PY) scripts/train_mnist.py --latent-dim 2 --verbose 2
	$(PY) scripts/train_mnist.py --latent-dim 2 --seed 1 --verbose 2
	$(PY) scripts/train_mnist.py --latent-dim 2 --seed 2 --verbose 2
	$(PY) scripts/train_mnist.py --latent-dim 8 --verbose 2
	$(PY) scripts/train_mnist.py --latent-dim 8 --seed 1 --verbose 2
	$(PY) scripts/train_mnist.py --latent-dim 8 --seed 2 --verbose 2
	$(PY) scripts/train_cifar10.py --verbose 2
	$(PY) scripts/train_classifier.py
	$(PY) scripts/make_figures.py
	@echo "Trained runs: runs/ (config.json, vae.weights.h5, history.json/.csv per run)"
	@echo "Figures and measurements: figures/*.png, figures/results.json; table in README.md"

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
