"""Checking gradients against central finite differences."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .checks import integer
from .engine import Tensor, as_tensor, no_grad

__all__ = [
    "gradcheck",
    "GradcheckError",
    "analytic_gradients",
    "central_differences",
]


class GradcheckError(AssertionError):
    """Raised by :func:`gradcheck` when an analytic gradient disagrees with
    finite differences.
    """


def gradcheck(
    f: Callable[..., Any],
    *tensors: Any,
    eps: float = 1e-6,
    atol: float = 1e-6,
    rtol: float = 1e-5,
    seed: int = 0,
) -> bool:
    """Compare the gradients autodiff gives with central differences, on
    every entry.

    A non-scalar output is first projected to a scalar
    ``sum(f(*tensors) * u)`` with a fixed random ``u`` (a scalar output
    is used as it is), so one backward pass gives the gradient of every
    input entry. Each entry ``x_i`` is then nudged by ``+-eps``:
    ``(f(x + eps e_i) - f(x - eps e_i)) / (2 eps)`` must match the
    analytic gradient within ``atol + rtol * |numeric|``. The inputs
    checked must be float64: in float32 the differences are dominated by
    round-off (a TypeError says so).

    Parameters
    ----------
    f : callable
        Takes ``*tensors`` and returns a Tensor.
    *tensors : Tensor
        Arguments of ``f``; those with ``requires_grad=True`` are
        checked.
    eps, atol, rtol : float
        Step and tolerances.
    seed : int
        Seed of the random projection.

    Returns
    -------
    bool
        True when every entry agrees.

    Raises
    ------
    GradcheckError
        Naming the input, the entry and both values of the worst
        mismatch.
    """
    inputs = _checked_inputs(f, tensors, eps, atol, rtol, seed)
    out = f(*tensors)
    if not isinstance(out, Tensor):
        raise TypeError(f"f must return a Tensor, got {type(out).__name__}")
    # a scalar output is checked as it is, so an error message quotes the
    # numbers x.grad holds
    u = (
        np.ones((), out.dtype)
        if out.ndim == 0
        else np.random.default_rng(seed)
        .standard_normal(out.shape)
        .astype(out.dtype)
    )

    analytic = analytic_gradients(out, u, inputs)
    position = {
        id(t): i for i, t in enumerate(tensors) if isinstance(t, Tensor)
    }
    for t, grad in zip(inputs, analytic):
        for i, numeric in enumerate(
            central_differences(f, tensors, t, u, eps)
        ):
            exact = float(grad.reshape(-1)[i])
            if not abs(exact - numeric) <= atol + rtol * abs(numeric):
                index = np.unravel_index(i, t.shape) if t.shape else ()
                raise GradcheckError(
                    f"gradient of argument {position[id(t)]} (shape "
                    f"{t.shape}) at index {tuple(map(int, index))}: "
                    f"autodiff gives {exact!r}, central differences give "
                    f"{numeric!r}"
                )
    return True


def analytic_gradients(
    out: Tensor, u: np.ndarray, inputs: list[Tensor]
) -> list[np.ndarray]:
    """The gradient of ``sum(out * u)`` for every tensor of ``inputs``: one
    backward pass.

    The inputs' own ``.grad`` are left as they were.
    """
    saved = [t.grad for t in inputs]
    for t in inputs:
        t.grad = None
    (out * u).sum().backward()
    analytic = [
        np.zeros_like(t.data) if t.grad is None else t.grad for t in inputs
    ]
    for t, g in zip(inputs, saved):
        t.grad = g
    return analytic


def central_differences(
    f: Callable[..., Any],
    tensors: tuple[Any, ...],
    t: Tensor,
    u: np.ndarray,
    eps: float,
) -> Iterator[float]:
    """``(F(x + eps e_i) - F(x - eps e_i)) / (2 eps)`` for each entry ``i``
    of ``t`` in turn, ``F = sum(f * u)``.

    Each entry is nudged in place and put back before the next one.
    """

    def projected() -> float:
        with no_grad():
            return float(np.sum(as_tensor(f(*tensors)).data * u))

    flat = t.data.reshape(-1)
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + eps
        plus = projected()
        flat[i] = original - eps
        minus = projected()
        flat[i] = original
        yield (plus - minus) / (2 * eps)


def _tolerance(name: str, value: Any, zero_ok: bool) -> None:
    """``value`` is a finite real number, > 0 (or >= 0 when ``zero_ok``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be a number, got {type(value).__name__}"
        )
    number = float(value)  # a numbers.Real, checked above
    if not (number >= 0 if zero_ok else number > 0) or not np.isfinite(
        number
    ):
        raise ValueError(
            f"{name} must be {'>= 0' if zero_ok else '> 0'} and finite, "
            f"got {value}"
        )


def _checked_inputs(
    f: Any,
    tensors: tuple[Any, ...],
    eps: Any,
    atol: Any,
    rtol: Any,
    seed: Any,
) -> list[Tensor]:
    """Check the arguments of :func:`gradcheck`; return the tensors to check,
    their memory ready to nudge.
    """
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    _tolerance("eps", eps, zero_ok=False)
    _tolerance("atol", atol, zero_ok=True)
    _tolerance("rtol", rtol, zero_ok=True)
    integer("seed", seed)
    inputs = [
        t for t in tensors if isinstance(t, Tensor) and t.requires_grad
    ]
    if not inputs:
        raise ValueError(
            "gradcheck needs at least one Tensor argument with "
            "requires_grad=True"
        )
    for i, t in enumerate(tensors):
        checked = isinstance(t, Tensor) and t.requires_grad
        if checked and t.dtype != np.float64:
            raise TypeError(
                f"gradcheck: argument {i} has dtype {t.dtype}, in which "
                "central differences are dominated by round-off and "
                "cannot pass; use float64 inputs"
            )
    for t in inputs:
        if not t.data.flags.c_contiguous or not t.data.flags.writeable:
            t.data = np.array(t.data)  # we nudge entries in place
    return inputs
