"""The primitives: each one's forward and its vector-Jacobian product, side
by side.

Every class here registers itself in :data:`~minigrad.engine.PRIMITIVES`
and is exported (``__all__``, and so the API page) from that registry.
Arrays are positional arguments; metadata such as ``axis`` are keyword
arguments. A ``vjp`` may return a gradient in the broadcast shape of the
output: the engine (:func:`minigrad.engine.unbroadcast`) sums it back to the
input's shape.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .checks import (
    accumulate,
    as_array,
    float_array,
    integer_array,
    one_axis,
)
from .engine import PRIMITIVES, Primitive, Tensor, apply, as_tensor



class IndexOutOfRange(IndexError, ValueError):
    """An index outside a tensor's bounds (both an ``IndexError`` and a
    ``ValueError``).
    """


# -- arithmetic -----------------------------------------------------------


class Add(Primitive):
    """``x + y``; both derivatives are 1, so each input receives ``g``."""

    @staticmethod
    def forward(x, y):
        return x + y

    @staticmethod
    def vjp(g, ans, x, y):
        return g, g


class Sub(Primitive):
    """``x - y``; the derivatives are 1 and -1."""

    @staticmethod
    def forward(x, y):
        return x - y

    @staticmethod
    def vjp(g, ans, x, y):
        return g, -g


class Mul(Primitive):
    """``x * y``; ``d/dx = y``, ``d/dy = x``."""

    @staticmethod
    def forward(x, y):
        return x * y

    @staticmethod
    def vjp(g, ans, x, y):
        return g * y, g * x


class Div(Primitive):
    """``x / y``; ``d/dx = 1 / y``, ``d/dy = -x / y^2`` (written with the
    answer: ``-ans / y``).
    """

    @staticmethod
    def forward(x, y):
        return x / y

    @staticmethod
    def vjp(g, ans, x, y):
        return g / y, -g * ans / y


class DivNoNan(Primitive):
    """``x / y``, but 0 (with zero gradient) wherever ``y == 0``, as
    ``tf.math.divide_no_nan``.
    """

    @staticmethod
    def forward(x, y):
        zero = y == 0
        if not zero.any():  # no zero: a plain division
            return x / y
        safe = np.where(zero, np.ones_like(y), y)
        return np.where(zero, np.zeros_like(x / safe), x / safe)

    @staticmethod
    def vjp(g, ans, x, y):
        zero = y == 0
        if not zero.any():
            # arrays, also where 0-d inputs give NumPy scalars
            return np.asarray(g / y), np.asarray(g * ((-x / y) / y))
        safe = np.where(zero, np.ones_like(y), y)
        # the same order of operations as TensorFlow's gradient:
        # g * ((-x / y) / y)
        return np.where(zero, 0, g / safe), np.where(
            zero, 0, g * ((-x / safe) / safe)
        )


class Neg(Primitive):
    """``-x``; the derivative is -1."""

    @staticmethod
    def forward(x):
        return -x

    @staticmethod
    def vjp(g, ans, x):
        return (-g,)


class Pow(Primitive):
    """``x ** y`` elementwise, as ``numpy.power`` (a negative base with an
    integer exponent is real).

    The two derivatives are ``y x^(y-1)`` and ``x^y log(x)``, with PyTorch's
    conventions where a formula would give 0 * inf: ``d/dx`` is 0 where
    ``y == 0`` (``x^0`` is the constant 1, also at ``x == 0``), and ``d/dy``
    is 0 where ``x == 0`` and ``y >= 0``. A negative base has no real
    ``log``: ``d/dy`` is NaN there.
    """

    @staticmethod
    def forward(x, y):
        return np.power(x, y)

    @staticmethod
    def vjp(g, ans, x, y):
        # grouped as PyTorch groups them, so float16 overflows (to inf) where
        # PyTorch's does
        gx = g * np.where(y == 0, 0, y * np.power(x, y - 1))
        gy = g * np.where((x == 0) & (y >= 0), 0, ans * np.log(x))
        return gx, gy


def _matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b``; float16 adds its products up in float32 (the rule of
    ``checks.accumulate``).
    """
    if a.dtype == np.float16 and b.dtype == np.float16:
        return (a.astype(np.float32) @ b.astype(np.float32)).astype(
            np.float16
        )
    return a @ b


