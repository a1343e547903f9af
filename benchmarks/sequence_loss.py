"""How fast is minigrad's sequence_loss? Forward + backward against PyTorch and hand-written NumPy.

Run ``make bench`` (or ``.venv/bin/python benchmarks/sequence_loss.py``); ``--quick`` for a
smaller run. Five implementations compute the same thing, the default ``sequence_loss``
(weighted mean cross-entropy over padded sequences) and its gradient wrt the logits:

  minigrad fused     ``mg.sequence_loss`` then ``.backward()`` (the fused cross-entropy primitive)
  minigrad composed  ``mg.sequence_loss_composed`` then ``.backward()`` (autodiff through log_softmax)
  numpy              the fastest hand-written NumPy we know, on one thread (:func:`numpy_loss_and_grad`)
  numpy threads      the same on every core, a contiguous share of the blocks per thread
  torch              ``cross_entropy(reduction='none') * w / sum(w)`` on the CPU, when torch is installed

All of them get the same arrays; their losses and gradients are checked against each other
before anything is timed. Rounds are interleaved (each round runs every implementation
once, in a rotating order), so a slow spell of the machine hits them all alike. Before its
timed call, each implementation runs untimed for WARMUP_S, so that it is timed as in a loop
of its own: PyTorch's OpenMP threads spin for about 20 ms after a call, holding a core that
the next implementation's threads would need. glibc's malloc thresholds are fixed
(:func:`steady_malloc`), so that whether an allocation costs page faults does not depend on
what ran before.

Load. While it times, the script reads the CPU time of the whole machine and of this process
(/proc/stat, /proc/self/stat) over windows of at least a quarter of a second, so it knows how
much of the machine other processes used during each round. Rounds in a window where they
used more than LOAD_LIMIT of it are refused and run again (up to EXTRA_ROUNDS times as many);
if too few quiet rounds remain, the result is computed from all rounds and flagged
``under_load``. Each ratio is the median over the quiet rounds of the ratio within a round
(same round, same conditions), with its spread: the 25th and 75th percentiles.

Peak extra memory is measured in the first, untimed call with tracemalloc (which sees NumPy's
allocations) and given as a multiple of the logits' bytes; PyTorch allocates outside
tracemalloc's view, so for it we report the growth of the peak resident set size instead
(Linux only). Further measurements: the copy bandwidth of the machine (the bound for a loss
that reads the logits once and writes the gradient once), the autodiff engine's overhead per
operation on long chains of tiny tensors (tensor operands and Python-number operands), the
fixed cost of a call, where the fused path's time goes at the small shape (its kernels alone
against the whole call), its forward and backward apart at the largest shape, and each step of
the softmax cross-entropy alone ("where the time goes").

The results go to _build/bench/results.json (not tracked by git) with a description of the
machine, and the script compares them with the recorded run in benchmarks/results.json, which
the book's appendix "How fast is minigrad?" (book/speed.ipynb) shows. ``--record`` writes the
recorded run itself (then re-execute the appendix).
"""

from __future__ import annotations

import argparse
import ctypes
import datetime
import gc
import json
import os
import platform
import sys
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# The run the book shows, and where a reader's own run goes (untracked, so `make bench` never changes the book).
RECORDED = ROOT / "benchmarks" / "results.json"
OUTPUT = ROOT / "_build" / "bench" / "results.json"
sys.path.insert(0, str(ROOT))  # benchmark the minigrad of this checkout, whatever is installed
import minigrad as mg  # noqa: E402
from minigrad import fused  # noqa: E402

NO_TORCH = "n/a (torch not installed)"
try:
    CORES = len(os.sched_getaffinity(0))  # the CPUs this process may use
except AttributeError:  # not Linux
    CORES = os.cpu_count() or 1

# Shape [batch, time, vocab] -> quiet interleaved rounds wanted. The composed path takes ~10 s at the largest.
FULL = {(8, 64, 1000): 200, (32, 128, 8000): 10, (32, 128, 32000): 15}
QUICK = {(8, 64, 1000): 60, (32, 128, 8000): 5}
DTYPES = (np.float32, np.float64)
# The composed path takes ~10 s a call at the largest shape: where its first call takes longer than
# SLOW_CALL_S, it is timed in only SLOW_ROUNDS of the rounds (and takes no part in the ratios).
SLOW_CALL_S, SLOW_ROUNDS = 3.0, 3
CHAIN_OPS = 10_000
# Each implementation's chain runs this many times per round of the per-op measurement; the round keeps the best.
CHAIN_REPEATS = 3
# A round is refused when other processes used more than this share of the machine's CPU time
# (all cores together) during it; refused rounds are run again, up to EXTRA_ROUNDS x the rounds wanted.
LOAD_LIMIT, EXTRA_ROUNDS, LOAD_WINDOW_S = 0.10, 3, 0.25
# Before each timed call an implementation runs untimed for this long (see warm_up), unless its calls
# take longer than SKIP_WARMUP_S (then what ran before is a small part of the call).
WARMUP_S, SKIP_WARMUP_S = 0.03, 0.5
LARGE = ((32, 128, 32000), "float32")
SMALL = (8, 64, 1000)

