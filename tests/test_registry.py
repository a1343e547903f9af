"""Adding a primitive is one class (forward, vjp, a docstring with its derivative) and one test row.

Everything else follows from the registry, or a test here fails and says what is missing: the class
must be exported by its module's __all__ (so the API page lists it and it is a top-level name),
have its own docstring (else the API page shows Primitive's), and have a case in test_primitives.py.
The same holds for every public function and class a documented module defines.
"""

import importlib
import inspect

import minigrad as mg
from test_api_names import documented_modules
from test_primitives import CASES


def test_every_primitive_is_exported_documented_and_tested():
    problems = []
    for name, cls in mg.PRIMITIVES.items():
        module = importlib.import_module(cls.__module__)
        if name not in getattr(module, "__all__", ()):
            problems.append(f"{name}: not in {cls.__module__}.__all__")
        if not (vars(cls).get("__doc__") or "").strip():
            problems.append(f"{name}: no docstring (say what it computes and its derivative)")
        if name not in CASES:
            problems.append(f"{name}: no case in tests/test_primitives.py")
        if getattr(mg, name, None) is not cls:
            problems.append(f"{name}: mg.{name} is not the class")
    assert not problems, "\n".join(problems)


#: Public on purpose but not in __all__, and why.
NOT_EXPORTED = {"minigrad.creation.tensor": "called as mg.tensor(...): mg.tensor is the module minigrad.tensor, "
                                            "made callable; book/api.md documents it with autofunction"}


def test_every_public_definition_of_a_documented_module_is_exported():
    """A public function or class defined in a module the API page documents is in that module's __all__."""
    missing = []
    for modname in documented_modules():
        module = importlib.import_module(modname)
        for name, value in vars(module).items():
            if name.startswith("_") or not (inspect.isfunction(value) or inspect.isclass(value)):
                continue
            if value.__module__ == modname and name not in module.__all__ and f"{modname}.{name}" not in NOT_EXPORTED:
                missing.append(f"{modname}.{name}")
    assert not missing, f"public but not in __all__ (export it, or name it with a leading _): {missing}"