class MatMul(Primitive):
    """Matrix product with NumPy's rules: 1-D operands and batch
    broadcasting.
    """

    @staticmethod
    def forward(x, y):
        if x.ndim == 0 or y.ndim == 0:
            raise ValueError(
                "both operands of @ need at least one dimension (use * for "
                "a scalar)"
            )
        inner = y.shape[0] if y.ndim == 1 else y.shape[-2]
        if x.shape[-1] != inner:
            what = "length" if y.ndim == 1 else "second-to-last dimension"
            raise ValueError(
                f"x @ y needs the last dimension of x ({x.shape[-1]}) to "
                f"equal the {what} of y ({inner})"
            )
        return _matmul(x, y)

    @staticmethod
    def vjp(g, ans, x, y):
        if x.ndim == 1 and y.ndim == 1:
            return g * y, g * x
        # promote 1-D as NumPy does
        x2 = x[None, :] if x.ndim == 1 else x
        y2 = y[:, None] if y.ndim == 1 else y
        g2 = g[..., None] if y.ndim == 1 else g
        g2 = g2[..., None, :] if x.ndim == 1 else g2
        gx = _matmul(g2, np.swapaxes(y2, -1, -2))
        gy = _matmul(np.swapaxes(x2, -1, -2), g2)
        return (gx[..., 0, :] if x.ndim == 1 else gx), (
            gy[..., 0] if y.ndim == 1 else gy
        )


# -- elementwise functions ------------------------------------------------


class Exp(Primitive):
    """``e^x``; the derivative is ``e^x`` itself, the answer."""

    @staticmethod
    def forward(x):
        return np.exp(x)

    @staticmethod
    def vjp(g, ans, x):
        return (g * ans,)


class Log(Primitive):
    """natural ``log(x)``; the derivative is ``1 / x``."""

    @staticmethod
    def forward(x):
        return np.log(x)

    @staticmethod
    def vjp(g, ans, x):
        return (g / x,)


class Tanh(Primitive):
    """``tanh(x)``; the derivative is ``1 - tanh(x)^2``, from the answer."""

    @staticmethod
    def forward(x):
        return np.tanh(x)

    @staticmethod
    def vjp(g, ans, x):
        return (g * (1 - ans * ans),)


class Abs(Primitive):
    """``|x|``; the derivative is ``sign(x)``: 0 at 0 and (as in PyTorch) at
    NaN.
    """

    @staticmethod
    def forward(x):
        return np.abs(x)

    @staticmethod
    def vjp(g, ans, x):
        return (g * np.where(np.isnan(x), 0, np.sign(x)),)


class Sqrt(Primitive):
    """``sqrt(x)``; the derivative ``1 / (2 sqrt(x))``, written with the
    answer as PyTorch does.
    """

    @staticmethod
    def forward(x):
        return np.sqrt(x)

    @staticmethod
    def vjp(g, ans, x):
        return (g / (2 * ans),)


class Relu(Primitive):
    """``max(x, 0)``, keeping ``-0.0`` and NaN as PyTorch's ``relu``; the
    derivative is 0 where the answer is <= 0.
    """

    @staticmethod
    def forward(x):
        return np.where(x < 0, np.zeros((), x.dtype), x)

    @staticmethod
    def vjp(g, ans, x):
        return (np.where(ans <= 0, 0, g),)


class Clip(Primitive):
    """``x`` limited to ``[low, high]`` (either may be None); the derivative
    is 1 inside, 0 outside.

    As PyTorch's ``clamp``: NaN stays NaN (with gradient 0), the bounds count
    as inside.
    """

    @staticmethod
    def forward(x, low=None, high=None):
        out = (
            x
            if low is None
            else np.where(x < low, np.asarray(low, x.dtype), x)
        )
        return (
            out
            if high is None
            else np.where(out > high, np.asarray(high, x.dtype), out)
        )

    @staticmethod
    def vjp(g, ans, x, low=None, high=None):
        # the comparisons x >= low, x <= high are False for NaN
        inside = ~np.isnan(x)
        inside = inside if low is None else inside & (x >= low)
        inside = inside if high is None else inside & (x <= high)
        return (np.where(inside, g, 0),)


