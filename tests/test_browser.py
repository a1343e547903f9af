"""The built book in a real browser: Debian's chromium, driven by Playwright, offline.

Needs `_build/html` (run `make book` first; `make test` does) and a `chromium` on PATH. Without them the
tests are skipped with the reason, unless MINIGRAD_REQUIRE_BROWSER=1 (set by .ci/run): then they fail.
Playwright's own browser downloads are never used.

Every page of the table of contents is loaded once (the `pages` fixture) and checked: it renders offline
(math typeset, images loaded, no console error, no request leaving 127.0.0.1) and its layout holds at desktop
and phone widths. This module checks the English pages and the site as a whole; test_browser_zh.py runs the
same page tests on the Chinese edition.
"""

import functools
import http.server
import os
import shutil
import sys
import threading
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

from conftest import HTML, toc_entries

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOCAL_SCHEMES = {"data", "blob", "about"}
# Math as Sphinx writes it (class "math" on the span/div holding \( \) or \[ \]).
HAS_MATH = "document.querySelector('.math') !== null"
# MathJax 3 replaces the TeX inside each such element by an <mjx-container>.
MATH_TYPESET = ("() => document.querySelectorAll('.math').length === "
                "document.querySelectorAll('.math mjx-container').length")
# The text of the page minus code (which may legitimately show a backslash or dollars) and typeset math.
PROSE_TEXT = """() => {
    const body = document.body.cloneNode(true);
    body.querySelectorAll('pre, code, script, style, mjx-container, .MathJax').forEach(e => e.remove());
    return body.textContent;
}"""
IMAGES_NOT_LOADED = """async () => {
    const imgs = Array.from(document.images);
    imgs.forEach(img => { img.loading = 'eager'; });
    await Promise.all(imgs.map(img => img.complete ? null
        : new Promise(resolve => { img.addEventListener('load', resolve); img.addEventListener('error', resolve); })));
    return imgs.filter(img => img.naturalWidth === 0).map(img => img.getAttribute('src'));
}"""


