"""tests/compare: minigrad against PyTorch (CPU). PyTorch is required here (the `compare` extra):
a missing torch is an import error, not a skip. Run with `make test-compare`."""

import sys
from pathlib import Path

import torch

# Compare the minigrad of this checkout, whatever an editable install elsewhere points to; and let the
# test modules `from compare_helpers import ...` (tests/compare is a package, see __init__.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

torch.set_num_threads(1)  # small tensors; and the test machines have few cores
