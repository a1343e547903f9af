"""The Chinese edition's figures: every notebook figure drawn again by the same code, its text in Chinese.

    python tools/figures_zh.py build     # (make html) draw the figures of the notebooks that changed
    python tools/figures_zh.py update    # (make translations) bring figures.po up to date with the figures

The notebooks in book/ are not changed. ``build`` runs a copy of each notebook that has figures (nbclient, in
memory, one at a time) with a cell added before its first, which calls ``install()`` below as soon as the
notebook has imported matplotlib.pyplot. ``install()``:

- sets a Simplified Chinese font the machine has after DejaVu Sans (matplotlib falls back to it glyph by
  glyph, so Latin letters and math look as in the English figures), and
- translates the text of every matplotlib ``Text`` (titles, axis labels, tick labels, legends, annotations)
  when it is set, so that the figure's layout is computed for the Chinese text, and records each English
  string that is drawn.

The translations are in ``locale/zh_CN/LC_MESSAGES/figures.po``: ``msgid`` the exact English string,
``msgstr`` the Chinese (math between ``$...$`` kept). A string built from numbers at run time
("b=0, t=1: loss 1.386") is translated by a *pattern*: a message with ``msgctxt "pattern"`` whose ``{name}``
fields stand for any text on one line (``{name:num}``: a number); each field's text is translated in turn if
the catalog has it, and put into the msgstr's field of the same name.

The Chinese PNGs go to ``_build/zh-figures/<notebook>/``, with ``index.json`` mapping each English output
image (by the SHA-256 of its PNG, which is also the name MyST-NB gives its file) to its Chinese file. A
notebook is run again only when it, this script or the translations of the strings it draws have changed,
so a second build takes a second. Without a Chinese font it says so in one line and the Chinese edition
keeps the English figures.
"""

import base64
import hashlib
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
CATALOG = ROOT / "locale" / "zh_CN" / "LC_MESSAGES" / "figures.po"
CACHE = ROOT / "_build" / "zh-figures"
INDEX = CACHE / "index.json"
# Simplified Chinese fonts, in order of preference (Noto/Source Han on Linux, PingFang on macOS, YaHei on
# Windows, WenQuanYi on older Linux).
CJK_FONTS = ["Noto Sans CJK SC", "Source Han Sans SC", "Source Han Sans CN", "PingFang SC", "Microsoft YaHei",
             "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Noto Sans SC"]
PATTERN = "pattern"
FIELD = re.compile(r"\{(\w+)(:num)?\}")
MATH = re.compile(r"\$[^$]*\$")
WORD = re.compile(r"\b[A-Za-z]{2,}\b")
CJK = re.compile(r"[\u3400-\u9fff]")
PNG = "image/png"
NUMBER, ONE_LINE = r"[-+]?\d[\d.,eE+-]*", r"[^\n]+?"


def has_words(text: str) -> bool:
    """A string to translate: an English word (two letters or more) outside math. Numbers, symbols, single
    letters and identifiers (sequence_loss) are the same in both editions."""
    return bool(WORD.search(MATH.sub(" ", text)))


# ---- the catalog ---------------------------------------------------------------------------------------

def read_catalog(path: Path = CATALOG):
    from babel.messages.pofile import read_po

    if not path.is_file():
        from babel.messages.catalog import Catalog
        return Catalog(locale="zh_CN")
    with path.open("rb") as f:
        return read_po(f)


