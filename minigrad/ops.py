"""The primitives: each one's forward and its vector-Jacobian product, side by side.

Every class here registers itself in :data:`~minigrad.tensor.PRIMITIVES`. Arrays are
positional arguments; metadata such as ``axis`` are keyword arguments. A
``vjp`` may return a gradient in the broadcast shape of the output: the engine
(:func:`minigrad.tensor.unbroadcast`) sums it back to the input's shape.
"""

from __future__ import annotations

import numpy as np

from .tensor import Primitive, Tensor, apply, as_tensor

__all__ = ["Add", "Sub", "Mul", "Div", "DivNoNan", "Neg", "Pow", "MatMul", "Exp", "Log", "Tanh",
           "Sum", "Max", "Reshape", "Transpose", "GetItem", "TakeAlongAxis", "Where", "Concatenate",
           "power", "getitem", "take_along_axis", "where", "concatenate", "stack", "divide_no_nan",
           "normalize_axis", "IndexOutOfRange"]


class IndexOutOfRange(IndexError, ValueError):
    """An index outside a tensor's bounds (both an ``IndexError`` and a ``ValueError``)."""


# -- arithmetic -----------------------------------------------------------

class Add(Primitive):
    @staticmethod
    def forward(x, y):
        return x + y

    @staticmethod
    def vjp(g, ans, x, y):
        return g, g


class Sub(Primitive):
    @staticmethod
    def forward(x, y):
        return x - y

    @staticmethod
    def vjp(g, ans, x, y):
        return g, -g


class Mul(Primitive):
    @staticmethod
    def forward(x, y):
        return x * y

    @staticmethod
    def vjp(g, ans, x, y):
        return g * y, g * x


class Div(Primitive):
    @staticmethod
    def forward(x, y):
        return x / y

    @staticmethod
    def vjp(g, ans, x, y):
        return g / y, -g * ans / y


class DivNoNan(Primitive):
    """``x / y``, but 0 (with zero gradient) wherever ``y == 0``, as ``tf.math.divide_no_nan``."""

    @staticmethod
    def forward(x, y):
        safe = np.where(y == 0, np.ones_like(y), y)
        return np.where(y == 0, np.zeros_like(x / safe), x / safe)

    @staticmethod
    def vjp(g, ans, x, y):
        zero = y == 0
        safe = np.where(zero, np.ones_like(y), y)
        # the same order of operations as TensorFlow's gradient: g * ((-x / y) / y)
        return np.where(zero, 0, g / safe), np.where(zero, 0, g * ((-x / safe) / safe))


class Neg(Primitive):
    @staticmethod
    def forward(x):
        return -x

    @staticmethod
    def vjp(g, ans, x):
        return (-g,)


class Pow(Primitive):
    """``x ** exponent`` for a constant exponent."""

    @staticmethod
    def forward(x, exponent):
        return x ** exponent

    @staticmethod
    def vjp(g, ans, x, exponent):
        return (g * exponent * x ** (exponent - 1),)


class MatMul(Primitive):
    """Matrix product with NumPy's rules: 1-D operands and batch broadcasting."""

    @staticmethod
    def forward(x, y):
        return x @ y

    @staticmethod
    def vjp(g, ans, x, y):
        if x.ndim == 1 and y.ndim == 1:
            return g * y, g * x
        x2 = x[None, :] if x.ndim == 1 else x            # promote 1-D as NumPy does
        y2 = y[:, None] if y.ndim == 1 else y
        g2 = g[..., None] if y.ndim == 1 else g
        g2 = g2[..., None, :] if x.ndim == 1 else g2
        gx = g2 @ np.swapaxes(y2, -1, -2)
        gy = np.swapaxes(x2, -1, -2) @ g2
        return (gx[..., 0, :] if x.ndim == 1 else gx), (gy[..., 0] if y.ndim == 1 else gy)


# -- elementwise functions ------------------------------------------------

