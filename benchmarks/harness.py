"""The timing harness, as torch.utils.benchmark's Timer and Measurement: one call timed, rounds of
several contenders interleaved under a load meter, the spread of a measurement, the machine described.

Rounds are interleaved (each round runs every contender once, in a rotating order), so a slow spell of
the machine hits them all alike. Before its timed call, each contender runs untimed for WARMUP_S, so
that it is timed as in a loop of its own. While it times, the harness reads the CPU time of the whole
machine and of this process over windows of at least LOAD_WINDOW_S; rounds in a window where other
processes used more than LOAD_LIMIT of it are refused and run again (up to EXTRA_ROUNDS times as many).
"""

from __future__ import annotations

import ctypes
import datetime
import gc
import os
import platform
import time
import tracemalloc

import numpy as np

try:
    CORES = len(os.sched_getaffinity(0))  # the CPUs this process may use
except AttributeError:  # not Linux
    CORES = os.cpu_count() or 1

# A round is refused when other processes used more than this share of the machine's CPU time
# (all cores together) during it; refused rounds are run again, up to EXTRA_ROUNDS x the rounds wanted.
LOAD_LIMIT, EXTRA_ROUNDS, LOAD_WINDOW_S = 0.10, 3, 0.25
# Before each timed call a contender runs untimed for this long (see warm_up), unless its calls
# take longer than SKIP_WARMUP_S (then what ran before is a small part of the call).
WARMUP_S, SKIP_WARMUP_S = 0.03, 0.5


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


def machine(torch, minigrad_version, minigrad_threads):
    """The machine, its load and the software versions, for the results file."""
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
            "openblas": blas, "openblas_threads": blas_threads, "minigrad_threads": minigrad_threads,
            "load_at_start": cpu_busy(), "loadavg_at_start": _loadavg(),
            "python": platform.python_version(),
            "numpy": np.__version__, "minigrad": minigrad_version,
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
