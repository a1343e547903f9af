"""Check the Chinese edition's message catalogs (locale/zh_CN/LC_MESSAGES/**/*.po).

    python tools/check_translations.py [--pot-dir _build/gettext/_build/gettext]

Every message must be translated, none fuzzy or obsolete, and each translation must keep what the reader's
browser or Sphinx reads literally: inline code, inline math (only the words inside ``\\text{...}`` may
change), role names and targets (``{numref}`fig-x```, the label of ``{ref}`words <target>``` may change) and
link targets; a display equation is copied unchanged. A message with English prose must have Chinese in its
translation. With --pot-dir (the gettext build of the English book), the catalogs must also hold exactly the
messages of the current English text: a changed English sentence fails until its translation is updated
(``make translations`` marks it fuzzy and keeps the old translation as a starting point).

figures.po holds the text drawn in the figures (tools/figures_zh.py): it is checked the same way, and compared
with the strings that the figures of the last build drew (when that build had a Chinese font to draw them).

Prints one line per problem and exits 1 if there is any.
"""

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = ROOT / "locale" / "zh_CN" / "LC_MESSAGES"
# Labels of Sphinx and the pydata theme that their own zh_CN catalogs leave in English ("Link to this heading",
# "previous page"): Sphinx reads the "sphinx" domain from locale_dirs first. Not a page, so not extracted.
UI_CATALOGS = {"sphinx"}
# The text in the figures (tools/figures_zh.py): compared with the strings the figures draw, not with a page.
FIGURE_CATALOG = "figures"

ROLE = re.compile(r"\{([\w:-]+)\}`([^`]*)`")
# A docstring's reST role (:class:`Tensor`). Sphinx parses a translation with the page's parser, and every page
# here is MyST, so a translation writes it as a MyST role ({py:class}`Tensor`); the two count as the same.
RST_ROLE = re.compile(r"(?<![\w`]):([\w:-]+):`([^`]*)`")
# A docstring's equation block (.. math::): no $ signs, but TeX commands and an equals sign.
def _is_equation(msgid: str) -> bool:
    tex = re.search(r"\\[a-zA-Z]+", msgid) and "=" in msgid and "$" not in msgid
    return msgid.startswith("\n") or "\\begin{" in msgid or bool(tex)


# A parameter line of a docstring with nothing but its name and type, **name** (*type*), and an attribute's
# type, whose names Sphinx cross-references (a translated "or" breaks them): nothing to translate.
PARAMETER_ONLY = re.compile(r"\*\*[\w.]+\*\* \(\*[^*]*\*\)|[\w.]+(?: or [\w.]+)+")
CODE = re.compile(r"(`+)(.+?)\1", re.S)
MATH = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$", re.S)
LINK = re.compile(r"\]\(([^)\s]*)\)|<((?:https?|mailto):[^>]+)>")
TEXT_IN_MATH = re.compile(r"\\(?:text|textrm|mbox|operatorname)\{[^{}]*\}")
CJK = re.compile(r"[\u3400-\u9fff]")
WORD = re.compile(r"\b[A-Za-z]{2,}\b")


def _math_key(tex: str) -> str:
    """Math as Sphinx typesets it, minus the words a translation may change, spacing ignored."""
    return re.sub(r"\s+", "", TEXT_IN_MATH.sub(r"\\text{}", tex))


def literal_parts(text: str) -> tuple[Counter, str]:
    """The parts of a message that must survive translation unchanged, and the prose that is left."""
    parts: Counter = Counter()

    def role(m: re.Match) -> str:
        target = m.group(2)
        explicit = re.fullmatch(r"(.*?)\s*<([^<>]+)>", target, re.S)
        name = m.group(1).removeprefix("py:")
        parts[("role", name, explicit.group(2) if explicit else target)] += 1
        return " "

    text = RST_ROLE.sub(role, text)

    def code(m: re.Match) -> str:
        parts[("code", m.group(2))] += 1
        return " "

    def math(m: re.Match) -> str:
        parts[("math", _math_key(m.group(1) or m.group(2)))] += 1
        return " "

    def link(m: re.Match) -> str:
        parts[("link", m.group(1) or m.group(2))] += 1
        return "]"

    rest = ROLE.sub(role, text)
    rest = CODE.sub(code, rest)
    rest = MATH.sub(math, rest)
    rest = LINK.sub(link, rest)
    return parts, rest


