"""The "Get the code" archive that every HTML build writes (tools/book_downloads.py), as a reader uses it.

Needs `_build/html` (`make book`; `make test` builds it first). Without it the tests are skipped, unless
MINIGRAD_REQUIRE_BROWSER=1 (set by .ci/run, which builds the book): then they fail.

The install tests unpack the archive in a temporary folder, make a fresh virtual environment and install the
unpacked minigrad into it with the archive's own constraints.txt (NumPy; plus Matplotlib, ipykernel and nbval
to run a notebook), then re-run chapter 1 with nbval exactly as `make test` does (every output compared with
the one stored) and run the README's ten-line example.
"""

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from urllib.parse import urljoin

import pytest

from conftest import BOOK, HTML, ROOT, toc_entries

ARCHIVE = HTML / "_downloads" / "sequence-loss-book.zip"
FOLDER = "sequence-loss-book"
MUST_HAVE = ["README.md", "LICENSE", "LICENSE-BOOK", "Makefile", "requirements.txt", "constraints.txt",
             "constraints-compare.txt", "pyproject.toml", "_config.yml", "_toc.yml", "minigrad/__init__.py", "minigrad/losses.py",
             "tools/book_downloads.py", "tests/conftest.py"]
CHAPTER_1 = "book/01_what_sequence_loss_computes.ipynb"


def archive():
    if not ARCHIVE.is_file():
        reason = f"{ARCHIVE.relative_to(ROOT)} not found: build the book first (make book)"
        if os.environ.get("MINIGRAD_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason} (MINIGRAD_REQUIRE_BROWSER=1, so this is an error)", pytrace=False)
        pytest.skip(reason)
    return zipfile.ZipFile(ARCHIVE)


def test_archive_holds_the_notebooks_the_code_and_the_build_files():
    names = archive().namelist()
    assert all(n.startswith(FOLDER + "/") for n in names), "everything sits in one folder"
    files = {n[len(FOLDER) + 1:] for n in names}
    missing = [f for f in MUST_HAVE if f not in files]
    assert missing == [], f"missing from the archive: {missing}"
    notebooks = {p.relative_to(ROOT).as_posix() for p in BOOK.glob("*.ipynb")}
    assert notebooks and notebooks <= files, f"notebooks missing: {sorted(notebooks - files)}"
    junk = [f for f in files if re.search(r"(^|/)(__pycache__|\.ipynb_checkpoints|_build|\.venv|\.git)/", f)
            or f.endswith(".pyc") or ".egg-info/" in f]
    assert junk == [], f"build or cache files in the archive: {junk}"


def test_every_page_links_the_archive_from_its_header():
    archive()
    for entry in toc_entries():
        page = HTML / f"{entry}.html"
        html = page.read_text(encoding="utf-8")
        links = re.findall(r'<a class="btn btn-sm book-download-code" href="([^"]+)"', html)
        assert len(links) == 1, f"{entry}: expected one 'Get the code' link in the header, found {len(links)}"
        target = urljoin(page.as_uri(), links[0])
        assert target == ARCHIVE.as_uri(), f"{entry}: the link leads to {target}"


@pytest.fixture(scope="module")
def unpacked_env(tmp_path_factory):
    """(unpacked folder, python of a fresh venv with the unpacked minigrad installed)."""
    zf = archive()
    tmp = tmp_path_factory.mktemp("archive")
    zf.extractall(tmp)
    src = tmp / FOLDER
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "-c", str(src / "constraints.txt"), "-e", str(src), "matplotlib", "ipykernel", "nbval"],
                   check=True, timeout=600)
    return src, python


def run(python, *args, cwd):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "MPLBACKEND"))}
    done = subprocess.run([str(python), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_unpacked_minigrad_is_the_one_imported(unpacked_env):
    src, python = unpacked_env
    where = run(python, "-c", "import minigrad; print(minigrad.__file__)", cwd=src.parent).strip()
    assert Path(where) == src / "minigrad" / "__init__.py"


def test_unpacked_archive_runs_chapter_1_as_stored(unpacked_env):
    src, python = unpacked_env
    out = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval", "--nbval-current-env",
              "--nbval-sanitize-with", "tests/nbval_sanitize.cfg", CHAPTER_1, cwd=src)
    assert re.search(r"\b\d+ passed\b", out) and " failed" not in out, out


def test_unpacked_archive_runs_the_readme_example(unpacked_env):
    src, python = unpacked_env
    readme = (src / "README.md").read_text(encoding="utf-8")
    section = readme.split("## minigrad in ten lines", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)[1]
    lines = run(python, "-c", code, cwd=src.parent).splitlines()
    assert lines[0] == "1.3981325812329608"
    assert len(lines) == 2 and lines[1].startswith("[")
