"""The tensor and the backward pass.

A :class:`Tensor` wraps a NumPy array. Every differentiable operation is a
:class:`Primitive` (see :mod:`minigrad.ops`): a ``forward`` on arrays and a
``vjp`` that turns the gradient of the output into gradients of the inputs.
:func:`apply` runs a primitive and, when gradients are wanted, records the
node in the graph. :meth:`Tensor.backward` walks that graph once, in reverse
topological order, and the engine -- not each primitive -- sums gradients
back to each input's shape after broadcasting (:func:`unbroadcast`).
"""

from __future__ import annotations

import functools
import numbers
import sys
import threading
import types

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np

try:
    # NumPy 2's error state is a context variable; entering np.errstate costs
    # ~1.5 us, this ~0.3 us. The module is private and untyped, hence the
    # type: ignore.
    from numpy._core._multiarray_umath import (  # type: ignore
        _extobj_contextvar,
        _make_extobj,
    )

    # (a state, the same state with all errors ignored): a state never
    # changes, so the pair made last serves again while the state is either
    _ignoring: tuple[Any, Any] = (None, None)

    def _ignore_fp_errors() -> Any:
        """Like entering ``np.errstate(all="ignore")``; returns what
        :func:`_restore_fp_errors` needs.
        """
        global _ignoring
        pair, state = _ignoring, _extobj_contextvar.get()
        if state is not pair[0] and state is not pair[1]:
            pair = _ignoring = (state, _make_extobj(all="ignore"))
        return _extobj_contextvar.set(pair[1])

    def _restore_fp_errors(token: Any) -> None:
        _extobj_contextvar.reset(token)
except ImportError:  # pragma: no cover
    # another NumPy: the public, slower way
    def _ignore_fp_errors() -> Any:
        state = np.errstate(all="ignore")
        state.__enter__()
        return state

    def _restore_fp_errors(token: Any) -> None:
        token.__exit__(None, None, None)


__all__ = [
    "Tensor",
    "Primitive",
    "PRIMITIVES",
    "Node",
    "apply",
    "unbroadcast",
    "toposort",
    "no_grad",
    "is_grad_enabled",
    "as_tensor",
    "as_array",
    "accumulate",
]


class _GradMode(threading.local):
    """Whether operations record the graph; one flag per thread, as in
    PyTorch.
    """

    # a class attribute: every thread starts with recording on
    enabled = True


_grad_mode = _GradMode()


class no_grad:  # noqa: N801 (PyTorch's name)
    """Context manager inside which no graph is recorded (in this thread
    only); also a decorator, as ``@no_grad()`` or ``@no_grad``.
    """

    def __new__(cls, func: Callable[..., Any] | None = None) -> Any:
        if func is None:
            return super().__new__(cls)
        return cls()(func)  # @no_grad, without parentheses

    def __enter__(self) -> None:
        self.previous, _grad_mode.enabled = _grad_mode.enabled, False

    def __exit__(self, *exc_info: object) -> None:
        _grad_mode.enabled = self.previous

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if not callable(func):
            raise TypeError(
                f"no_grad decorates a function, got {type(func).__name__}"
            )

        @functools.wraps(func)
        def without_grad(*args: Any, **kwargs: Any) -> Any:
            with no_grad():
                return func(*args, **kwargs)

        return without_grad


def is_grad_enabled() -> bool:
    """Whether operations in this thread currently record the graph for
    :meth:`Tensor.backward`.
    """
    return _grad_mode.enabled


#: The types NumPy 2 treats as "weak" numbers (NEP 50).
_PYTHON_NUMBERS = (bool, int, float)


def _is_bool(value: object) -> bool:
    return isinstance(value, (bool, np.bool_))


def as_array(name: str, value: Any) -> np.ndarray:
    """``value`` (a Tensor, array, list or number) as a numeric NumPy array,
    or an error naming ``name``.

    Numeric means bool, integer or floating point. A ragged nested list is a
    ``ValueError``; strings, ``None`` entries, complex numbers and objects
    are a ``TypeError``. A Tensor's or an array's memory is shared, not
    copied.
    """
    if isinstance(value, Tensor):
        return value.data
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


#: Registry of every primitive, name -> Primitive subclass (filled in as
#: subclasses are defined).
PRIMITIVES: dict[str, type[Primitive]] = {}


