"""Issue 17's "done when": a PyTorch user's first experiment (a character bigram model) runs on minigrad
as it would be written for PyTorch, with minigrad's names where they differ on purpose (axis=, mg.*)."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim


def test_a_bigram_model_written_the_pytorch_way():
    text = "hello world, hello minigrad. " * 10
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = mg.tensor([stoi[c] for c in text])
    x, y = data[:-1], data[1:]
    V = len(chars)
    model = nn.Sequential(nn.Embedding(V, 16, rng=0), nn.Linear(16, 32, rng=1), nn.ReLU(), nn.Dropout(0.1, rng=2),
                          nn.LayerNorm(32), nn.Linear(32, V, rng=3))
    opt = optim.Adam(model.parameters(), lr=1e-2)
    sched = optim.StepLR(opt, step_size=20, gamma=0.5)
    assert repr(opt).startswith("Adam(7 parameters, lr=0.01")
    losses = []
    for _ in range(40):
        loss = mg.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(float(loss))
    assert losses[-1] < losses[0] / 2 and sched.get_last_lr() == [2.5e-3]
    model.eval()
    with mg.no_grad():
        logits = model(x)
        pred = logits.argmax(axis=-1)
        accuracy = float((pred == y).data.mean())
        probs = mg.softmax(logits, axis=-1)
    assert accuracy > 0.5 and not logits.requires_grad
    assert np.allclose(probs.sum(axis=-1).numpy(), 1.0)
    copy = nn.Sequential(nn.Embedding(V, 16), nn.Linear(16, 32), nn.ReLU(), nn.Dropout(0.1), nn.LayerNorm(32),
                         nn.Linear(32, V)).eval()
    copy.load_state_dict(model.state_dict())
    assert np.array_equal(copy(x).numpy(), logits.numpy())


def test_the_tensor_basics_a_first_session_reaches_for():
    z = mg.zeros(2, 3) + mg.ones(3) * 2
    w = mg.randn(3, 4, seed=0, requires_grad=True)
    out = (z @ w).tanh().sigmoid().clamp(0.1, 0.9).relu().sum()
    out.backward()
    assert w.grad.shape == (3, 4) and np.array_equal((w > 0).data, w.data > 0)
    assert np.array_equal((w <= 0).data, w.data <= 0) and (w > 0).dtype == np.bool_
    assert mg.arange(6).reshape(2, 3).T.flatten().unsqueeze(0).squeeze(0).view(3, 2).shape == (3, 2)
    assert w.detach().abs().sqrt().max(axis=0).shape == (4,) and w.min().item() < 0
    assert w.argmax().item() == int(np.argmax(w.data)) and len(w.tolist()) == 3
    with pytest.raises(ValueError, match=r"bool\(\) needs a tensor with one element"):
        bool(mg.full((2,), 7) == 7)  # as in PyTorch: two booleans have no single truth value
    assert float(mg.tensor(2.5)) == 2.5 and mg.rand(2, 2, seed=1).shape == (2, 2)
