"""The Tensor API and the engine: dtypes, accumulation, no_grad, deep graphs, errors."""

import numpy as np
import pytest

import minigrad as mg


def test_api_contract_expression():
    x = mg.Tensor(np.array([0.1, 0.2, 0.3]), requires_grad=True)
    y = ((x * 2 + 1) ** 2 / 3 - x).exp().log().tanh().sum(axis=0).mean()
    y.backward()
    assert mg.gradcheck(lambda x: ((x * 2 + 1) ** 2 / 3 - x).exp().log().tanh().sum(axis=0).mean(), x)
    assert x.grad.shape == x.shape and x.grad.dtype == x.dtype


def test_dtypes_are_kept():
    x32 = mg.Tensor(np.ones(3, np.float32), requires_grad=True)
    y = (x32 * 2 + 1.5) / 3 - 0.5
    assert y.dtype == np.float32
    y.sum().backward()
    assert x32.grad.dtype == np.float32
    assert mg.Tensor(1.5).dtype == np.float64
    assert mg.Tensor([1, 2]).dtype.kind == "i"


def test_array_views():
    x = mg.Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert x.shape == (2, 3) and x.ndim == 2 and x.T.shape == (3, 2)
    assert np.asarray(x) is x.data and x.numpy() is x.data
    assert mg.Tensor(2.5).item() == 2.5 and isinstance(mg.Tensor(2.5).item(), float)
    assert x.grad is None
    assert "requires_grad=True" in repr(mg.Tensor([1.0], requires_grad=True))


def test_numpy_on_the_left():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0]) * x + np.array([1.0, 1.0])
    assert isinstance(y, mg.Tensor)
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 4.0]


def test_gradients_accumulate_and_zero_grad():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * x).sum().backward()
    assert x.grad.tolist() == [4.0, 8.0]
    x.zero_grad()
    assert x.grad is None


def test_backward_twice_on_the_same_graph_accumulates():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    y = (x * 3).sum()
    y.backward()
    y.backward()
    assert x.grad.tolist() == [6.0, 6.0]


def test_shared_gradient_arrays_are_not_aliased():
    a = mg.Tensor([1.0, 2.0], requires_grad=True)
    b = mg.Tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad *= 10  # an optimiser may scale in place
    assert b.grad.tolist() == [1.0, 1.0]


def test_no_grad_records_nothing():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    with mg.no_grad():
        y = x * 2
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()
    assert not y.requires_grad and y._node is None
    with pytest.raises(ValueError, match="does not require grad"):
        y.sum().backward()


def test_no_grad_as_decorator():
    @mg.no_grad()
    def f(x):
        return x * 2

    assert not f(mg.Tensor([1.0], requires_grad=True)).requires_grad


def test_100000_node_chain():
    x = mg.Tensor(2.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad == 1.0


def test_diamond_graph():
    x = mg.Tensor(3.0, requires_grad=True)
    a = x * x
    y = a * a + a  # x^4 + x^2
    y.backward()
    assert x.grad == pytest.approx(4 * 27 + 6)


def test_non_scalar_backward_needs_a_gradient():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        (x * 2).backward()
    (x * 2).backward(np.array([1.0, 10.0]))
    assert x.grad.tolist() == [2.0, 20.0]
    with pytest.raises(ValueError, match="grad has shape"):
        (x * 2).backward(np.ones(3))


def test_requires_grad_on_integers_is_refused():
    with pytest.raises(TypeError, match="floating-point"):
        mg.Tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="numeric"):
        mg.Tensor(["a"])


def test_clear_errors_for_bad_shapes_and_indices():
    x = mg.Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ValueError, match=r"Add: .*\(2, 3\), \(4,\)"):
        x + np.ones(4)
    with pytest.raises(ValueError, match="MatMul"):
        x @ np.ones((2, 2))
    with pytest.raises(ValueError, match="index"):
        x[5]
    with pytest.raises(ValueError, match="out of range"):
        x.sum(axis=2)
    with pytest.raises(ValueError, match="outside"):
        x.take_along_axis(np.array([[0, 3, 1], [0, 0, 0]]), axis=1)
    with pytest.raises(TypeError, match="integers"):
        x.take_along_axis(np.array([[0.0, 1.0, 1.0]]), axis=1)
    with pytest.raises(TypeError, match="boolean"):
        mg.where(np.array([1, 0, 1]), x, x)
    with pytest.raises(ValueError, match=r"shape \(4, 2\) does not fit 6 element"):
        x.reshape(4, 2)


def test_a_reshaped_gradient_is_not_shared_with_another_leaf():
    a = mg.Tensor(np.ones((2, 3)), requires_grad=True)
    b = mg.Tensor(np.ones(6), requires_grad=True)
    (a.reshape(6) + b).sum().backward()  # Add hands one array to both; Reshape makes a view of it
    a.grad *= 5
    assert b.grad.tolist() == [1.0] * 6 and a.grad.shape == (2, 3)


def test_sequence_loss_backward_allocates_no_second_logits_sized_array():
    import tracemalloc

    logits = np.random.default_rng(0).standard_normal((4, 8, 4096)).astype(np.float32)
    z = mg.Tensor(logits, requires_grad=True)
    tracemalloc.start()
    try:
        mg.sequence_loss(z, np.zeros((4, 8), int), np.ones((4, 8), np.float32)).backward()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1.5 * logits.nbytes  # the softmax buffer becomes the gradient in place
