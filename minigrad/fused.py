"""Fused softmax cross-entropy: one primitive with the closed-form gradient ``softmax - labels``.

Composed from primitives, cross-entropy would record a log-softmax, a pick and a
negation, and its backward would retrace them. Fused, the forward keeps the
softmax it had to compute anyway, and the backward is one line of algebra:

.. math:: \\frac{\\partial\\, \\mathrm{ce}}{\\partial z} = \\mathrm{softmax}(z) - y

The arithmetic follows TensorFlow's kernels step for step (shift by the row
maximum, ``log(sum(exp)) - shifted[label]``, ``exp / sum - onehot``), so the
results agree with TensorFlow's to the last digit.
"""

from __future__ import annotations

import numpy as np

from .tensor import Primitive

__all__ = ["SparseSoftmaxCrossEntropy", "SoftmaxCrossEntropy"]


class SparseSoftmaxCrossEntropy(Primitive):
    """Per-row cross-entropy of ``logits [N, V]`` against integer ``labels [N]``.

    Forward: ``ce[n] = log(sum_v exp(s[n, v])) - s[n, labels[n]]`` with
    ``s = logits - max_v logits``. Backward: ``(softmax - onehot) * g[:, None]``.
    ``labels`` is metadata (keyword): it has no gradient.
    """

    saves = True

    @staticmethod
    def forward(logits, labels):
        n, v = logits.shape
        if logits.size == 0:
            return np.zeros(n, dtype=logits.dtype), {"probs": np.zeros_like(logits)}
        with np.errstate(all="ignore"):  # inf/NaN logits propagate silently, as in TensorFlow
            probs = logits - logits.max(axis=1, keepdims=True)       # the one [N, V] buffer
            picked = probs[np.arange(n), labels]
            np.exp(probs, out=probs)
            sums = probs.sum(axis=1)
            loss = np.log(sums) - picked
            probs /= sums[:, None]
        return loss, {"probs": probs}

    @staticmethod
    def vjp(g, ans, logits, labels, probs):
        with np.errstate(all="ignore"):
            grad = probs.copy()
            grad[np.arange(len(labels)), labels] -= 1
            grad *= g[:, None]
        return (grad,)


class SoftmaxCrossEntropy(Primitive):
    """Per-row cross-entropy of ``logits [N, V]`` against dense ``labels [N, V]`` (probabilities).

    Forward: ``ce[n] = sum_v labels[n, v] * (log(sum_v exp(s[n, v])) - s[n, v])``.
    Backward: ``(softmax - labels) * g`` for the logits (``softmax * sum(labels) - labels``
    when the rows of ``labels`` do not sum to 1) and ``-log_softmax * g`` for the labels.
    """

    saves = True

    @staticmethod
    def forward(labels, logits):
        if logits.size == 0:
            empty = {"probs": np.zeros_like(logits), "log_sum": np.zeros((logits.shape[0], 1), logits.dtype)}
            return np.zeros(logits.shape[0], dtype=logits.dtype), empty
        with np.errstate(all="ignore"):
            shifted = logits - logits.max(axis=1, keepdims=True)
            probs = np.exp(shifted)
            sums = probs.sum(axis=1, keepdims=True)
            log_sum = np.log(sums)
            loss = np.sum(labels * (log_sum - shifted), axis=1)
            probs /= sums
        return loss, {"probs": probs, "log_sum": log_sum}

    @staticmethod
    def vjp(g, ans, labels, logits, probs, log_sum):
        if logits.size == 0:
            return np.zeros_like(labels), np.zeros_like(logits)
        with np.errstate(all="ignore"):
            # softmax * sum(labels) - labels: exactly softmax - labels when each row sums to 1
            grad_logits = (probs * labels.sum(axis=1, keepdims=True) - labels) * g[:, None]
            # -log_softmax(logits) = log_sum - shifted
            grad_labels = (log_sum - (logits - logits.max(axis=1, keepdims=True))) * g[:, None]
        return grad_labels, grad_logits
