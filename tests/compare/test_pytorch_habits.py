"""The PyTorch habits of issue 17 against PyTorch itself: elementwise methods, min/argmax, shape methods,
creation functions, Sequential/Dropout/LayerNorm, train()/eval(), optimizer repr and schedules."""

import numpy as np
import pytest
import torch
from compare_helpers import (FLOATS, SETTINGS, arrays, assert_close, axes, compare_grads, covers, nonempty_shapes,
                             pair, shapes)
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.gradcheck import analytic_gradients, central_differences
from minigrad import nn, optim

UNARY = {  # name: (minigrad, torch); edge values (0, -0, inf, NaN, ...) included
    "relu": (lambda t: t.relu(), torch.relu),
    "abs": (lambda t: t.abs(), torch.abs),
    "abs()": (abs, abs),
    "sqrt": (lambda t: t.sqrt(), torch.sqrt),
    "sigmoid": (lambda t: t.sigmoid(), torch.sigmoid),
    "clip": (lambda t: t.clip(-1.0, 2.0), lambda t: t.clamp(-1.0, 2.0)),
    "clamp min": (lambda t: t.clamp(min=0.0), lambda t: t.clamp(min=0.0)),
    "clip max": (lambda t: t.clip(max=-0.0), lambda t: t.clamp(max=-0.0)),
}


@covers("Tensor.relu", "Tensor.abs", "Tensor.sqrt", "Tensor.sigmoid", "Tensor.clip", "Tensor.clamp")
@pytest.mark.parametrize("name", UNARY)
@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(FLOATS), shape=shapes)
def test_elementwise_methods(name, data, dtype, shape):
    ours, theirs = UNARY[name]
    x, tx = pair(data.draw(arrays(dtype, shape)))
    if name == "sigmoid":  # the tanh form: within an ulp of 1, not of the tiny tail values
        out, tout = ours(x), theirs(tx)
        np.testing.assert_allclose(out.data.astype(float), tout.detach().numpy().astype(float),
                                   atol=float(np.finfo(dtype).eps) * 4, equal_nan=True)
        return
    out, tout = ours(x), theirs(tx)
    assert_close(out, tout)
    zero = out.data == 0
    assert np.array_equal(np.signbit(out.data[zero]), np.signbit(tout.detach().numpy()[zero])), "signs of zeros"
    compare_grads([(x, tx)], (out, tout))


@covers("Tensor.min", "Tensor.argmax", "Tensor.argmin")
@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(FLOATS), shape=nonempty_shapes)
def test_min_and_argmax(data, dtype, shape):
    x, tx = pair(data.draw(arrays(dtype, shape, nan=False)))
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    keep = data.draw(st.booleans())
    if axis is None:
        out, tout = x.min(), tx.min()
        for arg in ("argmax", "argmin"):  # of the flattened tensor; the first of ties in both
            assert_close(getattr(x, arg)(), getattr(tx, arg)())
    else:
        out, tout = x.min(axis=axis, keepdims=keep), tx.amin(dim=axis, keepdim=keep)
        for arg in ("argmax", "argmin"):
            assert_close(getattr(x, arg)(axis=axis, keepdims=keep), getattr(tx, arg)(dim=axis, keepdim=keep))
        # amin splits the gradient of ties evenly, as minigrad does
    assert_close(out, tout)
    if axis is not None or not np.isinf(x.data).any():
        compare_grads([(x, tx)], (out, tout))


@covers("Tensor.view", "Tensor.unsqueeze", "Tensor.squeeze", "Tensor.flatten")
@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(FLOATS), shape=shapes)
def test_shape_methods(data, dtype, shape):
    x, tx = pair(data.draw(arrays(dtype, shape)))
    ndim = len(shape)
    dim = data.draw(st.integers(-ndim - 1, ndim))
    assert_close(x.unsqueeze(dim), tx.unsqueeze(dim))
    assert_close(x.view(-1), tx.view(-1))
    assert_close(x.squeeze(), tx.squeeze())
    if ndim:
        axis = data.draw(axes(ndim, allow_none=False, allow_tuple=False))
        assert_close(x.squeeze(axis), tx.squeeze(axis))
        start = data.draw(st.integers(-ndim, ndim - 1))
        end = data.draw(st.integers(start % ndim, ndim - 1))
        end = end - ndim if data.draw(st.booleans()) else end  # a negative end_dim too
        out, tout = x.flatten(start, end), tx.flatten(start, end)
    else:
        out, tout = x.flatten(), tx.flatten()
    assert_close(out, tout)
    compare_grads([(x, tx)], (out, tout))


