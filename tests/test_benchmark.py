"""`make bench` measures the reader's machine without changing what the book shows.

The appendix book/speed.ipynb reads the recorded run in benchmarks/results.json; the benchmark writes a new
run under _build/ (ignored by git) and compares it with the recorded one.
"""

import importlib.util
import json
import subprocess
import sys
import time

import pytest

from conftest import BOOK, ROOT


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_sequence_loss", ROOT / "benchmarks" / "sequence_loss.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def harness(bench):
    return sys.modules["harness"]  # the part that sequence_loss.py imported


def test_the_benchmark_is_in_parts_and_main_is_a_list_of_experiments(bench):
    """Contenders, harness, experiments and report apart (as torch.utils.benchmark cuts them); no file over
    400 lines, and main short."""
    import inspect

    for path in (ROOT / "benchmarks").glob("*.py"):
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 400, f"{path.name} is over 400 lines"
    parts = {"contenders", "harness", "experiments", "report"}
    assert all(sys.modules[part].__file__ == str(ROOT / "benchmarks" / f"{part}.py") for part in parts)
    assert len(inspect.getsource(bench.main).splitlines()) <= 45


def test_a_new_run_goes_to_an_ignored_file(bench):
    relative = bench.OUTPUT.relative_to(ROOT)
    assert relative.parts[0] == "_build"
    checkout = subprocess.run(["git", "rev-parse", "--is-inside-work-tree"], cwd=ROOT, capture_output=True)
    if checkout.returncode != 0:
        pytest.skip("not a git checkout (the unpacked code archive, say): no file here is tracked")
    ignored = subprocess.run(["git", "check-ignore", "-q", str(relative)], cwd=ROOT)
    assert ignored.returncode == 0, f"{relative} is not ignored by git: `make bench` would change a tracked file"


def test_the_appendix_reads_the_recorded_run(bench):
    assert bench.RECORDED == ROOT / "benchmarks" / "results.json"
    source = (BOOK / "speed.ipynb").read_text(encoding="utf-8")
    assert "../benchmarks/results.json" in source
    recorded = json.loads(bench.RECORDED.read_text())
    for key in ("cpu_model", "date", "numpy", "python"):
        assert recorded["machine"][key], f"the recorded run does not say its {key}"


def test_a_run_is_compared_with_the_recorded_one(bench, capsys):
    recorded = json.loads(bench.RECORDED.read_text())
    bench.report.compare_with_recorded(recorded["sequence_loss"], recorded)
    lines = capsys.readouterr().out.splitlines()
    rows = [line for line in lines if line.startswith("  [")]
    assert len(rows) == len(recorded["sequence_loss"])
    assert all("minigrad fused 1.00x" in row for row in rows)


def test_the_targets_are_the_stated_ones(bench):
    limits = {name: limit for name, _, _, limit in bench.report.TARGETS}
    assert limits == {
        "fused <= 0.3x PyTorch at [32, 128, 32000]": 0.3,
        "fused <= 0.5x PyTorch at [8, 64, 1000]": 0.5,
        "fused <= 1.0x the best one-buffer NumPy, every shape": 1.0,
        "fused <= 5x the copy-bandwidth bound at [32, 128, 32000]": 5.0,
        "per-op overhead <= 1.0x PyTorch, tensor operands": 1.0,
        "per-op overhead <= 1.0x PyTorch, Python-number operands": 1.0,
        "fused peak extra memory <= 1.1x the logits, every shape": 1.1,
    }


def test_the_recorded_run_says_how_loaded_the_machine_was(bench):
    recorded = json.loads(bench.RECORDED.read_text())
    machine = recorded["machine"]
    for key in ("numpy_dispatch_best", "cores_usable", "minigrad_threads", "load_at_start", "load_at_end"):
        assert key in machine, f"the recorded run does not say its {key}"
    assert isinstance(recorded["under_load"], bool)
    for entry in recorded["sequence_loss"]:
        assert {"rounds_run", "rounds_quiet", "under_load", "load_share"} <= set(entry)
        fused = entry["results"]["minigrad fused"]
        assert fused["vs_numpy_spread"]["p25"] <= fused["vs_numpy"] <= fused["vs_numpy_spread"]["p75"]
    for target in recorded["targets"]:
        assert {"measured", "spread", "met", "under_load"} <= set(target)


