"""The last edges a PyTorch user meets: integer tensors with Python numbers, warnings, cells without a
state, Module's signatures, decorators and misuse. Where minigrad follows NumPy instead of PyTorch, the
test says so and checks NumPy's answer (book/api.md lists these differences)."""

import operator
import sys
import warnings

import numpy as np
import pytest
import torch
from compare_helpers import assert_close, compare_grads, covers, pair

import minigrad as mg
from minigrad import nn, optim

# -- integer tensors and Python numbers ------------------------------------------------------------

INTS = [np.bool_, np.int8, np.uint8, np.int16, np.int32, np.int64]
ARITHMETIC = {"+": operator.add, "-": operator.sub, "*": operator.mul, "**": operator.pow,
              "<": operator.lt, "==": operator.eq, ">=": operator.ge}


def quietly(f):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return f()


@pytest.mark.parametrize(("dtype", "symbol"), [(d, s) for d in INTS for s in ARITHMETIC
                                               if not (d == np.bool_ and s in ("-", "**"))])
@pytest.mark.parametrize("number", [0, 1, 3, 100])
@pytest.mark.parametrize("number_first", [False, True], ids=["tensor-number", "number-tensor"])
def test_an_int_number_keeps_the_integer_dtype(dtype, symbol, number, number_first):
    """`int32 + 1` is int32 and `uint8 + 100` wraps in uint8, in PyTorch and NumPy 2 (NEP 50). (A bool
    tensor with `-` or `**`: PyTorch refuses both, NumPy refuses `-` only; tests/test_numpy_promotion.py
    checks every dtype, operator and Python number, bools too, against NumPy.)"""
    values = np.array([0, 1, 2, 5] if dtype != np.bool_ else [False, True, True, False], dtype)
    op = ARITHMETIC[symbol]

    def run(tensor):
        return op(number, tensor) if number_first else op(tensor, number)

    ours, theirs = quietly(lambda: run(mg.Tensor(values))), run(torch.tensor(values))
    assert ours.dtype == theirs.numpy().dtype == run(values).dtype
    np.testing.assert_array_equal(ours.data, theirs.numpy())


def test_the_integer_cases_of_the_issue():
    assert quietly(lambda: mg.Tensor(np.array([1, 2], np.int32)) + 1).dtype == np.int32
    ours = quietly(lambda: mg.Tensor(np.array([250, 3], np.uint8)) + 10)
    theirs = torch.tensor([250, 3], dtype=torch.uint8) + 10
    assert ours.dtype == np.uint8 and ours.tolist() == theirs.tolist() == [4, 13]


def test_where_numpy_and_pytorch_differ_minigrad_is_numpy():
    """Out of range, PyTorch wraps the number and NumPy 2 raises OverflowError (comparisons: exact).
    A float result of integers is float64 in NumPy, float32 (PyTorch's default dtype) in PyTorch."""
    u8 = np.array([250, 3], np.uint8)
    assert (torch.tensor(u8) + 300).tolist() == [38, 47]
    for f in (lambda a: a + 300, lambda a: a - (-1), lambda a: 256 * a):
        with pytest.raises(OverflowError, match="out of bounds for uint8"):
            f(u8)
        with pytest.raises(OverflowError, match="out of bounds for uint8"):
            f(mg.Tensor(u8))
    assert (torch.tensor(u8) < -1).tolist() == [True, True]  # -1 wrapped to 255
    assert (mg.Tensor(u8) < -1).tolist() == (u8 < -1).tolist() == [False, False]
    i32 = np.array([1, 3], np.int32)
    for f in (lambda a: a / 2, lambda a: a * 1.5, lambda a: 2 ** -1.0 + a):
        ours, theirs = f(mg.Tensor(i32)), f(torch.tensor(i32))
        assert theirs.dtype == torch.float32 and ours.dtype == f(i32).dtype == np.float64
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-7)
    # a division by a number beyond the dtype's range is no overflow: NumPy divides integers in float64
    assert (mg.Tensor(u8) / 1000).tolist() == (u8 / 1000).tolist()
    np.testing.assert_allclose((mg.Tensor(u8) / 1000).data, (torch.tensor(u8) / 1000).numpy(), rtol=1e-7)


