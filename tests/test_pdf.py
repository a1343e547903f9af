"""The whole book as one PDF (`make pdf`: _build/pdf/book.pdf), checked with poppler's command-line tools.

`make test-pdf` builds the PDF and runs these with MINIGRAD_REQUIRE_PDF=1. Elsewhere (`make test`) they run
only if a PDF has been built and poppler-utils (pdfinfo, pdffonts, pdftotext, pdfimages) is installed, and are
skipped otherwise.
"""

import html
import os
import re
import shutil
import subprocess

import pytest

from conftest import HTML, ROOT, toc_entries

PDF = ROOT / "_build" / "pdf" / "book.pdf"
SINGLE_PAGE = ROOT / "_build" / "singlehtml" / "book-print.html"
LINKED_PDF = HTML / "_downloads" / "sequence-loss-book.pdf"
# TeX that MathJax should have turned into formulas; code may contain a lone backslash or dollar sign.
RAW_TEX = re.compile(r"\\(frac|sum|prod|log|exp|mathrm|operatorname|begin|end|left|right|qquad|cdot|partial|"
                     r"top|odot|mathbb|ell|hat|tilde|sqrt)\b|\\\(|\\\)|\\\[|\\\]|\$\$\s*\\|\\\s*\$\$")


def unavailable(reason):
    if os.environ.get("MINIGRAD_REQUIRE_PDF") == "1":
        pytest.fail(f"{reason} (MINIGRAD_REQUIRE_PDF=1, so this is an error)", pytrace=False)
    pytest.skip(reason)


def poppler(tool, *args):
    if shutil.which(tool) is None:
        unavailable(f"`{tool}` not found (Debian: apt-get install poppler-utils)")
    if not PDF.is_file():
        unavailable(f"{PDF.relative_to(ROOT)} not found: run `make pdf`")
    return subprocess.run([tool, *args, str(PDF), *(["-"] if tool == "pdftotext" else [])], check=True,
                          capture_output=True, text=True, timeout=300).stdout


@pytest.fixture(scope="module")
def text():
    return poppler("pdftotext", "-enc", "UTF-8")


def chapter_titles(page: str) -> list[str]:
    """The title of every chapter and appendix of the single-page build: the first heading after each
    document's anchor (<span id="document-book/...">), without its permalink."""
    titles = []
    for anchor in re.finditer(r'<span id="document-[^"]+">', page):
        heading = re.search(r"<h(\d)[^>]*>(.*?)</h\1>", page[anchor.end():], re.S)[2]
        heading = re.sub(r'<a class="headerlink".*?</a>', "", heading, flags=re.S)
        titles.append(html.unescape(re.sub(r"<[^>]+>", "", heading)))
    return titles


def squeeze(s):
    return re.sub(r"\s+", " ", s).strip()


def test_page_count_and_paper():
    info = poppler("pdfinfo")
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M)[1])
    # Every chapter and appendix starts on a new page, after the title and contents; the book is ~200 pages.
    assert len(toc_entries()) + 1 < pages < 1000, f"{pages} pages"
    assert re.search(r"^Page size:\s+595\.\d+ x 842\.\d+ pts \(A4\)", info, re.M), info


def test_every_font_is_embedded():
    rows = poppler("pdffonts").splitlines()[2:]
    assert rows, "no fonts at all"
    # columns: name, type, encoding, emb, sub, uni, object, generation; the name may be "[none]" (Type 3)
    not_embedded = [row for row in rows if row.split()[-5] != "yes"]
    assert not_embedded == [], "fonts that are not embedded:\n" + "\n".join(not_embedded)


def test_no_raw_tex_and_typeset_math(text):
    raw = sorted({m.group(0) for m in RAW_TEX.finditer(text)})
    assert raw == [], f"TeX left in the PDF's text (math not typeset?): {raw}"
    # Typeset math comes out as Unicode symbols; the book is full of sums and Greek letters.
    assert sum(text.count(c) for c in "∑∂ℓ") > 20


def test_title_contents_and_every_chapter(text):
    start = squeeze(text[:4000])
    assert "Understanding TensorFlow’s sequence_loss" in start or "Understanding TensorFlow's sequence_loss" in start
    assert "Contents" in start
    if not SINGLE_PAGE.is_file():
        unavailable(f"{SINGLE_PAGE.relative_to(ROOT)} not found: run `make pdf`")
    titles = [squeeze(t) for t in chapter_titles(SINGLE_PAGE.read_text(encoding="utf-8"))]
    assert len(titles) == len(toc_entries()) - 1, titles  # every entry but the front page (the title)
    flat = squeeze(text)
    missing = [t for t in titles if t.replace("'", "’") not in flat and t not in flat]
    assert missing == [], f"headings of the book missing from the PDF: {missing}"


def test_chinese_and_japanese_words_are_printed(text):
    if not SINGLE_PAGE.is_file():
        unavailable(f"{SINGLE_PAGE.relative_to(ROOT)} not found: run `make pdf`")
    cjk = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
    wanted = set(cjk.findall(SINGLE_PAGE.read_text(encoding="utf-8")))
    # Without a font for them Chromium prints empty boxes, and their text is lost from the PDF.
    missing = sorted(wanted - set(cjk.findall(text)))
    assert missing == [], f"characters of the book missing from the PDF (no CJK font?): {''.join(missing)}"


def test_figures_are_in_the_pdf():
    if not SINGLE_PAGE.is_file():
        unavailable(f"{SINGLE_PAGE.relative_to(ROOT)} not found: run `make pdf`")
    page = SINGLE_PAGE.read_text(encoding="utf-8")
    raster = set(re.findall(r'<img [^>]*src="(_images/[^"]+\.(?:png|jpe?g))"', page))
    # Colour bitmaps in the PDF (figures; Chromium adds grey masks of its own, which are not counted).
    listed = poppler("pdfimages", "-list").splitlines()[2:]
    colour = [row for row in listed if row.split()[2] == "image" and row.split()[5] in ("rgb", "icc", "cmyk")]
    assert len(colour) >= len(raster), f"{len(colour)} colour images in the PDF, {len(raster)} figures in the book"


def test_website_links_the_pdf():
    if not PDF.is_file():
        unavailable(f"{PDF.relative_to(ROOT)} not found: run `make pdf`")
    if not LINKED_PDF.is_file():
        unavailable(f"{LINKED_PDF.relative_to(ROOT)} not found: build the HTML after `make pdf` (make pdf does)")
    assert LINKED_PDF.read_bytes() == PDF.read_bytes(), "the website offers another PDF than _build/pdf/book.pdf"
    for entry in toc_entries():
        page = (HTML / f"{entry}.html").read_text(encoding="utf-8")
        assert 'class="btn btn-sm book-download-pdf"' in page, f"{entry}: no PDF link in the header"
