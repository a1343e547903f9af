"""Every operator and primitive of minigrad against PyTorch: values and gradients, edge values,
float16/32/64, 0-d and empty arrays, broadcasting, every axis spelling."""

import itertools

import numpy as np
import pytest
import torch
from compare_helpers import (FLOATS, SETTINGS, arrays, assert_close, axes, compare_grads, covers, elements,
                             nonempty_shapes, pair, shapes)
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg

two_shapes = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=0, max_side=3)


# -- elementwise --------------------------------------------------------------------------------

UNARY = {
    "neg": (lambda x: -x, lambda x: -x),
    "exp": (lambda x: x.exp(), torch.exp),
    "log": (lambda x: x.log(), torch.log),
    "tanh": (lambda x: x.tanh(), torch.tanh),
    "sigmoid": (mg.functional.sigmoid, torch.sigmoid),
}


@covers("Tensor.__neg__", "Tensor.exp", "Tensor.log", "Tensor.tanh", "sigmoid")
@pytest.mark.parametrize("name", sorted(UNARY))
@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(FLOATS), shape=shapes)
def test_unary(name, data, dtype, shape):
    ours, theirs = UNARY[name]
    x = data.draw(arrays(dtype, shape))
    a, b = pair(x)
    out, tout = ours(a), theirs(b)
    assert_close(out, tout, what=f"{name} value")
    compare_grads([(a, b)], (out, tout))


BINARY = {
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "mul": lambda x, y: x * y,
    "truediv": lambda x, y: x / y,
    "pow": lambda x, y: x ** y,
}


@covers("Tensor.__add__", "Tensor.__radd__", "Tensor.__sub__", "Tensor.__rsub__", "Tensor.__mul__",
        "Tensor.__rmul__", "Tensor.__truediv__", "Tensor.__rtruediv__", "Tensor.__pow__", "Tensor.__rpow__",
        "power")
@pytest.mark.parametrize("name", sorted(BINARY))
@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(FLOATS), shapes=two_shapes)
def test_binary_broadcasting(name, data, dtype, shapes):
    f = BINARY[name]
    x = data.draw(arrays(dtype, shapes.input_shapes[0]), label="x")
    y = data.draw(arrays(dtype, shapes.input_shapes[1]), label="y")
    (a, b), (c, d) = pair(x), pair(y)
    out, tout = f(a, c), f(b, d)
    assert_close(out, tout, what=f"{name} value")
    compare_grads([(a, b), (c, d)], (out, tout))
    if name == "pow":  # the function form is the same operator
        assert_close(mg.ops.power(a, c), tout.detach())


@pytest.mark.parametrize("name", sorted(BINARY))
@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(FLOATS), shape=shapes,
       number=st.sampled_from([0.0, -0.0, 1.0, -1.0, 2.0, 3.0, -2.0, 0.5, -0.5, 2.5, np.inf, -np.inf, np.nan]))
def test_python_number_on_either_side(name, data, dtype, shape, number):
    """A Python number takes the tensor's dtype (PyTorch's and NumPy 2's rule for scalars)."""
    f = BINARY[name]
    x = data.draw(arrays(dtype, shape))
    if name == "pow" and number in (0.5, -0.5):
        # PyTorch computes x ** 0.5 as sqrt(x) and x ** -0.5 as rsqrt(x), and differentiates those: at
        # x = -0.0 and x = -inf their values or gradients differ from pow's (sqrt(-0.0) = -0.0 has gradient
        # -inf; rsqrt(-inf) is NaN where pow gives 0). minigrad computes NumPy's power and differentiates
        # it. A documented difference (book/api.md); at every other x they agree.
        x = np.where((x == -np.inf) | ((x == 0) & np.signbit(x)), dtype(1), x)
    a, b = pair(x)
    # number / b: PyTorch computes reciprocal(b) * number, whose gradient overflows (0 * inf = NaN) in
    # float16 where the quotient's does not; minigrad divides, so the reference is PyTorch's division.
    reflected = torch.full_like(b, number) / b if name == "truediv" else f(number, b)
    for out, tout in ((f(a, number), f(b, number)), (f(number, a), reflected)):
        assert_close(out, tout, what=f"{name} with {number}")
        a.zero_grad(), setattr(b, "grad", None)
        compare_grads([(a, b)], (out, tout))


