"""book/api.md promises that everything it documents is also available from the top-level package."""

import importlib
import re

import minigrad as mg
from conftest import BOOK


def documented_modules():
    text = (BOOK / "api.md").read_text(encoding="utf-8")
    return re.findall(r"^\.\. automodule:: (minigrad\.\w+)", text, flags=re.M)


def test_api_page_documents_modules():
    assert "minigrad.tensor" in documented_modules() and len(documented_modules()) >= 8


def test_every_documented_name_is_top_level():
    missing = []
    for name in documented_modules():
        module = importlib.import_module(name)
        for attr in module.__all__:  # automodule :members: documents a module's __all__
            if getattr(mg, attr, None) is not getattr(module, attr):
                missing.append(f"{name}.{attr}")
    assert not missing, f"documented in book/api.md but not the same object as mg.<name>: {missing}"
    assert set(mg.__all__) >= {a for n in documented_modules() for a in importlib.import_module(n).__all__}
