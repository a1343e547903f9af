"""Softmax, sigmoid and cross-entropy, built on the primitives.

``logsumexp``, ``softmax`` and ``log_softmax`` are composed from primitives,
so autodiff derives their gradients. The cross-entropies (TensorFlow's two
and PyTorch's ``cross_entropy``) use the fused primitives of
:mod:`minigrad.fused`, whose backward is the closed form
``softmax - labels``. Every function accepts Tensors, NumPy arrays or lists
and returns a Tensor.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .checks import (
    as_array,
    class_ids,
    first_outside,
    integer,
    is_int,
    one_axis,
    one_of,
    reduction_params,
    shape_is,
)
from .engine import Tensor, apply, as_tensor
from .fused import SoftmaxCrossEntropy, SparseSoftmaxCrossEntropy
from .ops import float_tensor, where

__all__ = [
    "logsumexp",
    "softmax",
    "log_softmax",
    "softmax_cross_entropy_with_logits",
    "sparse_softmax_cross_entropy_with_logits",
    "cross_entropy",
    "sigmoid",
]


def _one_axis(x: Tensor, axis: Any) -> int:
    if x.ndim == 0:
        raise ValueError("x must have at least one dimension")
    return one_axis(axis, x.ndim)


def _shifted(x: Tensor, axis: int) -> Tensor:
    """``x - max(x)`` along ``axis``; the max is a constant (the result does
    not depend on it).
    """
    if x.shape[axis] == 0:
        return x
    # an infinite maximum makes the row NaN, as in TensorFlow's kernels
    return x - np.max(x.data, axis=axis, keepdims=True)


def logsumexp(x: Any, axis: int = -1, keepdims: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` along ``axis``, without overflow.

    Subtracting the maximum ``m`` first keeps every ``exp`` at most 1:
    ``logsumexp(x) = m + log(sum(exp(x - m)))``.
    """
    x = float_tensor("x", x)
    axis = _one_axis(x, axis)
    reduction_params(None, keepdims, x.ndim)  # keepdims must be a bool
    # m is the largest finite entry: with an inf entry, exp(x - m) still
    # never overflows for the finite ones, so their gradient is 0 (as exp(x -
    # inf) in PyTorch), not inf / inf
    finite = np.where(np.isfinite(x.data), x.data, -np.inf)
    m = (
        np.max(finite, axis=axis, keepdims=True)
        if x.shape[axis]
        else np.zeros(1, x.dtype)
    )
    m = np.where(np.isfinite(m), m, 0).astype(x.dtype)
    out = (x - m).exp().sum(axis=axis, keepdims=True).log() + m
    return (
        out
        if keepdims
        else out.reshape(np.squeeze(out.data, axis=axis).shape)
    )


def log_softmax(x: Any, axis: int = -1, mask: Any = None) -> Tensor:
    """``x - logsumexp(x)`` along ``axis``: log-probabilities, computed
    stably.

    With a ``mask``, only the kept entries take part (see :func:`softmax`);
    the others are ``-inf``, with gradient exactly 0.
    """
    x = float_tensor("x", x)
    axis = _one_axis(x, axis)
    if mask is None:
        s = _shifted(x, axis)
        return s - s.exp().sum(axis=axis, keepdims=True).log()
    keep = _keep(mask, x, axis)
    m = (
        np.max(np.where(keep, x.data, -np.inf), axis=axis, keepdims=True)
        if x.size
        else 0
    )
    # a masked entry never reaches exp or log, so it cannot make a NaN
    s = where(keep, x - m, 0.0)
    e = where(keep, s.exp(), 0.0)
    return where(keep, s - e.sum(axis=axis, keepdims=True).log(), -np.inf)


