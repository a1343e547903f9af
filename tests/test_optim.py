"""minigrad.optim: updates against the published formulas, clipping by global norm, bad input."""

import re

import numpy as np
import pytest

import minigrad as mg
import minigrad.optim as optim


def param(values, dtype=np.float64):
    return mg.Tensor(np.array(values, dtype=dtype), requires_grad=True)


def set_grads(params, grads):
    for p, g in zip(params, grads):
        p.grad = np.array(g, dtype=p.dtype)


GRADS = [([0.5, -2.0, 1e-3], [[3.0]]), ([-0.25, 1.0, 4.0], [[-1.0]]), ([2.0, 0.0, -5e-4], [[0.5]])]


# -- SGD ------------------------------------------------------------------------

def test_sgd_is_theta_minus_lr_grad():
    w = param([1.0, 2.0, 3.0])
    opt = optim.SGD([w], lr=0.1)
    set_grads([w], [[1.0, -1.0, 0.5]])
    data = w.data
    opt.step()
    assert w.data is data                                     # updated in place
    assert np.allclose(w.data, [0.9, 2.1, 2.95], rtol=0, atol=1e-15)


def test_sgd_momentum_follows_the_heavy_ball_formula():
    w, b = param([1.0, -1.0, 0.0]), param([[2.0]])
    opt = optim.SGD([w, b], lr=0.1, momentum=0.9)
    ref = [w.data.copy(), b.data.copy()]
    buffers = [None, None]
    for grads in GRADS:
        set_grads([w, b], grads)
        opt.step()
        for i, g in enumerate(grads):                          # b_t = mu b_{t-1} + g_t, b_1 = g_1
            g = np.array(g)
            buffers[i] = g if buffers[i] is None else 0.9 * buffers[i] + g
            ref[i] = ref[i] - 0.1 * buffers[i]
    assert np.allclose(w.data, ref[0], rtol=1e-15, atol=1e-15)
    assert np.allclose(b.data, ref[1], rtol=1e-15, atol=1e-15)


# -- Adam -----------------------------------------------------------------------

def adam_by_hand(theta, grads, lr, beta1, beta2, eps):
    """Kingma & Ba (2015), Algorithm 1, one parameter, float64."""
    m = v = np.zeros_like(theta)
    for t, g in enumerate(grads, start=1):
        g = np.asarray(g, dtype=np.float64)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g ** 2
        m_hat = m / (1 - beta1 ** t)
        v_hat = v / (1 - beta2 ** t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta


@pytest.mark.parametrize("lr, betas, eps", [(1e-3, (0.9, 0.999), 1e-8), (0.05, (0.5, 0.9), 1e-3)])
def test_adam_matches_kingma_and_ba(lr, betas, eps):
    w, b = param([1.0, -1.0, 0.0]), param([[2.0]])
    opt = optim.Adam([w, b], lr=lr, betas=betas, eps=eps)
    start = [w.data.copy(), b.data.copy()]
    for grads in GRADS:
        set_grads([w, b], grads)
        opt.step()
    assert opt.steps == [3, 3]
    for p, s, i in ((w, start[0], 0), (b, start[1], 1)):
        expected = adam_by_hand(s, [g[i] for g in GRADS], lr, *betas, eps)
        np.testing.assert_allclose(p.data, expected, rtol=1e-14, atol=1e-16)


def test_adam_first_step_moves_each_entry_by_lr():
    """With bias correction, m_hat / sqrt(v_hat) = g / |g| at t = 1: every entry moves by lr."""
    w = param([0.0, 0.0, 0.0])
    opt = optim.Adam([w], lr=0.01)
    set_grads([w], [[1e-3, -50.0, 7.0]])
    opt.step()
    np.testing.assert_allclose(w.data, [-0.01, 0.01, -0.01], rtol=1e-4)


def test_optimizers_keep_float32_and_skip_missing_gradients():
    for make in (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.5), lambda ps: optim.Adam(ps, lr=0.1)):
        w, unused = param([1.0, 2.0], np.float32), param([3.0], np.float32)
        opt = make([w, unused])
        for _ in range(2):
            (w * w).sum().backward()
            opt.step()
            opt.zero_grad()
        assert w.dtype == np.float32 and w.data.dtype == np.float32
        assert w.grad is None and unused.data.tolist() == [3.0]
        assert w._node is None and w.requires_grad      # still a leaf, not part of any graph


