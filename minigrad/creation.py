"""Functions that create tensors, with PyTorch's names: ``tensor``,
``zeros``, ``ones``, ``randn``, ...

They differ from PyTorch's in two ways, both NumPy's habits: the default
float dtype is float64 (PyTorch: float32), and randomness comes from a
``numpy.random.Generator`` passed as ``generator=`` (or an int ``seed=``),
never from a hidden global state.

>>> import minigrad as mg
>>> mg.zeros(2, 3).shape
(2, 3)
>>> mg.randn(2, seed=0).data.round(3)
array([ 0.126, -0.132])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .checks import (
    as_array,
    boolean,
    float_dtype,
    generator as _generator,
    integer,
    is_bool,
    is_int,
)
from .engine import Tensor

__all__ = [
    "tensor",
    "zeros",
    "ones",
    "full",
    "zeros_like",
    "ones_like",
    "arange",
    "randn",
    "rand",
]


def _shape(shape: tuple[Any, ...], who: str) -> tuple[int, ...]:
    """``zeros(2, 3)`` and ``zeros((2, 3))`` both give ``(2, 3)``."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if not all(is_int(n) and n >= 0 for n in shape):
        raise ValueError(
            f"{who}: size must be non-negative ints, got {shape!r}"
        )
    return tuple(int(n) for n in shape)


def _make(array: np.ndarray, dtype: Any, requires_grad: bool) -> Tensor:
    if dtype is not None:
        try:
            array = array.astype(np.dtype(dtype))
        except TypeError:
            raise TypeError(
                "dtype must be a NumPy dtype such as np.float32, got "
                f"{dtype!r}"
            ) from None
    wants_grad = boolean("requires_grad", requires_grad)
    return Tensor(array, requires_grad=wants_grad)


def tensor(
    data: Any, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """A new leaf Tensor holding a copy of ``data`` (a list, number, array or
    Tensor), as ``torch.tensor``.

    Python floats become float64 and ints int64 (NumPy's rules; PyTorch makes
    floats float32). Unlike ``Tensor(data)``, which shares an array's memory,
    this always copies.
    """
    return _make(np.array(as_array("data", data)), dtype, requires_grad)


def zeros(
    *size: Any, dtype: Any = np.float64, requires_grad: bool = False
) -> Tensor:
    """A tensor of zeros; ``size`` as ints (``zeros(2, 3)``) or one tuple
    (``zeros((2, 3))``).
    """
    return _make(np.zeros(_shape(size, "zeros")), dtype, requires_grad)


def ones(
    *size: Any, dtype: Any = np.float64, requires_grad: bool = False
) -> Tensor:
    """A tensor of ones; ``size`` as in :func:`zeros`."""
    return _make(np.ones(_shape(size, "ones")), dtype, requires_grad)


def full(
    size: Any,
    fill_value: Any,
    dtype: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """A tensor of ``size`` (an int or a tuple) filled with ``fill_value``;
    the dtype follows the value.
    """
    shape = _shape((size,) if is_int(size) else tuple(size), "full")
    return _make(
        np.full(shape, as_array("fill_value", fill_value)),
        dtype,
        requires_grad,
    )


def zeros_like(
    x: Any, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """Zeros of the shape and dtype of ``x`` (or of ``dtype``)."""
    return _make(np.zeros_like(as_array("x", x)), dtype, requires_grad)


def ones_like(
    x: Any, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """Ones of the shape and dtype of ``x`` (or of ``dtype``)."""
    return _make(np.ones_like(as_array("x", x)), dtype, requires_grad)


def arange(
    start: Any,
    end: Any = None,
    step: Any = 1,
    dtype: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """``[start, start + step, ...]`` below ``end``, as ``numpy.arange``
    (``arange(5)`` is 0..4).
    """
    for name, value in (("start", start), ("end", end), ("step", step)):
        if value is not None and (
            is_bool(value)
            or not isinstance(value, (int, float, np.integer, np.floating))
        ):
            raise TypeError(
                f"arange: {name} must be a number, got {value!r}"
            )
    if step == 0:
        raise ValueError("arange: step must not be 0")
    values = (
        np.arange(start, step=step)
        if end is None
        else np.arange(start, end, step)
    )
    return _make(values, dtype, requires_grad)


def _random(
    draw: str,
    size: tuple[Any, ...],
    seed: Any,
    rng: Any,
    dtype: Any,
    requires_grad: bool,
    who: str,
) -> Tensor:
    if seed is not None and rng is not None:
        raise ValueError(f"{who}: give seed or generator, not both")
    if seed is not None:
        integer(f"{who}: seed", seed)
    source = _generator(
        seed if rng is None else rng,
        "generator" if rng is not None else "seed",
    )
    shape = _shape(size, who)
    values = (
        source.standard_normal(shape)
        if draw == "normal"
        else source.random(shape)
    )
    return _make(values, float_dtype(dtype), requires_grad)


def randn(
    *size: Any,
    seed: int | None = None,
    generator: np.random.Generator | None = None,
    dtype: Any = np.float64,
    requires_grad: bool = False,
) -> Tensor:
    """Samples of the standard normal distribution ``N(0, 1)``; ``size`` as
    in :func:`zeros`.

    Parameters
    ----------
    *size : int
        The shape.
    seed : int, optional
        Draw from ``np.random.default_rng(seed)``: the same numbers on every
        run.
    generator : numpy.random.Generator, optional
        Draw from this generator (it advances). With neither ``seed`` nor
        ``generator`` the numbers come from fresh entropy and are not
        reproducible.
    dtype : float dtype
        float64 by default.
    requires_grad : bool
    """
    return _random(
        "normal", size, seed, generator, dtype, requires_grad, "randn"
    )


def rand(
    *size: Any,
    seed: int | None = None,
    generator: np.random.Generator | None = None,
    dtype: Any = np.float64,
    requires_grad: bool = False,
) -> Tensor:
    """Samples of the uniform distribution on ``[0, 1)``; arguments as in
    :func:`randn`.
    """
    return _random(
        "uniform", size, seed, generator, dtype, requires_grad, "rand"
    )
