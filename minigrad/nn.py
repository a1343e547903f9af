"""Layers for small sequence models, built from minigrad's Tensor operations
only.

:class:`Module` collects parameters; :class:`Embedding`, :class:`Linear`,
:class:`RNNCell`, :class:`GRUCell` and :class:`LSTMCell` are the layers;
:func:`unroll` runs a cell over time; :func:`sequence_mask` builds the 0/1
weights that ``sequence_loss`` needs for padded batches. No layer has a
hand-written backward pass: autodiff derives every gradient from the
primitives in :mod:`minigrad.ops`.

Every layer draws its initial weights from ``rng``: a
``numpy.random.Generator`` (``rng=np.random.default_rng(seed)``) or an int
seed makes a model reproducible bit for bit; ``rng=None`` (the default) draws
fresh entropy, so each run differs. The initial weights follow PyTorch's
rules for ``Embedding``, ``Linear`` and ``LSTMCell``; :class:`RNNCell` and
:class:`GRUCell` differ in the input weights and biases (see
:class:`RNNCell`). ``state_dict()`` uses PyTorch's keys and shapes for every
layer, so weights move both ways (see :meth:`Module.state_dict`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .checks import (
    as_array,
    boolean,
    first_outside,
    float_dtype,
    generator,
    positive_int,
)
from .engine import Tensor, as_tensor
from .entropy import sigmoid
from .layers import Dropout, LayerNorm, ReLU, Sequential, Sigmoid, Tanh
from .module import Module
from .ops import stack, where

__all__ = [
    "Module",
    "Embedding",
    "Linear",
    "RNNCell",
    "GRUCell",
    "LSTMCell",
    "unroll",
    "sequence_mask",
    "Sequential",
    "Dropout",
    "LayerNorm",
    "ReLU",
    "Tanh",
    "Sigmoid",
]


# -- argument checks --------------------------------------------------------

# the shared checks (checks.py)
_check_rng, _check_size, _check_dtype = generator, positive_int, float_dtype


def _as_input(
    name: str, x: Any, dtype: np.dtype[Any], last_dim: int, layer: str
) -> Tensor:
    """``x`` as a Tensor of ``dtype`` whose last dimension is ``last_dim``,
    or a clear error.
    """
    if isinstance(x, Tensor):
        if x.dtype != dtype:
            raise TypeError(
                f"{layer}: {name} has dtype {x.dtype} but the layer's "
                f"parameters are {dtype}"
            )
    else:
        x = Tensor(as_array(f"{layer}: {name}", x).astype(dtype))
    if x.ndim == 0 or x.shape[-1] != last_dim:
        raise ValueError(
            f"{layer}: {name} must have last dimension {last_dim}, got "
            f"shape {x.shape}"
        )
    return x


def _check_any_dtype(dtype: Any) -> np.dtype[Any]:
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(
            "dtype must be a NumPy dtype such as bool or np.float32, got "
            f"{dtype!r}"
        ) from None


def _uniform(
    rng: np.random.Generator,
    bound: float,
    shape: tuple[int, ...],
    dtype: np.dtype[Any],
) -> Tensor:
    """A fresh parameter, uniform on ``[-bound, bound)``."""
    return Tensor(
        rng.uniform(-bound, bound, size=shape).astype(dtype),
        requires_grad=True,
    )


# -- modules ----------------------------------------------------------------


class Embedding(Module):
    """A lookup table: row ``i`` of ``weight`` is the vector of token id
    ``i``.

    Parameters
    ----------
    num_embeddings : int
        Vocabulary size ``V``.
    embedding_dim : int
        Vector size ``D``.
    rng : numpy.random.Generator, int or None
        Source of the initial weights, drawn from ``N(0, 1)``: a Generator, a
        seed, or None for fresh (not reproducible) entropy.
    dtype : float dtype
        dtype of the weights (float64 by default).

    Attributes
    ----------
    weight
        Tensor of shape ``[V, D]``.
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        *,
        rng: Any = None,
        dtype: Any = np.float64,
    ) -> None:
        self.num_embeddings = _check_size("num_embeddings", num_embeddings)
        self.embedding_dim = _check_size("embedding_dim", embedding_dim)
        rng, dtype = _check_rng(rng), _check_dtype(dtype)
        self.weight = Tensor(
            rng.standard_normal(
                (self.num_embeddings, self.embedding_dim)
            ).astype(dtype),
            requires_grad=True,
        )

    def forward(self, ids: Any) -> Tensor:
        """Vectors of ``ids``: integer array ``[...]`` in ``[0, V)`` ->
        Tensor ``[..., D]``.

        The gradient of a row is the sum of the gradients of every position
        that looked it up.
        """
        ids = as_array("Embedding: ids", ids)
        if ids.dtype.kind not in "iu":
            raise TypeError(
                f"Embedding: ids must be integers, got dtype {ids.dtype}"
            )
        bad = first_outside(ids, self.num_embeddings)
        if bad is not None:
            raise ValueError(
                f"Embedding: id {bad} is outside [0, {self.num_embeddings}) "
                f"(num_embeddings={self.num_embeddings})"
            )
        return self.weight[ids]

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"