# -- no warning escapes ----------------------------------------------------------------------------

@pytest.mark.parametrize(("dtype", "f"), [
    (np.float32, lambda t: t * 1e300), (np.float16, lambda t: t + 70000.0), (np.float16, lambda t: 70000 - t),
    (np.float32, lambda t: t < 1e300), (np.float16, lambda t: t == -1e10),
])
def test_python_numbers_beyond_a_float_range_are_inf_silently(dtype, f):
    values = np.array([0.5, -2.0, 0.0], dtype)
    x, tx = mg.Tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    ours, theirs = quietly(lambda: f(x)), f(tx)
    assert ours.dtype == theirs.detach().numpy().dtype
    np.testing.assert_array_equal(ours.data, theirs.detach().numpy())
    if ours.requires_grad:
        quietly(lambda: ours.sum().backward())


ROUNDED_FIRST = {  # name: (dtype, minigrad, NumPy)
    "/ 1e-5": (np.float16, lambda t: t / 1e-5, lambda a: a / 1e-5),
    "* 1e10": (np.float16, lambda t: t * 1e10, lambda a: a * 1e10),
    "- 1e39": (np.float32, lambda t: t - 1e39, lambda a: a - 1e39),
    "clip": (np.float32, lambda t: t.clip(-1e300, 1e300), lambda a: np.clip(a, -1e300, 1e300)),
    "where": (np.float16, lambda t: mg.where(t > 0, t, 1e5), lambda a: np.where(a > 0, a, 1e5)),
}


@pytest.mark.parametrize("name", ROUNDED_FIRST)
def test_a_python_number_is_rounded_to_the_tensors_dtype_first_as_numpy_does(name):
    """NumPy rounds the number to float16 first (1e-5 to 1.0014e-05, 1e10 to inf); PyTorch computes
    with it in float32 or refuses it (clamp to 1e300 in float32); minigrad is NumPy, silently."""
    dtype, ours, numpy = ROUNDED_FIRST[name]
    values = np.array([0.5, -2.0, 0.0], dtype)
    with np.errstate(all="ignore"):
        expected = np.asarray(numpy(values))
    out = quietly(lambda: ours(mg.Tensor(values, requires_grad=True)))
    assert out.dtype == expected.dtype
    np.testing.assert_array_equal(out.data, expected)
    quietly(lambda: out.sum().backward())


# -- recurrent cells start from zeros --------------------------------------------------------------

CELLS = {"RNNCell": (nn.RNNCell, torch.nn.RNNCell), "GRUCell": (nn.GRUCell, torch.nn.GRUCell),
         "LSTMCell": (nn.LSTMCell, torch.nn.LSTMCell)}


@pytest.mark.parametrize("name", CELLS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("x_shape", [(4, 3), (3,)], ids=["batch", "unbatched"])
def test_a_cell_without_a_state_starts_from_zeros(name, dtype, x_shape):
    ours_cls, theirs_cls = CELLS[name]
    cell, tcell = ours_cls(3, 5, rng=0, dtype=dtype), theirs_cls(3, 5).to(getattr(torch, np.dtype(dtype).name))
    tcell.load_state_dict({k: torch.from_numpy(v) for k, v in cell.state_dict().items()})
    x, tx = pair(np.random.default_rng(1).standard_normal(x_shape).astype(dtype))
    out, tout = cell(x), tcell(tx)
    zeros = np.zeros(x_shape[:-1] + (5,), dtype)
    explicit = cell(x, (zeros, zeros) if name == "LSTMCell" else zeros)
    if name == "LSTMCell":
        (out, c), (tout, tc), (explicit, _) = out, tout, explicit
        assert_close(c, tc, what="c")
    assert_close(out, tout)
    np.testing.assert_array_equal(out.data, explicit.data)
    compare_grads([(x, tx)], (out, tout))


# -- Module's signatures, as PyTorch's -------------------------------------------------------------

def twin_models():
    """The same nesting in both: keys and names can be compared one to one."""
    ours = nn.Sequential(nn.Linear(3, 4, rng=0), nn.Tanh(), nn.Sequential(nn.Linear(4, 2, rng=1)))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(),
                                 torch.nn.Sequential(torch.nn.Linear(4, 2)))
    return ours, theirs


