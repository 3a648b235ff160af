"""On PYTHONPATH, a Python without TensorFlow: ``import tensorflow`` fails as if it were
not installed (``ModuleNotFoundError``; ``importlib.util.find_spec`` finds nothing), so a
test proves that a JAX or PyTorch user needs none (tests/test_one_backend.py)."""

import sys

sys.modules["tensorflow"] = None  # the import system's "not importable" marker
