"""Adding a primitive is one class (forward, vjp, a docstring with its derivative), one row in
tests/primitive_cases.py and, where a tensor has it as a method, the method in minigrad/methods.py.

Everything else follows from the registry, or a test fails and says what is missing: the class is
exported by its module's __all__ (derived from the registry, so the API page lists it), has its own
docstring (else the API page shows Primitive's) and a row (test_primitives.py: a forgotten method makes
the row's function fail there). The same holds for every public function and class a documented module
defines.
"""

import importlib
import inspect

import minigrad as mg
from primitive_cases import CASES
from test_api_names import documented_modules


def test_every_primitive_is_exported_documented_and_tested():
    problems = []
    for name, cls in mg.PRIMITIVES.items():
        module = importlib.import_module(cls.__module__)
        if name not in getattr(module, "__all__", ()):
            problems.append(f"{name}: not in {cls.__module__}.__all__")
        if not (vars(cls).get("__doc__") or "").strip():
            problems.append(f"{name}: no docstring (say what it computes and its derivative)")
        if name not in CASES:
            problems.append(f"{name}: no row in tests/primitive_cases.py")
        if cls.__module__ not in documented_modules():
            problems.append(f"{name}: {cls.__module__} is not on the API page")
    assert not problems, "\n".join(problems)


def test_every_name_a_row_covers_exists():
    """A row's names are real Tensor methods or functions (tests/compare counts them as compared)."""
    missing = [n for case in CASES.values() for n in case.names
               if not (hasattr(mg.Tensor, n.removeprefix("Tensor.")) if n.startswith("Tensor.")
                       else any(hasattr(importlib.import_module(m), n) for m in documented_modules()))]
    assert not missing, f"names in tests/primitive_cases.py that minigrad does not have: {missing}"


def test_every_public_definition_of_a_documented_module_is_exported():
    """A public function or class defined in a module the API page documents is in that module's __all__."""
    missing = []
    for modname in documented_modules():
        module = importlib.import_module(modname)
        for name, value in vars(module).items():
            if name.startswith("_") or not (inspect.isfunction(value) or inspect.isclass(value)):
                continue
            if value.__module__ == modname and name not in module.__all__:
                missing.append(f"{modname}.{name}")
    assert not missing, f"public but not in __all__ (export it, or name it with a leading _): {missing}"
