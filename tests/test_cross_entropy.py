"""cross_entropy: PyTorch's semantics, checked against a NumPy formula and by finite differences (no torch).

tests/compare/test_cross_entropy.py checks the same function against PyTorch itself.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg

REDUCTIONS = ["mean", "sum", "none"]


def reference(logits, targets, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """PyTorch's documented formula in plain NumPy, float64: classes on axis 1 ([C] input: axis 0)."""
    z = np.asarray(logits, np.float64)
    z = z[None] if z.ndim == 1 else np.moveaxis(z, 1, -1)          # [..., C]
    t = np.asarray(targets).reshape(z.shape[:-1])
    c = z.shape[-1]
    w = np.ones(c) if weight is None else np.asarray(weight, np.float64)
    m = z.max(-1, keepdims=True)
    logp = z - m - np.log(np.exp(z - m).sum(-1, keepdims=True))
    keep = t != ignore_index
    safe = np.where(keep, t, 0)
    nll = -np.take_along_axis(logp, safe[..., None], -1)[..., 0] * w[safe] * keep
    smooth = -(logp * w).sum(-1) * keep
    loss = (1 - label_smoothing) * nll + label_smoothing / c * smooth
    if reduction == "none":
        return loss.reshape(np.shape(targets))
    if reduction == "sum":
        return loss.sum()
    with np.errstate(invalid="ignore"):
        return loss.sum() / (w[safe] * keep).sum()


def case(rng, shape, ignore=-100, n_ignored=2):
    """Random float64 logits of ``shape`` (classes on axis 1) and targets with some ignored."""
    c = shape[1] if len(shape) > 1 else shape[0]
    logits = rng.normal(size=shape)
    tshape = shape[:1] + shape[2:] if len(shape) > 1 else ()
    targets = rng.integers(0, c, size=tshape)
    if targets.ndim:
        targets.reshape(-1)[:n_ignored] = ignore
    return logits, targets, rng.uniform(0.2, 2.0, size=c)


SHAPES = [(6, 5), (3, 4, 5), (2, 3, 2, 2), (5,)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
@pytest.mark.parametrize("weighted", [False, True])
def test_matches_the_formula(shape, reduction, smoothing, weighted):
    logits, targets, weight = case(np.random.default_rng(0), shape)
    weight = weight if weighted else None
    out = mg.cross_entropy(logits, targets, weight=weight, reduction=reduction, label_smoothing=smoothing)
    expected = reference(logits, targets, weight, reduction=reduction, label_smoothing=smoothing)
    assert out.shape == np.shape(expected) and out.dtype == np.float64
    np.testing.assert_allclose(out.data, expected, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True])
def test_gradient_by_finite_differences(shape, reduction, smoothing, weighted):
    logits, targets, weight = case(np.random.default_rng(1), shape)
    z = mg.Tensor(logits, requires_grad=True)
    assert mg.gradcheck(lambda z: mg.cross_entropy(z, targets, weight=weight if weighted else None,
                                                   reduction=reduction, label_smoothing=smoothing), z)