class Linear(Module):
    """An affine map ``y = x @ weight.T + bias``, as PyTorch's ``nn.Linear``.

    Parameters
    ----------
    in_features, out_features : int
        Sizes ``I`` and ``O``.
    bias : bool
        Whether to add a bias.
    rng : numpy.random.Generator, int or None
        Source of the initial weights (a Generator, a seed, or None for fresh
        entropy), uniform on ``[-1/sqrt(I), 1/sqrt(I))`` for the weight and
        the bias, as PyTorch's.
    dtype : float dtype
        dtype of the parameters (float64 by default).

    Attributes
    ----------
    weight
        Tensor of shape ``[O, I]``.
    bias
        Tensor of shape ``[O]``, or None.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        rng: Any = None,
        dtype: Any = np.float64,
    ) -> None:
        boolean("bias", bias)
        self.in_features = _check_size("in_features", in_features)
        self.out_features = _check_size("out_features", out_features)
        rng, dtype = _check_rng(rng), _check_dtype(dtype)
        bound = 1 / np.sqrt(self.in_features)
        self.weight = _uniform(
            rng, bound, (self.out_features, self.in_features), dtype
        )
        self.bias = (
            _uniform(rng, bound, (self.out_features,), dtype)
            if bias
            else None
        )

    def forward(self, x: Any) -> Tensor:
        """``x : [..., I]`` -> ``[..., O]``."""
        x = _as_input("x", x, self.weight.dtype, self.in_features, "Linear")
        y = x @ self.weight.T
        return y if self.bias is None else y + self.bias

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )


class RNNCell(Module):
    """One step of an Elman network:
    ``h' = tanh(W_ih x + b_ih + W_hh h + b_hh)``.

    The two affine maps are :class:`Linear` layers, ``ih`` (input to hidden)
    and ``hh`` (hidden to hidden), each initialised as a Linear layer is:
    ``ih`` uniform on ``[-1/sqrt(I), 1/sqrt(I))``, ``hh`` on
    ``[-1/sqrt(H), 1/sqrt(H))``. (PyTorch draws every parameter of its cells
    from ``[-1/sqrt(H), 1/sqrt(H))``; the two agree when ``I == H``.)
    :meth:`~minigrad.nn.Module.state_dict` gives PyTorch's
    ``weight_ih [H, I]``, ``weight_hh [H, H]``, ``bias_ih [H]``,
    ``bias_hh [H]``.

    Parameters
    ----------
    input_size, hidden_size : int
        Sizes ``I`` and ``H``.
    rng : numpy.random.Generator, int or None
        Source of the initial weights: a Generator, a seed, or None for fresh
        (not reproducible) entropy.
    dtype : float dtype
        dtype of the parameters (float64 by default).
    """

    #: The Linear layers behind each PyTorch parameter, in PyTorch's order of
    #: the stacked gates.
    _TORCH_LAYERS: dict[str, tuple[str, ...]] = {
        "ih": ("ih",),
        "hh": ("hh",),
    }

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        rng: Any = None,
        dtype: Any = np.float64,
    ) -> None:
        self.input_size = _check_size("input_size", input_size)
        self.hidden_size = _check_size("hidden_size", hidden_size)
        self._build(
            self.input_size,
            self.hidden_size,
            _check_rng(rng),
            _check_dtype(dtype),
        )

    def _build(
        self, I: int, H: int, rng: np.random.Generator, dtype: np.dtype[Any]
    ) -> None:  # noqa: E741
        """Create the cell's layers (a subclass with other gates overrides
        this).
        """
        self.ih = Linear(I, H, rng=rng, dtype=dtype)
        self.hh = Linear(H, H, rng=rng, dtype=dtype)

    def _inputs(
        self, x: Any, h: Any, dtype: np.dtype[Any]
    ) -> tuple[Tensor, Tensor]:
        name = type(self).__name__
        x = _as_input("x", x, dtype, self.input_size, name)
        if h is None:  # no state: zeros, as in PyTorch
            h = Tensor(np.zeros(x.shape[:-1] + (self.hidden_size,), dtype))
        h = _as_input("h", h, dtype, self.hidden_size, name)
        if x.shape[:-1] != h.shape[:-1]:
            raise ValueError(
                f"{name}: x {x.shape} and h {h.shape} must agree in all but "
                "the last dimension"
            )
        return x, h

    def forward(self, x: Any, h: Any = None) -> Tensor:
        """``x : [batch, I]``, ``h : [batch, H]`` -> the next state
        ``[batch, H]``; ``h=None`` starts from zeros, as in PyTorch.
        """
        x, h = self._inputs(x, h, self.ih.weight.dtype)
        return (self.ih(x) + self.hh(h)).tanh()

    def _state_entries(
        self, prefix: str
    ) -> Iterator[tuple[str, list[Tensor]]]:
        """PyTorch's keys: ``weight_ih`` is the input weights of the gates
        stacked (one gate for this cell).
        """
        for side, layers in self._TORCH_LAYERS.items():
            yield (
                f"{prefix}weight_{side}",
                [getattr(self, name).weight for name in layers],
            )
        for side, layers in self._TORCH_LAYERS.items():
            yield (
                f"{prefix}bias_{side}",
                [getattr(self, name).bias for name in layers],
            )

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}"

    def __repr__(self) -> str:
        # the cell, not its six (or two) Linear layers
        return f"{type(self).__name__}({self.extra_repr()})"


class GRUCell(RNNCell):
    """One step of a gated recurrent unit (Cho et al., 2014), with PyTorch's
    equations, in the letters of PyTorch 2.13's ``torch.nn.GRUCell`` page
    (not the book's notation).

    .. math::

        r &= \\sigma(W_{ir} x + b_{ir} + W_{hr} h + b_{hr}) \\\\
        z &= \\sigma(W_{iz} x + b_{iz} + W_{hz} h + b_{hz}) \\\\
        n &= \\tanh(W_{in} x + b_{in} + r \\odot (W_{hn} h + b_{hn})) \\\\
        h' &= (1 - z) \\odot n + z \\odot h

    The reset gate ``r`` decides how much of the old state the candidate
    ``n`` sees; the update gate ``z`` decides how much of the old state is
    kept. Each of the six affine maps is a :class:`Linear` layer (``xr`` is
    ``W_ir x + b_ir``, ``hn`` is ``W_hn h + b_hn``, ...), initialised as a
    Linear layer is (see :class:`RNNCell` for how that differs from PyTorch).
    PyTorch stores the same weights stacked, as ``weight_ih [3H, I]`` in the
    order (r, z, n); separate layers read like the equations and need no
    slicing, and :meth:`~minigrad.nn.Module.state_dict` stacks them as
    PyTorch does.

    Parameters
    ----------
    input_size, hidden_size : int
        Sizes ``I`` and ``H``.
    rng : numpy.random.Generator, int or None
        Source of the initial weights (see :class:`RNNCell`).
    dtype : float dtype
        dtype of the parameters (float64 by default).
    """

    _TORCH_LAYERS = {"ih": ("xr", "xz", "xn"), "hh": ("hr", "hz", "hn")}

    def _build(
        self, I: int, H: int, rng: np.random.Generator, dtype: np.dtype[Any]
    ) -> None:  # noqa: E741
        self.xr, self.xz, self.xn = (
            Linear(I, H, rng=rng, dtype=dtype) for _ in range(3)
        )
        self.hr, self.hz, self.hn = (
            Linear(H, H, rng=rng, dtype=dtype) for _ in range(3)
        )

    def forward(self, x: Any, h: Any = None) -> Tensor:
        """``x : [batch, I]``, ``h : [batch, H]`` -> the next state
        ``[batch, H]``; ``h=None`` starts from zeros, as in PyTorch.
        """
        x, h = self._inputs(x, h, self.xr.weight.dtype)
        r = sigmoid(self.xr(x) + self.hr(h))
        z = sigmoid(self.xz(x) + self.hz(h))
        n = (self.xn(x) + r * self.hn(h)).tanh()
        # n + z * (h - n) is (1 - z) * n + z * h
        return n + z * (h - n)


class LSTMCell(RNNCell):
    """One step of a long short-term memory (Hochreiter & Schmidhuber, 1997),
    with PyTorch's equations, in the letters of PyTorch 2.13's
    ``torch.nn.LSTMCell`` page (not the book's notation).

    .. math::

        i &= \\sigma(W_{ii} x + b_{ii} + W_{hi} h + b_{hi}) \\\\
        f &= \\sigma(W_{if} x + b_{if} + W_{hf} h + b_{hf}) \\\\
        g &= \\tanh(W_{ig} x + b_{ig} + W_{hg} h + b_{hg}) \\\\
        o &= \\sigma(W_{io} x + b_{io} + W_{ho} h + b_{ho}) \\\\
        c' &= f \\odot c + i \\odot g \\\\
        h' &= o \\odot \\tanh(c')

    The state is a pair: the output ``h`` and the memory cell ``c``. The
    input gate ``i`` decides how much of the candidate ``g`` is written to
    the memory, the forget gate ``f`` how much of the old memory is kept, and
    the output gate ``o`` how much of the memory is shown as ``h``. As in
    PyTorch, the four gates are stacked in the order (i, f, g, o) in
    ``weight_ih`` and ``weight_hh``, and every parameter is drawn uniformly
    from ``[-1/sqrt(H), 1/sqrt(H))``, so the parameters copy one to one to
    and from ``torch.nn.LSTMCell``.

    Parameters
    ----------
    input_size, hidden_size : int
        Sizes ``I`` and ``H``.
    bias : bool
        Whether to add the biases ``bias_ih`` and ``bias_hh``.
    rng : numpy.random.Generator, int or None
        Source of the initial weights (see :class:`RNNCell`).
    dtype : float dtype
        dtype of the parameters (float64 by default).

    Attributes
    ----------
    weight_ih
        Tensor of shape ``[4H, I]``: the weights of ``x`` for the gates (i,
        f, g, o), stacked.
    weight_hh
        Tensor of shape ``[4H, H]``: the weights of ``h``, stacked in the
        same order.
    bias_ih, bias_hh
        Tensors of shape ``[4H]``, or None when ``bias=False``.
    """

    # the parameters already have PyTorch's names and shapes
    _state_entries = Module._state_entries

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        *,
        rng: Any = None,
        dtype: Any = np.float64,
    ) -> None:
        self.bias = boolean("bias", bias)
        super().__init__(input_size, hidden_size, rng=rng, dtype=dtype)

    def _build(
        self, I: int, H: int, rng: np.random.Generator, dtype: np.dtype[Any]
    ) -> None:  # noqa: E741
        bound = 1 / np.sqrt(H)
        self.weight_ih = _uniform(rng, bound, (4 * H, I), dtype)
        self.weight_hh = _uniform(rng, bound, (4 * H, H), dtype)
        self.bias_ih = (
            _uniform(rng, bound, (4 * H,), dtype) if self.bias else None
        )
        self.bias_hh = (
            _uniform(rng, bound, (4 * H,), dtype) if self.bias else None
        )

    def forward(self, x: Any, state: Any = None) -> tuple[Tensor, Tensor]:
        """``x : [batch, I]``, ``state = (h, c)``, each ``[batch, H]`` -> the
        next ``(h, c)``.

        ``state=None`` starts from zeros, as in PyTorch.
        """
        x, (h, c) = self._state(x, state)
        # [batch, 4H]
        gates = x @ self.weight_ih.T + h @ self.weight_hh.T
        if self.bias:
            gates = gates + self.bias_ih + self.bias_hh
        H = self.hidden_size
        i, f, g, o = (gates[..., k * H : (k + 1) * H] for k in range(4))
        c = sigmoid(f) * c + sigmoid(i) * g.tanh()
        h = sigmoid(o) * c.tanh()
        return h, c

    def _state(
        self, x: Any, state: Any
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        dtype = self.weight_ih.dtype
        if state is None:  # zeros, as in PyTorch
            x, zeros = self._inputs(x, None, dtype)
            return x, (zeros, zeros)
        if not isinstance(state, (tuple, list)) or len(state) != 2:
            raise TypeError(
                "LSTMCell: state must be a pair (h, c) or None, got "
                f"{type(state).__name__}"
            )
        x, h = self._inputs(x, state[0], dtype)
        c = _as_input("c", state[1], dtype, self.hidden_size, "LSTMCell")
        if c.shape != h.shape:
            raise ValueError(
                f"LSTMCell: h {h.shape} and c {c.shape} must have the same "
                "shape"
            )
        return x, (h, c)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + (
            "" if self.bias else ", bias=False"
        )


def unroll(
    cell: Callable[..., Any], inputs: Tensor, h0: Any, mask: Any = None
) -> tuple[Tensor, Any]:
    """Run ``cell`` over time: ``state = cell(inputs[:, t], state)``.

    Parameters
    ----------
    cell : RNNCell, GRUCell or LSTMCell
        Any module called as ``cell(x, h)``.
    inputs : Tensor, [batch, time, I]
        At least one time step, as in PyTorch's recurrent layers.
    h0 : Tensor or array, [batch, H]
        The initial state; for an LSTMCell a pair ``(h0, c0)``.
    mask : array of bool, [batch, time], optional
        Where ``mask[b, t]`` is False (padding, see
        :func:`sequence_mask`) the state is carried over unchanged, so
        the final state of a sequence is its state after its last real
        token.

    Returns
    -------
    outputs : Tensor, [batch, time, H]
        The state after every step (the carried-over state at padded
        steps).
    h : Tensor, [batch, H]
        The final state (for an LSTMCell the pair ``(h, c)``; ``outputs``
        holds the ``h`` part).
    """
    if not callable(cell):
        raise TypeError(
            "unroll: cell must be callable as cell(x, h), such as an "
            f"RNNCell, got {type(cell).__name__}"
        )
    if not isinstance(inputs, Tensor) or inputs.ndim != 3:
        raise ValueError(
            f"unroll: inputs must be a [batch, time, features] Tensor, "
            f"got {getattr(inputs, 'shape', type(inputs).__name__)}"
        )
    batch, time = inputs.shape[:2]
    if mask is not None:
        mask = as_array("mask", mask)
        if mask.dtype != np.bool_ or mask.shape != (batch, time):
            raise ValueError(
                "unroll: mask must be a boolean array of shape "
                f"{(batch, time)}, "
                f"got {mask.dtype} {mask.shape}"
            )
    if time == 0:
        raise ValueError(
            f"unroll: inputs of shape {inputs.shape} has no time steps "
            "(axis 1, time, has size 0)"
        )
    h, outputs = h0, []
    for t in range(time):
        new = cell(inputs[:, t], h)
        if mask is not None:
            # an LSTM's state is a pair (h, c): carry over both parts
            keep = mask[:, t, None]
            new = (
                tuple(map(where, (keep, keep), new, h))
                if isinstance(new, tuple)
                else where(keep, new, h)
            )
        h = new
        outputs.append(h[0] if isinstance(h, tuple) else h)
    return stack(outputs, axis=1), h


def sequence_mask(
    lengths: Any, maxlen: int | None = None, dtype: Any = np.bool_
) -> np.ndarray:
    """``mask[..., j] = j < lengths[...]``, as ``tf.sequence_mask``.

    Parameters
    ----------
    lengths : array_like of int, any shape
        Sequence lengths, each at least 0.
    maxlen : int, optional
        Size of the last axis; ``max(lengths)`` (0 when ``lengths`` is
        empty) by default. Lengths above ``maxlen`` give rows of all
        True, as in TensorFlow.
    dtype : dtype
        dtype of the result: bool (TensorFlow's default), or a float type
        to use the mask directly as ``sequence_loss`` weights.

    Returns
    -------
    numpy.ndarray, of shape ``lengths.shape + (maxlen,)``

    Examples
    --------
    >>> sequence_mask([1, 3, 2], 5).astype(int)
    array([[1, 0, 0, 0, 0],
           [1, 1, 1, 0, 0],
           [1, 1, 0, 0, 0]])
    """
    lengths = as_array("sequence_mask: lengths", lengths)
    dtype = _check_any_dtype(dtype)
    if lengths.size == 0 and lengths.dtype.kind == "f":
        # np.asarray([]) is float64
        lengths = lengths.astype(np.intp)
    if lengths.dtype.kind not in "iu":
        raise TypeError(
            "sequence_mask: lengths must be integers, got dtype "
            f"{lengths.dtype}"
        )
    if (lengths < 0).any():
        raise ValueError(
            "sequence_mask: lengths must be >= 0, got "
            f"{lengths[lengths < 0].flat[0]}"
        )
    if maxlen is None:
        maxlen = int(lengths.max()) if lengths.size else 0
    elif (
        isinstance(maxlen, bool)
        or not isinstance(maxlen, (int, np.integer))
        or maxlen < 0
    ):
        raise ValueError(
            "sequence_mask: maxlen must be a non-negative integer, got "
            f"{maxlen!r}"
        )
    return (np.arange(maxlen) < lengths[..., None]).astype(dtype)