def test_the_load_meter_counts_other_processes_only(harness, monkeypatch):
    """Our own CPU time is not load: a window's share is the busy time of other processes only."""
    # readings: (seconds, machine's total time, machine's busy time, this process's time)
    readings = iter([(0.0, 0, 0, 0), (1.0, 200, 100, 100), (2.0, 400, 250, 150)])
    monkeypatch.setattr(harness.LoadMeter, "_read", staticmethod(lambda: next(readings)))
    meter = harness.LoadMeter()
    meter.mark(final=True)  # all 100 busy ticks were ours: no load
    meter.mark(final=True)  # 150 busy ticks, 50 of them ours: others used 100 of 200
    assert meter.shares == [0.0, 0.5]


def test_the_load_meter_reads_this_process_cpu_time(harness):
    """On Linux the meter's reading of our own CPU time grows while we compute."""
    before = harness.LoadMeter._read()
    if before is None:
        pytest.skip("no /proc on this system")
    end = harness.time.process_time() + 0.1
    while harness.time.process_time() < end:
        pass
    assert harness.LoadMeter._read()[3] > before[3]


def test_rounds_under_load_are_refused_and_run_again(harness, monkeypatch):
    """With every window loaded, the rounds are run up to the limit and the result is flagged."""
    class Busy(harness.LoadMeter):
        def mark(self, final=False):
            self.shares.append(0.9)

        def close(self):
            return self.shares

    monkeypatch.setattr(harness, "LoadMeter", Busy)
    monkeypatch.setattr(harness, "warm_up", lambda f, args, last: None)  # count the timed calls only
    calls = []
    times, shares, quiet = harness.interleaved({"f": lambda: calls.append(1)}, (), rounds=4)
    assert len(calls) == len(shares) == 4 * (1 + harness.EXTRA_ROUNDS) and not any(quiet)


def test_ratios_are_per_round_medians_with_their_spread(harness):
    s = harness.spread([1.0, 2.0, 3.0, 4.0, 5.0])
    assert s == {"median": 3.0, "p25": 2.0, "p75": 4.0}
    assert harness.spread([]) is None


def test_each_timed_call_follows_a_warm_up_of_its_own(harness, monkeypatch):
    """What ran just before (PyTorch's spinning threads, other data in the caches) is not what is timed."""
    log = []
    monkeypatch.setattr(harness, "warm_up", lambda f, args, last: log.append(("warm", f.__name__, last)))
    monkeypatch.setattr(harness, "timed", lambda f, *args: (log.append(("timed", f.__name__, None)), (0.25, 0.25))[1])

    def a():
        pass

    def b():
        pass

    times, _, _ = harness.interleaved({"a": a, "b": b}, (), rounds=3)
    assert len(times["a"]) == len(times["b"]) == len(log) // 4 >= 3
    for (kind, name, _), (next_kind, next_name, _) in zip(log[::2], log[1::2]):
        assert (kind, next_kind, name) == ("warm", "timed", next_name)
    # from the second round on, the warm-up knows how long the implementation's last call took
    assert [last for kind, name, last in log if kind == "warm" and name == "a"][:2] == [None, 0.25]


def test_warm_up_runs_for_its_time_and_skips_long_calls(harness, monkeypatch):
    monkeypatch.setattr(harness, "WARMUP_S", 0.02)
    calls = []
    start = time.perf_counter()
    harness.warm_up(lambda: calls.append(1), (), None)
    assert time.perf_counter() - start >= 0.02 and len(calls) > 1

    calls.clear()
    harness.warm_up(lambda: calls.append(1), (), harness.SKIP_WARMUP_S * 2)  # a long call: nothing before it matters much
    assert calls == []

    harness.warm_up(lambda: time.sleep(0.03) or calls.append(1), (), None)  # one call outlasts the warm-up
    assert calls == [1]


def test_malloc_thresholds_are_fixed_where_there_is_glibc(harness):
    """Whether an allocation gets fresh pages (page faults) must not depend on what ran before."""
    import platform

    settings = harness.steady_malloc()
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert settings == {"mmap_threshold": 32 << 20, "trim_threshold": 64 << 20}
    else:
        assert settings is None