class Translator:
    """English figure string -> Chinese, from the catalog's exact messages and patterns; remembers which
    messages it used (``used``: (msgctxt, msgid) pairs)."""

    def __init__(self, catalog):
        self.exact, self.patterns, self.used = {}, [], set()
        for m in catalog:
            if not m.id or not m.string or m.fuzzy:
                continue
            if m.context == PATTERN:
                parts = FIELD.split(m.id)  # text, field, ":num" or None, text, field, ..., text
                regex = "".join(re.escape(parts[i]) if i % 3 == 0
                                else f"(?P<{parts[i]}>{NUMBER if parts[i + 1] else ONE_LINE})" if i % 3 == 1
                                else "" for i in range(len(parts)))
                self.patterns.append((re.compile(regex, re.S), m.id, m.string))
            else:
                self.exact[m.id] = m.string

    def __call__(self, text: str) -> str | None:
        """The translation, or None if the catalog has none."""
        if text in self.exact:
            self.used.add((None, text))
            return self.exact[text]
        for regex, msgid, msgstr in self.patterns:
            match = regex.fullmatch(text)
            if match:
                self.used.add((PATTERN, msgid))
                fields = {k: self(v) or v for k, v in match.groupdict().items()}
                return FIELD.sub(lambda f: fields.get(f.group(1), f.group(0)), msgstr)
        return None


# ---- inside the kernel ---------------------------------------------------------------------------------

def cjk_font() -> str | None:
    """The first font of CJK_FONTS that matplotlib can use (also one installed after its font cache)."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in names:
            return name
    for path in font_manager.findSystemFonts():
        try:
            family = font_manager.get_font(path).family_name
        except Exception:  # a file FreeType cannot read
            continue
        if family in CJK_FONTS:
            font_manager.fontManager.addfont(path)
            return family
    return None


_DRAWN: list[str] = []


def install(catalog_path: str) -> None:
    """Chinese text in every figure drawn from now on (the cell that build() adds to each notebook)."""
    import matplotlib as mpl
    from matplotlib.text import Text

    translate = Translator(read_catalog(Path(catalog_path)))
    font = cjk_font()
    latin = {"sans-serif": "DejaVu Sans", "monospace": "DejaVu Sans Mono", "serif": "DejaVu Serif"}
    mpl.rcParams["font.family"] = ["DejaVu Sans", font]
    set_text, draw, extent = Text.set_text, Text.draw, Text.get_window_extent

    def set_chinese_text(self, s):
        set_text(self, s)
        english = self.get_text()
        self._english = english
        chinese = translate(english) if has_words(english) else None
        if chinese is not None:
            set_text(self, chinese)

    def chinese_font(self):
        """DejaVu first, then the Chinese font, for a text with Chinese (monospace: DejaVu Sans Mono first);
        only the Chinese font if it has math too: matplotlib's mathtext draws the words around the math in
        one font, without fallback (the math keeps its own fonts)."""
        if CJK.search(self.get_text()):
            families = [latin.get(f, f) for f in self.get_fontfamily() if f != font]
            wanted = [font] if MATH.search(self.get_text()) else families + [font]
            if self.get_fontfamily() != wanted:
                self.set_fontfamily(wanted)

    def draw_and_record(self, renderer):
        english = getattr(self, "_english", "")
        if self.get_visible() and has_words(english):
            _DRAWN.append(english)
        chinese_font(self)
        return draw(self, renderer)

    def window_extent(self, renderer=None, dpi=None):  # the layout engines measure text with it
        chinese_font(self)
        return extent(self, renderer, dpi)

    Text.set_text, Text.draw, Text.get_window_extent = set_chinese_text, draw_and_record, window_extent


def install_on_import(catalog_path: str) -> None:
    """install() as soon as the notebook imports matplotlib.pyplot, not before: importing matplotlib
    imports NumPy, and some notebooks set the number of BLAS threads before they first import NumPy."""
    import importlib.abc
    import importlib.util

    class AfterPyplot(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name != "matplotlib.pyplot":
                return None
            sys.meta_path.remove(self)
            spec = importlib.util.find_spec(name)
            exec_module = spec.loader.exec_module

            def exec_then_install(module):
                exec_module(module)
                install(catalog_path)

            spec.loader.exec_module = exec_then_install
            return spec

    sys.meta_path.insert(0, AfterPyplot())


def drawn() -> None:
    """Print the English strings drawn so far (the cell that build() adds at the end of each notebook)."""
    print(json.dumps(sorted(set(_DRAWN))))


# ---- the build -----------------------------------------------------------------------------------------

def figure_notebooks() -> list[Path]:
    """The notebooks of book/ with PNG outputs."""
    return [nb for nb in sorted(BOOK.glob("*.ipynb")) if english_pngs(nb)]


def english_pngs(nb: Path) -> list[str]:
    """The notebook's committed PNG outputs (base64), in order."""
    cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
    return [out["data"][PNG] for cell in cells if cell["cell_type"] == "code"
            for out in cell.get("outputs", []) if PNG in out.get("data", {})]


