"""Softmax, cross-entropy and sequence_loss against PyTorch: values and gradients."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from compare_helpers import FLOATS, SETTINGS, arrays, assert_close, compare_grads, covers, nonempty_shapes, pair
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg


@covers("logsumexp", "softmax", "log_softmax")
@pytest.mark.parametrize("name", ["logsumexp", "softmax", "log_softmax"])
@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(FLOATS), shape=nonempty_shapes, keepdims=st.booleans())
def test_softmax_family(name, data, dtype, shape, keepdims):
    """In float16 the reference is PyTorch in float32, rounded to float16 at the end: PyTorch's own
    float16 gradient of logsumexp, ``exp(x - result)``, uses the rounded result and is off by up to
    ``|x| * 2**-11`` (at x = 256 by 7%), where minigrad's stays within a few float16 roundings."""
    x = data.draw(arrays(dtype, shape))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    a, b = pair(x, upcast16=True)
    to16 = getattr(torch, str(x.dtype))
    if name == "logsumexp":
        out, tout = mg.logsumexp(a, axis=axis, keepdims=keepdims), torch.logsumexp(b, dim=axis, keepdim=keepdims)
        assert_close(out, tout.to(to16), what=name)
        # The gradient is softmax(x). PyTorch's logsumexp backward computes it as exp(x - result), which
        # is wrong once |x| * eps > 1 (result rounds to x: each entry gets 1 instead of 1/n). So where the
        # maximum of a slice is finite the reference is PyTorch's softmax; where it is inf or NaN, it is
        # PyTorch's logsumexp backward (softmax is NaN everywhere there; exp(x - inf) is 0 for finite x).
        # Either is applied as the gradient of sum(x * reference.detach()).
        softmax = torch.softmax(b, dim=axis)
        own = torch.exp(b - torch.logsumexp(b, dim=axis, keepdim=True))
        finite = torch.isfinite(b.amax(dim=axis, keepdim=True))
        tout = (b * torch.where(finite, softmax, own).detach()).sum(dim=axis, keepdim=keepdims)
    else:
        out, tout = getattr(mg, name)(a, axis=axis), getattr(torch, name)(b, dim=axis)
        assert_close(out, tout.to(to16), what=name)
    compare_grads([(a, b)], (out, tout.to(to16)))


def test_softmax_with_the_default_axis_is_the_last_axis():
    x = np.random.default_rng(0).normal(size=(2, 3, 4))
    for name in ("softmax", "log_softmax"):
        assert_close(getattr(mg, name)(x), getattr(torch, name)(torch.tensor(x), dim=-1))
    assert_close(mg.logsumexp(x), torch.logsumexp(torch.tensor(x), dim=-1))


@covers("SoftmaxCrossEntropy", "softmax_cross_entropy_with_logits")
@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(FLOATS), shape=nonempty_shapes, normalized=st.booleans())
def test_dense_cross_entropy(data, dtype, shape, normalized):
    """Against PyTorch's cross_entropy with class probabilities.

    Both give the exact gradient ``softmax * sum(labels) - labels``; TensorFlow's kernel gives
    ``softmax - labels``, which is the same only when every row of labels sums to 1.
    """
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    logits = data.draw(arrays(dtype, shape, low=-8, high=8))
    labels = data.draw(hnp.arrays(dtype, shape, elements=st.floats(0, 1, width=np.finfo(dtype).bits)))
    if normalized:
        total = labels.sum(axis=axis, keepdims=True)
        labels = np.where(total > 0, labels / np.where(total > 0, total, 1), 1 / shape[axis]).astype(dtype)
    (y, ty), (z, tz) = pair(labels), pair(logits)
    out = mg.softmax_cross_entropy_with_logits(y, z, axis=axis)
    tout = -(ty * torch.log_softmax(tz, dim=axis)).sum(dim=axis)
    if tz.ndim > 1:  # the same as PyTorch's own loss, classes on axis 1
        torch_loss = F.cross_entropy(tz.movedim(axis, 1), ty.movedim(axis, 1), reduction="none")
        assert_close(torch_loss.detach(), tout.detach(), scale=shape[axis])
    assert_close(out, tout, scale=shape[axis])
    compare_grads([(y, ty), (z, tz)], (out, tout), scale=shape[axis])


def test_dense_gradient_differs_from_tensorflows_when_labels_do_not_sum_to_one():
    """The one place minigrad departs from TensorFlow on purpose: its gradient is exact (PyTorch's)."""
    logits = np.array([[0.5, -1.0, 2.0]])
    labels = np.array([[0.2, 0.3, 0.1]])                    # sums to 0.6
    (y, ty), (z, tz) = pair(labels), pair(logits)
    mg.softmax_cross_entropy_with_logits(y, z).sum().backward()
    (-(ty * torch.log_softmax(tz, dim=-1)).sum()).backward()
    assert_close(z.grad, tz.grad)
    softmax = np.exp(logits) / np.exp(logits).sum()
    tensorflow = softmax - labels
    assert not np.allclose(z.grad, tensorflow)
    np.testing.assert_allclose(z.grad, softmax * 0.6 - labels, rtol=1e-14)