@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(FLOATS), shape=nonempty_shapes)
def test_numpy_array_on_the_left_defers_to_the_tensor(data, dtype, shape):
    x, y = data.draw(arrays(dtype, shape)), data.draw(arrays(dtype, shape))
    a, b = pair(y)
    for op in (lambda p, q: p + q, lambda p, q: p * q, lambda p, q: p - q, lambda p, q: p / q):
        out = op(x, a)
        assert isinstance(out, mg.Tensor)
        assert_close(out, op(torch.tensor(x), b))


def test_power_edge_cases_named_in_issue_10():
    """PyTorch's conventions: d(x**0)/dx = 0 at x = 0; d(0**e)/de = 0 for e >= 0; (-2)**3 is real."""
    base = np.array([0.0, 0.0, -2.0, -2.0, 0.0, 2.0, -0.0])
    expo = np.array([0.0, 2.0, 3.0, 0.5, -1.0, 0.0, 0.5])
    (a, b), (c, d) = pair(base), pair(expo)
    out, tout = a ** c, b ** d
    assert_close(out, tout)
    compare_grads([(a, b), (c, d)], (out, tout))


@covers("Tensor.__matmul__", "Tensor.__rmatmul__")
@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(FLOATS),
       dims=st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(0, 3), st.integers(0, 2)),
       ranks=st.sampled_from([(1, 1), (1, 2), (2, 1), (2, 2), (3, 2), (2, 3), (3, 3), (1, 3)]))
def test_matmul(data, dtype, dims, ranks):
    n, k, m, batch = dims
    shape_x = {1: (k,), 2: (n, k), 3: (batch, n, k)}[ranks[0]]
    shape_y = {1: (k,), 2: (k, m), 3: (batch, k, m)}[ranks[1]]
    # no edge values: with inf, NaN and overflow the order of the additions decides between inf and NaN
    x = data.draw(arrays(dtype, shape_x, edges=False, low=-4, high=4))
    y = data.draw(arrays(dtype, shape_y, edges=False, low=-4, high=4))
    (a, b), (c, d) = pair(x), pair(y)
    out, tout = a @ c, b @ d
    assert_close(out, tout, scale=4 * k)
    compare_grads([(a, b), (c, d)], (out, tout), scale=16 * max(k, m, n))
    assert_close(x @ c, torch.tensor(x) @ d, scale=4 * k)  # __rmatmul__


@covers("divide_no_nan")
@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(FLOATS), shapes=two_shapes)
def test_divide_no_nan(data, dtype, shapes):
    """TensorFlow's divide_no_nan, written in PyTorch with a safe denominator (so its gradient is 0 too)."""
    x = data.draw(arrays(dtype, shapes.input_shapes[0]))
    y = data.draw(st.one_of(arrays(dtype, shapes.input_shapes[1]),
                            hnp.arrays(dtype, shapes.input_shapes[1], elements=st.just(0.0))))
    (a, b), (c, d) = pair(x), pair(y)
    out = mg.divide_no_nan(a, c)
    zero = d == 0
    tout = torch.where(zero, torch.zeros((), dtype=b.dtype), b / torch.where(zero, torch.ones_like(d), d))
    assert_close(out, tout)
    compare_grads([(a, b), (c, d)], (out, tout))


@covers("where")
@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(FLOATS),
       shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, min_side=0, max_side=3))
def test_where(data, dtype, shapes):
    cond = data.draw(hnp.arrays(np.bool_, shapes.input_shapes[0]))
    x = data.draw(arrays(dtype, shapes.input_shapes[1]))
    y = data.draw(arrays(dtype, shapes.input_shapes[2]))
    (a, b), (c, d) = pair(x), pair(y)
    out, tout = mg.where(cond, a, c), torch.where(torch.tensor(cond), b, d)
    assert_close(out, tout)
    compare_grads([(a, b), (c, d)], (out, tout))


# -- reductions -----------------------------------------------------------------------------------

@covers("Tensor.sum", "Tensor.mean")
@pytest.mark.parametrize("name", ["sum", "mean"])
@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(FLOATS), shape=shapes, keepdims=st.booleans())
def test_sum_and_mean(name, data, dtype, shape, keepdims):
    x = data.draw(arrays(dtype, shape))
    axis = data.draw(axes(len(shape)), label="axis")
    a, b = pair(x)
    out = getattr(a, name)(axis=axis, keepdims=keepdims)
    if axis is None:
        tout = getattr(b, name)()
        tout = tout.reshape((1,) * b.ndim) if keepdims else tout
    elif axis == ():
        # PyTorch reads dim=() as "every axis"; NumPy (and minigrad) as "no axis": the input itself.
        tout = b * 1
    else:
        tout = getattr(b, name)(dim=axis, keepdim=keepdims)
    assert_close(out, tout, what=f"{name}(axis={axis})", scale=max(1, x.size))
    compare_grads([(a, b)], (out, tout))


