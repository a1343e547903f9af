"""A tensor's operators and methods: ``+``, ``@``, comparisons, ``sum``,
``reshape``, and the PyTorch habits (``view``, ``unsqueeze``, ``relu``,
``item``, ...).

Each one checks its arguments and calls :func:`~minigrad.engine.apply` with
a primitive of :mod:`minigrad.ops`; none knows about the graph. They are
written in :class:`TensorMethods` and added to
:class:`~minigrad.engine.Tensor` when minigrad is imported, so that the
engine's file holds the engine only.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import ops
from .checks import (
    as_array,
    is_bool,
    normalize_axis,
    normalize_permutation,
    normalize_shape,
    one_axis,
    reduction_params,
)
from .engine import (
    _PYTHON_NUMBERS,
    Node,
    Primitive,
    Tensor,
    _number_constant,
    apply,
    as_tensor,
)
from .entropy import sigmoid

__all__ = ["TensorMethods"]


class TensorMethods:
    """The methods of :class:`~minigrad.engine.Tensor` beyond the engine
    (all but ``backward``, ``zero_grad`` and ``detach``).
    """

    # what the engine's Tensor holds (see minigrad.engine.Tensor)
    data: np.ndarray
    grad: np.ndarray | None
    requires_grad: bool
    _node: Node | None

    # -- array-like views -------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of ``data``."""
        return self.data.shape

    @property
    def dtype(self) -> np.dtype[Any]:
        """dtype of ``data``."""
        return self.data.dtype

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return self.data.ndim

    @property
    def size(self) -> int:
        """Number of elements."""
        return self.data.size

    @property
    def T(self) -> Tensor:  # noqa: N802 (PyTorch's and NumPy's name)
        """The transpose (all axes reversed)."""
        return self.transpose()

    def numpy(self) -> np.ndarray:
        """The underlying array (not a copy)."""
        return self.data

    def tolist(self) -> Any:
        """The values as nested Python lists of numbers (a number for a 0-d
        tensor), as ``torch.Tensor.tolist``.
        """
        return self.data.tolist()

    def item(self) -> Any:
        """The single element as a Python number."""
        if self.data.size != 1:
            raise ValueError(
                "item() needs a tensor with one element, got shape "
                f"{self.shape}"
            )
        return self.data.item()

    # -- NumPy's and Python's protocols -----------------------------------
    def __array__(
        self, dtype: Any = None, copy: bool | None = None
    ) -> np.ndarray:
        """NumPy 2's array protocol: ``np.asarray(t)`` shares ``t.data``,
        ``np.array(t)`` is a copy.

        ``copy=None`` copies only for a new ``dtype``; ``copy=False`` raises
        a ``ValueError`` when a copy cannot be avoided, as ``numpy.array``
        does.
        """
        return np.array(self.data, dtype=dtype, copy=copy)

    def __array_function__(
        self, func: Any, types: Any, args: Any, kwargs: Any
    ) -> Any:
        """NumPy's functions see a tensor as its array: ``np.sum(t)`` is
        ``np.sum(t.data)``, a NumPy result outside the graph, as for any
        array-like (``t.sum()`` is the differentiable one).
        """
        return func(*_arrays(args), **_arrays(kwargs))

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self) -> Iterator[Tensor]:
        # Differentiable, as in PyTorch: each row is a Tensor t[i] in the
        # graph.
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self.data)))

    def __contains__(self, value: Any) -> bool:
        # elementwise, as NumPy and PyTorch: `2.0 in t` is `(t == 2.0).any()`
        # (not a search over rows)
        if type(value) not in _PYTHON_NUMBERS:
            value = as_tensor(value, self, name="value")
        return bool(np.any((self == value).data))

    def _one_number(self, what: str) -> Any:
        if self.data.size != 1:
            raise ValueError(
                f"{what} needs a tensor with one element, got shape "
                f"{self.shape}"
            )
        return self.data.reshape(()).item()

    def __bool__(self) -> bool:
        return bool(self._one_number("bool()"))

    def __float__(self) -> float:
        return float(self._one_number("float()"))

    def __int__(self) -> int:
        value = self._one_number("int()")
        if isinstance(value, float) and not np.isfinite(value):
            raise ValueError(f"int() of a tensor holding {value}")
        return int(value)

    def __index__(self) -> int:
        if self.dtype.kind not in "biu":
            raise TypeError(
                "only an integer or bool tensor can be used as an index, "
                f"got dtype {self.dtype}"
            )
        return int(self._one_number("__index__()"))

    # Comparisons give bool tensors that take no part in the graph (they have
    # no gradient).
    def _compare(self, other: Any, ufunc: Any, symbol: str) -> Tensor:
        if type(other) in _PYTHON_NUMBERS:
            # NumPy 2 compares a Python number exactly with every dtype
            # (uint8 < -1 is False); and silently, as arithmetic
            with np.errstate(all="ignore"):
                return Tensor(ufunc(self.data, other))
        try:
            other = as_tensor(other, self)
        except TypeError:
            # not numbers: let Python decide (False for ==, an error for <)
            return NotImplemented
        try:
            return Tensor(ufunc(self.data, other.data))
        except ValueError:
            raise ValueError(
                f"{symbol}: shapes {self.shape} and {other.shape} do not "
                "broadcast"
            ) from None

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(other, np.less, "<")

    def __le__(self, other: Any) -> Tensor:
        return self._compare(other, np.less_equal, "<=")

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater, ">")

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater_equal, ">=")

    def __eq__(self, other: object) -> Tensor:  # type: ignore[override]
        # elementwise
        return self._compare(other, np.equal, "==")

    def __ne__(self, other: object) -> Tensor:  # type: ignore[override]
        # elementwise
        return self._compare(other, np.not_equal, "!=")

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extra = (
            ""
            if self.dtype in (np.float64, np.int64, np.bool_)
            else f", dtype={self.dtype}"
        )
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({body}{extra}{grad})"

    # -- operators (the primitives live in minigrad.ops) -------------------
    def __add__(self, other: Any) -> Tensor:
        return _binary(ops.Add, self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _binary(ops.Add, other, self)

    def __sub__(self, other: Any) -> Tensor:
        return _binary(ops.Sub, self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _binary(ops.Sub, other, self)

    def __mul__(self, other: Any) -> Tensor:
        return _binary(ops.Mul, self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _binary(ops.Mul, other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return _binary(ops.Div, self, _divisor(other, self))

    def __rtruediv__(self, other: Any) -> Tensor:
        return _binary(ops.Div, _divisor(other, self), self)

    def __matmul__(self, other: Any) -> Tensor:
        return _binary(ops.MatMul, self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _binary(ops.MatMul, other, self)

    def __pow__(self, exponent: Any) -> Tensor:
        # power checks its arguments (integer ** negative integer)
        return ops.power(self, exponent)

    def __rpow__(self, base: Any) -> Tensor:
        return ops.power(base, self)

    def __neg__(self) -> Tensor:
        return apply(ops.Neg, self)

    def __getitem__(self, index: Any) -> Tensor:
        return ops.getitem(self, index)

    def exp(self) -> Tensor:
        """Elementwise :math:`e^x`."""
        return apply(ops.Exp, self)

    def log(self) -> Tensor:
        """Elementwise natural logarithm."""
        return apply(ops.Log, self)

    def tanh(self) -> Tensor:
        """Elementwise hyperbolic tangent."""
        return apply(ops.Tanh, self)

    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (all axes by default), as ``numpy.sum``; float16
        adds up in float32.
        """
        return apply(
            ops.Sum, self, **reduction_params(axis, keepdims, self.ndim)
        )

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Mean over ``axis`` (all axes by default), as ``numpy.mean``;
        float16 adds up in float32.
        """
        return apply(
            ops.Mean, self, **reduction_params(axis, keepdims, self.ndim)
        )

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Maximum over ``axis``; ties (and NaNs, which win) share the
        gradient equally.
        """
        return apply(
            ops.Max,
            self,
            **self._nonempty_reduction("max", "a maximum", axis, keepdims),
        )

    def min(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Minimum over ``axis``; ties (and NaNs, which win) share the
        gradient equally.
        """
        return apply(
            ops.Min,
            self,
            **self._nonempty_reduction("min", "a minimum", axis, keepdims),
        )

    def argmax(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Index of the maximum along ``axis`` (of the flattened tensor when
        None); int64, no gradient.
        """
        params = self._nonempty_reduction(
            "argmax", "a maximum", axis, keepdims
        )
        return Tensor(_arg_extremum(np.argmax, self.data, params))

    def argmin(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Index of the minimum along ``axis`` (of the flattened tensor when
        None); int64, no gradient.
        """
        params = self._nonempty_reduction(
            "argmin", "a minimum", axis, keepdims
        )
        return Tensor(_arg_extremum(np.argmin, self.data, params))

    def _nonempty_reduction(
        self, what: str, noun: str, axis: Any, keepdims: bool
    ) -> dict[str, Any]:
        params = reduction_params(axis, keepdims, self.ndim)
        reduced = (
            range(self.ndim) if params["axis"] is None else params["axis"]
        )
        if any(self.shape[a] == 0 for a in reduced):
            raise ValueError(
                f"{what}() of an empty tensor (shape {self.shape}) along "
                f"axis {axis!r}: "
                f"{noun} of no numbers does not exist"
            )
        return params

    # -- elementwise functions, as PyTorch's methods ------------------------
    def relu(self) -> Tensor:
        """Elementwise ``max(x, 0)``."""
        return apply(ops.Relu, self)

    def sigmoid(self) -> Tensor:
        """Elementwise ``1 / (1 + exp(-x))`` (see
        :func:`minigrad.functional.sigmoid`).
        """
        return sigmoid(self)

    def abs(self) -> Tensor:
        """Elementwise ``|x|``."""
        return apply(ops.Abs, self)

    __abs__ = abs

    def sqrt(self) -> Tensor:
        """Elementwise square root."""
        return apply(ops.Sqrt, self)

    def clip(
        self, min: float | None = None, max: float | None = None
    ) -> Tensor:
        """Limit every entry to ``[min, max]`` (either bound may be None), as
        ``numpy.clip`` and ``torch.clamp``.
        """
        bounds: dict[str, float] = {}
        for name, bound in (("low", min), ("high", max)):
            if bound is not None:
                if is_bool(bound) or not isinstance(bound, numbers.Real):
                    raise TypeError(
                        f"clip: {'min' if name == 'low' else 'max'} must be "
                        "a number or None, "
                        f"got {bound!r}"
                    )
                bounds[name] = bound
        if not bounds:
            raise ValueError("clip: give at least one of min and max")
        return apply(ops.Clip, self, **bounds)

    clamp = clip

    # -- shapes, as PyTorch's methods ---------------------------------------
    def view(self, *shape: Any) -> Tensor:
        """The same as :meth:`reshape` (minigrad has no views that share
        memory by contract).
        """
        return self.reshape(*shape)

    def unsqueeze(self, axis: int) -> Tensor:
        """Insert an axis of size 1 at position ``axis`` (``-1`` appends
        one).
        """
        axis = one_axis(axis, self.ndim + 1)
        return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])

    def squeeze(self, axis: Any = None) -> Tensor:
        """Remove axes of size 1: all of them, or those of ``axis`` (an axis
        of another size is kept, as in PyTorch).
        """
        axes = normalize_axis(axis, self.ndim)
        drop = [
            a
            for a in (range(self.ndim) if axes is None else axes)
            if self.shape[a] == 1
        ]
        return self.reshape(
            tuple(n for a, n in enumerate(self.shape) if a not in drop)
        )

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge the axes ``start_dim`` to ``end_dim`` (inclusive) into one,
        as ``torch.flatten``.
        """
        if self.ndim == 0:
            return self.reshape(1)
        start, end = (
            one_axis(start_dim, self.ndim, "start_dim"),
            one_axis(end_dim, self.ndim, "end_dim"),
        )
        if start > end:
            raise ValueError(
                f"flatten: start_dim {start_dim} comes after end_dim "
                f"{end_dim}"
            )
        merged = 1
        for n in self.shape[start : end + 1]:
            merged *= n
        return self.reshape(
            self.shape[:start] + (merged,) + self.shape[end + 1 :]
        )

    def reshape(self, *shape: Any) -> Tensor:
        """The same elements in a new ``shape`` (``-1`` allowed once)."""
        sizes = (
            shape[0]
            if len(shape) == 1 and isinstance(shape[0], (tuple, list))
            else shape
        )
        return apply(
            ops.Reshape, self, shape=normalize_shape(sizes, self.size)
        )

    def transpose(self, *axes: Any) -> Tensor:
        """Permute the axes as ``numpy.transpose`` (reverse them when none,
        or None, are given); negatives allowed.
        """
        order = (
            axes[0]
            if len(axes) == 1 and isinstance(axes[0], (tuple, list))
            else axes
        )
        # x.transpose(None), as NumPy
        order = () if order == (None,) else order
        return apply(
            ops.Transpose,
            self,
            axes=normalize_permutation(order, self.ndim),
        )

    def take_along_axis(self, indices: Any, axis: int) -> Tensor:
        """Pick entries along ``axis`` by integer ``indices``, as
        ``numpy.take_along_axis``.
        """
        return ops.take_along_axis(self, indices, axis)


def _arrays(value: Any) -> Any:
    """``value`` with each Tensor in it (in lists, tuples and dicts too)
    replaced by its array.
    """
    if isinstance(value, Tensor):
        return value.data
    if type(value) in (list, tuple):
        return type(value)(_arrays(v) for v in value)
    if type(value) is dict:
        return {k: _arrays(v) for k, v in value.items()}
    return value


def _divisor(number: Any, x: Any) -> Any:
    """A Python int as a float next to an integer (or bool) tensor ``x``:
    NumPy divides integers in float64, so ``uint8 / 300`` is no overflow.
    """
    if type(number) is int and x.data.dtype.kind in "biu":
        return float(number)
    return number


def _arg_extremum(
    function: Callable[..., Any], data: np.ndarray, params: dict[str, Any]
) -> np.ndarray:
    """``numpy.argmax`` or ``argmin`` with a checked ``axis`` (None or one
    axis) and ``keepdims``.
    """
    axis = params["axis"]
    if axis is not None and len(axis) != 1:
        raise TypeError(f"axis must be None or one int, got {axis!r}")
    index = function(
        data,
        axis=None if axis is None else axis[0],
        keepdims=params["keepdims"],
    )
    return np.asarray(index, dtype=np.int64)


def _binary(primitive: type[Primitive], x: Any, y: Any) -> Any:
    """An operator ``x <op> y``: NotImplemented (so Python raises its
    TypeError) for an operand that is not numbers.
    """
    if (
        (type(y) is float or type(y) is int)
        and type(x) is Tensor
        and x.data.dtype.kind == "f"
    ):
        # x * 2.0, the common case: as_tensor's, without its other checks
        return apply(primitive, x, _number_constant(y, x.data.dtype))
    if type(x) is not Tensor or type(y) is not Tensor:
        # a number, list or array operand
        like = x if isinstance(x, Tensor) else y
        try:
            if x is not like:
                x = as_tensor(x, like)
            if y is not like:
                y = as_tensor(y, like)
        except TypeError:
            return NotImplemented
    return apply(primitive, x, y)


# Tensor gets every method and property above. Defining __eq__ made
# TensorMethods.__hash__ None (not callable, so not copied): a tensor hashes
# by identity, as in PyTorch.
for _name, _member in vars(TensorMethods).items():
    if callable(_member) or isinstance(_member, property):
        setattr(Tensor, _name, _member)
