"""minigrad.nn: layers against NumPy formulas, gradient checks (float64, every entry), masks, bad input."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
import minigrad.nn as nn
import minigrad.optim as optim


def rng(seed=0):
    return np.random.default_rng(seed)


def leaf(*shape, seed=1):
    return mg.Tensor(rng(seed).standard_normal(shape), requires_grad=True)


def np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


# -- sequence_mask ------------------------------------------------------------

def test_sequence_mask_matches_tensorflow_examples():
    # the examples of tf.sequence_mask's documentation
    assert nn.sequence_mask([1, 3, 2], 5).tolist() == [[True, False, False, False, False],
                                                       [True, True, True, False, False],
                                                       [True, True, False, False, False]]
    assert nn.sequence_mask([[1, 3], [2, 0]]).tolist() == [[[True, False, False], [True, True, True]],
                                                           [[True, True, False], [False, False, False]]]


def test_sequence_mask_defaults_dtype_and_edge_cases():
    mask = nn.sequence_mask(np.array([2, 0, 4]))
    assert mask.dtype == np.bool_ and mask.shape == (3, 4)
    weights = nn.sequence_mask([2, 1], 3, dtype=np.float32)
    assert weights.dtype == np.float32 and weights.tolist() == [[1, 1, 0], [1, 0, 0]]
    assert nn.sequence_mask([5, 1], 3).tolist() == [[True] * 3, [True, False, False]]  # maxlen truncates
    assert nn.sequence_mask(3, 4).tolist() == [True, True, True, False]                 # a scalar length
    assert nn.sequence_mask([], 2).shape == (0, 2) and nn.sequence_mask([]).shape == (0, 0)
    assert nn.sequence_mask([0, 0]).shape == (2, 0)
    assert nn.sequence_mask(mg.Tensor([1, 2])).tolist() == [[True, False], [True, True]]


@settings(max_examples=60, deadline=None)
@given(lengths=hnp.arrays(np.int64, hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
                          elements=st.integers(0, 7)),
       maxlen=st.none() | st.integers(0, 9))
def test_sequence_mask_rows_are_prefixes_of_the_right_length(lengths, maxlen):
    mask = nn.sequence_mask(lengths, maxlen)
    m = (int(lengths.max()) if lengths.size else 0) if maxlen is None else maxlen
    assert mask.shape == lengths.shape + (m,)
    assert np.array_equal(mask.sum(axis=-1), np.minimum(lengths, m))
    assert not (np.diff(mask.astype(int), axis=-1) > 0).any()   # no False before a True


@pytest.mark.parametrize("args, error, message", [
    (([1, -2, 3],), ValueError, "lengths must be >= 0, got -2"),
    (([1.0, 2.0],), TypeError, "lengths must be integers"),
    (([1, 2], -1), ValueError, "maxlen must be a non-negative integer"),
    (([1, 2], 2.5), ValueError, "maxlen must be a non-negative integer"),
])
def test_sequence_mask_bad_input(args, error, message):
    with pytest.raises(error, match=re.escape(message)):
        nn.sequence_mask(*args)


# -- Module ---------------------------------------------------------------------

class Tiny(nn.Module):
    def __init__(self):
        self.embed = nn.Embedding(5, 3, rng=rng(0))
        self.cells = [nn.RNNCell(3, 2, rng=rng(1)), nn.RNNCell(2, 2, rng=rng(2))]
        self.scale = mg.Tensor(np.ones(2), requires_grad=True)
        self.constant = mg.Tensor(np.ones(2))                    # no grad: not a parameter
        self.tied = self.embed                                   # the same module twice


def test_named_parameters_order_names_and_sharing():
    names = [name for name, _ in Tiny().named_parameters()]
    assert names == ["embed.weight",
                     "cells.0.ih.weight", "cells.0.ih.bias", "cells.0.hh.weight", "cells.0.hh.bias",
                     "cells.1.ih.weight", "cells.1.ih.bias", "cells.1.hh.weight", "cells.1.hh.bias",
                     "scale"]
    model = Tiny()
    assert [id(p) for p in model.parameters()] == [id(p) for _, p in model.named_parameters()]


def test_module_zero_grad_and_call():
    model = Tiny()
    model.embed(np.array([1, 2])).sum().backward()
    assert model.embed.weight.grad is not None
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    assert repr(model.embed) == "Embedding(5, 3)"
    assert "Linear(in_features=3, out_features=2, bias=True)" == repr(nn.Linear(3, 2, rng=rng()))


# -- Embedding --------------------------------------------------------------------

def test_embedding_looks_up_rows_and_accumulates_gradients():
    emb = nn.Embedding(6, 3, rng=rng(), dtype=np.float64)
    ids = np.array([[0, 5, 5], [2, 0, 5]])
    out = emb(ids)
    assert out.shape == (2, 3, 3) and np.array_equal(out.data, emb.weight.data[ids])
    out.sum().backward()
    assert emb.weight.grad[:, 0].tolist() == [2, 0, 1, 0, 0, 3]   # how often each id was looked up
    assert mg.gradcheck(lambda w: emb(ids) * np.arange(9.0).reshape(3, 3), emb.weight)


@pytest.mark.parametrize("ids, error, message", [
    ([0, 7], ValueError, "id 7 is outside [0, 6) (num_embeddings=6)"),
    ([[1, -1]], ValueError, "id -1 is outside [0, 6)"),
    ([0.0, 1.0], TypeError, "ids must be integers"),
])
def test_embedding_bad_ids(ids, error, message):
    with pytest.raises(error, match=re.escape(message)):
        nn.Embedding(6, 2, rng=rng())(ids)


# -- Linear -----------------------------------------------------------------------

def test_linear_matches_the_formula_and_gradchecks():
    layer = nn.Linear(4, 3, rng=rng())
    x = leaf(2, 5, 4)
    assert layer.weight.shape == (3, 4) and layer.bias.shape == (3,)
    expected = x.data @ layer.weight.data.T + layer.bias.data
    assert np.allclose(layer(x).data, expected, rtol=1e-14, atol=0)
    assert mg.gradcheck(lambda x, w, b: layer(x), x, layer.weight, layer.bias)
    bound = 1 / np.sqrt(4)
    assert np.abs(layer.weight.data).max() <= bound


def test_linear_without_bias_and_float32():
    layer = nn.Linear(2, 2, bias=False, rng=rng(), dtype=np.float32)
    assert layer.bias is None and [n for n, _ in layer.named_parameters()] == ["weight"]
    y = layer([[1.0, 2.0]])                        # a list is converted to the layer's dtype
    assert y.dtype == np.float32
    assert np.allclose(y.data, np.array([[1.0, 2.0]], np.float32) @ layer.weight.data.T)


def test_linear_bad_input():
    layer = nn.Linear(4, 3, rng=rng())
    with pytest.raises(ValueError, match=re.escape("Linear: x must have last dimension 4, got shape (2, 5)")):
        layer(np.ones((2, 5)))
    with pytest.raises(TypeError, match="x has dtype float32 but the layer's parameters are float64"):
        layer(mg.Tensor(np.ones((2, 4), np.float32)))


# -- sigmoid and the recurrent cells ------------------------------------------------

def test_sigmoid_is_the_logistic_function_without_overflow():
    x = np.concatenate([np.linspace(-40, 40, 8001), [-800.0, 800.0]])
    with np.errstate(over="ignore"):
        expected = np_sigmoid(x)
    assert np.abs(mg.functional.sigmoid(mg.Tensor(x)).data - expected).max() <= 2.3e-16   # absolute error, float64
    assert mg.functional.sigmoid(mg.Tensor(np.float32(0.3))).dtype == np.float32
    t = mg.Tensor(np.array([-800.0, 0.0, 800.0]), requires_grad=True)
    mg.functional.sigmoid(t).sum().backward()
    assert t.grad.tolist() == [0.0, 0.25, 0.0]                                 # sigma' = sigma (1 - sigma)
    assert mg.gradcheck(nn.sigmoid, leaf(3, 4))


def test_rnn_cell_matches_the_formula_and_gradchecks():
    cell = nn.RNNCell(3, 4, rng=rng())
    x, h = leaf(2, 3, seed=1), leaf(2, 4, seed=2)
    ih, hh = cell.ih, cell.hh
    expected = np.tanh(x.data @ ih.weight.data.T + ih.bias.data + h.data @ hh.weight.data.T + hh.bias.data)
    assert np.allclose(cell(x, h).data, expected, rtol=1e-14, atol=0)
    assert mg.gradcheck(lambda x, h, *params: cell(x, h), x, h, *cell.parameters())


def test_gru_cell_matches_pytorch_equations_and_gradchecks():
    cell = nn.GRUCell(3, 4, rng=rng())
    x, h = leaf(2, 3, seed=1), leaf(2, 4, seed=2)

    def affine(layer, v):
        return v @ layer.weight.data.T + layer.bias.data

    # torch.nn.GRUCell's documented equations, in NumPy
    r = np_sigmoid(affine(cell.xr, x.data) + affine(cell.hr, h.data))
    z = np_sigmoid(affine(cell.xz, x.data) + affine(cell.hz, h.data))
    n = np.tanh(affine(cell.xn, x.data) + r * affine(cell.hn, h.data))
    expected = (1 - z) * n + z * h.data
    assert np.allclose(cell(x, h).data, expected, rtol=1e-13, atol=1e-15)
    assert len(cell.parameters()) == 12
    assert mg.gradcheck(lambda x, h, *params: cell(x, h), x, h, *cell.parameters())


def test_cell_bad_input():
    cell = nn.GRUCell(3, 4, rng=rng())
    with pytest.raises(ValueError, match=re.escape("GRUCell: h must have last dimension 4, got shape (2, 3)")):
        cell(np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="must agree in all but the last dimension"):
        cell(np.ones((2, 3)), np.ones((5, 4)))


# -- unroll -------------------------------------------------------------------------

def test_unroll_with_mask_stops_each_sequence_at_its_length():
    cell = nn.GRUCell(2, 3, rng=rng())
    inputs = leaf(3, 5, 2)
    lengths = np.array([5, 2, 0])
    outputs, h = nn.unroll(cell, inputs, np.zeros((3, 3)), mask=nn.sequence_mask(lengths, 5))
    assert outputs.shape == (3, 5, 3) and h.shape == (3, 3)
    for b, n in enumerate(lengths):       # the same as running sequence b alone for n steps
        state = mg.Tensor(np.zeros((1, 3)))
        for t in range(n):
            state = cell(inputs[b:b + 1, t], state)
        assert np.array_equal(h.data[b], state.data[0])
        assert np.array_equal(outputs.data[b, n:], np.broadcast_to(state.data[0], (5 - n, 3)))


def test_unroll_gradcheck_and_padding_gets_no_gradient():
    cell = nn.RNNCell(2, 3, rng=rng())
    inputs = leaf(2, 4, 2)
    mask = nn.sequence_mask([4, 2], 4)
    assert mg.gradcheck(lambda x, *params: nn.unroll(cell, x, np.zeros((2, 3)), mask=mask)[1],
                        inputs, *cell.parameters())
    _, h = nn.unroll(cell, inputs, np.zeros((2, 3)), mask=mask)
    h.sum().backward()
    assert np.all(inputs.grad[1, 2:] == 0) and np.all(inputs.grad[1, :2] != 0)


def test_unroll_bad_input():
    cell = nn.RNNCell(2, 3, rng=rng())
    with pytest.raises(ValueError, match="inputs must be a .batch, time, features. Tensor"):
        nn.unroll(cell, mg.Tensor(np.ones((2, 2))), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=re.escape("mask must be a boolean array of shape (2, 4)")):
        nn.unroll(cell, mg.Tensor(np.ones((2, 4, 2))), np.zeros((2, 3)), mask=np.ones((2, 4)))


def test_a_200_step_unrolled_graph_backpropagates():
    """About 2,400 nodes deep: a recursive topological sort would hit Python's recursion limit."""
    cell = nn.RNNCell(1, 2, rng=rng())
    inputs = mg.Tensor(rng(3).standard_normal((1, 200, 1)) * 0.1)

    def last_state(*params):
        return nn.unroll(cell, inputs, np.zeros((1, 2)))[1]

    h = last_state()
    h.sum().backward()
    assert all(np.isfinite(p.grad).all() for p in cell.parameters())
    assert mg.gradcheck(last_state, *cell.parameters())