class Primitive:
    """One differentiable operation: a forward on arrays and its
    vector-Jacobian product.

    Subclasses define two static methods side by side:

    ``forward(*arrays, **params) -> array``
        the value; ``params`` are non-differentiable metadata such as
        ``axis``.
    ``vjp(g, ans, *arrays, **params) -> tuple``
        given ``g = dL/dans``, one gradient per array input (``None`` for
        none). A gradient may have the broadcast shape; the engine
        reduces it.

    A primitive that keeps work from its forward for its backward sets
    ``saves = True``; its forward returns ``(ans, saved)`` and ``saved``
    (a dict) reaches ``vjp`` as extra keyword arguments.
    """

    name = ""
    saves = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.name = cls.name or cls.__name__
        PRIMITIVES[cls.name] = cls

    @staticmethod
    def forward(*arrays: Any, **params: Any) -> Any:  # pragma: no cover
        # interface
        raise NotImplementedError

    @staticmethod
    def vjp(
        g: Any, ans: Any, *arrays: Any, **params: Any
    ) -> Any:  # pragma: no cover
        # interface
        raise NotImplementedError


class Node(NamedTuple):
    """How a computed tensor was made: the graph's record, one per
    :func:`apply` that needs gradients.
    """

    primitive: type[Primitive]  #: the operation
    parents: list[Tensor]  #: its inputs, each a Tensor
    #: its non-differentiable arguments, such as ``axis``
    params: dict[str, Any]
    #: what its forward kept for its vjp (``saves = True``), else empty
    saved: dict[str, Any]


class Tensor:
    """An n-dimensional array that records how it was computed.

    Parameters
    ----------
    data : array_like or Tensor
        Numbers to wrap. ``float32`` stays ``float32``; Python floats become
        ``float64``.
    requires_grad : bool
        Whether :meth:`backward` should compute ``grad`` for this tensor.
        Only floating-point tensors can require gradients.

    Attributes
    ----------
    data : numpy.ndarray
        The values.
    grad : numpy.ndarray or None
        ``dL/dself`` after :meth:`backward`; same shape and dtype as
        ``data``. Gradients accumulate across calls, as in PyTorch; see
        :meth:`zero_grad`.
    """

    __array_priority__ = 100  # so that ndarray <op> Tensor defers to Tensor

    def __init__(self, data: Any, requires_grad: bool = False) -> None:
        array = as_array("Tensor data", data)
        if not _is_bool(requires_grad):
            raise TypeError(
                f"requires_grad must be True or False, got {requires_grad!r}"
            )
        if requires_grad and array.dtype.kind != "f":
            raise TypeError(
                "requires_grad=True needs floating-point data, got dtype "
                f"{array.dtype}"
            )
        self.data: np.ndarray = array
        self.requires_grad = bool(requires_grad)
        self.grad: np.ndarray | None = None
        # how a computed tensor was computed; None for a leaf
        self._node: Node | None = None

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
    # no gradient). Hashing is by identity, as in PyTorch (== no longer gives
    # a bool).
    __hash__ = object.__hash__

    def _compare(self, other: Any, ufunc: Any, symbol: str) -> Tensor:
        if type(other) in _PYTHON_NUMBERS:
            # NumPy 2 compares a Python number exactly with every dtype
            # (uint8 < -1 is False); and silently, as arithmetic
            token = _ignore_fp_errors()
            try:
                return Tensor(ufunc(self.data, other))
            finally:
                _restore_fp_errors(token)
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

    def zero_grad(self) -> None:
        """Forget the accumulated gradient."""
        self.grad = None

    def detach(self) -> Tensor:
        """The same data, cut from the graph."""
        return Tensor(self.data)

    # -- the backward pass ------------------------------------------------
    def backward(self, grad: Any = None) -> None:
        """Accumulate ``d self / d t`` into ``t.grad`` for every tensor ``t``
        that requires it.

        Parameters
        ----------
        grad : array_like, optional
            The gradient flowing into ``self``, of ``self``'s shape. May be
            omitted only when ``self`` is a scalar (it is then 1).
        """
        if grad is None:
            if self.data.size != 1:
                raise ValueError(
                    "backward() without a gradient needs a scalar, but "
                    f"this tensor has shape {self.shape}; "
                    "pass backward(grad) with a gradient of that shape"
                )
            grad = np.ones_like(self.data)
        else:
            # a copy
            grad = np.array(as_array("grad", grad), dtype=self.dtype)
            if grad.shape != self.shape:
                raise ValueError(
                    f"backward(grad): grad has shape {grad.shape}, expected "
                    f"{self.shape}"
                )
        if not self.requires_grad:
            raise ValueError(
                "backward() on a tensor that does not require grad (no "
                "input requires_grad=True, "
                "or it was computed under no_grad())"
            )

        with np.errstate(all="ignore"):
            # IEEE arithmetic, silently, as in PyTorch
            self._backward(grad)

    def _backward(self, grad: np.ndarray) -> None:
        grads = {id(self): grad}
        # ids of the arrays whose memory some leaf's .grad uses
        owners: set[int] = set()
        for node in reversed(toposort(self)):
            g = grads.pop(id(node), None)
            if g is None:  # no gradient reached this node
                continue
            if node._node is None:  # a leaf: keep the gradient
                _keep_leaf_gradient(node, g, owners)
                continue
            primitive, parents, params, saved = node._node
            # apply made every parent a Tensor
            inputs = [p.data for p in parents]
            for parent, pg in zip(
                parents,
                primitive.vjp(g, node.data, *inputs, **params, **saved),
            ):
                if pg is None or not parent.requires_grad:
                    continue
                data = parent.data
                if type(pg) is not np.ndarray or pg.shape != data.shape:
                    pg = unbroadcast(pg, data.shape)
                if pg.dtype != data.dtype:
                    pg = pg.astype(data.dtype)
                key = id(parent)
                grads[key] = pg if key not in grads else grads[key] + pg

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
            ops.Sum, self, **ops.reduction_params(axis, keepdims, self.ndim)
        )

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Mean over ``axis`` (all axes by default), as ``numpy.mean``;
        float16 adds up in float32.
        """
        return apply(
            ops.Mean, self, **ops.reduction_params(axis, keepdims, self.ndim)
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
        params = ops.reduction_params(axis, keepdims, self.ndim)
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
        :func:`minigrad.nn.sigmoid`).
        """
        from .nn import sigmoid  # nn builds on Tensor

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
                if _is_bool(bound) or not isinstance(bound, numbers.Real):
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
        axis = ops.one_axis(axis, self.ndim + 1)
        return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])

    def squeeze(self, axis: Any = None) -> Tensor:
        """Remove axes of size 1: all of them, or those of ``axis`` (an axis
        of another size is kept, as in PyTorch).
        """
        axes = ops.normalize_axis(axis, self.ndim)
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
            ops.one_axis(start_dim, self.ndim, "start_dim"),
            ops.one_axis(end_dim, self.ndim, "end_dim"),
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
            ops.Reshape, self, shape=ops.normalize_shape(sizes, self.size)
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
            axes=ops.normalize_permutation(order, self.ndim),
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


