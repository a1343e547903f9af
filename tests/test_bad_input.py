"""Bad input gets a ValueError or TypeError that names the argument and what was wrong."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import checks

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

    class Wrong(mg.engine.Primitive):
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
            mg.gradcheck(lambda x: mg.engine.apply(Wrong, x), x)
    finally:
        del mg.PRIMITIVES["WrongForTest"]


# -- every argument of every public function: a ValueError or TypeError that names it --------------

X = mg.Tensor(np.ones((2, 3)), requires_grad=True)
V = mg.Tensor(np.ones(3))
RNG = np.random.default_rng(0)


def _backward(grad):
    (X * 2).backward(grad)


CASES = {
    # the Tensor
    "Tensor data ragged": (lambda: mg.Tensor([[1.0, 2.0], [3.0]]), ValueError, "Tensor data is not a rectangular"),
    "Tensor data text": (lambda: mg.Tensor(["a"]), TypeError, "Tensor data must be numeric"),
    "Tensor data None": (lambda: mg.Tensor(None), TypeError, "Tensor data must be numeric"),
    "Tensor data complex": (lambda: mg.Tensor([1j]), TypeError, "Tensor data must be numeric.*complex"),
    "Tensor requires_grad": (lambda: mg.Tensor([1.0], requires_grad="yes"), TypeError, "requires_grad must be True or False"),
    "backward grad of None": (lambda: _backward([[None] * 3] * 2), TypeError, "grad must be numeric.*object"),
    "backward grad text": (lambda: _backward([["a"] * 3] * 2), TypeError, "grad must be numeric"),
    "backward grad ragged": (lambda: _backward([[1.0], [1.0, 2.0]]), ValueError, "grad is not a rectangular"),
    "backward grad shape": (lambda: _backward(np.ones(3)), ValueError, r"grad has shape \(3,\), expected \(2, 3\)"),
    "sum axis float": (lambda: X.sum(axis=1.0), TypeError, "axis must be an int or a tuple of ints"),
    "sum axis bool": (lambda: X.sum(axis=True), TypeError, "axis must be an int"),
    "sum axis range": (lambda: X.sum(axis=-3), ValueError, "axis -3 is out of range"),
    "sum axis repeated": (lambda: X.sum(axis=(1, -1)), ValueError, "axis .* repeats an axis"),
    "sum keepdims": (lambda: X.sum(keepdims="no"), TypeError, "keepdims must be True or False"),
    "mean axis": (lambda: X.mean(axis=(0, 2)), ValueError, "axis .* out of range"),
    "mean keepdims": (lambda: X.mean(keepdims=None), TypeError, "keepdims must be True or False"),
    "max axis": (lambda: X.max(axis="0"), TypeError, "axis must be an int"),
    "max keepdims": (lambda: X.max(keepdims=1), TypeError, "keepdims must be True or False"),
    "max of empty": (lambda: mg.Tensor(np.ones((0, 2))).max(axis=0), ValueError, r"max\(\) of an empty tensor"),
    "reshape shape float": (lambda: X.reshape(2.0, 3), TypeError, "shape must be ints"),
    "reshape shape size": (lambda: X.reshape(4, 2), ValueError, r"shape \(4, 2\) does not fit 6"),
    "reshape shape two -1": (lambda: X.reshape(-1, -1), ValueError, "shape .* at most one -1"),
    "reshape shape negative": (lambda: X.reshape(-2, -3), ValueError, "shape .* non-negative"),
    "transpose axes": (lambda: X.transpose(0, 0), ValueError, "axes .* repeats"),
    "transpose axes count": (lambda: X.transpose(1), ValueError, "axes must list each of the 2 axes"),
    "transpose axes type": (lambda: X.transpose(0.0, 1.0), TypeError, "axes must be an int or a tuple"),
    "take_along_axis indices": (lambda: X.take_along_axis([[0.5]], axis=1), TypeError, "indices must hold integers"),
    "take_along_axis indices rank": (lambda: X.take_along_axis([0], axis=1), ValueError, "indices must have as many"),
    "take_along_axis axis": (lambda: X.take_along_axis([[0]], axis=(0, 1)), TypeError, "axis must be an int"),
    "take_along_axis x": (lambda: mg.ops.take_along_axis("x", [[0]], 0), TypeError, "x must be"),
    "getitem index": (lambda: X[0, 5], ValueError, "index .* is invalid"),
    "getitem index ragged": (lambda: X[[[0], [0, 1]]], ValueError, "index is not a rectangular"),
    "item": (lambda: X.item(), ValueError, r"item\(\) needs a tensor with one element"),
    "bool": (lambda: bool(X), ValueError, r"bool\(\) needs a tensor with one element"),
    "float": (lambda: float(V), ValueError, r"float\(\) needs a tensor with one element"),
    "int of NaN": (lambda: int(mg.Tensor(np.nan)), ValueError, r"int\(\) of a tensor holding nan"),
    "index float": (lambda: [1, 2][mg.Tensor(1.0)], TypeError, "integer or bool tensor can be used as an index"),
    "len 0-d": (lambda: len(mg.Tensor(1.0)), TypeError, r"len\(\) of a 0-d tensor"),
    "iter 0-d": (lambda: iter(mg.Tensor(1.0)), TypeError, "iteration over a 0-d tensor"),
    "__array__ copy": (lambda: np.array(X, dtype=np.float32, copy=False), ValueError, "copy"),
    "comparison shapes": (lambda: X < np.ones(4), ValueError, r"<: shapes \(2, 3\) and \(4,\) do not broadcast"),
    "operator other": (lambda: X + "a", TypeError, "unsupported operand"),
    "matmul 0-d": (lambda: X @ 2.0, ValueError, "MatMul: both operands of @ need at least one dimension"),
    "matmul shapes": (lambda: X @ np.ones((2, 2)), ValueError, r"MatMul: x @ y needs the last dimension of x \(3\) to equal the second-to-last dimension of y \(2\)"),
    "matmul vector": (lambda: X @ np.ones(2), ValueError, r"the length of y \(2\)"),
    "as_tensor x": (lambda: mg.engine.as_tensor({"a": 1}), TypeError, "x must be numeric"),
    "as_tensor like": (lambda: mg.engine.as_tensor(1.0, like=np.ones(2)), TypeError, "like must be a Tensor or None"),
    "as_array value": (lambda: mg.checks.as_array("weights", [[1], [2, 3]]), ValueError, "weights is not a rectangular"),
    "apply primitive": (lambda: mg.engine.apply(np.add, X, X), TypeError, "primitive must be a Primitive subclass"),
    "apply argument": (lambda: mg.engine.apply(mg.ops.Add, X, "a"), TypeError, "argument 1 of Add must be numeric"),
    "unbroadcast grad": (lambda: mg.engine.unbroadcast("a", (2,)), TypeError, "grad must be numeric"),
    "unbroadcast shape": (lambda: mg.engine.unbroadcast(np.ones((2, 3)), (4, 3)), ValueError, r"shape \(4, 3\) does not broadcast"),
    "toposort root": (lambda: mg.engine.toposort(np.ones(2)), TypeError, "root must be a Tensor"),
    "accumulate reduction": (lambda: mg.checks.accumulate("sum", np.ones(2)), TypeError, "reduction must be callable"),
    "accumulate x": (lambda: mg.checks.accumulate(np.sum, "x"), TypeError, "x must be numeric"),
    # minigrad.ops
    "power base": (lambda: mg.ops.power("2", V), TypeError, "base must be"),
    "power exponent": (lambda: mg.ops.power(V, None), TypeError, "exponent must be"),
    "power exponent negative integer": (lambda: mg.ops.power(2, mg.Tensor([-1])), ValueError, "exponent: an integer base"),
    "** exponent negative integer": (lambda: mg.Tensor([1, 2]) ** -1, ValueError, "exponent: an integer base"),
    "** exponent text": (lambda: X ** "2", TypeError, "exponent must be a Tensor, an array or a number"),
    "getitem x": (lambda: mg.ops.getitem([1.0, "a"], 0), TypeError, "x must be numeric"),
    "where condition": (lambda: mg.where([1, 0, 1], V, V), TypeError, "condition must be boolean"),
    "where x": (lambda: mg.where([True], "a", V), TypeError, "x must be"),
    "where y": (lambda: mg.where([True], V, None), TypeError, "y must be"),
    "where shapes": (lambda: mg.where([True, False], V, V), ValueError, r"condition \(2,\), x \(3,\) and y \(3,\) do not broadcast"),
    "concatenate tensors": (lambda: mg.concatenate(V), TypeError, "concatenate: tensors must be a list or tuple"),
    "concatenate tensors empty": (lambda: mg.concatenate([]), ValueError, "concatenate needs at least one tensor"),
    "concatenate tensors item": (lambda: mg.concatenate([V, None]), TypeError, r"tensors\[1\] must be"),
    "concatenate tensors shapes": (lambda: mg.concatenate([X, V]), ValueError, r"tensors\[1\] has shape \(3,\)"),
    "concatenate tensors 0-d": (lambda: mg.concatenate([mg.Tensor(1.0)]), ValueError, "at least one dimension"),
    "concatenate axis": (lambda: mg.concatenate([X, X], axis=2), ValueError, "axis 2 is out of range"),
    "stack tensors": (lambda: mg.stack([X, V]), ValueError, "stack needs tensors of one shape"),
    "stack axis": (lambda: mg.stack([V, V], axis=1.5), TypeError, "axis must be an int"),
    "divide_no_nan x": (lambda: mg.divide_no_nan("a", V), TypeError, "x must be"),
    "divide_no_nan y": (lambda: mg.divide_no_nan(V, [[1.0], [2.0, 3.0]]), ValueError, "y is not a rectangular"),
    "normalize_axis axis": (lambda: mg.checks.normalize_axis([0.5], 2), TypeError, "axis must be an int"),
    "normalize_axis ndim": (lambda: mg.checks.normalize_axis(0, -1), ValueError, "ndim must be a non-negative int"),
    "normalize_axis name": (lambda: mg.checks.normalize_axis(5, 2, name="dim"), ValueError, "dim 5 is out of range"),
    "one_axis axis": (lambda: mg.checks.one_axis(None, 2), TypeError, "axis must be an int"),
    "one_axis ndim": (lambda: mg.checks.one_axis(0, "2"), TypeError, "ndim must be a non-negative int"),
    "normalize_permutation axes": (lambda: mg.checks.normalize_permutation((0,), 2), ValueError, "axes must list each"),
    "normalize_permutation ndim": (lambda: mg.checks.normalize_permutation((0,), None), TypeError, "ndim must be"),
    "normalize_shape shape": (lambda: mg.checks.normalize_shape((2, "3"), 6), TypeError, "shape must be ints"),
    "normalize_shape size": (lambda: mg.checks.normalize_shape((2, 3), -6), ValueError, "size must be a non-negative int"),
    "reduction_params axis": (lambda: mg.checks.reduction_params(3, False, 2), ValueError, "axis 3 is out of range"),
    "reduction_params keepdims": (lambda: mg.checks.reduction_params(None, "yes", 2), TypeError, "keepdims must be True"),
    "reduction_params ndim": (lambda: mg.checks.reduction_params(None, False, 2.0), TypeError, "ndim must be"),
    # minigrad.functional
    "logsumexp x": (lambda: mg.logsumexp("abc"), TypeError, "x must be numeric"),
    "logsumexp axis": (lambda: mg.logsumexp(X, axis=(0, 1)), TypeError, "axis must be an int"),
    "logsumexp keepdims": (lambda: mg.logsumexp(X, keepdims="no"), TypeError, "keepdims must be True or False"),
    "softmax x": (lambda: mg.softmax(np.ones(3, int)), TypeError, "x must be floating point"),
    "softmax axis": (lambda: mg.softmax(X, axis=2), ValueError, "axis 2 is out of range"),
    "log_softmax x": (lambda: mg.log_softmax([[1.0], [1.0, 2.0]]), ValueError, "x is not a rectangular"),
    "log_softmax axis": (lambda: mg.log_softmax(X, axis=None), TypeError, "axis must be an int"),
    "dense labels": (lambda: mg.softmax_cross_entropy_with_logits([[0.5], [0.5, 1.0]], X), ValueError, "labels is not a rectangular"),
    "dense labels dtype": (lambda: mg.softmax_cross_entropy_with_logits(np.ones((2, 3), np.float32), X), TypeError, "labels has dtype float32"),
    "dense logits": (lambda: mg.softmax_cross_entropy_with_logits(np.ones((2, 3)), "z"), TypeError, "logits must be numeric"),
    "dense axis": (lambda: mg.softmax_cross_entropy_with_logits(np.ones((2, 3)), X, axis=1.0), TypeError, "axis must be an int"),
    "sparse labels ragged": (lambda: mg.sparse_softmax_cross_entropy_with_logits([[0], [0, 1]], X), ValueError, "labels is not a rectangular"),
    "sparse labels range": (lambda: mg.sparse_softmax_cross_entropy_with_logits([0, 3], X), ValueError, "labels contains class id 3"),
    "sparse logits": (lambda: mg.sparse_softmax_cross_entropy_with_logits([0], 1.0), ValueError, "logits must have at least one dimension"),
    "float_array x": (lambda: checks.float_array("weights", np.array(["a"])), TypeError, "weights must be numeric"),
    "float_array dtype": (lambda: checks.float_array("weights", np.ones(2), dtype=np.float32), TypeError, "weights has dtype float64 but must have dtype float32"),
    "float_array name": (lambda: checks.float_array(3, np.ones(2)), TypeError, "name must be a string"),
    "class_ids labels": (lambda: checks.class_ids("targets", [0.5], (1,), 3), TypeError, "targets must be integer class ids"),
    "class_ids shape": (lambda: checks.class_ids("targets", [0, 1], (3,), 3), ValueError, r"targets has shape \(2,\), expected \(3,\)"),
    "class_ids num_classes": (lambda: checks.class_ids("targets", [0, 1], (2,), 1), ValueError, r"targets contains class id 1, outside \[0, 1\)"),
    "class_ids name": (lambda: checks.class_ids(None, [0], (1,), 1), TypeError, "name must be a string"),
    # minigrad.losses (the rank, shape and dtype cases are in test_bad_arguments above)
    "sequence_loss targets ragged": (lambda: mg.sequence_loss(Z, [[0, 1, 2], [0]], W), ValueError, "targets is not a rectangular"),
    "sequence_loss weights ragged": (lambda: mg.sequence_loss(Z, T, [[1.0, 1.0, 1.0], [1.0]]), ValueError, "weights is not a rectangular"),
    "sequence_loss logits ragged": (lambda: mg.sequence_loss([[[0.0]], [[0.0, 1.0]]], T, W), ValueError, "logits is not a rectangular"),
    "sequence_loss average_across_timesteps": (lambda: mg.sequence_loss(Z, T, W, average_across_timesteps="no"), TypeError, "average_across_timesteps must be True or False"),
    "sequence_loss average_across_batch": (lambda: mg.sequence_loss(Z, T, W, average_across_batch=None), TypeError, "average_across_batch must be True or False"),
    "sequence_loss sum_over_timesteps": (lambda: mg.sequence_loss(Z, T, W, sum_over_timesteps=2), TypeError, "sum_over_timesteps must be True or False"),
    "sequence_loss sum_over_batch": (lambda: mg.sequence_loss(Z, T, W, sum_over_batch="yes"), TypeError, "sum_over_batch must be True or False"),
    # minigrad.gradcheck
    "gradcheck f": (lambda: mg.gradcheck("f", X), TypeError, "f must be callable"),
    "gradcheck tensors": (lambda: mg.gradcheck(lambda x: x, V), ValueError, "requires_grad=True"),
    "gradcheck eps": (lambda: mg.gradcheck(lambda x: x, X, eps=0), ValueError, "eps must be"),
    "gradcheck atol": (lambda: mg.gradcheck(lambda x: x, X, atol=-1.0), ValueError, "atol must be"),
    "gradcheck rtol": (lambda: mg.gradcheck(lambda x: x, X, rtol="0"), TypeError, "rtol must be a number"),
    "gradcheck seed": (lambda: mg.gradcheck(lambda x: x, X, seed=0.5), TypeError, "seed must be an int"),
    "gradcheck f result": (lambda: mg.gradcheck(lambda x: "out", X), TypeError, "f must return"),
    # minigrad.nn
    "named_parameters prefix": (lambda: list(mg.nn.Linear(2, 2, rng=RNG).named_parameters(prefix=3)), TypeError, "prefix must be a string"),
    "Embedding num_embeddings": (lambda: mg.nn.Embedding(0, 2, rng=RNG), ValueError, "num_embeddings must be a positive integer"),
    "Embedding embedding_dim": (lambda: mg.nn.Embedding(2, 2.5, rng=RNG), ValueError, "embedding_dim must be a positive integer"),
    "Embedding rng": (lambda: mg.nn.Embedding(2, 2, rng=0.5), TypeError, "rng must be a numpy.random.Generator"),
    "Embedding dtype": (lambda: mg.nn.Embedding(2, 2, rng=RNG, dtype=int), TypeError, "dtype must be a floating-point type"),
    "Embedding dtype unknown": (lambda: mg.nn.Embedding(2, 2, rng=RNG, dtype="not a type"), TypeError, "dtype must be a floating-point type"),
    "Embedding ids": (lambda: mg.nn.Embedding(2, 2, rng=RNG)([0.5]), TypeError, "ids must be integers"),
    "Embedding ids ragged": (lambda: mg.nn.Embedding(2, 2, rng=RNG)([[0], [0, 1]]), ValueError, "ids is not a rectangular"),
    "Linear in_features": (lambda: mg.nn.Linear(-1, 2, rng=RNG), ValueError, "in_features must be a positive integer"),
    "Linear out_features": (lambda: mg.nn.Linear(2, True, rng=RNG), ValueError, "out_features must be a positive integer"),
    "Linear bias": (lambda: mg.nn.Linear(2, 2, bias="yes", rng=RNG), TypeError, "bias must be True or False"),
    "Linear rng": (lambda: mg.nn.Linear(2, 2, rng=[0]), TypeError, "rng must be"),
    "Linear dtype": (lambda: mg.nn.Linear(2, 2, rng=RNG, dtype=np.int32), TypeError, "dtype must be"),
    "Linear x": (lambda: mg.nn.Linear(2, 2, rng=RNG)(np.ones(3)), ValueError, "x must have last dimension 2"),
    "Linear x text": (lambda: mg.nn.Linear(2, 2, rng=RNG)(["a", "b"]), TypeError, "x must be numeric"),
    "sigmoid x": (lambda: mg.functional.sigmoid("x"), TypeError, "x must be"),
    "RNNCell input_size": (lambda: mg.nn.RNNCell(0, 2, rng=RNG), ValueError, "input_size must be a positive integer"),
    "RNNCell hidden_size": (lambda: mg.nn.RNNCell(2, "2", rng=RNG), ValueError, "hidden_size must be a positive integer"),
    "RNNCell rng": (lambda: mg.nn.RNNCell(2, 2, rng=np.random.RandomState(0)), TypeError, "rng must be"),
    "RNNCell dtype": (lambda: mg.nn.RNNCell(2, 2, rng=RNG, dtype=bool), TypeError, "dtype must be"),
    "RNNCell x": (lambda: mg.nn.RNNCell(2, 3, rng=RNG)(np.ones((1, 3)), np.ones((1, 3))), ValueError, "x must have last dimension 2"),
    "RNNCell h": (lambda: mg.nn.RNNCell(2, 3, rng=RNG)(np.ones((1, 2)), np.ones((1, 2))), ValueError, "h must have last dimension 3"),
    "RNNCell x and h": (lambda: mg.nn.RNNCell(2, 3, rng=RNG)(np.ones((2, 2)), np.ones((1, 3))), ValueError, "x .* and h .* must agree"),
    "GRUCell input_size": (lambda: mg.nn.GRUCell(1.0, 2, rng=RNG), ValueError, "input_size must be a positive integer"),
    "GRUCell hidden_size": (lambda: mg.nn.GRUCell(2, 0, rng=RNG), ValueError, "hidden_size must be a positive integer"),
    "GRUCell rng": (lambda: mg.nn.GRUCell(2, 2, rng="seed"), TypeError, "rng must be"),
    "GRUCell dtype": (lambda: mg.nn.GRUCell(2, 2, rng=RNG, dtype="int64"), TypeError, "dtype must be"),
    "GRUCell x": (lambda: mg.nn.GRUCell(2, 3, rng=RNG)(mg.Tensor(np.ones((1, 2), np.float32)), np.ones((1, 3))), TypeError, "x has dtype float32"),
    "GRUCell h": (lambda: mg.nn.GRUCell(2, 3, rng=RNG)(np.ones((1, 2)), [["a"] * 3]), TypeError, "h must be numeric"),
    "unroll cell": (lambda: mg.nn.unroll("cell", mg.Tensor(np.ones((1, 2, 2))), np.ones((1, 2))), TypeError, "cell must be callable"),
    "unroll inputs": (lambda: mg.nn.unroll(mg.nn.RNNCell(2, 2, rng=RNG), np.ones((1, 2, 2)), np.ones((1, 2))), ValueError, "inputs must be a .* Tensor"),
    "unroll no time steps": (lambda: mg.nn.unroll(mg.nn.RNNCell(2, 2, rng=RNG), mg.Tensor(np.ones((1, 0, 2))), np.ones(2)), ValueError, "has no time steps"),
    "unroll mask": (lambda: mg.nn.unroll(mg.nn.RNNCell(2, 2, rng=RNG), mg.Tensor(np.ones((1, 2, 2))), np.ones((1, 2)), mask=np.ones((1, 2))), ValueError, "mask must be a boolean array"),
    "sequence_mask lengths": (lambda: mg.nn.sequence_mask([1.5]), TypeError, "lengths must be integers"),
    "sequence_mask lengths negative": (lambda: mg.nn.sequence_mask([-1]), ValueError, "lengths must be >= 0"),
    "sequence_mask lengths ragged": (lambda: mg.nn.sequence_mask([[1], [1, 2]]), ValueError, "lengths is not a rectangular"),
    "sequence_mask maxlen": (lambda: mg.nn.sequence_mask([1], maxlen=2.0), ValueError, "maxlen must be a non-negative integer"),
    "sequence_mask dtype": (lambda: mg.nn.sequence_mask([1], dtype="no such type"), TypeError, "dtype must be"),
    # minigrad.optim
    "Optimizer params": (lambda: mg.optim.Optimizer(3, lr=0.1), TypeError, "params must be a Tensor or an iterable"),
    "Optimizer lr": (lambda: mg.optim.Optimizer([X], lr=-1), ValueError, "lr must be in"),
    "SGD params non-leaf": (lambda: mg.optim.SGD([X * 2], lr=0.1), ValueError, r"params\[0\] is not a leaf tensor"),
    "SGD params text": (lambda: mg.optim.SGD("params", lr=0.1), TypeError, "params must be a Tensor or an iterable"),
    "SGD lr": (lambda: mg.optim.SGD([X], lr=None), TypeError, "lr must be a number"),
    "SGD momentum": (lambda: mg.optim.SGD([X], lr=0.1, momentum=-0.5), ValueError, "momentum must be in"),
    "Adam params": (lambda: mg.optim.Adam([V]), TypeError, r"params\[0\] must be a Tensor with requires_grad=True"),
    "Adam lr": (lambda: mg.optim.Adam([X], lr=float("nan")), ValueError, "lr must be in"),
    "Adam betas": (lambda: mg.optim.Adam([X], betas=0.9), TypeError, "betas must be a pair"),
    "Adam eps": (lambda: mg.optim.Adam([X], eps="1e-8"), TypeError, "eps must be a number"),
    "clip_grad_norm params": (lambda: mg.optim.clip_grad_norm(None, 1.0), TypeError, "params must be a Tensor or an iterable"),
    "clip_grad_norm max_norm": (lambda: mg.optim.clip_grad_norm([X], -1.0), ValueError, "max_norm must be in"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_argument_is_named_in_its_error(case):
    call, error, message = CASES[case]
    with pytest.raises(error, match=message):
        call()
