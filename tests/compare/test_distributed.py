"""Run book/distributed/ddp_sequence_loss.py on 2 and 4 gloo processes: DDP with the right loss gives the
one-process gradient, each mistake gives the error its token weights predict (the program exits nonzero
otherwise), and its output is the recorded output that the book shows, byte for byte.

After changing the program, record its output again (never by hand):
    .venv/bin/python book/distributed/ddp_sequence_loss.py 2 > book/distributed/ddp_sequence_loss_2.out
    .venv/bin/python book/distributed/ddp_sequence_loss.py 4 > book/distributed/ddp_sequence_loss_4.out
"""

from pathlib import Path

import pytest
from compare_helpers import assert_prints_recorded

FOLDER = Path(__file__).resolve().parents[2] / "book" / "distributed"
PROGRAM = FOLDER / "ddp_sequence_loss.py"
# The program stops itself after 2 * TIMEOUT = 120 s; this is only the last resort.
LIMIT = 300


@pytest.mark.parametrize("world", [2, 4])
def test_ddp_agrees_with_one_process_and_with_the_recorded_output(world):
    assert_prints_recorded(PROGRAM, [world], FOLDER / f"ddp_sequence_loss_{world}.out", LIMIT)
