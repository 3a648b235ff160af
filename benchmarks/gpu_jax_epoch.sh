#!/usr/bin/env bash
# The GPU checks of the JAX speed issue, as one prepared script for the lent GPU machine (an
# NVIDIA H200, JAX with CUDA, no TensorFlow, no network; ../shared/gpu/README.md), run from
# the project's root with .gpu/ carried: Keras's wheels in .gpu/whl, mnist.npz in .gpu/data,
# the yardstick in .gpu/jax_epoch_reference.py. benchmarks/bench_jax_epoch.py on MNIST latent 2
# (fast path, Keras's loop, yardstick) and on CIFAR-10's shapes (random pixels: its data
# cannot travel there); benchmarks/bench_backends.py, JAX beside PyTorch (eager and
# torch.compile). The records come back under $OUT.
set -uo pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /tmp/site .gpu/whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD KERAS_BACKEND=jax VAE_KERAS_DATA_DIR=$PWD/.gpu/data \
  XLA_PYTHON_CLIENT_PREALLOCATE=false MPLBACKEND=Agg PYTHONUNBUFFERED=1
nvidia-smi -L | tee "$OUT/log.txt"
python3 -c "import sys; sys.path.insert(0, 'benchmarks'); from bench_chain_here import \
write_random_cifar10 as w; from pathlib import Path; print(w(Path('.gpu/data')))" 2>&1 | tee -a "$OUT/log.txt"
# one round each (--rounds 1): the device's 15 minutes hold no more; the long processes'
# 25 and 10 extra epochs spread a start-up's jitter instead
python3 benchmarks/bench_jax_epoch.py --short 1 --long 26 --rounds 1 \
  --reference .gpu/jax_epoch_reference.py --no-readme --out "$OUT/bench_jax_epoch_mnist.json" \
  2>&1 | tail -4 | tee -a "$OUT/log.txt"
python3 benchmarks/bench_jax_epoch.py --dataset cifar10 --random-pixels --short 1 --long 11 \
  --rounds 1 --no-readme --out "$OUT/bench_jax_epoch_cifar10.json" 2>&1 | tail -4 \
  | tee -a "$OUT/log.txt"
# the epoch on JAX and PyTorch side by side, PyTorch eager and with Keras's torch.compile
python3 benchmarks/bench_backends.py --paths jax torch torch-compiled --epochs 5 --rounds 1 \
  --no-readme --out "$OUT/bench_backends_mnist.json" 2>&1 | tail -6 | tee -a "$OUT/log.txt"