def source_key(nb: Path, font: str | None) -> str:
    digest = hashlib.sha256(nb.read_bytes())
    digest.update(Path(__file__).read_bytes())
    digest.update(str(font).encode())
    return digest.hexdigest()


def translations_of(strings: list[str], translate: Translator) -> dict[str, str | None]:
    return {s: translate(s) for s in strings}


def execute(nb: Path) -> tuple[list[bytes], list[str]]:
    """Run a copy of the notebook with Chinese figure text: its PNG outputs in order, the strings drawn."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(nb, as_version=4)
    setup = (f"import sys\nsys.path.insert(0, {str(Path(__file__).parent)!r})\nimport figures_zh\n"
             f"figures_zh.install_on_import({str(CATALOG)!r})")
    notebook.cells.insert(0, nbformat.v4.new_code_cell(setup))
    notebook.cells.append(nbformat.v4.new_code_cell("figures_zh.drawn()"))
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(nb.parent)}}).execute()
    pngs = [base64.b64decode(out["data"][PNG]) for cell in notebook.cells[:-1] if cell.cell_type == "code"
            for out in cell.get("outputs", []) if PNG in out.get("data", {})]
    strings = json.loads("".join(out.get("text", "") for out in notebook.cells[-1].outputs))
    return pngs, strings


def build() -> int:
    from matplotlib import font_manager  # noqa: F401  (cjk_font needs matplotlib)

    font = cjk_font()
    if font is None:
        print(f"figures_zh: no Simplified Chinese font ({', '.join(CJK_FONTS[:4])}, ...): the Chinese edition "
              f"keeps the English figures")
        INDEX.unlink(missing_ok=True)
        return 0
    translate = Translator(read_catalog())
    index = {}
    for nb in figure_notebooks():
        folder = CACHE / nb.stem
        meta_path = folder / "meta.json"
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
        key = source_key(nb, font)
        fresh = (meta.get("key") == key
                 and meta.get("translations") == translations_of(meta.get("strings", []), translate))
        english = [hashlib.sha256(base64.b64decode(png)).hexdigest() for png in english_pngs(nb)]
        if not fresh:
            start = time.monotonic()
            pngs, strings = execute(nb)
            if len(pngs) != len(english):
                print(f"figures_zh: {nb.name} drew {len(pngs)} figures, its outputs have {len(english)}: "
                      f"its Chinese page keeps the English figures (run make notebooks?)")
                continue
            folder.mkdir(parents=True, exist_ok=True)
            for old in folder.glob("*.png"):
                old.unlink()
            files = []
            for png in pngs:
                files.append(f"{hashlib.sha256(png).hexdigest()}.png")
                (folder / files[-1]).write_bytes(png)
            meta = {"key": key, "strings": strings, "translations": translations_of(strings, translate),
                    "files": files}
            meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
            print(f"figures_zh: {nb.name}: {len(pngs)} figure(s) in {time.monotonic() - start:.0f} s")
        for sha, name in zip(english, meta["files"]):
            index[sha] = str((folder / name).relative_to(CACHE))
    INDEX.write_text(json.dumps(index, indent=1), encoding="utf-8")
    return 0


# ---- the catalog against the figures -------------------------------------------------------------------

def drawn_strings() -> dict[str, list[str]] | None:
    """The English strings each notebook's figures draw, as recorded by the last build (None if a notebook
    with figures has no record: build first)."""
    strings = {}
    for nb in figure_notebooks():
        meta = CACHE / nb.stem / "meta.json"
        if not meta.is_file():
            return None
        strings[nb.stem] = json.loads(meta.read_text(encoding="utf-8"))["strings"]
    return strings


def catalog_problems(strings: dict[str, list[str]], catalog=None) -> list[str]:
    """The drawn strings without a translation, and the catalog's messages that no figure uses."""
    catalog = read_catalog() if catalog is None else catalog
    translate = Translator(catalog)
    problems = []
    for notebook, texts in strings.items():
        for text in texts:
            if translate(text) is None and not any(m.id == text and m.context is None for m in catalog):
                problems.append(f"figures: {text[:60]!r} ({notebook}): a figure string without a translation "
                                f"entry; run make translations")
    for m in catalog:
        if m.id and m.string and not m.fuzzy and (m.context, m.id) not in translate.used:
            problems.append(f"figures: {m.id[:60]!r}: no figure draws this any more; run make translations")
    return problems


