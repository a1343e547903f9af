"""The book in two languages: English (the source) and Chinese (translated with Sphinx's gettext i18n).

As a Sphinx extension (``sphinx.local_extensions`` in _config.yml) it puts a link to the same page in the other
language into every page's header, and gives the header's other labels in the page's language. In the Chinese
edition it also keeps a full-width punctuation mark on the line of the inline math next to it
(KeepPunctuationWithMath), and gives the search page a query splitter that cuts a phrase typed without spaces
into the words of the search index (static/zh-search.js).

As a command it writes the configuration of the Chinese build (used by ``make html``)::

    python tools/i18n.py config zh_CN _build/zh/_config.yml

The English build is at the root of the site and the Chinese one in ``zh/`` beside it, so the page
``book/01_what_sequence_loss_computes.html`` is ``zh/book/01_what_sequence_loss_computes.html`` in Chinese.
Translations live in ``locale/zh_CN/LC_MESSAGES/<page>.po`` (README, "The Chinese edition").
"""

import re
import sys
from pathlib import Path

from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform

from book_downloads import add_header_item

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# Each edition: its folder in the site (relative to the English root), the name of its language in that
# language, and what the Chinese edition changes in _config.yml.
EDITIONS = {"en": {"folder": "", "name": "English"}, "zh_CN": {"folder": "zh", "name": "中文"}}
TITLES = {"zh_CN": "理解 TensorFlow 的 sequence_loss"}
AUTHORS = {"zh_CN": "minigrad 的作者们"}
PROMPTS = {"zh_CN": {"nb_code_prompt_show": "显示代码单元", "nb_code_prompt_hide": "隐藏代码单元"}}
# The labels of the header's links (tools/templates/*.html), per language.
LABELS = {
    "en": {
        "code": "Get the code",
        "code_title": "The notebooks, minigrad and everything needed to run them (.zip)",
        "pdf_title": "The whole book as one PDF",
        "switch_title": "Read this page in Chinese",
        "search": "Search this book...",
    },
    "zh_CN": {
        "code": "获取代码",
        "code_title": "全部笔记本、minigrad 以及运行它们所需的一切（.zip）",
        "pdf_title": "整本书（英文版）的 PDF",
        "switch_title": "阅读本页的英文原文",
        "search": "在本书中搜索……",
    },
}


# Full-width punctuation that may not start a line, and that which may not end one. A browser may break a line
# on either side of typeset inline math (an inline box, to the line breaker like a picture), so a "：" after
# $x$ could start the next line: KeepPunctuationWithMath puts such marks and the math into one unbreakable span.
NO_LINE_START = "：，。；、）！？”’》」』"
NO_LINE_END = "（“‘《「『"
WITH_MATH = "math-with-punctuation"


def language_of(app) -> str:
    return app.config.language if app.config.language in EDITIONS else "en"


def add_template_and_style(app, config):
    add_header_item(config, "language-switch.html")


def add_links(app, pagename, templatename, context, doctree):
    """context["language_switch"]: the same page in the other edition, as a link relative to this page."""
    if app.builder.name != "html":
        return
    here = language_of(app)
    other = "zh_CN" if here == "en" else "en"
    # From this page up to the site's root (the English edition), then down into the other edition.
    depth = pagename.count("/") + (1 if EDITIONS[here]["folder"] else 0)
    folder = EDITIONS[other]["folder"]
    href = "../" * depth + (f"{folder}/" if folder else "") + f"{pagename}.html"
    context["language_switch"] = {"href": href, "name": EDITIONS[other]["name"],
                                  "lang": other.replace("_", "-"), "title": LABELS[here]["switch_title"]}
    context["book_labels"] = LABELS[here]


def glossary_rows(language: str, section: str) -> list[list[str]]:
    """The rows of the table under ``## <section>`` in locale/<language>/glossary.md, each a list of its cells
    (the header and the separator line left out)."""
    text = (ROOT / "locale" / language / "glossary.md").read_text(encoding="utf-8")
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in body.splitlines() if line.startswith("|")]
    return [cells for cells in rows[2:] if len(cells) >= 2]


def glossary_terms(language: str) -> list[str]:
    """The Chinese terms of the glossary's "Terms" table (its second column), one word each."""
    terms = set()
    for cells in glossary_rows(language, "Terms"):
        for term in re.split(r"[/（）()、，,；;\s]+", cells[1]):
            if re.search(r"[\u3400-\u9fff]", term) and len(term) > 1:
                terms.add(term)
    return sorted(terms)