def composed(logits, targets, weight, ignore_index, label_smoothing):
    """The 'mean' loss from log_softmax and indexing only, so autodiff derives its gradient."""
    c = logits.shape[1]
    logp = mg.log_softmax(logits, axis=1)                             # [N, C]
    keep = targets != ignore_index
    safe = np.where(keep, targets, 0)
    w = np.ones(c) if weight is None else weight
    q = label_smoothing / c * w * keep[:, None]
    q[np.arange(len(safe)), safe] += (1 - label_smoothing) * w[safe] * keep
    return -(logp * q).sum() / (w[safe] * keep).sum()


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(1, 6), st.floats(0, 1), st.booleans(), st.integers(0, 5))
def test_fused_gradient_equals_autodiff_of_the_composed_loss(n, c, smoothing, weighted, seed):
    rng = np.random.default_rng(seed)
    logits, targets, weight = case(rng, (n, c), n_ignored=n // 2)
    targets[-1] = rng.integers(0, c)                                   # at least one target counts
    weight = weight if weighted else None
    fused = mg.Tensor(logits, requires_grad=True)
    mg.cross_entropy(fused, targets, weight=weight, label_smoothing=smoothing).backward()
    plain = mg.Tensor(logits, requires_grad=True)
    composed(plain, targets, weight, -100, smoothing).backward()
    np.testing.assert_allclose(fused.grad, plain.grad, rtol=1e-10, atol=1e-14)


def test_ignored_targets_add_nothing_and_get_no_gradient():
    logits, targets, _ = case(np.random.default_rng(2), (6, 4), n_ignored=0)
    targets[[1, 4]] = -100
    z = mg.Tensor(logits, requires_grad=True)
    mg.cross_entropy(z, targets).backward()
    kept = [0, 2, 3, 5]
    alone = mg.Tensor(logits[kept], requires_grad=True)
    mg.cross_entropy(alone, targets[kept]).backward()
    assert not z.grad[[1, 4]].any()
    np.testing.assert_allclose(z.grad[kept], alone.grad, rtol=1e-14)


def test_ignore_index_may_be_a_class_id():
    # padding id 0, as many data pipelines use it
    logits, targets, _ = case(np.random.default_rng(3), (8, 5), n_ignored=0)
    targets[:3] = 0
    out = mg.cross_entropy(logits, targets, ignore_index=0)
    np.testing.assert_allclose(out.data, reference(logits, targets, ignore_index=0), rtol=1e-13)
    np.testing.assert_allclose(out.data, mg.cross_entropy(logits[targets != 0], targets[targets != 0]).data,
                               rtol=1e-13)


def test_ignored_rows_are_exactly_zero_even_with_non_finite_logits():
    logits = np.array([[0.0, 1.0, 2.0], [np.inf, np.nan, 0.0]])
    out = mg.cross_entropy(logits, np.array([2, -100]), reduction="none")
    assert np.isfinite(out.data[0]) and out.data[1] == 0.0


def test_all_ignored_mean_is_nan_with_zero_gradient_as_pytorch():
    z = mg.Tensor(np.random.default_rng(4).normal(size=(3, 4)), requires_grad=True)
    loss = mg.cross_entropy(z, np.full(3, -100))
    assert np.isnan(loss.item())
    loss.backward()
    assert not z.grad.any()
    assert mg.cross_entropy(z, np.full(3, -100), reduction="sum").item() == 0.0


def test_weighted_mean_divides_by_the_weights_of_the_targets():
    logits, targets, weight = case(np.random.default_rng(5), (7, 3), n_ignored=2)
    per_target = mg.cross_entropy(logits, targets, weight=weight, reduction="none").data
    keep = targets != -100
    mean = mg.cross_entropy(logits, targets, weight=weight).item()
    np.testing.assert_allclose(mean, per_target.sum() / weight[targets[keep]].sum(), rtol=1e-14)
    assert not np.isclose(mean, per_target.sum() / keep.sum())


def test_full_smoothing_is_the_cross_entropy_against_uniform():
    logits, targets, _ = case(np.random.default_rng(6), (5, 4), n_ignored=0)
    out = mg.cross_entropy(logits, targets, label_smoothing=1.0, reduction="none")
    uniform = mg.softmax_cross_entropy_with_logits(np.full((5, 4), 0.25), logits)
    np.testing.assert_allclose(out.data, uniform.data, rtol=1e-13)


def test_one_dimensional_input_with_a_scalar_target():
    logits = np.array([0.6, 0.5, 0.3, 0.2])
    out = mg.cross_entropy(logits, np.array(1))
    assert out.shape == ()
    np.testing.assert_allclose(out.item(), mg.cross_entropy(logits[None], np.array([1])).item(), rtol=1e-15)
    assert mg.cross_entropy(logits, np.array(-100), reduction="none").item() == 0.0


def test_float32_stays_float32():
    logits, targets, weight = case(np.random.default_rng(7), (4, 3, 2))
    z = mg.Tensor(logits.astype(np.float32), requires_grad=True)
    loss = mg.cross_entropy(z, targets, weight=weight.astype(np.float32), label_smoothing=0.1)
    loss.backward()
    assert loss.dtype == np.float32 and z.grad.dtype == np.float32
    np.testing.assert_allclose(loss.item(), reference(logits, targets, weight, label_smoothing=0.1), rtol=1e-5)


def test_empty_batch():
    z = np.zeros((0, 4))
    t = np.zeros(0, dtype=np.int64)
    assert np.isnan(mg.cross_entropy(z, t).item())
    assert mg.cross_entropy(z, t, reduction="sum").item() == 0.0
    assert mg.cross_entropy(z, t, reduction="none").shape == (0,)


# -- how sequence_loss relates to it (stated in sequence_loss's docstring) --------------------------

def test_sequence_loss_default_flags_equal_cross_entropy_with_the_mask_as_ignore_index():
    rng = np.random.default_rng(8)
    b, t, v = 3, 5, 6
    logits = rng.normal(size=(b, t, v))
    targets = rng.integers(0, v, size=(b, t))
    mask = (np.arange(t) < np.array([5, 3, 1])[:, None]).astype(np.float64)
    expected = mg.sequence_loss(logits, targets, mask).item()
    flat = mg.cross_entropy(logits.reshape(-1, v), np.where(mask > 0, targets, -100).reshape(-1)).item()
    classes_on_axis_1 = mg.cross_entropy(logits.transpose(0, 2, 1), np.where(mask > 0, targets, -100))
    np.testing.assert_allclose(flat, expected, rtol=1e-14)
    np.testing.assert_allclose(classes_on_axis_1.item(), expected, rtol=1e-14)
    # and no flag set is reduction='none' times the weights
    grid = mg.sequence_loss(logits, targets, mask, average_across_timesteps=False, average_across_batch=False)
    none = mg.cross_entropy(logits.transpose(0, 2, 1), targets, reduction="none").data * mask
    np.testing.assert_allclose(grid.data, none, rtol=1e-14)


# -- bad input names the argument -------------------------------------------------------------------

Z = np.zeros((3, 4))
T = np.array([0, 1, 2])


@pytest.mark.parametrize("kwargs,error,message", [
    (dict(logits=np.float64(1.0), targets=np.array(0)), ValueError, r"logits must have a class axis"),
    (dict(logits=np.zeros((3, 4), int), targets=T), TypeError, r"logits must be floating point"),
    (dict(targets=np.zeros(3)), TypeError, r"targets must be integer class ids, got dtype float64"),
    (dict(targets=np.array([0, 1])), ValueError, r"targets has shape \(2,\), expected \(3,\)"),
    (dict(targets=np.array([0, 4, 1])), ValueError, r"targets contains class id 4, outside \[0, 4\)"),
    (dict(targets=np.array([0, -1, 1])), ValueError, r"targets contains class id -1"),
    (dict(weight=np.ones(3)), ValueError, r"weight has shape \(3,\), expected \(4,\)"),
    (dict(weight=np.ones(4, np.float32)), TypeError, r"weight has dtype float32"),
    (dict(weight=mg.Tensor(np.ones(4), requires_grad=True)), ValueError, r"weight must not require grad"),
    (dict(ignore_index=1.5), TypeError, r"ignore_index must be an int"),
    (dict(ignore_index=True), TypeError, r"ignore_index must be an int"),
    (dict(reduction="avg"), ValueError, r"reduction must be one of"),
    (dict(reduction=None), ValueError, r"reduction must be one of"),
    (dict(label_smoothing=1.5), ValueError, r"label_smoothing must be between 0.0 and 1.0"),
    (dict(label_smoothing=-0.1), ValueError, r"label_smoothing must be between 0.0 and 1.0"),
    (dict(label_smoothing="0.1"), TypeError, r"label_smoothing must be a float"),
])
def test_bad_arguments(kwargs, error, message):
    args = dict(logits=Z, targets=T) | kwargs
    with pytest.raises(error, match=message):
        mg.cross_entropy(**args)
