"""Layers without time: ``Sequential``, ``Dropout``, ``LayerNorm`` and the
activations as modules.

They complete the PyTorch habits a first experiment needs
(``nn.Sequential(nn.Linear(...), nn.ReLU(), ...)``,
``model.train()``/``model.eval()``). :mod:`minigrad.nn` exports them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .checks import (
    boolean,
    float_dtype,
    generator,
    is_bool,
    is_int,
    positive_int,
)
from .module import Module
from .engine import Tensor, as_tensor

__all__ = ["Sequential", "Dropout", "LayerNorm", "ReLU", "Tanh", "Sigmoid"]


class Sequential(Module):
    """Modules called one after the other: ``Sequential(a, b, c)(x)`` is
    ``c(b(a(x)))``.

    The modules are children named ``"0"``, ``"1"``, ..., as in PyTorch, so
    the state dict's keys are ``0.weight``, ``2.bias``, ...; ``model[0]`` is
    the first module.
    """

    def __init__(self, *modules: Module) -> None:
        for i, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(
                    f"Sequential: argument {i} must be a Module, got "
                    f"{type(module).__name__}"
                )
            setattr(self, str(i), module)

    def __getitem__(self, index: int) -> Module:
        if not is_int(index) or not -len(self) <= index < len(self):
            raise IndexError(
                f"Sequential: index {index!r} is out of range for "
                f"{len(self)} modules"
            )
        module: Module = getattr(self, str(int(index) % len(self)))
        return module

    def __len__(self) -> int:
        return sum(1 for _ in self.named_children())

    def __iter__(self) -> Iterator[Module]:
        return (module for _, module in self.named_children())

    def forward(self, x: Any) -> Any:
        for module in self:
            x = module(x)
        return x


class Dropout(Module):
    """In training mode, zero each entry with probability ``p`` and scale the
    rest by ``1 / (1 - p)``.

    The expected value of every entry is unchanged. In evaluation mode (after
    :meth:`~minigrad.nn.Module.eval`) the input passes through unchanged, as
    in PyTorch.

    Parameters
    ----------
    p : float in [0, 1]
        The probability of dropping an entry.
    rng : numpy.random.Generator, int or None
        Source of the masks: a Generator, a seed, or None for fresh (not
        reproducible) entropy.
    """

    def __init__(self, p: float = 0.5, *, rng: Any = None) -> None:
        if is_bool(p) or not isinstance(
            p, (int, float, np.integer, np.floating)
        ):
            raise TypeError(f"Dropout: p must be a number, got {p!r}")
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        self.p = float(p)
        self.rng = generator(rng)

    def forward(self, x: Any) -> Tensor:
        """``x : [...]`` -> ``[...]``; the gradient flows through the kept
        entries, scaled alike.
        """
        x = as_tensor(x, name="x")
        if not self.training or self.p == 0.0:
            return x
        keep = self.rng.random(x.shape) >= self.p
        scale = (
            np.zeros(x.shape, x.dtype)
            if self.p == 1.0
            else (keep / (1.0 - self.p)).astype(x.dtype)
        )
        return x * scale

    def extra_repr(self) -> str:
        return f"p={self.p}"


class LayerNorm(Module):
    """Normalise over the last axes:
    ``(x - mean) / sqrt(var + eps) * weight + bias``, as PyTorch's.

    ``mean`` and the biased ``var`` are taken over the trailing
    ``normalized_shape`` axes.

    Parameters
    ----------
    normalized_shape : int or tuple of int
        The trailing shape ``S`` to normalise over.
    eps : float
        Added to the variance, > 0.
    elementwise_affine : bool
        Whether to learn ``weight`` (ones at first) and ``bias`` (zeros),
        each of shape ``S``.
    bias : bool
        Whether to learn ``bias`` (when ``elementwise_affine``).
    dtype : float dtype
    """

    def __init__(
        self,
        normalized_shape: Any,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        dtype: Any = np.float64,
    ) -> None:
        shape = (
            (normalized_shape,)
            if is_int(normalized_shape)
            else tuple(normalized_shape)
        )
        self.normalized_shape = tuple(
            positive_int("normalized_shape", n) for n in shape
        )
        if (
            is_bool(eps)
            or not isinstance(eps, (int, float, np.floating))
            or not eps > 0
        ):
            raise ValueError(
                f"LayerNorm: eps must be a positive number, got {eps!r}"
            )
        affine = boolean("LayerNorm: elementwise_affine", elementwise_affine)
        with_bias = boolean("LayerNorm: bias", bias)
        self.eps, dtype = float(eps), float_dtype(dtype)
        self.dtype = dtype
        shape = self.normalized_shape
        ones, zeros = np.ones(shape, dtype), np.zeros(shape, dtype)
        self.weight = Tensor(ones, requires_grad=True) if affine else None
        with_bias = affine and with_bias
        self.bias = Tensor(zeros, requires_grad=True) if with_bias else None

    def forward(self, x: Any) -> Tensor:
        """``x : [..., *S]`` -> the same shape."""
        x = as_tensor(x, name="x")
        k = len(self.normalized_shape)
        if x.shape[x.ndim - k :] != self.normalized_shape or x.ndim < k:
            raise ValueError(
                f"LayerNorm: x must end in shape {self.normalized_shape}, "
                f"got {x.shape}"
            )
        axes = tuple(range(x.ndim - k, x.ndim))
        centred = x - x.mean(axis=axes, keepdims=True)
        y = (
            centred
            / (
                (centred * centred).mean(axis=axes, keepdims=True) + self.eps
            ).sqrt()
        )
        if self.weight is not None:
            y = y * self.weight
        return y if self.bias is None else y + self.bias

    def extra_repr(self) -> str:
        affine = self.weight is not None
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={affine}"
        )


class ReLU(Module):
    """``max(x, 0)`` as a module (:meth:`minigrad.engine.Tensor.relu`)."""

    def forward(self, x: Any) -> Tensor:
        return as_tensor(x, name="x").relu()


class Tanh(Module):
    """``tanh(x)`` as a module."""

    def forward(self, x: Any) -> Tensor:
        return as_tensor(x, name="x").tanh()


class Sigmoid(Module):
    """``1 / (1 + exp(-x))`` as a module
    (:func:`minigrad.functional.sigmoid`).
    """

    def forward(self, x: Any) -> Tensor:
        return as_tensor(x, name="x").sigmoid()
