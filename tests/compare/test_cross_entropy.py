"""minigrad.cross_entropy against torch.nn.functional.cross_entropy: values and gradients.

Every combination of input shape, reduction, class weights, ignore_index and label smoothing,
in float64 (tight) and float32; plus the edge cases where PyTorch returns NaN or 0.
"""

import itertools

import numpy as np
import pytest
import torch
from compare_helpers import covers

import minigrad as mg

F = torch.nn.functional

SHAPES = [(7, 5), (3, 5, 4), (2, 4, 3, 2), (6,), (1, 1)]
SETTINGS = list(itertools.product(["mean", "sum", "none"], [None, "weight"], [-100, 0],
                                  [0.0, 0.2, 1.0]))


def case(rng, shape, ignore_index, dtype):
    c = shape[1] if len(shape) > 1 else shape[0]
    logits = rng.normal(size=shape).astype(dtype)
    targets = rng.integers(0, c, size=shape[:1] + shape[2:] if len(shape) > 1 else ())
    if targets.size > 2:
        targets.reshape(-1)[:2] = ignore_index          # a few ignored targets (or padding id 0)
    return logits, targets, rng.uniform(0.2, 2.0, size=c).astype(dtype)


def both(logits, targets, weight, ignore_index, reduction, smoothing, upstream):
    z = mg.Tensor(logits, requires_grad=True)
    out = mg.cross_entropy(z, targets, weight=weight, ignore_index=ignore_index, reduction=reduction,
                           label_smoothing=smoothing)
    (out * upstream).sum().backward()
    tz = torch.tensor(logits, requires_grad=True)
    tout = F.cross_entropy(tz, torch.tensor(targets), weight=None if weight is None else torch.tensor(weight),
                           ignore_index=ignore_index, reduction=reduction, label_smoothing=smoothing)
    (tout * torch.tensor(upstream)).sum().backward()
    return (out.data, z.grad), (tout.detach().numpy(), tz.grad.numpy())


@covers("cross_entropy")
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("reduction,weighted,ignore_index,smoothing", SETTINGS)
def test_float64_values_and_gradients(shape, reduction, weighted, ignore_index, smoothing):
    rng = np.random.default_rng(sum(shape) + len(shape))
    logits, targets, weight = case(rng, shape, ignore_index, np.float64)
    weight = weight if weighted else None
    upstream = rng.normal(size=targets.shape if reduction == "none" else ())
    (value, grad), (tvalue, tgrad) = both(logits, targets, weight, ignore_index, reduction, smoothing, upstream)
    assert value.shape == tvalue.shape and value.dtype == tvalue.dtype
    np.testing.assert_allclose(value, tvalue, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(grad, tgrad, rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("reduction,weighted,ignore_index,smoothing", SETTINGS[::5])
def test_float32(reduction, weighted, ignore_index, smoothing):
    rng = np.random.default_rng(3)
    logits, targets, weight = case(rng, (4, 6, 5), ignore_index, np.float32)
    weight = weight if weighted else None
    upstream = rng.normal(size=targets.shape if reduction == "none" else ()).astype(np.float32)
    (value, grad), (tvalue, tgrad) = both(logits, targets, weight, ignore_index, reduction, smoothing, upstream)
    assert value.dtype == tvalue.dtype == np.float32 and grad.dtype == np.float32
    np.testing.assert_allclose(value, tvalue, rtol=2e-6, atol=1e-6)
    np.testing.assert_allclose(grad, tgrad, rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_every_target_ignored(smoothing):
    logits, targets, _ = case(np.random.default_rng(4), (3, 4), -100, np.float64)
    targets[:] = -100
    for reduction in ["mean", "sum", "none"]:
        upstream = np.ones(3) if reduction == "none" else np.ones(())
        (value, grad), (tvalue, tgrad) = both(logits, targets, None, -100, reduction, smoothing, upstream)
        np.testing.assert_array_equal(value, tvalue)                 # NaN for 'mean', as PyTorch
        np.testing.assert_array_equal(grad, tgrad)


def test_class_weights_that_sum_to_zero_over_the_targets():
    logits, _, _ = case(np.random.default_rng(5), (3, 4), -100, np.float64)
    targets = np.array([2, 2, -100])
    weight = np.array([1.0, 2.0, 0.0, 1.0])
    (value, grad), (tvalue, tgrad) = both(logits, targets, weight, -100, "mean", 0.0, np.ones(()))
    assert np.isnan(value) and np.isnan(tvalue)
    np.testing.assert_array_equal(np.isnan(grad), np.isnan(tgrad))


def test_sequence_loss_is_cross_entropy_over_the_real_tokens():
    rng = np.random.default_rng(6)
    logits = rng.normal(size=(3, 5, 7))
    targets = rng.integers(1, 7, size=(3, 5))
    mask = np.arange(5) < np.array([5, 2, 4])[:, None]
    padded = np.where(mask, targets, 0)                                  # padding id 0
    ours = mg.sequence_loss(logits, padded, mask.astype(np.float64)).item()
    theirs = F.cross_entropy(torch.tensor(logits).permute(0, 2, 1), torch.tensor(padded), ignore_index=0)
    np.testing.assert_allclose(ours, theirs.item(), rtol=1e-13)
