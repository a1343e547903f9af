"""Shared helpers for the book's tests: where things are and what the table of contents lists."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
HTML = ROOT / "_build" / "html"


def toc_entries() -> list[str]:
    """Every `file:` of _toc.yml in reading order, root first, without suffix (e.g. 'book/intro')."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    entries = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                entries.append(node["file"])
            for key in ("parts", "chapters", "sections"):
                for child in node.get(key, []):
                    walk(child)

    walk(toc)
    return [str(Path(e).with_suffix("")) if Path(e).suffix in (".md", ".ipynb") else e for e in entries]


def toc_source(entry: str) -> Path | None:
    """The source file of a TOC entry (.ipynb or .md), or None if there is none."""
    for suffix in (".ipynb", ".md"):
        path = ROOT / (entry + suffix)
        if path.exists():
            return path
    return None
