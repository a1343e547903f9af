"""``sequence_loss``: TensorFlow Addons' weighted cross-entropy over a batch
of sequences.

The computation has three steps, exactly as in ``tfa.seq2seq.sequence_loss``
0.23:

1. per-token cross-entropy ``ce`` of the flattened ``[B*T, V]`` logits;
2. ``ce * w`` with the flattened weights (also when no flag is set);
3. a reduction chosen by the four flags, every division a divide-no-NaN.

=====================  ==========  ==================================
at ab st sb            shape       value
=====================  ==========  ==================================
1  1  0  0 (default)   ``[]``      ``sum(ce*w) / sum(w)``
0  0  1  1             ``[]``      ``sum(ce*w) / count_nonzero(w)``
1  0  0  0             ``[B]``     ``sum_t(ce*w) / sum_t(w)``
0  1  0  0             ``[T]``     ``sum_b(ce*w) / sum_b(w)``
0  0  1  0             ``[B]``     ``sum_t(ce*w) / nnz_b(w)``
0  0  0  1             ``[T]``     ``sum_b(ce*w) / nnz_t(w)``
0  0  0  0             ``[B, T]``  ``ce*w``
=====================  ==========  ==================================

(at, ab, st, sb = average_across_timesteps, average_across_batch,
sum_over_timesteps, sum_over_batch.) ``count_nonzero`` is an integer count:
no gradient flows through it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from .checks import (
    as_array,
    callable_or_none,
    class_ids,
    is_bool,
    is_int,
    shape_is,
)
from .engine import Tensor, apply, as_tensor
from .entropy import log_softmax, softmax_cross_entropy_with_logits
from .fused import SparseSoftmaxCrossEntropy
from .ops import divide_no_nan, float_tensor, take_along_axis

__all__ = ["sequence_loss", "sequence_loss_composed"]

# The flag pairs TensorFlow Addons rejects, in the order it checks them.
_CONTRADICTIONS = (
    (
        "average_across_timesteps",
        "sum_over_timesteps",
        "one averages over time, the other sums over time",
    ),
    (
        "average_across_batch",
        "sum_over_batch",
        "one averages over the batch, the other sums over it",
    ),
    (
        "average_across_batch",
        "sum_over_timesteps",
        "the order of averaging over the batch and summing over time is "
        "ambiguous",
    ),
    (
        "sum_over_batch",
        "average_across_timesteps",
        "the order of summing over the batch and averaging over time is "
        "ambiguous",
    ),
)


class _Flags(NamedTuple):
    """The four reduction flags, under TensorFlow's names (the columns at,
    ab, st, sb of the table above).
    """

    average_across_timesteps: bool
    average_across_batch: bool
    sum_over_timesteps: bool
    sum_over_batch: bool


def sequence_loss(
    logits: Any,
    targets: Any,
    weights: Any,
    average_across_timesteps: bool = True,
    average_across_batch: bool = True,
    sum_over_timesteps: bool = False,
    sum_over_batch: bool = False,
    softmax_loss_function: Callable[..., Any] | None = None,
) -> Tensor:
    """Weighted cross-entropy loss for a batch of sequences, as
    ``tfa.seq2seq.sequence_loss``.

    Uses the fused cross-entropy primitive, whose backward is the closed form
    ``(softmax - onehot) * w / sum(w)`` for the default flags.
    :func:`sequence_loss_composed` computes the same from primitives only.

    Parameters
    ----------
    logits : Tensor or array_like, float, [batch, time, vocab]
        Unnormalised log-probabilities of every token.
    targets : array_like, int [batch, time] or float [batch, time, vocab]
        Class ids in ``[0, vocab)``, or dense target distributions (one-hot
        rows).
    weights : Tensor or array_like, [batch, time]
        Per-token weights, typically a 0/1 padding mask. A float array or
        Tensor must have the dtype of ``logits``; a list, or an integer or
        boolean array, is cast to it. Gradients flow to ``weights`` when it
        requires them.
    average_across_timesteps, average_across_batch : bool
        Divide the weighted sum over that axis by the sum of the weights.
    sum_over_timesteps, sum_over_batch : bool
        Divide the weighted sum over that axis by the number of non-zero
        weights. Each flag may also be 0 or 1, as TensorFlow accepts.
    softmax_loss_function : callable, optional
        ``f(labels=..., logits=...)`` taking the flattened targets (``[N]``
        or ``[N, V]``) and logits ``[N, V]`` with ``N = batch * time``,
        returning ``[N]``.

    Returns
    -------
    Tensor
        Shape ``[]``, ``[batch]``, ``[time]`` or ``[batch, time]`` depending
        on the flags (see the table in :mod:`minigrad.functional`), dtype of
        ``logits``. A zero denominator gives 0 (divide-no-NaN).

    Raises
    ------
    ValueError
        For wrong ranks or shapes, class ids outside ``[0, vocab)``, and the
        four contradictory flag pairs.
    TypeError
        For non-float logits, float rank-2 targets, a weights dtype that
        differs from the logits', or a ``softmax_loss_function`` that is not
        callable.

    Notes
    -----
    In terms of :func:`~minigrad.functional.cross_entropy` (PyTorch's
    semantics), with rank-2 targets:

    * with the default flags and 0/1 weights (a padding mask), the loss is
      ``cross_entropy(logits.reshape(-1, vocab), ids)`` with
      ``ids = where(weights > 0, targets, -100).reshape(-1)``: the mean over
      the tokens whose weight is 1. Passing ``logits.transpose(0, 2, 1)``
      (classes on axis 1) gives the same without flattening. With weights
      that are not 0/1 there is no such call: ``cross_entropy``'s
      ``weight`` is one weight per class, not per token;
    * with every flag off, the loss is
      ``cross_entropy(x, targets, reduction='none') * weights`` with
      ``x = logits.transpose(0, 2, 1)``;
    * all-zero weights give 0 here (divide-no-NaN) and NaN there (0 / 0), as
      in TensorFlow and PyTorch.
    """
    flags = _Flags(
        average_across_timesteps,
        average_across_batch,
        sum_over_timesteps,
        sum_over_batch,
    )
    return _sequence_loss(
        logits, targets, weights, flags, softmax_loss_function, fused=True
    )


def sequence_loss_composed(
    logits: Any,
    targets: Any,
    weights: Any,
    average_across_timesteps: bool = True,
    average_across_batch: bool = True,
    sum_over_timesteps: bool = False,
    sum_over_batch: bool = False,
    softmax_loss_function: Callable[..., Any] | None = None,
) -> Tensor:
    """:func:`sequence_loss` built from primitives only: autodiff derives its
    gradient.

    The per-token cross-entropy is
    ``-take_along_axis(log_softmax(logits), targets)`` instead of the fused
    primitive. Same parameters, results and errors.
    """
    flags = _Flags(
        average_across_timesteps,
        average_across_batch,
        sum_over_timesteps,
        sum_over_batch,
    )
    return _sequence_loss(
        logits, targets, weights, flags, softmax_loss_function, fused=False
    )


def _sequence_loss(
    logits: Any,
    targets: Any,
    weights: Any,
    flags: _Flags,
    softmax_loss_function: Callable[..., Any] | None,
    fused: bool,
) -> Tensor:
    """The three steps of the module's docstring: per-token cross-entropy,
    times the weights, reduced.
    """
    logits, targets, weights = _check_inputs(
        logits, targets, weights, flags, softmax_loss_function
    )
    with np.errstate(all="ignore"):
        # inf/NaN logits propagate silently, as in TensorFlow
        ce = _token_cross_entropy(
            logits, targets, softmax_loss_function, fused
        )
        return _reduce(ce * weights.reshape(-1), weights, flags)


def _token_cross_entropy(
    logits: Tensor,
    targets: Tensor,
    softmax_loss_function: Callable[..., Any] | None,
    fused: bool,
) -> Tensor:
    """Step 1: the cross-entropy of every token, ``[batch * time]``."""
    batch, time, vocab = logits.shape
    flat_logits = logits.reshape(-1, vocab)
    if fused and softmax_loss_function is None and targets.ndim == 2:
        # the class ids are checked (_check_inputs): the primitive itself
        return apply(
            SparseSoftmaxCrossEntropy,
            flat_logits,
            labels=targets.data.reshape(-1),
        )
    flat_targets = (
        targets.reshape(-1)
        if targets.ndim == 2
        else targets.reshape(-1, vocab)
    )

    if softmax_loss_function is not None:
        ce = _call_loss_function(
            softmax_loss_function, flat_targets, flat_logits, batch * time
        )
    elif targets.ndim == 3:
        ce = softmax_cross_entropy_with_logits(flat_targets, flat_logits)
    else:
        picked = take_along_axis(
            log_softmax(flat_logits, axis=-1),
            flat_targets.data[:, None],
            axis=-1,
        )
        ce = -picked.reshape(-1)
    return ce


def _reduce(ce: Tensor, weights: Tensor, flags: _Flags) -> Tensor:
    """Step 3: the weighted cross-entropies ``ce * w`` ``[batch * time]``
    reduced as the flags say (the table).
    """
    at, ab, st, sb = flags
    if at and ab:
        return divide_no_nan(ce.sum(), weights.sum())
    if st and sb:
        return divide_no_nan(ce.sum(), _count_nonzero(weights, None))
    ce = ce.reshape(weights.shape)
    if at or ab:
        axis = 0 if ab else 1
        return divide_no_nan(ce.sum(axis=axis), weights.sum(axis=axis))
    if st or sb:
        axis = 0 if sb else 1
        return divide_no_nan(
            ce.sum(axis=axis), _count_nonzero(weights, axis)
        )
    return ce


def _count_nonzero(weights: Tensor, axis: int | None) -> np.ndarray:
    """The number of non-zero weights, as a constant of the weights' dtype
    (no gradient).
    """
    return np.asarray(
        np.count_nonzero(weights.data, axis=axis), dtype=weights.dtype
    )


def _call_loss_function(
    fn: Callable[..., Any], labels: Tensor, logits: Tensor, n: int
) -> Tensor:
    ce = as_tensor(fn(labels=labels, logits=logits))
    if ce.shape != (n,):
        raise ValueError(
            "softmax_loss_function must return one loss per token, shape "
            f"({n},), "
            f"got shape {ce.shape}"
        )
    if ce.dtype != logits.dtype:
        raise TypeError(
            f"softmax_loss_function returned dtype {ce.dtype}, expected "
            f"{logits.dtype}"
        )
    return ce


def _check_inputs(
    logits: Any,
    targets: Any,
    weights: Any,
    flags_given: _Flags,
    softmax_loss_function: Any,
) -> tuple[Tensor, Tensor, Tensor]:
    """Validate and convert, with TensorFlow Addons' checks first, in its
    order.
    """
    logits = float_tensor("logits", logits)
    # ragged lists and strings: an error naming the argument
    targets_array = as_array("targets", targets)
    _check_ranks(logits, targets_array, as_array("weights", weights).ndim)
    flags = flags_given._asdict()
    for name, flag in flags.items():
        # TensorFlow tests the flags for truth, so 0 and 1 work there too;
        # anything else is a mistake
        if not (is_bool(flag) or (is_int(flag) and flag in (0, 1))):
            raise TypeError(f"{name} must be True or False, got {flag!r}")
    for first, second, why in _CONTRADICTIONS:
        if flags[first] and flags[second]:
            raise ValueError(
                f"{first} and {second} cannot both be True: {why}"
            )
    callable_or_none("softmax_loss_function", softmax_loss_function)
    batch, time, _ = logits.shape
    targets = _checked_targets(
        targets, targets_array.shape, logits, softmax_loss_function is None
    )
    weights = float_tensor("weights", weights, dtype=logits.dtype)
    shape_is(
        "weights",
        weights.shape,
        (batch, time),
        f" (the batch and time of logits {logits.shape})",
    )
    return logits, targets, weights


def _check_ranks(
    logits: Tensor, targets: np.ndarray, weights_rank: int
) -> None:
    """The ranks that TensorFlow Addons checks first."""
    if logits.ndim != 3:
        raise ValueError(
            "logits must be a [batch, time, vocab] tensor (rank 3), got "
            f"shape {logits.shape}"
        )
    if targets.ndim not in (2, 3):
        raise ValueError(
            "targets must be [batch, time] class ids (rank 2) or [batch, "
            "time, vocab] "
            f"distributions (rank 3), got shape {targets.shape}"
        )
    if weights_rank != 2:
        raise ValueError(
            "weights must be a [batch, time] tensor (rank 2), got rank "
            f"{weights_rank}"
        )


def _checked_targets(
    targets: Any, shape: tuple[int, ...], logits: Tensor, ids: bool
) -> Tensor:
    """Rank-2 targets as class ids (``ids``: for our own cross-entropy; a
    custom loss decides what its labels mean, only the shape is checked), or
    rank-3 targets as distributions of the logits' shape and dtype.
    """
    batch, time, vocab = logits.shape
    if len(shape) == 3:
        dense = float_tensor("targets", targets, dtype=logits.dtype)
        if dense.shape != logits.shape:
            raise ValueError(
                "rank-3 targets must have the shape of logits "
                f"{logits.shape}, got {dense.shape}"
            )
        return dense
    if ids:
        return Tensor(class_ids("targets", targets, (batch, time), vocab))
    shape_is("targets", shape, (batch, time))
    return as_tensor(targets)
