"""Fused softmax cross-entropy: one primitive with the closed-form gradient
``softmax - labels``.

Composed from primitives, cross-entropy would record a log-softmax, a pick
and a negation, and its backward would retrace them. Fused, the forward keeps
the softmax it had to compute anyway, and the backward is one line of
algebra:

.. math::
    \\frac{\\partial \\ell}{\\partial z} = \\operatorname{softmax}(z) - e_y

The arithmetic takes the steps of TensorFlow's kernel
(``SparseXentEigenImpl`` in ``tensorflow/core/kernels/sparse_xent_op.h``,
TensorFlow 2.15.1): shift by the row maximum, ``log(sum(exp)) -
shifted[label]``, ``exp / sum - onehot``. The last bits may still differ,
because TensorFlow's ``exp`` and sums are Eigen's and these are NumPy's:
chapter 10 of the book counts the entries that differ.

At a real vocabulary size this is the most expensive step of training, so the
sparse primitive is written for speed and memory:

* one ``[N, V]`` buffer per forward and backward: the forward writes the
  softmax into it, and the backward turns it into the gradient in place;
* both walk the rows in fixed blocks of about 1 MiB of logits, so that the
  shift, ``exp``, sum and division of a block happen while it sits in one
  core's cache, instead of five trips through main memory for the whole
  array;
* the blocks are split into contiguous shares, one per CPU core, computed by
  a small pool of threads (NumPy releases the GIL inside its loops). The
  blocks do not depend on the number of threads and every row is reduced
  within its block, so the results are the same, bit for bit, with one thread
  or many;
* a buffer of 16 MiB or more comes from a one-entry cache: when the gradient
  the previous call handed out is no longer referenced anywhere, its memory
  is used again instead of asking the operating system for fresh pages (whose
  first touch costs a page fault each). A buffer that anything still
  references, such as a ``.grad`` the user keeps, is never reused.

Each element goes through the same operations whatever the blocks and the
threads, so neither changes a bit of the results.

The number of threads is the number of CPUs this process may run on, or the
environment variable ``MINIGRAD_NUM_THREADS``; :func:`set_num_threads`
changes it and :func:`empty_cache` gives the cached buffer back to the
operating system.
"""

from __future__ import annotations

import math
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Callable
from typing import Any

import numpy as np

from .checks import accumulate
from .engine import Primitive

__all__ = [
    "SparseSoftmaxCrossEntropy",
    "SoftmaxCrossEntropy",
    "set_num_threads",
    "get_num_threads",
    "empty_cache",
]

# Bytes of logits per block. A block of logits and its softmax (2 x 1 MiB)
# stay in one core's L2 cache between the five steps; the blocks are the same
# whatever the number of threads, so the results are too.
_BLOCK_BYTES = 1024 * 1024
# Buffers from this size on come from the one-entry cache (smaller ones
# malloc reuses without page faults).
_CACHE_MIN_BYTES = 16 * 1024 * 1024


# -- threads ----------------------------------------------------------------


def _default_threads() -> int:
    setting = os.environ.get("MINIGRAD_NUM_THREADS", "")
    if setting.strip():
        return max(1, int(setting))
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


_threads = _default_threads()
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def set_num_threads(n: int) -> None:
    """Use ``n`` threads (``n >= 1``) for the fused cross-entropy's blocks;
    the results do not change.
    """
    global _threads, _pool
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(
            f"the number of threads must be an integer >= 1, got {n!r}"
        )
    with _pool_lock:
        _threads = int(n)
        if _pool is not None:
            _pool.shutdown(wait=False)
            _pool = None


def get_num_threads() -> int:
    """The number of threads the fused cross-entropy uses."""
    return _threads


def _forget_pool_after_fork() -> None:
    global _pool
    # a forked child has none of the parent's threads: start a new pool when
    # needed
    _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


