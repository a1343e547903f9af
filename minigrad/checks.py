"""Argument checks shared by the modules of minigrad (not user API: nothing
here is exported).

Each check returns the value converted (an array, a Python int, a tuple of
axes, a dtype, a Generator) or raises a ``TypeError``/``ValueError`` whose
message names the argument; :func:`accumulate` is the one rule of
arithmetic they share. This module needs only NumPy, so every other module
can use it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__: list[str] = []


def is_bool(value: object) -> bool:
    """Whether ``value`` is ``True``/``False`` (a Python or NumPy bool)."""
    return isinstance(value, (bool, np.bool_))


def is_int(value: object) -> bool:
    """Whether ``value`` is an integer (Python or NumPy), not a bool."""
    return isinstance(value, (int, np.integer)) and not is_bool(value)


def as_array(name: str, value: Any) -> np.ndarray:
    """``value`` (a Tensor, array, list or number) as a numeric NumPy array,
    or an error naming ``name``.

    Numeric means bool, integer or floating point. A ragged nested list is a
    ``ValueError``; strings, ``None`` entries, complex numbers and objects
    are a ``TypeError``. A Tensor's or an array's memory is shared, not
    copied.
    """
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise ValueError(
            f"{name} is not a rectangular array: {exc}"
        ) from None
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must be numeric (bool, integer or float), got dtype "
            f"{array.dtype}"
        )
    return array


def accumulate(reduction: Any, x: np.ndarray, **kwargs: Any) -> Any:
    """``reduction(x, **kwargs)`` (``np.sum`` or ``np.mean``) with one rule
    for every reduction.

    float16 adds up in float32 and is rounded to float16 once, at the end, as
    PyTorch does (and NumPy's ``mean``): a float16 running sum stops growing
    at 2048 (2048 + 1 rounds to 2048) and overflows at 65504.
    """
    if not callable(reduction):
        raise TypeError(
            "reduction must be callable, such as np.sum or np.mean, got "
            f"{reduction!r}"
        )
    x = as_array("x", x)
    if x.dtype == np.float16:
        return np.asarray(reduction(x, dtype=np.float32, **kwargs)).astype(
            np.float16
        )
    return reduction(x, **kwargs)


def boolean(name: str, value: object) -> bool:
    """``value`` (``True``/``False``, Python's or NumPy's) as a bool."""
    if not is_bool(value):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def integer(name: str, value: object) -> int:
    """``value`` (a Python or NumPy integer, not a bool) as an int."""
    if not is_int(value):
        raise TypeError(f"{name} must be an int, got {value!r}")
    return int(value)  # type: ignore[call-overload]


def one_of(name: str, value: object, options: tuple[str, ...]) -> str:
    """``value``, one of the strings ``options``."""
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {options}, got {value!r}")
    return value


def callable_or_none(name: str, value: object) -> None:
    """``value`` is a function (or any callable) or None."""
    if value is not None and not callable(value):
        raise TypeError(
            f"{name} must be callable or None, got {type(value).__name__}"
        )


def shape_is(
    name: str, shape: tuple[int, ...], expected: Any, why: str = ""
) -> None:
    """``shape`` (of the argument ``name``) is ``expected``; ``why`` ends
    the message.
    """
    if tuple(shape) != tuple(expected):
        raise ValueError(
            f"{name} has shape {tuple(shape)}, expected {tuple(expected)}"
            f"{why}"
        )


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


def float_array(name: str, x: Any, dtype: Any = None) -> np.ndarray:
    """``x`` as a floating-point array, or a ``TypeError`` that names
    ``name``.

    A tensor or array must be floating point, and of ``dtype`` when one is
    given; with a ``dtype``, an integer or boolean one (a mask) is cast to
    it. A list or a Python number is converted to ``dtype`` (float64 when
    none is given). A floating-point tensor's or array's memory is shared.
    """
    if not isinstance(name, str):
        raise TypeError(
            "name must be a string (the argument's name), got "
            f"{type(name).__name__}"
        )
    # ragged lists, strings, None: an error that names the argument
    array = as_array(name, x)
    if not hasattr(x, "__array__"):  # a list, tuple or Python number
        return array.astype(
            dtype or (array.dtype if array.dtype.kind == "f" else np.float64)
        )
    if array.dtype.kind == "f":
        if dtype is not None and array.dtype != dtype:
            raise TypeError(
                f"{name} has dtype {array.dtype} but must have dtype "
                f"{np.dtype(dtype)} (the dtype of logits); cast it with "
                ".astype first"
            )
        return array
    if dtype is None:
        raise TypeError(
            f"{name} must be floating point, got dtype {array.dtype}"
        )
    return array.astype(dtype)


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
    shape_is(name, array.shape, shape)
    bad = first_outside(array, num_classes)
    if bad is not None:
        raise ValueError(
            f"{name} contains class id {bad}, outside [0, {num_classes}) "
            f"for a vocabulary of size V={num_classes}"
        )
    return array.astype(np.intp, copy=False)


# -- argument normalisers --------------------------------------------------
# Every axis, shape and permutation argument goes through one of these.


def _check_count(name: str, value: Any) -> None:
    if not is_int(value):
        raise TypeError(f"{name} must be a non-negative int, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be a non-negative int, got {value}")


def normalize_axis(
    axis: Any, ndim: int, name: str = "axis"
) -> tuple[int, ...] | None:
    """``axis`` (None, an int or a tuple/list of ints, negatives allowed) as
    a tuple of non-negative ints.

    Returns None for None. The order is kept; a repeated axis, an axis
    outside ``[-ndim, ndim)`` or a non-integer (bool and float included) is
    an error that names ``name``.
    """
    _check_count("ndim", ndim)
    if axis is None:
        return None
    axes = (
        (axis,)
        if is_int(axis)
        else tuple(axis)
        if isinstance(axis, (tuple, list))
        else None
    )
    if axes is None or not all(is_int(a) for a in axes):
        raise TypeError(
            f"{name} must be an int or a tuple of ints, got {axis!r}"
        )
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(
                f"{name} {axis!r} is out of range for a tensor with {ndim} "
                "dimension(s)"
            )
    normalized = tuple(int(a) % ndim for a in axes)
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{name} {axis!r} repeats an axis")
    return normalized


def one_axis(axis: Any, ndim: int, name: str = "axis") -> int:
    """A single ``axis`` (an int, negatives allowed) as an int >= 0."""
    _check_count("ndim", ndim)
    if not is_int(axis):
        raise TypeError(f"{name} must be an int, got {axis!r}")
    axes = normalize_axis(axis, ndim, name)
    assert axes is not None  # an int axis gives one axis
    return axes[0]


def normalize_permutation(
    axes: Any, ndim: int, name: str = "axes"
) -> tuple[int, ...] | None:
    """``axes`` of a transpose: empty (reverse all) or each of the ``ndim``
    axes once, negatives allowed.
    """
    _check_count("ndim", ndim)
    if len(axes) == 0:
        return None
    axes = normalize_axis(tuple(axes), ndim, name)
    if len(axes) != ndim:
        raise ValueError(
            f"{name} must list each of the {ndim} axes once, got "
            f"{len(axes)} axes"
        )
    return axes


def normalize_shape(
    shape: Any, size: int, name: str = "shape"
) -> tuple[int, ...]:
    """``shape`` for a reshape of ``size`` elements: non-negative ints and at
    most one ``-1``.
    """
    shape = tuple(shape)
    if (
        type(size) is int
        and size >= 0
        and all(type(n) is int and n >= -1 for n in shape)
    ):
        # plain Python ints, the common case: only the fit is left to check
        # (the general path below checks the same things one by one, and says
        # what is wrong)
        free, known = shape.count(-1), math.prod(shape)
        if (
            free == 0
            and known == size
            or free == 1
            and known != 0
            and size % -known == 0
        ):
            return shape
    _check_count("size", size)
    if not all(is_int(n) for n in shape):
        raise TypeError(f"{name} must be ints, got {shape!r}")
    if any(n < -1 for n in shape) or shape.count(-1) > 1:
        raise ValueError(
            f"{name} {shape!r} may hold non-negative sizes and at most one "
            "-1"
        )
    # Python ints: exact, and ~10x faster than np.prod
    known = math.prod(n for n in shape if n != -1)
    if (
        -1 in shape
        and (known == 0 or size % known)
        or -1 not in shape
        and known != size
    ):
        raise ValueError(f"{name} {shape!r} does not fit {size} element(s)")
    return tuple(int(n) for n in shape)


def reduction_params(axis: Any, keepdims: Any, ndim: int) -> dict[str, Any]:
    """The checked ``axis`` and ``keepdims`` of a reduction (``sum``,
    ``mean``, ``max``).
    """
    keep = boolean("keepdims", keepdims)
    return {"axis": normalize_axis(axis, ndim), "keepdims": keep}
