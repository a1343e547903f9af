"""One row per primitive: the only table of them that the tests keep.

tests/test_primitives.py checks each row's gradient against central differences (every entry, float64) and
a random projection; tests/compare/test_primitive_cases.py computes the same row with PyTorch and compares
values and gradients. A row is a function of minigrad tensors that runs the primitive, the inputs (shape
and range of each), PyTorch's spelling of the function where it differs (it receives the torch module
first), and the Tensor methods and functions that reach the primitive (so that test_coverage counts them
as compared with PyTorch).
"""

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

import minigrad as mg


class Case(NamedTuple):
    f: Callable[..., Any]  #: of minigrad tensors; runs the primitive
    inputs: tuple  #: one (shape, low, high) per input, all differentiable
    torch: Callable[..., Any] | None = None  #: (torch, *tensors) -> tensor, where f does not work on torch's
    names: tuple = ()  #: public Tensor methods ("Tensor.exp") and functions that reach the primitive


def x(*shape, low=-1.0, high=1.0):
    return shape, low, high


POSITIVE = {"low": 0.5, "high": 2.0}

CASES = {
    "Add": Case(lambda a, b: a + b, (x(2, 3), x(3)), names=("Tensor.__add__", "Tensor.__radd__")),
    "Sub": Case(lambda a, b: a - b, (x(2, 3), x(2, 1)), names=("Tensor.__sub__", "Tensor.__rsub__")),
    "Mul": Case(lambda a, b: a * b, (x(2, 3), x(1, 3)), names=("Tensor.__mul__", "Tensor.__rmul__")),
    "Div": Case(lambda a, b: a / b, (x(2, 3), x(3, **POSITIVE)),
                names=("Tensor.__truediv__", "Tensor.__rtruediv__")),
    "DivNoNan": Case(lambda a, b: mg.divide_no_nan(a, b), (x(2, 3), x(3, **POSITIVE)),
                     torch=lambda torch, a, b: a / b, names=("divide_no_nan",)),
    "Neg": Case(lambda a: -a, (x(2, 3),), names=("Tensor.__neg__",)),
    "Pow": Case(lambda a, b: a ** 3 + a ** 0.5 + a ** b, (x(2, 3, **POSITIVE), x(3)),
                names=("Tensor.__pow__", "Tensor.__rpow__", "power")),
    "MatMul": Case(lambda a, b: a @ b, (x(2, 3), x(3, 4)), names=("Tensor.__matmul__", "Tensor.__rmatmul__")),
    "Exp": Case(lambda a: a.exp(), (x(2, 3),), names=("Tensor.exp",)),
    "Log": Case(lambda a: a.log(), (x(2, 3, **POSITIVE),), names=("Tensor.log",)),
    "Tanh": Case(lambda a: a.tanh(), (x(2, 3),), names=("Tensor.tanh",)),
    "Sum": Case(lambda a: a.sum(axis=1) * a.sum(axis=(0, 2), keepdims=True).sum(), (x(2, 3, 4),),
                torch=lambda torch, a: a.sum(1) * a.sum((0, 2), keepdim=True).sum(), names=("Tensor.sum",)),
    "Mean": Case(lambda a: a.mean(axis=(0, -1)) * a.mean(axis=1, keepdims=True).mean(), (x(2, 3, 4),),
                 torch=lambda torch, a: a.mean((0, -1)) * a.mean(1, keepdim=True).mean(), names=("Tensor.mean",)),
    "Max": Case(lambda a: a.max(axis=0) + a.max(), (x(3, 4),), torch=lambda torch, a: a.amax(0) + a.max(),
                names=("Tensor.max",)),
    "Min": Case(lambda a: a.min(axis=0) + a.min(), (x(3, 4),), torch=lambda torch, a: a.amin(0) + a.min(),
                names=("Tensor.min",)),
    # x() draws no exact 0, where |x| has no derivative
    "Abs": Case(lambda a: abs(a) + a.abs(), (x(2, 3),), names=("Tensor.abs", "Tensor.__abs__")),
    "Sqrt": Case(lambda a: a.sqrt(), (x(2, 3, **POSITIVE),), names=("Tensor.sqrt",)),
    "Relu": Case(lambda a: a.relu(), (x(2, 3),), names=("Tensor.relu",)),
    "Clip": Case(lambda a: a.clip(-0.5, 0.5) + a.clamp(min=0.2) + a.clip(max=-0.3), (x(3, 4),),
                 names=("Tensor.clip", "Tensor.clamp")),
    "Reshape": Case(lambda a: a.reshape(6, 2) * np.arange(12.0).reshape(6, 2), (x(3, 4),),
                    torch=lambda torch, a: a.reshape(6, 2) * torch.arange(12.0, dtype=a.dtype).reshape(6, 2),
                    names=("Tensor.reshape",)),
    "Transpose": Case(lambda a: a.transpose(2, 0, 1) * np.arange(24.0).reshape(4, 2, 3)
                      + a.transpose(-1, -3, -2) * 0.5, (x(2, 3, 4),),
                      torch=lambda torch, a: a.permute(2, 0, 1) * torch.arange(24.0, dtype=a.dtype).reshape(4, 2, 3)
                      + a.permute(-1, -3, -2) * 0.5, names=("Tensor.transpose",)),
    "GetItem": Case(lambda a: a[np.array([0, 2, 0]), 1:] * 2.0, (x(3, 4),),
                    torch=lambda torch, a: a[torch.tensor([0, 2, 0]), 1:] * 2.0,
                    names=("Tensor.__getitem__", "getitem")),
    "TakeAlongAxis": Case(lambda a: a.take_along_axis(np.array([[0, 3, 3], [1, 1, 2]]), axis=1), (x(2, 4),),
                          torch=lambda torch, a: torch.take_along_dim(a, torch.tensor([[0, 3, 3], [1, 1, 2]]), 1),
                          names=("Tensor.take_along_axis", "take_along_axis")),
    "Where": Case(lambda a, b: mg.where(np.array([True, False, True]), a, b), (x(2, 3), x(3)),
                  torch=lambda torch, a, b: torch.where(torch.tensor([True, False, True]), a, b),
                  names=("where",)),
    "Concatenate": Case(lambda a, b: mg.concatenate([a, b, a], axis=1), (x(2, 3), x(2, 1)),
                        torch=lambda torch, a, b: torch.cat([a, b, a], 1), names=("concatenate",)),
    "SparseSoftmaxCrossEntropy": Case(
        lambda a: mg.sparse_softmax_cross_entropy_with_logits(np.array([0, 3, 1]), a), (x(3, 4, low=-3, high=3),),
        torch=lambda torch, a: torch.nn.functional.cross_entropy(a, torch.tensor([0, 3, 1]), reduction="none"),
        names=("sparse_softmax_cross_entropy_with_logits",)),
    "SoftmaxCrossEntropy": Case(
        lambda y, a: mg.softmax_cross_entropy_with_logits(y, a), (x(3, 4, low=0, high=1), x(3, 4, low=-3, high=3)),
        torch=lambda torch, y, a: -(y * torch.log_softmax(a, -1)).sum(-1),
        names=("softmax_cross_entropy_with_logits",)),
}


def arrays(name, seed=0):
    """The row's inputs as float64 arrays, the same on every run."""
    rng = np.random.default_rng(seed)
    return [rng.uniform(low, high, size=shape) for shape, low, high in CASES[name].inputs]