def problems_of(msgid: str, msgstr: str) -> list[str]:
    if _is_equation(msgid):  # a display equation: the whole message is math
        # Sphinx 7.4 turns a changed display equation into reST's "::" literal syntax, which MyST shows as
        # "\[::\]": the translation must be the English message itself (say its \text{} words around it).
        return [] if msgstr == msgid else ["display math must be copied unchanged (Sphinx cannot show a "
                                           "changed display equation in a MyST page)"]
    want, prose = literal_parts(msgid)
    got, translated = literal_parts(msgstr)
    found = []
    for m in RST_ROLE.finditer(msgstr):
        found.append(f"reST role {m.group(0)!r}: write it as a MyST role, {{py:{m.group(1)}}}`...` "
                     f"({{math}}`...` for :math:)")
    if PARAMETER_ONLY.fullmatch(msgid):
        prose = ""
    for part in want - got:
        found.append(f"{part[0]} {' '.join(part[1:])!r} of the English is missing from the translation")
    for part in got - want:
        found.append(f"{part[0]} {' '.join(part[1:])!r} of the translation is not in the English")
    if len(WORD.findall(prose)) >= 3 and not CJK.search(translated):
        found.append("English prose left untranslated (no Chinese in msgstr)")
    return found


def check(pot_dir: Path | None, catalogs_dir: Path = CATALOGS,
          figure_strings: dict[str, list[str]] | None = None) -> list[str]:
    """Every problem of the catalogs in catalogs_dir, one line each (compared with pot_dir's, if given; the
    figures' catalog compared with figure_strings, the English strings each notebook's figures draw, if
    given)."""
    problems = []
    catalogs = sorted(catalogs_dir.rglob("*.po"))
    if not catalogs:
        return [f"no catalogs in {catalogs_dir}"]
    for po in catalogs:
        name = po.relative_to(catalogs_dir).with_suffix("").as_posix()
        with po.open("rb") as f:
            catalog = read_po(f)
        if catalog.obsolete:
            problems.append(f"{name}: {len(catalog.obsolete)} obsolete message(s) (#~); run make translations")
        for message in catalog:
            if not message.id:
                continue
            where = f"{name}: {str(message.id)[:60]!r}"
            if message.fuzzy:
                problems.append(f"{where}: fuzzy (the English changed; update the translation, then remove "
                                f"the fuzzy flag)")
            elif not message.string:
                problems.append(f"{where}: not translated")
            elif name == FIGURE_CATALOG and message.context == "pattern":
                # a pattern's {fields} are names, not prose
                from figures_zh import FIELD
                problems += [f"{where}: {p}" for p in problems_of(FIELD.sub(" ", message.id),
                                                                   FIELD.sub(" ", message.string))]
            else:
                problems += [f"{where}: {p}" for p in problems_of(message.id, message.string)]
        if name == FIGURE_CATALOG:
            if figure_strings is not None:
                from figures_zh import catalog_problems
                problems += catalog_problems(figure_strings, catalog)
            continue
        if pot_dir is not None and name not in UI_CATALOGS:
            pot = pot_dir / f"{name}.pot"
            if not pot.is_file():
                problems.append(f"{name}: no such page in the English book any more (remove the catalog)")
                continue
            with pot.open("rb") as f:
                template = read_po(f)
            want = {m.id for m in template if m.id}
            have = {m.id for m in catalog if m.id}
            for msgid in sorted(want - have):
                problems.append(f"{name}: {msgid[:60]!r}: new English text without a translation entry; "
                                f"run make translations")
            for msgid in sorted(have - want):
                problems.append(f"{name}: {msgid[:60]!r}: no longer in the English text; run make translations")
    if pot_dir is not None:
        for pot in sorted(pot_dir.rglob("*.pot")):
            name = pot.relative_to(pot_dir).with_suffix("").as_posix()
            if not (catalogs_dir / f"{name}.po").is_file():
                problems.append(f"{name}: a page without a catalog; run make translations")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pot-dir", type=Path, help="the gettext build of the English book")
    args = parser.parse_args()
    from figures_zh import drawn_strings
    problems = check(args.pot_dir, figure_strings=drawn_strings())
    for problem in problems:
        print(problem)
    print(f"{len(problems)} problem(s)" if problems else "All messages translated and intact.", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
