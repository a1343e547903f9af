"""Shared pieces of the PyTorch comparison tests: Hypothesis strategies, conversion, tolerances.

Every test computes the same thing twice, with minigrad and with PyTorch (CPU), from the same
NumPy inputs, and compares the values and the gradients of every input: same shape, same dtype,
same NaN and inf positions, finite entries within a tolerance of the dtype.
"""

from __future__ import annotations

import difflib
import os
import subprocess
import sys

import numpy as np
import torch
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg

# Derandomized: the same examples on every run, so CI cannot flake; moderate counts keep it to minutes.
# MINIGRAD_COMPARE_EXAMPLES=1000 (and MINIGRAD_COMPARE_SEARCH=1 for fresh random examples) searches deeper.
SETTINGS = settings(max_examples=int(os.environ.get("MINIGRAD_COMPARE_EXAMPLES", 50)),
                    derandomize=not os.environ.get("MINIGRAD_COMPARE_SEARCH"), deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

FLOATS = [np.float16, np.float32, np.float64]

#: rtol, atol per dtype: a few units in the last place (float16 results of a few roundings differ more).
TOLERANCE = {np.dtype(np.float16): (4e-3, 1e-3), np.dtype(np.float32): (1e-5, 1e-6),
             np.dtype(np.float64): (1e-12, 1e-14)}

#: Every public name (and Tensor method) that a comparison test covers; tests/compare/test_coverage.py
#: checks that nothing public is missing.
COVERED: set[str] = set()


def covers(*names):
    """Decorator: record that the test compares these public names with PyTorch."""
    def mark(test):
        COVERED.update(names)
        return test
    return mark


def edge_values(dtype) -> list[float]:
    """The values where implementations disagree: signed zeros, +-1, +-tiny, +-huge, +-inf, NaN."""
    info = np.finfo(dtype)
    huge = float(np.sqrt(info.max))  # so that one product of two is still finite
    return [0.0, -0.0, 1.0, -1.0, float(info.tiny), -float(info.tiny), huge, -huge,
            float(info.max), np.inf, -np.inf, np.nan]


def elements(dtype, edges=True, low=None, high=None, nan=True):
    """Floats of ``dtype``: ordinary ones in [-10, 10] (or [low, high]), and the edge values."""
    low = -10.0 if low is None else low
    high = 10.0 if high is None else high
    plain = st.floats(low, high, width=np.finfo(dtype).bits, allow_subnormal=False)
    if not edges:
        return plain
    edge = [v for v in edge_values(dtype) if nan or not np.isnan(v)]
    edge = [v for v in edge if np.isnan(v) or low <= v <= high or (low == -10.0 and high == 10.0)]
    return st.one_of(plain, plain, plain, st.sampled_from(edge))


def arrays(dtype, shape, **kwargs):
    return hnp.arrays(np.dtype(dtype), shape, elements=elements(dtype, **kwargs))


shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)
nonempty_shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


@st.composite
def axes(draw, ndim, allow_none=True, allow_tuple=True):
    """Every legal spelling of an axis argument: None, an int (negative too), a tuple (any order)."""
    options = [st.integers(-ndim, ndim - 1)] if ndim else []
    if allow_none:
        options.append(st.none())
    if allow_tuple and ndim == 0:
        options.append(st.just(()))
    elif allow_tuple:
        options.append(st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim).flatmap(
            lambda axes: st.tuples(*[st.sampled_from([a, a - ndim]) for a in axes])))
    return draw(st.one_of(*options))


def pair(x: np.ndarray, requires_grad=True, upcast16=False):
    """The same numbers as a minigrad Tensor and a torch tensor (both leaves).

    ``upcast16``: a float16 ``x`` becomes a float32 torch tensor, for a reference computed in float32
    (the test casts its result back to float16, and compare_grads casts the gradient).
    """
    grad = requires_grad and x.dtype.kind == "f"
    theirs = x.astype(np.float32) if upcast16 and x.dtype == np.float16 else x.copy()
    return mg.Tensor(x.copy(), requires_grad=grad), torch.tensor(theirs, requires_grad=grad)


def assert_close(actual, expected, dtype=None, what="value", scale=1.0):
    """Same shape, dtype, NaN/inf pattern; finite entries within the tolerance of ``dtype``."""
    actual = np.asarray(actual.data if isinstance(actual, mg.Tensor) else actual)
    expected = expected.detach().numpy() if isinstance(expected, torch.Tensor) else np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != PyTorch's {expected.shape}"
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype} != PyTorch's {expected.dtype}"
    if actual.dtype.kind != "f":
        np.testing.assert_array_equal(actual, expected, err_msg=what)
        return
    rtol, atol = TOLERANCE[np.dtype(dtype or actual.dtype)]
    np.testing.assert_allclose(actual.astype(np.float64), expected.astype(np.float64), rtol=rtol,
                               atol=atol * scale, equal_nan=True, err_msg=what)


def compare_grads(inputs, outputs, upstream_seed=0, dtype=None, scale=1.0):
    """Backpropagate the same random upstream gradient through both outputs; compare the input gradients.

    ``inputs`` is a list of (minigrad tensor, torch tensor); ``outputs`` is (minigrad out, torch out).
    """
    ours, theirs = outputs
    rng = np.random.default_rng(upstream_seed)
    upstream = rng.standard_normal(ours.shape).astype(ours.dtype)
    ours.backward(upstream)
    theirs.backward(torch.tensor(upstream))
    for i, (a, b) in enumerate(inputs):
        if not b.requires_grad:
            continue
        expected = b.grad if b.grad is not None else torch.zeros_like(b)
        expected = expected.to(getattr(torch, str(a.dtype)))  # a float32 reference of a float16 test
        actual = a.grad if a.grad is not None else np.zeros_like(a.data)
        assert_close(actual, expected, dtype, what=f"gradient of input {i}", scale=scale)


def assert_prints_recorded(program, args, recorded, limit):
    """Run a program of the book's folder (``python program *args``): it must exit 0 (its own checks
    passed) and print exactly the recorded output that the book shows; a difference is shown as a diff."""
    result = subprocess.run([sys.executable, str(program), *map(str, args)], capture_output=True,
                            timeout=limit)
    out = result.stdout.decode()
    name = " ".join([program.name, *map(str, args)])
    assert result.returncode == 0, f"{name} failed:\n{out}\n{result.stderr.decode()}"
    expected = recorded.read_bytes()
    assert result.stdout == expected, (
        f"{name} prints other text than {recorded.name}:\n"
        + "".join(difflib.unified_diff(expected.decode().splitlines(True), out.splitlines(True),
                                       recorded.name, "printed")))
