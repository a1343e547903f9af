"""The fused sparse cross-entropy's threads, blocks and buffer cache change no bit of its results."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import fused


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 4 KiB and a cache from 64 KiB on, so that small arrays have many blocks and use the cache."""
    monkeypatch.setattr(fused, "_BLOCK_BYTES", 4096)
    monkeypatch.setattr(fused, "_CACHE_MIN_BYTES", 65536)
    before = fused.get_num_threads()
    yield
    fused.set_num_threads(before)
    fused.empty_cache()


def loss_and_grad(logits, labels, g):
    z = mg.Tensor(logits, requires_grad=True)
    ce = mg.sparse_softmax_cross_entropy_with_logits(labels, z)
    ce.backward(g)
    return ce.data.copy(), z.grad.copy()


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 7), (37, 100), (250, 333), (5, 3000)])
def test_bit_identical_whatever_the_number_of_threads(small_blocks, dtype, shape):
    rng = np.random.default_rng(sum(shape))
    logits = (rng.standard_normal(shape) * 3).astype(dtype)
    labels = rng.integers(0, shape[1], shape[0])
    g = rng.uniform(0.1, 2, shape[0]).astype(dtype)
    fused.set_num_threads(1)
    loss1, grad1 = loss_and_grad(logits, labels, g)
    for threads in (2, 3, 8):
        fused.set_num_threads(threads)
        loss, grad = loss_and_grad(logits, labels, g)
        assert loss.tobytes() == loss1.tobytes() and grad.tobytes() == grad1.tobytes(), threads


def test_the_block_size_changes_no_bit(monkeypatch):
    rng = np.random.default_rng(1)
    logits, labels, g = rng.standard_normal((64, 500)), rng.integers(0, 500, 64), rng.uniform(size=64)
    results = []
    for block in (4096, 65536, 1 << 20):
        monkeypatch.setattr(fused, "_BLOCK_BYTES", block)
        results.append(loss_and_grad(logits, labels, g))
    for loss, grad in results[1:]:
        assert loss.tobytes() == results[0][0].tobytes() and grad.tobytes() == results[0][1].tobytes()


@pytest.mark.parametrize("threads", [1, 2])
def test_threaded_fused_path_agrees_with_the_composed_path(small_blocks, threads):
    fused.set_num_threads(threads)
    rng = np.random.default_rng(2)
    logits = rng.standard_normal((6, 20, 300))
    targets = rng.integers(0, 300, (6, 20))
    weights = (np.arange(20) < rng.integers(10, 21, 6)[:, None]).astype(float)
    out = {}
    for name, loss in (("fused", mg.sequence_loss), ("composed", mg.sequence_loss_composed)):
        z = mg.Tensor(logits, requires_grad=True)
        value = loss(z, targets, weights)
        value.backward()
        out[name] = value.item(), z.grad
    assert out["fused"][0] == pytest.approx(out["composed"][0], rel=1e-14)
    np.testing.assert_allclose(out["fused"][1], out["composed"][1], rtol=1e-12, atol=1e-16)


def test_a_gradient_the_user_keeps_is_never_reused(small_blocks):
    rng = np.random.default_rng(3)
    logits, labels = rng.standard_normal((200, 100)), rng.integers(0, 100, 200)
    kept = loss_and_grad(logits, labels, np.ones(200))[1]  # a copy, for comparison
    z = mg.Tensor(logits, requires_grad=True)
    mg.sparse_softmax_cross_entropy_with_logits(labels, z).sum().backward()
    first = z.grad
    view = first[:3]  # a view of part of it keeps the memory too
    for _ in range(3):
        other = mg.Tensor(-logits, requires_grad=True)
        mg.sparse_softmax_cross_entropy_with_logits(labels, other).sum().backward()
        assert not np.shares_memory(other.grad, first)
    np.testing.assert_array_equal(first, kept)
    np.testing.assert_array_equal(view, kept[:3])


def test_a_released_buffer_is_reused_with_the_same_results(small_blocks):
    rng = np.random.default_rng(4)
    logits, labels = rng.standard_normal((200, 100)), rng.integers(0, 100, 200)
    z = mg.Tensor(logits, requires_grad=True)
    mg.sparse_softmax_cross_entropy_with_logits(labels, z).sum().backward()
    address, expected = z.grad.__array_interface__["data"][0], z.grad.copy()
    del z
    z = mg.Tensor(logits, requires_grad=True)
    mg.sparse_softmax_cross_entropy_with_logits(labels, z).sum().backward()
    assert z.grad.__array_interface__["data"][0] == address
    np.testing.assert_array_equal(z.grad, expected)


def test_a_second_backward_recomputes_the_softmax(small_blocks):
    fused.set_num_threads(2)
    rng = np.random.default_rng(5)
    z = mg.Tensor(rng.standard_normal((300, 50)), requires_grad=True)
    ce = mg.sparse_softmax_cross_entropy_with_logits(rng.integers(0, 50, 300), z).sum()
    ce.backward()
    once = z.grad.copy()
    ce.backward()
    np.testing.assert_array_equal(z.grad, 2 * once)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_set_num_threads_wants_a_positive_integer(bad):
    with pytest.raises(ValueError, match="threads"):
        fused.set_num_threads(bad)
