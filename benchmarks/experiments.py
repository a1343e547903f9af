"""The experiments, each a function of its parameters that returns a JSON-ready measurement (as an asv
or pytest-benchmark benchmark): the loss at one shape and dtype against every contender, the engine's
overhead per operation, the fixed cost of a call, where the fused path's time goes.
"""

from __future__ import annotations

import gc
import time

import numpy as np

import minigrad as mg
from contenders import (
    check_agreement,
    copy_impls,
    make_inputs,
    minigrad_fused,
    numpy_loss_and_grad,
    numpy_threads,
)
from harness import (
    EXTRA_ROUNDS,
    LOAD_LIMIT,
    LoadMeter,
    interleaved,
    peak_rss_growth,
    peak_tracemalloc,
    rounds_to_use,
    spread,
)
from minigrad import fused

# The composed path takes ~10 s a call at the largest shape: where its first call takes longer than
# SLOW_CALL_S, it is timed in only SLOW_ROUNDS of the rounds (and takes no part in the ratios).
SLOW_CALL_S, SLOW_ROUNDS = 3.0, 3
CHAIN_OPS = 10_000
# Each implementation's chain runs this many times per round of the per-op measurement; the round keeps the best.
CHAIN_REPEATS = 3


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
