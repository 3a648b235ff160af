"""The test run's one JAX compilation cache (tests/jax_cache.py): made, shared, removed."""

import os
import subprocess
import sys
from pathlib import Path

import jax_cache
from conftest import JAX_CACHE_MADE
from installed_user import user_env


def test_a_run_makes_one_empty_cache_and_removes_it_at_the_end():
    environ = {"PATH": "/bin"}
    folder = jax_cache.share(environ)
    assert Path(folder).is_dir() and not any(Path(folder).iterdir())
    assert environ["JAX_COMPILATION_CACHE_DIR"] == folder
    assert environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] == "0"
    assert int(environ["JAX_COMPILATION_CACHE_MAX_SIZE"]) == jax_cache.MAX_BYTES
    assert jax_cache.share(environ) is None  # a second call (a run inside a run) keeps it
    jax_cache.remove(folder, environ)
    assert not Path(folder).exists() and environ == {"PATH": "/bin"}


def test_a_cache_already_named_is_kept_and_never_removed(tmp_path):
    environ = {"JAX_COMPILATION_CACHE_DIR": str(tmp_path)}
    made = jax_cache.share(environ)
    assert made is None and environ == {"JAX_COMPILATION_CACHE_DIR": str(tmp_path)}
    jax_cache.remove(made, environ)
    assert tmp_path.is_dir() and environ == {"JAX_COMPILATION_CACHE_DIR": str(tmp_path)}


def test_this_run_shares_one_cache_and_jax_uses_it(tmp_path, request):
    """This process (an xdist worker, or pytest alone) has the run's cache, an xdist worker
    the one its controller made (it made none of its own), and a JAX process started from
    it writes its compiled programs there; a user's environment has none."""
    folder = Path(os.environ["JAX_COMPILATION_CACHE_DIR"])
    assert folder.is_dir() and folder.name.startswith("vae-keras-jax-cache-")
    made_here = request.config.stash[JAX_CACHE_MADE]
    assert made_here is None if "PYTEST_XDIST_WORKER" in os.environ else made_here == str(folder)
    before = set(folder.iterdir())
    program = "import jax, jax.numpy as n; jax.jit(lambda x: n.sin(x) * 3.25)(n.arange(7.0))"
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert set(folder.iterdir()) - before, "the JAX process wrote its program to the cache"
    env = user_env(tmp_path, tmp_path)
    assert not set(jax_cache.VARIABLES) & set(env)