class Exp(Primitive):
    @staticmethod
    def forward(x):
        return np.exp(x)

    @staticmethod
    def vjp(g, ans, x):
        return (g * ans,)


class Log(Primitive):
    @staticmethod
    def forward(x):
        return np.log(x)

    @staticmethod
    def vjp(g, ans, x):
        return (g / x,)


class Tanh(Primitive):
    @staticmethod
    def forward(x):
        return np.tanh(x)

    @staticmethod
    def vjp(g, ans, x):
        return (g * (1 - ans * ans),)


# -- reductions -----------------------------------------------------------

def _expand(g, axis, keepdims):
    """Put back the reduced axes of ``g`` (as size 1) so it broadcasts against the input."""
    return g if keepdims or axis is None else np.expand_dims(g, axis)


class Sum(Primitive):
    @staticmethod
    def forward(x, axis=None, keepdims=False):
        return np.sum(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def vjp(g, ans, x, axis=None, keepdims=False):
        return (np.broadcast_to(_expand(g, axis, keepdims), x.shape),)


class Max(Primitive):
    """Maximum over ``axis``; tied maxima share the gradient equally."""

    @staticmethod
    def forward(x, axis=None, keepdims=False):
        return np.max(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def vjp(g, ans, x, axis=None, keepdims=False):
        hit = x == _expand(ans, axis, keepdims)
        share = hit / hit.sum(axis=axis, keepdims=True)
        return (_expand(g, axis, keepdims) * share,)


def normalize_axis(axis, ndim):
    """``axis`` (None, an int or a tuple of ints, negatives allowed) as a sorted tuple, or None."""
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    for a in axes:
        if not isinstance(a, (int, np.integer)):
            raise TypeError(f"axis must be an int or a tuple of ints, got {axis!r}")
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {axis!r} is out of range for a tensor with {ndim} dimension(s)")
    normalized = tuple(sorted(int(a) % ndim for a in axes))
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"axis {axis!r} repeats an axis")
    return normalized


# -- shape and indexing ---------------------------------------------------

class Reshape(Primitive):
    @staticmethod
    def forward(x, shape):
        return np.reshape(x, shape)

    @staticmethod
    def vjp(g, ans, x, shape):
        return (np.reshape(g, x.shape),)


class Transpose(Primitive):
    @staticmethod
    def forward(x, axes=None):
        return np.transpose(x, axes)

    @staticmethod
    def vjp(g, ans, x, axes=None):
        return (np.transpose(g, None if axes is None else np.argsort(axes)),)


class GetItem(Primitive):
    """``x[index]`` for basic slices and integer arrays; repeated indices add up."""

    @staticmethod
    def forward(x, index):
        return x[index]

    @staticmethod
    def vjp(g, ans, x, index):
        out = np.zeros_like(x)
        parts = index if isinstance(index, tuple) else (index,)
        if all(p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice)) for p in parts):
            out[index] = g  # a basic index hits each element at most once
        else:
            np.add.at(out, index, g)  # integer arrays may repeat an element: add, don't overwrite
        return (out,)


class TakeAlongAxis(Primitive):
    """``numpy.take_along_axis``; ``indices`` must already have ``x``'s shape off ``axis``."""

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
    """``numpy.where(condition, x, y)`` with a constant boolean ``condition``."""

    @staticmethod
    def forward(x, y, condition):
        return np.where(condition, x, y)

    @staticmethod
    def vjp(g, ans, x, y, condition):
        return np.where(condition, g, 0), np.where(condition, 0, g)


class Concatenate(Primitive):
    @staticmethod
    def forward(*xs, axis=0):
        return np.concatenate(xs, axis=axis)

    @staticmethod
    def vjp(g, ans, *xs, axis=0):
        ends = np.cumsum([x.shape[axis] for x in xs])[:-1]
        return tuple(np.split(g, ends, axis=axis))


# -- friendly front doors (validation lives here, not in the primitives) --

