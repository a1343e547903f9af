"""The namespaces are PyTorch's, and the top level holds what a reader types most."""

import importlib
import re

import minigrad as mg
from conftest import BOOK


def documented_modules():
    text = (BOOK / "api.md").read_text(encoding="utf-8")
    return re.findall(r"^\.\. automodule:: (minigrad\.\w+)", text, flags=re.M)


def test_api_page_documents_modules():
    assert {"minigrad.engine", "minigrad.ops", "minigrad.functional", "minigrad.nn",
            "minigrad.optim"} <= set(documented_modules())


def test_pytorch_namespaces():
    import minigrad.functional as F
    import minigrad.nn as nn
    import minigrad.optim as optim

    assert {"Module", "Linear", "Embedding", "LSTMCell", "Sequential", "ReLU", "Tanh"} <= set(nn.__all__)
    assert {"SGD", "Adam", "clip_grad_norm"} <= set(optim.__all__)
    assert {"softmax", "log_softmax", "cross_entropy", "sigmoid", "sequence_loss"} <= set(F.__all__)
    assert nn.Tanh is not mg.ops.Tanh and issubclass(nn.Tanh, nn.Module)


def test_the_top_level_is_small_and_documented():
    """At most 30 names, no primitive class among them, each documented on the API page."""
    assert len(mg.__all__) <= 30, f"{len(mg.__all__)} top-level names"
    primitives = [n for n in mg.__all__ if getattr(mg, n) in mg.PRIMITIVES.values()]
    assert not primitives, f"primitive classes at the top level: {primitives}"
    documented = [getattr(importlib.import_module(m), n) for m in documented_modules()
                  for n in importlib.import_module(m).__all__]
    undocumented = [n for n in mg.__all__ if not any(getattr(mg, n) is d for d in documented)]
    assert not undocumented, f"top-level names the API page does not document: {undocumented}"


def test_every_documented_name_of_a_namespace_is_its_own():
    """automodule :members: documents a module's __all__: each name must be there."""
    missing = [f"{m}.{n}" for m in documented_modules() for n in importlib.import_module(m).__all__
               if not hasattr(importlib.import_module(m), n)]
    assert not missing, missing
