"""The Chinese edition keeps up with the English one.

- The catalogs in locale/zh_CN hold exactly the messages of today's English text (extracted afresh with
  Sphinx's gettext builder), every one translated, none fuzzy or obsolete, and every translation keeps the
  code, math, roles and links of its English message (tools/check_translations.py).
- No translation uses a variant that locale/zh_CN/glossary.md rules out ("Variants not to use": 博客 for the
  blog post, 例二, 叶节点, ...), and Chinese quotation marks open with “ and close with ”.
- The built site (`make book`) has every page in both languages, each linking to the same page in the other,
  Chinese text in every Chinese page, no raw Markdown left by a broken translation, and a Chinese search
  index that splits Chinese words.

The browser checks of the Chinese pages are in test_browser_zh.py (every page).
"""

import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import write_po

from conftest import HTML, ROOT, toc_entries

sys.path.insert(0, str(ROOT / "tools"))
from check_translations import check, problems_of  # noqa: E402

ZH = HTML / "zh"
CJK = re.compile(r"[\u3400-\u9fff]")


@pytest.fixture(scope="module")
def pot_dir(tmp_path_factory):
    """The English book's messages, extracted now (about ten seconds)."""
    out = tmp_path_factory.mktemp("gettext")
    subprocess.run([str(Path(sys.executable).parent / "jupyter-book"), "build", str(ROOT), "--builder", "custom",
                    "--custom-builder", "gettext", "--path-output", str(out), "-q"],
                   check=True, cwd=ROOT, capture_output=True)
    return out / "_build" / "gettext"


def test_every_message_of_the_english_text_is_translated(pot_dir):
    problems = check(pot_dir)
    assert problems == [], (f"{len(problems)} problem(s) in locale/zh_CN (run `make translations`, then "
                            f"translate):\n" + "\n".join(problems[:40]))