@pytest.mark.parametrize("dtype", FLOATS)
def test_float16_reductions_accumulate_in_float32(dtype):
    """70,000 ones: a float16 running sum would stop at 2048; NumPy's mean and PyTorch give 1."""
    a, b = pair(np.ones(70_000, dtype))
    out, tout = a.mean(), b.mean()
    assert_close(out, tout)
    compare_grads([(a, b)], (out, tout))  # 1 / 70,000: a float16 subnormal, not 1 / inf = 0
    assert np.all(a.grad != 0)
    assert_close(a.sum(), b.sum())  # inf in float16 (70,000 > 65,504) in both
    x = np.full((4, 3000), 0.1, dtype)
    assert_close(mg.Tensor(x).sum(axis=1), torch.tensor(x).sum(dim=1), scale=300)
    assert_close(mg.Tensor(x).sum(axis=0), torch.tensor(x).sum(dim=0), scale=1)


def torch_max(b, axis, keepdims):
    """PyTorch's ``max()`` rule on every slice: ties and NaNs share the gradient.

    (``torch.amax`` agrees except on a slice holding a NaN, where it gives a NaN gradient to every entry.)
    """
    ndim = b.ndim
    reduced = tuple(range(ndim)) if axis is None else tuple(a % ndim for a in axis)
    kept = [i for i in range(ndim) if i not in reduced]
    rows = torch.permute(b, (*kept, *reduced)).reshape(-1, int(np.prod([b.shape[i] for i in reduced])))
    out = torch.stack([row.max() for row in rows]).reshape([b.shape[i] for i in kept])
    if keepdims:
        out = out.reshape([1 if i in reduced else n for i, n in enumerate(b.shape)])
    return out


@covers("Tensor.max")
@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(FLOATS), shape=shapes, keepdims=st.booleans())
def test_max(data, dtype, shape, keepdims):
    # a few distinct values, so that ties are common
    x = data.draw(hnp.arrays(dtype, shape, elements=st.sampled_from([0.0, -0.0, 1.0, -2.5, np.inf, -np.inf,
                                                                      np.nan]) | elements(dtype)))
    axis = data.draw(axes(len(shape)), label="axis")
    a, b = pair(x)
    spelled = None if axis is None else (axis,) if isinstance(axis, int) else axis
    reduced = range(x.ndim) if spelled is None else spelled
    if any(x.shape[i] == 0 for i in reduced):  # a maximum of nothing: both refuse
        with pytest.raises(ValueError, match="empty"):
            a.max(axis=axis, keepdims=keepdims)
        with pytest.raises((RuntimeError, IndexError)):
            b.max() if spelled is None else torch.amax(b, dim=spelled)
        return
    out = a.max(axis=axis, keepdims=keepdims)
    if spelled == ():
        tout = b * 1  # no axis: the input itself (NumPy's reading of axis=())
    elif x.size == 0:
        tout = torch.amax(b, dim=spelled or tuple(range(x.ndim)), keepdim=keepdims)  # no slices at all
    else:
        tout = torch_max(b, spelled, keepdims)
        if spelled is not None and not np.isnan(x).any():
            assert_close(out, torch.amax(b, dim=spelled, keepdim=keepdims))
    assert_close(out, tout)
    compare_grads([(a, b)], (out, tout))


# -- shapes and indexing --------------------------------------------------------------------------

@st.composite
def reshapes(draw, shape):
    """A target shape with the same number of elements, sometimes with a -1."""
    size = int(np.prod(shape))
    factors = [f for f in range(1, 7) if size == 0 or size % f == 0]
    dims, left = [], size
    for _ in range(draw(st.integers(0, 3))):
        f = draw(st.sampled_from(factors)) if left else draw(st.integers(0, 3))
        if left and left % f:
            continue
        dims.append(f)
        left = left // f if left and f else left
    if size == 0:
        dims.append(0)
    else:
        dims.append(left)
    if size and draw(st.booleans()):
        dims[draw(st.integers(0, len(dims) - 1))] = -1
    return tuple(draw(st.permutations(dims)))


@covers("Tensor.reshape")
@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(FLOATS), shape=shapes, spread=st.booleans())
def test_reshape(data, dtype, shape, spread):
    x = data.draw(arrays(dtype, shape))
    new = data.draw(reshapes(shape), label="new shape")
    a, b = pair(x)
    out = a.reshape(*new) if spread else a.reshape(new)
    tout = b.reshape(new)
    assert_close(out, tout)
    compare_grads([(a, b)], (out, tout))


