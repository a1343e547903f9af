"""How fast is minigrad's sequence_loss? Forward + backward against PyTorch and hand-written NumPy.

Run ``make bench`` (or ``.venv/bin/python benchmarks/sequence_loss.py``); ``--quick`` for a
smaller run. Four implementations compute the same thing, the default ``sequence_loss``
(weighted mean cross-entropy over padded sequences) and its gradient wrt the logits:

  minigrad fused     ``mg.sequence_loss`` then ``.backward()`` (the fused cross-entropy primitive)
  minigrad composed  ``mg.sequence_loss_composed`` then ``.backward()`` (autodiff through log_softmax)
  numpy              the fastest hand-written NumPy we know (:func:`numpy_loss_and_grad`)
  torch              ``cross_entropy(reduction='none') * w / sum(w)`` on the CPU, when torch is installed

All four get the same arrays; their losses and gradients are checked against each other
before anything is timed. Rounds are interleaved (each round runs every implementation
once, in a rotating order), so a slow spell of the machine hits them all alike; we report
the median and the minimum. Peak extra memory is measured in the first, untimed call
with tracemalloc (which sees NumPy's allocations) and given as a multiple of the logits'
bytes; PyTorch allocates outside tracemalloc's view, so for it we report the growth of
the peak resident set size instead (Linux only). A second benchmark measures the
per-operation overhead of the autodiff engine on a long chain of tiny tensors, and a
third times each step of the softmax cross-entropy alone ("where the time goes").

The results go to _build/bench/results.json (not tracked by git) with a description of the
machine, and the script compares them with the recorded run in benchmarks/results.json, which
the book's appendix "How fast is minigrad?" (book/speed.ipynb) shows. ``--record`` writes the
recorded run itself (then re-execute the appendix).
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# The run the book shows, and where a reader's own run goes (untracked, so `make bench` never changes the book).
RECORDED = ROOT / "benchmarks" / "results.json"
OUTPUT = ROOT / "_build" / "bench" / "results.json"
sys.path.insert(0, str(ROOT))  # benchmark the minigrad of this checkout, whatever is installed
import minigrad as mg  # noqa: E402

NO_TORCH = "n/a (torch not installed)"

# Shape [batch, time, vocab] -> interleaved rounds. The composed path takes ~10 s at the largest.
FULL = {(8, 64, 1000): 200, (32, 128, 8000): 10, (32, 128, 32000): 5}
QUICK = {(8, 64, 1000): 60, (32, 128, 8000): 3}
DTYPES = (np.float32, np.float64)
# The composed path takes ~10 s a call at the largest shape: where its first call takes longer than
# SLOW_CALL_S, it is timed in only SLOW_ROUNDS of the rounds.
SLOW_CALL_S, SLOW_ROUNDS = 3.0, 3
CHAIN_OPS = 10_000

# The targets: (name, what is compared, limit).
TARGETS = [
    ("fused <= 0.5x PyTorch at [32, 128, 32000] float32", "torch", ((32, 128, 32000), "float32"), 0.5),
    ("fused <= 1.0x PyTorch at [8, 64, 1000] float32", "torch", ((8, 64, 1000), "float32"), 1.0),
    ("fused <= 1.3x hand-written NumPy at every shape", "numpy", None, 1.3),
    ("fused peak extra memory <= 2x the logits' bytes", "memory", None, 2.0),
    ("per-operation overhead <= 1.5x PyTorch's", "per_op", None, 1.5),
]


# -- the implementations ------------------------------------------------------------------

def numpy_loss_and_grad(logits, targets, weights, block_bytes=2 << 20):
    """The weighted mean cross-entropy and its gradient wrt ``logits``, in plain NumPy.

    The fastest we know how to write: one ``[B, T, V]`` array (the gradient) and nothing
    else of that size. A block of rows at a time, while the block is in the CPU cache, it is
    shifted by the row maximum, exponentiated, summed, and scaled straight into the gradient
    ``softmax * dL/dce`` (the forward and backward fused: no second pass over memory).
    Like TensorFlow it computes every row, padded or not, so a NaN logit still gives a NaN
    loss; skipping rows of weight 0 would be faster by the padding fraction.
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
    for start in range(0, n, step):
        block, p = slice(start, start + step), out[start:start + step]
        np.max(rows[block], axis=1, keepdims=True, out=maxs[block])
        np.subtract(rows[block], maxs[block], out=p)
        np.exp(p, out=p)
        sums = p.sum(axis=1, keepdims=True)
        np.log(sums[:, 0], out=log_sums[block])
        p *= dce[block, None] / sums  # softmax * dL/dce
    everything = np.arange(n)
    ce = log_sums - (rows[everything, labels] - maxs[:, 0])
    out[everything, labels] -= dce  # minus onehot * dL/dce
    loss = np.dot(ce, w) / total if total != 0 else ce.dtype.type(0)
    return loss, grad


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
    """Seconds for one call, with the garbage collector off (as timeit does); the result is dropped.

    No gc.collect() before the call: walking every Python object evicts the CPU caches, which
    added ~0.2 ms to a 1 ms call (and minigrad's graphs have no cycles to collect anyway).
    """
    gc.disable()
    try:
        start = time.perf_counter()
        result = f(*args)
        seconds = time.perf_counter() - start
    finally:
        gc.enable()
    del result
    return seconds


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


