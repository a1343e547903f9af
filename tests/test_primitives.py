"""Every primitive's VJP against central differences (float64, every entry)."""

import itertools

import numpy as np
import pytest

import minigrad as mg
from minigrad import ops

RNG = np.random.default_rng(0)


def t(*shape, low=-1.0, high=1.0):
    return mg.Tensor(RNG.uniform(low, high, size=shape), requires_grad=True)


# One case per primitive: a function and the tensors to check it with.
CASES = {
    "Add": lambda: (lambda a, b: a + b, t(2, 3), t(3)),
    "Sub": lambda: (lambda a, b: a - b, t(2, 3), t(2, 1)),
    "Mul": lambda: (lambda a, b: a * b, t(2, 3), t(1, 3)),
    "Div": lambda: (lambda a, b: a / b, t(2, 3), t(3, low=0.5, high=2.0)),
    "DivNoNan": lambda: (lambda a, b: mg.divide_no_nan(a, b), t(2, 3), t(3, low=0.5, high=2.0)),
    "Neg": lambda: (lambda a: -a, t(2, 3)),
    "Pow": lambda: (lambda a, b: a ** 3 + a ** 0.5 + a ** b, t(2, 3, low=0.5, high=2.0), t(3)),
    "MatMul": lambda: (lambda a, b: a @ b, t(2, 3), t(3, 4)),
    "Exp": lambda: (lambda a: a.exp(), t(2, 3)),
    "Log": lambda: (lambda a: a.log(), t(2, 3, low=0.5, high=2.0)),
    "Tanh": lambda: (lambda a: a.tanh(), t(2, 3)),
    "Sum": lambda: (lambda a: a.sum(axis=1) * a.sum(axis=(0, 2), keepdims=True).sum(), t(2, 3, 4)),
    "Mean": lambda: (lambda a: a.mean(axis=(0, -1)) * a.mean(axis=1, keepdims=True).mean(), t(2, 3, 4)),
    "Max": lambda: (lambda a: a.max(axis=0) + a.max(), t(3, 4)),
    "Min": lambda: (lambda a: a.min(axis=0) + a.min(), t(3, 4)),
    "Abs": lambda: (lambda a: abs(a), t(2, 3)),  # t() draws no exact 0, where |x| has no derivative
    "Sqrt": lambda: (lambda a: a.sqrt(), t(2, 3, low=0.5, high=2.0)),
    "Relu": lambda: (lambda a: a.relu(), t(2, 3)),
    "Clip": lambda: (lambda a: a.clip(-0.5, 0.5) + a.clamp(min=0.2) + a.clip(max=-0.3), t(3, 4)),
    "Reshape": lambda: (lambda a: a.reshape(6, 2) * np.arange(12.0).reshape(6, 2), t(3, 4)),
    "Transpose": lambda: (lambda a: a.transpose(2, 0, 1) * np.arange(24.0).reshape(4, 2, 3)
                          + a.transpose(-1, -3, -2) * 0.5, t(2, 3, 4)),
    "GetItem": lambda: (lambda a: a[np.array([0, 2, 0]), 1:] * 2.0, t(3, 4)),
    "TakeAlongAxis": lambda: (lambda a: a.take_along_axis(np.array([[0, 3, 3], [1, 1, 2]]), axis=1), t(2, 4)),
    "Where": lambda: (lambda a, b: mg.where(np.array([True, False, True]), a, b), t(2, 3), t(3)),
    "Concatenate": lambda: (lambda a, b: mg.concatenate([a, b, a], axis=1), t(2, 3), t(2, 1)),
    "SparseSoftmaxCrossEntropy": lambda: (
        lambda a: mg.sparse_softmax_cross_entropy_with_logits(np.array([0, 3, 1]), a), t(3, 4, low=-3, high=3)),
    "SoftmaxCrossEntropy": lambda: (
        lambda y, a: mg.softmax_cross_entropy_with_logits(y, a), t(3, 4, low=0, high=1), t(3, 4, low=-3, high=3)),
}


def test_every_primitive_has_a_case():
    missing = set(mg.PRIMITIVES) - set(CASES)
    assert not missing, f"primitives without a gradient check: {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_primitive_gradient(name):
    f, *tensors = CASES[name]()
    assert mg.gradcheck(f, *tensors)


@pytest.mark.parametrize("name", sorted(CASES))
def test_random_projection(name):
    """<u, J v> (a directional finite difference) equals <J^T u, v> (one backward pass)."""
    f, *tensors = CASES[name]()
    rng = np.random.default_rng(1)
    out = f(*tensors)
    u = rng.standard_normal(out.shape)
    (out * u).sum().backward()
    vs = [rng.standard_normal(x.shape) for x in tensors]
    eps = 1e-6

    def at(sign):
        moved = [mg.Tensor(x.data + sign * eps * v) for x, v in zip(tensors, vs)]
        return np.sum(f(*moved).data * u)

    jvp = (at(+1) - at(-1)) / (2 * eps)
    vjp = sum(np.sum(x.grad * v) for x, v in zip(tensors, vs))
    assert jvp == pytest.approx(vjp, rel=1e-6, abs=1e-8)


SHAPES = [(), (3,), (2, 3), (1, 3), (2, 1, 3)]
BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
          "div": lambda a, b: a / b, "where": lambda a, b: mg.where(np.array(True), a, b) * 1.5 + b}


@pytest.mark.parametrize("op", sorted(BINARY))
@pytest.mark.parametrize("sa,sb", list(itertools.product(SHAPES, SHAPES)))
def test_broadcast_sweep(op, sa, sb):
    a, b = t(*sa, low=0.5, high=2.0), t(*sb, low=0.5, high=2.0)
    assert mg.gradcheck(BINARY[op], a, b)
    a.zero_grad(), b.zero_grad()
    BINARY[op](a, b).sum().backward()
    assert a.grad.shape == sa and b.grad.shape == sb


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((4, 2, 3), (3, 5)),
                                   ((2, 3), (1, 3, 4))])
def test_matmul_shapes(sa, sb):
    assert mg.gradcheck(lambda a, b: a @ b, t(*sa), t(*sb))


def test_max_ties_share_the_gradient():
    x = mg.Tensor([1.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()
    assert x.grad.tolist() == [0.0, 0.5, 0.5]


def test_getitem_repeated_indices_add_up():
    x = mg.Tensor(np.arange(4.0), requires_grad=True)
    x[np.array([1, 1, 3])].sum().backward()
    assert x.grad.tolist() == [0.0, 2.0, 0.0, 1.0]


def test_stack_and_mean():
    a, b = t(2, 3), t(2, 3)
    assert mg.gradcheck(lambda a, b: mg.stack([a, b], axis=1).mean(axis=(0, 2)), a, b)
    assert mg.stack([a, b], axis=-1).shape == (2, 3, 2)


def test_power_with_tensor_exponent():
    assert mg.gradcheck(lambda a, p: a ** p, t(3, low=0.5, high=2.0), t(3))


def test_ops_registry_matches_module():
    assert all(isinstance(cls, type) and issubclass(cls, mg.Primitive) for cls in mg.PRIMITIVES.values())
    assert mg.PRIMITIVES["Mul"] is ops.Mul
