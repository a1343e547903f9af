"""LSTMCell, unroll with an LSTM, and the masked softmax against PyTorch, with the same numbers."""

import numpy as np
import pytest
import torch
from compare_helpers import SETTINGS, arrays, assert_close, compare_grads, covers, pair
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad import nn

DTYPES = [np.float32, np.float64]


def torch_dtype(dtype):
    return getattr(torch, np.dtype(dtype).name)


def torch_lstm_cell(cell):
    """torch.nn.LSTMCell with minigrad's parameters, copied by name: the names and shapes are the same."""
    ref = torch.nn.LSTMCell(cell.input_size, cell.hidden_size, bias=cell.bias,
                            dtype=torch_dtype(cell.weight_ih.dtype))
    ours = dict(cell.named_parameters())
    assert [(n, tuple(p.shape)) for n, p in ref.named_parameters()] == [(n, p.shape) for n, p in ours.items()]
    assert list(ref.state_dict()) == list(ours)
    with torch.no_grad():
        for name, p in ref.named_parameters():
            p.copy_(torch.from_numpy(ours[name].data.copy()))
    return ref


@covers("LSTMCell")
@pytest.mark.parametrize("bias", [True, False])
@SETTINGS
@given(dtype=st.sampled_from(DTYPES), sizes=st.tuples(st.integers(1, 4), st.integers(1, 4)),
       batch=st.sampled_from([(), (1,), (3,)]), zero_state=st.booleans(), seed=st.integers(0, 2**16))
def test_lstm_cell(bias, dtype, sizes, batch, zero_state, seed):
    rng = np.random.default_rng(seed)
    cell = nn.LSTMCell(*sizes, bias, rng=rng, dtype=dtype)
    ref = torch_lstm_cell(cell)
    x, tx = pair(rng.normal(size=batch + (sizes[0],)).astype(dtype))
    h, th = pair(rng.normal(size=batch + (sizes[1],)).astype(dtype))
    c, tc = pair(rng.normal(size=batch + (sizes[1],)).astype(dtype))
    if zero_state:
        (h1, c1), (th1, tc1) = cell(x), ref(tx)
    else:
        (h1, c1), (th1, tc1) = cell(x, (h, c)), ref(tx, (th, tc))
    assert_close(h1, th1, what="h")
    assert_close(c1, tc1, what="c")
    out = mg.concatenate([h1, c1 * c1], axis=-1)
    tout = torch.cat([th1, tc1 * tc1], dim=-1)
    params = list(zip(cell.parameters(), ref.parameters()))
    compare_grads([(x, tx), (h, th), (c, tc)] + params, (out, tout))


@covers("unroll")
@SETTINGS
@given(dtype=st.sampled_from(DTYPES), sizes=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       bt=st.tuples(st.integers(1, 3), st.integers(1, 5)), seed=st.integers(0, 2**16))
def test_unroll_lstm_cell_is_torch_lstm(dtype, sizes, bt, seed):
    """nn.unroll over an LSTMCell is torch.nn.LSTM (one layer, batch_first) with the same weights."""
    rng = np.random.default_rng(seed)
    cell = nn.LSTMCell(*sizes, rng=rng, dtype=dtype)
    ref = torch.nn.LSTM(*sizes, batch_first=True, dtype=torch_dtype(dtype))
    with torch.no_grad():
        for name, p in cell.named_parameters():
            getattr(ref, name + "_l0").copy_(torch.from_numpy(p.data.copy()))
    batch, time = bt
    inputs, tinputs = pair(rng.normal(size=(batch, time, sizes[0])).astype(dtype))
    h0, th0 = pair(rng.normal(size=(batch, sizes[1])).astype(dtype))
    c0, tc0 = pair(rng.normal(size=(batch, sizes[1])).astype(dtype))
    outputs, (h, c) = nn.unroll(cell, inputs, (h0, c0))
    toutputs, (th, tc) = ref(tinputs, (th0[None], tc0[None]))
    assert_close(outputs, toutputs, what="outputs")
    assert_close(h, th[0], what="h")
    assert_close(c, tc[0], what="c")
    out = (outputs * outputs).sum() + c.sum()
    tout = (toutputs * toutputs).sum() + tc.sum()
    compare_grads([(inputs, tinputs), (h0, th0), (c0, tc0)], (out, tout))
    for name, p in cell.named_parameters():
        assert_close(p.grad, getattr(ref, name + "_l0").grad, what=name)


@st.composite
def masked_scores(draw, dtype):
    """Scores (any values where masked, also inf and NaN) and a mask that keeps something in every row."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), label="shape")
    axis = draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    mask = draw(hnp.arrays(np.bool_, shape), label="mask")
    first = np.zeros(shape, bool)
    np.put_along_axis(first, np.zeros(shape[:axis % len(shape)] + (1,) + shape[axis % len(shape) + 1:], int),
                      True, axis=axis)
    mask |= first
    kept = draw(arrays(dtype, shape, edges=False), label="kept")
    anything = draw(arrays(dtype, shape), label="masked")
    return np.where(mask, kept, anything), mask, axis


@covers("softmax", "log_softmax")
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(DTYPES))
def test_masked_softmax_is_torch_softmax_of_masked_fill(name, data, dtype):
    """PyTorch's idiom: fill the masked scores with -inf, then softmax. Values and gradients agree,
    and both give the masked entries exactly zero gradient, also where they hold inf or NaN."""
    x, mask, axis = data.draw(masked_scores(dtype))
    a, b = pair(x)
    out = getattr(mg, name)(a, axis=axis, mask=mask)
    tout = getattr(torch, name)(b.masked_fill(~torch.from_numpy(mask), -torch.inf), dim=axis)
    assert_close(out, tout, what=name)
    if name == "softmax":
        assert (out.numpy()[~mask] == 0).all()
    # the upstream gradient is 0 where log_softmax is -inf (it has no gradient there to compare)
    upstream = np.where(mask, np.random.default_rng(0).standard_normal(x.shape), 0).astype(dtype)
    out.backward(upstream)
    tout.backward(torch.from_numpy(upstream))
    assert_close(a.grad, b.grad, what="gradient")
    assert (a.grad[~mask] == 0).all()


@SETTINGS
@given(dtype=st.sampled_from(DTYPES), sizes=st.tuples(st.integers(1, 3), st.integers(0, 4), st.integers(1, 4),
                                                      st.integers(0, 5)), seed=st.integers(0, 2**16))
def test_batched_matmul_of_attention(dtype, sizes, seed):
    """[B, T, H] @ [B, H, S] -> [B, T, S], the shape of attention scores and of the weighted sum."""
    b, t, h, s = sizes
    rng = np.random.default_rng(seed)
    (q, tq), (k, tk) = pair(rng.normal(size=(b, t, h)).astype(dtype)), pair(rng.normal(size=(b, h, s)).astype(dtype))
    out, tout = q @ k, tq @ tk
    assert_close(out, tout)
    compare_grads([(q, tq), (k, tk)], (out, tout))


def test_a_row_with_nothing_kept_is_nan_in_pytorch_and_an_error_in_minigrad():
    x, mask = np.zeros((2, 3)), np.array([[True, False, True], [False, False, False]])
    expected = torch.softmax(torch.from_numpy(x).masked_fill(~torch.from_numpy(mask), -torch.inf), dim=-1)
    assert torch.isnan(expected[1]).all() and not torch.isnan(expected[0]).any()
    with pytest.raises(ValueError, match="mask keeps no entry"):
        mg.softmax(x, mask=mask)
