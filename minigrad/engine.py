"""The engine: tensors, primitives, the graph and the backward pass.

Read top to bottom, in the order the book teaches it:

1. :class:`Tensor`: an array (``data``), its gradient (``grad``) and
   whether it wants one (``requires_grad``);
2. :class:`Primitive`: one differentiable operation, a ``forward`` on
   arrays and its vector-Jacobian product ``vjp``, side by side;
3. :class:`Node`: the graph's record of how a tensor was computed;
4. :func:`apply`: run a primitive and, when gradients are wanted, record
   the node;
5. :func:`toposort` and :func:`backward`: walk the graph once, in reverse
   topological order, applying each node's ``vjp``;
6. :func:`no_grad`: a block in which nothing is recorded;
7. :func:`unbroadcast`: the engine, not each primitive, sums a gradient
   back to its input's shape after broadcasting.

The primitives themselves are in :mod:`minigrad.ops`; the operators and
methods of a tensor (``+``, ``sum``, ``reshape``, ...) are in
``minigrad/methods.py``.
"""

from __future__ import annotations

import functools
import numbers
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from .checks import accumulate, as_array, boolean, is_bool

if TYPE_CHECKING:
    # minigrad.methods adds its methods to Tensor when minigrad is imported
    from .methods import TensorMethods
else:
    TensorMethods = object

__all__ = [
    "Tensor",
    "Primitive",
    "PRIMITIVES",
    "Node",
    "apply",
    "toposort",
    "backward",
    "no_grad",
    "is_grad_enabled",
    "unbroadcast",
    "as_tensor",
]


# -- 1. the tensor --------------------------------------------------------


class Tensor(TensorMethods):
    """An n-dimensional array that records how it was computed.

    Parameters
    ----------
    data : array_like or Tensor
        Numbers to wrap. ``float32`` stays ``float32``; Python floats become
        ``float64``. An array's memory is shared, not copied.
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
        wants_grad = boolean("requires_grad", requires_grad)
        if wants_grad and array.dtype.kind != "f":
            raise TypeError(
                "requires_grad=True needs floating-point data, got dtype "
                f"{array.dtype}"
            )
        self.data: np.ndarray = array
        self.requires_grad = wants_grad
        self.grad: np.ndarray | None = None
        # how a computed tensor was computed; None for a leaf
        self._node: Node | None = None

    def backward(self, grad: Any = None) -> None:
        """Accumulate ``d self / d t`` into ``t.grad`` for every tensor ``t``
        that requires it (see :func:`backward`).
        """
        backward(self, grad)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient."""
        self.grad = None

    def detach(self) -> Tensor:
        """The same data, cut from the graph."""
        return Tensor(self.data)


def _leaf(data: np.ndarray) -> Tensor:
    """A constant Tensor around a valid array, without ``__init__``'s
    checks (a primitive's result, a Python number).
    """
    out = Tensor.__new__(Tensor)
    out.data, out.grad, out._node = data, None, None
    out.requires_grad = False
    return out


#: The types NumPy 2 treats as "weak" numbers (NEP 50).
_PYTHON_NUMBERS = (bool, int, float)

#: The largest finite float16 and float32 (see :func:`_number_constant`).
_LARGEST = {
    np.dtype(t): float(np.finfo(t).max) for t in (np.float16, np.float32)
}


def _number_constant(x: Any, dtype: np.dtype[Any]) -> Tensor:
    """A number as a constant Tensor of ``dtype``.

    A number beyond the range of float16 or float32 becomes inf silently,
    as an overflow in arithmetic does; one beyond an integer dtype's range
    is NumPy's OverflowError.
    """
    largest = _LARGEST.get(dtype)
    if largest is None or -largest <= x <= largest:
        return _leaf(np.asarray(x, dtype=dtype))
    with np.errstate(all="ignore"):  # inf, NaN, or beyond float16/32
        return _leaf(np.asarray(x, dtype=dtype))


def as_tensor(x: Any, like: Any = None, name: str = "x") -> Tensor:
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
    if like is None:
        return Tensor(as_array(name, x))
    if type(x) in _PYTHON_NUMBERS:
        return _number_constant(x, np.result_type(like.data.dtype, x))
    if (
        isinstance(x, numbers.Real)
        and not is_bool(x)
        and like.data.dtype.kind == "f"
    ):
        return _number_constant(x, like.data.dtype)
    return Tensor(as_array(name, x))


