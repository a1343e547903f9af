"""state_dict() / load_state_dict(): PyTorch's keys and shapes, so weights move both ways.

For each layer (and models built from them): the keys and shapes are PyTorch's; weights copied from
minigrad into PyTorch, and from PyTorch into minigrad, give the same outputs and gradients; and a round
trip minigrad -> PyTorch -> minigrad gives identical (bit-for-bit) outputs.
"""

import numpy as np
import pytest
import torch
from compare_helpers import assert_close, compare_grads, covers, pair

import minigrad as mg
from minigrad import nn

I, H, V = 3, 5, 7  # input size != hidden size, so a stacked weight of the wrong shape cannot pass


class Model(nn.Module):
    """Nested children, as the book's models have: keys such as encoder.weight_ih."""

    def __init__(self, *, rng):
        self.embed = nn.Embedding(V, I, rng=rng)
        self.encoder = nn.GRUCell(I, H, rng=rng)
        self.out = nn.Linear(H, V, rng=rng)

    def forward(self, ids, h):
        return self.out(self.encoder(self.embed(ids), h))


class TorchModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed, self.encoder, self.out = torch.nn.Embedding(V, I), torch.nn.GRUCell(I, H), torch.nn.Linear(H, V)

    def forward(self, ids, h):
        return self.out(self.encoder(self.embed(ids), h))


IDS = np.array([0, 3, 6, 2])
STATE = np.random.default_rng(9).standard_normal((4, H))
X = np.random.default_rng(8).standard_normal((4, I))

# name: (make minigrad layer from a seed, make torch layer, inputs as numpy arrays)
LAYERS = {
    "Linear": (lambda s: nn.Linear(I, H, rng=s), lambda: torch.nn.Linear(I, H), (X,)),
    "Linear no bias": (lambda s: nn.Linear(I, H, bias=False, rng=s), lambda: torch.nn.Linear(I, H, bias=False),
                       (X,)),
    "Embedding": (lambda s: nn.Embedding(V, I, rng=s), lambda: torch.nn.Embedding(V, I), (IDS,)),
    "RNNCell": (lambda s: nn.RNNCell(I, H, rng=s), lambda: torch.nn.RNNCell(I, H), (X, STATE)),
    "GRUCell": (lambda s: nn.GRUCell(I, H, rng=s), lambda: torch.nn.GRUCell(I, H), (X, STATE)),
    "LSTMCell": (lambda s: nn.LSTMCell(I, H, rng=s), lambda: torch.nn.LSTMCell(I, H), (X, (STATE, STATE / 2))),
    "LSTMCell no bias": (lambda s: nn.LSTMCell(I, H, bias=False, rng=s), lambda: torch.nn.LSTMCell(I, H, bias=False),
                         (X, (STATE, STATE / 2))),
    "LayerNorm": (lambda s: _layer_norm(s), lambda: torch.nn.LayerNorm(H), (STATE,)),
    "Sequential": (lambda s: nn.Sequential(nn.Linear(I, H, rng=s), nn.Tanh(), nn.Linear(H, 2, rng=s + 1)),
                   lambda: torch.nn.Sequential(torch.nn.Linear(I, H), torch.nn.Tanh(), torch.nn.Linear(H, 2)),
                   (X,)),
    "model": (lambda s: Model(rng=s), TorchModel, (IDS, STATE)),
}


def _layer_norm(seed):
    layer = nn.LayerNorm(H)
    layer.load_state_dict({"weight": np.random.default_rng(seed).uniform(0.5, 1.5, H),
                           "bias": np.random.default_rng(seed + 1).uniform(-1, 1, H)})
    return layer


def run(layer, inputs, torch_side):
    """The layer's output on ``inputs`` (as leaves that require grad where they are floats), and those leaves."""
    leaves, args = [], []
    for x in inputs:
        parts = x if isinstance(x, tuple) else (x,)
        made = []
        for part in parts:
            ours, theirs = pair(part)
            leaves.append((ours, theirs))
            made.append(theirs if torch_side else ours)
        args.append(tuple(made) if isinstance(x, tuple) else made[0])
    out = layer(*args)
    return (out[0] if isinstance(out, tuple) else out), leaves


def to_torch(state):
    return {k: torch.from_numpy(v) for k, v in state.items()}


def from_torch(module):
    return {k: v.detach().numpy() for k, v in module.state_dict().items()}