# -- reductions -----------------------------------------------------------


def _expand(
    g: np.ndarray, axis: tuple[int, ...] | None, keepdims: bool
) -> np.ndarray:
    """Put back the reduced axes of ``g`` (as size 1) so it broadcasts
    against the input.
    """
    return g if keepdims or axis is None else np.expand_dims(g, axis)


class Sum(Primitive):
    """``numpy.sum`` over ``axis`` (None or a tuple of non-negative ints);
    float16 adds up in float32.
    """

    @staticmethod
    def forward(x, axis=None, keepdims=False):
        return accumulate(np.sum, x, axis=axis, keepdims=keepdims)

    @staticmethod
    def vjp(g, ans, x, axis=None, keepdims=False):
        return (np.broadcast_to(_expand(g, axis, keepdims), x.shape),)


class Mean(Primitive):
    """``numpy.mean`` over ``axis``; a float16 input adds up in float32, so
    70,000 ones have mean 1.
    """

    @staticmethod
    def forward(x, axis=None, keepdims=False):
        with warnings.catch_warnings():
            # the mean of nothing is NaN, silently, as in PyTorch
            warnings.simplefilter("ignore", RuntimeWarning)
            return accumulate(np.mean, x, axis=axis, keepdims=keepdims)

    @staticmethod
    def vjp(g, ans, x, axis=None, keepdims=False):
        count = x.size // max(ans.size, 1) if x.size else 0
        # g / count, computed in float32 for float16 (70,000 is inf in
        # float16; 1/70,000 is not 0)
        g = _expand(g, axis, keepdims)
        wide = np.float32 if g.dtype == np.float16 else g.dtype
        return (
            np.broadcast_to(
                (g.astype(wide) / np.asarray(count, wide)).astype(g.dtype),
                x.shape,
            ),
        )