# -- 2. the primitive protocol ---------------------------------------------

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


# -- 3. the graph node -----------------------------------------------------


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


# -- 4. apply: run a primitive, record the node ----------------------------


@np.errstate(all="ignore")  # IEEE arithmetic (inf, NaN), silently
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
    try:
        result = primitive.forward(*[p.data for p in parents], **params)
    except (ValueError, TypeError) as exc:
        shapes = ", ".join(str(p.shape) for p in parents)
        raise type(exc)(
            f"{primitive.name}: {exc} (input shapes {shapes})"
        ) from None
    ans, saved = result if primitive.saves else (result, {})
    out = _leaf(ans if type(ans) is np.ndarray else np.asarray(ans))
    if needs_grad and _grad_mode.enabled:
        out.requires_grad = True
        out._node = Node(primitive, parents, params, saved)
    return out


# -- 5. the backward pass --------------------------------------------------


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
            for parent in node._node.parents:
                if parent.requires_grad and id(parent) not in visited:
                    stack.append((parent, False))
    return order


def backward(root: Tensor, grad: Any = None) -> None:
    """Accumulate ``d root / d t`` into ``t.grad`` for every tensor ``t``
    that requires it: each node's ``vjp``, in reverse topological order.

    ``grad`` is the gradient flowing into ``root``, of its shape; it may be
    omitted only when ``root`` is a scalar (it is then 1).
    """
    grads = {id(root): _first_gradient(root, grad)}
    # ids of the arrays whose memory some leaf's .grad uses
    owners: set[int] = set()
    with np.errstate(all="ignore"):  # IEEE arithmetic, as in forward
        for node in reversed(toposort(root)):
            g = grads.pop(id(node), None)
            if g is None:  # no gradient reached this node
                continue
            if node._node is None:  # a leaf: keep the gradient
                _keep_leaf_gradient(node, g, owners)
                continue
            primitive, parents, params, saved = node._node
            inputs = [p.data for p in parents]
            vjps = primitive.vjp(g, node.data, *inputs, **params, **saved)
            for parent, pg in zip(parents, vjps):
                if pg is None or not parent.requires_grad:
                    continue
                data = parent.data
                if type(pg) is not np.ndarray or pg.shape != data.shape:
                    pg = unbroadcast(pg, data.shape)
                if pg.dtype != data.dtype:
                    pg = pg.astype(data.dtype)
                key = id(parent)
                grads[key] = pg if key not in grads else grads[key] + pg


def _first_gradient(root: Tensor, grad: Any) -> np.ndarray:
    """The gradient that starts :func:`backward`: 1 for a scalar, else a
    copy of ``grad`` in ``root``'s dtype.
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"root must be a Tensor, got {type(root).__name__}")
    if grad is None and root.data.size != 1:
        raise ValueError(
            "backward() without a gradient needs a scalar, but this tensor "
            f"has shape {root.data.shape}; pass backward(grad) with a "
            "gradient of that shape"
        )
    g = (
        np.ones_like(root.data)
        if grad is None
        else np.array(as_array("grad", grad), dtype=root.data.dtype)
    )
    if g.shape != root.data.shape:
        raise ValueError(
            f"backward(grad): grad has shape {g.shape}, expected "
            f"{root.data.shape}"
        )
    if not root.requires_grad:
        raise ValueError(
            "backward() on a tensor that does not require grad (no input "
            "requires_grad=True, or it was computed under no_grad())"
        )
    return g


def _keep_leaf_gradient(
    leaf: Tensor, g: np.ndarray, owners: set[int]
) -> None:
    """Add ``g`` to ``leaf.grad``, in memory that no other leaf's ``.grad``
    uses (``owners``).

    A vjp may return the array it received (Add gives g to both inputs) or
    a view of it (Reshape), so that an in-place update of one gradient could
    change another. A view of all of an array's memory (a reshape) is kept
    as it is: copying a [B, T, V] gradient can cost as much as the whole
    loss. A view of part of a larger array is copied.
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
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


# -- 6. no_grad ------------------------------------------------------------


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


# -- 7. unbroadcast --------------------------------------------------------


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
