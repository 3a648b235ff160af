# `make reproduce`: set up, train every run, compute FID, draw every figure.
# `make test`: set up (with the test tools and the JAX and PyTorch backends), lint, run the tests
# (`make test-slow`: the slow ones, on the real data sets).
# Both create .venv on first use; nothing else on the machine is touched.
#
# BACKEND=jax (or torch) trains and draws on that Keras backend, installed without TensorFlow.
# Where nvidia-smi sees a GPU, the backend's CUDA build is installed (the -cuda extras of
# pyproject.toml; GPU=no installs the CPU build anyway): make reproduce BACKEND=jax

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BACKEND ?= tensorflow
GPU ?= $(shell nvidia-smi -L >/dev/null 2>&1 && echo yes || echo no)
EXTRA := $(BACKEND)$(if $(filter yes,$(GPU)),-cuda,)
STAMP := $(VENV)/.installed-$(EXTRA)
TEST_STAMP := $(VENV)/.installed-test
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: reproduce compare fid-study rate-distortion conditional test test-slow venv lint clean browser

venv: $(STAMP)

# this package (editable) with its dependencies and the backend's extra (pyproject.toml)
$(STAMP): requirements.txt pyproject.toml
	@echo "Setting up $(VENV): this package (editable) with the $(EXTRA) extra"
	@case "$(BACKEND)" in tensorflow|jax|torch) ;; \
	  *) echo "error: BACKEND must be tensorflow, jax or torch, got '$(BACKEND)'"; exit 2;; esac
	@start=$$(date +%s); \
	(test -x $(PY) || $(PYTHON) -m venv $(VENV)) && \
	$(PY) -m pip install --quiet -e ".[$(EXTRA)]" && \
	echo $$(( $$(date +%s) - start )) > $(VENV)/.setup-seconds
	touch $(STAMP)

# requirements-test.txt: TensorFlow, JAX, PyTorch (CPU build), pytest, hypothesis, ruff
$(TEST_STAMP): $(STAMP) requirements-test.txt
	@echo "Adding to $(VENV): the test tools and backends of requirements-test.txt"
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $(TEST_STAMP)

# Debian's Chromium for the explorer's screenshot and browser test: installed when missing and
# make runs as root with apt-get; elsewhere a note (the browser test then skips, saying why)
browser:
	@if [ -x "$${VAE_KERAS_CHROMIUM:-/usr/bin/chromium}" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Debian's chromium (the explorer's browser)"; \
	  apt-get install -y -q chromium >/dev/null || \
	  (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null); \
	else echo "No Chromium at /usr/bin/chromium and no root to install it: the explorer's browser test skips"; fi

lint: $(TEST_STAMP)
	$(PY) -m ruff check vae_keras scripts tests benchmarks

# every test but the slow ones (on the real data sets), one test file per worker so that each
# module's trained fixtures are built once
test: $(TEST_STAMP) lint browser
	$(PY) -m pytest -q -n auto --dist loadfile -m "not slow"

# the slow tests: training on the real MNIST (CI runs them after make test)
test-slow: $(TEST_STAMP)
	$(PY) -m pytest -q -n auto --dist loadfile -m slow

reproduce: venv browser
	KERAS_BACKEND=$(BACKEND) $(PY) scripts/reproduce.py
	@echo "Trained runs: runs/ (config.json, state.json, weights, history per run)"
	@echo "Figures and measurements: figures/*.png, figures/results.json; table in README.md"

# the architecture comparison (its trainings' seconds per epoch are in the README's results table;
# not part of make reproduce): MNIST conv vs the dense model, CIFAR-10 conv Gaussian vs dense
compare: venv
	KERAS_BACKEND=$(BACKEND) $(PY) scripts/reproduce.py --compare
	@echo "Comparison: figures/cifar10_architectures.png, figures/results.json, README.md"

# the FID study (not part of make reproduce: 15 runs, about 25 minutes on 2 CPU cores beyond
# make reproduce's): latent sizes 2 to 32, three seeds each; figures/fid_latent_size.png; then
# the prior-hole step again, with the latent-16 runs (figures/latent_hole.png, docs/latent.md)
fid-study: venv
	KERAS_BACKEND=$(BACKEND) $(PY) scripts/fid_latent_size.py
	@echo "FID study: figures/fid_latent_size.png, figures/results.json, README.md"

# the KL weight's study (not part of make reproduce: five latent-8 runs, one per beta of 0.25,
# 0.5, 2, 4 and 784, beside make reproduce's beta-1 seeds): figures/rate_distortion.png
rate-distortion: venv
	KERAS_BACKEND=$(BACKEND) $(PY) scripts/rate_distortion.py
	@echo "KL weight study: figures/rate_distortion.png, figures/beta_samples.png, README.md"

# the conditional VAE (not part of make reproduce: three latent-8 runs with --conditional beside
# make reproduce's unconditional ones; needs its digit classifier): figures/conditional_samples.png
conditional: venv
	KERAS_BACKEND=$(BACKEND) $(PY) scripts/conditional.py
	@echo "Conditional VAE: figures/conditional_samples.png, figures/results.json, README.md"

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
