"""The engine's public helpers against their NumPy and PyTorch counterparts: the argument normalisers,
unbroadcast (PyTorch's sum_to_size), apply with a user-defined primitive (torch.autograd.Function),
toposort (PyTorch's graph of grad_fn nodes), index errors."""

import numpy as np
import pytest
import torch
from compare_helpers import FLOATS, SETTINGS, arrays, assert_close, compare_grads, covers, pair
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.lib.array_utils import normalize_axis_tuple

import minigrad as mg

spellings = st.one_of(st.none(), st.integers(-5, 5), st.booleans(), st.floats(-2, 2),
                      st.lists(st.integers(-4, 4), max_size=4).map(tuple), st.lists(st.integers(-4, 4), max_size=3),
                      st.tuples(st.integers(-3, 3), st.floats(0, 1)))


@SETTINGS
@given(axis=spellings, ndim=st.integers(0, 4))
def test_normalize_axis_accepts_and_refuses_what_numpy_does(axis, ndim):
    """NumPy's own normaliser (numpy.lib.array_utils.normalize_axis_tuple) is the reference; both refuse
    bools and floats, out-of-range and repeated axes. minigrad keeps the order and says 'axis'."""
    try:
        expected = None if axis is None else normalize_axis_tuple(axis, ndim)
        if isinstance(axis, bool) or (isinstance(axis, (tuple, list))
                                      and any(isinstance(a, bool) for a in axis)):
            raise TypeError("bool axis")  # NumPy's operator.index refuses bools too (with a warning)
    except (TypeError, ValueError, np.exceptions.AxisError):
        with pytest.raises((TypeError, ValueError), match="axis"):
            mg.checks.normalize_axis(axis, ndim)
        return
    assert mg.checks.normalize_axis(axis, ndim) == expected
    if isinstance(axis, int) and not isinstance(axis, bool):
        assert mg.checks.one_axis(axis, ndim) == expected[0]
    elif axis is not None:
        with pytest.raises(TypeError, match="axis must be an int"):
            mg.checks.one_axis(axis, ndim)


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=0, max_dims=4, max_side=2),
       axes=st.lists(st.integers(-5, 5), max_size=5).map(tuple))
def test_normalize_permutation_accepts_what_numpy_transpose_does(shape, axes):
    x = np.zeros(shape)
    try:
        expected = np.transpose(x, axes or None)
    except (ValueError, TypeError):
        with pytest.raises((ValueError, TypeError), match="axes"):
            mg.checks.normalize_permutation(axes, x.ndim)
        return
    assert np.transpose(x, mg.checks.normalize_permutation(axes, x.ndim)).shape == expected.shape
    assert_close(mg.Tensor(x).transpose(*axes), torch.permute(torch.tensor(x), axes or tuple(range(x.ndim))[::-1]))


@SETTINGS
@given(size_shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3),
       shape=st.lists(st.one_of(st.integers(-2, 6), st.floats(0, 3), st.booleans()), max_size=3).map(tuple))
def test_normalize_shape_accepts_what_numpy_and_pytorch_reshape_do(size_shape, shape):
    x = np.zeros(size_shape)
    try:
        if any(isinstance(n, (bool, float)) for n in shape):
            raise TypeError("NumPy 2 and PyTorch refuse float and bool sizes")
        expected = x.reshape(shape)
        torch.zeros(size_shape).reshape(shape)
    except (ValueError, TypeError, RuntimeError):
        with pytest.raises((ValueError, TypeError), match="shape"):
            mg.Tensor(x).reshape(shape)
        return
    assert mg.checks.normalize_shape(shape, x.size) == shape  # checked, not resolved: NumPy resolves the -1
    assert mg.Tensor(x).reshape(shape).shape == expected.shape


@covers("unbroadcast")
@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(FLOATS),
       shapes=hnp.mutually_broadcastable_shapes(num_shapes=1, min_dims=0, max_dims=3, max_side=4))
def test_unbroadcast_is_sum_to_size(data, dtype, shapes):
    grad = data.draw(arrays(dtype, shapes.result_shape, edges=False))
    target = shapes.input_shapes[0]
    assert_close(mg.engine.unbroadcast(grad, target), torch.tensor(grad).sum_to_size(target), scale=grad.size + 1)


@SETTINGS
@given(data=st.data(), shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
def test_unbroadcast_refuses_a_shape_that_sum_to_size_refuses(data, shapes):
    grad = np.ones(shapes.input_shapes[0])
    target = shapes.input_shapes[1]
    try:
        expected = torch.tensor(grad).sum_to_size(target)
    except RuntimeError:
        with pytest.raises(ValueError, match="does not broadcast"):
            mg.engine.unbroadcast(grad, target)
        return
    assert_close(mg.engine.unbroadcast(grad, target), expected)


@covers("apply", "Primitive", "PRIMITIVES")
def test_a_user_defined_primitive_matches_a_torch_autograd_function():
    class Cube(mg.engine.Primitive):
        name = "CubeForCompare"

        @staticmethod
        def forward(x, y):
            return x ** 3 * y

        @staticmethod
        def vjp(g, ans, x, y):
            return g * 3 * x ** 2 * y, g * x ** 3

    class TorchCube(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x ** 3 * y

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            return g * 3 * x ** 2 * y, g * x ** 3

    try:
        assert mg.PRIMITIVES["CubeForCompare"] is Cube
        rng = np.random.default_rng(0)
        (a, b), (c, d) = pair(rng.normal(size=(2, 3))), pair(rng.normal(size=(3,)))
        out, tout = mg.engine.apply(Cube, a, c), TorchCube.apply(b, d)
        assert_close(out, tout)
        compare_grads([(a, b), (c, d)], (out, tout))  # the engine sums c's broadcast gradient
    finally:
        del mg.PRIMITIVES["CubeForCompare"]


def torch_graph(root):
    """PyTorch's backward graph from ``root``: (number of operation nodes, number of leaves)."""
    seen, stack, ops, leaves = set(), [root.grad_fn], 0, 0
    while stack:
        fn = stack.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        if type(fn).__name__ == "AccumulateGrad":
            leaves += 1
        else:
            ops += 1
        stack.extend(next_fn for next_fn, _ in fn.next_functions)
    return ops, leaves


@covers("toposort")
def test_toposort_visits_the_nodes_pytorchs_graph_has():
    (a, b), (c, d) = pair(np.array([0.5, 1.5])), pair(np.array([2.0, -1.0]))
    k, tk = pair(np.array([3.0, 3.0]), requires_grad=False)  # a constant is in neither graph
    out = ((a * c + a).exp() * k).sum()
    tout = ((b * d + b).exp() * tk).sum()
    order = mg.engine.toposort(out)
    leaves = [t for t in order if t._node is None]
    assert (len(order) - len(leaves), len(leaves)) == torch_graph(tout)
    position = {id(t): i for i, t in enumerate(order)}
    for t in order:  # parents before children
        for parent in (t._node[1] if t._node else []):
            assert not parent.requires_grad or position[id(parent)] < position[id(t)]
    assert order[-1] is out


@covers("IndexOutOfRange")
@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=2, min_side=0, max_side=3), i=st.integers(-5, 5))
def test_index_errors_are_index_errors_as_in_pytorch(shape, i):
    a, b = mg.Tensor(np.zeros(shape)), torch.zeros(shape)
    try:
        b[i]
    except IndexError:
        with pytest.raises(mg.ops.IndexOutOfRange, match="index"):
            a[i]
        return
    assert a[i].shape == tuple(b[i].shape)
