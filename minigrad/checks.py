"""Argument checks shared by the modules of minigrad (not user API: nothing here is exported).

Each check returns the value converted (a Python int, a dtype, a Generator) or raises a
``TypeError``/``ValueError`` whose message names the argument.
"""

from __future__ import annotations

import numpy as np

__all__: list[str] = []


def is_bool(value: object) -> bool:
    """Whether ``value`` is ``True``/``False`` (a Python or NumPy bool)."""
    return isinstance(value, (bool, np.bool_))


def is_int(value: object) -> bool:
    """Whether ``value`` is an integer (Python or NumPy) that is not a bool."""
    return isinstance(value, (int, np.integer)) and not is_bool(value)


def positive_int(name: str, value: object) -> int:
    """``value`` as a Python int >= 1."""
    if not is_int(value) or value < 1:  # type: ignore[operator]
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)  # type: ignore[call-overload]


def generator(value: object, name: str = "rng") -> np.random.Generator:
    """A ``numpy.random.Generator`` from ``value``: a Generator (used as it is), an int seed, or None.

    None means ``np.random.default_rng()``: fresh entropy from the operating system, so
    the result is not reproducible. Pass a seed (or a seeded Generator) to repeat a run.
    """
    if value is None:
        return np.random.default_rng()
    if isinstance(value, np.random.Generator):
        return value
    if is_int(value):
        if value < 0:  # type: ignore[operator]
            raise ValueError(f"{name} must be a non-negative int seed, got {value!r}")
        return np.random.default_rng(int(value))  # type: ignore[call-overload]
    raise TypeError(f"{name} must be a numpy.random.Generator (such as np.random.default_rng(0)), an int seed "
                    f"or None, got {type(value).__name__}")


def float_dtype(dtype: object) -> np.dtype:
    """``dtype`` as a floating-point NumPy dtype."""
    try:
        result = np.dtype(dtype)  # type: ignore[call-overload]
    except TypeError:  # not a dtype at all
        raise TypeError(f"dtype must be a floating-point type such as np.float32 or np.float64, "
                        f"got {dtype!r}") from None
    if result.kind != "f":
        raise TypeError(f"dtype must be a floating-point type such as np.float32 or np.float64, got {result}")
    return result