# -- construction -------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda r: nn.Embedding(4, 2, rng=r), lambda r: nn.Linear(4, 2, rng=r),
    lambda r: nn.RNNCell(4, 2, rng=r), lambda r: nn.GRUCell(4, 2, rng=r)])
def test_initialisation_is_reproducible_from_the_generator(make):
    a, b, c = make(rng(7)), make(rng(7)), make(rng(8))
    for (name, p), q, r in zip(a.named_parameters(), b.parameters(), c.parameters()):
        assert np.array_equal(p.data, q.data), name
        assert not np.array_equal(p.data, r.data), name
        assert p.dtype == np.float64 and p.requires_grad


@pytest.mark.parametrize("bad_rng", ["0", 1.5, np.random.RandomState(0)])
def test_rng_must_be_a_generator_a_seed_or_none(bad_rng):
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        nn.Linear(2, 2, rng=bad_rng)


def test_rng_may_be_a_seed_or_none():
    """An int seed is np.random.default_rng(seed); None is fresh entropy (two layers differ)."""
    by_seed, by_generator = nn.Linear(3, 2, rng=7), nn.Linear(3, 2, rng=np.random.default_rng(7))
    assert np.array_equal(by_seed.weight.data, by_generator.weight.data)
    assert not np.array_equal(nn.Linear(3, 4).weight.data, nn.Linear(3, 4).weight.data)
    with pytest.raises(ValueError, match="rng must be a non-negative int seed"):
        nn.Linear(2, 2, rng=-1)


