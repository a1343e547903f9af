"""The built book's layout in a real browser: sharp figures, and no sideways scrolling.

Same set-up as test_browser.py (Debian's chromium, offline, `_build/html` served on 127.0.0.1); every page of
the table of contents is measured, in both editions (English and Chinese):

- every image is SVG or has at least twice as many pixels across as it is displayed with (sharp on a high-DPI
  screen; the notebooks draw their figures with `%config InlineBackend.figure_formats = ["retina"]`);
- at 1280 px no code block and no cell output is wider than its box (nothing to scroll sideways);
- at 390 px (a phone) the page itself is not wider than the screen: only a table or a display equation may
  scroll, inside its own box.
"""

import pytest

from test_browser import BOTH_EDITIONS, browser, server, unavailable  # noqa: F401  (fixtures)

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
def measure(browser, server):  # noqa: F811
    """measure(entry): the three measurements of one page, each page loaded once (at 1280 px, then 390 px)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(server)
                  or route.request.url.startswith(("data:", "blob:", "about:")) else route.abort())
    page = context.new_page()
    done = {}

    def measure_page(entry):
        if entry not in done:
            page.set_viewport_size({"width": 1280, "height": 900})
            page.goto(f"{server}/{entry}.html", wait_until="load")
            page.wait_for_load_state("networkidle")
            blurry, wide = page.evaluate(BLURRY_IMAGES), page.evaluate(WIDE_BLOCKS)
            page.set_viewport_size({"width": 390, "height": 844})
            page.wait_for_timeout(100)  # one layout pass at the new width
            done[entry] = {"blurry": blurry, "wide": wide, "phone": page.evaluate(PAGE_WIDTH)}
        return done[entry]

    yield measure_page
    context.close()


@pytest.mark.parametrize("entry", BOTH_EDITIONS)
def test_images_are_svg_or_at_least_twice_as_wide_as_shown(measure, entry):
    assert measure(entry)["blurry"] == [], "images that look blurry on a high-DPI screen: [src, pixels, shown]"


@pytest.mark.parametrize("entry", BOTH_EDITIONS)
def test_no_code_or_output_scrolls_sideways_at_1280px(measure, entry):
    assert measure(entry)["wide"] == [], "blocks wider than their box: [kind, width, box, longest line]"


@pytest.mark.parametrize("entry", BOTH_EDITIONS)
def test_page_is_not_wider_than_a_phone(measure, entry):
    width, screen = measure(entry)["phone"]
    assert width <= screen, f"at 390 px the page is {width} px wide"