@covers("Tensor.transpose", "Tensor.T")
@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(FLOATS), shape=shapes,
       spelling=st.sampled_from(["args", "tuple", "none", "None", "T"]))
def test_transpose_with_every_axis_spelling(data, dtype, shape, spelling):
    """Regression: negative axes gave a wrong gradient (wrong values, or the wrong shape at rank 3)."""
    x = data.draw(arrays(dtype, shape))
    perm = data.draw(st.permutations(range(len(shape))))
    spelled = [data.draw(st.sampled_from([p, p - len(shape)])) for p in perm]
    a, b = pair(x)
    if spelling == "args":
        out = a.transpose(*spelled)
    elif spelling == "tuple":
        out = a.transpose(tuple(spelled))
    else:
        perm = list(range(len(shape)))[::-1]
        out = a.transpose() if spelling == "none" else a.transpose(None) if spelling == "None" else a.T
    tout = torch.permute(b, tuple(perm))
    assert_close(out, tout)
    compare_grads([(a, b)], (out, tout))


@covers("concatenate", "stack")
@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(FLOATS), shape=nonempty_shapes, count=st.integers(1, 3),
       new_axis=st.booleans())
def test_concatenate_and_stack(data, dtype, shape, count, new_axis):
    ndim = len(shape) + new_axis
    axis = data.draw(st.integers(-ndim, ndim - 1), label="axis")
    xs = []
    for _ in range(count):
        s = list(shape)
        if not new_axis:
            s[axis % ndim] = data.draw(st.integers(0, 3))
        xs.append(data.draw(arrays(dtype, tuple(s))))
    pairs = [pair(x) for x in xs]
    if new_axis:
        out, tout = mg.stack([p[0] for p in pairs], axis=axis), torch.stack([p[1] for p in pairs], dim=axis)
    else:
        out, tout = mg.concatenate([p[0] for p in pairs], axis=axis), torch.cat([p[1] for p in pairs], dim=axis)
    assert_close(out, tout)
    compare_grads(pairs, (out, tout))


@st.composite
def indices(draw, shape):
    """A NumPy index: ints (negative too), slices with steps, None, Ellipsis, int arrays, a bool mask."""
    kind = draw(st.sampled_from(["basic", "int array", "mask"]))
    if kind == "mask" and shape:
        return draw(hnp.arrays(np.bool_, shape[:draw(st.integers(1, len(shape)))]))
    if kind == "int array" and shape and shape[0]:
        n = shape[0]
        return draw(hnp.arrays(np.int64, draw(st.integers(0, 4)), elements=st.integers(-n, n - 1)))
    parts = []
    for n in shape[:draw(st.integers(0, len(shape)))]:
        positive = st.slices(n).filter(lambda s: s.step is None or s.step > 0)  # PyTorch's only kind
        options = [positive] + ([st.integers(-n, n - 1)] if n else [])
        parts.append(draw(st.one_of(*options)))
    if draw(st.booleans()):
        parts.insert(draw(st.integers(0, len(parts))), None)
    if draw(st.booleans()) and len(parts) < len(shape):
        parts.append(Ellipsis)
    return tuple(parts)


def torch_index(index):
    return torch.tensor(index) if isinstance(index, np.ndarray) else index


@covers("Tensor.__getitem__", "getitem")
@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(FLOATS), shape=shapes)
def test_getitem(data, dtype, shape):
    x = data.draw(arrays(dtype, shape))
    index = data.draw(indices(shape), label="index")
    a, b = pair(x)
    out, tout = a[index], b[torch_index(index)]
    assert_close(out, tout)
    compare_grads([(a, b)], (out, tout))


def test_getitem_negative_steps():
    """PyTorch has no negative slice steps; flip() gives the same entries."""
    x = np.arange(12.0).reshape(3, 4)
    a, b = pair(x)
    out, tout = a[::-1, ::-2] * 1.0, b.flip(0, 1)[:, ::2]
    assert_close(out, tout)
    compare_grads([(a, b)], (out, tout))


def test_getitem_repeated_integer_indices_add_up():
    x = np.arange(5.0)
    a, b = pair(x)
    index = np.array([1, 1, -1, 3, 1])
    out, tout = a[index], b[torch.tensor(index)]
    compare_grads([(a, b)], (out, tout))