def bench_loss(impls, shape, dtype, rounds, log):
    logits, targets, weights = make_inputs(shape, dtype)
    args = (logits, targets, weights)
    fingerprint = float(np.sum(logits, dtype=np.float64))

    # One untimed call each: it warms up, its results are checked against each other, and for the
    # NumPy-based implementations it is also the memory measurement (tracemalloc slows nothing that matters
    # here, and the composed path takes ~10 s a call at the largest shape, so we do not call it once more).
    outputs, memory, cap = {}, {}, {}
    for name, f in impls.items():
        start = time.perf_counter()
        if name == "torch":
            outputs[name] = f(*args)
        else:
            outputs[name], memory[name] = peak_tracemalloc(f, *args)
        slow = name == "minigrad composed" and time.perf_counter() - start > SLOW_CALL_S
        cap[name] = min(rounds, SLOW_ROUNDS) if slow else rounds
    check_agreement(outputs, dtype)
    del outputs
    assert float(np.sum(logits, dtype=np.float64)) == fingerprint, "an implementation modified its input"

    names = list(impls)
    times = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:  # rotate the order
            if len(times[name]) < cap[name]:
                times[name].append(timed(impls[name], *args))
    if "torch" in impls:
        memory["torch"] = peak_rss_growth(impls["torch"], *args)

    entry = {"shape": list(shape), "dtype": np.dtype(dtype).name, "logits_bytes": logits.nbytes,
             "padding_fraction": round(1 - float(weights.mean()), 4), "rounds": rounds, "results": {}}
    for name in names:
        t = np.array(times[name])
        m = memory[name]
        entry["results"][name] = {"median_s": float(np.median(t)), "min_s": float(t.min()),
                                  "times_s": [float(x) for x in t],
                                  "peak_extra_bytes": m, "peak_extra_x": None if m is None else m / logits.nbytes,
                                  "memory_method": "peak RSS growth" if name == "torch" else "tracemalloc"}
    med = {name: entry["results"][name]["median_s"] for name in names}
    for name in names:
        r = entry["results"][name]
        r["vs_numpy"] = med[name] / med["numpy"]
        r["vs_torch"] = med[name] / med["torch"] if "torch" in med else None
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
    """Forward and backward time per operation of a long chain of [16]-element float64 tensors."""
    def minigrad_chain():
        x, a, b = (mg.Tensor(np.full(16, c), requires_grad=True) for c in (0.5, 0.999, 0.001))
        return chain(x, a, b, CHAIN_OPS)

    def torch_chain():
        x, a, b = (torch.full((16,), c, dtype=torch.float64, requires_grad=True) for c in (0.5, 0.999, 0.001))
        return chain(x, a, b, CHAIN_OPS)

    impls = {"minigrad": minigrad_chain}
    if torch is not None:
        impls["torch"] = torch_chain
    for f in impls.values():
        f()  # warm-up
    runs = {name: [] for name in impls}
    for _ in range(rounds):
        for name, f in impls.items():
            gc.collect()
            gc.disable()
            try:
                runs[name].append(f())
            finally:
                gc.enable()
    out = {"ops": CHAIN_OPS, "tensor": "[16] float64", "chain": "y = y * a; y = y + b; ...; y.sum().backward()",
           "rounds": rounds}
    for name, r in runs.items():
        fwd, bwd = np.array(r).T / CHAIN_OPS
        out[name] = {"forward_us": float(np.median(fwd) * 1e6), "backward_us": float(np.median(bwd) * 1e6),
                     "total_us": float(np.median(fwd + bwd) * 1e6), "min_total_us": float((fwd + bwd).min() * 1e6)}
    out["ratio"] = out["minigrad"]["total_us"] / out["torch"]["total_us"] if torch is not None else None
    return out


