"""Argument checks shared by the modules of minigrad (not user API: nothing
here is exported).

Each check returns the value converted (a Python int, a dtype, a Generator)
or raises a ``TypeError``/``ValueError`` whose message names the argument.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .tensor import Tensor, as_array

__all__: list[str] = []


def is_bool(value: object) -> bool:
    """Whether ``value`` is ``True``/``False`` (a Python or NumPy bool)."""
    return isinstance(value, (bool, np.bool_))


def is_int(value: object) -> bool:
    """Whether ``value`` is an integer (Python or NumPy), not a bool."""
    return isinstance(value, (int, np.integer)) and not is_bool(value)


def positive_int(name: str, value: object) -> int:
    """``value`` as a Python int >= 1."""
    if not is_int(value) or value < 1:  # type: ignore[operator]
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)  # type: ignore[call-overload]


def generator(value: object, name: str = "rng") -> np.random.Generator:
    """A ``numpy.random.Generator`` from ``value``: a Generator (used as it
    is), an int seed, or None.

    None means ``np.random.default_rng()``: fresh entropy from the operating
    system, so the result is not reproducible. Pass a seed (or a seeded
    Generator) to repeat a run.
    """
    if value is None:
        return np.random.default_rng()
    if isinstance(value, np.random.Generator):
        return value
    if is_int(value):
        if value < 0:  # type: ignore[operator]
            raise ValueError(
                f"{name} must be a non-negative int seed, got {value!r}"
            )
        seed = int(value)  # type: ignore[call-overload]
        return np.random.default_rng(seed)
    raise TypeError(
        f"{name} must be a numpy.random.Generator (such as "
        "np.random.default_rng(0)), an int seed or None, got "
        f"{type(value).__name__}"
    )


def float_dtype(dtype: object) -> np.dtype:
    """``dtype`` as a floating-point NumPy dtype."""
    try:
        result = np.dtype(dtype)  # type: ignore[call-overload]
    except TypeError:  # not a dtype at all
        raise TypeError(
            "dtype must be a floating-point type such as np.float32 or "
            f"np.float64, got {dtype!r}"
        ) from None
    if result.kind != "f":
        raise TypeError(
            "dtype must be a floating-point type such as np.float32 or "
            f"np.float64, got {result}"
        )
    return result


def integer_array(name: str, value: Any) -> np.ndarray:
    """``value`` as an integer NumPy array, or a ``TypeError`` that names
    ``name``.
    """
    array = as_array(name, value)
    if array.dtype.kind not in "iu":
        raise TypeError(
            f"{name} must hold integers, got dtype {array.dtype}"
        )
    return array


def first_outside(ids: np.ndarray, n: int) -> Any:
    """The first of the integer ``ids`` outside ``[0, n)`` (for the error
    message), or None if there is none.
    """
    bad = (ids < 0) | (ids >= n)
    return ids[bad].flat[0] if bad.any() else None


def float_tensor(name: str, x: Any, dtype: Any = None) -> Tensor:
    """``x`` as a floating-point Tensor, or a ``TypeError`` that names
    ``name``.

    A Tensor or array must be floating point, and of ``dtype`` when one is
    given; with a ``dtype``, an integer or boolean one (a mask) is cast to
    it. A list or a Python number is converted to ``dtype`` (float64 when
    none is given).
    """
    if not isinstance(name, str):
        raise TypeError(
            "name must be a string (the argument's name), got "
            f"{type(name).__name__}"
        )
    # ragged lists, strings, None: an error that names the argument
    array = as_array(name, x)
    if not isinstance(x, (Tensor, np.ndarray, np.generic)):
        # a list, tuple or Python number
        return Tensor(
            array.astype(
                dtype
                or (array.dtype if array.dtype.kind == "f" else np.float64)
            )
        )
    t = x if isinstance(x, Tensor) else Tensor(array)
    if t.dtype.kind == "f":
        if dtype is not None and t.dtype != dtype:
            raise TypeError(
                f"{name} has dtype {t.dtype} but must have dtype "
                f"{np.dtype(dtype)} (the dtype of logits); cast it with "
                ".astype first"
            )
        return t
    if dtype is None:
        raise TypeError(
            f"{name} must be floating point, got dtype {t.dtype}"
        )
    return Tensor(t.data.astype(dtype))


def class_ids(
    name: str, labels: Any, shape: tuple[int, ...], num_classes: int
) -> np.ndarray:
    """Integer class ids of ``shape``, each in ``[0, num_classes)``, or a
    clear error.
    """
    if not isinstance(name, str):
        raise TypeError(
            "name must be a string (the argument's name), got "
            f"{type(name).__name__}"
        )
    array = as_array(name, labels)
    if array.dtype.kind not in "iu":
        raise TypeError(
            f"{name} must be integer class ids, got dtype {array.dtype}"
        )
    if array.shape != tuple(shape):
        raise ValueError(
            f"{name} has shape {array.shape}, expected {tuple(shape)}"
        )
    bad = first_outside(array, num_classes)
    if bad is not None:
        raise ValueError(
            f"{name} contains class id {bad}, outside [0, {num_classes}) "
            f"for a vocabulary of size V={num_classes}"
        )
    return array.astype(np.intp, copy=False)
