"""Bad input gets a ValueError or TypeError that names the argument and what was wrong."""

import numpy as np
import pytest

import minigrad as mg

LOSSES = [mg.sequence_loss, mg.sequence_loss_composed]
Z = np.zeros((2, 3, 4))
T = np.zeros((2, 3), dtype=np.int64)
W = np.ones((2, 3))


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("args,error,message", [
    ((np.zeros((6, 4)), T, W), ValueError, r"logits must be .*rank 3.*\(6, 4\)"),
    ((Z, np.zeros(6, int), W), ValueError, r"targets must be .*\(6,\)"),
    ((Z, T, np.ones(6)), ValueError, r"weights must be .*rank 2.*got rank 1"),
    ((Z, np.zeros((2, 4), int), W), ValueError, r"targets has shape \(2, 4\), expected \(2, 3\)"),
    ((Z, np.zeros((3, 3), int), W), ValueError, r"targets has shape \(3, 3\)"),
    ((Z, T, np.ones((2, 4))), ValueError, r"weights has shape \(2, 4\), expected \(2, 3\)"),
    ((Z, np.zeros((2, 3, 5)), W), ValueError, r"rank-3 targets must have the shape of logits"),
    ((Z, np.zeros((2, 3)), W), TypeError, r"targets must be integer class ids, got dtype float64"),
    ((Z, np.array([[0, 1, 4], [0, 0, 0]]), W), ValueError, r"class id 4, outside \[0, 4\).*V=4"),
    ((Z, np.array([[0, -1, 0], [0, 0, 0]]), W), ValueError, r"class id -1"),
    ((Z.astype(np.float32), T, W), TypeError, r"weights has dtype float64 but must have dtype float32"),
    ((np.zeros((2, 3, 4), int), T, W), TypeError, r"logits must be floating point, got dtype int64"),
    ((Z, T, np.array([["a", "b", "c"]] * 2)), TypeError, r"weights must be floating point|weights must be numeric|numeric"),
])
def test_bad_arguments(loss, args, error, message):
    with pytest.raises(error, match=message):
        loss(*args)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("pair", [("average_across_timesteps", "sum_over_timesteps"),
                                  ("average_across_batch", "sum_over_batch"),
                                  ("average_across_batch", "sum_over_timesteps"),
                                  ("sum_over_batch", "average_across_timesteps")])
def test_contradictory_flags(loss, pair):
    kwargs = {"average_across_timesteps": False, "average_across_batch": False, pair[0]: True, pair[1]: True}
    with pytest.raises(ValueError, match=f"{pair[0]} and {pair[1]} cannot both be True"):
        loss(Z, T, W, **kwargs)


@pytest.mark.parametrize("loss", LOSSES)
def test_non_callable_softmax_loss_function(loss):
    with pytest.raises(TypeError, match="softmax_loss_function must be callable.*str"):
        loss(Z, T, W, softmax_loss_function="sparse")


def test_softmax_loss_function_with_wrong_output_shape():
    with pytest.raises(ValueError, match=r"one loss per token, shape \(6,\)"):
        mg.sequence_loss(Z, T, W, softmax_loss_function=lambda labels, logits: logits.sum())


def test_integer_and_boolean_masks_and_lists_are_cast_to_the_logits_dtype():
    z = Z.astype(np.float32)
    for w in (np.ones((2, 3), dtype=bool), np.ones((2, 3), dtype=np.int32), [[1, 1, 1], [1, 1, 1]]):
        out = mg.sequence_loss(z, T, w)
        assert out.dtype == np.float32 and out.item() == pytest.approx(np.log(4))


def test_nothing_half_changed_after_an_error():
    z = mg.Tensor(Z.copy(), requires_grad=True)
    with pytest.raises(ValueError):
        mg.sequence_loss(z, np.array([[0, 9, 0], [0, 0, 0]]), W)
    assert z.grad is None and np.all(z.data == 0)


def test_cross_entropy_bad_input():
    with pytest.raises(ValueError, match=r"labels has shape \(3,\), expected \(2,\)"):
        mg.sparse_softmax_cross_entropy_with_logits(np.zeros(3, int), np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"class id 7"):
        mg.sparse_softmax_cross_entropy_with_logits(np.array([0, 7]), np.zeros((2, 4)))
    with pytest.raises(TypeError, match="integer class ids"):
        mg.sparse_softmax_cross_entropy_with_logits(np.zeros(2), np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"labels has shape \(2, 3\) but logits has shape \(2, 4\)"):
        mg.softmax_cross_entropy_with_logits(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="at least one dimension"):
        mg.softmax(mg.Tensor(1.0))
    with pytest.raises(ValueError, match="out of range"):
        mg.log_softmax(np.zeros((2, 3)), axis=2)


def test_gradcheck_needs_a_tensor_and_reports_the_mismatch():
    with pytest.raises(ValueError, match="requires_grad=True"):
        mg.gradcheck(lambda x: x, np.ones(2))

    class Wrong(mg.Primitive):
        name = "WrongForTest"

        @staticmethod
        def forward(x):
            return x * x

        @staticmethod
        def vjp(g, ans, x):
            return (g * x,)  # missing the factor 2

    try:
        x = mg.Tensor([1.0, 2.0], requires_grad=True)
        with pytest.raises(mg.GradcheckError, match=r"index \(0,\)"):
            mg.gradcheck(lambda x: mg.tensor.apply(Wrong, x), x)
    finally:
        del mg.PRIMITIVES["WrongForTest"]
