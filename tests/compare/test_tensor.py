"""The Tensor's protocols and engine against PyTorch's: conversion to Python and NumPy, comparisons,
iteration, grad mode per thread, accumulation of gradients, detach, item."""

import threading

import numpy as np
import pytest
import torch
from compare_helpers import FLOATS, SETTINGS, arrays, assert_close, compare_grads, covers, pair, shapes
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg

COMPARISONS = {"<": lambda p, q: p < q, "<=": lambda p, q: p <= q, ">": lambda p, q: p > q,
               ">=": lambda p, q: p >= q, "==": lambda p, q: p == q, "!=": lambda p, q: p != q}


@covers("Tensor.__lt__", "Tensor.__le__", "Tensor.__gt__", "Tensor.__ge__", "Tensor.__eq__", "Tensor.__ne__")
@pytest.mark.parametrize("symbol", sorted(COMPARISONS))
@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(FLOATS),
       shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=0, max_side=3),
       number=st.sampled_from([0.0, -1.0, 0.1, np.inf, np.nan]))
def test_comparisons_give_bool_tensors_without_gradient(symbol, data, dtype, shapes, number):
    f = COMPARISONS[symbol]
    x = data.draw(arrays(dtype, shapes.input_shapes[0]))
    y = data.draw(arrays(dtype, shapes.input_shapes[1]))
    (a, b), (c, d) = pair(x), pair(y)
    for out, tout in ((f(a, c), f(b, d)), (f(a, number), f(b, number)), (f(number, a), f(number, b)),
                      (f(a, y), f(b, torch.tensor(y)))):
        assert isinstance(out, mg.Tensor) and not out.requires_grad and not tout.requires_grad
        assert_close(out, tout, what=symbol)
    assert_close(f(y, a), f(torch.tensor(y), b))  # a NumPy array on the left defers to the Tensor


def test_equality_with_none_or_text_is_false_as_in_pytorch():
    a, b = pair(np.array([1.0, 2.0]))
    assert (a == None) is False and (b == None) is False  # noqa: E711
    assert (a != None) is True and (b != None) is True  # noqa: E711
    with pytest.raises(TypeError):
        a < None  # noqa: B015
    with pytest.raises(TypeError):
        b < None  # noqa: B015
    assert {a: 1}[a] == 1 and {b: 1}[b] == 1  # both hashable (by identity), although == is elementwise
    assert mg.Tensor([1.0, 2.0]) not in {a: 1} and torch.tensor([1.0, 2.0]) not in {b: 1}


@covers("Tensor.__bool__", "Tensor.__float__", "Tensor.__int__", "Tensor.__index__", "Tensor.item")
@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(FLOATS + [np.int64, np.int32, np.bool_]),
       shape=st.sampled_from([(), (1,), (1, 1), (2,), (0,), (2, 1)]))
def test_conversion_to_python_numbers(data, dtype, shape):
    if np.dtype(dtype).kind == "f":
        x = data.draw(arrays(dtype, shape))
    else:
        x = data.draw(hnp.arrays(dtype, shape))
    a, b = mg.Tensor(x), torch.tensor(x)
    for convert in (bool, float, int, lambda t: t.item(), lambda t: [0, 1, 2][t]):
        try:
            expected = convert(b)
        except (RuntimeError, ValueError, TypeError, OverflowError, IndexError):
            # PyTorch refuses: minigrad refuses too, with a ValueError or a TypeError
            with pytest.raises((ValueError, TypeError, IndexError)):
                convert(a)
            continue
        got = convert(a)
        assert type(got) is type(expected) and (got == expected or (got != got and expected != expected))


@covers("Tensor.__len__", "Tensor.__iter__")
@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(FLOATS), shape=shapes)
def test_len_and_iteration(data, dtype, shape):
    x = data.draw(arrays(dtype, shape))
    a, b = pair(x)
    if x.ndim == 0:  # both refuse, with a TypeError
        with pytest.raises(TypeError):
            len(b)
        with pytest.raises(TypeError):
            len(a)
        with pytest.raises(TypeError):
            iter(b)
        with pytest.raises(TypeError):
            iter(a)
        return
    assert len(a) == len(b)
    rows, trows = list(a), list(b)
    assert len(rows) == len(trows)
    for row, trow in zip(rows, trows):
        assert_close(row, trow)
    if rows:  # the rows are differentiable, as PyTorch's are
        out, tout = mg.stack(rows) * 2.0, torch.stack(trows) * 2.0
        compare_grads([(a, b)], (out, tout))


@covers("Tensor.__array__", "Tensor.numpy")
@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")  # huge float64 -> float32
@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy:DeprecationWarning")  # torch
@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(FLOATS), shape=shapes)
def test_numpy_array_protocol(data, dtype, shape):
    """NumPy 2's semantics, those of an ndarray: np.asarray shares memory, np.array copies, copy=False
    raises when a copy is needed. (PyTorch 2.13's __array__ still has NumPy 1's signature, so the
    reference here is a plain NumPy array; PyTorch's values must agree.)"""
    x = data.draw(arrays(dtype, shape))
    a, b = mg.Tensor(x.copy()), torch.tensor(x.copy())
    for convert in (np.asarray, np.array, lambda t: np.array(t, copy=None), lambda t: np.array(t, copy=False),
                    lambda t: np.asarray(t, dtype=np.float64), lambda t: np.array(t, dtype=np.float32, copy=None),
                    lambda t: np.array(t, dtype=np.float32, copy=False)):
        reference = x.copy()
        try:
            expected = convert(reference)
        except ValueError:
            with pytest.raises(ValueError):
                convert(a)
            continue
        got = convert(a)
        assert type(got) is np.ndarray and got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(got, np.asarray(b).astype(got.dtype))
        if x.size:  # memory is shared exactly when NumPy shares an array's memory
            assert np.shares_memory(got, a.data) == np.shares_memory(expected, reference)
    assert a.numpy() is a.data


