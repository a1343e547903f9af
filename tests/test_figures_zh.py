"""The Chinese edition's figures (tools/figures_zh.py): drawn again by the notebooks' code with Chinese text.

- figures.po translates every string the figures draw, and nothing else (the record of the last build);
- each Chinese page shows the Chinese PNG of each figure, a different image from the English page's;
- the English pages keep the notebooks' committed outputs.
"""

import base64
import hashlib
import json
import re
import sys

import pytest
from babel.messages.catalog import Catalog

from conftest import HTML, ROOT

sys.path.insert(0, str(ROOT / "tools"))
import figures_zh  # noqa: E402

IMAGE = re.compile(r'<img [^>]*src="(?:\.\./)*_images/([0-9a-f]{64}\.png)"')


def built_index() -> dict[str, str]:
    if not figures_zh.INDEX.is_file() or not (HTML / "zh" / "index.html").is_file():
        pytest.skip("no Chinese figures: run `make book` on a machine with a Chinese font (make test does)")
    return json.loads(figures_zh.INDEX.read_text(encoding="utf-8"))


def test_figures_po_translates_exactly_the_strings_the_figures_draw():
    built_index()
    strings = figures_zh.drawn_strings()
    assert strings, "no record of the strings the figures draw"
    problems = figures_zh.catalog_problems(strings)
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("nb", figures_zh.figure_notebooks(), ids=lambda p: p.stem)
def test_chinese_page_shows_the_chinese_figures_english_page_the_committed_ones(nb):
    index = built_index()
    english = [hashlib.sha256(base64.b64decode(png)).hexdigest() + ".png" for png in figures_zh.english_pngs(nb)]
    page = f"book/{nb.stem}.html"
    en_images = IMAGE.findall((HTML / page).read_text(encoding="utf-8"))
    zh_images = IMAGE.findall((HTML / "zh" / page).read_text(encoding="utf-8"))
    assert [i for i in en_images if i in english] == english, "the English page lost a committed figure"
    chinese = [index[name[:-4]].split("/")[-1] for name in english if name[:-4] in index]
    assert len(chinese) == len(english), f"{nb.name}: figures without a Chinese version"
    assert [i for i in zh_images if i in chinese] == chinese, "the Chinese page does not show its Chinese figures"
    assert not set(zh_images) & set(english), "the Chinese page still shows an English figure"
    for name in chinese:
        assert (HTML / "zh" / "_images" / name).is_file()


def test_patterns_translate_strings_built_from_numbers():
    catalog = Catalog(locale="zh_CN")
    catalog.add("loss", "损失")
    catalog.add("b={b:num}, t={t:num}: {what} {value:num}", "b={b}, t={t}：{what} {value}", context="pattern")
    translate = figures_zh.Translator(catalog)
    assert translate("b=0, t=2: loss 1.637") == "b=0, t=2：损失 1.637"
    assert translate("b=0, t=x: loss 1.637") is None  # {t:num} is a number only
    assert translate("b=0, t=2: loss\n1.637") is None  # a field is one line