@covers("SparseSoftmaxCrossEntropy", "sparse_softmax_cross_entropy_with_logits")
@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(FLOATS),
       shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4))
def test_sparse_cross_entropy(data, dtype, shape):
    v = shape[-1]
    if v == 0:
        shape = shape[:-1] + (1,)
        v = 1
    logits = data.draw(arrays(dtype, shape))
    labels = data.draw(hnp.arrays(np.int64, shape[:-1], elements=st.integers(0, v - 1)))
    z, tz = pair(logits)
    out = mg.sparse_softmax_cross_entropy_with_logits(labels, z)
    flat = F.cross_entropy(tz.reshape(-1, v), torch.tensor(labels).reshape(-1), reduction="none")
    tout = flat.reshape(labels.shape)
    assert_close(out, tout, scale=v)
    compare_grads([(z, tz)], (out, tout), scale=v)


# -- sequence_loss --------------------------------------------------------------------------------

FLAGS = [(1, 1, 0, 0), (0, 0, 1, 1), (1, 0, 0, 0), (0, 1, 0, 0), (0, 0, 1, 0), (0, 0, 0, 1), (0, 0, 0, 0)]


def torch_sequence_loss(logits, targets, weights, at, ab, st_, sb):
    """TensorFlow Addons' sequence_loss written with PyTorch: ce * w, then the flags' reduction.

    Every division is divide-no-NaN (0 where the denominator is 0, with a zero gradient there), and
    count_nonzero carries no gradient.
    """
    b, t, v = logits.shape
    if targets.ndim == 2:
        ce = F.cross_entropy(logits.reshape(-1, v), targets.reshape(-1), reduction="none")
    else:
        ce = F.cross_entropy(logits.reshape(-1, v), targets.reshape(-1, v), reduction="none")
    ce = (ce * weights.reshape(-1)).reshape(b, t)

    def divide_no_nan(x, y):
        zero = y == 0
        return torch.where(zero, torch.zeros((), dtype=x.dtype), x / torch.where(zero, torch.ones_like(y), y))

    def count(axis):
        return (weights != 0).sum(dim=axis).to(weights.dtype)

    if at and ab:
        return divide_no_nan(ce.sum(), weights.sum())
    if st_ and sb:
        return divide_no_nan(ce.sum(), count((0, 1)))
    if at or ab:
        axis = 0 if ab else 1
        return divide_no_nan(ce.sum(dim=axis), weights.sum(dim=axis))
    if st_ or sb:
        axis = 0 if sb else 1
        return divide_no_nan(ce.sum(dim=axis), count(axis))
    return ce


@covers("sequence_loss", "sequence_loss_composed")
@pytest.mark.parametrize("flags", FLAGS, ids=lambda f: "".join(map(str, f)))
@pytest.mark.parametrize("loss", [mg.sequence_loss, mg.sequence_loss_composed], ids=["fused", "composed"])
@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(FLOATS),
       btv=st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(1, 5)), dense=st.booleans())
def test_sequence_loss(loss, flags, data, dtype, btv, dense):
    """float16 (which TensorFlow accepts) against PyTorch in float32, rounded to float16 at the end."""
    b, t, v = btv
    logits = data.draw(arrays(dtype, btv, edges=False))
    if dense:
        targets = data.draw(hnp.arrays(dtype, btv, elements=st.floats(0, 1, width=np.finfo(dtype).bits)))
    else:
        targets = data.draw(hnp.arrays(np.int64, (b, t), elements=st.integers(0, v - 1)))
    weights = data.draw(hnp.arrays(dtype, (b, t), elements=st.sampled_from([0.0, 1.0, 0.5, 2.0])))
    (z, tz), (w, tw) = pair(logits, upcast16=True), pair(weights, upcast16=True)
    kwargs = dict(zip(["average_across_timesteps", "average_across_batch", "sum_over_timesteps",
                       "sum_over_batch"], map(bool, flags)))
    out = loss(z, targets, w, **kwargs)
    ttargets = torch.tensor(targets.astype(np.float32) if targets.dtype == np.float16 else targets)
    tout = torch_sequence_loss(tz, ttargets, tw, *flags).to(getattr(torch, np.dtype(dtype).name))
    scale = max(1, b * t) * v
    assert_close(out, tout, scale=scale)
    compare_grads([(z, tz), (w, tw)], (out, tout), scale=scale)


def test_sequence_loss_with_a_softmax_loss_function():
    rng = np.random.default_rng(1)
    logits, targets, weights = rng.normal(size=(2, 3, 4)), rng.integers(0, 4, (2, 3)), rng.uniform(size=(2, 3))
    (z, tz), (w, tw) = pair(logits), pair(weights)
    out = mg.sequence_loss(z, targets, w, softmax_loss_function=mg.sparse_softmax_cross_entropy_with_logits)
    tout = torch_sequence_loss(tz, torch.tensor(targets), tw, 1, 1, 0, 0)
    assert_close(out, tout)
    compare_grads([(z, tz), (w, tw)], (out, tout))