def bench_fixed_cost(impls, rounds, shape=(8, 64, 1)):
    """Median seconds of the loss at vocabulary size 1: the cost of a call, whatever the arithmetic."""
    logits, targets, weights = make_inputs(shape, np.float32)
    times = {name: [] for name in impls}
    for _ in range(rounds):
        for name, f in impls.items():
            times[name].append(timed(f, logits, targets, weights))
    return {"shape": list(shape), "dtype": "float32", "rounds": rounds,
            "median_us": {name: float(np.median(t) * 1e6) for name, t in times.items()}}


def time_breakdown(shape, dtype, rounds):
    """Where the time of the fused forward + backward goes: each step timed alone, whole arrays.

    Not minigrad's code path (that one works on blocks, where the steps overlap in the cache),
    but the same steps, in the order minigrad's primitive and TensorFlow's kernel run them.
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


def machine(torch):
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), cpu)
    except OSError:
        pass
    try:
        memory_gib = round(_status_meminfo() / 2 ** 30, 1)
    except OSError:
        memory_gib = None
    return {"platform": platform.platform(), "machine": platform.machine(), "cpu_model": cpu,
            "cores": os.cpu_count(), "memory_gib": memory_gib, "cpu_busy_at_start": cpu_busy(),
            "python": platform.python_version(),
            "numpy": np.__version__, "minigrad": mg.__version__,
            "torch": torch.__version__ if torch is not None else None,
            "torch_threads": torch.get_num_threads() if torch is not None else None,
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def cpu_busy(seconds=1.0):
    """Fraction of all cores other processes kept busy while we slept ``seconds`` (Linux), or None."""
    def ticks():
        with open("/proc/stat") as fh:
            values = [int(v) for v in fh.readline().split()[1:]]
        return sum(values), values[3] + values[4]  # total, idle + iowait
    try:
        total0, idle0 = ticks()
        time.sleep(seconds)
        total1, idle1 = ticks()
    except (OSError, ValueError, IndexError):
        return None
    return round(1 - (idle1 - idle0) / max(1, total1 - total0), 3)


def _status_meminfo():
    with open("/proc/meminfo") as fh:
        return int(fh.readline().split()[1]) * 1024  # MemTotal, the first line


# -- reporting ------------------------------------------------------------------------------

def fmt_time(s):
    return f"{s * 1e3:8.2f} ms" if s < 10 else f"{s:8.2f} s "


def fmt_ratio(x):
    return f"{x:6.2f}x" if x is not None else "    n/a"


def print_entry(entry):
    shape = "[" + ", ".join(map(str, entry["shape"])) + "]"
    for name, r in entry["results"].items():
        torch_col = fmt_ratio(r["vs_torch"])  # "n/a" without torch; the header says why
        mem = f"{r['peak_extra_x']:6.2f}x" if r["peak_extra_x"] is not None else "    n/a"
        mark = "*" if r["memory_method"] != "tracemalloc" else " "
        print(f"{shape:<17} {entry['dtype']:<8} {name:<18} {fmt_time(r['median_s'])} {fmt_time(r['min_s'])}"
              f"  {torch_col}  {fmt_ratio(r['vs_numpy'])}  {mem}{mark}", flush=True)


def evaluate_targets(loss_entries, per_op):
    out = []
    for name, kind, where, limit in TARGETS:
        if kind in ("torch", "numpy", "memory"):
            values = []
            for e in loss_entries:
                if where is not None and (tuple(e["shape"]), e["dtype"]) != where:
                    continue
                r = e["results"]["minigrad fused"]
                values.append({"torch": r["vs_torch"], "numpy": r["vs_numpy"], "memory": r["peak_extra_x"]}[kind])
            measured = None if not values or None in values else max(values)
        else:
            measured = per_op["ratio"]
        met = None if measured is None else bool(measured <= limit)
        out.append({"target": name, "limit": limit, "measured": measured, "met": met})
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
    parser.add_argument("--quick", action="store_true", help="smaller shapes, fewer rounds (about a minute)")
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
    info = machine(torch)
    print(f"machine: {info['cpu_model']}, {info['cores']} cores, {info['memory_gib']} GiB, {info['platform']}")
    print(f"numpy {info['numpy']}, minigrad {info['minigrad']}, torch "
          + (f"{info['torch']} ({info['torch_threads']} threads)" if torch is not None else NO_TORCH))
    busy = info["cpu_busy_at_start"]
    if busy is not None and busy > 0.1:
        print(f"WARNING: other processes kept {busy:.0%} of the CPU busy just now: the timings will be noisy "
              "(and PyTorch's threads wait for each other when a core is busy)")
    print("\nsequence_loss forward + backward (weighted mean over padded sequences), median and min of the rounds;")
    print("ratios are medians over the median of PyTorch / of hand-written NumPy; peak extra memory in logits' bytes")
    print("(* = peak RSS growth, since tracemalloc does not see PyTorch's allocations)\n")
    print(f"{'shape':<17} {'dtype':<8} {'implementation':<18} {'median':>11} {'min':>11}  {'/torch':>7}  "
          f"{'/numpy':>7}  {'memory':>7}")

    impls = {"minigrad fused": minigrad_fused, "minigrad composed": minigrad_composed, "numpy": numpy_loss_and_grad}
    if torch is not None:
        impls["torch"] = torch_impl(torch)
    entries = []
    for shape, rounds in shapes.items():
        for dtype in DTYPES:
            entries.append(bench_loss(impls, shape, dtype, rounds, print_entry))

    per_op = bench_per_op(torch, rounds=5 if args.quick else 9)
    print(f"\nper-operation overhead, {CHAIN_OPS} operations on [16] float64 tensors (forward + backward), median:")
    for name in ("minigrad", "torch"):
        if name in per_op:
            p = per_op[name]
            print(f"  {name:<9} {p['total_us']:6.2f} us/op  (forward {p['forward_us']:.2f}, backward {p['backward_us']:.2f})")
        else:
            print(f"  {name:<9} {NO_TORCH}")
    if per_op["ratio"] is not None:
        print(f"  ratio minigrad / torch: {per_op['ratio']:.2f}x")

    fixed = bench_fixed_cost(impls, rounds=50 if args.quick else 200)
    print(f"\nthe cost of a call: forward + backward at {fixed['shape']} float32 (vocabulary 1), median:")
    for name, us in fixed["median_us"].items():
        print(f"  {name:<18} {us:7.0f} us")

    largest = max(shapes, key=lambda s: np.prod(s))
    breakdown = time_breakdown(largest, np.float32, rounds=3 if args.quick else 5)
    print(f"\nwhere the time goes, {list(largest)} float32, each step alone on the whole array (median ms):")
    for step, ms in breakdown["steps_ms"].items():
        print(f"  {step:<32} {ms:8.1f}")

    targets = evaluate_targets(entries, per_op)
    print("\ntargets:")
    for t in targets:
        state = "n/a" if t["met"] is None else ("met" if t["met"] else "MISSED")
        value = "n/a" if t["measured"] is None else f"{t['measured']:.2f}"
        print(f"  {state:<6} {t['target']:<52} measured {value}")

    info["cpu_busy_at_end"] = cpu_busy()
    results = {"machine": info, "quick": args.quick, "torch_available": torch is not None,
               "timing": "interleaved rounds, rotating order, gc off while timing; median and min",
               "sequence_loss": entries, "per_op": per_op, "fixed_cost": fixed, "breakdown": breakdown,
               "targets": targets}
    if args.output.resolve() != RECORDED.resolve() and RECORDED.exists():
        compare_with_recorded(entries, json.loads(RECORDED.read_text()))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=1) + "\n")
    print(f"\nwrote {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")


if __name__ == "__main__":
    main()