class Max(Primitive):
    """Maximum over ``axis``; tied maxima share the gradient equally.

    A NaN is the maximum (as in NumPy); the NaNs of a slice share its
    gradient, as in PyTorch's ``max()`` (``amax`` gives NaN gradients there
    instead).
    """

    @staticmethod
    def forward(x, axis=None, keepdims=False):
        return np.max(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def vjp(g, ans, x, axis=None, keepdims=False):
        best = _expand(ans, axis, keepdims)
        hit = (x == best) | (np.isnan(x) & np.isnan(best))
        share = hit / hit.sum(axis=axis, keepdims=True)
        return (_expand(g, axis, keepdims) * share,)


class Min(Primitive):
    """Minimum over ``axis``; tied minima (and NaNs, which win) share the
    gradient equally, as in :class:`Max`.
    """

    @staticmethod
    def forward(x, axis=None, keepdims=False):
        return np.min(x, axis=axis, keepdims=keepdims)

    # the same rule: the gradient goes to the entries equal to the answer
    vjp = staticmethod(Max.vjp)


# -- shape and indexing ---------------------------------------------------


class Reshape(Primitive):
    """``x`` in a new ``shape``; the gradient is ``g`` reshaped back to
    ``x``'s shape.
    """

    @staticmethod
    def forward(x, shape):
        # the method: np.reshape's dispatch costs more than a small reshape
        return x.reshape(shape)

    @staticmethod
    def vjp(g, ans, x, shape):
        return (g.reshape(x.shape),)


class Transpose(Primitive):
    """``numpy.transpose(x, axes)``; the gradient is ``g`` transposed by the
    inverse permutation.
    """

    @staticmethod
    def forward(x, axes=None):
        return np.transpose(x, axes)

    @staticmethod
    def vjp(g, ans, x, axes=None):
        return (np.transpose(g, None if axes is None else np.argsort(axes)),)


class GetItem(Primitive):
    """``x[index]`` for basic slices and integer arrays; repeated indices add
    up.
    """

    @staticmethod
    def forward(x, index):
        return x[index]

    @staticmethod
    def vjp(g, ans, x, index):
        out = np.zeros_like(x)
        parts = index if isinstance(index, tuple) else (index,)
        if all(
            p is None
            or p is Ellipsis
            or isinstance(p, (int, np.integer, slice))
            for p in parts
        ):
            out[index] = g  # a basic index hits each element at most once
        else:
            # integer arrays may repeat an element: add, don't overwrite
            np.add.at(out, index, g)
        return (out,)


class TakeAlongAxis(Primitive):
    """``numpy.take_along_axis``; ``indices`` must already have ``x``'s shape
    off ``axis``.
    """

    @staticmethod
    def forward(x, indices, axis):
        return np.take_along_axis(x, indices, axis=axis)

    @staticmethod
    def vjp(g, ans, x, indices, axis):
        out = np.zeros_like(x)
        grid = list(np.ix_(*(np.arange(n) for n in indices.shape)))
        grid[axis] = indices
        np.add.at(out, tuple(grid), g)
        return (out,)


class Where(Primitive):
    """``numpy.where(condition, x, y)`` with a constant boolean
    ``condition``.
    """

    @staticmethod
    def forward(x, y, condition):
        return np.where(condition, x, y)

    @staticmethod
    def vjp(g, ans, x, y, condition):
        return np.where(condition, g, 0), np.where(condition, 0, g)


class Concatenate(Primitive):
    """``numpy.concatenate(xs, axis)``; the gradient is ``g`` split back into
    the pieces.
    """

    @staticmethod
    def forward(*xs, axis=0):
        return np.concatenate(xs, axis=axis)

    @staticmethod
    def vjp(g, ans, *xs, axis=0):
        ends = np.cumsum([x.shape[axis] for x in xs])[:-1]
        return tuple(np.split(g, ends, axis=axis))


# -- friendly front doors (validation lives here, not in the primitives) --


def _tensor(name: str, value: Any, like: Tensor | None = None) -> Tensor:
    """``value`` as a Tensor; a TypeError names the argument ``name``."""
    if value is None or isinstance(value, (str, bytes)):
        raise TypeError(
            f"{name} must be a Tensor, an array or a number, got "
            f"{type(value).__name__}"
        )
    return as_tensor(value, like, name=name)


def float_tensor(name: str, x: Any, dtype: Any = None) -> Tensor:
    """``x`` as a floating-point Tensor (see ``checks.float_array``); a
    float Tensor is returned as it is, so that gradients reach it.
    """
    array = float_array(name, x, dtype)
    return x if isinstance(x, Tensor) and x.data is array else Tensor(array)


def _like(*values: Any) -> Tensor | None:
    return next((v for v in values if isinstance(v, Tensor)), None)


def power(base: Any, exponent: Any) -> Tensor:
    """``base ** exponent`` elementwise, differentiable in both (see
    :class:`Pow`).
    """
    like = _like(base, exponent)
    base, exponent = (
        _tensor("base", base, like),
        _tensor("exponent", exponent, like),
    )
    if (
        base.dtype.kind in "biu"
        and exponent.dtype.kind in "biu"
        and np.any(exponent.data < 0)
    ):
        raise ValueError(
            "exponent: an integer base cannot be raised to a negative "
            "integer power; "
            "make the base floating point"
        )
    return apply(Pow, base, exponent)


def getitem(x: Any, index: Any) -> Tensor:
    """``x[index]``: ints, slices, ``None``, ``...`` and integer or boolean
    arrays.
    """
    x = _tensor("x", x)

    def part(i: Any) -> Any:
        # a Tensor or a list (of ints or bools) is an array index, as in
        # NumPy
        return as_array("index", i) if isinstance(i, (Tensor, list)) else i

    index = (
        tuple(part(i) for i in index)
        if isinstance(index, tuple)
        else part(index)
    )
    try:
        x.data[index]
    except IndexError as exc:
        raise IndexOutOfRange(
            f"index {index!r} is invalid for a tensor of shape {x.shape}: "
            f"{exc}"
        ) from None
    return apply(GetItem, x, index=index)


def take_along_axis(x: Any, indices: Any, axis: int) -> Tensor:
    """Pick ``x``'s entries along ``axis`` at integer ``indices`` (see
    ``numpy.take_along_axis``).
    """
    x = _tensor("x", x)
    indices = integer_array("indices", indices)
    if indices.ndim != x.ndim:
        raise ValueError(
            f"indices must have as many dimensions as x ({x.ndim}), got "
            f"shape {indices.shape}"
        )
    axis = one_axis(axis, x.ndim)
    n = x.shape[axis]
    if indices.size and (indices.min() < -n or indices.max() >= n):
        bad = indices[(indices < -n) | (indices >= n)].flat[0]
        raise IndexOutOfRange(
            f"indices contains {bad}, outside [-{n}, {n}) for axis {axis} "
            f"of shape {x.shape}"
        )
    shape = list(x.shape)
    shape[axis] = indices.shape[axis]
    try:
        indices = np.broadcast_to(indices, shape)
    except ValueError:
        raise ValueError(
            f"indices of shape {indices.shape} do not fit x of shape "
            f"{x.shape} "
            f"off axis {axis}"
        ) from None
    return apply(TakeAlongAxis, x, indices=indices, axis=axis)


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """Elementwise ``x`` where ``condition`` holds, else ``y``;
    differentiable in ``x`` and ``y``.
    """
    condition = as_array("condition", condition)
    if condition.dtype != np.bool_:
        raise TypeError(
            f"condition must be boolean, got dtype {condition.dtype}"
        )
    like = _like(x, y)
    x, y = _tensor("x", x, like), _tensor("y", y, like)
    try:
        np.broadcast_shapes(condition.shape, x.shape, y.shape)
    except ValueError:
        raise ValueError(
            f"condition {condition.shape}, x {x.shape} and y {y.shape} do "
            "not broadcast"
        ) from None
    return apply(Where, x, y, condition=condition)


def _tensors(tensors: Any, who: str) -> list[Tensor]:
    if isinstance(tensors, (Tensor, np.ndarray)) or not isinstance(
        tensors, (list, tuple)
    ):
        raise TypeError(
            f"{who}: tensors must be a list or tuple of tensors, got "
            f"{type(tensors).__name__}"
        )
    if not tensors:
        raise ValueError(f"{who} needs at least one tensor")
    like = _like(*tensors)
    return [_tensor(f"tensors[{i}]", t, like) for i, t in enumerate(tensors)]


def concatenate(tensors: Any, axis: int = 0) -> Tensor:
    """Join tensors along an existing ``axis``; they must agree in every
    other dimension.
    """
    tensors = _tensors(tensors, "concatenate")
    if any(t.ndim == 0 for t in tensors):
        raise ValueError(
            "concatenate: tensors must have at least one dimension (use "
            "stack for scalars)"
        )
    axis = one_axis(axis, tensors[0].ndim)
    for i, t in enumerate(tensors):
        if (
            t.ndim != tensors[0].ndim
            or t.shape[:axis] + t.shape[axis + 1 :]
            != tensors[0].shape[:axis] + tensors[0].shape[axis + 1 :]
        ):
            raise ValueError(
                f"concatenate: tensors[{i}] has shape {t.shape}, which does "
                "not fit "
                f"tensors[0] of shape {tensors[0].shape} off axis {axis}"
            )
    return apply(Concatenate, *tensors, axis=axis)


def stack(tensors: Any, axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new ``axis``."""
    tensors = _tensors(tensors, "stack")
    shapes = {t.shape for t in tensors}
    if len(shapes) != 1:
        raise ValueError(
            f"stack needs tensors of one shape, got shapes {sorted(shapes)}"
        )
    axis = one_axis(axis, tensors[0].ndim + 1)
    return concatenate(
        [t.reshape(t.shape[:axis] + (1,) + t.shape[axis:]) for t in tensors],
        axis=axis,
    )


def divide_no_nan(x: Any, y: Any) -> Tensor:
    """``x / y`` with 0 (and zero gradient) where ``y`` is 0, as
    ``tf.math.divide_no_nan``.
    """
    like = _like(x, y)
    return apply(DivNoNan, _tensor("x", x, like), _tensor("y", y, like))


# Every primitive defined here, then the functions: nothing to list by hand.
__all__ = [
    name for name, cls in PRIMITIVES.items() if cls.__module__ == __name__
] + [
    "IndexOutOfRange",
    "power",
    "getitem",
    "take_along_axis",
    "where",
    "concatenate",
    "stack",
    "divide_no_nan",
    "float_tensor",
]
