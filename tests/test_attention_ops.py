"""What attention needs: the masked softmax, batched matmul and LSTMCell.

Gradients by central differences on every entry (float64), exact zeros where the mask says so (also for
inf and NaN logits), NumPy formulas for the LSTM, and bad input.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
import minigrad.nn as nn


def rng(seed=0):
    return np.random.default_rng(seed)


def leaf(*shape, seed=1):
    return mg.Tensor(rng(seed).standard_normal(shape), requires_grad=True)


def random_mask(shape, axis, seed=2):
    """A boolean mask that keeps at least one entry in every row along ``axis``."""
    mask = rng(seed).random(shape) < 0.5
    first = np.zeros(shape, bool)
    np.put_along_axis(first, rng(seed + 1).integers(0, shape[axis], size=shape[:axis] + (1,) + shape[axis + 1:]),
                      True, axis=axis)
    return mask | first


def reference_softmax(x, mask, axis):
    """NumPy: the softmax of the kept entries of each row; 0 elsewhere."""
    z = np.where(mask, x, -np.inf)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# -- masked softmax ------------------------------------------------------------

@pytest.mark.parametrize("shape, axis", [((4,), 0), ((3, 5), -1), ((3, 5), 0), ((2, 3, 4), 1)])
def test_masked_softmax_matches_the_softmax_of_the_kept_entries(shape, axis):
    x = rng(0).standard_normal(shape) * 3
    mask = random_mask(shape, axis % len(shape))
    p = mg.softmax(x, axis=axis, mask=mask).numpy()
    np.testing.assert_allclose(p, reference_softmax(x, mask, axis), rtol=1e-14, atol=1e-16)
    assert (p[~mask] == 0).all()
    np.testing.assert_allclose(p.sum(axis=axis), 1.0, rtol=1e-14)
    logp = mg.log_softmax(x, axis=axis, mask=mask).numpy()
    assert (logp[~mask] == -np.inf).all()
    np.testing.assert_allclose(logp[mask], np.log(reference_softmax(x, mask, axis)[mask]), rtol=1e-13)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape, axis", [((3, 5), -1), ((2, 3, 4), 1), ((2, 3, 4), 0)])
def test_masked_softmax_gradcheck(name, shape, axis):
    mask = random_mask(shape, axis % len(shape))
    fn = getattr(mg, name)
    # -inf at masked entries of log_softmax would make every difference NaN: check the kept entries
    assert mg.gradcheck(lambda t: mg.where(mask, fn(t, axis=axis, mask=mask), 0.0), leaf(*shape))


def test_mask_broadcasts_like_an_attention_padding_mask():
    scores = leaf(2, 3, 5)                                   # [batch, target, source]
    mask = nn.sequence_mask([5, 2], 5)[:, None, :]            # [batch, 1, source]
    assert mg.gradcheck(lambda s: mg.softmax(s, mask=mask), scores)
    p = mg.softmax(scores, mask=mask).numpy()
    assert (p[1, :, 2:] == 0).all()
    np.testing.assert_allclose(p, reference_softmax(scores.numpy(), np.broadcast_to(mask, p.shape), -1),
                               rtol=1e-14)


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan, 1e308])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_masked_entries_get_exactly_zero_probability_and_gradient_whatever_they_hold(name, bad):
    x = mg.Tensor([[1.0, bad, 2.0, bad], [bad, -3.0, bad, 0.5]], requires_grad=True)
    mask = np.array([[True, False, True, False], [False, True, False, True]])
    out = getattr(mg, name)(x, mask=mask)
    expected = reference_softmax(np.nan_to_num(x.numpy()), mask, -1)
    if name == "softmax":
        assert (out.numpy()[~mask] == 0).all()
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-14)
    else:
        assert (out.numpy()[~mask] == -np.inf).all()
    upstream = np.where(mask, rng(3).standard_normal(mask.shape), np.nan)   # even a NaN upstream
    out.backward(upstream)
    assert not np.isnan(x.grad).any()
    assert (x.grad[~mask] == 0).all()
    assert np.isfinite(x.grad).all() and (x.grad[mask] != 0).all()


def test_all_true_mask_gives_the_unmasked_softmax():
    x = rng(4).standard_normal((3, 6)) * 5
    for name in ("softmax", "log_softmax"):
        fn = getattr(mg, name)
        np.testing.assert_array_equal(fn(x, mask=np.ones((3, 6), bool)).numpy(), fn(x).numpy())


def test_kept_infinities_behave_as_without_a_mask():
    # a kept -inf is probability 0; a kept +inf makes its row NaN, as in the unmasked softmax
    p = mg.softmax([[-np.inf, 1.0, 5.0], [np.inf, 1.0, 0.0]], mask=[[True, True, False], [True, True, False]])
    np.testing.assert_array_equal(p.numpy()[0], [0.0, 1.0, 0.0])
    assert np.isnan(p.numpy()[1, :2]).all() and p.numpy()[1, 2] == 0
    assert np.isnan(mg.softmax([[np.inf, 1.0]]).numpy()).all()


def test_float32_stays_float32_and_empty_rows_are_fine():
    x = np.ones((2, 3), np.float32)
    assert mg.softmax(x, mask=np.ones(3, bool)).dtype == np.float32
    assert mg.softmax(np.ones((2, 0)), mask=np.ones((2, 0), bool)).shape == (2, 0)


@settings(max_examples=40, deadline=None)
@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
                    elements=st.floats(-30, 30)), data=st.data())
def test_masked_softmax_properties(x, data):
    axis = data.draw(st.integers(0, x.ndim - 1), label="axis")
    mask = data.draw(hnp.arrays(np.bool_, x.shape), label="mask")
    np.put_along_axis(mask, np.zeros(x.shape[:axis] + (1,) + x.shape[axis + 1:], int), True, axis=axis)
    p = mg.softmax(x, axis=axis, mask=mask).numpy()
    assert (p[~mask] == 0).all() and (p >= 0).all()
    np.testing.assert_allclose(p.sum(axis=axis), 1.0, rtol=1e-12)
    shifted = mg.softmax(x + 7.5, axis=axis, mask=mask).numpy()      # shift invariance
    np.testing.assert_allclose(shifted, p, rtol=1e-9, atol=1e-15)


def test_bad_masks_are_errors_that_name_mask():
    x = np.zeros((2, 3))
    with pytest.raises(TypeError, match="mask must be boolean"):
        mg.softmax(x, mask=np.ones((2, 3)))
    with pytest.raises(TypeError, match="mask"):
        mg.softmax(x, mask="abc")
    with pytest.raises(ValueError, match="mask of shape \\(2, 2\\) does not broadcast to x"):
        mg.softmax(x, mask=np.ones((2, 2), bool))
    with pytest.raises(ValueError, match="mask of shape \\(4, 2, 3\\) does not broadcast"):
        mg.softmax(x, mask=np.ones((4, 2, 3), bool))              # must not grow x
    with pytest.raises(ValueError, match="mask keeps no entry in some row along axis 1"):
        mg.log_softmax(x, mask=[[True, False, False], [False, False, False]])
    with pytest.raises(ValueError, match="mask keeps no entry in some row along axis 0"):
        mg.softmax(x, axis=0, mask=[[True, False, False], [False, True, False]])
    with pytest.raises(TypeError, match="x must be floating point"):
        mg.softmax(np.zeros((2, 3), int), mask=np.ones((2, 3), bool))


# -- batched matmul -------------------------------------------------------------

def test_batched_matmul_values_and_gradients():
    q, k = leaf(2, 3, 4, seed=5), leaf(2, 4, 5, seed=6)        # [B, T, H] @ [B, H, S]
    np.testing.assert_allclose((q @ k).numpy(), np.einsum("bth,bhs->bts", q.numpy(), k.numpy()), rtol=1e-14)
    assert mg.gradcheck(lambda a, b: a @ b, q, k)
    assert mg.gradcheck(lambda a, b: a @ b.transpose(0, 2, 1), q, leaf(2, 5, 4, seed=7))
    assert mg.gradcheck(lambda a, b: a @ b, q, leaf(4, 5, seed=8))           # [H, S] broadcast over B
    assert mg.gradcheck(lambda a, b: a @ b, leaf(1, 3, 4, seed=9), k)       # batch of one broadcast


def test_attention_gives_padding_exactly_zero_weight_and_gradient():
    query, keys = leaf(2, 3, 4, seed=10), leaf(2, 5, 4, seed=11)         # [B, T, H], [B, S, H]
    lengths = np.array([5, 2])
    mask = nn.sequence_mask(lengths, 5)[:, None, :]
    weights = mg.softmax(query @ keys.transpose(0, 2, 1), mask=mask)     # [B, T, S]
    context = weights @ keys                                            # [B, T, H]
    context.backward(rng(12).standard_normal(context.shape))
    assert (weights.numpy()[1, :, 2:] == 0).all()
    assert (keys.grad[1, 2:] == 0).all() and (keys.grad[1, :2] != 0).all()
    assert mg.gradcheck(lambda q, k: mg.softmax(q @ k.transpose(0, 2, 1), mask=mask) @ k, query, keys)


# -- LSTMCell -----------------------------------------------------------------

def np_lstm(cell, x, h, c):
    """PyTorch's LSTM equations in NumPy, gates stacked as (i, f, g, o)."""
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    gates = x @ cell.weight_ih.numpy().T + h @ cell.weight_hh.numpy().T
    if cell.bias:
        gates = gates + cell.bias_ih.numpy() + cell.bias_hh.numpy()
    i, f, g, o = np.split(gates, 4, axis=-1)
    c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c), c