def check_same(ours, theirs, inputs):
    out, leaves = run(ours, inputs, torch_side=False)
    tout, tleaves = run(theirs, inputs, torch_side=True)
    assert_close(out, tout)
    inputs_ = [(a, b) for (a, _), (_, b) in zip(leaves, tleaves)]
    tparams = dict(theirs.named_parameters())
    # every parameter's gradient, compared under PyTorch's key (stacked gates included)
    compare_grads(inputs_, (out, tout))
    ours_grads = {k: v for k, v in _grads_by_key(ours).items()}
    for key, grad in ours_grads.items():
        expected = tparams[key].grad
        assert_close(grad, torch.zeros_like(tparams[key]) if expected is None else expected, what=f"grad of {key}")


def _grads_by_key(module):
    """The parameters' gradients, stacked as state_dict() stacks the parameters."""
    saved = {id(p): p.data for p in module.parameters()}
    for p in module.parameters():
        p.data = np.zeros_like(p.data) if p.grad is None else p.grad
    try:
        return module.state_dict()
    finally:
        for p in module.parameters():
            p.data = saved[id(p)]


@covers("Module.state_dict")
@pytest.mark.parametrize("name", LAYERS)
def test_keys_and_shapes_are_pytorchs(name):
    make, make_torch, _ = LAYERS[name]
    ours, theirs = make(0).state_dict(), make_torch().double().state_dict()
    assert list(ours) == list(theirs)
    assert {k: v.shape for k, v in ours.items()} == {k: tuple(v.shape) for k, v in theirs.items()}
    assert all(isinstance(v, np.ndarray) and v.dtype == np.float64 for v in ours.values())


@covers("Module.load_state_dict")
@pytest.mark.parametrize("name", LAYERS)
def test_weights_move_both_ways(name):
    make, make_torch, inputs = LAYERS[name]
    torch.manual_seed(0)
    # minigrad -> PyTorch
    ours, theirs = make(1), make_torch().double()
    theirs.load_state_dict(to_torch(ours.state_dict()))
    check_same(ours, theirs, inputs)
    # PyTorch -> minigrad (PyTorch's own random initial weights)
    ours, theirs = make(2), make_torch().double()
    ours.load_state_dict(from_torch(theirs))
    check_same(ours, theirs, inputs)


@pytest.mark.parametrize("name", LAYERS)
def test_round_trip_minigrad_pytorch_minigrad_is_exact(name):
    make, make_torch, inputs = LAYERS[name]
    original, theirs, copy = make(3), make_torch().double(), make(4)
    theirs.load_state_dict(to_torch(original.state_dict()))
    copy.load_state_dict(from_torch(theirs))
    for key, value in original.state_dict().items():
        assert np.array_equal(copy.state_dict()[key], value), key
    assert np.array_equal(run(copy, inputs, False)[0].data, run(original, inputs, False)[0].data)


def test_float32_values_are_cast_and_optimizers_keep_working():
    layer = nn.Linear(I, H, rng=0)
    opt = mg.optim.SGD(layer.parameters(), lr=0.1)
    weight = layer.weight
    state = {k: v.astype(np.float32) for k, v in nn.Linear(I, H, rng=1).state_dict().items()}
    layer.load_state_dict(state)
    assert layer.weight is weight and weight.dtype == np.float64  # copied in place, in the layer's dtype
    np.testing.assert_array_equal(weight.data, state["weight"].astype(np.float64))
    layer(X).sum().backward()
    opt.step()
    assert not np.array_equal(weight.data, state["weight"].astype(np.float64))


def test_bad_state_dicts_are_refused_and_change_nothing():
    layer = nn.GRUCell(I, H, rng=0)
    before = layer.state_dict()
    with pytest.raises(ValueError, match=r"missing keys \['bias_hh'\], unexpected keys \['extra'\]"):
        layer.load_state_dict({**{k: v for k, v in before.items() if k != "bias_hh"}, "extra": np.zeros(1)})
    bad = {**before, "weight_hh": np.zeros((H, H))}
    with pytest.raises(ValueError, match=r"state_dict\['weight_hh'\] has shape \(5, 5\), expected \(15, 5\)"):
        layer.load_state_dict({**before, "weight_ih": before["weight_ih"] * 2, **{"weight_hh": bad["weight_hh"]}})
    assert all(np.array_equal(layer.state_dict()[k], v) for k, v in before.items())
    layer.load_state_dict({"weight_ih": before["weight_ih"] * 2}, strict=False)
    np.testing.assert_array_equal(layer.state_dict()["weight_ih"], before["weight_ih"] * 2)
    with pytest.raises(TypeError, match="state_dict must be a mapping"):
        layer.load_state_dict([("weight_ih", before["weight_ih"])])