@pytest.mark.parametrize("make", [lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
                                  lambda ps: optim.Adam(ps, lr=0.1)])
def test_optimizers_minimise_a_quadratic(make):
    target = np.array([1.0, -2.0, 0.5])
    w = param(np.zeros(3))
    opt = make([w])
    for _ in range(300):
        opt.zero_grad()
        ((w - target) ** 2).sum().backward()
        opt.step()
    np.testing.assert_allclose(w.data, target, atol=1e-3)


# -- clip_grad_norm -------------------------------------------------------------

def test_clip_grad_norm_scales_all_gradients_together():
    a, b, none = param([0.0, 0.0]), param([[0.0]]), param([0.0])
    set_grads([a, b], [[3.0, 0.0], [[4.0]]])                   # global norm 5
    total = optim.clip_grad_norm([a, b, none], max_norm=1.0)
    assert total == 5.0
    np.testing.assert_allclose(a.grad, [0.6, 0.0], rtol=1e-15)
    np.testing.assert_allclose(b.grad, [[0.8]], rtol=1e-15)
    assert none.grad is None


def test_clip_grad_norm_leaves_small_gradients_and_dtype_alone():
    a = param([0.3, -0.4], np.float32)
    set_grads([a], [[0.3, -0.4]])
    before = a.grad.copy()
    assert optim.clip_grad_norm([a], max_norm=1.0) == pytest.approx(0.5)
    assert np.array_equal(a.grad, before) and a.grad.dtype == np.float32
    set_grads([a], [[30.0, -40.0]])
    optim.clip_grad_norm([a], max_norm=2.0)
    assert a.grad.dtype == np.float32
    assert np.linalg.norm(a.grad) == pytest.approx(2.0, rel=1e-6)


# -- bad input ------------------------------------------------------------------

@pytest.mark.parametrize("call, error, message", [
    (lambda w: optim.SGD([], lr=0.1), ValueError, "SGD: params is empty"),
    (lambda w: optim.SGD([np.ones(2)], lr=0.1), TypeError, "SGD: params[0] must be a Tensor with requires_grad=True"),
    (lambda w: optim.Adam([w, mg.Tensor([1.0])]), TypeError, "Adam: params[1] must be a Tensor with requires_grad"),
    (lambda w: optim.Adam([w, w]), ValueError, "Adam: params[1] appears twice"),
    (lambda w: optim.SGD([w], lr=0.0), ValueError, "SGD: lr must be in (0.0, inf), got 0.0"),
    (lambda w: optim.SGD([w], lr="0.1"), TypeError, "SGD: lr must be a number, got str"),
    (lambda w: optim.SGD([w], lr=0.1, momentum=1.0), ValueError, "SGD: momentum must be in [0.0, 1.0), got 1.0"),
    (lambda w: optim.Adam([w], betas=(0.9,)), TypeError, "Adam: betas must be a pair"),
    (lambda w: optim.Adam([w], betas=(0.9, 1.5)), ValueError, "Adam: betas[1] must be in [0.0, 1.0), got 1.5"),
    (lambda w: optim.Adam([w], eps=-1e-8), ValueError, "Adam: eps must be in [0.0, inf)"),
    (lambda w: optim.clip_grad_norm([w], 0), ValueError, "clip_grad_norm: max_norm must be in (0.0, inf)"),
])
def test_bad_arguments(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call(param([1.0]))
