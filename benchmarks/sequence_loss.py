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

The parts, as torch.utils.benchmark cuts them: contenders.py (the implementations and their
inputs), harness.py (timing, rounds, load, the machine: Timer and Measurement), experiments.py
(each experiment a function of its parameters) and report.py (what is printed, the targets:
Compare). This file chooses the sizes and runs the experiments.

The results go to _build/bench/results.json (not tracked by git) with a description of the
machine, and the script compares them with the recorded run in benchmarks/results.json, which
the book's appendix "How fast is minigrad?" (book/speed.ipynb) shows. ``--record`` writes the
recorded run itself (then re-execute the appendix).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# The run the book shows, and where a reader's own run goes (untracked, so `make bench` never changes the book).
RECORDED = ROOT / "benchmarks" / "results.json"
OUTPUT = ROOT / "_build" / "bench" / "results.json"
sys.path.insert(0, str(ROOT))  # benchmark the minigrad of this checkout, whatever is installed
sys.path.insert(0, str(Path(__file__).resolve().parent))  # the benchmark's parts
import minigrad as mg  # noqa: E402
import report  # noqa: E402
from contenders import (  # noqa: E402
    minigrad_composed,
    minigrad_fused,
    numpy_loss_and_grad,
    numpy_threads,
    torch_impl,
)
from experiments import (  # noqa: E402
    bench_fixed_cost,
    bench_loss,
    bench_per_op,
    fused_phases,
    small_split,
    time_breakdown,
)
from harness import LOAD_LIMIT, MMAP_THRESHOLD, cpu_busy, machine, steady_malloc, _loadavg  # noqa: E402
from minigrad import fused  # noqa: E402

# Shape [batch, time, vocab] -> quiet interleaved rounds wanted. The composed path takes ~10 s at the largest.
FULL = {(8, 64, 1000): 200, (32, 128, 8000): 10, (32, 128, 32000): 15}
QUICK = {(8, 64, 1000): 60, (32, 128, 8000): 5}
DTYPES = (np.float32, np.float64)
SMALL = (8, 64, 1000)


def main(argv=None):
    args = _arguments(argv)
    torch = None if args.no_torch else _torch()
    shapes, quick = (QUICK if args.quick else FULL), args.quick
    malloc = steady_malloc()
    info = {**machine(torch, mg.__version__, fused.get_num_threads()), "malloc": malloc}
    report.print_machine(info, LOAD_LIMIT, MMAP_THRESHOLD)
    impls = {"minigrad fused": minigrad_fused, "minigrad composed": minigrad_composed,
             "numpy": numpy_loss_and_grad, "numpy threads": numpy_threads}
    if torch is not None:
        impls["torch"] = torch_impl(torch)
    largest = max(shapes, key=lambda s: np.prod(s))
    report.print_loss_header()
    entries = [bench_loss(impls, shape, dtype, rounds, report.print_entry,
                          copies=shape == largest and dtype == np.float32)
               for shape, rounds in shapes.items() for dtype in DTYPES]
    bandwidth = next(e.pop("bandwidth") for e in entries if "bandwidth" in e)
    experiments = [  # (key in the results, the experiment, its report)
        ("per_op", lambda: bench_per_op(torch, rounds=7 if quick else 21), report.print_per_op),
        ("fixed_cost", lambda: bench_fixed_cost(impls, rounds=30 if quick else 100), report.print_fixed_cost),
        ("small_split", lambda: small_split(SMALL, np.float32, rounds=30 if quick else 100),
         report.print_small_split),
        ("bandwidth", lambda: bandwidth, report.print_bandwidth),
        ("fused_phases", lambda: fused_phases(largest, np.float32, rounds=3 if quick else 7), report.print_phases),
        ("breakdown", lambda: time_breakdown(largest, np.float32, rounds=3 if quick else 5),
         report.print_breakdown),
    ]
    results = {"sequence_loss": entries}
    for key, experiment, show in experiments:
        results[key] = experiment()
        show(results[key])
    results["targets"] = report.evaluate_targets(
        entries, results["per_op"], bandwidth if tuple(largest) == report.LARGE[0] else None)
    report.print_targets(results["targets"])
    _write(args.output, info, quick, torch is not None, results)


def _arguments(argv):
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
    return args


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def _write(output, info, quick, torch_available, results):
    """The results file, with the machine and its load; and this run against the recorded one."""
    info["load_at_end"] = cpu_busy()
    info["loadavg_at_end"] = _loadavg()
    per_op = results["per_op"]
    results = {"machine": info, "quick": quick, "torch_available": torch_available,
               "timing": "interleaved rounds, rotating order, gc off while timing; rounds where other processes "
                         f"used more than {LOAD_LIMIT:.0%} of the CPU refused; median, min and per-round ratios",
               "load_limit": LOAD_LIMIT,
               "under_load": any(e["under_load"] for e in results["sequence_loss"]) or any(
                   per_op[k]["under_load"] for k in ("tensor operands", "number operands")),
               **results}
    if output.resolve() != RECORDED.resolve() and RECORDED.exists():
        report.compare_with_recorded(results["sequence_loss"], json.loads(RECORDED.read_text()),
                                     RECORDED.relative_to(ROOT))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=1) + "\n")
    print(f"\nwrote {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}")


if __name__ == "__main__":
    main()