def test_bad_sizes_and_dtype():
    with pytest.raises(ValueError, match="in_features must be a positive integer, got 0"):
        nn.Linear(0, 2, rng=rng())
    with pytest.raises(ValueError, match="hidden_size must be a positive integer, got 2.0"):
        nn.GRUCell(2, 2.0, rng=rng())
    with pytest.raises(TypeError, match="dtype must be a floating-point type"):
        nn.Embedding(3, 2, rng=rng(), dtype=np.int64)


# -- a whole encoder-decoder ---------------------------------------------------------

PAD, GO, EOS = 0, 1, 2


class Seq2Seq(nn.Module):
    """The shape of chapter 12's model, tiny."""

    def __init__(self, vocab, dim, hidden, seed=0):
        r = rng(seed)
        self.src_embed, self.tgt_embed = nn.Embedding(vocab, dim, rng=r), nn.Embedding(vocab, dim, rng=r)
        self.encoder, self.decoder = nn.GRUCell(dim, hidden, rng=r), nn.GRUCell(dim, hidden, rng=r)
        self.out = nn.Linear(hidden, vocab, rng=r)

    def forward(self, src, lengths, dec_in):
        h0 = np.zeros((src.shape[0], self.encoder.hidden_size))
        _, h = nn.unroll(self.encoder, self.src_embed(src), h0, mask=nn.sequence_mask(lengths, src.shape[1]))
        outputs, _ = nn.unroll(self.decoder, self.tgt_embed(dec_in), h)
        return self.out(outputs)


