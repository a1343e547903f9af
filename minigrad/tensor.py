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

import contextlib
import numbers

import numpy as np

__all__ = ["Tensor", "Primitive", "PRIMITIVES", "apply", "unbroadcast", "toposort",
           "no_grad", "is_grad_enabled", "as_tensor"]

_grad_enabled = True


@contextlib.contextmanager
def no_grad():
    """Context manager (and decorator) inside which no graph is recorded."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, False
    try:
        yield
    finally:
        _grad_enabled = previous


def is_grad_enabled() -> bool:
    """Whether operations currently record the graph for :meth:`Tensor.backward`."""
    return _grad_enabled


#: Registry of every primitive, name -> Primitive subclass (filled in as subclasses are defined).
PRIMITIVES: dict[str, type[Primitive]] = {}


class Primitive:
    """One differentiable operation: a forward on arrays and its vector-Jacobian product.

    Subclasses define two static methods side by side:

    ``forward(*arrays, **params) -> array``
        the value; ``params`` are non-differentiable metadata such as ``axis``.
    ``vjp(g, ans, *arrays, **params) -> tuple``
        given ``g = dL/dans``, one gradient per array input (``None`` for none).
        A gradient may have the broadcast shape; the engine reduces it.

    A primitive that keeps work from its forward for its backward sets
    ``saves = True``; its forward returns ``(ans, saved)`` and ``saved`` (a dict)
    reaches ``vjp`` as extra keyword arguments.
    """

    name = ""
    saves = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.name = cls.name or cls.__name__
        PRIMITIVES[cls.name] = cls

    @staticmethod
    def forward(*arrays, **params):  # pragma: no cover - interface
        raise NotImplementedError

    @staticmethod
    def vjp(g, ans, *arrays, **params):  # pragma: no cover - interface
        raise NotImplementedError


class Tensor:
    """An n-dimensional array that records how it was computed.

    Parameters
    ----------
    data : array_like or Tensor
        Numbers to wrap. ``float32`` stays ``float32``; Python floats become ``float64``.
    requires_grad : bool
        Whether :meth:`backward` should compute ``grad`` for this tensor. Only
        floating-point tensors can require gradients.

    Attributes
    ----------
    data : numpy.ndarray
        The values.
    grad : numpy.ndarray or None
        ``dL/dself`` after :meth:`backward`; same shape and dtype as ``data``.
        Gradients accumulate across calls, as in PyTorch; see :meth:`zero_grad`.
    """

    __array_priority__ = 100  # so that ndarray <op> Tensor defers to Tensor

    def __init__(self, data, requires_grad: bool = False):
        if isinstance(data, Tensor):
            data = data.data
        try:
            array = np.asarray(data)
        except ValueError as exc:  # ragged nested lists
            raise ValueError(f"Tensor data is not a rectangular array: {exc}") from None
        if array.dtype.kind not in "biuf":
            raise TypeError(f"Tensor data must be numeric (bool, integer or float), got dtype {array.dtype}")
        if requires_grad and array.dtype.kind != "f":
            raise TypeError(f"requires_grad=True needs floating-point data, got dtype {array.dtype}")
        self.data: np.ndarray = array
        self.requires_grad = bool(requires_grad)
        self.grad: np.ndarray | None = None
        self._node = None  # (primitive, parents, params, saved) for computed tensors

    # -- array-like views -------------------------------------------------
    shape = property(lambda self: self.data.shape, doc="Shape of ``data``.")
    dtype = property(lambda self: self.data.dtype, doc="dtype of ``data``.")
    ndim = property(lambda self: self.data.ndim, doc="Number of dimensions.")
    size = property(lambda self: self.data.size, doc="Number of elements.")
    T = property(lambda self: self.transpose(), doc="The transpose (all axes reversed).")

    def numpy(self) -> np.ndarray:
        """The underlying array (not a copy)."""
        return self.data

    def item(self):
        """The single element as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self.data.item()

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extra = "" if self.dtype in (np.float64, np.int64, np.bool_) else f", dtype={self.dtype}"
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({body}{extra}{grad})"

    def zero_grad(self) -> None:
        """Forget the accumulated gradient."""
        self.grad = None

    def detach(self) -> Tensor:
        """The same data, cut from the graph."""
        return Tensor(self.data)

    # -- the backward pass ------------------------------------------------
    def backward(self, grad=None) -> None:
        """Accumulate ``d self / d t`` into ``t.grad`` for every tensor ``t`` that requires it.

        Parameters
        ----------
        grad : array_like, optional
            The gradient flowing into ``self``, of ``self``'s shape. May be
            omitted only when ``self`` is a scalar (it is then 1).
        """
        if grad is None:
            if self.data.size != 1:
                raise ValueError(
                    f"backward() without a gradient needs a scalar, but this tensor has shape {self.shape}; "
                    "pass backward(grad) with a gradient of that shape")
            grad = np.ones_like(self.data)
        else:
            grad = np.array(grad.data if isinstance(grad, Tensor) else grad, dtype=self.dtype)  # a copy
            if grad.shape != self.shape:
                raise ValueError(f"backward(grad): grad has shape {grad.shape}, expected {self.shape}")
        if not self.requires_grad:
            raise ValueError("backward() on a tensor that does not require grad (no input requires_grad=True, "
                             "or it was computed under no_grad())")

        grads = {id(self): grad}
        owners = set()  # ids of the arrays whose memory some leaf's .grad uses
        for node in reversed(toposort(self)):
            g = grads.pop(id(node), None)
            if g is None:  # no gradient reached this node
                continue
            if node._node is None:  # a leaf: keep the gradient
                if node.grad is not None:
                    node.grad = node.grad + g
                else:
                    # vjps may return the very array they received (Add gives g to both inputs) or a
                    # view of it (Reshape): a leaf gets memory no other leaf's .grad uses, so that an
                    # in-place update of one gradient never changes another. A view of all of an
                    # array's memory (a reshape) is kept as it is: copying a [B, T, V] gradient can
                    # cost as much as the whole loss. A view of part of a larger array is copied.
                    owner = _memory_owner(g)
                    shared = id(owner) in owners or owner.nbytes != g.nbytes or not g.flags.writeable
                    node.grad = g.copy() if shared else g
                owners.add(id(_memory_owner(node.grad)))
                continue
            primitive, parents, params, saved = node._node
            inputs = [p.data for p in parents]  # apply made every parent a Tensor
            for parent, pg in zip(parents, primitive.vjp(g, node.data, *inputs, **params, **saved)):
                if pg is None or not parent.requires_grad:
                    continue
                pg = unbroadcast(pg, parent.shape).astype(parent.dtype, copy=False)
                key = id(parent)
                grads[key] = pg if key not in grads else grads[key] + pg

    # -- operators (the primitives live in minigrad.ops) -------------------
    def __add__(self, other):
        return apply(ops.Add, self, other)

    def __radd__(self, other):
        return apply(ops.Add, other, self)

    def __sub__(self, other):
        return apply(ops.Sub, self, other)

    def __rsub__(self, other):
        return apply(ops.Sub, other, self)

    def __mul__(self, other):
        return apply(ops.Mul, self, other)

    def __rmul__(self, other):
        return apply(ops.Mul, other, self)

    def __truediv__(self, other):
        return apply(ops.Div, self, other)

    def __rtruediv__(self, other):
        return apply(ops.Div, other, self)

    def __matmul__(self, other):
        return apply(ops.MatMul, self, other)

    def __rmatmul__(self, other):
        return apply(ops.MatMul, other, self)

    def __neg__(self):
        return apply(ops.Neg, self)

    def __pow__(self, exponent):
        return ops.power(self, exponent)

    def __rpow__(self, base):
        return ops.power(base, self)

    def __getitem__(self, index):
        return ops.getitem(self, index)

    def exp(self):
        """Elementwise :math:`e^x`."""
        return apply(ops.Exp, self)

    def log(self):
        """Elementwise natural logarithm."""
        return apply(ops.Log, self)

    def tanh(self):
        """Elementwise hyperbolic tangent."""
        return apply(ops.Tanh, self)

    def sum(self, axis=None, keepdims=False):
        """Sum over ``axis`` (all axes by default), as ``numpy.sum``."""
        return apply(ops.Sum, self, axis=ops.normalize_axis(axis, self.ndim), keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        """Mean over ``axis`` (all axes by default), as ``numpy.mean``."""
        axis = ops.normalize_axis(axis, self.ndim)
        count = self.data.size if axis is None else int(np.prod([self.shape[a] for a in axis]))
        return self.sum(axis=axis, keepdims=keepdims) / np.asarray(count, dtype=self._float_dtype())

    def max(self, axis=None, keepdims=False):
        """Maximum over ``axis``; ties share the gradient equally."""
        return apply(ops.Max, self, axis=ops.normalize_axis(axis, self.ndim), keepdims=keepdims)

    def reshape(self, *shape):
        """The same elements in a new shape (``-1`` allowed once)."""
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return apply(ops.Reshape, self, shape=tuple(int(s) for s in shape))

    def transpose(self, *axes):
        """Permute the axes (reverse them when none are given)."""
        axes = axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        return apply(ops.Transpose, self, axes=tuple(axes) if axes else None)

    def take_along_axis(self, indices, axis):
        """Pick entries along ``axis`` by integer ``indices``, as ``numpy.take_along_axis``."""
        return ops.take_along_axis(self, indices, axis)

    def _float_dtype(self):
        return self.dtype if self.dtype.kind == "f" else np.dtype(np.float64)


def as_tensor(x, like: Tensor | None = None) -> Tensor:
    """``x`` as a Tensor; a Python number takes the float dtype of ``like`` (as NumPy does for scalars)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, numbers.Number) and not isinstance(x, bool) and like is not None and like.dtype.kind == "f":
        return Tensor(np.asarray(x, dtype=like.dtype))
    return Tensor(x)


def apply(primitive: type[Primitive], *args, **params) -> Tensor:
    """Run ``primitive`` on ``args`` (Tensors, arrays or numbers) and record the node if needed."""
    like = next((a for a in args if isinstance(a, Tensor)), None)
    parents = [a if isinstance(a, Tensor) else as_tensor(a, like) for a in args]
    try:
        result = primitive.forward(*[p.data for p in parents], **params)
    except (ValueError, TypeError) as exc:
        shapes = ", ".join(str(p.shape) for p in parents)
        raise type(exc)(f"{primitive.name}: {exc} (input shapes {shapes})") from None
    ans, saved = result if primitive.saves else (result, {})
    out = Tensor.__new__(Tensor)  # skips __init__'s checks: a primitive's result is a valid array
    out.data, out.grad, out.requires_grad, out._node = np.asarray(ans), None, False, None
    if _grad_enabled and any(p.requires_grad for p in parents):
        out.requires_grad = True
        out._node = (primitive, parents, params, saved)
    return out


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched, so it has ``shape``."""
    grad = np.asarray(grad)
    if grad.shape == tuple(shape):
        return grad
    extra = grad.ndim - len(shape)
    grad = grad.sum(axis=tuple(range(extra))) if extra > 0 else grad
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return grad.sum(axis=stretched, keepdims=True) if stretched else grad


def _memory_owner(array: np.ndarray) -> np.ndarray:
    """The array that owns ``array``'s memory: ``array`` itself, or the base of a view."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def toposort(root: Tensor) -> list[Tensor]:
    """Tensors reachable from ``root`` that need gradients, parents before children.

    Iterative depth-first search with an explicit stack, so a graph of any
    depth (a 100,000-step chain) stays within Python's recursion limit.
    """
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        if node._node is not None:
            for parent in node._node[1]:
                if parent.requires_grad and id(parent) not in visited:
                    stack.append((parent, False))
    return order


from . import ops  # noqa: E402  (at the end: ops builds on Tensor and Primitive above)
