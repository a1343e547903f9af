"""`make bench` measures the reader's machine without changing what the book shows.

The appendix book/speed.ipynb reads the recorded run in benchmarks/results.json; the benchmark writes a new
run under _build/ (ignored by git) and compares it with the recorded one.
"""

import importlib.util
import json
import subprocess

import pytest

from conftest import BOOK, ROOT


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_sequence_loss", ROOT / "benchmarks" / "sequence_loss.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_new_run_goes_to_an_ignored_file(bench):
    relative = bench.OUTPUT.relative_to(ROOT)
    assert relative.parts[0] == "_build"
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
    bench.compare_with_recorded(recorded["sequence_loss"], recorded)
    lines = capsys.readouterr().out.splitlines()
    rows = [line for line in lines if line.startswith("  [")]
    assert len(rows) == len(recorded["sequence_loss"])
    assert all("minigrad fused 1.00x" in row for row in rows)