def reversal_batch():
    """Two strings reversed, padded: [3, 4] and [5, 6, 3]."""
    src = np.array([[3, 4, PAD], [5, 6, 3]])
    lengths = np.array([2, 3])
    dec_in = np.array([[GO, 4, 3, PAD], [GO, 3, 6, 5]])
    tgt = np.array([[4, 3, EOS, PAD], [3, 6, 5, EOS]])
    return src, lengths, dec_in, tgt, nn.sequence_mask(lengths + 1, 4, dtype=np.float64)


def test_whole_model_gradcheck_on_a_tiny_batch():
    model = Seq2Seq(vocab=7, dim=2, hidden=3)
    src, lengths, dec_in, tgt, weights = reversal_batch()

    def loss(*params):
        return mg.sequence_loss(model(src, lengths, dec_in), tgt, weights)

    assert mg.gradcheck(loss, *model.parameters())


def test_masked_loss_ignores_what_sits_in_the_padding():
    model = Seq2Seq(vocab=7, dim=2, hidden=3)
    src, lengths, dec_in, tgt, weights = reversal_batch()
    base = mg.sequence_loss(model(src, lengths, dec_in), tgt, weights).item()
    src2, dec2, tgt2 = src.copy(), dec_in.copy(), tgt.copy()
    src2[0, 2], dec2[0, 3], tgt2[0, 3] = 6, 5, 4          # garbage where the masks are 0
    assert mg.sequence_loss(model(src2, lengths, dec2), tgt2, weights).item() == base
    unmasked = mg.sequence_loss(model(src2, lengths, dec2), tgt2, np.ones_like(weights)).item()
    assert unmasked != mg.sequence_loss(model(src, lengths, dec_in), tgt, np.ones_like(weights)).item()


def test_a_tiny_model_overfits_one_batch():
    model = Seq2Seq(vocab=7, dim=4, hidden=8, seed=1)
    src, lengths, dec_in, tgt, weights = reversal_batch()
    opt = optim.Adam(model.parameters(), lr=0.05)
    first = None
    for _ in range(150):
        loss = mg.sequence_loss(model(src, lengths, dec_in), tgt, weights)
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    logits = model(src, lengths, dec_in).data
    assert first > 1.0 and loss.item() < 1e-2
    assert np.array_equal(logits.argmax(-1)[weights == 1], tgt[weights == 1])
