"""Run the Keras and JAX files that book/frameworks.md includes; each asserts that it agrees with minigrad.

A file whose framework is not installed is skipped, and the skip says which. The PyTorch file runs in the
comparison suite (tests/compare/test_frameworks.py), where PyTorch is installed.
"""

import importlib.util
import os
import subprocess
import sys

import pytest

from conftest import BOOK, ROOT

FRAMEWORKS = BOOK / "frameworks"


def run(path, **env):
    """Run a framework file in its own process (JAX's float64 switch and Keras' backend are global)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           **env}
    result = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, env=env,
                            timeout=600)
    assert result.returncode == 0, f"{path.name} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def installed(name):
    return importlib.util.find_spec(name) is not None


def test_jax_file():
    if not installed("jax"):
        pytest.skip("JAX is not installed: book/frameworks/jax_sequence_loss.py was not run")
    assert "agree with minigrad" in run(FRAMEWORKS / "jax_sequence_loss.py")


def test_keras_file():
    if not installed("keras"):
        pytest.skip("Keras is not installed: book/frameworks/keras_sequence_loss.py was not run")
    backend = os.environ.get("KERAS_BACKEND") or next(
        (b for b in ("jax", "torch", "tensorflow") if installed(b)), None)
    if backend is None:
        pytest.skip("Keras is installed but none of its backends (JAX, PyTorch, TensorFlow) is: "
                    "book/frameworks/keras_sequence_loss.py was not run")
    assert "agree with minigrad" in run(FRAMEWORKS / "keras_sequence_loss.py", KERAS_BACKEND=backend)