@covers("take_along_axis", "Tensor.take_along_axis")
@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(FLOATS), shape=nonempty_shapes)
def test_take_along_axis(data, dtype, shape):
    x = data.draw(arrays(dtype, shape))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    n = shape[axis]
    ishape = list(shape)
    ishape[axis] = data.draw(st.integers(0, 4))
    idx = data.draw(hnp.arrays(np.int64, tuple(ishape), elements=st.integers(-n, n - 1)))
    a, b = pair(x)
    out = a.take_along_axis(idx, axis=axis) if data.draw(st.booleans()) else mg.ops.take_along_axis(a, idx, axis)
    # NumPy (and minigrad) accept negative indices; PyTorch's take_along_dim does not: same entries, wrapped
    tout = torch.take_along_dim(b, torch.tensor(idx % n), dim=axis)
    assert_close(out, tout)
    compare_grads([(a, b)], (out, tout))


# -- every axis spelling, exhaustively, on one rank-3 array (Hypothesis samples them; these enumerate) --

def axis_spellings(ndim):
    """None, every int in [-ndim, ndim), and every tuple of distinct axes in every order and sign."""
    yield None
    yield from range(-ndim, ndim)
    for k in range(ndim + 1):
        for axes in itertools.permutations(range(ndim), k):
            for signs in itertools.product([0, 1], repeat=k):
                yield tuple(a - ndim * s for a, s in zip(axes, signs))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ["sum", "mean", "max"])
def test_every_axis_spelling_of_the_reductions(name, dtype):
    x = np.random.default_rng(0).normal(size=(2, 3, 4)).astype(dtype)
    for axis, keepdims in itertools.product(axis_spellings(3), [False, True]):
        a, b = pair(x)
        out = getattr(a, name)(axis=axis, keepdims=keepdims)
        if axis == ():
            tout = b * 1  # NumPy's "no axis" (PyTorch would reduce every axis)
        elif name == "max":
            tout = torch.amax(b, dim=tuple(range(3)) if axis is None else axis, keepdim=keepdims)
        else:
            tout = getattr(b, name)(dim=axis, keepdim=keepdims) if axis is not None else getattr(b, name)()
            tout = tout.reshape(1, 1, 1) if axis is None and keepdims else tout
        assert_close(out, tout, what=f"{name}(axis={axis}, keepdims={keepdims})", scale=24)
        compare_grads([(a, b)], (out, tout))


@pytest.mark.parametrize("dtype", FLOATS)
def test_every_permutation_and_spelling_of_transpose(dtype):
    """Regression (issue 10): negative axes gave a wrong gradient (wrong values; the wrong shape at rank 3)."""
    for ndim in (2, 3):
        x = np.random.default_rng(ndim).normal(size=(2, 3, 4)[:ndim]).astype(dtype)
        for perm in itertools.permutations(range(ndim)):
            for signs in itertools.product([0, 1], repeat=ndim):
                spelled = tuple(p - ndim * s for p, s in zip(perm, signs))
                a, b = pair(x)
                out, tout = a.transpose(*spelled), torch.permute(b, perm)
                assert_close(out, tout, what=f"transpose{spelled}")
                compare_grads([(a, b)], (out, tout))


@pytest.mark.parametrize("left,right", [(np.float32, np.float64), (np.float16, np.float32), (np.float16, np.float64)])
def test_type_promotion_follows_numpy(left, right):
    """Two tensors of different float dtypes give NumPy's result dtype. PyTorch agrees except when the
    wider operand is 0-d: then it keeps the dimensioned tensor's dtype (a documented difference)."""
    x, y = np.ones(3, left), np.ones(3, right)
    assert (mg.Tensor(x) * mg.Tensor(y)).dtype == np.result_type(x, y)
    assert_close(mg.Tensor(x) * mg.Tensor(y), torch.tensor(x) * torch.tensor(y))
    scalar = np.asarray(2.0, right)
    assert (mg.Tensor(x) * mg.Tensor(scalar)).dtype == np.result_type(x, scalar) == right
    assert (torch.tensor(x) * torch.tensor(scalar)).numpy().dtype == left


@pytest.mark.parametrize("dtype", FLOATS)
def test_numpy_scalars_take_the_tensors_dtype_as_in_pytorch(dtype):
    """np.float64(2.0) * t keeps t's dtype, as PyTorch does (NumPy 2 alone would promote to float64)."""
    a, b = pair(np.array([1.0, 2.0], dtype))
    for scalar in (np.float64(2.0), np.float32(0.5), np.int64(3)):
        for out, tout in ((scalar * a, b * scalar), (a - scalar, b - scalar), (scalar / a, scalar / b)):
            assert_close(out, tout)