@pytest.mark.parametrize("bias", [True, False])
def test_lstm_cell_parameters_are_named_and_shaped_as_pytorch(bias):
    cell = nn.LSTMCell(3, 5, bias, rng=rng(0))
    expected = [("weight_ih", (20, 3)), ("weight_hh", (20, 5))] + bias * [("bias_ih", (20,)), ("bias_hh", (20,))]
    assert [(n, p.shape) for n, p in cell.named_parameters()] == expected
    bound = 1 / np.sqrt(5)
    assert all(np.abs(p.numpy()).max() <= bound for p in cell.parameters())
    assert repr(cell) == ("LSTMCell(3, 5)" if bias else "LSTMCell(3, 5, bias=False)")
    assert nn.LSTMCell(2, 4, rng=rng(0), dtype=np.float32).weight_ih.dtype == np.float32


@pytest.mark.parametrize("bias", [True, False])
def test_lstm_cell_matches_the_equations_and_gradcheck(bias):
    cell = nn.LSTMCell(3, 4, bias, rng=rng(0))
    x, h, c = leaf(2, 3, seed=1), leaf(2, 4, seed=2), leaf(2, 4, seed=3)
    h1, c1 = cell(x, (h, c))
    eh, ec = np_lstm(cell, x.numpy(), h.numpy(), c.numpy())
    np.testing.assert_allclose(h1.numpy(), eh, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(c1.numpy(), ec, rtol=1e-13, atol=1e-15)
    params = cell.parameters()

    def both(x, h, c, *_):
        h1, c1 = cell(x, (h, c))
        return mg.concatenate([h1, c1], axis=-1)
    assert mg.gradcheck(both, x, h, c, *params)


def test_lstm_cell_starts_from_zeros_and_accepts_arrays():
    cell = nn.LSTMCell(3, 4, rng=rng(0))
    x = rng(1).standard_normal((2, 3))
    h, c = cell(x)
    h0, c0 = cell(x, (np.zeros((2, 4)), np.zeros((2, 4))))
    np.testing.assert_array_equal(h.numpy(), h0.numpy())
    np.testing.assert_array_equal(c.numpy(), c0.numpy())
    assert cell(x[0])[0].shape == (4,)                               # one example, no batch axis


def test_unroll_with_an_lstm_cell_carries_both_parts_of_the_state_over_padding():
    cell = nn.LSTMCell(3, 4, rng=rng(0))
    inputs = leaf(2, 5, 3, seed=4)
    state0 = (np.zeros((2, 4)), np.zeros((2, 4)))
    lengths = np.array([5, 2])
    outputs, (h, c) = nn.unroll(cell, inputs, state0, mask=nn.sequence_mask(lengths, 5))
    assert outputs.shape == (2, 5, 4) and h.shape == c.shape == (2, 4)
    _, (h_short, c_short) = nn.unroll(cell, inputs[1:, :2], (np.zeros((1, 4)), np.zeros((1, 4))))
    np.testing.assert_allclose(h.numpy()[1], h_short.numpy()[0], rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(c.numpy()[1], c_short.numpy()[0], rtol=1e-14, atol=1e-16)
    np.testing.assert_array_equal(outputs.numpy()[1, 2:], np.broadcast_to(h.numpy()[1], (3, 4)))
    (h.sum() + c.sum()).backward()
    assert (inputs.grad[1, 2:] == 0).all()                           # padding does not reach the state


def test_lstm_cell_bad_input():
    with pytest.raises(TypeError, match="bias must be True or False"):
        nn.LSTMCell(3, 4, 1, rng=rng(0))
    with pytest.raises(ValueError, match="hidden_size must be a positive integer"):
        nn.LSTMCell(3, 0, rng=rng(0))
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        nn.LSTMCell(3, 4, rng="0")
    cell = nn.LSTMCell(3, 4, rng=rng(0))
    x = np.zeros((2, 3))
    with pytest.raises(TypeError, match="state must be a pair"):
        cell(x, np.zeros((2, 4)))
    with pytest.raises(ValueError, match="LSTMCell: h must have last dimension 4"):
        cell(x, (np.zeros((2, 5)), np.zeros((2, 4))))
    with pytest.raises(ValueError, match="LSTMCell: c must have last dimension 4"):
        cell(x, (np.zeros((2, 4)), np.zeros((2, 3))))
    with pytest.raises(ValueError, match="h \\(2, 4\\) and c \\(1, 4\\) must have the same shape"):
        cell(x, (np.zeros((2, 4)), np.zeros((1, 4))))
    with pytest.raises(ValueError, match="LSTMCell: x must have last dimension 3"):
        cell(np.zeros((2, 2)))
    with pytest.raises(TypeError, match="x has dtype float32 but the layer's parameters are float64"):
        cell(mg.Tensor(np.zeros((2, 3), np.float32)))