def update() -> int:
    """figures.po: add the drawn strings that no message translates (untranslated), drop unused messages."""
    from babel.messages.pofile import write_po

    strings = drawn_strings()
    if strings is None:
        print("figures_zh: no record of the figures' strings (no Chinese font, or not built yet); "
              "figures.po not updated")
        return 0
    catalog = read_catalog()
    translate = Translator(catalog)
    wanted = set()
    for texts in strings.values():
        for text in texts:
            if translate(text) is None:
                wanted.add(text)
    for m in list(catalog):
        if m.id and m.string and not m.fuzzy and (m.context, m.id) not in translate.used:
            catalog.delete(m.id, context=m.context)
        elif m.id and (not m.string or m.fuzzy) and m.context is None and m.id not in wanted:
            catalog.delete(m.id)
    for text in sorted(wanted):
        if text not in catalog:
            catalog.add(text)
    CATALOG.parent.mkdir(parents=True, exist_ok=True)
    with CATALOG.open("wb") as f:
        write_po(f, catalog, width=110, sort_output=True)
    return 0



# ---- in the Chinese Sphinx build -----------------------------------------------------------------------

def png_size(path: Path) -> tuple[int, int]:
    """A PNG's width and height in pixels, from its header."""
    header = path.read_bytes()[16:24]
    return int.from_bytes(header[:4], "big"), int.from_bytes(header[4:], "big")


def use_chinese_figures(app, doctree):
    """Each notebook output image that has a Chinese version (index.json) shows that instead: its file is
    copied beside MyST-NB's English one and the image node (already collected by Sphinx) points to it."""
    from docutils import nodes

    if not INDEX.is_file():
        return
    index = json.loads(INDEX.read_text(encoding="utf-8"))
    env = app.env
    for node in doctree.findall(nodes.image):
        english = node.get("candidates", {}).get("*", "")
        chinese = index.get(Path(english).stem) if english.endswith(".png") else None
        if chinese is None:
            continue
        # relative to the source folder, as Sphinx's image collector wrote it
        target = Path(env.srcdir) / Path(english).with_name(Path(chinese).name)
        if not target.is_file():
            target.write_bytes((CACHE / chinese).read_bytes())
        relative = target.relative_to(env.srcdir).as_posix()
        node["uri"] = node["candidates"]["*"] = relative
        # Shown at the English figure's scale (half its pixels: retina), from the Chinese figure's own size,
        # which tight layout may make a few pixels different.
        english_px, chinese_px = png_size(Path(env.srcdir) / english), png_size(target)
        for key, axis in (("width", 0), ("height", 1)):
            shown = re.fullmatch(r"([\d.]+)(px)?", str(node.get(key, "")))
            if shown and english_px[axis]:
                scale = float(shown[1]) / english_px[axis]
                node[key] = f"{int(chinese_px[axis] * scale)}{shown[2] or ''}"
        env.images.add_file(env.docname, relative)


def setup(app):
    """Sphinx extension of the Chinese build (tools/i18n.py adds it to the Chinese _config.yml)."""
    app.connect("doctree-read", use_chinese_figures, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    commands = {"build": build, "update": update}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        sys.exit(f"usage: python {sys.argv[0]} {{{','.join(commands)}}}")
    sys.exit(commands[sys.argv[1]]())
