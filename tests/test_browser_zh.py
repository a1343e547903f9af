"""The page tests of test_browser.py, on every page of the Chinese edition (zh/, tools/i18n.py).

A module of its own so that `pytest -n 2 --dist loadscope` (make test) checks the two editions in parallel:
pytest-xdist keeps a module's tests on one worker.
"""

from conftest import toc_entries
from test_browser import (  # noqa: F401  (fixtures, and the page tests collected here again)
    browser,
    pages,
    server,
    test_images_are_svg_or_at_least_twice_as_wide_as_shown,
    test_no_code_or_output_scrolls_sideways_at_1280px,
    test_page_is_not_wider_than_a_phone,
    test_page_renders_offline,
)


def pytest_generate_tests(metafunc):
    if "entry" in metafunc.fixturenames:
        metafunc.parametrize("entry", [f"zh/{entry}" for entry in toc_entries()])