def _for_each_block(
    n_rows: int, step: int, work: Callable[[int, int], None]
) -> None:
    """``work(start, stop)`` for the fixed blocks of ``step`` rows, in
    contiguous shares, one per thread.
    """
    starts = range(0, n_rows, step)
    shares = min(_threads, len(starts))
    if shares <= 1:
        for start in starts:
            work(start, min(start + step, n_rows))
        return

    def share(k: int) -> None:
        for start in starts[
            len(starts) * k // shares : len(starts) * (k + 1) // shares
        ]:
            work(start, min(start + step, n_rows))

    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max_workers=_threads - 1, thread_name_prefix="minigrad"
            )
        pool = _pool
    others = [pool.submit(share, k) for k in range(1, shares)]
    try:
        share(0)  # this thread computes the first share
    finally:
        for future in others:
            future.result()  # waits, and re-raises an error of that share


# -- the one-entry buffer cache ---------------------------------------------

# raw bytes; what _new_buffer handed out last (16 MiB or more)
_cached: np.ndarray | None = None
_cache_lock = threading.Lock()


def _new_buffer(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """An uninitialised C-contiguous array; large ones reuse the last one's
    memory once nothing references it.
    """
    global _cached
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes < _CACHE_MIN_BYTES:
        return np.empty(shape, dtype)
    with _cache_lock:
        # Two references mean unused: the module's and getrefcount's
        # argument. Every array handed out is a view whose .base chain holds
        # one more (as does anything made from it: views, memoryviews).
        if (
            _cached is None
            or _cached.nbytes != nbytes
            or sys.getrefcount(_cached) != 2
        ):
            # the old buffer lives on only where it is referenced
            _cached = None
            _cached = np.empty(nbytes, np.uint8)
        return _cached.view(dtype).reshape(shape)


def empty_cache() -> None:
    """Forget the cached buffer (its memory goes back to the system once
    nothing else references it).
    """
    global _cached
    with _cache_lock:
        _cached = None


# -- the kernels ------------------------------------------------------------


def _softmax_rows(
    logits: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Softmax over the last axis of ``logits [..., V]``, a block of rows at
    a time.

    Returns
    -------
    probs : ndarray, the shape and dtype of ``logits``
        ``exp(s) / sum(exp(s))`` with ``s = logits - max``, in a new
        C-contiguous array.
    maxs, sums : ndarray, [N, 1] with ``N`` the number of rows
        Each row's maximum and ``sum(exp(s))``.
    """
    n, v = math.prod(logits.shape[:-1]), logits.shape[-1]
    maxs, sums = (
        np.zeros((n, 1), logits.dtype),
        np.zeros((n, 1), logits.dtype),
    )
    if logits.size == 0:  # no rows, or no classes
        return np.zeros(logits.shape, logits.dtype), maxs, sums
    probs = _new_buffer(logits.shape, logits.dtype)
    # out is a view: probs is C-contiguous
    rows, out = logits.reshape(n, v), probs.reshape(n, v)
    # the rule of checks.accumulate
    accumulator = np.float32 if logits.dtype == np.float16 else None

    def block(start: int, stop: int) -> None:
        p, x, m, s = (
            out[start:stop],
            rows[start:stop],
            maxs[start:stop],
            sums[start:stop],
        )
        # inf/NaN logits propagate silently, as in TensorFlow
        with np.errstate(all="ignore"):
            # each step writes into memory that exists already: no temporary
            # [rows, V] arrays
            np.max(x, axis=1, keepdims=True, out=m)
            np.subtract(x, m, out=p)
            np.exp(p, out=p)
            np.sum(p, axis=1, keepdims=True, out=s, dtype=accumulator)
            np.divide(p, s, out=p)

    _for_each_block(n, _block_rows(v, logits.itemsize), block)
    return probs, maxs, sums


def _block_rows(v: int, itemsize: int) -> int:
    return max(1, _BLOCK_BYTES // max(1, v * itemsize))


def _softmax_to_gradient(
    probs: np.ndarray, labels: np.ndarray, g: np.ndarray
) -> None:
    """``probs [N, V]`` becomes ``(probs - onehot(labels)) * g[:, None]``, in
    place, a block at a time.
    """
    n, v = probs.shape

    def block(start: int, stop: int) -> None:
        p = probs[start:stop]
        with np.errstate(all="ignore"):
            # softmax - onehot
            p[np.arange(stop - start), labels[start:stop]] -= 1
            p *= g[start:stop, None]

    _for_each_block(n, _block_rows(v, probs.itemsize), block)


class _OneUseBuffer:
    """An array that the first taker may overwrite; later takers get None.

    The sparse primitive's backward turns the saved softmax into the gradient
    in place, which saves a second ``[N, V]`` array. minigrad allows
    ``backward()`` twice on the same graph (PyTorch refuses), so the second
    time the softmax is gone and the backward must recompute it.
    """

    def __init__(self, array: np.ndarray) -> None:
        self._array: np.ndarray | None = array

    def take(self) -> np.ndarray | None:
        array, self._array = self._array, None
        return array


class SparseSoftmaxCrossEntropy(Primitive):
    """Per-row cross-entropy of ``logits [..., V]`` against integer
    ``labels [...]``.

    Forward: ``ce = log(sum_v exp(s)) - s[labels]`` with
    ``s = logits - max_v logits``. Backward:
    ``(softmax - onehot) * g[..., None]``. ``labels`` is metadata (keyword):
    it has no gradient.
    """

    saves = True

    @staticmethod
    def forward(logits, labels):
        if logits.size == 0:  # no rows, or no classes
            return np.zeros(labels.shape, logits.dtype), {
                "probs": _OneUseBuffer(np.zeros_like(logits))
            }
        probs, maxs, sums = _softmax_rows(logits)
        n = len(maxs)
        with np.errstate(all="ignore"):
            # s[label] = logits[label] - max: the very subtraction
            # _softmax_rows did for that element
            picked = (
                logits.reshape(n, logits.shape[-1])[
                    np.arange(n), labels.reshape(n)
                ]
                - maxs[:, 0]
            )
            loss = np.log(sums[:, 0]) - picked
        return loss.reshape(labels.shape), {"probs": _OneUseBuffer(probs)}

    @staticmethod
    def vjp(g, ans, logits, labels, probs):
        grad = probs.take()
        if grad is None:
            # a second backward on this graph: the first one overwrote the
            # softmax
            grad = _softmax_rows(logits)[0]
        n = labels.size
        # (softmax - onehot) * g, in place; rows is a view: the buffer is
        # C-contiguous
        _softmax_to_gradient(
            grad.reshape(n, grad.shape[-1]), labels.reshape(n), g.reshape(n)
        )
        return (grad,)


class SoftmaxCrossEntropy(Primitive):
    """Per-row cross-entropy of ``logits [N, V]`` against dense
    ``labels [N, V]`` (probabilities).

    Forward:
    ``ce[n] = sum_v labels[n, v] * (log(sum_v exp(s[n, v])) - s[n, v])``.
    Backward: ``(softmax - labels) * g`` for the logits
    (``softmax * sum(labels) - labels`` when the rows of ``labels`` do not
    sum to 1) and ``-log_softmax * g`` for the labels.
    """

    saves = True

    @staticmethod
    def forward(labels, logits):
        if logits.size == 0:
            empty = {
                "probs": np.zeros_like(logits),
                "log_sum": np.zeros((logits.shape[0], 1), logits.dtype),
            }
            return np.zeros(logits.shape[0], dtype=logits.dtype), empty
        with np.errstate(all="ignore"):
            shifted = logits - logits.max(axis=1, keepdims=True)
            probs = np.exp(shifted)
            sums = accumulate(np.sum, probs, axis=1, keepdims=True)
            log_sum = np.log(sums)
            # labels * (log_sum - shifted), reusing `shifted`'s memory (it is
            # not needed after this)
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
            # softmax * sum(labels) - labels: exactly softmax - labels when
            # each row sums to 1
            grad_logits = probs * accumulate(
                np.sum, labels, axis=1, keepdims=True
            )
            grad_logits -= labels
            grad_logits *= g
            # -log_softmax(logits) = log_sum - shifted
            grad_labels = logits - logits.max(axis=1, keepdims=True)
            np.subtract(log_sum, grad_labels, out=grad_labels)
            grad_labels *= g
        return grad_labels, grad_logits