def _binary(primitive: type[Primitive], x: Any, y: Any) -> Tensor:
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


#: The largest finite float16 and float32 (see :func:`_number_constant`).
_LARGEST = {
    np.dtype(t): float(np.finfo(t).max) for t in (np.float16, np.float32)
}


def _divisor(number: Any, x: Tensor) -> Any:
    """A Python int as a float next to an integer (or bool) tensor ``x``:
    NumPy divides integers in float64, so ``uint8 / 300`` is no overflow.
    """
    if type(number) is int and x.data.dtype.kind in "biu":
        return float(number)
    return number


def _number_constant(x: Any, dtype: np.dtype) -> Tensor:
    """A number as a constant Tensor of ``dtype``, built directly (a number
    is always valid data: no checks).

    A number beyond the range of float16 or float32 becomes inf silently,
    as an overflow in arithmetic does; one beyond an integer dtype's range
    is NumPy's OverflowError.
    """
    constant = Tensor.__new__(Tensor)
    largest = _LARGEST.get(dtype)
    if largest is None or -largest <= x <= largest:
        constant.data = np.asarray(x, dtype=dtype)
    else:  # inf, NaN, or a number that overflows float16 or float32
        with np.errstate(all="ignore"):
            constant.data = np.asarray(x, dtype=dtype)
    constant.grad, constant.requires_grad, constant._node = None, False, None
    return constant


def as_tensor(x: Any, like: Tensor | None = None, name: str = "x") -> Tensor:
    """``x`` as a Tensor; a number next to a Tensor ``like`` takes its dtype
    where NumPy 2 gives it that dtype.

    A Python number is "weak", as in NumPy 2 (NEP 50): it takes ``like``'s
    dtype unless its kind is wider (a float next to integers is float64, an
    int next to bools int64). A NumPy scalar takes ``like``'s float dtype,
    as in PyTorch. An error for ``x`` that is not numbers names it ``name``.
    """
    if like is not None and not isinstance(like, Tensor):
        raise TypeError(
            f"like must be a Tensor or None, got {type(like).__name__}"
        )
    if isinstance(x, Tensor):
        return x
    if (
        (type(x) is float or type(x) is int)
        and like is not None
        and like.data.dtype.kind == "f"
    ):
        return _number_constant(x, like.data.dtype)
    if like is None:
        return Tensor(as_array(name, x))
    if type(x) in _PYTHON_NUMBERS:
        return _number_constant(x, np.result_type(like.data.dtype, x))
    if (
        isinstance(x, numbers.Real)
        and not _is_bool(x)
        and like.dtype.kind == "f"
    ):
        return _number_constant(x, like.dtype)
    return Tensor(as_array(name, x))


