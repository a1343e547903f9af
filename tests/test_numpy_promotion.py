"""A Tensor and a Python number, against NumPy 2 on the same array: every dtype, every operator, both
orders. NumPy 2 treats a Python number as "weak" (NEP 50): it takes the array's dtype unless its kind
is wider, so `uint8 + 10` stays uint8 (and wraps) and `int32 + 1` stays int32. The result's dtype and
values, and the exception where NumPy raises one, must be NumPy's; and no warning escapes (NumPy's
"overflow encountered in cast" is one, for `float16 + 70000.0`)."""

import operator
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg

DTYPES = [np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64,
          np.float16, np.float32, np.float64]

OPERATORS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
             "**": operator.pow, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
             "==": operator.eq, "!=": operator.ne}
#: NumPy's own result for an operator. An ndarray's ``**`` sends the exponent 2 to ``np.square``, so
#: ``bool_array ** 2`` is int8 there; ``np.power`` (and PyTorch 2.13) give int64. minigrad's ``**`` is
#: ``np.power`` for every exponent (the API page says so).
NUMPY_OPERATORS = {**OPERATORS, "**": np.power}

#: Python numbers: small ones, the edges of every integer dtype (in range for some, out of it for
#: others), and floats beyond float16's and float32's range, with inf and NaN.
INT_EDGES = sorted({s * 2 ** b + d for b in (7, 8, 15, 16, 31, 32, 63, 64) for s in (1, -1) for d in (-1, 0)})
numbers = st.one_of(st.booleans(), st.integers(-3, 300), st.sampled_from(INT_EDGES),
                    st.floats(-10, 10), st.sampled_from([0.5, -0.0, 7e4, -7e4, 1e39, 1e300, np.inf, np.nan]))


def small_values(dtype):
    """Entries of ``dtype`` small enough that `**` stays quick; negatives where the dtype has them."""
    if dtype == np.bool_:
        return st.booleans()
    if np.dtype(dtype).kind == "f":
        return st.floats(-4, 4, width=np.finfo(dtype).bits)
    info = np.iinfo(dtype)
    return st.integers(max(info.min, -5), min(info.max, 250))


def outcome(f):
    """(result, None), or (None, the exception's type); a warning is an error here."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return f(), None
        except (ArithmeticError, ValueError, TypeError) as exc:
            # minigrad's IndexOutOfRange and its messages add a prefix; the class decides
            return None, type(exc)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("symbol", OPERATORS)
@settings(max_examples=30, deadline=None)
@given(data=st.data(), number=numbers, number_first=st.booleans())
def test_python_numbers_follow_numpy(dtype, symbol, data, number, number_first):
    values = data.draw(hnp.arrays(dtype, hnp.array_shapes(min_dims=0, max_dims=2, max_side=3),
                                  elements=small_values(dtype)))
    op = OPERATORS[symbol]
    args = (lambda a: (number, a)) if number_first else (lambda a: (a, number))
    with np.errstate(all="ignore"):  # NumPy's own result, without its warnings
        expected, numpy_error = outcome(lambda: NUMPY_OPERATORS[symbol](*args(values.copy())))
    ours, our_error = outcome(lambda: op(*args(mg.Tensor(values.copy()))))
    if numpy_error is not None:
        assert our_error is not None and issubclass(our_error, numpy_error), (our_error, numpy_error)
        return
    assert our_error is None, f"minigrad raised {our_error.__name__} where NumPy gives {expected!r}"
    expected = np.asarray(expected)
    assert isinstance(ours, mg.Tensor)
    assert ours.dtype == expected.dtype, f"{values.dtype} {symbol} {number!r}: {ours.dtype}, NumPy {expected.dtype}"
    np.testing.assert_array_equal(ours.data, expected, strict=True)


@pytest.mark.parametrize(("make", "expected"), [
    (lambda: mg.Tensor(np.array([1, 2], np.int32)) + 1, np.array([2, 3], np.int32)),
    (lambda: mg.Tensor(np.array([250, 3], np.uint8)) + 10, np.array([4, 13], np.uint8)),
    (lambda: mg.Tensor(np.array([True, False])) + 1, np.array([2, 1])),
    (lambda: 2 ** mg.Tensor(np.array([3], np.int16)), np.array([8], np.int16)),
    (lambda: mg.Tensor(np.array([True, False])) ** 2, np.array([1, 0])),
    (lambda: mg.Tensor(np.ones(2, np.float32)) * 1e300, np.full(2, np.inf, np.float32)),
    (lambda: mg.Tensor(np.ones(2, np.float16)) + 70000.0, np.full(2, np.inf, np.float16)),
    (lambda: mg.Tensor(np.ones(2, np.float16)) - 70000, np.full(2, -np.inf, np.float16)),
    (lambda: mg.Tensor(np.array([1, 200], np.uint8)) < -1, np.array([False, False])),
    (lambda: mg.Tensor(np.ones(2, np.float16)) < 1e300, np.array([True, True])),
    (lambda: mg.where(np.array([True, False]), mg.Tensor(np.ones(2, np.float16)), 1e10),
     np.array([1, np.inf], np.float16)),
])
def test_the_cases_of_the_issue_silently(make, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = make()
    np.testing.assert_array_equal(out.data, expected, strict=True)


def test_a_number_out_of_an_integer_range_is_numpys_overflow_error():
    with pytest.raises(OverflowError, match="Python integer 300 out of bounds for uint8"):
        mg.Tensor(np.array([1], np.uint8)) + 300
    assert 1000 not in mg.Tensor(np.array([1, 2], np.uint8))  # a comparison is exact, as in NumPy


def test_gradients_keep_the_float_dtype_with_python_numbers():
    x = mg.Tensor(np.array([1.0, 2.0], np.float16), requires_grad=True)
    y = (x * 3 + 2.5) / 2 - True
    assert y.dtype == np.float16
    y.sum().backward()
    assert x.grad.dtype == np.float16 and x.grad.tolist() == [1.5, 1.5]
