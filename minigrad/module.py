"""The base class of layers and models: parameters, children, train/eval
mode, and the state dict.

A :class:`Module` finds its parameters and children by looking at its
attributes (as PyTorch's ``nn.Module`` does, without registration hooks), so
a model is a plain class. Its :meth:`~Module.state_dict` uses PyTorch's keys
and shapes, so weights move between minigrad and PyTorch::

    state = model.state_dict()
    torch_model.load_state_dict(
        {k: torch.from_numpy(v) for k, v in state.items()}
    )

    state = torch_model.state_dict()
    model.load_state_dict({k: v.detach().numpy() for k, v in state.items()})
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from .checks import as_array, boolean
from .engine import Tensor

__all__ = ["Module"]


def _check_str(name: str, value: Any) -> None:
    if not isinstance(value, str):
        raise TypeError(
            f"{name} must be a string, got {type(value).__name__}"
        )


def _check_flag(name: str, value: Any) -> None:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")


class Module:
    """Base class of the layers and of models built from them.

    Every attribute that is a Tensor with ``requires_grad=True`` is a
    parameter; every attribute that is a Module (or a list or tuple of
    Modules) is a child, whose parameters are named ``child.name``.
    Subclasses define ``forward``; calling the module calls it.

    Attributes
    ----------
    training : bool
        True (the default) in training mode, False after :meth:`eval`; only
        layers such as :class:`~minigrad.nn.Dropout` behave differently.
    """

    # a class attribute: a module is in training mode until train(False) or
    # eval()
    training = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover
        # interface
        raise NotImplementedError(
            f"{type(self).__name__} does not define forward()"
        )

    def named_parameters(
        self,
        prefix: str = "",
        recurse: bool = True,
        remove_duplicate: bool = True,
    ) -> Iterator[tuple[str, Tensor]]:
        """Yield ``(name, tensor)`` for every parameter, in attribute order,
        as PyTorch does.

        ``prefix`` starts every name (``"enc"`` gives ``enc.weight``);
        ``recurse=False`` gives this module's own parameters only; a tensor
        shared by two modules comes once unless ``remove_duplicate=False``.
        """
        _check_str("prefix", prefix)
        _check_flag("recurse", recurse)
        _check_flag("remove_duplicate", remove_duplicate)
        seen = set()
        for name, p in self._walk(prefix + "." if prefix else "", recurse):
            if not remove_duplicate or id(p) not in seen:
                seen.add(id(p))
                yield name, p

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Yield ``(name, module)`` for every direct child (``name.i`` for
        the items of a list).
        """
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, Module):
                        yield f"{name}.{i}", item

    def children(self) -> Iterator[Module]:
        """Yield every direct child (see :meth:`named_children`)."""
        return (module for _, module in self.named_children())

    def named_modules(
        self, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """Yield ``(name, module)`` for this module (named ``prefix``) and
        every module inside it, parents first, as PyTorch does; each module
        once unless ``remove_duplicate=False``.
        """
        _check_str("prefix", prefix)
        _check_flag("remove_duplicate", remove_duplicate)
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate and id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            stack.extend(
                (f"{name}.{child}" if name else child, m)
                for child, m in reversed(list(module.named_children()))
            )

    def modules(self) -> Iterator[Module]:
        """Yield this module and every module inside it (see
        :meth:`named_modules`).
        """
        return (module for _, module in self.named_modules())

    def _walk(
        self, prefix: str, recurse: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        for name, value in vars(self).items():
            if isinstance(value, Tensor) and value.requires_grad:
                yield prefix + name, value
            elif recurse and isinstance(value, Module):
                yield from value._walk(f"{prefix}{name}.")
            elif recurse and isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, Module):
                        yield from item._walk(f"{prefix}{name}.{i}.")

    def parameters(self, recurse: bool = True) -> list[Tensor]:
        """Every parameter (see :meth:`named_parameters`), as a list."""
        return [p for _, p in self.named_parameters(recurse=recurse)]

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of all parameters: set them to None
        (PyTorch's default), or to zeros.
        """
        boolean("set_to_none", set_to_none)
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad = np.zeros_like(p.data)

    # -- training and evaluation mode ---------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode (``mode=True``) or evaluation mode, on this
        module and every child; returns self.
        """
        self.training = boolean("mode", mode)
        for _, child in self.named_children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode (``train(False)``): Dropout passes its input
        through unchanged; returns self.
        """
        return self.train(False)

    # -- the state dict: PyTorch's keys and shapes --------------------------
    def _state_entries(
        self, prefix: str
    ) -> Iterator[tuple[str, list[Tensor]]]:
        """``(key, parts)`` for every entry of the state dict: the value is
        the parts stacked along axis 0.

        A parameter is one part under its own name. A layer whose PyTorch
        counterpart stacks several of its parameters into one (a GRU's three
        gates in ``weight_ih``) overrides this.
        """
        for name, value in vars(self).items():
            if isinstance(value, Tensor) and value.requires_grad:
                yield prefix + name, [value]
        for name, child in self.named_children():
            yield from child._state_entries(f"{prefix}{name}.")

    def state_dict(self, *, prefix: str = "") -> dict[str, np.ndarray]:
        """Every parameter as a NumPy array (a copy), under PyTorch's key and
        in PyTorch's shape.

        ``Linear``: ``weight [out, in]``, ``bias``; ``Embedding``:
        ``weight``; the cells: ``weight_ih``, ``weight_hh``, ``bias_ih``,
        ``bias_hh`` with the gates stacked in PyTorch's order; a child's keys
        start with its attribute name (``encoder.weight_ih``). ``prefix``
        starts every key as it is given (``"enc."`` gives ``enc.weight``),
        as in PyTorch.
        """
        _check_str("prefix", prefix)
        return {
            key: np.concatenate([p.data for p in parts])
            if len(parts) > 1
            else parts[0].data.copy()
            for key, parts in self._state_entries(prefix)
        }

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> None:
        """Copy values (NumPy arrays, or anything ``np.asarray`` takes) into
        the parameters, in place.

        Values are cast to each parameter's dtype. Optimizers that hold the
        parameters keep working.

        Parameters
        ----------
        state_dict : mapping of str to array_like
            As :meth:`state_dict` returns it, or a PyTorch model's
            (``.detach().numpy()`` each value).
        strict : bool
            When True (the default), the keys must be exactly this module's
            keys; when False, missing and unexpected keys are skipped. A
            shape that differs is always an error.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                "state_dict must be a mapping of names to arrays, got "
                f"{type(state_dict).__name__}"
            )
        boolean("strict", strict)
        entries = dict(self._state_entries(""))
        missing = [k for k in entries if k not in state_dict]
        unexpected = [k for k in state_dict if k not in entries]
        if strict and (missing or unexpected):
            raise ValueError(
                f"load_state_dict: missing keys {missing}, unexpected keys "
                f"{unexpected}"
            )
        checked = _checked_values(entries, state_dict)
        for key, value in checked.items():
            # nothing is changed unless every value fits
            parts = entries[key]
            pieces = (
                np.split(value, np.cumsum([p.shape[0] for p in parts])[:-1])
                if len(parts) > 1
                else [value]
            )
            for p, part in zip(parts, pieces):
                if p.data.flags.writeable:
                    p.data[...] = part
                else:  # a parameter made from read-only memory: replace it
                    p.data = np.array(part, dtype=p.dtype)

    # -- text ---------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        children = [
            f"  ({name}): {value!r}".replace("\n", "\n  ")
            for name, value in vars(self).items()
            if isinstance(value, Module)
        ]
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        return f"{type(self).__name__}(\n" + "\n".join(children) + "\n)"


def _checked_values(
    entries: dict[str, Any], state_dict: Mapping[str, Any]
) -> dict[str, np.ndarray]:
    """The values of ``state_dict`` for the keys of ``entries``, as arrays,
    each of the shape its parameters have together.
    """
    checked = {}
    for key, parts in entries.items():
        if key not in state_dict:
            continue
        value = as_array(f"state_dict[{key!r}]", state_dict[key])
        expected = (
            parts[0].shape
            if len(parts) == 1
            else (sum(p.shape[0] for p in parts),) + parts[0].shape[1:]
        )
        if value.shape != expected:
            raise ValueError(
                f"load_state_dict: state_dict[{key!r}] has shape "
                f"{value.shape}, "
                f"expected {expected}"
            )
        checked[key] = value
    return checked