def _integer_array(name, value):
    array = np.asarray(value.data if isinstance(value, Tensor) else value)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integers, got dtype {array.dtype}")
    return array


def power(base, exponent):
    """``base ** exponent``; a Tensor exponent that requires grad uses ``exp(exponent * log(base))``."""
    if isinstance(exponent, Tensor):
        if exponent.requires_grad:
            base = as_tensor(base, exponent)
            return (exponent * base.log()).exp()
        exponent = exponent.data
    base = as_tensor(base)
    if isinstance(exponent, (int, float, np.number)):
        exponent = np.asarray(exponent, dtype=base.dtype if base.dtype.kind == "f" else None)
    return apply(Pow, base, exponent=np.asarray(exponent))


def getitem(x, index):
    """``x[index]``: ints, slices, ``None``, ``...`` and integer or boolean arrays."""
    if isinstance(index, Tensor):
        index = index.data
    elif isinstance(index, tuple):
        index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
    elif isinstance(index, list):
        index = np.asarray(index)
    try:
        x.data[index]
    except IndexError as exc:
        raise IndexOutOfRange(f"index {index!r} is invalid for a tensor of shape {x.shape}: {exc}") from None
    return apply(GetItem, x, index=index)


def take_along_axis(x, indices, axis):
    """Pick ``x``'s entries along ``axis`` at integer ``indices`` (see ``numpy.take_along_axis``)."""
    x = as_tensor(x)
    indices = _integer_array("indices", indices)
    if indices.ndim != x.ndim:
        raise ValueError(f"indices must have as many dimensions as x ({x.ndim}), got shape {indices.shape}")
    (axis,) = normalize_axis(axis, x.ndim)
    n = x.shape[axis]
    if indices.size and (indices.min() < -n or indices.max() >= n):
        bad = indices[(indices < -n) | (indices >= n)].flat[0]
        raise IndexOutOfRange(f"indices contains {bad}, outside [-{n}, {n}) for axis {axis} of shape {x.shape}")
    shape = list(x.shape)
    shape[axis] = indices.shape[axis]
    try:
        indices = np.broadcast_to(indices, shape)
    except ValueError:
        raise ValueError(f"indices of shape {indices.shape} do not fit x of shape {x.shape} "
                         f"off axis {axis}") from None
    return apply(TakeAlongAxis, x, indices=indices, axis=axis)


def where(condition, x, y):
    """Elementwise ``x`` where ``condition`` holds, else ``y``; differentiable in ``x`` and ``y``."""
    condition = np.asarray(condition.data if isinstance(condition, Tensor) else condition)
    if condition.dtype != np.bool_:
        raise TypeError(f"condition must be boolean, got dtype {condition.dtype}")
    like = x if isinstance(x, Tensor) else y if isinstance(y, Tensor) else None
    return apply(Where, as_tensor(x, like), as_tensor(y, like), condition=condition)


def concatenate(tensors, axis=0):
    """Join tensors along an existing ``axis``."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("concatenate needs at least one tensor")
    return apply(Concatenate, *tensors, axis=axis)


def stack(tensors, axis=0):
    """Join tensors of one shape along a new ``axis``."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack needs at least one tensor")
    shapes = {t.shape for t in tensors}
    if len(shapes) != 1:
        raise ValueError(f"stack needs tensors of one shape, got shapes {sorted(shapes)}")
    (axis,) = normalize_axis(axis, tensors[0].ndim + 1)
    return concatenate([t.reshape(t.shape[:axis] + (1,) + t.shape[axis:]) for t in tensors], axis=axis)


def divide_no_nan(x, y):
    """``x / y`` with 0 (and zero gradient) where ``y`` is 0, as ``tf.math.divide_no_nan``."""
    like = x if isinstance(x, Tensor) else y if isinstance(y, Tensor) else None
    return apply(DivNoNan, as_tensor(x, like), as_tensor(y, like))
