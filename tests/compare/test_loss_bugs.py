"""Run book/bugs/torch_loss_bugs.py: PyTorch's cross_entropy with every target ignored (NaN, and a guarded
mean) and with label smoothing next to ignored targets (the formula by hand). The program exits nonzero if a
check fails, and its output must be the recorded output that the book shows, byte for byte.

After changing the program, record its output again (never by hand):
    .venv/bin/python book/bugs/torch_loss_bugs.py > book/bugs/torch_loss_bugs.out
"""

from pathlib import Path

from compare_helpers import assert_prints_recorded

FOLDER = Path(__file__).resolve().parents[2] / "book" / "bugs"
PROGRAM = FOLDER / "torch_loss_bugs.py"
RECORDED = FOLDER / "torch_loss_bugs.out"
LIMIT = 120


def test_torch_loss_bugs_checks_pass_and_match_the_recorded_output():
    assert_prints_recorded(PROGRAM, [], RECORDED, LIMIT)


def test_the_recorded_output_names_no_torch_version():
    import torch

    assert torch.__version__ not in RECORDED.read_text(encoding="utf-8")
