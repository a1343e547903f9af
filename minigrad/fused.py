"""Fused softmax cross-entropy: one primitive with the closed-form gradient ``softmax - labels``.

Composed from primitives, cross-entropy would record a log-softmax, a pick and a
negation, and its backward would retrace them. Fused, the forward keeps the
softmax it had to compute anyway, and the backward is one line of algebra:

.. math:: \\frac{\\partial\\, \\mathrm{ce}}{\\partial z} = \\mathrm{softmax}(z) - y

The arithmetic follows TensorFlow's kernels step for step (shift by the row
maximum, ``log(sum(exp)) - shifted[label]``, ``exp / sum - onehot``), so each
value is rounded as TensorFlow rounds it. (A row's ``sum(exp)`` may still differ
from TensorFlow's in the last bit: NumPy and Eigen add the terms in different orders.)

At a real vocabulary size this is the most expensive step of training, so the
sparse primitive is written for speed and memory:

* one ``[N, V]`` buffer per forward and backward: the forward writes the softmax
  into it, and the backward turns it into the gradient in place;
* the forward walks the rows in blocks of about 2 MiB, so that the shift,
  ``exp``, sum and division of a block happen while it is in the CPU cache,
  instead of five trips through main memory for the whole array (4-9% faster
  at ``[4096, 8000]`` and ``[4096, 32000]`` on a 2-core AMD EPYC).

Each element still goes through the same operations as in TensorFlow, so the
blocking changes no bit of the results.
"""

from __future__ import annotations

import numpy as np

from .tensor import Primitive, accumulate

__all__ = ["SparseSoftmaxCrossEntropy", "SoftmaxCrossEntropy"]

# Bytes of logits per block in _softmax_rows. A block and its softmax stay in the CPU cache between the
# five steps; measured, 2 MiB beat 256 KiB (more Python calls per row) and 16 MiB (out of the cache).
_BLOCK_BYTES = 2 * 1024 * 1024


def _softmax_rows(logits: np.ndarray):
    """Softmax over the last axis of ``logits [..., V]``, a block of rows at a time.

    Returns
    -------
    probs : ndarray, the shape and dtype of ``logits``
        ``exp(s) / sum(exp(s))`` with ``s = logits - max``, in a new C-contiguous array.
    maxs, sums : ndarray, [N, 1] with ``N`` the number of rows
        Each row's maximum and ``sum(exp(s))``.
    """
    n, v = int(np.prod(logits.shape[:-1])), logits.shape[-1]
    probs = np.zeros(logits.shape, logits.dtype) if logits.size == 0 else np.empty(logits.shape, logits.dtype)
    maxs, sums = np.zeros((n, 1), logits.dtype), np.zeros((n, 1), logits.dtype)
    if logits.size == 0:  # no rows, or no classes
        return probs, maxs, sums
    rows, out = logits.reshape(n, v), probs.reshape(n, v)  # out is a view: probs is C-contiguous
    step = max(1, _BLOCK_BYTES // (v * logits.itemsize))
    accumulator = np.float32 if logits.dtype == np.float16 else None  # the rule of tensor.accumulate
    with np.errstate(all="ignore"):  # inf/NaN logits propagate silently, as in TensorFlow
        for start in range(0, n, step):
            block, p = slice(start, start + step), out[start:start + step]
            # each step writes into memory that exists already: no temporary [rows, V] arrays
            np.max(rows[block], axis=1, keepdims=True, out=maxs[block])
            np.subtract(rows[block], maxs[block], out=p)
            np.exp(p, out=p)
            np.sum(p, axis=1, keepdims=True, out=sums[block], dtype=accumulator)
            np.divide(p, sums[block], out=p)
    return probs, maxs, sums


class _OneUseBuffer:
    """An array that the first taker may overwrite; later takers get None.

    The sparse primitive's backward turns the saved softmax into the gradient in
    place, which saves a second ``[N, V]`` array. minigrad allows ``backward()``
    twice on the same graph (PyTorch refuses), so the second time the softmax is
    gone and the backward must recompute it.
    """

    def __init__(self, array: np.ndarray):
        self._array = array

    def take(self) -> np.ndarray | None:
        array, self._array = self._array, None
        return array


class SparseSoftmaxCrossEntropy(Primitive):
    """Per-row cross-entropy of ``logits [..., V]`` against integer ``labels [...]``.

    Forward: ``ce = log(sum_v exp(s)) - s[labels]`` with ``s = logits - max_v logits``.
    Backward: ``(softmax - onehot) * g[..., None]``.
    ``labels`` is metadata (keyword): it has no gradient.
    """

    saves = True

    @staticmethod
    def forward(logits, labels):
        if logits.size == 0:  # no rows, or no classes
            return np.zeros(labels.shape, logits.dtype), {"probs": _OneUseBuffer(np.zeros_like(logits))}
        probs, maxs, sums = _softmax_rows(logits)
        n = len(maxs)
        with np.errstate(all="ignore"):
            # s[label] = logits[label] - max: the very subtraction _softmax_rows did for that element
            picked = logits.reshape(n, logits.shape[-1])[np.arange(n), labels.reshape(n)] - maxs[:, 0]
            loss = np.log(sums[:, 0]) - picked
        return loss.reshape(labels.shape), {"probs": _OneUseBuffer(probs)}

    @staticmethod
    def vjp(g, ans, logits, labels, probs):
        grad = probs.take()
        if grad is None:  # a second backward on this graph: the first one overwrote the softmax
            grad = _softmax_rows(logits)[0]
        n = labels.size
        rows = grad.reshape(n, grad.shape[-1])  # a view: the buffer is C-contiguous
        with np.errstate(all="ignore"):
            rows[np.arange(n), labels.reshape(n)] -= 1  # softmax - onehot, in place
            rows *= g.reshape(n, 1)
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
            sums = accumulate(np.sum, probs, axis=1, keepdims=True)
            log_sum = np.log(sums)
            # labels * (log_sum - shifted), reusing `shifted`'s memory (it is not needed after this)
            terms = np.subtract(log_sum, shifted, out=shifted)
            terms *= labels
            loss = accumulate(np.sum, terms, axis=1)
            probs /= sums
        return loss, {"probs": probs, "log_sum": log_sum}

    @staticmethod
    def vjp(g, ans, labels, logits, probs, log_sum):
        if logits.size == 0:
            return np.zeros_like(labels), np.zeros_like(logits)
        g = g[:, None]
        with np.errstate(all="ignore"):
            # softmax * sum(labels) - labels: exactly softmax - labels when each row sums to 1
            grad_logits = probs * accumulate(np.sum, labels, axis=1, keepdims=True)
            grad_logits -= labels
            grad_logits *= g
            # -log_softmax(logits) = log_sum - shifted
            grad_labels = logits - logits.max(axis=1, keepdims=True)
            np.subtract(log_sum, grad_labels, out=grad_labels)
            grad_labels *= g
        return grad_labels, grad_logits