# The targets, float32, forward + backward: (name, what is compared, where, limit).
TARGETS = [
    ("fused <= 0.3x PyTorch at [32, 128, 32000]", "torch", LARGE, 0.3),
    ("fused <= 0.5x PyTorch at [8, 64, 1000]", "torch", ((8, 64, 1000), "float32"), 0.5),
    ("fused <= 1.0x the best one-buffer NumPy, every shape", "numpy", "float32", 1.0),
    ("fused <= 5x the copy-bandwidth bound at [32, 128, 32000]", "bound", LARGE, 5.0),
    ("per-op overhead <= 1.0x PyTorch, tensor operands", "per_op", "tensor operands", 1.0),
    ("per-op overhead <= 1.0x PyTorch, Python-number operands", "per_op", "number operands", 1.0),
    ("fused peak extra memory <= 1.1x the logits, every shape", "memory", "float32", 1.1),
]


# -- the implementations ------------------------------------------------------------------

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


# -- measuring ------------------------------------------------------------------------------

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


def timed(f, *args):
    """Wall seconds and process CPU seconds (all threads) of one call, with the garbage collector off.

    No gc.collect() before the call: walking every Python object evicts the CPU caches, which
    added ~0.2 ms to a 1 ms call (and minigrad's graphs have no cycles to collect anyway).
    """
    gc.disable()
    try:
        cpu, start = time.process_time(), time.perf_counter()
        result = f(*args)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        gc.enable()
    del result
    return seconds, cpu


class LoadMeter:
    """How much of the machine's CPU time other processes used, over windows of >= LOAD_WINDOW_S (Linux).

    ``mark()`` after each round; the rounds since the last closed window get that window's share
    (0 = the machine was ours, 0.5 = one of two cores was busy elsewhere, counting time the
    hypervisor gave to other machines). Without /proc every share is None.
    """

    def __init__(self):
        self.shares, self._pending = [], 0
        self._start = self._read()

    @staticmethod
    def _read():
        try:
            with open("/proc/stat") as fh:
                v = [int(x) for x in fh.readline().split()[1:9]]  # user nice system idle iowait irq softirq steal
            with open("/proc/self/stat") as fh:
                mine = fh.read().rsplit(")", 1)[1].split()
            return time.perf_counter(), sum(v), sum(v) - v[3] - v[4], int(mine[11]) + int(mine[12])
        except (OSError, ValueError, IndexError):
            return None

    def mark(self, final=False):
        self._pending += 1
        if self._start is None:
            self.shares.append(None)
            self._pending = 0
            return
        now = self._read()
        if now[0] - self._start[0] < LOAD_WINDOW_S and not final:
            return
        total, busy, mine = (now[i] - self._start[i] for i in (1, 2, 3))
        share = max(0.0, (busy - mine) / total) if total > 0 else 0.0
        self.shares += [round(share, 3)] * self._pending
        self._pending, self._start = 0, now

    def close(self):
        if self._pending:
            self._pending -= 1
            self.mark(final=True)
        return self.shares