def softmax(x: Any, axis: int = -1, mask: Any = None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis``: probabilities that sum to 1,
    computed stably.

    Parameters
    ----------
    x : Tensor or array_like, float
        Scores (logits).
    axis : int
        The axis whose entries compete.
    mask : array_like of bool, broadcastable to ``x``, optional
        True where an entry takes part, False where it must be ignored (for
        example padding in attention). A masked entry gets probability
        exactly 0 and gradient exactly 0, whatever it holds (also ``inf`` or
        NaN); the kept entries of a row sum to 1, as if the masked ones were
        not there.

    Raises
    ------
    ValueError
        If ``mask`` keeps no entry of some row (a softmax over nothing is not
        defined; PyTorch's ``masked_fill(-inf)`` idiom would return NaN
        there), or does not broadcast to the shape of ``x``.
    TypeError
        If ``mask`` is not boolean.
    """
    return log_softmax(x, axis, mask).exp()


def _keep(mask: Any, x: Tensor, axis: int) -> np.ndarray:
    """``mask`` broadcast to ``x``'s shape, checked: boolean, and at least
    one True in every row.
    """
    if isinstance(mask, Tensor) and mask.requires_grad:
        raise TypeError(
            "mask must be a boolean array, got a Tensor that requires grad"
        )
    keep = as_array("mask", mask)
    if keep.dtype != np.bool_:
        raise TypeError(
            f"mask must be boolean (True = keep), got dtype {keep.dtype}"
        )
    try:
        keep = np.broadcast_to(keep, x.shape)
    except ValueError:
        raise ValueError(
            f"mask of shape {keep.shape} does not broadcast to x of shape "
            f"{x.shape}"
        ) from None
    if x.shape[axis] and not keep.any(axis=axis).all():
        raise ValueError(
            f"mask keeps no entry in some row along axis {axis}: a softmax "
            "over nothing "
            "is not defined (keep at least one entry per row)"
        )
    return keep


def _rows(x: Tensor, axis: int) -> Tensor:
    """``x`` with ``axis`` moved last and the rest flattened: ``[N, V]``."""
    if axis != x.ndim - 1:
        x = x.transpose(*[a for a in range(x.ndim) if a != axis], axis)
    return x.reshape(-1, x.shape[-1])


def softmax_cross_entropy_with_logits(
    labels: Any, logits: Any, axis: int = -1
) -> Tensor:
    """Cross-entropy between a distribution ``labels`` and
    ``softmax(logits)``, per row.

    Parameters
    ----------
    labels : Tensor or array_like, [..., V]
        Probabilities (for example one-hot rows), the shape and dtype of
        ``logits``.
    logits : Tensor or array_like, [..., V]
        Unnormalised log-probabilities.
    axis : int
        The class axis.

    Returns
    -------
    Tensor, [...]
        ``-sum(labels * log_softmax(logits), axis)``. Its gradient is
        ``softmax(logits) - labels`` for the logits (when the labels sum to
        1).
    """
    logits = float_tensor("logits", logits)
    labels = float_tensor("labels", labels, dtype=logits.dtype)
    if labels.shape != logits.shape:
        raise ValueError(
            f"labels has shape {labels.shape} but logits has shape "
            f"{logits.shape}; they must match"
        )
    axis = _one_axis(logits, axis)
    out_shape = logits.shape[:axis] + logits.shape[axis + 1 :]
    loss = apply(
        SoftmaxCrossEntropy, _rows(labels, axis), _rows(logits, axis)
    )
    return loss.reshape(out_shape)


def sparse_softmax_cross_entropy_with_logits(
    labels: Any, logits: Any
) -> Tensor:
    """Cross-entropy of integer class ids ``labels`` under
    ``softmax(logits)``, per row.

    Parameters
    ----------
    labels : array_like of int, [...]
        Class ids in ``[0, V)``.
    logits : Tensor or array_like, [..., V]
        Unnormalised log-probabilities.

    Returns
    -------
    Tensor, [...]
        ``logsumexp(logits) - logits[labels]``; its gradient wrt the logits
        is ``softmax(logits) - onehot(labels)``.
    """
    logits = float_tensor("logits", logits)
    if logits.ndim == 0:
        raise ValueError(
            "logits must have at least one dimension (the classes), got a "
            "scalar"
        )
    ids = class_ids("labels", labels, logits.shape[:-1], logits.shape[-1])
    loss = apply(
        SparseSoftmaxCrossEntropy,
        logits.reshape(-1, logits.shape[-1]),
        labels=ids.reshape(-1),
    )
    return loss.reshape(ids.shape)


_REDUCTIONS = ("mean", "sum", "none")


def cross_entropy(
    logits: Any,
    targets: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy of class ids under ``softmax(logits)``, as PyTorch's
    ``cross_entropy``.

    The same arguments and results as ``torch.nn.functional.cross_entropy``
    with class-index targets.

    The classes are on axis 1, as in PyTorch. For each target ``y`` that is
    not ``ignore_index``, with ``p = log_softmax(logits)`` over the classes
    and ``w = weight`` (all ones when ``weight`` is None)::

        loss = -(1 - label_smoothing) * w[y] * p[y]
               - (label_smoothing / C) * sum_c w[c] * p[c]

    An ignored target has loss 0 and no gradient. The loss is the
    cross-entropy against the target distribution ``q``::

        q = (1 - label_smoothing) * w[y] * onehot(y)
            + (label_smoothing / C) * w

    so both cases use a fused primitive of :mod:`minigrad.fused`, whose
    backward is ``softmax * sum(q) - q``.

    Parameters
    ----------
    logits : Tensor or array_like, float, [N, C] or [N, C, d1, ...] or [C]
        Unnormalised log-probabilities; ``C`` classes on axis 1 (axis 0 for
        [C]).
    targets : array_like of int, [N] or [N, d1, ...] or []
        Class ids in ``[0, C)``, or ``ignore_index``: the shape of ``logits``
        without its class axis.
    weight : array_like, float, [C], optional
        A weight per class, of the dtype of ``logits`` (a list is converted).
        A constant: no gradient flows to it.
    ignore_index : int
        Targets equal to it add nothing to the loss, nor to the denominator
        of the mean. It may also be a valid class id (for example a padding
        id 0).
    reduction : {'mean', 'sum', 'none'}
        'none' returns the loss of every target, shape of ``targets``; 'sum'
        adds them; 'mean' divides the sum by ``sum(w[y])`` over the targets
        that are not ignored (their number when ``weight`` is None). As in
        PyTorch, that mean is NaN when every target is ignored.
    label_smoothing : float in [0, 1]
        The share of each target's weight spread evenly over the ``C``
        classes.

    Returns
    -------
    Tensor
        Shape ``[]`` for 'mean' and 'sum', the shape of ``targets`` for
        'none'; dtype of ``logits``.

    Raises
    ------
    ValueError
        For a scalar ``logits``, a ``targets`` or ``weight`` of the wrong
        shape, a class id outside ``[0, C)`` that is not ``ignore_index``, an
        unknown ``reduction``, a ``label_smoothing`` outside ``[0, 1]``, or a
        ``weight`` that requires grad.
    TypeError
        For non-float ``logits``, non-integer ``targets`` (class
        probabilities belong to :func:`softmax_cross_entropy_with_logits`), a
        ``weight`` of another dtype, or a non-integer ``ignore_index``.
    """
    logits = float_tensor("logits", logits)
    ids, keep, class_weight = _cross_entropy_inputs(
        logits, targets, weight, ignore_index, reduction, label_smoothing
    )
    # [M, C]
    rows = logits.reshape(1, -1) if logits.ndim == 1 else _rows(logits, 1)
    m, c = rows.shape
    # an ignored row needs some valid class; its loss becomes 0 below
    safe = np.where(keep, ids, 0)
    picked = 1 if class_weight is None else class_weight[safe]
    # w[y], 0 where ignored
    row_weight = np.where(keep, picked, 0).astype(logits.dtype)
    if label_smoothing == 0:
        loss = (
            apply(SparseSoftmaxCrossEntropy, rows, labels=safe) * row_weight
        )
    else:
        spread = (
            np.ones(c, logits.dtype)
            if class_weight is None
            else class_weight
        )
        # [M, C]
        q = (
            (label_smoothing / c)
            * spread
            * keep[:, None].astype(logits.dtype)
        )
        q[np.arange(m), safe] += (1 - label_smoothing) * row_weight
        loss = apply(SoftmaxCrossEntropy, Tensor(q), rows)
    # exactly 0 where ignored, even for non-finite logits (as PyTorch)
    loss = where(keep, loss, 0.0)
    if reduction == "none":
        return loss.reshape(np.shape(targets))
    if reduction == "sum":
        return loss.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        # 0 / 0 is NaN, as in PyTorch
        return loss.sum() / np.asarray(row_weight.sum(), logits.dtype)


def _cross_entropy_inputs(
    logits: Tensor,
    targets: Any,
    weight: Any,
    ignore_index: int,
    reduction: str,
    label_smoothing: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Check the arguments of :func:`cross_entropy`; return flat ids, the
    not-ignored mask, weight.
    """
    if logits.ndim == 0:
        raise ValueError(
            "logits must have a class axis: [C], [N, C] or [N, C, d1, ...], "
            "got a scalar"
        )
    integer("ignore_index", ignore_index)
    one_of("reduction", reduction, _REDUCTIONS)
    number = is_int(label_smoothing) or isinstance(
        label_smoothing, (float, np.floating)
    )
    if not number:
        raise TypeError(
            f"label_smoothing must be a float, got {label_smoothing!r}"
        )
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            "label_smoothing must be between 0.0 and 1.0, got "
            f"{label_smoothing!r}"
        )
    c = logits.shape[1] if logits.ndim > 1 else logits.shape[0]
    ids, keep = _ids_and_kept(logits, targets, c, ignore_index)
    if weight is None:
        return ids, keep, None
    if isinstance(weight, Tensor) and weight.requires_grad:
        raise ValueError(
            "weight must not require grad: class weights are constants, as "
            "in PyTorch"
        )
    weight = float_tensor("weight", weight, dtype=logits.dtype).data
    shape_is("weight", weight.shape, (c,), ": one weight per class")
    return ids, keep, weight


def _ids_and_kept(
    logits: Tensor, targets: Any, c: int, ignore_index: int
) -> tuple[np.ndarray, np.ndarray]:
    """The class ids of ``targets``, flat, and where they are not
    ``ignore_index``.
    """
    array = np.asarray(targets)
    if array.dtype.kind not in "iu":
        raise TypeError(
            f"targets must be integer class ids, got dtype {array.dtype} "
            "(for class "
            f"probabilities use softmax_cross_entropy_with_logits)"
        )
    expected = logits.shape[:1] + logits.shape[2:] if logits.ndim > 1 else ()
    shape_is(
        "targets",
        array.shape,
        expected,
        f" (the shape of logits {logits.shape} without its class axis 1)",
    )
    ids = array.reshape(-1).astype(np.int64)
    keep = ids != ignore_index
    bad = first_outside(ids[keep], c)
    if bad is not None:
        raise ValueError(
            f"targets contains class id {bad}, outside [0, {c}) and not "
            f"ignore_index={ignore_index}"
        )
    return ids, keep


def sigmoid(x: Any) -> Tensor:
    """The logistic function ``1 / (1 + exp(-x))``, written as
    ``(1 + tanh(x / 2)) / 2``.

    The two are equal in exact arithmetic. The tanh form never overflows; its
    absolute error is at most about one unit in the last place of 1 (the
    relative error grows in the far negative tail, where the value is below
    ~1e-8).
    """
    return 0.5 * ((0.5 * as_tensor(x, name="x")).tanh() + 1.0)
