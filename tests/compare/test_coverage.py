"""Every public name of minigrad, and every public method and operator of Tensor, Module and Optimizer,
has a comparison test in tests/compare (recorded with the @covers decorator of compare_helpers)."""

import importlib
import inspect
from pathlib import Path

from compare_helpers import COVERED

import minigrad as mg

HERE = Path(__file__).parent

#: Public, but with nothing in PyTorch to compare with; why each one is fine without.
EXEMPT = {
    "Tensor.__repr__": "text; PyTorch's repr differs by design (checked by the notebooks' outputs)",
    "Module.__repr__": "text, as above",
    "Module.forward": "the interface; every layer's forward is compared (Linear, Embedding, the cells)",
    "Module.extra_repr": "text for repr, as above",
    "Optimizer.step": "the interface; SGD.step and Adam.step are compared",
    "set_num_threads": "the fused kernel's thread count: no numbers to compare (tests/test_fused_threads.py)",
    "get_num_threads": "as set_num_threads",
    "empty_cache": "the fused kernel's buffer cache: no numbers to compare (tests/test_fused_threads.py)",
    "Node": "the graph's record of one operation (a NamedTuple); every gradient compared goes through it",
    "float_tensor": "argument conversion for the losses; every loss compared goes through it",
}

PROTOCOL = {"__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__",
            "__matmul__", "__rmatmul__", "__pow__", "__rpow__", "__neg__", "__getitem__", "__lt__", "__le__",
            "__gt__", "__ge__", "__eq__", "__ne__", "__bool__", "__float__", "__int__", "__index__", "__len__",
            "__iter__", "__contains__", "__array__", "__array_function__", "__repr__", "__abs__"}


def public_names():
    names = {n for n in mg.__all__ if not inspect.ismodule(getattr(mg, n))}
    for module in (mg.engine, mg.creation, mg.ops, mg.functional, mg.fused, mg.nn, mg.optim):
        names |= set(module.__all__)
    names |= set(importlib.import_module("minigrad.gradcheck").__all__)
    names |= set(mg.PRIMITIVES)
    for cls in (mg.Tensor, mg.nn.Module, mg.optim.Optimizer, mg.optim.SGD, mg.optim.Adam):
        for attr in vars(cls):
            if not attr.startswith("_") or attr in PROTOCOL:
                names.add(f"{cls.__name__}.{attr}")
    names |= {"Tensor.data", "Tensor.grad", "Tensor.requires_grad"}  # instance attributes
    return names


def test_every_public_name_is_compared_with_pytorch():
    for path in sorted(HERE.glob("test_*.py")):  # importing them runs their @covers decorators
        importlib.import_module(f"{__package__}.{path.stem}" if __package__ else path.stem)
    missing = public_names() - COVERED - set(EXEMPT)
    assert not missing, f"public names without a comparison with PyTorch: {sorted(missing)}"
    stale = (COVERED | set(EXEMPT)) - public_names()
    assert not stale, f"@covers or EXEMPT names that are not public (renamed?): {sorted(stale)}"
