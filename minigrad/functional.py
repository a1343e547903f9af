"""Functions on tensors, as ``torch.nn.functional``: ``import
minigrad.functional as F``.

``softmax``, ``log_softmax``, ``logsumexp`` and ``sigmoid`` are composed
from primitives; the cross-entropies use the fused primitives of
:mod:`minigrad.fused` (backward ``softmax - labels``); ``sequence_loss``
is TensorFlow Addons' loss over a batch of sequences. They are defined in
``minigrad/entropy.py`` and ``minigrad/losses.py``.
"""

from .entropy import (
    cross_entropy,
    log_softmax,
    logsumexp,
    sigmoid,
    softmax,
    softmax_cross_entropy_with_logits,
    sparse_softmax_cross_entropy_with_logits,
)
from .losses import sequence_loss, sequence_loss_composed

__all__ = [
    "softmax",
    "log_softmax",
    "logsumexp",
    "sigmoid",
    "cross_entropy",
    "softmax_cross_entropy_with_logits",
    "sparse_softmax_cross_entropy_with_logits",
    "sequence_loss",
    "sequence_loss_composed",
]