@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy:DeprecationWarning")  # torch
def test_np_array_of_a_tensor_is_a_copy():
    """Regression (issue 10): writing to np.array(t) changed t."""
    a, b = mg.Tensor([1.0, 2.0]), torch.tensor([1.0, 2.0])
    copied, tcopied = np.array(a), np.array(b)
    copied[0], tcopied[0] = 9.0, 9.0
    assert a.data[0] == b[0].item() == 1.0


@covers("no_grad", "is_grad_enabled")
def test_grad_mode_is_per_thread():
    """Regression (issue 10): no_grad() in one thread stopped graph recording in every thread."""
    results = {}

    def record(name, module, tensor, entered, release):
        entered.wait()
        y = tensor * 2
        results[name] = (module.is_grad_enabled(), y.requires_grad)
        release.set()

    for name, module, tensor in (("minigrad", mg, mg.Tensor([1.0], requires_grad=True)),
                                 ("torch", torch, torch.tensor([1.0], requires_grad=True))):
        entered, release = threading.Event(), threading.Event()
        worker = threading.Thread(target=record, args=(name, module, tensor, entered, release))
        worker.start()
        with module.no_grad():
            entered.set()
            release.wait(timeout=60)
            inside = (tensor * 2).requires_grad, module.is_grad_enabled()
        worker.join()
        assert inside == (False, False)
    assert results["minigrad"] == results["torch"] == (True, True)


@covers("Tensor.backward", "backward", "Tensor.zero_grad", "Tensor.detach")
def test_gradients_accumulate_and_detach_cuts_the_graph():
    x = np.array([0.5, -1.0, 2.0])
    a, b = pair(x)
    for _ in range(2):  # accumulate over two backward passes, as PyTorch does
        (a * a).sum().backward()
        (b * b).sum().backward()
    assert_close(a.grad, b.grad)
    a.zero_grad()
    b.grad = None
    da, db = a.detach(), b.detach()
    assert not da.requires_grad and not db.requires_grad
    assert np.shares_memory(da.data, a.data) and np.shares_memory(db.numpy(), b.detach().numpy())  # no copy
    out, tout = a * da, b * db  # the detached factor is a constant
    compare_grads([(a, b)], (out, tout))


@covers("Tensor", "Tensor.shape", "Tensor.dtype", "Tensor.ndim", "Tensor.size", "Tensor.data", "Tensor.grad",
        "Tensor.requires_grad", "as_tensor")
@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(FLOATS + [np.int64, np.bool_]), shape=shapes)
def test_construction_and_attributes(data, dtype, shape):
    x = data.draw(hnp.arrays(dtype, shape))
    a, b = mg.Tensor(x), torch.tensor(x)
    assert a.shape == tuple(b.shape) and a.ndim == b.ndim and a.size == b.numel()
    assert a.dtype == b.numpy().dtype and a.grad is None and b.grad is None
    assert mg.engine.as_tensor(a) is a and mg.checks.as_array("x", a) is a.data
    assert_close(mg.engine.as_tensor(x), torch.as_tensor(x))
    # From Python lists minigrad follows NumPy (floats become float64); PyTorch makes float32.
    assert mg.engine.as_tensor(x.tolist()).dtype == np.asarray(x.tolist()).dtype
    if np.dtype(dtype).kind == "f":
        assert mg.Tensor(x, requires_grad=True).requires_grad == torch.tensor(x, requires_grad=True).requires_grad
    else:  # only floating-point tensors can require gradients, in both
        with pytest.raises(TypeError):
            mg.Tensor(x, requires_grad=True)
        with pytest.raises(RuntimeError):
            torch.tensor(x, requires_grad=True)


def test_a_python_number_takes_the_tensors_float_dtype():
    for dtype in FLOATS:
        a, b = pair(np.ones(2, dtype))
        assert mg.engine.as_tensor(0.1, like=a).dtype == dtype
        assert (a * 0.1).dtype == (b * 0.1).detach().numpy().dtype == dtype


@covers("Tensor.__contains__")
@SETTINGS
@given(data=st.data(), dtype=st.sampled_from(FLOATS), shape=shapes,
       value=st.sampled_from([0.0, 1.0, -1.0, np.inf, np.nan, 2.5]))
def test_in_is_elementwise(data, dtype, shape, value):
    """``value in t`` is ``(t == value).any()`` in PyTorch and NumPy, for a tensor of any rank."""
    x = data.draw(arrays(dtype, shape))
    assert (value in mg.Tensor(x)) == (value in torch.tensor(x)) == (value in x)