def peak_tracemalloc(f, *args):
    """``f``'s result, and the peak bytes NumPy and Python allocated during ``f`` (the result included)."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        result = f(*args)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, peak - base


def _status_bytes(field):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise OSError(field)


def peak_rss_growth(f, *args):
    """Growth of the peak resident set size during ``f`` (Linux), or None where it cannot be measured."""
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # resets VmHWM, the peak RSS, to the current RSS
        base = _status_bytes("VmRSS")
        result = f(*args)
        peak = _status_bytes("VmHWM")
    except OSError:
        return None
    del result
    return peak - base


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


def spread(values):
    """Median, 25th and 75th percentile of ``values`` (None for none)."""
    if len(values) == 0:
        return None
    p25, median, p75 = np.percentile(values, [25, 50, 75])
    return {"median": float(median), "p25": float(p25), "p75": float(p75)}


def warm_up(f, args, last):
    """Untimed calls of ``f`` for WARMUP_S (at least one), unless its last timed call took longer than
    SKIP_WARMUP_S: the call that follows is timed as in a loop of its own.

    What ran before can slow the first calls down: PyTorch's OpenMP threads keep spinning for about
    20 ms after its call (on 2 cores they hold the core minigrad's or NumPy's second thread needs; the
    fused path then took 1.1 ms instead of 0.75 at [8, 64, 1000]), and caches hold the previous
    implementation's data.
    """
    if last is not None and last > SKIP_WARMUP_S:
        return
    end = time.perf_counter() + WARMUP_S
    while True:
        result = f(*args)
        del result
        if time.perf_counter() >= end:
            return


def interleaved(impls, args, rounds, cap=None):
    """Time every implementation once per round, in a rotating order, until ``rounds`` quiet rounds;
    before its timed call, an implementation warms up (:func:`warm_up`).

    Returns the times (wall, cpu) of every round, each round's load share, and which rounds were quiet.
    """
    names, cap = list(impls), cap or {}
    times = {name: [] for name in names}
    last = dict.fromkeys(names)
    meter, r = LoadMeter(), 0
    while True:
        for name in names[r % len(names):] + names[:r % len(names)]:  # rotate the order
            if r < cap.get(name, 1 << 30):
                warm_up(impls[name], args, last[name])
                times[name].append(timed(impls[name], *args))
                last[name] = times[name][-1][0]
            else:
                times[name].append(None)
        meter.mark()
        r += 1
        if r >= rounds:  # enough quiet rounds (those of the window still open count as quiet), or the limit
            quiet = sum(1 for s in meter.shares if s is None or s <= LOAD_LIMIT) + meter._pending
            if quiet >= rounds or r >= rounds * (1 + EXTRA_ROUNDS):
                break
    shares = meter.close()
    quiet = [s is None or s <= LOAD_LIMIT for s in shares]
    return times, shares, quiet


def rounds_to_use(quiet, rounds):
    """``(under_load, use)``: which rounds a result uses: the quiet ones, or all of them, flagged
    ``under_load``, when fewer than ``max(3, rounds // 2)`` were quiet.
    """
    under_load = sum(quiet) < max(3, rounds // 2)
    return under_load, [True] * len(quiet) if under_load else quiet


def bench_loss(impls, shape, dtype, rounds, log, copies=False):
    """One shape and dtype: every implementation, in interleaved rounds.

    With ``copies``, the copies of :func:`copy_impls` run in the same rounds (the bandwidth bound, measured
    under the same conditions as the loss); the entry's ``bandwidth`` gives them.
    """
    logits, targets, weights = make_inputs(shape, dtype)
    args = (logits, targets, weights)
    fingerprint = float(np.sum(logits, dtype=np.float64))

    # One untimed call each: it warms up, its results are checked against each other, and for the
    # NumPy-based implementations it is also the memory measurement (tracemalloc slows nothing that matters
    # here, and the composed path takes ~10 s a call at the largest shape, so we do not call it once more).
    # The fused path's buffer cache is emptied first, so that its memory is that of a first call.
    outputs, memory, cap = {}, {}, {}
    for name, f in impls.items():
        start = time.perf_counter()
        if name == "torch":
            outputs[name] = f(*args)
        else:
            fused.empty_cache()
            outputs[name], memory[name] = peak_tracemalloc(f, *args)
        if name == "minigrad composed" and time.perf_counter() - start > SLOW_CALL_S:
            cap[name] = SLOW_ROUNDS
    check_agreement(outputs, dtype)
    del outputs
    assert float(np.sum(logits, dtype=np.float64)) == fingerprint, "an implementation modified its input"

    extra = copy_impls(logits) if copies else {}
    times, shares, quiet = interleaved({**impls, **extra}, args, rounds, cap)
    if "torch" in impls:
        memory["torch"] = peak_rss_growth(impls["torch"], *args)

    n_quiet = sum(quiet)
    under_load, use = rounds_to_use(quiet, rounds)
    entry = {"shape": list(shape), "dtype": np.dtype(dtype).name, "logits_bytes": logits.nbytes,
             "padding_fraction": round(1 - float(weights.mean()), 4), "rounds_wanted": rounds,
             "rounds_run": len(quiet), "rounds_quiet": n_quiet, "under_load": under_load,
             "load_share": spread([s for s in shares if s is not None]), "results": {}}
    wall = {name: [t[0] if t is not None and u else None for t, u in zip(times[name], use)] for name in times}
    for name in impls:
        t = np.array([x for x in wall[name] if x is not None])
        if t.size == 0:  # a capped implementation whose few rounds were all refused: use them, flagged
            t = np.array([x[0] for x in times[name] if x is not None])
            entry["results_under_load"] = entry.get("results_under_load", []) + [name]
        cpu = [c[1] / c[0] for c, u in zip(times[name], use) if c is not None and u and c[0] > 0]
        m = memory[name]
        entry["results"][name] = {
            "median_s": float(np.median(t)), "min_s": float(t.min()), "p25_s": float(np.percentile(t, 25)),
            "p75_s": float(np.percentile(t, 75)), "times_s": [float(x) for x in t],
            "cpu_per_wall": float(np.median(cpu)) if cpu else None,
            "peak_extra_bytes": m, "peak_extra_x": None if m is None else m / logits.nbytes,
            "memory_method": "peak RSS growth" if name == "torch" else "tracemalloc"}

    def per_round(name, reference):
        """Spread of this implementation's time / the reference's, within each round both ran in."""
        ratios = [a / b for a, b in zip(wall[name], reference) if a is not None and b is not None]
        return spread(ratios) if len(ratios) >= 3 else None

    best_numpy = [min(x for x in xs if x is not None) if any(x is not None for x in xs) else None
                  for xs in zip(*(wall[n] for n in ("numpy", "numpy threads") if n in impls))]
    for name, r in entry["results"].items():
        r["vs_torch_spread"] = per_round(name, wall["torch"]) if "torch" in impls else None
        r["vs_numpy_spread"] = per_round(name, best_numpy)
        r["vs_torch"] = r["vs_torch_spread"]["median"] if r["vs_torch_spread"] else None
        r["vs_numpy"] = r["vs_numpy_spread"]["median"] if r["vs_numpy_spread"] else None
    if extra:
        # the bound of each round: its fastest copy; the loss against it, round by round
        bound = [min(xs) for xs in zip(*(wall[n] for n in extra)) if None not in xs]
        copy_s = {name: min(x for x in wall[name] if x is not None) for name in extra}
        best = min(copy_s, key=copy_s.get)
        nbytes = 2 * logits.nbytes
        entry["bandwidth"] = {
            "shape": list(shape), "dtype": np.dtype(dtype).name, "bytes_copied": nbytes,
            "copy_ms": {k: v * 1e3 for k, v in copy_s.items()}, "best": best,
            "bound_spread_ms": {k: v * 1e3 for k, v in (spread(bound) or {}).items()} or None,
            "bandwidth_gb_s": nbytes / copy_s[best] / 1e9, "bound_ms": copy_s[best] * 1e3,
            "rounds_quiet": n_quiet, "under_load": under_load,
            "fused_over_bound_spread": per_round("minigrad fused", bound)}
    log(entry)
    return entry


def chain(x, a, b, ops):
    """``ops`` operations: y = (y * a + b), repeated; then backward through all of them."""
    start = time.perf_counter()
    y = x
    for _ in range(ops // 2):
        y = y * a
        y = y + b
    mid = time.perf_counter()
    y.sum().backward()
    end = time.perf_counter()
    return mid - start, end - mid


def bench_per_op(torch, rounds):
    """Forward and backward time per operation of long chains of [16]-element float64 tensors.

    Two chains: y = y * a + b with ``a`` and ``b`` tensors that require gradients, and with ``a``
    and ``b`` Python numbers. Each round runs minigrad's and PyTorch's chain CHAIN_REPEATS times,
    alternating, and keeps each one's best; the ratio is taken within the round.
    """
    def minigrad_chain(numbers):
        x = mg.Tensor(np.full(16, 0.5), requires_grad=True)
        if numbers:
            return chain(x, 0.999, 0.001, CHAIN_OPS)
        a, b = (mg.Tensor(np.full(16, c), requires_grad=True) for c in (0.999, 0.001))
        return chain(x, a, b, CHAIN_OPS)

    def torch_chain(numbers):
        x = torch.full((16,), 0.5, dtype=torch.float64, requires_grad=True)
        if numbers:
            return chain(x, 0.999, 0.001, CHAIN_OPS)
        a, b = (torch.full((16,), c, dtype=torch.float64, requires_grad=True) for c in (0.999, 0.001))
        return chain(x, a, b, CHAIN_OPS)

    out = {"ops": CHAIN_OPS, "tensor": "[16] float64", "chain": "y = y * a; y = y + b; ...; y.sum().backward()",
           "rounds_wanted": rounds, "repeats_per_round": CHAIN_REPEATS}
    for kind, numbers in (("tensor operands", False), ("number operands", True)):
        impls = {"minigrad": lambda: minigrad_chain(numbers)}
        if torch is not None:
            impls["torch"] = lambda: torch_chain(numbers)
        for f in impls.values():
            f()  # warm-up
        runs = {name: [] for name in impls}
        meter, r = LoadMeter(), 0
        while True:
            best = {}
            for _ in range(CHAIN_REPEATS):  # alternating, so that a slow spell hits both
                for name in list(impls)[r % len(impls):] + list(impls)[:r % len(impls)]:
                    gc.collect()
                    gc.disable()
                    try:
                        fwd_bwd = impls[name]()
                    finally:
                        gc.enable()
                    if name not in best or sum(fwd_bwd) < sum(best[name]):
                        best[name] = fwd_bwd
            for name in impls:
                runs[name].append(best[name])
            meter.mark(final=True)  # a round is long enough (tens of ms) for its own window
            r += 1
            quiet = [s is None or s <= LOAD_LIMIT for s in meter.shares]
            if sum(quiet) >= rounds or r >= rounds * (1 + EXTRA_ROUNDS):
                break
        under_load, use = rounds_to_use(quiet, rounds)
        res = {"rounds_run": r, "rounds_quiet": sum(quiet), "under_load": under_load,
               "load_share": spread([s for s in meter.shares if s is not None])}
        totals = {}
        for name, rr in runs.items():
            fwd, bwd = np.array([x for x, u in zip(rr, use) if u]).T / CHAIN_OPS
            totals[name] = fwd + bwd
            res[name] = {"forward_us": float(np.median(fwd) * 1e6), "backward_us": float(np.median(bwd) * 1e6),
                         "total_us": float(np.median(fwd + bwd) * 1e6), "min_total_us": float((fwd + bwd).min() * 1e6)}
        res["ratio_spread"] = spread(totals["minigrad"] / totals["torch"]) if torch is not None else None
        res["ratio"] = res["ratio_spread"]["median"] if torch is not None else None
        res["ratio_of_minima"] = float(totals["minigrad"].min() / totals["torch"].min()) if torch is not None else None
        out[kind] = res
    return out


def bench_fixed_cost(impls, rounds, shape=(8, 64, 1)):
    """Median seconds of the loss at vocabulary size 1: the cost of a call, whatever the arithmetic."""
    logits, targets, weights = make_inputs(shape, np.float32)
    times, shares, quiet = interleaved(impls, (logits, targets, weights), rounds)
    under_load, use = rounds_to_use(quiet, rounds)
    return {"shape": list(shape), "dtype": "float32", "rounds_run": len(quiet), "rounds_quiet": sum(quiet),
            "under_load": under_load,
            "median_us": {name: float(np.median([x[0] for x, u in zip(t, use) if u]) * 1e6)
                          for name, t in times.items()}}


def small_split(shape, dtype, rounds):
    """Where minigrad fused's time goes at a small shape, in interleaved rounds.

    The fused primitive's kernels called directly (no engine, no input checks) next to the whole
    call, and the NumPy function: per round, the backward kernel's share is (forward + backward)
    minus forward, and the engine's (checks, graph, the other operations) is the whole call minus
    both kernels. Medians over the quiet rounds, in microseconds.
    """
    logits, targets, weights = make_inputs(shape, dtype)
    n, v = logits.shape[0] * logits.shape[1], logits.shape[2]
    rows, labels = logits.reshape(n, v), targets.reshape(n)
    g = (weights / weights.sum()).reshape(n)  # d loss / d ce: what the primitive's backward gets
    primitive = fused.SparseSoftmaxCrossEntropy

    def forward(*_):
        return primitive.forward(rows, labels)

    def forward_backward(*_):
        ce, saved = primitive.forward(rows, labels)
        return primitive.vjp(g, ce, rows, labels, **saved)

    impls = {"whole call": minigrad_fused, "forward kernel": forward, "both kernels": forward_backward,
             "numpy": numpy_loss_and_grad, "numpy threads": numpy_threads}
    times, _, quiet = interleaved(impls, (logits, targets, weights), rounds)
    under_load, use = rounds_to_use(quiet, rounds)
    wall = {name: np.array([x[0] for x, u in zip(t, use) if u]) for name, t in times.items()}
    parts = {"forward kernel": wall["forward kernel"],
             "backward kernel": wall["both kernels"] - wall["forward kernel"],
             "engine and checks": wall["whole call"] - wall["both kernels"],
             "whole call": wall["whole call"],
             "numpy": wall["numpy"], "numpy threads": wall["numpy threads"]}
    return {"shape": list(shape), "dtype": np.dtype(dtype).name, "rounds_run": len(quiet),
            "rounds_quiet": sum(quiet), "under_load": under_load, "threads": fused.get_num_threads(),
            "median_us": {name: float(np.median(x) * 1e6) for name, x in parts.items()}}


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


def fused_phases(shape, dtype, rounds):
    """minigrad fused's forward and backward timed apart, with a cached and with a fresh gradient buffer."""
    logits, targets, weights = make_inputs(shape, dtype)

    def run(fresh):
        if fresh:
            fused.empty_cache()
        z = mg.Tensor(logits, requires_grad=True)
        t0 = time.perf_counter()
        loss = mg.sequence_loss(z, targets, weights)
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        return t1 - t0, t2 - t1

    run(False)
    labels = {"reused buffer": False, "fresh buffer": True}
    times = {label: [] for label in labels}
    gc.disable()
    try:
        for _ in range(rounds):  # alternating, so that a slow spell of the machine hits both alike
            for label, fresh in labels.items():
                times[label].append(run(fresh))
    finally:
        gc.enable()
    out = {}
    for label, t in times.items():
        phases = np.array(t)
        out[label] = {"forward_ms": float(np.median(phases[:, 0]) * 1e3),
                      "backward_ms": float(np.median(phases[:, 1]) * 1e3),
                      "total_ms": float(np.median(phases.sum(axis=1)) * 1e3)}
    return {"shape": list(shape), "dtype": np.dtype(dtype).name, "rounds": rounds,
            "threads": fused.get_num_threads(), **out}


def time_breakdown(shape, dtype, rounds):
    """Where the time of the fused forward + backward goes: each step timed alone, whole arrays.

    Not minigrad's code path (that one works on blocks, where the steps overlap in the cache,
    and on every core), but the same steps, in the order minigrad's primitive and TensorFlow's
    kernel run them, on one thread.
    """
    logits, targets, _ = make_inputs(shape, dtype)
    n, v = logits.shape[0] * logits.shape[1], logits.shape[2]
    rows, labels = logits.reshape(n, v), targets.reshape(n)
    g = np.full((n, 1), 1 / n, dtype)
    steps = {}
    for _ in range(rounds):
        clock = time.perf_counter()

        def lap(name):
            nonlocal clock
            now = time.perf_counter()
            steps.setdefault(name, []).append(now - clock)
            clock = now

        buf = np.empty_like(rows)
        buf.fill(0)
        lap("allocate [N, V] (page faults)")
        m = rows.max(axis=1, keepdims=True)
        lap("row maximum")
        np.subtract(rows, m, out=buf)
        lap("subtract maximum")
        np.exp(buf, out=buf)
        lap("exp")
        s = buf.sum(axis=1, keepdims=True)
        lap("row sum")
        np.divide(buf, s, out=buf)
        lap("divide by sum")
        buf[np.arange(n), labels] -= 1
        lap("subtract one-hot")
        buf *= g
        lap("multiply by upstream gradient")
        del buf
    return {"shape": list(shape), "dtype": np.dtype(dtype).name, "rounds": rounds,
            "steps_ms": {k: float(np.median(t) * 1e3) for k, t in steps.items()}}


def _openblas():
    """OpenBLAS's version line and threads, read from the library NumPy loaded (Linux), or Nones."""
    try:
        with open("/proc/self/maps") as fh:
            paths = {line.split()[-1] for line in fh if "openblas" in line.lower()}
    except OSError:
        return None, None
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        config = threads = None
        for prefix in ("scipy_openblas", "openblas"):
            for suffix in ("64_", ""):
                f = getattr(lib, f"{prefix}_get_config{suffix}", None)
                if f is not None and config is None:
                    f.restype = ctypes.c_char_p
                    config = f().decode()
                f = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                if f is not None and threads is None:
                    threads = int(f())
        if config is not None:
            return config, threads
    return None, None


# glibc's mallopt parameters, and the values its own adjustment rises to at most on 64-bit systems
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD, TRIM_THRESHOLD = 32 << 20, 64 << 20


def steady_malloc():
    """Fix glibc's malloc thresholds at the values its own adjustment reaches at most (Linux); returns them,
    or None where there is no glibc.

    By default glibc adjusts, as a process runs, which allocations get fresh pages from the operating
    system (each page a page fault on its first write) and which reuse freed memory, after the history
    of earlier allocations. The same call can then take two very different times: at [8, 64, 1000]
    PyTorch took either ~0.4 ms with no page fault or over 1 ms with ~500 (one fresh 2 MB array), in
    runs of minutes, depending on what ran before. Fixed thresholds give every implementation the same
    rule in every run: arrays of 32 MiB or more always get fresh pages, smaller ones reuse memory.
    """
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return None
    if not (mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)):
        return None
    return {"mmap_threshold": MMAP_THRESHOLD, "trim_threshold": TRIM_THRESHOLD}


