"""Every row of tests/primitive_cases.py (the table the finite-difference suite reads) computed again with
PyTorch: the same values and the same gradients."""

import numpy as np
import pytest
import torch
from compare_helpers import assert_close, compare_grads, covers

import minigrad as mg
from primitive_cases import CASES, arrays

covers(*CASES, *(name for case in CASES.values() for name in case.names))(None)


@pytest.mark.parametrize("name", sorted(CASES))
def test_primitive_case_against_pytorch(name):
    case = CASES[name]
    inputs = arrays(name)
    ours = [mg.Tensor(a.copy(), requires_grad=True) for a in inputs]
    theirs = [torch.tensor(a, requires_grad=True) for a in inputs]
    out = case.f(*ours)
    tout = case.f(*theirs) if case.torch is None else case.torch(torch, *theirs)
    assert_close(out, tout, what=f"{name} value")
    compare_grads(list(zip(ours, theirs)), (out, tout))
    assert np.all(np.isfinite(out.data))