def unavailable(reason):
    if os.environ.get("MINIGRAD_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (MINIGRAD_REQUIRE_BROWSER=1, so this is an error)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def server():
    """Serve _build/html on 127.0.0.1 at a free port; yields the base URL."""
    if not (HTML / "index.html").exists():
        unavailable(f"{HTML}/index.html not found: build the book first (make book)")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            # A page closed while a file was still being sent to it (the browser's side hung up): what the
            # page itself did is checked in the browser, so this is not worth a traceback.
            if not isinstance(sys.exc_info()[1], ConnectionError):
                super().handle_error(request, client_address)

    httpd = Server(("127.0.0.1", 0), functools.partial(Quiet, directory=str(HTML)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    executable = shutil.which("chromium")
    if executable is None:
        unavailable("no `chromium` on PATH (Debian: apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Visit:
    """A page that records console errors and every request, and blocks anything not on 127.0.0.1."""

    def __init__(self, browser):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
        self.page = self.context.new_page()
        self.errors, self.requests, self.outside = [], [], []
        self.page.on("console", lambda msg: msg.type == "error" and self.errors.append(msg.text))
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.context.route("**/*", self._route)

    def _route(self, route):
        url = route.request.url
        self.requests.append(url)
        parts = urlsplit(url)
        if parts.scheme in LOCAL_SCHEMES or parts.hostname == "127.0.0.1":
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def goto(self, url):
        response = self.page.goto(url, wait_until="load")
        self.page.wait_for_load_state("networkidle")
        return response

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser):
    v = Visit(browser)
    yield v
    v.close()


def page_url(server, entry):
    return f"{server}/{entry}.html"


# The layout measurements (see test_page_layout below).
# Each image: [src, naturalWidth, displayed width] for those neither SVG nor at least 2x.
BLURRY_IMAGES = """async () => {
    const imgs = Array.from(document.querySelectorAll('article img'));
    imgs.forEach(img => { img.loading = 'eager'; });
    await Promise.all(imgs.map(img => img.complete ? null
        : new Promise(resolve => { img.addEventListener('load', resolve); img.addEventListener('error', resolve); })));
    return imgs.filter(img => !/\\.svg($|\\?)/.test(img.currentSrc || img.src))
        .filter(img => img.naturalWidth < 2 * img.getBoundingClientRect().width)
        .map(img => [img.getAttribute('src'), img.naturalWidth, Math.round(img.getBoundingClientRect().width)]);
}"""
# Each code block or output wider than its box: [kind, scrollWidth, clientWidth, its longest line].
WIDE_BLOCKS = """() => Array.from(document.querySelectorAll('article pre, article div.output, article div.highlight'))
    .filter(e => e.scrollWidth > e.clientWidth + 1)
    .map(e => [e.tagName.toLowerCase() + '.' + e.className.split(' ')[0], e.scrollWidth, e.clientWidth,
               e.textContent.split('\\n').reduce((a, l) => l.length > a.length ? l : a, '')])"""
PAGE_WIDTH = "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"


@pytest.fixture(scope="module")
def pages(browser, server):
    """pages(entry): what one visit of a page saw. Each page is loaded once, in a fresh context, at 1280 px
    and then at 390 px (a phone), and the tests below read the record."""
    done = {}

    def load(entry):
        if entry not in done:
            visit = Visit(browser)
            response = visit.goto(page_url(server, entry))
            math_typeset = True
            if visit.page.evaluate(HAS_MATH):
                try:
                    visit.page.wait_for_function(MATH_TYPESET, timeout=20_000)
                except PlaywrightTimeout:
                    math_typeset = False
            record = {"status": response and response.status, "math_typeset": math_typeset,
                      "prose": visit.page.evaluate(PROSE_TEXT), "not_loaded": visit.page.evaluate(IMAGES_NOT_LOADED),
                      "blurry": visit.page.evaluate(BLURRY_IMAGES), "wide": visit.page.evaluate(WIDE_BLOCKS)}
            visit.page.set_viewport_size({"width": 390, "height": 844})
            visit.page.wait_for_timeout(100)  # one layout pass at the new width
            record["phone"] = visit.page.evaluate(PAGE_WIDTH)
            record.update(errors=visit.errors, outside=visit.outside, requests=visit.requests)
            visit.close()
            done[entry] = record
        return done[entry]

    return load


# Every page of the table of contents, here in English; test_browser_zh.py runs the same page tests on the
# Chinese edition (zh/, tools/i18n.py), so that `pytest -n 2` can check both editions at once.
def pytest_generate_tests(metafunc):
    if "entry" in metafunc.fixturenames:
        metafunc.parametrize("entry", toc_entries())


def test_page_renders_offline(pages, entry):
    page = pages(entry)
    assert page["status"] == 200, f"{entry}.html: HTTP {page['status']}"
    assert page["outside"] == [], f"requests leaving 127.0.0.1 from {entry} (blocked)"
    assert page["math_typeset"], f"MathJax did not typeset the math on {entry} within 20 s"
    for raw in ("\\(", "\\[", "$$"):
        assert raw not in page["prose"], f"untypeset math {raw!r} left in the text of {entry}"
    assert page["not_loaded"] == [], "images that did not load"
    assert page["errors"] == [], f"console errors on {entry}"
    assert page["requests"], "no request was recorded at all"


# The layout: every image is SVG or has at least twice as many pixels across as it is displayed with (sharp on
# a high-DPI screen; the notebooks draw their figures with `%config InlineBackend.figure_formats = ["retina"]`);
# at 1280 px no code block and no cell output is wider than its box (nothing to scroll sideways); at 390 px (a
# phone) the page itself is not wider than the screen: only a table or a display equation may scroll, inside
# its own box.
def test_images_are_svg_or_at_least_twice_as_wide_as_shown(pages, entry):
    assert pages(entry)["blurry"] == [], "images that look blurry on a high-DPI screen: [src, pixels, shown]"


def test_no_code_or_output_scrolls_sideways_at_1280px(pages, entry):
    assert pages(entry)["wide"] == [], "blocks wider than their box: [kind, width, box, longest line]"


def test_page_is_not_wider_than_a_phone(pages, entry):
    width, screen = pages(entry)["phone"]
    assert width <= screen, f"at 390 px the page is {width} px wide"


def test_next_link_leads_from_first_to_second_page(visit, server):
    first, second = toc_entries()[:2]
    visit.goto(page_url(server, first))
    visit.page.locator("a.right-next").first.click()
    visit.page.wait_for_load_state("load")
    assert urlsplit(visit.page.url).path == f"/{second}.html"
    visit.page.locator("a.left-prev").first.click()
    visit.page.wait_for_load_state("load")
    assert urlsplit(visit.page.url).path in (f"/{first}.html", "/index.html")
    assert visit.errors == [] and visit.outside == []


def test_search_finds_softmax(visit, server):
    visit.goto(f"{server}/search.html?q=softmax")
    results = visit.page.locator("#search-results ul.search li")
    results.first.wait_for(timeout=20_000)
    assert results.count() >= 1
    assert visit.errors == [] and visit.outside == []


# Every search control the reader can see: (where it sits, its classes). sphinx-book-theme 1.3 with
# pydata-sphinx-theme 0.17 adds a header bar above every desktop page that holds a second search box;
# requirements.txt pins the theme pair without it.
VISIBLE_SEARCH_CONTROLS = """() => Array.from(document.querySelectorAll(
        '.search-button, .search-button-field, form.bd-search input'))
    .filter(e => e.checkVisibility() && e.getBoundingClientRect().width > 0)
    .map(e => [e.closest('.bd-sidebar-primary') ? 'sidebar' : 'elsewhere', e.className])"""
HEADER_HEIGHT = "() => { const h = document.querySelector('.bd-header'); return h ? h.getBoundingClientRect().height : 0; }"


def test_desktop_page_has_one_search_box_and_it_searches(visit, server):
    visit.goto(page_url(server, toc_entries()[1]))
    assert visit.page.evaluate(HEADER_HEIGHT) == 0, "an (empty) header bar above the page"
    controls = visit.page.evaluate(VISIBLE_SEARCH_CONTROLS)
    assert [where for where, _ in controls] == ["sidebar"], f"expected one search box, in the sidebar: {controls}"

    visit.page.locator(".bd-sidebar-primary .search-button-field").click()
    box = visit.page.locator(".search-button__wrapper.show input[name=q]")
    box.fill("softmax")
    box.press("Enter")
    visit.page.wait_for_load_state("load")
    assert urlsplit(visit.page.url).path == "/search.html"
    results = visit.page.locator("#search-results ul.search li")
    results.first.wait_for(timeout=20_000)
    assert results.count() >= 1
    assert visit.errors == [] and visit.outside == []


def test_header_offers_the_code_archive(visit, server):
    visit.goto(page_url(server, toc_entries()[1]))
    link = visit.page.locator(".bd-header-article a.book-download-code")
    assert link.count() == 1 and link.is_visible(), "no visible 'Get the code' link in the page's header"
    assert "Get the code" in link.inner_text()
    url = visit.page.evaluate("() => document.querySelector('.bd-header-article a.book-download-code').href")
    response = visit.page.request.get(url)
    assert response.status == 200, f"{url}: HTTP {response.status}"
    assert response.body()[:4] == b"PK\x03\x04", "the download is not a zip file"
    assert visit.errors == [] and visit.outside == []


def test_language_link_leads_to_the_same_page_in_chinese_and_back(visit, server):
    entry = toc_entries()[3]
    visit.goto(page_url(server, entry))
    link = visit.page.locator(".bd-header-article a.language-switch")
    assert link.count() == 1 and link.is_visible() and "中文" in link.inner_text()
    link.click()
    visit.page.wait_for_load_state("load")
    assert urlsplit(visit.page.url).path == f"/zh/{entry}.html"
    assert visit.page.evaluate("document.documentElement.lang") == "zh-CN"
    back = visit.page.locator(".bd-header-article a.language-switch")
    assert "English" in back.inner_text()
    back.click()
    visit.page.wait_for_load_state("load")
    assert urlsplit(visit.page.url).path == f"/{entry}.html"
    assert visit.errors == [] and visit.outside == []


def test_chinese_search_finds_a_chinese_word(visit, server):
    visit.goto(f"{server}/zh/search.html?q=交叉熵")
    results = visit.page.locator("#search-results ul.search li")
    results.first.wait_for(timeout=20_000)
    assert results.count() >= 3, "交叉熵 (cross-entropy) should be found on several pages"
    assert visit.errors == [] and visit.outside == []


def test_english_search_splits_a_query_as_sphinx_does(visit, server):
    """The Chinese edition's query splitter (tools/static/zh-search.js) is not on the English search page;
    a query of two English words finds the pages holding both."""
    visit.goto(f"{server}/search.html?q=cross entropy")
    results = visit.page.locator("#search-results ul.search li")
    results.first.wait_for(timeout=20_000)
    assert results.count() >= 3
    assert visit.page.evaluate("splitQuery('cross entropy')") == ["cross", "entropy"]
    assert not any("zh-search" in url for url in visit.requests)
    assert visit.errors == [] and visit.outside == []