@covers("Module.named_parameters", "Module.parameters", "Module.named_modules", "Module.modules",
        "Module.children", "Module.named_children", "Module.state_dict")
@pytest.mark.parametrize("prefix", ["", "enc", "model.enc"])
def test_module_names_and_prefixes_are_pytorchs(prefix):
    ours, theirs = twin_models()
    for recurse in (True, False):
        assert ([n for n, _ in ours.named_parameters(prefix=prefix, recurse=recurse)]
                == [n for n, _ in theirs.named_parameters(prefix=prefix, recurse=recurse)])
        assert len(ours.parameters(recurse=recurse)) == len(list(theirs.parameters(recurse=recurse)))
    assert [n for n, _ in ours.named_parameters(prefix)] == [n for n, _ in theirs.named_parameters(prefix)]
    assert [n for n, _ in ours[0].named_parameters(prefix, False)] == [n for n, _ in theirs[0].named_parameters(
        prefix, False)]
    assert [n for n, _ in ours.named_modules(prefix=prefix)] == [n for n, _ in theirs.named_modules(prefix=prefix)]
    assert [type(m).__name__ for m in ours.modules()] == [type(m).__name__ for m in theirs.modules()]
    assert [type(m).__name__ for m in ours.children()] == [type(m).__name__ for m in theirs.children()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    dot = prefix + "." if prefix else ""
    assert list(ours.state_dict(prefix=dot)) == list(theirs.state_dict(prefix=dot))


def test_shared_parameters_and_modules_once_unless_asked():
    shared = nn.Linear(2, 2, rng=0)
    tshared = torch.nn.Linear(2, 2)
    ours, theirs = nn.Sequential(shared, shared), torch.nn.Sequential(tshared, tshared)
    for remove in (True, False):
        assert ([n for n, _ in ours.named_parameters(remove_duplicate=remove)]
                == [n for n, _ in theirs.named_parameters(remove_duplicate=remove)])
        assert ([n for n, _ in ours.named_modules(remove_duplicate=remove)]
                == [n for n, _ in theirs.named_modules(remove_duplicate=remove)])


@pytest.mark.parametrize(("call", "message"), [
    (lambda m: list(m.named_parameters(prefix=3)), "prefix must be a string"),
    (lambda m: list(m.named_parameters(recurse=1)), "recurse must be True or False"),
    (lambda m: list(m.named_parameters(remove_duplicate="no")), "remove_duplicate must be True or False"),
    (lambda m: m.parameters(recurse=None), "recurse must be True or False"),
    (lambda m: list(m.named_modules(prefix=None)), "prefix must be a string"),
    (lambda m: m.state_dict(prefix=1), "prefix must be a string"),
])
def test_module_arguments_are_checked(call, message):
    with pytest.raises(TypeError, match=message):
        call(nn.Linear(2, 2, rng=0))


# -- decorators and misuse, as PyTorch answers them ------------------------------------------------

@covers("no_grad")
def test_no_grad_decorates_with_and_without_parentheses():
    for module, tensor in ((mg, mg.Tensor([1.0], requires_grad=True)), (torch, torch.ones(1, requires_grad=True))):
        @module.no_grad
        def bare(x):
            """Doubles x."""
            return x * 2

        @module.no_grad()
        def called(x):
            return x * 2

        for f in (bare, called):
            assert not f(tensor).requires_grad
            assert module.is_grad_enabled()  # and restored afterwards
        assert bare.__name__ == "bare" and bare.__doc__ == "Doubles x."
        assert (tensor * 2).requires_grad
        with module.no_grad():
            assert not (tensor * 2).requires_grad


def test_no_grad_restores_the_mode_after_an_exception_and_nests():
    @mg.no_grad
    def fails():
        raise KeyError("inside")

    with pytest.raises(KeyError):
        fails()
    assert mg.is_grad_enabled()
    with mg.no_grad():
        with mg.no_grad():
            pass
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()


@covers("SGD", "Adam")
@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_an_optimizer_refuses_a_single_tensor_like_pytorch(name):
    p, tp = pair(np.array([1.0, -2.0]))
    with pytest.raises(TypeError, match="iterable of Tensors"):
        getattr(torch.optim, name)(tp, lr=0.1)
    with pytest.raises(TypeError, match=rf"{name}: params must be an iterable of Tensors.*got a single Tensor.*\[t"):
        getattr(optim, name)(p, lr=0.1)
    getattr(optim, name)([p], lr=0.1)  # a list of one is fine


def test_clip_grad_norm_takes_a_single_tensor_like_pytorch():
    p, tp = pair(np.array([3.0, 4.0]))
    p.grad, tp.grad = np.array([3.0, 4.0]), torch.tensor([3.0, 4.0], dtype=torch.float64)
    assert optim.clip_grad_norm(p, 1.0) == pytest.approx(torch.nn.utils.clip_grad_norm_(tp, 1.0).item())
    assert_close(p.grad, tp.grad, dtype=np.float32)  # PyTorch divides by norm + 1e-6


NUMPY_FUNCTIONS = {
    "sum": lambda a: np.sum(a), "sum axis": lambda a: np.sum(a, axis=0, keepdims=True),
    "mean": lambda a: np.mean(a), "mean dtype": lambda a: np.mean(a, axis=1, dtype=np.float32),
    "max": lambda a: np.max(a), "min axis": lambda a: np.min(a, axis=-1), "prod": lambda a: np.prod(a),
    "argmax": lambda a: np.argmax(a, axis=0), "transpose": lambda a: np.transpose(a),
    "reshape": lambda a: np.reshape(a, (3, 2)), "clip": lambda a: np.clip(a, 0.0, 1.0),
    "round": lambda a: np.round(a, 1), "concatenate": lambda a: np.concatenate([a, a]),
    "allclose": lambda a: np.allclose(a, a), "where": lambda a: np.where(a > 0.5, a, 0.0),
    "sum out": lambda a: np.sum(a, out=np.empty(())),
}


@covers("Tensor.__array_function__")
@pytest.mark.parametrize("name", NUMPY_FUNCTIONS)
def test_numpy_functions_see_a_tensor_as_its_array(name):
    """np.sum(t) is np.sum(t.data), as for any array-like: a NumPy result, outside the graph.
    (PyTorch: np.sum(t) is a TypeError about `axis`.)"""
    values = np.random.default_rng(0).random((2, 3)).astype(np.float32)
    f = NUMPY_FUNCTIONS[name]
    with pytest.raises(TypeError):
        np.sum(torch.tensor(values))
    ours, expected = f(mg.Tensor(values, requires_grad=True)), f(values)
    assert type(ours) is type(expected)
    np.testing.assert_array_equal(ours, expected, strict=True)


@covers("gradcheck")
@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_gradcheck_says_that_only_float64_can_pass(dtype):
    """PyTorch's gradcheck warns that float32 "will likely fail", then reports a Jacobian mismatch;
    minigrad refuses float16 and float32 inputs with a TypeError that says why."""
    x, tx = pair(np.ones(2, dtype))
    with pytest.raises(sys.modules["torch.autograd.gradcheck"].GradcheckError), \
            pytest.warns(UserWarning, match="not of double precision"):
        torch.autograd.gradcheck(lambda t: t * t, (tx.detach().float().requires_grad_(),))
    with pytest.raises(TypeError, match=rf"argument 1 has dtype {np.dtype(dtype).name}.*float64"):
        mg.gradcheck(lambda a, b: a * b, mg.Tensor(np.ones(2), requires_grad=True), x)


@covers("unroll")
def test_unroll_refuses_zero_time_steps_like_pytorchs_recurrent_layers():
    x, tx = pair(np.zeros((2, 0, 3)))
    with pytest.raises(RuntimeError, match="sequence length to be larger than 0"):
        torch.nn.RNN(3, 4, batch_first=True).double()(tx)
    with pytest.raises(ValueError, match=r"unroll: inputs of shape \(2, 0, 3\) has no time steps \(axis 1"):
        nn.unroll(nn.RNNCell(3, 4, rng=0), x, np.zeros((2, 4)))
