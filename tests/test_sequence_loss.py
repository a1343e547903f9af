"""sequence_loss: TensorFlow Addons 0.23 semantics, the blog's numbers, properties and edge cases."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg

LOSSES = [mg.sequence_loss, mg.sequence_loss_composed]

EXAMPLE2_LOGITS = np.array([
    [[0.6, 0.5, 0.3, 0.2], [0.9, 0.5, 0.3, 0.2], [1.0, 0.5, 0.3, 0.2]],
    [[0.2, 0.5, 0.3, 0.2], [0.3, 0.5, 0.3, 0.2], [0.4, 0.5, 0.3, 0.2]]])
EXAMPLE2_TARGETS = np.array([[0, 1, 2], [3, 0, 1]], dtype=np.int32)
# TensorFlow 2.15 + TF Addons 0.23, float64 (shared/reference/sequence_loss_semantics.md)
EXAMPLE2_CE = [1.198751904542098, 1.3990560017342475, 1.637051694965455,
               1.494033733325125, 1.4173666233756772, 1.2425355294551628]
EXAMPLE2_GRAD = np.array([
    [[-0.11640493904514299, 0.04547869184708615, 0.03723480362496633, 0.03369144357309051],
     [0.06137114711536822, -0.12552835650703303, 0.03368119965735242, 0.03047600973431241],
     [0.0652968708014361, 0.03960455412436564, -0.1342412002431071, 0.02933977531730534]],
    [[0.03741089890085701, 0.05049943138065725, 0.04134543748429538, -0.12925576776580963],
     [-0.12627477003686063, 0.04933477395096554, 0.04039189662980602, 0.03654809945608906],
     [0.04353043202584593, -0.11855809914043294, 0.03938796372025627, 0.03563970339433074]]])

# The 7 legal settings of (average_across_timesteps, average_across_batch, sum_over_timesteps, sum_over_batch)
LEGAL = [(1, 1, 0, 0), (0, 0, 1, 1), (1, 0, 0, 0), (0, 1, 0, 0), (0, 0, 1, 0), (0, 0, 0, 1), (0, 0, 0, 0)]
ILLEGAL = [f for f in itertools.product((0, 1), repeat=4) if f not in LEGAL
           and not (f[0] and f[1] and (f[2] or f[3])) or f in [(1, 0, 1, 0), (0, 1, 0, 1), (0, 1, 1, 0), (1, 0, 0, 1)]]


def flags(f):
    return dict(zip(["average_across_timesteps", "average_across_batch", "sum_over_timesteps",
                     "sum_over_batch"], map(bool, f)))


def reference(logits, targets, weights, at, ab, st, sb):
    """Plain NumPy, in float64: TF Addons' formula for each flag setting."""
    z = logits.astype(np.float64)
    m = z.max(-1, keepdims=True)
    lse = np.log(np.exp(z - m).sum(-1)) + m[..., 0]
    ce = lse - np.take_along_axis(z, targets[..., None].astype(int), -1)[..., 0]
    cw, w = ce * weights, weights.astype(np.float64)

    def dnn(a, b):
        return np.where(b == 0, 0.0, a / np.where(b == 0, 1.0, b))

    if at and ab:
        return dnn(cw.sum(), w.sum())
    if st and sb:
        return dnn(cw.sum(), np.count_nonzero(w))
    if at or ab:
        axis = 0 if ab else 1
        return dnn(cw.sum(axis), w.sum(axis))
    if st or sb:
        axis = 0 if sb else 1
        return dnn(cw.sum(axis), np.count_nonzero(w, axis))
    return cw


def random_case(rng, b=3, t=4, v=5, dtype=np.float64, padded=True):
    logits = rng.normal(size=(b, t, v)).astype(dtype)
    targets = rng.integers(0, v, size=(b, t))
    lengths = rng.integers(0 if padded else t, t + 1, size=b)
    weights = (np.arange(t) < lengths[:, None]).astype(dtype) * rng.uniform(0.5, 2.0, size=(b, t)).astype(dtype)
    return logits, targets, weights


# -- the blog's numbers ----------------------------------------------------

@pytest.mark.parametrize("loss", LOSSES)
def test_example1_uniform_logits(loss):
    logits = np.full((2, 3, 4), 0.5)
    targets = np.zeros((2, 3), dtype=np.int32)
    out64 = loss(logits, targets, np.ones((2, 3)))
    out32 = loss(logits.astype(np.float32), targets, np.ones((2, 3), np.float32))
    assert repr(out64.item()) == "1.3862943611198906"
    assert str(out32.numpy()) == "1.3862944" and out32.dtype == np.float32


