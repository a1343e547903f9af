"""minigrad.nn, minigrad.optim and gradcheck against their PyTorch counterparts, with the same weights."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from compare_helpers import SETTINGS, assert_close, compare_grads, covers, pair
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad import nn, optim
from torch.autograd.gradcheck import GradcheckError

DTYPES = [np.float32, np.float64]  # the layers' dtypes; float16 layers are not a use case of the book


def copy_into(torch_param, tensor):
    with torch.no_grad():
        torch_param.copy_(torch.tensor(tensor.data))


@covers("Linear", "Module", "Module.parameters", "Module.named_parameters", "Module.zero_grad")
@pytest.mark.parametrize("bias", [True, False])
@SETTINGS
@given(dtype=st.sampled_from(DTYPES), sizes=st.tuples(st.integers(1, 4), st.integers(1, 4)),
       batch=st.sampled_from([(), (3,), (2, 3)]), seed=st.integers(0, 2**16))
def test_linear(bias, dtype, sizes, batch, seed):
    rng = np.random.default_rng(seed)
    layer = nn.Linear(*sizes, bias=bias, rng=rng, dtype=dtype)
    ref = torch.nn.Linear(*sizes, bias=bias, dtype=getattr(torch, np.dtype(dtype).name))
    copy_into(ref.weight, layer.weight)
    if bias:
        copy_into(ref.bias, layer.bias)
    assert [n for n, _ in layer.named_parameters()] == [n for n, _ in ref.named_parameters()]
    x, tx = pair(rng.normal(size=batch + (sizes[0],)).astype(dtype))
    out, tout = layer(x), ref(tx)
    assert_close(out, tout)
    params = list(zip(layer.parameters(), ref.parameters()))
    compare_grads([(x, tx)] + params, (out, tout))
    layer.zero_grad(), ref.zero_grad()
    assert all(p.grad is None for p in layer.parameters()) and all(p.grad is None for p in ref.parameters())


@covers("Embedding")
@SETTINGS
@given(dtype=st.sampled_from(DTYPES), sizes=st.tuples(st.integers(1, 5), st.integers(1, 3)), data=st.data())
def test_embedding(dtype, sizes, data):
    v, d = sizes
    layer = nn.Embedding(v, d, rng=np.random.default_rng(v), dtype=dtype)
    ids = data.draw(hnp.arrays(np.int64, hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=4),
                               elements=st.integers(0, v - 1)))
    weight = torch.tensor(layer.weight.data, requires_grad=True)
    out, tout = layer(ids), F.embedding(torch.tensor(ids), weight)
    assert_close(out, tout)
    compare_grads([(layer.weight, weight)], (out, tout))  # repeated ids add up


def rnn_reference(cell, gru):
    """The torch cell with minigrad's weights (PyTorch stacks the gates as [r, z, n])."""
    dtype = getattr(torch, cell.ih.weight.dtype.name if not gru else cell.xr.weight.dtype.name)
    ref = (torch.nn.GRUCell if gru else torch.nn.RNNCell)(cell.input_size, cell.hidden_size, dtype=dtype)
    if gru:
        groups = {"weight_ih": [cell.xr.weight, cell.xz.weight, cell.xn.weight],
                  "bias_ih": [cell.xr.bias, cell.xz.bias, cell.xn.bias],
                  "weight_hh": [cell.hr.weight, cell.hz.weight, cell.hn.weight],
                  "bias_hh": [cell.hr.bias, cell.hz.bias, cell.hn.bias]}
    else:
        groups = {"weight_ih": [cell.ih.weight], "bias_ih": [cell.ih.bias], "weight_hh": [cell.hh.weight],
                  "bias_hh": [cell.hh.bias]}
    with torch.no_grad():
        for name, parts in groups.items():
            getattr(ref, name).copy_(torch.tensor(np.concatenate([p.data for p in parts])))
    return ref, groups


