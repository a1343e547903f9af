"""Softmax and cross-entropy, built on the primitives.

``logsumexp``, ``softmax`` and ``log_softmax`` are composed from primitives, so
autodiff derives their gradients. The two cross-entropies use the fused
primitives of :mod:`minigrad.fused`, whose backward is the closed form
``softmax - labels``. Every function accepts Tensors, NumPy arrays or lists
and returns a Tensor.
"""

from __future__ import annotations

import numpy as np

from .fused import SoftmaxCrossEntropy, SparseSoftmaxCrossEntropy
from .ops import normalize_axis
from .tensor import Tensor, apply

__all__ = ["logsumexp", "softmax", "log_softmax", "softmax_cross_entropy_with_logits",
           "sparse_softmax_cross_entropy_with_logits", "float_tensor", "class_ids"]


def float_tensor(name: str, x, dtype=None) -> Tensor:
    """``x`` as a floating-point Tensor, or a ``TypeError`` that names ``name``.

    A Tensor or array must be floating point, and of ``dtype`` when one is given;
    with a ``dtype``, an integer or boolean one (a mask) is cast to it. A list or a
    Python number is converted to ``dtype`` (float64 when none is given).
    """
    if not isinstance(x, (Tensor, np.ndarray, np.generic)):  # a list, tuple or Python number
        try:
            array = np.asarray(x)
        except ValueError as exc:  # ragged nested lists
            raise ValueError(f"{name} is not a rectangular array: {exc}") from None
        if array.dtype.kind not in "biuf":
            raise TypeError(f"{name} must be numeric, got dtype {array.dtype}")
        return Tensor(array.astype(dtype or (array.dtype if array.dtype.kind == "f" else np.float64)))
    t = x if isinstance(x, Tensor) else Tensor(x)
    if t.dtype.kind == "f":
        if dtype is not None and t.dtype != dtype:
            raise TypeError(f"{name} has dtype {t.dtype} but must have dtype {np.dtype(dtype)} "
                            f"(the dtype of logits); cast it with .astype first")
        return t
    if dtype is None:
        raise TypeError(f"{name} must be floating point, got dtype {t.dtype}")
    return Tensor(t.data.astype(dtype))


def class_ids(name: str, labels, shape: tuple, num_classes: int) -> np.ndarray:
    """Integer class ids of ``shape``, each in ``[0, num_classes)``, or a clear error."""
    array = np.asarray(labels.data if isinstance(labels, Tensor) else labels)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{name} must be integer class ids, got dtype {array.dtype}")
    if array.shape != tuple(shape):
        raise ValueError(f"{name} has shape {array.shape}, expected {tuple(shape)}")
    bad = (array < 0) | (array >= num_classes)
    if bad.any():
        raise ValueError(f"{name} contains class id {array[bad].flat[0]}, outside [0, {num_classes}) "
                         f"for a vocabulary of size V={num_classes}")
    return array.astype(np.intp, copy=False)


def _one_axis(x: Tensor, axis) -> int:
    if x.ndim == 0:
        raise ValueError("x must have at least one dimension")
    if not isinstance(axis, (int, np.integer)):
        raise TypeError(f"axis must be an int, got {axis!r}")
    return normalize_axis(axis, x.ndim)[0]


def _shifted(x: Tensor, axis: int) -> Tensor:
    """``x - max(x)`` along ``axis``; the max is a constant (the result does not depend on it)."""
    if x.shape[axis] == 0:
        return x
    # an infinite maximum makes the row NaN, as in TensorFlow's kernels
    return x - np.max(x.data, axis=axis, keepdims=True)


def logsumexp(x, axis=-1, keepdims=False) -> Tensor:
    """``log(sum(exp(x)))`` along ``axis``, without overflow.

    Subtracting the maximum ``m`` first keeps every ``exp`` at most 1:
    ``logsumexp(x) = m + log(sum(exp(x - m)))``.
    """
    x = float_tensor("x", x)
    axis = _one_axis(x, axis)
    m = np.max(x.data, axis=axis, keepdims=True) if x.shape[axis] else np.zeros(1, x.dtype)
    m = np.where(np.isfinite(m), m, 0).astype(x.dtype)
    out = (x - m).exp().sum(axis=axis, keepdims=True).log() + m
    return out if keepdims else out.reshape(np.squeeze(out.data, axis=axis).shape)


def log_softmax(x, axis=-1) -> Tensor:
    """``x - logsumexp(x)`` along ``axis``: log-probabilities, computed stably."""
    x = float_tensor("x", x)
    axis = _one_axis(x, axis)
    s = _shifted(x, axis)
    return s - s.exp().sum(axis=axis, keepdims=True).log()


def softmax(x, axis=-1) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis``: probabilities that sum to 1, computed stably."""
    return log_softmax(x, axis).exp()


def _rows(x: Tensor, axis: int) -> Tensor:
    """``x`` with ``axis`` moved last and the rest flattened: ``[N, V]``."""
    if axis != x.ndim - 1:
        x = x.transpose(*[a for a in range(x.ndim) if a != axis], axis)
    return x.reshape(-1, x.shape[-1])


def softmax_cross_entropy_with_logits(labels, logits, axis=-1) -> Tensor:
    """Cross-entropy between a distribution ``labels`` and ``softmax(logits)``, per row.

    Parameters
    ----------
    labels : Tensor or array_like, [..., V]
        Probabilities (for example one-hot rows), the shape and dtype of ``logits``.
    logits : Tensor or array_like, [..., V]
        Unnormalised log-probabilities.
    axis : int
        The class axis.

    Returns
    -------
    Tensor, [...]
        ``-sum(labels * log_softmax(logits), axis)``. Its gradient is
        ``softmax(logits) - labels`` for the logits (when the labels sum to 1).
    """
    logits = float_tensor("logits", logits)
    labels = float_tensor("labels", labels, dtype=logits.dtype)
    if labels.shape != logits.shape:
        raise ValueError(f"labels has shape {labels.shape} but logits has shape {logits.shape}; they must match")
    axis = _one_axis(logits, axis)
    out_shape = logits.shape[:axis] + logits.shape[axis + 1:]
    loss = apply(SoftmaxCrossEntropy, _rows(labels, axis), _rows(logits, axis))
    return loss.reshape(out_shape)


def sparse_softmax_cross_entropy_with_logits(labels, logits) -> Tensor:
    """Cross-entropy of integer class ids ``labels`` under ``softmax(logits)``, per row.

    Parameters
    ----------
    labels : array_like of int, [...]
        Class ids in ``[0, V)``.
    logits : Tensor or array_like, [..., V]
        Unnormalised log-probabilities.

    Returns
    -------
    Tensor, [...]
        ``logsumexp(logits) - logits[labels]``; its gradient wrt the logits is
        ``softmax(logits) - onehot(labels)``.
    """
    logits = float_tensor("logits", logits)
    if logits.ndim == 0:
        raise ValueError("logits must have at least one dimension (the classes), got a scalar")
    ids = class_ids("labels", labels, logits.shape[:-1], logits.shape[-1])
    loss = apply(SparseSoftmaxCrossEntropy, logits.reshape(-1, logits.shape[-1]), labels=ids.reshape(-1))
    return loss.reshape(ids.shape)
