"""Optimizers that update parameters from their ``.grad``: SGD with momentum,
Adam, and clipping.

An optimizer works on the NumPy arrays directly (``p.data``, ``p.grad``): an
update is not part of any graph, and needs no ``no_grad()``. Updates happen
in place and keep each parameter's dtype. A parameter whose ``grad`` is None
(no gradient reached it) is left alone, as in PyTorch.

>>> import numpy as np, minigrad as mg, minigrad.optim as optim
>>> w = mg.Tensor(np.array([1.0, -2.0]), requires_grad=True)
>>> opt = optim.SGD([w], lr=0.1)
>>> (w * w).sum().backward()       # grad = 2 w
>>> opt.step(); opt.zero_grad()
>>> w.data
array([ 0.8, -1.6])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .checks import boolean
from .engine import Tensor

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "clip_grad_norm",
    "StepLR",
    "LambdaLR",
]


def _check_params(params: Any, who: str) -> list[Tensor]:
    """``params`` as a list of distinct leaf tensors.

    As in PyTorch, ``params`` is an iterable of Tensors, or of
    ``(name, Tensor)`` pairs such as ``model.named_parameters()``; a single
    Tensor is one parameter (optimizers refuse it, as PyTorch's do).
    """
    if isinstance(params, Tensor):
        params = [params]
    elif isinstance(params, (str, bytes, np.ndarray)) or not hasattr(
        params, "__iter__"
    ):
        raise TypeError(
            f"{who}: params must be a Tensor or an iterable of Tensors such "
            "as model.parameters(), "
            f"got {type(params).__name__}"
        )
    params = [
        p[1]
        if isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str)
        else p
        for p in params
    ]
    if not params:
        raise ValueError(f"{who}: params is empty; pass model.parameters()")
    seen = set()
    for i, p in enumerate(params):
        if not isinstance(p, Tensor) or not p.requires_grad:
            raise TypeError(
                f"{who}: params[{i}] must be a Tensor with "
                "requires_grad=True, "
                f"got {type(p).__name__}"
            )
        if p._node is not None:
            raise ValueError(
                f"{who}: params[{i}] is not a leaf tensor: it was computed "
                "from other tensors, "
                "so backward() never stores a gradient in it; pass the "
                "tensors you created"
            )
        if id(p) in seen:
            raise ValueError(f"{who}: params[{i}] appears twice in params")
        seen.add(id(p))
    return params


def _check_number(
    who: str,
    name: str,
    value: Any,
    low: float,
    high: float | None = None,
    low_ok: bool = True,
) -> float:
    """``value`` as a float in ``[low, high)`` (or ``(low, high)`` when
    ``low_ok`` is False).
    """
    if isinstance(value, bool) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise TypeError(
            f"{who}: {name} must be a number, got {type(value).__name__}"
        )
    value = float(value)
    if not (value >= low if low_ok else value > low) or (
        high is not None and not value < high
    ):
        opening = "[" if low_ok else "("
        interval = f"{opening}{low}, {'inf' if high is None else high})"
        raise ValueError(f"{who}: {name} must be in {interval}, got {value}")
    return value


class Optimizer:
    """Holds the parameters; subclasses define :meth:`step`.

    Parameters
    ----------
    params : iterable of Tensor
        The leaf tensors to update, each with ``requires_grad=True``, e.g.
        ``model.parameters()`` (a single Tensor is a TypeError, as in
        PyTorch: pass ``[t]``).
    lr : float
        Learning rate, > 0.
    """

    def __init__(self, params: Any, lr: float) -> None:
        who = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(
                f"{who}: params must be an iterable of Tensors such as "
                "model.parameters(), got a single Tensor; pass [t]"
            )
        self.params = _check_params(params, who)
        self.lr = _check_number(who, "lr", lr, 0.0, low_ok=False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of all parameters: set them to None
        (PyTorch's default), or to zeros.
        """
        boolean("set_to_none", set_to_none)
        for p in self.params:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad = np.zeros_like(p.data)

    def _settings(self) -> dict[str, Any]:
        """The hyperparameters shown by ``repr`` (subclasses add theirs)."""
        return {"lr": self.lr}

    def __repr__(self) -> str:
        settings = ", ".join(
            f"{k}={v!r}" for k, v in self._settings().items()
        )
        n = len(self.params)
        plural = "s" if n != 1 else ""
        return f"{type(self).__name__}({n} parameter{plural}, {settings})"

    def step(self) -> None:  # pragma: no cover - interface
        """Update every parameter from its gradient."""
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent with optional (heavy-ball) momentum, as
    PyTorch's ``optim.SGD``. The letters are those of PyTorch 2.13's
    ``torch.optim.SGD`` page (not the book's notation), with the learning
    rate written as its argument ``lr``:

    .. math::

        b_t = \\mu\\, b_{t-1} + g_t \\quad (b_1 = g_1), \\qquad
        \\theta_t = \\theta_{t-1} - \\mathrm{lr}\\, b_t

    With ``momentum=0`` this is plain ``theta -= lr * grad``.

    Parameters
    ----------
    params : iterable of Tensor
    lr : float
        Learning rate.
    momentum : float
        ``mu`` in ``[0, 1)``.
    """

    def __init__(
        self, params: Any, lr: float, momentum: float = 0.0
    ) -> None:
        super().__init__(params, lr)
        self.momentum = _check_number("SGD", "momentum", momentum, 0.0, 1.0)
        # b_t per parameter, created at its first step
        self.buffers: list[np.ndarray | None] = [None] * len(self.params)

    def _settings(self) -> dict[str, Any]:
        return {"lr": self.lr, "momentum": self.momentum}

    def step(self) -> None:
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            update = p.grad
            if self.momentum:
                buffer = self.buffers[i]
                if buffer is None:
                    buffer = self.buffers[i] = np.array(
                        p.grad, dtype=p.dtype
                    )
                else:
                    buffer *= self.momentum
                    buffer += p.grad
                update = buffer
            p.data -= self.lr * update


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015, Algorithm 1), as PyTorch's ``optim.Adam``
    without weight decay. The letters are those of PyTorch 2.13's
    ``torch.optim.Adam`` page (not the book's notation), with the learning
    rate and the small constant written as their arguments ``lr`` and
    ``eps``.

    For each parameter, at step ``t = 1, 2, ...``:

    .. math::

        m_t &= \\beta_1 m_{t-1} + (1 - \\beta_1)\\, g_t \\\\
        v_t &= \\beta_2 v_{t-1} + (1 - \\beta_2)\\, g_t^2 \\\\
        \\hat m_t &= m_t / (1 - \\beta_1^t), \\qquad
            \\hat v_t = v_t / (1 - \\beta_2^t) \\\\
        \\theta_t &= \\theta_{t-1}
            - \\mathrm{lr}\\, \\hat m_t / (\\sqrt{\\hat v_t} + \\mathrm{eps})

    with ``m_0 = v_0 = 0``. ``t`` counts the steps in which that parameter
    had a gradient (``steps[i]``), as in PyTorch: a parameter first updated
    at the tenth call of :meth:`step` gets the bias correction of ``t = 1``.

    Parameters
    ----------
    params : iterable of Tensor
    lr : float
        Step size.
    betas : (float, float)
        Decay rates ``beta_1, beta_2`` of the moment estimates, each in
        ``[0, 1)``.
    eps : float
        The small constant added to the denominator, >= 0.
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(
                f"Adam: betas must be a pair (beta1, beta2), got {betas!r}"
            )
        self.betas = tuple(
            _check_number("Adam", f"betas[{i}]", b, 0.0, 1.0)
            for i, b in enumerate(betas)
        )
        self.eps = _check_number("Adam", "eps", eps, 0.0)
        self.steps = [0] * len(self.params)  # t of each parameter
        self.m = [np.zeros_like(p.data) for p in self.params]
        self.v = [np.zeros_like(p.data) for p in self.params]

    def _settings(self) -> dict[str, Any]:
        return {"lr": self.lr, "betas": self.betas, "eps": self.eps}

    def step(self) -> None:
        beta1, beta2 = self.betas
        for i, (p, m, v) in enumerate(zip(self.params, self.m, self.v)):
            if p.grad is None:
                continue
            self.steps[i] += 1
            t = self.steps[i]
            g = p.grad
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * (g * g)
            p.data -= (
                self.lr
                * (m / (1 - beta1**t))
                / (np.sqrt(v / (1 - beta2**t)) + self.eps)
            )


def clip_grad_norm(params: Any, max_norm: float) -> float:
    """Scale all gradients together so that their global norm is at most
    ``max_norm``.

    The global norm is ``sqrt(sum over parameters of sum(grad ** 2))``. When
    it exceeds ``max_norm``, every gradient is multiplied by
    ``max_norm / norm`` (in place), so the direction of the full gradient is
    kept -- TensorFlow's ``tf.clip_by_global_norm``. Parameters without a
    gradient are skipped.

    Parameters
    ----------
    params : Tensor or iterable of Tensor
    max_norm : float
        The largest allowed norm, > 0.

    Returns
    -------
    float
        The global norm before clipping (useful to log).
    """
    max_norm = _check_number(
        "clip_grad_norm", "max_norm", max_norm, 0.0, low_ok=False
    )
    grads = [
        p.grad
        for p in _check_params(params, "clip_grad_norm")
        if p.grad is not None
    ]
    norm = float(
        np.sqrt(
            sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads)
        )
    )
    if not norm <= max_norm:
        # also a NaN norm: every gradient becomes NaN, as in PyTorch and
        # TensorFlow
        with np.errstate(all="ignore"):
            # inf * 0 is NaN, silently, as in PyTorch
            for g in grads:
                g *= max_norm / norm
    return norm


# -- learning-rate schedules: each call of step() sets optimizer.lr for the n


class _Schedule:
    def __init__(self, optimizer: Optimizer, who: str) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{who}: optimizer must be an Optimizer, got "
                f"{type(optimizer).__name__}"
            )
        self.optimizer, self.base_lr, self.last_epoch = (
            optimizer,
            optimizer.lr,
            0,
        )

    def lr_at(self, epoch: int) -> float:  # pragma: no cover - interface
        raise NotImplementedError

    def step(self) -> None:
        """Count one epoch and set the optimizer's ``lr`` for the next one
        (call it after ``optimizer.step()``).
        """
        self.last_epoch += 1
        self.optimizer.lr = self.lr_at(self.last_epoch)

    def get_last_lr(self) -> list[float]:
        """The current learning rate, in a list as PyTorch returns it (one
        per parameter group).
        """
        return [self.optimizer.lr]


class StepLR(_Schedule):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs, as
    PyTorch's ``StepLR``. ``gamma`` is the name of PyTorch's argument, not
    the book's symbol.

    After epoch ``e`` (counted by ``step()``),
    ``lr = base_lr * gamma ** (e // step_size)``.

    Parameters
    ----------
    optimizer : Optimizer
    step_size : int
        Epochs between two decays, >= 1.
    gamma : float
        The factor, > 0.
    """

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1
    ) -> None:
        super().__init__(optimizer, "StepLR")
        if (
            isinstance(step_size, bool)
            or not isinstance(step_size, (int, np.integer))
            or step_size < 1
        ):
            raise ValueError(
                "StepLR: step_size must be a positive int, got "
                f"{step_size!r}"
            )
        self.step_size = int(step_size)
        self.gamma = _check_number(
            "StepLR", "gamma", gamma, 0.0, low_ok=False
        )

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class LambdaLR(_Schedule):
    """``lr = base_lr * lr_lambda(epoch)``, as PyTorch's ``LambdaLR``.

    Parameters
    ----------
    optimizer : Optimizer
    lr_lambda : callable
        Takes the epoch (an int >= 0) and returns a factor.
    """

    def __init__(
        self, optimizer: Optimizer, lr_lambda: Callable[[int], float]
    ) -> None:
        super().__init__(optimizer, "LambdaLR")
        if not callable(lr_lambda):
            raise TypeError(
                "LambdaLR: lr_lambda must be callable, got "
                f"{type(lr_lambda).__name__}"
            )
        self.lr_lambda = lr_lambda
        # PyTorch applies the factor of epoch 0 at once
        optimizer.lr = self.lr_at(0)

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * float(self.lr_lambda(epoch))
