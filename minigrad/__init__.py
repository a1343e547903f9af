"""minigrad: a small, readable reverse-mode autodiff on NumPy, with
TensorFlow's ``sequence_loss``.

>>> import minigrad as mg
>>> x = mg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> y = (x * x).sum()
>>> y.backward()
>>> x.grad
array([2., 4., 6.])

A map of the package (each file one concept; imports go down this list,
never up):

==============  =============================================================
``tensor``      ``Tensor``, the graph's ``Node``, ``apply`` and the backward
                pass (toposort, unbroadcast); its last line imports ``ops``,
                the documented join between the tensor and its operations
                (``Tensor.__add__`` calls ``ops.Add``; ``ops`` builds on
                ``Tensor``)
``ops``         the primitives, each a class with ``forward`` and ``vjp``
                side by side; the front doors (``where``, ``concatenate``,
                ...) and the axis/shape normalisers
``fused``       the fused cross-entropy primitives, closed-form backward
                ``softmax - labels``
``checks``      the argument checks shared by the modules below (not user
                API)
``creation``    ``zeros``, ``ones``, ``randn``, ... (``mg.tensor(data)`` is
                ``creation.tensor``)
``functional``  softmax, log_softmax, logsumexp and the cross-entropies,
                composed from ``ops``/``fused``
``losses``      ``sequence_loss``: per-token cross-entropy, times the
                weights, reduced by the flags
``gradcheck``   central differences against one backward pass
``module``      ``Module``: parameters, children, train/eval, ``state_dict``
                in PyTorch's keys
``layers``      ``Sequential``, ``Dropout``, ``LayerNorm``, activations as
                modules
``nn``          the layers of the book (Embedding, Linear, the recurrent
                cells, unroll, sequence_mask); it re-exports ``Module`` and
                ``layers``
``optim``       SGD, Adam, clip_grad_norm and two learning-rate schedules
==============  =============================================================

A new primitive is one class in ``ops`` (forward, vjp, a docstring with its
derivative) and one row in ``tests/test_primitives.py``;
``tests/test_registry.py`` fails if it is not exported or documented.
"""

import sys

from . import ops
from .functional import (
    cross_entropy,
    log_softmax,
    logsumexp,
    softmax,
    softmax_cross_entropy_with_logits,
    sparse_softmax_cross_entropy_with_logits,
)
from .gradcheck import GradcheckError, gradcheck
from .losses import sequence_loss, sequence_loss_composed
from .ops import concatenate, divide_no_nan, stack, where
from .tensor import PRIMITIVES, Primitive, Tensor, is_grad_enabled, no_grad
from . import fused  # noqa: F401  (registers the fused primitives)
from . import nn, optim
from . import creation
from .creation import (
    arange,
    full,
    ones,
    ones_like,
    rand,
    randn,
    zeros,
    zeros_like,
)

# book/api.md promises that every name a module documents (its __all__) is
# also a top-level name.
_DOCUMENTED = [
    sys.modules[f"{__name__}.{m}"]
    for m in (
        "tensor",
        "ops",
        "functional",
        "fused",
        "losses",
        "gradcheck",
        "nn",
        "optim",
        "creation",
    )
]
globals().update(
    {
        name: getattr(m, name)
        for m in _DOCUMENTED
        for name in m.__all__
        if name not in globals()
    }
)

__version__ = "0.1.0"

__all__ = [
    "Tensor",
    "Primitive",
    "PRIMITIVES",
    "no_grad",
    "is_grad_enabled",
    "logsumexp",
    "softmax",
    "log_softmax",
    "softmax_cross_entropy_with_logits",
    "sparse_softmax_cross_entropy_with_logits",
    "sequence_loss",
    "sequence_loss_composed",
    "gradcheck",
    "GradcheckError",
    "where",
    "concatenate",
    "stack",
    "divide_no_nan",
    "cross_entropy",
    "ops",
    "nn",
    "optim",
]
__all__ += sorted(
    {name for m in _DOCUMENTED for name in m.__all__} - set(__all__)
)