def machine(torch):
    cpu, flags = "unknown", set()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name") and cpu == "unknown":
                    cpu = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and not flags:
                    flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    try:
        memory_gib = round(_status_meminfo() / 2 ** 30, 1)
    except OSError:
        memory_gib = None
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    dispatch = [name for name in __cpu_dispatch__ if __cpu_features__.get(name)]
    blas, blas_threads = _openblas()
    simd = [f for f in ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl") if f in flags]
    return {"platform": platform.platform(), "machine": platform.machine(), "cpu_model": cpu,
            "cores": os.cpu_count(), "cores_usable": CORES, "memory_gib": memory_gib,
            "cpu_simd_flags": simd, "numpy_dispatch": dispatch,
            "numpy_dispatch_best": dispatch[-1] if dispatch else "baseline",
            "openblas": blas, "openblas_threads": blas_threads, "minigrad_threads": fused.get_num_threads(),
            "load_at_start": cpu_busy(), "loadavg_at_start": _loadavg(),
            "python": platform.python_version(),
            "numpy": np.__version__, "minigrad": mg.__version__,
            "torch": torch.__version__ if torch is not None else None,
            "torch_threads": torch.get_num_threads() if torch is not None else None,
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def _loadavg():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def cpu_busy(seconds=1.0):
    """Share of the machine's CPU time other processes used while we slept ``seconds`` (Linux), or None."""
    meter = LoadMeter()
    time.sleep(seconds)
    meter.mark(final=True)
    return meter.shares[0]


def _status_meminfo():
    with open("/proc/meminfo") as fh:
        return int(fh.readline().split()[1]) * 1024  # MemTotal, the first line


# -- reporting ------------------------------------------------------------------------------

def fmt_time(s):
    return f"{s * 1e3:8.2f} ms" if s < 10 else f"{s:8.2f} s "


def fmt_ratio(x):
    return f"{x:6.2f}x" if x is not None else "    n/a"


def fmt_spread(s):
    return f"{s['median']:5.2f}x [{s['p25']:.2f}-{s['p75']:.2f}]" if s else f"{'n/a':>18}"


def print_entry(entry):
    shape = "[" + ", ".join(map(str, entry["shape"])) + "]"
    load = entry["load_share"]
    note = (f"  {entry['rounds_quiet']} of {entry['rounds_run']} rounds quiet"
            + (f", others' share of the CPU median {load['median']:.0%}" if load else "")
            + ("  UNDER LOAD: all rounds used, ratios unreliable" if entry["under_load"] else ""))
    for name, r in entry["results"].items():
        mem = f"{r['peak_extra_x']:6.2f}x" if r["peak_extra_x"] is not None else "    n/a"
        mark = "*" if r["memory_method"] != "tracemalloc" else " "
        print(f"{shape:<17} {entry['dtype']:<8} {name:<18} {fmt_time(r['median_s'])} {fmt_time(r['min_s'])}"
              f"  {fmt_spread(r['vs_torch_spread'])}  {fmt_spread(r['vs_numpy_spread'])}  {mem}{mark}", flush=True)
    print(note, flush=True)


def evaluate_targets(loss_entries, per_op, bandwidth):
    out = []
    for name, kind, where, limit in TARGETS:
        values, flagged = [], False
        if kind in ("torch", "numpy", "memory", "bound"):
            for e in loss_entries:
                key = (tuple(e["shape"]), e["dtype"])
                if (key != where) if isinstance(where, tuple) else (e["dtype"] != where):
                    continue
                r = e["results"]["minigrad fused"]
                if kind == "bound":
                    values.append(bandwidth["fused_over_bound_spread"] if bandwidth else None)
                    flagged |= bool(bandwidth and bandwidth["under_load"])
                elif kind == "memory":
                    values.append(None if r["peak_extra_x"] is None else {"median": r["peak_extra_x"]})
                else:
                    values.append(r[f"vs_{kind}_spread"])
                flagged |= e["under_load"] and kind != "memory"
        else:
            values.append(per_op[where]["ratio_spread"])
            flagged |= per_op[where]["under_load"]
        if not values or None in values:
            measured = None
        else:
            measured = max(values, key=lambda v: v["median"])  # the worst shape
        met = None if measured is None else bool(measured["median"] <= limit)
        out.append({"target": name, "limit": limit, "measured": None if measured is None else measured["median"],
                    "spread": None if measured is None or "p25" not in measured else [measured["p25"], measured["p75"]],
                    "met": met, "under_load": flagged})
    return out


def compare_with_recorded(entries, recorded):
    """Print this run's medians as multiples of the recorded run's (the one the book shows)."""
    machine = recorded["machine"]
    print(f"\nthis run against the recorded run in {RECORDED.relative_to(ROOT)} "
          f"({machine['cpu_model']}, {machine['date']}): median time, this run / recorded")
    old = {(tuple(e["shape"]), e["dtype"]): e["results"] for e in recorded["sequence_loss"]}
    for e in entries:
        theirs = old.get((tuple(e["shape"]), e["dtype"]), {})
        shape = "[" + ", ".join(map(str, e["shape"])) + "]"
        cells = [f"{name} {r['median_s'] / theirs[name]['median_s']:.2f}x"
                 for name, r in e["results"].items() if name in theirs]
        print(f"  {shape:<17} {e['dtype']:<8} " + ("   ".join(cells) if cells else "not in the recorded run"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller shapes, fewer rounds (about a minute and a half)")
    parser.add_argument("--no-torch", action="store_true", help="behave as if torch were not installed")
    parser.add_argument("--output", type=Path, default=OUTPUT,
                        help="where to write the JSON results (default: _build/bench/results.json)")
    parser.add_argument("--record", action="store_true",
                        help=f"write {RECORDED.relative_to(ROOT)}, the run the book shows, instead")
    args = parser.parse_args(argv)
    if args.record:
        args.output = RECORDED

    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            torch = None
    shapes = QUICK if args.quick else FULL
    malloc = steady_malloc()
    info = machine(torch)
    info["malloc"] = malloc
    print(f"machine: {info['cpu_model']}, {info['cores']} cores ({info['cores_usable']} usable), "
          f"{info['memory_gib']} GiB, {info['platform']}")
    print(f"SIMD: NumPy dispatches up to {info['numpy_dispatch_best']}; {info['openblas']} "
          f"({info['openblas_threads']} threads)")
    print(f"numpy {info['numpy']}, minigrad {info['minigrad']} ({info['minigrad_threads']} threads), torch "
          + (f"{info['torch']} ({info['torch_threads']} threads)" if torch is not None else NO_TORCH))
    print("malloc: " + (f"fresh pages for arrays from {MMAP_THRESHOLD >> 20} MiB on, freed memory reused below "
                         "(fixed glibc thresholds)" if malloc else "the system's default (not glibc)"))
    busy = info["load_at_start"]
    print(f"load: other processes used {busy:.0%} of the CPU in the last second; load average "
          f"{info['loadavg_at_start']}" if busy is not None else "load: not measurable here (no /proc)")
    if busy is not None and busy > LOAD_LIMIT:
        print(f"WARNING: the machine is busy: rounds where others use more than {LOAD_LIMIT:.0%} of the CPU are "
              "refused and run again; where too few quiet rounds remain, results are flagged UNDER LOAD")
    print("\nsequence_loss forward + backward (weighted mean over padded sequences): median and min time of the")
    print("quiet rounds; ratios: median of the per-round ratio [25th-75th percentile] to PyTorch and to the best")
    print("one-buffer NumPy (one thread or all); peak extra memory in logits' bytes (* = peak RSS growth)\n")
    print(f"{'shape':<17} {'dtype':<8} {'implementation':<18} {'median':>11} {'min':>11}  {'/torch':>18}  "
          f"{'/numpy':>18}  {'memory':>7}")

    impls = {"minigrad fused": minigrad_fused, "minigrad composed": minigrad_composed,
             "numpy": numpy_loss_and_grad, "numpy threads": numpy_threads}
    if torch is not None:
        impls["torch"] = torch_impl(torch)
    entries = []
    largest = max(shapes, key=lambda s: np.prod(s))
    for shape, rounds in shapes.items():
        for dtype in DTYPES:
            copies = shape == largest and dtype == np.float32
            entries.append(bench_loss(impls, shape, dtype, rounds, print_entry, copies=copies))
    bandwidth = next(e.pop("bandwidth") for e in entries if "bandwidth" in e)

    per_op = bench_per_op(torch, rounds=7 if args.quick else 21)
    print(f"\nper-operation overhead, {CHAIN_OPS} operations on [16] float64 tensors (forward + backward), median:")
    for kind in ("tensor operands", "number operands"):
        p = per_op[kind]
        print(f"  {kind} ({p['rounds_quiet']} of {p['rounds_run']} rounds quiet"
              + (", UNDER LOAD" if p["under_load"] else "") + ")")
        for name in ("minigrad", "torch"):
            if name in p:
                q = p[name]
                print(f"    {name:<9} {q['total_us']:6.2f} us/op  (forward {q['forward_us']:.2f}, "
                      f"backward {q['backward_us']:.2f})")
            else:
                print(f"    {name:<9} {NO_TORCH}")
        if p["ratio"] is not None:
            print(f"    minigrad / torch: {fmt_spread(p['ratio_spread'])} (median of the rounds' ratios); "
                  f"fastest / fastest {p['ratio_of_minima']:.2f}x")

    fixed = bench_fixed_cost(impls, rounds=30 if args.quick else 100)
    print(f"\nthe cost of a call: forward + backward at {fixed['shape']} float32 (vocabulary 1), median:")
    for name, us in fixed["median_us"].items():
        print(f"  {name:<18} {us:7.0f} us")

    split = small_split(SMALL, np.float32, rounds=30 if args.quick else 100)
    print(f"\nwhere minigrad fused's time goes at {list(SMALL)} float32 on {split['threads']} threads "
          f"(median us over {split['rounds_quiet']} quiet rounds" + (", UNDER LOAD" if split["under_load"] else "")
          + "; the parts are per-round differences):")
    for name, us in split["median_us"].items():
        print(f"  {name:<18} {us:7.0f} us")

    b = bandwidth
    print(f"\ncopy bandwidth on {list(largest)} float32 ({b['bytes_copied'] / 1e9:.2f} GB read + written), in the "
          f"rounds of the loss ({b['rounds_quiet']} quiet" + (", UNDER LOAD" if b["under_load"] else "") + "), fastest: "
          + ", ".join(f"{k} {v:.1f} ms" for k, v in b["copy_ms"].items())
          + f"; {b['bandwidth_gb_s']:.1f} GB/s: the bound for the loss is {b['bound_ms']:.1f} ms "
          + (f"(rounds' fastest copy: median {b['bound_spread_ms']['median']:.1f} ms "
             f"[{b['bound_spread_ms']['p25']:.1f}-{b['bound_spread_ms']['p75']:.1f}])" if b["bound_spread_ms"] else ""))
    if b["fused_over_bound_spread"]:
        print(f"  minigrad fused / the round's fastest copy: {fmt_spread(b['fused_over_bound_spread'])}")

    phases = fused_phases(largest, np.float32, rounds=3 if args.quick else 7)
    print(f"\nminigrad fused at {list(largest)} float32 on {phases['threads']} threads, median ms:")
    for label in ("reused buffer", "fresh buffer"):
        p = phases[label]
        print(f"  {label:<14} forward {p['forward_ms']:7.1f}  backward {p['backward_ms']:7.1f}  "
              f"total {p['total_ms']:7.1f}")

    breakdown = time_breakdown(largest, np.float32, rounds=3 if args.quick else 5)
    print(f"\nwhere the time goes, {list(largest)} float32, each step alone on the whole array, one thread (median ms):")
    for step, ms in breakdown["steps_ms"].items():
        print(f"  {step:<32} {ms:8.1f}")

    targets = evaluate_targets(entries, per_op, bandwidth if tuple(largest) == LARGE[0] else None)
    print("\ntargets (float32, forward + backward; the worst shape; [25th-75th percentile of the rounds]):")
    for t in targets:
        state = "n/a" if t["met"] is None else ("met" if t["met"] else "MISSED")
        value = "n/a" if t["measured"] is None else f"{t['measured']:.2f}"
        extra = f" [{t['spread'][0]:.2f}-{t['spread'][1]:.2f}]" if t["spread"] else ""
        print(f"  {state:<6} {t['target']:<58} measured {value}{extra}"
              + ("  (UNDER LOAD)" if t["under_load"] else ""))

    info["load_at_end"] = cpu_busy()
    info["loadavg_at_end"] = _loadavg()
    results = {"machine": info, "quick": args.quick, "torch_available": torch is not None,
               "timing": "interleaved rounds, rotating order, gc off while timing; rounds where other processes "
                         f"used more than {LOAD_LIMIT:.0%} of the CPU refused; median, min and per-round ratios",
               "load_limit": LOAD_LIMIT,
               "under_load": any(e["under_load"] for e in entries) or any(
                   per_op[k]["under_load"] for k in ("tensor operands", "number operands")),
               "sequence_loss": entries, "per_op": per_op, "fixed_cost": fixed, "bandwidth": bandwidth,
               "fused_phases": phases, "small_split": split, "breakdown": breakdown, "targets": targets}
    if args.output.resolve() != RECORDED.resolve() and RECORDED.exists():
        compare_with_recorded(entries, json.loads(RECORDED.read_text()))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=1) + "\n")
    print(f"\nwrote {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")


if __name__ == "__main__":
    main()
