"""Every primitive's VJP against central differences (float64, every entry)."""

import itertools

import numpy as np
import pytest

import minigrad as mg
from minigrad import ops
from minigrad.engine import toposort
from primitive_cases import CASES, arrays

RNG = np.random.default_rng(0)


def t(*shape, low=-1.0, high=1.0):
    return mg.Tensor(RNG.uniform(low, high, size=shape), requires_grad=True)


def case(name):
    """The row's function and its inputs as tensors that require gradients."""
    return CASES[name].f, *(mg.Tensor(a, requires_grad=True) for a in arrays(name))


def test_every_primitive_has_a_case():
    missing = set(mg.PRIMITIVES) - set(CASES)
    assert not missing, f"primitives without a row in tests/primitive_cases.py: {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_case_runs_its_primitive(name):
    """A row tests the primitive it is named after: that primitive is in its graph."""
    assert name in mg.PRIMITIVES, f"{name}: a row for a primitive that does not exist"
    f, *tensors = case(name)
    used = {node._node.primitive.name for node in toposort(f(*tensors)) if node._node is not None}
    assert name in used, f"{name}: the row's function runs {sorted(used)}, not {name}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_primitive_gradient(name):
    f, *tensors = case(name)
    assert mg.gradcheck(f, *tensors)


@pytest.mark.parametrize("name", sorted(CASES))
def test_random_projection(name):
    """<u, J v> (a directional finite difference) equals <J^T u, v> (one backward pass)."""
    f, *tensors = case(name)
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
    assert all(isinstance(cls, type) and issubclass(cls, mg.engine.Primitive) for cls in mg.PRIMITIVES.values())
    assert mg.PRIMITIVES["Mul"] is ops.Mul
