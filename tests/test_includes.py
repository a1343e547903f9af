"""Every `{literalinclude}` with `:pyobject:` in the book names an object that still exists.

Chapters show minigrad's real code by name (``:pyobject: Tensor.backward``). Sphinx finds the object
with its ModuleAnalyzer; a renamed or moved object would only print a build warning, so this test
uses the same analyzer and fails naming the chapter, the file and the object.
"""

import re

import nbformat
import pytest
from sphinx.pycode import ModuleAnalyzer

from conftest import BOOK

INCLUDE = re.compile(r"```\{literalinclude\}\s+(\S+)\s*\n((?::[\w-]+:.*\n)*)")


def includes():
    """(page name, included path, pyobject) for every literalinclude with :pyobject: in book/."""
    found = []
    for page in sorted(BOOK.glob("*.ipynb")) + sorted(BOOK.glob("*.md")):
        if page.suffix == ".ipynb":
            texts = ["".join(c.source) + "\n" for c in nbformat.read(page, as_version=4).cells
                     if c.cell_type == "markdown"]
        else:
            texts = [page.read_text(encoding="utf-8")]
        for text in texts:
            for path, options in INCLUDE.findall(text):
                match = re.search(r"^:pyobject:\s*(\S+)", options, flags=re.M)
                if match:
                    found.append((page.name, path, match[1]))
    return found


def listing_cells():
    """Code cells that show minigrad's code with listing(...): nbval re-runs them, so a moved object fails there."""
    return [c for page in sorted(BOOK.glob("*.ipynb")) for c in nbformat.read(page, as_version=4).cells
            if c.cell_type == "code" and c.source.lstrip().startswith("listing(")]


def test_the_book_includes_objects():
    assert includes() or listing_cells(), (
        "found no literalinclude with :pyobject: and no listing(...) cell (has the pattern changed?)")


@pytest.mark.parametrize("page, path, pyobject", includes(), ids=lambda v: str(v))
def test_included_object_exists(page, path, pyobject):
    source = (BOOK / path).resolve()
    assert source.is_file(), f"{page}: includes {path}, which does not exist"
    tags = ModuleAnalyzer.for_file(str(source), "").find_tags()
    assert pyobject in tags, f"{page}: :pyobject: {pyobject} is no longer defined in {path}"
