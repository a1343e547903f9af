"""minigrad: a small, readable reverse-mode autodiff on NumPy, with
TensorFlow's ``sequence_loss``.

>>> import minigrad as mg
>>> x = mg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> y = (x * x).sum()
>>> y.backward()
>>> x.grad
array([2., 4., 6.])

The namespaces are PyTorch's: ``import minigrad.nn as nn``, ``import
minigrad.optim as optim``, ``import minigrad.functional as F``. The top
level holds what a reader types most: ``Tensor``, the creation functions,
``no_grad``, ``gradcheck``, the softmax and the losses.

A map of the package (each file one concept; a file imports only files
above it, except that ``methods`` is imported last, by this file):

==============  =============================================================
``checks``      the argument checks, on NumPy only (not user API)
``engine``      the engine, in the order the book teaches it: ``Tensor``
                (data, grad, requires_grad), ``Primitive``, ``Node``,
                ``apply``, ``toposort``, ``backward``, ``no_grad``,
                ``unbroadcast``
``ops``         the primitives, each a class with ``forward`` and ``vjp``
                side by side; the functions of several tensors (``where``,
                ``concatenate``, ...)
``fused``       the fused cross-entropy primitives, closed-form backward
                ``softmax - labels``
``entropy``     softmax, log_softmax, logsumexp, sigmoid and the
                cross-entropies, composed from ``ops``/``fused``
``losses``      ``sequence_loss``: per-token cross-entropy, times the
                weights, reduced by the flags
``functional``  the namespace of ``entropy`` and ``losses``, as
                ``torch.nn.functional``
``methods``     a tensor's operators and methods (``+``, ``sum``,
                ``reshape``, ``view``, ...), added to ``Tensor`` on import
``creation``    ``tensor``, ``zeros``, ``ones``, ``randn``, ...
``gradcheck``   central differences against one backward pass
``module``      ``Module``: parameters, children, train/eval, ``state_dict``
                in PyTorch's keys
``layers``      ``Sequential``, ``Dropout``, ``LayerNorm``, activations as
                modules
``nn``          the namespace of modules: ``module``, ``layers`` and the
                layers of the book (Embedding, Linear, the recurrent cells,
                unroll, sequence_mask)
``optim``       SGD, Adam, clip_grad_norm and two learning-rate schedules
==============  =============================================================

A new primitive is one class in ``ops`` (forward, vjp, a docstring with its
derivative), one row in ``tests/primitive_cases.py`` and, where a tensor has
it as a method, the method in ``methods``; ``tests/test_registry.py`` fails
if one of them is missing.
"""

from . import engine, ops, fused, functional, nn, optim
from . import methods  # noqa: F401  (adds the operators to Tensor)
from .creation import (
    arange,
    full,
    ones,
    ones_like,
    rand,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from .engine import PRIMITIVES, Tensor, is_grad_enabled, no_grad
from .functional import (
    cross_entropy,
    log_softmax,
    logsumexp,
    sequence_loss,
    sequence_loss_composed,
    softmax,
    softmax_cross_entropy_with_logits,
    sparse_softmax_cross_entropy_with_logits,
)
from .gradcheck import GradcheckError, gradcheck
from .ops import concatenate, divide_no_nan, stack, where

__version__ = "0.1.0"

__all__ = [
    "Tensor",
    "tensor",
    "no_grad",
    "is_grad_enabled",
    "PRIMITIVES",
    "zeros",
    "ones",
    "full",
    "zeros_like",
    "ones_like",
    "arange",
    "randn",
    "rand",
    "where",
    "concatenate",
    "stack",
    "divide_no_nan",
    "softmax",
    "log_softmax",
    "logsumexp",
    "cross_entropy",
    "softmax_cross_entropy_with_logits",
    "sparse_softmax_cross_entropy_with_logits",
    "sequence_loss",
    "sequence_loss_composed",
    "gradcheck",
    "GradcheckError",
]
