"""The report, as torch.utils.benchmark's Compare: the tables printed while the benchmark runs, the
targets it is held to, and this run against the recorded one.
"""

from __future__ import annotations

NO_TORCH = "n/a (torch not installed)"
LARGE = ((32, 128, 32000), "float32")

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


def compare_with_recorded(entries, recorded, where="benchmarks/results.json"):
    """Print this run's medians as multiples of the recorded run's (the one the book shows)."""
    machine = recorded["machine"]
    print(f"\nthis run against the recorded run in {where} "
          f"({machine['cpu_model']}, {machine['date']}): median time, this run / recorded")
    old = {(tuple(e["shape"]), e["dtype"]): e["results"] for e in recorded["sequence_loss"]}
    for e in entries:
        theirs = old.get((tuple(e["shape"]), e["dtype"]), {})
        shape = "[" + ", ".join(map(str, e["shape"])) + "]"
        cells = [f"{name} {r['median_s'] / theirs[name]['median_s']:.2f}x"
                 for name, r in e["results"].items() if name in theirs]
        print(f"  {shape:<17} {e['dtype']:<8} " + ("   ".join(cells) if cells else "not in the recorded run"))


def print_machine(info, load_limit, mmap_threshold):
    print(f"machine: {info['cpu_model']}, {info['cores']} cores ({info['cores_usable']} usable), "
          f"{info['memory_gib']} GiB, {info['platform']}")
    print(f"SIMD: NumPy dispatches up to {info['numpy_dispatch_best']}; {info['openblas']} "
          f"({info['openblas_threads']} threads)")
    print(f"numpy {info['numpy']}, minigrad {info['minigrad']} ({info['minigrad_threads']} threads), torch "
          + (f"{info['torch']} ({info['torch_threads']} threads)" if info["torch"] is not None else NO_TORCH))
    print("malloc: " + (f"fresh pages for arrays from {mmap_threshold >> 20} MiB on, freed memory reused below "
                         "(fixed glibc thresholds)" if info["malloc"] else "the system's default (not glibc)"))
    busy = info["load_at_start"]
    print(f"load: other processes used {busy:.0%} of the CPU in the last second; load average "
          f"{info['loadavg_at_start']}" if busy is not None else "load: not measurable here (no /proc)")
    if busy is not None and busy > load_limit:
        print(f"WARNING: the machine is busy: rounds where others use more than {load_limit:.0%} of the CPU are "
              "refused and run again; where too few quiet rounds remain, results are flagged UNDER LOAD")


def print_loss_header():
    print("\nsequence_loss forward + backward (weighted mean over padded sequences): median and min time of the")
    print("quiet rounds; ratios: median of the per-round ratio [25th-75th percentile] to PyTorch and to the best")
    print("one-buffer NumPy (one thread or all); peak extra memory in logits' bytes (* = peak RSS growth)\n")
    print(f"{'shape':<17} {'dtype':<8} {'implementation':<18} {'median':>11} {'min':>11}  {'/torch':>18}  "
          f"{'/numpy':>18}  {'memory':>7}")


def print_per_op(per_op):
    print(f"\nper-operation overhead, {per_op['ops']} operations on [16] float64 tensors (forward + backward), "
          "median:")
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


def print_fixed_cost(fixed):
    print(f"\nthe cost of a call: forward + backward at {fixed['shape']} float32 (vocabulary 1), median:")
    for name, us in fixed["median_us"].items():
        print(f"  {name:<18} {us:7.0f} us")


def print_small_split(split):
    print(f"\nwhere minigrad fused's time goes at {split['shape']} float32 on {split['threads']} threads "
          f"(median us over {split['rounds_quiet']} quiet rounds" + (", UNDER LOAD" if split["under_load"] else "")
          + "; the parts are per-round differences):")
    for name, us in split["median_us"].items():
        print(f"  {name:<18} {us:7.0f} us")


def print_bandwidth(b):
    print(f"\ncopy bandwidth on {b['shape']} float32 ({b['bytes_copied'] / 1e9:.2f} GB read + written), in the "
          f"rounds of the loss ({b['rounds_quiet']} quiet" + (", UNDER LOAD" if b["under_load"] else "") + "), fastest: "
          + ", ".join(f"{k} {v:.1f} ms" for k, v in b["copy_ms"].items())
          + f"; {b['bandwidth_gb_s']:.1f} GB/s: the bound for the loss is {b['bound_ms']:.1f} ms "
          + (f"(rounds' fastest copy: median {b['bound_spread_ms']['median']:.1f} ms "
             f"[{b['bound_spread_ms']['p25']:.1f}-{b['bound_spread_ms']['p75']:.1f}])" if b["bound_spread_ms"] else ""))
    if b["fused_over_bound_spread"]:
        print(f"  minigrad fused / the round's fastest copy: {fmt_spread(b['fused_over_bound_spread'])}")


def print_phases(phases):
    print(f"\nminigrad fused at {phases['shape']} float32 on {phases['threads']} threads, median ms:")
    for label in ("reused buffer", "fresh buffer"):
        p = phases[label]
        print(f"  {label:<14} forward {p['forward_ms']:7.1f}  backward {p['backward_ms']:7.1f}  "
              f"total {p['total_ms']:7.1f}")


def print_breakdown(breakdown):
    print(f"\nwhere the time goes, {breakdown['shape']} float32, each step alone on the whole array, one thread "
          "(median ms):")
    for step, ms in breakdown["steps_ms"].items():
        print(f"  {step:<32} {ms:8.1f}")


def print_targets(targets):
    print("\ntargets (float32, forward + backward; the worst shape; [25th-75th percentile of the rounds]):")
    for t in targets:
        state = "n/a" if t["met"] is None else ("met" if t["met"] else "MISSED")
        value = "n/a" if t["measured"] is None else f"{t['measured']:.2f}"
        extra = f" [{t['spread'][0]:.2f}-{t['spread'][1]:.2f}]" if t["spread"] else ""
        print(f"  {state:<6} {t['target']:<58} measured {value}{extra}"
              + ("  (UNDER LOAD)" if t["under_load"] else ""))