@pytest.mark.parametrize("loss", LOSSES)
def test_example2_values_and_gradient(loss):
    out32 = loss(EXAMPLE2_LOGITS.astype(np.float32), EXAMPLE2_TARGETS, np.ones((2, 3), np.float32))
    assert str(out32.numpy()) == "1.3981327"
    logits = mg.Tensor(EXAMPLE2_LOGITS, requires_grad=True)
    out64 = loss(logits, EXAMPLE2_TARGETS, np.ones((2, 3)))
    assert repr(out64.item()) == "1.3981325812329608"
    out64.backward()
    np.testing.assert_allclose(logits.grad, EXAMPLE2_GRAD, rtol=1e-15, atol=1e-16)
    grid = loss(EXAMPLE2_LOGITS, EXAMPLE2_TARGETS, np.ones((2, 3)),
                average_across_timesteps=False, average_across_batch=False)
    np.testing.assert_allclose(grid.data.reshape(-1), EXAMPLE2_CE, rtol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_example2_equals_flattened_softmax_cross_entropy_bit_for_bit(dtype):
    logits = EXAMPLE2_LOGITS.astype(dtype)
    onehot = np.eye(4, dtype=dtype)[EXAMPLE2_TARGETS.reshape(-1)]
    flat = mg.softmax_cross_entropy_with_logits(onehot, logits.reshape(6, 4)).mean()
    seq = mg.sequence_loss(logits, EXAMPLE2_TARGETS, np.ones((2, 3), dtype))
    assert flat.data.tobytes() == seq.data.tobytes()


# -- the seven flag settings -------------------------------------------------

@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("f", LEGAL)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_flag_settings_match_numpy(loss, f, dtype):
    rng = np.random.default_rng(7)
    logits, targets, weights = random_case(rng, dtype=dtype)
    weights[1] = 0  # a row with no weight at all: divide-no-NaN
    out = loss(logits, targets, weights, **flags(f))
    expected = reference(logits, targets, weights, *f)
    assert out.shape == np.shape(expected) and out.dtype == dtype
    np.testing.assert_allclose(out.data, expected, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-6)


@pytest.mark.parametrize("f", LEGAL)
def test_flag_gradients_by_finite_differences(f):
    rng = np.random.default_rng(3)
    logits, targets, weights = random_case(rng, b=2, t=3, v=4, padded=False)
    z, w = mg.Tensor(logits, requires_grad=True), mg.Tensor(weights, requires_grad=True)
    for loss in LOSSES:
        # strictly positive weights: count_nonzero is a step function, not differentiable at 0
        assert mg.gradcheck(lambda z, w: loss(z, targets, w, **flags(f)), z, w)
        padded = weights.copy()
        padded[0, 2] = 0
        assert mg.gradcheck(lambda z: loss(z, targets, padded, **flags(f)), z)


@pytest.mark.parametrize("f", LEGAL)
def test_fused_equals_composed(f):
    rng = np.random.default_rng(11)
    logits, targets, weights = random_case(rng, b=4, t=5, v=6)
    grads = []
    for loss in LOSSES:
        z, w = mg.Tensor(logits, requires_grad=True), mg.Tensor(weights, requires_grad=True)
        out = loss(z, targets, w, **flags(f))
        out.backward(np.ones(out.shape))
        grads.append((out.data, z.grad, w.grad))
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_closed_form_gradients_default_flags():
    rng = np.random.default_rng(5)
    logits, targets, weights = random_case(rng)
    z, w = mg.Tensor(logits, requires_grad=True), mg.Tensor(weights, requires_grad=True)
    loss = mg.sequence_loss(z, targets, w)
    loss.backward()
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    onehot = np.eye(logits.shape[-1])[targets]
    np.testing.assert_allclose(z.grad, (p - onehot) * weights[..., None] / weights.sum(), atol=1e-15)
    ce = reference(logits, targets, np.ones_like(weights), 0, 0, 0, 0)
    np.testing.assert_allclose(w.grad, (ce - loss.item()) / weights.sum(), atol=1e-15)


def test_sum_over_flags_give_weights_a_gradient_where_w_is_zero():
    rng = np.random.default_rng(2)
    logits, targets, weights = random_case(rng)
    weights[0, -1] = 0
    w = mg.Tensor(weights, requires_grad=True)
    mg.sequence_loss(logits, targets, w, average_across_timesteps=False, average_across_batch=False,
                     sum_over_timesteps=True, sum_over_batch=True).backward()
    ce = reference(logits, targets, np.ones_like(weights), 0, 0, 0, 0)
    np.testing.assert_allclose(w.grad, ce / np.count_nonzero(weights), rtol=1e-13)
    assert w.grad[0, -1] != 0


@pytest.mark.parametrize("loss", LOSSES)
def test_weights_zero_gives_exactly_zero_dlogits(loss):
    rng = np.random.default_rng(4)
    logits, targets, weights = random_case(rng)
    weights[:, -2:] = 0
    z = mg.Tensor(logits, requires_grad=True)
    loss(z, targets, weights).backward()
    assert np.all(z.grad[:, -2:] == 0)
    assert np.all(z.grad[:, :-2][weights[:, :-2] != 0] != 0)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("f", LEGAL)
def test_all_zero_weights_give_zero_loss_and_gradient(loss, f):
    rng = np.random.default_rng(6)
    logits, targets, _ = random_case(rng)
    z = mg.Tensor(logits, requires_grad=True)
    w = mg.Tensor(np.zeros((3, 4)), requires_grad=True)
    out = loss(z, targets, w, **flags(f))
    assert np.all(out.data == 0) and not np.isnan(out.data).any()
    out.backward(np.ones(out.shape))
    assert np.all(z.grad == 0) and np.all(np.isfinite(w.grad))


# -- edge cases -----------------------------------------------------------------

@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("shape", [(0, 3), (2, 0), (0, 0)])
@pytest.mark.parametrize("f", LEGAL)
def test_empty_batch_or_time(loss, shape, f):
    b, t = shape
    z = mg.Tensor(np.zeros((b, t, 4)), requires_grad=True)
    out = loss(z, np.zeros((b, t), int), np.ones((b, t)), **flags(f))
    expected = reference(np.zeros((b, t, 4)), np.zeros((b, t), int), np.ones((b, t)), *f)
    assert out.shape == np.shape(expected) and np.all(out.data == 0)
    out.backward(np.ones(out.shape))
    assert z.grad.shape == (b, t, 4)


@pytest.mark.parametrize("loss", LOSSES)
def test_vocabulary_of_one(loss):
    z = mg.Tensor(np.random.default_rng(0).normal(size=(2, 3, 1)), requires_grad=True)
    out = loss(z, np.zeros((2, 3), int), np.ones((2, 3)))
    out.backward()
    assert out.item() == 0 and np.all(z.grad == 0)


@pytest.mark.parametrize("loss", LOSSES)
def test_nan_and_inf_propagate_without_crashing(loss):
    logits = np.zeros((1, 3, 4))
    logits[0, 0, 1] = np.nan
    logits[0, 1, 2] = np.inf
    logits[0, 2, 3] = -np.inf
    with np.errstate(all="raise"):
        grid = loss(logits, np.array([[0, 0, 0]]), np.ones((1, 3)),
                    average_across_timesteps=False, average_across_batch=False)
    assert np.isnan(grid.data[0, 0]) and np.isnan(grid.data[0, 1])
    assert grid.data[0, 2] == pytest.approx(np.log(3))


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_logits_stay_finite(loss, dtype):
    rng = np.random.default_rng(8)
    logits, targets, weights = random_case(rng, dtype=dtype)
    logits *= 1e4
    z = mg.Tensor(logits, requires_grad=True)
    out = loss(z, targets, weights)
    out.backward()
    assert np.isfinite(out.item()) and np.all(np.isfinite(z.grad))
    expected = reference(logits, targets, weights, 1, 1, 0, 0)
    assert out.item() == pytest.approx(float(expected), rel=1e-6 if dtype == np.float32 else 1e-12)
    ref = mg.Tensor(logits.astype(np.float64), requires_grad=True)
    mg.sequence_loss_composed(ref, targets, weights.astype(np.float64)).backward()
    np.testing.assert_allclose(z.grad, ref.grad, atol=1e-6 if dtype == np.float32 else 1e-15)


def test_dense_targets_rank3():
    rng = np.random.default_rng(9)
    logits, targets, weights = random_case(rng)
    onehot = np.eye(5)[targets]
    for f in LEGAL:
        dense = mg.sequence_loss(logits, onehot, weights, **flags(f))
        sparse = mg.sequence_loss(logits, targets, weights, **flags(f))
        np.testing.assert_array_equal(dense.data, sparse.data)
    soft = rng.dirichlet(np.ones(5), size=(3, 4))
    z = mg.Tensor(logits, requires_grad=True)
    y = mg.Tensor(soft, requires_grad=True)
    assert mg.gradcheck(lambda z, y: mg.sequence_loss(z, y, weights), z, y)


def test_custom_softmax_loss_function_gets_flat_inputs():
    rng = np.random.default_rng(10)
    logits, targets, weights = random_case(rng)
    seen = {}

    def my_loss(labels, logits):
        seen["shapes"] = (labels.shape, logits.shape)
        return mg.sparse_softmax_cross_entropy_with_logits(labels, logits) * 2.0

    out = mg.sequence_loss(logits, targets, weights, softmax_loss_function=my_loss)
    assert seen["shapes"] == ((12,), (12, 5))
    assert out.item() == pytest.approx(2 * mg.sequence_loss(logits, targets, weights).item())


def test_float32_in_float32_out_with_gradients():
    rng = np.random.default_rng(12)
    logits, targets, weights = random_case(rng, dtype=np.float32)
    z, w = mg.Tensor(logits, requires_grad=True), mg.Tensor(weights, requires_grad=True)
    out = mg.sequence_loss(z, targets, w)
    out.backward()
    assert out.dtype == z.grad.dtype == w.grad.dtype == np.float32


# -- properties (Hypothesis) ------------------------------------------------------

dims = st.tuples(st.integers(1, 4), st.integers(1, 5), st.integers(1, 6), st.integers(0, 2**31 - 1))


@settings(max_examples=40, deadline=None)
@given(dims)
def test_unit_weights_equal_mean_of_flattened_sparse_cross_entropy(d):
    b, t, v, seed = d
    rng = np.random.default_rng(seed)
    logits, targets = rng.normal(size=(b, t, v)) * 3, rng.integers(0, v, size=(b, t))
    flat = mg.sparse_softmax_cross_entropy_with_logits(targets.reshape(-1), logits.reshape(-1, v)).mean()
    assert mg.sequence_loss(logits, targets, np.ones((b, t))).item() == pytest.approx(flat.item(), rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(dims, st.floats(-50, 50))
def test_softmax_sums_to_one_and_is_shift_invariant(d, shift):
    b, t, v, seed = d
    x = np.random.default_rng(seed).normal(size=(b, t, v)) * 5
    p = mg.softmax(x).data
    np.testing.assert_allclose(p.sum(-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(mg.softmax(x + shift).data, p, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(np.exp(mg.log_softmax(x).data), p, rtol=1e-12)


@settings(max_examples=30, deadline=None)
@given(dims, st.floats(-10, 10))
def test_uniform_logits_give_log_v(d, c):
    b, t, v, seed = d
    targets = np.random.default_rng(seed).integers(0, v, size=(b, t))
    for loss in LOSSES:
        assert loss(np.full((b, t, v), c), targets, np.ones((b, t))).item() == pytest.approx(np.log(v), abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(dims)
def test_logsumexp_matches_numpy(d):
    b, t, v, seed = d
    x = np.random.default_rng(seed).normal(size=(b, t, v)) * 100
    m = x.max(-1)
    np.testing.assert_allclose(mg.logsumexp(x).data, m + np.log(np.exp(x - m[..., None]).sum(-1)), rtol=1e-12)
    assert mg.logsumexp(x, axis=0, keepdims=True).shape == (1, t, v)


def test_against_pytorch_when_available():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(13)
    logits, targets, weights = random_case(rng, b=4, t=6, v=7)
    z = mg.Tensor(logits, requires_grad=True)
    mg.sequence_loss(z, targets, weights).backward()
    tz = torch.tensor(logits, requires_grad=True)
    tw = torch.tensor(weights)
    ce = torch.nn.functional.cross_entropy(tz.reshape(-1, 7), torch.tensor(targets).reshape(-1), reduction="none")
    (ce * tw.reshape(-1)).sum().div(tw.sum()).backward()
    np.testing.assert_allclose(z.grad, tz.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_flags_may_be_0_or_1_as_in_tensorflow():
    # TensorFlow tests each flag for truth, so 0 and 1 (Python or NumPy integers) act as False and True
    logits, targets, weights = EXAMPLE2_LOGITS, EXAMPLE2_TARGETS, np.ones((2, 3))
    as_bool = mg.sequence_loss(logits, targets, weights, average_across_timesteps=False,
                               average_across_batch=True).numpy()
    as_int = mg.sequence_loss(logits, targets, weights, average_across_timesteps=np.int64(0),
                              average_across_batch=1).numpy()
    np.testing.assert_array_equal(as_int, as_bool)
    with pytest.raises(TypeError, match="sum_over_batch must be True or False"):
        mg.sequence_loss(logits, targets, weights, average_across_batch=False, sum_over_batch=2)
