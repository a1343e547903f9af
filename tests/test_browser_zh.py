"""The page tests of test_browser.py, on every page of the Chinese edition (zh/, tools/i18n.py), and what
only the Chinese edition does: its search splits a phrase typed without spaces into the index's words
(tools/static/zh-search.js), and a full-width punctuation mark stays on the line of the inline math before it.

A module of its own so that `pytest -n 2 --dist loadscope` (make test) checks the two editions in parallel:
pytest-xdist keeps a module's tests on one worker.
"""

from urllib.parse import urlsplit

import pytest

from conftest import toc_entries
from test_browser import (  # noqa: F401  (fixtures, and the page tests collected here again)
    browser,
    pages,
    server,
    test_images_are_svg_or_at_least_twice_as_wide_as_shown,
    test_no_code_or_output_scrolls_sideways_at_1280px,
    test_page_is_not_wider_than_a_phone,
    test_page_renders_offline,
    visit,
)


def pytest_generate_tests(metafunc):
    if "entry" in metafunc.fixturenames:
        metafunc.parametrize("entry", [f"zh/{entry}" for entry in toc_entries()])


# The pages a search lists, in order: each result's link, without ?highlight= and #anchor.
RESULT_PAGES = """() => Array.from(document.querySelectorAll('#search-results ul.search li a'))
    .map(a => new URL(a.href).pathname)"""
# searchtools.js writes its summary ("找到 ... 个页面" or "no results") once the search has finished.
SEARCH_DONE = "() => (document.querySelector('#search-results .search-summary') || {}).textContent"


def search(visit, server, query):
    """The result pages (paths below zh/, without .html) and the words the query was split into."""
    visit.goto(f"{server}/zh/search.html?q={query}")
    visit.page.wait_for_function(SEARCH_DONE, timeout=20_000)
    pages = [path.removeprefix("/zh/").removesuffix(".html") for path in visit.page.evaluate(RESULT_PAGES)]
    words = visit.page.evaluate("q => splitQuery(q)", query)
    return pages, words


@pytest.mark.parametrize("phrase, words, page", [
    ("为什么要减去最大值", ["为什么", "减去", "最大值"], "book/09_softmax_jacobian"),
    ("注意力掩码的作用", ["注意力掩码", "作用"], "book/14_attention"),
])
def test_chinese_search_finds_a_phrase_typed_without_spaces(visit, server, phrase, words, page):
    """The phrase is split into the index's words (要 and 的 are no indexed words and are dropped), and the
    page that answers it is among the first results."""
    found, split = search(visit, server, phrase)
    assert split == words, f"{phrase} was split into {split}"
    assert page in found[:3], f"{phrase}: {page} not among the first results {found}"
    assert visit.errors == [] and visit.outside == []


def test_chinese_search_keeps_latin_words_as_sphinx_splits_them(visit, server):
    found, split = search(visit, server, "softmax的雅可比矩阵")
    assert split == ["softmax", "雅可比矩阵"], split
    assert "book/09_softmax_jacobian" in found[:3], found
    assert visit.errors == [] and visit.outside == []


# Every inline math element directly followed by a full-width mark that may not start a line, and whether it
# sits with that mark in one span that does not wrap.
MATH_BEFORE_PUNCTUATION = """() => Array.from(document.querySelectorAll('article .math'))
    .filter(m => m.tagName === 'SPAN' && !m.parentElement.classList.contains('math-with-punctuation'))
    .filter(m => m.nextSibling && /^[：，。；、）]/.test(m.nextSibling.textContent || ''))
    .map(m => [m.textContent.slice(0, 40), m.nextSibling.textContent.slice(0, 2)])"""
KEPT_TOGETHER = """() => Array.from(document.querySelectorAll('article .math-with-punctuation'))
    .map(s => [s.textContent.slice(-1), getComputedStyle(s).whiteSpace, s.getClientRects().length])"""


def test_full_width_punctuation_stays_on_the_line_of_the_math_before_it(visit, server):
    """Chapter 4 §4.1 has "$(b, t)$：": the "：" is in one unbreakable span with the math, at any width."""
    visit.goto(f"{server}/zh/book/04_flattened_equivalence.html")
    assert visit.page.evaluate(MATH_BEFORE_PUNCTUATION) == [], "math followed by a mark it may be parted from"
    for width in (1280, 390):
        visit.page.set_viewport_size({"width": width, "height": 900})
        visit.page.wait_for_timeout(100)
        together = visit.page.evaluate(KEPT_TOGETHER)
        assert any(mark == "：" for mark, _, _ in together), "no math with a following ： on the page"
        assert all(style == "nowrap" and rects == 1 for _, style, rects in together), together
    assert visit.errors == [] and visit.outside == []