def apply(primitive: type[Primitive], *args: Any, **params: Any) -> Tensor:
    """Run ``primitive`` on ``args`` (Tensors, arrays or numbers) and
    record the node if needed.
    """
    if not (
        isinstance(primitive, type) and issubclass(primitive, Primitive)
    ):
        raise TypeError(
            f"primitive must be a Primitive subclass, got {primitive!r}"
        )
    parents, needs_grad = list(args), False
    for i, a in enumerate(args):
        if not isinstance(a, Tensor):
            like = next((b for b in args if isinstance(b, Tensor)), None)
            a = parents[i] = as_tensor(
                a, like, name=f"argument {i} of {primitive.name}"
            )
        needs_grad = needs_grad or a.requires_grad
    # IEEE arithmetic (inf, NaN), silently, as in PyTorch
    token = _ignore_fp_errors()
    try:
        result = primitive.forward(*[p.data for p in parents], **params)
    except (ValueError, TypeError) as exc:
        shapes = ", ".join(str(p.shape) for p in parents)
        raise type(exc)(
            f"{primitive.name}: {exc} (input shapes {shapes})"
        ) from None
    finally:
        _restore_fp_errors(token)
    ans, saved = result if primitive.saves else (result, {})
    # skips __init__'s checks: a primitive's result is a valid array
    out = Tensor.__new__(Tensor)
    out.data = ans if type(ans) is np.ndarray else np.asarray(ans)
    out.grad = None
    if needs_grad and _grad_mode.enabled:
        out.requires_grad, out._node = (
            True,
            Node(primitive, parents, params, saved),
        )
    else:
        out.requires_grad, out._node = False, None
    return out


def accumulate(
    reduction: Callable[..., Any], x: np.ndarray, **kwargs: Any
) -> Any:
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


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched, so it
    has ``shape``.
    """
    grad = as_array("grad", grad)
    shape = tuple(shape)
    if len(shape) > grad.ndim or any(
        n not in (1, m) for n, m in zip(shape[::-1], grad.shape[::-1])
    ):
        raise ValueError(
            f"shape {shape} does not broadcast to the shape "
            f"{grad.shape} of grad"
        )
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = accumulate(np.sum, grad, axis=tuple(range(extra)))
    stretched = tuple(
        i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1
    )
    if stretched:
        grad = accumulate(np.sum, grad, axis=stretched, keepdims=True)
    return grad


def _keep_leaf_gradient(
    leaf: Tensor, g: np.ndarray, owners: set[int]
) -> None:
    """Add ``g`` to ``leaf.grad``, in memory that no other leaf's ``.grad``
    uses (``owners``).

    vjps may return the very array they received (Add gives g to both inputs)
    or a view of it (Reshape): a leaf gets memory no other leaf's .grad uses,
    so that an in-place update of one gradient never changes another. A view
    of all of an array's memory (a reshape) is kept as it is: copying a [B,
    T, V] gradient can cost as much as the whole loss. A view of part of a
    larger array is copied.
    """
    if leaf.grad is not None:
        leaf.grad = leaf.grad + g
    else:
        owner = _memory_owner(g)
        shared = (
            id(owner) in owners
            or owner.nbytes != g.nbytes
            or not g.flags.writeable
        )
        leaf.grad = g.copy() if shared else g
    owners.add(id(_memory_owner(leaf.grad)))


def _memory_owner(array: np.ndarray) -> np.ndarray:
    """The array that owns ``array``'s memory: ``array`` itself, or the base
    of a view.
    """
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def toposort(root: Tensor) -> list[Tensor]:
    """Tensors reachable from ``root`` that need gradients, parents before
    children.

    Iterative depth-first search with an explicit stack, so a graph of any
    depth (a 100,000-step chain) stays within Python's recursion limit.
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"root must be a Tensor, got {type(root).__name__}")
    order: list[Tensor] = []
    visited: set[int] = set()
    stack = [(root, False)]
    # bound once: this loop runs once per node
    pop, push, visit = stack.pop, stack.append, visited.add
    while stack:
        node, expanded = pop()
        if expanded:
            order.append(node)
            continue
        key = id(node)
        if key in visited:
            continue
        visit(key)
        push((node, True))
        record = node._node
        if record is not None:
            for parent in record.parents:
                if parent.requires_grad and id(parent) not in visited:
                    push((parent, False))
    return order


class _CallableModule(types.ModuleType):
    """This module, callable: ``mg.tensor(data)`` makes a tensor, as
    ``torch.tensor`` does.

    ``mg.tensor`` is this module (chapter 8 reads ``mg.tensor.apply``), and
    PyTorch users call ``tensor(...)``: both work. The call is
    :func:`minigrad.creation.tensor`.
    """

    def __call__(
        self, data: Any, dtype: Any = None, requires_grad: bool = False
    ) -> Tensor:
        from .creation import tensor  # creation builds on Tensor

        return tensor(data, dtype=dtype, requires_grad=requires_grad)


sys.modules[__name__].__class__ = _CallableModule

# (at the end: ops builds on Tensor and Primitive above)
from . import ops  # noqa: E402
