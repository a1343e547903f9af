"""The book's structure: the table of contents, and the notebooks as committed (executed, with outputs).

These read files only; nbval (in `make test`) re-executes the notebooks and compares their outputs.
"""

import re
import warnings

import nbformat
import pytest

from conftest import BOOK, ROOT, toc_entries, toc_source

NOTEBOOKS = sorted(BOOK.glob("*.ipynb"))
CHAPTERS = [nb for nb in NOTEBOOKS if re.match(r"\d\d_", nb.name)]
MEMORY_ADDRESS = re.compile(r"\bat 0x[0-9a-fA-F]+")
FENCE = re.compile(r"^\s*(```|~~~|:::)")


def ids(paths):
    return [p.name for p in paths]


def read(path):
    return nbformat.read(path, as_version=4)


def headings(nb):
    """(level, text) of every markdown heading in the notebook, skipping fenced blocks."""
    found = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        fence = None
        for line in cell.source.splitlines():
            m = FENCE.match(line)
            if m:
                if fence is None:
                    fence = m.group(1)
                elif m.group(1) == fence:
                    fence = None
                continue
            h = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
            if fence is None and h:
                found.append((len(h.group(1)), h.group(2)))
    return found


def output_texts(cell):
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            yield out.text
        elif out.output_type in ("execute_result", "display_data"):
            for mime, value in out.get("data", {}).items():
                if mime.startswith("text/"):
                    yield value if isinstance(value, str) else "".join(value)
        elif out.output_type == "error":
            yield out.evalue
            yield "\n".join(out.traceback)


@pytest.mark.parametrize("entry", toc_entries())
def test_toc_file_exists(entry):
    assert toc_source(entry) is not None, f"_toc.yml lists {entry}, but neither {entry}.ipynb nor {entry}.md exists"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_notebook_is_in_toc(path):
    entry = str(path.relative_to(ROOT).with_suffix(""))
    assert entry in toc_entries(), f"{entry} is not in _toc.yml, so the book would not show it"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_notebook_is_valid_with_python3_kernel(path):
    nb = read(path)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_notebook_metadata_is_what_jupyterlab_writes(path):
    """Opening a notebook in `make lab` and saving it changes no metadata: the committed kernelspec and
    language_info are those the installed ipykernel reports (the Python version aside, which is the reader's)."""
    from ipykernel.ipkernel import IPythonKernel
    from ipykernel.kernelspec import get_kernel_dict

    spec = get_kernel_dict()
    meta = read(path).metadata
    assert set(meta) == {"kernelspec", "language_info"}, f"unexpected notebook metadata {sorted(meta)}"
    assert meta.kernelspec == {"display_name": spec["display_name"], "language": spec["language"],
                               "name": "python3"}
    info = {k: v for k, v in IPythonKernel.language_info.items() if k != "version"}
    assert {k: v for k, v in meta.language_info.items() if k != "version"} == info


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_notebook_executed_top_to_bottom_with_outputs(path):
    code = [c for c in read(path).cells if c.cell_type == "code"]
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), (
        f"execution counts {counts}: re-execute with `make notebooks NOTEBOOKS={path.relative_to(ROOT)}`")
    assert not code or any(c.outputs for c in code), "the notebook is committed without outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_notebook_has_exactly_one_title(path):
    titles = [text for level, text in headings(read(path)) if level == 1]
    assert len(titles) == 1, f"level-1 headings: {titles}"
    first = read(path).cells[0]
    assert first.cell_type == "markdown" and first.source.lstrip().startswith("# "), "must start with '# Title'"


@pytest.mark.parametrize("path", CHAPTERS, ids=ids(CHAPTERS))
def test_chapter_ends_with_summary_and_exercises_with_solutions(path):
    nb = read(path)
    found = [(level, text.strip().lower()) for level, text in headings(nb)]
    assert (2, "summary") in found, "missing '## Summary'"
    assert (2, "exercises") in found, "missing '## Exercises'"
    assert found.index((2, "summary")) < found.index((2, "exercises")), "'## Summary' must come before '## Exercises'"
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    start = next(i for i, s in enumerate(markdown) if re.search(r"^##\s+Exercises\s*$", s, re.M | re.I))
    assert any("{dropdown}" in s for s in markdown[start:]), "exercise solutions belong in a ```{dropdown} block"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_no_memory_addresses_in_outputs(path):
    for i, cell in enumerate(read(path).cells):
        for text in output_texts(cell):
            m = MEMORY_ADDRESS.search(text)
            assert m is None, f"cell {i} prints a memory address ({m.group(0)}): outputs must be reproducible"


def page_texts():
    """(page, markdown text) of every page of the book: the notebooks' markdown cells and the .md pages."""
    for path in NOTEBOOKS:
        yield path.name, "\n".join(c.source for c in read(path).cells if c.cell_type == "markdown")
    for path in sorted(BOOK.glob("*.md")):
        yield path.name, path.read_text(encoding="utf-8")


DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$|```\{math\}(.+?)```", re.S)
WORDS_IN_MATH = re.compile(r"\\(?:text|textrm|textit|mbox)\s*\{([^{}]*[A-Za-z]{2,}[^{}]*)\}")


PAGES = list(page_texts())


@pytest.mark.parametrize("page, text", PAGES, ids=[page for page, _ in PAGES])
def test_display_math_has_no_words(page, text):
    # The Chinese edition copies a display equation unchanged, so an English word inside one (\text{for every})
    # would stand in the middle of a Chinese derivation: words belong in the sentence around the equation.
    found = [w for m in DISPLAY_MATH.finditer(text) for w in WORDS_IN_MATH.findall(m.group(1) or m.group(2))]
    assert not found, f"{page}: words inside display math: {found}"


@pytest.mark.parametrize("page, text", PAGES, ids=[page for page, _ in PAGES])
def test_cross_entropy_is_written_ell_in_math(page, text):
    # One symbol, one meaning (the notation page): the cross-entropy of a position is \ell; `ce` is a name in code.
    maths = re.findall(r"\$\$.+?\$\$|\$[^$\n]+\$", text, re.S)
    found = [m for m in maths if re.search(r"\\(?:mathrm|text|operatorname)\{ce\}", m)]
    assert not found, f"{page}: the cross-entropy written ce in math (the notation page writes it \\ell): {found[:3]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_code_cells_compile_without_warnings(path):
    # An invalid escape such as "$\ell$" in a plain string is silent on Python 3.11 but a SyntaxWarning on
    # stderr from 3.12 on, which changes the cell's output there: nbval would fail on a newer Python only.
    for number, cell in enumerate(read(path).cells):
        if cell.cell_type != "code":
            continue
        source = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            compile(source, f"{path.name}, cell {number}", "exec")