@covers("RNNCell", "GRUCell", "unroll", "sequence_mask")
@pytest.mark.parametrize("gru", [False, True], ids=["rnn", "gru"])
@SETTINGS
@given(dtype=st.sampled_from(DTYPES), sizes=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       bt=st.tuples(st.integers(1, 3), st.integers(1, 4)), masked=st.booleans(), seed=st.integers(0, 2**16))
def test_recurrent_cells_and_unroll(gru, dtype, sizes, bt, masked, seed):
    rng = np.random.default_rng(seed)
    cell = (nn.GRUCell if gru else nn.RNNCell)(*sizes, rng=rng, dtype=dtype)
    ref, groups = rnn_reference(cell, gru)
    batch, time = bt
    inputs, tinputs = pair(rng.normal(size=(batch, time, sizes[0])).astype(dtype))
    h0, th0 = pair(rng.normal(size=(batch, sizes[1])).astype(dtype))
    lengths = rng.integers(0, time + 1, size=batch)
    mask = nn.sequence_mask(lengths, time) if masked else None
    tmask = torch.arange(time) < torch.tensor(lengths)[:, None]
    if masked:
        assert_close(mask, tmask)
    outputs, h = nn.unroll(cell, inputs, h0, mask)
    th, touts = th0, []
    for t in range(time):
        new = ref(tinputs[:, t], th)
        th = torch.where(tmask[:, t, None], new, th) if masked else new
        touts.append(th)
    toutputs = torch.stack(touts, dim=1)
    assert_close(outputs, toutputs)
    assert_close(h, th)
    out, tout = (outputs * outputs).sum() + h.sum(), (toutputs * toutputs).sum() + th.sum()
    compare_grads([(inputs, tinputs), (h0, th0)], (out, tout))
    for name, parts in groups.items():  # the stacked PyTorch gradient is minigrad's gradients, stacked
        grads = [p.grad if p.grad is not None else np.zeros_like(p.data) for p in parts]
        assert_close(np.concatenate(grads), getattr(ref, name).grad, what=name)


@SETTINGS
@given(lengths=hnp.arrays(np.int64, hnp.array_shapes(min_dims=0, max_dims=2, max_side=3),
                          elements=st.integers(0, 5)),
       maxlen=st.one_of(st.none(), st.integers(0, 6)))
def test_sequence_mask(lengths, maxlen):
    """tf.sequence_mask, written in PyTorch: arange(maxlen) < lengths[..., None]."""
    n = int(lengths.max()) if maxlen is None and lengths.size else (maxlen or 0)
    expected = torch.arange(n) < torch.tensor(lengths)[..., None]
    assert_close(nn.sequence_mask(lengths, maxlen), expected)
    assert_close(nn.sequence_mask(lengths, maxlen, dtype=np.float32), expected.to(torch.float32))


# -- optimizers -----------------------------------------------------------------------------------

def run_both(make, make_torch, steps, seed=0, late=True, dtype=np.float64):
    """The same gradients, step after step, into minigrad's and PyTorch's optimizer.

    With ``late``, the second parameter gets no gradient in the first two steps: PyTorch's Adam starts
    its step count (and bias correction) at that parameter's first gradient.
    """
    rng = np.random.default_rng(seed)
    values = [rng.normal(size=(3,)).astype(dtype), rng.normal(size=(2, 2)).astype(dtype)]
    ours = [mg.Tensor(v.copy(), requires_grad=True) for v in values]
    theirs = [torch.tensor(v.copy(), requires_grad=True) for v in values]
    opt, topt = make(ours), make_torch(theirs)
    for step in range(steps):
        for i, (p, tp) in enumerate(zip(ours, theirs)):
            if late and i == 1 and step < 2:
                p.grad, tp.grad = None, None
                continue
            g = rng.normal(size=p.shape).astype(dtype) * 10 ** rng.uniform(-3, 2)
            p.grad, tp.grad = g.copy(), torch.tensor(g.copy())
        opt.step()
        topt.step()
        for p, tp in zip(ours, theirs):
            assert_close(p.data, tp.detach(), what=f"step {step}")
    opt.zero_grad()
    topt.zero_grad()
    assert all(p.grad is None for p in ours) and all(tp.grad is None for tp in theirs)


@covers("SGD", "Optimizer", "Optimizer.zero_grad", "SGD.step")
@pytest.mark.parametrize("momentum", [0.0, 0.5, 0.9])
@pytest.mark.parametrize("dtype", DTYPES)
def test_sgd(momentum, dtype):
    run_both(lambda ps: optim.SGD(ps, lr=0.1, momentum=momentum),
             lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=momentum), steps=6, dtype=dtype)


@covers("Adam", "Adam.step")
@pytest.mark.parametrize("settings", [dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8),
                                      dict(lr=0.05, betas=(0.5, 0.9), eps=1e-3), dict(lr=0.1, betas=(0.0, 0.0),
                                                                                       eps=0.0)])
