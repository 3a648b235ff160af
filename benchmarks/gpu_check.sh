#!/usr/bin/env bash
# The GPU checks of issue 34, as one prepared script for the lent GPU machine (an NVIDIA H200,
# JAX with CUDA, PyTorch, no TensorFlow, no network; ../shared/gpu/README.md), from the
# project's root, with .gpu/ carried: Keras's wheels in .gpu/whl, mnist.npz in .gpu/data.
#   1. the start line on JAX and PyTorch names the GPU (a 1-epoch run each);
#   2. the chain of make reproduce on JAX, in place (benchmarks/bench_chain_here.py), with
#      CIFAR-10 on random pixels of its shape; its record names the H200.
# What it writes comes back under $OUT.
set -uo pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /tmp/site .gpu/whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD KERAS_BACKEND=jax VAE_KERAS_DATA_DIR=$PWD/.gpu/data \
  XLA_PYTHON_CLIENT_PREALLOCATE=false MPLBACKEND=Agg PYTHONUNBUFFERED=1
{
  nvidia-smi -L
  python3 -c "import jax, torch; print('jax', jax.__version__, jax.devices()); print('torch', torch.__version__, torch.cuda.is_available())"
  for backend in jax torch; do
    KERAS_BACKEND=$backend python3 -m vae_keras train --epochs 1 --verbose 2 --out /tmp/start-$backend
  done
} 2>&1 | tee "$OUT/start_lines.txt"
python3 benchmarks/bench_chain_here.py --random-cifar10 .gpu/data --no-readme \
  --out "$OUT/chain_jax_h200.json" 2>&1 | tee "$OUT/chain_log.txt"