@covers("tensor", "zeros", "ones", "full", "zeros_like", "ones_like", "arange")
def test_creation_functions():
    f64, i64 = torch.float64, torch.int64
    assert_close(mg.zeros(2, 3), torch.zeros(2, 3, dtype=f64))
    assert_close(mg.zeros((2, 0)), torch.zeros((2, 0), dtype=f64))
    assert_close(mg.ones(4, dtype=np.float32), torch.ones(4))
    assert_close(mg.full((2, 2), 1.5), torch.full((2, 2), 1.5, dtype=f64))
    assert_close(mg.full(3, 7), torch.full((3,), 7))  # an int fill gives int64 in both
    y = torch.ones(2, 3, dtype=torch.float32)
    assert_close(mg.zeros_like(mg.ones(2, 3, dtype=np.float32)), torch.zeros_like(y))
    assert_close(mg.ones_like(np.zeros((2, 3), np.float32)), torch.ones_like(y))
    assert_close(mg.arange(5), torch.arange(5))
    assert_close(mg.arange(1, 7, 2), torch.arange(1, 7, 2))
    assert_close(mg.arange(0.0, 1.0, 0.25), torch.arange(0.0, 1.0, 0.25, dtype=f64))
    assert_close(mg.tensor([[1, 2]]), torch.tensor([[1, 2]], dtype=i64))
    t = mg.tensor([1.0, 2.0], requires_grad=True)
    assert t.requires_grad and t.dtype == np.float64
    data = np.ones(2)
    assert mg.tensor(data).data is not data  # a copy, as torch.tensor
    assert mg.zeros(2, requires_grad=True).requires_grad


@covers("randn", "rand")
def test_random_tensors():
    """The distributions and shapes of PyTorch's; the numbers come from NumPy's generator (seeded)."""
    assert mg.randn(2, 3).shape == tuple(torch.randn(2, 3).shape)
    assert np.array_equal(mg.randn(3, seed=4).data, np.random.default_rng(4).standard_normal(3))
    g = np.random.default_rng(4)
    assert np.array_equal(mg.rand(5, generator=g).data, np.random.default_rng(4).random(5))
    big = mg.rand(100_000, seed=0).data
    assert 0.0 <= big.min() and big.max() < 1.0 and abs(big.mean() - 0.5) < 0.01
    normal = mg.randn(100_000, seed=0, dtype=np.float32)
    assert normal.dtype == np.float32 and abs(normal.data.std() - 1) < 0.01
    with pytest.raises(ValueError, match="seed or generator, not both"):
        mg.randn(2, seed=0, generator=np.random.default_rng(0))


@covers("Sequential", "ReLU", "Sigmoid", "LayerNorm", "Module.named_children")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sequential_with_layer_norm(dtype):
    ours = nn.Sequential(nn.Linear(4, 6, rng=0, dtype=dtype), nn.ReLU(), nn.LayerNorm(6, dtype=dtype),
                         nn.Linear(6, 3, rng=1, dtype=dtype), nn.Sigmoid(), nn.Tanh())
    tdtype = getattr(torch, np.dtype(dtype).name)
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.LayerNorm(6),
                                 torch.nn.Linear(6, 3), torch.nn.Sigmoid(), torch.nn.Tanh()).to(tdtype)
    rng = np.random.default_rng(2)
    ours[2].weight.data[:] = rng.uniform(0.5, 1.5, 6)  # not the initial ones: the affine part matters
    ours[2].bias.data[:] = rng.uniform(-1, 1, 6)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    assert [name for name, _ in ours.named_children()] == [name for name, _ in theirs.named_children()]
    assert len(ours) == len(theirs) and isinstance(ours[-1], nn.Tanh)
    x, tx = pair(rng.standard_normal((5, 4)).astype(dtype))
    out, tout = ours(x), theirs(tx)
    assert_close(out, tout)
    compare_grads([(x, tx)] + list(zip(ours.parameters(), theirs.parameters())), (out, tout))


