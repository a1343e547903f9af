"""Print the single-page HTML build of the book to one PDF with the Chromium that the browser tests use.

    python tools/print_pdf.py _build/singlehtml _build/pdf/book.pdf

`make pdf` runs it after `jupyter-book build . --builder singlehtml`. The page is served from 127.0.0.1 and
every other request is blocked (the build is offline, MathJax included); the script waits until MathJax has
typeset every formula and every image has loaded, then prints A4 pages with page numbers, a table of contents
(the theme's print contents list, with links) and PDF bookmarks for the headings. Chapters start on a new page,
exercise solutions (dropdowns) are printed open, code hidden behind a toggle stays hidden, and long code lines wrap instead of being cut off.
"""

import argparse
import functools
import http.server
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MATH_TYPESET = ("() => document.querySelectorAll('.math').length === "
                "document.querySelectorAll('.math mjx-container').length")
LOAD_ALL_IMAGES = """async () => {
    const imgs = Array.from(document.images);
    imgs.forEach(img => { img.loading = 'eager'; });
    await Promise.all(imgs.map(img => img.complete ? null
        : new Promise(resolve => { img.addEventListener('load', resolve); img.addEventListener('error', resolve); })));
    return imgs.filter(img => img.naturalWidth === 0).map(img => img.getAttribute('src'));
}"""
PREPARE_FOR_PRINT = """() => {
    document.querySelectorAll('details.sd-dropdown').forEach(d => { d.open = true; });
    document.querySelectorAll('span[id^="document-"]').forEach(span => {
        const chapter = span.nextElementSibling;
        if (chapter) chapter.classList.add('pdf-chapter');
    });
    return document.querySelectorAll('.pdf-chapter').length;
}"""
PRINT_CSS = """
@page { size: A4; margin: 16mm 14mm 18mm 14mm; }
html { font-size: 13px; }
.pdf-chapter, #jb-print-docs-body + * { break-before: page; }
pre, pre code { white-space: pre-wrap !important; overflow-wrap: anywhere; }
.cell_output pre, .output pre { max-height: none !important; overflow: visible !important; }
figure, img, .cell_output, mjx-container[display="true"] { break-inside: avoid; }
h1, h2, h3 { break-after: avoid; }
/* A scrolling box cannot be split across pages: let tables and outputs flow over several. */
.table-wrapper, .pst-scrollable-table-container, div.output, .cell_output { overflow: visible !important; }
mjx-container[display="true"] { overflow: visible !important; }
.book-downloads, .headerlink, .copybtn, .toggle-button, .prev-next-area { display: none !important; }
/* Chromium prints a shadow, and the clip of a rounded box, as a grey bitmap: square, flat boxes print lean. */
*, *::before, *::after { box-shadow: none !important; text-shadow: none !important; border-radius: 0 !important; }
"""
PRINT_PAGE = "book-print.html"
FOOTER = ('<div style="font-size:8px; width:100%; text-align:center; color:#555;">'
          '<span class="pageNumber"></span> / <span class="totalPages"></span></div>')


def serve(directory):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(directory)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def find_page(site: Path) -> Path:
    """The single page, at the top of the site.

    index.html is a redirect to it (e.g. book/intro.html), but its links are written relative to the top
    folder (``_static/...``, ``_images/...``), so a copy at the top is what renders.
    """
    pages = [p for p in site.rglob("*.html") if p.stat().st_size > 10_000 and p.name != PRINT_PAGE]
    if len(pages) != 1:
        sys.exit(f"expected one single-page HTML file in {site}, found {[str(p) for p in pages]}")
    shutil.copyfile(pages[0], site / PRINT_PAGE)
    return site / PRINT_PAGE


def cjk_font_missing(page: Path) -> bool:
    """Whether the page has Chinese or Japanese text but fontconfig knows no font for it (it would print as
    empty boxes)."""
    if not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", page.read_text(encoding="utf-8")):
        return False
    found = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True)
    return found.returncode != 0 or not found.stdout.strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("site", type=Path, help="the singlehtml build folder")
    parser.add_argument("pdf", type=Path, help="the PDF to write")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for MathJax (default 300)")
    args = parser.parse_args()

    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("no `chromium` on PATH (Debian: apt-get install chromium)")
    page_path = find_page(args.site)
    if cjk_font_missing(page_path):
        sys.exit("the book has Chinese and Japanese words but no font for them is installed; "
                 "Debian: apt-get install fonts-wqy-zenhei")
    httpd = serve(args.site)
    url = f"http://127.0.0.1:{httpd.server_address[1]}/{page_path.relative_to(args.site).as_posix()}"
    blocked = []

    def route(r):
        parts = urlsplit(r.request.url)
        if parts.scheme in ("data", "blob", "about") or parts.hostname == "127.0.0.1":
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    start = time.monotonic()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1000, "height": 1400}, service_workers="block")
        context.route("**/*", route)
        page = context.new_page()
        page.goto(url, wait_until="load", timeout=120_000)
        page.wait_for_function(MATH_TYPESET, timeout=args.timeout * 1000, polling=1000)
        broken = page.evaluate(LOAD_ALL_IMAGES)
        if broken:
            sys.exit(f"images that did not load: {broken}")
        chapters = page.evaluate(PREPARE_FOR_PRINT)
        page.add_style_tag(content=PRINT_CSS)
        page.emulate_media(media="print")
        page.wait_for_timeout(500)
        args.pdf.parent.mkdir(parents=True, exist_ok=True)
        partial = args.pdf.with_suffix(".partial.pdf")
        page.pdf(path=str(partial), format="A4", print_background=True, outline=True, tagged=True,
                 display_header_footer=True, header_template="<span></span>", footer_template=FOOTER,
                 margin={"top": "16mm", "bottom": "18mm", "left": "14mm", "right": "14mm"})
        browser.close()
    httpd.shutdown()
    if blocked:
        partial.unlink()
        sys.exit(f"requests leaving 127.0.0.1 were blocked: {blocked[:5]}")
    partial.replace(args.pdf)
    print(f"Wrote {args.pdf} ({chapters} chapters and appendices, {args.pdf.stat().st_size / 1e6:.1f} MB) "
          f"in {time.monotonic() - start:.0f} s.")


if __name__ == "__main__":
    main()
