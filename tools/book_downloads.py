"""Sphinx extension: the downloads linked from every page's header.

- "Get the code": a zip of everything needed to run the notebooks and rebuild the book (the notebooks and
  pages, minigrad, the tests, requirements.txt and constraints.txt, pyproject.toml, the Makefile, README and
  licences), written into the HTML output as ``_downloads/sequence-loss-book.zip`` by every HTML build.
- "PDF": the whole book as one PDF, linked only when ``make pdf`` has made ``_build/pdf/book.pdf``; it is
  copied next to the zip.

Loaded through ``sphinx.local_extensions`` in _config.yml. The archive is deterministic: sorted entries, fixed
timestamps and permissions, so the same sources give the same bytes.
"""

import os
import shutil
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ARCHIVE = "_downloads/sequence-loss-book.zip"
PDF = "_downloads/sequence-loss-book.pdf"
PDF_SOURCE = "_build/pdf/book.pdf"
ARCHIVE_FOLDER = "sequence-loss-book"
# What a reader needs to run the notebooks (make lab) and to rebuild and test the book (make book, make test).
ARCHIVE_FILES = ["README.md", "LICENSE", "LICENSE-BOOK", "Makefile", "requirements.txt", "constraints.txt",
                 "constraints-compare.txt", "pyproject.toml", "_config.yml", "_toc.yml", ".gitignore"]
ARCHIVE_FOLDERS = ["book", "locale", "minigrad", "tests", "benchmarks", "tools"]
SKIP_PARTS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".hypothesis"}
ZIP_TIME = (2026, 1, 1, 0, 0, 0)


def archive_members(root: Path) -> list[Path]:
    """The files of the archive, relative to root, sorted: the same files the book was built from."""
    found = [Path(name) for name in ARCHIVE_FILES if (root / name).is_file()]
    for folder in ARCHIVE_FOLDERS:
        for dirpath, dirnames, filenames in os.walk(root / folder):
            dirnames[:] = [d for d in dirnames if d not in SKIP_PARTS and not d.endswith(".egg-info")]
            found += [(Path(dirpath) / f).relative_to(root) for f in filenames if not f.endswith((".pyc", ".mo"))]
    return sorted(set(found))


def write_archive(root: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel in archive_members(root):
            info = zipfile.ZipInfo(f"{ARCHIVE_FOLDER}/{rel.as_posix()}", ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, (root / rel).read_bytes())
    partial.replace(target)


def pdf_source(app) -> Path:
    return Path(app.srcdir) / PDF_SOURCE


def add_header_item(config, template: str) -> None:
    """Put tools/templates/<template> first in the article's header (also used by tools/i18n.py)."""
    for paths, folder in ((config.templates_path, "templates"), (config.html_static_path, "static")):
        if str(HERE / folder) not in paths:
            paths.append(str(HERE / folder))
    end = config.html_theme_options.get("article_header_end", ["article-header-buttons.html"])
    if isinstance(end, str):
        end = [item.strip() for item in end.split(",") if item.strip()]
    config.html_theme_options["article_header_end"] = [template, *end]


def add_template_and_style(app, config):
    add_header_item(config, "book-downloads.html")


def add_links(app, pagename, templatename, context, doctree):
    if app.builder.name != "html":
        return
    pathto = context["pathto"]
    context["book_downloads"] = {
        "archive": pathto(ARCHIVE, 1),
        "pdf": pathto(PDF, 1) if pdf_source(app).is_file() else None,
    }


def write_downloads(app, exception):
    if exception is not None or app.builder.name != "html":
        return
    outdir = Path(app.outdir)
    write_archive(Path(app.srcdir), outdir / ARCHIVE)
    if pdf_source(app).is_file():
        shutil.copyfile(pdf_source(app), outdir / PDF)


def setup(app):
    app.connect("config-inited", add_template_and_style)
    app.connect("html-page-context", add_links)
    app.connect("build-finished", write_downloads)
    app.add_css_file("book-downloads.css")
    # tools/static/book-layout.css: long inline code and API signatures may wrap on a phone
    app.add_css_file("book-layout.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