@pytest.mark.parametrize("late", [False, True], ids=["together", "late-parameter"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_adam(settings, late, dtype):
    """Regression (issue 10): a parameter first updated at step 3 got the bias correction of t = 3."""
    run_both(lambda ps: optim.Adam(ps, **settings), lambda ps: torch.optim.Adam(ps, **settings), steps=6,
             late=late, dtype=dtype)


def test_optimizers_update_a_list_of_one_tensor():
    """Regression (issue 10): a bare Tensor was read as the list of its rows and never updated. Now a
    bare Tensor is a TypeError, as in PyTorch (tests/compare/test_edges.py); a list of one is updated."""
    for make, make_torch in ((lambda p: optim.SGD(p, lr=0.5), lambda p: torch.optim.SGD(p, lr=0.5)),
                             (lambda p: optim.Adam(p, lr=0.5), lambda p: torch.optim.Adam(p, lr=0.5))):
        p, tp = pair(np.array([1.0, -2.0]))
        opt, topt = make([p]), make_torch([tp])
        p.grad, tp.grad = np.array([1.0, 1.0]), torch.tensor([1.0, 1.0], dtype=torch.float64)
        opt.step(), topt.step()
        assert_close(p.data, tp.detach())
        assert not np.array_equal(p.data, [1.0, -2.0])


def test_optimizers_refuse_a_non_leaf_tensor_like_pytorch():
    p, tp = pair(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="leaf"):
        torch.optim.SGD([tp * 2], lr=0.1)
    with pytest.raises(ValueError, match="params\\[0\\] is not a leaf tensor"):
        optim.SGD([p * 2], lr=0.1)


@covers("clip_grad_norm")
@pytest.mark.parametrize("max_norm", [0.1, 1.0, 100.0])
@pytest.mark.parametrize("single", [False, True])
def test_clip_grad_norm(max_norm, single):
    """The same norm and the same clipped gradients. PyTorch multiplies by max_norm / (norm + 1e-6)
    (also when it does not clip, by at most 1); minigrad, as TensorFlow's clip_by_global_norm, by
    max_norm / norm only when norm > max_norm: the results differ by a relative 1e-6 / norm."""
    rng = np.random.default_rng(int(max_norm * 10))
    values = [rng.normal(size=(3,)) * 2, rng.normal(size=(2, 2))][:1 if single else 2]
    ours = [mg.Tensor(v, requires_grad=True) for v in values]
    theirs = [torch.tensor(v, requires_grad=True) for v in values]
    for p, tp in zip(ours, theirs):
        g = rng.normal(size=p.shape)
        p.grad, tp.grad = g.copy(), torch.tensor(g)
    norm = optim.clip_grad_norm(ours[0] if single else ours, max_norm)
    tnorm = torch.nn.utils.clip_grad_norm_(theirs[0] if single else theirs, max_norm)
    assert isinstance(norm, float)
    np.testing.assert_allclose(norm, tnorm.item(), rtol=1e-14)
    for p, tp in zip(ours, theirs):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=2e-6 / min(norm, 1.0), atol=0)


# -- gradcheck ------------------------------------------------------------------------------------

@covers("gradcheck", "GradcheckError")
def test_gradcheck_agrees_with_torch_autograd_gradcheck():
    x = np.random.default_rng(0).uniform(0.5, 2.0, size=(2, 3))
    a, b = pair(x)
    assert mg.gradcheck(lambda t: (t ** 3).tanh().sum(axis=1), a)
    assert torch.autograd.gradcheck(lambda t: (t ** 3).tanh().sum(dim=1), (b,))

    class WrongSquare(mg.engine.Primitive):  # the derivative misses its factor 2
        name = "WrongSquareForCompare"

        @staticmethod
        def forward(x):
            return x * x

        @staticmethod
        def vjp(g, ans, x):
            return (g * x,)

    class TorchWrongSquare(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x

    try:
        with pytest.raises(mg.GradcheckError):
            mg.gradcheck(lambda t: mg.engine.apply(WrongSquare, t), a)
        with pytest.raises(GradcheckError):
            torch.autograd.gradcheck(TorchWrongSquare.apply, (b,))
    finally:
        del mg.PRIMITIVES["WrongSquareForCompare"]


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_clip_grad_norm_with_a_non_finite_gradient(bad):
    """A NaN norm makes every gradient NaN; an infinite one scales by 0 (inf * 0 = NaN), as in PyTorch."""
    values = [np.array([1.0, bad]), np.array([3.0, 4.0])]
    ours = [mg.Tensor(np.zeros(2), requires_grad=True) for _ in values]
    theirs = [torch.zeros(2, dtype=torch.float64, requires_grad=True) for _ in values]
    for p, tp, g in zip(ours, theirs, values):
        p.grad, tp.grad = g.copy(), torch.tensor(g)
    norm = optim.clip_grad_norm(ours, 1.0)
    tnorm = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    np.testing.assert_array_equal(norm, tnorm.item())
    for p, tp in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad, tp.grad.numpy())


def test_optimizers_take_named_parameters_like_pytorch():
    rng = np.random.default_rng(3)
    layer = nn.Linear(2, 2, rng=rng)
    ref = torch.nn.Linear(2, 2, dtype=torch.float64)
    copy_into(ref.weight, layer.weight)
    copy_into(ref.bias, layer.bias)
    opt, topt = optim.Adam(layer.named_parameters(), lr=0.1), torch.optim.Adam(ref.named_parameters(), lr=0.1)
    x = rng.normal(size=(3, 2))
    (layer(x) ** 2).sum().backward()
    (ref(torch.tensor(x)) ** 2).sum().backward()
    opt.step(), topt.step()
    for p, tp in zip(layer.parameters(), ref.parameters()):
        assert_close(p.data, tp.detach())