@pytest.mark.parametrize("po", sorted((ROOT / "locale").rglob("*.po")), ids=lambda p: p.stem)
def test_catalog_compiles_with_msgfmt(po):
    """GNU gettext reads every catalog (syntax, escapes, no duplicate messages). Not `msgfmt -c`: Babel marks
    any message with a % or {} in it as a Python format string, which ours are not."""
    if shutil.which("msgfmt") is None:
        pytest.skip("no msgfmt (Debian: apt-get install gettext); .ci/run installs it")
    result = subprocess.run(["msgfmt", "-o", "/dev/null", str(po)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# ---- the checker itself: each kind of problem is caught -------------------------------------------------

def write_catalog(folder: Path, messages: dict[str, str], fuzzy: set[str] = frozenset(),
                  obsolete: dict[str, str] | None = None) -> None:
    catalog = Catalog(locale="zh_CN")
    for msgid, msgstr in messages.items():
        catalog.add(msgid, msgstr, flags={"fuzzy"} if msgid in fuzzy else ())
    for msgid, msgstr in (obsolete or {}).items():
        catalog.obsolete[msgid] = Message(msgid, msgstr)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "page.po").open("wb") as f:
        write_po(f, catalog)


def test_checker_accepts_a_faithful_translation(tmp_path):
    write_catalog(tmp_path, {"The loss is $\\ln V$, see `mg.sequence_loss` and {numref}`fig-x`.":
                             "损失是 $\\ln V$，见 `mg.sequence_loss` 和 {numref}`fig-x`。"})
    assert check(None, tmp_path) == []


@pytest.mark.parametrize("msgstr, problem", [
    ("", "not translated"),
    ("损失是 $\\ln N$。", "math"),
    ("损失见 `mg.loss`。 $\\ln V$", "code"),
    ("The loss is $\\ln V$ for every target.", "English prose"),
])
def test_checker_reports(tmp_path, msgstr, problem):
    write_catalog(tmp_path, {"The loss is $\\ln V$ for every target.": msgstr}
                  if problem != "code" else {"The loss is `mg.sequence_loss` here, $\\ln V$.": msgstr})
    problems = check(None, tmp_path)
    assert problems and all(problem in p for p in problems), problems


def test_checker_reports_fuzzy_and_obsolete_messages(tmp_path):
    write_catalog(tmp_path, {"A changed English sentence.": "一个旧的翻译。"}, fuzzy={"A changed English sentence."},
                  obsolete={"A removed sentence.": "删掉的句子。"})
    problems = check(None, tmp_path)
    assert any("fuzzy" in p for p in problems) and any("obsolete" in p for p in problems), problems


def test_checker_compares_with_the_english_messages(tmp_path):
    write_catalog(tmp_path / "po", {"An old sentence.": "一个旧句子。"})
    write_catalog(tmp_path / "pot", {"A new sentence.": ""})
    (tmp_path / "pot" / "page.po").rename(tmp_path / "pot" / "page.pot")
    problems = check(tmp_path / "pot", tmp_path / "po")
    assert any("without a translation entry" in p for p in problems)
    assert any("no longer in the English text" in p for p in problems)


def test_role_labels_and_link_labels_may_be_translated_but_not_their_targets():
    msgid = "See the {ref}`glossary <ulp>` and [chapter 2](02_example1_uniform_logits.ipynb) for more."
    assert problems_of(msgid, "见{ref}`术语表 <ulp>`和[第 2 章](02_example1_uniform_logits.ipynb)。") == []
    assert problems_of(msgid, "见{ref}`术语表 <nat>`和[第 2 章](02_example1_uniform_logits.ipynb)。") != []
    assert problems_of(msgid, "见{ref}`术语表 <ulp>`和[第 2 章](03_example2_general_case.ipynb)。") != []


def test_display_math_is_copied_unchanged_inline_math_text_may_be_translated():
    msgid = "\n\\ell = \\ln V \\qquad \\text{for every target } y\n"
    assert problems_of(msgid, msgid) == []
    assert problems_of(msgid, "\n\\ell = \\ln V \\qquad \\text{对每个目标 } y\n") != []
    inline = "The loss is $-\\ln p(\\text{target})$ at every position of the batch."
    assert problems_of(inline, "每个位置的损失都是 $-\\ln p(\\text{目标})$。") == []
    assert problems_of(inline, "每个位置的损失都是 $-\\log p(\\text{目标})$。") != []


# ---- the built site ------------------------------------------------------------------------------------

class _Page(HTMLParser):
    """The <html lang>, the language link's href and the article's text minus code and math."""

    def __init__(self):
        super().__init__()
        self.lang, self.switch, self.text = None, None, []
        self._skip = 0
        self._in_article = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "a" and "language-switch" in (a.get("class") or ""):
            self.switch = a.get("href")
        if tag == "article":
            self._in_article += 1
        classes = (a.get("class") or "").split()
        # code, math, and the API's signatures (`**kwargs`) are not prose
        if self._skip or tag in ("pre", "code", "script", "style") or "math" in classes or "sig" in classes:
            self._skip += 1

    def handle_endtag(self, tag):
        if self._skip:
            self._skip -= 1
        if tag == "article":
            self._in_article -= 1

    def handle_data(self, data):
        if self._in_article and not self._skip:
            self.text.append(data)


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def built():
    if not (ZH / "index.html").is_file():
        pytest.skip("the site is not built: run `make book` (make test does)")


@pytest.mark.parametrize("entry", toc_entries())
def test_every_page_exists_in_both_languages_linked_to_each_other(entry):
    built()
    english, chinese = HTML / f"{entry}.html", ZH / f"{entry}.html"
    en, zh = parse(english), parse(chinese)
    assert en.lang == "en" and zh.lang == "zh-CN", (en.lang, zh.lang)
    assert en.switch and (english.parent / en.switch).resolve() == chinese.resolve(), en.switch
    assert zh.switch and (chinese.parent / zh.switch).resolve() == english.resolve(), zh.switch


@pytest.mark.parametrize("entry", toc_entries())
def test_chinese_page_reads_in_chinese_without_raw_markdown(entry):
    built()
    text = "".join(parse(ZH / f"{entry}.html").text)
    assert len(CJK.findall(text)) > 50, f"zh/{entry}: hardly any Chinese in the article"
    for raw in ("**", "{numref}", "{ref}", "]("):
        assert raw not in text, f"zh/{entry}: raw Markdown {raw!r} in the text (a translation broke its markup)"


def test_chinese_search_index_has_chinese_words():
    built()
    index = (ZH / "searchindex.js").read_text(encoding="utf-8")
    terms = json.loads(index[index.index("(") + 1:index.rindex(")")])["terms"]
    # jieba splits running Chinese text into words (without it, a whole sentence would be one "word"), and
    # the glossary's terms are never split (交叉熵, not 交叉 + 熵).
    for word in ("交叉熵", "梯度", "掩码", "时间步", "反向传播"):
        assert word in terms, f"{word} is not a search term of the Chinese edition"


def test_docstring_roles_are_written_as_myst_roles_in_a_translation():
    msgid = "Return a new :class:`Tensor` holding :math:`e^x` of every element."
    assert problems_of(msgid, "返回一个新的 {py:class}`Tensor`，其中每个元素为 {math}`e^x`。") == []
    assert any("MyST role" in p for p in problems_of(msgid, "返回一个新的 :class:`Tensor`，每个元素为 {math}`e^x`。"))
    assert problems_of(msgid, "返回一个新的 {py:class}`Module`，其中每个元素为 {math}`e^x`。") != []


# ---- the glossary's terms -----------------------------------------------------------------------------

CATALOG_DIR = ROOT / "locale" / "zh_CN" / "LC_MESSAGES"


def forbidden_variants() -> dict[str, tuple[str, list[str]]]:
    """The glossary's section "Variants not to use": each variant, with what to write instead and the phrases
    it may be part of."""
    from i18n import glossary_rows

    return {cells[0]: (cells[1], [phrase.strip() for phrase in cells[2].split(",") if phrase.strip()])
            for cells in glossary_rows("zh_CN", "Variants not to use")}


def translations():
    """(catalog, English message, translation) for every translated message of every catalog."""
    from babel.messages.pofile import read_po

    for po in sorted(CATALOG_DIR.rglob("*.po")):
        with po.open("rb") as f:
            for message in read_po(f):
                if message.id and isinstance(message.string, str) and message.string:
                    yield po.relative_to(ROOT).as_posix(), str(message.id), message.string


def variants_in(text: str, variants: dict[str, tuple[str, list[str]]]) -> list[str]:
    found = []
    for variant, (_, allowed) in variants.items():
        rest = text
        for phrase in allowed:
            rest = rest.replace(phrase, " ")
        if variant in rest:
            found.append(variant)
    return found


def quote_problems(text: str) -> list[str]:
    """Chinese quotation marks out of order, or an ASCII " in the prose (outside code, math and links), which
    Sphinx's smart quotes may turn into a closing ” where a quote opens."""
    from check_translations import literal_parts

    _, prose = literal_parts(text)
    found = ['ASCII " (write “…”)'] if '"' in prose else []
    open_quote = False
    for mark in re.findall("[“”]", prose):
        if (mark == "“") == open_quote:
            found.append("” opens a quote" if mark == "”" else "“ inside an open quote (no ” before it)")
        open_quote = mark == "“"
    if open_quote:
        found.append("“ never closed")
    return found


def test_glossary_lists_the_variants_not_to_use():
    variants = forbidden_variants()
    for variant in ("博客", "例一", "例二", "叶节点", "反向计算", "词表", "标志设置", "微批"):
        assert variant in variants, f"{variant} is not in the glossary's 'Variants not to use'"
    assert variants_in("每个微批次的损失", variants) == []
    assert variants_in("每个微批的损失", variants) == ["微批"]
    assert variants_in("Hugging Face 博客，2024 年", variants) == []
    assert variants_in("原博客的例二", variants) == ["博客", "例二"]


def test_quote_check_catches_a_quote_opened_with_a_closing_mark():
    assert quote_problems("它叫“softmax”，见 `\"sum\"`。") == []
    assert quote_problems("PyTorch 贡献者。”CPU threading“，2.13") != []
    assert quote_problems("PyTorch 贡献者。\"CPU threading\"，2.13") != []


def test_catalogs_use_the_glossary_terms_and_chinese_quotes():
    """No translation uses a variant the glossary rules out, and every quotation mark is a Chinese one, in
    order. Each problem names the catalog and the English message."""
    variants = forbidden_variants()
    problems = []
    for po, msgid, msgstr in translations():
        for variant in variants_in(msgstr, variants):
            problems.append(f"{po}: {msgid[:60]!r}: {variant} (the glossary: {variants[variant][0]})")
        if CJK.search(msgstr):
            problems += [f"{po}: {msgid[:60]!r}: {p}" for p in quote_problems(msgstr)]
    assert problems == [], f"{len(problems)} translation(s) against the glossary:\n" + "\n".join(problems)