@covers("Dropout", "Module.train", "Module.eval", "Module.training")
@pytest.mark.parametrize("p", [0.0, 0.3, 1.0])
def test_dropout_in_training_and_evaluation_mode(p):
    ours, theirs = nn.Sequential(nn.Dropout(p, rng=0)), torch.nn.Sequential(torch.nn.Dropout(p))
    assert ours.training == theirs.training == ours[0].training == theirs[0].training == True  # noqa: E712
    x, tx = pair(np.random.default_rng(1).standard_normal((50, 40)))
    out, tout = ours(x), theirs(tx)
    # the masks are random in both; each kept entry is x / (1 - p), each dropped one 0, in both
    for result, data in ((out.data, x.data), (tout.detach().numpy(), x.data)):
        kept = result != 0
        np.testing.assert_allclose(result[kept], data[kept] / (1 - p))
        if 0 < p < 1:
            assert abs((~kept).mean() - p) < 0.05
    out.backward(np.ones(out.shape))
    np.testing.assert_allclose(x.grad, (out.data != 0) / (1 - p) if p < 1 else 0.0)
    ours.eval(), theirs.eval()
    assert ours[0].training == theirs[0].training == False  # noqa: E712
    assert_close(ours(x), theirs(tx))  # evaluation: the identity in both
    assert ours.train() is ours and ours[0].training


@covers("Optimizer.__repr__")
def test_optimizer_repr_names_the_settings():
    w = mg.zeros(2, requires_grad=True)
    assert repr(optim.SGD([w], lr=0.1, momentum=0.9)) == "SGD(1 parameter, lr=0.1, momentum=0.9)"
    assert "betas=(0.9, 0.999)" in repr(optim.Adam([w, mg.zeros(1, requires_grad=True)]))


@covers("StepLR", "LambdaLR")
@pytest.mark.parametrize("kind", ["step", "lambda"])
def test_schedules_give_pytorchs_learning_rates(kind):
    w, tw = pair(np.ones(2))
    opt, topt = optim.SGD([w], lr=0.5), torch.optim.SGD([tw], lr=0.5)
    if kind == "step":
        ours, theirs = optim.StepLR(opt, step_size=3, gamma=0.5), torch.optim.lr_scheduler.StepLR(topt, 3, 0.5)
    else:
        ours, theirs = (optim.LambdaLR(opt, lambda e: 0.9 ** e),
                        torch.optim.lr_scheduler.LambdaLR(topt, lambda e: 0.9 ** e))
    for _ in range(8):
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-15)
        opt.step(), topt.step()
        ours.step(), theirs.step()


@covers("analytic_gradients", "central_differences")
def test_gradcheck_halves_agree_with_pytorchs_gradient():
    """The two halves of gradcheck: one backward pass, and central differences, against torch.autograd.grad."""
    x = np.random.default_rng(0).uniform(0.5, 2.0, size=(2, 3))
    u = np.random.default_rng(1).standard_normal(2)
    a, b = pair(x)
    (expected,) = torch.autograd.grad(((b ** 3).tanh().sum(dim=1) * torch.tensor(u)).sum(), b)

    def f(t):
        return (t ** 3).tanh().sum(axis=1)

    (analytic,) = analytic_gradients(f(a), u, [a])
    assert_close(analytic, expected)
    assert a.grad is None  # left as it was
    numeric = np.array(list(central_differences(f, (a,), a, u, 1e-6))).reshape(a.shape)
    np.testing.assert_allclose(numeric, expected.numpy(), rtol=1e-6, atol=1e-8)


@covers("Tensor.tolist")
@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(FLOATS), shape=shapes)
def test_tolist(data, dtype, shape):
    x, tx = pair(data.draw(arrays(dtype, shape, nan=False)))
    assert x.tolist() == tx.tolist()
    assert mg.arange(3).tolist() == torch.arange(3).tolist()