def write_config(language: str, target: Path) -> None:
    """The Chinese build's _config.yml: the English one with language, title, author and absolute paths set."""
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    config["title"] = TITLES[language]
    config["author"] = AUTHORS[language]
    sphinx = config.setdefault("sphinx", {})
    # jupyter-book resolves these against the configuration file's folder, which is now inside _build.
    sphinx["local_extensions"] = {name: str(ROOT / path) for name, path in sphinx["local_extensions"].items()}
    # The figures with their text in Chinese, drawn by tools/figures_zh.py (make html runs it first).
    sphinx["local_extensions"]["figures_zh"] = str(HERE)
    sphinx["config"]["language"] = language
    # Search: jieba splits Chinese text into words; the glossary's terms are words it should never split
    # (交叉熵 would otherwise be indexed as 交叉 + 熵, and a search for 交叉熵 would find nothing). In the
    # browser, static/zh-search.js splits a query into these same indexed words.
    dictionary = target.parent / "search_terms.txt"
    dictionary.parent.mkdir(parents=True, exist_ok=True)
    dictionary.write_text("".join(f"{term} 1000\n" for term in glossary_terms(language)), encoding="utf-8")
    sphinx["config"]["html_search_options"] = {"dict": str(dictionary.resolve())}
    # MyST-NB's label of a hidden cell ("Show code cell source"), which no catalog translates.
    sphinx["config"].update(PROMPTS[language])
    sphinx["config"]["locale_dirs"] = [str(ROOT / d) for d in sphinx["config"]["locale_dirs"]]
    config["html"]["favicon"] = str(ROOT / config["html"]["favicon"])
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("# Written by tools/i18n.py from _config.yml; do not edit.\n"
                      + yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")


def translate_theme_options(app, config):
    """The search box's text, which Jupyter Book sets in English ("Search this book...")."""
    if language_of(app) != "en":
        config.html_theme_options["search_bar_text"] = LABELS[language_of(app)]["search"]


def translate_toc_captions(app, doctree):
    """The parts' captions in the sidebar ("The loss", ...): Jupyter Book adds the toctrees from _toc.yml
    to the root page after Sphinx has translated it, so their captions are translated here, from the root
    page's catalog (they are extracted into it)."""
    if language_of(app) == "en":
        return
    from sphinx import addnodes
    from sphinx.locale import init as init_locale
    from sphinx.util.i18n import docname_to_domain

    domain = docname_to_domain(app.env.docname, app.config.gettext_compact)
    dirs = [str(Path(app.srcdir) / folder) for folder in app.config.locale_dirs]
    catalog, found = init_locale(dirs, app.config.language, domain)
    if not found:
        return
    for toctree in doctree.findall(addnodes.toctree):
        if toctree.get("caption"):
            toctree["caption"] = catalog.gettext(toctree["caption"])


class KeepPunctuationWithMath(SphinxPostTransform):
    """Inline math and the full-width punctuation right after it (or an opening mark right before it) in one
    <span class="math-with-punctuation"> (white-space: nowrap, i18n.css), so that no line starts with the
    "：" after an equation. English text is untouched (it has no full-width punctuation)."""

    default_priority = 900
    formats = ("html",)

    def run(self, **kwargs):
        for math in list(self.document.findall(nodes.math)):
            parent = math.parent
            at = parent.index(math)
            before = parent[at - 1] if at > 0 else None
            after = parent[at + 1] if at + 1 < len(parent.children) else None
            head = tail = ""
            if isinstance(after, nodes.Text):
                text = str(after)
                tail = text[:len(text) - len(text.lstrip(NO_LINE_START))]
            if isinstance(before, nodes.Text):
                text = str(before)
                head = text[len(text.rstrip(NO_LINE_END)):]
            if not head and not tail:
                continue
            # By position: a Text node equals any other with the same characters, so remove() and replace(),
            # which look a child up by value, could change an earlier one.
            group = nodes.inline(classes=[WITH_MATH])
            if tail:
                rest = str(after)[len(tail):]
                if rest:
                    parent[at + 1] = nodes.Text(rest)
                else:
                    del parent[at + 1]
            if head:
                rest = str(before)[:-len(head)]
                if rest:
                    parent[at - 1] = nodes.Text(rest)
                else:
                    del parent[at - 1]
                    at -= 1
                group += nodes.Text(head)
            parent[at] = group
            group += math
            if tail:
                group += nodes.Text(tail)


def add_search_splitter(app, pagename, templatename, context, doctree):
    """The Chinese search page splits a query as the index was split (tools/static/zh-search.js). Added to
    this page only, before searchtools.js, which then keeps the splitQuery defined here."""
    if app.builder.name == "html" and pagename == "search" and language_of(app) == "zh_CN":
        app.add_js_file("zh-search.js")


def setup(app):
    app.connect("doctree-read", translate_toc_captions)
    app.connect("html-page-context", add_search_splitter)
    app.add_post_transform(KeepPunctuationWithMath)
    app.connect("config-inited", add_template_and_style)
    app.connect("config-inited", translate_theme_options)
    app.connect("html-page-context", add_links)
    app.add_css_file("i18n.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "config" or sys.argv[2] not in TITLES:
        sys.exit(f"usage: python {sys.argv[0]} config {{{','.join(TITLES)}}} TARGET.yml")
    write_config(sys.argv[2], Path(sys.argv[3]))
