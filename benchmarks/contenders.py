"""The contenders: five implementations of the same loss and its gradient wrt the logits, and the inputs
they all get.

  minigrad fused     ``mg.sequence_loss`` then ``.backward()`` (the fused cross-entropy primitive)
  minigrad composed  ``mg.sequence_loss_composed`` then ``.backward()`` (autodiff through log_softmax)
  numpy              the fastest hand-written NumPy we know, on one thread (:func:`numpy_loss_and_grad`)
  numpy threads      the same on every core, a contiguous share of the blocks per thread
  torch              ``cross_entropy(reduction='none') * w / sum(w)`` on the CPU, when torch is installed
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

import minigrad as mg
from harness import CORES


def numpy_loss_and_grad(logits, targets, weights, threads=1, block_bytes=1 << 20):
    """The weighted mean cross-entropy and its gradient wrt ``logits``, in plain NumPy.

    The fastest we know how to write: one ``[B, T, V]`` array (the gradient) and nothing
    else of that size. A block of rows at a time, while the block is in the CPU cache, it is
    shifted by the row maximum, exponentiated, summed, and scaled straight into the gradient
    ``softmax * dL/dce`` (the forward and backward fused: no second pass over memory).
    With ``threads > 1`` the blocks are split into contiguous shares, one per thread (NumPy
    releases the GIL inside its loops). Like TensorFlow it computes every row, padded or not,
    so a NaN logit still gives a NaN loss; skipping rows of weight 0 would be faster by the
    padding fraction.
    """
    b, t, v = logits.shape
    n = b * t
    rows, labels, w = logits.reshape(n, v), targets.reshape(n), weights.reshape(n)
    total = w.sum()
    dce = w / total if total != 0 else np.zeros_like(w)  # dL/dce; divide-no-NaN
    grad = np.empty(logits.shape, logits.dtype)
    out = grad.reshape(n, v)
    log_sums = np.empty(n, logits.dtype)
    maxs = np.empty((n, 1), logits.dtype)
    step = max(1, block_bytes // (v * logits.itemsize))

    def share(starts):
        for start in starts:
            block, p = slice(start, start + step), out[start:start + step]
            np.max(rows[block], axis=1, keepdims=True, out=maxs[block])
            np.subtract(rows[block], maxs[block], out=p)
            np.exp(p, out=p)
            sums = p.sum(axis=1, keepdims=True)
            np.log(sums[:, 0], out=log_sums[block])
            p *= dce[block, None] / sums  # softmax * dL/dce

    starts = range(0, n, step)
    k = min(threads, len(starts))
    if k > 1:
        parts = [starts[len(starts) * i // k:len(starts) * (i + 1) // k] for i in range(k)]
        futures = [_numpy_pool(threads).submit(share, part) for part in parts[1:]]
        share(parts[0])
        for f in futures:
            f.result()
    else:
        share(starts)
    everything = np.arange(n)
    ce = log_sums - (rows[everything, labels] - maxs[:, 0])
    out[everything, labels] -= dce  # minus onehot * dL/dce
    loss = np.dot(ce, w) / total if total != 0 else ce.dtype.type(0)
    return loss, grad


_POOLS = {}


def _numpy_pool(threads):
    if threads not in _POOLS:
        _POOLS[threads] = ThreadPoolExecutor(max_workers=threads - 1)
    return _POOLS[threads]


def numpy_threads(logits, targets, weights):
    return numpy_loss_and_grad(logits, targets, weights, threads=CORES)


def minigrad_fused(logits, targets, weights):
    z = mg.Tensor(logits, requires_grad=True)
    loss = mg.sequence_loss(z, targets, weights)
    loss.backward()
    return loss.item(), z.grad


def minigrad_composed(logits, targets, weights):
    z = mg.Tensor(logits, requires_grad=True)
    loss = mg.sequence_loss_composed(z, targets, weights)
    loss.backward()
    return loss.item(), z.grad


def torch_impl(torch):
    def torch_loss_and_grad(logits, targets, weights):
        z = torch.from_numpy(logits).requires_grad_()  # shares the NumPy array's memory: no copy
        v = logits.shape[-1]
        t, w = torch.from_numpy(targets).reshape(-1), torch.from_numpy(weights).reshape(-1)
        ce = torch.nn.functional.cross_entropy(z.reshape(-1, v), t, reduction="none")
        loss = (ce * w).sum() / w.sum()
        loss.backward()
        return loss.item(), z.grad.numpy()
    return torch_loss_and_grad


def make_inputs(shape, dtype, seed=0):
    """Logits, targets and a padding mask: each sequence has a random length in [T/2, T]."""
    rng = np.random.default_rng(seed)
    b, t, v = shape
    logits = rng.standard_normal(shape, dtype=np.dtype(dtype).type)  # float32 or float64, no copy
    logits *= 2
    targets = rng.integers(0, v, size=(b, t))  # int64: what PyTorch's cross_entropy wants
    lengths = rng.integers(t // 2, t + 1, size=b)
    weights = (np.arange(t)[None, :] < lengths[:, None]).astype(dtype)
    return logits, targets, weights


def check_agreement(results, dtype):
    """Every implementation's loss and gradient against minigrad fused's, or AssertionError."""
    loss0, grad0 = results["minigrad fused"]
    scale = float(np.abs(grad0).max())
    rtol, atol = (1e-4, 1e-5 * scale) if dtype == np.float32 else (1e-9, 1e-12 * scale)
    for name, (loss, grad) in results.items():
        assert np.isclose(loss, loss0, rtol=rtol, atol=0), f"{name}: loss {loss!r} != {loss0!r}"
        assert grad.shape == grad0.shape and grad.dtype == grad0.dtype, f"{name}: gradient {grad.shape} {grad.dtype}"
        bad = np.abs(grad - grad0) > atol + rtol * np.abs(grad0)
        assert not bad.any(), f"{name}: {int(bad.sum())} gradient entries differ from minigrad fused's"


def copy_impls(src):
    """Copies of ``src`` into memory written once before (no page faults), on one thread and on every core.

    The faster is the machine's copy bandwidth. The loss must read the logits once and write the gradient
    once, which at that bandwidth takes as long as such a copy: the bound. They are timed in the rounds of
    the loss (:func:`bench_loss`), so that the bound and the loss see the same conditions, and each round's
    ratio of the loss to its fastest copy is a ratio like the others.
    """
    flat = src.reshape(-1)
    dst = np.empty_like(flat)
    dst.fill(0)  # touch every page before timing
    pool = _numpy_pool(CORES + 1)  # CORES threads

    def copy(threads):
        cuts = [flat.size * i // threads for i in range(threads + 1)]
        jobs = [pool.submit(np.copyto, dst[a:b], flat[a:b]) for a, b in zip(cuts[:-1], cuts[1:])]
        for j in jobs:
            j.result()

    np.copyto(dst, flat)
    return {"copy, one thread": lambda *_: np.copyto(dst, flat),
            f"copy, {CORES} threads": lambda *_: copy(CORES)}
